"""An engine URL to an open connection: the scheme chooses the engine (spec 5.2)."""

from __future__ import annotations

from urllib.parse import urlsplit

from svcmetrics.errors import UsageError
from svcmetrics.warehouse.connection import Connection, redact

SCHEMES = ("postgresql", "postgres", "sc", "duckdb")
"""The URL schemes ``--engine`` understands."""


def connect(url: str) -> Connection:
    """Open the engine ``url`` names (its driver imported only now)."""
    scheme = urlsplit(url).scheme.lower().split("+")[0]
    if scheme in ("postgresql", "postgres"):
        from svcmetrics.warehouse.postgres import PostgresConnection

        return PostgresConnection(url)
    if scheme == "duckdb":
        from svcmetrics.warehouse.duck import DuckConnection

        return DuckConnection(url)
    if scheme == "sc":
        from svcmetrics.warehouse.spark import connect as spark

        return spark(url)
    raise UsageError(
        "engine_scheme", value=redact(url), valid=", ".join(f"{s}://" for s in SCHEMES)
    )
