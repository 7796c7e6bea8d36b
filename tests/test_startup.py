"""A tiny ledger's shortcuts (issue 17, goal 2) give what the scans they replace give."""

from __future__ import annotations

import datetime as dt
import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from svcmetrics.engine import Engine, Loaded
from svcmetrics.engine.checks import check as check_loaded
from svcmetrics.models import Community
from svcmetrics.pipeline import Options, load_inputs, read_logs

HEADER = "date,community,event,party,id,household,status,ticket,service\n"
ROW = "2026-10-0{day},jianguo,participate,resident,r{day},h{day},,,助老\n"
CLEAN = HEADER + "".join(ROW.format(day=day) for day in range(1, 6))
# a total row, a day the month lacks, a duplicate and a date ahead of today
FLAWED = (
    HEADER
    + ROW.format(day=1)
    + ROW.format(day=1)
    + "2026-11-31,jianguo,participate,resident,r9,h9,,,助老\n"
    + "合计,,,,,,,,\n"
    + "2026-12-20,jianguo,participate,resident,r4,h4,,,助老\n"
)
RAGGED = HEADER + ROW.format(day=2) + "2026-10-03,jianguo,participate\n"
TODAY = dt.date(2026, 12, 1)
EXAMPLES = Path(__file__).parents[1] / "examples"
YAML_LOG = (
    "records:\n"
    "  - {date: '2026-10-07', community: jianguo, event: participate, party: resident,"
    " id: r7}\n"
)


def _engine_run(folder: Path, logs: dict[str, str]) -> tuple[Engine, Options]:
    for name, text in logs.items():
        (folder / name).write_text(text, encoding="utf-8")
    options = Options(logs=tuple(str(folder / name) for name in logs))
    return Engine(), options


@pytest.mark.parametrize(
    "logs",
    [
        {"clean.csv": CLEAN},
        {"a.csv": CLEAN, "empty.csv": HEADER, "log.yaml": YAML_LOG, "b.csv": FLAWED},
        {"ragged.csv": RAGGED, "a.csv": CLEAN, "empty.csv": HEADER},
    ],
    ids=["one", "several", "refused"],
)
def test_each_sources_first_row_is_the_count_of_the_rows_before(
    tmp_path: Path, logs: dict[str, str]
) -> None:
    """The counts the inserts return place each source as a scan of ``loaded`` does."""
    engine, options = _engine_run(tmp_path, logs)
    with engine:
        inputs = load_inputs(options)
        loaded = engine.load(read_logs(options, inputs, engine.workdir))
        columns = {row[0] for row in engine.con.execute("DESCRIBE loaded").fetchall()}
        src = "_src" if "_src" in columns else "0"  # (one source: no column, all 0)
        scanned = engine.con.execute(
            f"SELECT {src} AS s, min(rowid), count(*) FROM loaded GROUP BY s"
        ).fetchall()
        assert loaded.first == {int(src): int(start) for src, start, _ in scanned}
        assert loaded.lines._records == {int(src): int(count) for src, _, count in scanned}


@pytest.mark.parametrize("text", [CLEAN, FLAWED], ids=["clean", "flawed"])
def test_the_checks_count_what_the_tables_hold(tmp_path: Path, text: str) -> None:
    """Skipped and read rows, and the totals, are those of ``problems`` and ``norm``; a
    clean log has neither a ``problems`` nor a ``warnings`` table, and every row is valid."""
    engine, options = _engine_run(tmp_path, {"log.csv": text})
    with engine:
        inputs = load_inputs(options)
        loaded = engine.load(read_logs(options, inputs, engine.workdir))
        communities = [Community(id=value, name=value) for value in ["jianguo"]]
        checked = check_loaded(loaded, inputs, communities, today=TODAY, as_of=None)
        con = engine.con
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        kinds: dict[str, int] = {}
        skipped: tuple[int] | None = (0,)
        if "problems" in tables:  # (a clean log has none)
            kinds = dict(
                con.execute("SELECT kind, count(*) FROM problems GROUP BY kind").fetchall()
            )
            skipped = con.execute("SELECT count(DISTINCT _rec) FROM problems").fetchone()
        read = con.execute("SELECT count(*) FROM norm").fetchone()
    assert (checked.skipped, checked.read) == (skipped and skipped[0], read and read[0])
    assert {kind: checked.totals[kind] for kind in kinds} == kinds
    if text == CLEAN:
        assert not kinds and not checked.problems
        assert not {"problems", "warnings"} & tables
        assert (checked.rows, checked.read, checked.skipped) == (5, 5, 0)
    else:
        assert kinds == {"no_such_day": 1, "total_row": 1}
        assert checked.totals["duplicate_row"] == checked.totals["future_date"] == 1
        assert (checked.rows, checked.read, checked.skipped) == (3, 5, 2)


def test_a_small_run_counts_what_the_optimised_run_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The example (136 rows) as a small run (one thread, plans as written, ``rp`` a
    table) and as a large one (``rp`` a view): the same report, byte for byte, in every
    indicator and breakdown."""
    import svcmetrics.engine as engine_module
    from svcmetrics.engine.count import Count
    from svcmetrics.output import render
    from svcmetrics.output.options import OutputFormat
    from svcmetrics.pipeline import compute

    config = Path(__file__).parents[1] / "examples" / "svcmetrics.yaml"
    settings: list[tuple[object, ...]] = []
    kinds: list[str] = []
    real_load = Engine.load
    real_set_periods = Count.set_periods

    def set_periods_and_note(self: Count, *args: Any) -> None:
        real_set_periods(self, *args)
        row = self.con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = 'rp'"
        ).fetchone()
        kinds.append(str(row[0]) if row else "")

    def load_and_note(self: Engine, *args: Any) -> Loaded:
        loaded = real_load(self, *args)
        row = self.con.execute(
            "SELECT current_setting('threads'), current_setting('enable_optimizer')"
        ).fetchone()
        settings.append(tuple(row or ()))
        return loaded

    monkeypatch.setattr(Engine, "load", load_and_note)
    monkeypatch.setattr(Count, "set_periods", set_periods_and_note)
    texts = []
    for small in (engine_module.SMALL_RUN, 0):
        monkeypatch.setattr(engine_module, "SMALL_RUN", small)
        for by in (None, "service"):
            report, options = compute(Options(config=config, by=by, as_of=TODAY))
            texts.append(render(report, OutputFormat.CSV, options))
    assert texts[:2] == texts[2:] and all(texts)
    assert settings[0] == (1, False) and settings[-1][1] is True
    assert kinds == ["BASE TABLE", "BASE TABLE", "VIEW", "VIEW"]


RUN_THEN_NOTE = """
import atexit, gc, sys
from svcmetrics import cli

collected = []
run = cli._run

def run_then_watch(args):
    code = run(args)
    # (a collection from here to the exit would walk every object the run made)
    gc.callbacks.append(lambda phase, info: phase == "start" and collected.append(info))
    return code

def note():
    print("frozen" if gc.get_freeze_count() else "not frozen", gc.isenabled(), file=sys.stderr)
    print(sorted(name for name in sys.modules if name.startswith(ABSENT)), file=sys.stderr)
    print("collections after the run:", collected, file=sys.stderr)

ABSENT = {absent!r}
atexit.register(note)
cli._run = run_then_watch
sys.argv = ["svcmetrics", "compute", "--config", "svcmetrics.yaml", "--format", "csv"]
cli.main()
"""

NOT_FOR_CSV = (
    "svcmetrics.output.html",
    "svcmetrics.output.xlsx",
    "svcmetrics.output.table",
    "svcmetrics.output.chart",
    "svcmetrics.output.jsontext",
    "svcmetrics.warehouse",
    "svcmetrics.compiler",
    "svcmetrics.sqlexport",
    "sqlglot",
    "rich.console",
    "tabulate",
    "jinja2",
    "openpyxl",
    "pyarrow",
)
"""What a csv run on a plain CSV log does not need (with its SQL cached)."""


def test_a_csv_run_imports_no_renderer_and_leaves_its_objects_out_of_the_exit_collection(
    tmp_path: Path,
) -> None:
    """The process that ran the example's csv (the second time: the first fills the SQL
    cache) loaded no other format, no warehouse and no SQL compiler, and froze its
    objects before exiting (:func:`svcmetrics.heap.spare_exit_collection`), with the
    collector enabled again but no collection run between the command's end and the exit;
    the output is the same as the first run's."""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    code = RUN_THEN_NOTE.format(absent=NOT_FOR_CSV)
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], cwd=EXAMPLES, env=env, capture_output=True, check=True
        )
        for _ in range(2)
    ]
    assert runs[1].stdout == runs[0].stdout and runs[1].stdout.startswith(b"level,community,")
    noted = runs[1].stderr.decode("utf-8").splitlines()[-3:]
    assert noted == ["frozen True", "[]", "collections after the run: []"]


def test_main_called_with_arguments_leaves_the_collector_as_it_was(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A caller that passes ``argv`` (a test, a script) goes on after ``main``: nothing is
    frozen, and the collector is enabled again."""
    from svcmetrics.cli import main

    before = gc.get_freeze_count()
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0 and "compute" in capsys.readouterr().out
    assert gc.get_freeze_count() == before and gc.isenabled()


def test_dates_that_read_two_ways_still_stop_the_run(tmp_path: Path) -> None:
    """The search for ambiguous dates runs only where there are problems: a date no
    format reads is one, so such a log still stops before anything is counted."""
    from svcmetrics.errors import InputError
    from svcmetrics.pipeline import check

    text = CLEAN + "03/04/2026,jianguo,participate,resident,r8,h8,,,助老\n"
    (tmp_path / "log.csv").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as stopped:
        check(Options(logs=(str(tmp_path / "log.csv"),)))
    assert stopped.value.key == "ambiguous_dates_found"
    assert [problem.kind for problem in stopped.value.problems] == ["ambiguous_dates"]
