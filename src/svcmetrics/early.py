"""The UTF-8 copy of a large GB18030, GBK or Big5 log, started as the run starts: child
interpreters decode it while Python imports the rest and reads the profile.

:func:`start` reads the command line before anything is parsed (it must stay on the
standard library: no typer, pydantic, duckdb, yaml or rich). For each log named on it that
:func:`~svcmetrics.readers.encodings.transcode` will copy in pieces, it starts a child for
every piece (this process is busy importing) into a folder of its own, and
:func:`claim` hands them to the transcode, which joins their pieces when the file and its
encoding are still the ones they were started for. What nobody claims is stopped and
removed when the run ends (:func:`discard`, also at exit).

Logs named only in a ``--config`` file are not seen here: they are copied when read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from types import FrameType

    from svcmetrics.pieces import Pieces

LOG_COMMANDS = frozenset({"compute", "validate"})
"""The commands that take logs as arguments."""

VALUE_OPTIONS = frozenset(
    {
        "--as-of",
        "--by",
        "--config",
        "-c",
        "--date-format",
        "--encoding",
        "--engine",
        "--fail-on",
        "--format",
        "-f",
        "--from",
        "--indicators",
        "--lang",
        "--last",
        "--month",
        "--output",
        "-o",
        "--period",
        "--profile",
        "-p",
        "--to",
    }
)
"""The options of the :data:`LOG_COMMANDS` that take a value (tests/test_early_copy.py
checks them against the command line's own)."""

ROOT_VALUE_OPTIONS = frozenset({"--lang"})
"""The options before the command that take a value."""

NOT_CSV = (".parquet", ".yaml", ".yml", ".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
"""The logs read otherwise than as CSV (Parquet, YAML, Excel), by their names."""


_started: list[tuple[tuple[int, ...], str, Pieces]] = []
"""The copies started: the file's key (device, inode, size, modification time), the codec
(as :func:`codecs.lookup` names it), and the children and their pieces."""


def start(argv: Sequence[str]) -> None:
    """Start the copies of the large GB18030, GBK or Big5 logs ``argv`` names."""
    found = _logs(argv)
    if found is None:
        return
    logs, encoding = found
    for log in logs:
        if log != "-" and not log.lower().endswith(NOT_CSV):
            _start(log, encoding)


def reads_logs(argv: Sequence[str]) -> bool:
    """Whether ``argv`` is a compute or validate command that reads logs (not ``--engine``,
    not ``--help``): a run of the embedded engine."""
    return _logs(argv) is not None


def _logs(argv: Sequence[str]) -> tuple[list[str], str | None] | None:
    """The logs a compute or validate command line names and its ``--encoding``; None for
    any other command, ``--help``, ``--version`` and ``--engine`` (which reads no logs)."""
    args = iter(argv)
    command = None
    for arg in args:
        if arg in ("--help", "--version"):
            return None
        if arg in ROOT_VALUE_OPTIONS:
            next(args, None)
        elif not arg.startswith("-"):
            command = arg
            break
    if command not in LOG_COMMANDS:
        return None
    logs: list[str] = []
    encoding = None
    for arg in args:
        if arg == "--":
            logs.extend(args)
        elif arg.startswith("--"):
            name, equals, value = arg.partition("=")
            if name in ("--help", "--engine"):
                return None
            if name in VALUE_OPTIONS and not equals:
                value = next(args, "")
            if name == "--encoding":
                encoding = value or None
        elif arg.startswith("-") and arg != "-":
            for at, letter in enumerate(arg[1:], 2):  # (grouped: -qv, -fcsv, -qf csv)
                if "-" + letter in VALUE_OPTIONS:
                    if at == len(arg):
                        next(args, None)
                    break
        else:
            logs.append(arg)
    return logs, encoding


def _start(log: str, encoding: str | None) -> None:
    """Start the copy of one log, when it is a large file that will be copied in pieces."""
    import stat

    from svcmetrics import pieces, sniff

    try:
        status = os.stat(log)
    except (OSError, ValueError):
        return
    if not stat.S_ISREG(status.st_mode) or status.st_size < 2 * pieces.PIECE_BYTES:
        return
    try:
        with open(log, "rb") as handle:
            key = _key(os.fstat(handle.fileno()))
            if any(started[0] == key for started in _started):
                return  # (named twice)
            first = handle.read(sniff.HEAD_BYTES)
            decided = _codec(first, encoding)
            if decided is None:
                return
            codec, private_use = decided
            cuts = pieces.cuts(handle, codec, len(first), first_share=1.0)
    except OSError:
        return
    if len(cuts) > 2:
        _launch(Path(log), key, codec, private_use, cuts)


def _launch(
    log: Path, key: tuple[int, ...], codec: str, private_use: bool, cuts: list[int]
) -> None:
    """Start children on every piece of ``log`` between ``cuts``, in a folder of their own."""
    import itertools
    import tempfile

    from svcmetrics.pieces import Pieces

    try:
        folder = Path(tempfile.mkdtemp(prefix="svcmetrics-early-"))
    except OSError:
        return
    _watch_exit()
    children = Pieces(log, codec, private_use, folder, own_folder=True)
    started = (key, _normal(codec), children)
    _started.append(started)
    try:
        for begin, end in itertools.pairwise(cuts):
            children.start(begin, end)
    except OSError:
        _started.remove(started)
        children.close()


def _codec(first: bytes, encoding: str | None) -> tuple[str, bool] | None:
    """The codec ``transcode`` will copy a file that begins with ``first`` in, and whether
    it searches the copy for private use (when the file's start chose the codec); None when
    it will not copy it in pieces (UTF-8, another codec, a NUL that refuses the copy).

    ``transcode`` decides as here, but its choice between GB18030 and Big5 first counts the
    headers it knows, which come from the record schema (pydantic, 0.2 s to import): here
    the uncommon characters alone decide. When the two differ, :func:`claim` finds no copy
    in the codec asked for and ``transcode`` copies the file itself.
    """
    from svcmetrics.sniff import HEAD_BYTES, bom_codec, legacy_head, utf8_text
    from svcmetrics.utf8copy import LINE_CODECS

    codec, private_use = encoding, False
    if codec is None:
        if utf8_text(first) is not None:
            return None  # (the engine scans it as it is)
        codec = bom_codec(first)
        if codec is None:
            choice = legacy_head(first, len(first) < HEAD_BYTES, None)
            if choice is None:
                return None
            codec, private_use = choice.codec, True
    if b"\x00" in first:
        return None
    try:
        line_codec = _normal(codec) in LINE_CODECS
    except LookupError:
        return None
    return (codec, private_use) if line_codec else None


def _normal(codec: str) -> str:
    import codecs

    return codecs.lookup(codec).name


def _key(status: os.stat_result) -> tuple[int, ...]:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def claim(status: os.stat_result, codec: str, private_use: bool) -> Pieces | None:
    """The pieces started for the file of ``status`` (unchanged since: the same size and
    modification time) in ``codec``, searched for private use as ``private_use`` asks; None
    when there are none. They are the caller's from now on: it closes them, which also
    removes their folder. Children started for the same file otherwise (or before it
    changed) are stopped."""
    key = _key(status)
    same_file = [started for started in _started if started[0][:2] == key[:2]]  # (device, inode)
    if not same_file:
        return None
    started_key, started_codec, pieces = same_file[0]
    _started.remove(same_file[0])
    if (started_key, started_codec, pieces.private_use) == (key, _normal(codec), private_use):
        return pieces
    pieces.close()
    return None


def discard() -> None:
    """Stop every copy nobody claimed, and remove its pieces and folder."""
    while _started:
        _started.pop()[2].close()


def _watch_exit() -> None:
    """Discard at exit, and exit on SIGTERM until the command line handles it itself."""
    import atexit
    import signal

    atexit.unregister(discard)  # (once, however many runs this process makes)
    atexit.register(discard)
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
    except ValueError:
        pass  # (not in the main thread: the caller handles signals)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    sys.exit(128 + signum)
