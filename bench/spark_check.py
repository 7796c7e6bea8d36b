"""Run ``svcmetrics sql --dialect spark`` on a local Spark over Parquet (issue 7).

    pip install pyspark          # needs Java 17 or later on PATH (or JAVA_HOME)
    python bench/spark_check.py

For the worked example (``../shared/worked-example``, when present) and
``examples/health``: build the three input tables the query reads (``records`` with the
``seq`` input-order column, ``periods``, ``profile`` in long form) with ``tests/sqlcase.py``,
as ``tests/test_sql.py`` does, write them as Parquet files in a temporary folder, register
them as temporary views in a local SparkSession (``local[1]``, no UI), run the printed Spark
query and compare every (community, period, indicator) numerator and denominator with
``svcmetrics compute``'s community results. Prints one line per input; exit status 1 when
any number differs (the differing rows are printed).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import SparkSession

from svcmetrics.sqlexport import Dialect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tables are built as the SQL tests build them
from sqlcase import FIELDS, Key, Numbers, sql_case  # noqa: E402

WORKED = Path(__file__).resolve().parents[2] / "shared" / "worked-example"
HEALTH = ROOT / "examples" / "health"

RECORDS = pa.schema(
    [("date", pa.date32())] + [(name, pa.string()) for name in FIELDS[1:]] + [("seq", pa.int64())]
)
PERIODS = pa.schema(
    [("period", pa.string()), ("period_start", pa.date32()), ("period_end", pa.date32())]
)
PROFILE = pa.schema([("community", pa.string()), ("field", pa.string()), ("as_of", pa.date32()),
                    ("value", pa.int64())])  # fmt: skip


def build(
    log: Path, profile: Path, config: Path | None, folder: Path
) -> tuple[str, dict[Key, Numbers]]:
    """Write records/periods/profile Parquet files into ``folder``; return (Spark query,
    compute's community numbers)."""
    case = sql_case(log, profile, config, Dialect.SPARK)
    for name, rows, schema in (
        ("records", case.records, RECORDS),
        ("periods", case.periods, PERIODS),
        ("profile", case.profile, PROFILE),
    ):
        table = pa.Table.from_pylist([dict(zip(schema.names, row, strict=True)) for row in rows],
                                     schema=schema)  # fmt: skip
        pq.write_table(table, folder / f"{name}.parquet")
    return case.sql.strip().rstrip(";"), case.expected


def spark_session() -> SparkSession:
    return (
        SparkSession.builder.master("local[1]")
        .appName("svcmetrics-spark-check")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "512m")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def check(
    spark: SparkSession, label: str, folder: Path, sql: str, expected: dict[Key, Numbers]
) -> bool:
    for name in ("records", "periods", "profile"):
        spark.read.parquet(str(folder / f"{name}.parquet")).createOrReplaceTempView(name)
    rows = spark.sql(sql).collect()
    found = {(r["community"], r["period"], r["indicator"]): (r["numerator"], r["denominator"])
             for r in rows}  # fmt: skip
    differing = sorted(
        key for key in found.keys() | expected.keys() if found.get(key) != expected.get(key)
    )
    if len(rows) != len(found):
        print(f"{label}: {len(rows)} rows but {len(found)} distinct keys")
        return False
    if differing:
        print(f"{label}: {len(differing)} of {len(expected)} results differ")
        print("  community | period | indicator | spark (num, den) | compute (num, den)")
        for key in differing:
            print(f"  {' | '.join(key)} | {found.get(key, 'missing')} | "
                  f"{expected.get(key, 'missing')}")  # fmt: skip
        return False
    print(f"{label}: {len(expected)} results equal")
    return True


def main() -> int:
    os.chdir(ROOT)
    inputs: list[tuple[str, Path, Path, Path | None]] = []
    if WORKED.is_dir():
        inputs.append(("worked example", WORKED / "log.csv", WORKED / "profile.yaml", None))
    else:
        print(f"worked example: skipped ({WORKED} is absent)")
    inputs.append(("health example", HEALTH / "log.csv", HEALTH / "profile.yaml",
                   HEALTH / "svcmetrics.yaml"))  # fmt: skip
    started = time.perf_counter()
    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    print(f"Spark {spark.version} (local[1]), started in {time.perf_counter() - started:.1f} s")
    ok = True
    scratch = Path(tempfile.mkdtemp(prefix="svcmetrics-spark-"))
    try:
        for number, (label, log, profile, config) in enumerate(inputs):
            folder = scratch / str(number)
            folder.mkdir()
            sql, expected = build(log, profile, config, folder)
            ok = check(spark, label, folder, sql, expected) and ok
    finally:
        spark.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"total {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
