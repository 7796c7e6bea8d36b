"""The fast paths for large logs give what the slow ones give.

Line numbers counted on bytes equal those of the csv module; values trimmed by DuckDB's
trim() (files that cannot hide a tab or a line break in a value) equal values trimmed of
every blank; the input order survives DuckDB's parallel loading of a large file.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import unicodedata
from pathlib import Path

import pytest
from clihelp import run_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svcmetrics.engine.lines import lines_by_bytes, lines_by_csv
from svcmetrics.errors import InputError
from svcmetrics.models import ColumnMapping
from svcmetrics.pipeline import Options, check, run
from svcmetrics.readers import SPACES, Blanks, NativeCsv, blanks, read_log
from svcmetrics.readers.csvfiles import long_line

HEADER = "date,community,event,party,id,household,status,ticket,service\n"
TODAY = dt.date(2026, 12, 31)


def _native(path: Path) -> NativeCsv:
    source = read_log(str(path), ColumnMapping())
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
        by_csv = lines_by_csv(native, wanted)
        by_bytes = lines_by_bytes(path, wanted, block=block)
    assert set(by_csv) == wanted
    if by_bytes is not None:
        assert by_bytes == by_csv
    # only a line with an odd number of quotes (in a block it reads) sends it to the csv
    # module
    if not any(shape == "multiline" for shape, _ in records):
        assert by_bytes is not None


# -- trimming --------------------------------------------------------------------------------


def test_what_is_trimmed_follows_what_the_file_holds(tmp_path: Path) -> None:
    row = "2026-10-01,c1,participate,resident,r1,,,,助老"
    cases = {
        "plain.csv": (HEADER + row + "\r\n", Blanks.NONE),
        "spaced header.csv": ("date ,community" + HEADER[9:] + row + "\n", Blanks.NONE),
        "cjk punctuation.csv": (HEADER + row + "、互助。\n", Blanks.NONE),
        # a byte that begins several spaces (U+2000 to U+205F) is taken as one of them
        "quotation marks.csv": (HEADER + row + "“互助”\n", Blanks.SPACES),
        "space.csv": (HEADER + row.replace("r1", "r1 ") + "\n", Blanks.SPACES),
        "inner space.csv": (HEADER + row.replace("助老", "助 老") + "\n", Blanks.SPACES),
        "quoted.csv": (HEADER + row.replace("助老", '"助老"') + "\n", Blanks.ALL),
        "tab.csv": (HEADER + row.replace("r1", "r1\t") + "\n", Blanks.ALL),
        "tabs.tsv": (HEADER.replace(",", "\t") + row.replace(",", "\t") + "\n", Blanks.NONE),
        "empty.csv": ("", Blanks.NONE),
    }
    # every space of several bytes, alone in the file, is found
    for space in SPACES[1:]:
        cases[f"U+{ord(space):04X}.csv"] = (HEADER + row + space + "\n", Blanks.SPACES)
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        native = NativeCsv(path, "\t" if name.endswith(".tsv") else ",", 9, {})
        assert blanks(native) is expected, name


# Blanks that may surround a value, from spreadsheets and Chinese input methods.
BLANKS = [" ", "\u3000", "\u00a0", "\t", "\u2003", "\u202f"]


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
@pytest.mark.parametrize("shift", range(len(BLANKS)))
def test_blanks_around_values_are_ignored(shift: int, quoted: bool) -> None:
    """Each blank before and after a value of each of the six columns, over the shifts (a
    Latin square: every blank meets every column on both sides; 12 runs where 40 random
    examples left some pairs out)."""
    count = len(BLANKS)
    pads = [(BLANKS[(i + shift) % count], BLANKS[(i + shift + 1) % count]) for i in range(6)]
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


# -- long lines ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 300), min_size=1, max_size=12),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    last_ended=st.booleans(),
)
def test_a_long_line_is_found_wherever_it_is(
    lengths: list[int], ending: str, last_ended: bool
) -> None:
    """A line of twice the stretch is always found, one shorter than it never."""
    stretch = 64
    text = ending.join("x" * n for n in lengths) + (ending if last_ended else "")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        path.write_bytes(text.encode())
        found = long_line(path, stretch)
    if max(lengths) >= 2 * stretch:
        assert found
    if max(lengths) < stretch:
        assert not found


def test_a_last_line_longer_than_the_engines_buffer_is_counted(tmp_path: Path) -> None:
    """DuckDB's reader drops a last line longer than its buffer without an error
    (duckdb/duckdb#25825): such a file is read by Python, and the row counts."""
    header = HEADER.rstrip("\n") + ",note1,note2,note3\n"
    rows = [f"2026-10-03,c1,participate,resident,r{n},,,,助老,,,\n" for n in range(1000)]
    big = "x" * 1_600_000  # six fields under the field limit, a line over twice the buffer
    rows.append(f"2026-10-04,c1,participate,resident,last,{big},,{big},{big},{big},{big},{big}\n")
    path = tmp_path / "log.csv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    report = run(Options(logs=(str(path),), today=TODAY))
    participation = next(
        r
        for r in report.results
        if r.indicator == "resident_participation" and r.level == "community"
    )
    assert participation.numerator == 1001
    assert check(Options(logs=(str(path),), today=TODAY)).sources[0].native is None


# -- logs in other encodings -----------------------------------------------------------------

ZH_HEADER = "日期,社区,类型,对象,编号,户号,状态,单号,服务项目\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(_record, min_size=1, max_size=20),
    encoding=st.sampled_from(["gb18030", "utf-16"]),
)
def test_logs_in_other_encodings_are_read_from_a_utf8_copy(
    records: list[tuple[str, bool]], encoding: str
) -> None:
    """Same problems on the same lines as the UTF-8 file, the encoding reported, the input
    untouched."""
    text, bad_lines = _log(records, "\r\n")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        path.write_bytes(text.encode(encoding))
        before = path.read_bytes()
        spill = Path(folder) / "spill"
        spill.mkdir()
        source = read_log(str(path), ColumnMapping(), spill=spill)
        assert source.encoding == encoding
        assert isinstance(source.native, NativeCsv) and source.native.transcoded
        checked = check(Options(logs=(str(path),), today=TODAY))
        assert [p.line for p in checked.problems if p.kind == "bad_value"] == bad_lines
        assert path.read_bytes() == before


def test_no_copy_is_left_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    path = tmp_path / "log.csv"
    path.write_bytes((HEADER + "2026-10-03,c1,participate,resident,r1,,,,助老\n").encode("utf-16"))
    report = run(Options(logs=(str(path),), today=TODAY))
    assert report.facts.meta()["encodings"] == {str(path): "utf-16"}
    assert list(temporary.iterdir()) == []


def test_a_chinese_ledger_in_gb18030_gives_the_results_of_its_utf8_twin(tmp_path: Path) -> None:
    rows = [
        "2026-10-03,c1,参与,居民,r1,,,,助老",
        "2026-10-04,c1,需求,居民,r2,,处理中,N-1,助老",
        "2026-10-05,c1,需求,居民,r2,,已解决,N-1,助老",
        "2026-10-06,c1,满意度调查,居民,r3,,满意,,",
    ]
    text = ZH_HEADER + "\n".join(rows) + "\n"
    results = []
    for encoding in ("utf-8", "gb18030"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        report = run(Options(logs=(str(path),), today=TODAY))
        results.append([(r.indicator, r.numerator, r.denominator) for r in report.results])
    assert results[0] == results[1]
    assert ("need_satisfaction", 1, 1) in results[0]


def test_a_bad_byte_late_in_a_gb18030_log_is_reported(tmp_path: Path) -> None:
    """The copy stops at the byte and the file is read whole, which says where it is."""
    body = "".join(f"2026-10-03,c1,参与,居民,r{n},,,,助老\n" for n in range(20_000))
    data = (ZH_HEADER + body).encode("gb18030") + b"\x80\x80\n"
    path = tmp_path / "log.csv"
    path.write_bytes(data)
    with pytest.raises(InputError) as raised:
        check(Options(logs=(str(path),), today=TODAY))
    assert raised.value.key == "undecodable"
    assert raised.value.params["offset"] == len(data) - 3


def test_ragged_gb18030_log_falls_back_to_python_with_its_encoding(tmp_path: Path) -> None:
    text = ZH_HEADER + "2026-10-03,c1,参与,居民,r1,,,,助老\n2026-10-04,c1,参与\n"
    path = tmp_path / "log.csv"
    path.write_bytes(text.encode("gb18030"))
    checked = check(Options(logs=(str(path),), today=TODAY))
    assert checked.sources[0].encoding == "gb18030"
    assert checked.sources[0].native is None  # read by Python after DuckDB refused it
    assert {(p.kind, p.line) for p in checked.problems} >= {("missing_value", 3)}


# -- warnings in bulk ------------------------------------------------------------------------


def test_compute_lists_the_first_warnings_of_each_kind_and_counts_them_all(
    tmp_path: Path,
) -> None:
    """A log dated ahead of today has a future date on every row: all are counted, the
    first 200 (in input order) are listed, with their lines."""
    rows = [f"2026-10-{1 + n % 28:02d},c1,participate,resident,r{n},,,,助老" for n in range(50)]
    rows += [f"2027-01-{1 + n % 28:02d},c1,participate,resident,f{n},,,,助老" for n in range(250)]
    rows += ["2026-10-02,c1,participate,resident,1.2E+11,,,,助老"] * 3
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    report = run(Options(logs=(str(path),), today=TODAY))
    assert report.totals["future_date"] == 250
    assert report.totals["mangled_id"] == 3
    assert report.totals["duplicate_row"] == 2
    future = [p for p in report.problems if p.kind == "future_date"]
    assert [p.line for p in future] == list(range(52, 252))
    mangled = [p for p in report.problems if p.kind == "mangled_id"]
    assert [(p.line, p.value) for p in mangled] == [(n, "1.2E+11") for n in (302, 303, 304)]
    checked = check(Options(logs=(str(path),), today=TODAY))  # validate lists them all
    assert len([p for p in checked.problems if p.kind == "future_date"]) == 250


# -- standard input --------------------------------------------------------------------------


def test_a_log_piped_in_is_read_like_the_same_file(tmp_path: Path) -> None:
    """Standard input is copied to a file and scanned: the same problems on the same lines,
    in UTF-8 and in GB18030."""
    text, bad_lines = _log([("plain", False), ("after_empty", True), ("quoted", True)] * 3, "\n")
    for encoding in ("utf-8", "gb18030"):
        data = text.encode(encoding)
        (tmp_path / "log.csv").write_bytes(data)
        found = []
        for source, piped in ((["-"], data), (["log.csv"], b"")):
            done = run_in(tmp_path, ["validate", *source, "--format", "json"], stdin=piped)
            assert done.returncode == 3, done.stderr[-500:]
            problems = json.loads(done.stdout)["problems"]
            found.append([(p["line"], p["kind"]) for p in problems])
        expected = [(line, "bad_value") for line in bad_lines]
        if encoding == "gb18030":  # English headers: GB18030 or Big5 is a guess, stated
            expected.insert(0, (None, "encoding_guess"))
        assert found[0] == found[1] == expected
