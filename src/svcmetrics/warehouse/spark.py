"""``sc://host:port``: svcmetrics' query run by a Spark cluster through Spark Connect (spec 5.2).

The thin client (PyPI's ``pyspark-client``, the extra ``svcmetrics[spark]``) is imported
only when a Spark URL is used, so svcmetrics starts as fast without it. A session of its
own is opened per run; it reads the records table and creates nothing.
"""

from __future__ import annotations

import decimal
import logging
import socket
import warnings
from typing import Any
from urllib.parse import urlsplit

from svcmetrics.warehouse.connection import Connection, Refusal, WarehouseError

PORT = 15002
"""Spark Connect's port when the URL names none."""

INSTALL = "pip install 'svcmetrics[spark]'"
"""What installs the client (said when it is missing)."""

SESSION_CONF = {"spark.sql.ansi.enabled": "true"}
"""Set on every session: the compiled SQL means on Spark what it means on DuckDB. ANSI
mode makes a cast that cannot be made, an overflowing sum or a division by zero an error
(as DuckDB does) instead of a silent NULL or a wrapped number; it is Spark 4's default
but not Spark 3's. The query guards its casts and divisions, so a run that succeeds
gives the same numbers either way (checked by bench/spark_connect.py)."""

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the server's port to accept a connection."""

RETRIES = 6
MAX_BACKOFF_MS = 15_000
"""The client's retries of a failed call (about 30 s in all; its default waits 10 minutes,
too long for a command line that should say the server is gone)."""

_QUIET_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")
"""pyspark loggers that print every refused query's Java stack trace to stderr."""

_MISSING_TABLE = ("TABLE_OR_VIEW_NOT_FOUND", "SCHEMA_NOT_FOUND")
_MISSING_COLUMN = ("UNRESOLVED_COLUMN", "UNRESOLVED_FIELD")
_PERMISSION = ("INSUFFICIENT_PERMISSIONS", "PERMISSION_DENIED", "UNAUTHORIZED_ACCESS")
"""Spark's error conditions (their first part) that have a refusal of their own."""

_GRPC = {
    "UNAVAILABLE": Refusal.UNREACHABLE,
    "DEADLINE_EXCEEDED": Refusal.UNREACHABLE,
    "UNAUTHENTICATED": Refusal.LOGIN,
    "PERMISSION_DENIED": Refusal.PERMISSION,
}
"""gRPC status codes of a call refused before Spark saw the query."""


def connect(url: str) -> Connection:
    """A Spark Connect session at ``url`` (``sc://host[:port][/;param=value...]``)."""
    try:
        with warnings.catch_warnings():
            # pyspark warns at import about versions of pandas it has not been tested with
            warnings.simplefilter("ignore")
            from pyspark.errors import PySparkException
            from pyspark.logger import PySparkLogger
            from pyspark.sql import SparkSession
            from pyspark.sql.connect.client.retries import DefaultPolicy
    except ImportError as error:  # pyspark, or one of the packages it needs
        raise _error(Refusal.MISSING_DRIVER, url, INSTALL) from error
    for name in _QUIET_LOGGERS:
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
    parts = urlsplit(url)
    if parts.hostname:  # else the client says what is wrong with the URL
        # before any call: the client would retry a closed port for minutes
        try:
            address = (parts.hostname, parts.port or PORT)
            socket.create_connection(address, timeout=CONNECT_TIMEOUT).close()
        except (OSError, ValueError) as error:  # ValueError: a port out of range
            raise _error(Refusal.UNREACHABLE, url, str(error)) from error
    try:
        session: Any = SparkSession.builder.remote(url).create()
    except PySparkException as error:  # a malformed URL
        raise _refused(error, url) from error
    connection = SparkConnection(session, url, PySparkException)
    session.client.set_retry_policies(
        [DefaultPolicy(max_retries=RETRIES, max_backoff=MAX_BACKOFF_MS)]
    )
    try:
        for key, value in SESSION_CONF.items():
            session.conf.set(key, value)
    except PySparkException as error:
        connection.close()
        raise _refused(error, url) from error
    return connection


class SparkConnection:
    """A Spark Connect session that runs one query at a time (:class:`Connection`)."""

    dialect = "spark"

    def __init__(self, session: Any, url: str, errors: type[Exception]) -> None:
        self.session = session
        """The pyspark session (bench/spark_check.py uploads its test tables with it)."""
        self._url = url
        self._errors = errors

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run ``sql``; its rows as tuples of Python values (an integral decimal as int)."""
        try:
            rows = self.session.sql(sql).collect()
        except self._errors as error:
            raise _refused(error, self._url) from error
        return [tuple(_value(value) for value in row) for row in rows]

    def columns(self, sql: str) -> list[str]:
        """The names of ``sql``'s columns (Spark analyses the query; nothing is run)."""
        try:
            return list(self.session.sql(sql).columns)
        except self._errors as error:
            raise _refused(error, self._url) from error

    def close(self) -> None:
        try:
            self.session.stop()
        except self._errors:  # the server is gone: nothing is left to release
            pass


def _value(value: Any) -> Any:
    """A value of a row as svcmetrics reads it: Spark's sum of decimals is a decimal."""
    if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
        return int(value)
    return value


def _error(refusal: Refusal, url: str, detail: str) -> WarehouseError:
    # Spark's messages end with a full stop; the message around the detail has its own
    return WarehouseError(refusal, url, detail.rstrip("."))


def _refused(error: Exception, url: str) -> WarehouseError:
    """The refusal a pyspark error means, with the first line of its message."""
    condition = _call(error, "getCondition") or _call(error, "getErrorClass") or ""
    status = getattr(_call(error, "getGrpcStatusCode"), "name", "")
    refusal = Refusal.OTHER
    if condition.startswith(_MISSING_TABLE):
        refusal = Refusal.MISSING_TABLE
    elif condition.startswith(_MISSING_COLUMN):
        refusal = Refusal.MISSING_COLUMN
    elif condition.startswith(_PERMISSION):
        refusal = Refusal.PERMISSION
    elif not condition and status in _GRPC:
        refusal = _GRPC[status]
    message = str(_call(error, "getMessage") or error)
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return _error(refusal, url, lines[0] if lines else type(error).__name__)


def _call(error: Exception, method: str) -> Any:
    """``error.method()``, or None where this version of pyspark has no such method."""
    found = getattr(error, method, None)
    return found() if callable(found) else None
