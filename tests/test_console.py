"""Spec 3.5 on consoles that are not UTF-8 (GBK, cp1252, ASCII, the C locale).

The console's encoding is the process's own, so each console is one subprocess; inside it a
small driver runs every case in-process, each with stdout and stderr sent to its own files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

DRIVER = r"""
import json, os, sys
from svcmetrics.cli import main

cases = json.loads(sys.argv[1])
codes = {}
for name, args in cases.items():
    sys.stdout.flush(); sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(name + ".out", "wb") as out, open(name + ".err", "wb") as err:
        os.dup2(out.fileno(), 1); os.dup2(err.fileno(), 2)
        try:
            main(args)
        except SystemExit as exc:
            codes[name] = exc.code
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os.dup2(saved[0], 1); os.dup2(saved[1], 2)
            os.close(saved[0]); os.close(saved[1])
print(json.dumps(codes))
"""

BASE = ["compute", "log.csv", "--profile", "profile.yaml", "--lang", "zh"]
CASES: dict[str, list[str]] = {
    "table": BASE,
    "chart": [*BASE, "--chart"],
    "csv": [*BASE, "--format", "csv"],
    "bom": [*BASE, "--format", "csv", "--bom"],
    "json": [*BASE, "--format", "json"],
    "markdown": [*BASE, "--format", "markdown"],
    "html": [*BASE, "--format", "html"],
    "validate": ["validate", "bad.csv", "--profile", "profile.yaml", "--lang", "zh"],
    "validate_json": ["validate", "bad.csv", "-p", "profile.yaml", "-f", "json", "--lang", "zh"],
    "error": ["compute", "missing.csv", "--lang", "zh"],
    "usage": ["compute", "--nope", "--lang", "zh"],
    "help": ["compute", "--help", "--lang", "zh"],
}
EXIT = {"validate": 3, "validate_json": 3, "error": 3, "usage": 2}
UTF8 = ("csv", "bom", "json", "html", "validate_json")
NAME = "建国社区"

CONSOLES = {
    "gbk": {"PYTHONIOENCODING": "gbk"},
    "cp1252": {"PYTHONIOENCODING": "cp1252"},
    "ascii": {"PYTHONIOENCODING": "ascii"},
    "C": {"LC_ALL": "C", "LANG": "C"},
}


@pytest.fixture(scope="module")
def consoles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, int]]]:
    """Every case run on every console: folder of outputs and exit codes, per console."""
    from clihelp import LOG, PROFILE

    results = {}
    for console, variables in CONSOLES.items():
        folder = tmp_path_factory.mktemp(console)
        (folder / "log.csv").write_text(LOG, encoding="utf-8")
        (folder / "bad.csv").write_text(LOG + "2026-10-05,某社区,participate,resident,x,,,,\n")
        (folder / "profile.yaml").write_text(PROFILE, encoding="utf-8")
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PYTHONIOENCODING", "LC_ALL", "LC_CTYPE", "LANG", "PYTHONUTF8")
        }
        env.update(variables, PYTHONPATH=str(SRC), NO_COLOR="1")
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, json.dumps(CASES)],
            cwd=folder,
            env=env,
            capture_output=True,
            timeout=300,
            check=True,
        )
        results[console] = folder, json.loads(done.stdout)
    return results


def _encoding(console: str) -> str:
    return {"gbk": "gbk", "cp1252": "cp1252", "ascii": "ascii", "C": "utf-8"}[console]


@pytest.mark.parametrize("console", sorted(CONSOLES))
def test_no_case_crashes(console: str, consoles: dict[str, tuple[Path, dict[str, int]]]) -> None:
    folder, codes = consoles[console]
    for case in CASES:
        err = (folder / f"{case}.err").read_bytes().decode(_encoding(console))
        assert codes[case] == EXIT.get(case, 0), (case, err)
        assert "Traceback" not in err and "internal error" not in err, (case, err)


@pytest.mark.parametrize("console", sorted(CONSOLES))
def test_file_formats_are_utf8_whatever_the_console(
    console: str, consoles: dict[str, tuple[Path, dict[str, int]]]
) -> None:
    folder, _ = consoles[console]
    for case in UTF8:
        data = (folder / f"{case}.out").read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") == (case == "bom"), case
        text = data.decode("utf-8")
        if case != "validate_json":
            assert NAME in text, case
    assert '<meta charset="utf-8">' in (folder / "html.out").read_text(encoding="utf-8").lower()


@pytest.mark.parametrize("console", sorted(CONSOLES))
def test_text_uses_the_console_encoding_and_says_what_it_replaced(
    console: str, consoles: dict[str, tuple[Path, dict[str, int]]]
) -> None:
    folder, _ = consoles[console]
    encoding = _encoding(console)
    shows_chinese = console in ("gbk", "C")
    for case in ("table", "chart", "markdown", "validate", "help"):
        text = (folder / f"{case}.out").read_bytes().decode(encoding)
        assert text.strip(), case
        err = (folder / f"{case}.err").read_bytes().decode(encoding)
        if shows_chinese:
            assert "?" not in text.replace("[?]", "") or case == "help", case
            assert "UTF-8" not in err or "--output" not in err, case
        else:
            assert "?" in text, case
            assert "UTF-8" in err and "--output" in err, (case, err)
    if shows_chinese:
        assert NAME in (folder / "table.out").read_bytes().decode(encoding)
    for case in ("error", "usage"):
        err = (folder / f"{case}.err").read_bytes().decode(encoding)
        assert ("missing.csv" if case == "error" else "--nope") in err
        if shows_chinese:
            assert "找不到文件" in err or "没有选项" in err
