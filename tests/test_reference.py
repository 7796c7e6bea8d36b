"""The reference implementation (tests/reference.py) checked against the worked example and a
few hand-made cases, plus sanity properties of the Hypothesis strategies (tests/strategies.py).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from clihelp import WORKED, markdown_rows
from hypothesis import given, settings
from reference import (
    INDICATORS,
    classify_answer,
    reference_compute,
    reference_rollup,
    reference_total,
    span_labels,
    wilson,
)
from strategies import community_data, read_csv, write_csv, write_profile, write_yaml

# Flags of the community table: those expected.md names, everything else has none.
EXPECTED_FLAGS: dict[tuple[str, str, str], list[str]] = {
    ("jianguo", "2026-10", "resident_satisfaction"): ["small_sample"],
    ("jianguo", "2026-10", "unit_satisfaction"): ["small_sample"],
    ("gongle", "2026-10", "resident_participation"): ["numerator_above_denominator"],
    **{("gongle", "2026-11", indicator): ["no_records"] for indicator in INDICATORS},
}
FLAG_NAMES = ("no_records", "small_sample", "numerator_above_denominator", "partial_rollup")


# --------------------------------------------------------------------------- helpers


def _rec(day: str, community: str, event: str, party: str, **fields: str) -> dict[str, str]:
    record = {
        "date": day,
        "community": community,
        "event": event,
        "party": party,
        "id": "",
        "household": "",
        "status": "",
        "ticket": "",
        "service": "",
    }
    record.update(fields)
    return record


def _profile(*communities: dict[str, Any]) -> dict[str, Any]:
    return {"communities": list(communities)}


def _community(cid: str, parent: str = "p", **counts: int | None) -> dict[str, Any]:
    community: dict[str, Any] = {"id": cid, "parent": parent}
    for field in ("residents", "residents_capable", "households", "units"):
        community[field] = counts.get(field, 10)
        if community[field] is None:
            del community[field]
    return community


def _rate(text: str) -> float | None:
    return None if text == "undefined" else float(text)


def _check(value: dict[str, Any], num: str, den: str, rate: str, why: str) -> None:
    assert value["numerator"] == int(num)
    assert value["denominator"] == int(den)
    expected_rate = _rate(rate)
    if expected_rate is None:
        assert value["rate"] is None
    else:
        assert value["rate"] is not None
        assert round(value["rate"], 4) == expected_rate
    sample = re.search(r"sample_size (\d+)", why)
    if sample:
        assert value["sample_size"] == int(sample.group(1))
    interval = re.search(r"Wilson \[([\d.]+), ([\d.]+)\]", why)
    if interval:
        assert round(value["ci_low"], 4) == float(interval.group(1))
        assert round(value["ci_high"], 4) == float(interval.group(2))


@pytest.fixture(scope="module")
def worked() -> tuple[dict[str, Any], str, dict[Any, dict[str, Any]]]:
    records = read_csv(WORKED / "log.csv")
    profile = yaml.safe_load((WORKED / "profile.yaml").read_text(encoding="utf-8"))
    expected = (WORKED / "expected.md").read_text(encoding="utf-8")
    return profile, expected, reference_compute(records, profile)


# --------------------------------------------------------------------------- worked example


def test_worked_example_communities(
    worked: tuple[dict[str, Any], str, dict[Any, dict[str, Any]]],
) -> None:
    _profile_, expected, results = worked
    rows = markdown_rows(expected, "## Communities")
    assert len(rows) == 28
    seen = set()
    for community, period, indicator, num, den, rate, why in rows:
        key = (community, period, indicator)
        seen.add(key)
        value = results[key]
        _check(value, num, den, rate, why)
        assert value["flags"] == EXPECTED_FLAGS.get(key, []), key
        for flag in FLAG_NAMES:
            if flag in why:
                assert flag in value["flags"], key
        if indicator.endswith("_satisfaction") and indicator != "need_satisfaction":
            assert value["sample_size"] == value["denominator"]
        else:
            assert value["sample_size"] is None
    # Exactly the rows of expected.md: every community for every period of the span.
    assert seen == set(results)


def test_worked_example_rollup_and_total(
    worked: tuple[dict[str, Any], str, dict[Any, dict[str, Any]]],
) -> None:
    profile, expected, results = worked
    rows = markdown_rows(expected, "## Roll-up")
    assert len(rows) == 14
    rollup = reference_rollup(results, profile)
    total = reference_total(results)
    assert {key[0] for key in rollup} == {"daoli"}
    assert len(rollup) == len(total) == 14
    for period, indicator, num, den, rate, why in rows:
        for value in (rollup[("daoli", period, indicator)], total[(period, indicator)]):
            _check(value, num, den, rate, why)
            assert "partial_rollup" not in value["flags"]


def test_worked_example_span() -> None:
    from datetime import date

    assert span_labels(date(2026, 10, 3), date(2026, 11, 8), "month") == ["2026-10", "2026-11"]


# --------------------------------------------------------------------------- hand-made cases


def test_ticket_updated_across_two_months() -> None:
    profile = _profile(_community("c1"), _community("c2"))
    records = [
        _rec("2026-01-31", "c1", "need", "resident", id="r1", status="pending", ticket="T1"),
        _rec("2026-02-02", "c1", "need", "resident", id="r1", status="met", ticket="T1"),
        _rec("2026-02-03", "c1", "need", "resident", status="unmet"),  # no ticket: own need
        _rec("2026-02-05", "c2", "need", "unit", id="u1", status="met", ticket="T1"),  # c2's T1
    ]
    month = reference_compute(records, profile)
    assert month[("c1", "2026-01", "need_satisfaction")]["numerator"] == 1
    assert month[("c1", "2026-01", "need_satisfaction")]["denominator"] == 1
    assert month[("c1", "2026-02", "need_satisfaction")]["numerator"] == 0
    assert month[("c1", "2026-02", "need_satisfaction")]["denominator"] == 1
    assert month[("c2", "2026-01", "need_satisfaction")]["denominator"] == 0
    assert month[("c2", "2026-01", "need_satisfaction")]["rate"] is None
    assert month[("c2", "2026-01", "need_satisfaction")]["flags"] == ["no_records"]
    assert month[("c2", "2026-02", "need_satisfaction")]["rate"] == 1.0
    # The update alone makes February not empty for c1 (it is a record of c1).
    assert month[("c1", "2026-02", "resident_participation")]["flags"] == []

    # Read only up to January (as --as-of would): T1 is still pending.
    early = reference_compute(records[:1], profile)
    assert early[("c1", "2026-01", "need_satisfaction")]["numerator"] == 0

    quarter = reference_compute(records, profile, period="quarter")
    value = quarter[("c1", "2026-Q1", "need_satisfaction")]
    assert (value["numerator"], value["denominator"]) == (1, 2)


def test_need_same_day_tie_uses_input_order() -> None:
    profile = _profile(_community("c1"))
    first = _rec("2026-03-01", "c1", "need", "resident", status="met", ticket="T9")
    second = _rec("2026-03-01", "c1", "need", "resident", status="unmet", ticket="T9")
    assert (
        reference_compute([first, second], profile)[("c1", "2026-03", "need_satisfaction")][
            "numerator"
        ]
        == 0
    )
    assert (
        reference_compute([second, first], profile)[("c1", "2026-03", "need_satisfaction")][
            "numerator"
        ]
        == 1
    )


def test_respondent_answering_twice_same_date() -> None:
    profile = _profile(_community("c1"))
    happy = _rec("2026-05-10", "c1", "survey", "resident", id="r1", status="满意")
    unhappy = _rec("2026-05-10", "c1", "survey", "resident", id="r1", status="不满意")
    key = ("c1", "2026-05", "resident_satisfaction")

    value = reference_compute([happy, unhappy], profile)[key]
    assert (value["numerator"], value["denominator"], value["sample_size"]) == (0, 1, 1)
    assert value["flags"] == ["small_sample"]

    value = reference_compute([unhappy, happy], profile)[key]
    assert (value["numerator"], value["denominator"], value["rate"]) == (1, 1, 1.0)

    # A later date wins over input order.
    earlier = _rec("2026-05-01", "c1", "survey", "resident", id="r1", status="不满意")
    value = reference_compute([happy, earlier], profile)[key]
    assert value["numerator"] == 1


def test_excluded_answers_dropped_before_latest() -> None:
    profile = _profile(_community("c1"))
    records = [
        _rec("2026-05-01", "c1", "survey", "resident", id="r1", status="4"),
        _rec("2026-05-09", "c1", "survey", "resident", id="r1", status="不清楚"),
        _rec("2026-05-02", "c1", "survey", "resident", id="r2", status="9"),
        _rec("2026-05-03", "c1", "survey", "resident", id="r3", status=""),
        _rec("2026-05-04", "c1", "survey", "resident", id="r4", status="4.0"),
        _rec("2026-05-05", "c1", "survey", "unit", id="u1", status="dissatisfied"),
    ]
    results = reference_compute(records, profile, min_sample=2)
    resident = results[("c1", "2026-05", "resident_satisfaction")]
    assert (resident["numerator"], resident["denominator"]) == (2, 2)
    assert resident["flags"] == []  # 2 respondents, min_sample 2
    unit = results[("c1", "2026-05", "unit_satisfaction")]
    assert (unit["numerator"], unit["denominator"], unit["rate"]) == (0, 1, 0.0)


def test_classify_answer_defaults() -> None:
    assert classify_answer(" 非常满意 ") == "satisfied"
    assert classify_answer("Very Satisfied") == "satisfied"
    assert classify_answer("基本满意") == "not_satisfied"
    assert classify_answer("3.0") == "not_satisfied"
    assert classify_answer("5") == classify_answer("5.00") == "satisfied"
    assert classify_answer("0") == classify_answer("99") == "excluded"
    assert classify_answer("don't know") == classify_answer("") == "excluded"
    for typo in ("满易", "4.5", "yes"):
        with pytest.raises(ValueError):
            classify_answer(typo)


def test_distinct_over_quarter_not_sum_of_months() -> None:
    profile = _profile(_community("c1", residents_capable=10))
    records = [
        _rec("2026-01-05", "c1", "participate", "resident", id="r1"),
        _rec("2026-02-05", "c1", "participate", "resident", id="r1"),
        _rec("2026-03-05", "c1", "participate", "resident", id="r2"),
        _rec("2026-03-06", "c1", "benefit", "resident", id="r3", household="h1"),
        _rec("2026-03-07", "c1", "benefit", "resident", id="r4", household="h1"),
    ]
    quarter = reference_compute(records, profile, period="quarter")
    assert quarter[("c1", "2026-Q1", "resident_participation")]["numerator"] == 2
    assert quarter[("c1", "2026-Q1", "resident_benefit")]["numerator"] == 1
    year = reference_compute(records, profile, period="year")
    assert set(year) == {("c1", "2026", indicator) for indicator in INDICATORS}


def test_unknown_denominator_and_partial_rollup() -> None:
    profile = _profile(
        _community("c1", households=None, residents_capable=0),
        _community("c2", households=4),
    )
    records = [
        _rec("2026-06-01", "c1", "benefit", "resident", id="r1", household="h1"),
        _rec("2026-06-01", "c1", "participate", "resident", id="r1"),
        _rec("2026-06-02", "c2", "benefit", "resident", id="r1", household="h1"),
    ]
    results = reference_compute(records, profile)
    c1 = results[("c1", "2026-06", "resident_benefit")]
    assert (c1["numerator"], c1["denominator"], c1["rate"], c1["flags"]) == (1, None, None, [])
    zero = results[("c1", "2026-06", "resident_participation")]
    assert (zero["rate"], zero["flags"]) == (None, ["numerator_above_denominator"])

    rolled = reference_rollup(results, profile)[("p", "2026-06", "resident_benefit")]
    assert (rolled["numerator"], rolled["denominator"], rolled["rate"]) == (1, 4, 0.25)
    assert rolled["flags"] == ["partial_rollup"]
    participation = reference_rollup(results, profile)[("p", "2026-06", "resident_participation")]
    assert (participation["numerator"], participation["denominator"]) == (1, 10)


def test_rollup_through_parent_chain() -> None:
    profile = {
        "communities": [_community("c1", parent="s1"), _community("c2", parent="s2")],
        "parents": [{"id": "s1", "parent": "d"}, {"id": "s2", "parent": "d"}, {"id": "d"}],
    }
    records = [
        _rec("2026-06-01", "c1", "participate", "resident", id="r1"),
        _rec("2026-06-01", "c2", "participate", "resident", id="r1"),
        _rec("2026-06-03", "c2", "participate", "resident", id="r2"),
    ]
    rolled = reference_rollup(reference_compute(records, profile), profile)
    assert {key[0] for key in rolled} == {"s1", "s2", "d"}
    district = rolled[("d", "2026-06", "resident_participation")]
    assert (district["numerator"], district["denominator"]) == (3, 20)


def test_dated_denominator() -> None:
    community = _community("c1")
    community["households"] = [
        {"as_of": "2026-07-01", "value": 20},
        {"as_of": "2026-03-01", "value": 10},
    ]
    records = [
        _rec("2026-02-01", "c1", "benefit", "resident", id="r1", household="h1"),
        _rec("2026-06-30", "c1", "benefit", "resident", id="r1", household="h1"),
        _rec("2026-07-02", "c1", "benefit", "resident", id="r1", household="h1"),
    ]
    results = reference_compute(records, _profile(community))
    assert results[("c1", "2026-02", "resident_benefit")]["denominator"] == 10  # earliest
    assert results[("c1", "2026-06", "resident_benefit")]["denominator"] == 10
    assert results[("c1", "2026-07", "resident_benefit")]["denominator"] == 20
    quarter = reference_compute(records, _profile(community), period="quarter")
    assert quarter[("c1", "2026-Q2", "resident_benefit")]["denominator"] == 10
    assert quarter[("c1", "2026-Q3", "resident_benefit")]["denominator"] == 20


def test_invalid_rows_raise() -> None:
    profile = _profile(_community("c1"))
    bad = [
        _rec("2026-01-01", "c9", "participate", "resident", id="r1"),
        _rec("2026-01-01", "c1", "benefit", "resident", id="r1"),
        _rec("2026-01-01", "c1", "need", "resident", status="done"),
        _rec("2026-01-01", "c1", "survey", "resident", id="r1", status="满易"),
        _rec("2026-01-01", "c1", "participate", "resident"),
    ]
    for record in bad:
        with pytest.raises(ValueError):
            reference_compute([record], profile)
    assert reference_compute([], profile) == {}


def test_wilson_known_values() -> None:
    low, high = wilson(2, 3)
    assert (round(low or 0, 4), round(high or 0, 4)) == (0.2077, 0.9385)
    assert wilson(0, 0) == (None, None)


# --------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(community_data())
def test_generated_data_is_complete_and_consistent(
    data: tuple[list[dict[str, str]], dict[str, Any]],
) -> None:
    records, profile = data
    results = reference_compute(records, profile)
    if not records:
        assert results == {}
        return
    ids = [community["id"] for community in profile["communities"]]
    periods = sorted({key[1] for key in results})
    assert len(results) == len(ids) * len(periods) * len(INDICATORS)
    for (_cid, _period, indicator), value in results.items():
        assert value["flags"] == sorted(value["flags"])
        if indicator in ("need_satisfaction", "resident_satisfaction", "unit_satisfaction"):
            assert 0 <= value["numerator"] <= value["denominator"]
        if value["denominator"]:
            assert value["rate"] == value["numerator"] / value["denominator"]
        else:
            assert value["rate"] is None

    quarters = reference_compute(records, profile, period="quarter")
    for (cid, quarter, indicator), value in quarters.items():
        months = [
            v
            for (c, month, i), v in results.items()
            if c == cid
            and i == indicator
            and f"{month[:4]}-Q{(int(month[5:]) - 1) // 3 + 1}" == quarter
        ]
        nums = [v["numerator"] for v in months]
        if indicator.endswith(("participation", "benefit")):
            assert max(nums) <= value["numerator"] <= sum(nums)
        if indicator == "need_satisfaction":
            assert value["numerator"] == sum(nums)
            assert value["denominator"] == sum(v["denominator"] for v in months)

    rolled = reference_rollup(results, profile)
    for (parent, period, indicator), value in rolled.items():
        children = [
            results[(c["id"], period, indicator)]
            for c in profile["communities"]
            if c.get("parent") == parent
        ]
        known = [v for v in children if v["denominator"] is not None]
        assert value["numerator"] == sum(v["numerator"] for v in known)
        assert ("partial_rollup" in value["flags"]) == (len(known) < len(children))


@settings(max_examples=40, deadline=None)
@given(community_data())
def test_writers_round_trip(data: tuple[list[dict[str, str]], dict[str, Any]]) -> None:
    records, profile = data
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        assert read_csv(write_csv(records, base / "log.csv")) == records
        loaded = yaml.safe_load(write_yaml(records, base / "log.yaml").read_text("utf-8"))
        assert loaded == records
        assert all(isinstance(v, str) for record in loaded for v in record.values())
        written = yaml.safe_load(write_profile(profile, base / "profile.yaml").read_text("utf-8"))
        assert written == profile
