"""``postgresql://``: PostgreSQL and the engines that speak its protocol and SQL (openGauss,
KingbaseES), through psycopg, in read-only transactions."""

from __future__ import annotations

from typing import Any

from svcmetrics.warehouse.connection import Refusal, WarehouseError

CONNECT_TIMEOUT = 10
"""Seconds to wait for a server before saying it is unreachable."""

_STATES = {
    "42P01": Refusal.MISSING_TABLE,
    "3F000": Refusal.MISSING_TABLE,  # no such schema
    "42703": Refusal.MISSING_COLUMN,
    "42501": Refusal.PERMISSION,
    "28P01": Refusal.LOGIN,
    "28000": Refusal.LOGIN,
}
"""SQLSTATE → why the query could not run."""


_LOGIN_WORDS = ("password", "authentication", "role", "pg_hba.conf")
"""What a server's refusal of a login says (a wrong password, an unknown role...)."""


class PostgresConnection:
    """A read-only session on a PostgreSQL-family server."""

    dialect = "postgres"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise WarehouseError(
                Refusal.MISSING_DRIVER, url, "pip install 'svcmetrics[postgres]'"
            ) from None
        self._url = url
        self._psycopg = psycopg
        try:
            self._con = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as exc:
            raise self._refusal(exc, connecting=True) from None
        # every statement runs in a read-only transaction: nothing can be written
        self._con.read_only = True

    def _refusal(self, exc: Exception, connecting: bool = False) -> WarehouseError:
        state = getattr(exc, "sqlstate", None)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if state in _STATES:
            return WarehouseError(_STATES[state], self._url, detail)
        if connecting:
            # (a refused connection carries no SQLSTATE: the server's words tell why)
            text = str(exc)
            fatal = text[text.find("FATAL:") :].strip() if "FATAL:" in text else ""
            if fatal:
                detail = fatal.splitlines()[0]
            lowered = fatal.lower()
            if any(word in lowered for word in _LOGIN_WORDS):
                return WarehouseError(Refusal.LOGIN, self._url, detail)
            if fatal:
                return WarehouseError(Refusal.OTHER, self._url, detail)
            return WarehouseError(Refusal.UNREACHABLE, self._url, detail)
        return WarehouseError(Refusal.OTHER, self._url, detail)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            with self._con.cursor() as cursor:
                cursor.execute(sql.encode())
                rows = cursor.fetchall()
            self._con.rollback()  # (read only: nothing to keep)
            return rows
        except self._psycopg.Error as exc:
            self._con.rollback()
            raise self._refusal(exc) from None

    def columns(self, sql: str) -> list[str]:
        try:
            with self._con.cursor() as cursor:
                cursor.execute(f"SELECT * FROM ({sql}) AS t WHERE false".encode())
                names = [column.name for column in cursor.description or []]
            self._con.rollback()
            return names
        except self._psycopg.Error as exc:
            self._con.rollback()
            raise self._refusal(exc) from None

    def close(self) -> None:
        self._con.close()
