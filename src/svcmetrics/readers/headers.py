"""Which row of a log is its header, and which column each field is read from."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from svcmetrics.errors import ConfigError, InputError
from svcmetrics.models import ColumnMapping, LogMapping, Required, is_total, record_columns


@functools.cache
def header_aliases() -> dict[str, str]:
    """Header (lower case) → canonical field, from the record schema."""
    aliases: dict[str, str] = {}
    for name, column in record_columns().items():
        aliases[name.lower()] = name
        for alias in column.aliases:
            aliases[alias.lower()] = name
    return aliases


def match_headers(
    headers: list[str], columns: dict[str, str], aliases: dict[str, str], name: str
) -> dict[str, int]:
    """Field → index of its header: the header ``columns`` maps it to, else a header that is
    one of its ``aliases`` (lower case → field); headers of no field are ignored."""
    by_header = {header.strip().lower(): index for index, header in enumerate(headers)}
    resolved: dict[str, int] = {}
    for canonical, header in columns.items():
        index = by_header.get(header.strip().lower())
        if index is None:
            raise ConfigError(
                "mapped_column_missing",
                file=name,
                field=canonical,
                header=header,
                headers=", ".join(h for h in headers if h.strip()),
            )
        resolved[canonical] = index
    for index, header in enumerate(headers):
        alias = aliases.get(header.strip().lower())
        if alias is None or alias in columns:
            continue
        canonical = alias
        if canonical in resolved and resolved[canonical] != index:
            raise InputError(
                "duplicate_column",
                file=name,
                field=canonical,
                first=headers[resolved[canonical]],
                second=header,
            )
        resolved[canonical] = index
    return resolved


def resolve_headers(headers: list[str], mapping: ColumnMapping, name: str) -> dict[str, int]:
    """Canonical field → index of the header it is read from; unknown headers are ignored."""
    resolved = match_headers(headers, mapping.columns, header_aliases(), name)
    for canonical in mapping.constants:
        if canonical in resolved:
            raise ConfigError(
                "constant_and_column",
                file=name,
                field=canonical,
                header=headers[resolved[canonical]],
            )
    return resolved


def effective_mapping(top: ColumnMapping, spec: ColumnMapping | None) -> LogMapping:
    """A log's (or a warehouse table's) mapping: its own settings override the top level's,
    field by field."""
    if spec is None:
        return LogMapping(
            columns=top.columns,
            constants=top.constants,
            values=top.values,
            date_format=top.date_format,
        )
    values = {key: dict(value) for key, value in top.values.items()}
    for key, value in spec.values.items():
        values.setdefault(key, {}).update(value)
    return LogMapping(
        columns={**top.columns, **spec.columns},
        constants={**top.constants, **spec.constants},
        values=values,
        date_format=spec.date_format or top.date_format,
        header_row=spec.header_row if isinstance(spec, LogMapping) else None,
    )


HEADER_ROWS = 10
"""The header is looked for in this many first rows (under a title and blank rows)."""


def _header_fit(cells: Sequence[str | None], mapping: ColumnMapping) -> tuple[bool, int]:
    """Whether a row holds every required column as a header, and how many fields it names."""
    aliases = header_aliases()
    texts = {cell.strip().lower() for cell in cells if cell}
    found = {aliases[text] for text in texts if text in aliases}
    found |= {key for key, header in mapping.columns.items() if header.strip().lower() in texts}
    required = {
        name
        for name, column in record_columns().items()
        if column.required == Required() and name not in mapping.constants
    }
    return required <= found, len(found)


def header_index(rows: Sequence[Sequence[str | None]], mapping: ColumnMapping) -> int:
    """Which of a file's first rows is its header (0-based; spec 1.4).

    ``header_row`` when the log's settings give it; else the first of the first
    :data:`HEADER_ROWS` rows holding every required column; else the one naming the most
    fields (so a message lists the headers of the right row), or the first row.
    """
    if isinstance(mapping, LogMapping) and mapping.header_row is not None:
        return mapping.header_row - 1
    best, most = 0, 0
    for index, row in enumerate(rows[:HEADER_ROWS]):
        complete, named = _header_fit(row, mapping)
        if complete:
            return index
        if named > most:
            best, most = index, named
    return best


def first_is_total(row: Sequence[str | None]) -> bool:
    """Whether a row's first non-empty cell is a total word."""
    return is_total(next((cell for cell in row if cell and cell.strip()), None))
