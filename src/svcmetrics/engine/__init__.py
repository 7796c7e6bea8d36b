"""The embedded DuckDB engine: one in-process database per run, and its three stages.

Loading (:mod:`~svcmetrics.engine.load`) gives a :class:`Loaded`; only a ``Loaded`` can
be checked (:func:`svcmetrics.engine.checks.check`), which gives a
:class:`~svcmetrics.stages.Checked`; and only a ``Checked`` opens the counting stage
(:mod:`~svcmetrics.engine.count`): the order of the stages is the order in which their
results can be had.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from svcmetrics import opening
from svcmetrics.engine.count import Count
from svcmetrics.engine.interrupt import QueryInterrupter
from svcmetrics.engine.load import Loaded, load
from svcmetrics.readers import Source
from svcmetrics.stages import Checked

__all__ = ["Count", "Engine", "Loaded"]

SMALL_RUN = 3_000
"""Up to this many rows, the checks and counts run on one thread with their plans as
written (DuckDB's optimiser off): on a few thousand rows, optimising a statement and
spreading it over threads take longer than running it (measured: the 136-row example's
statements a quarter faster, 3,000 generated rows a tenth; from about 5,000 rows the
optimiser pays)."""


class Engine:
    """One in-process DuckDB database holding the records of one run (a context manager:
    the database and its spill folder go when it closes)."""

    def __init__(self) -> None:
        # (the command line's run started opening it, else it is opened now)
        self._tmp, self.con = opening.take() or opening.open_now()
        self._interrupter = QueryInterrupter(self.con)
        self._small = False
        """Whether the loaded logs are a small run's (:data:`SMALL_RUN`)."""

    @property
    def workdir(self) -> Path:
        """A private folder removed with the engine (DuckDB's spill files, UTF-8 copies)."""
        return Path(self._tmp.name)

    def close(self) -> None:
        """Release the database and its spill folder."""
        self._interrupter.close()
        self.con.close()
        self._tmp.cleanup()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self, sources: Sequence[Source], custom_events: Sequence[str] = ()) -> Loaded:
        """Every log read into the database (:func:`svcmetrics.engine.load.load`); a
        small run's statements are then planned as written, on one thread (:data:`SMALL_RUN`)."""
        loaded = load(self.con, sources, custom_events)
        self._small = loaded.rows <= SMALL_RUN
        if self._small:
            self.con.execute("SET threads = 1")
            self.con.execute("PRAGMA disable_optimizer")
        return loaded

    def counting(self, checked: Checked) -> Count:
        """The counting stage over the records ``checked`` kept: ``checked`` is what
        :func:`svcmetrics.engine.checks.check` gave for this engine's :class:`Loaded`,
        so the views it counts (``recs``, ``daily``, ``answer_class``) are there."""
        return Count(self.con, small=self._small)
