"""The typed results that pass between the stages of a run, whichever engine counts:
the inputs, what the checks found, and what the counting stage of an engine must answer
(spec 5.1).

The embedded DuckDB engine (:mod:`svcmetrics.engine`) and a warehouse engine
(:mod:`svcmetrics.warehouse`) both give a :class:`Checked` and implement :class:`Counting`,
so the pipeline that turns counts into a report is one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from svcmetrics.diagnose import describe_problems
from svcmetrics.errors import WARNING_KINDS, InputError, Problem, tally
from svcmetrics.indicators import Indicator, custom_events
from svcmetrics.models import Community, Config, Profile
from svcmetrics.periods import Period
from svcmetrics.report import Part, PartKey

if TYPE_CHECKING:
    from svcmetrics.readers import Source


@dataclass(frozen=True)
class Inputs:
    """The config, the definitions and the profile of one run, loaded and checked."""

    config: Config
    base: Path
    indicators: list[Indicator]
    profile: Profile | None
    profile_name: str | None
    problems: list[Problem]
    """Warnings about the profile (total rows left out, ids Excel mangled)."""


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


@dataclass(frozen=True)
class Checked:
    """The records of one run, read and checked: the problems found (data), the span of
    the valid rows and the communities they are counted for."""

    inputs: Inputs
    sources: list[Source]
    """The logs as the engine read them (a CSV its reader refused is read by Python)."""
    communities: list[Community]
    problems: list[Problem]
    rows: int
    """Valid rows (up to ``as_of``)."""
    first: dt.date | None
    last: dt.date | None
    totals: dict[str, int]
    """Problems of each kind, all counted (``problems`` may list only the first ones)."""
    skipped: int
    """Rows left out because they are invalid."""
    read: int
    """Every row checked, valid or not (blank rows aside)."""

    @property
    def error_count(self) -> int:
        """How many errors (invalid cells) were found."""
        return sum(count for kind, count in self.totals.items() if kind not in WARNING_KINDS)


def community_keys(communities: Iterable[Community]) -> list[CommunityKey]:
    """Each community with the values a log may use for it: its id and its name."""
    return [CommunityKey(c.id, tuple(k for k in (c.id, c.name) if k)) for c in communities]


def with_inputs_problems(
    inputs: Inputs,
    communities: Iterable[Community],
    problems: Sequence[Problem],
    totals: dict[str, int],
) -> tuple[list[Problem], dict[str, int]]:
    """The problems an engine's checks found, told what was expected
    (:func:`svcmetrics.diagnose.describe_problems`) and listed after the inputs' own; and
    the count of each kind, the inputs' problems among them."""
    keys = [key for community in community_keys(communities) for key in community.keys]
    described = describe_problems(problems, custom_events(inputs.indicators), keys)
    return inputs.problems + described, dict(Counter(totals) + Counter(tally(inputs.problems)))


PartCounts = dict[PartKey, Part]
"""(community, period, indicator, breakdown value) → (numerator, denominator, sample size)."""


def check_profile_counts(profile: Iterable[ProfileValue], largest: int) -> None:
    """Every denominator fits the engine's integers (``largest``), else an input error."""
    for value in profile:
        if value.value > largest:
            raise InputError(
                "profile_count_too_large",
                community=value.community,
                field=value.field,
                value=value.value,
            )


def part_counts(rows: Iterable[Sequence[Any]], typed: bool = False) -> PartCounts:
    """The rows of :func:`svcmetrics.compiler.parts` (community, period, breakdown value,
    indicator, position, numerator, denominator, sample size) as :data:`PartCounts`,
    whatever integer type the engine returns (a Decimal from a SUM included); ``typed``:
    the engine returns the texts as ``str`` and the counts as ``int`` already (DuckDB), so
    they are taken as they are (a city has 420,000 rows)."""
    if typed:
        return {(c, p, i, b): Part(n, d, s) for c, p, b, i, _, n, d, s in rows}
    return {
        (str(c), str(p), str(i), str(b)): Part(
            int(n),
            None if d is None else int(d),
            None if s is None else int(s),
        )
        for c, p, b, i, _, n, d, s in rows
    }


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
