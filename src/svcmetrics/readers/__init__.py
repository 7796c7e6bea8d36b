"""Bytes to rows: the readers' entry (:func:`read_log`, :func:`read_table`) over one module a job.

Encodings, CSV dialects, YAML without type guessing, Excel, header aliases: each has its
module here, and this one re-exports what the rest of the package uses.

Every value is read as text; nothing here judges whether a value is valid (the engine
does that in bulk), but every row keeps its line so that problems can point at it.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from svcmetrics.errors import InputError
from svcmetrics.models import ColumnMapping
from svcmetrics.readers.csvfiles import (
    BLANKS,
    LONG_LINE,
    MAX_FIELD,
    SPACES,
    Blanks,
    NativeCsv,
    blanks,
    csv_rows,
)
from svcmetrics.readers.encodings import (
    HEAD_BYTES,
    LEGACY_CODECS,
    LegacyChoice,
    Transcoded,
    choose_legacy,
    decode,
    decode_noted,
    head_text,
    read_bytes,
)
from svcmetrics.readers.excel import EXCEL_DIGITS, EXCEL_SUFFIXES, excel_rows, split_sheet
from svcmetrics.readers.headers import (
    HEADER_ROWS,
    effective_mapping,
    match_headers,
    resolve_headers,
)
from svcmetrics.readers.scanned import read_parquet, scanned_csv
from svcmetrics.readers.source import (
    NativeParquet,
    Source,
    build_source,
    missing_columns,
    read_csv_text,
)
from svcmetrics.readers.yamlfiles import (
    MAX_YAML_ALIASES,
    MAX_YAML_BYTES,
    SAFE_LOADER,
    guard_yaml,
    parse_yaml,
    read_yaml_text,
)

__all__ = [
    "BLANKS",
    "EXCEL_DIGITS",
    "EXCEL_SUFFIXES",
    "HEADER_ROWS",
    "HEAD_BYTES",
    "LEGACY_CODECS",
    "LONG_LINE",
    "MAX_FIELD",
    "MAX_YAML_ALIASES",
    "MAX_YAML_BYTES",
    "SAFE_LOADER",
    "SPACES",
    "STDIN",
    "Blanks",
    "LegacyChoice",
    "NativeCsv",
    "NativeParquet",
    "Source",
    "Transcoded",
    "blanks",
    "choose_legacy",
    "decode",
    "decode_noted",
    "effective_mapping",
    "guard_yaml",
    "match_headers",
    "missing_columns",
    "parse_yaml",
    "read_csv_text",
    "read_log",
    "read_parquet",
    "read_table",
    "read_yaml_text",
    "resolve_headers",
    "split_sheet",
]

STDIN = "-"


def read_table(
    path: Path, name: str, sheet: str | None = None
) -> tuple[list[str], list[list[str | None]], list[int]]:
    """Headers, rows as text and their lines (or sheet rows) of a small CSV or Excel table
    (a profile kept in Excel)."""
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return excel_rows(path, name, sheet)
    text, _ = decode(read_bytes(path, name), name)
    return csv_rows(text, name)


def _spool(stream: BinaryIO, folder: Path) -> Path:
    """Standard input copied into a file in ``folder``, a megabyte at a time."""
    descriptor, name = tempfile.mkstemp(suffix=".csv", dir=folder)
    with open(descriptor, "wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    return Path(name)


def _is_yaml(name: str, text: str) -> bool:
    if name.lower().endswith((".yaml", ".yml")):
        return True
    if name != STDIN:
        return False
    for line in text.lstrip("\ufeff").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped.startswith(("records:", "- ", "---"))
    return False


def read_log(
    path: str,
    mapping: ColumnMapping,
    encoding: str | None = None,
    base: Path | None = None,
    spill: Path | None = None,
) -> Source:
    """Read one log (a path, or ``-`` for standard input) into a :class:`Source`.

    A CSV log in UTF-8 is left for the engine to scan; one in another encoding is first
    copied as UTF-8 into the folder ``spill`` (when given), streaming, and scanned there.
    Standard input is first copied into ``spill`` too, so that a large log piped in is
    scanned like a file.
    """
    name = path
    if path == STDIN:
        if spill is None:
            data = sys.stdin.buffer.read()
        else:
            file = _spool(sys.stdin.buffer, spill)
            if not _is_yaml(STDIN, head_text(file)):
                source = scanned_csv(file, name, mapping, encoding, spill)
                if source is not None:
                    return source
            data = read_bytes(file, name)
    else:
        path, sheet = split_sheet(path)
        file = Path(path) if base is None else base / path
        if file.suffix.lower() == ".parquet":
            return read_parquet(file, name, mapping)
        if file.suffix.lower() in EXCEL_SUFFIXES:
            headers, rows, lines = excel_rows(file, name, sheet, mapping)
            return build_source(name, None, headers, rows, lines, mapping)
        if not _is_yaml(name, "") and file.is_file():
            source = scanned_csv(file, name, mapping, encoding, spill)
            if source is not None:
                return source
        data = read_bytes(file, name)
    if not data.strip():
        raise InputError("empty_file", file=name)
    text, used, notes = decode_noted(data, name, encoding)
    if "\x00" in text:
        raise InputError("binary_file", file=name)
    if _is_yaml(name, text):
        source = read_yaml_text(text, name, used, mapping)
    else:
        source = read_csv_text(text, name, used, mapping)
    source.notes = notes
    return source
