"""Ctrl-C or SIGTERM stops DuckDB's running query at once: a thread waits on Python's signal
wake-up descriptor and interrupts the connection."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading

import duckdb

STOPPING = frozenset({signal.SIGINT, signal.SIGTERM})
"""The signals that end a run (the CLI's handlers turn them into exit 130 and 143)."""


class QueryInterrupter:
    """Interrupts ``con``'s query when a signal of :data:`STOPPING` arrives, until closed.

    Python runs a signal's handler in the main thread between bytecodes, and DuckDB gives
    it that chance only at some points of a query: a long sort or join could let the
    handler wait until the query ends. The signal's number is written at once, by the C
    handler, to the descriptor :func:`signal.set_wakeup_fd` names; the thread reading it
    calls ``con.interrupt()``, and the query fails with DuckDB's "interrupted" error,
    which the CLI reports as the interruption it is. (Nothing is watched off the main
    thread, nor when another part of the program owns the wake-up descriptor.)
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._thread: threading.Thread | None = None
        try:
            self._reader, self._writer = socket.socketpair()
        except OSError:  # (no socket pair here, e.g. in a sandbox: the queries run unwatched)
            return
        try:
            self._writer.setblocking(False)
            previous = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        except (ValueError, OSError):  # (not the main thread)
            self._close_sockets()
            return
        if previous != -1:  # (someone else's: leave it to them)
            signal.set_wakeup_fd(previous)
            self._close_sockets()
            return
        thread = threading.Thread(target=self._watch, name="svcmetrics-interrupt", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # (no thread can be started: unwatched, as off the main thread)
            signal.set_wakeup_fd(-1)
            self._close_sockets()
            return
        self._thread = thread

    def _watch(self) -> None:
        while True:
            try:
                numbers = self._reader.recv(64)
            except OSError:
                return
            if not numbers:  # (closed)
                return
            if STOPPING.intersection(numbers):
                with contextlib.suppress(duckdb.Error):
                    self._con.interrupt()

    def close(self) -> None:
        """Stop watching and give the wake-up descriptor back (from the main thread; off
        it the descriptor cannot be given back, so the watcher stays, on sockets that stay
        open: a closed one's number could be reused by a file a later signal would write
        into)."""
        if self._thread is None:
            return
        try:
            signal.set_wakeup_fd(-1)
        except ValueError:  # (not the main thread)
            return
        self._writer.shutdown(socket.SHUT_RDWR)
        self._thread.join()
        self._thread = None
        self._close_sockets()

    def _close_sockets(self) -> None:
        self._reader.close()
        self._writer.close()
