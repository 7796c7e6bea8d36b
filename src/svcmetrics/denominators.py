"""Counts to parts: the numerator, denominator and sample of every indicator (pure).

A denominator is either counted over the records or read from the profile as of the
period's last day (spec 2.2); a population basis needs at least one counted answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from svcmetrics.indicators import CountKey, CountPart, Indicator, ProfileField
from svcmetrics.models import Community
from svcmetrics.periods import Period
from svcmetrics.report import Part, PartKey


def part(
    indicator: Indicator,
    community: Community,
    period: Period,
    value: str,
    counts: Mapping[CountKey, int],
    has_profile: bool,
) -> Part:
    """Numerator, denominator and sample of one indicator for one community, period and
    breakdown value.

    ``counts`` are the engine's (missing keys are zero); without a profile a profile
    denominator is unknown (None).
    """
    numerator, counted, answers = (
        counts.get(CountKey(indicator.key, kind, community.id, period.label, value), 0)
        for kind in (CountPart.NUMERATOR, CountPart.DENOMINATOR, CountPart.ANSWERS)
    )
    rule = indicator.denominator
    denominator: int | None = counted
    if isinstance(rule, ProfileField):
        denominator = community.count(rule.name, period.last_day) if has_profile else None
        if rule.needs_answers is not None and answers == 0:
            denominator = None
    return Part(numerator, denominator, denominator if indicator.survey_basis else None)


def parts(
    indicators: Sequence[Indicator],
    communities: Sequence[Community],
    periods: Sequence[Period],
    breakdown: Sequence[str],
    counts: Mapping[CountKey, int],
    has_profile: bool,
) -> dict[PartKey, Part]:
    """The :func:`part` of every community × period × breakdown value × indicator."""
    return {
        (community.id, period.label, indicator.key, value): part(
            indicator, community, period, value, counts, has_profile
        )
        for community in communities
        for period in periods
        for value in breakdown
        for indicator in indicators
    }
