"""What goes to stderr or answers ``validate``: problems, notices, summaries and breaches."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from svcmetrics.errors import WARNING_KINDS, Problem
from svcmetrics.i18n import kind_name, label, problem_text
from svcmetrics.output.cells import (
    PROBLEMS_SHOWN,
    indicator_names,
    percent,
    problem_record,
    repeated_units,
    status_text,
    unit_name,
    where,
)
from svcmetrics.output.options import RenderOptions
from svcmetrics.report import Report

NOTICES_SHOWN = 10
BREACHES_SHOWN = 20


def render_problems(
    problems: Sequence[Problem], options: RenderOptions, totals: Mapping[str, int]
) -> str:
    """Problems as a table, or one line each off a terminal (the first 200), with a count
    of each kind (``totals`` counts all, where the list may hold only the first ones)."""
    lang = options.lang
    if not problems:
        return ""
    more = sum(totals.values()) - min(len(problems), PROBLEMS_SHOWN)
    if not options.terminal:
        lines = [problem_line(problem, lang) for problem in problems[:PROBLEMS_SHOWN]]
        if more > 0:
            lines.append(label("problems_more", lang, count=more))
        lines.append(summary(totals, lang))
        return "\n".join(lines) + "\n"
    # rich only for a person at a terminal: cron runs and pipes skip its start-up
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from svcmetrics.output.console import export, make_console

    console = make_console(options)
    table = Table(title=label("problems_title", lang), box=box.SIMPLE_HEAD, show_lines=False)
    for key in ("where", "column", "value", "message", "hint"):
        table.add_column(label(key, lang), overflow="fold")
    for problem in problems[:PROBLEMS_SHOWN]:
        text, hint = problem_text(problem, lang)
        style = "red" if problem.severity == "error" else "yellow"
        table.add_row(
            where(problem), problem.column, problem.value or "", Text(text, style=style), hint
        )
    console.print(table)
    if more > 0:
        console.print(label("problems_more", lang, count=more))
    console.print(summary(totals, lang))
    return export(console)


def summary(totals: Mapping[str, int], lang: str) -> str:
    """How many errors and warnings, and how many of each kind."""
    errors = sum(count for kind, count in totals.items() if kind not in WARNING_KINDS)
    warnings = sum(totals.values()) - errors
    lines = [label("problem_summary", lang, errors=errors, warnings=warnings)]
    for kind, count in sorted(totals.items()):
        lines.append(label("by_kind", lang, kind=kind_name(kind, lang), count=count))
    return "\n".join(lines)


def problem_line(problem: Problem, lang: str) -> str:
    """``file:line: column: message (hint)`` on one line."""
    text, hint = problem_text(problem, lang)
    head = ": ".join(part for part in (where(problem), problem.column) if part)
    return f"{head + ': ' if head else ''}{text}" + (f" ({hint})" if hint else "")


def render_notices(problems: Sequence[Problem], lang: str, totals: Mapping[str, int]) -> str:
    """One line per warning (message, then hint) for stderr; a count by kind beyond ten."""
    lines = [problem_line(problem, lang) for problem in problems[:NOTICES_SHOWN]]
    if sum(totals.values()) > NOTICES_SHOWN:
        lines.append(summary(totals, lang))
    return "\n".join(lines)


def render_breaches(report: Report, lang: str) -> str:
    """One line per rate beyond a threshold (community, period, indicator, rate, level);
    a roll-up that repeats the unit below it is counted once, as that unit."""
    names = indicator_names(report, lang)
    repeated = repeated_units(report.units)
    lines = []
    for result in report.results:
        if not result.breached or result.status is None or result.community in repeated:
            continue
        indicator = next(i for i in report.indicators if i.key == result.indicator)
        lower = indicator.threshold is not None and indicator.threshold.better == "lower"
        lines.append(
            label(
                "breach_above" if lower else "breach_below",
                lang,
                community=unit_name(result.community, result.community_name, result.level, lang),
                period=result.period,
                indicator=names[result.indicator],
                rate=percent(result.rate),
                level=percent(result.limit),
                status=status_text(result, lang),
            )
        )
    if not lines:
        return ""
    shown = lines[:BREACHES_SHOWN]
    if len(lines) > BREACHES_SHOWN:
        shown.append(label("breaches_more", lang, count=len(lines) - BREACHES_SHOWN))
    return "\n".join([label("breaches_title", lang, count=len(lines)), *shown])


def render_problems_json(
    problems: Sequence[Problem], rows: int, lang: str, totals: Mapping[str, int]
) -> str:
    """Every problem as JSON, with counts by kind."""
    errors = sum(count for kind, count in totals.items() if kind not in WARNING_KINDS)
    document = {
        "rows": rows,
        "errors": errors,
        "warnings": sum(totals.values()) - errors,
        "by_kind": dict(sorted(totals.items())),
        "problems": [problem_record(p, lang) for p in problems],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
