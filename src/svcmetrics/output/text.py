"""Plain-text tables from tabulate (markdown, github, plain, simple, grid, rst)."""

from __future__ import annotations

from tabulate import tabulate

from svcmetrics.i18n import label
from svcmetrics.output.cells import (
    COMPARISON_LABELS,
    breakdown_text,
    comparison_cell,
    comparison_columns,
    flags_text,
    fraction,
    indicator_names,
    percent,
    status_text,
    unit_name,
)
from svcmetrics.output.options import OutputFormat, RenderOptions
from svcmetrics.report import Report

TABULATE_NAMES = {
    OutputFormat.MARKDOWN: "pipe",
    OutputFormat.GITHUB: "github",
    OutputFormat.PLAIN: "plain",
    OutputFormat.SIMPLE: "simple",
    OutputFormat.GRID: "grid",
    OutputFormat.RST: "rst",
}
"""Each text format's name in tabulate."""


def render_text(report: Report, fmt: OutputFormat, options: RenderOptions) -> str:
    """A tabulate text table of every result, headers in the output language."""
    lang = options.lang
    names = indicator_names(report, lang)
    compared = list(comparison_columns(report))
    keys = ["period", "community_name", "indicator_name", "rate", "counts", *compared, "status"]
    if report.by is not None:
        keys.insert(3, report.by)
    rows = []
    for result in report.results:
        cells = {
            "period": result.period,
            "community_name": unit_name(
                result.community, result.community_name, result.level, lang
            ),
            "indicator_name": names[result.indicator],
            "rate": percent(result.rate),
            "counts": fraction(result),
            **{key: comparison_cell(result, key) for key in compared},
            "status": status_text(result, lang),
            "flags": flags_text(result, lang),
        }
        if report.by is not None:
            cells[report.by] = breakdown_text(result.breakdown, report.by, lang)
        rows.append([cells[key] for key in [*keys, "flags"]])
    headers = [label(COMPARISON_LABELS.get(key, key), lang) for key in [*keys, "flags"]]
    table = tabulate(rows, headers=headers, tablefmt=TABULATE_NAMES[fmt], disable_numparse=True)
    return table + "\n"
