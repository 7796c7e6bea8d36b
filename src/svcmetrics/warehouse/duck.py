"""``duckdb:///file.duckdb``: a DuckDB database file, opened read-only."""

from __future__ import annotations

from typing import Any

from svcmetrics import signals

with signals.held():  # (Ctrl-C halfway through DuckDB's import aborts the process)
    import duckdb

from svcmetrics.warehouse.connection import Refusal, WarehouseError


def database_path(url: str) -> str:
    """The file of a ``duckdb:///relative.duckdb`` or ``duckdb:////absolute.duckdb`` URL
    (as SQLAlchemy writes them)."""
    return url.removeprefix("duckdb:///")


class DuckConnection:
    """A read-only connection to a DuckDB file."""

    dialect = "duckdb"

    def __init__(self, url: str) -> None:
        self._url = url
        try:
            self._con = duckdb.connect(database_path(url), read_only=True)
        except duckdb.Error as exc:
            raise WarehouseError(Refusal.UNREACHABLE, url, _first_line(exc)) from None

    def _refusal(self, exc: duckdb.Error) -> WarehouseError:
        text = str(exc)
        if isinstance(exc, duckdb.CatalogException) and "does not exist" in text:
            return WarehouseError(Refusal.MISSING_TABLE, self._url, _first_line(exc))
        if isinstance(exc, duckdb.BinderException) and "column" in text.lower():
            return WarehouseError(Refusal.MISSING_COLUMN, self._url, _first_line(exc))
        return WarehouseError(Refusal.OTHER, self._url, _first_line(exc))

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return self._con.execute(sql).fetchall()
        except duckdb.Error as exc:
            raise self._refusal(exc) from None

    def columns(self, sql: str) -> list[str]:
        try:
            relation = self._con.sql(sql)
            return list(relation.columns)
        except duckdb.Error as exc:
            raise self._refusal(exc) from None

    def close(self) -> None:
        self._con.close()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
