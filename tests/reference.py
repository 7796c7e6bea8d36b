"""Independent reference implementation of the indicator semantics (spec 2, 2.1-2.6).

Used by the tests as an oracle. It deliberately shares no code with ``svcmetrics`` and is
written as plainly as possible (lists, dicts and loops), so that it is obviously right
rather than fast.

Input records are dicts with canonical string keys (``date``, ``community``, ``event``,
``party``, ``id``, ``household``, ``status``, ``ticket``, ``service``); the list order is the
input order used to break ties between rows of the same date. Invalid input (something the
spec calls an invalid row) raises ``ValueError``: the oracle never guesses.

Defaults implemented: survey basis, the default answer lists of spec 2.4, scale 1-5.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Sequence
from datetime import date
from fractions import Fraction
from statistics import NormalDist
from typing import Any

INDICATORS: tuple[str, ...] = (
    "resident_participation",
    "unit_participation",
    "resident_benefit",
    "unit_benefit",
    "need_satisfaction",
    "resident_satisfaction",
    "unit_satisfaction",
)
SURVEY_INDICATORS: tuple[str, ...] = ("resident_satisfaction", "unit_satisfaction")

FIELDS: tuple[str, ...] = (
    "date",
    "community",
    "event",
    "party",
    "id",
    "household",
    "status",
    "ticket",
    "service",
)
EVENTS: tuple[str, ...] = ("participate", "benefit", "need", "survey")
PARTIES: tuple[str, ...] = ("resident", "unit")
NEED_STATES: tuple[str, ...] = ("met", "unmet", "pending")
PERIODS: tuple[str, ...] = ("month", "quarter", "half", "year", "ytd")

# Spec 2.4 default lists. English words are compared case-insensitively.
SATISFIED_WORDS: tuple[str, ...] = ("非常满意", "满意", "比较满意", "very satisfied", "satisfied")
NOT_SATISFIED_WORDS: tuple[str, ...] = (
    "基本满意",
    "一般",
    "不太满意",
    "不满意",
    "非常不满意",
    "neutral",
    "dissatisfied",
    "very dissatisfied",
)
EXCLUDED_WORDS: tuple[str, ...] = ("", "不清楚", "不知道", "说不清", "don't know")
SATISFIED_SCORES: tuple[int, ...] = (4, 5)
NOT_SATISFIED_SCORES: tuple[int, ...] = (1, 2, 3)
SCALE: tuple[int, int] = (1, 5)

SATISFIED = "satisfied"
NOT_SATISFIED = "not_satisfied"
EXCLUDED = "excluded"

Z_95: float = NormalDist().inv_cdf(0.975)

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")

Key = tuple[str, str, str]


# --------------------------------------------------------------------------- periods


def parse_date(text: str) -> date:
    """An ISO date; a date-time is accepted and its time ignored (spec 1.2)."""
    text = text.strip()
    if len(text) < 10:
        raise ValueError(f"not a date: {text!r}")
    return date.fromisoformat(text[:10])


def period_label(day: date, period: str) -> str:
    """The label of the period holding ``day`` (for ``ytd``: the window ending in its month)."""
    if period == "ytd":
        return f"{day.year:04d}-01..{day.year:04d}-{day.month:02d}"
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if period == "half":
        return f"{day.year:04d}-H{1 if day.month <= 6 else 2}"
    if period == "year":
        return f"{day.year:04d}"
    raise ValueError(f"unknown period {period!r}")


def span_labels(first: date, last: date, period: str) -> list[str]:
    """Every period label from the period of ``first`` to the period of ``last``."""
    labels: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        label = period_label(date(year, month, 1), period)
        if label not in labels:
            labels.append(label)
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return labels


def in_period(day: date, label: str, period: str) -> bool:
    """Whether ``day`` lies in the period ``label`` (a ``ytd`` window holds every day of
    its year up to the end of its last month)."""
    if period == "ytd":
        return day.year == int(label[:4]) and day <= period_last_day(label, period)
    return period_label(day, period) == label


def period_last_day(label: str, period: str) -> date:
    if period == "ytd":
        year, month = int(label[-7:-3]), int(label[-2:])
    elif period == "month":
        year, month = int(label[:4]), int(label[5:7])
    elif period == "quarter":
        year, month = int(label[:4]), int(label[6]) * 3
    elif period == "half":
        year, month = int(label[:4]), int(label[6]) * 6
    elif period == "year":
        year, month = int(label), 12
    else:
        raise ValueError(f"unknown period {period!r}")
    return date(year, month, calendar.monthrange(year, month)[1])


# --------------------------------------------------------------------------- profile


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return parse_date(str(value))


def _check_count(value: Any, community_id: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{community_id}.{field}: not a non-negative integer: {value!r}")
    return value


def profile_count(community: dict[str, Any], field: str, label: str, period: str) -> int | None:
    """The denominator ``field`` of ``community`` for one period; None when unknown.

    A plain count, or a list of ``{as_of, value}``: the latest value dated on or before the
    period's last day, else the earliest one (spec 1.1).
    """
    value = community.get(field)
    if value is None:
        return None
    if not isinstance(value, list):
        return _check_count(value, community["id"], field)
    if not value:
        return None
    entries = sorted(value, key=lambda entry: _as_date(entry["as_of"]))
    last_day = period_last_day(label, period)
    chosen = entries[0]
    for entry in entries:
        if _as_date(entry["as_of"]) <= last_day:
            chosen = entry
    return _check_count(chosen["value"], community["id"], field)


# --------------------------------------------------------------------------- answers


def classify_answer(answer: str) -> str:
    """``satisfied``, ``not_satisfied`` or ``excluded`` under the spec 2.4 defaults."""
    text = answer.strip()
    folded = text.casefold()
    if folded in EXCLUDED_WORDS:
        return EXCLUDED
    if folded in SATISFIED_WORDS:
        return SATISFIED
    if folded in NOT_SATISFIED_WORDS:
        return NOT_SATISFIED
    if _NUMBER.fullmatch(text):
        score = Fraction(text)
        if score < SCALE[0] or score > SCALE[1]:
            return EXCLUDED
        if score in SATISFIED_SCORES:
            return SATISFIED
        if score in NOT_SATISFIED_SCORES:
            return NOT_SATISFIED
    raise ValueError(f"survey answer in none of the lists: {answer!r}")


# --------------------------------------------------------------------------- rates


def safe_rate(numerator: int, denominator: int | None) -> float | None:
    if denominator is None or denominator == 0:
        return None
    return numerator / denominator


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float | None, float | None]:
    """95% Wilson score interval; (None, None) for n == 0."""
    if n == 0:
        return None, None
    p = successes / n
    scale = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / scale
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / scale
    # the interval holds its own rate: exactly 0 at 0/n and exactly 1 at n/n
    return min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


# --------------------------------------------------------------------------- records


class Row:
    """One cleaned record with its position in the input."""

    def __init__(self, position: int, record: dict[str, Any], community_id: str) -> None:
        self.position = position
        self.day = parse_date(_text(record.get("date")))
        self.community = community_id
        self.event = _text(record.get("event"))
        self.party = _text(record.get("party"))
        self.id = _text(record.get("id"))
        self.household = _text(record.get("household"))
        self.status = _text(record.get("status"))
        self.ticket = _text(record.get("ticket"))
        self.service = _text(record.get("service"))
        self.check()

    def check(self) -> None:
        where = f"record {self.position}"
        if self.event not in EVENTS:
            raise ValueError(f"{where}: unknown event {self.event!r}")
        if self.party not in PARTIES:
            raise ValueError(f"{where}: unknown party {self.party!r}")
        if self.event != "need" and self.id == "":
            raise ValueError(f"{where}: blank id")
        if self.event == "benefit" and self.party == "resident" and self.household == "":
            raise ValueError(f"{where}: resident benefit without household")
        if self.event == "need" and self.status not in NEED_STATES:
            raise ValueError(f"{where}: invalid need status {self.status!r}")
        if self.event == "survey":
            classify_answer(self.status)

    def later_than(self, other: Row) -> bool:
        return (self.day, self.position) > (other.day, other.position)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _community_lookup(profile: dict[str, Any]) -> dict[str, str]:
    """Maps each community id, and each name, to the id."""
    lookup: dict[str, str] = {}
    for community in profile["communities"]:
        name = community.get("name")
        if name:
            lookup[str(name)] = community["id"]
    for community in profile["communities"]:
        lookup[community["id"]] = community["id"]
    return lookup


def _rows(records: list[dict[str, Any]], profile: dict[str, Any]) -> list[Row]:
    lookup = _community_lookup(profile)
    rows: list[Row] = []
    for position, record in enumerate(records):
        community = _text(record.get("community"))
        if community not in lookup:
            raise ValueError(f"record {position}: unknown community {community!r}")
        rows.append(Row(position, record, lookup[community]))
    return rows


# --------------------------------------------------------------------------- indicators


def _distinct(rows: list[Row], event: str, party: str, field: str) -> int:
    values: set[str] = set()
    for row in rows:
        if row.event == event and row.party == party:
            values.add(getattr(row, field))
    return len(values)


def _needs(rows: list[Row]) -> list[tuple[str, date, str]]:
    """(community, earliest day, state) of every need (spec 2.3)."""
    needs: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        if row.event != "need":
            continue
        if row.ticket != "":
            key: tuple[str, ...] = (row.community, "ticket", row.ticket)
        else:
            key = (row.community, "row", str(row.position))
        needs.setdefault(key, []).append(row)

    states: list[tuple[str, date, str]] = []
    for need_rows in needs.values():
        earliest = need_rows[0].day
        latest = need_rows[0]
        for row in need_rows:
            if row.day < earliest:
                earliest = row.day
            if row.later_than(latest):
                latest = row
        states.append((need_rows[0].community, earliest, latest.status))
    return states


def _satisfaction(rows: list[Row], party: str) -> tuple[int, int]:
    """(satisfied respondents, respondents with a counted answer) among ``rows``."""
    kept: dict[str, Row] = {}
    for row in rows:
        if row.event != "survey" or row.party != party:
            continue
        if classify_answer(row.status) == EXCLUDED:
            continue
        if row.id not in kept or row.later_than(kept[row.id]):
            kept[row.id] = row
    satisfied = 0
    for row in kept.values():
        if classify_answer(row.status) == SATISFIED:
            satisfied += 1
    return satisfied, len(kept)


def _value(
    numerator: int,
    denominator: int | None,
    sample_size: int | None,
    no_records: bool,
    min_sample: int,
) -> dict[str, Any]:
    flags: list[str] = []
    if no_records:
        flags.append("no_records")
    if sample_size is not None and 0 < sample_size < min_sample:
        flags.append("small_sample")
    if denominator is not None and numerator > denominator:
        flags.append("numerator_above_denominator")
    ci_low: float | None = None
    ci_high: float | None = None
    if sample_size is not None:
        ci_low, ci_high = wilson(numerator, sample_size)
    return {
        "numerator": numerator,
        "denominator": denominator,
        "rate": safe_rate(numerator, denominator),
        "sample_size": sample_size,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "flags": sorted(flags),
    }


def reference_compute(
    records: list[dict[str, Any]],
    profile: dict[str, Any],
    period: str = "month",
    min_sample: int = 30,
) -> dict[Key, dict[str, Any]]:
    """Every (community id, period label, indicator) of the span -> its value.

    Each value has ``numerator``, ``denominator`` (None when unknown), ``rate`` (None when
    undefined), ``sample_size``, ``ci_low``, ``ci_high`` (satisfaction only, else None) and
    ``flags`` (sorted). No records at all -> ``{}`` (nothing to compute).
    """
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}")
    rows = _rows(records, profile)
    if not rows:
        return {}
    first = min(row.day for row in rows)
    last = max(row.day for row in rows)
    labels = span_labels(first, last, period)
    needs = _needs(rows)

    results: dict[Key, dict[str, Any]] = {}
    for community in profile["communities"]:
        cid = community["id"]
        for label in labels:
            here = [
                row for row in rows if row.community == cid and in_period(row.day, label, period)
            ]
            no_records = len(here) == 0

            dens: dict[str, int | None] = {}
            for field in ("residents_capable", "households", "units"):
                dens[field] = profile_count(community, field, label, period)
            states = [
                state
                for need_community, earliest, state in needs
                if need_community == cid and in_period(earliest, label, period)
            ]
            res_sat, res_n = _satisfaction(here, "resident")
            unit_sat, unit_n = _satisfaction(here, "unit")
            parts: dict[str, tuple[int, int | None, int | None]] = {
                "resident_participation": (
                    _distinct(here, "participate", "resident", "id"),
                    dens["residents_capable"],
                    None,
                ),
                "unit_participation": (
                    _distinct(here, "participate", "unit", "id"),
                    dens["units"],
                    None,
                ),
                "resident_benefit": (
                    _distinct(here, "benefit", "resident", "household"),
                    dens["households"],
                    None,
                ),
                "unit_benefit": (
                    _distinct(here, "benefit", "unit", "id"),
                    dens["units"],
                    None,
                ),
                "need_satisfaction": (states.count("met"), len(states), None),
                "resident_satisfaction": (res_sat, res_n, res_n),
                "unit_satisfaction": (unit_sat, unit_n, unit_n),
            }
            for indicator in INDICATORS:
                numerator, denominator, sample_size = parts[indicator]
                results[(cid, label, indicator)] = _value(
                    numerator, denominator, sample_size, no_records, min_sample
                )
    return results


# --------------------------------------------------------------------------- roll-up


def parent_chain(community_id: str, profile: dict[str, Any]) -> list[str]:
    """The ancestors of a community, nearest first (``parent`` of the community, then the
    ``parent`` of each level in the profile's optional ``parents`` list)."""
    parent_of: dict[str, str] = {}
    for level in profile.get("parents") or []:
        if level.get("parent"):
            parent_of[str(level["id"])] = str(level["parent"])
    chain: list[str] = []
    community = next(c for c in profile["communities"] if c["id"] == community_id)
    current = community.get("parent")
    while current and str(current) not in chain:
        chain.append(str(current))
        current = parent_of.get(str(current))
    return chain


def _pool(values: list[dict[str, Any]], survey: bool, min_sample: int) -> dict[str, Any]:
    """Sums numerators and denominators over the values whose denominator is known."""
    numerator = 0
    denominator: int | None = None
    partial = False
    for value in values:
        if value["denominator"] is None:
            partial = True
            continue
        numerator += value["numerator"]
        denominator = (denominator or 0) + value["denominator"]
    flags: list[str] = []
    if partial:
        flags.append("partial_rollup")
    if denominator is not None and numerator > denominator:
        flags.append("numerator_above_denominator")
    sample_size: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    if survey:
        sample_size = denominator or 0
        ci_low, ci_high = wilson(numerator, sample_size)
        if 0 < sample_size < min_sample:
            flags.append("small_sample")
    return {
        "numerator": numerator,
        "denominator": denominator,
        "rate": safe_rate(numerator, denominator),
        "sample_size": sample_size,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "flags": sorted(flags),
    }


def reference_rollup(
    results: dict[Key, dict[str, Any]],
    profile: dict[str, Any],
    min_sample: int = 30,
) -> dict[Key, dict[str, Any]]:
    """(parent id, period label, indicator) -> pooled value (spec 2.6).

    A parent pools every community below it (directly or through the parent chain) whose
    denominator is known; a community with an unknown denominator is left out of both sums
    and flags the parent ``partial_rollup``. Rate = pooled numerator / pooled denominator.
    Denominator None when no community below the parent has a known denominator.
    """
    members: dict[Key, list[dict[str, Any]]] = {}
    for (cid, label, indicator), value in results.items():
        for parent in parent_chain(cid, profile):
            members.setdefault((parent, label, indicator), []).append(value)
    rolled: dict[Key, dict[str, Any]] = {}
    for key, values in members.items():
        rolled[key] = _pool(values, key[2] in SURVEY_INDICATORS, min_sample)
    return rolled


def reference_total(
    results: dict[Key, dict[str, Any]], min_sample: int = 30
) -> dict[tuple[str, str], dict[str, Any]]:
    """(period label, indicator) -> the grand total over all communities (spec 2.6)."""
    members: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for (_cid, label, indicator), value in results.items():
        members.setdefault((label, indicator), []).append(value)
    return {
        key: _pool(values, key[1] in SURVEY_INDICATORS, min_sample)
        for key, values in members.items()
    }


def unit_repeats(unit: Any, units: Sequence[Any]) -> bool:
    """Whether a unit below ``unit`` pools the same communities, asked of each unit below it
    in turn (the plain, quadratic reading of svcmetrics.units.repeating)."""
    if unit.level == "community":
        return False
    below = [
        u for u in units if u.parent == unit.id or (unit.level == "total" and u.level == "rollup")
    ]
    return any(set(u.members) == set(unit.members) for u in below)
