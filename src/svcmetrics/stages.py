"""The typed results that pass between the stages of a run, whichever engine counts:
what the checks found, and what the counting stage of an engine must answer (spec 5.1).

The embedded DuckDB engine (:mod:`svcmetrics.engine`) and a warehouse engine
(:mod:`svcmetrics.warehouse`) both give a :class:`Checked` and implement :class:`Counting`,
so the pipeline that turns counts into a report is one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from svcmetrics.errors import Problem
from svcmetrics.indicators import Indicator
from svcmetrics.models import Community
from svcmetrics.periods import Period


@dataclass(frozen=True)
class CommunityKey:
    """A community id with the values a log may use for it (its id and its name)."""

    id: str
    keys: tuple[str, ...]


HUGEINT_MAX = 2**127 - 1
"""The largest profile count the engine computes with (DuckDB's HUGEINT)."""


@dataclass(frozen=True)
class ProfileValue:
    """One denominator of the profile; ``as_of`` is None for an undated value."""

    community: str
    field: str
    as_of: dt.date | None
    value: int


def profile_values(communities: Iterable[Community]) -> list[ProfileValue]:
    """Every denominator of the communities, one row per value (dated or not)."""
    values = []
    for community in communities:
        for name, value in community.count_fields().items():
            if isinstance(value, int):
                values.append(ProfileValue(community.id, name, None, value))
            else:
                values += [ProfileValue(community.id, name, v.as_of, v.value) for v in value]
    return values


@dataclass
class Checked:
    """What the bulk validation found: problems (data), valid-row date span, communities."""

    problems: list[Problem]
    first: dt.date | None
    last: dt.date | None
    communities: list[str]
    rows: int
    """Valid rows (up to ``as_of``)."""
    skipped: int
    totals: dict[str, int] = field(default_factory=dict)
    """Problems of each kind, all counted (``problems`` may list only the first ones)."""
    read: int = 0
    """Every row checked, valid or not (blank rows aside)."""




PartCounts = dict[tuple[str, str, str, str], tuple[int, int | None, int | None]]
"""(community, period, indicator, breakdown value) → (numerator, denominator, sample size)."""


class Counting(Protocol):
    """The counting stage of an engine, once its records are checked."""

    def set_periods(self, periods: Sequence[Period], by: str | None = None) -> None:
        """The periods to count (and the ``--by`` field to break them down by)."""
        ...

    def breakdown_values(self) -> list[str]:
        """The distinct breakdown values of the selected periods ('' for a blank one)."""
        ...

    def parts(
        self,
        indicators: Sequence[Indicator],
        communities: Sequence[str],
        profile: Sequence[ProfileValue],
        breakdown: Sequence[str],
    ) -> PartCounts:
        """Every community × period × breakdown value × indicator's counts."""
        ...

    def records_per_period(self) -> dict[tuple[str, str], int]:
        """(community, period) → number of valid records dated in it."""
        ...
