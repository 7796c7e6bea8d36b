"""Python's cyclic garbage collector paused for the length of one run."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block without cyclic garbage collection, then restore the collector as it was.

    A run allocates millions of objects (a city: 400,000 results, their cells and rows)
    that live to its end and form no reference cycles; the collector, triggered by the
    allocations alone, walked them and everything loaded before again and again: about 5 s
    of CPU in a 20 s city run (issue 17). Reference counting still frees all that dies;
    cycles made in the block are collected after it (by then the run's results are freed,
    so nothing is left to walk).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def spare_exit_collection() -> None:
    """Leave every object alive now out of the collections Python runs as it exits.

    For a process about to end: its memory goes back to the system whole, so walking
    what the imports and the run made (pydantic's schemas, DuckDB's Python modules, the
    results) to find cycles is wasted; it was about a tenth of the CPU of a run on the
    136-row example (issue 17). Files and the database are closed before this is called,
    so no finalizer is waited for.
    """
    gc.freeze()
