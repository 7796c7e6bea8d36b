"""The line of each loaded record, recovered from the file only when a problem points at it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from svcmetrics.readers import MAX_FIELD, NativeCsv, NativeParquet, Source


class Lines:
    """The first line of the records of the loaded sources, by their position in a source.

    A log read by Python keeps its lines; a Parquet file has rows, not lines; the lines of
    a CSV that DuckDB scanned are looked up in the file, once, for the records asked.
    """

    def __init__(self, sources: Sequence[Source], records: dict[int, int]) -> None:
        """``records``: how many records the engine read from each source (by number)."""
        self._sources = sources
        self._records = records
        self._found: dict[int, dict[int, int]] = {}
        """Per source: lines of native records looked up so far (position → line)."""
        self._one_per_line: dict[int, bool] = {}

    def find(self, number: int, positions: Iterable[int]) -> None:
        """Look up, in one pass over a native CSV, the lines of the records at ``positions``."""
        native = self._sources[number].native
        found = self._found.setdefault(number, {})
        wanted = {p for p in positions if p >= 0 and p not in found}
        if not isinstance(native, NativeCsv) or not wanted:
            return
        records = self._records.get(number)
        if number not in self._one_per_line and records is not None:
            self._one_per_line[number] = lines_are_records(native.path, records)
        if self._one_per_line.get(number):
            found.update({p: p + 2 for p in wanted if p < (records or 0)})
        else:
            found.update(native_lines(native, wanted))

    def at(self, number: int, position: int) -> int | None:
        """The first line of the record at ``position`` (0-based, blank records included)."""
        source = self._sources[number]
        if isinstance(source.native, NativeParquet):
            return position + 1  # a Parquet file has rows, not lines
        if source.native is None:
            return source.lines[position] if 0 <= position < len(source.lines) else None
        self.find(number, [position])
        return self._found[number].get(position)


def lines_are_records(path: Path, records: int, block: int = 1 << 18) -> bool:
    """Whether every line after the header of a native CSV is one record.

    So it is when the file has as many lines as the engine read records, plus the header,
    and no carriage return that ends no line feed: a field spanning lines or an empty
    line would add a line without a record. Lines are counted on bytes, a block at a time
    (blocks that stay in the processor's cache: a quarter faster than 16 MiB ones).
    """
    lines = 0
    last = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(block):
            if last == b"\r" and not chunk.startswith(b"\n"):
                return False
            lone = _LONE_CR.search(chunk) if b"\r" in chunk else None
            if lone is not None and lone.start() < len(chunk) - 1:
                return False  # (a CR ending the block may meet its LF in the next one)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last == b"\r":
        return False
    return lines + (last != b"\n") == records + 1


_LONE_CR = re.compile(rb"\r(?!\n)")


def native_lines(native: NativeCsv, wanted: set[int]) -> dict[int, int]:
    """The first lines of the records at ``wanted`` positions of a native CSV, counted as the
    engine's reader counts them (empty lines are no records, lines of empty fields are).

    The file is streamed and left once the last wanted record is passed, so a problem in a
    10-million-row log costs neither a second copy of it in memory nor a full pass. Lines
    are counted on bytes while every line holds an even number of quotes (no field spans
    lines: a record is a line); otherwise the csv module reads the file again.
    """
    found = lines_by_bytes(native.path, wanted)
    return found if found is not None else lines_by_csv(native, wanted)


def lines_by_bytes(path: Path, wanted: set[int], block: int = 1 << 24) -> dict[int, int] | None:
    """:func:`native_lines` for files whose records are single lines; None when one is not."""
    found: dict[int, int] = {}
    last = max(wanted)
    position = -1  # of the last record seen
    line = 0  # physical lines passed, the header included
    header = True
    with path.open("rb") as handle:
        carry = b""
        while position < last:
            chunk = handle.read(block)
            data = carry + chunk
            if chunk:  # keep the part after the last LF: a line (or a CR LF) may go on
                cut = data.rfind(b"\n") + 1
                data, carry = data[:cut], data[cut:]
            if not data:
                if chunk:
                    continue  # no whole line yet
                break
            if header:
                header = False
                end = data.find(b"\n") + 1 or len(data)
                if b'"' in data[:end]:
                    return None
                data = data[end:]
                line += 1
            if _one_record_per_line(data):
                count = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
                records: Sequence[int] = range(count)  # the n-th record is the n-th line
            else:
                lines = data.splitlines()
                if b'"' in data and any(text.count(b'"') % 2 for text in lines):
                    return None
                count = len(lines)
                records = [index for index, text in enumerate(lines) if text]
            for index in sorted(p for p in wanted if position < p <= position + len(records)):
                found[index] = line + records[index - position - 1] + 1
            position += len(records)
            line += count
            if not chunk:
                break
    return found


def _one_record_per_line(data: bytes) -> bool:
    """Whether every line of ``data`` (whole lines, LF or CR LF ends) is one record: no
    quote, no empty line, no lone CR. Checked with byte searches only."""
    if b'"' in data or data.startswith((b"\n", b"\r\n")):
        return False
    if b"\n\n" in data or b"\n\r\n" in data:
        return False
    return b"\r" not in data or data.count(b"\r") == data.count(b"\r\n")


def lines_by_csv(native: NativeCsv, wanted: set[int]) -> dict[int, int]:
    """:func:`native_lines` through the csv module (records may span lines)."""
    found: dict[int, int] = {}
    last = max(wanted)
    with native.path.open("rb") as raw:
        # a native file is UTF-8 (a log in another encoding is read from its UTF-8 copy)
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        csv.field_size_limit(MAX_FIELD)  # the engine read the file: no field is longer
        reader = csv.reader(text, delimiter=native.delimiter)
        try:
            next(reader, None)
            position = -1
            start = reader.line_num + 1
            for row in reader:
                if row:
                    position += 1
                    if position in wanted:
                        found[position] = start
                    if position >= last:
                        break
                start = reader.line_num + 1
        except csv.Error:
            pass  # (the lines found so far; the others are shown without one)
    return found
