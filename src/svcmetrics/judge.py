"""Rates against thresholds: the status of one result (pure)."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Verdict:
    """A status and, for a breach, the level it crossed."""

    status: Status | None
    level: float | None = None


def judge(rate: float | None, threshold: Threshold | None, ids: list[str]) -> Verdict:
    """``n/a`` for an undefined rate, else the level crossed; no status without a threshold.

    Below ``warn`` is ``warn``, below ``critical`` is ``critical`` (above, for ``better:
    lower``); a rate equal to a level is not a breach. The exact fraction is compared, not
    its rounded display.
    """
    if rate is None:
        return Verdict(Status.NA)
    if threshold is None:
        return Verdict(None)
    levels = levels_for(threshold, ids)
    if levels.warn is None and levels.critical is None:
        return Verdict(None)
    lower_is_better = threshold.better == "lower"

    def breaches(level: float | None) -> bool:
        if level is None:
            return False
        return rate > level if lower_is_better else rate < level

    if breaches(levels.critical):
        return Verdict(Status.CRITICAL, levels.critical)
    if breaches(levels.warn):
        return Verdict(Status.WARN, levels.warn)
    return Verdict(Status.OK)


def at_or_beyond(status: Status | None, fail_on: Status) -> bool:
    """True when ``status`` is a breach at least as severe as ``fail_on`` (warn or critical)."""
    severity = {Status.WARN: 1, Status.CRITICAL: 2}
    return status in severity and severity[status] >= severity[fail_on]
