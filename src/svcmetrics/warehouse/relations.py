"""The records of a warehouse table as sqlglot relations: mapped as a log is, and the valid
ones in the shape the compiled indicator query reads (spec 5.2).

A table is read as a log is (spec 1.2): every value as trimmed text, blank and NULL alike,
value aliases mapped, dates parsed from their text (a DATE column's text is ISO). Everything
svcmetrics sends is a literal of the tree; nothing is written to the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlglot import exp

from svcmetrics.models import RECORD_FIELDS, value_maps
from svcmetrics.readers import BLANKS
from svcmetrics.warehouse.literals import TEXT, date_lit, lit
from svcmetrics.warehouse.sqldates import DateShape, parse_day

KEY_PREFIX = "_key"
"""The key columns of a row, as text, are ``_key0``, ``_key1``... in ``norm``."""


def _trimmed(value: exp.Expr) -> exp.Expr:
    """A value as text without surrounding spaces; blank is NULL."""
    text = exp.Trim(this=exp.cast(value, TEXT), expression=lit(BLANKS), position="BOTH")
    return exp.Nullif(this=text, expression=lit(""))


def mapped(
    table: exp.Table,
    columns: Mapping[str, str],
    constants: Mapping[str, str],
    values: Mapping[str, Mapping[str, str]],
    custom_events: Sequence[str],
    keys: Sequence[str],
    order: str | None,
    shape: DateShape,
) -> exp.Select:
    """``norm``: the table's non-blank rows as canonical text fields, ``day``, the key
    columns (``_key0``...) and ``rec``, the rows' order: ``order``'s, then their values'.

    ``columns``: field → the table's column; ``constants``: values of fields the table
    lacks; ``values``: the table's own value aliases.
    """
    raw: list[exp.Expr] = []
    for name in RECORD_FIELDS:
        if name in columns:
            raw.append(exp.alias_(_trimmed(exp.column(columns[name], quoted=True)), name))
        elif name in constants:
            raw.append(exp.alias_(_trimmed(lit(constants[name])), name))
        else:
            raw.append(exp.alias_(exp.cast(exp.null(), TEXT), name))
    raw += [
        exp.alias_(exp.cast(exp.column(key, quoted=True), TEXT), f"{KEY_PREFIX}{i}")
        for i, key in enumerate(keys)
    ]
    raw.append(exp.alias_(exp.column(order, quoted=True) if order else lit(0), "_order"))
    src = exp.select(*raw).from_(table)
    maps = value_maps(values, custom_events)
    fields: list[exp.Expr] = []
    for name in RECORD_FIELDS:
        pairs = maps.get(name)
        column = exp.column(name)
        if pairs:
            case = exp.Case(this=exp.Lower(this=column.copy()))
            for raw_value, canonical in pairs.items():
                case = case.when(lit(raw_value), lit(canonical))
            fields.append(exp.alias_(case.else_(column.copy()), name))
        else:
            fields.append(column)
    ordering = [exp.Ordered(this=exp.column("_order"), nulls_first=False)] + [
        exp.Ordered(this=exp.column(name), nulls_first=False) for name in RECORD_FIELDS
    ]
    rec = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=ordering))
    blank = exp.and_(*[exp.column(name).is_(exp.null()) for name in RECORD_FIELDS])
    return (
        exp.select(
            *fields,
            exp.alias_(parse_day(exp.column("date"), shape), "day"),
            *[exp.column(f"{KEY_PREFIX}{i}") for i in range(len(keys))],
            exp.alias_(rec, "rec"),
        )
        .from_(src.subquery("src", copy=False))
        .where(exp.not_(blank))
    )


def valid_records(
    source: str, community_keys: str, single: str | None, as_of: dt.date | None
) -> exp.Select:
    """``records``: the valid rows (up to ``as_of``) as the exported query's input table,
    communities by id (``single``: the one community of a profile of one)."""
    community = exp.Coalesce(this=exp.column("id", "c"), expressions=[lit(single)])
    where: list[exp.Expr] = [exp.not_(exp.column("_bad", "f"))]
    if as_of is not None:
        where.append(exp.column("day", "f") <= date_lit(as_of))
    return (
        exp.select(
            exp.alias_(community, "community"),
            exp.alias_(exp.column("day", "f"), "date"),
            *[exp.column(name, "f") for name in RECORD_FIELDS if name not in ("date", "community")],
            exp.alias_(exp.column("rec", "f"), "seq"),
        )
        .from_(exp.alias_(exp.to_table(source), "f", table=True))
        .join(
            exp.alias_(exp.to_table(community_keys), "c", table=True),
            on=exp.column("key", "c").eq(exp.column("community", "f")),
            join_type="left",
        )
        .where(exp.and_(*where))
    )
