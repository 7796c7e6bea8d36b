"""The 统计报表 workbook of ``--format xlsx``: a report sheet to hand in, the data and the problems.

Built with XlsxWriter, write-only and in memory; the same report gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from svcmetrics.i18n import kind_name, label
from svcmetrics.judge import Status
from svcmetrics.output.cells import (
    breakdown_text,
    notes,
    problem_record,
    result_fields,
    result_record,
    unit_name,
    unit_tree,
)
from svcmetrics.output.options import RenderOptions
from svcmetrics.report import Report, Result, Unit
from svcmetrics.units import repeating

Cell = str | int | float | None

DASH = "—"
"""What an undefined rate or an unknown denominator shows (spec 2.5)."""

STATUS_COLOURS: dict[Status, tuple[str, str]] = {
    Status.OK: ("#C6EFCE", "#006100"),
    Status.WARN: ("#FFEB9C", "#9C5700"),
    Status.CRITICAL: ("#FFC7CE", "#9C0006"),
    Status.NA: ("#EDEDED", "#595959"),
}
"""Fill and font of a status cell: green, yellow, red and grey, as in the terminal."""

FONTS = {"zh": "宋体", "en": "Calibri"}
"""The font of the forms an office hands in, per language."""

HEADER_FILL = "#D9E1F2"
BAND_FILL = "#F2F2F2"
MAX_OUTLINE = 7
"""Excel's deepest outline level."""
EXCEL_DIGITS = 10**15
"""Excel keeps 15 significant digits: integers from here on are not exact in a number cell."""
MAX_WIDTH = 48
"""The widest a label column grows (longer names wrap)."""


@dataclass(frozen=True)
class Column:
    """One figure column of the report sheet: header, width, cell style and value.

    The columns are data: 上年同期, 同比 and 排名 are each one more entry here.
    """

    header: str
    """The catalogue key of its header."""
    width: float
    style: str
    """``percent``, ``count``, ``points``, ``status`` or ``note``."""
    value: Callable[[Result, str], Cell]
    missing: str = ""
    """What the cell shows when the value is undefined."""


def _status_word(result: Result, lang: str) -> Cell:
    return None if result.status is None else label(f"status_{result.status.value}", lang)


REPORT_COLUMNS: tuple[Column, ...] = (
    Column("rate", 9, "percent", lambda result, lang: result.rate, DASH),
    Column("numerator", 9, "count", lambda result, lang: result.numerator),
    Column("denominator", 9, "count", lambda result, lang: result.denominator, DASH),
    Column("xlsx_previous", 9, "percent", lambda result, lang: result.previous_rate),
    Column("xlsx_change", 10, "points", lambda result, lang: result.change),
    Column("xlsx_previous_year", 9, "percent", lambda result, lang: result.previous_year_rate),
    Column("xlsx_change_yoy", 10, "points", lambda result, lang: result.change_yoy),
    Column("rank", 6, "integer", lambda result, lang: result.rank),
    Column("status", 9, "status", _status_word),
    Column("notes", 44, "note", lambda result, lang: notes(result, lang) or None),
)
"""The figures of each (unit, indicator) row, after the unit, indicator (and breakdown)."""

NUMBER_FORMATS = {
    "percent": "0.0%",
    "count": "#,##0",
    "points": "+0.0;-0.0;0.0",
    "fraction": "0.0000",
    "hundredths": "0.00",
    "integer": "0",
    "text": "@",
}

DATA_NUMBERS = {
    "rate": "fraction",
    "ci_low": "fraction",
    "ci_high": "fraction",
    "previous_rate": "fraction",
    "previous_year_rate": "fraction",
    "target_level": "fraction",
}
"""Number formats of the data sheet's columns, as the CSV prints them (change: 2 decimals)."""


class Styles:
    """XlsxWriter formats made on demand, one per set of properties, in the report's font."""

    def __init__(self, workbook: Any, lang: str) -> None:
        self.workbook = workbook
        self.font = FONTS.get(lang, FONTS["en"])
        self.made: dict[tuple[tuple[str, Any], ...], Any] = {}

    def get(self, **properties: Any) -> Any:
        """The format with these properties (XlsxWriter's names: bold, border, num_format…)."""
        key = tuple(sorted(properties.items()))
        if key not in self.made:
            self.made[key] = self.workbook.add_format(
                {"font_name": self.font, "font_size": 10, "valign": "vcenter", **properties}
            )
        return self.made[key]

    def bound(self, **base: Any) -> Callable[..., Any]:
        """A maker of formats that start from ``base`` (later properties win)."""

        def made(**properties: Any) -> Any:
            return self.get(**{**base, **properties})

        return made


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_HALF = re.compile(r"^(\d{4})-H([12])$")
_YEAR = re.compile(r"^(\d{4})$")


def period_name(period: str, lang: str) -> str:
    """A period label as a report prints it (``2026-11`` → 2026年11月 in Chinese)."""
    if ".." in period:
        first, last = period.split("..", 1)
        months = _MONTH.match(first), _MONTH.match(last)
        if lang == "zh" and months[0] and months[1] and months[0][1] == months[1][1]:
            # 1—11月, as 统计报表 write a year-to-date window (2026年1—11月)
            year, start, end = months[0][1], int(months[0][2]), int(months[1][2])
            return f"{year}年{start}月" if start == end else f"{year}年{start}—{end}月"
        return label(
            "xlsx_span", lang, first=period_name(first, lang), last=period_name(last, lang)
        )
    if lang != "zh":
        return period
    if match := _MONTH.match(period):
        return f"{match[1]}年{int(match[2])}月"
    if match := _QUARTER.match(period):
        return f"{match[1]}年第{match[2]}季度"
    if match := _HALF.match(period):
        return f"{match[1]}年{'上' if match[2] == '1' else '下'}半年"
    if match := _YEAR.match(period):
        return f"{match[1]}年"
    return period


def _data_end(report: Report) -> str:
    """数据截至: the ``--as-of`` day, else the day of the last record."""
    day = report.facts.as_of or report.facts.last_record
    return "" if day is None else day.isoformat()


def new_workbook(buffer: io.BytesIO) -> Any:
    """An XlsxWriter workbook built in memory that keeps every text a text (never turned
    into a number, a formula or a link)."""
    import xlsxwriter

    options = {
        "in_memory": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    return xlsxwriter.Workbook(buffer, options)


def render_xlsx(report: Report, options: RenderOptions) -> bytes:
    """The report as an xlsx workbook: 报表, 数据 and (when there are any) 问题 sheets."""
    lang = options.lang
    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    end = _data_end(report)
    created = dt.datetime.fromisoformat(end) if end else dt.datetime(2000, 1, 1)
    workbook.set_properties(
        {
            "title": label("xlsx_title", lang),
            "comments": f"svcmetrics {report.facts.version}",
            # a fixed date, so that the same inputs give the same bytes
            "created": created.replace(tzinfo=dt.UTC),
        }
    )
    styles = Styles(workbook, lang)
    _report_sheet(workbook.add_worksheet(label("xlsx_sheet_report", lang)), report, styles, lang)
    _data_sheet(workbook.add_worksheet(label("xlsx_sheet_data", lang)), report, styles, lang)
    if report.problems:
        _problems_sheet(
            workbook.add_worksheet(label("xlsx_sheet_problems", lang)), report, styles, lang
        )
    workbook.close()
    return buffer.getvalue()


def text_width(text: str) -> int:
    """How many character widths a text takes in a cell (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _fit(base: float, texts: Iterable[str]) -> float:
    """A column width that holds the longest line of ``texts`` (within reason)."""
    longest = max((text_width(line) for text in texts for line in text.split("\n")), default=0)
    return min(max(base, longest * 1.1 + 2), MAX_WIDTH)


def _lead_columns(
    report: Report, tree: Sequence[tuple[Unit, int]], lang: str
) -> list[tuple[str, float]]:
    """The label columns of the report sheet (unit, indicator, breakdown) and their widths."""
    names = ["  " * depth + unit_name(unit.id, unit.name, unit.level, lang) for unit, depth in tree]
    lead = [
        ("xlsx_unit", _fit(16, [label("xlsx_unit", lang), *names])),
        ("indicator", _fit(16, [indicator.name(lang) for indicator in report.indicators])),
    ]
    if report.by is not None:
        values = {breakdown_text(result.breakdown, report.by, lang) for result in report.results}
        lead.append((report.by, _fit(10, [label(report.by, lang), *values])))
    return lead


def shown_units(units: Sequence[Unit]) -> list[tuple[Unit, int]]:
    """The units of the report sheet in display order, with their outline depth.

    A roll-up that pools exactly the communities of a roll-up below it (a district over a
    single street office, the total over one street office) would repeat that office's rows
    number for number: it is left out here (the data sheet keeps every row). A street
    office over one community stays, so that the sheet keeps the shape of the hierarchy.
    """
    rollups = [unit for unit in units if unit.level != "community"]
    hidden = {unit.id for unit, repeats in zip(rollups, repeating(rollups), strict=True) if repeats}
    parents = {unit.id: unit.parent for unit in units}
    shown: list[tuple[Unit, int]] = []
    for unit, depth in unit_tree(units):
        if unit.id in hidden:
            continue
        above, seen = unit.parent, {unit.id}
        while above is not None and above not in seen:
            seen.add(above)
            depth -= above in hidden
            above = parents.get(above)
        shown.append((unit, max(depth, 0)))
    return shown


def print_setup(sheet: Any, header_row: int) -> None:
    """A4 landscape, one page wide, the header row on every page, page numbers below."""
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(header_row)
    sheet.center_horizontally()
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)


def _report_sheet(sheet: Any, report: Report, styles: Styles, lang: str) -> None:
    """The sheet to hand in: header block, one block per period, notes and signatures."""
    tree = shown_units(report.units)
    lead = _lead_columns(report, tree, lang)
    last = len(lead) + len(REPORT_COLUMNS) - 1
    for number, (_, chars) in enumerate(lead):
        sheet.set_column(number, number, chars)
    for number, column in enumerate(REPORT_COLUMNS, start=len(lead)):
        sheet.set_column(number, number, _fit(column.width, [label(column.header, lang)]))

    title = label("xlsx_title", lang)
    if report.by is not None:
        title += label("xlsx_by", lang, field=label(report.by, lang).lower())
    sheet.set_row(0, 30)
    sheet.merge_range(0, 0, 0, last, title, styles.get(bold=True, font_size=16, align="center"))
    office = report.office.unit or ""
    periods = [period.label for period in report.periods]
    span = "" if not periods else period_name(periods[0], lang)
    if len(periods) > 1:
        span = label(
            "xlsx_span",
            lang,
            first=period_name(periods[0], lang),
            last=period_name(periods[-1], lang),
        )
    sheet.set_row(1, 20)
    sheet.merge_range(1, 0, 1, 1, label("xlsx_unit_line", lang, unit=office), styles.get())
    sheet.merge_range(
        1, 2, 1, last - 2, label("xlsx_span_line", lang, span=span), styles.get(align="center")
    )
    sheet.merge_range(
        1,
        last - 1,
        1,
        last,
        label("xlsx_end_line", lang, day=_data_end(report)),
        styles.get(align="right"),
    )

    header_row = 2
    header = styles.get(bold=True, border=1, align="center", text_wrap=True, bg_color=HEADER_FILL)
    sheet.set_row(header_row, 30)
    headers = [key for key, _ in lead] + [column.header for column in REPORT_COLUMNS]
    for number, key in enumerate(headers):
        sheet.write_string(header_row, number, label(key, lang), header)

    row = header_row + 1
    by_unit: dict[tuple[str, str], list[Result]] = {}
    for result in report.results:
        by_unit.setdefault((result.period, result.community), []).append(result)
    names = {indicator.key: indicator.name(lang) for indicator in report.indicators}
    band = styles.get(bold=True, border=1, bg_color=BAND_FILL)
    for period in report.periods:
        sheet.merge_range(row, 0, row, last, period_name(period.label, lang), band)
        row += 1
        for unit, depth in tree:
            results = by_unit.get((period.label, unit.id), [])
            bold = unit.level != "community"
            level = min(depth, MAX_OUTLINE)
            for number, result in enumerate(results):
                sheet.set_row(row, None, None, {"level": level})
                # thin rules inside a unit's block, a stronger one under it
                edge = 2 if number == len(results) - 1 else 1
                base = {"bold": bold, "border": 1, "bottom": edge}
                name = unit_name(unit.id, unit.name, unit.level, lang) if number == 0 else ""
                sheet.write_string(row, 0, name, styles.get(**base, indent=min(depth, 15)))
                cells: list[str] = [names[result.indicator]]
                if report.by is not None:
                    cells.append(breakdown_text(result.breakdown, report.by, lang))
                for offset, text in enumerate(cells, start=1):
                    sheet.write_string(row, offset, text, styles.get(**base))
                for offset, column in enumerate(REPORT_COLUMNS, start=len(lead)):
                    _figure(sheet, (row, offset), column, result, lang, styles.bound(**base))
                row += 1
    sheet.outline_settings(True, False, True, False)

    row += 1
    note = styles.get(font_size=9, text_wrap=True, valign="top")
    sheet.set_row(row, 28)
    sheet.merge_range(row, 0, row, last, label("xlsx_note", lang), note)
    row += 2
    signed = report.office.signatures
    blank = "________"
    parts = [
        label("xlsx_head", lang, name=signed.head or blank),
        label("xlsx_statistician", lang, name=signed.statistician or blank),
        label("xlsx_preparer", lang, name=signed.preparer or blank),
        label("xlsx_date", lang, day=signed.date or label("xlsx_blank_date", lang)),
    ]
    sheet.set_row(row, 22)
    sheet.merge_range(row, 0, row, last, "　　　".join(parts), styles.get())

    sheet.freeze_panes(header_row + 1, len(lead))
    sheet.hide_gridlines(2)
    print_setup(sheet, header_row)
    sheet.set_footer("&C" + label("xlsx_page", lang))


def _figure(
    sheet: Any,
    where: tuple[int, int],
    column: Column,
    result: Result,
    lang: str,
    style: Callable[..., Any],
) -> None:
    """One figure cell: a number in its format, a word, or the column's mark for undefined.

    ``style`` gives the cell's format from properties added to the row's own.
    """
    value = column.value(result, lang)
    if value is None:
        sheet.write_string(*where, column.missing, style(align="center"))
    elif column.style == "status" and result.status is not None:
        fill, font = STATUS_COLOURS[result.status]
        cell = style(bold=True, align="center", bg_color=fill, font_color=font)
        sheet.write_string(*where, str(value), cell)
    elif column.style == "note":
        sheet.write_string(*where, str(value), style(bold=False, font_size=9, text_wrap=True))
    elif not exact_in_excel(value):
        sheet.write_string(*where, str(value), style(align="right"))
    else:
        sheet.write_number(*where, value, style(num_format=NUMBER_FORMATS[column.style]))


def exact_in_excel(value: str | int | float) -> bool:
    """False for an integer Excel cannot hold exactly (more than 15 digits): such a count
    is written as text, so that its digits are the computed ones (never rounded)."""
    return not isinstance(value, int) or abs(value) < EXCEL_DIGITS


def _data_sheet(sheet: Any, report: Report, styles: Styles, lang: str) -> None:
    """The records of the CSV output, under the same English keys: ids as text, numbers as
    numbers, with an autofilter."""
    fields = result_fields(report.by)
    names = {indicator.key: indicator.name(lang) for indicator in report.indicators}
    header = styles.get(bold=True, border=1, bg_color=HEADER_FILL)
    text = styles.get(num_format=NUMBER_FORMATS["text"])
    for number, key in enumerate(fields):
        sheet.write_string(0, number, key, header)
        wide = key in ("community_name", "indicator_name", "flags", "service")
        sheet.set_column(number, number, 20 if wide else 11)
    for row, result in enumerate(report.results, start=1):
        record = result_record(result, names, lang, report.by)
        for number, key in enumerate(fields):
            _data_cell(sheet, row, number, key, record[key], styles, text)
    sheet.autofilter(0, 0, len(report.results), len(fields) - 1)
    sheet.freeze_panes(1, 0)
    print_setup(sheet, 0)


def _data_cell(
    sheet: Any, row: int, column: int, key: str, value: Any, styles: Styles, text: Any
) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not exact_in_excel(value):
        sheet.write_string(row, column, str(value), text)
        return
    if isinstance(value, int):
        style = "integer"
    else:
        style = DATA_NUMBERS.get(key, "hundredths")
    sheet.write_number(row, column, value, styles.get(num_format=NUMBER_FORMATS[style]))


PROBLEM_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("file", "xlsx_file", 24),
    ("line", "xlsx_line", 7),
    ("column", "column", 12),
    ("value", "value", 16),
    ("kind", "xlsx_kind", 16),
    ("severity", "xlsx_severity", 8),
    ("message", "message", 50),
    ("hint", "hint", 50),
)
"""The problems sheet: (key of the problem record, header label, width)."""


def _problems_sheet(sheet: Any, report: Report, styles: Styles, lang: str) -> None:
    """Every problem of the run, one row each, in the output language."""
    header = styles.get(bold=True, border=1, bg_color=HEADER_FILL)
    wrap = styles.get(text_wrap=True, valign="top", num_format=NUMBER_FORMATS["text"])
    for number, (_, key, chars) in enumerate(PROBLEM_COLUMNS):
        sheet.write_string(0, number, label(key, lang), header)
        sheet.set_column(number, number, chars)
    for row, problem in enumerate(report.problems, start=1):
        record = problem_record(problem, lang)
        record["kind"] = kind_name(problem.kind, lang)
        record["severity"] = label(f"xlsx_severity_{problem.severity}", lang)
        for number, (key, _, _) in enumerate(PROBLEM_COLUMNS):
            value = record[key]
            if isinstance(value, int) and not isinstance(value, bool):
                sheet.write_number(row, number, value, styles.get(valign="top"))
            elif value is not None and value != "":
                sheet.write_string(row, number, str(value), wrap)
    sheet.autofilter(0, 0, len(report.problems), len(PROBLEM_COLUMNS) - 1)
    sheet.freeze_panes(1, 0)
    print_setup(sheet, 0)
