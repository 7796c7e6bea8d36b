"""CSV text to rows, and what the engine must know of a CSV it scans itself (blanks, long lines)."""

from __future__ import annotations

import csv
import io
import mmap
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from svcmetrics.errors import InputError
from svcmetrics.models import ColumnMapping
from svcmetrics.readers.headers import HEADER_ROWS, header_index

_DELIMITERS = (",", "\t", ";")


@dataclass(frozen=True)
class NativeCsv:
    """A well-formed UTF-8 CSV file that the engine scans itself (DuckDB's reader).

    Reading a large log in Python costs seconds and gigabytes; DuckDB's reader streams it.
    ``resolved`` maps each canonical field to its column's position.
    """

    path: Path
    delimiter: str
    width: int
    resolved: dict[str, int]
    detected: bool = True
    """The encoding was detected from the file's start, not given with ``--encoding``."""
    transcoded: bool = False
    """``path`` is a UTF-8 copy of a log in another encoding (the source's ``encoding``)."""


class Blanks(StrEnum):
    """What may surround the values of a native CSV, so what the engine must trim."""

    NONE = "none"
    """The file holds no blank after its header: nothing to trim."""
    SPACES = "spaces"
    """No value can hold a tab or a line break: trim the Unicode spaces."""
    ALL = "all"
    """Trim every blank: spaces, tabs and line breaks."""


def blanks(native: NativeCsv) -> Blanks:
    """What the values of a native CSV may begin or end with.

    Without a quote (so no field spans lines or hides a separator) and without a tab
    (unless tab is the separator), no value can hold a tab or a line break: the engine's
    plain trim() of spaces is three times cheaper than trimming every blank. Without any
    space after the header either, trimming is skipped (a tenth of a large file's load).
    The file is searched through a memory map, without a copy, one byte value at a time
    where it can be: a space of several bytes is looked for whole only when its first
    byte occurs and it is the only space starting with that byte (else it is assumed).
    """
    if native.path.stat().st_size == 0:
        return Blanks.NONE
    with native.path.open("rb") as handle:
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            if data.find(b'"') >= 0 or (native.delimiter != "\t" and data.find(b"\t") >= 0):
                return Blanks.ALL
            start = data.find(b"\n") + 1  # (the header's names are not values)
            if data.find(b" ", start) >= 0:
                return Blanks.SPACES
            for lead, encoded in _WIDE_SPACES.items():
                if data.find(lead, start) >= 0 and (
                    len(encoded) > 1 or data.find(encoded[0], start) >= 0
                ):
                    return Blanks.SPACES
    return Blanks.NONE


SPACES = "\u0020\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
"""The Unicode space separators (category Zs): what DuckDB's trim() takes by itself."""

BLANKS = SPACES + "\t\r\n"
"""What surrounds a value and is ignored: spaces of every width (the ideographic and the
no-break space included), tabs and line ends."""

_WIDE_SPACES: dict[bytes, list[bytes]] = {}
"""The spaces of several bytes in UTF-8, by their first byte."""
for _space in SPACES[1:]:
    _WIDE_SPACES.setdefault(_space.encode()[:1], []).append(_space.encode())


LONG_LINE = 1 << 20
"""A file with a stretch of this many bytes without a line break is read by Python."""


def long_line(path: Path, stretch: int = LONG_LINE) -> bool:
    """Whether some ``stretch`` bytes of a file, aligned, hold no line break.

    Otherwise no line is as long as twice ``stretch``, and DuckDB's reader, whose buffers
    are larger (see :func:`svcmetrics.engine.load.buffer_size`), reads every line: a last line
    longer than its buffer is dropped without an error (duckdb/duckdb#25825), and longer
    lines elsewhere fail one way or another. A file with such a line (a pasted document,
    a broken export) is left to Python, which reads it whole or names the field. Each
    stretch is searched until its first line break, tens of bytes in: the cost is that
    of one search per megabyte.
    """
    if path.stat().st_size < stretch:
        return False
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for start in range(0, len(data) - stretch + 1, stretch):
            end = start + stretch
            if data.find(b"\n", start, end) < 0 and data.find(b"\r", start, end) < 0:
                return True
    return False


def sniff_delimiter(text: str) -> str:
    """The separator of a CSV text: of comma, tab and semicolon, the one found (outside
    quotes) the same number of times on the first lines, preferring the most frequent;
    a note full of semicolons in a comma file's header does not fool it."""
    lines = [line for line in text.split("\n", 6)[:6] if line.strip()] or [""]

    def outside(line: str) -> str:
        return "".join(part for number, part in enumerate(line.split('"')) if number % 2 == 0)

    counts = {d: [outside(line).count(d) for line in lines] for d in _DELIMITERS}

    def score(delimiter: str) -> tuple[bool, int]:
        found = counts[delimiter]
        steady = found[0] > 0 and all(count == found[0] for count in found[1:-1] or found)
        return steady, found[0]

    best = max(_DELIMITERS, key=score)
    return best if counts[best][0] > 0 else ","


MAX_FIELD = 2 * 2**20
"""The longest CSV field read (2 MiB), the same as the engine's reader's longest line."""


def csv_rows(
    text: str, name: str, mapping: ColumnMapping | None = None
) -> tuple[list[str], list[list[str | None]], list[int]]:
    """Headers, non-empty records and the first line of each, of a CSV text.

    With a log's ``mapping``, the header may stand under a title (:func:`header_index`);
    the rows above it are not records. Without (a profile), it is the first row.
    """
    csv.field_size_limit(MAX_FIELD)
    # strict: a stray quote ("r1"x) is an error with its line, not silently repaired
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    next_line = 1
    head: list[list[str]] = []
    starts: list[int] = []
    try:
        for row in reader:
            head.append(row)
            starts.append(next_line)
            next_line = reader.line_num + 1
            if mapping is None or len(head) >= HEADER_ROWS:
                break
        if not head:
            raise InputError("empty_file", file=name)
        start = 0 if mapping is None else header_index(head, mapping)
        if start >= len(head):
            raise InputError("empty_file", file=name)
        headers = head[start]
        rows: list[list[str | None]] = []
        lines: list[int] = []
        for row, line in zip(head[start + 1 :], starts[start + 1 :], strict=True):
            if any(cell.strip() for cell in row):
                rows.append(list(row))
                lines.append(line)
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(list(row))
                lines.append(next_line)
            next_line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError("bad_csv", file=name, line=next_line, detail=str(exc)) from exc
    return headers, rows, lines


def head_rows(text: str) -> list[list[str]]:
    """The first rows of a CSV text (for :func:`header_index`), blank rows included."""
    lines = text.split("\n", HEADER_ROWS)[:HEADER_ROWS]
    reader = csv.reader(io.StringIO("\n".join(lines), newline=""), delimiter=sniff_delimiter(text))
    try:
        return list(reader)
    except csv.Error:
        return []
