"""The records of a warehouse table as sqlglot relations: mapped, checked, and the valid ones
in the shape the compiled indicator query reads (spec 5.2).

A table is read as a log is (spec 1.2): every value as trimmed text, blank and NULL alike,
value aliases mapped, dates parsed from their text (a DATE column's text is ISO), then the
checks of spec 4 as one condition per kind. Everything svcmetrics sends is a literal of
the tree; nothing is written to the database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from svcmetrics import compiler
from svcmetrics.answers import AnswerLists
from svcmetrics.dates import DATE_FORMATS, EXCEL_EPOCH, EXCEL_SERIAL
from svcmetrics.errors import UsageError
from svcmetrics.models import (
    MANGLED_ID,
    RECORD_FIELDS,
    Required,
    canonical_values,
    record_columns,
    value_maps,
)
from svcmetrics.readers import BLANKS

TEXT = exp.DataType.Type.VARCHAR
KEY_PREFIX = "_key"
"""The key columns of a row, as text, are ``_key0``, ``_key1``... in ``norm``."""

_TOKENS = {"%Y": r"\d{4}", "%m": r"\d{1,2}", "%d": r"\d{1,2}", "%H": r"\d{1,2}",
           "%M": r"\d{1,2}", "%S": r"\d{1,2}", "%f": r"\d+"}  # fmt: skip


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


# -- dates ------------------------------------------------------------------------------------


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


def bad_dates(shape: DateShape, window: tuple[dt.date, dt.date]) -> list[Check]:
    """Dates that are none, told apart as the local engine tells them: a day its month does
    not have (2026-02-30), an Excel serial number of a day in the window (46331), else
    a text that is no date of the shape."""
    date, day = exp.column("date"), exp.column("day")
    unread = exp.and_(date.copy().is_(exp.null()).not_(), day.copy().is_(exp.null()))
    parts = date_parts(date, shape)
    no_such_day = exp.Case().when(
        parts.shaped, exp.Between(this=parts.day.copy(), low=lit(1), high=lit(31))
    )
    low, high = ((end - EXCEL_EPOCH).days for end in window)
    number = exp.cast(date.copy(), exp.DataType.Type.DOUBLE)
    serial = exp.Case().when(
        exp.RegexpLike(this=date.copy(), expression=lit(EXCEL_SERIAL)),
        exp.and_(number >= lit(low), number.copy() < lit(high + 1)),
    )
    no_such = exp.Coalesce(this=no_such_day, expressions=[exp.false()])
    is_serial = exp.Coalesce(this=serial, expressions=[exp.false()])
    return [
        Check("date", "no_such_day", exp.and_(unread.copy(), no_such.copy()), date.copy()),
        Check(
            "date",
            "excel_serial_date",
            exp.and_(unread.copy(), exp.not_(no_such.copy()), is_serial.copy()),
            date.copy(),
        ),
        Check(
            "date",
            "bad_date",
            exp.and_(unread.copy(), exp.not_(no_such), exp.not_(is_serial)),
            date.copy(),
        ),
    ]


# -- the table, mapped --------------------------------------------------------------------------


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


# -- the checks (spec 4) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One kind of invalid (or suspicious) cell: where ``condition`` holds on a ``norm`` row."""

    name: str
    kind: str
    condition: exp.Expr
    value: exp.Expr = field(default_factory=exp.null)
    """The value shown in the problem."""


def _required(required: Required) -> exp.Expr:
    conditions: list[exp.Expr] = [exp.true()]
    if required.on_event is not None:
        conditions.append(exp.column("event").eq(lit(required.on_event)))
    if required.on_party is not None:
        conditions.append(exp.column("party").eq(lit(required.on_party)))
    if required.unless_event is not None:
        conditions.append(
            exp.and_(
                exp.column("event").is_(exp.null()).not_(),
                exp.column("event").neq(lit(required.unless_event)),
            )
        )
    return exp.and_(*conditions)


def errors(
    shape: DateShape,
    custom_events: Sequence[str],
    community_required: bool,
    window: tuple[dt.date, dt.date],
    community_keys: exp.Query,
    lists: AnswerLists,
) -> list[Check]:
    """Every check that makes a row invalid, from the record schema (spec 1.2, 4)."""
    allowed = canonical_values(custom_events)
    checks: list[Check] = []
    for name, column in record_columns().items():
        value = exp.column(name)
        required = column.required
        if name == "community" and community_required:
            required = Required()
        if required is not None:
            checks.append(
                Check(
                    name,
                    "missing_value",
                    exp.and_(value.copy().is_(exp.null()), _required(required)),
                )
            )
        if column.values:
            outside = exp.and_(
                value.copy().is_(exp.null()).not_(),
                exp.not_(exp.In(this=value.copy(), expressions=[lit(v) for v in allowed[name]])),
            )
            if column.only_on_event:
                outside = exp.and_(outside, exp.column("event").eq(lit(column.only_on_event)))
            checks.append(Check(name, "bad_value", outside, value.copy()))
    date, day = exp.column("date"), exp.column("day")
    checks += [
        *bad_dates(shape, window),
        Check(
            "date",
            "date_out_of_range",
            exp.or_(day.copy() < date_lit(window[0]), day.copy() > date_lit(window[1])),
            date.copy(),
        ),
        Check(
            "community",
            "unknown_community",
            exp.and_(
                exp.column("community").is_(exp.null()).not_(),
                exp.not_(exp.column("community").isin(query=community_keys.copy())),
            ),
            exp.column("community"),
        ),
        Check(
            "status",
            "bad_answer",
            exp.and_(
                exp.column("event").eq(lit("survey")),
                exp.column("status").is_(exp.null()).not_(),
                compiler.classify(exp.column("status"), lists).is_(exp.null()),
            ),
            exp.column("status"),
        ),
    ]
    return checks


def warnings(today: dt.date) -> list[Check]:
    """What is suspicious but valid: future dates and ids Excel mangled (duplicates are
    found by :func:`duplicates`)."""
    checks = [Check("date", "future_date", exp.column("day") > date_lit(today), exp.column("date"))]
    for name in ("id", "household", "ticket"):
        value = exp.column(name)
        checks.append(
            Check(name, "mangled_id", exp.RegexpLike(this=value, expression=lit(MANGLED_ID)), value)
        )
    return checks


def flagged(source: str, checks: Sequence[Check]) -> exp.Select:
    """``source``'s rows with ``_bad``: whether any of the ``checks`` holds."""
    bad = exp.or_(
        *[exp.Coalesce(this=c.condition.copy(), expressions=[exp.false()]) for c in checks]
    )
    return exp.select(exp.Star(), exp.alias_(exp.Paren(this=bad), "_bad")).from_(source)


def problems(source: str, checks: Sequence[Check], keys: int) -> exp.Query:
    """``(rec, kind, field, value, _key0..., first_key0...)``: a row per check that holds."""
    selects: list[exp.Query] = []
    for check in checks:
        selects.append(
            exp.select(
                "rec",
                exp.alias_(lit(check.kind), "kind"),
                exp.alias_(lit(check.name), "field"),
                exp.alias_(exp.cast(check.value.copy(), TEXT), "value"),
                *[f"{KEY_PREFIX}{i}" for i in range(keys)],
                *[exp.alias_(exp.cast(exp.null(), TEXT), f"_first{i}") for i in range(keys)],
            )
            .from_(source)
            .where(check.condition.copy())
        )
    union = selects[0]
    for select in selects[1:]:
        union = exp.union(union, select, distinct=False)
    return union


def duplicates(source: str, keys: int) -> exp.Select:
    """Rows whose every field equals an earlier row's, with that row's keys (``_first``)."""
    partition = [exp.column(name) for name in RECORD_FIELDS]
    order = exp.Order(expressions=[exp.Ordered(this=exp.column("rec"))])

    def over(function: exp.Expr) -> exp.Window:
        return exp.Window(
            this=function, partition_by=[p.copy() for p in partition], order=order.copy()
        )

    ranked = exp.select(
        "rec",
        *[f"{KEY_PREFIX}{i}" for i in range(keys)],
        *[
            exp.alias_(over(exp.FirstValue(this=exp.column(f"{KEY_PREFIX}{i}"))), f"_first{i}")
            for i in range(keys)
        ],
        exp.alias_(over(exp.RowNumber()), "_n"),
    ).from_(source)
    return (
        exp.select(
            "rec",
            exp.alias_(lit("duplicate_row"), "kind"),
            exp.alias_(lit(""), "field"),
            exp.alias_(exp.cast(exp.null(), TEXT), "value"),
            *[f"{KEY_PREFIX}{i}" for i in range(keys)],
            *[f"_first{i}" for i in range(keys)],
        )
        .from_(ranked.subquery("ranked", copy=False))
        .where(exp.column("_n") > lit(1))
    )


def listed(found: exp.Query, limit: int | None) -> exp.Select:
    """The problems of ``found`` with ``total`` (how many of their kind), the first
    ``limit`` of each kind (every one without a limit), in the rows' order."""
    by_kind = [exp.column("kind")]
    order = exp.Order(expressions=[exp.Ordered(this=exp.column("rec"))])
    numbered = exp.select(
        exp.Star(),
        exp.alias_(exp.Window(this=exp.RowNumber(), partition_by=by_kind, order=order), "_n"),
        exp.alias_(
            exp.Window(this=exp.Count(this=exp.Star()), partition_by=[c.copy() for c in by_kind]),
            "total",
        ),
    ).from_(found.subquery("found", copy=False))
    select = exp.select(exp.Star()).from_(numbered.subquery("numbered", copy=False))
    if limit is not None:
        select = select.where(exp.column("_n") <= lit(limit))
    return select.order_by("rec", "kind", "field")


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
