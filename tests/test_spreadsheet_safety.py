"""Spreadsheet safety (issue 8; spec 3.1): formula cells neutralised in CSV output, numbers
and ids kept as they are, the BOM for Chinese Excel."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from clihelp import (
    by_key,
    csv_rows,
    run_cli,
    write_csv,
    write_yaml,
)

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
