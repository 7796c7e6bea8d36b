"""The HTML page's SVG charts as plain data: bars per community and trend lines over the periods."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from svcmetrics.i18n import label
from svcmetrics.judge import Status
from svcmetrics.output.cells import (
    fraction,
    percent,
    unit_name,
)
from svcmetrics.output.chartdata import (
    ResultKey,
    Subject,
    chart_units,
    index,
    is_sum,
    levels_text,
    nice_top,
    tick_text,
    ticks,
    unit_levels,
)
from svcmetrics.periods import Period
from svcmetrics.report import Report, Result, Unit

PALETTE: tuple[str, ...] = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#7f5fa8",
    "#8c6d31",
)
"""Line colours of the trend charts (Okabe-Ito, readable by colour-blind readers)."""
TOTAL_COLOR = "#333333"
LAST_YEAR_COLOR = "#999999"
"""The line of the same periods a year earlier (上年同期), under the total's."""

# Chart geometry, in SVG user units (the SVGs scale to the page width).
BAR_WIDTH = 480
BAR_FONT = 12
BAR_VALUE = 56
BAR_ROW = 26
BAR_THICKNESS = 16
BAR_TOP = 8
BAR_AXIS = 24
TREND_WIDTH = 480
TREND_HEIGHT = 220
TREND_LEFT = 48
TREND_RIGHT = 16
TREND_TOP = 12
TREND_BOTTOM = 28


@dataclass(frozen=True)
class Tick:
    """A gridline of a chart axis and its label."""

    at: float
    text: str


@dataclass(frozen=True)
class Bar:
    """One unit's bar in an indicator's comparison chart, with its own levels."""

    name: str
    y: float
    length: float
    value: str
    status: str
    total: bool
    warn_x: float | None
    critical_x: float | None
    tooltip: str


@dataclass(frozen=True)
class BarChart:
    """Units compared on one indicator in one period, against the warn/critical levels."""

    key: str
    title: str
    subtitle: str
    height: float
    plot_left: float
    plot_right: float
    plot_bottom: float
    bars: list[Bar]
    ticks: list[Tick]


@dataclass(frozen=True)
class Point:
    """A defined rate in a trend chart."""

    x: float
    y: float
    tooltip: str


@dataclass(frozen=True)
class Series:
    """One unit's line across periods; ``segments`` break where the rate is undefined."""

    name: str
    color: str
    total: bool
    segments: list[list[Point]]
    points: list[Point]


@dataclass(frozen=True)
class TrendChart:
    """One indicator over the selected periods: a line per unit and the default levels."""

    key: str
    title: str
    subtitle: str
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    series: list[Series]
    warn_y: float | None
    critical_y: float | None
    warn_text: str
    critical_text: str


AXIS_FONT = 11
"""The size of the axis labels (the page's CSS)."""


def labelled(labels: Sequence[str], spacing: float) -> list[int]:
    """Which of evenly spaced axis positions get their label, so that no two labels touch:
    every ``step``-th from the first, and the last (15 months or a year's ytd windows would
    otherwise run into one another)."""
    if not labels:
        return []
    # the first label starts at its point and the last ends at it, so beside them a middle
    # label needs one and a half widths
    widest = 1.5 * max(text_width(text, AXIS_FONT) for text in labels) + 8
    step = max(1, math.ceil(widest / spacing)) if spacing > 0 else 1
    chosen = list(range(0, len(labels), step))
    last = len(labels) - 1
    if chosen[-1] != last:
        if len(chosen) > 1 and last - chosen[-1] < step:
            chosen[-1] = last  # the last label matters most: it is the period reported
        else:
            chosen.append(last)
    return chosen


def text_width(text: str, size: float = BAR_FONT) -> float:
    """About how wide ``text`` is drawn at ``size`` (CJK a full em, the rest about 0.6)."""
    wide = sum(1 for char in text if unicodedata.east_asian_width(char) in ("W", "F"))
    return size * (wide + 0.62 * (len(text) - wide))


def status_class(result: Result | None) -> str:
    """The CSS class suffix of a result's status: ok, warn, critical, na, or none."""
    if result is None or result.status is None:
        return "none"
    return "na" if result.status is Status.NA else result.status.value


def bar_chart(
    report: Report,
    subject: Subject,
    period: Period,
    lang: str,
    units: Sequence[Unit] | None = None,
    results: Mapping[ResultKey, Result] | None = None,
) -> BarChart:
    """Communities compared on one subject in one period (lengths in SVG units); ``units``:
    the bars (default every community and the total), ``results``: :func:`index` once."""
    results = index(report.results) if results is None else results
    units = chart_units(report.units) if units is None else units
    found = [
        results.get((period.label, unit.id, subject.indicator.key, subject.value)) for unit in units
    ]
    by_unit = unit_levels(subject, units, report.units)
    levels = [by_unit[unit.id] for unit in units]
    values = [r.rate for r in found if r is not None and r.rate is not None]
    values += [level for pair in levels for level in pair if level is not None]
    top, step = nice_top(values)
    names = [unit_name(unit.id, unit.name, unit.level, lang) for unit in units]
    longest = max((text_width(name) for name in names), default=0.0)
    plot_left = round(min(max(longest + 12, 60), BAR_WIDTH / 2.5), 1)
    plot_right = BAR_WIDTH - BAR_VALUE
    span = plot_right - plot_left

    def x_of(value: float) -> float:
        return round(plot_left + span * value / top, 1)

    bars: list[Bar] = []
    for number, (unit, name, result, (warn, critical)) in enumerate(
        zip(units, names, found, levels, strict=True)
    ):
        rate = None if result is None else result.rate
        tooltip = f"{name}: {percent(rate)}"
        if result is not None:
            tooltip += f" ({fraction(result)})"
            if result.status is not None:
                tooltip += " " + label(f"status_{result.status.value}", lang)
        bars.append(
            Bar(
                name=name,
                y=BAR_TOP + number * BAR_ROW,
                length=0.0 if rate is None else round(span * rate / top, 1),
                value=percent(rate),
                status=status_class(result),
                total=is_sum(unit),
                warn_x=None if warn is None else x_of(warn),
                critical_x=None if critical is None else x_of(critical),
                tooltip=tooltip,
            )
        )
    plot_bottom = BAR_TOP + len(bars) * BAR_ROW
    return BarChart(
        key=subject.key,
        title=subject.title(report.by, lang),
        subtitle=levels_text(subject, lang),
        height=plot_bottom + BAR_AXIS,
        plot_left=plot_left,
        plot_right=plot_right,
        plot_bottom=plot_bottom,
        bars=bars,
        ticks=[Tick(x_of(value), tick_text(value)) for value in ticks(top, step)],
    )


def trend_chart(
    report: Report,
    subject: Subject,
    lang: str,
    units: Sequence[Unit] | None = None,
    results: Mapping[ResultKey, Result] | None = None,
) -> TrendChart:
    """One subject across the selected periods: a line per community and the total
    (``units``: the lines, default those; ``results``: :func:`index` once).

    The level lines are the indicator's defaults; per-community overrides show in the bars.
    """
    results = index(report.results) if results is None else results
    units = chart_units(report.units) if units is None else units
    threshold = subject.indicator.threshold if subject.value is None else None
    warn = None if threshold is None else threshold.warn
    critical = None if threshold is None else threshold.critical
    rates: dict[tuple[str, str], float | None] = {}
    last_year: dict[str, float | None] = {}
    for unit in units:
        for period in report.periods:
            result = results.get((period.label, unit.id, subject.indicator.key, subject.value))
            rates[(unit.id, period.label)] = None if result is None else result.rate
            if unit is units[-1]:  # the total (or the one community): last year's line
                last_year[period.label] = None if result is None else result.previous_year_rate
    values = [rate for rate in rates.values() if rate is not None]
    values += [rate for rate in last_year.values() if rate is not None]
    values += [level for level in (warn, critical) if level is not None]
    top, step = nice_top(values)
    left, right = TREND_LEFT, TREND_WIDTH - TREND_RIGHT
    upper, lower = TREND_TOP, TREND_HEIGHT - TREND_BOTTOM
    count = len(report.periods)

    def x_of(number: int) -> float:
        if count == 1:
            return (left + right) / 2
        return round(left + (right - left) * number / (count - 1), 1)

    def y_of(value: float) -> float:
        return round(lower - (lower - upper) * value / top, 1)

    series: list[Series] = []
    communities = [unit for unit in units if not is_sum(unit)]
    colors = {unit.id: PALETTE[number % len(PALETTE)] for number, unit in enumerate(communities)}

    def line(name: str, color: str, total: bool, values: Sequence[float | None]) -> Series:
        segments: list[list[Point]] = []
        points: list[Point] = []
        current: list[Point] = []
        for number, (period, rate) in enumerate(zip(report.periods, values, strict=True)):
            if rate is None:
                if current:
                    segments.append(current)
                current = []
                continue
            point = Point(x_of(number), y_of(rate), f"{name} {period.label}: {percent(rate)}")
            current.append(point)
            points.append(point)
        if current:
            segments.append(current)
        return Series(name, color, total, segments, points)

    for unit in units:
        name = unit_name(unit.id, unit.name, unit.level, lang)
        total = is_sum(unit)
        color = TOTAL_COLOR if total else colors[unit.id]
        series.append(line(name, color, total, [rates[(unit.id, p.label)] for p in report.periods]))
    if any(rate is not None for rate in last_year.values()):
        name = label(
            "chart_last_year",
            lang,
            unit=unit_name(units[-1].id, units[-1].name, units[-1].level, lang),
        )
        series.append(
            line(name, LAST_YEAR_COLOR, True, [last_year[p.label] for p in report.periods])
        )
    return TrendChart(
        key=subject.key,
        title=subject.title(report.by, lang),
        subtitle=levels_text(subject, lang),
        plot_left=left,
        plot_right=right,
        plot_top=upper,
        plot_bottom=lower,
        x_ticks=[
            Tick(x_of(number), report.periods[number].label)
            for number in labelled(
                [period.label for period in report.periods], (right - left) / max(count - 1, 1)
            )
        ],
        y_ticks=[Tick(y_of(value), tick_text(value)) for value in ticks(top, step)],
        series=series,
        warn_y=None if warn is None else y_of(warn),
        critical_y=None if critical is None else y_of(critical),
        warn_text=label("chart_warn_at", lang, level=percent(warn)),
        critical_text=label("chart_critical_at", lang, level=percent(critical)),
    )
