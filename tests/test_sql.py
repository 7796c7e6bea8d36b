"""``svcmetrics sql``: the exported query gives compute's numbers on DuckDB and PostgreSQL.

(``postgres`` is the throwaway server fixture of sqlcase.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from clihelp import WORKED
from sqlcase import DDL, SqlCase, postgres, sql_case

from svcmetrics.answers import answer_lists
from svcmetrics.config import load_config
from svcmetrics.indicators import definitions
from svcmetrics.sqlexport import Dialect, query

__all__ = ["postgres"]  # the fixture, imported

ROOT = Path(__file__).resolve().parents[1]


def _cases(dialect: Dialect) -> list[SqlCase]:
    health = ROOT / "examples" / "health"
    return [
        sql_case(WORKED / "log.csv", WORKED / "profile.yaml", None, dialect),
        sql_case(health / "log.csv", health / "profile.yaml", health / "svcmetrics.yaml", dialect),
    ]


def _compare(rows: list[tuple[Any, ...]], expected: dict[Any, Any]) -> None:
    found = {(c, p, i): (n, d) for c, p, i, n, d, *_ in rows}
    assert found == expected


@pytest.mark.parametrize("case", range(2))
def test_exported_query_on_duckdb(case: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    found = _cases(Dialect.DUCKDB)[case]
    con = duckdb.connect()
    for statement in DDL:
        con.execute(statement)
    con.executemany(f"INSERT INTO records VALUES ({', '.join('?' * 11)})", found.records)
    con.executemany("INSERT INTO periods VALUES (?, ?, ?)", found.periods)
    con.executemany("INSERT INTO profile VALUES (?, ?, ?, ?)", found.profile)
    _compare(con.execute(found.sql).fetchall(), found.expected)


def test_every_dialect_transpiles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT / "examples")
    loaded, _ = load_config(Path("health/svcmetrics.yaml"))
    for dialect in Dialect:
        sql = query(definitions(loaded), answer_lists(loaded.satisfaction), dialect)
        assert "elderly_checkup" in sql and "residents_65plus" in sql


def test_config_strings_are_quoted_not_pasted(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "indicators:\n"
        '  - key: "x\'); DROP TABLE records; --"\n'
        "    name: {zh: x, en: x}\n"
        '    numerator: {event: "it\'s", party: resident, count: rows}\n'
        "    denominator: {profile: residents}\n"
    )
    loaded, _ = load_config(config)
    sql = query(definitions(loaded), answer_lists(loaded.satisfaction), Dialect.DUCKDB)
    con = duckdb.connect()
    for statement in DDL:
        con.execute(statement)
    con.execute("INSERT INTO records VALUES (DATE '2026-01-02', 'c', 'it''s', 'resident', "
                "'r', NULL, NULL, NULL, NULL, NULL, 1)")  # fmt: skip
    con.execute("INSERT INTO periods VALUES ('2026-01', DATE '2026-01-01', DATE '2026-01-31')")
    con.execute("INSERT INTO profile VALUES ('c', 'residents', NULL, 4)")
    rows = {r[2]: r[3:5] for r in con.execute(sql).fetchall()}
    assert rows["x'); DROP TABLE records; --"] == (1, 4)
    assert con.execute("SELECT count(*) FROM records").fetchone() == (1,)


@pytest.mark.parametrize("case", range(2))
def test_exported_query_on_postgres(
    case: int, postgres: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    found = _cases(Dialect.POSTGRES)[case]
    with postgres.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS records, periods, profile")
        for statement in DDL:
            cursor.execute(statement)
        cursor.executemany(f"INSERT INTO records VALUES ({', '.join(['%s'] * 11)})", found.records)
        cursor.executemany("INSERT INTO periods VALUES (%s, %s, %s)", found.periods)
        cursor.executemany("INSERT INTO profile VALUES (%s, %s, %s, %s)", found.profile)
        cursor.execute(found.sql)
        _compare(cursor.fetchall(), found.expected)


def test_spark_latest_value_skips_nulls_as_duckdb_does() -> None:
    """Spark's max_by gives the latest row's value even when it is NULL, DuckDB's arg_max
    the latest non-NULL one (a need's state is its latest row's status): on Spark the
    ordering key is NULL where the value is."""
    from sqlglot import exp

    from svcmetrics import compiler

    latest = exp.select(
        exp.alias_(exp.ArgMax(this=exp.column("v"), expression=exp.column("k")), "last"),
        exp.alias_(exp.ArgMin(this=exp.column("v"), expression=exp.column("k")), "first"),
    ).from_("t")
    spark = compiler.render(latest, "spark")
    assert spark == (
        "SELECT MAX_BY(v, CASE WHEN NOT v IS NULL THEN k END) AS last, "
        "MIN_BY(v, CASE WHEN NOT v IS NULL THEN k END) AS first FROM t"
    )
    con = duckdb.connect()  # DuckDB reads max_by too: both forms give its answer
    con.execute("CREATE TABLE t AS FROM (VALUES ('x', 1), (NULL, 2), ('y', 0), (NULL, -1)) v(v, k)")
    assert con.execute(spark).fetchall() == con.execute(compiler.render(latest)).fetchall()
    assert con.execute(spark).fetchall() == [("x", "y")]
