"""The xlsx report (统计报表): numbers as in the CSV, ids as text, statuses coloured, same bytes."""

from __future__ import annotations

import csv
import io
import os
import pty
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from clihelp import run_cli
from python_calamine import CalamineWorkbook

from svcmetrics.i18n import label
from svcmetrics.judge import Status
from svcmetrics.models import ReportConfig
from svcmetrics.output.csvtext import render_csv
from svcmetrics.output.options import RenderOptions
from svcmetrics.output.xlsx import STATUS_COLOURS, period_name, render_xlsx, shown_units
from svcmetrics.pipeline import Options, run
from svcmetrics.report import Report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = Path("examples/svcmetrics.yaml")
LANGS = ("zh", "en")
NUMBER_KEYS = {
    "rank": 0,
    "target_level": 4,
    "numerator": 0,
    "denominator": 0,
    "sample_size": 0,
    "rate": 4,
    "ci_low": 4,
    "ci_high": 4,
    "previous_rate": 4,
    "change": 2,
    "previous_year_rate": 4,
    "change_yoy": 2,
}
"""The numeric keys of the CSV, with the decimals it prints."""


def example(**options: Any) -> Report:
    """The example of examples/ (two communities of one street office, Sep–Nov 2026)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        return run(Options(config=EXAMPLE, **options))


@pytest.fixture(scope="module")
def report() -> Report:
    return example()


def sheets(data: bytes) -> dict[str, list[list[Any]]]:
    """Every sheet of a workbook as python-calamine reads it."""
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def csv_rows(report: Report, lang: str) -> list[dict[str, str]]:
    text = render_csv(report, RenderOptions(lang=lang, neutralise=False))
    return list(csv.DictReader(io.StringIO(text)))


def as_csv(value: Any, key: str) -> str:
    """A cell read back from the workbook, written as the CSV writes that key."""
    if value == "":
        return ""
    if key in NUMBER_KEYS:
        assert isinstance(value, float | int), (key, value)
        return f"{value:.{NUMBER_KEYS[key]}f}"
    assert isinstance(value, str), (key, value)
    return value


@pytest.mark.parametrize("lang", LANGS)
def test_data_sheet_equals_the_csv_cell_for_cell(report: Report, lang: str) -> None:
    book = sheets(render_xlsx(report, RenderOptions(lang=lang)))
    data = book[label("xlsx_sheet_data", lang)]
    expected = csv_rows(report, lang)
    assert data[0] == list(expected[0])
    assert len(data) - 1 == len(expected) == len(report.results)
    for row, record in zip(data[1:], expected, strict=True):
        assert {key: as_csv(value, key) for key, value in zip(data[0], row, strict=True)} == record


def report_rows(rows: list[list[Any]], lang: str) -> dict[tuple[str, str, str], list[Any]]:
    """The report sheet's figures by (period name, unit name, indicator name)."""
    header = next(n for n, row in enumerate(rows) if row[0] == label("xlsx_unit", lang))
    found: dict[tuple[str, str, str], list[Any]] = {}
    period = unit = ""
    for row in rows[header + 1 :]:
        if row[0] and not any(row[1:]):
            period = row[0]
            continue
        if not row[1]:  # the notes and the signatures under the table
            break
        unit = row[0].strip() or unit
        found[period, unit, row[1]] = row[2:]
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_report_sheet_figures_equal_the_csv(report: Report, lang: str) -> None:
    rows = sheets(render_xlsx(report, RenderOptions(lang=lang)))[label("xlsx_sheet_report", lang)]
    figures = report_rows(rows, lang)
    shown = {unit.id for unit, _ in shown_units(report.units)}
    expected = [record for record in csv_rows(report, lang) if record["community"] in shown]
    assert len(figures) == len(expected)
    previous: dict[tuple[str, str], str] = {}
    for record in expected:
        key = (period_name(record["period"], lang), record["community_name"])
        rate, numerator, denominator, before, change, year, change_yoy, rank, status, _ = figures[
            (*key, record["indicator_name"])
        ]
        assert rate == "—" if record["rate"] == "" else as_csv(rate, "rate") == record["rate"]
        assert as_csv(numerator, "numerator") == record["numerator"]
        assert (
            denominator == "—"
            if not record["denominator"]
            else (as_csv(denominator, "denominator") == record["denominator"])
        )
        assert as_csv(change, "change") == record["change"]
        assert as_csv(year, "rate") == record["previous_year_rate"]
        assert as_csv(change_yoy, "change_yoy") == record["change_yoy"]
        assert as_csv(rank, "rank") == record["rank"]
        word = label(f"status_{record['status']}", lang) if record["status"] else ""
        assert status == word
        # 上期 is the rate of the same row one period earlier (empty when that period has
        # no record of the community, spec 2.8)
        earlier = previous.get((record["community"], record["indicator"]), "")
        assert as_csv(before, "rate") == record["previous_rate"]
        assert record["previous_rate"] in ("", earlier)
        previous[record["community"], record["indicator"]] = record["rate"]


def test_previous_rate_reaches_before_the_selected_month(report: Report) -> None:
    """--month 2026-11 still shows October's rate as 上期, as the change does."""
    november = example(month="2026-11")
    rows = sheets(render_xlsx(november, RenderOptions(lang="en")))["Report"]
    figures = report_rows(rows, "en")
    october = {
        (r["community_name"], r["indicator_name"]): r["rate"]
        for r in csv_rows(report, "en")
        if r["period"] == "2026-10"
    }
    checked = 0
    for (period, unit, indicator), cells in figures.items():
        assert period == "2026-11"
        assert as_csv(cells[3], "rate") == october[unit, indicator]
        checked += cells[3] != ""
    assert checked > 10


def test_a_rollup_that_repeats_its_one_child_is_left_out_of_the_report_sheet(
    report: Report,
) -> None:
    """道里区 pools exactly 道里街道, and the total too: the clerk's sheet shows the street
    office and its communities; the data sheet keeps every row."""
    rows = sheets(render_xlsx(report, RenderOptions(lang="zh")))["报表"]
    units = {unit for _, unit, _ in report_rows(rows, "zh")}
    assert units == {"道里街道", "建国社区", "共乐社区"}
    data = sheets(render_xlsx(report, RenderOptions(lang="zh")))["数据"]
    assert {row[2] for row in data[1:]} == {
        "道里区",
        "道里街道",
        "建国社区",
        "共乐社区",
        "全部社区",
    }


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Communities whose ids look like numbers (0101 of street office 01, 0102 of 02, both in
    district 9), and a bad row."""
    (tmp_path / "profile.yaml").write_text(
        "communities:\n"
        "  - {id: '0101', name: 一社区, parent: '01', residents_capable: 10, households: 8}\n"
        "  - {id: '0102', name: 二社区, parent: '02', residents_capable: 5, households: 6}\n"
        "parents:\n  - {id: '01', name: 一街道, parent: '9'}\n  - {id: '9', name: 九区}\n"
        "  - {id: '02', name: 二街道, parent: '9'}\n",
        encoding="utf-8",
    )
    (tmp_path / "log.csv").write_text(
        "date,community,event,party,id,household,status\n"
        "2026-11-03,0101,participate,resident,007,h1,\n"
        "2026-11-04,0101,participate,resident,008,h1,\n"
        "2026-11-04,0102,benefit,resident,010,0907,\n"
        "2026-11-05,0102,need,resident,,,met\n"
        "2026-11-06,0102,need,resident,,,unmet\n"
        "2026-11-07,0102,need,resident,,,maybe\n",
        encoding="utf-8",
    )
    (tmp_path / "svcmetrics.yaml").write_text(
        "profile: profile.yaml\nlogs: [log.csv]\n"
        "thresholds:\n"
        "  resident_participation: {warn: 0.30, critical: 0.15}\n"
        "  resident_benefit: {warn: 0.10}\n"
        "  need_satisfaction: {warn: 0.90, critical: 0.40}\n"
        "report:\n  unit: 一街道办事处\n"
        "  signatures: {head: 张三, date: 2026年12月5日}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def compute_xlsx(workdir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> bytes:
    """``svcmetrics compute --format xlsx --output out.xlsx ARGS`` in-process: the bytes."""
    target = workdir / "out.xlsx"
    code, _, err = run_cli(
        ["compute", "--format", "xlsx", "--output", str(target), "--skip-invalid", *args], capsys
    )
    assert code == 0, err
    return target.read_bytes()


def test_ids_are_text_cells_and_keep_their_zeros(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = compute_xlsx(workdir, capsys, "--lang", "en")
    rows = sheets(data)["Data"]
    column = {key: number for number, key in enumerate(rows[0])}
    communities = {row[column["community"]] for row in rows[1:]}
    assert communities == {"0101", "0102", "01", "9", "02", "*"}
    assert {row[column["parent"]] for row in rows[1:]} == {"01", "02", "9", ""}
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["Data"]
    for row in sheet.iter_rows(min_row=2):
        community, period = row[column["community"]], row[column["period"]]
        assert community.data_type == "s" and community.number_format == "@"
        assert period.data_type == "s" and period.value == "2026-11"
        assert row[column["numerator"]].data_type == "n"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(rows[0])).column_letter}{len(rows)}"


def fills(data: bytes, sheet: str) -> dict[str, set[str]]:
    """Status word → the fill colours of the cells that show it, in a sheet."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    found: dict[str, set[str]] = {}
    for row in book[sheet].iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                found.setdefault(cell.value, set()).add(str(cell.fill.fgColor.rgb))
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_status_cells_are_coloured_like_the_terminal(
    workdir: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    data = compute_xlsx(workdir, capsys, "--lang", lang)
    found = fills(data, label("xlsx_sheet_report", lang))
    seen = 0
    for status, (fill, _) in STATUS_COLOURS.items():
        word = label(f"status_{status.value}", lang)
        if word in found:
            seen += 1
            assert found[word] == {"FF" + fill.lstrip("#").upper()}, status
    # participation 2/10 warn, 0/5 critical; benefit ok; needs 1/3 critical; no unit data n/a
    assert seen == 4
    assert STATUS_COLOURS[Status.OK][0] == "#C6EFCE"  # green, yellow, red as in the terminal
    assert STATUS_COLOURS[Status.CRITICAL][0] == "#FFC7CE"


@pytest.mark.parametrize(
    ("lang", "names"),
    [("zh", ["报表", "数据", "问题"]), ("en", ["Report", "Data", "Problems"])],
)
def test_sheet_names_and_headers_follow_the_language(
    workdir: Path, capsys: pytest.CaptureFixture[str], lang: str, names: list[str]
) -> None:
    book = sheets(compute_xlsx(workdir, capsys, "--lang", lang))
    assert list(book) == names
    report_sheet, data, problems = book.values()
    assert report_sheet[0][0] == label("xlsx_title", lang)
    assert label("xlsx_unit", lang) in report_sheet[2]
    assert data[0][:3] == ["level", "community", "community_name"]  # the CSV's keys
    assert problems[0] == [
        label(key, lang)
        for key in ("xlsx_file", "xlsx_line", "column", "value", "xlsx_kind", "xlsx_severity")
    ] + [label("message", lang), label("hint", lang)]
    bad = [row for row in problems[1:] if row[3] == "maybe"]
    assert len(bad) == 1 and bad[0][0] == "log.csv" and bad[0][1] == 7
    assert bad[0][5] == label("xlsx_severity_error", lang)


def test_no_problems_sheet_without_problems(report: Report) -> None:
    assert report.problems == []
    assert list(sheets(render_xlsx(report, RenderOptions(lang="zh")))) == ["报表", "数据"]


def test_header_block_and_signatures(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = sheets(compute_xlsx(workdir, capsys, "--lang", "zh"))["报表"]
    assert rows[1][0] == "填报单位:一街道办事处"
    assert rows[1][2] == "报告期:2026年11月"
    assert rows[1][-2] == "数据截至:2026-11-06"  # the last valid record (11-07's is skipped)
    footer = rows[-1][0]
    assert "单位负责人:张三" in footer and "报出日期:2026年12月5日" in footer
    assert "统计负责人:________" in footer and "填表人:________" in footer


def test_data_end_is_the_as_of_day(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = sheets(compute_xlsx(workdir, capsys, "--lang", "en", "--as-of", "2026-11-20"))
    assert rows["Report"][1][-2] == "Data as of: 2026-11-20"


def test_signature_lines_are_blank_without_config(report: Report) -> None:
    unsigned = replace(report, office=ReportConfig())
    rows = sheets(render_xlsx(unsigned, RenderOptions(lang="en")))["Report"]
    assert rows[1][0] == "Reporting office: "
    footer = rows[-1][0]
    assert "Head of office: ________" in footer and "Date: __________" in footer


def test_layout_for_print_and_outline(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = compute_xlsx(workdir, capsys, "--lang", "zh")
    sheet = openpyxl.load_workbook(io.BytesIO(data))["报表"]
    assert sheet.freeze_panes == "C4"
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == "9"  # A4
    # one page wide (1 is the file format's default, left out), as many pages down as needed
    assert (sheet.page_setup.fitToWidth or 1) == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    levels: dict[str, set[int]] = {}
    bold: dict[str, set[bool]] = {}
    unit = ""
    for row in sheet.iter_rows(min_row=5):
        if not row[1].value:
            continue
        unit = row[0].value or unit
        levels.setdefault(unit, set()).add(sheet.row_dimensions[row[0].row].outline_level)
        bold.setdefault(unit, set()).add(bool(row[2].font.b))
    # 九区 pools two street offices: all shown, one outline level each; the total repeats 九区
    assert levels == {"九区": {0}, "一街道": {1}, "一社区": {2}, "二街道": {1}, "二社区": {2}}
    assert bold == {
        "九区": {True},
        "一街道": {True},
        "一社区": {False},
        "二街道": {True},
        "二社区": {False},
    }


def test_same_inputs_give_the_same_bytes(report: Report) -> None:
    first = render_xlsx(report, RenderOptions(lang="zh"))
    assert first[:2] == b"PK"
    assert render_xlsx(example(), RenderOptions(lang="zh")) == first
    assert render_xlsx(report, RenderOptions(lang="en")) != first


def test_the_cli_writes_the_same_bytes_twice(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = compute_xlsx(workdir, capsys)
    assert compute_xlsx(workdir, capsys) == first
    assert sorted(path.name for path in workdir.iterdir() if path.name.startswith(".")) == []


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "svcmetrics", "compute", "--format", "xlsx", *args]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1"}


def test_xlsx_goes_to_a_pipe_as_bytes(workdir: Path) -> None:
    done = subprocess.run(
        command("--lang", "en", "--skip-invalid", "--quiet"),
        capture_output=True,
        env=environment(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sheets(done.stdout)["Report"][0][0] == "Community service indicators"
    assert done.stdout == compute_xlsx_file(workdir)


def compute_xlsx_file(workdir: Path) -> bytes:
    target = workdir / "piped.xlsx"
    subprocess.run(
        command("--lang", "en", "--skip-invalid", "--quiet", "--output", str(target)),
        capture_output=True,
        env=environment(),
        check=True,
    )
    return target.read_bytes()


@pytest.mark.parametrize(("lang", "words"), [("zh", "终端"), ("en", "terminal")])
def test_xlsx_is_refused_on_a_terminal(workdir: Path, lang: str, words: str) -> None:
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            command("--lang", lang, "--skip-invalid"),
            stdout=follower,
            stderr=subprocess.PIPE,
            env=environment(),
            check=False,
        )
    finally:
        os.close(follower)
    os.set_blocking(leader, False)
    try:
        written = os.read(leader, 1 << 16)
    except (BlockingIOError, OSError):
        written = b""
    os.close(leader)
    assert done.returncode == 2
    assert written == b""
    message = done.stderr.decode("utf-8")
    assert words in message and "--output" in message
    assert "Traceback" not in message


def test_wide_and_bom_stay_csv_only(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["compute", "--format", "xlsx", "--wide", "-o", "x.xlsx"], capsys)
    assert code == 2 and "--wide" in err
    assert not (workdir / "x.xlsx").exists()


@pytest.mark.parametrize(
    ("period", "lang", "name"),
    [
        ("2026-11", "zh", "2026年11月"),
        ("2026-Q4", "zh", "2026年第4季度"),
        ("2026-H1", "zh", "2026年上半年"),
        ("2026", "zh", "2026年"),
        ("2026-01..2026-11", "zh", "2026年1—11月"),  # 1—N月累计, as 统计报表 write it
        ("2026-01..2026-01", "zh", "2026年1月"),
        ("2025-12..2026-02", "zh", "2025年12月至2026年2月"),
        ("2026-11", "en", "2026-11"),
        ("2026-10-01..2026-11-15", "en", "2026-10-01 to 2026-11-15"),
    ],
)
def test_period_names(period: str, lang: str, name: str) -> None:
    assert period_name(period, lang) == name


def test_a_typo_in_the_report_block_is_named(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = (workdir / "svcmetrics.yaml").read_text(encoding="utf-8")
    (workdir / "svcmetrics.yaml").write_text(
        config.replace("signatures: {head:", "signatures: {haed:"), encoding="utf-8"
    )
    code, _, err = run_cli(["compute", "-f", "xlsx", "-o", "r.xlsx", "--lang", "en"], capsys)
    assert code == 3 and "report.signatures.haed" in err and "'head'" in err
    assert not (workdir / "r.xlsx").exists()
