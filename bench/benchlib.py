"""What the benchmark's scripts share: profile rows, answer lists, result layout, CSV output."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

INDICATORS: tuple[str, ...] = (
    "resident_participation",
    "unit_participation",
    "resident_benefit",
    "unit_benefit",
    "need_satisfaction",
    "resident_satisfaction",
    "unit_satisfaction",
)
"""The seven built-ins, in the order of the definitions table."""

# The default answer lists of spec 2.4 (svcmetrics' own are not imported: the references
# are written by hand, independent of the code they check).
SATISFIED_TEXT: tuple[str, ...] = ("非常满意", "满意", "比较满意", "very satisfied", "satisfied")
NOT_SATISFIED_TEXT: tuple[str, ...] = (
    "基本满意",
    "一般",
    "不太满意",
    "不满意",
    "非常不满意",
    "neutral",
    "dissatisfied",
    "very dissatisfied",
)
EXCLUDED_TEXT: tuple[str, ...] = ("不清楚", "不知道", "说不清", "don't know")
"""The default lists, compared with the lower-cased answer."""
TEXT_COLUMNS = ("community", "event", "party", "id", "household", "status", "ticket")
"""The log's text columns that the references read (besides ``date``)."""
PROFILE_FIELDS: tuple[str, ...] = ("residents", "residents_capable", "households", "units")
PROFILE_COLUMNS: tuple[str, ...] = ("community", "name", "field", "as_of", "value")
"""The columns of ``profile_rows``."""
RESULT_COLUMNS: tuple[str, ...] = ("community", "period", "indicator", "numerator", "denominator")

ProfileRow = tuple[str, str | None, str, dt.date | None, int]
"""(community, name, field, as_of or None when undated, value)."""


def profile_rows(path: Path) -> list[ProfileRow]:
    """One row per profile value (a dated list gives one row per date)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: a city's profile in 0.1 s
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    rows: list[ProfileRow] = []
    for community in data["communities"]:
        cid = str(community["id"])
        name = community.get("name")
        for field in PROFILE_FIELDS:
            value: Any = community.get(field)
            if value is None:
                continue
            if isinstance(value, list):
                for dated in value:
                    as_of = dated["as_of"]
                    if not isinstance(as_of, dt.date):
                        as_of = dt.date.fromisoformat(str(as_of))
                    rows.append((cid, name, field, as_of, int(dated["value"])))
            else:
                rows.append((cid, name, field, None, int(value)))
    return rows


def write_results(rows: Iterable[Iterable[Any]], output: str | None) -> None:
    """Results as CSV (``RESULT_COLUMNS``; an unknown denominator is empty)."""
    file = sys.stdout if output in (None, "-") else open(output, "w", encoding="utf-8", newline="")
    try:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(RESULT_COLUMNS)
        for row in rows:
            writer.writerow(["" if value is None else value for value in row])
    finally:
        if file is not sys.stdout:
            file.close()


def run_reference(compute: Callable[[Path, Path], Iterable[Iterable[Any]]], doc: str) -> None:
    """The command line of a reference script: LOG PROFILE [--output FILE]."""
    parser = argparse.ArgumentParser(description=doc.split("\n", 1)[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    write_results(compute(args.log, args.profile), args.output)
