"""排名: a place among siblings, and whether a survey interval can tell a result from its
neighbours (spec 2.8; pure: numbers in, places out; :mod:`svcmetrics.report` ranks results)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

Ranked = tuple[int, int, tuple[float, float] | None]
"""What ranks a result among its siblings: (numerator, denominator > 0, its 95% interval or
None)."""


def _overlap(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    if a is None or b is None:
        return False
    return a[0] <= b[1] and b[0] <= a[1]


def places(siblings: Sequence[Ranked], lower: bool) -> list[tuple[int, bool]]:
    """Each sibling's (place, tied): 1 is best (the highest rate; the lowest when ``lower``),
    equal rates share the smaller place (1, 2, 2, 4); tied when its interval overlaps the
    interval of the sibling ranked just above or below it (equal rates in the order of
    ``siblings``).

    The rates are compared as floats when no two different fractions among them round to
    one float (rounding keeps the order, so only ties can be wrong); else as fractions.
    """
    sign = 1 if lower else -1
    order: list[tuple[float | Fraction, int]] = sorted(
        [(sign * (n / d), at) for at, (n, d, _) in enumerate(siblings)]
    )
    for (rate, before), (next_rate, after) in zip(order, order[1:], strict=False):
        if rate == next_rate:
            a, b = siblings[before], siblings[after]
            if a[0] * b[1] != b[0] * a[1]:
                # each rate once, exactly (a float could tie two different fractions)
                order = sorted(
                    [(sign * Fraction(n, d), at) for at, (n, d, _) in enumerate(siblings)]
                )
                break
    found: list[tuple[int, bool]] = [(0, False)] * len(siblings)
    place = 0
    last = len(order) - 1
    for position, (value, at) in enumerate(order):
        if not position or order[position - 1][0] != value:
            place = position + 1
        interval = siblings[at][2]
        tied = interval is not None and (
            (position > 0 and _overlap(interval, siblings[order[position - 1][1]][2]))
            or (position < last and _overlap(interval, siblings[order[position + 1][1]][2]))
        )
        found[at] = (place, tied)
    return found
