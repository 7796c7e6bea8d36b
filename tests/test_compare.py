"""Half-years, year-to-date windows, 环比 and 同比 (spec 2.8), with numbers worked out by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from pathlib import Path

import pytest
from clihelp import run_cli
from hypothesis import HealthCheck, given, settings
from reference import reference_compute
from strategies import Profile, Records, community_data, write_csv, write_profile

from svcmetrics.output.options import RenderOptions
from svcmetrics.output.table import render_table
from svcmetrics.periods import Period, PeriodKind, previous_of, span, year_before
from svcmetrics.pipeline import Options, run
from svcmetrics.report import Report, Result

# 老城社区 (a) keeps its ledger since November 2025; 新区社区 (b) only since July 2026.
# Resident participation, residents_capable 10 (a) and 20 (b):
#   a: 2025-11 {r1,r2} 2/10; 2025-12 {r1,r2,r3} 3/10; 2026-01 {r1} 1/10;
#      2026-02 {r2,r4} 2/10; 2026-11 {r1,r2,r3,r4} 4/10; no record in 2026-03..10
#   b: 2026-07 {s1} 1/20; 2026-11 {s1,s2} 2/20
LOG = """date,community,event,party,id,household,status,ticket,service
2025-11-05,a,participate,resident,r1,,,,助老
2025-11-06,a,participate,resident,r2,,,,助老
2025-12-03,a,participate,resident,r1,,,,助老
2025-12-04,a,participate,resident,r2,,,,助老
2025-12-05,a,participate,resident,r3,,,,助老
2026-01-10,a,participate,resident,r1,,,,助老
2026-02-10,a,participate,resident,r2,,,,助老
2026-02-11,a,participate,resident,r4,,,,助老
2026-07-01,b,participate,resident,s1,,,,助老
2026-11-02,a,participate,resident,r1,,,,助老
2026-11-02,a,participate,resident,r2,,,,助老
2026-11-03,a,participate,resident,r3,,,,助老
2026-11-03,a,participate,resident,r4,,,,助老
2026-11-03,b,participate,resident,s1,,,,助老
2026-11-04,b,participate,resident,s2,,,,助老
"""

PROFILE = """communities:
  - {id: a, name: 老城社区, parent: s, residents: 30, residents_capable: 10,
     households: 10, units: 5}
  - {id: b, name: 新区社区, parent: s, residents: 60, residents_capable: 20,
     households: 20, units: 5}
parents:
  - {id: s, name: 示例街道}
"""

TODAY = dt.date(2026, 12, 5)


@pytest.fixture
def ledger(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The two ledgers above in the working directory; no colour."""
    for name, text in (("log.csv", LOG), ("profile.yaml", PROFILE)):
        (in_tmp / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("NO_COLOR", "1")
    return in_tmp


def report_of(**options: object) -> Report:
    """The report of the ledgers with ``options``."""
    return run(
        Options(
            logs=("log.csv",),
            profile=Path("profile.yaml"),
            today=TODAY,
            **options,  # type: ignore[arg-type]
        )
    )


def participation(report: Report, community: str, period: str) -> Result:
    """The resident participation result of ``community`` in ``period``."""
    found = [
        r
        for r in report.results
        if r.community == community
        and r.period == period
        and r.indicator == "resident_participation"
    ]
    assert len(found) == 1, (community, period)
    return found[0]


def figures(result: Result) -> tuple[object, ...]:
    """Rate, previous rate, change, last year's rate and the change from it (rounded)."""
    return tuple(
        None if value is None else round(value, 4)
        for value in (
            result.rate,
            result.previous_rate,
            result.change,
            result.previous_year_rate,
            result.change_yoy,
        )
    )


# -- periods ------------------------------------------------------------------------------


def test_half_years_and_ytd_windows_are_labelled_as_the_spec_says() -> None:
    halves = span(PeriodKind.HALF, dt.date(2025, 12, 31), dt.date(2026, 7, 1))
    assert [(p.label, p.start, p.end) for p in halves] == [
        ("2025-H2", dt.date(2025, 7, 1), dt.date(2025, 12, 31)),
        ("2026-H1", dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
        ("2026-H2", dt.date(2026, 7, 1), dt.date(2026, 12, 31)),
    ]
    # a selected month gives one window from 1 January, never cut to the month
    (window,) = span(PeriodKind.YTD, dt.date(2028, 2, 1), dt.date(2028, 2, 29), clip=True)
    assert window == Period(
        "2028-01..2028-02", dt.date(2028, 1, 1), dt.date(2028, 2, 29), window.end
    )
    assert not window.partial
    windows = span(PeriodKind.YTD, dt.date(2025, 12, 1), dt.date(2026, 2, 28), clip=True)
    assert [p.label for p in windows] == [
        "2025-01..2025-12",
        "2026-01..2026-01",
        "2026-01..2026-02",
    ]


@pytest.mark.parametrize(
    ("kind", "day", "previous", "last_year"),
    [
        (PeriodKind.MONTH, dt.date(2026, 1, 31), "2025-12", "2025-01"),
        (PeriodKind.QUARTER, dt.date(2026, 3, 31), "2025-Q4", "2025-Q1"),
        (PeriodKind.HALF, dt.date(2026, 6, 30), "2025-H2", "2025-H1"),
        (PeriodKind.YEAR, dt.date(2026, 12, 31), "2025", "2025"),
        (PeriodKind.YTD, dt.date(2026, 11, 30), "2026-01..2026-10", "2025-01..2025-11"),
        (PeriodKind.YTD, dt.date(2026, 1, 31), None, "2025-01..2025-01"),
        (PeriodKind.MONTH, dt.date(2028, 2, 29), "2028-01", "2027-02"),
    ],
)
def test_comparison_periods(
    kind: PeriodKind, day: dt.date, previous: str | None, last_year: str
) -> None:
    (period,) = span(kind, day, day)
    before = previous_of(kind, period)
    assert (before.label if before else None) == previous
    year = year_before(kind, period)
    assert year is not None and year.label == last_year
    assert year.end.year == day.year - 1 and year.end.month == day.month


def test_all_has_no_comparison() -> None:
    (period,) = span(PeriodKind.ALL, dt.date(2026, 1, 1), dt.date(2026, 2, 1))
    assert previous_of(PeriodKind.ALL, period) is None
    assert year_before(PeriodKind.ALL, period) is None


# -- 环比 and 同比 over the ledgers ------------------------------------------------------------


def test_january_against_december_of_the_year_before(ledger: Path) -> None:
    """2026-01 of a: 1/10 against 2025-12's 3/10 (outside the selected month): −20 points;
    2025-01 has no record of a: no 同比."""
    report = report_of(month="2026-01")
    assert [p.label for p in report.periods] == ["2026-01"]
    assert figures(participation(report, "a", "2026-01")) == (0.1, 0.3, -20.0, None, None)
    # b has no record in December 2025: its 0% is not compared with anything
    assert figures(participation(report, "b", "2026-01")) == (0.0, None, None, None, None)


def test_same_month_a_year_earlier(ledger: Path) -> None:
    """2026-11: a 4/10 against 2025-11's 2/10: +20 points 同比; October has no record of a:
    no 环比. b's ledger starts in July 2026: no 同比 (not a 0% year)."""
    report = report_of(month="2026-11")
    assert figures(participation(report, "a", "2026-11")) == (0.4, None, None, 0.2, 20.0)
    assert figures(participation(report, "b", "2026-11")) == (0.1, None, None, None, None)
    # the street office: 6/30 now; a year earlier a had records, so it pools 2/10 + 0/20
    street = participation(report, "s", "2026-11")
    assert street.numerator == 6 and street.denominator == 30
    assert street.previous_year_rate == pytest.approx(2 / 30)
    assert street.change_yoy == pytest.approx((6 / 30 - 2 / 30) * 100)
    assert street.previous_rate is None and street.change is None


def test_change_is_empty_after_a_month_without_records(ledger: Path) -> None:
    """March 2026 has no record of a: its 0/10 is compared with February's 2/10 (−20), but
    April is not compared with March (no record then)."""
    report = report_of()
    assert figures(participation(report, "a", "2026-03")) == (0.0, 0.2, -20.0, None, None)
    assert figures(participation(report, "a", "2026-04")) == (0.0, None, None, None, None)
    # the first month of the data has no 环比 (nothing before it)
    assert figures(participation(report, "a", "2025-11")) == (0.2, None, None, None, None)


def test_january_ytd_window(ledger: Path) -> None:
    report = report_of(month="2026-01", period=PeriodKind.YTD)
    assert [p.label for p in report.periods] == ["2026-01..2026-01"]
    # no 环比 in January; 2025-01..2025-01 has no record of a
    assert figures(participation(report, "a", "2026-01..2026-01")) == (0.1, None, None, None, None)


def test_ytd_window_of_a_selected_month(ledger: Path) -> None:
    """2026-01..2026-11: a {r1,r2,r3,r4} 4/10; 1–10月 {r1,r2,r4} 3/10 (+10 points);
    2025-01..2025-11 {r1,r2} 2/10 (+20 points). b {s1,s2} 2/20; 1–10月 {s1} 1/20 (+5);
    no record of b in 2025: no 同比."""
    report = report_of(month="2026-11", period=PeriodKind.YTD)
    assert [p.label for p in report.periods] == ["2026-01..2026-11"]
    window = "2026-01..2026-11"
    assert figures(participation(report, "a", window)) == (0.4, 0.3, 10.0, 0.2, 20.0)
    assert figures(participation(report, "b", window)) == (0.1, 0.05, 5.0, None, None)
    assert report.facts.span == (window, window)


def test_last_month_ytd_is_the_year_to_the_end_of_last_month(ledger: Path) -> None:
    report = report_of(last=PeriodKind.MONTH, period=PeriodKind.YTD)
    assert [p.label for p in report.periods] == ["2026-01..2026-11"]


def test_half_years(ledger: Path) -> None:
    """a: 2025-H2 {r1,r2,r3} 3/10; 2026-H1 {r1,r2,r4} 3/10 (环比 0.0, no 2025-H1 record);
    2026-H2 {r1..r4} 4/10 (环比 +10, 同比 +10). b: 2026-H2 2/20, nothing before."""
    report = report_of(period=PeriodKind.HALF)
    assert [p.label for p in report.periods] == ["2025-H2", "2026-H1", "2026-H2"]
    assert figures(participation(report, "a", "2026-H1")) == (0.3, 0.3, 0.0, None, None)
    assert figures(participation(report, "a", "2026-H2")) == (0.4, 0.3, 10.0, 0.3, 10.0)
    assert figures(participation(report, "b", "2026-H2")) == (0.1, None, None, None, None)


def test_all_is_compared_with_nothing(ledger: Path) -> None:
    report = report_of(period=PeriodKind.ALL)
    result = participation(report, "a", "2025-11-05..2026-11-04")
    assert figures(result)[1:] == (None, None, None, None)


def test_comparison_periods_are_not_results(ledger: Path) -> None:
    report = report_of(month="2026-11", period=PeriodKind.YTD)
    assert {r.period for r in report.results} == {"2026-01..2026-11"}


@pytest.mark.parametrize(
    "args",
    [
        ["--period", "ytd", "--from", "2026-01-01", "--to", "2026-03-31"],
        ["--period", "half", "--month", "2026-11"],
    ],
)
def test_usage_errors(ledger: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, out, err = run_cli(["compute", "log.csv", "-p", "profile.yaml", *args], capsys)
    assert code == 2 and out == ""
    assert "--period" in err and "Traceback" not in err


def test_csv_and_json_carry_the_comparisons_in_the_spec_order(
    ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["compute", "log.csv", "-p", "profile.yaml", "--month", "2026-11", "--period", "ytd"]
    code, out, _ = run_cli([*base, "-f", "csv", "--lang", "en"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    keys = list(rows[0])
    at = keys.index("ci_high")
    assert keys[at + 1 : at + 5] == ["previous_rate", "change", "previous_year_rate", "change_yoy"]
    row = next(
        r for r in rows if r["community"] == "a" and r["indicator"] == "resident_participation"
    )
    assert (row["previous_rate"], row["change"], row["previous_year_rate"], row["change_yoy"]) == (
        "0.3000",
        "10.00",
        "0.2000",
        "20.00",
    )
    code, out, _ = run_cli([*base, "-f", "json", "--lang", "en"], capsys)
    records = json.loads(out)["results"]
    b = next(
        r for r in records if r["community"] == "b" and r["indicator"] == "resident_participation"
    )
    assert b["previous_year_rate"] is None and b["change_yoy"] is None
    assert b["change"] == pytest.approx(5.0)


def test_table_and_markdown_show_last_year_columns(
    ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["compute", "log.csv", "-p", "profile.yaml", "--month", "2026-11", "--lang", "zh"]
    code, out, _ = run_cli([*base, "-f", "markdown"], capsys)
    assert code == 0
    header = out.splitlines()[0]
    assert all(word in header for word in ("上期", "环比", "上年同期", "同比"))
    line = next(x for x in out.splitlines() if "老城社区" in x and "居民参与率" in x)
    assert "20.0%" in line and "+20.0" in line


def test_terminal_table_puts_the_rates_in_notes_when_narrow(ledger: Path) -> None:
    report = report_of(month="2026-11")
    narrow = render_table(report, RenderOptions(lang="zh", width=90))
    assert "上年同期" not in narrow.splitlines()[2] and "同比(百分点)" in narrow
    assert "老城社区 · 居民参与率: 上年同期 20.0%" in narrow
    wide = render_table(report, RenderOptions(lang="zh", width=160))
    header = wide.splitlines()[2]
    assert all(word in header for word in ("上期", "环比", "上年同期", "同比", "说明"))
    first = next(line for line in wide.splitlines() if "老城社区" in line)
    assert "20.0%" in first and "+20.0" in first


def test_html_draws_last_years_line(ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        [
            "compute",
            "log.csv",
            "-p",
            "profile.yaml",
            "--from",
            "2026-10-01",
            "--to",
            "2026-11-30",
            "-f",
            "html",
            "--lang",
            "zh",
        ],
        capsys,
    )
    assert code == 0
    assert "上年同期(示例街道)" in out and '<th class="num">同比(百分点)</th>' in out


# -- property: a ytd window pools its months ---------------------------------------------------

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def numerators(records: Records, profile: Profile, kind: PeriodKind) -> dict[tuple[str, str], int]:
    """(community, period) → resident participation numerator."""
    report = product(records, profile, kind)
    return {
        (r.community, r.period): r.numerator
        for r in report.results
        if r.level == "community" and r.indicator == "resident_participation"
    }


def product(records: Records, profile: Profile, kind: PeriodKind) -> Report:
    """The product run on ``records`` as a CSV log, with ``profile``."""
    with tempfile.TemporaryDirectory() as folder:
        log = write_csv(records, Path(folder) / "log.csv")
        path = write_profile(profile, Path(folder) / "profile.yaml")
        return run(Options(logs=(str(log),), profile=path, period=kind))


@pytest.mark.parametrize("kind", [PeriodKind.HALF, PeriodKind.YTD])
@SETTINGS
@given(community_data(min_records=1))
def test_half_years_and_ytd_windows_match_the_reference(
    in_tmp: Path, kind: PeriodKind, data: tuple[Records, Profile]
) -> None:
    """Every community's half-year and year-to-date numbers (people once per window, needs
    in the window of their earliest day, each respondent's latest answer in the window) are
    those of the independent reference."""
    records, profile = data
    expected = reference_compute(records, profile, period=kind.value)
    report = product(records, profile, kind)
    got = {
        (r.community, r.period, r.indicator): (r.numerator, r.denominator, r.sample_size)
        for r in report.results
        if r.level == "community"
    }
    assert got == {
        key: (want["numerator"], want["denominator"], want["sample_size"])
        for key, want in expected.items()
    }


@SETTINGS
@given(community_data(min_records=1))
def test_ytd_numerator_lies_between_its_largest_month_and_the_sum(
    in_tmp: Path, data: tuple[Records, Profile]
) -> None:
    records, profile = data
    months = numerators(records, profile, PeriodKind.MONTH)
    windows = numerators(records, profile, PeriodKind.YTD)
    assert windows
    for (community, label), numerator in windows.items():
        year, last = label.split("..")[1].split("-")
        inside = [
            count
            for (other, month), count in months.items()
            if other == community and month[:4] == year and month[5:] <= last
        ]
        assert max(inside, default=0) <= numerator <= sum(inside)
