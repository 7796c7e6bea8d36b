"""The checks' one scan (issue 17): the problems and duplicates it finds are those of a
query per check and of a comparison of every row's fields."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from svcmetrics.engine import Engine
from svcmetrics.engine import checks as engine_checks
from svcmetrics.engine.checks import check as check_loaded
from svcmetrics.engine.load import HASHED, read_in_python
from svcmetrics.models import RECORD_FIELDS, Community
from svcmetrics.periods import plausible_window
from svcmetrics.pipeline import Options, load_inputs, read_logs

TODAY = dt.date(2026, 12, 1)
HEADER = "date,community,event,party,id,household,status,ticket,service,category\n"
GOOD = "2026-10-0{day},jianguo,participate,resident,r{day},h{day},,,助老,special\n"
# a row for every check of a row (after a few good ones), and again some good rows
EVERY_CHECK = [
    ",jianguo,participate,resident,r1,h1,,,助老,special",  # date missing
    "2026-10-01,,participate,resident,r1,h1,,,助老,special",  # community missing
    "2026-10-01,jianguo,,resident,r1,h1,,,助老,special",  # event missing
    "2026-10-01,jianguo,dance,resident,r1,h1,,,助老,special",  # bad event
    "2026-10-01,jianguo,participate,,r1,h1,,,助老,special",  # party missing
    "2026-10-01,jianguo,participate,alien,r1,h1,,,助老,special",  # bad party
    "2026-10-01,jianguo,participate,resident,,h1,,,助老,special",  # id missing
    "2026-10-01,jianguo,benefit,resident,r1,,,,助老,special",  # household missing
    "2026-10-01,jianguo,need,resident,r1,h1,,XQ-1,助老,special",  # status missing
    "2026-10-01,jianguo,need,resident,r1,h1,weird,XQ-1,助老,special",  # bad status
    "2026-10-01,jianguo,participate,resident,r1,h1,,,助老,odd",  # bad category
    "someday,jianguo,participate,resident,r1,h1,,,助老,special",  # bad date
    "2026-11-31,jianguo,participate,resident,r1,h1,,,助老,special",  # no such day
    "46280,jianguo,participate,resident,r1,h1,,,助老,special",  # Excel serial
    "合计,,,,,,,,,",  # total row
    "1985-03-01,jianguo,participate,resident,r1,h1,,,助老,special",  # out of range
    "2026-10-01,nowhere,participate,resident,r1,h1,,,助老,special",  # unknown community
    "2026-10-01,gongle,survey,resident,r1,h1,maybe,,助老,special",  # bad answer
    "2026-10-01,gongle,survey,resident,r1,h1,,,助老,special",  # (a valid survey row)
    "2026-12-20,jianguo,participate,resident,r1,h1,,,助老,special",  # future date
    "2026-10-01,jianguo,participate,resident,1.1E+17,1.2E+5,,,助老,special",  # mangled ids
]
MESSY = (
    HEADER
    + "".join(GOOD.format(day=day) for day in range(1, 4))
    + "\n".join(EVERY_CHECK)
    + "\n"
    + "".join(GOOD.format(day=day) for day in range(4, 7))
)
# exact duplicates of rows 1 and 2, a near duplicate, and a duplicate of a duplicate
DUPLICATED = (
    HEADER
    + GOOD.format(day=1)
    + GOOD.format(day=2)
    + GOOD.format(day=1)
    + GOOD.format(day=2).replace("h2", "h3")
    + GOOD.format(day=2)
    + GOOD.format(day=1)
    + GOOD.format(day=3)
)
COMMUNITIES = [Community(id=value, name=value) for value in ["jianguo", "gongle"]]


def _loaded(folder: Path, text: str) -> tuple[Engine, Options]:
    (folder / "log.csv").write_text(text, encoding="utf-8")
    return Engine(), Options(logs=(str(folder / "log.csv"),))


def _problems(engine: Engine) -> list[tuple[object, ...]]:
    return sorted(
        engine.con.execute(
            "SELECT _src, _rec, _line, col, value, kind, other FROM problems"
        ).fetchall(),
        key=repr,
    )


def test_every_check_finds_in_the_scan_what_its_own_query_finds(tmp_path: Path) -> None:
    """A log where every check of a row finds a row: the problems found through the one
    scan and its candidates equal those of a query per check over every row (the way
    before the scan), and each check found something."""
    engine, options = _loaded(tmp_path, MESSY)
    with engine:
        inputs = load_inputs(options)
        loaded = engine.load(read_logs(options, inputs, engine.workdir))
        checked = check_loaded(loaded, inputs, COMMUNITIES, today=TODAY, as_of=None)
        found = _problems(engine)
        config = inputs.config
        window = plausible_window(config.date_range.from_, config.date_range.to, TODAY)
        every = engine_checks._checks(loaded.canonical, window, community_required=True)
        con = engine.con
        for one in every:
            hits = con.execute(
                f"SELECT count(*) FROM norm WHERE {one.condition}", one.params
            ).fetchone()
            assert hits and hits[0], one
        con.execute("DROP TABLE problems")
        engine_checks._problem_rows(con, every, "norm")
        engine_checks._tell_apart(con, window)
        alone = _problems(engine)
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
    assert found == alone
    assert "candidates" not in tables
    kinds = {problem.kind for problem in checked.problems}
    assert {"no_such_day", "excel_serial_date", "total_row", "bad_answer"} <= kinds
    assert checked.totals["future_date"] == 1 and checked.totals["mangled_id"] == 2
    assert checked.read == 6 + len(EVERY_CHECK)


def test_a_clean_log_makes_no_candidates_and_no_problems(tmp_path: Path) -> None:
    """On a clean log the scan finds nothing: no candidate table, no problem table."""
    engine, options = _loaded(tmp_path, HEADER + "".join(GOOD.format(day=d) for d in range(1, 7)))
    with engine:
        inputs = load_inputs(options)
        loaded = engine.load(read_logs(options, inputs, engine.workdir))
        checked = check_loaded(loaded, inputs, COMMUNITIES, today=TODAY, as_of=None)
        tables = {row[0] for row in engine.con.execute("SHOW TABLES").fetchall()}
    assert not {"candidates", "problems", "warnings"} & tables
    assert (checked.rows, checked.read, checked.skipped, checked.problems) == (6, 6, 0, [])


@pytest.mark.parametrize("collide", [False, True], ids=["hashed", "every-hash-equal"])
def test_duplicates_are_rows_equal_in_every_field(tmp_path: Path, collide: bool) -> None:
    """Duplicates are the rows whose fields all equal an earlier row's, each pointing at
    the first copy; with every row's hash made equal (a collision on every pair) the
    near duplicate and the distinct rows are still no duplicates."""
    engine, options = _loaded(tmp_path, DUPLICATED)
    with engine:
        inputs = load_inputs(options)
        loaded = engine.load(read_logs(options, inputs, engine.workdir))
        if collide:
            engine.con.execute("UPDATE loaded SET _hash = 42")
        checked = check_loaded(loaded, inputs, COMMUNITIES, today=TODAY, as_of=None)
        same = " AND ".join(f'a."{name}" IS NOT DISTINCT FROM b."{name}"' for name in RECORD_FIELDS)
        # every row compared with every earlier one, field by field (no hash)
        expected = engine.con.execute(
            f"""SELECT a._rec, min(b._rec) FROM norm a JOIN norm b
            ON b._rec < a._rec AND {same} GROUP BY a._rec ORDER BY a._rec"""
        ).fetchall()
        found = engine.con.execute("SELECT _rec, other FROM duplicates ORDER BY _rec").fetchall()
    assert found == expected == [(2, 0), (4, 1), (5, 0)]
    assert checked.totals == {"duplicate_row": 3}


def test_a_near_duplicate_can_share_the_hash_and_is_no_duplicate(tmp_path: Path) -> None:
    """The hash covers only some fields (:data:`svcmetrics.engine.load.HASHED`): a row
    differing from another only in a field left out (here the household) has its hash,
    and the duplicate check still tells them apart field by field."""
    assert set(HASHED) < set(RECORD_FIELDS)
    engine, options = _loaded(tmp_path, DUPLICATED)
    with engine:
        inputs = load_inputs(options)
        loaded = engine.load(read_logs(options, inputs, engine.workdir))
        rows = engine.con.execute("SELECT _hash FROM norm ORDER BY _rec").fetchall()
        hashes = [row[0] for row in rows]
        check_loaded(loaded, inputs, COMMUNITIES, today=TODAY, as_of=None)
        found = engine.con.execute("SELECT _rec FROM duplicates ORDER BY _rec").fetchall()
    assert hashes[3] == hashes[1]  # h3 instead of h2: the same hash
    assert (3,) not in found


# empty cells, a row of them, values in other cases and scripts, an extra column: a file
# with nothing to trim (no quote, space or tab), and one with quoted empty cells
EMPTY_CELLS = (
    "date,community,event,party,id,household,status,ticket,service,category,note\n"
    "2026-10-01,,PARTICIPATE,Resident,r1,,,,助老,SPECIAL,\n"
    ",,,,,,,,,,\n"
    "2026-10-02,jianguo,参与,单位,u1,,已满足,XQ-1,,一般居民服务,x\n"
    ",,,,,,,,,,note\n"
    "2026-10-03,jianguo,need,resident,r2,h2,Pending,XQ-2,助老,general,\n"
)
QUOTED_EMPTY_CELLS = EMPTY_CELLS.replace(",,", ',"",').replace(",x\n", ',"x "\n')


@pytest.mark.parametrize("text", [EMPTY_CELLS, QUOTED_EMPTY_CELLS], ids=["plain", "quoted"])
def test_native_csv_loads_as_read_by_python(tmp_path: Path, text: str) -> None:
    """A CSV scanned by DuckDB's reader (with nothing to trim, its empty cells are NULL
    as read) fills ``loaded`` exactly as the same file read by Python: values, total
    flags, days and hashes (Python's reader leaves out the blank rows the engine flags)."""
    columns = "_total, " + ", ".join(f'"{name}"' for name in RECORD_FIELDS)
    tables = []
    for in_python in (False, True):
        engine, options = _loaded(tmp_path, text)
        with engine:
            inputs = load_inputs(options)
            sources = read_logs(options, inputs, engine.workdir)
            assert sources[0].native is not None
            if in_python:
                sources = [read_in_python(source) for source in sources]
            engine.load(sources)
            tables.append(
                engine.con.execute(
                    f"SELECT {columns}, day, _hash FROM loaded WHERE NOT _blank ORDER BY rowid"
                ).fetchall()
            )
    assert tables[0] == tables[1]
    assert len(tables[0]) == 4
    assert tables[0][0][1:7] == ("2026-10-01", None, "participate", "resident", "r1", None)
