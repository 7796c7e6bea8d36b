"""Hostile inputs, injection and spreadsheet safety (issue 8; spec 3.1, 3.3 and 4).

Every case ends in a clear message and exit 3 (or a computed result with a reported
problem, where computing is right), never a traceback or an "internal error" (exit 4).
Cases that could hang or eat memory (alias bombs, deep nesting) run in a subprocess with a
timeout and a memory limit. The last test hashes every input before and after running
every command: no command may modify its inputs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from clihelp import LOG, PROFILE, run_cli

from svcmetrics.output import OutputFormat

HEADER = "date,community,event,party,id,household,status,ticket,service\n"
ONE_ROW = "2026-10-03,jianguo,participate,resident,r1,h1,,,助老\n"

PWN = '!!python/object/apply:os.system ["touch PWNED"]'
SQL = "'); DROP TABLE records; --"
PAYLOADS = (SQL, "x'); DROP TABLE recs; --", '"', "\\", ";", "' OR '1'='1")
NASTY = "x'); DROP TABLE recs; --"
"""A community id (and field value) that would end a quoted SQL string."""
QUOTY = "q\"u'o\\te; ' OR '1'='1 --"
"""Double and single quotes, a backslash, a semicolon and a tautology in one value."""

SUBPROCESS_TIMEOUT = 60
MEMORY_LIMIT = 2 * 1024**3
"""Data-size limit (RLIMIT_DATA: heap and private mappings, not reserved address space) of
the subprocesses that read bombs: a blow-up ends as an error, not as a machine out of
memory; a run on these small inputs needs far less."""


# -- helpers ------------------------------------------------------------------------------


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_DATA, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_sub(
    args: list[str], cwd: Path, timeout: float = SUBPROCESS_TIMEOUT, limit_memory: bool = False
) -> subprocess.CompletedProcess[str]:
    """``python -m svcmetrics ARGS`` in ``cwd`` with a timeout (and, for inputs that could
    blow up, a memory limit)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")
    }
    env.update({"NO_COLOR": "1", "LANG": "en_US.UTF-8", "PYTHONIOENCODING": "utf-8"})
    return subprocess.run(
        [sys.executable, "-m", "svcmetrics", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        preexec_fn=_limit_memory if limit_memory and sys.platform.startswith("linux") else None,
    )


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


def write_csv(path: Path, rows: list[list[str]]) -> None:
    """Rows as a comma-separated UTF-8 file, quoted where needed."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def write_yaml(path: Path, data: Any) -> None:
    """Data as a YAML file (unicode kept)."""
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def profile_of(*ids: str, **counts: int) -> dict[str, Any]:
    """A profile with the given community ids, every built-in denominator set."""
    values = {"residents": 10, "residents_capable": 10, "households": 10, "units": 10, **counts}
    return {"communities": [{"id": value, **values} for value in ids]}


def bomb_levels(depth: int = 9, width: int = 9) -> list[str]:
    """Anchored flow sequences ``&a0 [...]`` … ``&aN [*aN-1, ...]`` ("billion laughs")."""
    items = ["&a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, depth + 1):
        items.append(f"&a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return items


# -- 1. hostile inputs ---------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"   \n\n\t \r\n"], ids=["empty", "blank"])
@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
@pytest.mark.parametrize("command", ["compute", "validate"])
def test_empty_log(
    workdir: Path, capsys: pytest.CaptureFixture[str], content: bytes, suffix: str, command: str
) -> None:
    (workdir / f"empty{suffix}").write_bytes(content)
    code, _, err = run_cli([command, f"empty{suffix}", "--lang", "en"], capsys)
    assert_input_error(code, err, f"empty{suffix}", "empty")


def test_empty_profile_and_config(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "empty.csv").write_bytes(b"")
    code, _, err = run_cli(["compute", "log.csv", "--profile", "empty.csv", "--lang", "en"], capsys)
    assert_input_error(code, err, "empty.csv")
    (workdir / "empty.yaml").write_bytes(b"")
    code, _, err = run_cli(
        ["compute", "log.csv", "--profile", "empty.yaml", "--lang", "en"], capsys
    )
    assert_input_error(code, err, "empty.yaml")
    # an empty config is an empty config: the defaults apply
    code, out, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", "-c", "empty.yaml", "-f", "csv"], capsys
    )
    assert_no_crash(code, err)
    assert code == 0 and csv_rows(out)


@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_header_without_rows(
    workdir: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    log = f"header{suffix}"
    (workdir / log).write_text(HEADER if suffix == ".csv" else "records: []\n", encoding="utf-8")
    code, _, err = run_cli(["compute", log, "-p", "profile.yaml", "--lang", "en"], capsys)
    assert_input_error(code, err, "nothing to compute")
    # with a selected month there is something to compute: every community, zero, flagged
    code, out, err = run_cli(
        ["compute", log, "-p", "profile.yaml", "--month", "2026-10", "-f", "json"], capsys
    )
    assert_no_crash(code, err)
    assert code == 0
    results = json.loads(out)["results"]
    community_rows = [r for r in results if r["level"] == "community"]
    assert community_rows and all(r["numerator"] == 0 for r in community_rows)
    assert all("no_records" in r["flags"] for r in community_rows)


@pytest.mark.parametrize("suffix", [".csv", ".yaml", ".txt"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: b"\x00\xff\xfe" + random.Random(8).randbytes(4096),
        lambda: random.Random(9).randbytes(4096).replace(b"\x00", b"\x01"),
        lambda: bytes(random.Random(10).randrange(0x81, 0xFF) for _ in range(4096)),
        lambda: b"PK\x03\x04" + random.Random(11).randbytes(2048),
    ],
    ids=["random-with-nul", "random-no-nul", "gb18030-decodable", "zip-magic"],
)
def test_binary_garbage(
    workdir: Path, capsys: pytest.CaptureFixture[str], suffix: str, make: Callable[[], bytes]
) -> None:
    name = f"garbage{suffix}"
    (workdir / name).write_bytes(make())
    code, _, err = run_cli(["compute", name, "-p", "profile.yaml", "--lang", "en"], capsys)
    assert_input_error(code, err)
    code, _, err = run_cli(["validate", name, "-p", "profile.yaml", "--lang", "en"], capsys)
    assert_no_crash(code, err)
    # as a config, garbage is refused with the file named; as a profile, refused
    code, _, err = run_cli(["compute", "log.csv", "--config", name, "--lang", "en"], capsys)
    assert_input_error(code, err, name)
    code, _, err = run_cli(["compute", "log.csv", "--profile", name, "--lang", "en"], capsys)
    assert_input_error(code, err)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("header.csv", "id,residents\n"),
        ("no_id.csv", "编号 x,居民\njianguo,3\n"),
        ("none.yaml", "communities: []\n"),
        ("garbage.csv", bytes(random.Random(10).randrange(0x81, 0xFF) for _ in range(512))),
    ],
    ids=["header-only", "no-id-column", "empty-list", "gb18030-garbage"],
)
def test_a_profile_without_communities_is_refused(
    workdir: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | bytes
) -> None:
    """A profile that yields no community (a header without rows, no id column, garbage that
    decodes as GB18030) is the profile's fault: the message names the profile, rather than
    blaming every row of a good log for an "unknown community"."""
    path = workdir / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code, _, err = run_cli(["compute", "log.csv", "--profile", name, "--lang", "en"], capsys)
    assert_input_error(code, err, name)


def test_nul_bytes_in_a_csv(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "nul.csv").write_bytes(
        (HEADER + ONE_ROW).encode() + b"2026-10-04,jian\x00guo,participate,resident,r2,,,,\n"
    )
    code, _, err = run_cli(["compute", "nul.csv", "-p", "profile.yaml", "--lang", "en"], capsys)
    assert_input_error(code, err, "nul.csv", "NUL")


@pytest.mark.parametrize(
    "where",
    ["plain-field", "quoted-field", "header", "yaml-value"],
)
def test_ten_megabyte_field(workdir: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    big = "x" * 10_000_000
    if where == "plain-field":
        name, text = "big.csv", HEADER + f"2026-10-03,jianguo,participate,resident,{big},,,,\n"
    elif where == "quoted-field":
        name, text = "big.csv", HEADER + f'2026-10-03,jianguo,participate,resident,"{big}",,,,\n'
    elif where == "header":
        name, text = "big.csv", HEADER.strip() + f",{big}\n" + ONE_ROW.strip() + ",x\n"
    else:
        name = "big.yaml"
        text = f"- {{date: 2026-10-03, community: jianguo, event: participate, party: resident, id: {big}}}\n"  # noqa: E501
    (workdir / name).write_text(text, encoding="utf-8")
    started = time.monotonic()
    code, out, err = run_cli(
        ["compute", name, "-p", "profile.yaml", "-f", "csv", "--lang", "en"], capsys
    )
    assert time.monotonic() - started < 60
    assert_no_crash(code, err)
    assert code in (0, 3), err[-2000:]
    if code == 3:  # refused: with a message naming the file
        assert name in err
    else:  # accepted: the participant counts once
        row = by_key(csv_rows(out))[("jianguo", "2026-10", "resident_participation")]
        assert row["numerator"] == "1"
    assert big not in err  # a 10 MB value is never echoed whole


def test_invalid_utf8_that_no_fallback_accepts(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = (HEADER + ONE_ROW).encode() + b"2026-10-04,jian\xffguo,participate,resident,r2,,,,\n"
    data += "2026-10-05,建国社区,participate,resident,r3,,,,\n".encode()
    (workdir / "bad.csv").write_bytes(data)
    code, _, err = run_cli(["compute", "bad.csv", "-p", "profile.yaml", "--lang", "en"], capsys)
    assert_input_error(code, err, "bad.csv", "--encoding")
    # naming the encoding gives the offset of the bad byte instead of a traceback
    code, _, err = run_cli(
        ["compute", "bad.csv", "-p", "profile.yaml", "--encoding", "utf-8", "--lang", "en"],
        capsys,
    )
    assert_input_error(code, err, "bad.csv")
    code, _, err = run_cli(
        ["compute", "bad.csv", "-p", "profile.yaml", "--encoding", "no-such-codec"], capsys
    )
    assert_input_error(code, err, "no-such-codec")


def test_invalid_utf8_that_gb18030_accepts(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A UTF-8 file with one stray GB18030 pair is read as GB18030 (spec 4): the UTF-8 names
    turn into mojibake, which must surface as unknown communities, not vanish."""
    data = "date,community,event,party,id\n2026-10-03,建国社区,participate,resident,r1\n".encode()
    data += b"2026-10-04,jianguo,participate,resident,r\xc4\xe3\n"
    data += "2026-10-05,共乐社区,participate,resident,r3\n".encode()
    (workdir / "mixed.csv").write_bytes(data)
    code, _, err = run_cli(["compute", "mixed.csv", "-p", "profile.yaml", "--lang", "en"], capsys)
    assert_input_error(code, err, "mixed.csv", "not in the profile")
    code, out, err = run_cli(
        ["compute", "mixed.csv", "-p", "profile.yaml", "--skip-invalid", "-v", "-f", "json"],
        capsys,
    )
    assert_no_crash(code, err)
    assert code == 0
    assert "gb18030" in err.lower()  # --verbose says which encoding was used
    document = json.loads(out)
    assert document["meta"]["skipped_rows"] == 2
    rows = by_key(document["results"])
    assert rows[("jianguo", "2026-10", "resident_participation")]["numerator"] == 1


@pytest.mark.parametrize(
    "body",
    [
        '2026-10-03,"jianguo,participate,resident,r1,,,,\n2026-10-04,jianguo,participate,resident,r2,,,,\n',  # noqa: E501
        '2026-10-03,jian"guo,participate,resident,r1,,,,\n',
        '2026-10-03,jianguo,participate,resident,"r1"x",,,,\n',
        '"2026-10-03,jianguo,participate,resident,r1,,,,\n',
    ],
    ids=["never-closed", "stray-mid-field", "text-after-closing", "whole-row"],
)
def test_unbalanced_quotes(workdir: Path, capsys: pytest.CaptureFixture[str], body: str) -> None:
    (workdir / "quotes.csv").write_text(HEADER + body, encoding="utf-8")
    code, _, err = run_cli(["compute", "quotes.csv", "-p", "profile.yaml", "--lang", "en"], capsys)
    assert_input_error(code, err, "quotes.csv")
    code, _, err = run_cli(["validate", "quotes.csv", "-p", "profile.yaml", "--lang", "en"], capsys)
    assert_no_crash(code, err)


@pytest.mark.parametrize("command", ["compute", "validate"])
def test_a_folder_or_a_missing_file_as_log(
    workdir: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    (workdir / "folder.csv").mkdir()
    code, _, err = run_cli([command, "folder.csv", "--lang", "en"], capsys)
    assert_input_error(code, err, "folder.csv", "not a file")
    code, _, err = run_cli([command, "missing.csv", "--lang", "en"], capsys)
    assert_input_error(code, err, "missing.csv", "not found")
    code, _, err = run_cli([command, "log.csv", "missing.yaml", "--lang", "en"], capsys)
    assert_input_error(code, err, "missing.yaml")


@pytest.mark.parametrize("option", ["--profile", "--config"])
@pytest.mark.parametrize("name", ["folder.yaml", "folder.csv", "missing.yaml"])
def test_a_folder_or_a_missing_file_as_profile_or_config(
    workdir: Path, capsys: pytest.CaptureFixture[str], option: str, name: str
) -> None:
    (workdir / "folder.yaml").mkdir()
    (workdir / "folder.csv").mkdir()
    code, _, err = run_cli(["compute", "log.csv", option, name, "--lang", "en"], capsys)
    assert_input_error(code, err, name)


def test_a_folder_or_a_missing_log_named_in_the_config(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "folder.csv").mkdir()
    write_yaml(workdir / "svcmetrics.yaml", {"profile": "profile.yaml", "logs": ["folder.csv"]})
    code, _, err = run_cli(["compute", "--lang", "en"], capsys)
    assert_input_error(code, err, "folder.csv")
    write_yaml(workdir / "svcmetrics.yaml", {"profile": "profile.yaml", "logs": ["nope/*.csv"]})
    code, _, err = run_cli(["compute", "--lang", "en"], capsys)
    assert_input_error(code, err, "nope/*.csv")


def test_years_1_and_9999_are_outside_the_default_window(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "years.csv").write_text(
        HEADER
        + "0001-01-01,jianguo,participate,resident,a,,,,\n"
        + "9999-12-31,jianguo,participate,resident,b,,,,\n"
        + ONE_ROW,
        encoding="utf-8",
    )
    code, _, err = run_cli(["compute", "years.csv", "-p", "profile.yaml", "--lang", "en"], capsys)
    assert_input_error(code, err, "0001-01-01", "9999-12-31", "plausible window")
    code, out, err = run_cli(
        ["compute", "years.csv", "-p", "profile.yaml", "--skip-invalid", "-f", "json"], capsys
    )
    assert_no_crash(code, err)
    assert code == 0
    document = json.loads(out)
    assert document["meta"]["span"] == ["2026-10", "2026-10"]  # no 9999 periods
    assert document["meta"]["skipped_rows"] == 2


WIDE_WINDOW = "date_range: {from: 0001-01-01, to: 9999-12-31}\n"


@pytest.mark.parametrize(
    ("dates", "args"),
    [
        (["9999-12-31"], []),
        (["9999-12-31"], ["--period", "quarter"]),
        (["9999-12-31"], ["--period", "year"]),
        (["0001-01-01"], []),
        (["0001-01-01", "9999-12-31"], ["--period", "all"]),
        (["9999-12-31"], ["--month", "9999-12"]),
        (["0001-01-01"], ["--month", "0001-01"]),
        (["9999-12-31"], ["--from", "9999-12-01", "--to", "9999-12-31"]),
        (["9999-12-31"], ["--from", "9999-10-01", "--to", "9999-12-31", "--period", "quarter"]),
        (["0001-01-01"], ["--from", "0001-01-01", "--to", "0001-01-31"]),
        (["0001-01-01"], ["--last", "month", "--as-of", "0001-01-15"]),
        (["9999-12-31"], ["--as-of", "9999-12-31"]),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else str(value),
)
def test_years_1_and_9999_inside_a_widened_window(
    workdir: Path, capsys: pytest.CaptureFixture[str], dates: list[str], args: list[str]
) -> None:
    """The calendar's first and last days are valid dates: at worst a clear message (exit
    2 or 3), never an overflow (exit 4)."""
    (workdir / "window.yaml").write_text(WIDE_WINDOW, encoding="utf-8")
    rows = "".join(f"{day},jianguo,participate,resident,r{n},,,,\n" for n, day in enumerate(dates))
    (workdir / "years.csv").write_text(HEADER + rows, encoding="utf-8")
    code, out, err = run_cli(
        ["compute", "years.csv", "-p", "profile.yaml", "-c", "window.yaml", "-f", "json", *args],
        capsys,
    )
    assert_no_crash(code, err)
    assert code in (0, 2, 3), err[-2000:]
    if code == 0:
        assert json.loads(out)["results"]


@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_an_impossible_date_in_a_log(
    workdir: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    if suffix == ".csv":
        text = HEADER + ONE_ROW + "2026-02-30,jianguo,participate,resident,r2,,,,\n"
    else:
        text = (
            "- {date: 2026-10-03, community: jianguo, event: participate, party: resident, "
            "id: r1}\n- {date: 2026-02-30, community: jianguo, event: participate, "
            "party: resident, id: r2}\n"
        )
    (workdir / f"feb{suffix}").write_text(text, encoding="utf-8")
    code, _, err = run_cli(
        ["compute", f"feb{suffix}", "-p", "profile.yaml", "--lang", "en"], capsys
    )
    assert_input_error(code, err, f"feb{suffix}", "2026-02-30")


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("config", "date_range: {from: 2026-02-30}\n"),
        ("config", "date_range: {to: 2026-13-01}\n"),
        (
            "profile",
            "communities:\n  - {id: jianguo, residents: [{as_of: 2026-02-30, value: 3}]}\n",
        ),
        ("config", "lang: en\nlogs: [!!timestamp nope]\n"),
        ("config", "satisfaction: {min_sample: !!int ''}\n"),
        ("profile", "communities:\n  - {id: jianguo, residents: !!float ''}\n"),
    ],
    ids=[
        "config-feb-30",
        "config-month-13",
        "profile-as-of",
        "bad-timestamp-tag",
        "empty-int",
        "empty-float",
    ],
)
def test_an_impossible_date_or_value_in_a_config_or_profile(
    workdir: Path, capsys: pytest.CaptureFixture[str], where: str, text: str
) -> None:
    """PyYAML raises ValueError, IndexError or AttributeError (not YAMLError) for dates and
    explicitly tagged scalars it cannot build: still a config error (exit 3)."""
    (workdir / "bad.yaml").write_text(text, encoding="utf-8")
    option = "--config" if where == "config" else "--profile"
    code, _, err = run_cli(["compute", "log.csv", option, "bad.yaml", "--lang", "en"], capsys)
    assert_input_error(code, err, "bad.yaml")


def test_an_impossible_date_in_the_default_config_gives_no_traceback(workdir: Path) -> None:
    """Without --lang, the config is read early for its `lang`: that read must not crash."""
    (workdir / "svcmetrics.yaml").write_text("date_range: {from: 2026-02-30}\n", encoding="utf-8")
    done = run_sub(["compute", "log.csv", "-p", "profile.yaml"], workdir)
    assert_input_error(done.returncode, done.stderr, "svcmetrics.yaml")
    (workdir / "other.yaml").write_text("date_range: {from: 2026-02-30}\n", encoding="utf-8")
    done = run_sub(["compute", "log.csv", "--config", "other.yaml"], workdir)
    assert_input_error(done.returncode, done.stderr, "other.yaml")


PYTHON_TAG_CASES = {
    "log-value": (
        "log",
        f"- date: 2026-10-03\n  community: jianguo\n  event: participate\n"
        f"  party: resident\n  id: {PWN}\n",
    ),
    "log-record": ("log", f"- {PWN}\n"),
    "log-root": ("log", f"records: {PWN}\n"),
    "log-new": (
        "log",
        "- date: 2026-10-03\n  id: !!python/object/new:subprocess.check_output "
        '[["touch", "PWNED"]]\n',
    ),
    "config-value": ("config", f"lang: {PWN}\n"),
    "config-mapping": ("config", f"thresholds: {PWN}\n"),
    "config-indicator": (
        "config",
        "indicators:\n  - key: x\n    name: {zh: x, en: x}\n"
        f"    numerator: {{event: {PWN}}}\n    denominator: {{profile: residents}}\n",
    ),
    "profile-id": ("profile", f"communities:\n  - id: {PWN}\n    residents: 3\n"),
    "profile-count": ("profile", f"communities:\n  - id: jianguo\n    residents: {PWN}\n"),
    "default-config": ("default", f"lang: en\nprofile: {PWN}\n"),
}


@pytest.mark.parametrize("case", list(PYTHON_TAG_CASES))
def test_python_tags_are_never_executed(workdir: Path, case: str) -> None:
    where, text = PYTHON_TAG_CASES[case]
    name = "svcmetrics.yaml" if where == "default" else "tagged.yaml"
    (workdir / name).write_text(text, encoding="utf-8")
    runs = {
        "log": [["compute", name, "-p", "profile.yaml"], ["validate", name]],
        "config": [["compute", "log.csv", "-c", name], ["explain", "-c", name]],
        "profile": [["compute", "log.csv", "-p", name], ["validate", "log.csv", "-p", name]],
        "default": [["compute", "log.csv"], ["explain"]],
    }[where]
    for args in runs:
        done = run_sub(args, workdir)
        assert not (workdir / "PWNED").exists(), f"{args}: a YAML tag ran a command"
        assert_no_crash(done.returncode, done.stderr)
        if where == "log" and args[0] == "validate":
            assert done.returncode == 3, done.stderr
        else:
            assert_input_error(done.returncode, done.stderr, name)


BOMB_CASES = {
    # a log whose records are nested aliases: 9**10 items if expanded
    "log-records": (
        "log",
        "records: [" + ", ".join(bomb_levels()) + "]\n",
    ),
    "log-value": (
        "log",
        "- {date: 2026-10-03, community: jianguo, event: participate, party: resident, "
        "id: [" + ", ".join(bomb_levels()) + "]}\n",
    ),
    "config-unknown-key": (
        "config",
        "\n".join(f"k{n}: {item}" for n, item in enumerate(bomb_levels())) + "\n",
    ),
    "config-satisfied-list": (
        "config",
        "satisfaction:\n  satisfied: [" + ", ".join(bomb_levels()) + "]\n",
    ),
    "config-logs": ("config", "logs: [" + ", ".join(bomb_levels()) + "]\n"),
    "profile-builtin-count": (
        "profile",
        "communities:\n  - {id: jianguo, residents: [" + ", ".join(bomb_levels()) + "]}\n",
    ),
    "profile-name": (
        "profile",
        "communities:\n  - {id: jianguo, name: [" + ", ".join(bomb_levels()) + "]}\n",
    ),
    # a count field that a user-defined indicator reads: validated after loading
    "profile-user-count": (
        "profile",
        "communities:\n  - {id: jianguo, seniors: [" + ", ".join(bomb_levels()) + "]}\n"
        "  - {id: gongle, seniors: 3}\n",
    ),
}

SENIORS = """indicators:
  - key: seniors_checked
    name: {zh: 老人体检率, en: Seniors checked}
    numerator: {event: checkup, party: resident}
    denominator: {profile: seniors}
"""


@pytest.mark.parametrize("case", list(BOMB_CASES))
def test_yaml_alias_bomb_ends_quickly(workdir: Path, case: str) -> None:
    where, text = BOMB_CASES[case]
    (workdir / "bomb.yaml").write_text(text, encoding="utf-8")
    (workdir / "seniors.yaml").write_text(SENIORS, encoding="utf-8")
    args = {
        "log": ["compute", "bomb.yaml", "-p", "profile.yaml"],
        "config": ["compute", "log.csv", "-c", "bomb.yaml"],
        "profile": ["compute", "log.csv", "-c", "seniors.yaml", "-p", "bomb.yaml"],
    }[where]
    started = time.monotonic()
    try:
        done = run_sub([*args, "--lang", "en"], workdir, limit_memory=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case}: still running after {SUBPROCESS_TIMEOUT} s (alias expansion)")
    elapsed = time.monotonic() - started
    assert_input_error(done.returncode, done.stderr, "bomb.yaml")
    assert elapsed < SUBPROCESS_TIMEOUT
    assert len(done.stderr) < 100_000, "the expanded value was echoed"


def _deep(kind: str) -> str:
    depth = 20_000
    if kind == "sequence":
        return "[" * depth + "]" * depth
    if kind == "mapping":
        return "{a: " * depth + "1" + "}" * depth
    return "\n".join("  " * level + f"k{level}:" for level in range(depth // 10)) + " 1"


DEEP_CASES = [
    (where, kind)
    for where in ("log", "log-value", "config", "profile", "default-config")
    for kind in ("sequence", "mapping", "block")
]


@pytest.mark.parametrize(("where", "kind"), DEEP_CASES)
def test_deeply_nested_yaml(workdir: Path, where: str, kind: str) -> None:
    deep = _deep(kind)
    if where == "log-value":
        text = "- date: 2026-10-03\n  id:\n" + textwrap.indent(deep, "    ") + "\n"
    else:
        text = deep + "\n"
    name = "svcmetrics.yaml" if where == "default-config" else "deep.yaml"
    (workdir / name).write_text(text, encoding="utf-8")
    args = {
        "log": ["compute", name, "-p", "profile.yaml", "--lang", "en"],
        "log-value": ["validate", name, "--lang", "en"],
        "config": ["compute", "log.csv", "-c", name, "--lang", "en"],
        "profile": ["compute", "log.csv", "-p", name, "--lang", "en"],
        "default-config": ["compute", "log.csv"],  # no --lang: the config is read for it
    }[where]
    done = run_sub(args, workdir, limit_memory=True)
    assert_input_error(done.returncode, done.stderr, name)


def test_deeply_nested_config_without_lang_gives_no_traceback(workdir: Path) -> None:
    (workdir / "deep.yaml").write_text(_deep("sequence") + "\n", encoding="utf-8")
    for args in (["compute", "log.csv", "--config", "deep.yaml"], ["explain", "-c", "deep.yaml"]):
        done = run_sub(args, workdir, limit_memory=True)
        assert_input_error(done.returncode, done.stderr, "deep.yaml")


HUGE = 10**30


@pytest.mark.parametrize("profile_kind", ["yaml", "csv"])
@pytest.mark.parametrize("fmt", [*(f.value for f in OutputFormat), "csv-wide", "chart"], ids=str)
def test_huge_profile_counts(
    workdir: Path, capsys: pytest.CaptureFixture[str], profile_kind: str, fmt: str
) -> None:
    """10**30 residents: computed exactly (an integer, never a float), whatever the format."""
    if profile_kind == "yaml":
        data = profile_of("jianguo", "gongle")
        data["communities"][0].update(
            residents=HUGE, residents_capable=HUGE, households=HUGE, units=HUGE
        )
        write_yaml(workdir / "huge.yaml", data)
        profile = "huge.yaml"
    else:
        (workdir / "huge.csv").write_text(
            "id,residents,residents_capable,households,units\n"
            f"jianguo,{HUGE},{HUGE},{HUGE},{HUGE}\ngongle,10,10,10,10\n",
            encoding="utf-8",
        )
        profile = "huge.csv"
    extra = {
        "csv-wide": ["-f", "csv", "--wide"],
        "chart": ["--chart", "--month", "2026-10"],
        "xlsx": ["-f", "xlsx", "-o", "huge.xlsx"],
    }
    extra = extra.get(fmt, ["-f", fmt])
    code, out, err = run_cli(["compute", "log.csv", "-p", profile, "--lang", "en", *extra], capsys)
    assert_no_crash(code, err)
    assert code == 0
    if fmt == "json":
        rows = by_key(json.loads(out)["results"])
        row = rows[("jianguo", "2026-10", "resident_participation")]
        assert row["denominator"] == HUGE and row["numerator"] == 2
        assert 0 < row["rate"] < 1e-20
        assert rows[("*", "2026-10", "resident_participation")]["denominator"] == HUGE + 10
    elif fmt == "csv":
        row = by_key(csv_rows(out))[("jianguo", "2026-10", "resident_participation")]
        assert row["denominator"] == str(HUGE)
    elif fmt == "xlsx":  # Excel holds 15 digits: the exact count is a text cell
        from python_calamine import CalamineWorkbook

        data = CalamineWorkbook.from_path(str(workdir / "huge.xlsx")).get_sheet_by_name("Data")
        header, *rows = data.to_python()
        found = by_key([dict(zip(header, row, strict=True)) for row in rows])
        assert found[("jianguo", "2026-10", "resident_participation")]["denominator"] == str(HUGE)
        assert found[("*", "2026-10", "resident_participation")]["denominator"] == str(HUGE + 10)


@pytest.mark.parametrize("answer", ["1e309", "-1e309", "1e-400", "nan", "inf", "9" * 400])
def test_huge_numbers_in_answers(
    workdir: Path, capsys: pytest.CaptureFixture[str], answer: str
) -> None:
    """An answer that overflows a float is either an out-of-scale number (excluded) or an
    unrecognised answer (invalid, named): never a crash, never counted as satisfied."""
    (workdir / "answers.csv").write_text(
        HEADER
        + "2026-10-21,jianguo,survey,resident,r1,,满意,,\n"
        + f"2026-10-22,jianguo,survey,resident,r2,,{answer},,\n",
        encoding="utf-8",
    )
    code, out, err = run_cli(
        ["compute", "answers.csv", "-p", "profile.yaml", "-f", "json", "--lang", "en"], capsys
    )
    assert_no_crash(code, err)
    assert code in (0, 3)
    if code == 3:
        assert answer in err
        code, out, err = run_cli(
            ["compute", "answers.csv", "-p", "profile.yaml", "-f", "json", "--skip-invalid"],
            capsys,
        )
        assert code == 0
    row = by_key(json.loads(out)["results"])[("jianguo", "2026-10", "resident_satisfaction")]
    assert (row["numerator"], row["denominator"]) == (1, 1)


def test_huge_numbers_in_thresholds_and_survey_settings(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "huge.yaml").write_text(
        "thresholds:\n  resident_participation: {warn: 1e309, critical: -1e309}\n"
        f"satisfaction: {{min_sample: {HUGE}, scale: [1, 1e309]}}\n",
        encoding="utf-8",
    )
    code, _, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", "-c", "huge.yaml", "--lang", "en"], capsys
    )
    assert_no_crash(code, err)
    assert code in (0, 3)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("-5", "-5"),
        ("2.5", "2.5"),
        ("1e3", "1e3"),
        ("'7'", "7"),
        ("true", "True"),
        (".nan", "nan"),
        ("-0.5", "-0.5"),
        (f"-{HUGE}", f"-{HUGE}"),
    ],
)
def test_negative_or_fractional_counts_in_a_yaml_profile(
    workdir: Path, capsys: pytest.CaptureFixture[str], value: str, shown: str
) -> None:
    """Counts are non-negative integers; anything else is an error naming the field."""
    (workdir / "bad.yaml").write_text(
        "communities:\n  - {id: gongle, residents: 3}\n"
        f"  - {{id: jianguo, residents_capable: {value}}}\n",
        encoding="utf-8",
    )
    code, _, err = run_cli(["compute", "log.csv", "-p", "bad.yaml", "--lang", "en"], capsys)
    assert_input_error(code, err, "bad.yaml", "residents_capable", shown)


@pytest.mark.parametrize("value", ["-5", "2.5", "1e3", "²", "٣.5", "1,000", "0x10"])
def test_negative_or_fractional_counts_in_a_table_profile(
    workdir: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    (workdir / "bad.csv").write_text(
        f'id,residents_capable\ngongle,3\njianguo,"{value}"\n', encoding="utf-8"
    )
    code, _, err = run_cli(["compute", "log.csv", "-p", "bad.csv", "--lang", "en"], capsys)
    assert_input_error(code, err, "bad.csv", "residents_capable", value)


def test_negative_user_defined_count(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "seniors.yaml").write_text(SENIORS, encoding="utf-8")
    (workdir / "bad.yaml").write_text(
        "communities:\n  - {id: gongle, seniors: 3}\n  - {id: jianguo, seniors: -4}\n",
        encoding="utf-8",
    )
    code, _, err = run_cli(
        ["compute", "log.csv", "-c", "seniors.yaml", "-p", "bad.yaml", "--lang", "en"], capsys
    )
    assert_input_error(code, err, "bad.yaml", "seniors", "-4")


@pytest.mark.parametrize(
    ("profile", "text"),
    [
        (
            "bad.yaml",
            "communities:\n  - {id: gongle, residents: 3}\n  - {id: jianguo, residents: -4}\n",
        ),
        ("bad.csv", "id,residents\ngongle,3\njianguo,-4\n"),
        (
            "user.yaml",
            "communities:\n  - {id: gongle, seniors: 3}\n  - {id: jianguo, seniors: 2.5}\n",
        ),
    ],
    ids=["yaml", "table", "user-defined"],
)
def test_a_bad_count_names_the_community(
    workdir: Path, capsys: pytest.CaptureFixture[str], profile: str, text: str
) -> None:
    """Spec 1.1: "anything else is an error naming the community and field" (its id, not
    only its position in the list)."""
    (workdir / "seniors.yaml").write_text(SENIORS, encoding="utf-8")
    (workdir / profile).write_text(text, encoding="utf-8")
    code, _, err = run_cli(
        ["compute", "log.csv", "-c", "seniors.yaml", "-p", profile, "--lang", "en"], capsys
    )
    assert_input_error(code, err, profile, "jianguo")


@pytest.mark.parametrize("kind", ["yaml", "csv", "config"])
def test_duplicate_community_ids(
    workdir: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    if kind == "csv":
        (workdir / "dup.csv").write_text(
            "id,residents\njianguo,5\ngongle,3\njianguo,4\n", encoding="utf-8"
        )
        args = ["-p", "dup.csv"]
        name = "dup.csv"
    else:
        data = profile_of("jianguo", "gongle", "jianguo")
        if kind == "yaml":
            write_yaml(workdir / "dup.yaml", data)
            args, name = ["-p", "dup.yaml"], "dup.yaml"
        else:
            write_yaml(workdir / "svcmetrics.yaml", data)
            args, name = ["-c", "svcmetrics.yaml"], "svcmetrics.yaml"
    code, _, err = run_cli(["compute", "log.csv", *args, "--lang", "en"], capsys)
    assert_input_error(code, err, name, "jianguo", "duplicate")


def test_a_log_value_that_is_one_id_and_another_name_goes_to_the_id(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`b` is the id of one community and the name of another: the id wins (or the profile is
    refused as ambiguous); the record is never silently credited to the other community."""
    write_yaml(
        workdir / "ambiguous.yaml",
        {
            "communities": [
                {"id": "a", "name": "b", "residents_capable": 10},
                {"id": "b", "name": "c", "residents_capable": 10},
            ]
        },
    )
    (workdir / "b.csv").write_text(
        "date,community,event,party,id\n2026-10-03,b,participate,resident,r1\n", encoding="utf-8"
    )
    code, out, err = run_cli(
        ["compute", "b.csv", "-p", "ambiguous.yaml", "-f", "json", "--lang", "en"], capsys
    )
    assert_no_crash(code, err)
    if code == 3:
        assert "ambiguous.yaml" in err
        return
    rows = by_key(json.loads(out)["results"])
    assert rows[("b", "2026-10", "resident_participation")]["numerator"] == 1
    assert rows[("a", "2026-10", "resident_participation")]["numerator"] == 0


def test_two_communities_with_the_same_name_are_not_guessed(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A log naming a community by a name two communities share cannot be attributed: an
    error (profile or row), not a silent pick of the first one."""
    write_yaml(
        workdir / "twins.yaml",
        {
            "communities": [
                {"id": "a", "name": "X", "residents_capable": 10},
                {"id": "b", "name": "X", "residents_capable": 10},
            ]
        },
    )
    (workdir / "x.csv").write_text(
        "date,community,event,party,id\n2026-10-03,X,participate,resident,r1\n", encoding="utf-8"
    )
    code, _, err = run_cli(["compute", "x.csv", "-p", "twins.yaml", "--lang", "en"], capsys)
    assert_input_error(code, err, "X")


def test_numerator_above_denominator_is_computed_and_reported(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_yaml(workdir / "small.yaml", profile_of("jianguo", "gongle", residents_capable=1))
    (workdir / "over.csv").write_text(
        "date,community,event,party,id\n"
        + "".join(f"2026-10-03,jianguo,participate,resident,r{n}\n" for n in range(3)),
        encoding="utf-8",
    )
    code, out, err = run_cli(
        ["compute", "over.csv", "-p", "small.yaml", "-f", "json", "--lang", "en"], capsys
    )
    assert_no_crash(code, err)
    assert code == 0
    assert "numerator 3 is above denominator 1" in err  # noticed on stderr too
    document = json.loads(out)
    row = by_key(document["results"])[("jianguo", "2026-10", "resident_participation")]
    assert (row["numerator"], row["denominator"], row["rate"]) == (3, 1, 3.0)  # not capped
    assert "numerator_above_denominator" in row["flags"]
    issues = [i for i in document["issues"] if i["kind"] == "numerator_above_denominator"]
    assert len(issues) == 1
    assert issues[0]["severity"] == "warning"
    assert "jianguo" in issues[0]["message"] and "resident_participation" in issues[0]["message"]
    code, out, _ = run_cli(["compute", "over.csv", "-p", "small.yaml", "-f", "csv"], capsys)
    row = by_key(csv_rows(out))[("jianguo", "2026-10", "resident_participation")]
    assert row["rate"] == "3.0000"


def test_output_folder_that_does_not_exist(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", "-f", "csv", "-o", "nowhere/out.csv"],
        capsys,
    )
    assert_input_error(code, err, "nowhere")
    assert not (workdir / "nowhere").exists()
    assert out == ""


@pytest.mark.parametrize(
    "target",
    ["a-folder", "log.csv/out.csv", "a-folder/"],
    ids=["folder", "file-as-folder", "slash"],
)
def test_output_path_that_cannot_be_a_file(
    workdir: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    """An output path that is a folder, or lies under a file: a clear message naming it (exit
    3, like a missing output folder), not an internal error; the log is untouched."""
    (workdir / "a-folder").mkdir()
    before = (workdir / "log.csv").read_bytes()
    code, _, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", "-f", "csv", "-o", target, "--lang", "en"],
        capsys,
    )
    assert_input_error(code, err, target.rstrip("/"))
    assert (workdir / "log.csv").read_bytes() == before
    assert list((workdir / "a-folder").iterdir()) == []


# -- 2. no injection -----------------------------------------------------------------------


def _payload_log(path: Path, community: str, other: str) -> None:
    """Every field of every event holding payloads; ``community`` gets known numbers:
    2 resident participants, 1 benefiting household, 1 of 2 needs met, 1 of 1 satisfied
    resident; ``other`` gets 1 participating unit."""
    header = ["date", "community", "event", "party", "id", "household", "status", "ticket"]
    header += ["service", "category", NASTY, SQL]
    records: list[dict[str, str]] = [
        {"id": NASTY, "household": QUOTY, "service": SQL, NASTY: NASTY, SQL: QUOTY},
        {"id": QUOTY, "household": "h", "service": QUOTY, NASTY: QUOTY, SQL: SQL},
        {"date": "2026-10-04", "id": NASTY, "household": "h", "service": ";"},
        {"event": "benefit", "id": QUOTY, "household": NASTY, "service": '"'},
        {"event": "benefit", "id": NASTY, "household": NASTY, "service": "\\"},
        {"event": "need", "household": NASTY, "status": "pending", "ticket": NASTY},
        {"date": "2026-10-06", "event": "need", "status": "met", "ticket": NASTY},
        {"date": "2026-10-06", "event": "need", "status": "unmet", "ticket": QUOTY},
        {"date": "2026-10-07", "event": "survey", "id": SQL, "status": "满意"},
        {"community": other, "party": "unit", "id": NASTY, "service": NASTY},
    ]
    base = {"date": "2026-10-03", "community": community, "event": "participate"}
    full = [{**base, "party": "resident", **record} for record in records]
    if path.suffix == ".csv":
        write_csv(path, [header, *[[record.get(key, "") for key in header] for record in full]])
    else:
        write_yaml(path, full)


def _payload_profile(path: Path, community: str, other: str, parent: str) -> None:
    write_yaml(
        path,
        {
            "communities": [
                {
                    "id": community,
                    "name": f"{SQL} name",
                    "parent": parent,
                    "residents": 10,
                    "residents_capable": 10,
                    "households": 10,
                    "units": 10,
                },
                {
                    "id": other,
                    "parent": parent,
                    "residents": 5,
                    "residents_capable": 5,
                    "households": 5,
                    "units": 5,
                },
            ],
            "parents": [{"id": parent, "name": QUOTY}],
        },
    )


@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_sql_payloads_in_every_record_field_are_plain_text(
    workdir: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    parent = "p'); DELETE FROM recs; --"
    _payload_log(workdir / f"payload{suffix}", NASTY, QUOTY)
    _payload_profile(workdir / "payload_profile.yaml", NASTY, QUOTY, parent)
    code, out, err = run_cli(
        ["compute", f"payload{suffix}", "-p", "payload_profile.yaml", "-f", "json", "--lang", "en"],
        capsys,
    )
    assert_no_crash(code, err)
    assert code == 0, err
    rows = by_key(json.loads(out)["results"])

    def numbers(community: str, indicator: str) -> tuple[int, int | None]:
        row = rows[(community, "2026-10", indicator)]
        return row["numerator"], row["denominator"]

    assert numbers(NASTY, "resident_participation") == (2, 10)
    assert numbers(NASTY, "resident_benefit") == (1, 10)
    assert numbers(NASTY, "need_satisfaction") == (1, 2)
    assert numbers(NASTY, "resident_satisfaction") == (1, 1)
    assert numbers(QUOTY, "unit_participation") == (1, 5)
    assert numbers(QUOTY, "resident_participation") == (0, 5)
    assert numbers(parent, "resident_participation") == (2, 15)
    assert numbers("*", "unit_participation") == (1, 15)
    assert rows[(NASTY, "2026-10", "resident_participation")]["community_name"] == f"{SQL} name"
    assert rows[(parent, "2026-10", "resident_participation")]["community_name"] == QUOTY
    # the same values as breakdown keys
    code, out, err = run_cli(
        [
            "compute",
            f"payload{suffix}",
            "-p",
            "payload_profile.yaml",
            "-f",
            "json",
            "--by",
            "service",
        ],
        capsys,
    )
    assert code == 0, err
    services = {r["service"] for r in json.loads(out)["results"]}
    assert {SQL, QUOTY, ";", '"', "\\", NASTY} <= services
    # validate sees every row as valid
    code, out, err = run_cli(
        ["validate", f"payload{suffix}", "-p", "payload_profile.yaml", "-f", "json"], capsys
    )
    assert code == 0, out + err


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_as_survey_answer_is_an_unrecognised_answer(
    workdir: Path, capsys: pytest.CaptureFixture[str], payload: str
) -> None:
    write_csv(
        workdir / "survey.csv",
        [
            ["date", "community", "event", "party", "id", "status"],
            ["2026-10-21", "jianguo", "survey", "resident", "r1", "满意"],
            ["2026-10-22", "jianguo", "survey", "resident", "r2", payload],
        ],
    )
    code, out, err = run_cli(
        ["validate", "survey.csv", "-p", "profile.yaml", "-f", "json", "--lang", "en"], capsys
    )
    assert_no_crash(code, err)
    assert code == 3
    problems = json.loads(out)
    problems = problems["problems"] if isinstance(problems, dict) else problems
    bad = [p for p in problems if p["kind"] == "bad_answer"]
    assert [(p["value"], p["line"]) for p in bad] == [(payload, 3)]
    code, out, err = run_cli(
        ["compute", "survey.csv", "-p", "profile.yaml", "-f", "json", "--skip-invalid"], capsys
    )
    assert code == 0, err
    row = by_key(json.loads(out)["results"])[("jianguo", "2026-10", "resident_satisfaction")]
    assert (row["numerator"], row["denominator"]) == (1, 1)


def test_payloads_in_headers_and_in_a_user_defined_indicator(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mapped headers, extra headers and every string of a user-defined indicator (key,
    names, description, event, status/service conditions, profile field) hold payloads."""
    mapped = {
        field: f"{field} \"\\ ' OR '1'='1 --"
        for field in ("date", "community", "event", "party", "id", "status", "service")
    }
    event = "ch'eck\"up; --"
    status = "o'k\"; DROP TABLE recs"
    service = "s\\'); --"
    profile_field = "sen'iors\"; DROP TABLE recs; --"
    key = "k'ey\"; DROP TABLE recs; --"
    header = [*mapped.values(), SQL, '"; DROP TABLE raw', "x\\"]
    rows = [
        ["2026-10-03", "jianguo", event, "resident", "r1", status, service],
        ["2026-10-03", "jianguo", event, "resident", "r2", status, service],
        ["2026-10-04", "jianguo", event, "resident", "r2", status, service],  # same person
        ["2026-10-03", "jianguo", event, "resident", "r3", "other", service],  # other status
        ["2026-10-03", "jianguo", event, "resident", "r4", status, "other"],  # other service
        ["2026-10-03", "jianguo", event, "unit", "u1", status, service],  # other party
        ["2026-10-05", "jianguo", "participate", "resident", NASTY, "", ""],
    ]
    write_csv(workdir / "headers.csv", [header, *[[*row, SQL, NASTY, QUOTY] for row in rows]])
    config = {
        "columns": mapped,
        "values": {"status": {"'); DROP TABLE vmap; --": "met"}},
        "indicators": [
            {
                "key": key,
                "name": {"zh": "名'\"; --", "en": "N'ame\"; DROP TABLE x; --"},
                "description": {"zh": SQL, "en": QUOTY},
                "numerator": {
                    "event": event,
                    "party": "resident",
                    "count": "distinct id",
                    "status": status,
                    "service": service,
                },
                "denominator": {"profile": profile_field},
                "thresholds": {"warn": 0.5},
            }
        ],
        "thresholds": {key: {"warn": 0.9, "critical": 0.1}},
    }
    write_yaml(workdir / "config.yaml", config)
    write_yaml(
        workdir / "profile2.yaml",
        {"communities": [{"id": "jianguo", "residents_capable": 10, profile_field: 4}]},
    )
    args = ["-c", "config.yaml", "-p", "profile2.yaml", "--lang", "en"]
    code, out, err = run_cli(["compute", "headers.csv", *args, "-f", "json"], capsys)
    assert_no_crash(code, err)
    assert code == 0, err
    rows_out = by_key(json.loads(out)["results"])
    mine = rows_out[("jianguo", "2026-10", key)]
    assert (mine["numerator"], mine["denominator"], mine["rate"]) == (2, 4, 0.5)
    assert mine["indicator_name"] == "N'ame\"; DROP TABLE x; --"
    assert mine["status"] == "warn"
    participation = rows_out[("jianguo", "2026-10", "resident_participation")]
    assert participation["numerator"] == 1
    code, out, err = run_cli(["compute", "headers.csv", *args, "-f", "csv", "--wide"], capsys)
    assert code == 0, err
    code, out, err = run_cli(["explain", key, "-c", "config.yaml", "--lang", "en"], capsys)
    assert code == 0, err
    assert "N'ame\"; DROP TABLE x; --" in out and profile_field in out
    code, out, err = run_cli(["validate", "headers.csv", *args], capsys)
    assert code == 0, out + err


def test_payloads_in_constants_values_and_date_format(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "plain.csv").write_text("when,who\n2026-10-03,r1\n2026-10-04,r2\n", encoding="utf-8")
    write_yaml(
        workdir / "config.yaml",
        {
            "profile": "profile.yaml",
            "logs": [
                {
                    "path": "plain.csv",
                    "columns": {"date": "when", "id": "who"},
                    "constants": {
                        "community": "jianguo",
                        "event": "participate",
                        "party": "resident",
                        "service": SQL,
                    },
                    "values": {"service": {SQL: QUOTY}},
                }
            ],
        },
    )
    code, out, err = run_cli(
        ["compute", "-c", "config.yaml", "-f", "json", "--by", "service"], capsys
    )
    assert_no_crash(code, err)
    assert code == 0, err
    rows = json.loads(out)["results"]
    services = {r["service"] for r in rows}
    assert services <= {SQL, QUOTY}, services
    participation = [
        r
        for r in rows
        if r["community"] == "jianguo" and r["indicator"] == "resident_participation"
    ]
    assert sum(r["numerator"] for r in participation) == 2
    # a date_format holding SQL is only a format: the dates do not parse (exit 3)
    write_yaml(workdir / "fmt.yaml", {"date_format": f"%Y-%m-%d{SQL}"})
    code, _, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", "-c", "fmt.yaml", "--lang", "en"], capsys
    )
    assert_input_error(code, err, "log.csv")


@pytest.mark.parametrize("fmt", ["%Q", "%", "%Y-%m-%d %", "%E"])
@pytest.mark.parametrize("where", ["config", "option"])
def test_a_malformed_date_format_is_a_clear_error(
    workdir: Path, capsys: pytest.CaptureFixture[str], fmt: str, where: str
) -> None:
    """A date_format the engine cannot use is the user's mistake (exit 2 or 3), not exit 4."""
    if where == "config":
        write_yaml(workdir / "fmt.yaml", {"date_format": fmt})
        args = ["-c", "fmt.yaml"]
    else:
        args = ["--date-format", fmt]
    code, _, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", *args, "--lang", "en"], capsys
    )
    assert_no_crash(code, err)
    assert code in (2, 3)
    assert fmt in err


def test_semicolons_inside_quoted_headers_do_not_change_the_delimiter(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A comma-separated file whose quoted headers hold more semicolons than the line has
    commas is still comma-separated (the sniffer must not count quoted characters)."""
    write_csv(
        workdir / "semis.csv",
        [
            ["date", "community", "event", "party", "id", "note; a; b; c; d; e; f; g"],
            ["2026-10-03", "jianguo", "participate", "resident", "r1", "x"],
            ["2026-10-04", "jianguo", "participate", "resident", "r2", "y"],
        ],
    )
    code, out, err = run_cli(
        ["compute", "semis.csv", "-p", "profile.yaml", "-f", "json", "--lang", "en"], capsys
    )
    assert_no_crash(code, err)
    assert code == 0, err
    row = by_key(json.loads(out)["results"])[("jianguo", "2026-10", "resident_participation")]
    assert row["numerator"] == 2


# -- 3. spreadsheet safety -----------------------------------------------------------------

FORMULAS = {
    "eq": "=cmd|' /C calc'!A0",
    "plus": "+SUM(1,2)",
    "minus": "-2+3",
    "at": "@SUM(A1)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "hyperlink": '=HYPERLINK("http://evil.example","x")',
    "minus-ref": "-A1",
}
NUMBERS = ("-5", "+3", "-1.5", "+1e5", "-0")
NOT_NUMBERS_TO_A_SPREADSHEET = ("-inf", "+nan", "-1_000", "-Infinity", "+NaN")


def _cell_profile(path: Path, names: dict[str, str]) -> None:
    write_yaml(
        path,
        {
            "communities": [
                {"id": key, "name": value, "parent": "=p", "residents_capable": 10}
                for key, value in names.items()
            ],
            "parents": [{"id": "=p", "name": "@parent"}],
        },
    )


def _cell_log(path: Path, community: str, services: list[str]) -> None:
    write_csv(
        path,
        [["date", "community", "event", "party", "id", "service"]]
        + [
            ["2026-10-03", community, "participate", "resident", f"r{n}", s]
            for n, s in enumerate(services)
        ],
    )


def test_csv_neutralises_formula_cells(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _cell_profile(workdir / "cells.yaml", FORMULAS)
    _cell_log(workdir / "cells.csv", "eq", list(FORMULAS.values()))
    code, out, err = run_cli(
        ["compute", "cells.csv", "-p", "cells.yaml", "-f", "csv", "--lang", "en"], capsys
    )
    assert code == 0, err
    rows = csv_rows(out)
    names = {r["community"]: r["community_name"] for r in rows if r["level"] == "community"}
    for key, value in FORMULAS.items():
        assert names[key] == "'" + value, (key, names[key])
    rollup = next(r for r in rows if r["level"] == "rollup")
    assert (rollup["community"], rollup["community_name"]) == ("'=p", "'@parent")
    assert all(r["parent"] == "'=p" for r in rows if r["level"] == "community")
    # breakdown values
    code, out, err = run_cli(
        ["compute", "cells.csv", "-p", "cells.yaml", "-f", "csv", "--by", "service"], capsys
    )
    assert code == 0, err
    services = {r["service"] for r in csv_rows(out)}
    assert {"'" + value for value in FORMULAS.values() if not value[0].isspace()} <= services
    assert not any(s and s[0] in "=+-@\t\r" for s in services)
    # --wide
    code, out, err = run_cli(
        ["compute", "cells.csv", "-p", "cells.yaml", "-f", "csv", "--wide"], capsys
    )
    assert code == 0, err
    for row in csv_rows(out):
        for cell in (row["community"], row["community_name"], row["parent"]):
            assert not cell or cell[0] not in "=+-@\t\r", cell


def test_csv_keeps_numbers_as_numbers(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = {f"n{index}": value for index, value in enumerate(NUMBERS)}
    _cell_profile(workdir / "numbers.yaml", names)
    _cell_log(workdir / "numbers.csv", "n0", list(NUMBERS))
    code, out, err = run_cli(
        ["compute", "numbers.csv", "-p", "numbers.yaml", "-f", "csv", "--by", "service"], capsys
    )
    assert code == 0, err
    rows = csv_rows(out)
    shown = {r["community"]: r["community_name"] for r in rows if r["level"] == "community"}
    assert shown == names
    assert set(NUMBERS) <= {r["service"] for r in rows}
    # computed numbers (change in points can be negative) are never touched either
    assert not any(r["change"].startswith("'") for r in rows)


def test_csv_neutralises_what_only_python_reads_as_a_number(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`-inf`, `+nan`, `-1_000` parse as Python floats but a spreadsheet reads them as
    formulas (`=-inf` is a name lookup): they are text cells and need the apostrophe."""
    names = {f"t{index}": value for index, value in enumerate(NOT_NUMBERS_TO_A_SPREADSHEET)}
    _cell_profile(workdir / "odd.yaml", names)
    _cell_log(workdir / "odd.csv", "t0", ["x"])
    code, out, err = run_cli(["compute", "odd.csv", "-p", "odd.yaml", "-f", "csv"], capsys)
    assert code == 0, err
    shown = {
        r["community"]: r["community_name"] for r in csv_rows(out) if r["level"] == "community"
    }
    assert shown == {key: "'" + value for key, value in names.items()}


def test_wide_csv_headers_are_neutralised(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user-defined indicator's key becomes a header of --wide CSV: a formula there runs
    as surely as in a body cell."""
    key = '=HYPERLINK("http://evil.example","x")'
    write_yaml(
        workdir / "config.yaml",
        {
            "indicators": [
                {
                    "key": key,
                    "name": {"zh": "=1+1", "en": "@SUM(1)"},
                    "numerator": {"event": "checkup", "party": "resident"},
                    "denominator": {"profile": "residents"},
                }
            ]
        },
    )
    code, out, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", "-c", "config.yaml", "-f", "csv", "--wide"],
        capsys,
    )
    assert code == 0, err
    header = next(csv.reader(io.StringIO(out)))
    assert not [cell for cell in header if cell[:1] in ("=", "+", "-", "@", "\t", "\r")], header
    code, out, err = run_cli(
        [
            "compute",
            "log.csv",
            "-p",
            "profile.yaml",
            "-c",
            "config.yaml",
            "-f",
            "csv",
            "--lang",
            "en",
        ],
        capsys,
    )
    assert code == 0, err
    mine = [r for r in csv_rows(out) if r["indicator"] == "'" + key]
    assert mine and all(r["indicator_name"] == "'@SUM(1)" for r in mine)


def test_json_keeps_raw_values(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = {**FORMULAS, **{f"n{i}": v for i, v in enumerate(NUMBERS)}}
    _cell_profile(workdir / "cells.yaml", names)
    _cell_log(workdir / "cells.csv", "eq", list(FORMULAS.values()))
    code, out, err = run_cli(
        ["compute", "cells.csv", "-p", "cells.yaml", "-f", "json", "--by", "service"], capsys
    )
    assert code == 0, err
    results = json.loads(out)["results"]
    shown = {r["community"]: r["community_name"] for r in results if r["level"] == "community"}
    assert shown == names
    # surrounding whitespace (the tab, the carriage return) is ignored (spec 1.2)
    assert {v.strip() for v in FORMULAS.values()} <= {r["service"] for r in results}
    assert {r["parent"] for r in results if r["level"] == "community"} == {"=p"}


def test_option_to_turn_neutralisation_off(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["compute", "--help", "--lang", "en"], capsys)
    assert code == 0
    options = [
        word.strip(",")
        for word in out.split()
        if word.startswith("--") and any(k in word for k in ("neutral", "formula", "raw", "escape"))
    ]
    if not options:
        pytest.skip(
            "issue 8 (3) asks for an option to turn spreadsheet neutralisation off; "
            "`svcmetrics compute --help` shows none"
        )
    _cell_profile(workdir / "cells.yaml", {"eq": FORMULAS["eq"]})
    _cell_log(workdir / "cells.csv", "eq", ["x"])
    code, out, err = run_cli(
        ["compute", "cells.csv", "-p", "cells.yaml", "-f", "csv", options[0]], capsys
    )
    assert code == 0, err
    assert {r["community_name"] for r in csv_rows(out)} >= {FORMULAS["eq"]}


def test_bom_for_chinese_excel(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["compute", "log.csv", "-p", "profile.yaml", "-f", "csv"], capsys)
    assert code == 0 and not out.startswith("\ufeff")
    code, out, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", "-f", "csv", "--bom"], capsys
    )
    assert code == 0, err
    assert out.startswith("\ufeff") and not out.startswith("\ufeff\ufeff")
    assert out[1:].startswith("level,")
    # the option, and csv_bom: true in the config, put the BOM bytes in an --output file
    code, _, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", "-f", "csv", "--bom", "-o", "bom.csv"], capsys
    )
    assert code == 0, err
    assert (workdir / "bom.csv").read_bytes().startswith(b"\xef\xbb\xbfl")
    (workdir / "bom.yaml").write_text("csv_bom: true\nprofile: profile.yaml\n", encoding="utf-8")
    code, _, err = run_cli(
        ["compute", "log.csv", "-c", "bom.yaml", "-f", "csv", "-o", "cfg.csv"], capsys
    )
    assert code == 0, err
    assert (workdir / "cfg.csv").read_bytes().startswith(b"\xef\xbb\xbfl")
    # a BOM is for CSV only
    code, out, err = run_cli(["compute", "log.csv", "-c", "bom.yaml", "-f", "json"], capsys)
    assert code == 0 and not out.startswith("\ufeff")
    json.loads(out)
    code, _, err = run_cli(["compute", "log.csv", "-p", "profile.yaml", "--bom"], capsys)
    assert code == 2


def test_ids_stay_text(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_yaml(
        workdir / "ids.yaml",
        {
            "communities": [
                {"id": "0123", "name": "0123", "residents_capable": 10, "households": 10},
                {"id": "123", "residents_capable": 10},
            ]
        },
    )
    (workdir / "ids_yaml_number.yaml").write_text(
        "communities:\n  - {id: 0123, residents_capable: 10}\n"
        "  - {id: 123, residents_capable: 10}\n",
        encoding="utf-8",
    )
    write_csv(
        workdir / "ids.csv",
        [
            ["date", "community", "event", "party", "id", "household"],
            ["2026-10-03", "0123", "participate", "resident", "110101199001011234", ""],
            ["2026-10-03", "0123", "participate", "resident", "110101199001011235", ""],
            ["2026-10-03", "0123", "participate", "resident", "1e5", ""],
            ["2026-10-03", "0123", "participate", "resident", "100000", ""],
            ["2026-10-03", "0123", "participate", "resident", "007", ""],
            ["2026-10-03", "0123", "participate", "resident", "7", ""],
            ["2026-10-03", "0123", "benefit", "resident", "x", "0001"],
            ["2026-10-03", "0123", "benefit", "resident", "y", "1"],
            ["2026-10-03", "123", "participate", "resident", "r", ""],
        ],
    )
    for profile in ("ids.yaml", "ids_yaml_number.yaml"):
        code, out, err = run_cli(["compute", "ids.csv", "-p", profile, "-f", "csv"], capsys)
        assert code == 0, err
        rows = by_key(csv_rows(out))
        assert rows[("0123", "2026-10", "resident_participation")]["numerator"] == "6"
        assert rows[("123", "2026-10", "resident_participation")]["numerator"] == "1"
    code, out, err = run_cli(["compute", "ids.csv", "-p", "ids.yaml", "-f", "csv"], capsys)
    rows = by_key(csv_rows(out))
    assert rows[("0123", "2026-10", "resident_benefit")]["numerator"] == "2"
    assert rows[("0123", "2026-10", "resident_participation")]["community_name"] == "0123"
    code, out, err = run_cli(["compute", "ids.csv", "-p", "ids.yaml", "-f", "json"], capsys)
    results = json.loads(out)["results"]
    assert {r["community"] for r in results} == {"0123", "123", "*"}
    assert all(isinstance(r["community"], str) for r in results)


# -- hashing: no command modifies its inputs ------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): _sha256(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_no_command_modifies_its_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "log.csv").write_text(LOG, encoding="utf-8")
    (inputs / "log_gb.csv").write_bytes(LOG.replace("\n", "\r\n").encode("gb18030"))
    (inputs / "log_bom.csv").write_bytes(b"\xef\xbb\xbf" + LOG.encode())
    (inputs / "profile.yaml").write_text(PROFILE, encoding="utf-8")
    (inputs / "profile.csv").write_text(
        "社区编号,名称,上级,居民数,有服务能力居民数,户数,单位数\n"
        "jianguo,建国社区,daoli,40,10,8,4\ngongle,共乐社区,daoli,30,5,6,2\n",
        encoding="utf-8",
    )
    rows = list(csv.reader(io.StringIO(LOG)))
    (inputs / "log.yaml").write_text(
        yaml.safe_dump(
            [dict(zip(rows[0], row, strict=True)) for row in rows[1:]], allow_unicode=True
        ),
        encoding="utf-8",
    )
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(inputs / "log.xlsx")
    (inputs / "svcmetrics.yaml").write_text(
        "profile: profile.yaml\nlogs: [log.csv, log.yaml]\nparents: []\n"
        "thresholds: {resident_participation: {warn: 0.5, critical: 0.1}}\n"
        "indicators:\n  - key: checks\n    name: {zh: 体检, en: Checks}\n"
        "    numerator: {event: checkup, party: resident}\n"
        "    denominator: {profile: residents}\n",
        encoding="utf-8",
    )
    (inputs / "bad.csv").write_text(
        LOG + "2026-02-30,jianguo,participate,resident,x,,,,\n", encoding="utf-8"
    )
    workdir = tmp_path / "copy"
    shutil.copytree(inputs, workdir)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("NO_COLOR", "1")
    before = _tree(workdir)
    assert before == _tree(inputs)

    logs = ["log.csv", "log_gb.csv", "log_bom.csv", "log.yaml", "log.xlsx"]
    base = ["compute", *logs, "-c", "svcmetrics.yaml"]
    commands: list[list[str]] = []
    for fmt in OutputFormat:
        if fmt is not OutputFormat.XLSX:  # bytes: not to a captured text stdout
            commands.append([*base, "-f", fmt.value])
        commands.append([*base, "-f", fmt.value, "-o", str(out_dir / f"r.{fmt.value}")])
        # overwrite an existing output: still no change to any input
        commands.append([*base, "-f", fmt.value, "-o", str(out_dir / f"r.{fmt.value}")])
    commands += [
        [*base, "-f", "csv", "--wide", "--bom"],
        [*base, "--chart"],
        [*base, "--by", "service", "-f", "json", "--period", "quarter"],
        [*base, "--lang", "zh", "--month", "2026-10", "--fail-on", "warn"],
        ["compute", "log.csv", "-p", "profile.csv", "-f", "csv", "--encoding", "utf-8"],
        ["compute", "-f", "json"],  # the config's own logs
        ["compute", "bad.csv", "-p", "profile.yaml"],  # invalid rows: exit 3
        ["compute", "bad.csv", "-p", "profile.yaml", "--skip-invalid", "-o", str(out_dir / "s")],
        ["validate", *logs, "-c", "svcmetrics.yaml"],
        ["validate", *logs, "-c", "svcmetrics.yaml", "-f", "json"],
        ["validate", "bad.csv", "-p", "profile.csv", "-f", "json"],
        ["validate"],
        ["explain"],
        ["explain", "checks", "-c", "svcmetrics.yaml", "--lang", "zh"],
        ["explain", "need_satisfaction", "--lang", "en"],
        [*base, "-f", "csv", "--raw-cells"],
        ["sql", "-c", "svcmetrics.yaml"],
        *(["sql", "--dialect", dialect] for dialect in ("duckdb", "postgres", "spark", "trino")),
        ["init", str(tmp_path / "starter")],
        ["template", str(out_dir / "t.xlsx"), "-c", "svcmetrics.yaml"],
    ]
    for args in commands:
        code, _, err = run_cli(args, capsys)
        assert code in (0, 1, 3), (args, err)
        assert "Traceback" not in err
        assert _tree(workdir) == before, f"{args} changed an input or left a file behind"
    assert _tree(inputs) == before
    # only the outputs asked for were written, and no temporary file is left
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        [f"r.{fmt.value}" for fmt in OutputFormat] + ["s", "t.xlsx"]
    )
