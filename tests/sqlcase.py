"""The inputs of ``svcmetrics sql``'s query built from a log, its profile and config, with
compute's community numbers to compare: for tests/test_sql.py and bench/spark_check.py."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svcmetrics.answers import answer_lists
from svcmetrics.config import load_config, load_profile
from svcmetrics.engine import profile_values
from svcmetrics.indicators import definitions
from svcmetrics.pipeline import Options, run
from svcmetrics.sqlexport import Dialect, query

FIELDS = ["date", "community", "event", "party", "id", "household", "status", "ticket",
          "service", "category"]  # fmt: skip
"""The columns of ``records``, then ``seq`` (the input order)."""

Key = tuple[str, str, str]
Numbers = tuple[Any, Any]


@dataclass
class SqlCase:
    """The query's three input tables as rows, the query, and compute's numbers."""

    records: list[tuple[Any, ...]]
    periods: list[tuple[Any, ...]]
    profile: list[tuple[Any, ...]]
    sql: str
    expected: dict[Key, Numbers]


def sql_case(log: Path, profile: Path, config: Path | None, dialect: Dialect) -> SqlCase:
    """The case of one canonical-header CSV log (communities named by name get their id)."""
    report = run(Options(logs=(str(log),), profile=profile, config=config))
    expected = {
        (r.community, r.period, r.indicator): (r.numerator, r.denominator)
        for r in report.results
        if r.level == "community"
    }
    loaded, _ = load_config(config)
    sql = query(definitions(loaded), answer_lists(loaded.satisfaction), dialect)
    communities = load_profile(profile, "p").communities
    names = {c.name: c.id for c in communities if c.name}
    records = []
    with open(log, encoding="utf-8") as handle:
        for seq, row in enumerate(csv.DictReader(handle)):
            values: list[Any] = [(row.get(f) or "").strip() or None for f in FIELDS]
            values[1] = names.get(values[1], values[1])
            values[0] = dt.date.fromisoformat(values[0])
            records.append((*values, seq))
    periods = [(p.label, p.start, p.end) for p in report.periods]
    profile_rows = [(v.community, v.field, v.as_of, v.value) for v in profile_values(communities)]
    return SqlCase(records, periods, profile_rows, sql, expected)
