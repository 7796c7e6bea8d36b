"""Rates against thresholds: the status of one result (pure)."""

from __future__ import annotations

from enum import StrEnum

from svcmetrics.models import Levels, Threshold


class Status(StrEnum):
    """The verdict on one rate."""

    OK = "ok"
    WARN = "warn"
    CRITICAL = "critical"
    NA = "n/a"


def levels_for(threshold: Threshold, ids: list[str]) -> Levels:
    """The levels that apply: the first override among ``ids`` (the row's own id first)."""
    for key in ids:
        override = threshold.communities.get(key)
        if override is not None:
            return Levels(
                warn=override.warn if override.warn is not None else threshold.warn,
                critical=override.critical if override.critical is not None else threshold.critical,
            )
    return Levels(warn=threshold.warn, critical=threshold.critical)


def judge(rate: float | None, threshold: Threshold | None, ids: list[str]) -> Status | None:
    """``n/a`` for an undefined rate, else the level crossed; None when no threshold applies.

    A rate equal to a level is not a breach; the exact fraction is compared, not its display.
    """
    if rate is None:
        return Status.NA
    if threshold is None:
        return None
    levels = levels_for(threshold, ids)
    if levels.warn is None and levels.critical is None:
        return None
    lower_is_better = threshold.better == "lower"

    def breaches(level: float | None) -> bool:
        if level is None:
            return False
        return rate > level if lower_is_better else rate < level

    if breaches(levels.critical):
        return Status.CRITICAL
    if breaches(levels.warn):
        return Status.WARN
    return Status.OK
