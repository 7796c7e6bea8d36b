"""上报率: how many communities under each roll-up and the total reported in a period, and
which did not (spec 2.8; pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from svcmetrics.indicators import Indicator
from svcmetrics.judge import judge
from svcmetrics.periods import Compared, Period
from svcmetrics.report import Result, rate_of, unit_ancestors
from svcmetrics.units import Level, Unit


def reported(records: Mapping[tuple[str, str], int], community: str, period: str) -> bool:
    """True when ``community`` has at least one valid record dated in ``period``."""
    return records.get((community, period), 0) > 0


def reporting_results(
    indicator: Indicator,
    units: Sequence[Unit],
    periods: Sequence[Period],
    records: Mapping[tuple[str, str], int],
    compared: Mapping[str, Compared],
) -> list[Result]:
    """The ``reporting`` result of every roll-up and the total in every shown period:
    communities with a valid record / communities under it, judged like any indicator, with
    its 环比 and 同比 against the periods ``compared`` names (empty when none of its
    communities reported then: a ledger not kept yet is no 0%)."""
    ancestors = unit_ancestors(units)
    results: list[Result] = []
    # the communities that reported in each period, gathered once: a city's total alone
    # pools 5,000 communities, counted for every period and its two comparison periods
    reporting: dict[str, set[str]] = {}
    for (community, label), count in records.items():
        if count > 0:
            reporting.setdefault(label, set()).add(community)

    def counted(unit: Unit, label: str) -> int:
        kept = reporting.get(label, set())
        return sum(1 for member in unit.members if member in kept)

    def rate_in(unit: Unit, label: str | None) -> float | None:
        if label is None:
            return None
        count = counted(unit, label)
        return rate_of(count, len(unit.members)) if count else None

    for period in periods:
        previous, year_before = compared.get(period.label, Compared(None, None))
        for unit in units:
            if unit.level is Level.COMMUNITY:
                continue
            numerator = counted(unit, period.label)
            denominator = len(unit.members)
            flags = ["no_records"] if numerator == 0 else []
            if period.partial:
                flags.append("partial_period")
            rate = rate_of(numerator, denominator)
            before, last_year = rate_in(unit, previous), rate_in(unit, year_before)
            verdict = judge(rate, indicator.threshold, [unit.id, *ancestors[unit.id]])
            results.append(
                Result(
                    level=unit.level,
                    community=unit.id,
                    community_name=unit.name,
                    parent=unit.parent,
                    period=period.label,
                    indicator=indicator.key,
                    breakdown=None,
                    numerator=numerator,
                    denominator=denominator,
                    status=verdict.status,
                    change=None if rate is None or before is None else (rate - before) * 100,
                    previous_rate=before,
                    previous_year_rate=last_year,
                    change_yoy=(
                        None if rate is None or last_year is None else (rate - last_year) * 100
                    ),
                    flags=flags,
                    limit=verdict.level,
                )
            )
    return results


def silent(
    units: Sequence[Unit], periods: Sequence[Period], records: Mapping[tuple[str, str], int]
) -> dict[str, tuple[str, ...]]:
    """Period label → the communities with no valid record in it, in id order."""
    communities = sorted(unit.id for unit in units if unit.level is Level.COMMUNITY)
    return {
        period.label: tuple(c for c in communities if not reported(records, c, period.label))
        for period in periods
    }


def in_order(
    results: Sequence[Result], periods: Sequence[Period], indicators: Sequence[Indicator]
) -> list[Result]:
    """``results`` in output order (spec 3.1): by period, level, id, then the indicators'
    order; the ``reporting`` rows join their unit's block. The sort is stable, so breakdown
    values keep their order."""
    period_at = {period.label: number for number, period in enumerate(periods)}
    level_at = {level: number for number, level in enumerate(Level)}
    indicator_at = {indicator.key: number for number, indicator in enumerate(indicators)}
    return sorted(
        results,
        key=lambda r: (
            period_at.get(r.period, -1),
            level_at[r.level],
            r.community,
            indicator_at.get(r.indicator, len(indicator_at)),
        ),
    )
