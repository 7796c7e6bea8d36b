"""Dates of a warehouse table read in SQL (svcmetrics.warehouse.sqldates) as Python reads them:
every text, on DuckDB and in PostgreSQL's dialect, never an engine error."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from svcmetrics.compiler import render
from svcmetrics.dates import DATE_FORMATS
from svcmetrics.errors import UsageError
from svcmetrics.warehouse.sqldates import date_shape, parse_day


def _python(text: str, formats: list[str]) -> dt.date | None:
    for form in formats:
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def _sql(texts: list[str], date_format: str | None) -> list[dt.date | None]:
    shape = date_shape(date_format)
    values = exp.values([(exp.Literal.string(t),) for t in texts], alias="v", columns=["t"])
    select = exp.select(parse_day(exp.column("t"), shape)).from_(values)
    return [row[0] for row in duckdb.sql(render(select)).fetchall()]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("2026-02-29", None),
        ("1900-02-29", None),
        ("2000-02-29", dt.date(2000, 2, 29)),
        ("2026-11-31", None),
        ("2026-13-01", None),
        ("0000-01-01", None),
        ("2026年11月3日", dt.date(2026, 11, 3)),
        ("2026/11/03 08:30", dt.date(2026, 11, 3)),
        ("2026-11-03T08:30:00", dt.date(2026, 11, 3)),
        ("46331", None),
        ("03/11/2026", None),
        ("abc", None),
        ("2026-1-3", dt.date(2026, 1, 3)),
    ],
)
def test_default_formats(text: str, expected: dt.date | None) -> None:
    assert _sql([text], None) == [expected]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 9999), st.integers(0, 14), st.integers(0, 33), st.sampled_from("-/.")
        ),
        min_size=1,
        max_size=20,
    )
)
def test_year_first_texts_read_as_python_reads_them(parts: list[tuple[int, int, int, str]]) -> None:
    texts = [f"{y:04d}{sep}{m:02d}{sep}{d:02d}" for y, m, d, sep in parts]
    assert _sql(texts, None) == [_python(t, list(DATE_FORMATS)) for t in texts]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dates(min_value=dt.date(1, 1, 1)), min_size=1, max_size=10))
def test_day_first_format(days: list[dt.date]) -> None:
    texts = [f"{d.day}/{d.month:02d}/{d.year:04d}" for d in days]
    assert _sql(texts, "%d/%m/%Y") == days


@pytest.mark.parametrize("form", ["%Y%m%d", "%b %d %Y", "%d-%m"])
def test_formats_the_database_cannot_read_are_refused(form: str) -> None:
    with pytest.raises(UsageError):
        date_shape(form)


def test_the_postgres_rendering_has_no_unsafe_cast() -> None:
    # every cast of a part sits under the CASE that checked its shape
    sql = render(parse_day(exp.column("t"), date_shape(None)), "postgres")
    assert sql.startswith("CASE WHEN t ~ ")
