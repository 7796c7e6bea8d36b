"""The benchmark's hand-written DuckDB SQL: ``reference.sql`` over a CSV log and a profile.

    python bench/reference_sql.py LOG PROFILE [--output FILE]

prints community-level numerators and denominators per month as CSV (see benchlib).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from benchlib import profile_rows, run_reference

QUERY = (Path(__file__).parent / "reference.sql").read_text(encoding="utf-8")


def compute(log: Path, profile: Path) -> list[tuple[object, ...]]:
    """Run the query; the profile becomes a small table."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE profile (community VARCHAR, name VARCHAR, field VARCHAR, as_of DATE, "
        "value BIGINT)"
    )
    con.executemany("INSERT INTO profile VALUES (?, ?, ?, ?, ?)", profile_rows(profile))
    rows = con.execute(QUERY, {"log": str(log)}).fetchall()
    con.close()
    return rows


if __name__ == "__main__":
    run_reference(compute, __doc__ or "")
