"""Logs as offices keep them (spec 1.4): titles, total rows, Traditional Chinese, Excel ids,
Big5, and messages that say what to do in the worker's language."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from clihelp import LOG, run_cli

from svcmetrics.models import LogMapping
from svcmetrics.readers import choose_legacy, decode, decode_noted, read_csv_text

TITLE = "建国社区服务台账(2026年),,,,,,,,\n,,,,,,,,\n"


def _results(out: str) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(community, period, indicator) → (numerator, denominator) of a CSV output."""
    return {
        (row["community"], row["period"], row["indicator"]): (row["numerator"], row["denominator"])
        for row in csv.DictReader(io.StringIO(out))
        if row["level"] == "community"
    }


def _compute(
    path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[tuple[str, str, str], tuple[str, str]], str]:
    code, out, err = run_cli(["compute", str(path), "--format", "csv", *extra], capsys)
    return code, _results(out) if code == 0 else {}, err


def _validate(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code, out, _ = run_cli(["validate", str(path), "--format", "json", *extra], capsys)
    found: dict[str, Any] = json.loads(out)
    found["code"] = code
    return found


@pytest.fixture
def reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[Any, Any]:
    """The results of the plain log, for the office forms of it to equal."""
    plain = tmp_path / "plain.csv"
    plain.write_text(LOG, encoding="utf-8")
    code, results, _ = _compute(plain, capsys)
    assert code == 0
    return results


# -- title rows ------------------------------------------------------------------------------


def test_a_title_and_a_blank_row_above_the_header_are_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reference: dict[Any, Any]
) -> None:
    log = tmp_path / "ledger.csv"
    log.write_text(TITLE + LOG, encoding="utf-8")
    code, results, err = _compute(log, capsys)
    assert code == 0, err
    assert results == reference
    checked = _validate(log, capsys, "--lang", "en")
    assert checked["code"] == 0 and checked["rows"] == 8
    # lines still point at the file's lines: the third record is on line 6
    bad = log.read_text(encoding="utf-8").replace("r3,h2,,,助老", "r3,h2,,,助老".replace("r3", ""))
    log.write_text(bad, encoding="utf-8")
    problems = _validate(log, capsys, "--lang", "en")["problems"]
    assert [(p["line"], p["kind"]) for p in problems] == [(6, "missing_value")]


def test_a_title_row_in_an_excel_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reference: dict[Any, Any]
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["建国社区服务台账(2026年)"])
    sheet.merge_cells("A1:I1")
    sheet.append([])
    for row in csv.reader(io.StringIO(LOG)):
        sheet.append(row)
    book.save(tmp_path / "ledger.xlsx")
    code, results, err = _compute(tmp_path / "ledger.xlsx", capsys)
    assert code == 0, err
    assert results == reference


def test_header_row_in_a_log_s_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # the second row names the columns for people; the third is the header to read
    (tmp_path / "ledger.csv").write_text(
        TITLE.splitlines()[0] + "\n日期,社区,类型,对象,编号,户号,状态,单号,服务项目\n" + LOG,
        encoding="utf-8",
    )
    config = {"logs": [{"path": "ledger.csv", "header_row": 3}]}
    (tmp_path / "svcmetrics.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    code, out, err = run_cli(["validate", "--lang", "en"], capsys)
    assert code == 0, err
    assert "8 rows" in out
    config["logs"][0]["header_row"] = 1  # type: ignore[index]
    (tmp_path / "svcmetrics.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    code, _, err = run_cli(["validate", "--lang", "en"], capsys)
    assert code == 3 and "lacks required columns: date, event, party" in err


def test_header_row_must_be_a_row_number() -> None:
    with pytest.raises(ValueError):
        LogMapping(header_row=0)


# -- total rows ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "where"),
    [
        ("合计,,,,,,,,,", "first"),  # the first cell (an unmapped 序号 column)
        ("合　计:,,,,,,,,,", "first"),
        (",2026-10-31,總計,,,,,,,", "community"),
        (",,,,,Total,,,,", "id"),
        (",,小計,,,,,,,", "first"),
    ],
)
@pytest.mark.parametrize("title", [False, True], ids=["engine-reads", "python-reads"])
def test_a_total_row_is_an_invalid_row_that_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], total: str, where: str, title: bool
) -> None:
    rows = LOG.splitlines()
    body = [f"序号,{row}" if n == 0 else f"{n},{row}" for n, row in enumerate(rows)]
    text = "\n".join([*body, total, ""])
    log = tmp_path / "ledger.csv"
    log.write_text((TITLE if title else "") + text, encoding="utf-8")
    checked = _validate(log, capsys, "--lang", "en")
    assert checked["code"] == 3
    assert checked["by_kind"] == {"total_row": 1}  # one problem, not one per empty cell
    (problem,) = checked["problems"]
    assert problem["line"] == len(rows) + 1 + (2 if title else 0)
    assert "total row" in problem["message"]
    code, _, err = run_cli(["compute", str(log), "--lang", "zh"], capsys)
    assert code == 3 and "合计行" in err


# -- Traditional Chinese ---------------------------------------------------------------------

TRADITIONAL = """日期,社區,類型,對象,編號,戶號,狀態,單號,服務項目,服務類別
2026-10-03,jianguo,參與,居民,r1,h1,,,助老,特殊群體服務
2026-10-09,jianguo,參與,居民,r2,h1,,,保洁,一般居民服务
2026-10-04,jianguo,受益,居民,r3,h2,,,助老,特殊群體服務
2026-10-10,jianguo,需求,居民,r3,h2,處理中,N-1,助老,
2026-11-02,jianguo,需求,居民,r3,h2,已滿足,N-1,助老,
2026-10-21,jianguo,滿意度調查,居民,r1,h1,滿意,,,
2026-10-22,jianguo,調查,居民,r2,h1,不滿意,,,
2026-10-11,gongle,參與,居民,g1,gh1,,,助老,
2026-10-12,gongle,參與,單位,u1,,,,,單位後勤服務
2026-10-23,gongle,調查,居民,g1,gh1,說不清,,,
"""


def test_traditional_headers_and_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reference: dict[Any, Any]
) -> None:
    log = tmp_path / "ledger.csv"
    log.write_text(TRADITIONAL, encoding="utf-8")
    code, results, err = _compute(log, capsys)
    assert code == 0, err
    assert results[("gongle", "2026-10", "unit_participation")][0] == "1"
    # without the unit row and the excluded answer, the numbers are the simplified log's
    del results[("gongle", "2026-10", "unit_participation")]
    assert {key: value for key, value in reference.items() if key in results} == results


# -- Excel number ids ------------------------------------------------------------------------


def test_excel_number_ids_are_never_given_invented_digits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["date", "event", "party", "id", "household"])
    sheet.append(["2026-10-03", "participate", "resident", 110101199001011234, 1103])
    sheet.append(["2026-10-04", "participate", "resident", 110101199001011236, 1104])
    sheet.append(["2026-10-05", "participate", "resident", 110101199001011, 1105])  # 15 digits
    sheet.append(["2026-10-06", "benefit", "resident", 1103, 120000000000000000])
    book.save(tmp_path / "ledger.xlsx")
    checked = _validate(tmp_path / "ledger.xlsx", capsys, "--lang", "en")
    mangled = [(p["line"], p["value"]) for p in checked["problems"] if p["kind"] == "mangled_id"]
    # the two 18-digit ids are kept as Excel shows them (so they stay equal), and warned
    assert mangled == [(2, "1.10101199001011E+17"), (3, "1.10101199001011E+17")]
    assert checked["by_kind"] == {"mangled_id": 2}
    # at most 15 significant digits are the number's digits, in id and household alike
    log = tmp_path / "ledger.xlsx"
    code, out, _ = run_cli(["compute", str(log), "--format", "json", "--lang", "en"], capsys)
    assert code == 0
    results = {r["indicator"]: r for r in json.loads(out)["results"] if r["level"] == "community"}
    assert results["resident_participation"]["numerator"] == 2  # 1.10…E+17 and 110101199001011


# -- encodings -------------------------------------------------------------------------------

BIG5_ENGLISH = "date,community,event,party,id,service\n" + "".join(
    f"2026-10-0{n % 9 + 1},建國里,participate,resident,r{n},長者關懷據點共餐服務\n"
    for n in range(12)
)
BIG5_CHINESE = (
    BIG5_ENGLISH.replace("date,community,event,party,id", "日期,社區,類型,對象,編號")
    .replace("service\n", "服務項目\n")
    .replace("participate", "參與")
    .replace("resident", "居民")
)


@pytest.mark.parametrize("text", [BIG5_ENGLISH, BIG5_CHINESE], ids=["english", "chinese"])
@pytest.mark.parametrize("command", ["compute", "validate"])
def test_a_big5_ledger_is_read_as_big5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, command: str
) -> None:
    log = tmp_path / "ledger.csv"
    log.write_bytes(text.encode("cp950"))
    args = [command, str(log), "--lang", "en", "--by", "service", "--format", "csv"]
    if command == "validate":
        args = [command, str(log), "--lang", "en"]
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    if command == "compute":
        assert "建國里" in out and "長者關懷據點共餐服務" in out
    stated = "read as big5" in out + err and "--encoding gb18030" in out + err
    # English headers cannot tell the encodings apart: the choice is stated; Chinese can
    assert stated == (text == BIG5_ENGLISH)


def test_gb18030_and_big5_decided_by_the_headers_then_the_characters() -> None:
    simplified = "日期,社区,类型,对象,编号\n2026-10-03,建国社区,参与,居民,r1\n"
    text, used, notes = decode_noted(simplified.encode("gb18030"), "f.csv")
    assert (text, used, notes) == (simplified, "gb18030", [])
    text, used, notes = decode_noted(BIG5_CHINESE.encode("cp950"), "f.csv")
    assert (text, used, notes) == (BIG5_CHINESE, "cp950", [])
    text, used, notes = decode_noted(BIG5_ENGLISH.encode("cp950"), "f.csv")
    assert (text, used, [n.kind for n in notes]) == (BIG5_ENGLISH, "cp950", ["encoding_guess"])
    english = "date,community\n2026-10-03,建国社区服务中心\n"
    assert decode(english.encode("gb18030"), "f.csv") == (english, "gb18030")
    # both decodings read; neither has headers known; fewer uncommon characters wins
    choice = choose_legacy({"gb18030": "名称\n建国", "cp950": "名称\nら戳"})
    assert (choice.codec, choice.other) == ("gb18030", "cp950")


def test_a_decoding_with_private_use_characters_is_never_silent() -> None:
    # FEFE: private use in GB18030, nothing in Big5; so GB18030 is the only candidate
    data = b"date,community\n2026-10-03,\xfe\xfe\n"
    text, used, notes = decode_noted(data, "f.csv")
    assert (used, text[-2]) == ("gb18030", "\ue4c5")
    assert [note.kind for note in notes] == ["encoding_private_use"]
    assert notes[0].params["other"] == "big5"


def test_garbled_headers_suggest_the_other_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "ledger.csv"
    # headers no encoding reads as known ones, and fewer uncommon characters in GB18030
    log.write_bytes("日期时间,社区名,活动\n2026-10-03,建国,参与\n".encode("gb18030"))
    code, _, err = run_cli(["validate", str(log), "--lang", "en", "--encoding", "gb18030"], capsys)
    assert code == 3 and "lacks required columns" in err
    big5 = "日期時間,社區名,活動\n2026-10-03,建國,參與\n".encode("cp950")
    log.write_bytes(big5)
    code, _, err = run_cli(["validate", str(log), "--lang", "en"], capsys)
    assert code == 3
    assert "--encoding" in err


# -- messages in the worker's language -------------------------------------------------------


def test_missing_columns_named_in_chinese_with_a_mapping_to_paste(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "ledger.csv"
    log.write_text(
        "服务日期,社区,活动类型,对象,编号\n2026-10-03,建国,参与,居民,r1\n", encoding="utf-8"
    )
    code, _, err = run_cli(["validate", "ledger.csv", "--lang", "zh"], capsys)
    assert code == 3
    assert "缺少必需的列:日期、类型" in err and "date" not in err.split("→")[0]
    code, _, err = run_cli(["validate", "ledger.csv", "--lang", "en"], capsys)
    assert "lacks required columns: date, event" in err
    snippet = err[err.index("columns: {") :].splitlines()[0]
    assert yaml.safe_load(snippet) == {"columns": {"date": "服务日期", "event": "活动类型"}}
    (tmp_path / "svcmetrics.yaml").write_text(snippet + "\n", encoding="utf-8")
    code, out, err = run_cli(["validate", "ledger.csv", "--lang", "en"], capsys)
    assert code == 0, err


def test_allowed_values_in_the_output_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "ledger.csv"
    log.write_text("日期,类型,对象,编号,状态\n2026-10-03,需求,居民,r1,已办结\n", encoding="utf-8")
    code, out, _ = run_cli(["validate", str(log), "--lang", "zh"], capsys)
    assert code == 3
    assert "可用的值:已满足、未满足、处理中" in out and "met" not in out
    code, out, _ = run_cli(["validate", str(log), "--lang", "en"], capsys)
    assert "use one of: met, unmet, pending" in out


def test_the_satisfaction_hint_gives_the_whole_list_to_paste(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ledger.csv").write_text(
        "日期,类型,对象,编号,状态\n"
        "2026-10-03,调查,居民,r1,满意\n"
        "2026-10-03,调查,居民,r2,非常满意\n"
        "2026-10-03,调查,居民,r3,挺好\n"
        "2026-10-03,调查,居民,r4,不满意\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli(["validate", "ledger.csv", "--lang", "en"], capsys)
    assert code == 3 and "REPLACES the defaults" in out
    pasted = re.search(r"paste (satisfaction: \{satisfied: \[.*?\]\})", out)
    assert pasted is not None
    (tmp_path / "svcmetrics.yaml").write_text(pasted.group(1) + "\n", encoding="utf-8")
    code, out, err = run_cli(["compute", "ledger.csv", "--format", "json"], capsys)
    assert code == 0, err  # 满意 and 非常满意 still count, and 挺好 now does
    (result,) = [r for r in json.loads(out)["results"] if r["indicator"] == "resident_satisfaction"]
    assert (result["numerator"], result["denominator"]) == (3, 4)
    code, _, err = run_cli(["validate", "ledger.csv", "--lang", "zh"], capsys)
    assert code == 0


def test_a_day_that_does_not_exist_and_an_excel_serial_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "ledger.csv"
    log.write_text(
        "date,event,party,id\n"
        "2026-11-31,participate,resident,r1\n"
        "2025-02-29,participate,resident,r2\n"
        "46331,participate,resident,r3\n"
        "2026-13-01,participate,resident,r4\n"
        "2026年11月31日,participate,resident,r5\n",
        encoding="utf-8",
    )
    checked = _validate(log, capsys, "--lang", "en")
    kinds = [(p["line"], p["kind"]) for p in checked["problems"]]
    assert kinds == [
        (2, "no_such_day"),
        (3, "no_such_day"),
        (4, "excel_serial_date"),
        (5, "bad_date"),
        (6, "no_such_day"),
    ]
    serial = checked["problems"][2]
    assert "Excel serial number" in serial["message"] and "2026-11-05" in serial["message"]


# -- issue 13 point 6: the readers' part -----------------------------------------------------


def test_a_long_cell_after_a_multi_line_cell_keeps_line_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = "x" * 200_000
    log = tmp_path / "ledger.csv"
    log.write_text(
        "date,event,party,id,service\n"
        '2026-10-03,participate,resident,r1,"two\nlines"\n'
        f"2026-10-04,participate,resident,r2,{long}\n"
        "2026-10-05,nonsense,resident,r3,\n",
        encoding="utf-8",
    )
    checked = _validate(log, capsys, "--lang", "en")
    assert [(p["line"], p["kind"]) for p in checked["problems"]] == [(5, "bad_value")]


@pytest.mark.parametrize("null", ["~", "null", "Null", "NULL", ""])
def test_a_yaml_null_is_an_empty_value(null: str) -> None:
    text = f"- {{date: 2026-10-03, event: participate, party: resident, id: {null}}}\n"
    text += f"- date: 2026-10-03\n  event: participate\n  party: resident\n  id: {null}\n"
    from svcmetrics.readers import read_yaml_text

    source = read_yaml_text(text, "log.yaml", "utf-8", LogMapping())
    assert source.columns["id"] == [None, None]
    quoted = read_yaml_text(text.replace(f"id: {null}", f"id: '{null}'"), "l", None, LogMapping())
    assert quoted.columns["id"] == [null, null]


def test_python_reader_finds_the_header_under_a_title() -> None:
    source = read_csv_text(TITLE + LOG, "log.csv", "utf-8", LogMapping())
    assert source.lines[0] == 4
    assert source.columns["id"][:2] == ["r1", "r2"]
