"""The embedded DuckDB engine: one in-process database per run, and its three stages.

Loading (:mod:`~svcmetrics.engine.load`) gives a :class:`Loaded`; only a ``Loaded`` can
be checked (:func:`svcmetrics.engine.checks.check`), which gives a
:class:`~svcmetrics.stages.Checked`; and only a ``Checked`` opens the counting stage
(:mod:`~svcmetrics.engine.count`): the order of the stages is the order in which their
results can be had.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb

from svcmetrics.engine.count import Count
from svcmetrics.engine.load import Loaded, load
from svcmetrics.readers import Source
from svcmetrics.stages import Checked

__all__ = ["MEMORY_LIMIT", "Count", "Engine", "Loaded"]

MEMORY_LIMIT = "1GB"


class Engine:
    """One in-process DuckDB database holding the records of one run (a context manager:
    the database and its spill folder go when it closes)."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="svcmetrics-")
        # the global settings come with the database (each statement costs a millisecond
        # of a small run); the progress bar is the connection's own
        self.con = duckdb.connect(
            config={
                "memory_limit": MEMORY_LIMIT,
                "temp_directory": self._tmp.name,
                "preserve_insertion_order": False,
            }
        )
        self.con.execute("SET enable_progress_bar = false")

    @property
    def workdir(self) -> Path:
        """A private folder removed with the engine (DuckDB's spill files, UTF-8 copies)."""
        return Path(self._tmp.name)

    def close(self) -> None:
        """Release the database and its spill folder."""
        self.con.close()
        self._tmp.cleanup()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, sources: Sequence[Source], custom_events: Sequence[str] = ()) -> Loaded:
        """Every log read into the database (:func:`svcmetrics.engine.load.load`)."""
        return load(self.con, sources, custom_events)

    def counting(self, checked: Checked) -> Count:
        """The counting stage over the records ``checked`` kept: ``checked`` is what
        :func:`svcmetrics.engine.checks.check` gave for this engine's :class:`Loaded`,
        so the views it counts (``recs``, ``daily``, ``answer_class``) are there."""
        return Count(self.con)
