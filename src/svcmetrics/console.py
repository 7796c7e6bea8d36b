"""Writing to stdout and stderr: file formats as UTF-8 bytes, text in the console's encoding.

Spec 3.5: CSV, JSON and HTML are UTF-8 whatever the console (a Chinese Windows console is
GBK, a Western one cp1252, cron may have ASCII); tables and messages use the console's
encoding, a character it cannot show is replaced (never a crash), and one notice at the end
of the run says how to get every character. :func:`emit` sends results to stdout or to
``--output``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from svcmetrics.errors import InputError
from svcmetrics.i18n import label
from svcmetrics.output.options import OutputFormat

_replaced: list[str] = []
"""The streams that had a character replaced during this run (for the closing notice)."""


def protect_console() -> None:
    """Make stdout and stderr replace what their encoding lacks instead of raising.

    This also covers what the command-line parser prints itself (help pages)."""
    _replaced.clear()
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "strict") == "strict":
            reconfigure(errors="replace")


def _encoding(stream: TextIO) -> str:
    return getattr(stream, "encoding", None) or "utf-8"


def shown(text: str, stream: TextIO) -> str:
    """``text`` as ``stream`` can show it: every character its encoding lacks replaced."""
    encoding = _encoding(stream)
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        _replaced.append(encoding)
        return text.encode(encoding, errors="replace").decode(encoding)
    except LookupError:  # an encoding Python does not know: leave it to the stream
        pass
    return text


def write_text(text: str, stream: TextIO | None = None) -> None:
    """Write text for a person (a table, a message) in the console's encoding."""
    target = sys.stdout if stream is None else stream
    target.write(shown(text, target))
    target.flush()


def write_bytes(data: bytes) -> None:
    """Write a file format's bytes to stdout as they are (UTF-8, BOM included)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (some test harnesses): it holds str
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
        return
    buffer.write(data)
    buffer.flush()


def console_notice(lang: str) -> None:
    """After a run that replaced characters: one line on stderr saying how to avoid it."""
    if not _replaced:
        return
    encoding = _replaced[0]
    notice = label("console_replaced", lang, encoding=encoding)
    try:
        notice.encode(_encoding(sys.stderr))
    except UnicodeEncodeError:  # a Chinese notice on an ASCII console: say it in English
        notice = label("console_replaced", "en", encoding=encoding)
    except LookupError:
        pass
    sys.stderr.write(shown(notice, sys.stderr) + "\n")
    _replaced.clear()
    sys.stderr.flush()


UTF8_FORMATS = frozenset({OutputFormat.CSV, OutputFormat.JSON, OutputFormat.HTML})
"""Formats that are files (spec 3.5): UTF-8 bytes on stdout whatever the console's encoding."""


def emit(text: str | bytes, output: Path | None, utf8: bool = False) -> None:
    """Results to ``output``, else to stdout: bytes as they are (a workbook), UTF-8 bytes
    (a file format) or text in the console's encoding."""
    from svcmetrics.files import write_atomic

    if output is None:
        if isinstance(text, bytes):
            write_bytes(text)
        elif utf8:
            write_bytes(text.encode("utf-8"))
        else:
            write_text(text)
        return
    if not output.parent.exists() and str(output.parent):
        raise InputError("output_folder_missing", file=str(output), folder=str(output.parent))
    if output.is_dir():
        raise InputError("output_is_folder", file=str(output))
    try:
        write_atomic(output, text)
    except OSError as exc:
        raise InputError(
            "output_unwritable", file=str(output), detail=exc.strerror or str(exc)
        ) from exc
