"""The monthly-meeting page: a Report as one self-contained HTML document with SVG charts.

Python computes what the page shows (rows, chart geometry) as plain data; the markup lives
only in ``output/templates/report.html.j2``, rendered by Jinja2 with autoescape on.

A large report (:func:`summarised`: a city) gets a summary instead of a bar per community
and a row per result: statuses counted, the worst and best communities, the roll-ups, and
every result in a JSON island that a small inline script searches.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from svcmetrics.errors import Problem
from svcmetrics.i18n import label, problem_text
from svcmetrics.judge import Status
from svcmetrics.output.cells import (
    PROBLEMS_SHOWN,
    breakdown_text,
    change,
    change_yoy,
    compared_rate,
    comparison_columns,
    flags_text,
    fraction,
    indicator_names,
    notes,
    percent,
    repeat_notes,
    repeated_units,
    shown_tree,
    status_text,
    unit_name,
    where,
)
from svcmetrics.output.chartdata import (
    ResultKey,
    Subject,
    chart_units,
    index,
    is_sum,
    levels_text,
    nice_top,
    subjects,
    tick_text,
    ticks,
    unit_levels,
)
from svcmetrics.output.options import RenderOptions
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


@dataclass(frozen=True)
class Row:
    """A result as the cells of a table row (already in the output language)."""

    period: str
    name: str
    depth: int
    level: str
    indicator: str
    breakdown: str
    rate: str
    counts: str
    previous: str
    change: str
    previous_year: str
    change_yoy: str
    status: str
    status_text: str
    notes: str
    flags: str
    limit: str
    sample: str
    interval: str
    interval_low: float
    interval_high: float
    rate_at: float | None
    first: bool


@dataclass(frozen=True)
class ProblemRow:
    """A data problem as table cells."""

    where: str
    column: str
    value: str
    message: str
    hint: str
    severity: str


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
    results = index(report) if results is None else results
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
    results = index(report) if results is None else results
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
        x_ticks=[Tick(x_of(number), period.label) for number, period in enumerate(report.periods)],
        y_ticks=[Tick(y_of(value), tick_text(value)) for value in ticks(top, step)],
        series=series,
        warn_y=None if warn is None else y_of(warn),
        critical_y=None if critical is None else y_of(critical),
        warn_text=label("chart_warn_at", lang, level=percent(warn)),
        critical_text=label("chart_critical_at", lang, level=percent(critical)),
    )


def row(
    result: Result,
    lang: str,
    names: dict[str, str],
    depth: int = 0,
    first: bool = True,
    by: str | None = None,
) -> Row:
    """One result as table cells in ``lang`` (``by``: the breakdown field, if any)."""
    has_interval = result.ci_low is not None and result.ci_high is not None
    return Row(
        period=result.period,
        name=unit_name(result.community, result.community_name, result.level, lang),
        depth=depth,
        level=result.level,
        indicator=names[result.indicator],
        breakdown=breakdown_text(result.breakdown, by, lang),
        rate=percent(result.rate),
        counts=fraction(result),
        previous=compared_rate(result.previous_rate),
        change=change(result),
        previous_year=compared_rate(result.previous_year_rate),
        change_yoy=change_yoy(result),
        status=status_class(result),
        status_text=status_text(result, lang),
        notes=notes(result, lang),
        flags=flags_text(result, lang),
        limit=percent(result.limit),
        sample="" if result.sample_size is None else str(result.sample_size),
        interval=f"{percent(result.ci_low)}–{percent(result.ci_high)}" if has_interval else "—",
        interval_low=round((result.ci_low or 0.0) * 100, 1),
        interval_high=round((result.ci_high or 0.0) * 100, 1),
        rate_at=None if result.rate is None else round(min(result.rate, 1.0) * 100, 1),
        first=first,
    )


def result_rows(
    report: Report, lang: str, periods: Sequence[Period] | None = None, sums: bool = False
) -> list[Row]:
    """Every result (of ``periods``, default all; ``sums``: of the roll-ups and the total
    only) as table cells, per period in the terminal table's unit order (a repeated roll-up
    shown once)."""
    names = indicator_names(report, lang)
    grouped: dict[tuple[str, str], list[Result]] = {}
    for result in report.results:
        grouped.setdefault((result.period, result.community), []).append(result)
    rows: list[Row] = []
    tree = [(unit, depth) for unit, depth in shown_tree(report.units) if is_sum(unit) or not sums]
    for period in report.periods if periods is None else periods:
        for unit, depth in tree:
            for number, result in enumerate(grouped.get((period.label, unit.id), [])):
                rows.append(row(result, lang, names, depth, number == 0, report.by))
    return rows


def rows_where(
    report: Report, lang: str, keep: Callable[[Result], bool], limit: int | None = None
) -> tuple[list[Row], int]:
    """The first ``limit`` (default all) results ``keep`` accepts, as table cells in output
    order, and how many it accepts (a repeated roll-up's left out: it is listed under the
    unit shown in its place)."""
    names = indicator_names(report, lang)
    repeated = repeated_units(report.units)
    kept = [
        result for result in report.results if keep(result) and result.community not in repeated
    ]
    return [row(result, lang, names, by=report.by) for result in kept[:limit]], len(kept)


def _small(result: Result) -> bool:
    return "small_sample" in result.flags


def _surveyed(result: Result) -> bool:
    return result.ci_low is not None and result.ci_high is not None


def _breached(result: Result) -> bool:
    return result.breached


def problem_rows(problems: Sequence[Problem], lang: str) -> list[ProblemRow]:
    """The first problems (as many as the terminal shows) as table cells."""
    rows = []
    for problem in problems[:PROBLEMS_SHOWN]:
        text, hint = problem_text(problem, lang)
        rows.append(
            ProblemRow(
                where=where(problem),
                column=problem.column,
                value=problem.value or "",
                message=text,
                hint=hint,
                severity=problem.severity,
            )
        )
    return rows


@dataclass(frozen=True)
class Ranking:
    """A ranked table: the communities of one street office (or all) in one period."""

    title: str
    rows: list[RankRow]


@dataclass(frozen=True)
class RankRow:
    """One place of a ranked table."""

    indicator: str
    rank: int
    name: str
    rate: str
    counts: str
    tied: bool
    first: bool
    """The first place listed for its indicator."""


def rankings(report: Report, lang: str) -> list[Ranking]:
    """Per street office (all communities without one), the communities' places in the last
    period, indicator by indicator (spec 2.8)."""
    if not report.periods:
        return []
    period = report.periods[-1].label
    names = indicator_names(report, lang)
    order = {key: number for number, key in enumerate(names)}
    parents = {unit.id: unit for unit in report.units}
    grouped: dict[str | None, list[Result]] = {}
    for result in report.results:
        if result.period == period and result.level == "community" and result.rank is not None:
            grouped.setdefault(result.parent, []).append(result)
    tables: list[Ranking] = []
    for parent in sorted(grouped, key=lambda key: (key is not None, key or "")):
        placed = sorted(
            grouped[parent],
            key=lambda r: (order[r.indicator], r.breakdown or "", r.rank or 0, r.community),
        )
        unit = parents.get(parent) if parent is not None else None
        title = (
            label("html_ranking_all", lang, period=period)
            if parent is None
            else label(
                "html_ranking_of",
                lang,
                unit=parent if unit is None else unit_name(unit.id, unit.name, unit.level, lang),
                period=period,
            )
        )
        rows = [
            RankRow(
                indicator=names[r.indicator]
                + (
                    ""
                    if r.breakdown is None
                    else f" · {breakdown_text(r.breakdown, report.by, lang)}"
                ),
                rank=r.rank or 0,
                name=unit_name(r.community, r.community_name, r.level, lang),
                rate=percent(r.rate),
                counts=fraction(r),
                tied="rank_tied_ci" in r.flags,
                first=number == 0
                or (placed[number - 1].indicator, placed[number - 1].breakdown)
                != (r.indicator, r.breakdown),
            )
            for number, r in enumerate(placed)
        ]
        tables.append(Ranking(title, rows))
    return tables


@dataclass(frozen=True)
class OutlierRow:
    """An outlier and the history it was judged against, as text."""

    period: str
    name: str
    indicator: str
    rate: str
    score: str
    history: str


def outlier_rows(report: Report, lang: str) -> list[OutlierRow]:
    """Every outlier with its earlier rates (spec 2.8)."""
    names = indicator_names(report, lang)
    units = {unit.id: unit for unit in report.units}
    rows = []
    for found in report.outliers:
        unit = units.get(found.community)
        indicator = names.get(found.indicator, found.indicator)
        if found.breakdown is not None:
            indicator += f" · {breakdown_text(found.breakdown, report.by, lang)}"
        rows.append(
            OutlierRow(
                period=found.period,
                name=found.community
                if unit is None
                else unit_name(unit.id, unit.name, unit.level, lang),
                indicator=indicator,
                rate=percent(found.rate),
                score=f"{found.score:.1f}",
                history=label("list_sep", lang).join(
                    f"{period} {percent(rate)}" for period, rate in found.history
                ),
            )
        )
    return rows


def silent_lines(report: Report, lang: str, named: int | None = None) -> list[str]:
    """One line per period in which some community did not report, naming them (the first
    ``named`` of them and how many more, when given)."""
    names = {unit.id: unit_name(unit.id, unit.name, unit.level, lang) for unit in report.units}
    lines = []
    for period in report.periods:
        missing = report.silent.get(period.label)
        if not missing:
            continue
        listed = label("list_sep", lang).join(names.get(c, c) for c in missing[:named])
        if named is not None and len(missing) > named:
            listed += label("html_more", lang, count=len(missing) - named, total=len(missing))
        lines.append(label("html_silent_line", lang, period=period.label, units=listed))
    return lines


def _facts(report: Report, lang: str, summary: bool = False) -> list[tuple[str, str]]:
    """The header's facts: communities (how many, on a summarised page), period, data end,
    inputs, profile and rows."""
    run = report.facts
    communities = [
        unit_name(unit.id, unit.name, unit.level, lang)
        for unit in chart_units(report.units)
        if unit.level == "community"
    ]
    named = (
        label("html_communities_count", lang, count=len(communities))
        if summary
        else label("list_sep", lang).join(communities)
    )
    facts = [(label("html_communities", lang), named)]
    if report.periods:
        first, last = report.periods[0], report.periods[-1]
        days = label("html_days", lang, start=first.start.isoformat(), end=last.end.isoformat())
        facts.append((label("period", lang), f"{report.period_label} ({days})"))
    if run.last_record:
        facts.append((label("html_data_end", lang), run.last_record.isoformat()))
    if run.as_of:
        facts.append((label("html_as_of", lang), run.as_of.isoformat()))
    if run.inputs:
        facts.append((label("html_inputs", lang), ", ".join(run.inputs)))
    if run.profile:
        facts.append((label("html_profile", lang), run.profile))
    rows = label("html_rows_count", lang, rows=run.rows)
    if run.skipped_rows:
        rows += label("html_skipped", lang, count=run.skipped_rows)
    facts.append((label("html_rows", lang), rows))
    return facts


SUMMARY_ABOVE_RESULTS = 2_000
"""Above this many results the page summarises (as the terminal table turns plain there):
a city's 445,000 results drawn as rows made a page of hundreds of MB (issue 17)."""
SUMMARY_ABOVE_UNITS = 60
"""Above this many communities a chart shows the worst and best ones, not a bar each."""
EXTREMES = 10
"""How many worst and how many best communities a summarised chart draws."""
LISTED = 200
"""How many rows a summarised page lists of breaches, surveys, small samples, outliers."""
SILENT_NAMED = 50
"""How many silent communities a summarised page names per period."""
STATUS_CODES: dict[str, str] = {"ok": "o", "warn": "w", "critical": "c", "na": "n", "none": "-"}
"""A result's status class as one letter of the data island (``x``: no result)."""
STATUS_WORDS: dict[str, Status | None] = {
    "o": Status.OK,
    "w": Status.WARN,
    "c": Status.CRITICAL,
    "n": Status.NA,
    "-": None,
}
"""The status each letter stands for (its word is the page's)."""


def summarised(report: Report) -> bool:
    """True when the page shows summaries instead of every result and every community."""
    communities = sum(1 for unit in report.units if unit.level == "community")
    return len(report.results) > SUMMARY_ABOVE_RESULTS or communities > SUMMARY_ABOVE_UNITS


def better_lower(subject: Subject) -> bool:
    """True when a lower rate is better for ``subject`` (its threshold says so)."""
    threshold = subject.indicator.threshold
    return threshold is not None and threshold.better == "lower"


def extremes(
    subject: Subject, period: str, units: Sequence[Unit], results: Mapping[ResultKey, Result]
) -> list[Unit]:
    """The :data:`EXTREMES` worst then the as many best communities with a rate, worst
    first (all of them, worst first, when there are no more than twice as many)."""
    rated = []
    for unit in units:
        found = results.get((period, unit.id, subject.indicator.key, subject.value))
        if found is not None and found.rate is not None:
            rated.append((found.rate, unit.id, unit))
    rated.sort(key=lambda item: (item[0], item[1]), reverse=better_lower(subject))
    if len(rated) > 2 * EXTREMES:
        rated = rated[:EXTREMES] + rated[-EXTREMES:]
    return [unit for _, _, unit in rated]


@dataclass(frozen=True)
class Distribution:
    """How many communities of one subject in one period have each status."""

    title: str
    counts: dict[str, int]
    """Status class (ok, warn, critical, na, none, missing) -> communities."""


def distributions(
    report: Report,
    charted: Sequence[Subject],
    period: str,
    units: Sequence[Unit],
    results: Mapping[ResultKey, Result],
    lang: str,
) -> list[Distribution]:
    """Per subject, the communities of ``period`` counted by status."""
    found: list[Distribution] = []
    for subject in charted:
        counts = dict.fromkeys((*STATUS_CODES, "missing"), 0)
        for unit in units:
            result = results.get((period, unit.id, subject.indicator.key, subject.value))
            counts["missing" if result is None else status_class(result)] += 1
        found.append(Distribution(subject.title(report.by, lang), counts))
    return found


def data_island(
    report: Report, charted: Sequence[Subject], results: Mapping[ResultKey, Result], lang: str
) -> str:
    """Every shown result as compact JSON for the page's search: units once, then per period
    and subject the status letters, numerators and denominators in unit order (the
    denominators as the number of an earlier block when they equal its: a profile's
    denominators repeat every period).

    ``<``, ``>`` and ``&`` are escaped, so the JSON cannot close its ``<script>`` element.
    """
    import json

    tree = [unit for unit, _ in shown_tree(report.units)]
    names = {unit.id: unit_name(unit.id, unit.name, unit.level, lang) for unit in report.units}
    rows: list[list[object]] = []
    seen: dict[tuple[int | None, ...], int] = {}
    for number, period in enumerate(report.periods):
        for at, subject in enumerate(charted):
            key = (subject.indicator.key, subject.value)
            found = [results.get((period.label, unit.id, *key)) for unit in tree]
            denominators = tuple(None if r is None else r.denominator for r in found)
            shared = seen.setdefault(denominators, len(rows))
            rows.append(
                [
                    number,
                    at,
                    "".join("x" if r is None else STATUS_CODES[status_class(r)] for r in found),
                    [None if r is None else r.numerator for r in found],
                    list(denominators) if shared == len(rows) else shared,
                ]
            )
    data = {
        "units": [
            [names[unit.id], names.get(unit.parent or "", ""), label(f"level_{unit.level}", lang)]
            for unit in tree
        ],
        "periods": [period.label for period in report.periods],
        "subjects": [subject.title(report.by, lang) for subject in charted],
        "status": {
            code: "" if status is None else label(f"status_{status.value}", lang)
            for code, status in STATUS_WORDS.items()
        },
        "rows": rows,
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(report: Report, options: RenderOptions) -> str:
    """The report as one self-contained HTML page in ``options.lang`` (no network at all)."""
    import jinja2  # here, not at the top: only --format html pays for importing Jinja2
    from markupsafe import Markup

    lang = options.lang
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("svcmetrics.output", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

    def text(key: str, **params: object) -> str:
        return label(key, lang, **params)

    environment.globals["t"] = text
    template = environment.get_template("report.html.j2")
    last = report.periods[-1] if report.periods else None
    charted = subjects(report)
    summary = summarised(report)
    limit = LISTED if summary else None
    breaches, small, survey = (
        rows_where(report, lang, keep, limit) for keep in (_breached, _small, _surveyed)
    )
    outliers = outlier_rows(report, lang)
    counts = {
        "breaches": breaches[1],
        "small": small[1],
        "survey": survey[1],
        "outliers": len(outliers),
    }
    results = index(report)
    everyone = chart_units(report.units)
    communities = [unit for unit in everyone if not is_sum(unit)]
    sums = [unit for unit in everyone if is_sum(unit)]
    bars = []
    trends = []
    if last is not None:
        for subject in charted:
            units = (
                [*extremes(subject, last.label, communities, results), *sums]
                if summary
                else everyone
            )
            bars.append(bar_chart(report, subject, last, lang, units, results))
    if len(report.periods) > 1:
        trends = [
            trend_chart(report, s, lang, sums if summary else everyone, results) for s in charted
        ]
    return template.render(
        lang="zh-CN" if lang == "zh" else "en",
        title=text("html_title", period=report.period_label),
        period_label=report.period_label,
        facts=_facts(report, lang, summary),
        repeats=repeat_notes(report.units, lang),
        last_period="" if last is None else last.label,
        bar_charts=bars,
        trend_charts=trends,
        bar_width=BAR_WIDTH,
        bar_thickness=BAR_THICKNESS,
        bar_row=BAR_ROW,
        trend_width=TREND_WIDTH,
        trend_height=TREND_HEIGHT,
        by="" if report.by is None else text(report.by),
        yoy="change_yoy" in comparison_columns(report),
        periods=[period.label for period in report.periods],
        rows=result_rows(report, lang, report.periods[-1:], sums=True)
        if summary
        else result_rows(report, lang),
        counts=counts,
        breaches=breaches[0],
        small=small[0],
        survey=survey[0],
        outliers=outliers[:limit],
        rankings=[] if summary else rankings(report, lang),
        silent=silent_lines(report, lang, SILENT_NAMED if summary else None),
        problems=problem_rows(report.problems, lang),
        problems_more=max(
            0, sum(report.totals.values()) - min(len(report.problems), PROBLEMS_SHOWN)
        ),
        version=report.facts.version,
        summary=summary,
        extremes=EXTREMES,
        listed=LISTED,
        summary_text=(
            text(
                "html_summary_note",
                results=len(report.results),
                communities=len(communities),
                extremes=EXTREMES,
                listed=LISTED,
            )
            if summary
            else ""
        ),
        distributions=(
            distributions(report, charted, last.label, communities, results, lang)
            if summary and last is not None
            else []
        ),
        island=Markup(data_island(report, charted, results, lang)) if summary else "",
    )
