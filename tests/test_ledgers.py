"""Real-world ledgers: encodings, dialects, Chinese headers and values, dates, mapping, Excel."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import tempfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from clihelp import run_cli
from hypothesis import HealthCheck, given, settings
from strategies import community_data, write_profile

from svcmetrics.errors import InputError
from svcmetrics.models import ColumnMapping
from svcmetrics.pipeline import Options, run
from svcmetrics.readers import decode, read_csv_text
from svcmetrics.readers.encodings import head_text
from svcmetrics.sniff import bom_codec

FIELDS = ["date", "community", "event", "party", "id", "household", "status", "ticket", "service"]
ZH_HEADERS = ["日期", "社区", "类型", "对象", "编号", "户号", "状态", "单号", "服务项目"]
ZH_VALUES = {
    "event": {"participate": "参与", "benefit": "受益", "need": "需求", "survey": "满意度调查"},
    "party": {"resident": "居民", "unit": "单位"},
    "status": {"met": "已解决", "unmet": "未满足", "pending": "处理中"},
}


# -- encodings -------------------------------------------------------------------------------

TEXT = "日期,社区\n2026-10-03,建国社区\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("gb18030"), "gb18030"),
    ],
)
def test_encoding_detection(data: bytes, expected: str) -> None:
    text, used = decode(data, "f.csv")
    assert used == expected
    assert text.lstrip("\ufeff") == TEXT


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "utf-32"),  # (begins as UTF-16's)
        (codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"), "utf-32"),
        (TEXT.encode("gb18030"), None),
    ],
    ids=["utf-8", "utf-16-be", "utf-16-le", "utf-32-le", "utf-32-be", "none"],
)
def test_a_bom_names_the_same_encoding_wherever_a_log_is_read(
    tmp_path: Path, data: bytes, expected: str | None
) -> None:
    """One function reads a BOM for the whole read, the look at a file's start and the
    copy started early (:func:`svcmetrics.sniff.bom_codec`)."""
    assert bom_codec(data) == expected
    path = tmp_path / "log.csv"
    path.write_bytes(data)
    if expected is not None:
        assert decode(data, "log.csv") == (TEXT, expected)
        assert head_text(path) == TEXT


def test_encoding_override_and_failures() -> None:
    western = "date,community\n2026-10-03,Café\n".encode("cp1252")
    assert decode(western, "f.csv", "cp1252")[0].endswith("Café\n")
    with pytest.raises(InputError) as wrong:
        decode("建国".encode("gb18030"), "f.csv", "utf-8")
    assert wrong.value.key == "wrong_encoding"
    with pytest.raises(InputError) as unknown:
        decode(b"x", "f.csv", "no-such-codec")
    assert unknown.value.key == "unknown_encoding"
    with pytest.raises(InputError) as neither:
        decode(b"date\n\x80", "f.csv")
    assert neither.value.key == "undecodable"


def test_verbose_reports_the_encoding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "gbk.csv"
    log.write_bytes("日期,类型,对象,编号\n2026-10-03,参与,居民,r1\n".encode("gb18030"))
    code, _, err = run_cli(["compute", str(log), "--verbose", "--lang", "en"], capsys)
    assert code == 0, err
    assert "encoding gb18030" in err


# -- dialects ----------------------------------------------------------------------------------


@pytest.mark.parametrize("separator", [",", "\t", ";"])
def test_separators_crlf_and_quoted_line_breaks(separator: str) -> None:
    rows = [
        ["date", "event", "party", "id", "service"],
        ["2026-10-03", "participate", "resident", "r1", "助老\n服务"],
        ["2026-10-04", "participate", "resident", "r2", "保洁"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator, lineterminator="\r\n").writerows(rows)
    source = read_csv_text(buffer.getvalue(), "f.csv", "utf-8", ColumnMapping())
    assert source.columns["id"] == ["r1", "r2"]
    assert source.columns["service"][0] == "助老\n服务"
    assert source.lines == [2, 4]  # the quoted line break moves the next record down


# -- Chinese headers and values, dates ------------------------------------------------------------

ZH_LOG = """日期,社区,类型,对象,编号,户号,状态,单号
2026/10/3,建国社区,参与,居民,r1,h1,,
2026年10月4日,建国社区, 参与 ,居民,r2,h1,,
2026.10.5,建国社区,受益,居民,r3,h2,,
2026-10-06 09:30:00,建国社区,受益,单位,u1,,,
2026-10-07,建国社区,需求,居民,r3,h2,处理中,N1
2026-11-02,建国社区,需求,居民,r3,h2,已解决,N1
2026-10-08,建国社区,需求,居民,r4,h3,未解决,N2
2026-10-09,建国社区,满意度调查,居民,r1,h1,非常满意,
2026-10-09,建国社区,调查,居民,r2,h1,一般,
"""

PROFILE = """communities:
  - {id: jianguo, name: 建国社区, residents: 40, residents_capable: 10, households: 8, units: 4}
"""


def test_chinese_headers_values_and_dates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_bytes(ZH_LOG.encode("gb18030"))
    (tmp_path / "p.yaml").write_text(PROFILE, encoding="utf-8")
    report = run(Options(logs=("log.csv",), profile=Path("p.yaml")))
    by = {(r.community, r.period, r.indicator): r for r in report.results}
    october = {key[2]: (r.numerator, r.denominator) for key, r in by.items() if key[1] == "2026-10"}
    assert october["resident_participation"] == (2, 10)
    assert october["resident_benefit"] == (1, 8)
    assert october["unit_benefit"] == (1, 4)
    assert october["need_satisfaction"] == (1, 2)  # N1 raised in October, met in November
    assert october["resident_satisfaction"] == (1, 2)


def test_day_first_file_needs_a_date_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text(
        "date,event,party,id\n03/10/2026,participate,resident,r1\n21/10/2026,participate,resident,r2\n"
    )
    with pytest.raises(InputError) as error:
        run(Options(logs=("log.csv",)))
    [problem] = error.value.problems
    # 21/10/2026 can only be day first, so the file is day-first: the format to set is named
    assert problem.kind == "unstated_date_format" and problem.line == 2
    assert problem.params["month_first"] == "2026-03-10"
    assert problem.params["day_first"] == "2026-10-03"
    assert problem.params["format"] == "%d/%m/%Y"
    (tmp_path / "svcmetrics.yaml").write_text("date_format: '%d/%m/%Y'\n")
    report = run(Options(logs=("log.csv",)))
    assert [r.period for r in report.results][:1] == ["2026-10"]
    assert next(r for r in report.results if r.indicator == "resident_participation").numerator == 2


def test_unmapped_value_is_invalid_with_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text(
        "date,event,party,status,ticket\n2026-10-03,need,resident,In Progress,1\n"
    )
    code, _, err = run_cli(["compute", "log.csv", "--lang", "en"], capsys)
    assert code == 3
    assert "'In Progress' is not recognised" in err and "values:" in err
    (tmp_path / "svcmetrics.yaml").write_text("values: {status: {In Progress: pending}}\n")
    code, out, _ = run_cli(["compute", "log.csv", "--format", "csv"], capsys)
    assert code == 0
    need = next(
        r for r in csv.DictReader(io.StringIO(out)) if r["indicator"] == "need_satisfaction"
    )
    assert (need["numerator"], need["denominator"]) == ("0", "1")


def test_values_must_map_to_a_canonical_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mapping to a value svcmetrics does not know is a config error (event, party,
    category), and a need status mapped to a non-status is an invalid row, not a silent one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text(
        "date,event,party,id,status,ticket\n"
        "2026-10-03,参加,resident,r1,,\n"
        "2026-10-04,need,resident,r2,Closed,T1\n"
    )
    (tmp_path / "svcmetrics.yaml").write_text("values: {event: {参加: volunteer}}\n")
    code, _, err = run_cli(["compute", "log.csv", "--lang", "en"], capsys)
    assert code == 3
    assert "maps event '参加' to 'volunteer'" in err and "participate, benefit" in err
    (tmp_path / "svcmetrics.yaml").write_text(
        "values: {event: {参加: participate}, status: {Closed: done}}\n"
    )
    code, _, err = run_cli(["compute", "log.csv", "--lang", "en"], capsys)
    assert code == 3
    assert "status value 'done' is not recognised" in err and "log.csv:3" in err


def test_constant_for_a_column_the_file_has_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text("date,event,party,id\n2026-10-03,participate,resident,r1\n")
    (tmp_path / "svcmetrics.yaml").write_text("constants: {event: need}\n")
    code, _, err = run_cli(["compute", "log.csv", "--lang", "en"], capsys)
    assert code == 3 and "cannot also be a constant" in err


# -- validate --------------------------------------------------------------------------------------


def test_validate_names_each_problem_on_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        "date,event,party,id\n"
        "2026-10-03,participate,resident,r1\n"
        "2026-10-32,participate,resident,r2\n"
        "2026-10-04,volunteer,resident,r3\n"
        "2026-10-05,participate,resident,\n"
    )
    code, out, _ = run_cli(["validate", str(log), "--format", "json", "--lang", "en"], capsys)
    assert code == 3
    document = json.loads(out)
    found = {(p["line"], p["kind"], p["column"]) for p in document["problems"]}
    assert found == {(3, "bad_date", "date"), (4, "bad_value", "event"), (5, "missing_value", "id")}
    assert document["by_kind"] == {"bad_date": 1, "bad_value": 1, "missing_value": 1}
    assert all(p["message"] and p["hint"] for p in document["problems"])
    code, out, _ = run_cli(["validate", str(log), "--lang", "zh"], capsys)
    assert code == 3
    assert "log.csv:3" in out and "log.csv:4" in out and "log.csv:5" in out
    assert "日期无效: 1" in out


def test_validate_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.csv"
    future = (dt.date.today() + dt.timedelta(days=40)).isoformat()
    log.write_text(
        "date,community,event,party,id\n"
        "2026-10-03,建国 社区,participate,resident,r1\n"
        "2026-10-03,建国社区,participate,resident,1.23457E+17\n"
        "2026-10-03,建国社区,participate,resident,1.23457E+17\n"
        f"{future},建国社区,participate,resident,r4\n"
    )
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE)
    code, out, _ = run_cli(
        ["validate", str(log), "--profile", str(profile), "--format", "json"], capsys
    )
    assert code == 3  # the unknown community is an invalid row (spec 1.2)
    problems = json.loads(out)["problems"]
    kinds = {(p["line"], p["kind"], p["severity"]) for p in problems}
    assert (2, "unknown_community", "error") in kinds
    assert (4, "duplicate_row", "warning") in kinds
    assert (3, "mangled_id", "warning") in kinds
    assert (5, "future_date", "warning") in kinds
    unknown = next(p for p in problems if p["kind"] == "unknown_community")
    assert "建国社区" in unknown["hint"]


def test_validate_clean_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.csv"
    log.write_text("date,event,party,id\n2026-10-03,participate,resident,r1\n")
    code, out, _ = run_cli(["validate", str(log), "--lang", "en"], capsys)
    assert code == 0 and "The 1 row is valid." in out


# -- the same records in every format -------------------------------------------------------------


def _write_all_formats(records: list[dict[str, str]], folder: Path) -> list[str]:
    """The records as UTF-8 CSV, GB18030 Chinese CSV, BOM CSV, TSV, xlsx, YAML and Parquet."""
    paths = []
    for name, encoding, delimiter in (
        ("plain.csv", "utf-8", ","),
        ("bom.csv", "utf-8-sig", ","),
        ("tabs.tsv", "utf-8", "\t"),
    ):
        with open(folder / name, "w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(FIELDS)
            writer.writerows([[r.get(f, "") for f in FIELDS] for r in records])
        paths.append(name)
    with open(folder / "chinese.csv", "w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ZH_HEADERS)
        for record in records:
            day = dt.date.fromisoformat(record["date"])
            row = [f"{day.year}/{day.month}/{day.day}"]
            for field in FIELDS[1:]:
                value = record.get(field, "")
                row.append(ZH_VALUES.get(field, {}).get(value, value))
            writer.writerow(row)
    paths.append("chinese.csv")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(FIELDS)
    for record in records:
        cells: list[object] = [dt.date.fromisoformat(record["date"])]
        cells += [record.get(f) or None for f in FIELDS[1:]]
        sheet.append(cells)
    book.save(folder / "book.xlsx")
    paths.append("book.xlsx")
    (folder / "log.yaml").write_text(
        yaml.safe_dump(
            {"records": [{f: str(r.get(f, "")) for f in FIELDS} for r in records]},
            allow_unicode=True,
            default_style='"',
        ),
        encoding="utf-8",
    )
    paths.append("log.yaml")
    columns = {f: [r.get(f) or None for r in records] for f in FIELDS}
    columns["date"] = [dt.date.fromisoformat(r["date"]) for r in records]
    pq.write_table(pa.table(columns), folder / "log.parquet")
    paths.append("log.parquet")
    return paths


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=community_data(min_records=1, max_records=25))
def test_same_records_same_results_in_every_format(
    data: tuple[list[dict[str, str]], dict[str, object]],
) -> None:
    records, profile = data
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        write_profile(profile, folder / "profile.yaml")
        results = {}
        for path in _write_all_formats(records, folder):
            report = run(Options(logs=(str(folder / path),), profile=folder / "profile.yaml"))
            results[path] = [
                (
                    r.level,
                    r.community,
                    r.period,
                    r.indicator,
                    r.numerator,
                    r.denominator,
                    r.sample_size,
                )
                for r in report.results
            ]
        first = results["plain.csv"]
        assert first
        for path, found in results.items():
            assert found == first, path


# -- a profile kept as a table -------------------------------------------------------------------


def test_profile_as_csv_or_excel_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text(
        "date,community,event,party,id,household\n"
        "2026-10-03,jianguo,participate,resident,r1,h1\n"
        "2026-10-04,共乐社区,benefit,resident,g1,gh1\n"
    )
    table = [
        ["社区编号", "名称", "上级", "居民数", "有服务能力居民数", "户数", "单位数"],
        ["jianguo", "建国社区", "daoli", "40", "10", "8", "4"],
        ["gongle", "共乐社区", "daoli", "30", "5", "6", "2"],
    ]
    (tmp_path / "p.csv").write_bytes(
        "\n".join(",".join(row) for row in table).encode("gb18030") + b"\n"
    )
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(table[0])
    for row in table[1:]:
        sheet.append([*row[:3], *(int(cell) for cell in row[3:])])
    book.save(tmp_path / "p.xlsx")
    results = []
    for profile in ("p.csv", "p.xlsx"):
        report = run(Options(logs=("log.csv",), profile=Path(profile)))
        results.append(
            {(r.community, r.indicator): (r.numerator, r.denominator) for r in report.results}
        )
    assert results[0] == results[1]
    assert results[0][("jianguo", "resident_participation")] == (1, 10)
    assert results[0][("gongle", "resident_benefit")] == (1, 6)
    assert results[0][("daoli", "resident_participation")] == (1, 15)


def test_profile_table_with_a_fraction_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.csv").write_text("date,event,party,id\n2026-10-03,participate,resident,r1\n")
    (tmp_path / "p.csv").write_text("社区编号,户数\njianguo,8.5\n")
    with pytest.raises(InputError) as error:
        run(Options(logs=("log.csv",), profile=Path("p.csv")))
    [problem] = error.value.problems
    assert (problem.column, problem.value) == ("communities[jianguo].households", "8.5")
