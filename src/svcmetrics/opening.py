"""The run's in-process database, opened ahead of need: DuckDB's connect (about 20 ms) runs
on a thread of its own while the command line is parsed and the config read (pydantic
builds its models then), which it does not wait on.

Kept out of :mod:`svcmetrics.engine`, whose import builds those models first.
"""

from __future__ import annotations

import tempfile
import threading

from svcmetrics import signals

with signals.held():  # (Ctrl-C halfway through DuckDB's import aborts the process)
    import duckdb

MEMORY_LIMIT = "1.3GB"
"""DuckDB's memory: beyond it, tables spill to the engine's folder. With this limit a
10M-row log's loaded table (about 125 bytes a row) spills a little: the run takes 1.08-1.10x
the hand-written SQL and peaks at 1.34 GB; with 1 GB it spilled more and took 1.25-1.33x
(the README's Performance: issue 17 asked for 1.5 GB at most, and 1.2x the SQL when
spilling)."""


def connect(folder: str) -> duckdb.DuckDBPyConnection:
    """A new database spilling into ``folder``, with the run's settings."""
    # the global settings come with the database (each statement costs a millisecond
    # of a small run); the progress bar is the connection's own
    con = duckdb.connect(
        config={
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": folder,
            "preserve_insertion_order": False,
        }
    )
    con.execute("SET enable_progress_bar = false")
    return con


def _spill_folder() -> tempfile.TemporaryDirectory[str]:
    """A new private folder for a database's spill files (removed with it)."""
    return tempfile.TemporaryDirectory(prefix="svcmetrics-")


def open_now() -> tuple[tempfile.TemporaryDirectory[str], duckdb.DuckDBPyConnection]:
    """A database and its spill folder, opened here and now (none was opened ahead)."""
    folder = _spill_folder()
    return folder, connect(folder.name)


class _Opening:
    """A database being opened on a thread, with its spill folder."""

    def __init__(self) -> None:
        self.folder = _spill_folder()
        self.con: duckdb.DuckDBPyConnection | None = None
        # not a daemon: a run stopped meanwhile waits for the connect at its exit, rather
        # than leave DuckDB's thread to a finalised interpreter
        self._thread = threading.Thread(target=self._open, name="svcmetrics-open")
        self._thread.start()

    def _open(self) -> None:
        try:
            self.con = connect(self.folder.name)
        except Exception:  # noqa: BLE001 (opened again where it is needed, which reports it)
            self.con = None

    def wait(self) -> duckdb.DuckDBPyConnection | None:
        """The database, once opened (None if it could not be)."""
        self._thread.join()
        return self.con


_pending: list[_Opening] = []


def start() -> None:
    """Start opening the run's database (one at a time: an earlier one not taken goes)."""
    discard()
    _pending.append(_Opening())


def take() -> tuple[tempfile.TemporaryDirectory[str], duckdb.DuckDBPyConnection] | None:
    """The database :func:`start` opened and its spill folder, or None (none started, or
    it could not be opened)."""
    if not _pending:
        return None
    opening = _pending.pop()
    con = opening.wait()
    if con is None:
        opening.folder.cleanup()
        return None
    return opening.folder, con


def discard() -> None:
    """Close a database opened and never taken (the run ended before it needed one)."""
    while _pending:
        opening = _pending.pop()
        con = opening.wait()
        if con is not None:
            con.close()
        opening.folder.cleanup()
