"""The benchmark's hand-written DuckDB SQL: ``reference.sql`` over a CSV log and a profile.

    python bench/reference_sql.py LOG PROFILE [--output FILE]

prints community-level numerators and denominators per month as CSV (see benchlib).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
from benchlib import profile_rows, write_results

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    write_results(compute(args.log, args.profile), args.output)


if __name__ == "__main__":
    main()
