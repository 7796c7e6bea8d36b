"""The output's units: communities, the roll-up levels above them and the grand total (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from svcmetrics.models import TOTAL_ID, Community, Profile

__all__ = ["TOTAL_ID", "Level", "Unit", "repeating", "unit_tree"]


class Level(StrEnum):
    """What a unit of the output is (the ``level`` field of spec 3.1), in output order."""

    COMMUNITY = "community"
    ROLLUP = "rollup"
    TOTAL = "total"


LEVELS: tuple[Level, ...] = tuple(Level)


@dataclass(frozen=True)
class Unit:
    """A row label of the output: a community, a roll-up level or the grand total."""

    level: Level
    id: str
    name: str | None
    parent: str | None
    members: tuple[str, ...] = ()
    """The communities it pools (a community: itself)."""


def repeating(units: Sequence[Unit]) -> list[bool]:
    """For each of ``units``, whether a unit below it pools the same communities (a street
    office with one district above it, a total over one street office: its rows say nothing
    new). In one pass: the member sets of each parent's children (and of every roll-up, for
    the total) are gathered once, so the cost
    grows with the units, not with their square."""
    pooled = [frozenset(unit.members) for unit in units]
    below: dict[str | None, set[frozenset[str]]] = {}
    rollups: set[frozenset[str]] = set()
    for unit, members in zip(units, pooled, strict=True):
        below.setdefault(unit.parent, set()).add(members)
        if unit.level is Level.ROLLUP:
            rollups.add(members)
    return [
        unit.level is not Level.COMMUNITY
        and (
            members in below.get(unit.id, ()) or (unit.level is Level.TOTAL and members in rollups)
        )
        for unit, members in zip(units, pooled, strict=True)
    ]


def unit_tree(profile: Profile | None, communities: Sequence[Community]) -> list[Unit]:
    """Every output unit with the communities it pools (spec 2.6): the communities, each
    parent above one of them (by id), and the total over more than one community."""
    units = [Unit(Level.COMMUNITY, c.id, c.name, c.parent, (c.id,)) for c in communities]
    parents = {parent.id: parent for parent in (profile.parents if profile else [])}
    children: dict[str, list[str]] = {}
    for community in communities:
        seen: set[str] = set()
        current = community.parent
        while current is not None and current not in seen:
            seen.add(current)
            children.setdefault(current, []).append(community.id)
            current = parents[current].parent if current in parents else None
    for parent_id in sorted(children):
        parent = parents.get(parent_id)
        units.append(
            Unit(
                Level.ROLLUP,
                parent_id,
                parent.name if parent else None,
                parent.parent if parent else None,
                tuple(children[parent_id]),
            )
        )
    if len(communities) > 1:
        units.append(Unit(Level.TOTAL, TOTAL_ID, None, None, tuple(c.id for c in communities)))
    return units
