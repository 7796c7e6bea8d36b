"""The compiler's trees as the DuckDB SQL the engine runs, kept between runs so that a run
with an unchanged config neither imports sqlglot nor builds a tree.

An entry is the text :func:`svcmetrics.compiler.render` gave for one tree, stored under a
hash of everything that text depends on: the tree's builder and the reprs of its arguments
(the definitions table, the answer lists, ``by``, ``nested``), the source of the compiler
and of the modules whose code builds its trees or whose constants it writes into them
(:data:`FINGERPRINTED`), sqlglot's version and Python's. Other values the trees hold (the
parties, the answer classes) reach the key through those reprs. So any change gives
another key, and the engine runs exactly what the trees render today; a test compares.

The entries are one JSON file in the user's cache folder (``$XDG_CACHE_HOME/svcmetrics/``,
else ``~/.cache/svcmetrics/``; ``%LOCALAPPDATA%\\svcmetrics`` on Windows), replaced whole
through a temporary file when an entry is added. Entries made under other fingerprints stay
(their keys differ) until :data:`MAX_ENTRIES` newer ones push them out, so two installed
versions (a cron job's and a newer one) do not render their SQL again at each other's turn.
A file that cannot be read, or a folder that cannot be written, is passed over: the trees
are then rendered, as without a cache.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from svcmetrics.answers import AnswerLists
    from svcmetrics.indicators import Indicator

Tree = Literal["answer_class", "homes", "rp", "needs", "respondents", "parts"]
"""The builders of :mod:`svcmetrics.compiler` the engine runs."""

FINGERPRINTED = (
    "svcmetrics.compiler",
    "svcmetrics.answers",
    "svcmetrics.indicators",
    "svcmetrics.engine.compiled",
)
"""The modules whose source is part of every key: the compiler, the modules it imports
from this package, and this one (which chooses the dialect)."""

FILE_NAME = "duckdb-sql.json"
MAX_ENTRIES = 200
"""Entries kept (the oldest go first): a config needs five or six."""


def answer_class(source: str, lists: AnswerLists) -> str:
    """:func:`svcmetrics.compiler.answer_class` for DuckDB."""
    return _sql("answer_class", source, lists)


def homes() -> str:
    """:func:`svcmetrics.compiler.homes` for DuckDB."""
    return _sql("homes")


def rp(by: str | None, nested: bool) -> str:
    """:func:`svcmetrics.compiler.rp` for DuckDB."""
    return _sql("rp", by, nested)


def needs(by: str | None, nested: bool) -> str:
    """:func:`svcmetrics.compiler.needs` for DuckDB."""
    return _sql("needs", by, nested)


def respondents(nested: bool) -> str:
    """:func:`svcmetrics.compiler.respondents` for DuckDB."""
    return _sql("respondents", nested)


def parts(indicators: Sequence[Indicator], nested: bool) -> str:
    """:func:`svcmetrics.compiler.parts` (its inputs the engine's tables) for DuckDB."""
    return _sql("parts", tuple(indicators), nested)


def cache_file() -> Path | None:
    """Where the entries are kept; None when there is no cache folder to use."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # (the XDG rule: a relative path is ignored)
        base = os.environ.get("LOCALAPPDATA", "") if sys.platform == "win32" else ""
        if not os.path.isabs(base):
            try:
                base = str(Path.home() / ".cache")
            except RuntimeError:  # no home folder
                return None
    return Path(base) / "svcmetrics" / FILE_NAME


@functools.cache
def fingerprint() -> str | None:
    """A hash of the sources of :data:`FINGERPRINTED` and the versions of sqlglot and
    Python; None when one cannot be read (then nothing is cached)."""
    from importlib import metadata

    digest = hashlib.sha256()
    try:
        for name in FINGERPRINTED:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:
                return None
            digest.update(name.encode() + b"\0" + Path(spec.origin).read_bytes() + b"\0")
        digest.update(metadata.version("sqlglot").encode())
    except (OSError, ImportError, ValueError):
        return None
    digest.update(sys.version.encode())
    return digest.hexdigest()


def key(tree: str, args: tuple[object, ...], stamp: str) -> str:
    """The key of ``compiler.<tree>(*args)`` under fingerprint ``stamp``."""
    text = f"{stamp}\0{tree}\0{args!r}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _sql(tree: Tree, *args: object) -> str:
    """``compiler.<tree>(*args)`` rendered: from the cache file when it holds it, else
    rendered and added. The key is made of the very arguments the tree is built from."""
    stamp = fingerprint()
    path = cache_file()
    if stamp is None or path is None:
        return _render(tree, args)
    found = key(tree, args, stamp)
    sql = _read(path).get(found)
    if sql is not None:
        return sql
    sql = _render(tree, args)
    entries = _read(path)  # (read again: another run may have added some)
    entries.pop(found, None)
    entries[found] = sql
    kept = dict(list(entries.items())[-MAX_ENTRIES:])
    _write(path, json.dumps({"entries": kept}))
    return sql


def _write(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` through a temporary file beside it, or leave it as it
    is when the folder cannot be written (the next run renders again). Not synced to
    disk: a file cut short by a crash is unreadable JSON, passed over like any other."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _render(tree: Tree, args: tuple[object, ...]) -> str:
    from sqlglot import exp

    from svcmetrics import compiler

    built = getattr(compiler, tree)(*args)
    assert isinstance(built, exp.Expression)
    return compiler.render(built)


def _read(path: Path) -> dict[str, str]:
    """The entries of ``path``, oldest first ({} for a file that is missing, unreadable or
    not what this module writes)."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    entries = data.get("entries")
    if not isinstance(entries, dict):
        return {}
    return {k: v for k, v in entries.items() if isinstance(k, str) and isinstance(v, str)}
