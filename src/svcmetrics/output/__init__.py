"""Reports to text: :func:`render` hands each :class:`OutputFormat` to its own module.

Each format's module is imported only when that format is asked for, so that a CSV or JSON
run (cron, pipes) never pays for rich, tabulate or Jinja2. Every renderer returns a string
and never prints: only the CLI writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

from svcmetrics.output.options import OutputFormat, ProblemFormat, RenderOptions, SqlDialect

if TYPE_CHECKING:
    from svcmetrics.report import Report

__all__ = ["OutputFormat", "ProblemFormat", "RenderOptions", "SqlDialect", "render"]


def render(report: Report, fmt: OutputFormat, options: RenderOptions) -> str | bytes:
    """The report in ``fmt``: every member of :class:`OutputFormat` is handled here (text,
    but bytes for the xlsx workbook)."""
    match fmt:
        case OutputFormat.TABLE:
            from svcmetrics.output.table import render_table

            return render_table(report, options)
        case OutputFormat.CHART:
            from svcmetrics.output.chart import render_chart

            return render_chart(report, options)
        case OutputFormat.CSV:
            from svcmetrics.output.csvtext import render_csv

            return render_csv(report, options)
        case OutputFormat.JSON:
            from svcmetrics.output.jsontext import render_json

            return render_json(report, options)
        case (
            OutputFormat.MARKDOWN
            | OutputFormat.GITHUB
            | OutputFormat.PLAIN
            | OutputFormat.SIMPLE
            | OutputFormat.GRID
            | OutputFormat.RST
        ):
            from svcmetrics.output.text import render_text

            return render_text(report, fmt, options)
        case OutputFormat.HTML:
            from svcmetrics.output.html import render_html

            return render_html(report, options)
        case OutputFormat.XLSX:
            from svcmetrics.output.xlsx import render_xlsx

            return render_xlsx(report, options)
        case _:
            assert_never(fmt)
