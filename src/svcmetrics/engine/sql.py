"""What every stage of the DuckDB engine writes SQL with: quoted names and small tables."""

from __future__ import annotations

from typing import Any

import duckdb


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def small_table(
    con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, tuple[str, list[Any]]]
) -> None:
    """Create small table ``name`` from Python lists: column → (SQL type, values).

    The values are bound as list parameters, never pasted into the SQL.
    """
    selects = [f"unnest(?::{kind}[]) AS {ident(key)}" for key, (kind, _) in columns.items()]
    con.execute(
        f"CREATE OR REPLACE TABLE {ident(name)} AS SELECT {', '.join(selects)}",
        [values for _, values in columns.values()],
    )
