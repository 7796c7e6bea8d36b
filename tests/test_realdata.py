"""Public real-world files (``../shared/realdata``), read as they are through a mapping.

Each expected number is counted independently here with the csv module. The tests skip
when the folder is absent.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from svcmetrics.errors import InputError
from svcmetrics.models import ColumnMapping
from svcmetrics.periods import PeriodKind
from svcmetrics.pipeline import Options, run
from svcmetrics.readers import read_log

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
pytestmark = pytest.mark.skipif(not REALDATA.is_dir(), reason="shared/realdata is absent")

BOSTON = """logs:
  - path: {path}
    columns:
      {{date: open_dt, community: neighborhood, ticket: case_enquiry_id, status: case_status}}
    constants: {{event: need, party: resident}}
    values: {{status: {{Closed: met, Open: unmet}}}}
{extra}"""


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "svcmetrics.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _boston(tmp_path: Path, name: str, date_format: str) -> dict[str, tuple[int, int | None]]:
    config = _config(
        tmp_path,
        BOSTON.format(path=REALDATA / name, extra=f"    date_format: '{date_format}'\n"),
    )
    report = run(Options(config=config, period=PeriodKind.ALL, skip_invalid=True))
    return {
        r.community: (r.numerator, r.denominator)
        for r in report.results
        if r.level == "community" and r.indicator == "need_satisfaction"
    }


def _boston_by_hand(name: str) -> dict[str, tuple[int, int]]:
    tickets: dict[str, dict[str, str]] = defaultdict(dict)
    with open(REALDATA / name, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["neighborhood"].strip():
                tickets[row["neighborhood"].strip()][row["case_enquiry_id"]] = row["case_status"]
    return {
        hood: (sum(1 for s in states.values() if s == "Closed"), len(states))
        for hood, states in tickets.items()
    }


def test_boston_need_satisfaction_per_neighborhood(tmp_path: Path) -> None:
    found = _boston(tmp_path, "qsv_boston311-100.csv", "%Y-%m-%d %H:%M:%S")
    assert found == _boston_by_hand("qsv_boston311-100.csv")
    assert sum(den or 0 for _, den in found.values()) == 99  # one row has no neighborhood


def test_boston_blank_neighborhood_is_reported_not_dropped(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        BOSTON.format(
            path=REALDATA / "qsv_boston311-100.csv", extra="    date_format: '%Y-%m-%d %H:%M:%S'\n"
        ),
    )
    with pytest.raises(InputError) as error:
        run(Options(config=config))
    [problem] = error.value.problems
    assert (problem.kind, problem.column, problem.line) == ("missing_value", "neighborhood", 2)


def test_boston_day_first_file_with_its_date_format(tmp_path: Path) -> None:
    iso = _boston(tmp_path, "qsv_boston311-100.csv", "%Y-%m-%d %H:%M:%S")
    day_first = _boston(tmp_path, "qsv_boston311-dmy-100.csv", "%d/%m/%Y %H:%M:%S")
    assert day_first == iso


def test_boston_duplicates_count_each_ticket_once(tmp_path: Path) -> None:
    name = "qsv_boston311-100-20dupes-random.csv"
    found = _boston(tmp_path, name, "%Y-%m-%d %H:%M:%S")
    assert found == _boston_by_hand(name)
    config = _config(
        tmp_path,
        BOSTON.format(path=REALDATA / name, extra="    date_format: '%Y-%m-%d %H:%M:%S'\n"),
    )
    report = run(Options(config=config, period=PeriodKind.ALL, skip_invalid=True))
    assert sum(1 for p in report.problems if p.kind == "duplicate_row") == 20


def test_boston_non_ascii_file(tmp_path: Path) -> None:
    found = _boston(tmp_path, "qsv_boston311-100-with-nonascii.csv", "%Y-%m-%d %H:%M:%S")
    assert found == _boston_by_hand("qsv_boston311-100-with-nonascii.csv")


TAIPEI = """logs:
  - path: {path}
    columns: {{community: 行政區, id: 據點名稱}}
    constants: {{event: participate, party: unit, date: 2026-01-15}}
"""


def test_taipei_gb18030_equals_utf8(tmp_path: Path) -> None:
    results = {}
    for name in (
        "taipei_community_care_C_units.csv",
        "taipei_community_care_C_units.DERIVED-gb18030.csv",
    ):
        config = _config(tmp_path, TAIPEI.format(path=REALDATA / "taipei" / name))
        report = run(Options(config=config))
        results[name] = {
            r.community: r.numerator
            for r in report.results
            if r.level == "community" and r.indicator == "unit_participation"
        }
    utf8, gb = results.values()
    assert utf8 == gb
    by_hand: dict[str, set[str]] = defaultdict(set)
    with open(
        REALDATA / "taipei" / "taipei_community_care_C_units.csv", encoding="utf-8"
    ) as handle:
        for row in csv.DictReader(handle):
            by_hand[row["行政區"].strip()].add(row["據點名稱"].strip())
    assert utf8 == {district: len(names) for district, names in by_hand.items()}


KCMO = """logs:
  - path: {path}
    columns: {{community: counci, id: id, status: q1_01}}
    constants: {{event: survey, party: resident, date: 2022-09-30}}
satisfaction:
  satisfied: ['4', '5']
  not_satisfied: ['1', '2', '3']
  excluded: ['9']
"""


def test_kansas_city_satisfaction_by_council_district(tmp_path: Path) -> None:
    config = _config(tmp_path, KCMO.format(path=REALDATA / "kcmo_resident_survey_2022q3.csv"))
    report = run(Options(config=config, skip_invalid=True))
    found = {
        r.community: (r.numerator, r.denominator, r.sample_size)
        for r in report.results
        if r.level == "community" and r.indicator == "resident_satisfaction"
    }
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with open(REALDATA / "kcmo_resident_survey_2022q3.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            answer = row["q1_01"].strip()
            if not row["counci"].strip() or answer in ("", "9"):
                continue
            counts[row["counci"].strip()][1] += 1
            counts[row["counci"].strip()][0] += answer in ("4", "5")
    assert found == {district: (s, n, n) for district, (s, n) in counts.items()}
    assert len(found) == 6
    assert all(
        r.ci_low is not None
        for r in report.results
        if r.indicator == "resident_satisfaction" and r.sample_size
    )


def test_legacy_xls_survey_export() -> None:
    source = read_log(
        str(REALDATA / "wjx" / "wjx_survey_800_gbk.xls"),
        ColumnMapping(
            columns={"id": "序号", "status": "3、性别"},
            constants={"date": "2026-10-20", "event": "survey", "party": "resident"},
        ),
    )
    assert len(source.lines) == 800
    assert source.columns["id"][:3] == ["1", "2", "3"]  # ids stay text, not 1.0
    assert set(source.columns["status"]) == {"男", "女"}
