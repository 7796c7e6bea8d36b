"""What every format puts in a cell: percents, counts, names, notes, the unit tree (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from svcmetrics.errors import Problem
from svcmetrics.i18n import label, problem_text
from svcmetrics.judge import Status
from svcmetrics.report import Report, Result, Unit
from svcmetrics.units import repeating

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
    "previous_rate",
    "change",
    "previous_year_rate",
    "change_yoy",
    "rank",
    "target_level",
    "status",
    "flags",
)
"""The result keys of CSV and JSON, in order (spec 3.1)."""

PROBLEMS_SHOWN = 200
"""How many problems a table (terminal or page) lists; JSON lists them all."""

STATUS_STYLE: dict[Status, str] = {
    Status.OK: "green",
    Status.WARN: "yellow",
    Status.CRITICAL: "bold red",
    Status.NA: "dim",
}
"""The terminal style of each status word (rich style names)."""

_FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_STARTS = frozenset(_FORMULA_CHARS)
"""The first characters that make a spreadsheet read a text cell as a formula."""
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
"""A number as a spreadsheet reads one (not Python's ``inf``, ``nan`` or ``1_000``)."""


def result_fields(by: str | None) -> list[str]:
    """The result keys, with the breakdown field after the indicator's name under ``--by``."""
    fields = list(RESULT_FIELDS)
    if by is not None:
        fields.insert(fields.index("indicator_name") + 1, by)
    return fields


def unit_name(unit_id: str, name: str | None, level: str, lang: str) -> str:
    """How a community or roll-up is called in the output."""
    if level == "total":
        return label("total_name", lang)
    return name or unit_id or label("blank_value", lang)


def percent(value: float | None) -> str:
    """A fraction as a percent with one decimal; — when undefined."""
    return "—" if value is None else f"{value * 100:.1f}%"


def fraction(result: Result) -> str:
    """``numerator/denominator``, with ? for an unknown denominator."""
    denominator = "?" if result.denominator is None else str(result.denominator)
    return f"{result.numerator}/{denominator}"


COMPARISON_LABELS = {
    "previous_rate": "previous",
    "change": "change",
    "previous_year_rate": "previous_year",
    "change_yoy": "change_yoy",
}
"""The catalogue key of each comparison column's header (上期, 环比, 上年同期, 同比)."""

POINTS_FIELDS = ("change", "change_yoy")
"""The result keys in percentage points (百分点), not fractions."""


def change(result: Result) -> str:
    """The change from the previous period in percentage points (+1.5); empty when none."""
    return points(result.change)


def change_yoy(result: Result) -> str:
    """The change from the same period a year earlier in percentage points; empty when none."""
    return points(result.change_yoy)


def points(value: float | None) -> str:
    """A change in percentage points with its sign (+1.5); empty when there is none."""
    return "" if value is None else f"{value:+.1f}"


def compared_rate(value: float | None) -> str:
    """A comparison period's rate (上期, 上年同期) as a percent; empty when there is none."""
    return "" if value is None else percent(value)


def comparison_columns(report: Report) -> tuple[str, ...]:
    """The comparison keys a table shows: 上期 and 环比 always (环比 says "none" by being
    empty), 上年同期 and 同比 only when some period of the report has a year-earlier rate."""
    keys: tuple[str, ...] = ("previous_rate", "change")
    if any(r.previous_year_rate is not None for r in report.results):
        keys += ("previous_year_rate", "change_yoy")
    return keys


def comparison_cell(result: Result, key: str) -> str:
    """The text of a comparison column (:func:`comparison_columns`) for ``result``."""
    if key in POINTS_FIELDS:
        return points(getattr(result, key))
    return compared_rate(getattr(result, key))


def status_text(result: Result, lang: str) -> str:
    """The status word in ``lang``; empty without a status."""
    return "" if result.status is None else label(f"status_{result.status.value}", lang)


def flags_text(result: Result, lang: str) -> str:
    """The flags in words, comma-separated."""
    return ", ".join(label(f"flag_{flag}", lang) for flag in result.flags)


def notes(result: Result, lang: str) -> str:
    """The survey interval and the flags, as one note."""
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
    flags = flags_text(result, lang)
    if flags:
        parts.append(flags)
    return "; ".join(parts)


def rank_text(result: Result) -> str:
    """The place among the siblings (排名), empty without one."""
    return "" if result.rank is None else str(result.rank)


def silent_notes(report: Report, period: str, lang: str) -> list[str]:
    """A note naming the communities with no valid record in ``period`` (上报率), if any."""
    missing = report.silent.get(period, ())
    if not missing:
        return []
    names = {unit.id: unit_name(unit.id, unit.name, unit.level, lang) for unit in report.units}
    return [
        "  "
        + label(
            "not_reported",
            lang,
            count=len(missing),
            units=label("list_sep", lang).join(names.get(c, c) for c in missing),
        )
    ]


def breakdown_text(value: str | None, by: str | None, lang: str) -> str:
    """A ``--by`` value as shown: a category by its name in ``lang``, a blank as (blank).

    Service items are the ledger's own words and stay as written.
    """
    if value is None:
        return ""
    if not value:
        return label("blank_value", lang)
    if by == "category":
        return label(f"category_{value}", lang)
    return value


def indicator_names(report: Report, lang: str) -> dict[str, str]:
    """Each indicator's name in ``lang``, by key."""
    return {indicator.key: indicator.name(lang) for indicator in report.indicators}


def repeated_units(units: Sequence[Unit]) -> dict[str, Unit]:
    """The roll-ups (and total) that pool the same communities as a unit below them, each
    with the unit shown in its place: a street office with one district above it and a
    total over it are one block of numbers, shown once."""
    repeats = repeating(units)
    hidden = {id(unit) for unit, repeated in zip(units, repeats, strict=True) if repeated}
    # the first shown unit (in tree order) of each member set
    first: dict[frozenset[str], Unit] = {}
    for unit, _ in unit_tree(units):
        if id(unit) not in hidden:
            first.setdefault(frozenset(unit.members), unit)
    instead: dict[str, Unit] = {}
    for unit, repeated in zip(units, repeats, strict=True):
        same = first.get(frozenset(unit.members)) if repeated else None
        if same is not None:
            instead[unit.id] = same
    return instead


def shown_tree(units: Sequence[Unit]) -> list[tuple[Unit, int]]:
    """The unit tree without repeated units (:func:`repeated_units`); what a repeated
    roll-up pools moves up in its place."""
    return unit_tree(units, skip=frozenset(repeated_units(units)))


def repeat_notes(units: Sequence[Unit], lang: str) -> list[str]:
    """One sentence per unit that stands for repeated ones, naming them and saying why."""
    instead = repeated_units(units)
    grouped: dict[str, tuple[Unit, list[Unit]]] = {}
    for unit, _ in unit_tree(units):
        shown = instead.get(unit.id)
        if shown is not None:
            grouped.setdefault(shown.id, (shown, []))[1].append(unit)
    lines = []
    for shown, hidden in grouped.values():
        names = [unit_name(u.id, u.name, u.level, lang) for u in hidden]
        lines.append(
            label(
                "repeat_note",
                lang,
                units=label("list_sep", lang).join(names),
                unit=unit_name(shown.id, shown.name, shown.level, lang),
            )
        )
    return lines


def unit_tree(units: Sequence[Unit], skip: frozenset[str] = frozenset()) -> list[tuple[Unit, int]]:
    """Units in display order with their depth: each roll-up followed by what it pools,
    total last. A unit in ``skip`` is left out, and what it pools takes its depth."""
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
            if unit.id in skip:
                visit(unit.id, depth)
                continue
            ordered.append((unit, depth))
            visit(unit.id, depth + 1)

    visit(None, 0)
    ordered.extend((unit, 0) for unit in units if unit.level == "total" and unit.id not in skip)
    return ordered


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
        "previous_rate": result.previous_rate,
        "change": result.change,
        "previous_year_rate": result.previous_year_rate,
        "change_yoy": result.change_yoy,
        "rank": result.rank,
        "target_level": result.target_level,
        "status": None if result.status is None else result.status.value,
        "flags": ";".join(result.flags),
    }
    if by is None:
        return record  # already in the order of RESULT_FIELDS
    record[by] = result.breakdown
    return {key: record[key] for key in result_fields(by)}


def neutralise(cell: str) -> str:
    """Keep a spreadsheet from running a text cell as a formula (numbers pass unchanged)."""
    if not cell.startswith(_FORMULA_CHARS) or _NUMBER.match(cell):
        return cell
    return "'" + cell


def where(problem: Problem) -> str:
    """``file:line``, or the file alone when the problem has no line."""
    if problem.line is None:
        return problem.file
    return f"{problem.file}:{problem.line}"


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
