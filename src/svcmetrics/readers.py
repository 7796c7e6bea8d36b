"""Bytes to rows: encodings, CSV dialects, YAML without type guessing, header aliases.

Every value is read as text; nothing here judges whether a value is valid (the engine
does that in bulk), but every row keeps its line so that problems can point at it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import functools
import io
import mmap
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import yaml

from svcmetrics.errors import ConfigError, InputError, Problem
from svcmetrics.models import (
    RECORD_FIELDS,
    ColumnMapping,
    LogMapping,
    LogSpec,
    Required,
    is_total,
    record_columns,
)

T = TypeVar("T")

STDIN = "-"
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DELIMITERS = (",", "\t", ";")
_YAML_NULLS = frozenset({"~", "null", "Null", "NULL"})


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
    """The first line of each record, in record order (computed late for native files)."""
    headers: dict[str, str] = field(default_factory=dict)
    """Canonical field → the header it was read from (for messages)."""
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    """Canonical field → {raw value (lower case) → canonical value} from the config."""
    date_format: str | None = None
    constants: dict[str, str] = field(default_factory=dict)
    """Fields the file lacks, the same on every row (added by the engine)."""
    native: NativeCsv | NativeParquet | None = None
    mapping: ColumnMapping | None = None
    records: int | None = None
    """How many records the engine read from a native CSV (blank ones included)."""
    totals: list[bool] = field(default_factory=list)
    """Per record read by Python: its first non-empty cell is a total word (spec 1.4)."""
    notes: list[Problem] = field(default_factory=list)
    """What reading it decided and the user should know (an encoding chosen by a guess)."""
    _found: dict[int, int] = field(default_factory=dict, repr=False)
    """Lines of native records looked up so far (position → line)."""
    _one_per_line: bool | None = field(default=None, repr=False)

    def read_in_python(self) -> Source:
        """The same file read by Python's csv module (when the engine's reader refuses it)."""
        if not isinstance(self.native, NativeCsv) or self.mapping is None:
            return self
        given = None if self.native.detected else self.encoding
        if self.native.transcoded:
            given = "utf-8"
        text, used = decode(_read_bytes(self.native.path, self.name), self.name, given)
        source = read_csv_text(text, self.name, used, self.mapping)
        source.notes = self.notes
        if self.native.transcoded:
            source.encoding = self.encoding
        return source

    def find_lines(self, positions: Iterable[int]) -> None:
        """Look up, in one pass over a native CSV, the lines of the records at ``positions``."""
        wanted = {p for p in positions if p >= 0 and p not in self._found}
        if not isinstance(self.native, NativeCsv) or not wanted:
            return
        if self._one_per_line is None and self.records is not None:
            self._one_per_line = _lines_are_records(self.native.path, self.records)
        if self._one_per_line:
            self._found.update({p: p + 2 for p in wanted if p < (self.records or 0)})
        else:
            self._found.update(_native_lines(self.native, wanted))

    def line_at(self, position: int) -> int | None:
        """The first line of the record at ``position`` (0-based, blank records included)."""
        if isinstance(self.native, NativeParquet):
            return position + 1  # a Parquet file has rows, not lines
        if self.native is None:
            return self.lines[position] if 0 <= position < len(self.lines) else None
        self.find_lines([position])
        return self._found.get(position)


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


def _lines_are_records(path: Path, records: int, block: int = 1 << 18) -> bool:
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


def _native_lines(native: NativeCsv, wanted: set[int]) -> dict[int, int]:
    """The first lines of the records at ``wanted`` positions of a native CSV, counted as the
    engine's reader counts them (empty lines are no records, lines of empty fields are).

    The file is streamed and left once the last wanted record is passed, so a problem in a
    10-million-row log costs neither a second copy of it in memory nor a full pass. Lines
    are counted on bytes while every line holds an even number of quotes (no field spans
    lines: a record is a line); otherwise the csv module reads the file again.
    """
    found = _lines_by_bytes(native.path, wanted)
    return found if found is not None else _lines_by_csv(native, wanted)


def _lines_by_bytes(path: Path, wanted: set[int], block: int = 1 << 24) -> dict[int, int] | None:
    """:func:`_native_lines` for files whose records are single lines; None when one is not."""
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


def _lines_by_csv(native: NativeCsv, wanted: set[int]) -> dict[int, int]:
    """:func:`_native_lines` through the csv module (records may span lines)."""
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


def decode(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Text and the encoding used: a BOM wins, else strict UTF-8, else GB18030 or Big5
    (spec 1.4, 4); ``encoding`` overrides."""
    text, used, _ = decode_noted(data, name, encoding)
    return text, used


def decode_noted(
    data: bytes, name: str, encoding: str | None = None
) -> tuple[str, str, list[Problem]]:
    """:func:`decode`, with the notices a guessed encoding calls for (spec 1.4)."""
    if encoding:
        try:
            return data.decode(encoding), encoding, []
        except LookupError as exc:
            raise InputError("unknown_encoding", file=name, encoding=encoding) from exc
        except UnicodeDecodeError as exc:
            raise InputError(
                "wrong_encoding", file=name, encoding=encoding, offset=exc.start
            ) from exc
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec, []
            except UnicodeDecodeError as exc:
                raise InputError(
                    "wrong_encoding", file=name, encoding=codec, offset=exc.start
                ) from exc
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    texts: dict[str, str] = {}
    failure: UnicodeDecodeError | None = None
    for codec in LEGACY_CODECS:
        try:
            texts[codec] = data.decode(codec)
        except UnicodeDecodeError as exc:
            failure = failure or exc  # where GB18030 stops (UTF-8 stops at any Chinese)
    if not texts:
        assert failure is not None
        raise InputError("undecodable", file=name, offset=failure.start)
    choice = choose_legacy({codec: text[:HEAD_BYTES] for codec, text in texts.items()})
    text = texts[choice.codec]
    return text, choice.codec, choice.notes(name, _PRIVATE_USE.search(text) is not None)


LEGACY_CODECS: tuple[str, ...] = ("gb18030", "cp950")
"""The encodings a Chinese file that is not UTF-8 is tried in: mainland GB18030 (GBK's
superset) first, then Big5 as Excel on Traditional Chinese Windows writes it."""

_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")
"""Characters no font shows: what Big5 bytes read as GB18030 often become."""


@functools.cache
def _common_characters() -> frozenset[str]:
    """The characters of everyday Chinese text: GB2312's first level (3,755 simplified
    characters) and Big5's frequently used ones (5,401 traditional characters).

    Text decoded in the wrong one of GB18030 and Big5 falls largely outside them (into
    kana, symbols, private use or rare characters), which tells the decodings apart.
    """
    found: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                found.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                pass  # (the five unassigned places at the end of the level)
    for lead in range(0xA4, 0xC7):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            if lead == 0xC6 and trail > 0x7E:
                break  # the level ends at C67E
            try:
                found.add(bytes((lead, trail)).decode("cp950"))
            except UnicodeDecodeError:
                pass
    return frozenset(found)


def _uncommon(text: str) -> int:
    """How many characters of ``text`` are neither ASCII, nor common Chinese characters,
    nor punctuation (general, CJK and full-width)."""
    common = _common_characters()
    return sum(
        1
        for char in text
        if char > "\x7f"
        and char not in common
        and not ("\u2000" <= char <= "\u206f" or "\u3000" <= char <= "\u303f")
        and not "\uff00" <= char <= "\uffef"
    )


def _known_headers(text: str) -> int:
    """How many cells of the first lines of ``text`` are known Chinese headers (1.2, 1.4)."""
    aliases = _aliases()
    cells = re.split("[,\t;\n]", "\n".join(text.split("\n", 10)[:10]))
    return sum(
        1
        for cell in cells
        if not cell.isascii() and cell.strip().strip('"').strip().lower() in aliases
    )


@dataclass(frozen=True)
class LegacyChoice:
    """The encoding chosen for a file that is neither UTF-8 nor marked by a BOM."""

    codec: str
    other: str | None
    """The other candidate, when both decoded the file's start and its headers did not
    tell them apart (so the choice is stated)."""

    def notes(self, name: str, private_use: bool) -> list[Problem]:
        """The notices the choice calls for: a guess is stated, private use is never silent."""
        other = self.other or next(c for c in LEGACY_CODECS if c != self.codec)
        params = {"encoding": _encoding_option(self.codec), "other": _encoding_option(other)}
        if private_use:
            return [Problem("encoding_private_use", file=name, params=params)]
        if self.other is not None:
            return [Problem("encoding_guess", file=name, params=params)]
        return []


def _encoding_option(codec: str) -> str:
    return "big5" if codec == "cp950" else codec


def choose_legacy(heads: dict[str, str]) -> LegacyChoice:
    """Of the decodings of a file's start in the :data:`LEGACY_CODECS` that succeeded,
    the one whose headers are known wins; when both or neither are, the one with fewer
    uncommon characters (:func:`_uncommon`; GB18030 on a tie), and the choice is stated."""
    if len(heads) == 1:
        return LegacyChoice(next(iter(heads)), None)
    known = {codec: _known_headers(text) for codec, text in heads.items()}
    if len(set(known.values())) > 1:
        return LegacyChoice(max(heads, key=lambda codec: known[codec]), None)
    uncommon = {codec: _uncommon(text) for codec, text in heads.items()}
    best = min(heads, key=lambda codec: (uncommon[codec], LEGACY_CODECS.index(codec)))
    return LegacyChoice(best, next(codec for codec in heads if codec != best))


def _legacy_head(head: bytes, final: bool) -> LegacyChoice | None:
    """:func:`choose_legacy` on a file's first bytes; None when no candidate reads them."""
    heads: dict[str, str] = {}
    for codec in LEGACY_CODECS:
        try:
            heads[codec] = codecs.getincrementaldecoder(codec)().decode(head, final=final)
        except UnicodeDecodeError:
            continue
    return choose_legacy(heads) if heads else None


def effective_mapping(top: ColumnMapping, spec: LogSpec | None) -> LogMapping:
    """A log's mapping: its own settings override the top level's, field by field."""
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
        header_row=spec.header_row,
    )


HEADER_ROWS = 10
"""The header is looked for in this many first rows (under a title and blank rows)."""


def _header_fit(cells: Sequence[str | None], mapping: ColumnMapping) -> tuple[bool, int]:
    """Whether a row holds every required column as a header, and how many fields it names."""
    aliases = _aliases()
    texts = {cell.strip().lower() for cell in cells if cell}
    found = {aliases[text] for text in texts if text in aliases}
    found |= {key for key, header in mapping.columns.items() if header.strip().lower() in texts}
    required = {
        name
        for name, column in record_columns().items()
        if column.required == Required() and name not in mapping.constants
    }
    return required <= found, len(found)


def _header_index(rows: Sequence[Sequence[str | None]], mapping: ColumnMapping) -> int:
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


def _head_rows(text: str) -> list[list[str]]:
    """The first rows of a CSV text (for :func:`_header_index`), blank rows included."""
    lines = text.split("\n", HEADER_ROWS)[:HEADER_ROWS]
    reader = csv.reader(io.StringIO("\n".join(lines), newline=""), delimiter=_sniff_delimiter(text))
    try:
        return list(reader)
    except csv.Error:
        return []


def _first_is_total(row: Sequence[str | None]) -> bool:
    """Whether a row's first non-empty cell is a total word."""
    return is_total(next((cell for cell in row if cell and cell.strip()), None))


@functools.cache
def _aliases() -> dict[str, str]:
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
    resolved = match_headers(headers, mapping.columns, _aliases(), name)
    for canonical in mapping.constants:
        if canonical in resolved:
            raise ConfigError(
                "constant_and_column",
                file=name,
                field=canonical,
                header=headers[resolved[canonical]],
            )
    return resolved


def _build_source(
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
    source = _source(name, encoding, headers, resolved, mapping, columns=columns, lines=lines)
    source.totals = [_first_is_total(row) for row in rows]
    return source


def _source(
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
    aliases = _aliases()
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
        params["other"] = _encoding_option(next(c for c in LEGACY_CODECS if c != encoding))
        params["encoding"] = _encoding_option(encoding)
    if not free:
        kind = "missing_columns_absent"  # (every header is known: constants: is the fix)
    return InputError(kind, file=name, **params)


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
    return _source(name, None, headers, resolved, mapping, native=native)


HEAD_BYTES = 1 << 16


def _utf8_head(file: Path) -> tuple[str, str] | None:
    """The start of a file that looks like plain UTF-8 text, and its encoding; else None.

    Only the start is decoded here: the engine's reader checks the rest, and a file it
    refuses is read again by Python, whole, with encoding detection.
    """
    try:
        with file.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        return None
    encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    return text, encoding


def _scanned_csv(
    file: Path, name: str, mapping: ColumnMapping, encoding: str | None, spill: Path | None
) -> Source | None:
    """A CSV log left for the engine to scan (from a UTF-8 copy in ``spill`` when it is in
    another encoding); None when Python must read it (its start is not text, its header
    is quoted, the copy failed)."""
    utf8 = encoding in (None, "utf-8", "utf-8-sig")
    head = _utf8_head(file) if utf8 else None
    scanned = file
    notes: list[Problem] = []
    if head is None and spill is not None and not (encoding and utf8):
        copied = _transcode(file, encoding, spill, name)
        if copied is not None:
            scanned, head, notes = copied.path, (copied.head, copied.codec), copied.notes
    if head is None or not head[0].strip() or '"' in head[0].split("\n", 1)[0]:
        return None
    if _long_line(scanned) or _header_index(_head_rows(head[0]), mapping) != 0:
        return None  # (a header under a title row: an office's file, read by Python)
    source = _native_csv(scanned, head[0], name, head[1], mapping)
    source.notes = notes
    if isinstance(source.native, NativeCsv):
        source.native = replace(
            source.native, detected=encoding is None, transcoded=scanned != file
        )
    return source


LONG_LINE = 1 << 20
"""A file with a stretch of this many bytes without a line break is read by Python."""


def _long_line(path: Path, stretch: int = LONG_LINE) -> bool:
    """Whether some ``stretch`` bytes of a file, aligned, hold no line break.

    Otherwise no line is as long as twice ``stretch``, and DuckDB's reader, whose buffers
    are larger (see :func:`svcmetrics.engine.buffer_size`), reads every line: a last line
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


def _spool(stream: BinaryIO, folder: Path) -> Path:
    """Standard input copied into a file in ``folder``, a megabyte at a time."""
    descriptor, name = tempfile.mkstemp(suffix=".csv", dir=folder)
    with open(descriptor, "wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    return Path(name)


def _head_text(file: Path) -> str:
    """The start of a file as text, enough to tell YAML from CSV."""
    with file.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    codec = next((c for bom, c in _BOMS if head.startswith(bom)), "utf-8")
    return head.decode(codec, errors="replace").lstrip("\ufeff")


@dataclass(frozen=True)
class Transcoded:
    """A UTF-8 copy of a CSV log in another encoding."""

    path: Path
    head: str
    """The copy's start (its header)."""
    codec: str
    """The encoding the log was read in."""
    notes: list[Problem]


def _transcode(file: Path, encoding: str | None, folder: Path, name: str) -> Transcoded | None:
    """A copy in UTF-8, in ``folder``, of a CSV log in another encoding.

    The encoding is ``encoding``, else the one its BOM names, else GB18030 or Big5 as
    the file's start decides (:func:`choose_legacy`). The file is decoded strictly, a
    megabyte at a time, so a 10-million-row GBK ledger needs no more memory than a UTF-8
    one. None when it cannot be read so (a byte the encoding refuses, a NUL, an unknown
    encoding): the whole file is then read by Python, which says why.
    """
    try:
        handle = file.open("rb")
    except OSError:
        return None
    with handle:
        chunk = handle.read(HEAD_BYTES)
        codec = encoding or next((c for bom, c in _BOMS if chunk.startswith(bom)), None)
        choice = None
        if codec is None:
            choice = _legacy_head(chunk, final=len(chunk) < HEAD_BYTES)
            if choice is None:
                return None
            codec = choice.codec
        try:
            decoder = codecs.getincrementaldecoder(codec)()
        except LookupError:
            return None
        descriptor, copy = tempfile.mkstemp(suffix=".csv", dir=folder)
        target = Path(copy)
        head = ""
        private_use = False
        try:
            with open(descriptor, "w", encoding="utf-8", newline="") as out:
                while True:
                    text = decoder.decode(chunk, final=not chunk)
                    if "\x00" in text:
                        raise ValueError("NUL")
                    if choice is not None and not private_use:
                        private_use = _PRIVATE_USE.search(text) is not None
                    head = head or text
                    out.write(text)
                    if not chunk:
                        break
                    chunk = handle.read(1 << 20)
        except (UnicodeError, ValueError, OSError):
            target.unlink(missing_ok=True)
            return None
    notes = [] if choice is None else choice.notes(name, private_use)
    return Transcoded(target, head, codec, notes)


def _native_csv(path: Path, text: str, name: str, encoding: str, mapping: ColumnMapping) -> Source:
    """A UTF-8 CSV left for the engine to scan: only its header is read here."""
    delimiter = _sniff_delimiter(text)
    first = text[: text.find("\n") + 1 or len(text)]
    headers = next(csv.reader(io.StringIO(first, newline=""), delimiter=delimiter), [])
    if not headers:
        raise InputError("empty_file", file=name)
    resolved = resolve_headers(headers, mapping, name)
    native = NativeCsv(path, delimiter, len(headers), resolved)
    return _source(name, encoding, headers, resolved, mapping, native=native)


def _sniff_delimiter(text: str) -> str:
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


def read_csv_text(text: str, name: str, encoding: str | None, mapping: ColumnMapping) -> Source:
    """Rows of a CSV text (comma, tab or semicolon separated) with their first lines."""
    headers, rows, lines = _csv_rows(text, name, mapping)
    return _build_source(name, encoding, headers, rows, lines, mapping)


def _scalar(node: yaml.Node, name: str) -> str | None:
    if not isinstance(node, yaml.ScalarNode):
        raise InputError("yaml_not_scalar", file=name, line=node.start_mark.line + 1, problems=[])
    value = str(node.value)
    # a plain scalar has style None in PyYAML's Python parser, "" in libyaml's
    if not node.style and (value in _YAML_NULLS or value == ""):
        return None
    return value


SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader, parsing in C (libyaml) where PyYAML was built with it: ten times
faster than the pure-Python parser, with the same nodes, marks and errors."""

MAX_YAML_BYTES = 50 * 2**20
"""YAML logs above 50 MB are refused: YAML is read whole; CSV and Parquet stream."""
MAX_YAML_ALIASES = 1000
"""More aliases than this is refused: a few aliases can stand for billions of values."""


def guard_yaml(text: str, name: str, error: type[InputError] = InputError) -> None:
    """Refuse YAML that is too large or too aliased to read safely (issue: untrusted files)."""
    if len(text) > MAX_YAML_BYTES:
        raise error("yaml_too_large", file=name, limit=MAX_YAML_BYTES // 2**20)
    if "*" in text:
        aliases = 0
        try:
            for event in yaml.parse(text, Loader=SAFE_LOADER):
                if isinstance(event, yaml.AliasEvent):
                    aliases += 1
                    if aliases > MAX_YAML_ALIASES:
                        raise error("yaml_too_many_aliases", file=name, limit=MAX_YAML_ALIASES)
        except yaml.YAMLError:
            return  # reported with its line when the text is read


def parse_yaml(
    text: str, name: str, parse: Callable[[str], T], error: type[InputError] = InputError
) -> T:
    """``parse(text)`` after :func:`guard_yaml`, every failure turned into ``error``."""
    guard_yaml(text, name, error)
    try:
        return parse(text)
    except yaml.YAMLError as exc:
        if "nesting depth" in str(getattr(exc, "problem", "")):  # libyaml's limit: 1000
            raise error("yaml_too_deep", file=name) from None
        mark = getattr(exc, "problem_mark", None)
        raise error(
            "bad_yaml", file=name, line=mark.line + 1 if mark else None, detail=str(exc)
        ) from exc
    except RecursionError:
        raise error("yaml_too_deep", file=name) from None
    except (ValueError, TypeError, IndexError, AttributeError, OverflowError) as exc:
        # PyYAML's constructors raise these for values like 2026-02-30 or !!int ''
        raise error("bad_yaml_value", file=name, detail=str(exc)) from exc


def read_yaml_text(text: str, name: str, encoding: str | None, mapping: ColumnMapping) -> Source:
    """Records of a YAML log (a list of mappings, or ``records:`` holding one).

    The text is composed, not constructed: scalars stay text (``no`` stays ``no``, ``0123``
    stays ``0123``), tags are never executed, and every record keeps its line.
    """
    root = parse_yaml(text, name, lambda text: yaml.compose(text, Loader=SAFE_LOADER))
    if root is None:
        raise InputError("empty_file", file=name)
    if isinstance(root, yaml.MappingNode):
        items = {_scalar(key, name): value for key, value in root.value}
        if "records" not in items:
            raise InputError("yaml_no_records", file=name)
        root = items["records"]
    if not isinstance(root, yaml.SequenceNode):
        raise InputError("yaml_no_records", file=name)
    headers: list[str] = []
    index: dict[str, int] = {}
    records: list[dict[int, str | None]] = []
    lines: list[int] = []
    for item in root.value:
        if not isinstance(item, yaml.MappingNode):
            raise InputError("yaml_not_mapping", file=name, line=item.start_mark.line + 1)
        record: dict[int, str | None] = {}
        for key_node, value_node in item.value:
            key = _scalar(key_node, name) or ""
            if key not in index:
                index[key] = len(headers)
                headers.append(key)
            record[index[key]] = _scalar(value_node, name)
        records.append(record)
        lines.append(item.start_mark.line + 1)
    rows: list[list[str | None]] = [
        [record.get(position) for position in range(len(headers))] for record in records
    ]
    return _build_source(name, encoding, headers, rows, lines, mapping)


EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


def split_sheet(path: str) -> tuple[str, str | None]:
    """``book.xlsx#Sheet`` → (``book.xlsx``, ``Sheet``); other paths are returned whole."""
    head, hash_sign, sheet = path.rpartition("#")
    if hash_sign and head.lower().endswith(EXCEL_SUFFIXES):
        return head, sheet
    return path, None


def _excel_text(cell: object) -> str | None:
    """An Excel cell as text: date cells as ISO dates, whole numbers without ``.0``.

    A number of more than 15 significant digits lost its last digits inside the workbook
    (an 18-digit 身份证号 typed as a number): it is kept as Excel shows it
    (``1.10101199003075E+17``, so two equal cells stay equal, and an identifier gets a
    ``mangled_id`` warning) rather than given invented digits (spec 1.4).
    """
    if cell is None or cell == "":
        return None
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, float | int) and float(cell).is_integer():
        return _excel_number(float(cell))
    if isinstance(cell, float):
        return repr(cell)
    return str(cell)


EXCEL_DIGITS = 15
"""Excel keeps a number's first 15 significant digits and shows no more."""


def _excel_number(cell: float) -> str:
    """A whole number cell as Excel shows it: its digits when it has at most 15 significant
    digits (all Excel keeps), else the scientific form Excel displays: its last digits are
    already lost, and reading them from the float would invent them."""
    shortest = repr(cell + 0.0)  # (-0.0 + 0.0 is 0.0: no "-0")
    significant = shortest.split("e")[0].lstrip("-").replace(".", "").strip("0")
    if len(significant) <= EXCEL_DIGITS:
        return f"{Decimal(shortest).to_integral_value():f}"
    return _as_excel_shows(cell)


def _as_excel_shows(number: float) -> str:
    """A large number as Excel's General format shows it: ``1.10101199003075E+17``."""
    mantissa, exponent = f"{number:.{EXCEL_DIGITS - 1}E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"


def _excel_rows(
    path: Path, name: str, sheet: str | None, mapping: ColumnMapping | None = None
) -> tuple[list[str], list[list[str | None]], list[int]]:
    """Headers, non-empty rows (as text) and their row numbers of a workbook's sheet.

    python-calamine reads .xlsx, .xls and .ods alike and hands over typed cells, so date
    cells arrive as dates and ids typed as numbers can be turned back into text. With a
    log's ``mapping``, the header may stand under a title (:func:`_header_index`); without
    (a profile), the header is the first row.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    if not path.exists():
        raise InputError("file_not_found", file=name)
    try:
        book = CalamineWorkbook.from_path(str(path))
        if sheet is None:
            table = book.get_sheet_by_index(0)
        elif sheet in book.sheet_names:
            table = book.get_sheet_by_name(sheet)
        else:
            raise InputError(
                "no_such_sheet", file=name, sheet=sheet, sheets=", ".join(book.sheet_names)
            )
        rows = table.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as exc:
        raise InputError("bad_excel", file=name, detail=str(exc)) from exc
    if not rows:
        raise InputError("empty_file", file=name)
    start = 0
    if mapping is not None:
        head = [[_excel_text(cell) for cell in row] for row in rows[:HEADER_ROWS]]
        start = _header_index(head, mapping)
        if start >= len(rows):
            raise InputError("empty_file", file=name)
    headers = [_excel_text(cell) or "" for cell in rows[start]]
    body: list[list[str | None]] = []
    lines: list[int] = []
    for number, row in enumerate(rows[start + 1 :], start=start + 2):
        cells = [_excel_text(cell) for cell in row]
        if any(cell is not None and cell.strip() for cell in cells):
            body.append(cells)
            lines.append(number)
    return headers, body, lines


MAX_FIELD = 2 * 2**20
"""The longest CSV field read (2 MiB), the same as the engine's reader's longest line."""


def _csv_rows(
    text: str, name: str, mapping: ColumnMapping | None = None
) -> tuple[list[str], list[list[str | None]], list[int]]:
    """Headers, non-empty records and the first line of each, of a CSV text.

    With a log's ``mapping``, the header may stand under a title (:func:`_header_index`);
    the rows above it are not records. Without (a profile), it is the first row.
    """
    csv.field_size_limit(MAX_FIELD)
    # strict: a stray quote ("r1"x) is an error with its line, not silently repaired
    delimiter = _sniff_delimiter(text)
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
        start = 0 if mapping is None else _header_index(head, mapping)
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


def _read_bytes(file: Path, name: str) -> bytes:
    try:
        return file.read_bytes()
    except IsADirectoryError:
        raise InputError("not_a_file", file=name) from None
    except FileNotFoundError:
        raise InputError("file_not_found", file=name) from None
    except OSError as exc:
        raise InputError("unreadable", file=name, detail=exc.strerror or str(exc)) from exc


def read_table(
    path: Path, name: str, sheet: str | None = None
) -> tuple[list[str], list[list[str | None]], list[int]]:
    """Headers, rows as text and their lines (or sheet rows) of a small CSV or Excel table
    (a profile kept in Excel)."""
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _excel_rows(path, name, sheet)
    text, _ = decode(_read_bytes(path, name), name)
    return _csv_rows(text, name)


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
            if not _is_yaml(STDIN, _head_text(file)):
                source = _scanned_csv(file, name, mapping, encoding, spill)
                if source is not None:
                    return source
            data = _read_bytes(file, name)
    else:
        path, sheet = split_sheet(path)
        file = Path(path) if base is None else base / path
        if file.suffix.lower() == ".parquet":
            return read_parquet(file, name, mapping)
        if file.suffix.lower() in EXCEL_SUFFIXES:
            headers, rows, lines = _excel_rows(file, name, sheet, mapping)
            return _build_source(name, None, headers, rows, lines, mapping)
        if not _is_yaml(name, "") and file.is_file():
            source = _scanned_csv(file, name, mapping, encoding, spill)
            if source is not None:
                return source
        data = _read_bytes(file, name)
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
