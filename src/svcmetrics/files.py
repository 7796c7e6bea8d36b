"""Writing output files whole or not at all."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from svcmetrics.errors import InputError

STARTER = ("svcmetrics.yaml", "profile.yaml", "logs/2026-11.csv")
"""The files ``svcmetrics init`` writes: a config, a profile and a month of a log."""


def write_starter(folder: Path, lang: str = "zh") -> list[Path]:
    """Write the starter config, profile and log into ``folder``, and a ledger template
    (``台账.xlsx``, ``ledger.xlsx`` in English) for them; never overwrite a file."""
    import datetime as dt
    from importlib.resources import files

    from svcmetrics.i18n import label
    from svcmetrics.template import ledger_template

    ledger = folder / label("template_default_name", lang)
    targets = [folder / name for name in STARTER]
    existing = [str(path) for path in [*targets, ledger] if path.exists()]
    if existing:
        raise InputError("init_would_overwrite", files=", ".join(existing))
    source = files("svcmetrics") / "starter"
    for name, target in zip(STARTER, targets, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, (source / name).read_text(encoding="utf-8"))
    config = folder / STARTER[0]
    write_atomic(ledger, ledger_template(config, None, lang, dt.date.today(), ledger.name))
    return [*targets, ledger]


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` through a temporary file in the
    same folder.

    The temporary file is renamed into place only once it is complete, so an interrupted
    or failed run leaves the previous file untouched and no temporary file behind.
    """
    folder = path.parent if str(path.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp makes the file private; a report keeps the previous file's mode, or gets
        # the mode any new file would get (so colleagues and web servers can read it).
        os.chmod(temporary, _mode_for(path))
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
