"""The run's database opened on a thread while the command line and config are read
(issue 17: about 18 ms of the 136-row example's 0.3 s): the engine takes it, a run that
never needs it closes it, and nothing else opens one."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest
from clihelp import run_in

from svcmetrics import opening
from svcmetrics.engine import Engine

EXAMPLE = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The threads each database of the test was opened on, by name (its spill folders
    made in a temporary folder of the test's own)."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    threads: list[str] = []
    connect = opening.connect

    def spy(folder: str) -> object:
        threads.append(threading.current_thread().name)
        return connect(folder)

    monkeypatch.setattr(opening, "connect", spy)
    return threads


def _spill_folders() -> set[str]:
    """The spill folders in the test's temporary folder (see :func:`opened`)."""
    return {path.name for path in Path(tempfile.gettempdir()).glob("svcmetrics-*")}


def test_a_run_uses_the_database_opened_on_the_thread(opened: list[str]) -> None:
    done = run_in(EXAMPLE, ["compute", "--config", "svcmetrics.yaml", "--format", "csv"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("level,community")
    assert opened == ["svcmetrics-open"]
    assert opening.take() is None  # (taken by the run)


@pytest.mark.parametrize(
    "args",
    [
        ["compute", "--config", "svcmetrics.yaml", "--format", "nope"],  # a usage error
        ["compute", "--config", "missing.yaml"],  # the config is not there
        ["validate", "--config", "svcmetrics.yaml", "--profile", "missing.yaml"],
    ],
    ids=["usage", "no-config", "no-profile"],
)
def test_a_run_that_ends_before_counting_closes_what_it_opened(
    opened: list[str], args: list[str]
) -> None:
    before = _spill_folders()
    done = run_in(EXAMPLE, args)
    assert done.returncode in (2, 3), done.stderr
    assert "Traceback" not in done.stderr
    assert opened == ["svcmetrics-open"]
    assert opening.take() is None
    assert _spill_folders() == before  # (its spill folder removed too)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["compute", "--help"],
        ["explain", "resident_participation"],
        ["compute", "--engine", "postgresql://nobody@127.0.0.1:9/none", "--config", "x.yaml"],
    ],
    ids=["help", "compute-help", "explain", "engine"],
)
def test_commands_that_read_no_logs_open_nothing(opened: list[str], args: list[str]) -> None:
    run_in(EXAMPLE, args)
    assert opened == []


def test_a_database_the_thread_could_not_open_is_opened_by_the_engine(
    monkeypatch: pytest.MonkeyPatch, opened: list[str]
) -> None:
    """Opening on the thread fails: the run opens its own (which would say why)."""
    spy = opening.connect
    failed: list[bool] = []

    def once(folder: str) -> object:
        if not failed:
            failed.append(True)
            raise RuntimeError("no database on this thread")
        return spy(folder)

    monkeypatch.setattr(opening, "connect", once)
    before = _spill_folders()
    opening.start()
    with Engine() as engine:
        assert engine.con.execute("SELECT 42").fetchone() == (42,)
    assert opened == [threading.main_thread().name]
    assert _spill_folders() == before


def test_starting_again_closes_the_one_not_taken(opened: list[str]) -> None:
    before = _spill_folders()
    opening.start()
    opening.start()
    with Engine():
        pass
    assert opened == ["svcmetrics-open", "svcmetrics-open"]
    assert opening.take() is None
    assert _spill_folders() == before
