"""Dates of a warehouse table read from their text in SQL, as a log's are read (spec 1.2): the
year-first formats accepted by default or a ``date_format``, a day its month does not have
included, and never an engine error on any text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from svcmetrics.dates import DATE_FORMATS
from svcmetrics.errors import UsageError
from svcmetrics.warehouse.literals import lit

_TOKENS = {"%Y": r"\d{4}", "%m": r"\d{1,2}", "%d": r"\d{1,2}", "%H": r"\d{1,2}",
           "%M": r"\d{1,2}", "%S": r"\d{1,2}", "%f": r"\d+"}  # fmt: skip


@dataclass(frozen=True)
class DateShape:
    """How a date column's text is read: the pattern a valid text matches, its separators,
    and which of its digit groups are the year, the month and the day (1-based)."""

    pattern: str
    separators: str
    year: int
    month: int
    day: int


def date_shape(date_format: str | None) -> DateShape:
    """The shape of dates written in ``date_format`` (a strptime format of ``%Y``, ``%m``,
    ``%d`` and optionally a time), or in any of the year-first formats accepted by default."""
    formats = [date_format] if date_format else list(DATE_FORMATS)
    patterns: list[str] = []
    separators: set[str] = set()
    order: tuple[int, int, int] | None = None
    for text in formats:
        parts = re.split(r"(%[a-zA-Z])", text)
        pattern = ""
        tokens: list[str] = []
        for part in parts:
            if part.startswith("%") and len(part) == 2:
                if part not in _TOKENS:
                    raise UsageError("warehouse_date_format", value=date_format)
                pattern += _TOKENS[part]
                tokens.append(part)
            else:
                pattern += re.escape(part)
                separators.update(part)
        if any(token not in tokens for token in ("%Y", "%m", "%d")) or any(
            not part for part in parts[2:-1:2]
        ):  # every token apart from the next (no "%Y%m%d": the digits could not be split)
            raise UsageError("warehouse_date_format", value=date_format)
        found = (tokens.index("%Y") + 1, tokens.index("%m") + 1, tokens.index("%d") + 1)
        if order not in (None, found):
            raise UsageError("warehouse_date_format", value=date_format)
        order = found
        patterns.append(pattern)
    assert order is not None
    return DateShape(f"^({'|'.join(patterns)})$", "".join(sorted(separators)), *order)


@dataclass(frozen=True)
class DateParts:
    """A date text read as ``shape`` says: whether it has the shape (with a month of 1 to
    12), and its year, month and day numbers (read only when it has)."""

    shaped: exp.Expr
    year: exp.Expr
    month: exp.Expr
    day: exp.Expr


def date_parts(text: exp.Expr, shape: DateShape) -> DateParts:
    """The parts of a date text (no engine error on any text: the casts are read only
    under ``shaped``)."""
    dashed = exp.Translate(
        this=text.copy(), from_=lit(shape.separators), to=lit("-" * len(shape.separators))
    )

    def part(index: int) -> exp.Expr:
        piece = exp.SplitPart(this=dashed.copy(), delimiter=lit("-"), part_index=lit(index))
        return exp.cast(piece, exp.DataType.Type.INT)

    year, month, day = part(shape.year), part(shape.month), part(shape.day)
    shaped = exp.and_(
        exp.RegexpLike(this=text.copy(), expression=lit(shape.pattern)),
        year.copy() >= lit(1),
        exp.Between(this=month.copy(), low=lit(1), high=lit(12)),
    )
    return DateParts(shaped, year, month, day)


def parse_day(text: exp.Expr, shape: DateShape) -> exp.Expr:
    """The DATE a text stands for, or NULL when it is no date of ``shape`` (a day its month
    does not have included), without an engine error on any text."""
    parts = date_parts(text, shape)
    year, month, day = parts.year, parts.month, parts.day
    leap = exp.or_(
        exp.and_(
            exp.Mod(this=year.copy(), expression=lit(4)).eq(0),
            exp.Mod(this=year.copy(), expression=lit(100)).neq(0),
        ),
        exp.Mod(this=year.copy(), expression=lit(400)).eq(0),
    )
    days = (
        exp.Case()
        .when(month.copy().eq(2), exp.Case().when(leap, lit(29)).else_(lit(28)))
        .when(exp.In(this=month.copy(), expressions=[lit(4), lit(6), lit(9), lit(11)]), lit(30))
        .else_(lit(31))
    )
    # (nested: a text that is no date must not reach the days of its month)
    in_month = exp.Between(this=day.copy(), low=lit(1), high=days)
    make = exp.Anonymous(this="MAKE_DATE", expressions=[year.copy(), month.copy(), day.copy()])
    return exp.Case().when(parts.shaped, exp.Case().when(in_month, make))
