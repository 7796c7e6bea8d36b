"""The fast paths for large logs give what the slow ones give.

Line numbers counted on bytes equal those of the csv module; values trimmed by DuckDB's
trim() (files that cannot hide a tab or a line break in a value) equal values trimmed of
every blank; the input order survives DuckDB's parallel loading of a large file.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svcmetrics.engine import SPACES
from svcmetrics.models import Mapping
from svcmetrics.pipeline import Options, check, run
from svcmetrics.readers import (
    NativeCsv,
    _lines_by_bytes,
    _lines_by_csv,
    read_log,
    spaces_only,
)

HEADER = "date,community,event,party,id,household,status,ticket,service\n"
TODAY = dt.date(2026, 12, 31)


def _native(path: Path) -> NativeCsv:
    source = read_log(str(path), Mapping())
    assert isinstance(source.native, NativeCsv)
    return source.native


# -- line numbers ----------------------------------------------------------------------------

# One record of a log, as the lines it takes: plain, quoted with a line break inside, or an
# empty line before it (not a record); `bad` rows carry an unknown event.
_record = st.tuples(
    st.sampled_from(["plain", "quoted", "multiline", "after_empty"]),
    st.booleans(),
)


def _log(records: list[tuple[str, bool]], newline: str) -> tuple[str, list[int]]:
    """A log's text and the first line of each bad record."""
    lines = [HEADER.rstrip("\n")]
    bad_lines = []
    for number, (shape, bad) in enumerate(records):
        event = "bogus" if bad else "participate"
        if shape == "after_empty":
            lines.append("")
        start = len(lines) + 1
        if shape == "plain":
            lines.append(f"2026-10-01,c1,{event},resident,r{number},,,,助老")
        elif shape == "quoted":
            lines.append(f'2026-10-01,c1,{event},resident,r{number},,,,"助老, 保洁"')
        elif shape == "multiline":
            lines += [f'2026-10-01,c1,{event},resident,r{number},,,,"助老', '保洁"']
        else:
            lines.append(f"2026-10-01,c1,{event},resident,r{number},,,,助老")
        if bad:
            bad_lines.append(start)
    return newline.join(lines) + newline, bad_lines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(_record, min_size=1, max_size=30),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_problems_point_at_their_lines(records: list[tuple[str, bool]], newline: str) -> None:
    text, bad_lines = _log(records, newline)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        path.write_bytes(text.encode())
        checked = check(Options(logs=(str(path),), today=TODAY))
    lines = [p.line for p in checked.problems if p.kind == "bad_value"]
    assert lines == bad_lines


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(_record, min_size=1, max_size=40),
    newline=st.sampled_from(["\n", "\r\n"]),
    block=st.integers(min_value=1, max_value=200),
    data=st.data(),
)
def test_lines_on_bytes_equal_lines_of_the_csv_module(
    records: list[tuple[str, bool]], newline: str, block: int, data: st.DataObject
) -> None:
    text, _ = _log(records, newline)
    wanted = set(data.draw(st.lists(st.integers(0, len(records) - 1), min_size=1)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        path.write_bytes(text.encode())
        native = _native(path)
        by_csv = _lines_by_csv(native, "utf-8", wanted)
        by_bytes = _lines_by_bytes(path, wanted, block=block)
    assert set(by_csv) == wanted
    if by_bytes is not None:
        assert by_bytes == by_csv
    # only a line with an odd number of quotes (in a block it reads) sends it to the csv
    # module
    if not any(shape == "multiline" for shape, _ in records):
        assert by_bytes is not None


# -- trimming --------------------------------------------------------------------------------


def test_spaces_only_when_no_value_can_hold_a_tab_or_a_line_break(tmp_path: Path) -> None:
    cases = {
        "plain.csv": (HEADER + "2026-10-01,c1,participate,resident,r1,,,,助老\r\n", True),
        "quoted.csv": (HEADER + '2026-10-01,c1,participate,resident,r1,,,,"助老"\n', False),
        "tab.csv": (HEADER + "2026-10-01,c1,participate,resident,r1\t,,,,助老\n", False),
        "tabs.tsv": (HEADER.replace(",", "\t") + "2026-10-01\tc1\tparticipate\tresident\n", True),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert spaces_only(_native(path)) is expected, name


# Blanks that may surround a value, from spreadsheets and Chinese input methods.
BLANKS = [" ", "\u3000", "\u00a0", "\t", "\u2003", "\u202f"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pads=st.lists(
        st.tuples(st.sampled_from(BLANKS), st.sampled_from(BLANKS)), min_size=6, max_size=6
    ),
    quoted=st.booleans(),
)
def test_blanks_around_values_are_ignored(pads: list[tuple[str, str]], quoted: bool) -> None:
    rows = [
        ["2026-10-03", "c1", "participate", "resident", "r1", "", "", "", "助老"],
        ["2026-10-04", "c1", "need", "resident", "r2", "", "pending", "N-1", ""],
        ["2026-10-05", "c1", "need", "resident", "r2", "", "met", "N-1", ""],
        ["2026-10-06", "c1", "survey", "resident", "r3", "", "满意", "", ""],
    ]
    clean = HEADER + "".join(",".join(row) + "\n" for row in rows)
    padded_rows = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            if cell and index < len(pads):
                before, after = pads[index]
                cell = f"{before}{cell}{after}"
            cells.append(f'"{cell}"' if quoted and cell else cell)
        padded_rows.append(",".join(cells))
    padded = HEADER + "\n".join(padded_rows) + "\n"
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for name, text in (("clean.csv", clean), ("padded.csv", padded)):
            path = Path(folder) / name
            path.write_text(text, encoding="utf-8")
            report = run(Options(logs=(str(path),), today=TODAY))
            results.append([(r.indicator, r.numerator, r.denominator) for r in report.results])
    assert results[0] == results[1]


# -- input order on a large file -------------------------------------------------------------


def test_input_order_survives_parallel_loading(tmp_path: Path) -> None:
    """Rows of a ticket on one day, far apart in a large file: the latest row wins.

    Lost order is a race between DuckDB's threads, so a broken loader fails this test
    often rather than always; the rows are spread so that any two row groups swapped
    change the count.
    """
    tickets = 2000
    filler = "".join(f"2026-10-01,c1,participate,resident,r{n},,,,助老\n" for n in range(200_000))
    rounds = ["met", "pending", "met", "pending"]
    parts = []
    for number, status in enumerate(rounds):
        last = number == len(rounds) - 1
        parts.append(
            "".join(
                f"2026-10-02,c1,need,resident,x{n},,"
                f"{'met' if last and n % 3 == 0 else status},T-{n},\n"
                for n in range(tickets)
            )
        )
        if not last:
            parts.append(filler)
    path = tmp_path / "large.csv"
    path.write_text(HEADER + "".join(parts), encoding="utf-8")
    report = run(Options(logs=(str(path),), today=TODAY))
    needs = {
        r.period: (r.numerator, r.denominator)
        for r in report.results
        if r.indicator == "need_satisfaction" and r.level == "community"
    }
    assert needs["2026-10"] == (667, tickets)  # the last round: every third is met


def test_spaces_are_the_unicode_space_separators() -> None:
    """What DuckDB's trim() takes by itself is every space separator (category Zs)."""
    assert sorted(SPACES) == [
        chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Zs"
    ]
