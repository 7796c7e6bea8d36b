"""The copy of a large GB18030/GBK/Big5 log started as the run starts: the transcode joins
the pieces made early into the copy it would have made itself, byte for byte, with the same
head and notes; anything else (another codec, a changed file, a failed child, a run that
stops early) falls back or is cleaned up."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from clihelp import LOG, PROFILE, run_cli
from typer.core import TyperGroup, TyperOption

from svcmetrics import early, pieces, utf8copy
from svcmetrics.cli import app
from svcmetrics.readers.encodings import Transcoded, transcode
from svcmetrics.readers.excel import EXCEL_SUFFIXES

PIECE = 2048
"""PIECE_BYTES in these tests, so that a log of a few hundred rows is cut."""


class Spawned:
    """Counts the children started, and can start a failing command instead."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, command: list[str] | None = None):
        self.children: list[subprocess.Popen[bytes]] = []
        self.command = command
        self._start = pieces.child
        monkeypatch.setattr(pieces, "child", self)

    @property
    def count(self) -> int:
        return len(self.children)

    def __call__(self, *args: Any) -> subprocess.Popen[bytes]:
        if self.command is None:
            self.children.append(self._start(*args))
        else:
            self.children.append(subprocess.Popen(self.command, stdout=subprocess.PIPE))
        return self.children[-1]


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Pieces of 2 KiB, four cores, the early folders in a temporary folder of the test's
    own (returned); nothing left started after the test."""
    monkeypatch.setattr(pieces, "PIECE_BYTES", PIECE)
    monkeypatch.setattr(pieces, "cores", lambda: 4)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    yield temporary
    early.discard()


def _log(folder: Path, codec: str, rows: int = 4000, tail: str = "") -> Path:
    """A log of ``rows`` rows (about 180 KB), in ``codec``, past the first HEAD_BYTES."""
    lines = LOG.splitlines(keepends=True)
    text = lines[0] + "".join(lines[1:]) * (rows // 8) + tail
    if codec not in ("gb18030", "gbk"):
        text = text.translate(str.maketrans("洁满", "潔滿"))  # (Big5 has traditional ones)
    path = folder / "log.csv"
    path.write_bytes(text.encode(codec))
    return path


def _seen(copy: Transcoded | None) -> Any:
    if copy is None:
        return None
    return copy.path.read_bytes(), copy.head, copy.codec, copy.notes


def _cold(path: Path, encoding: str | None, folder: Path) -> Any:
    """What transcode gives with nothing started early."""
    assert early._started == []
    return _seen(transcode(path, encoding, folder, "log.csv"))


def _left(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


@pytest.mark.parametrize(
    ("codec", "encoding"),
    [("gb18030", None), ("cp950", None), ("gbk", "gbk"), ("big5", "big5"), ("gb18030", "GB18030")],
)
def test_pieces_started_early_make_the_copy_transcode_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_pieces: Path, codec: str,
    encoding: str | None,
) -> None:  # fmt: skip
    path = _log(tmp_path, codec)
    before = path.read_bytes()
    spill = tmp_path / "spill"
    spill.mkdir()
    cold = _cold(path, encoding, spill)
    spawned = Spawned(monkeypatch)
    args = ["--lang", "en", "compute", "-f", "csv", str(path), "-p", "profile.yaml"]
    early.start([*args, *(["--encoding", encoding] if encoding else [])])
    assert spawned.count == 4  # every piece, the first too
    assert len(_left(small_pieces)) == 1
    copy = transcode(path, encoding, spill, "log.csv")
    assert spawned.count == 4 and early._started == []  # claimed: no child started again
    assert _seen(copy) == cold and cold is not None
    assert cold[0] == before.decode(codec).encode("utf-8")
    assert _left(small_pieces) == []  # (pieces and folder removed once joined)
    assert path.read_bytes() == before


def test_private_use_found_by_an_early_child_is_noted(tmp_path: Path) -> None:
    path = _log(tmp_path, "gb18030", tail="2026-10-03,c1,participate,resident,r1,,,,\ue4c5\n")
    cold = _cold(path, None, tmp_path)
    early.start(["validate", str(path)])
    assert len(early._started) == 1
    copy = _seen(transcode(path, None, tmp_path, "log.csv"))
    assert copy == cold and [note.kind for note in copy[3]] == ["encoding_private_use"]


def test_another_codec_or_a_changed_file_is_copied_as_before(
    tmp_path: Path, small_pieces: Path
) -> None:
    path = _log(tmp_path, "gb18030")
    cold = _cold(path, None, tmp_path)
    early.start(["compute", str(path), "--encoding=big5"])
    started = early._started[0][2]
    assert _seen(transcode(path, None, tmp_path, "log.csv")) == cold
    assert all(child.poll() is not None for child in started.children)  # stopped
    assert early._started == [] and _left(small_pieces) == []
    # the file changed after the start: its copy is of the file as it is now
    early.start(["compute", str(path)])
    assert len(early._started) == 1
    changed = _log(tmp_path, "gb18030", tail="2026-10-05,c2,participate,resident,z,,,,\n")
    text = changed.read_bytes().decode("gb18030")
    assert _seen(transcode(changed, None, tmp_path, "log.csv"))[0] == text.encode("utf-8")
    assert early._started == [] and _left(small_pieces) == []


def test_a_child_started_early_that_fails_leaves_the_copy_to_transcode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _log(tmp_path, "gb18030")
    cold = _cold(path, None, tmp_path)
    with monkeypatch.context() as patch:
        Spawned(patch, [sys.executable, "-c", "raise SystemExit(1)"])
        early.start(["compute", str(path)])
    spawned = Spawned(monkeypatch)
    assert _seen(transcode(path, None, tmp_path, "log.csv")) == cold
    assert spawned.count == 0  # (copied alone, as when a child of its own fails)


def _run_twice(
    args: list[str],
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> list[tuple[int, str, str]]:
    """``svcmetrics ARGS -p profile.yaml`` run in ``folder`` without, then with, the copy
    started early: (exit code, stdout, stderr) of each."""
    (folder / "profile.yaml").write_text(PROFILE, encoding="utf-8")
    monkeypatch.chdir(folder)
    said = []
    for started_early in (False, True):
        spawned = Spawned(monkeypatch)
        with monkeypatch.context() as patch:
            if not started_early:
                patch.setattr(early, "start", lambda args: None)
            said.append(run_cli([*args, "-p", "profile.yaml"], capsys))
        assert spawned.count == (4 if started_early else 3)  # (this process decodes one)
    return said


@pytest.mark.parametrize("flaw", [b"\x80\x80", b"\x00"])
def test_an_unreadable_piece_gives_the_same_message(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    small_pieces: Path,
    flaw: bytes,
) -> None:
    path = _log(tmp_path, "gb18030")
    path.write_bytes(path.read_bytes() + flaw + b"\n")
    said = _run_twice(["validate", "log.csv"], tmp_path, monkeypatch, capsys)
    assert said[0] == said[1] and said[0][0] == 3
    assert "log.csv" in said[0][2] and _left(small_pieces) == []


def test_a_run_that_stops_early_leaves_nothing_started(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    small_pieces: Path,
) -> None:
    _log(tmp_path, "gb18030")
    monkeypatch.chdir(tmp_path)
    spawned = Spawned(monkeypatch)
    for args in (["--profile", "missing.yaml"], ["--format", "nothing"], ["--engine", "x"]):
        code, _, _ = run_cli(["compute", "log.csv", *args], capsys)
        assert code in (2, 3)
        assert early._started == [] and _left(small_pieces) == []
    assert spawned.count == 8  # (none for --engine, which reads no logs)
    assert all(child.poll() is not None for child in spawned.children)


def test_a_process_that_fails_early_leaves_no_folder(tmp_path: Path) -> None:
    """A real process, with its temporary folder in TMPDIR, exits on a missing profile."""
    path = _log(tmp_path, "gb18030")
    temporary = tmp_path / "own-tmp"
    temporary.mkdir()
    code = (
        "import sys; from svcmetrics import early, pieces; pieces.PIECE_BYTES = 2048\n"
        "pieces.cores = lambda: 2; start = early.start\n"
        "def counted(args): start(args); print(len(early._started))\n"
        "early.start = counted\n"
        "from svcmetrics.cli import main; main(sys.argv[1:])\n"
    )
    env = {**os.environ, "TMPDIR": str(temporary)}
    done = subprocess.run(
        [sys.executable, "-c", code, "compute", str(path), "-p", str(tmp_path / "none.yaml")],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 3 and done.stdout == "1\n", done.stderr
    assert _left(temporary) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["compute", "--help", "log.csv"],
        ["explain", "log.csv"],
        ["template", "log.csv"],
        ["compute", "-"],
        ["compute", "--config", "log.csv", "--output", "log.csv", "-flog.csv", "-qo", "log.csv"],
    ],
)
def test_nothing_is_looked_at_without_logs_to_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    _log(tmp_path, "gb18030")
    monkeypatch.chdir(tmp_path)
    looked = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda *a, **k: looked.append(a) or real_stat(*a, **k))
    early.start(args)
    assert looked == [] and early._started == []


def test_small_utf8_and_other_logs_start_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawned = Spawned(monkeypatch)
    big = _log(tmp_path, "gb18030")
    for name in ("log.yaml", "log.parquet", "log.xlsx"):
        (tmp_path / name).write_bytes(big.read_bytes())
    small = tmp_path / "small.csv"
    small.write_bytes(big.read_bytes()[: 2 * PIECE - 1])
    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(big.read_bytes().decode("gb18030").encode("utf-8"))
    monkeypatch.chdir(tmp_path)
    early.start(["compute", "log.yaml", "log.parquet", "log.xlsx", "small.csv", "utf8.csv"])
    early.start(["compute", "log.csv", "--encoding", "utf-8", "folder/"])
    early.start(["compute", "log.csv", "--encoding", "utf-16"])
    assert spawned.count == 0
    # the same file named twice is started once
    early.start(["compute", "log.csv", str(big), "--", "-log.csv"])
    assert spawned.count == 4


def test_options_values_are_not_logs() -> None:
    args = [
        "--lang", "en", "validate", "-f", "json", "--profile", "p.yaml", "-c", "c.yaml",
        "a.csv", "--encoding=gbk", "-fjson", "--date-format", "%d", "b.csv", "--debug",
        "--", "--c.csv",
    ]  # fmt: skip
    assert early._logs(args) == (["a.csv", "b.csv", "--c.csv"], "gbk")
    assert early._logs(["compute", "a.csv", "--encoding", "big5", "-q"]) == (["a.csv"], "big5")
    assert early._logs(["init", "a.csv"]) is None


def _value_options(command: Any) -> set[str]:
    return {
        name
        for param in command.params
        if isinstance(param, TyperOption) and not param.is_flag
        for name in (*param.opts, *param.secondary_opts)
    }


def test_the_value_options_are_the_command_lines_own() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    with_logs = {
        name
        for name, command in group.commands.items()
        if any(param.name == "logs" for param in command.params)
    }
    assert with_logs == early.LOG_COMMANDS
    found = set().union(*(_value_options(group.commands[name]) for name in with_logs))
    assert found == early.VALUE_OPTIONS
    assert _value_options(group) == early.ROOT_VALUE_OPTIONS


def test_the_logs_read_otherwise_are_known_by_name() -> None:
    assert set(early.NOT_CSV) == {*EXCEL_SUFFIXES, ".parquet", ".yaml", ".yml"}
    assert (
        pieces.can_start_children()
        and Path(utf8copy.__file__).parent == Path(pieces.__file__).parent
    )


def test_the_early_start_imports_nothing_heavy(tmp_path: Path) -> None:
    path = _log(tmp_path, "gb18030", rows=4000)
    code = (
        "import sys; from svcmetrics import early, pieces; pieces.PIECE_BYTES = 2048\n"
        "pieces.cores = lambda: 2  # (a one-core machine starts no children)\n"
        "early.start(['compute', sys.argv[1]]); assert early._started\n"
        "heavy = ('typer', 'click', 'pydantic', 'duckdb', 'yaml', 'rich', 'svcmetrics.readers')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.stdout == "[]\n", done.stderr


def test_the_pieces_are_copied_where_they_cannot_be_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> None:
        raise OSError("another file system")

    path = _log(tmp_path, "gb18030")
    cold = _cold(path, None, tmp_path)
    early.start(["compute", str(path)])
    monkeypatch.setattr(pieces.os, "replace", refuse)
    assert _seen(transcode(path, None, tmp_path, "log.csv")) == cold


@pytest.mark.parametrize("codec", ["gb18030", "cp950"])
def test_a_run_prints_the_same_with_the_copy_started_early(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    small_pieces: Path,
    codec: str,
) -> None:
    _log(tmp_path, codec)
    said = _run_twice(["compute", "log.csv", "-f", "csv"], tmp_path, monkeypatch, capsys)
    assert said[0] == said[1] and said[0][0] == 0 and "jianguo" in said[0][1]
    assert _left(small_pieces) == []
