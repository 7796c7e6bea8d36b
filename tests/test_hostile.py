"""Hostile inputs (issue 8; spec 3.1, 3.3 and 4).

Every case ends in a clear message and exit 3 (or a computed result with a reported
problem, where computing is right), never a traceback or an "internal error" (exit 4).
Cases that could hang or eat memory (alias bombs, deep nesting) run in a subprocess with a
timeout and a memory limit. Injection, spreadsheet safety and untouched inputs have their
own modules (test_injection, test_spreadsheet_safety, test_inputs_untouched).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clihelp import (
    assert_input_error,
    assert_no_crash,
    by_key,
    csv_rows,
    run_cli,
    run_in,
    write_yaml,
)

from svcmetrics.output import OutputFormat

HEADER = "date,community,event,party,id,household,status,ticket,service\n"
ONE_ROW = "2026-10-03,jianguo,participate,resident,r1,h1,,,助老\n"

PWN = '!!python/object/apply:os.system ["touch PWNED"]'

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
    if name.endswith(".csv"):  # over the CSV field limit of 2 MiB: refused, file and line named
        line = 1 if where == "header" else 2
        assert_input_error(code, err, f"{name} line {line}", "2097152")
    else:  # a YAML log has no field limit under its 50 MB: the participant counts once
        assert_no_crash(code, err)
        assert code == 0, err[-2000:]
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
    ("dates", "args", "period"),
    [
        (["9999-12-31"], [], "9999-12"),
        (["9999-12-31"], ["--period", "quarter"], "9999-Q4"),
        (["9999-12-31"], ["--period", "year"], "9999"),
        (["0001-01-01"], [], "0001-01"),
        (["0001-01-01", "9999-12-31"], ["--period", "all"], "0001-01-01..9999-12-31"),
        (["9999-12-31"], ["--month", "9999-12"], "9999-12"),
        (["0001-01-01"], ["--month", "0001-01"], "0001-01"),
        (["9999-12-31"], ["--from", "9999-12-01", "--to", "9999-12-31"], "9999-12"),
        (
            ["9999-12-31"],
            ["--from", "9999-10-01", "--to", "9999-12-31", "--period", "quarter"],
            "9999-Q4",
        ),
        (["0001-01-01"], ["--from", "0001-01-01", "--to", "0001-01-31"], "0001-01"),
        (["0001-01-01"], ["--last", "month", "--as-of", "0001-01-15"], None),
        (["9999-12-31"], ["--as-of", "9999-12-31"], "9999-12"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else str(value),
)
def test_years_1_and_9999_inside_a_widened_window(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    dates: list[str],
    args: list[str],
    period: str | None,
) -> None:
    """The calendar's first and last days are valid dates: each is counted in its period,
    never an overflow (exit 4). The one period that cannot exist (the month before 0001-01,
    asked with ``--last month``) is a usage error (exit 2) that says so."""
    (workdir / "window.yaml").write_text(WIDE_WINDOW, encoding="utf-8")
    rows = "".join(f"{day},jianguo,participate,resident,r{n},,,,\n" for n, day in enumerate(dates))
    (workdir / "years.csv").write_text(HEADER + rows, encoding="utf-8")
    code, out, err = run_cli(
        ["compute", "years.csv", "-p", "profile.yaml", "-c", "window.yaml", "-f", "json", *args],
        capsys,
    )
    assert_no_crash(code, err)
    if period is None:
        assert code == 2, err[-2000:]
        assert "no complete period before that day" in err
        return
    assert code == 0, err[-2000:]
    rows = by_key(json.loads(out)["results"])
    assert rows[("jianguo", period, "resident_participation")]["numerator"] == len(dates)


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
    done = run_in(workdir, ["compute", "log.csv", "-p", "profile.yaml"])
    assert_input_error(done.returncode, done.stderr, "svcmetrics.yaml")
    (workdir / "other.yaml").write_text("date_range: {from: 2026-02-30}\n", encoding="utf-8")
    done = run_in(workdir, ["compute", "log.csv", "--config", "other.yaml"])
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
        done = run_in(workdir, args)
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
@pytest.mark.parametrize("fmt", [*(f.value for f in OutputFormat), "csv-wide"], ids=str)
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


@pytest.mark.parametrize(
    ("answer", "is_number"),
    [("9" * 15, True), ("-" + "9" * 15, True), ("0.000000000000001", True)]
    + [("1e309", False), ("-1e309", False), ("1e-400", False), ("9" * 400, False)]
    + [("nan", False), ("inf", False)],
    ids=lambda value: str(value)[:12],
)
def test_huge_numbers_in_answers(
    workdir: Path, capsys: pytest.CaptureFixture[str], answer: str, is_number: bool
) -> None:
    """A score is an optional sign and at most 15 digits, with or without decimals (one
    definition, the SQL of svcmetrics.compiler, on every engine): such a number outside the
    scale is excluded like 9 or 99 (spec 2.4). Exponents, 400 nines, ``nan`` and ``inf`` are
    text in no list, an unrecognised answer (invalid, named). Never a crash, never counted
    as satisfied."""
    (workdir / "answers.csv").write_text(
        HEADER
        + "2026-10-21,jianguo,survey,resident,r1,,满意,,\n"
        + f"2026-10-22,jianguo,survey,resident,r2,,{answer},,\n",
        encoding="utf-8",
    )
    code, out, err = run_cli(
        ["compute", "answers.csv", "-p", "profile.yaml", "-f", "json", "--lang", "en"], capsys
    )
    if not is_number:
        assert_input_error(code, err, f"'{answer}'", "answers.csv:3")
        code, out, err = run_cli(
            ["compute", "answers.csv", "-p", "profile.yaml", "-f", "json", "--skip-invalid"],
            capsys,
        )
    assert_no_crash(code, err)
    assert code == 0, err[-2000:]
    row = by_key(json.loads(out)["results"])[("jianguo", "2026-10", "resident_satisfaction")]
    assert (row["numerator"], row["denominator"]) == (1, 1)


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("thresholds:\n  resident_participation: {warn: 1e309, critical: -1e309}\n", "warn"),
        ("satisfaction: {scale: [1, 1e309]}\n", "scale"),
    ],
    ids=["thresholds", "scale"],
)
def test_infinite_thresholds_and_scale_are_refused(
    workdir: Path, capsys: pytest.CaptureFixture[str], setting: str, named: str
) -> None:
    """A level or a scale end of 1e309 is infinity to a float: no rate is compared with it,
    so it is a config error naming the setting (exit 3), as a count of 1e309 is."""
    (workdir / "huge.yaml").write_text(setting, encoding="utf-8")
    code, _, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", "-c", "huge.yaml", "--lang", "en"], capsys
    )
    assert_input_error(code, err, "huge.yaml", named, "1e309")


def test_a_huge_minimum_sample_flags_every_survey_as_small(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "huge.yaml").write_text(f"satisfaction: {{min_sample: {HUGE}}}\n", encoding="utf-8")
    code, out, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", "-c", "huge.yaml", "-f", "json"], capsys
    )
    assert code == 0, err
    row = by_key(json.loads(out)["results"])[("jianguo", "2026-10", "resident_satisfaction")]
    assert (row["numerator"], row["sample_size"]) == (1, 2)
    assert "small_sample" in row["flags"]


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
