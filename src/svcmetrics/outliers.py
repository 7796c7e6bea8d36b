"""Outliers: a community rate far from the same community's own earlier rates, by the
modified z-score (spec 2.8; pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from svcmetrics.report import Outlier, Part, PartKey, Result, evolve
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
    count = len(history)
    if count < MIN_HISTORY:
        return None
    # each median as :func:`statistics.median` computes it, without its copy, checks and
    # calls (a city asks for some 340,000 of them)
    half = count // 2
    ordered = sorted(history)
    middle = ordered[half] if count % 2 else (ordered[half - 1] + ordered[half]) / 2
    spread = sorted([abs(x - middle) for x in history])
    mad = spread[half] if count % 2 else (spread[half - 1] + spread[half]) / 2
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
    reported_in: dict[str, set[str]] = {}
    for (community, label), count in records.items():
        if count > 0:
            reported_in.setdefault(community, set()).add(label)
    flagged = list(results)
    found: list[Outlier] = []
    # each community's rates of an indicator in every period, looked up once (None: no rate
    # or no record), not once for each of the periods whose window holds them
    series_of: dict[tuple[str, str, str], list[float | None]] = {}

    def series(community: str, indicator: str, value: str) -> list[float | None]:
        kept = reported_in.get(community, set())
        rates: list[float | None] = []
        for label in periods:
            part = parts.get((community, label, indicator, value)) if label in kept else None
            rates.append(part[0] / part[1] if part is not None and part[1] else None)
        return rates

    community_level = Level.COMMUNITY
    for index, result in enumerate(results):
        if result.level is not community_level or not result.denominator:
            continue
        at = position.get(result.period)
        if at is None or at < MIN_HISTORY:  # (too few periods before it to judge)
            continue
        key = (result.community, result.indicator, result.breakdown or "")
        rates = series_of.get(key)
        if rates is None:
            rates = series_of[key] = series(*key)
        start = max(0, at - WINDOW)
        earlier = [before for before in rates[start:at] if before is not None]
        if len(earlier) < MIN_HISTORY:
            continue
        rate = result.numerator / result.denominator
        score = modified_z(rate, earlier)
        if score is None or score <= CUTOFF:
            continue
        flagged[index] = evolve(result, flags=[*result.flags, "outlier"])
        history = [
            (label, before)
            for label, before in zip(periods[start:at], rates[start:at], strict=True)
            if before is not None
        ]
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
