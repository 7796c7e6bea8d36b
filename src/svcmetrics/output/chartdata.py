"""What a chart compares: subjects, units, scale, ticks, levels and trends (pure; no drawing)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from svcmetrics.i18n import label
from svcmetrics.indicators import Indicator
from svcmetrics.judge import levels_for
from svcmetrics.output.cells import breakdown_text, percent, repeated_units, shown_tree
from svcmetrics.periods import Period
from svcmetrics.report import Report, Result, Unit, unit_ancestors

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
        value = breakdown_text(self.value, by, lang)
        return f"{name}{label('list_sep', lang)}{label(by, lang)}: {value}"

    @property
    def key(self) -> str:
        """A stable id for the chart (HTML anchors)."""
        return self.indicator.key if self.value is None else f"{self.indicator.key}-{self.value}"


def subjects(report: Report) -> list[Subject]:
    """The charts to draw: one per indicator, or per indicator and breakdown value."""
    values = list(dict.fromkeys(map(attrgetter("breakdown"), report.results))) or [None]
    return [Subject(indicator, value) for indicator in report.indicators for value in values]


def index(results: Iterable[Result]) -> dict[ResultKey, Result]:
    """The results by (period, community, indicator, breakdown value)."""
    return {(r.period, r.community, r.indicator, r.breakdown): r for r in results}


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
    """The units a chart compares: the communities in display order, then the grand total,
    or the roll-up shown in its place when it repeats one (:func:`cells.repeated_units`).

    Roll-up levels stay in the tables: a chart compares communities with their sum.
    """
    instead = repeated_units(units)
    communities = [unit for unit, _ in shown_tree(units) if unit.level == "community"]
    return communities + [instead.get(unit.id, unit) for unit in units if unit.level == "total"]


def is_sum(unit: Unit) -> bool:
    """True for the unit a chart draws as the sum of the others (bold, its own colour)."""
    return unit.level != "community"


def unit_levels(
    subject: Subject, units: Sequence[Unit], tree: Sequence[Unit] = ()
) -> dict[str, Levels]:
    """Each unit's levels for ``subject``, overrides of the unit or of a parent applied
    (``tree``: every unit of the report, for the parent chains; default ``units``).

    A breakdown value has none: targets are set for whole indicators (as the judge does).
    """
    threshold = subject.indicator.threshold
    if threshold is None or subject.value is not None:
        return {unit.id: (None, None) for unit in units}
    chains = unit_ancestors(tree or units)
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
