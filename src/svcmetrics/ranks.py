"""排名: each result's place among its siblings, and whether its survey interval can tell it
from its neighbours (spec 2.8; pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from svcmetrics.indicators import Indicator
from svcmetrics.report import Result, evolve
from svcmetrics.units import Level

SiblingKey = tuple[Level, str | None, str, str, str | None]
"""(level, parent, period, indicator, breakdown value): the results ranked together."""


def _overlap(a: Result, b: Result) -> bool:
    if a.ci_low is None or a.ci_high is None or b.ci_low is None or b.ci_high is None:
        return False
    return a.ci_low <= b.ci_high and b.ci_low <= a.ci_high


def _ordered(
    results: Sequence[Result], members: list[int], sign: int
) -> tuple[Mapping[int, float | Fraction], list[int]]:
    """Each member's rate times ``sign``, as a sort key that orders and ties them exactly,
    and the members in that order (stable: ties keep their order in ``members``).

    Floats, when no two different fractions among them round to one float (rounding keeps
    the order, so only ties can be wrong); else the fractions themselves.
    """
    rates = {
        index: sign * (results[index].numerator / (results[index].denominator or 1))
        for index in members
    }
    order = sorted(members, key=rates.__getitem__)
    for before, after in zip(order, order[1:], strict=False):
        if rates[before] != rates[after]:
            continue
        a, b = results[before], results[after]
        if a.numerator * (b.denominator or 1) != b.numerator * (a.denominator or 1):
            # each rate once, exactly (a float could tie two different fractions)
            exact = {
                index: sign * Fraction(results[index].numerator, results[index].denominator or 1)
                for index in members
            }
            return exact, sorted(members, key=exact.__getitem__)
    return rates, order


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
    total = Level.TOTAL
    for index, result in enumerate(results):
        if result.level is total or not result.denominator:
            continue
        key = (result.level, result.parent, result.period, result.indicator, result.breakdown)
        members = groups.get(key)
        if members is None:
            groups[key] = [index]
        else:
            members.append(index)
    ranked = list(results)
    for (_, _, _, indicator, _), members in groups.items():
        sign = 1 if indicator in lower else -1
        exact, order = _ordered(results, members, sign)
        place = 0
        for position, index in enumerate(order):
            if not position or exact[order[position - 1]] != exact[index]:
                place = position + 1
            result = results[index]
            flags = result.flags
            if result.ci_low is not None and any(
                _overlap(result, results[order[p]])
                for p in (position - 1, position + 1)
                if 0 <= p < len(order)
            ):
                flags = [*flags, "rank_tied_ci"]
            ranked[index] = evolve(result, rank=place, flags=flags)
    return ranked
