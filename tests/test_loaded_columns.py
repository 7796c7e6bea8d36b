"""``loaded`` is narrower (issue 17: a 10M-row log's table about a fifth): it stores no
column that is the same in every row (the source's number only when there are several
sources, the line only when Python read a source), and it holds event, party and category
as codes. What the problems say, and what is counted, is the same either way."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

from svcmetrics.engine import Engine
from svcmetrics.pipeline import Options, load_inputs, read_logs, run, validate
from svcmetrics.readers import Source

engine_load = importlib.import_module("svcmetrics.engine.load")
"""(the package's ``load`` is the module's function)"""

CSV = (
    "date,community,event,party,id\n"
    "2026-10-01,a,participate,resident,r1\n"
    "someday,a,participate,resident,r2\n"
    "2026-10-03,a,participate,resident,r3\n"
)
SECOND = (
    "date,community,event,party,id\n"
    "2026-10-04,a,participate,resident,r4\n"
    "\n"
    "2026-13-01,a,x,resident,r5\n"
)
RAGGED = (  # (DuckDB's reader refuses a row longer than the header)
    "date,community,event,party,id\n"
    "2026-10-01,a,participate,resident,r1,extra,more\n"
    "someday,a,participate,resident,r3\n"
)
YAML = """records:
  - date: "2026-10-01"
    community: a
    event: participate
    party: resident
    id: r9
  - date: "bad"
    community: a
    event: participate
    party: resident
    id: r9
"""


def _run(
    folder: Path, files: dict[str, str]
) -> tuple[set[str], list[tuple[str, int | None, str, str | None]]]:
    """The columns of ``loaded`` and (file, line, kind, value) of each problem found."""
    paths = []
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(str(folder / name))
    options = Options(logs=tuple(paths))
    with Engine() as engine:
        checked = validate(engine, options, limit=None)
        columns = {row[0] for row in engine.con.execute("DESCRIBE loaded").fetchall()}
    found = [(Path(p.file).name, p.line, p.kind, p.value) for p in checked.problems]
    return columns, sorted(found, key=repr)


def test_one_native_csv_stores_neither_source_nor_line(tmp_path: Path) -> None:
    columns, found = _run(tmp_path, {"log.csv": CSV})
    assert "_src" not in columns and "_line" not in columns
    assert found == [("log.csv", 3, "bad_date", "someday")]


def test_several_sources_store_their_numbers(tmp_path: Path) -> None:
    columns, found = _run(tmp_path, {"a.csv": CSV, "b.csv": SECOND})
    assert "_src" in columns and "_line" not in columns
    assert found == [
        ("a.csv", 3, "bad_date", "someday"),
        ("b.csv", 4, "bad_date", "2026-13-01"),
        ("b.csv", 4, "bad_value", "x"),
    ]


def test_a_source_read_by_python_stores_lines(tmp_path: Path) -> None:
    columns, found = _run(tmp_path, {"a.csv": CSV, "log.yaml": YAML})
    assert {"_src", "_line"} <= columns
    assert found == [("a.csv", 3, "bad_date", "someday"), ("log.yaml", 7, "bad_date", "bad")]


def test_a_csv_the_engine_refuses_adds_the_line_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's reader refuses a ragged CSV after ``loaded`` was made without lines: the
    column is added, and the rows the other source put in before keep no line."""
    refused = []
    read_in_python = engine_load.read_in_python

    def spy(source: Source) -> Source:
        refused.append(source.name)
        return read_in_python(source)

    monkeypatch.setattr(engine_load, "read_in_python", spy)
    columns, found = _run(tmp_path, {"a.csv": CSV, "ragged.csv": RAGGED})
    assert [Path(name).name for name in refused] == ["ragged.csv"]
    assert {"_src", "_line"} <= columns
    assert ("a.csv", 3, "bad_date", "someday") in found
    assert ("ragged.csv", 3, "bad_date", "someday") in found


def test_norm_gives_the_columns_not_stored_as_constants(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(CSV, encoding="utf-8")
    options = Options(logs=(str(tmp_path / "log.csv"),))
    with Engine() as engine:
        engine.load(read_logs(options, load_inputs(options), engine.workdir))
        rows = engine.con.execute("SELECT _src, _line, _rec FROM norm ORDER BY _rec").fetchall()
    assert rows == [(0, None, 0), (0, None, 1), (0, None, 2)]


CODED = (
    "date,community,event,party,id,category\n"
    "2026-10-01,a,participate,resident,r1,special\n"
    "2026-10-02,a,參與,居民,r2,一般居民服务\n"  # aliases: coded as their canonical values
    "2026-10-03,a,dance,need,r3,odd\n"  # no event, a party that is an event, no category
    "2026-10-04,a,家访,unit,u1,\n"  # the user's own event
)


def test_fields_of_fixed_values_are_stored_as_codes(tmp_path: Path) -> None:
    """Event, party and category are codes in ``loaded`` (their texts in ``norm``); a value
    that is no code's is kept as read, and a value of another field's (a party ``need``)
    is a code but still a bad party."""
    (tmp_path / "log.csv").write_text(CODED, encoding="utf-8")
    options = Options(logs=(str(tmp_path / "log.csv"),))
    with Engine() as engine:
        engine.load(read_logs(options, load_inputs(options), engine.workdir), ["家访"])
        types = dict(
            engine.con.execute("SELECT column_name, column_type FROM (DESCRIBE loaded)").fetchall()
        )
        stored = engine.con.execute(
            'SELECT event, party, category, "_raw_event", "_raw_party", "_raw_category" '
            "FROM loaded ORDER BY rowid"
        ).fetchall()
        texts = engine.con.execute(
            "SELECT event, party, category FROM norm ORDER BY _rec"
        ).fetchall()
        kinds = dict(
            engine.con.execute("SELECT column_name, column_type FROM (DESCRIBE norm)").fetchall()
        )
    assert {types[name][:4] for name in ("event", "party", "category")} == {"ENUM"}
    assert types["status"] == types["id"] == "VARCHAR"
    assert {kinds[name] for name in ("event", "party", "category")} == {"VARCHAR"}
    assert stored == [
        ("participate", "resident", "special", None, None, None),
        ("participate", "resident", "general", None, None, None),
        (None, "need", None, "dance", None, "odd"),
        ("家访", "unit", None, None, None, None),
    ]
    assert texts == [
        ("participate", "resident", "special"),
        ("participate", "resident", "general"),
        ("dance", "need", "odd"),
        ("家访", "unit", None),
    ]


def test_values_that_are_no_code_are_the_problems_they_were(tmp_path: Path) -> None:
    _, found = _run(tmp_path, {"log.csv": CODED})
    assert found == [
        ("log.csv", 4, "bad_value", "dance"),
        ("log.csv", 4, "bad_value", "need"),
        ("log.csv", 4, "bad_value", "odd"),
        ("log.csv", 5, "bad_value", "家访"),
    ]


ROWS = [
    "2026-10-01,a,participate,resident,r1,special",
    "2026-10-02,a,参与,居民,r2,一般居民服务",
    "2026-10-02,b,participate,unit,u1,unit",
    "2026-10-03,a,benefit,unit,u3,",
    "2026-11-04,b,participate,resident,r9,general",
    "2026-11-05,a,participate,unit,u2,unit",
]
HEADER = "date,community,event,party,id,category\n"


def _counted(
    folder: Path, files: dict[str, str], by: str | None = None
) -> list[tuple[object, ...]]:
    paths = []
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(str(folder / name))
    report = run(Options(logs=tuple(paths), by=by))
    return [
        (r.level, r.community, r.period, r.indicator, r.breakdown, r.numerator, r.denominator)
        for r in report.results
    ]


def _yaml(rows: list[str]) -> str:
    names = HEADER.strip().split(",")
    records = [dict(zip(names, row.split(","), strict=True)) for row in rows]
    return yaml.safe_dump({"records": records}, allow_unicode=True)


@pytest.mark.parametrize("by", [None, "category"])
def test_the_counts_are_those_of_any_layout(tmp_path: Path, by: str | None) -> None:
    """One CSV (nothing constant stored), the same rows in two CSVs (the source's number
    stored) and as YAML (the line stored) count the same; the breakdown values are the
    categories' texts, in their order."""
    one = _counted(tmp_path, {"log.csv": HEADER + "\n".join(ROWS) + "\n"}, by)
    two = _counted(
        tmp_path,
        {
            "a.csv": HEADER + "\n".join(ROWS[:3]) + "\n",
            "b.csv": HEADER + "\n".join(ROWS[3:]) + "\n",
        },
        by,
    )
    read = _counted(tmp_path, {"log.yaml": _yaml(ROWS)}, by)
    assert one == two == read
    assert ("community", "a", "2026-10", "resident_participation") in {row[:4] for row in one}
    if by:
        first = ("community", "a", "2026-10", "resident_participation")
        assert [row[4] for row in one if row[:4] == first] == ["", "general", "special", "unit"]
