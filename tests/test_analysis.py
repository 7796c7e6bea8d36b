"""Analysis: survey intervals, user-defined indicators, breakdowns, roll-up levels, explain."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest
from statsmodels.stats.proportion import proportion_confint

from svcmetrics.cli import main
from svcmetrics.pipeline import Options, run
from svcmetrics.stats import wilson_interval

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize(
    ("successes", "n"),
    [(0, 1), (1, 1), (2, 3), (0, 30), (15, 30), (29, 30), (30, 30), (412, 984), (1, 1000)],
)
def test_wilson_equals_statsmodels(successes: int, n: int) -> None:
    low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")
    found = wilson_interval(successes, n)
    assert found is not None
    assert found[0] == pytest.approx(low, abs=1e-6)
    assert found[1] == pytest.approx(high, abs=1e-6)


@pytest.mark.parametrize("n", [3, 6, 7, 10, 12, 13, 25, 300])
def test_wilson_at_none_and_all_is_exactly_zero_and_one(n: int) -> None:
    """0/n and n/n: the bound is exactly 0 or 1, not float noise beside it (5.55e-17 for
    0/3 left the rate 0 outside its own interval)."""
    none, everyone = wilson_interval(0, n), wilson_interval(n, n)
    assert none is not None and everyone is not None
    assert none[0] == 0.0 and 0.0 < none[1] < 1.0
    assert everyone[1] == 1.0 and 0.0 < everyone[0] < 1.0


def test_every_wilson_interval_holds_its_rate() -> None:
    for n in range(1, 200):
        for successes in range(n + 1):
            interval = wilson_interval(successes, n)
            assert interval is not None
            assert interval[0] <= successes / n <= interval[1], (successes, n)


def test_wilson_of_no_sample_is_undefined() -> None:
    assert wilson_interval(0, 0) is None


def test_every_survey_interval_comes_from_its_own_pooled_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    report = run(Options(config=EXAMPLES / "svcmetrics.yaml"))
    survey = [r for r in report.results if r.sample_size]
    assert {r.level for r in survey} == {"community", "rollup", "total"}
    for result in survey:
        low, high = proportion_confint(result.numerator, result.sample_size, method="wilson")
        assert (result.ci_low, result.ci_high) == (pytest.approx(low), pytest.approx(high))
        assert "small_sample" in result.flags  # every survey of the example has < 30 answers


def test_roll_up_levels_chain_to_the_district(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    report = run(Options(config=EXAMPLES / "svcmetrics.yaml", month="2026-11"))
    levels = {(r.level, r.community, r.parent) for r in report.results}
    assert ("rollup", "daoli-street", "daoli-district") in levels
    assert ("rollup", "daoli-district", None) in levels
    assert ("total", "*", None) in levels
    by = {(r.community, r.indicator): r for r in report.results}
    for indicator in ("need_satisfaction", "resident_benefit", "resident_participation"):
        street, district = by[("daoli-street", indicator)], by[("daoli-district", indicator)]
        children = [by[(c, indicator)] for c in ("jianguo", "gongle")]
        assert street.numerator == sum(c.numerator for c in children)
        assert street.denominator == sum(c.denominator or 0 for c in children)
        assert (district.numerator, district.denominator) == (street.numerator, street.denominator)


def test_health_centre_indicators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLES)
    report = run(Options(config=Path("health/svcmetrics.yaml")))
    by = {(r.community, r.indicator): r for r in report.results}
    # xinyang: E1..E9 checked (E3 twice) of 10 aged 65+; hexing: H1..H6 of 8
    checkup = by[("xinyang", "elderly_checkup")]
    assert (checkup.numerator, checkup.denominator, checkup.status) == (9, 10, "ok")
    # pace: true, so the annual 85% is 85% × 334/365 = 77.78% at the end of November
    # (critical 70% × 334/365 = 64.05%)
    hexing = by[("hexing", "elderly_checkup")]
    assert (hexing.numerator, hexing.denominator, hexing.status) == (6, 8, "warn")  # 75%
    assert hexing.target_level == pytest.approx(0.85 * 334 / 365)
    assert hexing.limit == pytest.approx(0.7778, abs=1e-4)
    centre = by[("xinyang-chc", "elderly_checkup")]
    assert (centre.numerator, centre.denominator) == (15, 18)
    assert centre.status == "ok"  # 83.3% is short of 85% but ahead of 77.8%
    # records: 22 of 24 in xinyang (R5 twice), 18 of 20 in hexing: exactly 90% is not a breach
    records = by[("hexing", "health_records")]
    assert (records.numerator, records.denominator, records.status) == (18, 20, "ok")
    # the built-ins have no denominators in this profile: undefined, not zero
    participation = by[("xinyang", "resident_participation")]
    assert (participation.denominator, participation.rate, participation.status) == (
        None,
        None,
        "n/a",
    )


def _hand_count_by_service(month: str) -> dict[tuple[str, str], int]:
    """Distinct resident volunteers per (community, service) in a month of the example."""
    people: dict[tuple[str, str], set[str]] = defaultdict(set)
    with open(EXAMPLES / "log.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["date"].startswith(month) and (row["event"], row["party"]) == (
                "participate",
                "resident",
            ):
                people[(row["community"], row["service"])].add(row["id"])
    return {key: len(ids) for key, ids in people.items()}


def test_by_service_numerators_equal_a_hand_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    report = run(Options(config=EXAMPLES / "svcmetrics.yaml", month="2026-10", by="service"))
    found = {
        (r.community, r.breakdown): r.numerator
        for r in report.results
        if r.level == "community" and r.indicator == "resident_participation" and r.numerator
    }
    assert found == _hand_count_by_service("2026-10")
    assert all(r.status in (None, "n/a") for r in report.results)  # no targets per service
    whole = run(Options(config=EXAMPLES / "svcmetrics.yaml", month="2026-10"))
    for community in ("jianguo", "gongle"):
        total = next(
            r.numerator
            for r in whole.results
            if (r.community, r.indicator) == (community, "resident_participation")
        )
        parts = [n for (c, _), n in found.items() if c == community]
        assert max(parts) <= total <= sum(parts)  # distinct people: a person may serve twice


def test_by_category_in_csv(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit):
        main(
            [
                "compute",
                "--config",
                "examples/svcmetrics.yaml",
                "--by",
                "category",
                "--format",
                "csv",
            ]
        )
    out = capsys.readouterr().out
    header = out.splitlines()[0].split(",")
    assert header.index("category") == header.index("indicator_name") + 1
    categories = {row["category"] for row in csv.DictReader(out.splitlines())}
    assert {"special", "general", "unit"} <= categories


def test_explain_covers_user_defined_indicators(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(EXAMPLES)
    with pytest.raises(SystemExit) as exited:
        main(["explain", "elderly_checkup", "--config", "health/svcmetrics.yaml", "--lang", "zh"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "65岁以上老人体检完成率" in out
    assert "checkup" in out and "residents_65plus" in out and "目标 85%" in out
    with pytest.raises(SystemExit):
        main(["explain", "elderly_checkup", "--config", "health/svcmetrics.yaml", "--lang", "en"])
    out = capsys.readouterr().out
    assert "distinct id among resident checkup rows" in out
