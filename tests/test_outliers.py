"""Outliers (spec 2.8): the modified z-score against the community's previous 12 periods,
counted from the records whether or not they are in the span."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from clihelp import ledger_folder, run_in

from svcmetrics.outliers import modified_z
from svcmetrics.periods import PeriodKind, history_periods, span

HISTORY = [0.40, 0.45, 0.50, 0.50, 0.55, 0.60]
"""Median 0.50; deviations 0.10, 0.05, 0, 0, 0.05, 0.10; MAD 0.05."""


def test_modified_z_by_hand() -> None:
    assert modified_z(0.80, HISTORY) == pytest.approx(0.6745 * 0.30 / 0.05)  # 4.047
    assert modified_z(0.75, HISTORY) == pytest.approx(3.3725)  # below 3.5
    assert modified_z(0.50, HISTORY) == 0


def test_too_short_or_flat_history_gives_no_score() -> None:
    assert modified_z(0.9, HISTORY[:5]) is None  # 5 earlier rates
    # four of six equal: the MAD is 0
    assert modified_z(0.9, [0.5, 0.5, 0.5, 0.5, 0.4, 0.6]) is None


def test_history_periods_reach_back_to_the_data_across_a_year() -> None:
    (november,) = span(PeriodKind.MONTH, dt.date(2026, 11, 1), dt.date(2026, 11, 30), clip=True)
    labels = [p.label for p in history_periods(PeriodKind.MONTH, november, dt.date(2025, 1, 5), 12)]
    assert labels == [f"2025-{m:02d}" for m in range(11, 13)] + [
        f"2026-{m:02d}" for m in range(1, 11)
    ]
    short = history_periods(PeriodKind.MONTH, november, dt.date(2026, 9, 20), 12)
    assert [p.label for p in short] == ["2026-09", "2026-10"]
    (q1,) = span(PeriodKind.QUARTER, dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    quarters = history_periods(PeriodKind.QUARTER, q1, dt.date(2025, 5, 1), 12)
    assert [p.label for p in quarters] == ["2025-Q2", "2025-Q3", "2025-Q4"]
    assert history_periods(PeriodKind.ALL, q1, dt.date(2020, 1, 1), 12) == []


# a: volunteers per month out of 10 capable residents, November 2025 to October 2026, then
# 10 in November 2026. Rates .4 .5 .5 .6 repeated: median .5, six deviations 0 and six
# 0.1, MAD 0.05; November: 0.6745 × 0.5 / 0.05 = 6.745 > 3.5.
# b: records only in October and November 2026: too short a history.
MONTHS = [(2025, 11), (2025, 12)] + [(2026, m) for m in range(1, 11)]
COUNTS = [4, 5, 5, 6] * 3

PROFILE = """\
communities:
  - {id: a, name: 甲社区, residents_capable: 10}
  - {id: b, name: 乙社区, residents_capable: 10}
"""


def _log() -> str:
    rows = ["date,community,event,party,id"]
    for (year, month), people in zip(MONTHS, COUNTS, strict=True):
        rows += [f"{year}-{month:02d}-10,a,participate,resident,A{n}" for n in range(people)]
    rows += [f"2026-11-10,a,participate,resident,A{n}" for n in range(10)]
    rows += ["2026-10-10,b,participate,resident,B1", "2026-11-10,b,participate,resident,B1"]
    return "\n".join(rows) + "\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return ledger_folder(tmp_path, PROFILE, _log())


def _flags(folder: Path, *args: str) -> dict[tuple[str, str], list[str]]:
    done = run_in(
        folder,
        ["compute", "--indicators", "resident_participation", "--format", "json", *args],
    )
    assert done.returncode == 0, done.stderr
    return {
        (r["community"], r["period"]): r["flags"].split(";")
        for r in json.loads(done.stdout)["results"]
        if r["level"] == "community"
    }


def test_a_selected_month_is_judged_against_months_outside_the_span(folder: Path) -> None:
    flags = _flags(folder, "--month", "2026-11")
    assert "outlier" in flags["a", "2026-11"]
    assert "outlier" not in flags["b", "2026-11"]  # one earlier month only


def test_over_the_whole_span_only_november_stands_out(folder: Path) -> None:
    flags = _flags(folder)
    odd = sorted(key for key, value in flags.items() if "outlier" in value)
    assert odd == [("a", "2026-11")]


def test_the_page_lists_the_outlier_with_its_history(folder: Path) -> None:
    done = run_in(folder, ["compute", "--month", "2026-11", "--format", "html", "--lang", "en"])
    section = done.stdout.split('<section id="outliers">')[1].split("</section>")[0]
    assert "甲社区" in section and "乙社区" not in section
    assert "100.0%" in section and "6.7" in section  # the rate and its score 6.745
    assert "2025-11 40.0%, 2025-12 50.0%" in section and "2026-10 60.0%" in section


def test_every_format_shows_the_flag(folder: Path) -> None:
    args = ["compute", "--month", "2026-11", "--indicators", "resident_participation"]
    csv_text = run_in(folder, [*args, "--format", "csv"]).stdout
    assert ",outlier" in csv_text
    table = run_in(folder, [*args, "--lang", "zh"]).stdout
    assert "与本社区历史相比异常" in table
    markdown = run_in(folder, [*args, "--format", "markdown", "--lang", "en"]).stdout
    assert "outlier against its own history" in markdown
