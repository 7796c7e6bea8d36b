"""Ranks and outliers set while the results are made (issue 17) equal a plain oracle: each
place counted from exact fractions, each tie found by sorting, each outlier scored with
:func:`statistics.median` over its history looked up period by period."""

from __future__ import annotations

import datetime as dt
import statistics
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from svcmetrics.indicators import Indicator, builtin_indicators
from svcmetrics.models import Threshold
from svcmetrics.outliers import CUTOFF, MIN_HISTORY, WINDOW
from svcmetrics.periods import PeriodKind, span
from svcmetrics.report import Outlier, Part, Result, build_results, evolve, rank_results
from svcmetrics.units import Level, Unit

LABELS = [
    period.label for period in span(PeriodKind.MONTH, dt.date(2025, 1, 1), dt.date(2026, 3, 31))
]
"""Fifteen months: the last few shown, all of them the outliers' history."""


def _indicators(lower: bool) -> list[Indicator]:
    """Three built-ins (two counted, one survey); the first ``better: lower`` when asked."""
    chosen = [builtin_indicators()[number] for number in (0, 1, 5)]
    if lower:
        first = chosen[0]
        threshold = Threshold(warn=0.5, better="lower")
        chosen[0] = first.__class__(**{**first.__dict__, "threshold": threshold})
    return chosen


def _units(parents: list[str], shadowed: bool) -> list[Unit]:
    """A community per parent drawn, the street offices, a district without a parent and
    the total; ``shadowed``: the first community has its street office's id (its results
    show the office's sums, its outliers are judged on its own parts)."""
    ids = [f"c{number}" for number in range(len(parents))]
    if shadowed:
        ids[0] = parents[0]
    communities = [
        Unit(Level.COMMUNITY, community, None, parent, (community,))
        for community, parent in zip(ids, parents, strict=True)
    ]
    offices = [
        Unit(
            Level.ROLLUP,
            office,
            None,
            "d",
            tuple(c.id for c in communities if c.parent == office),
        )
        for office in sorted(set(parents))
    ]
    every = tuple(c.id for c in communities)
    return [
        *communities,
        *offices,
        Unit(Level.ROLLUP, "d", None, None, every),
        Unit(Level.TOTAL, "*", None, None, every),
    ]


@st.composite
def cities(
    draw: st.DrawFn,
) -> tuple[
    list[Unit],
    dict[tuple[str, str, str, str], Part],
    dict[tuple[str, str], int],
    bool,
    list[str | None],
]:
    parents = draw(st.lists(st.sampled_from(["s1", "s2", "s3"]), min_size=1, max_size=7))
    units = _units(parents, draw(st.integers(0, 4)) == 0)
    by = draw(st.booleans())
    values: list[str | None] = ["a", "b"] if by else [None]
    parts: dict[tuple[str, str, str, str], Part] = {}
    records: dict[tuple[str, str], int] = {}
    keys = [i.key for i in _indicators(False)]
    # small counts, ties and now and then a leap: places tie, intervals overlap, rates jump
    numerators = st.one_of(st.integers(0, 3), st.sampled_from([5, 9, 20]))
    for unit in units:
        if unit.level is not Level.COMMUNITY:
            continue
        for label in LABELS:
            records[unit.id, label] = draw(st.sampled_from([0, 1, 1, 1, 2]))
            for key in keys:
                for value in values:
                    if draw(st.integers(0, 9)) == 0:
                        continue  # no part: no counts
                    denominator = draw(st.sampled_from([None, 0, 4, 10, 10, 20]))
                    numerator = draw(numerators)
                    sample = denominator if key.endswith("satisfaction") else None
                    parts[unit.id, label, key, value or ""] = Part(numerator, denominator, sample)
    return units, parts, records, draw(st.booleans()), values


def _oracle_outliers(
    results: list[Result],
    parts: dict[tuple[str, str, str, str], Part],
    records: dict[tuple[str, str], int],
) -> tuple[list[Result], list[Outlier]]:
    flagged, found = [], []
    for result in results:
        if result.level is not Level.COMMUNITY or not result.denominator:
            flagged.append(result)
            continue
        at = LABELS.index(result.period)
        history = []
        for label in LABELS[max(0, at - WINDOW) : at]:
            part = parts.get((result.community, label, result.indicator, result.breakdown or ""))
            if records.get((result.community, label), 0) > 0 and part and part.denominator:
                history.append((label, part.numerator / part.denominator))
        rate = result.numerator / result.denominator
        rates = [before for _, before in history]
        score = None
        if len(rates) >= MIN_HISTORY:
            middle = statistics.median(rates)
            mad = statistics.median([abs(x - middle) for x in rates])
            score = None if mad == 0 else 0.6745 * abs(rate - middle) / mad
        if score is None or score <= CUTOFF:
            flagged.append(result)
            continue
        flagged.append(evolve(result, flags=[*result.flags, "outlier"]))
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


def _oracle_ranks(results: list[Result], lower: set[str]) -> list[Result]:
    def rate(r: Result) -> Fraction:
        exact = Fraction(r.numerator, r.denominator or 1)
        return exact if r.indicator in lower else -exact

    def siblings(r: Result) -> list[int]:
        return [
            index
            for index, other in enumerate(results)
            if other.level is r.level
            and other.parent == r.parent
            and other.period == r.period
            and other.indicator == r.indicator
            and other.breakdown == r.breakdown
            and other.denominator
        ]

    ranked = []
    for index, r in enumerate(results):
        if r.level is Level.TOTAL or not r.denominator:
            ranked.append(r)
            continue
        group = siblings(r)
        place = 1 + sum(1 for other in group if rate(results[other]) < rate(r))
        order = sorted(group, key=lambda other: (rate(results[other]), other))
        position = order.index(index)
        neighbours = [
            results[order[p]] for p in (position - 1, position + 1) if 0 <= p < len(order)
        ]
        tied = r.ci_low is not None and any(
            n.ci_low is not None
            and n.ci_high is not None
            and r.ci_high is not None
            and r.ci_low <= n.ci_high
            and n.ci_low <= r.ci_high
            for n in neighbours
        )
        ranked.append(evolve(r, rank=place, flags=[*r.flags, "rank_tied_ci"] if tied else r.flags))
    return ranked


@settings(max_examples=60, deadline=None)
@given(cities(), st.integers(0, 3))
def test_ranks_and_outliers_made_with_the_results_equal_the_oracle(
    city: tuple[
        list[Unit],
        dict[tuple[str, str, str, str], Part],
        dict[tuple[str, str], int],
        bool,
        list[str | None],
    ],
    shown_from: int,
) -> None:
    units, parts, records, lower, values = city
    indicators = _indicators(lower)
    periods = span(
        PeriodKind.MONTH,
        dt.date(2025, 10 + shown_from, 1) if shown_from < 3 else dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
    )
    arguments = (parts, units, periods, indicators, records, 3, values)
    plain = build_results(*arguments)
    assert plain.outliers == [] and all(r.rank is None for r in plain.results)
    made = build_results(*arguments, ranked=True, history=LABELS)
    flagged, outliers = _oracle_outliers(plain.results, parts, records)
    lowers = {
        i.key for i in indicators if i.threshold is not None and i.threshold.better == "lower"
    }
    assert made.results == _oracle_ranks(flagged, lowers)
    assert made.outliers == outliers
    # and rank_results, which ranks the results made without ranks (上报率's), agrees
    assert rank_results(flagged, indicators) == made.results
