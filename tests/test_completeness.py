"""上报率 (spec 2.8): communities with a record / communities under each roll-up and the
total; thresholds; the list of those that did not report."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from clihelp import ledger_folder, run_in
from hypothesis import given
from hypothesis import strategies as st

from svcmetrics.completeness import reporting_results, silent
from svcmetrics.indicators import reporting_indicator
from svcmetrics.judge import Status
from svcmetrics.models import Config, Threshold
from svcmetrics.periods import Compared, Period
from svcmetrics.units import Level, Unit

NOV = Period("2026-11", dt.date(2026, 11, 1), dt.date(2026, 11, 30), dt.date(2026, 11, 30))
DEC = Period(
    "2026-12", dt.date(2026, 12, 1), dt.date(2026, 12, 15), dt.date(2026, 12, 31), partial=True
)

# district d over streets s1 (a, b, c) and s2 (e); the total over all four
UNITS = [
    Unit(Level.COMMUNITY, "a", None, "s1", ("a",)),
    Unit(Level.COMMUNITY, "b", None, "s1", ("b",)),
    Unit(Level.COMMUNITY, "c", None, "s1", ("c",)),
    Unit(Level.COMMUNITY, "e", None, "s2", ("e",)),
    Unit(Level.ROLLUP, "d", None, None, ("a", "b", "c", "e")),
    Unit(Level.ROLLUP, "s1", None, "d", ("a", "b", "c")),
    Unit(Level.ROLLUP, "s2", None, "d", ("e",)),
    Unit(Level.TOTAL, "*", None, None, ("a", "b", "c", "e")),
]


def _config(**threshold: float) -> Config:
    return Config(thresholds={"reporting": Threshold(**threshold)} if threshold else {})


def test_reporting_counts_communities_with_a_record() -> None:
    records = {("a", "2026-11"): 3, ("b", "2026-11"): 1, ("c", "2026-11"): 0, ("a", "2026-12"): 2}
    compared = {"2026-12": Compared("2026-11", "2025-12")}
    found = reporting_results(reporting_indicator(_config()), UNITS, [NOV, DEC], records, compared)
    got = {(r.period, r.community): (r.numerator, r.denominator) for r in found}
    assert got == {
        ("2026-11", "d"): (2, 4),
        ("2026-11", "s1"): (2, 3),
        ("2026-11", "s2"): (0, 1),
        ("2026-11", "*"): (2, 4),
        ("2026-12", "d"): (1, 4),
        ("2026-12", "s1"): (1, 3),
        ("2026-12", "s2"): (0, 1),
        ("2026-12", "*"): (1, 4),
    }
    flags = {(r.period, r.community): r.flags for r in found}
    assert flags["2026-11", "s2"] == ["no_records"]
    assert flags["2026-12", "s1"] == ["partial_period"]
    # December's change against November, in percentage points: 1/3 − 2/3
    december = {r.community: r for r in found if r.period == "2026-12"}
    assert december["s1"].previous_rate == pytest.approx(2 / 3)
    assert december["s1"].change == pytest.approx(-100 / 3)
    # no record at all a year earlier: no 同比 (a ledger not kept yet is no 0%)
    assert december["s1"].previous_year_rate is None and december["s1"].change_yoy is None
    # s2 reported in neither month: no 环比 either
    assert december["s2"].previous_rate is None
    # no community result: communities are what is counted
    assert all(r.level is not Level.COMMUNITY for r in found)


def test_reporting_thresholds_apply_like_any_indicator() -> None:
    records = {("a", "2026-11"): 1, ("b", "2026-11"): 1, ("e", "2026-11"): 1}
    indicator = reporting_indicator(_config(warn=0.9, critical=0.5))
    found = {r.community: r for r in reporting_results(indicator, UNITS, [NOV], records, {})}
    assert found["s1"].status is Status.WARN  # 2/3 = 66.7% < 90%
    assert found["s2"].status is Status.OK  # 1/1
    assert found["d"].status is Status.WARN  # 3/4 = 75%


def test_silent_names_who_did_not_report() -> None:
    records = {("a", "2026-11"): 3, ("e", "2026-11"): 1}
    assert silent(UNITS, [NOV, DEC], records) == {
        "2026-11": ("b", "c"),
        "2026-12": ("a", "b", "c", "e"),
    }


@given(
    st.dictionaries(
        st.tuples(st.sampled_from("abce"), st.sampled_from(["2026-11", "2026-12"])),
        st.integers(0, 3),
    )
)
def test_a_rollups_reporting_rate_is_the_pooled_count(records: dict[tuple[str, str], int]) -> None:
    """The district's numerator and denominator are its streets' sums (not a mean of
    rates), and the total's equal the district's over the same communities."""
    found = reporting_results(reporting_indicator(_config()), UNITS, [NOV, DEC], records, {})
    by = {(r.period, r.community): r for r in found}
    for period in ("2026-11", "2026-12"):
        streets = [by[period, "s1"], by[period, "s2"]]
        district = by[period, "d"]
        assert district.numerator == sum(s.numerator for s in streets)
        assert district.denominator == sum(s.denominator or 0 for s in streets)
        reported = sum(records.get((c, period), 0) > 0 for c in "abce")
        assert (by[period, "*"].numerator, by[period, "*"].denominator) == (reported, 4)


PROFILE = """\
communities:
  - {id: a, name: 甲社区, parent: s1, residents_capable: 10}
  - {id: b, name: 乙社区, parent: s1, residents_capable: 10}
  - {id: c, name: 丙社区, parent: s1, residents_capable: 10}
parents:
  - {id: s1, name: 一街道}
"""
LOG = """\
date,community,event,party,id
2026-10-03,a,participate,resident,A1
2026-10-04,b,participate,resident,B1
2026-10-05,c,participate,resident,C1
2026-11-03,a,participate,resident,A1
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return ledger_folder(tmp_path, PROFILE, LOG, "thresholds: {reporting: {warn: 1.0}}\n")


def test_every_format_shows_reporting_and_who_did_not_report(folder: Path) -> None:
    done = run_in(folder, ["compute", "--format", "csv", "--lang", "en"])
    assert done.returncode == 0, done.stderr
    rows = [r for r in csv.DictReader(io.StringIO(done.stdout)) if r["indicator"] == "reporting"]
    got = [
        (r["period"], r["community"], r["numerator"], r["denominator"], r["status"]) for r in rows
    ]
    # one street office over all three: the street and the total carry it
    assert got == [
        ("2026-10", "s1", "3", "3", "ok"),
        ("2026-10", "*", "3", "3", "ok"),
        ("2026-11", "s1", "1", "3", "warn"),
        ("2026-11", "*", "1", "3", "warn"),
    ]
    table = run_in(folder, ["compute", "--lang", "zh"]).stdout
    assert "上报率" in table
    assert "未上报(无有效记录):乙社区、丙社区" in table
    assert table.count("未上报") == 1  # October: everyone reported
    page = run_in(folder, ["compute", "--format", "html", "--lang", "en"]).stdout
    section = page.split('<section id="not-reported">')[1].split("</section>")[0]
    assert "2026-11: 乙社区, 丙社区" in section
    assert "2026-10" not in section
