"""Cron use: thresholds and statuses, breach summary, exit codes, relative periods, outputs."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from clihelp import by_key, csv_rows, run_cli

from svcmetrics.judge import Status, at_or_beyond, judge
from svcmetrics.models import Threshold
from svcmetrics.periods import PeriodKind, last_complete

# jianguo October: participation 2/10 = 0.2, need satisfaction 1/2 = 0.5;
# gongle October: participation 1/4 = 0.25, need satisfaction 1/1.
LOG = """date,community,event,party,id,household,status,ticket
2026-10-03,jianguo,participate,resident,r1,h1,,
2026-10-09,jianguo,participate,resident,r2,h1,,
2026-10-10,jianguo,need,resident,r3,h2,met,N-1
2026-10-12,jianguo,need,resident,r4,h3,unmet,N-2
2026-10-11,gongle,participate,resident,g1,gh1,,
2026-10-13,gongle,need,resident,g2,gh2,met,N-1
2026-12-01,gongle,participate,resident,g1,gh1,,
"""

PROFILE = """communities:
  - {id: jianguo, name: 建国社区, parent: daoli, residents_capable: 10, households: 8, units: 4}
  - {id: gongle, name: 共乐社区, parent: daoli, residents_capable: 4, households: 6, units: 2}
parents:
  - {id: daoli, name: 道里街道}
"""

CONFIG = """profile: profile.yaml
logs: [logs/*.csv]
thresholds:
  resident_participation: {warn: 0.2, critical: 0.1}
  need_satisfaction: {warn: 0.9, critical: 0.6}
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.csv").write_text(LOG, encoding="utf-8")
    (tmp_path / "profile.yaml").write_text(PROFILE, encoding="utf-8")
    (tmp_path / "svcmetrics.yaml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def rows(text: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    return by_key(csv_rows(text))


# -- statuses at and around the boundaries ---------------------------------------------------

HIGHER = Threshold(warn=0.8, critical=0.6)
LOWER = Threshold(warn=0.1, critical=0.2, better="lower")


@pytest.mark.parametrize(
    ("rate", "threshold", "expected"),
    [
        (0.8, HIGHER, Status.OK),  # equal to warn is not a breach
        (0.80001, HIGHER, Status.OK),
        (0.79999, HIGHER, Status.WARN),
        (0.6, HIGHER, Status.WARN),  # equal to critical is not critical
        (0.59999, HIGHER, Status.CRITICAL),
        (0.0, HIGHER, Status.CRITICAL),
        (0.1, LOWER, Status.OK),
        (0.10001, LOWER, Status.WARN),
        (0.2, LOWER, Status.WARN),
        (0.20001, LOWER, Status.CRITICAL),
        (None, HIGHER, Status.NA),
        (None, None, Status.NA),
        (0.5, None, None),
        (0.5, Threshold(), None),
    ],
)
def test_status_boundaries(
    rate: float | None, threshold: Threshold | None, expected: Status | None
) -> None:
    assert judge(rate, threshold, ["c1"]).status is expected


def test_exact_fraction_not_its_display() -> None:
    # 2/3 shows as 66.7% but is below a 0.667 warn level
    assert judge(2 / 3, Threshold(warn=0.667), ["c"]).status is Status.WARN
    assert judge(0.1, Threshold(warn=0.2, critical=0.1), ["c"]).status is Status.WARN


def test_overrides_by_community_then_parent() -> None:
    threshold = Threshold.model_validate(
        {"warn": 0.5, "communities": {"c1": {"warn": 0.9}, "street": {"warn": 0.7}}}
    )
    assert judge(0.8, threshold, ["c1", "street"]).status is Status.WARN
    assert judge(0.8, threshold, ["c2", "street"]).status is Status.OK
    assert judge(0.6, threshold, ["c2", "street"]).status is Status.WARN
    assert judge(0.6, threshold, ["c3"]).status is Status.OK
    verdict = judge(0.6, threshold, ["c2", "street"])
    assert verdict.level == 0.7


def test_at_or_beyond() -> None:
    assert at_or_beyond(Status.WARN, Status.WARN)
    assert at_or_beyond(Status.CRITICAL, Status.WARN)
    assert not at_or_beyond(Status.WARN, Status.CRITICAL)
    assert not at_or_beyond(Status.NA, Status.WARN)
    assert not at_or_beyond(Status.OK, Status.WARN)
    assert not at_or_beyond(None, Status.WARN)


def test_statuses_in_csv_and_breach_summary(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        ["compute", "--month", "2026-10", "--format", "csv", "--lang", "en"], capsys
    )
    assert code == 0  # breaches without --fail-on still exit 0
    by = rows(out)
    assert by[("jianguo", "2026-10", "resident_participation")]["status"] == "ok"  # 0.2 == warn
    assert by[("gongle", "2026-10", "resident_participation")]["status"] == "ok"
    assert by[("jianguo", "2026-10", "need_satisfaction")]["status"] == "critical"  # 0.5 < 0.6
    assert by[("daoli", "2026-10", "need_satisfaction")]["status"] == "warn"  # 2/3
    assert by[("jianguo", "2026-10", "unit_benefit")]["status"] == ""  # no threshold
    assert by[("jianguo", "2026-10", "need_satisfaction")]["status"] == "critical"
    assert "jianguo" not in out.split("\n")[0]
    assert "建国社区 2026-10 Need satisfaction rate 50.0% is below the critical level 60.0%" in err
    assert "道里街道 2026-10 Need satisfaction rate 66.7% is below the warn level 90.0%" in err
    code, _, quiet_err = run_cli(["compute", "--month", "2026-10", "--quiet"], capsys)
    assert code == 0 and quiet_err == ""


def test_breach_summary_in_chinese(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = run_cli(["compute", "--month", "2026-10", "--lang", "zh"], capsys)
    assert "建国社区 2026-10 服务需求满足率 50.0%,低于严重线 60.0%" in err


def test_threshold_on_a_user_defined_indicator(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "svcmetrics.yaml").write_text(
        CONFIG
        + """indicators:
  - key: volunteers_per_capable
    name: {zh: 志愿者比例, en: Volunteers}
    numerator: {event: participate, party: resident, count: distinct id}
    denominator: {profile: residents_capable}
    thresholds: {warn: 0.3}
"""
    )
    code, out, _ = run_cli(["compute", "--month", "2026-10", "--format", "csv"], capsys)
    assert code == 0
    by = rows(out)
    assert by[("jianguo", "2026-10", "volunteers_per_capable")]["status"] == "warn"
    assert by[("jianguo", "2026-10", "volunteers_per_capable")]["rate"] == "0.2000"


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [(None, 0), ("warn", 1), ("critical", 1)],
)
def test_fail_on_exit_codes(
    workdir: Path, capsys: pytest.CaptureFixture[str], fail_on: str | None, expected: int
) -> None:
    args = ["compute", "--month", "2026-10", "--format", "csv"]
    if fail_on:
        args += ["--fail-on", fail_on]
    assert run_cli(args, capsys)[0] == expected


def test_fail_on_critical_ignores_warnings(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "svcmetrics.yaml").write_text(
        CONFIG.replace("{warn: 0.9, critical: 0.6}", "{warn: 0.9, critical: 0.4}")
    )
    args = ["compute", "--month", "2026-10", "--format", "csv"]
    assert run_cli([*args, "--fail-on", "critical"], capsys)[0] == 0
    assert run_cli([*args, "--fail-on", "warn"], capsys)[0] == 1


def test_invalid_input_wins_over_breach(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "logs" / "b.csv").write_text(
        "date,community,event,party,id\n2026-10-99,jianguo,participate,resident,x\n"
    )
    code, out, _ = run_cli(["compute", "--month", "2026-10", "--fail-on", "warn"], capsys)
    assert code == 3 and out == ""


# -- relative periods --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "today", "first", "last"),
    [
        (PeriodKind.MONTH, "2027-01-03", "2026-12-01", "2026-12-31"),
        (PeriodKind.QUARTER, "2027-01-03", "2026-10-01", "2026-12-31"),
        (PeriodKind.YEAR, "2027-01-03", "2026-01-01", "2026-12-31"),
        (PeriodKind.MONTH, "2026-03-01", "2026-02-01", "2026-02-28"),
        (PeriodKind.MONTH, "2024-03-31", "2024-02-01", "2024-02-29"),
        (PeriodKind.QUARTER, "2026-04-01", "2026-01-01", "2026-03-31"),
        (PeriodKind.QUARTER, "2026-03-31", "2025-10-01", "2025-12-31"),
        (PeriodKind.YEAR, "2026-12-31", "2025-01-01", "2025-12-31"),
    ],
)
def test_last_complete_period(kind: PeriodKind, today: str, first: str, last: str) -> None:
    assert last_complete(kind, dt.date.fromisoformat(today)) == (
        dt.date.fromisoformat(first),
        dt.date.fromisoformat(last),
    )


def test_last_month_as_of(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["compute", "--last", "month", "--as-of", "2026-11-05", "--format", "csv"], capsys
    )
    assert code == 0
    assert {key[1] for key in rows(out)} == {"2026-10"}
    code, out, _ = run_cli(
        ["compute", "--last", "quarter", "--as-of", "2027-01-03", "--format", "csv"], capsys
    )
    assert code == 0
    by = rows(out)
    assert {key[1] for key in by} == {"2026-Q4"}  # --last quarter groups by quarter
    # g1 took part in October and December: one distinct resident in the quarter
    assert by[("gongle", "2026-Q4", "resident_participation")]["numerator"] == "1"


def test_last_conflicts_are_usage_errors(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["compute", "--last", "month", "--month", "2026-10"], capsys)[0] == 2
    assert run_cli(["compute", "--last", "week"], capsys)[0] == 2


def test_period_placeholder_in_output(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "reports").mkdir()
    args = ["compute", "--last", "month", "--as-of", "2026-11-05", "--format", "csv"]
    code, out, _ = run_cli([*args, "--output", "reports/{period}.csv"], capsys)
    assert code == 0 and out == ""
    assert (workdir / "reports" / "2026-10.csv").read_text(encoding="utf-8").startswith("level,")


def test_config_discovery_and_command_line_logs(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ./svcmetrics.yaml is found; its logs glob is relative to it
    code, out, _ = run_cli(["compute", "--format", "csv"], capsys)
    assert code == 0 and "2026-12" in out
    # a LOG argument replaces the config's logs, the profile still applies
    (workdir / "other.csv").write_text(
        LOG.split("\n")[0] + "\n2026-09-01,jianguo,participate,resident,z,,,\n"
    )
    code, out, _ = run_cli(["compute", "other.csv", "--format", "csv"], capsys)
    assert code == 0
    assert {key[1] for key in rows(out)} == {"2026-09"}


def test_config_in_another_folder(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = run_cli(
        ["compute", "--config", "../svcmetrics.yaml", "--format", "csv"], capsys
    )
    assert code == 0, err
    assert "jianguo" in out


def _wait_until_reading_a_pipe(pid: int, timeout: float = 60) -> None:
    """Until the process waits for more standard input (its start-up, signal handlers
    included, is over): on a loaded machine that takes seconds, and a signal sent earlier
    ends the bare interpreter instead. Where /proc is missing, a fixed pause."""
    wchan = Path(f"/proc/{pid}/wchan")
    if not wchan.exists():
        time.sleep(1.5)
        return
    deadline = time.monotonic() + timeout
    while "pipe" not in wchan.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize(("signum", "expected"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_interrupted_run_leaves_previous_output(workdir: Path, signum: int, expected: int) -> None:
    target = workdir / "out.csv"
    target.write_bytes(b"previous report\n")
    # standard input that never ends keeps the run busy until the signal comes
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "svcmetrics",
            "compute",
            "-",
            "--output",
            str(target),
            "--lang",
            "en",
        ],
        cwd=workdir,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(LOG)
    process.stdin.flush()
    _wait_until_reading_a_pipe(process.pid)
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    assert process.returncode == expected
    assert err.strip() == "Interrupted."
    assert target.read_bytes() == b"previous report\n"
    assert [p.name for p in workdir.iterdir() if p.name.startswith(".out.csv")] == []


@pytest.mark.parametrize(("signum", "expected"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_a_duckdb_query_is_an_interruption(
    workdir: Path,
    signum: int,
    expected: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # DuckDB runs Python's signal handlers while a query runs and turns what they raise
    # into an error of its own, RuntimeError("Query interrupted") (seen with a real
    # query: which moment of a query the signal lands in is not up to a test)
    import svcmetrics.pipeline

    def compute(*args: object, **kwargs: object) -> None:
        try:
            os.kill(os.getpid(), signum)
            time.sleep(5)  # (the handler raises before this ends)
        except BaseException:
            raise RuntimeError("Query interrupted") from None

    monkeypatch.setattr(svcmetrics.pipeline, "compute", compute)
    code, out, err = run_cli(["compute", "--lang", "en", "--format", "csv"], capsys)
    assert (code, err.strip(), out) == (expected, "Interrupted.", "")


def test_a_signal_stops_a_query_that_gives_python_no_chance() -> None:
    # DuckDB runs Python's handlers only at some points of a query; with a handler that does
    # nothing, only the engine's watcher of the wake-up descriptor can stop this one
    from svcmetrics.engine import Engine

    previous = signal.signal(signal.SIGINT, lambda *_: None)
    stop = threading.Event()

    def send() -> None:
        # (again until the query ends: DuckDB forgets an interrupt that comes before its
        # query starts, as it may on a busy machine)
        while not stop.wait(0.3):
            os.kill(os.getpid(), signal.SIGINT)

    try:
        with Engine() as engine:
            sender = threading.Thread(target=send)
            guard = threading.Timer(30, engine.con.interrupt)  # (a failing test ends)
            sender.start()
            guard.start()
            started = time.monotonic()
            try:
                with pytest.raises(duckdb.Error, match="(?i)interrupt"):
                    engine.con.execute(
                        "SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3"
                    ).fetchall()
                took = time.monotonic() - started
            finally:
                stop.set()
                sender.join()
                guard.cancel()
        assert took < 10
    finally:
        signal.signal(signal.SIGINT, previous)
    assert signal.set_wakeup_fd(-1) == -1  # (given back when the engine closed)


@pytest.mark.parametrize("failure", ["no socket pair", "no thread"])
def test_an_engine_whose_watcher_cannot_start_runs_its_queries_unwatched(
    monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    # (a sandbox without socket pairs, or a process out of threads: the run goes on as
    # before the watcher, and the wake-up descriptor is left as it was)
    from svcmetrics.engine import Engine, interrupt

    def refuse(*_: object, **__: object) -> None:
        raise OSError(failure) if failure == "no socket pair" else RuntimeError(failure)

    if failure == "no socket pair":
        monkeypatch.setattr(interrupt.socket, "socketpair", refuse)
    else:
        monkeypatch.setattr(interrupt.threading.Thread, "start", refuse)
    with Engine() as engine:
        assert engine.con.execute("SELECT 42").fetchall() == [(42,)]
    assert signal.set_wakeup_fd(-1) == -1


def test_an_engine_closed_off_the_main_thread_leaves_no_dangling_wakeup_descriptor() -> None:
    # (a library caller closing the engine from a worker thread: the descriptor cannot be
    # given back there, so the socket it names must stay open, not become a free number)
    from svcmetrics.engine import Engine

    engine = Engine()
    closer = threading.Thread(target=engine.close)
    closer.start()
    closer.join()
    descriptor = signal.set_wakeup_fd(-1)
    try:
        assert descriptor != -1
        os.fstat(descriptor)  # (still open: raises OSError when it was closed)
    finally:
        engine._interrupter.close()  # (back on the main thread: stops the watcher)


def test_a_stop_while_the_config_is_read_is_said_once(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # (Ctrl-C before the command's own handlers: the config is read for the language)
    import svcmetrics.cli

    def stopped(_: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(svcmetrics.cli, "resolve_run_lang", stopped)
    code, out, err = run_cli(["compute", "--lang", "en", "--format", "csv"], capsys)
    assert (code, err, out) == (130, "Interrupted.\n", "")


def test_a_stop_while_typer_parses_the_command_line_is_said(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # (typer turns a KeyboardInterrupt while it builds the command's context into exit
    # 130 without a word)
    from svcmetrics.clicktext import Group

    def stopped(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Group, "make_context", stopped)
    code, out, err = run_cli(["compute", "--lang", "en", "--format", "csv"], capsys)
    assert (code, err, out) == (130, "Interrupted.\n", "")


def test_a_stop_while_the_command_line_is_imported_is_said(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # (the entry's handlers are in force from the first moment: the import of the command
    # line, a tenth of a second, ends with the same line, not a traceback)
    import importlib.abc

    import svcmetrics
    from svcmetrics import entry
    from svcmetrics.signals import Terminated

    class Stopped(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, *_: object) -> None:
            if name == "svcmetrics.cli":
                raise Terminated()
            return None

    monkeypatch.delattr(svcmetrics, "cli", raising=False)
    monkeypatch.delitem(sys.modules, "svcmetrics.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Stopped(), *sys.meta_path])
    monkeypatch.setattr(sys, "argv", ["svcmetrics", "compute", "--lang", "zh"])
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with pytest.raises(SystemExit) as exited:
            entry.main()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    assert exited.value.code == 143
    assert capsys.readouterr().err == "已中断。\n"


def test_a_signal_during_a_held_block_is_raised_at_its_end() -> None:
    # (DuckDB's import aborts the process when Ctrl-C lands halfway through it)
    from svcmetrics import signals

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signals.install()
    done = []
    try:
        with pytest.raises(KeyboardInterrupt):
            with signals.held():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # (the handler has run: it only noted the signal)
                done.append("the block ended")
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    assert done == ["the block ended"]
