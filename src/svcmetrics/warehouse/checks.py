"""The checks of spec 4 on a warehouse table's mapped rows, as one sqlglot condition per kind
of problem, and the relations that count and list the rows where they hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from svcmetrics import compiler
from svcmetrics.answers import AnswerLists
from svcmetrics.dates import EXCEL_EPOCH, EXCEL_SERIAL
from svcmetrics.models import MANGLED_ID, RECORD_FIELDS, Required, canonical_values, record_columns
from svcmetrics.warehouse.literals import TEXT, date_lit, lit
from svcmetrics.warehouse.relations import KEY_PREFIX
from svcmetrics.warehouse.sqldates import DateShape, date_parts


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
