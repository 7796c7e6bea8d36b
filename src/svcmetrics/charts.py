"""Charts: what a chart compares (units, scale, levels), and the terminal's bar chart."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from svcmetrics.formats import RenderOptions
from svcmetrics.i18n import label
from svcmetrics.indicators import Indicator
from svcmetrics.judge import Status, levels_for
from svcmetrics.periods import Period
from svcmetrics.render import (
    _STATUS_STYLE,
    _console,
    _export,
    _tree,
    percent,
    unit_name,
)
from svcmetrics.report import Report, Result, Unit, _ancestors

WARN_MARK = "│"
CRITICAL_MARK = "┃"
_EIGHTHS = " ▏▎▍▌▋▊▉"
_FULL = "█"
_BAR_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.CRITICAL: "red"}
_NO_STATUS_STYLE = "blue"

Levels = tuple[float | None, float | None]
"""(warn, critical) of one unit; None where no level is set."""
ResultKey = tuple[str, str, str, str | None]
"""(period, community, indicator, breakdown value)."""


@dataclass(frozen=True)
class Subject:
    """What one chart shows: an indicator, or under ``--by`` one breakdown value of it."""

    indicator: Indicator
    value: str | None = None

    def title(self, by: str | None, lang: str) -> str:
        """The indicator's name, with the breakdown value under ``--by``."""
        name = self.indicator.name(lang)
        if by is None or self.value is None:
            return name
        value = self.value or label("blank_value", lang)
        return f"{name}{label('list_sep', lang)}{label(by, lang)}: {value}"

    @property
    def key(self) -> str:
        """A stable id for the chart (HTML anchors)."""
        return self.indicator.key if self.value is None else f"{self.indicator.key}-{self.value}"


def subjects(report: Report) -> list[Subject]:
    """The charts to draw: one per indicator, or per indicator and breakdown value."""
    values = list(dict.fromkeys(result.breakdown for result in report.results)) or [None]
    return [Subject(indicator, value) for indicator in report.indicators for value in values]


def index(report: Report) -> dict[ResultKey, Result]:
    """The results by (period, community, indicator, breakdown value)."""
    return {(r.period, r.community, r.indicator, r.breakdown): r for r in report.results}


def nice_top(values: Sequence[float]) -> tuple[float, float]:
    """An axis maximum at or above every value, and its tick step (at most 5 steps)."""
    top = max([0.0, *values])
    if top <= 0:
        return 1.0, 0.25
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0):
        if step * 5 >= top:
            return max(1, math.ceil(top / step - 1e-9)) * step, step
    step = 10.0 ** math.ceil(math.log10(top / 5))
    return max(1, math.ceil(top / step - 1e-9)) * step, step


def ticks(top: float, step: float) -> list[float]:
    """The tick values from 0 to ``top``."""
    return [step * number for number in range(round(top / step) + 1)]


def tick_text(value: float) -> str:
    """A tick as a percent, without decimals when it is a whole percent."""
    points = round(value * 100, 6)
    return f"{points:.0f}%" if points.is_integer() else f"{points:.1f}%"


def chart_units(units: Sequence[Unit]) -> list[Unit]:
    """The units a chart compares: the communities in display order, then the grand total.

    Roll-up levels stay in the tables: with one street office they repeat the total.
    """
    return [unit for unit, _ in _tree(units) if unit.level in ("community", "total")]


def unit_levels(subject: Subject, units: Sequence[Unit]) -> dict[str, Levels]:
    """Each unit's levels for ``subject``, per-community overrides applied.

    A breakdown value has none: targets are set for whole indicators (as the judge does).
    """
    threshold = subject.indicator.threshold
    if threshold is None or subject.value is not None:
        return {unit.id: (None, None) for unit in units}
    chains = _ancestors(units)
    levels: dict[str, Levels] = {}
    for unit in units:
        found = levels_for(threshold, [unit.id, *chains.get(unit.id, [])])
        levels[unit.id] = (found.warn, found.critical)
    return levels


def levels_text(subject: Subject, lang: str) -> str:
    """The subject's default levels in words ("预警线 85.0%、严重线 70.0%")."""
    threshold = subject.indicator.threshold
    if (
        threshold is None
        or subject.value is not None
        or (threshold.warn is None and threshold.critical is None)
    ):
        return label("chart_no_threshold", lang)
    parts = []
    if threshold.warn is not None:
        parts.append(label("chart_warn_at", lang, level=percent(threshold.warn)))
    if threshold.critical is not None:
        parts.append(label("chart_critical_at", lang, level=percent(threshold.critical)))
    text = label("list_sep", lang).join(parts)
    if threshold.better == "lower":
        text += label("chart_lower_better", lang)
    if threshold.communities:
        text += label("chart_overrides", lang)
    return text


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
    return Text(label(f"status_{result.status.value}", lang), style=_STATUS_STYLE[result.status])


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(rates: list[float | None], top: float) -> str:
    """One character per period, its height the rate on the bars' scale (0 to ``top``); a
    space where the rate is undefined."""
    scale = top if top > 0 else 1.0
    return "".join(
        " "
        if rate is None
        else SPARKS[min(len(SPARKS) - 1, int(max(rate, 0.0) / scale * len(SPARKS)))]
        for rate in rates
    )


def trend_range(periods: Sequence[Period]) -> str:
    """``2026-09..2026-11``: the periods a sparkline covers."""
    return f"{periods[0].label}..{periods[-1].label}"


def render_chart(report: Report, options: RenderOptions) -> str:
    """Horizontal bars per community for the last period, one chart per indicator.

    Each bar carries a marker at its community's warn level (│) and critical level (┃).
    With several periods, a sparkline per community shows the indicator across them, on the
    bars' scale.
    """
    if not report.periods:
        return ""
    lang = options.lang
    console = _console(options)
    period = report.periods[-1].label
    units = chart_units(report.units)
    names = [unit_name(unit.id, unit.name, unit.level, lang) for unit in units]
    name_width = max((Text(name).cell_len for name in names), default=4)
    width = max(10, min(50, options.width - name_width - 22))
    results = index(report)
    for subject in subjects(report):
        row_results = [
            results.get((period, unit.id, subject.indicator.key, subject.value)) for unit in units
        ]
        levels = unit_levels(subject, units)
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
                Text(name, style="bold" if unit.level == "total" else ""),
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
    return _export(console)
