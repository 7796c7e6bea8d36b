"""The monthly-meeting page: a Report as one self-contained HTML document with SVG charts.

Python computes what the page shows (rows, chart geometry) as plain data; the markup lives
only in ``output/templates/report.html.j2``, rendered by Jinja2 with autoescape on.

A large report (:func:`summarised`: a city) gets a summary instead of a bar per community
and a row per result: statuses counted, the worst and best communities, the roll-ups, and
every result in a JSON island that a small inline script searches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from svcmetrics.errors import Problem
from svcmetrics.i18n import label, problem_text
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
    chart_units,
    index,
    is_sum,
    subjects,
)
from svcmetrics.output.htmlcharts import (
    BAR_ROW,
    BAR_THICKNESS,
    BAR_WIDTH,
    TREND_HEIGHT,
    TREND_WIDTH,
    bar_chart,
    status_class,
    trend_chart,
)
from svcmetrics.output.htmlsummary import (
    EXTREMES,
    LISTED,
    SILENT_NAMED,
    data_island,
    distributions,
    extremes,
    summarised,
)
from svcmetrics.output.options import RenderOptions
from svcmetrics.periods import Period
from svcmetrics.report import Report, Result, Unit


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
    report: Report,
    lang: str,
    periods: Sequence[Period] | None = None,
    sums: bool = False,
    results: Sequence[Result] | None = None,
) -> list[Row]:
    """Every result (of ``periods``, default all; ``sums``: of the roll-ups and the total
    only) as table cells, per period in the terminal table's unit order (a repeated roll-up
    shown once); ``results``: where to find them, default the report's (a part of them that
    holds every one shown spares a pass over a city's 445,000)."""
    names = indicator_names(report, lang)
    shown = report.periods if periods is None else periods
    tree = [(unit, depth) for unit, depth in shown_tree(report.units) if is_sum(unit) or not sums]
    # only the results shown are grouped (a city's page shows the sums of one period)
    labels = {period.label for period in shown}
    ids = {unit.id for unit, _ in tree}
    grouped: dict[tuple[str, str], list[Result]] = {}
    for result in report.results if results is None else results:
        if result.period in labels and result.community in ids:
            grouped.setdefault((result.period, result.community), []).append(result)
    rows: list[Row] = []
    for period in shown:
        for unit, depth in tree:
            for number, result in enumerate(grouped.get((period.label, unit.id), [])):
                rows.append(row(result, lang, names, depth, number == 0, report.by))
    return rows


class Listed(NamedTuple):
    """The results a page lists below the charts, as table cells in output order, and how
    many there are of each (a summarised page lists the first few)."""

    breaches: list[Row]
    small: list[Row]
    survey: list[Row]
    counts: tuple[int, int, int]
    """How many breaches, small samples and surveyed rates there are in all."""


def listed(report: Report, lang: str, limit: int | None = None) -> Listed:
    """The breaches, the small samples and the surveyed rates (their intervals), the first
    ``limit`` (default all) of each as rows, found in one pass over the results (a repeated
    roll-up's left out: it is listed under the unit shown in its place)."""
    names = indicator_names(report, lang)
    repeated = repeated_units(report.units)
    breaches: list[Result] = []
    small: list[Result] = []
    survey: list[Result] = []
    for result in report.results:
        if result.community in repeated:
            continue
        if result.breached:
            breaches.append(result)
        if "small_sample" in result.flags:
            small.append(result)
        if result.ci_low is not None and result.ci_high is not None:
            survey.append(result)

    def rows(kept: list[Result]) -> list[Row]:
        return [row(result, lang, names, by=report.by) for result in kept[:limit]]

    return Listed(
        rows(breaches), rows(small), rows(survey), (len(breaches), len(small), len(survey))
    )


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


def _facts(
    report: Report, lang: str, communities: Sequence[Unit], summary: bool = False
) -> list[tuple[str, str]]:
    """The header's facts: ``communities`` (how many, on a summarised page), period, data
    end, inputs, profile and rows."""
    run = report.facts
    named = (
        label("html_communities_count", lang, count=len(communities))
        if summary
        else label("list_sep", lang).join(
            unit_name(unit.id, unit.name, unit.level, lang) for unit in communities
        )
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
    lists = listed(report, lang, limit)
    outliers = outlier_rows(report, lang)
    counts = {
        "breaches": lists.counts[0],
        "small": lists.counts[1],
        "survey": lists.counts[2],
        "outliers": len(outliers),
    }
    everyone = chart_units(report.units)
    communities = [unit for unit in everyone if not is_sum(unit)]
    sums = [unit for unit in everyone if is_sum(unit)]
    recent: list[Result] | None = None
    if summary and last is not None:
        # a summarised page draws the last period's results and the sums' trends only
        drawn = {unit.id for unit in sums}
        recent = [r for r in report.results if r.period == last.label or r.community in drawn]
    results = index(report.results if recent is None else recent)
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
        facts=_facts(report, lang, communities, summary),
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
        rows=result_rows(report, lang, report.periods[-1:], sums=True, results=recent)
        if summary
        else result_rows(report, lang),
        counts=counts,
        breaches=lists.breaches,
        small=lists.small,
        survey=lists.survey,
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
        island=Markup(data_island(report, charted, lang)) if summary else "",
    )
