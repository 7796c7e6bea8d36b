"""What a file's first bytes say of its encoding (a BOM, UTF-8, else GB18030 or Big5 told
apart), on the standard library alone, so that a log's copy can start before the heavy imports."""

from __future__ import annotations

import codecs
import functools
from collections.abc import Callable
from dataclasses import dataclass

from svcmetrics.errors import Problem

BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

HEAD_BYTES = 1 << 16


def bom_codec(head: bytes) -> str | None:
    """The encoding the BOM at the start of ``head`` names, else None (UTF-32's BOMs are
    looked for before UTF-16's, which begin them)."""
    return next((codec for bom, codec in BOMS if head.startswith(bom)), None)


LEGACY_CODECS: tuple[str, ...] = ("gb18030", "cp950")
"""The encodings a Chinese file that is not UTF-8 is tried in: mainland GB18030 (GBK's
superset) first, then Big5 as Excel on Traditional Chinese Windows writes it."""


def utf8_text(head: bytes) -> tuple[str, str] | None:
    """A file's first bytes as text and their encoding, when they look like plain UTF-8
    (with or without its BOM; no NUL); else None."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        return None
    encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    return text, encoding


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
    """The ``--encoding`` name of a codec (cp950 is what Excel calls Big5)."""
    return "big5" if codec == "cp950" else codec


KnownHeaders = Callable[[str], int]
"""How many cells of the first lines of a text are known headers (they come from the record
schema, which needs pydantic: :func:`svcmetrics.readers.encodings.choose_legacy` counts them)."""


def choose_legacy(heads: dict[str, str], known_headers: KnownHeaders | None) -> LegacyChoice:
    """Of the decodings of a file's start in the :data:`LEGACY_CODECS` that succeeded,
    the one whose headers are known wins; when both or neither are (or ``known_headers`` is
    None), the one with fewer uncommon characters (:func:`_uncommon`; GB18030 on a tie),
    and the choice is stated."""
    if len(heads) == 1:
        return LegacyChoice(next(iter(heads)), None)
    if known_headers is not None:
        known = {codec: known_headers(text) for codec, text in heads.items()}
        if len(set(known.values())) > 1:
            return LegacyChoice(max(heads, key=lambda codec: known[codec]), None)
    uncommon = {codec: _uncommon(text) for codec, text in heads.items()}
    best = min(heads, key=lambda codec: (uncommon[codec], LEGACY_CODECS.index(codec)))
    return LegacyChoice(best, next(codec for codec in heads if codec != best))


def legacy_head(
    head: bytes, final: bool, known_headers: KnownHeaders | None
) -> LegacyChoice | None:
    """:func:`choose_legacy` on a file's first bytes; None when no candidate reads them."""
    heads: dict[str, str] = {}
    for codec in LEGACY_CODECS:
        try:
            heads[codec] = codecs.getincrementaldecoder(codec)().decode(head, final=final)
        except UnicodeDecodeError:
            continue
    return choose_legacy(heads, known_headers) if heads else None
