"""Run svcmetrics' compiled query on a Spark Connect server and compare it with ``compute``.

    bench/spark_server.sh install && bench/spark_server.sh start   # Spark on localhost:15002
    pip install -e '.[spark,test]'      # the thin client, and the tests' data strategies
    python bench/spark_check.py                 # examples, random cases, a 1M-row log
    python bench/spark_check.py --rows 0        # without the generated log
    bench/spark_server.sh stop

Not a test (too heavy for CI; issue 14). Through ``svcmetrics.warehouse.spark`` (the client
``compute --engine sc://...`` uses), it runs ``sqlexport.query(..., Dialect.SPARK)``:

1. on the worked example (tests/data), ``examples/health``, the full-width case of issue 14
   and ``--random`` cases drawn from the property test of tests/test_one_definition.py
   (full-width scores, excluded answers, updated needs, dated denominators, user
   indicators, month/quarter/ytd periods): the input tables are uploaded as temporary
   views (``createDataFrame``) and every (community, period, indicator) numerator and
   denominator is compared with compute's; and the answer classes of that test file;
2. on a generated log of ``--rows`` rows (bench/generate.py, cached in bench/data/): the
   records are written as Parquet (community names mapped to ids, ``seq`` the file order),
   which Spark reads as a temporary view; the numbers are compared with the community rows
   of ``svcmetrics compute LOG --profile PROFILE -f csv``, and the time is split into
   upload, planning, execution and fetch;
3. ``svcmetrics compute --engine sc://...`` itself (the records as a global temporary view,
   ``global_temp.<name>``, that svcmetrics' own session reads): on ``examples/`` (months,
   and ``--period ytd --by service``), on it with one row of each kind of problem
   (``validate --engine`` finds what a local ``validate`` finds; ``--skip-invalid`` counts
   the same) and on the generated log: its CSV and stderr byte for byte those of a local run.

Exit status 1 when any number differs (the differing rows are printed).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from svcmetrics.config import load_profile
from svcmetrics.periods import parse_month
from svcmetrics.sqlexport import Dialect, query
from svcmetrics.stages import profile_values
from svcmetrics.warehouse import spark

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tables are built as the SQL tests build them
sys.path.insert(0, str(ROOT / "bench"))
import run as bench_run  # noqa: E402
from sqlcase import FIELDS, SqlCase, sql_case  # noqa: E402

WORKED = ROOT / "tests" / "data" / "worked-example"
HEALTH = ROOT / "examples" / "health"

RECORDS = "date DATE, " + ", ".join(f"{n} STRING" for n in FIELDS[1:]) + ", seq BIGINT"
PERIODS = "period STRING, period_start DATE, period_end DATE"
PROFILE = "community STRING, field STRING, as_of DATE, value BIGINT"
"""The exported query's input tables, as Spark schemas (sqlcase.DDL's columns)."""

Key = tuple[str, str, str]


def upload(session: Any, records: list[Any], periods: list[Any], profile: list[Any]) -> None:
    """The three input tables as temporary views of the session."""
    for name, rows, schema in (
        ("records", records, RECORDS),
        ("periods", periods, PERIODS),
        ("profile", profile, PROFILE),
    ):
        session.createDataFrame(rows, schema).createOrReplaceTempView(name)


def numbers(rows: list[tuple[Any, ...]]) -> dict[Key, tuple[int, int | None]]:
    return {(c, p, i): (n, d) for c, p, i, n, d, *_ in rows}


def differences(label: str, found: dict[Key, Any], expected: dict[Key, Any]) -> bool:
    """Print whether ``found`` equals ``expected``; True when it does."""
    differing = sorted(k for k in found.keys() | expected.keys() if found.get(k) != expected.get(k))
    if not differing:
        print(f"{label}: {len(expected)} results equal")
        return True
    print(f"{label}: {len(differing)} of {len(expected)} results differ")
    print("  community | period | indicator | spark (num, den) | compute (num, den)")
    for key in differing[:20]:
        print(f"  {' | '.join(key)} | {found.get(key, 'missing')} | {expected.get(key, 'missing')}")
    return False


def check_case(connection: Any, label: str, case: SqlCase) -> bool:
    upload(connection.session, case.records, case.periods, case.profile)
    return differences(
        label, numbers(connection.fetch(case.sql.rstrip().rstrip(";"))), case.expected
    )


def examples(connection: Any, random_cases: int) -> bool:
    """The small cases: examples, the full-width case, answer classes, random cases."""
    ok = check_case(
        connection,
        "worked example",
        sql_case(WORKED / "log.csv", WORKED / "profile.yaml", None, Dialect.SPARK),
    )
    ok = (
        check_case(
            connection,
            "health example",
            sql_case(
                HEALTH / "log.csv",
                HEALTH / "profile.yaml",
                HEALTH / "svcmetrics.yaml",
                Dialect.SPARK,
            ),
        )
        and ok
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hypothesis: .example() outside a test
        import test_one_definition as one
    from hypothesis import given, settings
    from sqlglot import exp

    from svcmetrics.answers import answer_lists
    from svcmetrics.compiler import classify, render
    from svcmetrics.models import SatisfactionConfig

    lists = answer_lists(SatisfactionConfig())
    tree = exp.select(exp.alias_(classify(exp.column("status"), lists), "cls"), "status")
    connection.session.createDataFrame(
        [(answer,) for answer in one.ANSWER_CLASSES], "status STRING"
    ).createOrReplaceTempView("answers")
    found = {s: c for c, s in connection.fetch(render(tree.from_("answers"), "spark"))}
    label = f"answer classes: {len(found)} answers"
    ok = found == one.ANSWER_CLASSES and ok
    print(f"{label} {'equal' if found == one.ANSWER_CLASSES else f'differ: {found}'}")

    def run_exported(label: str, exported: Any) -> bool:
        rows = connection.fetch(exported.sql(Dialect.SPARK).rstrip().rstrip(";"))
        return differences(label, numbers(rows), exported.expected)

    with tempfile.TemporaryDirectory(prefix="svcmetrics-spark-") as tmp:
        full_width = one._one(
            Path(tmp),
            [
                "2026-10-02,c1,survey,resident,r1,,满意,,",
                "2026-10-02,c1,survey,resident,r2,,４,,",
                "2026-10-02,c1,survey,resident,r3,,不满意,,",
            ],
            {"communities": [{"id": "c1", "residents": 10}]},
            {},
        )
        upload(connection.session, full_width.records, full_width.periods, full_width.profile)
        ok = run_exported("full-width ４ (2 of 3 satisfied)", full_width) and ok
        results: list[bool] = []

        @settings(max_examples=random_cases, deadline=None, database=None)
        @given(one.cases())
        def random_case(case: Any) -> None:
            records, profile, config, kind = case
            if not records:
                return
            folder = Path(tempfile.mkdtemp(dir=tmp))
            exported = one.Exported(folder, records, profile, config, kind)
            upload(connection.session, exported.records, exported.periods, exported.profile)
            number = len(results) + 1
            results.append(
                run_exported(f"random case {number} ({kind.value}, {len(records)} rows)", exported)
            )

        if random_cases:
            random_case()
        ok = all(results) and ok
    return ok


def records_parquet(log: Path, profile: Path, target: Path) -> int:
    """The log as the ``records`` table (a name of the profile becomes its id; ``seq`` is
    the row's place in the file), written as Parquet; its number of rows."""
    types = {name: pa.string() for name in FIELDS[1:]} | {"date": pa.date32()}
    table = pacsv.read_csv(
        log, convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
    )
    communities = load_profile(profile, "p")[0].communities
    names = [c.name for c in communities if c.name]
    ids = pa.array([c.id for c in communities if c.name])
    named = pc.take(ids, pc.index_in(table["community"], value_set=pa.array(names)))
    table = table.set_column(1, "community", pc.coalesce(named, table["community"]))
    table = table.append_column("seq", pa.array(range(table.num_rows), pa.int64()))
    pq.write_table(table.select([*FIELDS, "seq"]), target)
    return int(table.num_rows)


def compute_csv(log: Path, profile: Path) -> tuple[float, dict[Key, tuple[str, str]]]:
    """``svcmetrics compute``'s time and community numbers (as the CSV writes them)."""
    command = [
        sys.executable,
        "-m",
        "svcmetrics",
        "compute",
        str(log),
        "--profile",
        str(profile),
        "--format",
        "csv",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=True)
    wall = time.perf_counter() - started
    expected = {}
    for row in csv.DictReader(io.StringIO(done.stdout.decode("utf-8-sig"))):
        if row["level"] == "community":
            key = (row["community"], row["period"], row["indicator"])
            expected[key] = (row["numerator"], row["denominator"])
    return wall, expected


def large(connection: Any, rows: int, data: Path) -> bool:
    """The generated log: Spark's numbers against compute's, and where Spark's time goes."""
    log, profile = bench_run.dataset(rows, data, 50)
    local, expected = compute_csv(log, profile)
    print(f"{rows:,} rows: svcmetrics compute -f csv {local:.1f} s")
    session = connection.session
    with tempfile.TemporaryDirectory(prefix="svcmetrics-spark-") as tmp:
        started = time.perf_counter()
        parquet = Path(tmp) / "records.parquet"
        records_parquet(log, profile, parquet)
        written = time.perf_counter()
        session.read.parquet(str(parquet)).createOrReplaceTempView("records")
        periods = [(p, *parse_month(p)) for p in sorted({k[1] for k in expected})]
        communities = load_profile(profile, "p")[0].communities
        values = [(v.community, v.field, v.as_of, v.value) for v in profile_values(communities)]
        for name, table, schema in (("periods", periods, PERIODS), ("profile", values, PROFILE)):
            session.createDataFrame(table, schema).createOrReplaceTempView(name)
        uploaded = time.perf_counter()
        from svcmetrics.answers import answer_lists
        from svcmetrics.indicators import definitions
        from svcmetrics.models import Config

        sql = query(definitions(Config()), answer_lists(Config().satisfaction), Dialect.SPARK)
        sql = sql.rstrip().rstrip(";")
        first = time.perf_counter()
        found_rows = connection.fetch(sql)
        cold = time.perf_counter() - first
        with contextlib.redirect_stdout(io.StringIO()):
            started_plan = time.perf_counter()
            session.sql(sql).explain(mode="formatted")  # analysis, optimisation, physical plan
            planning = time.perf_counter() - started_plan
        started_run = time.perf_counter()
        session.sql(sql).write.format("noop").mode("overwrite").save()  # run, fetch nothing
        executed = time.perf_counter() - started_run
        started_fetch = time.perf_counter()
        connection.fetch(sql)
        warm = time.perf_counter() - started_fetch
    found = {k: (str(n), "" if d is None else str(d)) for k, (n, d) in numbers(found_rows).items()}
    ok = differences(f"{rows:,} rows on Spark", found, expected)
    print(f"  Parquet written (pyarrow, client side): {written - started:.1f} s")
    print(
        f"  upload (Spark reads the Parquet schema, periods and profile sent): "
        f"{uploaded - written:.1f} s"
    )
    print(
        f"  query, first run: {cold:.1f} s; again: {warm:.1f} s, of which planning "
        f"{planning:.1f} s, execution {executed - planning:.1f} s, fetching the "
        f"{len(found_rows):,} rows {max(warm - executed, 0.0):.1f} s"
    )
    return ok


def svcmetrics(
    folder: Path, *args: str, timings: Path | None = None
) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    """One run of the command line in ``folder``, and its time; with ``timings``, through
    :func:`timed_run`, which writes there the time of each query sent to the engine."""
    command = [sys.executable, "-m", "svcmetrics", *args]
    if timings is not None:
        command = [sys.executable, str(Path(__file__).resolve()), "--timed", str(timings), *args]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, check=False)
    return time.perf_counter() - started, done


def timed_run(timings: Path, args: list[str]) -> None:
    """``svcmetrics ARGS`` with each query that ``--engine`` sends timed: one line per
    query (seconds, rows, the svcmetrics function that sent it) written to ``timings``."""
    import inspect

    from svcmetrics.cli import main

    fetch, columns = spark.SparkConnection.fetch, spark.SparkConnection.columns
    lines: list[str] = []

    def caller() -> str:
        names = [f.function for f in inspect.stack()[2:6] if not f.function.startswith("_")]
        return " < ".join(names[:2])

    def timed_fetch(self: Any, sql: str) -> list[tuple[Any, ...]]:
        started = time.perf_counter()
        rows = fetch(self, sql)
        lines.append(f"{time.perf_counter() - started:8.1f} s {len(rows):8,} rows  {caller()}")
        return rows

    def timed_columns(self: Any, sql: str) -> list[str]:
        started = time.perf_counter()
        names = columns(self, sql)
        lines.append(f"{time.perf_counter() - started:8.1f} s  columns   {caller()}")
        return names

    spark.SparkConnection.fetch = timed_fetch  # type: ignore[method-assign]
    spark.SparkConnection.columns = timed_columns  # type: ignore[method-assign]
    try:
        main(args)
    finally:
        timings.write_text("\n".join(lines) + "\n", encoding="utf-8")


def text_table(session: Any, name: str, log: Path, folder: Path) -> str:
    """``log``'s rows as text columns and ``line`` (its file line), as the global temporary
    view ``name``: every session of the server sees it, svcmetrics' own too (a large log
    through a Parquet file in ``folder``)."""
    table = pacsv.read_csv(
        log, convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(FIELDS, pa.string()))
    )
    table = table.add_column(0, "line", pa.array(range(2, table.num_rows + 2), pa.int64()))
    if table.num_rows > 10_000:  # Spark reads a Parquet file; small tables travel inline
        pq.write_table(table, folder / f"{name}.parquet")
        frame = session.read.parquet(str(folder / f"{name}.parquet"))
    else:
        schema = ", ".join(
            f"`{c}` {'BIGINT' if c == 'line' else 'STRING'}" for c in table.column_names
        )
        frame = session.createDataFrame([tuple(r.values()) for r in table.to_pylist()], schema)
    frame.createOrReplaceGlobalTempView(name)
    return f"global_temp.{name}"


def engine_config(folder: Path, table: str, profile: Path, config: Path | None) -> Path:
    """``config`` (or none) with ``warehouse:`` naming ``table`` and its logs left out."""
    import yaml

    data = (yaml.safe_load(config.read_text(encoding="utf-8")) if config else None) or {}
    data.pop("logs", None)
    data["profile"] = str(profile.resolve())
    data["warehouse"] = {"records": table, "order": "line"}
    out = folder / f"{table.split('.')[-1]}.yaml"
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


def same_output(
    label: str,
    local: subprocess.CompletedProcess[bytes],
    remote: subprocess.CompletedProcess[bytes],
    stderr: bool = True,
) -> bool:
    """Whether ``--engine``'s CSV (and stderr: not where problems are listed, whose
    locations differ by nature) are byte for byte the local run's."""
    if remote.returncode != local.returncode:
        tail = remote.stderr.decode(errors="replace")[-2000:]
        print(f"{label}: exit {remote.returncode}, local {local.returncode}\n{tail}")
        return False
    equal = remote.stdout == local.stdout and (not stderr or remote.stderr == local.stderr)
    lines = local.stdout.count(b"\n")
    same = "CSV and stderr equal" if stderr else "CSV equal"
    print(f"{label}: {same if equal else 'OUTPUT DIFFERS'} ({lines:,} lines)")
    return equal


def engine_runs(connection: Any, url: str, rows: int, data: Path) -> bool:
    """``svcmetrics compute/validate --engine`` against local runs (part 3)."""
    from test_warehouse import BAD_ROWS

    session = connection.session
    examples_dir = ROOT / "examples"
    with tempfile.TemporaryDirectory(prefix="svcmetrics-spark-") as tmp:
        folder = Path(tmp)
        table = text_table(session, "svcmetrics_example", examples_dir / "log.csv", folder)
        config = engine_config(
            folder, table, examples_dir / "profile.yaml", examples_dir / "svcmetrics.yaml"
        )
        ok = True
        for extra in ([], ["--period", "ytd", "--by", "service"]):
            args = ["-f", "csv", *extra]
            _, local = svcmetrics(examples_dir, "compute", "-c", "svcmetrics.yaml", *args)
            took, remote = svcmetrics(folder, "compute", "-c", str(config), "--engine", url, *args)
            ok = (
                same_output(
                    f"examples {' '.join(extra) or 'by month'} --engine ({took:.1f} s)",
                    local,
                    remote,
                )
                and ok
            )
        header, *body = list(csv.reader((examples_dir / "log.csv").open(encoding="utf-8")))
        bad_log = folder / "bad.csv"
        with bad_log.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(
                [header, *body[:40], *BAD_ROWS, *body[40:]]
            )
        bad = engine_config(
            folder,
            text_table(session, "svcmetrics_bad", bad_log, folder),
            examples_dir / "profile.yaml",
            examples_dir / "svcmetrics.yaml",
        )
        profile = str(examples_dir / "profile.yaml")
        _, local = svcmetrics(
            folder, "validate", str(bad_log), "-p", profile, "-f", "json", "--lang", "en"
        )
        _, remote = svcmetrics(
            folder, "validate", "-c", str(bad), "--engine", url, "-f", "json", "--lang", "en"
        )
        import json

        mine, theirs = json.loads(remote.stdout or b"{}"), json.loads(local.stdout)
        keys = ("rows", "errors", "warnings", "by_kind")
        equal = remote.returncode == local.returncode and all(
            mine.get(k) == theirs[k] for k in keys
        )
        print(
            f"validate --engine, a row of each problem: {'same' if equal else 'DIFFERENT'} "
            f"counts per kind {mine.get('by_kind')}"
        )
        ok = equal and ok
        skip = ["--skip-invalid", "-f", "csv"]
        _, local = svcmetrics(
            folder, "compute", str(bad_log), "-c", str(examples_dir / "svcmetrics.yaml"), *skip
        )
        _, remote = svcmetrics(folder, "compute", "-c", str(bad), "--engine", url, *skip)
        ok = same_output("compute --engine --skip-invalid", local, remote, stderr=False) and ok
        if rows:
            log, profile_file = bench_run.dataset(rows, data, 50)
            started = time.perf_counter()
            table = text_table(session, f"svcmetrics_rows_{rows}", log, folder)
            uploaded = time.perf_counter() - started
            config = engine_config(folder, table, profile_file, None)
            local_time, local = svcmetrics(
                folder, "compute", str(log), "--profile", str(profile_file), "-f", "csv"
            )
            timings = folder / "timings.txt"
            took, remote = svcmetrics(
                folder, "compute", "-c", str(config), "--engine", url, "-f", "csv",
                timings=timings,
            )  # fmt: skip
            # stderr lists the log's duplicates by file line, the table's by key: not compared
            ok = same_output(f"{rows:,} rows --engine", local, remote, stderr=False) and ok
            print("  the queries compute --engine sent (seconds, rows fetched, sent by):")
            print("".join(f"  {line}\n" for line in timings.read_text().splitlines()), end="")
            print(
                f"  Parquet written and read by Spark {uploaded:.1f} s; compute --engine "
                f"{took:.1f} s (checks and counts in Spark, the report here); local "
                f"compute {local_time:.1f} s"
            )
    return ok


def main() -> int:
    if sys.argv[1:2] == ["--timed"]:
        timed_run(Path(sys.argv[2]), sys.argv[3:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default="sc://localhost:15002")
    parser.add_argument("--rows", type=int, default=1_000_000, help="0: no generated log")
    parser.add_argument("--random", type=int, default=10, help="random cases (default 10)")
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--no-engine", action="store_true", help="skip compute --engine")
    parser.add_argument("--no-query", action="store_true", help="only compute --engine")
    args = parser.parse_args()
    os.chdir(ROOT)  # the examples' configs name files relative to the repository
    started = time.perf_counter()
    try:
        connection = spark.connect(args.url)
    except spark.WarehouseError as error:
        print(f"{error.refusal.value}: {error.params}", file=sys.stderr)
        return 2
    try:
        session = connection.session
        print(
            f"Spark {session.version} at {args.url} "
            f"(ANSI mode {session.conf.get('spark.sql.ansi.enabled')}), "
            f"connected in {time.perf_counter() - started:.1f} s"
        )
        ok = True
        if not args.no_query:
            ok = examples(connection, args.random)
        if args.rows and not args.no_query:
            ok = large(connection, args.rows, args.data) and ok
        if not args.no_engine:
            ok = engine_runs(connection, args.url, args.rows, args.data) and ok
    finally:
        connection.close()
    print(f"total {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
