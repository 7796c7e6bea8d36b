"""Values sent to a warehouse engine as literals of a sqlglot tree: text, numbers, dates and
small relations of inline rows (so nothing is ever written to the user's database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlglot import exp

TEXT = exp.DataType.Type.VARCHAR


def lit(value: str | int | None) -> exp.Expr:
    """A literal (NULL for None)."""
    if value is None:
        return exp.null()
    if isinstance(value, int):
        return exp.Literal.number(value)
    return exp.Literal.string(value)


def date_lit(day: dt.date | None) -> exp.Expr:
    """A DATE literal (a typed NULL for None)."""
    if day is None:
        return exp.cast(exp.null(), exp.DataType.Type.DATE)
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.Type.DATE)


def relation(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[exp.Expr]]) -> exp.Query:
    """A relation of inline values with typed columns (an empty one when there are no rows)."""
    typed = [
        exp.alias_(exp.cast(exp.column(f"c{i}"), kind), name)
        for i, (name, kind) in enumerate(columns)
    ]
    if not rows:
        nulls = [exp.alias_(exp.cast(exp.null(), kind), name) for name, kind in columns]
        return exp.select(*nulls).where(exp.false())
    values = exp.values(
        [tuple(row) for row in rows], alias="v", columns=[f"c{i}" for i in range(len(columns))]
    )
    return exp.select(*typed).from_(values)
