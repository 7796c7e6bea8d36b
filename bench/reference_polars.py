"""The benchmark's polars script: the same numbers as ``reference.sql``, in polars.

    python bench/reference_polars.py LOG PROFILE [--output FILE]

prints community-level numerators and denominators per month as CSV (see benchlib):
default answer lists, survey basis (spec 2.1-2.4). Needs ``pip install polars`` (not a
dependency of svcmetrics). Like the SQL, it trusts its input (no validation). The log is
scanned once, lazily (only the columns used, its row number as the input order), into a
frame that the three counting queries read; polars runs each on all cores.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from benchlib import (
    EXCLUDED_TEXT,
    INDICATORS,
    NOT_SATISFIED_TEXT,
    PROFILE_COLUMNS,
    SATISFIED_TEXT,
    TEXT_COLUMNS,
    profile_rows,
    run_reference,
)

KEYS = ("community", "month")
ORDER = ("day", "rn")
"""A later row is one with a later date, or the same date and later in the input."""
PROFILE_SCHEMA = dict(
    zip(PROFILE_COLUMNS, (pl.String, pl.String, pl.String, pl.Date, pl.Int64), strict=True)
)
DENOMINATOR_FIELDS = ("residents_capable", "households", "units")
COUNTS = {
    "resident_participation": ("res_part", "residents_capable"),
    "unit_participation": ("unit_part", "units"),
    "resident_benefit": ("res_benefit", "households"),
    "unit_benefit": ("unit_benefit", "units"),
    "need_satisfaction": ("met", "raised"),
    "resident_satisfaction": ("res_sat", "res_resp"),
    "unit_satisfaction": ("unit_sat", "unit_resp"),
}
"""Indicator → (numerator column, denominator column) of the wide table."""
COUNT_COLUMNS = tuple(
    column for pair in COUNTS.values() for column in pair if column not in DENOMINATOR_FIELDS
)
"""The columns counted from the log (0 when a community has no such row in a month)."""


def read_log(log: Path, profile: pl.DataFrame) -> pl.LazyFrame:
    """The log's rows (``rn``: input order) with their community id, day and month; text
    trimmed, blank → null; rows of unknown communities dropped."""
    keys = pl.concat(  # a log may name a community by its id or by its name
        [
            profile.select(key="community", community_id="community"),
            profile.drop_nulls("name").select(key="name", community_id="community"),
        ]
    ).unique()
    text = [pl.col(column).str.strip_chars() for column in TEXT_COLUMNS]
    return (
        pl.scan_csv(log, infer_schema=False)
        .select("date", *TEXT_COLUMNS)
        .with_row_index("rn")
        .with_columns(pl.when(column != "").then(column).name.keep() for column in text)
        .join(keys.lazy(), left_on="community", right_on="key", how="inner")
        .with_columns(day=pl.col("date").str.strip_chars().str.to_date("%Y-%m-%d"))
        .select(
            "rn",
            "day",
            pl.col("day").dt.truncate("1mo").alias("month"),
            pl.col("community_id").alias("community"),
            *TEXT_COLUMNS[1:],
        )
    )


def distinct_counts(recs: pl.LazyFrame) -> pl.LazyFrame:
    """2.1 participation, 2.2 benefit: distinct ids / households (nulls not counted)."""

    def distinct(event: str, party: str, column: str) -> pl.Expr:
        chosen = (pl.col("event") == event) & (pl.col("party") == party)
        return pl.col(column).filter(chosen).drop_nulls().n_unique()

    return (
        recs.filter(pl.col("event").is_in(["participate", "benefit"]))
        .group_by(KEYS)
        .agg(
            res_part=distinct("participate", "resident", "id"),
            unit_part=distinct("participate", "unit", "id"),
            res_benefit=distinct("benefit", "resident", "household"),
            unit_benefit=distinct("benefit", "unit", "id"),
        )
    )


def need_counts(recs: pl.LazyFrame) -> pl.LazyFrame:
    """2.3: a need is one (community, ticket), or one row without a ticket; it counts in
    the month of its earliest date, in the state of its latest row."""
    need = pl.coalesce(pl.lit("t") + pl.col("ticket"), pl.lit("r") + pl.col("rn").cast(pl.String))
    needs = (
        recs.filter(pl.col("event") == "need")
        .group_by("community", need.alias("need"))
        .agg(
            month=pl.col("day").min().dt.truncate("1mo"),
            state=pl.col("status").sort_by(ORDER).drop_nulls().last(),
        )
    )
    return needs.group_by(KEYS).agg(met=(pl.col("state") == "met").sum(), raised=pl.len())


def classify(status: pl.Expr) -> pl.Expr:
    """Each survey answer → satisfied / not_satisfied / excluded (default lists, 1-5);
    null when it is none of these (such a row is dropped, as the SQL drops it)."""
    text = status.str.to_lowercase()
    score = status.cast(pl.Float64, strict=False)
    return (
        pl.when(status.is_null())
        .then(pl.lit("excluded"))
        .when(text.is_in(SATISFIED_TEXT))
        .then(pl.lit("satisfied"))
        .when(text.is_in(NOT_SATISFIED_TEXT))
        .then(pl.lit("not_satisfied"))
        .when(text.is_in(EXCLUDED_TEXT))
        .then(pl.lit("excluded"))
        .when(score.is_in([4.0, 5.0]))
        .then(pl.lit("satisfied"))
        .when(score.is_in([1.0, 2.0, 3.0]))
        .then(pl.lit("not_satisfied"))
        .when((score < 1) | (score > 5) | score.is_nan())
        .then(pl.lit("excluded"))
    )


def survey_counts(recs: pl.LazyFrame) -> pl.LazyFrame:
    """2.4: excluded answers dropped, then each respondent's latest answer per month."""
    respondents = (
        recs.filter(pl.col("event") == "survey")
        .with_columns(answer=classify(pl.col("status")))
        .filter(pl.col("answer") != "excluded")
        .group_by(*KEYS, "party", "id")
        .agg(pl.col("answer").sort_by(ORDER).last())
    )
    resident = pl.col("party") == "resident"
    unit = pl.col("party") == "unit"
    satisfied = pl.col("answer") == "satisfied"
    return respondents.group_by(KEYS).agg(
        res_sat=(resident & satisfied).sum(),
        res_resp=resident.sum(),
        unit_sat=(unit & satisfied).sum(),
        unit_resp=unit.sum(),
    )


def denominators(profile: pl.DataFrame, grid: pl.LazyFrame) -> pl.LazyFrame:
    """Per (community, month) each profile field's value: the latest dated on or before
    the month's last day, else the earliest (undated values count as dated long ago)."""

    def value(field: str) -> pl.Expr:
        of_field = pl.col("field") == field
        latest = pl.col("value").filter(of_field & pl.col("in_force")).last()
        return pl.coalesce(latest, pl.col("value").filter(of_field).first()).alias(field)

    dated = profile.lazy().with_columns(pl.col("as_of").fill_null(dt.date.min)).sort("as_of")
    return (
        grid.join(dated.select("community", "field", "as_of", "value"), on="community")
        .with_columns(in_force=pl.col("as_of") <= pl.col("month").dt.month_end())
        .group_by(KEYS)
        .agg(value(field) for field in DENOMINATOR_FIELDS)
    )


def compute(log: Path, profile_path: Path) -> list[tuple[object, ...]]:
    """Every community and month from the first to the last month with a record, the seven
    indicators each: (community, period, indicator, numerator, denominator), sorted."""
    profile = pl.DataFrame(profile_rows(profile_path), schema=PROFILE_SCHEMA, orient="row")
    recs = read_log(log, profile).collect().lazy()  # read once, used by every count
    span = recs.select(first=pl.col("month").min(), last=pl.col("month").max()).collect()
    months = pl.date_range(span["first"][0], span["last"][0], "1mo", eager=True)
    communities = profile.select(pl.col("community").unique(maintain_order=True))
    grid = communities.lazy().join(pl.LazyFrame({"month": months}), how="cross")
    wide = grid
    for part in (distinct_counts(recs), need_counts(recs), survey_counts(recs)):
        wide = wide.join(part, on=KEYS, how="left")
    wide = (
        wide.with_columns(pl.col(COUNT_COLUMNS).fill_null(0).cast(pl.Int64))
        .join(denominators(profile, grid), on=KEYS, how="left")
        .with_columns(period=pl.col("month").dt.strftime("%Y-%m"))
    )
    results = pl.concat(
        wide.select(
            "community",
            "period",
            k=pl.lit(k),
            indicator=pl.lit(key),
            numerator=pl.col(COUNTS[key][0]),
            denominator=pl.col(COUNTS[key][1]).cast(pl.Int64),
        )
        for k, key in enumerate(INDICATORS)
    )
    ordered = results.sort("period", "community", "k").drop("k").collect()
    return ordered.rows()


if __name__ == "__main__":
    run_reference(compute, __doc__ or "")
