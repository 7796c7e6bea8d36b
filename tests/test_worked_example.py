"""The worked example (tests/data/worked-example) through the product, number by number.

Every community row and every roll-up row of ``expected.md`` is compared with what
``svcmetrics`` computes from ``log.csv`` and ``profile.yaml``: through the Python API
(``pipeline.run``) and through the command line's ``--format csv`` and ``--format json``.
The expected values are parsed from ``expected.md`` itself, so the test follows the document.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clihelp import WORKED, markdown_rows, run_cli
from reference import wilson

from svcmetrics.periods import PeriodKind
from svcmetrics.pipeline import Options, run

SURVEY = ("resident_satisfaction", "unit_satisfaction")
NAMED_FLAGS = ("small_sample", "numerator_above_denominator", "no_records")
"""The flags expected.md names (in its ``why`` column); none other applies to a community."""


@dataclass(frozen=True)
class Expected:
    """One row of expected.md."""

    level: str
    community: str
    period: str
    indicator: str
    numerator: int
    denominator: int
    rate: str  # "0.2000" or "undefined"
    why: str
    flags: frozenset[str]

    @property
    def sample_size(self) -> int | None:
        found = re.search(r"sample_size (\d+)", self.why)
        return int(found.group(1)) if found else None

    @property
    def interval(self) -> tuple[str, str] | None:
        found = re.search(r"Wilson \[([\d.]+), ([\d.]+)\]", self.why)
        return (found.group(1), found.group(2)) if found else None


@dataclass(frozen=True)
class Row:
    """One result of the product, from any of the three outputs, in plain values."""

    level: str
    community: str
    period: str
    indicator: str
    numerator: int
    denominator: int | None
    rate: float | None
    sample_size: int | None
    ci_low: float | None
    ci_high: float | None
    status: str | None
    flags: frozenset[str]


# --------------------------------------------------------------------------- expected.md


def _named_flags(why: str) -> set[str]:
    return {flag for flag in NAMED_FLAGS if flag in why}


def parse_expected(text: str) -> tuple[list[Expected], list[Expected]]:
    """(community rows, roll-up rows) of expected.md."""
    community_cells = markdown_rows(text, "## Communities")
    # A note like "every row of gongle 2026-11 is flagged no_records" covers the whole group.
    group_flags: dict[tuple[str, str], set[str]] = {}
    for community, period, _indicator, *_rest, why in community_cells:
        note = re.search(rf"every row of {re.escape(community)} {period} is flagged (\w+)", why)
        if note:
            group_flags.setdefault((community, period), set()).add(note.group(1))
    communities = [
        Expected(
            "community",
            community,
            period,
            indicator,
            int(num),
            int(den),
            rate,
            why,
            frozenset(_named_flags(why) | group_flags.get((community, period), set())),
        )
        for community, period, indicator, num, den, rate, why in community_cells
    ]
    rollup_heading = re.search(r"`(\w+)` \(level `rollup`\)", text)
    assert rollup_heading, "expected.md names the roll-up level"
    parent = rollup_heading.group(1)
    rollups = [
        Expected(
            "rollup",
            parent,
            period,
            indicator,
            int(num),
            int(den),
            rate,
            why,
            frozenset(_named_flags(why)),
        )
        for period, indicator, num, den, rate, why in markdown_rows(text, "## Roll-up")
    ]
    return communities, rollups


# --------------------------------------------------------------------------- product outputs


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def _flag_set(value: Any) -> frozenset[str]:
    if value is None or value == "":
        return frozenset()
    if isinstance(value, list):
        return frozenset(value)
    return frozenset(flag for flag in str(value).split(";") if flag)


def _row(record: dict[str, Any]) -> Row:
    return Row(
        level=record["level"],
        community=record["community"],
        period=record["period"],
        indicator=record["indicator"],
        numerator=int(record["numerator"]),
        denominator=_int(record["denominator"]),
        rate=_float(record["rate"]),
        sample_size=_int(record["sample_size"]),
        ci_low=_float(record["ci_low"]),
        ci_high=_float(record["ci_high"]),
        status=record["status"] or None,
        flags=_flag_set(record["flags"]),
    )


def _options() -> Options:
    return Options(
        logs=(str(WORKED / "log.csv"),),
        profile=WORKED / "profile.yaml",
        period=PeriodKind.MONTH,
    )


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    return out


def _cli_args(fmt: str) -> list[str]:
    return [
        "compute",
        str(WORKED / "log.csv"),
        "--profile",
        str(WORKED / "profile.yaml"),
        "--format",
        fmt,
        "--lang",
        "en",
    ]


@pytest.fixture(scope="module")
def expected() -> tuple[list[Expected], list[Expected]]:
    return parse_expected((WORKED / "expected.md").read_text(encoding="utf-8"))


def _api_rows() -> list[Row]:
    report = run(_options())
    return [
        Row(
            level=r.level,
            community=r.community,
            period=r.period,
            indicator=r.indicator,
            numerator=r.numerator,
            denominator=r.denominator,
            rate=r.rate,
            sample_size=r.sample_size,
            ci_low=r.ci_low,
            ci_high=r.ci_high,
            status=None if r.status is None else str(r.status.value),
            flags=frozenset(r.flags),
        )
        for r in report.results
    ]


# --------------------------------------------------------------------------- comparison


def _round4(value: float | None) -> str | None:
    return None if value is None else f"{value:.4f}"


def _check_row(row: Row, want: Expected) -> None:
    where = (want.level, want.community, want.period, want.indicator)
    assert row.numerator == want.numerator, where
    assert row.denominator == want.denominator, where
    if want.rate == "undefined":
        assert row.rate is None, where
        # spec 2.5: an undefined rate has status n/a, never 0
        assert row.status == "n/a", where
    else:
        assert _round4(row.rate) == want.rate, where
        # no thresholds are configured: no status besides n/a
        assert row.status is None, where
    if want.indicator in SURVEY:
        if want.denominator > 0:
            assert row.sample_size == want.denominator, where
            low, high = wilson(want.numerator, want.denominator)
            assert _round4(row.ci_low) == _round4(low), where
            assert _round4(row.ci_high) == _round4(high), where
        else:
            assert row.sample_size in (0, None), where
            assert (row.ci_low, row.ci_high) == (None, None), where
    else:
        assert row.sample_size is None, where
        assert (row.ci_low, row.ci_high) == (None, None), where
    if want.sample_size is not None:
        assert row.sample_size == want.sample_size, where
    if want.interval is not None:
        assert (_round4(row.ci_low), _round4(row.ci_high)) == want.interval, where


def _compare(rows: list[Row], expected: tuple[list[Expected], list[Expected]]) -> None:
    communities, rollups = expected
    assert len(communities) == 28
    assert len(rollups) == 14
    # 上报率 (spec 2.8) is not in expected.md: gongle has no record in November.
    reporting = [r for r in rows if r.indicator == "reporting"]
    assert sorted((r.level, r.period, r.numerator, r.denominator) for r in reporting) == [
        (level, period, reported, 2)
        for level in ("rollup", "total")
        for period, reported in (("2026-10", 2), ("2026-11", 1))
    ]
    rows = [r for r in rows if r.indicator != "reporting"]

    by_key = {(r.level, r.community, r.period, r.indicator): r for r in rows}
    assert len(by_key) == len(rows), "one result per (level, unit, period, indicator)"

    # Exactly the community rows of expected.md: every community for every period of the span.
    produced = {key for key in by_key if key[0] == "community"}
    assert produced == {("community", w.community, w.period, w.indicator) for w in communities}
    for want in communities:
        row = by_key[("community", want.community, want.period, want.indicator)]
        _check_row(row, want)
        # The flags of a community row are exactly those expected.md names for it.
        assert row.flags == want.flags, (want.community, want.period, want.indicator)

    # The roll-up, and the grand total with the same numbers (daoli is the only root).
    assert {key[1] for key in by_key if key[0] == "rollup"} == {rollups[0].community}
    assert {key[1] for key in by_key if key[0] == "total"} == {"*"}
    for want in rollups:
        for level, unit in (("rollup", want.community), ("total", "*")):
            row = by_key[(level, unit, want.period, want.indicator)]
            _check_row(row, want)
            assert want.flags <= row.flags, (level, want.period, want.indicator)
            # Both communities report in both months and every known denominator is pooled.
            assert not row.flags & {"no_records", "partial_rollup", "numerator_above_denominator"}
            small = want.indicator in SURVEY and 0 < want.denominator < 30
            assert ("small_sample" in row.flags) == small, (level, want.period, want.indicator)
    assert len(rows) == 28 + 2 * 14


# --------------------------------------------------------------------------- tests


def test_expected_md_parses(expected: tuple[list[Expected], list[Expected]]) -> None:
    """Guard on the parser: the rows the rest relies on are read as written."""
    communities, rollups = expected
    first = communities[0]
    assert (first.community, first.period, first.indicator) == (
        "jianguo",
        "2026-10",
        "resident_participation",
    )
    assert (first.numerator, first.denominator, first.rate) == (2, 10, "0.2000")
    flagged = {(w.community, w.period, w.indicator): w.flags for w in communities if w.flags}
    assert flagged[("gongle", "2026-10", "resident_participation")] == {
        "numerator_above_denominator"
    }
    assert flagged[("jianguo", "2026-10", "resident_satisfaction")] == {"small_sample"}
    assert sum(1 for flags in flagged.values() if flags == {"no_records"}) == 7
    assert rollups[0].community == "daoli"
    assert rollups[5].interval == ("0.2077", "0.9385")


def test_worked_example_api(expected: tuple[list[Expected], list[Expected]], in_tmp: Path) -> None:
    _compare(_api_rows(), expected)


def test_worked_example_api_problems(
    expected: tuple[list[Expected], list[Expected]], in_tmp: Path
) -> None:
    report = run(_options())
    assert [p for p in report.problems if p.severity == "error"] == []
    above = [p for p in report.problems if p.kind == "numerator_above_denominator"]
    assert len(above) == 1
    assert above[0].params["community"] == "gongle"
    assert above[0].params["period"] == "2026-10"
    assert above[0].params["indicator"] == "resident_participation"
    assert report.facts.meta()["span"] == ["2026-10", "2026-11"]


def test_worked_example_cli_csv(
    expected: tuple[list[Expected], list[Expected]],
    in_tmp: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _cli(_cli_args("csv"), capsys)
    records = list(csv.DictReader(io.StringIO(out)))
    _compare([_row(record) for record in records], expected)
    # CSV rates and intervals are written with 4 decimals (spec 3.1), exactly as expected.md.
    communities, _rollups = expected
    by_key = {
        (r["level"], r["community"], r["period"], r["indicator"]): r
        for r in records
        if r["level"] == "community"
    }
    for want in communities:
        record = by_key[("community", want.community, want.period, want.indicator)]
        assert record["rate"] == ("" if want.rate == "undefined" else want.rate)
        assert record["denominator"] == str(want.denominator)
        if want.interval is not None:
            assert (record["ci_low"], record["ci_high"]) == want.interval


def test_worked_example_cli_json(
    expected: tuple[list[Expected], list[Expected]],
    in_tmp: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = json.loads(_cli(_cli_args("json"), capsys))
    assert set(document) >= {"meta", "results", "issues"}
    results = document["results"]
    for record in results:
        if record["rate"] is None:
            assert record["status"] == "n/a"
    _compare([_row(record) for record in results], expected)

    # The numerator above its denominator is listed in `issues` (spec 2.5), for gongle only.
    above = [
        issue for issue in document["issues"] if issue["kind"] == "numerator_above_denominator"
    ]
    assert len(above) == 1, document["issues"]
    issue = above[0]
    assert issue["severity"] == "warning"
    assert "gongle" in issue["message"]
    assert "2026-10" in issue["message"]
    assert "resident_participation" in issue["message"] or "participation" in issue["message"]
    assert "jianguo" not in json.dumps(document["issues"], ensure_ascii=False)
    assert document["meta"]["span"] == ["2026-10", "2026-11"]


def test_worked_example_outputs_agree(
    expected: tuple[list[Expected], list[Expected]],
    in_tmp: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """API, CSV and JSON give the same results in the same (deterministic) order."""
    api = _api_rows()
    from_csv = [_row(r) for r in csv.DictReader(io.StringIO(_cli(_cli_args("csv"), capsys)))]
    from_json = [_row(r) for r in json.loads(_cli(_cli_args("json"), capsys))["results"]]

    def rounded(rows: list[Row]) -> list[tuple[Any, ...]]:
        return [
            (
                r.level,
                r.community,
                r.period,
                r.indicator,
                r.numerator,
                r.denominator,
                _round4(r.rate),
                r.sample_size,
                _round4(r.ci_low),
                _round4(r.ci_high),
                r.status,
                r.flags,
            )
            for r in rows
        ]

    assert rounded(api) == rounded(from_csv) == rounded(from_json)
