"""The terminal's bar chart: one chart per indicator, bars per community, level markers."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from svcmetrics.i18n import label
from svcmetrics.judge import Status
from svcmetrics.output.cells import STATUS_STYLE, percent, repeat_notes, status_text, unit_name
from svcmetrics.output.chartdata import (
    Levels,
    chart_units,
    index,
    is_sum,
    levels_text,
    nice_top,
    sparkline,
    subjects,
    tick_text,
    trend_range,
    unit_levels,
)
from svcmetrics.output.console import export, make_console
from svcmetrics.output.options import RenderOptions
from svcmetrics.report import Report, Result

WARN_MARK = "│"
CRITICAL_MARK = "┃"
_EIGHTHS = " ▏▎▍▌▋▊▉"
_FULL = "█"
_BAR_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.CRITICAL: "red"}
_NO_STATUS_STYLE = "blue"


def _column(value: float, top: float, width: int) -> int:
    """The cell of a bar ``width`` cells long where a level's marker goes."""
    return min(width - 1, int(value / top * width + 1e-9))


def bar_text(
    rate: float | None, status: Status | None, levels: Levels, top: float, width: int
) -> Text:
    """A bar of ``width`` cells drawn in eighths of a cell, with markers at the levels."""
    cells = [" "] * width
    styles = [""] * width
    if rate is not None:
        eighths = min(round(max(rate, 0.0) / top * width * 8), width * 8)
        full, part = divmod(eighths, 8)
        style = _NO_STATUS_STYLE if status is None else _BAR_STYLE.get(status, "dim")
        for cell in range(full):
            cells[cell], styles[cell] = _FULL, style
        if part:
            cells[full], styles[full] = _EIGHTHS[part], style
    warn, critical = levels
    if warn is not None:
        cell = _column(warn, top, width)
        cells[cell], styles[cell] = WARN_MARK, "bold yellow"
    if critical is not None:
        cell = _column(critical, top, width)
        cells[cell], styles[cell] = CRITICAL_MARK, "bold red"
    text = Text()
    for char, style in zip(cells, styles, strict=True):
        text.append(char, style=style or None)
    return text


def _status_text(result: Result | None, lang: str) -> Text:
    if result is None or result.status is None:
        return Text("")
    return Text(status_text(result, lang), style=STATUS_STYLE[result.status])


def render_chart(report: Report, options: RenderOptions) -> str:
    """Horizontal bars per community for the last period, one chart per indicator.

    Each bar carries a marker at its community's warn level (│) and critical level (┃).
    With several periods, a sparkline per community shows the indicator across them, on the
    bars' scale.
    """
    if not report.periods:
        return ""
    lang = options.lang
    console = make_console(options)
    period = report.periods[-1].label
    units = chart_units(report.units)
    names = [unit_name(unit.id, unit.name, unit.level, lang) for unit in units]
    name_width = max((Text(name).cell_len for name in names), default=4)
    width = max(10, min(50, options.width - name_width - 22))
    results = index(report.results)
    for subject in subjects(report):
        row_results = [
            results.get((period, unit.id, subject.indicator.key, subject.value)) for unit in units
        ]
        levels = unit_levels(subject, units, report.units)
        values = [r.rate for r in row_results if r is not None and r.rate is not None]
        values += [level for pair in levels.values() for level in pair if level is not None]
        top, _ = nice_top(values)
        title = Text(
            label("chart_title", lang, indicator=subject.title(report.by, lang), period=period),
            style="bold",
        )
        title.append("  " + levels_text(subject, lang), style="dim")
        console.print(title)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(justify="right", no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        grid.add_column(no_wrap=True)
        for unit, name, result in zip(units, names, row_results, strict=True):
            rate = None if result is None else result.rate
            status = None if result is None else result.status
            grid.add_row(
                Text(name, style="bold" if is_sum(unit) else ""),
                bar_text(rate, status, levels[unit.id], top, width),
                percent(rate),
                _status_text(result, lang),
            )
        axis = tick_text(top)
        grid.add_row("", Text("0%".ljust(width - len(axis)) + axis, style="dim"), "", "")
        if len(report.periods) > 1:
            for unit, name in zip(units, names, strict=True):
                key = (unit.id, subject.indicator.key, subject.value)
                found = [results.get((p.label, *key)) for p in report.periods]
                rates = [None if r is None else r.rate for r in found]
                grid.add_row(
                    Text(name, style="dim"),
                    Text(sparkline(rates, top), style="cyan"),
                    Text(trend_range(report.periods), style="dim"),
                    "",
                )
        console.print(grid)
        console.print()
    legend = Text()
    legend.append(WARN_MARK, style="bold yellow")
    legend.append(" " + label("chart_warn_line", lang) + "  ")
    legend.append(CRITICAL_MARK, style="bold red")
    legend.append(" " + label("chart_critical_line", lang))
    console.print(legend)
    for line in repeat_notes(report.units, lang):
        console.print(Text(line, style="dim"))
    return export(console)
