"""序时进度 (spec 2.8): annual targets scaled by the elapsed share of the year; target_level."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from clihelp import run_in

from svcmetrics.indicators import builtin_indicators
from svcmetrics.judge import Status
from svcmetrics.models import Levels, Threshold
from svcmetrics.pace import apply_targets, elapsed_share
from svcmetrics.periods import Period, PeriodKind, span
from svcmetrics.report import Result
from svcmetrics.units import Level, Unit

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize(
    ("day", "share"),
    [
        (dt.date(2026, 1, 31), 31 / 365),
        (dt.date(2026, 6, 30), 181 / 365),  # the spec's example
        (dt.date(2024, 6, 30), 182 / 366),  # a leap year: 29 February is in, and 366 days
        (dt.date(2024, 2, 29), 60 / 366),
        (dt.date(2024, 3, 31), 91 / 366),  # 2024-Q1
        (dt.date(2026, 12, 31), 1.0),
    ],
)
def test_elapsed_share_of_the_year(day: dt.date, share: float) -> None:
    assert elapsed_share(day) == pytest.approx(share)


def _indicator(threshold: Threshold) -> object:
    base = builtin_indicators()[0]
    return base.__class__(**{**base.__dict__, "threshold": threshold})


def _result(numerator: int, denominator: int, period: str, community: str = "a") -> Result:
    return Result(
        level=Level.COMMUNITY,
        community=community,
        community_name=None,
        parent="s",
        period=period,
        indicator="resident_participation",
        breakdown=None,
        numerator=numerator,
        denominator=denominator,
    )


UNITS = [
    Unit(Level.COMMUNITY, "a", None, "s", ("a",)),
    Unit(Level.COMMUNITY, "b", None, "s", ("b",)),
    Unit(Level.ROLLUP, "s", None, None, ("a", "b")),
]


def _judged(rate: tuple[int, int], month: str, threshold: Threshold) -> Result:
    year, number = (int(part) for part in month.split("-"))
    periods = span(PeriodKind.MONTH, dt.date(year, number, 1), dt.date(year, number, 1))
    indicator = _indicator(threshold)
    (found,) = apply_targets(
        [_result(*rate, month)],
        [indicator],  # type: ignore[list-item]
        periods,
        PeriodKind.MONTH,
        UNITS,
    )
    return found


def test_june_is_judged_against_the_share_of_the_year() -> None:
    annual = Threshold(warn=0.85, critical=0.30, pace=True)
    # June 2026: warn 0.85 × 181/365 = 0.42151, critical 0.30 × 181/365 = 0.14877
    ahead = _judged((45, 100), "2026-06", annual)
    assert (ahead.status, ahead.target_level) == (Status.OK, pytest.approx(0.85 * 181 / 365))
    behind = _judged((40, 100), "2026-06", annual)
    assert (behind.status, behind.limit) == (Status.WARN, pytest.approx(0.42151, abs=1e-5))
    far_behind = _judged((14, 100), "2026-06", annual)
    assert far_behind.status is Status.CRITICAL
    # without pace the level in force is 85% itself; the status stays build_results' own
    plain = _judged((45, 100), "2026-06", Threshold(warn=0.85, critical=0.30))
    assert (plain.status, plain.target_level) == (None, 0.85)


def test_a_leap_year_has_366_days() -> None:
    annual = Threshold(warn=0.85, pace=True)
    # 42.22%: above 0.85 × 181/365 = 0.42151 in 2026, below 0.85 × 182/366 = 0.42268 in 2024
    assert _judged((4222, 10000), "2026-06", annual).status is Status.OK
    leap = _judged((4222, 10000), "2024-06", annual)
    assert leap.status is Status.WARN
    assert leap.target_level == pytest.approx(0.85 * 182 / 366)


def test_overrides_are_paced_too_and_all_is_not() -> None:
    annual = Threshold(warn=0.85, pace=True, communities={"s": Levels(warn=0.6)})
    # the parent's override, through the ancestor chain: 0.6 × 31/365 = 0.05096
    january = _judged((5, 100), "2026-01", annual)
    assert january.target_level == pytest.approx(0.6 * 31 / 365)
    assert january.status is Status.WARN
    whole = Period(
        "2026-01-01..2026-06-30", dt.date(2026, 1, 1), dt.date(2026, 6, 30), dt.date(2026, 6, 30)
    )
    (found,) = apply_targets(
        [_result(45, 100, whole.label, community="b")],
        [_indicator(annual)],  # type: ignore[list-item]
        [whole],
        PeriodKind.ALL,
        UNITS,
    )
    assert found.target_level == pytest.approx(0.6)


def test_no_threshold_no_target_level() -> None:
    indicator = builtin_indicators()[0]
    periods = span(PeriodKind.MONTH, dt.date(2026, 6, 1), dt.date(2026, 6, 1))
    (found,) = apply_targets(
        [_result(1, 2, "2026-06")], [indicator], periods, PeriodKind.MONTH, UNITS
    )
    assert found.target_level is None


def test_health_example_quarter_is_the_whole_year() -> None:
    """2026-Q4 ends on 31 December: the annual 85% itself, so the centre's 83.3% is warn
    (it is ok in November's monthly report, against 77.8%)."""
    done = run_in(
        EXAMPLES,
        [
            "compute",
            "--config",
            "health/svcmetrics.yaml",
            "--period",
            "quarter",
            "--indicators",
            "elderly_checkup",
            "--format",
            "json",
        ],
    )
    assert done.returncode == 0, done.stderr
    rows = {r["community"]: r for r in json.loads(done.stdout)["results"]}
    assert rows["xinyang-chc"]["period"] == "2026-Q4"
    assert (rows["xinyang-chc"]["target_level"], rows["xinyang-chc"]["status"]) == (0.85, "warn")
    monthly = run_in(
        EXAMPLES,
        [
            "compute",
            "--config",
            "health/svcmetrics.yaml",
            "--indicators",
            "elderly_checkup",
            "--format",
            "json",
        ],
    )
    rows = {r["community"]: r for r in json.loads(monthly.stdout)["results"]}
    assert rows["xinyang-chc"]["target_level"] == pytest.approx(0.85 * 334 / 365)
    assert rows["xinyang-chc"]["status"] == "ok"
    assert rows["hexing"]["status"] == "warn"
