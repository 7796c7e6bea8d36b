"""``compute --engine URL`` and ``validate --engine URL`` (spec 5.2): the same records in a
throwaway PostgreSQL server and in a DuckDB file give the local run's CSV byte for byte, the
same problems, clear refusals (exit 3), no password in any output and no write."""

from __future__ import annotations

import csv
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from clihelp import run_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlcase import postgres
from strategies import COUNT_FIELDS, WIDE_ANSWERS, profiles, records_for, write_csv, write_profile

__all__ = ["postgres"]  # the fixture, imported

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _columns(log: Path) -> tuple[list[str], list[list[str]]]:
    with log.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def load_postgres(connection: Any, table: str, log: Path) -> None:
    """``ledger.<table>`` holding ``log``'s rows as text, and ``line`` (its file line)."""
    header, rows = _columns(log)
    columns = ", ".join(f'"{name}" TEXT' for name in header)
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA IF NOT EXISTS ledger")
        cursor.execute(f"DROP TABLE IF EXISTS ledger.{table}")
        cursor.execute(f"CREATE TABLE ledger.{table} (line BIGINT, {columns})")
        marks = ", ".join(["%s"] * (len(header) + 1))
        cursor.executemany(
            f"INSERT INTO ledger.{table} VALUES ({marks})",
            [[number + 2, *row] for number, row in enumerate(rows)],
        )


def load_duckdb(path: Path, table: str, log: Path) -> None:
    """The same table in a DuckDB file."""
    header, rows = _columns(log)
    con = duckdb.connect(str(path))
    columns = ", ".join(f'"{name}" VARCHAR' for name in header)
    con.execute("CREATE SCHEMA IF NOT EXISTS ledger")
    con.execute(f"CREATE OR REPLACE TABLE ledger.{table} (line BIGINT, {columns})")
    marks = ", ".join(["?"] * (len(header) + 1))
    if rows:
        con.executemany(
            f"INSERT INTO ledger.{table} VALUES ({marks})",
            [[number + 2, *row] for number, row in enumerate(rows)],
        )
    con.close()


def url_of(connection: Any, password: str | None = None) -> str:
    info = connection.info
    secret = f":{password}" if password else ""
    return f"postgresql://{info.user}{secret}@{info.host}:{info.port}/{info.dbname}"


def warehouse_config(config: Path, folder: Path, table: str, profile: Path | None) -> Path:
    """``config`` with ``warehouse:`` naming ``ledger.<table>`` and its logs left out."""
    data = yaml.safe_load(config.read_text(encoding="utf-8")) if config.exists() else {}
    data = data or {}
    data.pop("logs", None)
    if profile is not None:
        data["profile"] = str(profile)
    data["warehouse"] = {"records": f"ledger.{table}", "order": "line"}
    out = folder / f"{table}.yaml"
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


def _tables(connection: Any) -> list[tuple[Any, ...]]:
    """The write counts of every table, this session's own writes included: a session's
    counts reach the shared statistics in a flush at most once a second, so a count read
    just after loading could still grow by the rows loaded (the test would then blame the
    run for them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # at the end of this statement
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT schemaname, relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
            "ORDER BY 1, 2"
        )
        return list(cursor.fetchall())


# -- the example: byte for byte -------------------------------------------------------------------


@pytest.fixture(scope="module")
def example(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("warehouse")
    load_postgres(postgres, "service_records", EXAMPLES / "log.csv")
    load_duckdb(folder / "city.duckdb", "service_records", EXAMPLES / "log.csv")
    config = warehouse_config(
        EXAMPLES / "svcmetrics.yaml", folder, "service_records", EXAMPLES / "profile.yaml"
    )
    return {"folder": folder, "config": config, "url": url_of(postgres)}


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("engine", ["postgresql", "duckdb"])
def test_engine_output_equals_the_local_run(
    example: dict[str, Any], postgres: Any, engine: str, fmt: str
) -> None:
    folder = example["folder"]
    url = example["url"] if engine == "postgresql" else f"duckdb:///{folder / 'city.duckdb'}"
    before = _tables(postgres)
    local = run_in(EXAMPLES, ["compute", "-c", "svcmetrics.yaml", "-f", fmt])
    remote = run_in(folder, ["compute", "-c", str(example["config"]), "--engine", url, "-f", fmt])
    assert local.returncode == remote.returncode == 0, remote.stderr
    if fmt == "csv":
        assert remote.stdout == local.stdout
    else:
        mine, theirs = json.loads(remote.stdout), json.loads(local.stdout)
        assert mine["results"] == theirs["results"]
        assert mine["meta"]["rows"] == theirs["meta"]["rows"] == 136
    assert remote.stderr == local.stderr  # the same notices
    assert _tables(postgres) == before  # nothing written


def test_by_service_and_ytd_equal_the_local_run(example: dict[str, Any]) -> None:
    args = ["--period", "ytd", "--by", "service", "-f", "csv"]
    local = run_in(EXAMPLES, ["compute", "-c", "svcmetrics.yaml", *args])
    remote = run_in(
        example["folder"],
        ["compute", "-c", str(example["config"]), "--engine", example["url"], *args],
    )
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout


# -- problems found in the engine ------------------------------------------------------------------

BAD_ROWS = [
    ["2026-13-01", "jianguo", "participate", "resident", "R1", "", "", "", "", ""],
    ["2026-02-30", "jianguo", "participate", "resident", "R2", "", "", "", "", ""],
    ["2026-10-02", "nowhere", "participate", "resident", "R3", "", "", "", "", ""],
    ["2026-10-02", "jianguo", "visit", "resident", "R4", "", "", "", "", ""],
    ["2026-10-02", "jianguo", "participate", "resident", "", "", "", "", "", ""],
    ["2026-10-03", "gongle", "survey", "resident", "R5", "", "so-so", "", "", ""],
    ["2026-10-03", "gongle", "survey", "resident", "R5", "", "so-so", "", "", ""],
    ["2030-01-01", "gongle", "participate", "resident", "R6", "", "", "", "", ""],
    ["1990-01-01", "gongle", "participate", "resident", "R7", "", "", "", "", ""],
    ["2026-10-04", "gongle", "participate", "resident", "1.1E+17", "", "", "", "", ""],
]
"""One row of each kind of problem (and a repeated one)."""


@pytest.fixture(scope="module")
def bad(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("bad")
    header, rows = _columns(EXAMPLES / "log.csv")
    log = folder / "log.csv"
    with log.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows[:40] + BAD_ROWS + rows[40:])
    load_postgres(postgres, "bad_records", log)
    config = warehouse_config(
        EXAMPLES / "svcmetrics.yaml", folder, "bad_records", EXAMPLES / "profile.yaml"
    )
    return {"folder": folder, "log": log, "config": config, "url": url_of(postgres)}


def test_validate_finds_the_same_problems(bad: dict[str, Any]) -> None:
    today = ["--lang", "en"]
    local = run_in(
        bad["folder"],
        ["validate", str(bad["log"]), "-p", str(EXAMPLES / "profile.yaml"), "-f", "json", *today],
    )
    remote = run_in(
        bad["folder"],
        ["validate", "-c", str(bad["config"]), "--engine", bad["url"], "-f", "json", *today],
    )
    assert remote.returncode == local.returncode == 3, (remote.stderr, local.stderr)
    mine, theirs = json.loads(remote.stdout), json.loads(local.stdout)
    for key in ("rows", "errors", "warnings", "by_kind"):
        assert mine[key] == theirs[key], key
    kinds = {problem["kind"] for problem in mine["problems"]}
    assert {"bad_date", "unknown_community", "bad_value", "missing_value", "bad_answer",
            "duplicate_row", "future_date", "date_out_of_range", "mangled_id"} <= kinds  # fmt: skip
    # a row is named by its key column (``order``), not by a file line
    first = next(p for p in mine["problems"] if p["kind"] == "unknown_community")
    assert first["file"] == "ledger.bad_records (line=44)"
    assert first["value"] == "nowhere"
    duplicate = next(p for p in mine["problems"] if p["kind"] == "duplicate_row")
    assert "ledger.bad_records (line=47)" in duplicate["message"]


def test_skip_invalid_counts_what_the_local_run_counts(bad: dict[str, Any]) -> None:
    args = ["--skip-invalid", "-f", "csv"]
    local = run_in(
        bad["folder"],
        ["compute", str(bad["log"]), "-c", str(EXAMPLES / "svcmetrics.yaml"), *args],
    )
    remote = run_in(
        bad["folder"], ["compute", "-c", str(bad["config"]), "--engine", bad["url"], *args]
    )
    assert remote.returncode == local.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout


# -- refusals: exit 3, a message, never a traceback or a password ----------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_server_is_exit_3_without_the_password(example: dict[str, Any]) -> None:
    url = f"postgresql://ana:s3cret-pw@127.0.0.1:{_free_port()}/city"
    done = run_in(example["folder"], ["compute", "-c", str(example["config"]), "--engine", url])
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert "s3cret-pw" not in done.stderr + done.stdout
    assert "postgresql://ana:***@127.0.0.1" in done.stderr


def test_refused_login_names_no_password(example: dict[str, Any], postgres: Any) -> None:
    info = postgres.info
    url = f"postgresql://nobody:s3cret-pw@{info.host}:{info.port}/{info.dbname}"
    done = run_in(
        example["folder"],
        ["compute", "-c", str(example["config"]), "--engine", url, "--lang", "en", "-v"],
    )
    assert done.returncode == 3
    assert "refused the login" in done.stderr
    assert "s3cret-pw" not in done.stderr + done.stdout


def test_password_is_not_in_json_meta_nor_verbose(example: dict[str, Any], postgres: Any) -> None:
    # (the throwaway server trusts local logins: the password is accepted and ignored)
    url = url_of(postgres, password="s3cret-pw")
    done = run_in(
        example["folder"],
        ["compute", "-c", str(example["config"]), "--engine", url, "-f", "json", "-v"],
    )
    assert done.returncode == 0, done.stderr
    assert "s3cret-pw" not in done.stdout + done.stderr
    meta = json.loads(done.stdout)["meta"]
    assert meta["inputs"] == [f"{url.replace('s3cret-pw', '***')} ledger.service_records"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"records": "ledger.no_such_table"}, "has no such table"),
        ({"order": "no_such_column"}, "a column is missing"),
    ],
)
def test_missing_table_or_column_is_exit_3(
    example: dict[str, Any], change: dict[str, str], message: str
) -> None:
    data = yaml.safe_load(example["config"].read_text(encoding="utf-8"))
    data["warehouse"].update(change)
    config = example["folder"] / "changed.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    done = run_in(
        example["folder"],
        ["compute", "-c", str(config), "--engine", example["url"], "--lang", "en"],
    )
    assert done.returncode == 3
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_role_without_select_is_a_permission_error(
    example: dict[str, Any], postgres: Any
) -> None:
    with postgres.cursor() as cursor:
        cursor.execute("DROP ROLE IF EXISTS clerk")
        cursor.execute("CREATE ROLE clerk LOGIN")
    info = postgres.info
    url = f"postgresql://clerk@{info.host}:{info.port}/{info.dbname}"
    done = run_in(
        example["folder"],
        ["compute", "-c", str(example["config"]), "--engine", url, "--lang", "en"],
    )
    assert done.returncode == 3
    assert "does not allow reading" in done.stderr


def test_missing_warehouse_section_and_logs_with_engine(example: dict[str, Any]) -> None:
    url = example["url"]
    done = run_in(EXAMPLES, ["compute", "-c", "svcmetrics.yaml", "--engine", url, "--lang", "en"])
    assert done.returncode == 3
    assert "needs a warehouse: section" in done.stderr
    done = run_in(
        EXAMPLES,
        ["compute", "log.csv", "-c", str(example["config"]), "--engine", url, "--lang", "en"],
    )
    assert done.returncode == 2
    assert "log files cannot be given" in done.stderr


def test_unknown_scheme_is_a_usage_error(example: dict[str, Any]) -> None:
    done = run_in(
        example["folder"],
        ["compute", "-c", str(example["config"]), "--engine", "mysql://a:pw@h/db"],
    )
    assert done.returncode == 2
    assert "pw@" not in done.stderr


def test_help_loads_no_database_driver() -> None:
    code = "import sys; from svcmetrics.cli import main\n"
    code += "try:\n    main(['compute', '--help'])\nexcept SystemExit:\n    pass\n"
    code += "print(sorted(m for m in ('psycopg', 'pyspark') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


# -- the property: every path gives the same CSV ---------------------------------------------------


@st.composite
def cases(draw: st.DrawFn) -> tuple[Any, Any, str]:
    profile = draw(profiles(fields=COUNT_FIELDS, dated=True))
    ids = [community["id"] for community in profile["communities"]]
    records = draw(records_for(ids, min_records=1, answers=WIDE_ANSWERS))
    period = draw(st.sampled_from(("month", "quarter", "ytd")))
    return records, profile, period


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cases())
def test_local_and_engine_runs_give_the_same_csv(
    tmp_path_factory: pytest.TempPathFactory, postgres: Any, case: tuple[Any, Any, str]
) -> None:
    records, profile, period = case
    folder = tmp_path_factory.mktemp("case")
    log = write_csv(records, folder / "log.csv")
    profile_file = write_profile(profile, folder / "profile.yaml")
    load_postgres(postgres, "generated", log)
    load_duckdb(folder / "case.duckdb", "generated", log)
    config = warehouse_config(folder / "none.yaml", folder, "generated", profile_file)
    args = ["--period", period, "-f", "csv", "--skip-invalid"]
    local = run_in(folder, ["compute", str(log), "-p", str(profile_file), *args])
    for url in (url_of(postgres), f"duckdb:///{folder / 'case.duckdb'}"):
        remote = run_in(folder, ["compute", "-c", str(config), "--engine", url, *args])
        assert (remote.returncode, remote.stdout) == (local.returncode, local.stdout), (
            url.split(":")[0],
            remote.stderr,
        )
    shutil.rmtree(folder, ignore_errors=True)


# -- a table as a database keeps it: typed columns, NULLs, a profile table -------------------------


PROFILE_ROWS = [
    ["jianguo", "建国社区", "daoli-street", 480, 150, 176, 16],
    ["gongle", "共乐社区", "daoli-street", 320, 100, 130, 11],
]
PARENTS = [
    {"id": "daoli-street", "name": "道里街道", "parent": "daoli-district"},
    {"id": "daoli-district", "name": "道里区"},
]


def test_typed_columns_nulls_and_a_profile_table(postgres: Any, tmp_path: Path) -> None:
    """DATE dates, numeric ids, NULL and blank alike, Chinese headers, day-first text dates
    in another table, and the profile in a table: the same CSV as the local run."""
    header, rows = _columns(EXAMPLES / "log.csv")
    with postgres.cursor() as cursor:
        cursor.execute("CREATE SCHEMA IF NOT EXISTS ledger")
        cursor.execute("DROP TABLE IF EXISTS ledger.typed, ledger.dayfirst, ledger.communities")
        cursor.execute(
            'CREATE TABLE ledger.typed (seq INTEGER, "日期" DATE, "社区" TEXT, "类型" TEXT, '
            '"对象" TEXT, "编号" TEXT, "户号" TEXT, status TEXT, ticket TEXT, service TEXT, '
            "category TEXT)"
        )
        cursor.execute("CREATE TABLE ledger.dayfirst (day TEXT, LIKE ledger.typed)")
        cursor.execute('ALTER TABLE ledger.dayfirst DROP COLUMN "日期"')
        for number, row in enumerate(rows):
            # blanks as NULL in every other row, '' in the others
            cells = [None if (cell == "" and number % 2) else cell for cell in row]
            cursor.execute(
                "INSERT INTO ledger.typed VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [number, *cells],
            )
            year, month, day = row[0].split("-")
            cursor.execute(
                'INSERT INTO ledger.dayfirst (seq, day, "社区", "类型", "对象", "编号", '
                '"户号", status, ticket, service, category) '
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [number, f"{int(day)}/{month}/{year}", *cells[1:]],
            )
        cursor.execute(
            'CREATE TABLE ledger.communities ("社区编号" TEXT, "名称" TEXT, parent TEXT, '
            "residents BIGINT, residents_capable BIGINT, households BIGINT, units BIGINT)"
        )
        for row in PROFILE_ROWS:
            cursor.execute(
                "INSERT INTO ledger.communities VALUES (%s, %s, %s, %s, %s, %s, %s)", row
            )
    profile_csv = tmp_path / "profile.csv"
    with profile_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["社区编号", "名称", "parent", "residents", "residents_capable",
                         "households", "units"])  # fmt: skip
        writer.writerows(PROFILE_ROWS)
    config = yaml.safe_load((EXAMPLES / "svcmetrics.yaml").read_text(encoding="utf-8"))
    config.pop("logs")
    config.pop("profile")
    config["parents"] = PARENTS
    local_config = tmp_path / "local.yaml"
    local_config.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    local = run_in(
        tmp_path,
        ["compute", str(EXAMPLES / "log.csv"), "-c", str(local_config), "-p", str(profile_csv),
         "-f", "csv"],
    )  # fmt: skip
    assert local.returncode == 0, local.stderr
    for table, extra in (("typed", {}), ("dayfirst", {"date_format": "%d/%m/%Y",
                                                      "columns": {"date": "day"}})):  # fmt: skip
        config["warehouse"] = {
            "records": f"ledger.{table}",
            "profile": "ledger.communities",
            "order": "seq",
            **extra,
        }
        path = tmp_path / f"{table}.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        remote = run_in(
            tmp_path, ["compute", "-c", str(path), "--engine", url_of(postgres), "-f", "csv"]
        )
        assert remote.returncode == 0, (table, remote.stderr)
        assert remote.stdout == local.stdout, table


def test_validate_lists_the_first_200_of_a_kind_and_counts_all(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    rows = [f"2026-10-{1 + n % 28:02d},nowhere,participate,resident,R{n}" for n in range(250)]
    log.write_text("date,community,event,party,id\n" + "\n".join(rows) + "\n", encoding="utf-8")
    load_duckdb(tmp_path / "many.duckdb", "many", log)
    config = warehouse_config(tmp_path / "none.yaml", tmp_path, "many", EXAMPLES / "profile.yaml")
    done = run_in(
        tmp_path,
        ["validate", "-c", str(config), "--engine", f"duckdb:///{tmp_path / 'many.duckdb'}",
         "-f", "json"],
    )  # fmt: skip
    assert done.returncode == 3
    found = json.loads(done.stdout)
    assert found["by_kind"] == {"unknown_community": 250}
    assert len(found["problems"]) == 200
    assert found["problems"][0]["file"] == "ledger.many (line=2)"
