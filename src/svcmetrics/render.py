"""Reports to text: one function per output format, each returning a string (never printing)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, assert_never

from svcmetrics.errors import WARNING_KINDS, Problem
from svcmetrics.formats import OutputFormat, RenderOptions
from svcmetrics.i18n import kind_name, label, problem_text
from svcmetrics.indicators import (
    Distinct,
    Indicator,
    NeedsMet,
    NeedsRaised,
    ProfileField,
    Respondents,
    Rule,
    SatisfiedRespondents,
)
from svcmetrics.judge import Status
from svcmetrics.report import Report, Result, Unit

if TYPE_CHECKING:
    # imported where a format needs them: CSV and JSON runs (cron, pipes) skip their
    # start-up (tens of milliseconds)
    from rich.console import Console

RESULT_FIELDS: tuple[str, ...] = (
    "level",
    "community",
    "community_name",
    "parent",
    "period",
    "indicator",
    "indicator_name",
    "numerator",
    "denominator",
    "rate",
    "sample_size",
    "ci_low",
    "ci_high",
    "change",
    "status",
    "flags",
)
"""The result keys of CSV and JSON, in order (spec 3.1)."""


def result_fields(by: str | None) -> list[str]:
    """The result keys, with the breakdown field after the indicator's name under ``--by``."""
    fields = list(RESULT_FIELDS)
    if by is not None:
        fields.insert(fields.index("indicator_name") + 1, by)
    return fields


PROBLEMS_SHOWN = 200
_STATUS_STYLE = {
    Status.OK: "green",
    Status.WARN: "yellow",
    Status.CRITICAL: "bold red",
    Status.NA: "dim",
}
_FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")


def _console(options: RenderOptions) -> Console:
    from rich.console import Console

    return Console(
        file=io.StringIO(),
        force_terminal=options.color,
        no_color=not options.color,
        color_system="standard" if options.color else None,
        width=options.width,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )


def _export(console: Console) -> str:
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def unit_name(unit_id: str, name: str | None, level: str, lang: str) -> str:
    """How a community or roll-up is called in the output."""
    if level == "total":
        return label("total_name", lang)
    return name or unit_id or label("blank_value", lang)


def percent(value: float | None) -> str:
    """A fraction as a percent with one decimal; — when undefined."""
    return "—" if value is None else f"{value * 100:.1f}%"


def _fraction(result: Result) -> str:
    denominator = "?" if result.denominator is None else str(result.denominator)
    return f"{result.numerator}/{denominator}"


def _flags_text(result: Result, lang: str) -> str:
    return ", ".join(label(f"flag_{flag}", lang) for flag in result.flags)


def _notes(result: Result, lang: str) -> str:
    parts = []
    if result.ci_low is not None and result.ci_high is not None and result.sample_size:
        parts.append(
            label(
                "ci",
                lang,
                n=result.sample_size,
                low=percent(result.ci_low),
                high=percent(result.ci_high),
            )
        )
    flags = _flags_text(result, lang)
    if flags:
        parts.append(flags)
    return "; ".join(parts)


def _change(result: Result) -> str:
    return "" if result.change is None else f"{result.change:+.1f}"


def _tree(units: Sequence[Unit]) -> list[tuple[Unit, int]]:
    """Units in display order: each roll-up followed by what it pools, total last."""
    ids = {unit.id for unit in units}
    kids: dict[str | None, list[Unit]] = {}
    for unit in units:
        if unit.level == "total":
            continue
        parent = unit.parent if unit.parent in ids else None
        kids.setdefault(parent, []).append(unit)
    ordered: list[tuple[Unit, int]] = []

    def visit(parent: str | None, depth: int) -> None:
        for unit in sorted(kids.get(parent, []), key=lambda u: (u.level != "rollup", u.id)):
            ordered.append((unit, depth))
            visit(unit.id, depth + 1)

    visit(None, 0)
    ordered.extend((unit, 0) for unit in units if unit.level == "total")
    return ordered


def render_table(report: Report, options: RenderOptions) -> str:
    """Rich tables, one per period, communities grouped under their parents."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    lang = options.lang
    console = _console(options)
    by_key: dict[tuple[str, str], list[Result]] = {}
    for result in report.results:
        by_key.setdefault((result.period, result.community), []).append(result)
    names = {indicator.key: indicator.name(lang) for indicator in report.indicators}
    for period in report.periods:
        table = Table(
            title=label("title_period", lang, period=period.label),
            box=box.SIMPLE_HEAD,
            caption=label("caption_flags", lang),
            caption_justify="left",
        )
        columns = [("community", "left"), ("indicator", "left")]
        if report.by is not None:
            columns.append((report.by, "left"))
        columns += [("rate", "right"), ("counts", "right"), ("change", "right"), ("status", "left")]
        # On a narrow terminal the notes (intervals, flags) go under the table, so that names
        # and numbers keep their width.
        inline_notes = options.width >= NOTES_INLINE_WIDTH
        if inline_notes:
            columns.append(("notes", "left"))
        numbers = ("rate", "counts", "change", "status")
        for key, justify in columns:
            header = label("change_short" if key == "change" else key, lang)
            # numbers never wrap; a long name may take two lines on a narrow terminal
            table.add_column(header, justify=justify, no_wrap=key in numbers)  # type: ignore[arg-type]
        below: list[str] = []
        for unit, depth in _tree(report.units):
            first = True
            rows = by_key.get((period.label, unit.id), [])
            for number, result in enumerate(rows):
                name = (
                    "  " * depth + unit_name(unit.id, unit.name, unit.level, lang) if first else ""
                )
                first = False
                status = Text("")
                if result.status is not None:
                    status = Text(
                        label(f"status_{result.status.value}", lang),
                        style=_STATUS_STYLE[result.status],
                    )
                breakdown = [_breakdown_text(result, lang)] if report.by is not None else []
                notes = _notes(result, lang)
                if notes and not inline_notes:
                    where = unit_name(unit.id, unit.name, unit.level, lang)
                    below.append(f"  {where} · {names[result.indicator]}: {notes}")
                table.add_row(
                    Text(name, style="bold" if unit.level != "community" else ""),
                    names[result.indicator],
                    *breakdown,
                    percent(result.rate),
                    _fraction(result),
                    _change(result),
                    status,
                    *([notes] if inline_notes else []),
                    end_section=number == len(rows) - 1,
                )
        console.print(table)
        if below:
            console.print(label("notes", lang) + ":")
            for line in below:
                console.print(Text(line), overflow="fold")
    return _export(console)


def result_record(
    result: Result, names: dict[str, str], lang: str, by: str | None = None
) -> dict[str, Any]:
    """A result as the JSON/CSV record of spec 3.1 (raw values), keys in output order."""
    record = {
        "level": result.level,
        "community": result.community,
        "community_name": unit_name(result.community, result.community_name, result.level, lang),
        "parent": result.parent,
        "period": result.period,
        "indicator": result.indicator,
        "indicator_name": names[result.indicator],
        "numerator": result.numerator,
        "denominator": result.denominator,
        "rate": result.rate,
        "sample_size": result.sample_size,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "change": result.change,
        "status": None if result.status is None else result.status.value,
        "flags": ";".join(result.flags),
    }
    if by is not None:
        record[by] = result.breakdown
    return {key: record[key] for key in result_fields(by)}


def _cell(value: Any, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if key == "change" else f"{value:.4f}"
    return str(value)


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
"""A number as a spreadsheet reads one (not Python's ``inf``, ``nan`` or ``1_000``)."""


def neutralise(cell: str) -> str:
    """Keep a spreadsheet from running a text cell as a formula (numbers pass unchanged)."""
    if not cell.startswith(_FORMULA_CHARS) or _NUMBER.match(cell):
        return cell
    return "'" + cell


def _csv_text(header: list[str], rows: list[list[str]], options: RenderOptions) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    clean: Callable[[str], str] = neutralise if options.neutralise else str
    writer.writerow([clean(cell) for cell in header])
    for row in rows:
        writer.writerow([clean(cell) for cell in row])
    return ("\ufeff" if options.bom else "") + buffer.getvalue()


def _names(report: Report, lang: str) -> dict[str, str]:
    return {indicator.key: indicator.name(lang) for indicator in report.indicators}


def render_csv(report: Report, options: RenderOptions) -> str:
    """CSV: one row per result with the keys of spec 3.1, or ``--wide``."""
    names = _names(report, options.lang)
    records = [result_record(r, names, options.lang, report.by) for r in report.results]
    fields = result_fields(report.by)
    if not options.wide:
        rows = [[_cell(record[key], key) for key in fields] for record in records]
        return _csv_text(fields, rows, options)
    head = ["level", "community", "community_name", "parent", "period"]
    if report.by is not None:
        head.append(report.by)
    header = list(head)
    for indicator in report.indicators:
        header += [indicator.key, f"{indicator.key}_num", f"{indicator.key}_den"]
    grouped: dict[tuple[str, ...], list[str]] = {}
    for record in records:
        key = tuple(str(record[name]) for name in head)
        row = grouped.setdefault(key, [_cell(record[name], name) for name in head])
        row += [
            _cell(record["rate"], "rate"),
            _cell(record["numerator"], "numerator"),
            _cell(record["denominator"], "denominator"),
        ]
    return _csv_text(header, list(grouped.values()), options)


def problem_record(problem: Problem, lang: str) -> dict[str, Any]:
    """A problem as data (JSON), message and hint in ``lang``."""
    text, hint = problem_text(problem, lang)
    return {
        "file": problem.file,
        "line": problem.line,
        "record": problem.record,
        "column": problem.column,
        "value": problem.value,
        "kind": problem.kind,
        "severity": problem.severity,
        "message": text,
        "hint": hint,
    }


def render_json(report: Report, options: RenderOptions) -> str:
    """JSON: meta, results and issues (spec 3.1); raw values, null when undefined."""
    names = _names(report, options.lang)
    document = {
        "meta": {**report.facts.meta(), "lang": options.lang},
        "results": [result_record(r, names, options.lang, report.by) for r in report.results],
        "issues": [problem_record(p, options.lang) for p in report.problems],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


_TABULATE_NAMES = {
    OutputFormat.MARKDOWN: "pipe",
    OutputFormat.GITHUB: "github",
    OutputFormat.PLAIN: "plain",
    OutputFormat.SIMPLE: "simple",
    OutputFormat.GRID: "grid",
    OutputFormat.RST: "rst",
}


def _breakdown_text(result: Result, lang: str) -> str:
    if result.breakdown is None:
        return ""
    return result.breakdown or label("blank_value", lang)


def render_text(report: Report, fmt: OutputFormat, options: RenderOptions) -> str:
    """A tabulate text table of every result, headers in the output language."""
    from tabulate import tabulate

    lang = options.lang
    names = _names(report, lang)
    keys = ["period", "community_name", "indicator_name", "rate", "counts", "change", "status"]
    if report.by is not None:
        keys.insert(3, report.by)
    rows = []
    for result in report.results:
        status = "" if result.status is None else label(f"status_{result.status.value}", lang)
        cells = {
            "period": result.period,
            "community_name": unit_name(
                result.community, result.community_name, result.level, lang
            ),
            "indicator_name": names[result.indicator],
            "rate": percent(result.rate),
            "counts": _fraction(result),
            "change": _change(result),
            "status": status,
            "flags": _flags_text(result, lang),
        }
        if report.by is not None:
            cells[report.by] = _breakdown_text(result, lang)
        rows.append([cells[key] for key in [*keys, "flags"]])
    headers = [label(key, lang) for key in [*keys, "flags"]]
    table = tabulate(rows, headers=headers, tablefmt=_TABULATE_NAMES[fmt], disable_numparse=True)
    return table + "\n"


def render(report: Report, fmt: OutputFormat, options: RenderOptions) -> str | bytes:
    """The report in ``fmt``: every member of :class:`OutputFormat` is handled here (text,
    but bytes for the xlsx workbook)."""
    match fmt:
        case OutputFormat.TABLE:
            return render_table(report, options)
        case OutputFormat.CSV:
            return render_csv(report, options)
        case OutputFormat.JSON:
            return render_json(report, options)
        case (
            OutputFormat.MARKDOWN
            | OutputFormat.GITHUB
            | OutputFormat.PLAIN
            | OutputFormat.SIMPLE
            | OutputFormat.GRID
            | OutputFormat.RST
        ):
            return render_text(report, fmt, options)
        case OutputFormat.HTML:
            from svcmetrics.html import render_html

            return render_html(report, options)
        case OutputFormat.XLSX:
            from svcmetrics.xlsxreport import render_xlsx

            return render_xlsx(report, options)
        case _:
            assert_never(fmt)


def _where(problem: Problem) -> str:
    if problem.line is None:
        return problem.file
    return f"{problem.file}:{problem.line}"


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
        lines = [_problem_line(problem, lang) for problem in problems[:PROBLEMS_SHOWN]]
        if more > 0:
            lines.append(label("problems_more", lang, count=more))
        lines.append(summary(totals, lang))
        return "\n".join(lines) + "\n"
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = _console(options)
    table = Table(title=label("problems_title", lang), box=box.SIMPLE_HEAD, show_lines=False)
    for key in ("where", "column", "value", "message", "hint"):
        table.add_column(label(key, lang), overflow="fold")
    for problem in problems[:PROBLEMS_SHOWN]:
        text, hint = problem_text(problem, lang)
        style = "red" if problem.severity == "error" else "yellow"
        table.add_row(
            _where(problem), problem.column, problem.value or "", Text(text, style=style), hint
        )
    console.print(table)
    if more > 0:
        console.print(label("problems_more", lang, count=more))
    console.print(summary(totals, lang))
    return _export(console)


def summary(totals: Mapping[str, int], lang: str) -> str:
    """How many errors and warnings, and how many of each kind."""
    errors = sum(count for kind, count in totals.items() if kind not in WARNING_KINDS)
    warnings = sum(totals.values()) - errors
    lines = [label("problem_summary", lang, errors=errors, warnings=warnings)]
    for kind, count in sorted(totals.items()):
        lines.append(label("by_kind", lang, kind=kind_name(kind, lang), count=count))
    return "\n".join(lines)


NOTICES_SHOWN = 10
NOTES_INLINE_WIDTH = 110
"""Narrower terminals get the notes under each table instead of in a column."""
BREACHES_SHOWN = 20


def _problem_line(problem: Problem, lang: str) -> str:
    """``file:line: column: message (hint)`` on one line."""
    text, hint = problem_text(problem, lang)
    where = _where(problem)
    head = ": ".join(part for part in (where, problem.column) if part)
    return f"{head + ': ' if head else ''}{text}" + (f" ({hint})" if hint else "")


def render_notices(problems: Sequence[Problem], lang: str, totals: Mapping[str, int]) -> str:
    """One line per warning (message, then hint) for stderr; a count by kind beyond ten."""
    lines = [_problem_line(problem, lang) for problem in problems[:NOTICES_SHOWN]]
    if sum(totals.values()) > NOTICES_SHOWN:
        lines.append(summary(totals, lang))
    return "\n".join(lines)


def render_breaches(report: Report, lang: str) -> str:
    """One line per rate beyond a threshold (community, period, indicator, rate, level)."""
    names = _names(report, lang)
    repeated = {unit.id for unit in report.units if unit.repeats(report.units)}
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
                status=label(f"status_{result.status.value}", lang),
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


def _party(party: str | None, lang: str) -> str:
    return label(f"party_{party or 'any'}", lang)


def describe_rule(rule: Rule, lang: str) -> str:
    """What a numerator or denominator rule counts, in words."""
    if isinstance(rule, Distinct):
        event = (
            label(f"event_{rule.event}", lang)
            if rule.event in {"participate", "benefit", "need", "survey"}
            else rule.event
        )
        if rule.counted is None:
            text = label("rule_rows", lang, party=_party(rule.party, lang), event=event)
        else:
            text = label(
                "rule_distinct",
                lang,
                party=_party(rule.party, lang),
                event=event,
                counted=label(f"counted_{rule.counted}", lang),
            )
        for name in ("status", "service", "category"):
            value = getattr(rule, name)
            if value is not None:
                text += label("rule_condition", lang, field=name, value=value)
        return text
    if isinstance(rule, NeedsMet):
        return label("rule_needs_met", lang)
    if isinstance(rule, NeedsRaised):
        return label("rule_needs_raised", lang)
    if isinstance(rule, SatisfiedRespondents):
        return label("rule_satisfied", lang, party=_party(rule.party, lang))
    if isinstance(rule, Respondents):
        return label("rule_respondents", lang, party=_party(rule.party, lang))
    if isinstance(rule, ProfileField):
        key = "rule_population" if rule.needs_answers else "rule_profile"
        return label(key, lang, field=rule.name)
    assert_never(rule)


def render_explain(
    indicators: Sequence[Indicator], lang: str, min_sample: int, options: RenderOptions
) -> str:
    """Each indicator's formula, what its numbers count, and what it means."""
    from rich.table import Table
    from rich.text import Text

    console = _console(options)
    for indicator in indicators:
        other = "en" if lang == "zh" else "zh"
        console.print(
            Text(f"{indicator.name(lang)} ({indicator.key}; {indicator.name(other)})", style="bold")
        )
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column()
        formula = label("explain_formula_text", lang, name=indicator.name(lang))
        grid.add_row(f"  {label('explain_formula', lang)}:", formula)
        grid.add_row(
            f"  {label('explain_numerator', lang)}:", describe_rule(indicator.numerator, lang)
        )
        grid.add_row(
            f"  {label('explain_denominator', lang)}:", describe_rule(indicator.denominator, lang)
        )
        if indicator.description(lang):
            grid.add_row(f"  {label('explain_meaning', lang)}:", indicator.description(lang))
        if indicator.survey_basis:
            grid.add_row("", label("explain_survey", lang, min_sample=min_sample))
        console.print(grid)
        console.print()
    return _export(console)
