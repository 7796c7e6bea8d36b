"""The command line: formats, languages, streams, exit codes, output files."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from clihelp import LOG, run_cli

from svcmetrics.output import OutputFormat

BASE = ["compute", "log.csv", "--profile", "profile.yaml"]


def workbook_text(path: Path) -> str:
    """Every cell of an xlsx workbook, one per line (its numbers: tests/test_xlsx.py)."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    sheets = [book.get_sheet_by_name(name).to_python() for name in book.sheet_names]
    return "\n".join(str(cell) for rows in sheets for row in rows for cell in row)


@pytest.mark.parametrize("fmt", list(OutputFormat))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_format_renders_in_both_languages(
    workdir: Path, capsys: pytest.CaptureFixture[str], fmt: OutputFormat, lang: str
) -> None:
    if fmt is OutputFormat.XLSX:  # a binary workbook: its text, as a spreadsheet reads it
        code, out, err = run_cli([*BASE, "-f", "xlsx", "--lang", lang, "-o", "r.xlsx"], capsys)
        out = workbook_text(workdir / "r.xlsx")
    else:
        code, out, err = run_cli([*BASE, "--format", fmt.value, "--lang", lang], capsys)
    assert code == 0, err
    assert "\x1b[" not in out
    name = "居民参与率" if lang == "zh" else "Resident participation rate"
    assert name in out
    assert "2026-10" in out and "2026-11" in out
    if fmt not in (OutputFormat.JSON, OutputFormat.CSV, OutputFormat.XLSX, OutputFormat.CHART):
        # percent with numerator/denominator: jianguo October participation 2 of 10
        # (the chart draws the last period only, without the counts)
        assert "20.0%" in out and "2/10" in out


def test_csv_has_the_spec_fields_and_values(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli([*BASE, "--format", "csv", "--lang", "en"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "level", "community", "community_name", "parent", "period", "indicator",
        "indicator_name", "numerator", "denominator", "rate", "sample_size", "ci_low",
        "ci_high", "previous_rate", "change", "previous_year_rate", "change_yoy", "rank",
        "target_level", "status", "flags",
    ]  # fmt: skip
    by = {(r["community"], r["period"], r["indicator"]): r for r in rows}
    need = by[("jianguo", "2026-10", "need_satisfaction")]
    assert (need["numerator"], need["denominator"], need["rate"]) == ("1", "1", "1.0000")
    survey = by[("jianguo", "2026-10", "resident_satisfaction")]
    assert (survey["numerator"], survey["denominator"], survey["sample_size"]) == ("1", "2", "2")
    assert survey["flags"] == "small_sample"
    total = by[("*", "2026-10", "resident_participation")]
    assert (total["level"], total["numerator"], total["denominator"]) == ("total", "3", "15")
    # gongle has no record in November: present, zero, flagged
    gongle = by[("gongle", "2026-11", "resident_participation")]
    assert (gongle["numerator"], gongle["flags"]) == ("0", "no_records")
    # sorted by period, then level, then id, then indicator order
    keys = [(r["period"], r["level"]) for r in rows]
    order = {"community": 0, "rollup": 1, "total": 2}
    assert keys == sorted(keys, key=lambda k: (k[0], order[k[1]]))


def test_wide_csv_has_one_row_per_community_and_period(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli([*BASE, "--format", "csv", "--wide"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 2 * 4  # (2 communities + daoli + total) x 2 months
    first = rows[0]
    assert first["community"] == "gongle" and first["period"] == "2026-10"
    assert first["resident_participation_num"] == "1"
    assert first["resident_participation_den"] == "5"
    assert first["resident_participation"] == "0.2000"


def test_bom_option_starts_csv_with_a_bom(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run_cli([*BASE, "--format", "csv", "--bom"], capsys)
    assert out.startswith("\ufefflevel,")
    _, plain, _ = run_cli([*BASE, "--format", "csv"], capsys)
    assert plain.startswith("level,")


def test_json_has_meta_results_and_issues(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli([*BASE, "--format", "json", "--lang", "zh"], capsys)
    assert code == 0
    document = json.loads(out)
    assert set(document) == {"meta", "results", "issues"}
    assert document["meta"]["lang"] == "zh"
    assert document["meta"]["span"] == ["2026-10", "2026-11"]
    first = document["results"][0]
    assert first["indicator_name"] == "居民参与率"
    undefined = [r for r in document["results"] if r["denominator"] == 0]
    assert undefined and all(r["rate"] is None and r["status"] == "n/a" for r in undefined)


def test_output_is_deterministic(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {run_cli([*BASE, "--format", fmt], capsys)[1] for fmt in ("json", "json")}
    assert len(outputs) == 1


def test_results_on_stdout_errors_on_stderr(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "bad.csv").write_text(LOG + "2026-10-40,jianguo,participate,resident,r9,,,,\n")
    code, out, err = run_cli(["compute", "bad.csv", "--profile", "profile.yaml"], capsys)
    assert code == 3
    assert out == ""
    assert "bad.csv:10" in err and "2026-10-40" in err
    assert "Traceback" not in err


def test_skip_invalid_computes_and_reports(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "bad.csv").write_text(LOG + "2026-10-05,jianguo,participate,resident,,,,,\n")
    args = ["compute", "bad.csv", "--profile", "profile.yaml", "--skip-invalid", "--lang", "en"]
    code, out, err = run_cli([*args, "--format", "csv"], capsys)
    assert code == 0
    assert "Skipped 1 invalid row (" in err and "missing value: 1" in err
    row = next(
        r for r in csv.DictReader(io.StringIO(out)) if r["indicator"] == "resident_participation"
    )
    assert row["numerator"] == "1"  # gongle's g1 only; the blank id was skipped


def test_messages_follow_the_language(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err_zh = run_cli(["compute", "missing.csv", "--lang", "zh"], capsys)
    _, _, err_en = run_cli(["compute", "missing.csv", "--lang", "en"], capsys)
    assert "找不到文件 missing.csv" in err_zh
    assert "File missing.csv not found" in err_en


def test_language_from_locale_and_config(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    _, out, _ = run_cli([*BASE, "--format", "markdown"], capsys)
    assert "居民参与率" in out
    (workdir / "svcmetrics.yaml").write_text("lang: en\nprofile: profile.yaml\n")
    _, out, _ = run_cli(["compute", "log.csv", "--format", "markdown"], capsys)
    assert "Resident participation rate" in out


def test_help_is_in_the_chosen_language(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--lang", "zh", "compute", "--help"], capsys)
    assert code == 0
    assert "计算每个社区每个期间的各项指标" in out
    code, out, _ = run_cli(["--lang", "en", "--help"], capsys)
    assert "community-service indicators" in out


@pytest.mark.parametrize(
    "args",
    [
        ["compute", "--no-such-option"],
        ["compute", "log.csv", "--period", "week"],
        ["compute", "log.csv", "--format", "xml"],
        ["compute", "log.csv", "--lang", "fr"],
        [
            "compute",
            "log.csv",
            "--profile",
            "profile.yaml",
            "--month",
            "2026-10",
            "--period",
            "quarter",
        ],
        [
            "compute",
            "log.csv",
            "--profile",
            "profile.yaml",
            "--month",
            "2026-10",
            "--from",
            "2026-10-01",
        ],
        ["compute", "log.csv", "--profile", "profile.yaml", "--from", "2026-10-01"],
        [
            "compute",
            "log.csv",
            "--profile",
            "profile.yaml",
            "--from",
            "not-a-date",
            "--to",
            "2026-10-01",
        ],
        ["compute", "log.csv", "--profile", "profile.yaml", "--month", "2026-13"],
        ["explain", "no_such_indicator"],
        ["compute"],
    ],
)
def test_usage_errors_exit_2(
    workdir: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = run_cli(args, capsys)
    assert code == 2, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("files", "args"),
    [
        ({}, ["compute", "nope.csv"]),
        ({}, ["compute", "."]),
        ({"empty.csv": ""}, ["compute", "empty.csv"]),
        ({"cfg.yaml": "langg: zh\n"}, ["compute", "log.csv", "--config", "cfg.yaml"]),
        ({"cfg.yaml": "lang: [zh\n"}, ["compute", "log.csv", "--config", "cfg.yaml"]),
        (
            {"p.yaml": "communities:\n  - {id: a, househods: 3}\n"},
            ["compute", "log.csv", "--profile", "p.yaml"],
        ),
        (
            {"p.yaml": "communities:\n  - {id: a, households: -3}\n"},
            ["compute", "log.csv", "--profile", "p.yaml"],
        ),
        (
            {"p.yaml": "communities:\n  - {id: a, households: 2.5}\n"},
            ["compute", "log.csv", "--profile", "p.yaml"],
        ),
        (
            {"p.yaml": "communities:\n  - {id: a}\n  - {id: a}\n"},
            ["compute", "log.csv", "--profile", "p.yaml"],
        ),
    ],
)
def test_input_and_config_errors_exit_3(
    workdir: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], args: list[str]
) -> None:
    for name, text in files.items():
        (workdir / name).write_text(text, encoding="utf-8")
    code, out, err = run_cli([*args, "--lang", "en"], capsys)
    assert code == 3, err
    assert out == ""
    assert err.strip() and "Traceback" not in err


def test_unknown_key_names_the_closest(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "p.yaml").write_text("communities:\n  - {id: jianguo, househods: 3}\n")
    code, _, err = run_cli(["compute", "log.csv", "--profile", "p.yaml", "--lang", "en"], capsys)
    assert code == 3
    assert "househods" in err and "did you mean 'households'" in err


def test_output_file_written_whole(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = workdir / "out.csv"
    code, out, _ = run_cli([*BASE, "--format", "csv", "--output", str(target)], capsys)
    assert code == 0 and out == ""
    good = target.read_bytes()
    assert good.startswith(b"level,")
    (workdir / "bad.csv").write_text("date,event\n2026-99-01,participate\n")
    code, _, _ = run_cli(["compute", "bad.csv", "--format", "csv", "--output", str(target)], capsys)
    assert code == 3
    assert target.read_bytes() == good
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(".out.csv")) == []


def test_output_into_missing_folder_is_an_input_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli([*BASE, "--output", "no/such/folder/out.csv", "--lang", "en"], capsys)
    assert code == 3
    assert "does not exist" in err


def test_explain_in_both_languages(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["explain", "need_satisfaction", "--lang", "zh"], capsys)
    assert code == 0
    assert "服务需求满足率" in out and "最新状态" in out
    code, out, _ = run_cli(["explain", "--lang", "en"], capsys)
    assert code == 0
    for key in ("resident_participation", "unit_benefit", "unit_satisfaction"):
        assert key in out
    assert "latest counted answer" in out


def _subprocess(args: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "svcmetrics", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        **kwargs,
    )


def test_python_m_and_version(workdir: Path) -> None:
    done = _subprocess(["--version"], workdir)
    assert done.returncode == 0
    assert done.stdout.startswith("svcmetrics ")


def test_no_escape_codes_into_a_pipe(workdir: Path) -> None:
    done = _subprocess(BASE, workdir)
    assert done.returncode == 0, done.stderr
    assert "居民参与率" in done.stdout or "Resident participation" in done.stdout
    assert "\x1b[" not in done.stdout and "\x1b[" not in done.stderr


def test_standard_input(workdir: Path) -> None:
    done = _subprocess(
        ["compute", "-", "--profile", "profile.yaml", "--format", "csv"], workdir, input=LOG
    )
    assert done.returncode == 0, done.stderr
    from_file = _subprocess([*BASE, "--format", "csv"], workdir)
    assert done.stdout == from_file.stdout


def test_closed_pipe_ends_quietly(workdir: Path) -> None:
    command = f"{sys.executable} -m svcmetrics compute log.csv --profile profile.yaml | head -n 1"
    done = subprocess.run(command, shell=True, cwd=workdir, capture_output=True, text=True)
    assert done.returncode == 0
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
