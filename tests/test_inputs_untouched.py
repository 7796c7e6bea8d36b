"""No command modifies its inputs (issue 8; spec 4): every input hashed before and after
running every command."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from pathlib import Path

import pytest
import yaml
from clihelp import (
    LOG,
    PROFILE,
    run_cli,
)

from svcmetrics.output import OutputFormat


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
    breach = [*base, "--lang", "zh", "--month", "2026-10", "--fail-on", "warn"]  # exit 1
    invalid = [  # an invalid row: exit 3
        ["compute", "bad.csv", "-p", "profile.yaml"],
        ["validate", "bad.csv", "-p", "profile.csv", "-f", "json"],
    ]
    commands += [
        [*base, "-f", "csv", "--wide", "--bom"],
        [*base, "--chart"],
        [*base, "--by", "service", "-f", "json", "--period", "quarter"],
        breach,
        ["compute", "log.csv", "-p", "profile.csv", "-f", "csv", "--encoding", "utf-8"],
        ["compute", "-f", "json"],  # the config's own logs
        invalid[0],
        ["compute", "bad.csv", "-p", "profile.yaml", "--skip-invalid", "-o", str(out_dir / "s")],
        ["validate", *logs, "-c", "svcmetrics.yaml"],
        ["validate", *logs, "-c", "svcmetrics.yaml", "-f", "json"],
        invalid[1],
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
        assert code == (1 if args is breach else 3 if args in invalid else 0), (args, err)
        assert "Traceback" not in err
        assert _tree(workdir) == before, f"{args} changed an input or left a file behind"
    assert _tree(inputs) == before
    # only the outputs asked for were written, and no temporary file is left
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        [f"r.{fmt.value}" for fmt in OutputFormat] + ["s", "t.xlsx"]
    )
