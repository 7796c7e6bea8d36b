"""The benchmark's pandas script: the same numbers as ``reference.sql``, in pandas.

    python bench/reference_pandas.py LOG PROFILE [--output FILE]

prints community-level numerators and denominators per month as CSV (see benchlib):
default answer lists, survey basis (spec 2.1-2.4). Needs ``pip install pandas`` (not a
dependency of svcmetrics). Like the SQL, it trusts its input (no validation).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
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


def read_log(log: Path, profile: pd.DataFrame) -> pd.DataFrame:
    """The log's rows in input order (``rn``) with their community id, day and month."""
    df = pd.read_csv(
        log,
        engine="pyarrow",
        dtype="str",
        usecols=["date", *TEXT_COLUMNS],
        keep_default_na=False,
        na_values=[""],
    )
    for column in TEXT_COLUMNS:
        df[column] = df[column].str.strip()
    named = profile.dropna(subset=["name"])
    keys = dict(zip(named["name"], named["community"], strict=True))
    keys.update({c: c for c in profile["community"]})
    df["community"] = df["community"].map(keys)
    df["day"] = pd.to_datetime(df["date"].str.strip(), format="%Y-%m-%d")
    df["month"] = df["day"].dt.to_period("M")
    df["rn"] = np.arange(len(df))
    return df.drop(columns="date").dropna(subset=["community"])


def classify(status: pd.Series) -> pd.Series:
    """Each survey answer → satisfied / not_satisfied / excluded (default lists, 1-5)."""
    text = status.str.lower()
    score = pd.to_numeric(status, errors="coerce")
    return pd.Series(
        np.select(
            [
                status.isna(),
                text.isin(SATISFIED_TEXT),
                text.isin(NOT_SATISFIED_TEXT),
                text.isin(EXCLUDED_TEXT),
                score.isin([4, 5]),
                score.isin([1, 2, 3]),
                (score < 1) | (score > 5),
            ],
            [
                "excluded",
                "satisfied",
                "not_satisfied",
                "excluded",
                "satisfied",
                "not_satisfied",
                "excluded",
            ],
            default="invalid",
        ),
        index=status.index,
    )


def compute(log: Path, profile_path: Path) -> list[tuple[object, ...]]:
    profile = pd.DataFrame(profile_rows(profile_path), columns=list(PROFILE_COLUMNS))
    df = read_log(log, profile)
    keys = ["community", "month"]

    # 2.1, 2.2: distinct ids / households
    def distinct(event: str, party: str, column: str) -> pd.Series:
        rows = df[(df["event"] == event) & (df["party"] == party)]
        return rows.groupby(keys, observed=True)[column].nunique()

    counts = {
        "resident_participation": distinct("participate", "resident", "id"),
        "unit_participation": distinct("participate", "unit", "id"),
        "resident_benefit": distinct("benefit", "resident", "household"),
        "unit_benefit": distinct("benefit", "unit", "id"),
    }

    # 2.3: a need is one (community, ticket), or one row; earliest date, latest state
    needs = df[df["event"] == "need"].sort_values(["day", "rn"])
    needs = needs.assign(need=needs["ticket"].radd("t").fillna("r" + needs["rn"].astype("str")))
    per_need = needs.groupby(["community", "need"], sort=False).agg(
        month=("month", "first"), state=("status", "last")
    )
    per_need["met"] = per_need["state"] == "met"
    need_counts = per_need.groupby(keys, observed=True)["met"].agg(["sum", "size"])

    # 2.4: drop excluded answers, then each respondent's latest answer per month
    surveys = df[df["event"] == "survey"]
    surveys = surveys.assign(answer=classify(surveys["status"]))
    surveys = surveys[surveys["answer"] != "excluded"].sort_values(["day", "rn"])
    latest = surveys.groupby([*keys, "party", "id"], sort=False)["answer"].last().reset_index()
    latest["satisfied"] = latest["answer"] == "satisfied"

    # the grid: every community, every month from the first to the last
    months = pd.period_range(df["month"].min(), df["month"].max(), freq="M")
    communities = list(dict.fromkeys(profile["community"]))
    grid = pd.MultiIndex.from_product([communities, months], names=keys)

    def on_grid(series: pd.Series) -> pd.Series:
        return series.reindex(grid, fill_value=0).astype("int64")

    numerators = {key: on_grid(series) for key, series in counts.items()}
    denominators: dict[str, pd.Series] = {}
    numerators["need_satisfaction"] = on_grid(need_counts["sum"])
    denominators["need_satisfaction"] = on_grid(need_counts["size"])
    for party, key in (("resident", "resident_satisfaction"), ("unit", "unit_satisfaction")):
        part = latest[latest["party"] == party].groupby(keys)["satisfied"].agg(["sum", "size"])
        numerators[key] = on_grid(part["sum"])
        denominators[key] = on_grid(part["size"])
    fields = {
        "resident_participation": "residents_capable",
        "unit_participation": "units",
        "resident_benefit": "households",
        "unit_benefit": "units",
    }
    values = profile_values(profile, months)
    # plain dicts: a Series lookup by (community, month) costs ~0.1 ms, a city has 420,000
    numbers = {key: series.to_dict() for key, series in numerators.items()}
    totals = {key: series.to_dict() for key, series in denominators.items()}
    out: list[tuple[object, ...]] = []
    for month in months:
        period = str(month)
        for community in communities:
            cell = (community, month)
            for key in INDICATORS:
                if key in fields:
                    denominator = values.get((community, month, fields[key]))
                else:
                    denominator = int(totals[key][cell])
                out.append((community, period, key, int(numbers[key][cell]), denominator))
    return out


def profile_values(
    profile: pd.DataFrame, months: pd.PeriodIndex
) -> dict[tuple[str, pd.Period, str], int]:
    """(community, month, field) → the latest value dated on or before the month's last
    day, else the earliest one (undated values count as dated long ago)."""
    series: dict[tuple[str, str], list[tuple[dt.date, int]]] = {}
    for community, field, as_of, value in profile[
        ["community", "field", "as_of", "value"]
    ].itertuples(index=False):
        series.setdefault((str(community), str(field)), []).append((as_of or dt.date.min, value))
    last_days = [(month, month.end_time.date()) for month in months]
    values: dict[tuple[str, pd.Period, str], int] = {}
    for (community, field), dated in series.items():
        dated.sort()
        for month, last_day in last_days:
            current = dated[0][1]
            for as_of, value in dated:
                if as_of <= last_day:
                    current = value
            values[(community, month, field)] = int(current)
    return values


if __name__ == "__main__":
    run_reference(compute, __doc__ or "")
