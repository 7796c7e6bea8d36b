"""Logs the engine scans itself (UTF-8 or transcoded CSV, Parquet): only headers are read here."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

from svcmetrics.errors import InputError, Problem
from svcmetrics.models import ColumnMapping
from svcmetrics.readers.csvfiles import NativeCsv, head_rows, long_line, sniff_delimiter
from svcmetrics.readers.encodings import transcode, utf8_head
from svcmetrics.readers.headers import header_index, resolve_headers
from svcmetrics.readers.source import NativeParquet, Source, make_source


def read_parquet(path: Path, name: str, mapping: ColumnMapping) -> Source:
    """A Parquet log, left for the engine to read: only its schema is read here."""
    import pyarrow.parquet as pq

    try:
        headers = list(pq.read_schema(path).names)
    except FileNotFoundError:
        raise InputError("file_not_found", file=name) from None
    except (OSError, ValueError) as exc:
        raise InputError("bad_parquet", file=name, detail=str(exc)) from exc
    resolved = resolve_headers(headers, mapping, name)
    native = NativeParquet(path, {key: headers[index] for key, index in resolved.items()})
    return make_source(name, None, headers, resolved, mapping, native=native)


def scanned_csv(
    file: Path, name: str, mapping: ColumnMapping, encoding: str | None, spill: Path | None
) -> Source | None:
    """A CSV log left for the engine to scan (from a UTF-8 copy in ``spill`` when it is in
    another encoding); None when Python must read it (its start is not text, its header
    is quoted, the copy failed)."""
    utf8 = encoding in (None, "utf-8", "utf-8-sig")
    head = utf8_head(file) if utf8 else None
    scanned = file
    notes: list[Problem] = []
    if head is None and spill is not None and not (encoding and utf8):
        copied = transcode(file, encoding, spill, name)
        if copied is not None:
            scanned, head, notes = copied.path, (copied.head, copied.codec), copied.notes
    if head is None or not head[0].strip() or '"' in head[0].split("\n", 1)[0]:
        return None
    if long_line(scanned) or header_index(head_rows(head[0]), mapping) != 0:
        return None  # (a header under a title row: an office's file, read by Python)
    source = _native_csv(scanned, head[0], name, head[1], mapping)
    source.notes = notes
    if isinstance(source.native, NativeCsv):
        source.native = replace(
            source.native, detected=encoding is None, transcoded=scanned != file
        )
    return source


def _native_csv(path: Path, text: str, name: str, encoding: str, mapping: ColumnMapping) -> Source:
    """A UTF-8 CSV left for the engine to scan: only its header is read here."""
    delimiter = sniff_delimiter(text)
    first = text[: text.find("\n") + 1 or len(text)]
    headers = next(csv.reader(io.StringIO(first, newline=""), delimiter=delimiter), [])
    if not headers:
        raise InputError("empty_file", file=name)
    resolved = resolve_headers(headers, mapping, name)
    native = NativeCsv(path, delimiter, len(headers), resolved)
    return make_source(name, encoding, headers, resolved, mapping, native=native)
