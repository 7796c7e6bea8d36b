"""The inputs of ``svcmetrics sql``'s query built from a log, its profile and config, with
compute's community numbers to compare (for tests/test_sql.py, tests/test_one_definition.py
and bench/spark_check.py), and a throwaway PostgreSQL server to run it on."""

from __future__ import annotations

import csv
import datetime as dt
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from svcmetrics.answers import answer_lists
from svcmetrics.config import load_config, load_profile
from svcmetrics.indicators import definitions
from svcmetrics.pipeline import Options, run
from svcmetrics.sqlexport import Dialect, query
from svcmetrics.stages import profile_values

FIELDS = ["date", "community", "event", "party", "id", "household", "status", "ticket",
          "service", "category"]  # fmt: skip
"""The columns of ``records``, then ``seq`` (the input order)."""

DDL = [
    "CREATE TABLE records (date DATE, community VARCHAR, event VARCHAR, party VARCHAR, "
    "id VARCHAR, household VARCHAR, status VARCHAR, ticket VARCHAR, service VARCHAR, "
    "category VARCHAR, seq BIGINT)",
    "CREATE TABLE periods (period VARCHAR, period_start DATE, period_end DATE)",
    "CREATE TABLE profile (community VARCHAR, field VARCHAR, as_of DATE, value BIGINT)",
]
"""The exported query's input tables."""

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
    communities = load_profile(profile, "p")[0].communities
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


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    """A throwaway PostgreSQL server on a free local port (skipped where none is installed,
    except in CI, where .ci/run installs it)."""
    psycopg = pytest.importorskip("psycopg")
    binaries = _postgres_bin()
    if binaries is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (.ci/run installs it)")
        pytest.skip("PostgreSQL is not installed")
    folder = Path(tempfile.mkdtemp(prefix="svcmetrics-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(folder, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    initdb = [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
    subprocess.run([*run_as, *initdb], check=True, capture_output=True)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    # throwaway data; no JIT: compiling the query takes seconds, running it milliseconds
    options += " -c synchronous_commit=off -c full_page_writes=off -c jit=off"
    start = [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l"]
    subprocess.run([*run_as, *start, str(folder / "log"), "start"], check=True, capture_output=True)
    try:
        for _ in range(50):
            try:
                connection = psycopg.connect(
                    host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
                )
                break
            except psycopg.OperationalError:
                time.sleep(0.2)
        yield connection
        connection.close()
    finally:
        subprocess.run([*run_as, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)
