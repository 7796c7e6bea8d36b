"""Bytes to text: a BOM, else UTF-8, else GB18030 or Big5 told apart; UTF-8 copies of logs."""

from __future__ import annotations

import codecs
import itertools
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from svcmetrics import early, pieces, sniff
from svcmetrics.errors import InputError, Problem
from svcmetrics.readers.headers import header_aliases
from svcmetrics.sniff import HEAD_BYTES, LEGACY_CODECS, LegacyChoice, bom_codec, encoding_option
from svcmetrics.utf8copy import UNREADABLE, copy_utf8

__all__ = [
    "HEAD_BYTES",
    "LEGACY_CODECS",
    "LegacyChoice",
    "Transcoded",
    "choose_legacy",
    "decode",
    "decode_noted",
    "encoding_option",
    "head_text",
    "read_bytes",
    "transcode",
    "utf8_head",
]


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
    codec = bom_codec(data)
    if codec is not None:
        try:
            return data.decode(codec), codec, []
        except UnicodeDecodeError as exc:
            raise InputError("wrong_encoding", file=name, encoding=codec, offset=exc.start) from exc
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


_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")
"""Characters no font shows: what Big5 bytes read as GB18030 often become."""


def _known_headers(text: str) -> int:
    """How many cells of the first lines of ``text`` are known Chinese headers (1.2, 1.4)."""
    aliases = header_aliases()
    cells = re.split("[,\t;\n]", "\n".join(text.split("\n", 10)[:10]))
    return sum(
        1
        for cell in cells
        if not cell.isascii() and cell.strip().strip('"').strip().lower() in aliases
    )


def choose_legacy(heads: dict[str, str]) -> LegacyChoice:
    """:func:`svcmetrics.sniff.choose_legacy`, counting the headers the record schema knows."""
    return sniff.choose_legacy(heads, _known_headers)


def utf8_head(file: Path) -> tuple[str, str] | None:
    """The start of a file that looks like plain UTF-8 text, and its encoding; else None.

    Only the start is decoded here: the engine's reader checks the rest, and a file it
    refuses is read again by Python, whole, with encoding detection.
    """
    try:
        with file.open("rb") as handle:
            return sniff.utf8_text(handle.read(HEAD_BYTES))
    except OSError:
        return None


def head_text(file: Path) -> str:
    """The start of a file as text, enough to tell YAML from CSV."""
    with file.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    codec = bom_codec(head) or "utf-8"
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
        codec = encoding or bom_codec(first)
        choice = None
        if codec is None:
            choice = sniff.legacy_head(first, len(first) < HEAD_BYTES, _known_headers)
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
                job = _Copy(file, handle, out, target, codec, first, choice is not None)
                head, private_use = job.run()
        except (UnicodeError, ValueError, OSError):
            target.unlink(missing_ok=True)
            return None
    notes = [] if choice is None else choice.notes(name, private_use)
    return Transcoded(target, head, codec, notes)


_OWN_SHARE = 1.2
"""The first piece, decoded here, against each child's: a child needs about 15 ms to start
and exit, and the joining waits for the last child, so this process takes a little more."""


@dataclass(frozen=True)
class _Copy:
    """A UTF-8 copy being made: ``file``, open as ``handle`` with its ``first`` bytes read,
    decoded in ``codec`` into ``out``, open on ``target``; private use searched or not."""

    file: Path
    handle: BinaryIO
    out: BinaryIO
    target: Path
    codec: str
    first: bytes
    private_use: bool

    def run(self) -> tuple[str, bool]:
        """:func:`~svcmetrics.utf8copy.copy_utf8` of the whole file; a large file in one of
        the :data:`~svcmetrics.utf8copy.LINE_CODECS` is cut at line breaks into a piece for
        each core (:func:`svcmetrics.pieces.cuts`), the first decoded here while child
        interpreters decode the others into files of their own beside ``target``, then
        joined to ``out`` in order. When the run started children on every piece of the
        file as it began (:mod:`svcmetrics.early`), their pieces are joined instead, the
        first renamed to ``target`` where it can be.

        A piece that cannot be decoded raises as the whole file would; when a child fails
        otherwise (killed, out of memory), this process decodes the file alone.
        """
        started = early.claim(os.fstat(self.handle.fileno()), self.codec, self.private_use)
        if started is not None:
            try:
                done = self._prestarted(started)
            finally:
                started.close()
        else:
            cuts = pieces.cuts(self.handle, self.codec, len(self.first), _OWN_SHARE)
            done = self._in_pieces(cuts) if len(cuts) > 2 else self._decode(None)
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

    def _in_pieces(self, cuts: list[int]) -> tuple[str, bool] | None:
        """:meth:`run` with the file cut at ``cuts``; None when a child could not be started
        or failed for another reason than the file (the caller then decodes it alone)."""
        children = pieces.Pieces(self.file, self.codec, self.private_use, self.target.parent)
        try:
            try:
                for start, end in itertools.pairwise(cuts[1:]):
                    children.start(start, end)
            except OSError:
                return None
            head, found = self._decode(cuts[1])
            return self._joined(children, head, found)
        finally:
            children.close()

    def _prestarted(self, children: pieces.Pieces) -> tuple[str, bool] | None:
        """:meth:`run` from children started on every piece of the file as the run began.

        The head is the text of the file's ``first`` bytes, as :meth:`_decode` gives it."""
        head = codecs.getincrementaldecoder(self.codec)().decode(self.first)
        return self._joined(children, head, False, first_piece=True) if head else None

    def _joined(
        self, children: pieces.Pieces, head: str, found: bool, first_piece: bool = False
    ) -> tuple[str, bool] | None:
        """``head`` and whether private use was found (``found`` here, or by a child), once
        the children's pieces are joined to ``out`` (the copy is the ``first_piece``, renamed,
        where it can be); None when a child failed for another reason than the file."""
        said = children.said()
        if UNREADABLE in said:
            raise ValueError("a piece cannot be decoded")
        if None in said:
            return None
        children.join(self.out, self.target if first_piece else None)
        return head, found or "private-use" in said
