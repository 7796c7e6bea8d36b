"""The city's fast paths (issue 17) give what the plain ways give: repeats, copies, ranks,
CSV, JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import json
from fractions import Fraction
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from reference import unit_repeats

from svcmetrics.errors import Problem
from svcmetrics.heap import collector_paused
from svcmetrics.indicators import builtin_indicators
from svcmetrics.judge import Status
from svcmetrics.output.cells import (
    indicator_names,
    neutralise,
    problem_record,
    result_fields,
    result_record,
)
from svcmetrics.output.csvtext import _cell, _csv_text, render_csv
from svcmetrics.output.jsontext import _records, render_json
from svcmetrics.output.options import RenderOptions
from svcmetrics.periods import PeriodKind
from svcmetrics.pipeline import Options, run
from svcmetrics.report import RESULT_FIELDS, Report, Result, RunFacts, evolve, rank_results
from svcmetrics.units import Level, Unit, repeating

IDS = ["a", "b", "c", "s1", "s2", "d"]


@st.composite
def unit_lists(draw: st.DrawFn) -> list[Unit]:
    units = []
    for _ in range(draw(st.integers(1, 9))):
        level = draw(st.sampled_from(list(Level)))
        members = tuple(draw(st.lists(st.sampled_from(IDS[:3]), min_size=1, max_size=4)))
        units.append(
            Unit(
                level,
                draw(st.sampled_from([*IDS, "*"])),
                None,
                draw(st.sampled_from([None, *IDS])),
                members,
            )
        )
    return units


@settings(max_examples=300, deadline=None)
@given(unit_lists())
def test_repeating_equals_each_unit_asked_alone(units: list[Unit]) -> None:
    assert repeating(units) == [unit_repeats(unit, units) for unit in units]


def _result(**changes: object) -> Result:
    base = Result(
        level=Level.COMMUNITY,
        community="c1",
        community_name="一社区",
        parent="s1",
        period="2026-11",
        indicator="resident_participation",
        breakdown=None,
        numerator=3,
        denominator=7,
        flags=["small_sample"],
    )
    return base._replace(**changes)


def test_evolve_equals_replace() -> None:
    result = _result(change=-1.5, status=Status.WARN)
    for changes in ({"rank": 2}, {"rank": 1, "flags": ["x"]}, {"target_level": 0.2}, {}):
        copied = evolve(result, **changes)
        assert copied == result._replace(**changes)
        assert type(copied) is Result
    assert result.rank is None


def test_evolve_refuses_a_name_that_is_no_field() -> None:
    try:
        evolve(_result(), rnak=1)
    except TypeError as error:
        assert "rnak" in str(error)
    else:
        raise AssertionError("no error")


def test_ranks_tell_apart_fractions_that_round_to_one_float() -> None:
    big = 10**17
    first, second = Fraction(big, 3 * big + 1), Fraction(big + 1, 3 * big + 4)
    assert float(first) == float(second) and first < second
    results = [
        _result(community="x", numerator=big + 1, denominator=3 * big + 4),
        _result(community="y", numerator=big, denominator=3 * big + 1),
        _result(community="z", numerator=1, denominator=2),
    ]
    ranked = rank_results(results, builtin_indicators())
    assert [r.rank for r in ranked] == [2, 3, 1]


def test_ranks_tie_equal_fractions_written_differently() -> None:
    results = [
        _result(community="x", numerator=1, denominator=3),
        _result(community="y", numerator=2, denominator=6),
        _result(community="z", numerator=1, denominator=4),
    ]
    assert [r.rank for r in rank_results(results, builtin_indicators())] == [1, 1, 3]


def _report(results: list[Result], by: str | None = None) -> Report:
    facts = RunFacts((), (), None, PeriodKind.MONTH, by, ("2026-11", "2026-11"), None, 0, None, 0)
    return Report(results, [], builtin_indicators(), [], [], facts)


def _per_cell(report: Report, options: RenderOptions) -> str:
    """The CSV as it was written before issue 17: a record per result, each cell neutralised."""
    names = indicator_names(report, options.lang)
    fields = result_fields(report.by)
    rows = []
    for result in report.results:
        record = result_record(result, names, options.lang, report.by)
        rows.append([_cell(record[key], key) for key in fields])
    if options.neutralise:
        fields = [neutralise(cell) for cell in fields]
        rows = [[neutralise(cell) for cell in row] for row in rows]
    return _csv_text(fields, rows, dataclasses.replace(options, neutralise=False))


def _varied() -> list[Result]:
    """Results with every kind of cell: blanks, numbers, texts to neutralise and to quote."""
    return [
        _result(),
        _result(
            community="=c2",
            community_name="-负责人",
            parent=None,
            numerator=0,
            denominator=None,
            change=-2.25,
            change_yoy=3.0,
            previous_rate=0.5,
            previous_year_rate=0.125,
            rank=4,
            target_level=0.2,
            status=Status.CRITICAL,
            ci_low=0.1,
            ci_high=0.9,
            sample_size=12,
            flags=[],
        ),
        _result(level=Level.TOTAL, community="*", community_name=None, parent=None),
        _result(level=Level.ROLLUP, community="s1", community_name=None, breakdown="@x"),
        # texts the CSV writer must quote: a comma, a quote, a line break, a blank value
        _result(community="c,3", community_name='"三"社区', parent="s\n1", breakdown=""),
        _result(community="c4", community_name=" 四 ", parent="", breakdown="a,b"),
    ]


def test_csv_rows_equal_the_records_cell_by_cell() -> None:
    results = _varied()
    for by in (None, "service"):
        report = _report(results, by)
        for lang in ("zh", "en"):
            for neutral in (True, False):
                options = RenderOptions(lang=lang, neutralise=neutral)
                assert render_csv(report, options) == _per_cell(report, options)


def test_results_made_without_new_are_whole_results() -> None:
    example = Path(__file__).parent.parent / "examples"
    report = run(Options(config=example / "svcmetrics.yaml", today=dt.date(2026, 12, 1)))
    assert report.results
    for result in report.results:
        assert type(result) is Result
        assert len(result) == len(RESULT_FIELDS)
        assert Result(**result._asdict()) == result


def test_a_record_has_the_keys_of_its_fields_in_order() -> None:
    names = {"resident_participation": "居民参与率"}
    for by in (None, "service", "category"):
        record = result_record(_result(breakdown="x"), names, "zh", by)
        assert list(record) == result_fields(by)


def test_json_is_the_indented_dump_of_its_document() -> None:
    results = _varied()
    problems = [
        Problem("future_date", file="a.csv", line=3, column="date", value="2030-01-01"),
        Problem(
            "numerator_above_denominator",
            params={
                "community": "c1",
                "period": "2026-11",
                "indicator": "resident_participation",
                "numerator": 3,
                "denominator": 2,
            },
        ),
    ]
    for by in (None, "service"):
        for found, issues in ((results, problems), (results[:1], []), ([], problems)):
            report = dataclasses.replace(_report(found, by), problems=issues)
            for lang in ("zh", "en"):
                options = RenderOptions(lang=lang)
                names = indicator_names(report, lang)
                document = {
                    "meta": {**report.facts.meta(), "lang": lang},
                    "results": [result_record(r, names, lang, by) for r in found],
                    "issues": [problem_record(p, lang) for p in issues],
                }
                want = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
                assert render_json(report, options) == want


def test_the_collector_is_paused_in_the_block_and_restored_after_it() -> None:
    assert gc.isenabled()
    try:
        with collector_paused():
            assert not gc.isenabled()
            raise KeyError("inside")
    except KeyError:
        pass
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_records_are_laid_out_as_json_lays_them_out() -> None:
    cases: list[list[dict[str, object]]] = [
        [],
        [{}],
        [{"a": 1}, {}],
        [{"a": "},\n{", "b": 0.1}, {"b": None, "c": True, "d": "社区"}],
    ]
    for records in cases:
        for depth in (0, 1, 2):
            want = json.dumps(records, ensure_ascii=False, indent=2)
            assert _records(records, depth) == want.replace("\n", "\n" + "  " * depth)
