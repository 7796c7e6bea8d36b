"""Ctrl-C and SIGTERM end a run with one line and exit 130 or 143, never a traceback, from
the process's first moment (standard library and the message catalogue only: the command's
entry installs them before the command line is imported)."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import NoReturn

EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanup runs as for Ctrl-C."""


signalled: list[int] = []
"""The signals (SIGINT, SIGTERM) that arrived during this run. DuckDB answers one that
arrives during a query with an error of its own (a ``RuntimeError``, "Query interrupted"),
which is then the signal's doing, not a bug."""


_held: list[int] | None = None
"""The signals that arrived while :func:`held` was in force (None outside it)."""


def _raise(signum: int) -> NoReturn:
    if signum == signal.SIGTERM:
        raise Terminated
    raise KeyboardInterrupt


def _on_signal(signum: int, frame: FrameType | None) -> None:
    signalled.append(signum)
    if _held is not None:
        _held.append(signum)
        return
    _raise(signum)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Signals noted but raised only at the end of this block: for the import of an
    extension module that must not be interrupted halfway (DuckDB's aborts the whole
    process, core dump and all, when Ctrl-C lands while it builds its types)."""
    global _held
    outer, _held = _held, []
    try:
        yield
    finally:
        arrived, _held = _held, outer
    if arrived:
        _raise(arrived[-1])


def install() -> None:
    """Make SIGINT raise ``KeyboardInterrupt`` and SIGTERM :class:`Terminated`, noting each.

    Even where the caller started us with SIGINT ignored (a background job), Ctrl-C and
    ``kill -INT`` end the run the same way: one line, exit 130, no file half-written.
    """
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def exit_code(stop: BaseException) -> int:
    """The exit code of a run stopped by ``stop`` (a ``KeyboardInterrupt`` or
    :class:`Terminated`)."""
    return EXIT_SIGTERM if isinstance(stop, Terminated) else EXIT_SIGINT


def signal_code(signum: int) -> int:
    """The exit code of a run stopped by signal ``signum`` (SIGINT or SIGTERM)."""
    return EXIT_SIGTERM if signum == signal.SIGTERM else EXIT_SIGINT


def stopped_early(stop: BaseException, argv: Sequence[str]) -> int:
    """Say that the run was interrupted before its language was decided (``--lang``, else
    the locale: the config is not read for it); the exit code."""
    from svcmetrics.i18n import label, lang_option, locale_lang

    lang = lang_option(argv) or locale_lang()
    try:
        sys.stderr.write(label("interrupted", lang) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # (no standard error left to say it on)
    return exit_code(stop)
