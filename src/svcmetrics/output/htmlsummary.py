"""A large report's HTML page in summary: statuses counted, the extremes, one data island."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from svcmetrics.i18n import label
from svcmetrics.judge import Status
from svcmetrics.output.cells import (
    shown_tree,
    unit_name,
)
from svcmetrics.output.chartdata import (
    ResultKey,
    Subject,
)
from svcmetrics.output.htmlcharts import status_class
from svcmetrics.report import Report, Result, Unit

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


def data_island(report: Report, charted: Sequence[Subject], lang: str) -> str:
    """Every shown result as compact JSON for the page's search: units once, then per period
    and subject the status letters, numerators and denominators in unit order (the
    denominators as the number of an earlier block when they equal its: a profile's
    denominators repeat every period).

    The results are placed in their blocks in one pass over them (a city's 445,000: looking
    each block's units up one by one cost three times as much).

    ``<``, ``>`` and ``&`` are escaped, so the JSON cannot close its ``<script>`` element.
    """
    import json

    tree = [unit for unit, _ in shown_tree(report.units)]
    names = {unit.id: unit_name(unit.id, unit.name, unit.level, lang) for unit in report.units}
    places = {unit.id: at for at, unit in enumerate(tree)}
    letter = {status: code for code, status in STATUS_WORDS.items()}
    blocks: dict[tuple[str, str, str | None], tuple[list[str], list[int | None], list[int | None]]]
    blocks = {
        (period.label, subject.indicator.key, subject.value): (
            ["x"] * len(tree),
            [None] * len(tree),
            [None] * len(tree),
        )
        for period in report.periods
        for subject in charted
    }
    for result in report.results:
        block = blocks.get((result.period, result.indicator, result.breakdown))
        at = places.get(result.community)
        if block is None or at is None:
            continue
        block[0][at] = letter[result.status]
        block[1][at] = result.numerator
        block[2][at] = result.denominator
    rows: list[list[object]] = []
    seen: dict[tuple[int | None, ...], int] = {}
    for number, period in enumerate(report.periods):
        for at, subject in enumerate(charted):
            key = (period.label, subject.indicator.key, subject.value)
            letters, numerators, found = blocks[key]
            denominators = tuple(found)
            shared = seen.setdefault(denominators, len(rows))
            rows.append(
                [
                    number,
                    at,
                    "".join(letters),
                    numerators,
                    found if shared == len(rows) else shared,
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
