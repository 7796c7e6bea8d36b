"""Outliers: a community rate far from the same community's own earlier rates, by the
modified z-score (spec 2.8; pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from statistics import median

from svcmetrics.completeness import reported
from svcmetrics.report import Outlier, Part, PartKey, Result, rate_of
from svcmetrics.units import Level

WINDOW = 12
"""How many earlier periods of the same kind a rate is compared with."""
MIN_HISTORY = 6
"""Fewer earlier defined rates than this: no verdict."""
CUTOFF = 3.5
"""A modified z-score above this is an outlier (Iglewicz and Hoaglin)."""


def modified_z(value: float, history: Sequence[float]) -> float | None:
    """0.6745 × |value − median| / MAD of ``history``; None with fewer than
    :data:`MIN_HISTORY` values or a MAD of 0."""
    if len(history) < MIN_HISTORY:
        return None
    middle = median(history)
    mad = median(abs(x - middle) for x in history)
    if mad == 0:
        return None
    return 0.6745 * abs(value - middle) / mad


def flag_outliers(
    results: Sequence[Result],
    parts: Mapping[PartKey, Part],
    records: Mapping[tuple[str, str], int],
    periods: Sequence[str],
) -> tuple[list[Result], list[Outlier]]:
    """``results`` with the community rates flagged ``outlier``, and those outliers.

    ``periods`` are the labels of every period counted, oldest first (the shown ones and
    up to :data:`WINDOW` before them); a rate is compared with the same community's rates
    of the :data:`WINDOW` periods before its own. An earlier period counts only when its
    rate is defined and the community has a record in it: a ledger not kept yet is no 0%.
    """
    position = {label: number for number, label in enumerate(periods)}
    flagged = list(results)
    found: list[Outlier] = []
    for index, result in enumerate(results):
        rate = result.rate
        at = position.get(result.period)
        if result.level is not Level.COMMUNITY or rate is None or at is None:
            continue
        history: list[tuple[str, float]] = []
        for label in periods[max(0, at - WINDOW) : at]:
            if not reported(records, result.community, label):
                continue
            part = parts.get((result.community, label, result.indicator, result.breakdown or ""))
            earlier = None if part is None else rate_of(part.numerator, part.denominator)
            if earlier is not None:
                history.append((label, earlier))
        score = modified_z(rate, [value for _, value in history])
        if score is None or score <= CUTOFF:
            continue
        flagged[index] = replace(result, flags=[*result.flags, "outlier"])
        found.append(
            Outlier(
                result.community,
                result.period,
                result.indicator,
                result.breakdown,
                rate,
                score,
                tuple(history),
            )
        )
    return flagged, found
