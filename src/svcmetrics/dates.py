"""Numeric dates with the year last: the one pattern the engine and the diagnosis share (pure)."""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

from svcmetrics.errors import Problem

DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d",
    "%Y年%m月%d日",
)
"""Dates accepted without a ``date_format``: none of them is ambiguous (year first)."""

EXCEL_EPOCH = dt.date(1899, 12, 30)
"""Day 0 of Excel's serial numbers (as Excel counts them after 1900-02-28)."""

EXCEL_SERIAL = r"^\d{5}(\.\d+)?$"
"""A date cell holding an Excel serial number (``46331``, ``46331.5``) instead of a date."""

NUMERIC_DATE = r"^(\d{1,2})([/.-])(\d{1,2})([/.-])(\d{4})"
"""A date written ``01/02/2026``: day or month, separator, month or day, separator, year.

DuckDB's ``regexp_extract`` (RE2) and Python's ``re`` read it alike; groups 1 and 3 are
the two parts that may be the day or the month.
"""
FIRST_PART = 1
SECOND_PART = 3
"""The groups of :data:`NUMERIC_DATE` holding the parts that may be the day or the month."""

_NUMERIC_DATE = re.compile(NUMERIC_DATE)


class AmbiguousDates(NamedTuple):
    """A source whose dates read both day first and month first (found by the engine)."""

    source: int
    """The source's index in the run's inputs."""
    line: int
    """The line of an example."""
    value: str
    """The example's date as written."""
    first: int
    """The largest first part of every such date of the source."""
    second: int
    """The largest second part."""


def _time_format(rest: str) -> str:
    """The strptime format of what follows a date (`` 12:00:03 AM``, `` 08:30``)."""
    rest = rest.strip()
    if not rest:
        return ""
    twelve = rest.upper().endswith(("AM", "PM"))
    clock = rest[:-2].strip() if twelve else rest
    parts = clock.count(":")
    hours = "%I" if twelve else "%H"
    text = " " + hours + (":%M:%S" if parts >= 2 else ":%M")
    return text + (" %p" if twelve else "")


def ambiguous_date_problem(found: AmbiguousDates, file: str, column: str) -> Problem:
    """A file whose dates read both as day/month/year and month/day/year (spec 1.2, 4).

    The problem shows an example row, both readings, and the format to set; when some
    first part is above 12 the file can only be day-first (and the other way round).
    """
    match = _NUMERIC_DATE.match(found.value)
    if match is None:  # the engine found it with the same pattern
        raise ValueError(found.value)
    a, first_separator, b, second_separator, year = match.groups()
    clock = _time_format(found.value[match.end() :])
    month_first = f"%m{first_separator}%d{second_separator}%Y{clock}"
    day_first = f"%d{first_separator}%m{second_separator}%Y{clock}"

    def reading(month: str, day: str) -> str:
        try:
            return dt.date(int(year), int(month), int(day)).isoformat()
        except ValueError:
            return "—"

    params = {
        "month_first": reading(a, b),
        "day_first": reading(b, a),
        "month_first_format": month_first,
        "day_first_format": day_first,
    }
    kind = "ambiguous_dates"
    if found.first > 12 >= found.second:  # some day comes first: the file is day-first
        kind, params["format"], params["reading"] = (
            "unstated_date_format",
            day_first,
            params["day_first"],
        )
    elif found.second > 12 >= found.first:
        kind, params["format"], params["reading"] = (
            "unstated_date_format",
            month_first,
            params["month_first"],
        )
    return Problem(
        kind=kind, file=file, line=found.line, column=column, value=found.value, params=params
    )
