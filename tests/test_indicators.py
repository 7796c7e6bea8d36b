"""Hand-made inputs, one group per indicator (spec 1.1, 1.2, 2-2.7, 3.3).

Each test writes a small CSV log (and a profile, and sometimes a config) into ``tmp_path``
and runs the product through ``svcmetrics.pipeline.run``. Expected values are worked out by
hand and written as literals, with a comment saying why.
"""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest
from reference import INDICATORS

from svcmetrics.errors import InputError, SvcmetricsError
from svcmetrics.judge import Status
from svcmetrics.periods import PeriodKind
from svcmetrics.pipeline import Options, run
from svcmetrics.report import Report, Result

HEADER = "date,community,event,party,id,household,status,ticket,service"

ONE = """
communities:
  - id: c1
    name: 一号社区
    residents: 40
    residents_capable: 10
    households: 8
    units: 4
"""


pytestmark = pytest.mark.usefixtures("in_tmp")
"""Run in an empty folder: no stray ./svcmetrics.yaml is picked up."""


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def compute(
    tmp_path: Path,
    log: str,
    profile: str | None = ONE,
    config: str | None = None,
    log_name: str = "log.csv",
    **options: object,
) -> Report:
    """Write the inputs and run the product on them."""
    log_path = _write(tmp_path / log_name, log)
    profile_path = None if profile is None else _write(tmp_path / "profile.yaml", profile)
    config_path = None if config is None else _write(tmp_path / "config.yaml", config)
    return run(
        Options(
            logs=(str(log_path),),
            profile=profile_path,
            config=config_path,
            **options,  # type: ignore[arg-type]
        )
    )


def csv_log(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


def results(report: Report, level: str = "community") -> dict[tuple[str, str, str], Result]:
    """(unit id, period, indicator) -> result, for one level."""
    table = {(r.community, r.period, r.indicator): r for r in report.results if r.level == level}
    assert len(table) == sum(1 for r in report.results if r.level == level)
    return table


def nums(result: Result) -> tuple[int, int | None, float | None]:
    return result.numerator, result.denominator, result.rate


def periods(report: Report) -> list[str]:
    seen: list[str] = []
    for result in report.results:
        if result.period not in seen:
            seen.append(result.period)
    return seen


# =========================================================================== 2.1 participation


def test_participation_counts_distinct_ids(tmp_path: Path) -> None:
    report = compute(
        tmp_path,
        csv_log(
            "2026-03-02,c1,participate,resident,r1,h1,,,助老",
            "2026-03-02,c1,participate,resident,r1,h1,,,助老",  # same person, same day
            "2026-03-20,c1,participate,resident,r1,h1,,,保洁",  # same person, another day
            "2026-03-05,c1,participate,resident,r2,h1,,,助老",
            "2026-03-06,c1,benefit,resident,r3,h2,,,助老",  # a benefit is no participation
            "2026-03-07,c1,participate,unit,u1,,,,法律咨询",
            "2026-03-08,c1,participate,unit,u1,,,,法律咨询",
            "2026-03-09,c1,participate,unit,u2,,,,保洁",
        ),
    )
    table = results(report)
    # residents r1, r2 out of residents_capable 10
    assert nums(table[("c1", "2026-03", "resident_participation")]) == (2, 10, 0.2)
    # units u1, u2 out of units 4
    assert nums(table[("c1", "2026-03", "unit_participation")]) == (2, 4, 0.5)
    for result in report.results:
        assert result.flags == [], result  # one community, it has records, nothing above
    # no thresholds configured: no status for defined rates
    assert table[("c1", "2026-03", "resident_participation")].status is None


def test_participation_chinese_headers_and_values(tmp_path: Path) -> None:
    """日期/社区/类型/对象/编号 headers, 参与/居民/单位 values, and the community's name."""
    log = "日期,社区,类型,对象,编号\n2026-03-02,一号社区,参与,居民,r1\n2026-03-03,c1,参与,单位,u1\n"
    table = results(compute(tmp_path, log))
    assert nums(table[("c1", "2026-03", "resident_participation")]) == (1, 10, 0.1)
    assert nums(table[("c1", "2026-03", "unit_participation")]) == (1, 4, 0.25)


def test_participation_denominator_zero_or_missing_is_undefined(tmp_path: Path) -> None:
    profile = """
    communities:
      - id: c1
        residents_capable: 0   # known, zero
        households: 8          # units missing: unknown
    """
    report = compute(
        tmp_path,
        csv_log(
            "2026-03-02,c1,participate,resident,r1,,,,",
            "2026-03-02,c1,participate,unit,u1,,,,",
        ),
        profile=profile,
    )
    table = results(report)
    zero = table[("c1", "2026-03", "resident_participation")]
    # 1 / 0: undefined, never 0 and never a crash; status n/a; flagged and listed in issues
    assert nums(zero) == (1, 0, None)
    assert zero.status is Status.NA
    assert zero.flags == ["numerator_above_denominator"]
    issues = [p for p in report.problems if p.kind == "numerator_above_denominator"]
    assert len(issues) == 1
    assert issues[0].params["community"] == "c1"
    assert issues[0].severity == "warning"

    missing = table[("c1", "2026-03", "unit_participation")]
    # no `units` in the profile: the denominator is unknown (None), not 0
    assert nums(missing) == (1, None, None)
    assert missing.status is Status.NA
    assert "numerator_above_denominator" not in missing.flags


# =========================================================================== 2.2 benefit


def test_benefit_counts_households_and_units(tmp_path: Path) -> None:
    report = compute(
        tmp_path,
        csv_log(
            "2026-03-02,c1,benefit,resident,r1,h1,,,",
            "2026-03-03,c1,benefit,resident,r2,h1,,,",  # same household as r1
            "2026-03-04,c1,benefit,resident,r1,h1,,,",  # again
            "2026-03-05,c1,benefit,resident,r3,h2,,,",
            "2026-03-06,c1,benefit,resident,r4,0123,,,",  # household ids stay text:
            "2026-03-07,c1,benefit,resident,r5,123,,,",  # 0123 and 123 are two households
            "2026-03-08,c1,benefit,unit,u1,,,,",
            "2026-03-09,c1,benefit,unit,u1,,,,",
            "2026-03-10,c1,participate,unit,u2,,,,",  # participation, not benefit
        ),
    )
    table = results(report)
    # households h1, h2, 0123, 123 out of 8
    assert nums(table[("c1", "2026-03", "resident_benefit")]) == (4, 8, 0.5)
    # unit u1 out of 4
    assert nums(table[("c1", "2026-03", "unit_benefit")]) == (1, 4, 0.25)


def test_resident_benefit_without_household_is_invalid(tmp_path: Path) -> None:
    log = csv_log(
        "2026-03-02,c1,benefit,resident,r1,,,,",  # line 2: no household
        "2026-03-03,c1,benefit,resident,r2,h2,,,",
    )
    with pytest.raises(InputError) as raised:
        compute(tmp_path, log)
    assert raised.value.exit_code == 3
    errors = [p for p in raised.value.problems if p.severity == "error"]
    assert [(p.line, p.column) for p in errors] == [(2, "household")]

    # --skip-invalid: computed from the valid row only (h2)
    table = results(compute(tmp_path, log, skip_invalid=True))
    assert nums(table[("c1", "2026-03", "resident_benefit")]) == (1, 8, 0.125)


# =========================================================================== 2.3 needs


NEED_ACROSS_MONTHS = csv_log(
    "2026-01-30,c1,need,resident,r1,,pending,T1,",
    "2026-02-03,c1,need,resident,r1,,met,T1,",  # T1 met in February
    "2026-02-05,c1,need,resident,r2,,unmet,T2,",
)


def test_need_updated_across_two_months_counts_in_month_raised(tmp_path: Path) -> None:
    table = results(compute(tmp_path, NEED_ACROSS_MONTHS))
    # T1 raised in January, latest state met: January 1/1
    assert nums(table[("c1", "2026-01", "need_satisfaction")]) == (1, 1, 1.0)
    # February: only T2 was raised there (unmet); T1's update does not count again
    assert nums(table[("c1", "2026-02", "need_satisfaction")]) == (0, 1, 0.0)


def test_need_as_of_reproduces_earlier_state(tmp_path: Path) -> None:
    early = compute(tmp_path, NEED_ACROSS_MONTHS, as_of=date(2026, 2, 1))
    # As of 1 February T1 was still pending; later rows are ignored, so the span ends in January
    assert periods(early) == ["2026-01"]
    assert nums(results(early)[("c1", "2026-01", "need_satisfaction")]) == (0, 1, 0.0)

    middle = compute(tmp_path, NEED_ACROSS_MONTHS, as_of=date(2026, 2, 4))
    table = results(middle)
    # As of 4 February T1 is met; T2 (5 February) not raised yet: February has no need
    assert nums(table[("c1", "2026-01", "need_satisfaction")]) == (1, 1, 1.0)
    february = table[("c1", "2026-02", "need_satisfaction")]
    assert nums(february) == (0, 0, None)
    assert february.status is Status.NA
    assert "no_records" not in february.flags  # T1's update is a record of February


TIES = [
    "2026-03-10,c1,need,resident,r1,,met,T1,",
    "2026-03-10,c1,need,resident,r1,,unmet,T1,",  # same date: the later row in the file wins
    "2026-03-11,c1,need,resident,r2,,pending,T2,",
    "2026-03-11,c1,need,resident,r2,,met,T2,",
    "2026-03-12,c1,need,resident,,,met,,",  # no ticket: a need of its own (no id needed)
    "2026-03-12,c1,need,resident,,,unmet,,",  # another need of its own
    "2026-03-13,c1,need,unit,u1,,已满足,T9,",  # an organisation's need counts; 已满足 = met
    "2026-03-14,c2,need,resident,r9,,met,T1,",  # c2's T1 is not c1's T1
]
TWO = """
communities:
  - {id: c1, residents_capable: 10, households: 8, units: 4}
  - {id: c2, residents_capable: 10, households: 8, units: 4}
"""


def test_need_same_day_tie_ticketless_and_units(tmp_path: Path) -> None:
    table = results(compute(tmp_path, csv_log(*TIES), profile=TWO))
    # c1: T1 unmet, T2 met, ticketless met, ticketless unmet, T9 met -> 3 of 5
    assert nums(table[("c1", "2026-03", "need_satisfaction")]) == (3, 5, 0.6)
    # c2: its own T1, met
    assert nums(table[("c2", "2026-03", "need_satisfaction")]) == (1, 1, 1.0)

    swapped = [TIES[1], TIES[0], *TIES[2:]]
    table = results(compute(tmp_path, csv_log(*swapped), profile=TWO))
    # now the later row of T1 in the file is `met`: 4 of 5
    assert nums(table[("c1", "2026-03", "need_satisfaction")]) == (4, 5, 0.8)


def test_need_invalid_status_is_an_invalid_row(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        compute(tmp_path, csv_log("2026-03-10,c1,need,resident,r1,,done,T1,"))
    assert raised.value.exit_code == 3
    assert [(p.line, p.value) for p in raised.value.problems if p.severity == "error"] == [
        (2, "done")
    ]


# =========================================================================== 2.4 satisfaction


def test_respondent_answering_twice_latest_counts(tmp_path: Path) -> None:
    report = compute(
        tmp_path,
        csv_log(
            "2026-04-20,c1,survey,resident,r1,,满意,,",  # r1's latest answer (by date) ...
            "2026-04-02,c1,survey,resident,r1,,不满意,,",  # ... although this row comes later
            "2026-04-10,c1,survey,resident,r2,,满意,,",
            "2026-04-10,c1,survey,resident,r2,,不满意,,",  # same date: later row wins -> not
            "2026-04-11,c1,survey,resident,r3,,不满意,,",
            "2026-04-11,c1,survey,resident,r3,,非常满意,,",  # same date: later row wins -> sat.
            "2026-05-03,c1,survey,resident,r1,,不满意,,",  # May is a period of its own
        ),
    )
    table = results(report)
    april = table[("c1", "2026-04", "resident_satisfaction")]
    # satisfied: r1, r3; respondents r1, r2, r3 (each once)
    assert nums(april) == (2, 3, 2 / 3)
    assert april.sample_size == 3
    # 95% Wilson interval of 2/3 (as in the worked example)
    assert (round(april.ci_low or -1, 4), round(april.ci_high or -1, 4)) == (0.2077, 0.9385)
    assert april.flags == ["small_sample"]  # 3 < min_sample 30
    may = table[("c1", "2026-05", "resident_satisfaction")]
    assert nums(may) == (0, 1, 0.0)
    assert may.sample_size == 1


def test_excluded_answers_dropped_before_latest(tmp_path: Path) -> None:
    report = compute(
        tmp_path,
        csv_log(
            "2026-04-01,c1,survey,resident,r1,,满意,,",
            "2026-04-05,c1,survey,resident,r1,,不清楚,,",  # excluded: r1 keeps 满意
            "2026-04-01,c1,survey,resident,r2,,不满意,,",
            "2026-04-06,c1,survey,resident,r2,,,,",  # blank: r2 keeps 不满意
            "2026-04-01,c1,survey,resident,r3,,4,,",
            "2026-04-07,c1,survey,resident,r3,,9,,",  # outside 1-5: r3 keeps 4
            "2026-04-02,c1,survey,resident,r4,,不清楚,,",  # only excluded answers: not counted
            "2026-04-03,c1,survey,resident,r5,,,,",
            "2026-04-04,c1,survey,resident,r6,,99,,",
            "2026-05-04,c1,survey,resident,r7,,不清楚,,",  # May: no counted answer at all
        ),
    )
    table = results(report)
    # satisfied r1 (满意), r3 (4); respondents r1, r2, r3
    april = table[("c1", "2026-04", "resident_satisfaction")]
    assert nums(april) == (2, 3, 2 / 3)
    assert april.sample_size == 3
    may = table[("c1", "2026-05", "resident_satisfaction")]
    # no respondent: 0/0, undefined, n/a, no interval
    assert nums(may) == (0, 0, None)
    assert may.status is Status.NA
    assert (may.ci_low, may.ci_high) == (None, None)
    assert "small_sample" not in may.flags


def test_scores_compare_as_numbers(tmp_path: Path) -> None:
    log = csv_log(
        "2026-04-01,c1,survey,resident,r1,,4.0,,",  # = 4: satisfied
        "2026-04-01,c1,survey,resident,r2,,4,,",  # satisfied
        "2026-04-01,c1,survey,resident,r3,,3.0,,",  # = 3: not satisfied
        "2026-04-01,c1,survey,resident,r4,,5.00,,",  # = 5: satisfied
        "2026-04-01,c1,survey,unit,u1,, 4 ,,",  # surrounding spaces ignored: satisfied
    )
    table = results(compute(tmp_path, log))
    assert nums(table[("c1", "2026-04", "resident_satisfaction")]) == (3, 4, 0.75)
    assert nums(table[("c1", "2026-04", "unit_satisfaction")]) == (1, 1, 1.0)

    # The same answers in YAML, scores unquoted (YAML numbers): the same counts.
    yaml_log = """
    - {date: 2026-04-01, community: c1, event: survey, party: resident, id: r1, status: 4.0}
    - {date: 2026-04-01, community: c1, event: survey, party: resident, id: r2, status: 4}
    - {date: 2026-04-01, community: c1, event: survey, party: resident, id: r3, status: 3.0}
    - {date: 2026-04-01, community: c1, event: survey, party: resident, id: r4, status: 5.00}
    - {date: 2026-04-01, community: c1, event: survey, party: unit, id: u1, status: 4}
    """
    table = results(compute(tmp_path, yaml_log, log_name="log.yaml"))
    assert nums(table[("c1", "2026-04", "resident_satisfaction")]) == (3, 4, 0.75)
    assert nums(table[("c1", "2026-04", "unit_satisfaction")]) == (1, 1, 1.0)


def test_answer_in_no_list_is_invalid(tmp_path: Path) -> None:
    log = csv_log(
        "2026-04-01,c1,survey,resident,r1,,满意,,",
        "2026-04-02,c1,survey,resident,r2,,满易,,",  # a typo must not lower the rate
    )
    with pytest.raises(InputError) as raised:
        compute(tmp_path, log)
    assert raised.value.exit_code == 3
    assert [(p.line, p.value) for p in raised.value.problems if p.severity == "error"] == [
        (3, "满易")
    ]


def test_population_basis(tmp_path: Path) -> None:
    config = "satisfaction: {basis: population}\n"
    report = compute(
        tmp_path,
        csv_log(
            "2026-04-01,c1,survey,resident,r1,,满意,,",
            "2026-04-02,c1,survey,resident,r2,,不满意,,",
            "2026-04-03,c1,survey,resident,r3,,不清楚,,",
            "2026-04-04,c1,survey,unit,u1,,满意,,",
            "2026-05-01,c1,survey,resident,r1,,不清楚,,",  # May: no counted answer
            "2026-05-02,c1,participate,resident,r1,,,,",
        ),
        config=config,
    )
    table = results(report)
    april = table[("c1", "2026-04", "resident_satisfaction")]
    # satisfied r1 out of all 40 residents (not out of 2 respondents)
    assert nums(april) == (1, 40, 0.025)
    # a population rate is no sample: no sample size, no interval, no small_sample
    assert april.sample_size is None
    assert (april.ci_low, april.ci_high) == (None, None)
    assert april.flags == []
    # units follow `basis` when `unit_basis` is not given: u1 out of 4 units
    assert nums(table[("c1", "2026-04", "unit_satisfaction")]) == (1, 4, 0.25)
    for indicator in ("resident_satisfaction", "unit_satisfaction"):
        may = table[("c1", "2026-05", indicator)]
        # no survey done in May: undefined, not 0%
        assert may.rate is None
        assert may.status is Status.NA


def test_config_satisfied_list_moves_jiben_manyi(tmp_path: Path) -> None:
    log = csv_log(
        "2026-04-01,c1,survey,resident,r1,,基本满意,,",
        "2026-04-01,c1,survey,resident,r2,,满意,,",
        "2026-04-01,c1,survey,resident,r3,,不满意,,",
        "2026-04-01,c1,survey,resident,r4,,非常满意,,",
    )
    # default lists: 基本满意 is not satisfied -> r2, r4 of 4
    default = results(compute(tmp_path, log))
    assert nums(default[("c1", "2026-04", "resident_satisfaction")]) == (2, 4, 0.5)

    config = "satisfaction:\n  satisfied: [非常满意, 满意, 基本满意]\n"
    moved = results(compute(tmp_path, log, config=config))
    # 基本满意 now satisfied: r1, r2, r4 of 4 (不满意 stays not satisfied)
    assert nums(moved[("c1", "2026-04", "resident_satisfaction")]) == (3, 4, 0.75)


def test_min_sample_from_config(tmp_path: Path) -> None:
    log = csv_log(
        "2026-04-01,c1,survey,resident,r1,,满意,,",
        "2026-04-01,c1,survey,resident,r2,,满意,,",
    )
    config = "satisfaction: {min_sample: 2}\n"
    table = results(compute(tmp_path, log, config=config))
    # 2 respondents, min_sample 2: not small
    assert table[("c1", "2026-04", "resident_satisfaction")].flags == []


# =========================================================================== rows that appear


def test_community_without_records_still_appears(tmp_path: Path) -> None:
    profile = """
    communities:
      - {id: c1, parent: p, residents_capable: 10, households: 8, units: 4}
      - {id: c2, parent: p, residents_capable: 5, households: 2, units: 0}
    parents:
      - {id: p, name: 街道}
    """
    report = compute(
        tmp_path,
        csv_log(
            "2026-03-02,c1,participate,resident,r1,,,,",
            "2026-05-02,c1,participate,resident,r1,,,,",  # nothing in April
        ),
        profile=profile,
    )
    table = results(report)
    # the span is March..May; every community appears for every period
    assert periods(report) == ["2026-03", "2026-04", "2026-05"]
    assert len(table) == 2 * 3 * 7
    for month in ("2026-03", "2026-04", "2026-05"):
        for indicator in INDICATORS:
            row = table[("c2", month, indicator)]
            assert row.numerator == 0
            assert "no_records" in row.flags, (month, indicator)
            april = table[("c1", "2026-04", indicator)]
            assert "no_records" in april.flags, indicator
            assert ("no_records" in table[("c1", month, indicator)].flags) == (month == "2026-04")
    # zero numerators over known denominators: 0%, not undefined
    assert nums(table[("c2", "2026-03", "resident_participation")]) == (0, 5, 0.0)
    assert nums(table[("c2", "2026-03", "resident_benefit")]) == (0, 2, 0.0)
    # units 0: undefined
    assert table[("c2", "2026-03", "unit_participation")].status is Status.NA
    # the parent pools c1 (1) and c2 (0): 1 / 15
    rolled = results(report, "rollup")[("p", "2026-03", "resident_participation")]
    assert (rolled.numerator, rolled.denominator) == (1, 15)


def test_a_community_as_the_parent_of_another_is_refused(tmp_path: Path) -> None:
    """c2 rolls up to c1, itself a community of the profile: refused (exit 3) with a message
    naming both. A parent is a roll-up level (spec 1.1: the street office or district a
    community rolls up to, listed under ``parents:``); a community that were also a parent
    would have a community row and a roll-up row under one id."""
    profile = """
    communities:
      - {id: c1, residents_capable: 10}
      - {id: c2, parent: c1, residents_capable: 10}
    """
    log = csv_log("2026-03-01,c1,participate,resident,r1,,,,")
    with pytest.raises(InputError) as refused:
        compute(tmp_path, log, profile=profile)
    assert refused.value.exit_code == 3
    [problem] = refused.value.problems
    assert problem.file.endswith("profile.yaml")
    assert "c2" in str(problem.params) and "c1" in str(problem.params)


def test_a_community_heading_its_roll_up_keeps_its_own_numbers(tmp_path: Path) -> None:
    """The valid way to say it: c1 and c2 under a roll-up level p1 named like c1. c1's row
    counts c1's records only, the roll-up pools both, and a log naming c1 by its name still
    means the community."""
    profile = """
    communities:
      - {id: c1, name: 建国, parent: p1, residents_capable: 10}
      - {id: c2, parent: p1, residents_capable: 10}
    parents:
      - {id: p1, name: 建国}
    """
    log = csv_log(
        "2026-03-01,c1,participate,resident,r1,,,,",
        "2026-03-01,建国,participate,resident,r2,,,,",
        "2026-03-01,c2,participate,resident,r3,,,,",
    )
    report = compute(tmp_path, log, profile=profile)
    table = results(report)
    # c1's own participants r1, r2 of 10; c2's r3 of 10
    assert nums(table[("c1", "2026-03", "resident_participation")]) == (2, 10, 0.2)
    assert nums(table[("c2", "2026-03", "resident_participation")]) == (1, 10, 0.1)
    # the roll-up and the grand total pool both communities: 3 of 20
    rollup = results(report, "rollup")[("p1", "2026-03", "resident_participation")]
    assert nums(rollup) == (3, 20, 0.15)
    total = results(report, "total")[("*", "2026-03", "resident_participation")]
    assert (total.numerator, total.denominator) == (3, 20)
    # the only period has no previous one: no change on any row
    assert [r.change for r in report.results if r.change is not None] == []


def test_dated_denominators(tmp_path: Path) -> None:
    profile = """
    communities:
      - id: c1
        households:
          - {as_of: 2026-03-15, value: 20}
          - {as_of: 2026-02-01, value: 10}
          - {as_of: 2026-04-30, value: 40}
    """
    log = csv_log(
        "2026-01-10,c1,benefit,resident,r1,h1,,,",
        "2026-02-10,c1,benefit,resident,r1,h1,,,",
        "2026-03-10,c1,benefit,resident,r1,h1,,,",
        "2026-04-10,c1,benefit,resident,r1,h1,,,",
    )
    table = results(compute(tmp_path, log, profile=profile))
    # January: every value is dated later -> the earliest one (10)
    assert nums(table[("c1", "2026-01", "resident_benefit")]) == (1, 10, 0.1)
    # February: 2026-02-01 <= 28 Feb -> 10
    assert nums(table[("c1", "2026-02", "resident_benefit")]) == (1, 10, 0.1)
    # March: 2026-03-15 <= 31 Mar -> 20 (the value in force at the period's last day)
    assert nums(table[("c1", "2026-03", "resident_benefit")]) == (1, 20, 0.05)
    # April: 2026-04-30 is the last day itself -> 40
    assert nums(table[("c1", "2026-04", "resident_benefit")]) == (1, 40, 0.025)
    # A missing count (residents_capable) stays undefined
    assert table[("c1", "2026-01", "resident_participation")].denominator is None

    quarters = results(compute(tmp_path, log, profile=profile, period=PeriodKind.QUARTER))
    # Q1 ends 31 March -> 20; Q2 ends 30 June -> 40
    assert nums(quarters[("c1", "2026-Q1", "resident_benefit")]) == (1, 20, 0.05)
    assert nums(quarters[("c1", "2026-Q2", "resident_benefit")]) == (1, 40, 0.025)


# =========================================================================== 2.7 user-defined


CHECKUP_CONFIG = """
indicators:
  - key: elderly_checkup
    name: {zh: 65岁以上老人体检完成率, en: Health checks of residents aged 65+}
    numerator: {event: checkup, party: resident, count: distinct id}
    denominator: {profile: residents_65plus}
    thresholds: {warn: 0.85}
"""
CHECKUP_PROFILE = """
communities:
  - {id: c1, residents_capable: 10, households: 8, units: 4, residents_65plus: 4}
"""


def test_user_defined_indicator(tmp_path: Path) -> None:
    report = compute(
        tmp_path,
        csv_log(
            "2026-06-01,c1,checkup,resident,r1,,,,",
            "2026-06-09,c1,checkup,resident,r1,,,,",  # r1 counts once
            "2026-06-02,c1,checkup,resident,r2,,,,",
            "2026-06-03,c1,checkup,unit,u1,,,,",  # party unit: not counted
            "2026-06-04,c1,participate,resident,r3,,,,",  # other event: not counted
            "2026-07-01,c1,checkup,resident,r1,,,,",
            "2026-07-01,c1,checkup,resident,r2,,,,",
            "2026-07-02,c1,checkup,resident,r3,,,,",
            "2026-07-03,c1,checkup,resident,r4,,,,",
        ),
        profile=CHECKUP_PROFILE,
        config=CHECKUP_CONFIG,
    )
    table = results(report)
    june = table[("c1", "2026-06", "elderly_checkup")]
    # r1, r2 of residents_65plus 4 = 0.5 < warn 0.85
    assert nums(june) == (2, 4, 0.5)
    assert june.status is Status.WARN
    july = table[("c1", "2026-07", "elderly_checkup")]
    # r1..r4 of 4 = 1.0
    assert nums(july) == (4, 4, 1.0)
    assert july.status is Status.OK
    # the user's indicator comes after the seven built-ins, in every period
    order = [r.indicator for r in report.results if r.period == "2026-06"]
    assert order[-1] == "elderly_checkup"
    assert len(order) == 8
    # the custom event does not count as participation
    assert nums(table[("c1", "2026-06", "resident_participation")]) == (1, 10, 0.1)


def test_profile_field_without_indicator_is_an_error(tmp_path: Path) -> None:
    """residents_65plus is accepted only when an indicator names it (spec 1.1)."""
    with pytest.raises(InputError) as raised:
        compute(tmp_path, csv_log("2026-06-01,c1,participate,resident,r1,,,,"), CHECKUP_PROFILE)
    assert raised.value.exit_code == 3
    assert any("residents_65plus" in (p.value or "") for p in raised.value.problems)


# =========================================================================== periods


PERIOD_LOG = csv_log(
    "2026-01-10,c1,participate,resident,r1,,,,",
    "2026-02-10,c1,participate,resident,r1,,,,",  # r1 again in another month
    "2026-03-10,c1,participate,resident,r2,,,,",
    "2026-03-31,c1,participate,resident,r3,,,,",
    "2026-04-01,c1,participate,resident,r1,,,,",  # first day of Q2
    "2026-01-10,c1,benefit,resident,r1,h1,,,",
    "2026-02-10,c1,benefit,resident,r2,h1,,,",
    "2026-03-10,c1,benefit,resident,r3,h2,,,",
)


def test_month_counts(tmp_path: Path) -> None:
    table = results(compute(tmp_path, PERIOD_LOG))
    months = [table[("c1", m, "resident_participation")].numerator for m in ("2026-01", "2026-02")]
    # January r1, February r1, March r2+r3, April r1
    assert months == [1, 1]
    assert table[("c1", "2026-03", "resident_participation")].numerator == 2
    assert table[("c1", "2026-04", "resident_participation")].numerator == 1


def test_quarter_counts_distinct_people_over_the_span(tmp_path: Path) -> None:
    report = compute(tmp_path, PERIOD_LOG, period=PeriodKind.QUARTER)
    assert periods(report) == ["2026-Q1", "2026-Q2"]
    table = results(report)
    # Q1: r1, r2, r3 = 3 (the months sum to 4: r1 counts once over the quarter)
    assert nums(table[("c1", "2026-Q1", "resident_participation")]) == (3, 10, 0.3)
    # Q1 households h1, h2 = 2 (months: 1 + 1 + 1)
    assert nums(table[("c1", "2026-Q1", "resident_benefit")]) == (2, 8, 0.25)
    # Q2: r1 on 1 April
    assert nums(table[("c1", "2026-Q2", "resident_participation")]) == (1, 10, 0.1)


def test_year_counts_distinct_people_over_the_span(tmp_path: Path) -> None:
    report = compute(tmp_path, PERIOD_LOG, period=PeriodKind.YEAR)
    assert periods(report) == ["2026"]
    table = results(report)
    # r1, r2, r3 (r1 in three months counts once)
    assert nums(table[("c1", "2026", "resident_participation")]) == (3, 10, 0.3)
    assert nums(table[("c1", "2026", "resident_benefit")]) == (2, 8, 0.25)


def test_period_all(tmp_path: Path) -> None:
    report = compute(tmp_path, PERIOD_LOG, period=PeriodKind.ALL)
    # one period labelled FROM..TO, the first and last record dates
    assert periods(report) == ["2026-01-10..2026-04-01"]
    table = results(report)
    assert nums(table[("c1", "2026-01-10..2026-04-01", "resident_participation")]) == (3, 10, 0.3)
    assert nums(table[("c1", "2026-01-10..2026-04-01", "resident_benefit")]) == (2, 8, 0.25)


def test_month_selection(tmp_path: Path) -> None:
    log = csv_log(
        "2026-01-10,c1,participate,resident,r1,,,,",
        "2026-02-10,c1,participate,resident,r2,,,,",
        "2026-02-11,c1,need,resident,r2,,pending,T1,",
        "2026-03-02,c1,need,resident,r2,,met,T1,",  # after the selected month
        "2026-03-10,c1,participate,resident,r3,,,,",
    )
    report = compute(tmp_path, log, month="2026-02")
    assert periods(report) == ["2026-02"]
    table = results(report)
    # r2 only
    assert nums(table[("c1", "2026-02", "resident_participation")]) == (1, 10, 0.1)
    # T1 raised in February, met in March: needs are built from all records -> met
    assert nums(table[("c1", "2026-02", "need_satisfaction")]) == (1, 1, 1.0)
    assert all("partial_period" not in r.flags for r in report.results)

    # A selected month without records still appears, every row flagged no_records.
    empty = compute(tmp_path, log, month="2026-05")
    assert periods(empty) == ["2026-05"]
    assert all("no_records" in r.flags and r.numerator == 0 for r in empty.results)


def test_month_with_quarter_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SvcmetricsError) as raised:
        compute(tmp_path, PERIOD_LOG, month="2026-02", period=PeriodKind.QUARTER)
    assert raised.value.exit_code == 2


def test_from_to_cuts_a_month(tmp_path: Path) -> None:
    log = csv_log(
        "2026-01-05,c1,participate,resident,r1,,,,",  # before --from
        "2026-01-20,c1,participate,resident,r2,,,,",
        "2026-02-10,c1,participate,resident,r3,,,,",
        "2026-03-05,c1,participate,resident,r4,,,,",  # after --to
        "2026-01-20,c1,need,resident,r2,,pending,T1,",
        "2026-03-06,c1,need,resident,r2,,met,T1,",  # after --to, but needs use all records
    )
    report = compute(tmp_path, log, date_from=date(2026, 1, 15), date_to=date(2026, 2, 28))
    # the cut January keeps its label; February 2026 is whole (28 days)
    assert periods(report) == ["2026-01", "2026-02"]
    table = results(report)
    january = table[("c1", "2026-01", "resident_participation")]
    assert nums(january) == (1, 10, 0.1)  # r2 only
    assert "partial_period" in january.flags
    february = table[("c1", "2026-02", "resident_participation")]
    assert nums(february) == (1, 10, 0.1)  # r3
    assert "partial_period" not in february.flags
    # T1 raised 20 January, met 6 March: its latest state counts in January
    assert nums(table[("c1", "2026-01", "need_satisfaction")]) == (1, 1, 1.0)

    quarter = compute(
        tmp_path,
        log,
        date_from=date(2026, 1, 15),
        date_to=date(2026, 2, 28),
        period=PeriodKind.QUARTER,
    )
    q1 = results(quarter)[("c1", "2026-Q1", "resident_participation")]
    # r2, r3 within the range; the quarter is cut on both sides
    assert nums(q1) == (2, 10, 0.2)
    assert "partial_period" in q1.flags


# =========================================================================== 3.3 thresholds


THRESHOLD_CONFIG = """
thresholds:
  resident_participation:
    warn: 0.5
    critical: 0.2
    communities: {d: {critical: 0.05}}
  unit_participation: {better: lower, warn: 0.25, critical: 0.5}
  resident_satisfaction: {warn: 0.6667}
"""
FIVE = """
communities:
  - {id: a, parent: p, residents_capable: 10, units: 4}
  - {id: b, parent: p, residents_capable: 10, units: 4}
  - {id: c, parent: p, residents_capable: 10, units: 4}
  - {id: d, parent: p, residents_capable: 10, units: 4}
  - {id: e, parent: p, residents_capable: 10, units: 4}
parents:
  - {id: p}
"""


def _threshold_log() -> str:
    residents = {"a": 5, "b": 4, "c": 2, "d": 1, "e": 1}
    units = {"a": 1, "b": 2, "c": 3, "d": 0, "e": 0}
    rows = [
        f"2026-06-01,{c},participate,resident,r{i},,,,"
        for c, n in residents.items()
        for i in range(n)
    ]
    rows += [
        f"2026-06-02,{c},participate,unit,u{i},,,," for c, n in units.items() for i in range(n)
    ]
    rows += [
        "2026-06-03,a,survey,resident,r1,,满意,,",
        "2026-06-03,a,survey,resident,r2,,满意,,",
        "2026-06-03,a,survey,resident,r3,,不满意,,",
    ]
    return csv_log(*rows)


def test_threshold_statuses(tmp_path: Path) -> None:
    report = compute(tmp_path, _threshold_log(), profile=FIVE, config=THRESHOLD_CONFIG)
    table = results(report)

    def status(unit: str, indicator: str, level: str = "community") -> Status | None:
        found = results(report, level) if level != "community" else table
        return found[(unit, "2026-06", indicator)].status

    # resident participation, warn 0.5, critical 0.2 (higher is better)
    assert status("a", "resident_participation") is Status.OK  # 0.5 = warn: no breach
    assert status("b", "resident_participation") is Status.WARN  # 0.4
    assert status("c", "resident_participation") is Status.WARN  # 0.2 = critical: only warn
    assert status("e", "resident_participation") is Status.CRITICAL  # 0.1
    # d has its own critical level 0.05 (warn 0.5 inherited): 0.1 is only warn
    assert status("d", "resident_participation") is Status.WARN

    # unit participation, better: lower, warn 0.25, critical 0.5
    assert status("a", "unit_participation") is Status.OK  # 0.25 = warn
    assert status("b", "unit_participation") is Status.WARN  # 0.5 = critical: only warn
    assert status("c", "unit_participation") is Status.CRITICAL  # 0.75
    assert status("d", "unit_participation") is Status.OK  # 0.0

    # 2/3 = 0.66666... < 0.6667, although the CSV shows 0.6667: the exact fraction counts
    assert status("a", "resident_satisfaction") is Status.WARN
    # b had no survey: undefined -> n/a even with a threshold
    assert status("b", "resident_satisfaction") is Status.NA
    # no threshold for benefit, and the rate is undefined (no households): n/a
    assert status("a", "resident_benefit") is Status.NA
    # need satisfaction: no threshold, undefined: n/a
    assert status("a", "need_satisfaction") is Status.NA

    # Roll-up and total rows are judged too: (5+4+2+1+1)/50 = 0.26 -> warn
    rollup = results(report, "rollup")[("p", "2026-06", "resident_participation")]
    assert (rollup.numerator, rollup.denominator) == (13, 50)
    assert rollup.status is Status.WARN
    total = results(report, "total")[("*", "2026-06", "resident_participation")]
    assert total.status is Status.WARN
    # units pooled: (1+2+3+0+0)/20 = 0.3: above warn 0.25, below critical 0.5 -> warn
    assert status("p", "unit_participation", "rollup") is Status.WARN


def test_threshold_exact_level(tmp_path: Path) -> None:
    """A rate equal to the level (as a fraction: 17/20 = 0.85) is not a breach."""
    profile = "communities:\n  - {id: c1, residents_capable: 20}\n"
    config = "thresholds:\n  resident_participation: {warn: 0.85, critical: 0.7}\n"
    rows = [f"2026-06-01,c1,participate,resident,r{i},,,," for i in range(17)]
    table = results(compute(tmp_path, csv_log(*rows), profile=profile, config=config))
    assert table[("c1", "2026-06", "resident_participation")].status is Status.OK
    rows = [f"2026-06-01,c1,participate,resident,r{i},,,," for i in range(16)]  # 0.8
    table = results(compute(tmp_path, csv_log(*rows), profile=profile, config=config))
    assert table[("c1", "2026-06", "resident_participation")].status is Status.WARN


def test_threshold_override_by_parent_id(tmp_path: Path) -> None:
    """A per-community override keyed by a parent's id applies to the roll-up row."""
    config = """
    thresholds:
      resident_participation: {warn: 0.5, communities: {p: {warn: 0.25}}}
    """
    report = compute(tmp_path, _threshold_log(), profile=FIVE, config=config)
    rollup = results(report, "rollup")[("p", "2026-06", "resident_participation")]
    # 0.26 >= 0.25 (p's own level) -> ok
    assert rollup.status is Status.OK
    total = results(report, "total")[("*", "2026-06", "resident_participation")]
    # the total has no override: 0.26 < 0.5 -> warn
    assert total.status is Status.WARN
