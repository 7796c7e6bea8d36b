"""Strict decoding of a stretch of a file into UTF-8: the work of a transcode, done in the
process or in a child interpreter that runs this file alone (it imports only the standard
library, so the child starts in milliseconds)."""

from __future__ import annotations

import codecs
import sys
from typing import BinaryIO

BLOCK_BYTES = 1 << 15
"""How much is decoded at a time. Small blocks keep each buffer (the text of 32 KiB takes at
most 128 KiB) below the size from which C's allocator maps fresh pages for it and unmaps
them when it is freed, so the buffers are reused: blocks of a megabyte spend a quarter more
CPU in a new process, faulting those pages in (0.39 s against 0.31 s for 69 MB of
GB18030)."""

LINE_CODECS = frozenset({"gb18030", "gbk", "gb2312", "big5", "cp950", "big5hkscs"})
"""The codecs (as :func:`codecs.lookup` names them) in which the bytes 0x00 and 0x0A only
ever stand for themselves, NUL and the line break: ASCII-compatible, and no byte after a
lead byte is below 0x30. Their definitions: GB18030's two-byte trail bytes are 40-7E and
80-FE, its four-byte forms [81-FE][30-39][81-FE][30-39]; GBK's trail bytes are 40-7E and
80-FE; GB2312 (EUC-CN) has A1-FE; Big5, cp950 and Big5-HKSCS have 40-7E and A1-FE
(tests/test_transcode.py checks every lead byte against Python's codecs).

So in them a NUL is found on the bytes, and a file cut just after a 0x0A decodes piece by
piece exactly as it decodes whole: the decoder holds nothing at a line break, and a lead
byte before one is an error either way."""

UNREADABLE = 3
"""The child's exit status when the codec refuses a byte or the text holds a NUL (the file
cannot be copied so)."""

FAILED = 4
"""The child's exit status when a file cannot be read or written (a full disk): its piece
is not the file's fault, so the parent copies the file alone."""


def has_private_use(utf8: bytes) -> bool:
    """Whether UTF-8 text holds a private-use character (U+E000-U+F8FF, planes 15 and 16).

    Such characters begin EE, EF 80-A3, F3 B0-BF or F4, and in valid UTF-8 these bytes only
    ever begin a character: four searches of the bytes, far cheaper than a regular
    expression over the text. (``re`` is imported only when an EF or F3 is there, which
    keeps it out of a child's start-up on most logs.)
    """
    if b"\xee" in utf8 or b"\xf4" in utf8:
        return True
    if b"\xef" not in utf8 and b"\xf3" not in utf8:
        return False
    import re

    # Two searches with a literal first byte each: an alternation of them is 20x slower.
    return any(
        lead in utf8 and re.search(pattern, utf8) is not None
        for lead, pattern in ((b"\xef", rb"\xef[\x80-\xa3]"), (b"\xf3", rb"\xf3[\xb0-\xbf]"))
    )


def copy_utf8(
    source: BinaryIO,
    target: BinaryIO,
    codec: str,
    length: int | None,
    first: bytes = b"",
    *,
    private_use: bool,
) -> tuple[str, bool]:
    """Decode ``first`` and then what follows it in ``source`` (``length`` bytes in all,
    else to the end) strictly in ``codec``, and write it to ``target`` as UTF-8.

    Returns the text of the first block that decoded to any (``first``'s, when given: a
    copy's head), and whether a private-use character was met (searched only when
    ``private_use`` asks). Raises UnicodeError on a byte the codec refuses, ValueError on a
    NUL, OSError when reading or writing fails.
    """
    decoder = codecs.getincrementaldecoder(codec)()
    nul_in_bytes = codecs.lookup(codec).name in LINE_CODECS
    left = length
    head = ""
    found = False
    chunk = first or _read(source, left)
    while True:
        if nul_in_bytes and b"\x00" in chunk:
            raise ValueError("NUL")
        text = decoder.decode(chunk, final=not chunk)
        if not nul_in_bytes and "\x00" in text:
            raise ValueError("NUL")
        data = text.encode("utf-8")
        if private_use and not found:
            found = has_private_use(data)
        head = head or text
        target.write(data)
        if not chunk:
            return head, found
        if left is not None:
            left -= len(chunk)
        chunk = _read(source, left)


def _read(source: BinaryIO, left: int | None) -> bytes:
    return source.read(BLOCK_BYTES if left is None else min(BLOCK_BYTES, left))


def main(argv: list[str]) -> int:
    """``SOURCE START END CODEC TARGET PRIVATE_USE(0|1)``: copy bytes START to END of SOURCE
    to TARGET as UTF-8; print ``ok`` or ``private-use``, or exit with :data:`UNREADABLE`
    or :data:`FAILED`."""
    source, start, end, codec, target, private_use = argv
    try:
        with open(source, "rb") as reader, open(target, "wb") as writer:
            reader.seek(int(start))
            _, found = copy_utf8(
                reader, writer, codec, int(end) - int(start), private_use=private_use == "1"
            )
    except (UnicodeError, ValueError):
        return UNREADABLE
    except OSError:
        return FAILED
    sys.stdout.write("private-use\n" if found else "ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
