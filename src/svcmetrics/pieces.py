"""A large GB18030, GBK or Big5 log cut just after line breaks into pieces that child
interpreters copy as UTF-8, on the standard library alone (so the copy can start early)."""

from __future__ import annotations

import codecs
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from svcmetrics import utf8copy
from svcmetrics.utf8copy import LINE_CODECS

PIECE_BYTES = 8 << 20
"""The least a piece of a file decoded by a child interpreter holds: below about this, the
child's start (about 10 ms) and the joining cost more than they save."""

_MAX_PIECES = 16
"""(Each child holds a few megabytes; a big server's cores are not all worth a piece.)"""

_LINE_SEARCH = 1 << 16
"""How far past a cut's least place its line break is looked for."""


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (not on every platform)
        return os.cpu_count() or 1


def can_start_children() -> bool:
    """Whether this interpreter can run :mod:`~svcmetrics.utf8copy` as a script (not when
    embedded or frozen, or when the package is imported from a zip)."""
    return bool(sys.executable) and os.path.isfile(utf8copy.__file__)


def cuts(handle: BinaryIO, codec: str, skip: int, first_share: float) -> list[int]:
    """Where to cut the file open as ``handle`` for the cores: 0, a point just after a line
    break past every n-th of the file (never inside its first ``skip`` bytes), and its end;
    or just [0, end] when the file is small, one core is all there is, or the codec is not
    one of the :data:`~svcmetrics.utf8copy.LINE_CODECS`.

    The first piece is ``first_share`` times as large as each other: larger when this
    process decodes it while children decode the others (a child needs about 15 ms to
    start and exit, and the joining waits for the last child). The handle is left at
    ``skip``.
    """
    size = os.fstat(handle.fileno()).st_size
    count = min(cores(), size // PIECE_BYTES, _MAX_PIECES)
    if count < 2 or codecs.lookup(codec).name not in LINE_CODECS or not can_start_children():
        return [0, size]
    found = [0]
    share = 1 / (count - 1 + first_share)
    for number in range(1, count):
        at_least = int(size * (number - 1 + first_share) * share)
        after = max(at_least, found[-1], skip)
        handle.seek(after)
        at = handle.read(_LINE_SEARCH).find(b"\n")
        if at >= 0 and after + at + 1 < size:
            found.append(after + at + 1)
    handle.seek(skip)
    return [*found, size]


def child(
    file: Path, start: int, end: int, codec: str, piece: Path, private_use: bool
) -> subprocess.Popen[bytes]:
    """A child interpreter copying bytes ``start`` to ``end`` of ``file`` into ``piece``.

    It is started by ``subprocess`` (fork and exec, no Python code in between: safe beside
    DuckDB's threads, and without Python 3.12's warning about forking a threaded process)
    as ``python -I -S utf8copy.py``, which imports only the standard library.
    """
    where = [str(file.absolute()), str(start), str(end), codec, str(piece)]
    return subprocess.Popen(
        [sys.executable, "-I", "-S", utf8copy.__file__, *where, str(int(private_use))],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


Said = str | int | None
"""What a child says: ``ok``, ``private-use``, :data:`~svcmetrics.utf8copy.UNREADABLE`, or
None when it failed for another reason than the file (killed, out of memory, a full disk)."""


class Pieces:
    """Child interpreters, each copying a stretch of ``file`` in ``codec`` as UTF-8 into a
    file of its own in ``folder`` (searching it for private use or not); the folder is
    removed with the pieces when it was made for them (``own_folder``)."""

    def __init__(
        self, file: Path, codec: str, private_use: bool, folder: Path, own_folder: bool = False
    ) -> None:
        self.file = file
        self.codec = codec
        self.private_use = private_use
        self.folder = folder
        self.own_folder = own_folder
        self.paths: list[Path] = []
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self, start: int, end: int) -> None:
        """Start a child on bytes ``start`` to ``end``; OSError when it cannot be."""
        descriptor, piece = tempfile.mkstemp(suffix=".part", dir=self.folder)
        os.close(descriptor)
        self.paths.append(Path(piece))
        self.children.append(
            child(self.file, start, end, self.codec, self.paths[-1], self.private_use)
        )

    def said(self) -> list[Said]:
        """What each child says, once it has finished."""
        return [_result(started) for started in self.children]

    def join(self, out: BinaryIO, target: Path | None = None) -> None:
        """Add the pieces, in order, at the end of ``out``; or, when ``out`` is the empty
        file ``target`` and the first piece can be renamed to it (in the same file system),
        the first piece becomes ``target`` and the others are added to it (half the
        copying, with two pieces)."""
        if target is not None and self.paths:
            try:
                os.replace(self.paths[0], target)
            except OSError:
                pass  # (another file system)
            else:
                with target.open("r+b") as joined:
                    joined.seek(0, os.SEEK_END)
                    for path in self.paths[1:]:
                        _append(joined, path)
                return
        out.flush()
        for path in self.paths:
            _append(out, path)

    def close(self) -> None:
        """Stop the children still running and remove the pieces (and their own folder)."""
        for started in self.children:
            if started.poll() is None:
                started.kill()
                started.wait()
            if started.stdout is not None:
                started.stdout.close()
        for path in self.paths:
            path.unlink(missing_ok=True)
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def _result(started: subprocess.Popen[bytes]) -> Said:
    said, _ = started.communicate()
    if started.returncode == utf8copy.UNREADABLE:
        return utf8copy.UNREADABLE
    text = said.decode("ascii", "replace").strip()
    return text if started.returncode == 0 and text in ("ok", "private-use") else None


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
