"""序时进度: annual targets scaled by the elapsed share of the year, and the level in force
on every result (spec 2.8; pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from svcmetrics.indicators import Indicator
from svcmetrics.judge import judge, limits
from svcmetrics.models import Levels, Threshold
from svcmetrics.periods import Period, PeriodKind
from svcmetrics.report import Result, evolve, unit_ancestors
from svcmetrics.units import Unit


def elapsed_share(day: dt.date) -> float:
    """Days from 1 January to ``day`` (both counted) / days in ``day``'s year (366 in a
    leap year): 30 June 2026 is 181/365."""
    first = dt.date(day.year, 1, 1)
    days = (dt.date(day.year + 1, 1, 1) - first).days if day.year < dt.MAXYEAR else 365
    return ((day - first).days + 1) / days


def _scaled(levels: Levels, share: float) -> Levels:
    return Levels(
        warn=None if levels.warn is None else levels.warn * share,
        critical=None if levels.critical is None else levels.critical * share,
    )


def paced(threshold: Threshold, share: float) -> Threshold:
    """The threshold with every level (per-community overrides too) times ``share``."""
    scaled = _scaled(threshold, share)
    return threshold.model_copy(
        update={
            "warn": scaled.warn,
            "critical": scaled.critical,
            "communities": {k: _scaled(v, share) for k, v in threshold.communities.items()},
        }
    )


def apply_targets(
    results: Sequence[Result],
    indicators: Sequence[Indicator],
    periods: Sequence[Period],
    kind: PeriodKind,
    units: Sequence[Unit],
) -> list[Result]:
    """``results`` with ``target_level`` (the warn level in force) set, and the results of a
    ``pace: true`` threshold judged against its levels scaled by the elapsed share of the
    year at the period's last day (not for ``all``, which is no part of a year)."""
    thresholds = {i.key: i.threshold for i in indicators if i.threshold is not None}
    last_day = {period.label: period.last_day for period in periods}
    ancestors = unit_ancestors(units)
    # each scaled threshold once per indicator and period, each warn level once per unit
    scaled: dict[tuple[str, str], Threshold] = {}
    warn_of: dict[tuple[str, str, str], float | None] = {}
    out: list[Result] = []
    for result in results:
        threshold = thresholds.get(result.indicator)
        if threshold is None or result.breakdown is not None:
            out.append(result)
            continue
        ids = [result.community, *ancestors.get(result.community, [])]
        day = last_day.get(result.period)
        pace = threshold.pace and kind is not PeriodKind.ALL and day is not None
        if pace and day is not None:
            key = (result.indicator, result.period)
            if key not in scaled:
                scaled[key] = paced(threshold, elapsed_share(day))
            threshold = scaled[key]
        level_key = (result.indicator, result.period if pace else "", result.community)
        if level_key not in warn_of:
            warn_of[level_key] = limits(threshold, ids)[0]  # no pydantic model per unit
        if pace:
            verdict = judge(result.rate, threshold, ids)
            result = evolve(
                result, status=verdict.status, limit=verdict.level, target_level=warn_of[level_key]
            )
        else:
            result = evolve(result, target_level=warn_of[level_key])
        out.append(result)
    return out
