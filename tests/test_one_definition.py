"""One definition, every engine (spec 5.1): local compute and the exported query agree.

A Hypothesis property feeds the same random community data (tests/strategies.py) to
``svcmetrics compute`` and to the query of ``svcmetrics sql`` run on DuckDB and on a
throwaway PostgreSQL server: equal numerators and denominators for every community,
period and indicator. The data carry full-width scores, excluded answers, needs updated
over several rows, dated denominators, user indicators, and a config that moves answers
between the lists. No file outside the test is read.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlcase import DDL, FIELDS, postgres
from sqlglot import exp
from strategies import (
    COUNT_FIELDS,
    WIDE_ANSWERS,
    Profile,
    Records,
    profiles,
    records_for,
    write_csv,
    write_profile,
)

from svcmetrics.answers import answer_lists, as_number
from svcmetrics.compiler import classify, render
from svcmetrics.errors import InputError
from svcmetrics.models import SatisfactionConfig
from svcmetrics.periods import PeriodKind
from svcmetrics.pipeline import Options, load_inputs, run
from svcmetrics.sqlexport import Dialect, query
from svcmetrics.stages import profile_values

__all__ = ["postgres"]  # the fixture, imported

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

USER_INDICATORS: list[dict[str, Any]] = [
    {
        "key": "elderly_checkup",
        "name": {"zh": "65岁以上老人体检完成率", "en": "Health checks of residents aged 65+"},
        "numerator": {"event": "checkup", "party": "resident", "count": "distinct id"},
        "denominator": {"profile": "residents_65plus"},
    },
    {
        "key": "elder_help_share",
        "name": {"zh": "助老服务占比", "en": "Share of elder help"},
        "numerator": {"event": "participate", "service": "助老", "count": "rows"},
        "denominator": {"event": "participate", "count": "rows"},
    },
    {
        "key": "needs_per_ticket",
        "name": {"zh": "需求工单", "en": "Need tickets"},
        "numerator": {"event": "need", "status": "met", "count": "distinct ticket"},
        "denominator": {"event": "need", "count": "distinct ticket"},
    },
]

SATISFIED_MOVED = [
    "非常满意",
    "满意",
    "比较满意",
    "基本满意",
    "very satisfied",
    "satisfied",
    "４",
    "5",
]
"""A ``satisfied`` list moving 基本满意 and written with a full-width score (every answer
of WIDE_ANSWERS stays in a list)."""


@st.composite
def cases(draw: st.DrawFn) -> tuple[Records, Profile, dict[str, Any], PeriodKind]:
    """Records, a profile with dated values, a config and a period kind."""
    profile = draw(profiles(fields=(*COUNT_FIELDS, "residents_65plus"), dated=True))
    ids = [community["id"] for community in profile["communities"]]
    records = draw(records_for(ids, answers=WIDE_ANSWERS, events=("checkup",)))
    satisfaction: dict[str, Any] = {
        "basis": draw(st.sampled_from(("survey", "population"))),
        "unit_basis": draw(st.sampled_from(("survey", "population"))),
    }
    if draw(st.booleans()):
        satisfaction["satisfied"] = SATISFIED_MOVED
    config = {"indicators": USER_INDICATORS, "satisfaction": satisfaction}
    kind = draw(st.sampled_from((PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YTD)))
    return records, profile, config, kind


Numbers = dict[tuple[str, str, str], tuple[int, int | None]]


class Exported:
    """The exported query and its input tables for one case, with compute's numbers."""

    def __init__(
        self, folder: Path, records: Records, profile: Profile, config: dict[str, Any],
        kind: PeriodKind,
    ) -> None:  # fmt: skip
        log = write_csv(records, folder / "log.csv")
        profile_file = write_profile(profile, folder / "profile.yaml")
        config_file = folder / "svcmetrics.yaml"
        config_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        options = Options(logs=(str(log),), profile=profile_file, config=config_file,
                          period=kind)  # fmt: skip
        report = run(options)
        self.expected: Numbers = {
            (r.community, r.period, r.indicator): (r.numerator, r.denominator)
            for r in report.results
            if r.level == "community"
        }
        inputs = load_inputs(options)
        assert inputs.profile is not None
        self.indicators = inputs.indicators
        self.lists = answer_lists(inputs.config.satisfaction)
        self.records: list[tuple[Any, ...]] = []
        with log.open(encoding="utf-8") as handle:
            for seq, row in enumerate(csv.DictReader(handle)):
                values: list[Any] = [(row.get(f) or "").strip() or None for f in FIELDS]
                values[0] = dt.date.fromisoformat(values[0])
                self.records.append((*values, seq))
        self.periods = [(p.label, p.start, p.end) for p in report.periods]
        values = profile_values(inputs.profile.communities)
        self.profile = [(v.community, v.field, v.as_of, v.value) for v in values]

    def sql(self, dialect: Dialect) -> str:
        return query(self.indicators, self.lists, dialect)


def _numbers(rows: list[tuple[Any, ...]]) -> Numbers:
    return {
        (str(c), str(p), str(i)): (int(n), None if d is None else int(d))
        for c, p, i, n, d, *_ in rows
    }


def _on_duckdb(case: Exported) -> Numbers:
    con = duckdb.connect()
    for statement in DDL:
        con.execute(statement)
    if case.records:
        con.executemany(f"INSERT INTO records VALUES ({', '.join('?' * 11)})", case.records)
    con.executemany("INSERT INTO periods VALUES (?, ?, ?)", case.periods)
    if case.profile:
        con.executemany("INSERT INTO profile VALUES (?, ?, ?, ?)", case.profile)
    return _numbers(con.execute(case.sql(Dialect.DUCKDB)).fetchall())


def _on_postgres(case: Exported, connection: Any) -> Numbers:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS records, periods, profile")
        for statement in DDL:
            cursor.execute(statement)
        if case.records:
            cursor.executemany(f"INSERT INTO records VALUES ({', '.join(['%s'] * 11)})",
                               case.records)  # fmt: skip
        cursor.executemany("INSERT INTO periods VALUES (%s, %s, %s)", case.periods)
        if case.profile:
            cursor.executemany("INSERT INTO profile VALUES (%s, %s, %s, %s)", case.profile)
        cursor.execute(case.sql(Dialect.POSTGRES))
        return _numbers(cursor.fetchall())


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder: no stray ./svcmetrics.yaml is picked up."""
    monkeypatch.chdir(tmp_path)


@SETTINGS
@given(cases())
def test_compute_and_exported_query_agree(
    tmp_path_factory: pytest.TempPathFactory,
    postgres: Any,
    case: tuple[Records, Profile, dict[str, Any], PeriodKind],
) -> None:
    records, profile, config, kind = case
    if not records:  # nothing to compute: compute stops with a message, sql has no rows
        return
    exported = Exported(tmp_path_factory.mktemp("case"), records, profile, config, kind)
    assert _on_duckdb(exported) == exported.expected
    assert _on_postgres(exported, postgres) == exported.expected


ROW_FIELDS = ("date", "community", "event", "party", "id", "household", "status", "ticket",
              "service")  # fmt: skip


def _one(tmp_path: Path, rows: list[str], profile: Profile, config: dict[str, Any]) -> Exported:
    records = [dict(zip(ROW_FIELDS, row.split(","), strict=True)) for row in rows]
    return Exported(tmp_path, records, profile, config, PeriodKind.MONTH)


def test_full_width_score_counts_on_every_path(tmp_path: Path, postgres: Any) -> None:
    """The case of issue 14: 满意, ４ and 不满意 are 2 satisfied of 3 on every path."""
    case = _one(
        tmp_path,
        ["2026-10-02,c1,survey,resident,r1,,满意,,", "2026-10-02,c1,survey,resident,r2,,４,,",
         "2026-10-02,c1,survey,resident,r3,,不满意,,"],
        {"communities": [{"id": "c1", "residents": 10}]},
        {},
    )  # fmt: skip
    key = ("c1", "2026-10", "resident_satisfaction")
    assert case.expected[key] == (2, 3)
    assert _on_duckdb(case)[key] == (2, 3)
    assert _on_postgres(case, postgres)[key] == (2, 3)


def test_dated_denominators_on_every_path(tmp_path: Path, postgres: Any) -> None:
    """Each month takes the value in force on its last day; before the first date, the
    earliest value (spec 1.1)."""
    households = [
        {"as_of": dt.date(2026, 3, 1), "value": 40},
        {"as_of": dt.date(2026, 2, 1), "value": 20},
        {"as_of": dt.date(2026, 3, 31), "value": 80},
    ]
    case = _one(
        tmp_path,
        [f"2026-{month:02d}-10,c1,benefit,resident,r1,h1,,," for month in (1, 2, 3, 4)],
        {"communities": [{"id": "c1", "households": households}]},
        {},
    )
    found = {
        period: (1, value)
        for period, value in (("2026-01", 20), ("2026-02", 20), ("2026-03", 80), ("2026-04", 80))
    }
    for numbers in (case.expected, _on_duckdb(case), _on_postgres(case, postgres)):
        assert {p: numbers[("c1", p, "resident_benefit")] for p in found} == found


ANSWER_CLASSES: dict[str, str | None] = {
    "满意": "satisfied",
    "Very Satisfied": "satisfied",
    " 4 ": "satisfied",
    "４": "satisfied",
    "＋４": "satisfied",
    "５．０": "satisfied",
    "4.": "satisfied",
    "3.0": "not_satisfied",
    "基本满意": "not_satisfied",
    "９９": "excluded",
    "-0": "excluded",
    ".5": "excluded",
    "": "excluded",
    "不清楚": "excluded",
    "4.5": None,
    "1e3": None,
    "inf": None,
    "9" * 16: None,
    "满意了": None,
}
"""Answers and their class under the default lists (None: in no list, an invalid row)."""


def test_answer_classes_are_the_same_on_every_engine(postgres: Any) -> None:
    """One classification (spec 2.4), the same on DuckDB and PostgreSQL."""
    lists = answer_lists(SatisfactionConfig())
    tree = exp.select(exp.alias_(classify(exp.column("status"), lists), "cls"), "status")
    tree = tree.from_("answers")
    rows = [(answer,) for answer in ANSWER_CLASSES]
    con = duckdb.connect()
    con.execute("CREATE TABLE answers (status VARCHAR)")
    con.executemany("INSERT INTO answers VALUES (?)", rows)
    found = {status: cls for cls, status in con.execute(render(tree)).fetchall()}
    assert found == ANSWER_CLASSES
    with postgres.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS answers")
        cursor.execute("CREATE TABLE answers (status VARCHAR)")
        cursor.executemany("INSERT INTO answers VALUES (%s)", rows)
        cursor.execute(render(tree, "postgres"))
        assert {status: cls for cls, status in cursor.fetchall()} == ANSWER_CLASSES


def test_config_entries_read_numbers_as_answers_do() -> None:
    """A full-width score in a config list is that score (as_number follows the SQL)."""
    lists = answer_lists(SatisfactionConfig(satisfied=["４", "满意"]))
    assert lists.numbers[4.0] == "satisfied" and "４" not in lists.texts
    assert as_number("1e3") is None and as_number("＋３．５") == 3.5


def test_profile_count_beyond_the_engine_is_a_clear_error(tmp_path: Path) -> None:
    """A count above DuckDB's HUGEINT is named, not a crash (10**30 still computes)."""
    log = write_csv([dict(zip(ROW_FIELDS, "2026-10-02,c1,survey,resident,r1,,满意,,".split(","),
                              strict=True))], tmp_path / "log.csv")  # fmt: skip
    profile = write_profile({"communities": [{"id": "c1", "residents": 10**39}]},
                            tmp_path / "p.yaml")  # fmt: skip
    with pytest.raises(InputError) as caught:
        run(Options(logs=(str(log),), profile=profile))
    assert caught.value.key == "profile_count_too_large"
    assert caught.value.params["field"] == "residents"
