"""Bytes to text: a BOM, else UTF-8, else GB18030 or Big5 told apart; UTF-8 copies of logs."""

from __future__ import annotations

import codecs
import functools
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from svcmetrics.errors import InputError, Problem
from svcmetrics.readers.headers import header_aliases

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
