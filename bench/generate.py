"""Generate a spec-format service log of N rows and its community profile (deterministic).

    python bench/generate.py 1000000 --out bench/data/rows-1000000
    python bench/generate.py 2000000 --communities 5000     # a city

writes ``log.csv`` (canonical English header, UTF-8, comma separated) and ``profile.yaml``:
by default 50 communities (``c01``..``c50``, named ``社区01``..), 5 street offices and one
district; with ``--communities N`` N communities (``c0001``.. when N needs more digits)
under N/20 street offices (at least 5), one district, or 10 districts and a city above
them when N >= 1000; every day of 2026, every event kind:

* ``participate`` / ``benefit`` of residents and units, drawn from per-community pools of
  thousands of residents (ids ``R0100123``), their households (``H01-0456``) and tens of
  units (``U01007``), skewed so that some people take part often; the pools keep their
  sizes whatever the number of communities (a city of 5,000 communities and 2M rows has
  about 400 rows per community in the year);
* ``need`` rows: most needs have a ticket (``XQ-000123``; the numbering restarts in every
  community, so only (community, ticket) identifies a need) opened ``pending`` and updated
  0-3 times over the next weeks (sometimes twice on one day), ending ``met``, ``unmet`` or
  ``pending``; a few needs have no ticket (one row each);
* ``survey`` rows of residents and units with answers from 非常满意/满意/基本满意/不满意/不清楚,
  scores 1..5, 9 (outside the scale) and blank; some respondents answer again days later
  (sometimes the same day).

Rows of one day are shuffled; about 2% are entered late (written some days after their
date), and about 5% name their community by its name rather than its id. Every row is
valid, so ``svcmetrics compute`` runs without ``--skip-invalid``. The log is written day
by day: memory stays flat whatever N is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

HEADER = "date,community,event,party,id,household,status,ticket,service,category"
YEAR = 2026
COMMUNITIES = 50
"""The default number of communities (the output for it must not change)."""
STREETS = 5
"""Street offices at least (and for the default 50 communities)."""
COMMUNITIES_PER_STREET = 20
"""Beyond 100 communities, one street office per 20 communities."""
CITY_FROM = 1000
"""From this many communities on: 10 districts and a city above them."""
CITY_DISTRICTS = 10
SEED = 20260101
GENERATOR_VERSION = "1"
"""Bump when the output changes, so that cached data sets are regenerated."""

SERVICES: dict[str, tuple[str, ...]] = {
    "special": ("助老服务", "助餐", "助残服务", "上门探访"),
    "general": ("环境保洁", "四点半课堂", "法律咨询", "文体活动", "便民维修"),
    "unit": ("后勤保障", "共建活动", "场地共享"),
}
CATEGORIES = tuple(SERVICES)
ANSWERS: tuple[tuple[str, int], ...] = (
    ("非常满意", 20),
    ("满意", 25),
    ("基本满意", 12),
    ("不满意", 5),
    ("不清楚", 5),
    ("5", 8),
    ("4", 8),
    ("3", 4),
    ("2", 2),
    ("1", 2),
    ("9", 3),
    ("", 6),
)
EVENT_MIX: tuple[tuple[str, float], ...] = (
    ("participate-resident", 0.28),
    ("participate-unit", 0.05),
    ("benefit-resident", 0.30),
    ("benefit-unit", 0.05),
    ("need", 0.07),
    ("survey", 0.12),
)
"""Shares of freshly drawn rows; ticket updates and repeated answers come on top (needs end
up about 15% of the rows, surveys about 13%)."""


@dataclass(frozen=True)
class Hierarchy:
    """How many communities, street offices and districts; a city above several districts."""

    communities: int = COMMUNITIES

    @property
    def streets(self) -> int:
        wanted = max(STREETS, -(-self.communities // COMMUNITIES_PER_STREET))
        return min(self.communities, wanted)

    @property
    def districts(self) -> int:
        return CITY_DISTRICTS if self.communities >= CITY_FROM else 1

    @property
    def digits(self) -> int:
        """Digits of a community's number in its ids (2 up to 99 communities)."""
        return max(2, len(str(self.communities)))

    def street_of(self, number: int) -> str:
        return f"s{(number - 1) * self.streets // self.communities + 1}"

    def district_of(self, street: int) -> str:
        return f"d{(street - 1) * self.districts // self.streets + 1}"


@dataclass(frozen=True)
class Community:
    """One generated community and its pools."""

    number: int
    residents: int
    capable: int
    households: int
    units: int
    households_dated: tuple[tuple[str, int], ...] | None
    key: str
    """The number as written in ids (``01``, or ``0001`` in a city)."""
    street: str

    @property
    def id(self) -> str:
        return f"c{self.key}"

    @property
    def name(self) -> str:
        return f"社区{self.key}"


def make_communities(rng: random.Random, hierarchy: Hierarchy) -> list[Community]:
    communities = []
    for number in range(1, hierarchy.communities + 1):
        residents = rng.randint(3000, 12000)
        capable = int(residents * rng.uniform(0.5, 0.7))
        households = int(residents / rng.uniform(2.4, 2.9))
        units = rng.randint(20, 120)
        dated: tuple[tuple[str, int], ...] | None = None
        if number % 5 == 0:  # new buildings delivered in July
            dated = ((f"{YEAR}-01-01", households), (f"{YEAR}-07-01", households + 150))
        elif number % 7 == 0:  # the only value is dated later than the first months
            dated = ((f"{YEAR}-03-01", households),)
        key = f"{number:0{hierarchy.digits}d}"
        street = hierarchy.street_of(number)
        communities.append(
            Community(number, residents, capable, households, units, dated, key, street)
        )
    return communities


def profile_yaml(communities: list[Community], hierarchy: Hierarchy) -> str:
    sizes = f"{hierarchy.communities} communities, {hierarchy.streets} street offices"
    if hierarchy.districts > 1:
        sizes += f", {hierarchy.districts} districts and a city"
    lines = [
        f"# Generated by bench/generate.py (version {GENERATOR_VERSION}): {sizes}.",
        "communities:",
    ]
    for c in communities:
        lines += [
            f"  - id: {c.id}",
            f"    name: {c.name}",
            f"    parent: {c.street}",
            f"    residents: {c.residents}",
            f"    residents_capable: {c.capable}",
        ]
        if c.households_dated is None:
            lines.append(f"    households: {c.households}")
        else:
            lines.append("    households:")
            lines += [f"      - {{as_of: {day}, value: {v}}}" for day, v in c.households_dated]
        lines.append(f"    units: {c.units}")
    lines.append("parents:")
    for street in range(1, hierarchy.streets + 1):
        parent = hierarchy.district_of(street)
        lines.append(f"  - {{id: s{street}, name: 第{street}街道, parent: {parent}}}")
    if hierarchy.districts == 1:
        lines.append("  - {id: d1, name: 示范区}")
    else:
        for district in range(1, hierarchy.districts + 1):
            lines.append(f"  - {{id: d{district}, name: 第{district}区, parent: city}}")
        lines.append("  - {id: city, name: 示范市}")
    return "\n".join(lines) + "\n"


class Generator:
    """Draws rows day by day; follow-up rows wait in a per-day queue."""

    def __init__(self, rows: int, seed: int, hierarchy: Hierarchy) -> None:
        self.rng = random.Random(seed)
        self.rows = rows
        self.hierarchy = hierarchy
        self.communities = make_communities(self.rng, hierarchy)
        self.community_cum = list(accumulate(c.residents for c in self.communities))
        self.tickets = [0] * hierarchy.communities
        self.start = dt.date(YEAR, 1, 1)
        self.days = (dt.date(YEAR, 12, 31) - self.start).days + 1
        self.day_texts = [(self.start + dt.timedelta(days=d)).isoformat() for d in range(self.days)]
        self.queue: dict[int, list[list[str]]] = defaultdict(list)
        """Day → follow-up rows dated that day (counted when written)."""
        self.late: dict[int, list[list[str]]] = defaultdict(list)
        """Output day → rows entered late (counted when drawn)."""
        self.answers = [answer for answer, _ in ANSWERS]
        self.answer_cum = list(accumulate(weight for _, weight in ANSWERS))
        self.kinds = [kind for kind, _ in EVENT_MIX]
        self.kind_cum = list(accumulate(share for _, share in EVENT_MIX))

    # -- pools -----------------------------------------------------------------------

    def _skewed(self, size: int) -> int:
        return int(size * self.rng.random() ** 1.6)

    def _resident(self, c: Community, capable: bool) -> tuple[str, str]:
        n = self._skewed(c.capable if capable else c.residents)
        return f"R{c.key}{n:05d}", f"H{c.key}-{n % c.households:04d}"

    def _unit(self, c: Community) -> str:
        return f"U{c.key}{self._skewed(c.units):03d}"

    def _anyone(self, c: Community, unit_share: float) -> tuple[str, str, str]:
        """(party, id, household) of a unit (with probability ``unit_share``) or of any
        resident (capable or not): who raises needs and answers surveys."""
        if self.rng.random() < unit_share:
            return "unit", self._unit(c), ""
        return ("resident", *self._resident(c, capable=False))

    def _service(self, party: str) -> tuple[str, str]:
        category = "unit" if party == "unit" else self.rng.choice(("special", "general"))
        if self.rng.random() < 0.03:
            return "", ""
        return self.rng.choice(SERVICES[category]), category

    def _community_value(self, c: Community) -> str:
        return c.name if self.rng.random() < 0.05 else c.id

    def _day_text(self, day: int) -> str:
        return self.day_texts[day]

    # -- rows ------------------------------------------------------------------------

    def fresh(self, day: int) -> list[list[str]]:
        """One freshly drawn event (a need or a survey may schedule follow-ups)."""
        rng = self.rng
        c = rng.choices(self.communities, cum_weights=self.community_cum)[0]
        kind = rng.choices(self.kinds, cum_weights=self.kind_cum)[0]
        date = self._day_text(day)
        where = self._community_value(c)
        if kind.startswith(("participate", "benefit")):
            event, party = kind.split("-")
            if party == "resident":
                person, household = self._resident(c, capable=event == "participate")
                if event == "participate" and rng.random() < 0.3:
                    household = ""
            else:
                person, household = self._unit(c), ""
            service, category = self._service(party)
            return [[date, where, event, party, person, household, "", "", service, category]]
        if kind == "need":
            return self._need(c, day)
        return self._survey(c, day)

    def _need(self, c: Community, day: int) -> list[list[str]]:
        rng = self.rng
        party, person, household = self._anyone(c, 0.1)
        if rng.random() < 0.05:
            person = ""
        service, category = self._service(party)
        row = [self._day_text(day), "", "need", party, person, household, "", "", service, category]
        if rng.random() < 0.05:  # no ticket: the row is a need of its own
            row[1] = self._community_value(c)
            row[6] = rng.choice(("met", "met", "unmet", "pending"))
            return [row]
        self.tickets[c.number - 1] += 1
        ticket = f"XQ-{self.tickets[c.number - 1]:06d}"
        updates = rng.choice((0, 1, 1, 2, 2, 2, 3))
        opening = rng.choices(("pending", "unmet", "met"), (8, 1, 1))[0]
        statuses = [opening]
        for index in range(updates):
            if index == updates - 1:
                statuses.append(rng.choices(("met", "unmet", "pending"), (70, 15, 15))[0])
            else:
                statuses.append(rng.choice(("pending", "unmet")))
        first: list[list[str]] = []
        when = day
        for index, status in enumerate(statuses):
            if index:
                when += 0 if rng.random() < 0.15 else rng.randint(1, 30)
            if when >= self.days:
                break
            update = list(row)
            update[0] = self._day_text(when)
            update[1] = self._community_value(c)
            update[6] = status
            update[7] = ticket
            if when == day:
                first.append(update)
            else:
                self.queue[when].append(update)
        return first

    def _survey(self, c: Community, day: int) -> list[list[str]]:
        rng = self.rng
        party, person, household = self._anyone(c, 0.15)
        service, category = self._service(party)
        rows: list[list[str]] = []
        when = day
        while True:
            answer = rng.choices(self.answers, cum_weights=self.answer_cum)[0]
            row = [self._day_text(when), self._community_value(c), "survey", party, person]
            row += [household, answer, "", service, category]
            if when == day:
                rows.append(row)
            else:
                self.queue[when].append(row)
            if rng.random() >= 0.15:
                return rows
            when += 0 if rng.random() < 0.3 else rng.randint(1, 25)
            if when >= self.days:
                return rows

    def days_of_rows(self) -> Iterator[list[list[str]]]:
        """Yield the rows to write, one day at a time, exactly ``self.rows`` in all."""
        rng = self.rng
        weights = [
            0.6 if (self.start + dt.timedelta(days=d)).weekday() >= 5 else 1.0
            for d in range(self.days)
        ]
        total = sum(weights)
        written = 0
        cumulative = 0.0
        for day in range(self.days):
            cumulative += weights[day]
            target = self.rows if day == self.days - 1 else round(self.rows * cumulative / total)
            out = self.queue.pop(day, [])
            written += len(out)
            out += self.late.pop(day, [])
            while written < target:
                for row in self.fresh(day):
                    if written >= target and day == self.days - 1:
                        break
                    if rng.random() < 0.02 and day < self.days - 1:  # entered late
                        self.late[min(self.days - 1, day + rng.randint(1, 10))].append(row)
                    else:
                        out.append(row)
                    written += 1
            if day == self.days - 1 and written > self.rows:
                out = out[: len(out) - (written - self.rows)]
            rng.shuffle(out)
            yield out


def folder_name(rows: int, communities: int = COMMUNITIES) -> str:
    """The data set's folder: ``rows-N``, or ``rows-N-cC`` for C communities (not 50)."""
    return f"rows-{rows}" if communities == COMMUNITIES else f"rows-{rows}-c{communities}"


def generate(
    rows: int, out: Path, seed: int = SEED, communities: int = COMMUNITIES
) -> tuple[Path, Path]:
    """Write ``log.csv`` and ``profile.yaml`` into ``out``; return their paths."""
    if communities < 1:
        raise ValueError(f"communities must be at least 1, not {communities}")
    out.mkdir(parents=True, exist_ok=True)
    hierarchy = Hierarchy(communities)
    generator = Generator(rows, seed, hierarchy)
    profile = out / "profile.yaml"
    log = out / "log.csv"
    tmp_profile = out / ".profile.yaml.tmp"
    tmp_profile.write_text(profile_yaml(generator.communities, hierarchy), encoding="utf-8")
    tmp_log = out / ".log.csv.tmp"
    count = 0
    with open(tmp_log, "w", encoding="utf-8", newline="") as file:
        file.write(HEADER + "\n")
        for day_rows in generator.days_of_rows():
            count += len(day_rows)
            file.write("".join(",".join(row) + "\n" for row in day_rows))
    if count != rows:
        raise RuntimeError(f"generated {count} rows, expected {rows}")
    os.replace(tmp_profile, profile)
    os.replace(tmp_log, log)
    return log, profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("rows", type=lambda text: int(text.replace("_", "")))
    parser.add_argument(
        "--out", type=Path, default=None, help="folder (default bench/data/rows-N[-cC])"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--communities",
        type=int,
        default=COMMUNITIES,
        metavar="C",
        help=f"default {COMMUNITIES}; from {CITY_FROM} on: {CITY_DISTRICTS} districts and a city",
    )
    args = parser.parse_args()
    if args.communities < 1:
        parser.error("--communities must be at least 1")
    out = args.out or Path(__file__).parent / "data" / folder_name(args.rows, args.communities)
    log, profile = generate(args.rows, out, args.seed, args.communities)
    print(f"{log} ({args.rows} rows)\n{profile}")


if __name__ == "__main__":
    main()
