"""Fuzzing the readers and the config loader from raw bytes (issue 8, point 5).

Whatever bytes a log, profile or config holds, only a typed error (a subclass of
:class:`svcmetrics.errors.SvcmetricsError`) may come out: any other exception is a crash the
CLI would turn into exit 4 (or a traceback). The bytes are built from fragments that matter
to the parsers (YAML indicators, tags, anchors, quotes, delimiters, BOMs, encodings, dates,
numbers) mixed with random bytes, so that the examples reach past the first parse error.
Each target runs a bounded number of examples; the ``@example`` cases pin inputs known to
have crashed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from svcmetrics.config import load_config, load_profile
from svcmetrics.engine.lines import Lines
from svcmetrics.engine.load import read_in_python
from svcmetrics.errors import SvcmetricsError
from svcmetrics.models import ColumnMapping
from svcmetrics.pipeline import Options, check
from svcmetrics.readers import read_log

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

YAML_FRAGMENTS = [
    b"\n", b"\r\n", b"- ", b": ", b"  ", b"    ", b"[", b"]", b"{", b"}", b", ", b"? ",
    b"---\n", b"...\n", b"%YAML 1.1\n", b"%TAG ! tag:x:\n", b"# c\n", b"|\n", b">-\n", b"&a ",
    b"*a", b"<<: *a", b"!!python/object/apply:os.system [x]", b"!!python/name:os.system",
    b"!!binary ", b"!!int ", b"!!float ", b"!!timestamp ", b"!!str ", b"!!map ", b"!!seq ",
    b"!!set ", b"!!omap ", b"!x ", b"'", b'"', b"\\", b"\\x00", b"~", b"null", b"yes", b"no",
    b".inf", b"-.inf", b".nan", b"0x1F", b"0o17", b"0b101", b"1_000", b"0123", b"1e309",
    b"-1", b"2.5", b"10000000000000000000000000000000", b"2026-02-30", b"2026-10-03",
    b"0001-01-01", b"9999-12-31", b"2026-13-01", b"2026-10-03T25:00:00",
    b"records", b"communities", b"parents", b"id", b"name", b"parent", b"residents",
    b"residents_capable", b"households", b"units", b"as_of", b"value", b"lang", b"zh",
    b"logs", b"path", b"profile", b"columns", b"constants", b"values", b"date_format",
    b"date_range", b"from", b"to", b"thresholds", b"warn", b"critical", b"better", b"lower",
    b"satisfaction", b"satisfied", b"scale", b"min_sample", b"basis", b"population",
    b"indicators", b"key", b"numerator", b"denominator", b"event", b"party", b"count",
    b"distinct id", b"csv_bom", b"date", b"community", b"household", b"status", b"ticket",
]  # fmt: skip
CSV_FRAGMENTS = [
    b"\n", b"\r\n", b"\r", b",", b";", b"\t", b'"', b'""', b"'", b" ", b"\x00",
    b"date", b"community", b"event", b"party", b"id", b"household", b"status", b"ticket",
    b"service", b"category", "日期".encode(), "社区".encode(), "社区编号".encode(),
    "居民数".encode(), b"residents", b"households", b"units", b"participate", b"benefit",
    b"need", b"survey", b"resident", b"unit", b"met", b"2026-10-03", b"2026-02-30",
    b"0001-01-01", b"9999-12-31", b"03/04/2026", b"1e309", b"-5", b"2.5", b"0123",
    b"10000000000000000000000000000000", "²".encode(), "٣".encode(), "满意".encode(),
    b"=cmd", b"records:", b"- ",
]  # fmt: skip
ENCODED = [
    b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\xc4\xe3", b"\xff",
    b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x81\x30\x81\x30",
]  # fmt: skip


def _bytes_from(fragments: list[bytes]) -> st.SearchStrategy[bytes]:
    piece = st.sampled_from(fragments) | st.sampled_from(ENCODED) | st.binary(max_size=6)
    return st.one_of(
        st.binary(max_size=200),
        st.lists(piece, max_size=60).map(b"".join),
    )


YAML_BYTES = _bytes_from(YAML_FRAGMENTS)
CSV_BYTES = _bytes_from(CSV_FRAGMENTS)
CSV_HEADER = b"date,community,event,party,id,household,status,ticket,service,category\n"

DEEP = b"[" * 20_000 + b"]" * 20_000
DEEP_MAPPING = b"{a: " * 20_000 + b"1" + b"}" * 20_000


def only_typed_errors(suffix: str, data: bytes, call: Callable[[Path], object]) -> None:
    """Write ``data`` to a file with ``suffix`` and call ``call`` on it: a typed error is
    fine, any other exception fails the test."""
    with tempfile.TemporaryDirectory(prefix="svcmetrics-fuzz-") as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        try:
            call(path)
        except SvcmetricsError:
            pass


def _read_log(path: Path) -> None:
    source = read_log(str(path), ColumnMapping())
    # the engine looks up the line of a record in a CSV it scanned, and reads the file
    # again in Python when its reader refuses it
    Lines([source], {}).at(0, 0)
    read_in_python(source)


@FUZZ
@given(CSV_BYTES)
@example(b"")
@example(b"\x00")
@example(CSV_HEADER + b'2026-10-03,"a\n')
@example(b"date,id\n" + b"x" * 200_000 + b"\n")
def test_fuzz_csv_log(data: bytes) -> None:
    only_typed_errors(".csv", data, _read_log)


@FUZZ
@given(YAML_BYTES)
@example(b"- !!python/object/apply:os.system [true]\n")
@example(b"records: [&a [x, x], *a]\n")
@example(DEEP)
@example(b"- id: " + DEEP_MAPPING)
def test_fuzz_yaml_log(data: bytes) -> None:
    only_typed_errors(".yaml", data, _read_log)


@FUZZ
@given(YAML_BYTES)
@example(b"lang: !!python/object/apply:os.system [true]\n")
@example(b"date_range: {from: 2026-02-30}\n")
@example(b"satisfaction: {min_sample: !!int ''}\n")
@example(b"logs: [!!float '']\n")
@example(b"logs: [!!timestamp x]\n")
@example(DEEP)
@example(DEEP_MAPPING)
def test_fuzz_config(data: bytes) -> None:
    only_typed_errors(".yaml", data, load_config)


@FUZZ
@given(YAML_BYTES)
@example(b"communities:\n  - {id: a, residents: [{as_of: 2026-02-30, value: 1}]}\n")
@example(b"communities: [{id: a, residents: !!int ''}]\n")
@example(DEEP)
def test_fuzz_yaml_profile(data: bytes) -> None:
    only_typed_errors(".yaml", data, lambda path: load_profile(path, path.name))


@FUZZ
@given(CSV_BYTES)
@example("id,residents\njianguo,²\n".encode())
@example(b"id,residents\njianguo,-5\n")
@example(b"\xef\xbb\xbfid;households\njianguo;1e309\n")
def test_fuzz_table_profile(data: bytes) -> None:
    only_typed_errors(".csv", data, lambda path: load_profile(path, path.name))


pytestmark = pytest.mark.usefixtures("in_tmp")
"""Run in an empty folder: no stray ./svcmetrics.yaml is picked up."""


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.booleans(), CSV_BYTES)
@example(True, b"2026-10-03,a,participate,resident,r1,,,,,\n2026-13-45,b,need,unit,,,met,T,,\n")
def test_fuzz_csv_log_through_the_engine(header: bool, data: bytes) -> None:
    """The same bytes, after a valid header or not, through reading and bulk validation in
    the engine (DuckDB's own CSV reader, then Python's when it refuses)."""
    only_typed_errors(
        ".csv",
        (CSV_HEADER if header else b"") + data,
        lambda path: check(Options(logs=(str(path),))),
    )
