"""排名 (spec 2.8): places among siblings, ties, better: lower, roll-ups, rank_tied_ci."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from clihelp import ledger_folder, run_in

from svcmetrics.indicators import builtin_indicators
from svcmetrics.models import Threshold
from svcmetrics.report import Result, rank_results
from svcmetrics.units import Level

PARTICIPATION = builtin_indicators()[0]
SATISFACTION = builtin_indicators()[5]


def result(
    community: str,
    numerator: int,
    denominator: int | None,
    parent: str | None = "street",
    level: Level = Level.COMMUNITY,
    indicator: str = "resident_participation",
    period: str = "2026-11",
    interval: tuple[float, float] | None = None,
) -> Result:
    return Result(
        level=level,
        community=community,
        community_name=None,
        parent=parent,
        period=period,
        indicator=indicator,
        breakdown=None,
        numerator=numerator,
        denominator=denominator,
        ci_low=None if interval is None else interval[0],
        ci_high=None if interval is None else interval[1],
    )


def places(results: list[Result]) -> dict[str, int | None]:
    return {r.community: r.rank for r in results}


def test_ties_share_the_smaller_place_and_undefined_has_none() -> None:
    # 8/10 = 0.8 first; 6/10 and 3/5 both 0.6 (equal fractions): 2 and 2; 1/10 is fourth
    found = rank_results(
        [
            result("a", 6, 10),
            result("b", 8, 10),
            result("c", 3, 5),
            result("d", 1, 10),
            result("e", 0, None),  # unknown denominator: no rank
            result("f", 0, 0),  # 0/0: no rank
        ],
        [PARTICIPATION],
    )
    assert places(found) == {"a": 2, "b": 1, "c": 2, "d": 4, "e": None, "f": None}


def test_three_way_tie_then_the_next_place_skips() -> None:
    found = rank_results(
        [result("a", 1, 2), result("b", 2, 4), result("c", 5, 10), result("d", 1, 10)],
        [PARTICIPATION],
    )
    assert places(found) == {"a": 1, "b": 1, "c": 1, "d": 4}


def test_better_lower_ranks_the_lowest_rate_first() -> None:
    lower = PARTICIPATION.__class__(
        **{**PARTICIPATION.__dict__, "threshold": Threshold(warn=0.5, better="lower")}
    )
    found = rank_results(
        [result("a", 1, 10), result("b", 5, 10), result("c", 3, 10)],
        [lower],
    )
    assert places(found) == {"a": 1, "c": 2, "b": 3}


def test_siblings_are_the_same_parent_period_and_indicator() -> None:
    found = rank_results(
        [
            result("a", 1, 10, parent="east"),
            result("b", 2, 10, parent="east"),
            result("c", 9, 10, parent="west"),
            result("d", 1, 10, parent="west", period="2026-10"),
            result("e", 1, 10, parent="west", indicator="unit_participation"),
            result("east", 3, 20, parent=None, level=Level.ROLLUP),
            result("west", 9, 10, parent=None, level=Level.ROLLUP),
            result("*", 12, 30, parent=None, level=Level.TOTAL),
        ],
        [PARTICIPATION, builtin_indicators()[1]],
    )
    assert places(found) == {
        "a": 2,
        "b": 1,
        "c": 1,  # alone among west's communities in November
        "d": 1,
        "e": 1,
        "east": 2,  # roll-ups among roll-ups: 3/20 = 0.15 < 0.9
        "west": 1,
        "*": None,  # the total has none
    }


def test_without_parents_all_communities_are_ranked_together() -> None:
    found = rank_results(
        [result("a", 1, 4, parent=None), result("b", 3, 4, parent=None)], [PARTICIPATION]
    )
    assert places(found) == {"a": 2, "b": 1}


def test_rank_tied_ci_when_the_neighbours_interval_overlaps() -> None:
    # ranked a (0.90), b (0.80), c (0.30); a's and b's intervals overlap, c's is apart
    found = rank_results(
        [
            result("a", 9, 10, indicator="resident_satisfaction", interval=(0.60, 0.98)),
            result("b", 8, 10, indicator="resident_satisfaction", interval=(0.49, 0.94)),
            result("c", 3, 10, indicator="resident_satisfaction", interval=(0.11, 0.45)),
        ],
        [SATISFACTION],
    )
    flagged = {r.community: "rank_tied_ci" in r.flags for r in found}
    assert places(found) == {"a": 1, "b": 2, "c": 3}
    assert flagged == {"a": True, "b": True, "c": False}


def test_touching_intervals_overlap_but_rates_without_one_are_never_tied() -> None:
    found = rank_results(
        [
            result("a", 9, 10, indicator="resident_satisfaction", interval=(0.5, 0.9)),
            result("b", 4, 10, indicator="resident_satisfaction", interval=(0.2, 0.5)),
            result("c", 9, 10),  # participation: no interval, no flag even when tied
            result("d", 9, 10),
        ],
        [SATISFACTION, PARTICIPATION],
    )
    assert ["rank_tied_ci" in r.flags for r in found] == [True, True, False, False]
    assert places(found) == {"a": 1, "b": 2, "c": 1, "d": 1}


# -- end to end ----------------------------------------------------------------------------

PROFILE = """\
communities:
  - {id: a, name: 甲社区, parent: s1, residents_capable: 10}
  - {id: b, name: 乙社区, parent: s1, residents_capable: 10}
  - {id: c, name: 丙社区, parent: s1, residents_capable: 10}
  - {id: d, name: 丁社区, parent: s2, residents_capable: 4}
parents:
  - {id: s1, name: 一街道}
  - {id: s2, name: 二街道}
"""


def _log() -> str:
    rows = ["date,community,event,party,id"]
    # November participation: a 5/10, b 5/10, c 2/10, d 1/4
    for community, people in (("a", 5), ("b", 5), ("c", 2), ("d", 1)):
        rows += [
            f"2026-11-0{n + 1},{community},participate,resident,{community}{n}"
            for n in range(people)
        ]
    return "\n".join(rows) + "\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return ledger_folder(tmp_path, PROFILE, _log())


def test_csv_json_and_table_carry_the_rank(folder: Path) -> None:
    args = ["compute", "--indicators", "resident_participation", "--lang", "zh"]
    done = run_in(folder, [*args, "--format", "csv"])
    assert done.returncode == 0, done.stderr
    rows = {r["community"]: r for r in csv.DictReader(io.StringIO(done.stdout))}
    # s1: a and b tie at 50% (1, 1), c 20% is third; d alone in s2; s1 12/30 = 40% is
    # ahead of s2 1/4 = 25%
    assert {key: rows[key]["rank"] for key in rows} == {
        "a": "1",
        "b": "1",
        "c": "3",
        "d": "1",
        "s1": "1",
        "s2": "2",
        "*": "",
    }
    document = json.loads(run_in(folder, [*args, "--format", "json"]).stdout)
    assert [r["rank"] for r in document["results"]] == [1, 1, 3, 1, 1, 2, None]
    table = run_in(folder, [*args]).stdout
    assert "排名" in table


def test_the_page_ranks_per_street_office(folder: Path) -> None:
    done = run_in(folder, ["compute", "--format", "html", "--lang", "en"])
    assert done.returncode == 0, done.stderr
    section = done.stdout.split('<section id="ranking">')[1].split("</section>")[0]
    assert section.count("<table>") == 2  # 一街道 and 二街道
    assert "一街道, 2026-11" in section and "二街道, 2026-11" in section
    first = section.split("二街道")[0]
    # within 一街道, participation is listed 甲 1, 乙 1, 丙 3
    assert first.index("甲社区") < first.index("乙社区") < first.index("丙社区")
