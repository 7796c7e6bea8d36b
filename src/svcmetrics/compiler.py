"""The definitions table compiled once into sqlglot expression trees (spec 5.1).

This module is the only place where the counting rules (spec 2.1-2.4, 2.7), the survey
answer classification and the choice of denominator are written. The embedded DuckDB
engine (:mod:`svcmetrics.engine`) runs these trees rendered for DuckDB; ``svcmetrics sql``
(:mod:`svcmetrics.sqlexport`) wraps the same trees in a query over its input tables and
prints it transpiled. Every value from the config is a sqlglot literal, never pasted text.

The trees read these relations (the engine makes them tables or views, the exported
query common table expressions):

- ``recs(community, day, event, party, id, household, status, ticket, service, category,
  rec, seq)``: the valid records; ``rec`` identifies a row, ``seq`` orders rows by day,
  then input order (a larger ``seq`` is a later row).
- ``periods(period, period_start, period_end)`` and ``pdays(day, period)``: each day of
  the records with the periods holding it; ``homes`` (:func:`homes`) is made from them.
- ``communities(community)`` and ``brks(brk)``: the rows of the result grid.
- ``profile(community, field, as_of, value)``: denominators; ``as_of`` is NULL for an
  undated value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

from sqlglot import exp

from svcmetrics.answers import FULL_WIDTH, HALF_WIDTH, NUMBER, Answer, AnswerLists
from svcmetrics.indicators import (
    Distinct,
    Indicator,
    NeedsMet,
    NeedsRaised,
    ProfileField,
    Respondents,
    Rule,
    SatisfiedRespondents,
)


def _lit(value: str | float) -> exp.Expression:
    if isinstance(value, str):
        return exp.Literal.string(value)
    return exp.Literal.number(value)


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def _in(value: exp.Expression, values: Sequence[str | float]) -> exp.Expression:
    return exp.In(this=value, expressions=[_lit(v) for v in values])


def _table(name: str, alias: str) -> exp.Table:
    return exp.to_table(name, alias=alias)


def _count_star() -> exp.Count:
    return exp.Count(this=exp.Star())


def _latest(value: exp.Expression) -> exp.ArgMax:
    """``value`` of a group's latest row (largest ``seq``; rows with a NULL value skipped)."""
    return exp.ArgMax(this=value, expression=_col("seq"))


def _earliest(value: exp.Expression) -> exp.ArgMin:
    return exp.ArgMin(this=value, expression=_col("seq"))


# -- survey answers (spec 2.4) --------------------------------------------------------------


def classify(value: exp.Expression, lists: AnswerLists) -> exp.Expression:
    """How an answer counts: 'satisfied', 'not_satisfied', 'excluded', or NULL for an
    answer in no list (an invalid row). The one definition of spec 2.4."""
    text = exp.Trim(this=value.copy())
    case = exp.Case().when(
        exp.or_(value.copy().is_(exp.null()), text.copy().eq(_lit(""))), _lit(Answer.EXCLUDED.value)
    )
    lowered = exp.Lower(this=text.copy())
    for answer in Answer:
        texts = sorted(t for t, a in lists.texts.items() if a is answer)
        if texts:
            case = case.when(_in(lowered.copy(), texts), _lit(answer.value))
    normal = exp.Trim(
        this=exp.Translate(this=value.copy(), from_=_lit(FULL_WIDTH), to=_lit(HALF_WIDTH))
    )
    number = exp.cast(normal.copy(), exp.DataType.Type.DOUBLE)
    scores = exp.Case()
    for answer in Answer:
        values = sorted(n for n, a in lists.numbers.items() if a is answer)
        if values:
            scores = scores.when(_in(number.copy(), values), _lit(answer.value))
    low, high = lists.scale
    outside = exp.or_(number.copy() < _lit(low), number.copy() > _lit(high))
    scores = scores.when(outside, _lit(Answer.EXCLUDED.value))
    matches = exp.RegexpLike(this=normal, expression=_lit(f"^{NUMBER}$"))
    return case.when(matches, scores)


def answer_class(source: str, lists: AnswerLists) -> exp.Select:
    """``answer_class(raw, cls)``: each distinct survey answer of ``source`` and its class
    (classified once per distinct value, not once per row)."""
    raw = exp.select(exp.alias_(_col("status"), "raw")).distinct().from_(source)
    raw = raw.where(_col("event").eq(_lit("survey")))
    return exp.select("raw", exp.alias_(classify(_col("raw"), lists), "cls")).from_(
        raw.subquery("answers", copy=False)
    )


# -- the counted relations (spec 2.3, 2.4) ------------------------------------------------


def _brk(by: str | None, table: str | None = None) -> exp.Expression:
    """The breakdown value of a row ('' without a breakdown)."""
    if by is None:
        return _lit("")
    return exp.Coalesce(this=_col(by, table), expressions=[_lit("")])


def homes() -> exp.Select:
    """``homes(day, period_start, home)``: each day of the records with, for each start
    of the periods holding it, the end of the shortest of them (its home window).

    Periods with one start are nested (a ``ytd`` year's windows all start on 1 January),
    so a day lies in every window of its start that ends on or after its home: a count
    over the windows of one start is a running sum, over their ends, of what is new in
    each home (:func:`count`), not a join of every record to every window holding it.
    Periods that do not overlap (months, quarters...) are each their own home.
    """
    return (
        exp.select(
            _col("day", "d"),
            _col("period_start", "p"),
            exp.alias_(exp.Min(this=_col("period_end", "p")), "home"),
        )
        .from_(_table("pdays", "d"))
        .join(_table("periods", "p"), on=_col("period", "p").eq(_col("period", "d")))
        .group_by(_col("day", "d"), _col("period_start", "p"))
    )


def _window(nested: bool) -> tuple[str, ...]:
    """The columns naming the window a row is counted in: its start and home window
    (:func:`homes`) when some periods share a start, else its period."""
    return ("period_start", "home") if nested else ("period",)


def _days(nested: bool) -> exp.Table:
    """The table giving each day its window (:func:`_window`): ``homes``, else ``pdays``."""
    return _table("homes", "h") if nested else _table("pdays", "h")


def rp(by: str | None, nested: bool) -> exp.Select:
    """``rp``: the records with their window (:func:`_window`) and breakdown value."""
    return (
        exp.select(
            *[_col(name, "h") for name in _window(nested)],
            exp.alias_(_brk(by, "r"), "brk"),
            exp.Column(this=exp.Star(), table=exp.to_identifier("r")),
        )
        .from_(_table("recs", "r"))
        .join(_days(nested), on=_col("day", "h").eq(_col("day", "r")))
    )


def needs(by: str | None, nested: bool) -> exp.Select:
    """``needs(community, <window>, brk, state)``: one row per need (spec 2.3) and start
    of the periods, in the window (:func:`_window`) of its earliest day; its state is its
    latest row's status and its breakdown value its first row's. A need is a (community,
    ticket), or one row without a ticket."""
    ticketless = exp.Case().when(_col("ticket").is_(exp.null()), _col("rec"))
    grouped = (
        exp.select(
            "community",
            exp.alias_(exp.Min(this=_col("day")), "first_day"),
            exp.alias_(_latest(_col("status")), "state"),
            exp.alias_(_lit("") if by is None else _earliest(_brk(by)), "brk"),
        )
        .from_("recs")
        .where(_col("event").eq(_lit("need")))
        .group_by(_col("community"), _col("ticket"), ticketless)
    )
    return (
        exp.select(
            _col("community", "n"),
            *[_col(name, "h") for name in _window(nested)],
            _col("brk", "n"),
            _col("state", "n"),
        )
        .from_(grouped.subquery("n", copy=False))
        .join(_days(nested), on=_col("day", "h").eq(_col("first_day", "n")))
    )


_CHAIN = ("community", "period_start", "brk")
"""A count's group over the periods of one start: its windows are nested."""


def respondents(nested: bool) -> exp.Select:
    """``respondents(community, <window>, brk, party, id, answer[, previous])``: each
    respondent's latest counted answer in each window (:func:`_window`; excluded answers
    dropped first; spec 2.4). When ``nested``, also ``previous``, their latest in an
    earlier home of the same start (NULL for none): the latest counted answer in a window
    is the one of the respondent's last home up to its end."""
    respondent = ("community", *_window(nested), "brk", "party", "id")
    keys = [_col(name, "r") for name in respondent]
    latest = (
        exp.select(
            *keys,
            exp.alias_(exp.ArgMax(this=_col("cls", "a"), expression=_col("seq", "r")), "answer"),
        )
        .from_(_table("rp", "r"))
        .join(
            _table("answer_class", "a"),
            on=_col("raw", "a").eq(_col("status", "r")),
        )
        .where(_col("event", "r").eq(_lit("survey")))
        .where(_col("cls", "a").neq(_lit(Answer.EXCLUDED.value)))
        .group_by(*[key.copy() for key in keys])
    )
    if not nested:
        return latest
    previous = exp.Window(
        this=exp.Lag(this=_col("answer")),
        partition_by=[_col(name) for name in (*_CHAIN, "party", "id")],
        order=exp.Order(expressions=[exp.Ordered(this=_col("home"))]),
    )
    return exp.select(
        *[_col(name) for name in respondent],
        "answer",
        exp.alias_(previous, "previous"),
    ).from_(latest.subquery("latest", copy=False))


# -- counts, denominators, the result grid (spec 2.1-2.5, 2.7) ----------------------------


def count(rule: Rule, nested: bool) -> exp.Select | None:
    """``(community, period, brk, value)`` for a count rule; None for a profile field.

    When every period has its own start (``nested`` false: months, quarters...), each
    rule counts directly in each period. When some share one (``ytd``), their windows are
    nested and each rule counts what is new in each home window (:func:`homes`): a person
    at their first home of the start, a need at its own, a respondent at their first
    home, and a satisfied respondent as +1 or -1 where their latest answer turns
    satisfied or stops being; :func:`_accumulated` sums these over the homes up to each
    period's end.
    """
    if isinstance(rule, Distinct):
        conditions: list[exp.Expression] = [_col("event").eq(_lit(rule.event))]
        for name in ("party", "status", "service", "category"):
            value = getattr(rule, name)
            if value is not None:
                conditions.append(_col(name).eq(_lit(value)))
        if rule.counted is None:
            return _accumulated(_grouped(_count_star(), "rp", conditions, nested), nested)
        if not nested:
            distinct = exp.Count(this=exp.Distinct(expressions=[_col(rule.counted)]))
            return _grouped(distinct, "rp", conditions, nested)
        chain = [_col(name) for name in (*_CHAIN, rule.counted)]
        first = (
            exp.select(*chain, exp.alias_(exp.Min(this=_col("home")), "home"))
            .from_("rp")
            .where(exp.and_(*conditions))
            .group_by(*[key.copy() for key in chain])
        )
        firsts = first.subquery("firsts", copy=False)
        counted = exp.Count(this=_col(rule.counted))
        return _accumulated(_grouped(counted, firsts, [], nested), nested)
    if isinstance(rule, NeedsMet):
        met = [_col("state").eq(_lit("met"))]
        return _accumulated(_grouped(_count_star(), "needs", met, nested), nested)
    if isinstance(rule, NeedsRaised):
        return _accumulated(_grouped(_count_star(), "needs", [], nested), nested)
    if isinstance(rule, SatisfiedRespondents):
        conditions = [_col("party").eq(_lit(rule.party))]
        if not nested:
            conditions.append(_col("answer").eq(_lit(Answer.SATISFIED.value)))
            return _grouped(_count_star(), "respondents", conditions, nested)

        def satisfied(column: str) -> exp.Expression:
            return exp.Sum(
                this=exp.Case()
                .when(_col(column).eq(_lit(Answer.SATISFIED.value)), _lit(1))
                .else_(_lit(0))
            )

        change = exp.Sub(this=satisfied("answer"), expression=satisfied("previous"))
        return _accumulated(_grouped(change, "respondents", conditions, nested), nested)
    if isinstance(rule, Respondents):
        conditions = [_col("party").eq(_lit(rule.party))]
        if nested:
            conditions.append(_col("previous").is_(exp.null()))
        return _accumulated(_grouped(_count_star(), "respondents", conditions, nested), nested)
    if isinstance(rule, ProfileField):
        if rule.needs_answers is not None:
            return count(Respondents(rule.needs_answers), nested)
        return None
    assert_never(rule)


def _grouped(
    value: exp.Expression,
    table: str | exp.Expression,
    conditions: Sequence[exp.Expression],
    nested: bool,
) -> exp.Select:
    """``(community, <window>, brk, value)``: ``value`` in each window (:func:`_window`)."""
    keys = [_col(name) for name in ("community", *_window(nested), "brk")]
    select = exp.select(*keys, exp.alias_(value, "value")).from_(table)
    if conditions:
        select = select.where(exp.and_(*conditions))
    return select.group_by(*[key.copy() for key in keys])


def _accumulated(homes: exp.Select, nested: bool) -> exp.Select:
    """``(community, period, brk, value)``: the values of :func:`_grouped` summed over the
    home windows of each period's start that end by its end (when ``nested``; else they
    are already one per period)."""
    if not nested:
        return homes
    within = exp.and_(
        _col("period_start", "p").eq(_col("period_start", "h")),
        _col("home", "h") <= _col("period_end", "p"),
    )
    keys = [_col("community", "h"), _col("period", "p"), _col("brk", "h")]
    return (
        exp.select(*keys, exp.alias_(exp.Sum(this=_col("value", "h")), "value"))
        .from_(homes.subquery("h", copy=False))
        .join(_table("periods", "p"), on=within)
        .group_by(*[key.copy() for key in keys])
    )


def _part(rule: Rule) -> str:
    """Which part of an indicator a rule counts: a population basis counts respondents."""
    return "answers" if isinstance(rule, ProfileField) and rule.needs_answers else "num"


def _counts(indicators: Sequence[Indicator], nested: bool) -> exp.Query:
    """Every count rule's counts (:func:`count`), pivoted by :func:`_pivot`."""
    selects: list[exp.Select] = []
    for indicator in indicators:
        for part, rule in (("num", indicator.numerator), ("den", indicator.denominator)):
            if _part(rule) == "answers":
                part = "answers"
            counted = count(rule, nested)
            if counted is not None:
                selects.append(
                    exp.select(
                        exp.alias_(_lit(indicator.key), "indicator"),
                        exp.alias_(_lit(part), "part"),
                        "community",
                        "period",
                        "brk",
                        "value",
                    ).from_(counted.subquery(f"c{len(selects)}", copy=False))
                )
    if not selects:  # no count rule at all: an empty relation of the same shape
        empty = exp.select(
            *[
                exp.alias_(exp.cast(exp.null(), "VARCHAR"), n)
                for n in ("indicator", "part", "community", "period", "brk")
            ],
            exp.alias_(exp.cast(exp.null(), "BIGINT"), "value"),
        )
        return _pivot(empty.where(exp.false()))
    union: exp.Query = selects[0]
    for select in selects[1:]:
        union = exp.union(union, select, distinct=False, copy=False)
    return _pivot(union)


def _pivot(counts: exp.Query) -> exp.Select:
    """One row per (indicator, community, period, brk) with its ``num``, ``den`` and
    ``answers`` counts (NULL when not counted), so that the grid joins it once."""
    keys = ("indicator", "community", "period", "brk")
    sums = [
        exp.alias_(exp.Sum(this=exp.Case().when(_col("part").eq(_lit(part)), _col("value"))), part)
        for part in ("num", "den", "answers")
    ]
    return (
        exp.select(*keys, *sums)
        .from_(counts.subquery("counted", copy=False))
        .group_by(*[_col(k) for k in keys])
    )


def _definitions(indicators: Sequence[Indicator]) -> exp.Values:
    """The definitions table's denominator choice as rows: (indicator, position, den_kind,
    den_field, survey)."""
    rows = []
    for position, indicator in enumerate(indicators, start=1):
        rule = indicator.denominator
        kind, field = "count", ""
        if isinstance(rule, ProfileField):
            kind, field = ("population" if rule.needs_answers else "profile"), rule.name
        rows.append(
            exp.tuple_(
                _lit(indicator.key),
                _lit(position),
                _lit(kind),
                _lit(field),
                _lit(1 if indicator.survey_basis else 0),
            )
        )
    return exp.values(
        rows, alias="d", columns=["indicator", "position", "den_kind", "den_field", "survey"]
    )


def in_force() -> exp.Select:
    """``in_force(community, field, period, value)``: the profile value in force in each
    period (spec 1.1): undated; else the latest dated on or before the period's last day;
    else the earliest (equal dates: the larger value)."""
    before = exp.or_(
        _col("as_of", "f").is_(exp.null()), _col("as_of", "f") <= _col("period_end", "p")
    )
    order = [
        exp.Ordered(this=exp.Case().when(before, _lit(0)).else_(_lit(1))),
        # in force: the latest first; all later: the earliest first
        exp.Ordered(
            this=exp.Case().when(before.copy(), _col("as_of", "f")), desc=True, nulls_first=False
        ),
        exp.Ordered(this=_col("as_of", "f"), nulls_first=False),
        exp.Ordered(this=_col("value", "f"), desc=True, nulls_first=False),
    ]
    number = exp.Window(
        this=exp.RowNumber(),
        partition_by=[_col("community", "f"), _col("field", "f"), _col("period", "p")],
        order=exp.Order(expressions=order),
    )
    ranked = (
        exp.select(
            _col("community", "f"),
            _col("field", "f"),
            _col("period", "p"),
            _col("value", "f"),
            exp.alias_(number, "rn"),
        )
        .from_(_table("profile", "f"))
        .join(_table("periods", "p"), join_type="cross")
    )
    return (
        exp.select("community", "field", "period", "value")
        .from_(ranked.subquery("ranked", copy=False))
        .where(_col("rn").eq(_lit(1)))
    )


def parts_ctes(indicators: Sequence[Indicator], nested: bool) -> list[tuple[str, exp.Query]]:
    """The relations :func:`parts_select` reads besides the inputs: ``counts``, ``in_force``
    (``nested``: whether some periods share a start, :func:`count`)."""
    return [("counts", _counts(indicators, nested)), ("in_force", in_force())]


def parts_select(indicators: Sequence[Indicator]) -> exp.Select:
    """``(community, period, brk, indicator, position, numerator, denominator,
    sample_size)`` for every community × period × breakdown value × indicator: the one
    choice of denominator (spec 2.4, 2.5). A profile field missing is NULL (undefined);
    a population basis with no counted answer is NULL."""

    g = "g"
    denominator = (
        exp.Case()
        .when(_col("den_kind", g).eq(_lit("profile")), _col("value", "pf"))
        .when(
            _col("den_kind", g).eq(_lit("population")),
            exp.Case()
            .when(
                exp.Coalesce(this=_col("answers", "n"), expressions=[_lit(0)]).eq(_lit(0)),
                exp.null(),
            )
            .else_(_col("value", "pf")),
        )
        .else_(exp.Coalesce(this=_col("den", "n"), expressions=[_lit(0)]))
    )
    grid = (
        exp.select(_col("community", "c"), _col("period", "p"), _col("brk", "b"), "d.*")
        .from_(_table("communities", "c"))
        .join(_table("periods", "p"), join_type="cross")
        .join(_table("brks", "b"), join_type="cross")
        .join(_definitions(indicators), join_type="cross")
    )
    keys = ("indicator", "community", "period", "brk")
    computed = (
        exp.select(
            *[_col(k, g) for k in ("community", "period", "brk", "indicator", "position")],
            exp.alias_(exp.Coalesce(this=_col("num", "n"), expressions=[_lit(0)]), "numerator"),
            exp.alias_(denominator, "denominator"),
            _col("survey", g),
        )
        .from_(grid.subquery(g, copy=False))
        .join(
            _table("counts", "n"),
            on=exp.and_(*[_col(k, "n").eq(_col(k, g)) for k in keys]),
            join_type="left",
        )
        .join(
            _table("in_force", "pf"),
            on=exp.and_(
                *[_col(k, "pf").eq(_col(k, g)) for k in ("community", "period")],
                _col("field", "pf").eq(_col("den_field", g)),
            ),
            join_type="left",
        )
    )
    sample = exp.Case().when(_col("survey").eq(_lit(1)), _col("denominator"))
    return exp.select(
        "community",
        "period",
        "brk",
        "indicator",
        "position",
        "numerator",
        "denominator",
        exp.alias_(sample, "sample_size"),
    ).from_(computed.subquery("computed", copy=False))


def parts(
    indicators: Sequence[Indicator], nested: bool, inputs: Sequence[tuple[str, exp.Query]] = ()
) -> exp.Select:
    """:func:`parts_select` with the relations it needs (after ``inputs``, relations the
    caller defines) as common table expressions (``nested``: :func:`parts_ctes`)."""
    select = parts_select(indicators)
    for name, query in [*inputs, *parts_ctes(indicators, nested)]:
        select = select.with_(name, as_=query, copy=False)
    return select


# -- rendering ------------------------------------------------------------------------------

_NO_ARG_MAX = {"postgres"}
"""Dialects without ``max_by``/``min_by`` (``arg_max``): there the latest row's value is
the first element of an ordered ``array_agg``, which sqlglot cannot write by itself."""


def _portable_latest(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.ArgMax | exp.ArgMin):
        return node
    value, key = node.this, node.expression
    ordered = exp.Ordered(this=key.copy(), desc=isinstance(node, exp.ArgMax), nulls_first=False)
    agg = exp.ArrayAgg(this=exp.Order(this=value.copy(), expressions=[ordered]))
    kept = exp.Filter(this=agg, expression=exp.Where(this=exp.not_(value.copy().is_(exp.null()))))
    return exp.Bracket(this=exp.Paren(this=kept), expressions=[_lit(1)], offset=1)


_NULL_ARG_MAX = {"spark"}
"""Dialects whose ``max_by``/``min_by`` give the latest row's value even when it is NULL
(DuckDB's ``arg_max`` skips rows with a NULL value): there the ordering key is made NULL
where the value is, and every engine skips rows with a NULL key."""


def _null_skipping_latest(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.ArgMax | exp.ArgMin):
        return node
    value = node.this
    key = exp.Case().when(exp.not_(value.copy().is_(exp.null())), node.expression.copy())
    return type(node)(this=value.copy(), expression=key)


def render(tree: exp.Expression, dialect: str = "duckdb", pretty: bool = False) -> str:
    """``tree`` as SQL of ``dialect`` (the engine runs ``duckdb``)."""
    if dialect in _NO_ARG_MAX:
        tree = tree.copy().transform(_portable_latest)
    elif dialect in _NULL_ARG_MAX:
        tree = tree.copy().transform(_null_skipping_latest)
    return tree.sql(dialect=dialect, pretty=pretty)
