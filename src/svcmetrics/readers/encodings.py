"""Bytes to text: a BOM, else UTF-8, else GB18030 or Big5 told apart; UTF-8 copies of logs."""

from __future__ import annotations

import codecs
import functools
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from svcmetrics.errors import InputError, Problem
from svcmetrics.readers import utf8copy
from svcmetrics.readers.headers import header_aliases
from svcmetrics.readers.utf8copy import LINE_CODECS, UNREADABLE, copy_utf8

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_bytes(file: Path, name: str) -> bytes:
    try:
        return file.read_bytes()
    except IsADirectoryError:
        raise InputError("not_a_file", file=name) from None
    except FileNotFoundError:
        raise InputError("file_not_found", file=name) from None
    except OSError as exc:
        raise InputError("unreadable", file=name, detail=exc.strerror or str(exc)) from exc


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
    aliases = header_aliases()
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
        params = {"encoding": encoding_option(self.codec), "other": encoding_option(other)}
        if private_use:
            return [Problem("encoding_private_use", file=name, params=params)]
        if self.other is not None:
            return [Problem("encoding_guess", file=name, params=params)]
        return []


def encoding_option(codec: str) -> str:
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


HEAD_BYTES = 1 << 16


def utf8_head(file: Path) -> tuple[str, str] | None:
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


def head_text(file: Path) -> str:
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


def transcode(file: Path, encoding: str | None, folder: Path, name: str) -> Transcoded | None:
    """A copy in UTF-8, in ``folder``, of a CSV log in another encoding.

    The encoding is ``encoding``, else the one its BOM names, else GB18030 or Big5 as
    the file's start decides (:func:`choose_legacy`). The file is decoded strictly, a few
    megabytes at a time, so a 10-million-row GBK ledger needs no more memory than a UTF-8
    one; a large file in GB18030, GBK or Big5 is decoded in pieces on all cores
    (:meth:`_Copy.run`). None when it cannot be read so (a byte the encoding refuses, a
    NUL, an unknown encoding): the whole file is then read by Python, which says why.
    """
    try:
        handle = file.open("rb")
    except OSError:
        return None
    with handle:
        first = handle.read(HEAD_BYTES)
        codec = encoding or next((c for bom, c in _BOMS if first.startswith(bom)), None)
        choice = None
        if codec is None:
            choice = _legacy_head(first, final=len(first) < HEAD_BYTES)
            if choice is None:
                return None
            codec = choice.codec
        try:  # (an unknown codec, or one that is no text encoding such as rot13)
            b"\x00".decode(codec, "ignore")
        except (LookupError, UnicodeError):
            return None
        descriptor, copy = tempfile.mkstemp(suffix=".csv", dir=folder)
        target = Path(copy)
        try:
            with open(descriptor, "wb") as out:
                job = _Copy(file, handle, out, folder, codec, first, choice is not None)
                head, private_use = job.run()
        except (UnicodeError, ValueError, OSError):
            target.unlink(missing_ok=True)
            return None
    notes = [] if choice is None else choice.notes(name, private_use)
    return Transcoded(target, head, codec, notes)


PIECE_BYTES = 8 << 20
"""The least a piece of a file decoded by a child interpreter holds: below about this, the
child's start (about 10 ms) and the joining cost more than they save."""

_MAX_PIECES = 16
"""(Each child holds a few megabytes; a big server's cores are not all worth a piece.)"""


_OWN_SHARE = 1.2
"""The first piece, decoded here, against each child's: a child needs about 15 ms to start
and exit, and the joining waits for the last child, so this process takes a little more."""


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not on every platform)
        return os.cpu_count() or 1


@dataclass(frozen=True)
class _Copy:
    """A UTF-8 copy being made: ``file``, open as ``handle`` with its ``first`` bytes read,
    decoded in ``codec`` into ``out``, a file in ``folder``; private use searched or not."""

    file: Path
    handle: BinaryIO
    out: BinaryIO
    folder: Path
    codec: str
    first: bytes
    private_use: bool

    def run(self) -> tuple[str, bool]:
        """:func:`~svcmetrics.readers.utf8copy.copy_utf8` of the whole file; a large file in
        one of the :data:`~svcmetrics.readers.utf8copy.LINE_CODECS` is cut at line breaks
        into a piece for each core, the first decoded here while child interpreters decode
        the others into files of their own in ``folder``, then joined to ``out`` in order.

        The children are started by ``subprocess`` (fork and exec, no Python code in
        between: safe beside DuckDB's threads, and without Python 3.12's warning about
        forking a threaded process) as ``python -I -S utf8copy.py``, which imports only the
        standard library. A piece that cannot be decoded raises as the whole file would;
        when a child fails otherwise (killed, out of memory), this process decodes the file
        alone.
        """
        cuts = self._cuts()
        if len(cuts) > 2:
            done = self._in_pieces(cuts)
            if done is not None:
                return done
            self.out.seek(0)
            self.out.truncate()
            self.handle.seek(len(self.first))
        return self._decode(None)

    def _decode(self, length: int | None) -> tuple[str, bool]:
        return copy_utf8(
            self.handle, self.out, self.codec, length, self.first, private_use=self.private_use
        )

    def _cuts(self) -> list[int]:
        """Where to cut the file for the cores: 0, a point just after a line break past
        every n-th of the file (never inside its first bytes, already read), and its end;
        or just [0, end] when the file is small, one core is all there is, or the codec is
        not one of the :data:`~svcmetrics.readers.utf8copy.LINE_CODECS`."""
        size = os.fstat(self.handle.fileno()).st_size
        count = min(_cores(), size // PIECE_BYTES, _MAX_PIECES)
        if (
            count < 2
            or codecs.lookup(self.codec).name not in LINE_CODECS
            or not _can_start_children()
        ):
            return [0, size]
        cuts = [0]
        share = 1 / (count - 1 + _OWN_SHARE)
        for number in range(1, count):
            at_least = int(size * (number - 1 + _OWN_SHARE) * share)
            after = max(at_least, cuts[-1], len(self.first))
            self.handle.seek(after)
            at = self.handle.read(HEAD_BYTES).find(b"\n")
            if at >= 0 and after + at + 1 < size:
                cuts.append(after + at + 1)
        self.handle.seek(len(self.first))
        return [*cuts, size]

    def _in_pieces(self, cuts: list[int]) -> tuple[str, bool] | None:
        """:meth:`run` with the file cut at ``cuts``; None when a child could not be started
        or failed for another reason than the file (the caller then decodes it alone)."""
        pieces: list[Path] = []
        children: list[subprocess.Popen[bytes]] = []
        try:
            try:
                for start, end in itertools.pairwise(cuts[1:]):
                    descriptor, piece = tempfile.mkstemp(suffix=".part", dir=self.folder)
                    os.close(descriptor)
                    pieces.append(Path(piece))
                    children.append(
                        _child(self.file, start, end, self.codec, pieces[-1], self.private_use)
                    )
            except OSError:
                return None
            head, found = self._decode(cuts[1])
            said = [_result(child) for child in children]
            if UNREADABLE in said:
                raise ValueError("a piece cannot be decoded")
            if None in said:
                return None
            self.out.flush()
            for piece_path in pieces:
                _append(self.out, piece_path)
            return head, found or "private-use" in said
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.wait()
            for piece_path in pieces:
                piece_path.unlink(missing_ok=True)


def _can_start_children() -> bool:
    """Whether this interpreter can run :mod:`~svcmetrics.readers.utf8copy` as a script (not
    when embedded or frozen, or when the package is imported from a zip)."""
    return bool(sys.executable) and os.path.isfile(utf8copy.__file__)


def _child(
    file: Path, start: int, end: int, codec: str, piece: Path, private_use: bool
) -> subprocess.Popen[bytes]:
    """A child interpreter copying bytes ``start`` to ``end`` of ``file`` into ``piece``."""
    where = [str(file.absolute()), str(start), str(end), codec, str(piece)]
    return subprocess.Popen(
        [sys.executable, "-I", "-S", utf8copy.__file__, *where, str(int(private_use))],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _result(child: subprocess.Popen[bytes]) -> str | int | None:
    """What a child says: ``ok``, ``private-use``, :data:`UNREADABLE`, or None when it failed
    for another reason."""
    said, _ = child.communicate()
    if child.returncode == UNREADABLE:
        return UNREADABLE
    text = said.decode("ascii", "replace").strip()
    return text if child.returncode == 0 and text in ("ok", "private-use") else None


def _append(out: BinaryIO, piece: Path) -> None:
    """Add a piece's bytes at the end of ``out`` (flushed), in the kernel where it can."""
    with piece.open("rb") as source:
        size = os.fstat(source.fileno()).st_size
        sent = 0
        try:
            while sent < size:
                count = os.sendfile(out.fileno(), source.fileno(), sent, size - sent)
                if count == 0:
                    break
                sent += count
        except (AttributeError, OSError):
            pass  # (no sendfile here, or not between these files: copy what is left)
        if sent < size:
            source.seek(sent)
            out.seek(0, os.SEEK_END)
            shutil.copyfileobj(source, out, 1 << 20)
