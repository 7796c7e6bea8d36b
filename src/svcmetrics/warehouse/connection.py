"""What svcmetrics needs of a warehouse engine: run one query, return its rows, and say
clearly why it could not (spec 5.2).

Each engine (PostgreSQL and the engines that speak its protocol, Spark Connect, a DuckDB
file) has a module that opens a :class:`Connection`; every value svcmetrics sends (the
periods, the profile, the community keys) travels inline in the SQL as literals of a
sqlglot tree, so nothing is ever written to the user's database.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from svcmetrics.errors import InputError


class Refusal(StrEnum):
    """Why an engine could not run svcmetrics' query (each a message of its own, exit 3)."""

    UNREACHABLE = "unreachable"
    """No server answers at the URL's host and port."""
    LOGIN = "login"
    """The server refused the user or password."""
    MISSING_TABLE = "missing_table"
    MISSING_COLUMN = "missing_column"
    PERMISSION = "permission"
    """The role may not read the table."""
    MISSING_DRIVER = "missing_driver"
    """The engine's Python package is not installed (``pip install 'svcmetrics[spark]'``)."""
    OTHER = "other"


class Connection(Protocol):
    """An open connection to a warehouse engine."""

    dialect: str
    """sqlglot's name of the engine's SQL dialect (``postgres``, ``spark``, ``duckdb``)."""

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one read-only query and return its rows as tuples of Python values
        (text, int, float, ``datetime.date``, ``decimal.Decimal`` or None); raise
        :class:`WarehouseError` when the engine refuses it."""
        ...

    def columns(self, sql: str) -> list[str]:
        """The names of the columns of a query's result (without fetching its rows)."""
        ...

    def close(self) -> None: ...


class WarehouseError(InputError):
    """An engine that could not be reached or refused the query (exit 3)."""

    def __init__(self, refusal: Refusal, url: str, detail: str = "", **params: Any) -> None:
        super().__init__(
            f"warehouse_{refusal.value}", url=redact(url), detail=scrub(detail, url), **params
        )
        self.refusal = refusal


_TOKEN = re.compile(r"(;\s*token\s*=)([^;]*)", re.IGNORECASE)
"""A Spark Connect URL's access token (``sc://host:443/;token=...``)."""


def redact(url: str) -> str:
    """``url`` without its password (``postgresql://ana:***@host/db``) or Spark Connect
    token (``sc://host:443/;token=***``)."""
    url = _TOKEN.sub(r"\1***", url)
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def scrub(text: str, url: str) -> str:
    """``text`` (an engine's error message) with the URL's password or token replaced by
    ``***``."""
    secrets = [urlsplit(url).password, *(m.group(2) for m in _TOKEN.finditer(url))]
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
