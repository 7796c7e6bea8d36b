"""The ledger template: its lists, checks and formats, and a filled one read back as a log."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from clihelp import run_cli

from svcmetrics.i18n import label
from svcmetrics.models import Config, Profile, record_columns
from svcmetrics.template import in_language, render_template

PROFILE = """communities:
  - {id: jianguo, name: 建国社区, parent: daoli, residents_capable: 10, households: 8,
     units: 4, residents_65plus: 5}
  - {id: gongle, name: 共乐社区, parent: daoli, residents_capable: 5, households: 6,
     units: 2, residents_65plus: 4}
parents:
  - {id: daoli, name: 道里街道}
"""

CONFIG = """profile: profile.yaml
indicators:
  - key: elderly_checkup
    name: {zh: 65岁以上老人体检率, en: Health checks 65+}
    numerator: {event: checkup, party: resident, count: distinct id}
    denominator: {profile: residents_65plus}
"""

ANSWERS = {
    "zh": {"satisfied": "满意", "dissatisfied": "不满意", "dont_know": "不清楚"},
    "en": {"satisfied": "satisfied", "dissatisfied": "dissatisfied", "dont_know": "don't know"},
}
"""Survey answers as a worker of each language picks them from the 状态 list."""

# (day, community, event, party, id, household, status, ticket, service, category), with
# canonical values; statuses of survey rows name an ANSWERS entry, scores stay as they are.
ROWS: list[tuple[str, ...]] = [
    ("03", "建国社区", "participate", "resident", "0101", "H1", "", "", "助老", "special"),
    ("04", "建国社区", "participate", "resident", "0102", "H1", "", "", "保洁", "general"),
    ("04", "建国社区", "participate", "resident", "0101", "H1", "", "", "助老", "special"),
    ("05", "建国社区", "benefit", "resident", "0103", "0907", "", "", "助老", "special"),
    ("06", "建国社区", "benefit", "resident", "0104", "0907", "", "", "助老", "special"),
    ("06", "建国社区", "benefit", "resident", "0105", "0908", "", "", "", ""),
    ("05", "建国社区", "participate", "unit", "U01", "", "", "", "义诊", "unit"),
    ("07", "建国社区", "need", "resident", "", "", "pending", "N-1", "", ""),
    ("20", "建国社区", "need", "resident", "", "", "met", "N-1", "", ""),
    ("08", "建国社区", "need", "resident", "", "", "unmet", "N-2", "", ""),
    ("10", "建国社区", "survey", "resident", "110101199001011234", "", "satisfied", "", "", ""),
    ("11", "建国社区", "survey", "resident", "110101199001011236", "", "dissatisfied", "", "", ""),
    ("12", "建国社区", "survey", "resident", "X3", "", "5", "", "", ""),
    ("12", "建国社区", "survey", "resident", "X4", "", "dont_know", "", "", ""),
    ("15", "建国社区", "checkup", "resident", "E1", "", "", "", "", ""),
    ("16", "建国社区", "checkup", "resident", "E2", "", "", "", "", ""),
    ("17", "建国社区", "checkup", "resident", "E1", "", "", "", "", ""),
    ("09", "共乐社区", "participate", "resident", "G1", "G-H1", "", "", "", ""),
    ("10", "共乐社区", "benefit", "unit", "U9", "", "", "", "法律咨询", "unit"),
    ("18", "共乐社区", "checkup", "resident", "G2", "", "", "", "", ""),
]

EXPECTED = {
    # worked out by hand from ROWS and PROFILE, November 2026
    ("jianguo", "resident_participation"): ("2", "10"),  # 0101 twice, 0102
    ("jianguo", "unit_participation"): ("1", "4"),
    ("jianguo", "resident_benefit"): ("2", "8"),  # households 0907 (two people) and 0908
    ("jianguo", "unit_benefit"): ("0", "4"),
    ("jianguo", "need_satisfaction"): ("1", "2"),  # N-1 pending then met; N-2 unmet
    ("jianguo", "resident_satisfaction"): ("2", "3"),  # 满意, 5; 不满意; 不清楚 left out
    ("jianguo", "unit_satisfaction"): ("0", "0"),
    ("jianguo", "elderly_checkup"): ("2", "5"),  # E1 twice, E2
    ("gongle", "resident_participation"): ("1", "5"),
    ("gongle", "unit_benefit"): ("1", "2"),
    ("gongle", "need_satisfaction"): ("0", "0"),
    ("gongle", "elderly_checkup"): ("1", "4"),
    ("daoli", "resident_participation"): ("3", "15"),
    ("daoli", "elderly_checkup"): ("3", "9"),
    ("daoli", "resident_satisfaction"): ("2", "3"),
}


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A street office's folder: a config with an event of its own, and a profile."""
    (tmp_path / "profile.yaml").write_text(PROFILE, encoding="utf-8")
    (tmp_path / "svcmetrics.yaml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def lists(book: Any) -> dict[str, list[str]]:
    """Each drop-down list of a template: its workbook name → its values."""
    found = {}
    for name, defined in book.defined_names.items():
        sheet, cells = next(iter(defined.destinations))
        found[name] = [str(row[0].value) for row in book[sheet][cells]]
    return found


def picker(book: Any, lang: str) -> dict[str, dict[str, str]]:
    """Canonical value → the value a worker picks from each list of the template."""
    values = lists(book)
    columns = record_columns()
    choose: dict[str, dict[str, str]] = {}
    for key in ("event", "party", "category"):
        canonical = [value for value, _ in columns[key].values]
        choose[key] = dict(zip(canonical, values[f"svc_{key}"], strict=False))
    choose["event"]["checkup"] = "checkup"
    states = [value for value, _ in columns["status"].values]
    choose["status"] = {**dict(zip(states, values["svc_status"], strict=False)), **ANSWERS[lang]}
    return choose


def fill(path: Path, lang: str) -> None:
    """Fill a template in as a worker would, through openpyxl: ROWS, picked from its lists."""
    book = openpyxl.load_workbook(path)
    ledger = book.worksheets[0]
    choose = picker(book, lang)
    keys = list(record_columns())
    listed = lists(book)
    for number, row in enumerate(ROWS, start=2):
        day, *cells = row
        ledger.cell(number, 1, dt.date(2026, 11, int(day)))
        for column, (key, value) in enumerate(zip(keys[1:], cells, strict=True), start=2):
            if not value:
                continue
            shown = choose.get(key, {}).get(value, value)
            if f"svc_{key}" in listed:
                assert shown in listed[f"svc_{key}"], (key, shown)  # the list offers it
            ledger.cell(number, column, shown)
    book.save(path)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_filled_template_reads_back_with_no_mapping_and_no_problem(
    office: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    code, _, err = run_cli(["template", "ledger.xlsx", "--lang", lang], capsys)
    assert code == 0, err
    fill(office / "ledger.xlsx", lang)
    code, out, err = run_cli(["validate", "ledger.xlsx", "--lang", "en"], capsys)
    assert (code, out.strip(), err) == (0, f"All {len(ROWS)} rows are valid.", "")
    code, out, err = run_cli(["compute", "ledger.xlsx", "-f", "csv", "--lang", "en"], capsys)
    assert code == 0 and err == "", err
    rows = {(r["community"], r["indicator"]): r for r in csv.DictReader(io.StringIO(out))}
    assert {r["period"] for r in rows.values()} == {"2026-11"}
    for key, (numerator, denominator) in EXPECTED.items():
        assert (rows[key]["numerator"], rows[key]["denominator"] or "0") == (
            numerator,
            denominator,
        ), key
    assert rows["jianguo", "resident_satisfaction"]["rate"] == "0.6667"
    assert rows["jianguo", "unit_satisfaction"]["rate"] == ""  # no unit answered: undefined


def template(lang: str = "zh", config: Config | None = None, **profile: Any) -> Any:
    """A template rendered in memory and opened with openpyxl."""
    data = render_template(
        config or Config(),
        Profile.model_validate(profile) if profile else None,
        ["checkup"],
        lang,
        dt.date(2026, 11, 30),
    )
    return openpyxl.load_workbook(io.BytesIO(data))


def validations(sheet: Any) -> dict[str, Any]:
    """A sheet's data validations by the cells they cover."""
    return {str(rule.sqref): rule for rule in sheet.data_validations.dataValidation}


@pytest.mark.parametrize(
    ("lang", "names", "headers"),
    [
        ("zh", ["台账", "说明", "列表"], ["日期", "社区", "类型", "对象", "编号", "户号", "状态"]),
        ("en", ["Ledger", "Notes", "Lists"], ["date", "community", "event", "party", "id"]),
    ],
)
def test_sheets_headers_and_prompts(lang: str, names: list[str], headers: list[str]) -> None:
    book = template(lang, communities=[{"id": "a", "name": "甲社区"}])
    assert book.sheetnames == names
    assert [sheet.sheet_state for sheet in book] == ["visible", "visible", "hidden"]
    ledger = book.worksheets[0]
    row = [cell.value for cell in ledger[1]]
    assert row[: len(headers)] == headers and len(row) == len(record_columns())
    assert ledger.freeze_panes == "A2"
    rules = validations(ledger)
    for number, header in enumerate(row):
        letter = ledger.cell(1, number + 1).column_letter
        prompt = rules[f"{letter}1"]
        assert prompt.promptTitle == header and prompt.prompt, header
        assert rules[f"{letter}2:{letter}1048576"].prompt == prompt.prompt  # while typing too
    notes = [[cell.value for cell in row] for row in book.worksheets[1].iter_rows()]
    explained = {row[0]: row[1] for row in notes if row[0] in headers}
    assert set(explained) == set(headers) and all(explained.values())


def test_lists_checks_and_text_columns() -> None:
    book = template("zh", communities=[{"id": "a", "name": "甲社区"}, {"id": "b"}])
    ledger = book.worksheets[0]
    found = lists(book)
    assert found["svc_community"] == ["甲社区", "b"]  # names, else ids
    assert found["svc_event"] == ["参与", "受益", "需求", "调查", "checkup"]
    assert found["svc_party"] == ["居民", "单位"]
    assert found["svc_category"] == ["特殊群体服务", "一般居民服务", "单位后勤服务"]
    status = found["svc_status"]
    assert status[:3] == ["已满足", "未满足", "处理中"]
    assert {"非常满意", "满意", "基本满意", "不满意", "不清楚", "1", "5"} <= set(status)
    assert "satisfied" not in status  # English words are for the English template
    rules = validations(ledger)
    names = ["community", "event", "party", "status", "category"]
    for letter, name in zip("BCDGJ", names, strict=True):
        rule = rules[f"{letter}2:{letter}1048576"]
        assert (rule.type, rule.formula1) == ("list", f"svc_{name}")
        assert rule.showErrorMessage and rule.error
    date = rules["A2:A1048576"]
    assert date.type == "date" and (date.operator or "between") == "between"  # the default
    first, last = (
        dt.date(1899, 12, 30) + dt.timedelta(days=int(f)) for f in (date.formula1, date.formula2)
    )
    assert (first, last) == (dt.date(1990, 1, 1), dt.date(2027, 11, 30))  # spec 1.2's window
    assert ledger.column_dimensions["A"].number_format == "yyyy-mm-dd"
    for letter in "EFH":  # 编号, 户号, 单号
        assert ledger.column_dimensions[letter].number_format == "@"


def test_the_config_shapes_the_lists() -> None:
    config = Config.model_validate(
        {
            "satisfaction": {"satisfied": ["非常满意", "满意", "基本满意"], "excluded": ["不清楚"]},
            "date_range": {"from": "2020-01-01", "to": "2030-12-31"},
        }
    )
    book = template("zh", config)
    status = lists(book)["svc_status"]
    assert status.count("基本满意") == 1 and "比较满意" not in status  # the list replaces
    assert "不知道" not in status
    assert "svc_community" not in lists(book)  # no profile: communities are typed
    date = validations(book.worksheets[0])["A2:A1048576"]
    assert (int(date.formula1), int(date.formula2)) == (43831, 47848)  # 2020-01-01, 2030-12-31


def test_six_hundred_communities_fit_in_the_list() -> None:
    communities = [{"id": f"c{n:03d}", "name": f"第{n}社区"} for n in range(600)]
    book = template("zh", communities=communities)
    assert lists(book)["svc_community"] == [c["name"] for c in communities]


def test_in_language_keeps_scores_and_falls_back_to_every_word() -> None:
    values = ["满意", "satisfied", "4", "不满意"]
    assert in_language(values, "zh") == ["满意", "4", "不满意"]
    assert in_language(values, "en") == ["satisfied", "4"]
    assert in_language(["good", "bad", "5"], "zh") == ["good", "bad", "5"]


def test_template_never_overwrites(office: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (office / "台账.xlsx").write_bytes(b"filled in")
    code, _, err = run_cli(["template", "--lang", "zh"], capsys)
    assert code == 3 and "台账.xlsx 已存在" in err
    assert (office / "台账.xlsx").read_bytes() == b"filled in"
    code, _, err = run_cli(["template", "missing/ledger.xlsx", "--lang", "en"], capsys)
    assert code == 3 and "Traceback" not in err and "missing" in err


def test_init_writes_a_template_for_the_starter(
    office: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["init", "start", "--lang", "zh"], capsys)
    assert code == 0 and "start/台账.xlsx" in out.split()
    book = openpyxl.load_workbook(office / "start" / "台账.xlsx")
    assert lists(book)["svc_community"] == ["示例社区"]
    assert book.sheetnames[0] == label("template_sheet_ledger", "zh")
