"""Properties of the product on random community data (Hypothesis), against the reference.

(a) community rows equal ``reference_compute`` (month and quarter; CSV and YAML logs, which
    also give identical results); (b) the order of rows does not matter when no tie has to be
    broken by it; (c) roll-up and total rows pool their communities (spec 2.6); (d) a
    quarter's participation/benefit count lies between its largest month's and their sum.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import (
    parent_chain,
    reference_compute,
    reference_rollup,
    reference_total,
)
from strategies import Profile, Records, community_data, write_csv, write_profile, write_yaml

from svcmetrics.errors import InputError
from svcmetrics.periods import PeriodKind
from svcmetrics.pipeline import Options, run
from svcmetrics.report import Report, Result

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
KINDS = {"month": PeriodKind.MONTH, "quarter": PeriodKind.QUARTER}
DISTINCT_COUNTS = (
    "resident_participation",
    "unit_participation",
    "resident_benefit",
    "unit_benefit",
)

Key = tuple[str, str, str]


pytestmark = pytest.mark.usefixtures("in_tmp")
"""Run in an empty folder: no stray ./svcmetrics.yaml is picked up."""


def product(records: Records, profile: Profile, kind: PeriodKind, fmt: str = "csv") -> Report:
    """The product run on ``records`` written as a CSV or YAML log, with ``profile``."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        log = base / f"log.{fmt}"
        if fmt == "csv":
            write_csv(records, log)
        else:
            write_yaml(records, log)
        profile_path = write_profile(profile, base / "profile.yaml")
        return run(Options(logs=(str(log),), profile=profile_path, period=kind))


def value(result: Result) -> dict[str, Any]:
    """A product result in the reference's shape."""
    return {
        "numerator": result.numerator,
        "denominator": result.denominator,
        "rate": result.rate,
        "sample_size": result.sample_size,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        # the reference judges each row alone: flags from siblings or history are not its own
        "flags": sorted(set(result.flags) - {"rank_tied_ci", "outlier"}),
    }


def level(report: Report, name: str) -> dict[Key, dict[str, Any]]:
    table = {
        (r.community, r.period, r.indicator): value(r)
        for r in report.results
        if r.level == name and r.indicator != "reporting"  # 上报率: tests/test_completeness.py
    }
    assert len(table) == sum(
        1 for r in report.results if r.level == name and r.indicator != "reporting"
    )
    return table


def full(report: Report) -> list[tuple[Any, ...]]:
    """Every field of every result, in output order."""
    return [
        (
            r.level,
            r.community,
            r.community_name,
            r.parent,
            r.period,
            r.indicator,
            r.numerator,
            r.denominator,
            r.rate,
            r.sample_size,
            r.ci_low,
            r.ci_high,
            r.change,
            r.status,
            tuple(r.flags),
        )
        for r in report.results
    ]


def assert_same_value(got: dict[str, Any], want: dict[str, Any], where: object) -> None:
    assert got["numerator"] == want["numerator"], where
    assert got["denominator"] == want["denominator"], where
    assert got["rate"] == want["rate"], where
    assert got["sample_size"] == want["sample_size"], where
    for bound in ("ci_low", "ci_high"):
        if want[bound] is None:
            assert got[bound] is None, where
        else:
            assert got[bound] == pytest.approx(want[bound], abs=1e-12), where


# --------------------------------------------------------------------------- (a) and (d)


def quarter_of(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def check_quarters_against_months(months: Report, quarters: Report) -> None:
    """(d): a quarter counts distinct people over its months (spec 2.6)."""
    by_quarter: dict[tuple[str, str, str, str], list[Result]] = {}
    for r in months.results:
        key = (r.level, r.community, quarter_of(r.period), r.indicator)
        by_quarter.setdefault(key, []).append(r)
    checked = 0
    for q in quarters.results:
        parts = by_quarter[(q.level, q.community, q.period, q.indicator)]
        numerators = [r.numerator for r in parts]
        if q.indicator in DISTINCT_COUNTS:
            # at least the largest month's count, at most the sum of the months
            assert max(numerators) <= q.numerator <= sum(numerators), (q, numerators)
            checked += 1
        elif q.indicator == "need_satisfaction":
            # a need belongs to the one period of its earliest date: quarters add up months
            assert q.numerator == sum(numerators), q
            assert q.denominator == sum(r.denominator or 0 for r in parts), q
    assert checked > 0


@SETTINGS
@given(community_data(), st.sampled_from(sorted(KINDS)))
def test_month_and_quarter_match_reference(data: tuple[Records, Profile], yaml_period: str) -> None:
    """(a) community rows equal the reference for months and quarters; the same records as
    a YAML log give identical results (checked for one of the two periods per example, to
    keep the suite fast); (d) each quarter's counts are bounded by its months'."""
    records, profile = data
    reports: dict[str, Report] = {}
    for name, kind in KINDS.items():
        expected = reference_compute(records, profile, period=name)
        if not expected:  # no record at all: nothing to compute, exit 3
            for fmt in ("csv", "yaml"):
                with pytest.raises(InputError) as raised:
                    product(records, profile, kind, fmt)
                assert raised.value.exit_code == 3
            return
        from_csv = reports[name] = product(records, profile, kind, "csv")
        if name == yaml_period:
            # The same records as CSV or YAML: identical results, field by field.
            assert full(from_csv) == full(product(records, profile, kind, "yaml"))

        got = level(from_csv, "community")
        assert set(got) == set(expected)
        for key, want in expected.items():
            assert_same_value(got[key], want, (name, key))
            assert got[key]["flags"] == want["flags"], (name, key)
    check_quarters_against_months(reports["month"], reports["quarter"])


# --------------------------------------------------------------------------- (b)


def without_ties(records: Records) -> Records:
    """Drop the records whose order would break a tie: a second row of the same need
    (community, ticket) or respondent (community, party, id) on the same date."""
    seen: set[tuple[str, ...]] = set()
    kept: Records = []
    for record in records:
        key: tuple[str, ...] | None = None
        if record["event"] == "need" and record["ticket"]:
            key = ("need", record["community"], record["ticket"], record["date"])
        elif record["event"] == "survey":
            key = (
                "survey",
                record["community"],
                record["party"],
                record["id"],
                record["date"],
            )
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        kept.append(record)
    return kept


@settings(SETTINGS, max_examples=30)
@given(community_data(min_records=1), st.sampled_from(sorted(KINDS)), st.data())
def test_row_order_does_not_matter_without_ties(
    data: tuple[Records, Profile], period: str, draw: st.DataObject
) -> None:
    records, profile = data
    records = without_ties(records)
    shuffled = draw.draw(st.permutations(records), label="shuffled")
    kind = KINDS[period]
    assert full(product(records, profile, kind)) == full(product(shuffled, profile, kind))


def _tie_record(
    day: str, event: str, status: str, ticket: str = "", person: str = ""
) -> dict[str, str]:
    return {
        "date": day,
        "community": "c1",
        "event": event,
        "party": "resident",
        "id": person,
        "household": "",
        "status": status,
        "ticket": ticket,
        "service": "",
    }


def test_without_ties_keeps_one_row_per_tie() -> None:
    records = [
        _tie_record("2026-03-01", "need", "met", ticket="T1"),
        _tie_record("2026-03-01", "need", "unmet", ticket="T1"),  # tie with the first: dropped
        _tie_record("2026-03-01", "need", "unmet"),  # ticketless needs never tie
        _tie_record("2026-03-01", "need", "met"),
        _tie_record("2026-03-01", "survey", "满意", person="r1"),
        _tie_record("2026-03-01", "survey", "4", person="r1"),  # tie: dropped
        _tie_record("2026-03-02", "survey", "3", person="r1"),  # another date: kept
    ]
    assert without_ties(records) == [records[i] for i in (0, 2, 3, 4, 6)]


# --------------------------------------------------------------------------- (c)


@SETTINGS
@given(community_data(min_records=1), st.sampled_from(("month", "quarter", "year", "all")))
def test_rollups_pool_their_communities(data: tuple[Records, Profile], period: str) -> None:
    records, profile = data
    report = product(records, profile, PeriodKind(period))
    communities = level(report, "community")

    rollups = level(report, "rollup")
    expected = reference_rollup(communities, profile)
    assert set(rollups) == set(expected)
    for key, want in expected.items():
        got = rollups[key]
        assert_same_value(got, want, key)
        assert [f for f in got["flags"] if f != "no_records"] == want["flags"], key
        if "no_records" in got["flags"]:  # only when none of its communities has a record
            members = [
                v
                for (c, p, i), v in communities.items()
                if p == key[1] and i == key[2] and key[0] in parent_chain(c, profile)
            ]
            assert all("no_records" in v["flags"] for v in members), key

    totals = level(report, "total")
    if len(profile["communities"]) == 1:
        assert totals == {}  # a grand total only with more than one community
        return
    expected_total = reference_total(communities)
    assert set(totals) == {("*", p, i) for p, i in expected_total}
    for (label, indicator), want in expected_total.items():
        got = totals[("*", label, indicator)]
        assert_same_value(got, want, (label, indicator))
        assert [f for f in got["flags"] if f != "no_records"] == want["flags"], (label, indicator)
