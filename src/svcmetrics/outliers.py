"""Outliers: a community rate far from the same community's own earlier rates, by the
modified z-score (spec 2.8; pure)."""

from __future__ import annotations

from collections.abc import Sequence

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


def outlier_score(rate: float, rates: Sequence[float | None], at: int) -> float | None:
    """The modified z-score of ``rate``, the rate of the period at position ``at`` of
    ``rates``, against the defined rates of the :data:`WINDOW` periods before it, when above
    :data:`CUTOFF`; else None (also with fewer than :data:`MIN_HISTORY` of them).

    ``rates``: the same community's rates in every period counted, oldest first; None
    where the rate is undefined or the community has no record in the period (a ledger not
    kept yet is no 0%).
    """
    if at < MIN_HISTORY:
        return None
    earlier = [before for before in rates[max(0, at - WINDOW) : at] if before is not None]
    if len(earlier) < MIN_HISTORY:
        return None
    score = modified_z(rate, earlier)
    return None if score is None or score <= CUTOFF else score


def history(
    labels: Sequence[str], rates: Sequence[float | None], at: int
) -> tuple[tuple[str, float], ...]:
    """(period, rate) of the defined rates an outlier at position ``at`` was compared with
    (:func:`outlier_score`), oldest first."""
    start = max(0, at - WINDOW)
    return tuple(
        (label, before)
        for label, before in zip(labels[start:at], rates[start:at], strict=True)
        if before is not None
    )
