"""排名: each result's place among its siblings, and whether its survey interval can tell it
from its neighbours (spec 2.8; pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

from svcmetrics.indicators import Indicator
from svcmetrics.report import Result
from svcmetrics.units import Level

SiblingKey = tuple[Level, str | None, str, str, str | None]
"""(level, parent, period, indicator, breakdown value): the results ranked together."""


def _overlap(a: Result, b: Result) -> bool:
    if a.ci_low is None or a.ci_high is None or b.ci_low is None or b.ci_high is None:
        return False
    return a.ci_low <= b.ci_high and b.ci_low <= a.ci_high


def rank_results(results: Sequence[Result], indicators: Sequence[Indicator]) -> list[Result]:
    """``results`` with ``rank`` set, in the same order.

    Communities are ranked among the communities with the same parent (all communities
    without one), roll-ups among the roll-ups with the same parent; the total has no rank.
    1 is best (the highest rate, the lowest with ``better: lower``); equal rates share the
    smaller place (1, 2, 2, 4); an undefined rate has no rank. A survey-basis result whose
    95% interval overlaps the interval of the result ranked just above or below it is
    flagged ``rank_tied_ci``.
    """
    lower = {i.key for i in indicators if i.threshold is not None and i.threshold.better == "lower"}
    groups: dict[SiblingKey, list[int]] = {}
    for index, result in enumerate(results):
        if result.level is Level.TOTAL or result.denominator is None or not result.denominator:
            continue
        key = (result.level, result.parent, result.period, result.indicator, result.breakdown)
        groups.setdefault(key, []).append(index)
    ranked = list(results)
    for (_, _, _, indicator, _), members in groups.items():
        sign = 1 if indicator in lower else -1

        def exact(index: int, sign: int = sign) -> Fraction:
            result = results[index]
            return sign * Fraction(result.numerator, result.denominator or 1)

        order = sorted(members, key=exact)
        for position, index in enumerate(order):
            place = position + 1
            if position and exact(order[position - 1]) == exact(index):
                place = ranked[order[position - 1]].rank or place
            neighbours = [
                results[order[p]] for p in (position - 1, position + 1) if 0 <= p < len(order)
            ]
            flags = list(results[index].flags)
            if any(_overlap(results[index], other) for other in neighbours):
                flags.append("rank_tied_ci")
            ranked[index] = replace(results[index], rank=place, flags=flags)
    return ranked
