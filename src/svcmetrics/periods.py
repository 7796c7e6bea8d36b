"""Period keys, spans and relative periods (pure functions over dates)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class PeriodKind(StrEnum):
    """How records are grouped in time."""

    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"
    YTD = "ytd"
    """1 January to the end of each month (1—N月累计), one window per month."""
    ALL = "all"


@dataclass(frozen=True)
class Period:
    """One period of the output: its label, the days it covers, and its calendar last day.

    ``start``/``end`` are clipped to the selected range; ``partial`` says they were.
    """

    label: str
    start: dt.date
    end: dt.date
    last_day: dt.date
    partial: bool = False


def _month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def calendar_period(kind: PeriodKind, day: dt.date) -> tuple[str, dt.date, dt.date]:
    """The label, first and last day of the calendar period (not ``all``) holding ``day``."""
    if kind is PeriodKind.MONTH:
        return (
            f"{day.year:04d}-{day.month:02d}",
            day.replace(day=1),
            _month_end(day.year, day.month),
        )
    if kind is PeriodKind.QUARTER:
        quarter = (day.month - 1) // 3 + 1
        first_month = 3 * quarter - 2
        return (
            f"{day.year:04d}-Q{quarter}",
            dt.date(day.year, first_month, 1),
            _month_end(day.year, first_month + 2),
        )
    if kind is PeriodKind.HALF:
        half = 1 if day.month <= 6 else 2
        return (
            f"{day.year:04d}-H{half}",
            dt.date(day.year, 6 * half - 5, 1),
            _month_end(day.year, 6 * half),
        )
    if kind is PeriodKind.YEAR:
        return f"{day.year:04d}", dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    if kind is PeriodKind.YTD:
        return (
            f"{day.year:04d}-01..{day.year:04d}-{day.month:02d}",
            dt.date(day.year, 1, 1),
            _month_end(day.year, day.month),
        )
    raise ValueError(f"no calendar period of kind {kind}")


def span(kind: PeriodKind, first: dt.date, last: dt.date, clip: bool = False) -> list[Period]:
    """Every period from the one holding ``first`` to the one holding ``last``.

    With ``clip``, ``first``..``last`` is a selected range: periods are cut to it and the
    cut ones flagged partial. A ``ytd`` window is never cut: its months are selected, and
    each reaches back to 1 January.
    """
    if kind is PeriodKind.ALL:
        return [Period(f"{first.isoformat()}..{last.isoformat()}", first, last, last)]
    periods: list[Period] = []
    day = first
    while day <= last:
        label, start, end = calendar_period(kind, day)
        cut = clip and kind is not PeriodKind.YTD
        cut_start, cut_end = (max(start, first), min(end, last)) if cut else (start, end)
        partial = (cut_start, cut_end) != (start, end)
        periods.append(Period(label, cut_start, cut_end, end, partial))
        if end >= dt.date.max:
            break
        day = end + dt.timedelta(days=1)
    return periods


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_month(text: str) -> tuple[dt.date, dt.date]:
    """``2026-11`` → its first and last day; ValueError when it is not a month."""
    match = _MONTH.match(text.strip())
    if not match:
        raise ValueError(text)
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1:
        raise ValueError(text)
    return dt.date(year, month, 1), _month_end(year, month)


def last_complete(kind: PeriodKind, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last complete month, quarter or year before ``today``."""
    if kind is PeriodKind.ALL:
        raise ValueError("`all` has no last complete period")
    _, start, _ = calendar_period(kind, today)
    if start <= dt.date.min:
        raise ValueError("no period before the first one of the calendar")
    previous = start - dt.timedelta(days=1)
    _, first, last = calendar_period(kind, previous)
    return first, last


def _whole(kind: PeriodKind, day: dt.date) -> Period:
    label, start, end = calendar_period(kind, day)
    return Period(label, start, end, end)


def previous_of(kind: PeriodKind, period: Period) -> Period | None:
    """The whole period before ``period`` (环比, spec 2.8): for ``ytd`` the window ending a
    month earlier in the same year (none for January); none for ``all``."""
    if kind is PeriodKind.ALL:
        return None
    if kind is PeriodKind.YTD:
        if period.last_day.month == 1:
            return None
        return _whole(kind, period.last_day.replace(day=1) - dt.timedelta(days=1))
    _, start, _ = calendar_period(kind, period.last_day)
    if start <= dt.date.min:
        return None
    return _whole(kind, start - dt.timedelta(days=1))


def year_before(kind: PeriodKind, period: Period) -> Period | None:
    """The whole period of the same kind one year before ``period`` (同比, spec 2.8):
    ``2025-11``, ``2025-Q4``, ``2025-H2``, ``2025``, ``2025-01..2025-11``; none for ``all``."""
    if kind is PeriodKind.ALL or period.last_day.year <= dt.MINYEAR:
        return None
    return _whole(kind, dt.date(period.last_day.year - 1, period.last_day.month, 1))


def plausible_window(
    start: dt.date | None, end: dt.date | None, today: dt.date
) -> tuple[dt.date, dt.date]:
    """The dates a record may have (``date_range`` of the config): from ``start`` (else
    1990-01-01) to ``end`` (else a year after ``today``)."""
    try:
        default_end = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        default_end = today.replace(year=today.year + 1, day=28)
    return start or dt.date(1990, 1, 1), end or default_end


def history_periods(
    kind: PeriodKind, first: Period, first_record: dt.date | None, count: int
) -> list[Period]:
    """Up to ``count`` whole periods of ``kind`` before ``first``, oldest first, back to the
    one holding ``first_record`` (none before the data, none for ``all``)."""
    if kind is PeriodKind.ALL or first_record is None:
        return []
    found: list[Period] = []
    day = first.start
    while len(found) < count:
        try:
            _, start, _ = calendar_period(kind, day)
        except ValueError:  # a kind without calendar periods
            return []
        if start <= dt.date.min or start <= first_record:
            break
        before = start - dt.timedelta(days=1)
        found.append(span(kind, before, before)[0])
        day = before
    return found[::-1]


class Compared(NamedTuple):
    """The labels of the periods a shown period is compared with (spec 2.8); None: none."""

    previous: str | None
    """The previous period (环比)."""
    year_before: str | None
    """The same period a year earlier (同比)."""


WHOLE = "#whole"
"""The label suffix of a comparison period counted whole because the range cut the shown one."""


def comparisons(
    kind: PeriodKind, periods: list[Period], first: dt.date | None, last: dt.date | None
) -> tuple[dict[str, Compared], list[Period]]:
    """Each shown period's previous period and the same period a year earlier (spec 2.8),
    and the periods to count for them besides those shown, in the same engine pass.

    A comparison period is always a whole calendar period: a shown one serves unless the
    range cut it, and one without any record (before ``first`` or after ``last``) is not
    counted at all (its rates are empty whatever it would give).
    """
    shown = {period.label: period for period in periods}
    hidden: dict[str, Period] = {}
    compared: dict[str, Compared] = {}
    for period in periods:
        labels: list[str | None] = []
        for other in (previous_of(kind, period), year_before(kind, period)):
            if other is None or first is None or last is None:
                labels.append(None)
                continue
            same = shown.get(other.label)
            if same is not None and not same.partial:
                labels.append(same.label)
                continue
            if same is not None:  # the shown one is cut: count the whole one apart
                other = Period(other.label + WHOLE, other.start, other.end, other.last_day)
            if other.end >= first and other.start <= last:
                hidden.setdefault(other.label, other)
            labels.append(other.label)
        compared[period.label] = Compared(labels[0], labels[1])
    return compared, list(hidden.values())
