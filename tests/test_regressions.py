"""Behaviour a new user tripped over once, kept from coming back."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from clihelp import run_cli, run_in

from svcmetrics.pipeline import Options, run

ROOT = Path(__file__).resolve().parents[1]
LOG = "date,community,event,party,id,household\n2026-10-03,0101,participate,resident,r1,h1\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def test_unknown_indicator_is_explained(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["explain", "nope", "--lang", "en"], capsys)
    assert code == 2
    assert "There is no indicator nope." in err and "need_satisfaction" in err


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("p.csv", "社区编号,名称,有服务能力居民数\n0101,一社区,10\n"),
        ("p.yaml", "communities:\n  - {id: 0101, name: 一社区, residents_capable: 10}\n"),
    ],
)
def test_profile_ids_keep_leading_zeros(workdir: Path, name: str, text: str) -> None:
    (workdir / "log.csv").write_text(LOG)
    (workdir / name).write_text(text, encoding="utf-8")
    report = run(Options(logs=("log.csv",), profile=Path(name)))
    row = next(r for r in report.results if r.indicator == "resident_participation")
    assert (row.community, row.numerator, row.denominator) == ("0101", 1, 10)


def test_unknown_community_without_a_close_name(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "log.csv").write_text(LOG.replace("0101", "zzz"))
    (workdir / "p.yaml").write_text("communities:\n  - {id: jianguo}\n")
    code, _, err = run_cli(["compute", "log.csv", "--profile", "p.yaml", "--lang", "en"], capsys)
    assert code == 3
    assert "community 'zzz' is not in the profile (fix the log or add it to the profile)" in err
    assert "closest is ''" not in err


def test_output_file_is_readable_like_any_new_file(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "log.csv").write_text(LOG)
    mask = os.umask(0o022)
    try:
        code, _, _ = run_cli(["compute", "log.csv", "--format", "csv", "-o", "out.csv"], capsys)
    finally:
        os.umask(mask)
    assert code == 0
    assert stat.S_IMODE((workdir / "out.csv").stat().st_mode) == 0o644
    (workdir / "out.csv").chmod(0o640)
    run_cli(["compute", "log.csv", "--format", "csv", "-o", "out.csv"], capsys)
    assert stat.S_IMODE((workdir / "out.csv").stat().st_mode) == 0o640  # the previous mode stays


def test_yaml_on_standard_input_may_start_with_a_comment(workdir: Path) -> None:
    text = (ROOT / "examples" / "log.yaml").read_text(encoding="utf-8")
    assert text.lstrip().startswith("#")
    args = ["compute", "-", "--profile", str(ROOT / "examples" / "profile.yaml"), "-f", "csv"]
    done = run_in(workdir, args, stdin=text.encode())
    assert done.returncode == 0, done.stderr[-500:]
    assert "jianguo" in done.stdout


def test_a_log_without_communities_is_one_unnamed_community(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "log.csv").write_text("date,event,party,id\n2026-10-03,participate,resident,r1\n")
    code, out, _ = run_cli(["compute", "log.csv", "--format", "csv", "--lang", "en"], capsys)
    assert code == 0
    row = next(csv.DictReader(io.StringIO(out)))
    assert (row["community"], row["community_name"]) == ("", "(blank)")


def test_date_format_on_the_command_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "log.csv").write_text("date,event,party,id\n03/10/2026,participate,resident,r1\n")
    code, _, err = run_cli(["compute", "log.csv", "--lang", "en"], capsys)
    assert code == 3 and "month first 2026-03-10" in err and "day first 2026-10-03" in err
    code, out, _ = run_cli(
        ["compute", "log.csv", "--date-format", "%d/%m/%Y", "--format", "csv"], capsys
    )
    assert code == 0
    assert next(csv.DictReader(io.StringIO(out)))["period"] == "2026-10"


def test_config_parents_name_the_levels_of_a_profile_file(workdir: Path) -> None:
    (workdir / "log.csv").write_text(LOG.replace("0101", "a"))
    (workdir / "p.csv").write_text("社区编号,上级,有服务能力居民数\na,street,10\nb,street,10\n")
    (workdir / "svcmetrics.yaml").write_text(
        "profile: p.csv\nparents:\n  - {id: street, name: 道里街道, parent: district}\n"
        "  - {id: district, name: 道里区}\n"
    )
    report = run(Options(logs=("log.csv",)))
    names = {unit.id: unit.name for unit in report.units}
    assert names["street"] == "道里街道" and names["district"] == "道里区"


def test_selected_month_shows_the_change_from_the_month_before(workdir: Path) -> None:
    (workdir / "log.csv").write_text(
        "date,event,party,id\n2026-09-03,participate,resident,r1\n"
        "2026-10-03,participate,resident,r1\n2026-10-04,participate,resident,r2\n"
    )
    (workdir / "p.yaml").write_text("communities:\n  - {id: a, residents_capable: 10}\n")
    report = run(Options(logs=("log.csv",), profile=Path("p.yaml"), month="2026-10"))
    row = next(r for r in report.results if r.indicator == "resident_participation")
    assert row.period == "2026-10" and {r.period for r in report.results} == {"2026-10"}
    assert row.change == pytest.approx(10.0)  # 20% in October against 10% in September
    first = run(Options(logs=("log.csv",), profile=Path("p.yaml"), month="2026-09"))
    assert next(r for r in first.results if r.indicator == "resident_participation").change is None


def test_breaches_are_not_repeated_for_levels_that_pool_the_same_communities(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT / "examples")
    code, _, err = run_cli(["compute", "--month", "2026-11", "--lang", "en"], capsys)
    assert code == 0
    assert "道里街道 2026-11 Resident participation rate" in err
    assert "道里区 2026-11" not in err and "All communities 2026-11" not in err


@pytest.mark.parametrize("option", ["--wide", "--bom"])
def test_csv_options_need_csv(
    workdir: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    (workdir / "log.csv").write_text(LOG)
    code, _, err = run_cli(["compute", "log.csv", option, "--lang", "en"], capsys)
    assert code == 2 and f"{option} applies to --format csv only" in err


def test_init_writes_a_starter_that_computes(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["init", "start", "--lang", "en"], capsys)
    assert code == 0
    assert sorted(out.split()) == [
        "start/ledger.xlsx",  # the ledger template (tests/test_template.py)
        "start/logs/2026-11.csv",
        "start/profile.yaml",
        "start/svcmetrics.yaml",
    ]
    os.chdir(workdir / "start")
    code, out, err = run_cli(["compute", "--format", "csv"], capsys)
    assert code == 0, err
    rows = {(r["community"], r["indicator"]): r for r in csv.DictReader(io.StringIO(out))}
    assert rows[("shequ1", "need_satisfaction")]["rate"] == "1.0000"  # XQ-001 met
    before = (workdir / "start" / "profile.yaml").read_bytes()
    code, _, err = run_cli(["init", ".", "--lang", "en"], capsys)
    assert code == 3 and "exist already" in err
    assert (workdir / "start" / "profile.yaml").read_bytes() == before


def test_no_logs_says_how_to_start(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["compute", "--lang", "en"], capsys)
    assert code == 2 and "svcmetrics init" in err


def test_progress_is_told_every_stage_in_order(workdir: Path) -> None:
    (workdir / "log.csv").write_text(LOG)
    stages: list[str] = []
    run(Options(logs=("log.csv",), progress=stages.append))
    assert stages == ["read", "check", "count"]


def test_progress_bar_only_on_a_terminal(workdir: Path) -> None:
    (workdir / "log.csv").write_text(LOG)
    done = subprocess.run(
        [sys.executable, "-m", "svcmetrics", "compute", "log.csv", "--format", "csv"],
        capture_output=True,
        text=True,
        cwd=workdir,
    )
    assert done.returncode == 0
    assert done.stderr == ""  # no bar, no escape codes in a pipe


def test_line_numbers_of_an_engine_read_csv(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a quoted line break, an empty line and a line of empty fields before the bad rows
    (workdir / "log.csv").write_text(
        "date,event,party,id,service\n"
        '2026-10-01,participate,resident,r1,"two\nlines"\n'
        "\n"
        ",,,,\n"
        "2026-10-02,participate,resident,r2,x\n"
        "2026-10-99,participate,resident,r3,x\n"
        "2026-10-03,participate,resident,r2,x\n"
        "2026-10-04,volunteer,resident,r4,x\n"
    )
    code, out, _ = run_cli(["validate", "log.csv", "--format", "json", "--lang", "en"], capsys)
    assert code == 3
    found = {(p["kind"], p["line"]) for p in json.loads(out)["problems"]}
    assert found == {("bad_date", 7), ("bad_value", 9)}


def test_formula_cells_neutralised_unless_raw(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "log.csv").write_text(LOG.replace("0101", "=HYPERLINK(1)"))
    _, out, _ = run_cli(["compute", "log.csv", "--format", "csv"], capsys)
    assert "'=HYPERLINK(1)" in out
    _, out, _ = run_cli(["compute", "log.csv", "--format", "csv", "--raw-cells"], capsys)
    assert "'=HYPERLINK" not in out and "=HYPERLINK(1)" in out


def test_deep_or_aliased_yaml_is_refused(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "deep.yaml").write_text("records: " + "[" * 20000 + "]" * 20000 + "\n")
    code, _, err = run_cli(["compute", "deep.yaml", "--lang", "en"], capsys)
    assert code == 3 and "nested too deeply" in err
    lines = ["a0: &a0 [x, x]"] + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 1100)]
    (workdir / "bomb.yaml").write_text("\n".join(lines) + "\n")
    code, _, err = run_cli(["compute", "log.csv", "--config", "bomb.yaml", "--lang", "en"], capsys)
    assert code == 3 and "more than 1000 aliases" in err


def test_a_narrow_terminal_keeps_names_and_numbers_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from svcmetrics.output.options import RenderOptions
    from svcmetrics.output.table import render_table

    monkeypatch.chdir(ROOT / "examples")
    report = run(Options(config=Path("svcmetrics.yaml"), month="2026-11"))
    text = render_table(report, RenderOptions(lang="zh", width=80))
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "辖区单位参与率" in text and "100.0%" in text and "…" not in text
    assert "建国社区 · 居民满意率: 上期 50.0%; n=12, 95%置信区间 46.8%–91.1%; 样本过少" in text
    wide = render_table(report, RenderOptions(lang="zh", width=140))
    assert "说明:" not in wide and "n=12, 95%置信区间 46.8%–91.1%" in wide


def test_a_blank_answer_does_not_hide_an_unrecognised_one(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # (a blank answer used to put a NULL in the list the check compared with, and
    # ``x NOT IN (..., NULL)`` is never true: every unrecognised answer passed)
    (workdir / "log.csv").write_text(
        "date,community,event,party,id,status\n"
        "2026-10-03,0101,survey,resident,r1,so-so\n"
        "2026-10-03,0101,survey,resident,r2,\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli(["validate", "log.csv", "-f", "json"], capsys)
    assert code == 3
    assert json.loads(out)["by_kind"] == {"bad_answer": 1}
