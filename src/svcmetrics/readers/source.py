"""The Source record of one log, built from headers and rows or refused for missing columns."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from svcmetrics.errors import InputError, Problem
from svcmetrics.models import RECORD_FIELDS, ColumnMapping, Required, record_columns
from svcmetrics.readers.csvfiles import NativeCsv, csv_rows
from svcmetrics.readers.encodings import LEGACY_CODECS, encoding_option
from svcmetrics.readers.headers import first_is_total, header_aliases, resolve_headers


@dataclass(frozen=True)
class NativeParquet:
    """A Parquet file, read by the engine; ``resolved`` maps each field to its column name."""

    path: Path
    resolved: dict[str, str]


@dataclass
class Source:
    """One log: canonical columns of text (or a file the engine scans), and its mapping."""

    name: str
    encoding: str | None
    columns: dict[str, list[str | None]]
    lines: list[int]
    """The first line of each record, in record order (empty for a file the engine scans)."""
    headers: dict[str, str] = field(default_factory=dict)
    """Canonical field → the header it was read from (for messages)."""
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    """Canonical field → {raw value (lower case) → canonical value} from the config."""
    date_format: str | None = None
    constants: dict[str, str] = field(default_factory=dict)
    """Fields the file lacks, the same on every row (added by the engine)."""
    native: NativeCsv | NativeParquet | None = None
    mapping: ColumnMapping | None = None
    totals: list[bool] = field(default_factory=list)
    """Per record read by Python: its first non-empty cell is a total word (spec 1.4)."""
    notes: list[Problem] = field(default_factory=list)
    """What reading it decided and the user should know (an encoding chosen by a guess)."""


def build_source(
    name: str,
    encoding: str | None,
    headers: list[str],
    rows: list[list[str | None]],
    lines: list[int],
    mapping: ColumnMapping,
) -> Source:
    resolved = resolve_headers(headers, mapping, name)
    columns: dict[str, list[str | None]] = {}
    for canonical in RECORD_FIELDS:
        if canonical in resolved:
            index = resolved[canonical]
            columns[canonical] = [row[index] if index < len(row) else None for row in rows]
    source = make_source(name, encoding, headers, resolved, mapping, columns=columns, lines=lines)
    source.totals = [first_is_total(row) for row in rows]
    return source


def make_source(
    name: str,
    encoding: str | None,
    headers: list[str],
    resolved: dict[str, int],
    mapping: ColumnMapping,
    columns: dict[str, list[str | None]] | None = None,
    lines: list[int] | None = None,
    native: NativeCsv | NativeParquet | None = None,
) -> Source:
    missing = [
        field_name
        for field_name, column in record_columns().items()
        if column.required == Required()
        and field_name not in resolved
        and field_name not in mapping.constants
    ]
    if missing and any(header.strip() for header in headers):
        raise missing_columns(name, encoding, missing, headers, mapping)
    values = {
        key: {raw.strip().lower(): canonical for raw, canonical in table.items()}
        for key, table in mapping.values.items()
    }
    return Source(
        name=name,
        encoding=encoding,
        columns=columns or {},
        lines=lines or [],
        headers={key: headers[index] for key, index in resolved.items()},
        values=values,
        date_format=mapping.date_format,
        constants=dict(mapping.constants),
        native=native,
        mapping=mapping,
    )


def missing_columns(
    name: str, encoding: str | None, missing: list[str], headers: list[str], mapping: ColumnMapping
) -> InputError:
    """The error for a log lacking required columns: the fields by their English keys and
    Chinese headers, the headers found, and a ``columns:`` mapping to paste that maps each
    missing field to the unrecognised header most like it (a placeholder when none is)."""
    aliases = header_aliases()
    found = [header.strip() for header in headers if header.strip()]
    free = [
        header
        for header in found
        if header.lower() not in aliases
        and header.lower() not in {h.strip().lower() for h in mapping.columns.values()}
    ]
    chinese = {key: column.aliases[0] for key, column in record_columns().items()}
    guesses: dict[str, str] = {}
    for key in missing:
        names = [key, *record_columns()[key].aliases]
        match = next(
            (h for h in free if h not in guesses.values() and any(n in h.lower() for n in names)),
            None,
        )
        if match is None:
            close = difflib.get_close_matches(
                key, [h.lower() for h in free if h not in guesses.values()], n=1, cutoff=0.6
            )
            match = next((h for h in free if close and h.lower() == close[0]), None)
        if match is not None:
            guesses[key] = match
    # top-level columns: apply to the logs named on the command line too
    snippet = {key: guesses.get(key, "?") for key in missing}
    params: dict[str, Any] = {
        "fields": ", ".join(missing),
        "fields@zh": "、".join(chinese[key] for key in missing),
        "headers": ", ".join(found) or "—",
        "snippet": yaml.safe_dump(
            {"columns": snippet}, allow_unicode=True, default_flow_style=True, sort_keys=False
        ).strip()[1:-1],
    }
    kind = "missing_columns"
    if encoding in LEGACY_CODECS and not any(header.strip().lower() in aliases for header in found):
        kind = "missing_columns_encoding"  # (no header known: the decoding may be wrong)
        params["other"] = encoding_option(next(c for c in LEGACY_CODECS if c != encoding))
        params["encoding"] = encoding_option(encoding)
    if not free:
        kind = "missing_columns_absent"  # (every header is known: constants: is the fix)
    return InputError(kind, file=name, **params)


def read_csv_text(text: str, name: str, encoding: str | None, mapping: ColumnMapping) -> Source:
    """Rows of a CSV text (comma, tab or semicolon separated) with their first lines."""
    headers, rows, lines = csv_rows(text, name, mapping)
    return build_source(name, encoding, headers, rows, lines, mapping)
