"""The one-pass roll-up gives what summing each roll-up over its communities gave (issue 17)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from svcmetrics.report import Part, PartKey, rollup
from svcmetrics.units import Level, Unit

COMMUNITIES = ("c1", "c2", "c3", "c4", "c5")


def pooled_one_by_one(
    parts: Mapping[PartKey, Part], members: Sequence[str]
) -> dict[tuple[str, str, str], Part]:
    """The roll-up by its definition (spec 2.6), one unit at a time over every part: the
    sums over the members whose denominator is known, ``partial_rollup`` when a member's is
    not; the sample size the sum of the summed members', None when one of them has none
    (or none is summed)."""
    keys: dict[tuple[str, str, str], list[Part]] = {}
    partial: set[tuple[str, str, str]] = set()
    for (community, period, indicator, value), part in parts.items():
        if community not in set(members):
            continue
        key = (period, indicator, value)
        summed = keys.setdefault(key, [])
        if part.denominator is None:
            partial.add(key)
        else:
            summed.append(part)
    pooled: dict[tuple[str, str, str], Part] = {}
    for key, summed in keys.items():
        samples = [part.sample_size for part in summed]
        pooled[key] = Part(
            sum(part.numerator for part in summed),
            sum(part.denominator or 0 for part in summed) if summed else None,
            None if not summed or None in samples else sum(s or 0 for s in samples),
            ("partial_rollup",) if key in partial else (),
        )
    return pooled


part_values = st.builds(
    Part,
    st.integers(0, 50),
    st.one_of(st.none(), st.integers(0, 80)),
    st.one_of(st.none(), st.integers(0, 30)),
    st.sampled_from([(), ("flag",)]),
)
part_maps = st.dictionaries(
    st.tuples(
        st.sampled_from(COMMUNITIES),
        st.sampled_from(["2026-01", "2026-02"]),
        st.sampled_from(["a", "b"]),
        st.sampled_from(["", "x"]),
    ),
    part_values,
    max_size=40,
)
memberships = st.lists(
    st.lists(st.sampled_from(COMMUNITIES), min_size=1, max_size=7), min_size=1, max_size=4
)


@settings(max_examples=200, deadline=None)
@given(part_maps, memberships)
def test_one_pass_equals_each_roll_up_summed_alone(
    parts: dict[PartKey, Part], members: list[list[str]]
) -> None:
    # members may repeat a community (a unit reached twice) and units may overlap
    units = [Unit(Level.COMMUNITY, c, None, None, (c,)) for c in COMMUNITIES]
    units += [Unit(Level.ROLLUP, f"r{n}", None, None, tuple(m)) for n, m in enumerate(members)]
    units.append(Unit(Level.TOTAL, "*", None, None, COMMUNITIES))
    pooled = rollup(parts, units)
    assert set(pooled) == {unit.id for unit in units if unit.level is not Level.COMMUNITY}
    for unit in units:
        if unit.level is not Level.COMMUNITY:
            assert pooled[unit.id] == pooled_one_by_one(parts, unit.members)


def test_a_child_without_denominator_flags_the_parent_and_adds_nothing() -> None:
    parts = {
        ("c1", "2026-01", "a", ""): Part(3, 10, 10),
        ("c2", "2026-01", "a", ""): Part(4, None, None),
        ("c3", "2026-01", "a", ""): Part(1, 5, 5),
    }
    units = [
        Unit(Level.ROLLUP, "s1", None, "d1", ("c1", "c2")),
        Unit(Level.ROLLUP, "d1", None, None, ("c1", "c2", "c3")),
    ]
    pooled = rollup(parts, units)
    assert pooled["s1"][("2026-01", "a", "")] == Part(3, 10, 10, ("partial_rollup",))
    assert pooled["d1"][("2026-01", "a", "")] == Part(4, 15, 15, ("partial_rollup",))
