"""Rates against thresholds: the status of one result (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from svcmetrics.models import Levels, Threshold


class Status(StrEnum):
    """The verdict on one rate."""

    OK = "ok"
    WARN = "warn"
    CRITICAL = "critical"
    NA = "n/a"


def limits(threshold: Threshold, ids: Sequence[str]) -> tuple[float | None, float | None]:
    """The (warn, critical) levels in force: the first override among ``ids`` (the row's
    own id first), its missing levels the indicator's."""
    for key in ids:
        override = threshold.communities.get(key)
        if override is not None:
            return (
                override.warn if override.warn is not None else threshold.warn,
                override.critical if override.critical is not None else threshold.critical,
            )
    return threshold.warn, threshold.critical


def levels_for(threshold: Threshold, ids: list[str]) -> Levels:
    """The levels that apply: the first override among ``ids`` (the row's own id first)."""
    warn, critical = limits(threshold, ids)
    return Levels(warn=warn, critical=critical)


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
    warn, critical = limits(threshold, ids)
    return Verdict(*status_of(rate, warn, critical, threshold.better == "lower"))


def status_of(
    rate: float, warn: float | None, critical: float | None, lower_is_better: bool
) -> tuple[Status | None, float | None]:
    """:func:`judge` of a defined rate against the levels in force (:func:`limits`): the
    status and, for a breach, the level crossed; no status without a level. Plain values,
    for the loops that judge a city's 400,000 rates."""
    if warn is None and critical is None:
        return None, None
    if lower_is_better:
        if critical is not None and rate > critical:
            return Status.CRITICAL, critical
        if warn is not None and rate > warn:
            return Status.WARN, warn
    else:
        if critical is not None and rate < critical:
            return Status.CRITICAL, critical
        if warn is not None and rate < warn:
            return Status.WARN, warn
    return Status.OK, None


def at_or_beyond(status: Status | None, fail_on: Status) -> bool:
    """True when ``status`` is a breach at least as severe as ``fail_on`` (warn or critical)."""
    severity = {Status.WARN: 1, Status.CRITICAL: 2}
    return status in severity and severity[status] >= severity[fail_on]
