"""Helpers shared by the tests: the command line run in-process, its output read, inputs written."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from svcmetrics.cli import main

WORKED = Path(__file__).resolve().parent / "data" / "worked-example"
"""The worked example of the domain notes: ``log.csv``, ``profile.yaml``, ``expected.md``."""


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``svcmetrics ARGS`` in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exited:
        main(args)
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


@dataclass(frozen=True)
class Done:
    """What a finished ``svcmetrics`` run gave (the fields of ``subprocess.CompletedProcess``)."""

    returncode: int
    stdout: str
    stderr: str


def run_in(folder: Path, args: Sequence[str], stdin: bytes = b"") -> Done:
    """Run ``svcmetrics ARGS`` in-process from ``folder`` with ``NO_COLOR`` set and ``stdin``
    as standard input, as a shell would run it but without starting Python again (for tests
    where the process itself is not what is tested). Output is read back as text with
    universal newlines."""
    streams = [io.TextIOWrapper(io.BytesIO(), encoding="utf-8") for _ in range(2)]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("NO_COLOR", "1")
        patch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        patch.setattr(sys, "stdout", streams[0])
        patch.setattr(sys, "stderr", streams[1])
        try:
            main(list(args))
        except SystemExit as exited:
            code = exited.code if isinstance(exited.code, int) else 0
    texts = []
    for stream in streams:
        stream.flush()
        raw = stream.buffer.getvalue()  # type: ignore[attr-defined]
        texts.append(raw.decode("utf-8", errors="replace").replace("\r\n", "\n"))
    return Done(code, texts[0], texts[1])


def assert_no_crash(code: int, err: str) -> None:
    """Neither a traceback nor the internal-error exit (4) for a user's input."""
    assert "Traceback" not in err, err[-3000:]
    assert code != 4, f"internal error (exit 4) for a user's input:\n{err[-3000:]}"
    assert "internal error" not in err, err[-3000:]


def assert_input_error(code: int, err: str, *names: str) -> None:
    """Exit 3 with a message on stderr that names each of ``names`` (file, value…)."""
    assert_no_crash(code, err)
    assert code == 3, f"expected exit 3, got {code}:\n{err[-3000:]}"
    assert err.strip(), "no message on stderr"
    for name in names:
        assert name in err, f"{name!r} not named in:\n{err[-3000:]}"


def csv_rows(text: str) -> list[dict[str, str]]:
    """The records of CSV output (a BOM, if any, removed)."""
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def by_key(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Result records keyed by (community, period, indicator)."""
    return {(str(r["community"]), str(r["period"]), str(r["indicator"])): r for r in rows}


def markdown_rows(text: str, heading: str) -> list[list[str]]:
    """The body rows (cells stripped) of the first markdown table after ``heading``."""
    section = text.split(heading, 1)[1]
    rows: list[list[str]] = []
    started = False
    for line in section.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not started:  # the header row
                started = True
                continue
            if set(cells[0]) <= {"-", ":"}:
                continue
            rows.append(cells)
        elif started:
            break
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    """Rows as a comma-separated UTF-8 file, quoted where needed."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def write_yaml(path: Path, data: Any) -> None:
    """Data as a YAML file (unicode kept)."""
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


# A small log and profile with two communities under one street office, for CLI tests.
LOG = """date,community,event,party,id,household,status,ticket,service
2026-10-03,jianguo,participate,resident,r1,h1,,,助老
2026-10-09,jianguo,participate,resident,r2,h1,,,保洁
2026-10-04,jianguo,benefit,resident,r3,h2,,,助老
2026-10-10,jianguo,need,resident,r3,h2,pending,N-1,助老
2026-11-02,jianguo,need,resident,r3,h2,met,N-1,助老
2026-10-21,jianguo,survey,resident,r1,h1,满意,,
2026-10-22,jianguo,survey,resident,r2,h1,不满意,,
2026-10-11,gongle,participate,resident,g1,gh1,,,助老
"""

PROFILE = """communities:
  - {id: jianguo, name: 建国社区, parent: daoli, residents: 40, residents_capable: 10,
     households: 8, units: 4}
  - {id: gongle, name: 共乐社区, parent: daoli, residents: 30, residents_capable: 5,
     households: 6, units: 2}
parents:
  - {id: daoli, name: 道里街道}
"""


def ledger_folder(folder: Path, profile: str, log: str, config: str = "") -> Path:
    """``folder`` with ``profile.yaml``, ``log.csv`` and a ``svcmetrics.yaml`` naming them
    (``config``: more of the config's lines)."""
    (folder / "profile.yaml").write_text(profile, encoding="utf-8")
    (folder / "log.csv").write_text(log, encoding="utf-8")
    (folder / "svcmetrics.yaml").write_text(
        "profile: profile.yaml\nlogs: [log.csv]\n" + config, encoding="utf-8"
    )
    return folder
