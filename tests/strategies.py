"""Hypothesis strategies for random community data, and writers for the generated data.

``community_data()`` draws ``(records, profile)`` valid under the spec (1.1, 1.2): a few
communities, a few dozen records over a few months of 2026 crossing month and quarter edges,
ids drawn from small pools so that repeats, updates and same-day ties happen.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st
from reference import FIELDS

HEADER = FIELDS
"""The columns of a generated log, in order (the reference's record fields)."""

COUNT_FIELDS: tuple[str, ...] = ("residents", "residents_capable", "households", "units")

FIRST_DAY = date(2026, 2, 20)
LAST_DAY = date(2026, 7, 10)
# Month and quarter edges, drawn often so that they and same-day ties occur.
EDGE_DAYS: tuple[date, ...] = (
    date(2026, 2, 28),
    date(2026, 3, 1),
    date(2026, 3, 31),
    date(2026, 4, 1),
    date(2026, 5, 15),
    date(2026, 6, 30),
    date(2026, 7, 1),
)

RESIDENTS: tuple[str, ...] = ("r1", "r2", "r3", "r4", "r5", "r6")
UNITS: tuple[str, ...] = ("u1", "u2", "u3")
HOUSEHOLDS: tuple[str, ...] = ("h1", "h2", "h3", "h4")
TICKETS: tuple[str, ...] = ("T1", "T2", "T3", "T4", "")
SERVICES: tuple[str, ...] = ("", "助老", "保洁", "法律咨询")
NEED_STATES: tuple[str, ...] = ("met", "unmet", "pending")
ANSWERS: tuple[str, ...] = (
    "满意",
    "非常满意",
    "基本满意",
    "不满意",
    "不清楚",
    "",
    "4",
    "5",
    "3",
    "9",
    "4.0",
    "satisfied",
    "dissatisfied",
)
WIDE_ANSWERS: tuple[str, ...] = (*ANSWERS, "４", "５", "３．０", "＋４", "９９", "0", "说不清")
"""Answers with full-width digits, signs and points as Chinese input methods type them
(spec 2.4), and more excluded ones; every one is in a default list."""
PARENTS: tuple[str, ...] = ("p1", "p2")
AS_OF_DAYS: tuple[date, ...] = (
    date(2026, 1, 1),
    date(2026, 3, 1),
    date(2026, 3, 31),
    date(2026, 4, 15),
    date(2026, 7, 1),
    date(2026, 9, 1),
)
"""Dates of dated denominators: before, inside, on the edges of and after the records."""

Records = list[dict[str, str]]
Profile = dict[str, Any]


def dates() -> st.SearchStrategy[date]:
    return st.one_of(
        st.dates(min_value=FIRST_DAY, max_value=LAST_DAY),
        st.sampled_from(EDGE_DAYS),
    )


@st.composite
def profiles(
    draw: st.DrawFn,
    max_communities: int = 3,
    fields: tuple[str, ...] = COUNT_FIELDS,
    dated: bool = False,
) -> Profile:
    """1..max_communities communities ``c1``.., counts 0..30 of ``fields``, a count
    occasionally missing; with ``dated``, a count is often a list of dated values (spec
    1.1, distinct dates)."""
    n = draw(st.integers(min_value=1, max_value=max_communities))
    communities: list[dict[str, Any]] = []
    used_parents: list[str] = []
    for i in range(1, n + 1):
        community: dict[str, Any] = {"id": f"c{i}", "name": f"社区{i}"}
        parent = draw(st.sampled_from(("p1", "p1", "p2", "")))
        if parent:
            community["parent"] = parent
            if parent not in used_parents:
                used_parents.append(parent)
        for field in fields:
            missing = draw(st.integers(min_value=0, max_value=7)) == 7
            if missing:
                continue
            community[field] = draw(st.integers(min_value=0, max_value=30))
            if dated and draw(st.booleans()):
                days = draw(st.lists(st.sampled_from(AS_OF_DAYS), min_size=1, max_size=3,
                                     unique=True))  # fmt: skip
                community[field] = [
                    {"as_of": day, "value": draw(st.integers(min_value=0, max_value=30))}
                    for day in days
                ]
        communities.append(community)
    profile: Profile = {"communities": communities}
    if used_parents:
        profile["parents"] = [
            {"id": parent, "name": f"街道{parent[1:]}"} for parent in sorted(used_parents)
        ]
    return profile


@st.composite
def records_for(
    draw: st.DrawFn,
    community_ids: list[str],
    min_records: int = 0,
    max_records: int = 60,
    answers: tuple[str, ...] = ANSWERS,
    events: tuple[str, ...] = (),
) -> Records:
    """Valid canonical records (every value a str) for the given communities; survey
    answers drawn from ``answers``, and ``events`` (user events) drawn besides the four."""
    n = draw(st.integers(min_value=min_records, max_value=max_records))
    records: Records = []
    for _ in range(n):
        event = draw(st.sampled_from(("participate", "benefit", "need", "survey", *events)))
        party = draw(st.sampled_from(("resident", "resident", "unit")))
        if party == "resident":
            person = draw(st.sampled_from(RESIDENTS))
            household = draw(st.sampled_from((*HOUSEHOLDS, "")))
        else:
            person = draw(st.sampled_from(UNITS))
            household = ""
        status = ""
        ticket = ""
        if event == "benefit" and party == "resident" and household == "":
            household = draw(st.sampled_from(HOUSEHOLDS))
        if event == "need":
            status = draw(st.sampled_from(NEED_STATES))
            ticket = draw(st.sampled_from(TICKETS))
            if draw(st.integers(min_value=0, max_value=4)) == 4:
                person = ""
        if event == "survey":
            status = draw(st.sampled_from(answers))
        records.append(
            {
                "date": draw(dates()).isoformat(),
                "community": draw(st.sampled_from(community_ids)),
                "event": event,
                "party": party,
                "id": person,
                "household": household,
                "status": status,
                "ticket": ticket,
                "service": draw(st.sampled_from(SERVICES)),
            }
        )
    return records


@st.composite
def community_data(
    draw: st.DrawFn,
    min_records: int = 0,
    max_records: int = 60,
    max_communities: int = 3,
) -> tuple[Records, Profile]:
    """``(records, profile)``: 1-3 communities and 0-60 records valid under the spec."""
    profile = draw(profiles(max_communities=max_communities))
    ids = [community["id"] for community in profile["communities"]]
    records = draw(records_for(ids, min_records=min_records, max_records=max_records))
    return records, profile


# --------------------------------------------------------------------------- writers


def write_csv(records: Records, path: Path | str) -> Path:
    """UTF-8 CSV (no BOM) with the canonical English header."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(HEADER), lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow({field: record.get(field, "") for field in HEADER})
    return path


def read_csv(path: Path | str) -> Records:
    """Reads a canonical CSV back as a list of str dicts (every value text)."""
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        return [
            {key: (value or "").strip() for key, value in row.items()}
            for row in csv.DictReader(handle)
        ]


class _QuotedDumper(yaml.SafeDumper):
    """Writes every string double-quoted, so that nothing is type-guessed on reading."""


def _quoted_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')


_QuotedDumper.add_representer(str, _quoted_str)


def write_yaml(records: Records, path: Path | str) -> Path:
    """A YAML list of mappings; every value (and key) a double-quoted string."""
    path = Path(path)
    rows = [{field: str(record.get(field, "")) for field in HEADER} for record in records]
    text = yaml.dump(
        rows, Dumper=_QuotedDumper, allow_unicode=True, sort_keys=False, default_flow_style=False
    )
    path.write_text(text, encoding="utf-8")
    return path


def write_profile(profile: Profile, path: Path | str) -> Path:
    """The profile as YAML under the ``communities:`` key (and ``parents:`` when present)."""
    path = Path(path)
    data: dict[str, Any] = {"communities": profile["communities"]}
    if profile.get("parents"):
        data["parents"] = profile["parents"]
    text = yaml.dump(
        data, Dumper=_QuotedDumper, allow_unicode=True, sort_keys=False, default_flow_style=False
    )
    path.write_text(text, encoding="utf-8")
    return path
