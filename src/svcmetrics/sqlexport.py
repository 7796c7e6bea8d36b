"""The definitions table as one SQL query for warehouse engines (``svcmetrics sql``).

The query is written once, in DuckDB's dialect, from the same definitions the engine
uses, and transpiled by sqlglot to the engine asked for. Every value from the config
(events, conditions, answer lists, field names) is rendered by sqlglot as a quoted
literal, never pasted.

Input tables (spec 5 lets an exported query take periods as an input):

- ``records(date DATE, community, event, party, id, household, status, ticket, service,
  category VARCHAR, seq BIGINT)``: validated records with canonical values and community
  ids; ``seq`` is the input order (it breaks ties between rows of one day).
- ``periods(period VARCHAR, period_start DATE, period_end DATE)``: the periods to compute.
- ``profile(community VARCHAR, field VARCHAR, value BIGINT)``: one value per community and
  field (the value in force for the periods computed).

Output: one row per (community of the profile, period, indicator) with ``numerator``,
``denominator`` (NULL when unknown), ``sample_size`` (survey basis) and ``rate`` (NULL
when the denominator is 0 or unknown).
"""

from __future__ import annotations

from typing import assert_never

import sqlglot
from sqlglot import exp

from svcmetrics.answers import Answer, AnswerLists
from svcmetrics.indicators import (
    Distinct,
    Indicator,
    NeedsMet,
    NeedsRaised,
    ProfileField,
    Respondents,
    Rule,
    SatisfiedRespondents,
    count_rules,
)
from svcmetrics.output.options import SqlDialect as Dialect


def literal(value: str | float) -> str:
    """A SQL literal, quoted and escaped by sqlglot."""
    if isinstance(value, str):
        return exp.Literal.string(value).sql(dialect="duckdb")
    return exp.Literal.number(value).sql(dialect="duckdb")


def _in(values: list[str] | list[float]) -> str:
    return "(" + ", ".join(literal(value) for value in values) + ")"


def answer_case(lists: AnswerLists) -> str:
    """A CASE expression classifying ``status`` as AnswerLists.classify does (spec 2.4)."""
    text = "LOWER(TRIM(status))"
    branches = ["WHEN status IS NULL OR TRIM(status) = '' THEN 'excluded'"]
    for answer in Answer:
        texts = sorted(t for t, a in lists.texts.items() if a is answer)
        if texts:
            branches.append(f"WHEN {text} IN {_in(texts)} THEN {literal(answer.value)}")
    number = "CAST(TRIM(status) AS DOUBLE)"
    scores = []
    for answer in Answer:
        values = sorted(n for n, a in lists.numbers.items() if a is answer)
        if values:
            scores.append(f"WHEN {number} IN {_in(values)} THEN {literal(answer.value)}")
    low, high = lists.scale
    scores.append(f"WHEN {number} < {literal(low)} OR {number} > {literal(high)} THEN 'excluded'")
    branches.append(
        "WHEN REGEXP_MATCHES(TRIM(status), '^[-+]?[0-9]+([.][0-9]*)?$') THEN CASE "
        + " ".join(scores)
        + " END"
    )
    return "CASE " + " ".join(branches) + " END"


def _grouped(value: str, table: str, where: str) -> str:
    return (
        f"SELECT community, period, {value} AS value FROM {table} WHERE {where} "
        "GROUP BY community, period"
    )


def _count(rule: Rule) -> str | None:
    """SELECT community, period, value for a count rule; None for a profile field."""
    if isinstance(rule, Distinct):
        counted = "*" if rule.counted is None else f"DISTINCT {rule.counted}"
        conditions = [f"event = {literal(rule.event)}"]
        for name in ("party", "status", "service", "category"):
            value = getattr(rule, name)
            if value is not None:
                conditions.append(f"{name} = {literal(value)}")
        where = " AND ".join(conditions)
        return _grouped(f"COUNT({counted})", "rp", where)
    if isinstance(rule, NeedsMet):
        return _grouped("COUNT(*)", "needs", "state = 'met'")
    if isinstance(rule, NeedsRaised):
        return _grouped("COUNT(*)", "needs", "TRUE")
    if isinstance(rule, SatisfiedRespondents):
        party = literal(rule.party)
        return _grouped("COUNT(*)", "respondents", f"party = {party} AND answer = 'satisfied'")
    if isinstance(rule, Respondents):
        return _grouped("COUNT(*)", "respondents", f"party = {literal(rule.party)}")
    if isinstance(rule, ProfileField):
        if rule.needs_answers is not None:
            return _count(Respondents(rule.needs_answers))
        return None
    assert_never(rule)


def _denominator_kind(rule: Rule) -> tuple[str, str]:
    """(how the denominator is found, the profile field it reads or '')."""
    if isinstance(rule, ProfileField):
        return ("population" if rule.needs_answers else "profile"), rule.name
    return "count", ""


def query(indicators: list[Indicator], lists: AnswerLists, dialect: Dialect) -> str:
    """One SQL query computing every indicator, in ``dialect``."""
    counts: list[str] = []
    grid: list[str] = []
    for position, indicator in enumerate(indicators, start=1):
        key = literal(indicator.key)
        for part, rule in count_rules(indicator):
            sql = _count(rule)
            if sql is not None:
                counts.append(
                    f"SELECT {key} AS indicator, {literal(part)} AS part, community, period, value "
                    f"FROM ({sql}) AS c{len(counts)}"
                )
        kind, field = _denominator_kind(indicator.denominator)
        survey = "1" if indicator.survey_basis else "0"
        grid.append(f"({key}, {position}, {literal(kind)}, {literal(field)}, {survey})")
    sql = f"""
WITH rp AS (
  SELECT p.period, r.* FROM records AS r
  JOIN periods AS p ON r.date BETWEEN p.period_start AND p.period_end
), need_rows AS (
  SELECT community, COALESCE('t' || ticket, 'r' || CAST(seq AS VARCHAR)) AS need_key,
         date, seq, status
  FROM records WHERE event = 'need'
), need_last AS (
  SELECT community, need_key, status AS state,
         ROW_NUMBER() OVER (PARTITION BY community, need_key ORDER BY date DESC, seq DESC) AS rn
  FROM need_rows
), need_first AS (
  SELECT community, need_key, MIN(date) AS first_date FROM need_rows GROUP BY community, need_key
), needs AS (
  SELECT f.community, p.period, l.state FROM need_first AS f
  JOIN need_last AS l ON l.community = f.community AND l.need_key = f.need_key AND l.rn = 1
  JOIN periods AS p ON f.first_date BETWEEN p.period_start AND p.period_end
), answers AS (
  SELECT community, period, party, id, date, seq, {answer_case(lists)} AS answer
  FROM rp WHERE event = 'survey'
), latest_answers AS (
  SELECT community, period, party, id, answer,
         ROW_NUMBER() OVER (PARTITION BY community, period, party, id
                            ORDER BY date DESC, seq DESC) AS rn
  FROM answers WHERE answer IN ('satisfied', 'not_satisfied')
), respondents AS (
  SELECT community, period, party, answer FROM latest_answers WHERE rn = 1
), counts AS (
  {" UNION ALL ".join(counts)}
), definitions AS (
  SELECT * FROM (VALUES {", ".join(grid)}) AS d(indicator, position, den_kind, den_field, survey)
), grid AS (
  SELECT c.community, p.period, d.indicator, d.position, d.den_kind, d.den_field, d.survey
  FROM (SELECT DISTINCT community FROM profile) AS c
  CROSS JOIN periods AS p CROSS JOIN definitions AS d
), computed AS (
  SELECT g.community, g.period, g.indicator, g.position, g.survey,
         COALESCE(n.value, 0) AS numerator,
         CASE
           WHEN g.den_kind = 'profile' THEN pf.value
           WHEN g.den_kind = 'population'
             THEN CASE WHEN COALESCE(a.value, 0) = 0 THEN NULL ELSE pf.value END
           ELSE COALESCE(d.value, 0)
         END AS denominator
  FROM grid AS g
  LEFT JOIN counts AS n ON n.indicator = g.indicator AND n.part = 'num'
       AND n.community = g.community AND n.period = g.period
  LEFT JOIN counts AS d ON d.indicator = g.indicator AND d.part = 'den'
       AND d.community = g.community AND d.period = g.period
  LEFT JOIN counts AS a ON a.indicator = g.indicator AND a.part = 'answers'
       AND a.community = g.community AND a.period = g.period
  LEFT JOIN profile AS pf ON pf.community = g.community AND pf.field = g.den_field
)
SELECT community, period, indicator, numerator, denominator,
       CASE WHEN survey = 1 THEN denominator END AS sample_size,
       CASE WHEN denominator > 0 THEN CAST(numerator AS DOUBLE) / denominator END AS rate
FROM computed
ORDER BY period, community, position
"""
    return sqlglot.transpile(sql, read="duckdb", write=dialect.value, pretty=True)[0] + ";\n"
