"""The definitions table as one SQL query for warehouse engines (``svcmetrics sql``).

The query is the tree of :mod:`svcmetrics.compiler` (the one the embedded engine runs),
preceded by the relations that the engine makes itself from its input tables, and
transpiled by sqlglot to the engine asked for. Every value from the config (events,
conditions, answer lists, field names) is a sqlglot literal, never pasted text.

Input tables (spec 5 lets an exported query take periods as an input):

- ``records(date DATE, community, event, party, id, household, status, ticket, service,
  category VARCHAR, seq BIGINT)``: validated records with canonical values and community
  ids; ``seq`` is the input order (it breaks ties between rows of one day).
- ``periods(period VARCHAR, period_start DATE, period_end DATE)``: the periods to compute.
- ``profile(community VARCHAR, field VARCHAR, as_of DATE, value BIGINT)``: the
  denominators; ``as_of`` is NULL for an undated value. A period uses the undated value,
  else the latest dated on or before its last day, else the earliest (spec 1.1).

Output: one row per (community of the profile, period, indicator) with ``numerator``,
``denominator`` (NULL when unknown), ``sample_size`` (survey basis) and ``rate`` (NULL
when the denominator is 0 or unknown).
"""

from __future__ import annotations

from sqlglot import exp

from svcmetrics import compiler
from svcmetrics.answers import AnswerLists
from svcmetrics.indicators import Indicator
from svcmetrics.output.options import SqlDialect as Dialect

FIELDS: tuple[str, ...] = (
    "community", "event", "party", "id", "household", "status", "ticket", "service", "category",
)  # fmt: skip
"""The text columns of ``records`` the counting reads."""

ORDER_SCALE = 1_000_000_000_000
"""``seq`` of a row in the compiled tree: days since 1970 times this, plus the input order
(the engine's ordering key; a BIGINT holds it)."""


NESTED = True
"""The exported query takes its periods as an input, so it cannot know whether two share
a start: it counts in home windows (:func:`svcmetrics.compiler.homes`), which is exact
for any periods."""


def inputs(
    lists: AnswerLists,
    by: str | None = None,
    communities: exp.Query | None = None,
    brks: exp.Query | None = None,
) -> list[tuple[str, exp.Query]]:
    """The relations the engine builds itself, here from the input tables; ``by``: the
    breakdown field; ``communities`` and ``brks``: the communities and breakdown values
    counted (by default the profile's and none)."""
    days = exp.DateDiff(
        this=exp.column("date"),
        expression=exp.cast(exp.Literal.string("1970-01-01"), exp.DataType.Type.DATE),
        unit=exp.var("DAY"),
    )
    seq = exp.Add(
        this=exp.Mul(this=days, expression=exp.Literal.number(ORDER_SCALE)),
        expression=exp.column("seq"),
    )
    recs = exp.select(
        exp.column("community"),
        exp.alias_(exp.column("date"), "day"),
        *[exp.column(name) for name in FIELDS[1:]],
        exp.alias_(exp.column("seq"), "rec"),
        exp.alias_(seq, "seq"),
    ).from_("records")
    between = exp.Between(
        this=exp.column("day", "r"),
        low=exp.column("period_start", "p"),
        high=exp.column("period_end", "p"),
    )
    pdays = (
        exp.select(exp.column("day", "r"), exp.column("period", "p"))
        .distinct()
        .from_(exp.alias_(exp.to_table("recs"), "r", table=True))
        .join(exp.alias_(exp.to_table("periods"), "p", table=True), on=between)
    )
    if communities is None:
        communities = exp.select("community").distinct().from_("profile")
    if brks is None:
        brks = exp.select(exp.alias_(exp.Literal.string(""), "brk"))
    return [
        ("recs", recs),
        ("pdays", pdays),
        ("homes", compiler.homes()),
        ("communities", communities),
        ("brks", brks),
        ("rp", compiler.rp(by, NESTED)),
        ("answer_class", compiler.answer_class("recs", lists)),
        ("needs", compiler.needs(by, NESTED)),
        ("respondents", compiler.respondents(NESTED)),
    ]


def tree(indicators: list[Indicator], lists: AnswerLists) -> exp.Select:
    """The exported query as a sqlglot tree (DuckDB's reading of it)."""
    rate = exp.Case().when(
        exp.column("denominator") > exp.Literal.number(0),
        exp.Div(
            this=exp.cast(exp.column("numerator"), exp.DataType.Type.DOUBLE),
            expression=exp.column("denominator"),
        ),
    )
    select = (
        exp.select(
            "community", "period", "indicator", "numerator", "denominator", "sample_size",
            exp.alias_(rate, "rate"),
        )
        .from_("parts")
        .order_by("period", "community", "position")
    )  # fmt: skip
    ctes = [*inputs(lists), *compiler.parts_ctes(indicators, NESTED)]
    ctes.append(("parts", compiler.parts_select(indicators)))
    for name, query in ctes:
        select = select.with_(name, as_=query, copy=False)
    return select


def query(indicators: list[Indicator], lists: AnswerLists, dialect: Dialect) -> str:
    """One SQL query computing every indicator, in ``dialect``."""
    return compiler.render(tree(indicators, lists), dialect.value, pretty=True) + ";\n"
