"""Counts to results: rates, survey intervals, flags, roll-ups, changes and statuses (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from svcmetrics import __version__
from svcmetrics.errors import Problem
from svcmetrics.indicators import Indicator
from svcmetrics.judge import Status, limits, status_of
from svcmetrics.models import ReportConfig
from svcmetrics.outliers import MIN_HISTORY, outlier_score
from svcmetrics.outliers import history as outlier_history
from svcmetrics.periods import Compared, Period, PeriodKind
from svcmetrics.ranks import Ranked
from svcmetrics.ranks import places as rank_places
from svcmetrics.stats import wilson_interval
from svcmetrics.units import LEVELS, Level
from svcmetrics.units import Unit as Unit  # the renderers' import


def rate_of(numerator: int, denominator: int | None) -> float | None:
    """numerator / denominator; None when the denominator is unknown or 0 (spec 2.5)."""
    if not denominator:
        return None
    return numerator / denominator


class Result(NamedTuple):
    """One result record (spec 3.1).

    A named tuple, not a dataclass: a city's run makes some 440,000 and the targets pass
    copies most of them once more. A tuple is made several times
    faster than a frozen dataclass and takes about a quarter of its memory (no dict per
    result). Nothing changes a result once made: :func:`evolve` gives a changed copy.
    """

    level: Level
    community: str
    community_name: str | None
    parent: str | None
    period: str
    indicator: str
    breakdown: str | None
    """The value of the ``--by`` field ('' when blank); None without ``--by``."""
    numerator: int
    denominator: int | None
    sample_size: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    previous_rate: float | None = None
    """The previous period's rate (上期); None when undefined or that period has no record."""
    change: float | None = None
    """rate − previous_rate in percentage points (环比)."""
    previous_year_rate: float | None = None
    """The rate of the same period a year earlier (上年同期), under the same conditions."""
    change_yoy: float | None = None
    """rate − previous_year_rate in percentage points (同比)."""
    status: Status | None = None
    flags: Sequence[str] = ()
    """Flag keys in the order they were found (a list or a tuple; never changed in place)."""
    limit: float | None = None
    """The threshold level a breach crossed (not an output field; for the breach summary)."""
    rank: int | None = None
    """排名 among the siblings (spec 2.8); None when the rate is undefined or for the total."""
    target_level: float | None = None
    """The warn level in force, after ``pace`` (spec 2.8); None without a threshold."""

    @property
    def breached(self) -> bool:
        """True when the rate crossed a warn or critical level."""
        return self.status in (Status.WARN, Status.CRITICAL)

    @property
    def rate(self) -> float | None:
        """numerator / denominator; None when the denominator is unknown or 0 (spec 2.5)."""
        return rate_of(self.numerator, self.denominator)


RESULT_FIELDS = frozenset(Result._fields)
"""The field names of :class:`Result`."""

_POSITION = {name: number for number, name in enumerate(Result._fields)}
_new_result = tuple.__new__
"""Makes a :class:`Result` of a tuple of every field in order, without the generated
``__new__``'s call of one argument per field."""


def evolve(result: Result, **changes: Any) -> Result:
    """``result`` with ``changes`` set, as ``Result._replace`` gives it but without its cost
    per call (the targets pass sets a field or two on each of a city's 440,000 results)."""
    values = list(result)
    for name, value in changes.items():
        at = _POSITION.get(name)
        if at is None:
            raise TypeError(f"not fields of Result: {sorted(changes.keys() - RESULT_FIELDS)}")
        values[at] = value
    return _new_result(Result, values)


@dataclass(frozen=True)
class RunFacts:
    """What a run read and chose: its inputs, profile, period, span and rows (JSON ``meta``)."""

    inputs: tuple[str, ...]
    encodings: tuple[tuple[str, str | None], ...]
    """(input, the encoding it was read in), in input order."""
    profile: str | None
    period: PeriodKind
    by: str | None
    span: tuple[str, str]
    """The labels of the first and last period shown."""
    as_of: dt.date | None
    rows: int
    """Valid records (up to ``as_of``)."""
    last_record: dt.date | None
    skipped_rows: int
    """Invalid rows left out (``--skip-invalid``)."""
    version: str = __version__

    def meta(self) -> dict[str, Any]:
        """The ``meta`` object of the JSON output (spec 3.1), keys in their documented order."""
        return {
            "version": self.version,
            "inputs": list(self.inputs),
            "encodings": dict(self.encodings),
            "profile": self.profile,
            "period": self.period.value,
            "by": self.by,
            "span": list(self.span),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "rows": self.rows,
            "last_record": self.last_record.isoformat() if self.last_record else None,
            "skipped_rows": self.skipped_rows,
        }


@dataclass(frozen=True)
class Outlier:
    """A community rate far from its own history (spec 2.8), with that history."""

    community: str
    period: str
    indicator: str
    breakdown: str | None
    rate: float
    score: float
    """The modified z-score: 0.6745 × |rate − median| / MAD."""
    history: tuple[tuple[str, float], ...]
    """(period, rate) of the earlier periods it was compared with, oldest first."""


@dataclass(frozen=True)
class Report:
    """Everything one run produced: results in output order, problems, and the run's facts.

    Built once by the pipeline; nothing changes it afterwards.
    """

    results: list[Result]
    problems: list[Problem]
    indicators: list[Indicator]
    periods: list[Period]
    units: list[Unit]
    facts: RunFacts
    totals: dict[str, int] = field(default_factory=dict)
    """Problems of each kind, all counted (``problems`` may list only the first ones)."""
    office: ReportConfig = field(default_factory=ReportConfig)
    """The config's ``report:``: who hands the xlsx report in, and who signs it."""
    outliers: list[Outlier] = field(default_factory=list)
    """The community rates flagged ``outlier``, each with the history that makes it odd."""
    silent: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Period → the communities with no valid record in it (上报率's missing reports)."""

    @property
    def by(self) -> str | None:
        """The breakdown field (``service`` or ``category``), or None."""
        return self.facts.by

    @property
    def period_label(self) -> str:
        """The selected period (``2026-11``), or ``FIRST..LAST`` for several: for file names."""
        if not self.periods:
            return ""
        first, last = self.periods[0].label, self.periods[-1].label
        return first if first == last else f"{first}..{last}"


PartKey = tuple[str, str, str, str]
"""(community, period, indicator key, breakdown value)."""


class Part(NamedTuple):
    """The numbers of one (unit, period, indicator) before rates are judged.

    A named tuple, not a dataclass: the counting stage makes one per community × period ×
    indicator (a city's 420,000), and a tuple is made about four times faster.
    """

    numerator: int
    denominator: int | None
    sample_size: int | None
    flags: tuple[str, ...] = ()


def rollup(
    parts: Mapping[PartKey, Part], units: Sequence[Unit]
) -> dict[str, dict[tuple[str, str, str], Part]]:
    """Each roll-up's parts: the sums over the communities under it whose denominator is known.

    Children with an unknown denominator are left out and the parent is flagged
    ``partial_rollup`` (spec 2.6). The sample size is the sum of the children's, or None
    when one of the children summed has none (a sample is a survey indicator's
    denominator, or None for every community alike).

    Two passes, so the cost grows with the parts, not with the parts times the units: the
    communities that the same roll-ups pool (``Unit.members``: directly or through levels
    between; in a tree, one street office's) are summed together first, then each such
    group's sums are added to each of its roll-ups. Sums of integers do not depend on the
    order they are added in.
    """
    # per unit (and per group of communities) and key: [numerator, denominator, sample size,
    # partial]; a denominator None: none known yet; a sample None: a child summed has none
    sums_of: list[dict[tuple[str, str, str], list[Any]]] = []
    ids: list[str] = []
    pooled_by: dict[str, list[int]] = {}
    for unit in units:
        if unit.level is Level.COMMUNITY:
            continue
        for member in dict.fromkeys(unit.members):
            pooled_by.setdefault(member, []).append(len(ids))
        ids.append(unit.id)
        sums_of.append({})
    # the communities pooled by the same roll-ups share one group of sums
    group_of: dict[tuple[int, ...], dict[tuple[str, str, str], list[Any]]] = {}
    groups: dict[str, dict[tuple[str, str, str], list[Any]]] = {}
    for community, pooling in pooled_by.items():
        groups[community] = group_of.setdefault(tuple(pooling), {})
    for (community, period, indicator, value), part in parts.items():
        group = groups.get(community)
        if group is None:
            continue
        key = (period, indicator, value)
        total = group.get(key)
        if total is None:
            total = group[key] = [0, None, 0, False]
        denominator = part.denominator
        if denominator is None:
            total[3] = True
            continue
        total[0] += part.numerator
        total[1] = (total[1] or 0) + denominator
        sample = part.sample_size
        total[2] = None if sample is None or total[2] is None else total[2] + sample
    for targets, group in group_of.items():
        for target in targets:
            _add(sums_of[target], group)
    # as before: of two units with one id, the later one counts
    return {
        unit_id: {
            key: Part(
                numerator,
                denominator,
                None if denominator is None else sample,
                ("partial_rollup",) if partial else (),
            )
            for key, (numerator, denominator, sample, partial) in sums.items()
        }
        for unit_id, sums in zip(ids, sums_of, strict=True)
    }


def _add(
    sums: dict[tuple[str, str, str], list[Any]], group: Mapping[tuple[str, str, str], list[Any]]
) -> None:
    """Add a group's sums (:func:`rollup`) to a unit's."""
    for key, (numerator, denominator, sample, partial) in group.items():
        total = sums.get(key)
        if total is None:
            sums[key] = [numerator, denominator, sample, partial]
            continue
        total[0] += numerator
        if denominator is not None:
            total[1] = (total[1] or 0) + denominator
            total[2] = None if sample is None or total[2] is None else total[2] + sample
        total[3] = total[3] or partial


SiblingKey = tuple[Level, str | None, str, str, str | None]
"""(level, parent, period, indicator, breakdown value): the results ranked together."""


class Judged(NamedTuple):
    """The results of :func:`build_results` and the outliers flagged among them."""

    results: list[Result]
    outliers: list[Outlier]


def build_results(
    parts: Mapping[PartKey, Part],
    units: Sequence[Unit],
    periods: Sequence[Period],
    indicators: Sequence[Indicator],
    records: Mapping[tuple[str, str], int],
    min_sample: int,
    breakdown: Sequence[str | None] = (None,),
    compared: Mapping[str, Compared] | None = None,
    *,
    ranked: bool = False,
    history: Sequence[str] | None = None,
) -> Judged:
    """Every unit × period × indicator (× breakdown value), in output order (spec 3.1),
    each ranked among its siblings when ``ranked`` (as :func:`rank_results` ranks them),
    and each community rate judged against its own history when ``history`` is given,
    flagged ``outlier`` when far from it (spec 2.8).

    ``parts`` and ``records`` hold the comparison periods of ``compared`` too (by default
    each period is compared with the one before it in ``periods``).

    ``history``: the distinct labels of every period counted, oldest first (the shown ones
    and up to :data:`~svcmetrics.outliers.WINDOW` before them); ``parts`` and ``records``
    hold them all. A rate is compared with the same community's rates of the periods before
    its own that have a defined rate and a record of the community.

    Each result is made once, its rank and flags known before: a copy of each of a city's
    440,000 results after the fact cost more than finding its place.
    """
    if compared is None:
        labels = [period.label for period in periods]
        compared = {
            label: Compared(labels[number - 1] if number else None, None)
            for number, label in enumerate(labels)
        }
    # the periods each community has a record in, and each unit (a community: itself)
    recorded_in: dict[str, set[str]] = {}
    for (community, label), count in records.items():
        if count:
            recorded_in.setdefault(community, set()).add(label)
    ancestors = unit_ancestors(units)
    order = {level: number for number, level in enumerate(LEVELS)}
    pairs = [(i, v, (i.key, v or ""), i.survey_basis) for i in indicators for v in breakdown]
    # outliers: each period's place in ``history``; none judged when no shown period has
    # MIN_HISTORY periods before it
    position = {label: number for number, label in enumerate(history or ())}
    judging = history is not None and any(
        position.get(period.label, 0) >= MIN_HISTORY for period in periods
    )
    # per unit, in output order: the unit, the periods it has a record in (a roll-up: its
    # communities'), and per indicator (× value) the levels it is judged by, each looked up
    # once per unit, not once per result
    rows: list[tuple[Unit, set[str], list[_Lane]]] = []
    for unit in sorted(units, key=lambda u: (order[u.level], u.id)):
        recorded: set[str] = set()
        for member in unit.members or (unit.id,):
            recorded |= recorded_in.get(member, set())
        ids = [unit.id, *ancestors[unit.id]]
        lanes = [
            _Lane(indicator.key, value, survey, _levels(indicator, value, ids))
            for indicator, value, _, survey in pairs
        ]
        rows.append((unit, recorded, lanes))
    # each unit (row) and indicator × value (lane) is a cell, at row × width + lane: each
    # period's parts of every cell, placed in one pass over the parts, in the order they
    # were made (a lookup per cell and period probed dicts all over memory)
    width = len(pairs)
    cell_count = len(rows) * width
    rows_of: dict[str, list[int]] = {}
    for row_at, (unit, _, _) in enumerate(rows):
        rows_of.setdefault(unit.id, []).append(row_at * width)
    lanes_of: dict[tuple[str, str], list[int]] = {}
    for lane_at, (_, _, kind, _) in enumerate(pairs):
        lanes_of.setdefault(kind, []).append(lane_at)
    cells_in: dict[str, list[Part]] = {}

    def cells_of(label: str) -> list[Part]:
        cells = cells_in.get(label)
        if cells is None:
            cells = cells_in[label] = [_NO_PART] * cell_count
        return cells

    def put(unit_id: str, label: str, kind: tuple[str, str], part: Part) -> None:
        starts, lanes_at = rows_of.get(unit_id), lanes_of.get(kind)
        if starts is None or lanes_at is None:
            return
        cells = cells_in.get(label) or cells_of(label)  # (a call only for a new label)
        for start in starts:
            for lane_at in lanes_at:
                cells[start + lane_at] = part

    pooled = rollup(parts, units)
    # a community's own parts; a roll-up's sums (of two units with one id, the roll-up's)
    communities = {unit.id for unit in units if unit.level is Level.COMMUNITY} - pooled.keys()
    for (community, label, indicator_key, value_key), part in parts.items():
        if community in communities:
            put(community, label, (indicator_key, value_key), part)
    for unit_id, sums in pooled.items():
        for (label, indicator_key, value_key), part in sums.items():
            put(unit_id, label, (indicator_key, value_key), part)
    rates_in: dict[str, list[float | None]] = {}

    def rates_of(label: str) -> list[float | None]:
        rates = rates_in.get(label)
        if rates is None:
            rates = rates_in[label] = [
                part[0] / part[1] if part[1] else None for part in cells_of(label)
            ]
        return rates

    # outliers: each community cell's rates in every period of ``history`` (None: undefined,
    # or no record of the community then), of the community's own parts
    histories: list[list[float | None] | None] = [None] * cell_count
    if judging and history is not None:
        columns = [rates_of(label) for label in history]
        for row_at, (unit, _, _) in enumerate(rows):
            if unit.level is not Level.COMMUNITY:
                continue
            kept = recorded_in.get(unit.id, set())
            reported = [
                (column, label in kept) for column, label in zip(columns, history, strict=True)
            ]
            for lane_at, (_, _, (indicator_key, value_key), _) in enumerate(pairs):
                cell_at = row_at * width + lane_at
                if unit.id in communities:
                    histories[cell_at] = [
                        column[cell_at] if keep else None for column, keep in reported
                    ]
                else:  # (a roll-up's id too: its cells hold the roll-up's sums)
                    histories[cell_at] = [
                        _rate(parts.get((unit.id, label, indicator_key, value_key)))
                        if label in kept
                        else None
                        for label in history
                    ]
    # the rows ranked together (spec 2.8): a level's units with one parent; not the total
    siblings: dict[tuple[Level, str | None], list[int]] = {}
    if ranked:
        for number, (unit, _, _) in enumerate(rows):
            if unit.level is not Level.TOTAL:
                siblings.setdefault((unit.level, unit.parent), []).append(number)
    lower = [
        indicator.threshold is not None and indicator.threshold.better == "lower"
        for indicator, _, _, _ in pairs
    ]
    surveyed = [number for number, (_, _, _, survey) in enumerate(pairs) if survey]
    results: list[Result] = []
    outliers: list[Outlier] = []
    append = results.append
    for period in periods:
        label, partial = period.label, period.partial
        previous_label, year_label = compared.get(label, Compared(None, None))
        at = position.get(label, 0) if judging else 0
        judged = at >= MIN_HISTORY
        # the period's part of each cell, its rates and those of its comparison periods
        cells, rates = cells_of(label), rates_of(label)
        befores = rates_of(previous_label) if previous_label is not None else rates
        years = rates_of(year_label) if year_label is not None else rates
        intervals: list[tuple[float, float] | None] = [None] * len(cells)
        for lane_at in surveyed:
            for cell_at in range(lane_at, len(cells), width):
                numerator, _, sample, _ = cells[cell_at]
                if sample:
                    intervals[cell_at] = wilson_interval(numerator, sample)
        places: list[int | None] = [None] * len(cells)
        tied = [False] * len(cells)
        for lane_at, lane_lower in enumerate(lower):
            for rows_at in siblings.values():
                members = [
                    cell_at
                    for row_at in rows_at
                    for cell_at in (row_at * width + lane_at,)
                    if cells[cell_at][1]
                ]
                if not members:
                    continue
                found_places = rank_places(
                    [(cells[m][0], cells[m][1] or 1, intervals[m]) for m in members], lane_lower
                )
                for cell_at, (place, is_tied) in zip(members, found_places, strict=True):
                    places[cell_at] = place
                    tied[cell_at] = is_tied
        cell_at = 0
        for unit, recorded, lanes in rows:
            level, unit_id, name, parent = unit.level, unit.id, unit.name, unit.parent
            no_records = label not in recorded
            # a comparison period without a record of the unit is no 0% period
            before_label = previous_label if previous_label in recorded else None
            year_before = year_label if year_label in recorded else None
            for key, value, survey, levels in lanes:
                numerator, denominator, sample, part_flags = cells[cell_at]
                rate = rates[cell_at]
                # the comparison periods' rates (None: no period, no record, or no rate)
                before = None if before_label is None else befores[cell_at]
                year = None if year_before is None else years[cell_at]
                change = None if rate is None or before is None else (rate - before) * 100
                change_yoy = None if rate is None or year is None else (rate - year) * 100
                status: Status | None = Status.NA
                limit = None
                if rate is not None:
                    status, limit = (None, None) if levels is None else status_of(rate, *levels)
                interval = intervals[cell_at] if survey else None
                flags: list[str] = []
                if no_records:
                    flags.append("no_records")
                if sample is not None and 0 < sample < min_sample:
                    flags.append("small_sample")
                if denominator is not None and numerator > denominator:
                    flags.append("numerator_above_denominator")
                if part_flags:
                    flags.extend(part_flags)
                if partial:
                    flags.append("partial_period")
                if judged and rate is not None:
                    series = histories[cell_at]
                    score = None if series is None else outlier_score(rate, series, at)
                    if series is not None and score is not None:
                        flags.append("outlier")
                        earlier = outlier_history(history or (), series, at)
                        outliers.append(Outlier(unit_id, label, key, value, rate, score, earlier))
                if tied[cell_at]:
                    flags.append("rank_tied_ci")
                append(
                    _new_result(
                        Result,
                        (
                            level,
                            unit_id,
                            name,
                            parent,
                            label,
                            key,
                            value,
                            numerator,
                            denominator,
                            sample if survey else None,
                            None if interval is None else interval[0],
                            None if interval is None else interval[1],
                            before,
                            change,
                            year,
                            change_yoy,
                            status,
                            flags,
                            limit,
                            places[cell_at],
                            None,  # target_level
                        ),
                    )
                )
                cell_at += 1
    return Judged(results, outliers)


def _rate(part: Part | None) -> float | None:
    """A part's rate; None without a part or with an undefined rate."""
    return part[0] / part[1] if part is not None and part[1] else None


class _Lane(NamedTuple):
    """What the results of one unit and indicator (× breakdown value) share."""

    key: str
    value: str | None
    survey: bool
    levels: tuple[float | None, float | None, bool] | None
    """(warn, critical, lower is better) in force (:func:`limits`); None: not judged."""


def _levels(
    indicator: Indicator, value: str | None, ids: list[str]
) -> tuple[float | None, float | None, bool] | None:
    """The levels a unit's rates of ``indicator`` are judged by (``ids``: the unit's id and
    its ancestors'); None without a threshold, and for one ``--by`` value: targets are set
    for whole indicators, not for one service's share of them."""
    threshold = indicator.threshold
    if threshold is None or value is not None:
        return None
    return (*limits(threshold, ids), threshold.better == "lower")


_NO_PART = Part(0, None, None)
"""The part of a unit × period × indicator without counts."""


def rank_results(results: Sequence[Result], indicators: Sequence[Indicator]) -> list[Result]:
    """``results`` with ``rank`` set, in the same order.

    Communities are ranked among the communities with the same parent (all communities
    without one), roll-ups among the roll-ups with the same parent; the total has no rank.
    1 is best (the highest rate, the lowest with ``better: lower``); equal rates share the
    smaller place (1, 2, 2, 4); an undefined rate has no rank. A survey-basis result whose
    95% interval overlaps the interval of the result ranked just above or below it is
    flagged ``rank_tied_ci``.

    (:func:`build_results` ranks the results it makes as it makes them, by
    :func:`~svcmetrics.ranks.places` too.)
    """
    lower = {i.key for i in indicators if i.threshold is not None and i.threshold.better == "lower"}
    groups: dict[SiblingKey, list[int]] = {}
    for index, result in enumerate(results):
        if result.level is Level.TOTAL or not result.denominator:
            continue
        key = (result.level, result.parent, result.period, result.indicator, result.breakdown)
        groups.setdefault(key, []).append(index)
    ranked = list(results)
    for (_, _, _, indicator, _), members in groups.items():
        siblings: list[Ranked] = []
        for index in members:
            result = results[index]
            low, high = result.ci_low, result.ci_high
            interval = None if low is None or high is None else (low, high)
            siblings.append((result.numerator, result.denominator or 1, interval))
        found = rank_places(siblings, indicator in lower)
        for index, (place, tied) in zip(members, found, strict=True):
            result = results[index]
            flags = [*result.flags, "rank_tied_ci"] if tied else result.flags
            ranked[index] = result._replace(rank=place, flags=flags)
    return ranked


def unit_ancestors(units: Sequence[Unit]) -> dict[str, list[str]]:
    """Each unit's parent chain, nearest first (for per-parent threshold overrides)."""
    parent_of = {unit.id: unit.parent for unit in units}
    chains: dict[str, list[str]] = {}
    for unit in units:
        chain: list[str] = []
        current = unit.parent
        while current is not None and current not in chain and current != unit.id:
            chain.append(current)
            current = parent_of.get(current)
        chains[unit.id] = chain
    return chains


def numerator_issues(results: Sequence[Result]) -> list[Problem]:
    """A warning for each community result whose numerator exceeds its denominator."""
    return [
        Problem(
            "numerator_above_denominator",
            params={
                "community": r.community,
                "period": r.period,
                "indicator": r.indicator,
                "numerator": r.numerator,
                "denominator": r.denominator,
            },
        )
        for r in results
        # most results have no flag: the empty list is the cheap test
        if r.flags and "numerator_above_denominator" in r.flags and r.level is Level.COMMUNITY
    ]
