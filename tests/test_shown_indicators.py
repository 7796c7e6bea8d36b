"""--indicators and report: {indicators: [...]} (spec 2.8): which indicators are shown, in
which order, in every format; an unknown key names the closest."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from clihelp import run_in
from openpyxl import load_workbook

EXAMPLE = Path(__file__).resolve().parent.parent / "examples"
CHOSEN = ["need_satisfaction", "reporting", "resident_participation"]


def _run(*args: str, folder: Path = EXAMPLE) -> str:
    done = run_in(folder, ["compute", "--config", "svcmetrics.yaml", "--month", "2026-11", *args])
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_chosen_indicators_in_their_order_in_csv_and_json() -> None:
    rows = list(csv.DictReader(io.StringIO(_run("--indicators", ",".join(CHOSEN), "-f", "csv"))))
    jianguo = [r["indicator"] for r in rows if r["community"] == "jianguo"]
    assert jianguo == ["need_satisfaction", "resident_participation"]  # no reporting row
    street = [r["indicator"] for r in rows if r["community"] == "daoli-street"]
    assert street == CHOSEN
    results = json.loads(_run("--indicators", "need_satisfaction", "-f", "json"))["results"]
    assert {r["indicator"] for r in results} == {"need_satisfaction"}
    # 2 communities, 2 roll-up levels and the total
    assert len(results) == 5


def test_chosen_indicators_in_table_markdown_html_and_xlsx(tmp_path: Path) -> None:
    args = ("--indicators", "need_satisfaction,resident_participation", "--lang", "en")
    for fmt in ("table", "markdown", "html"):
        text = _run(*args, "-f", fmt)
        assert text.index("Need satisfaction rate") < text.index("Resident participation rate")
        assert "Unit benefit rate" not in text and "Reporting rate" not in text
    target = tmp_path / "report.xlsx"
    _run(*args, "-f", "xlsx", "-o", str(target))
    sheet = load_workbook(target)["Data"]
    names = {row[6] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {"Need satisfaction rate", "Resident participation rate"}


def _example_with(folder: Path, report: str) -> Path:
    """The example in ``folder``, its config ending with ``report:`` and these lines."""
    config = (EXAMPLE / "svcmetrics.yaml").read_text(encoding="utf-8")
    for name in ("log.csv", "profile.yaml"):
        (folder / name).write_bytes((EXAMPLE / name).read_bytes())
    (folder / "svcmetrics.yaml").write_text(config + "\nreport:\n" + report, encoding="utf-8")
    return folder


def test_the_config_chooses_and_the_command_line_wins(tmp_path: Path) -> None:
    _example_with(tmp_path, "  indicators: [unit_benefit, need_satisfaction]\n")
    rows = list(csv.DictReader(io.StringIO(_run("-f", "csv", folder=tmp_path))))
    assert [r["indicator"] for r in rows if r["community"] == "gongle"] == [
        "unit_benefit",
        "need_satisfaction",
    ]
    rows = list(
        csv.DictReader(io.StringIO(_run("--indicators", "reporting", "-f", "csv", folder=tmp_path)))
    )
    assert {r["indicator"] for r in rows} == {"reporting"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_unknown_key_is_a_usage_error_naming_the_closest(lang: str) -> None:
    done = run_in(
        EXAMPLE,
        [
            "compute",
            "--config",
            "svcmetrics.yaml",
            "--indicators",
            "need_satisfation",
            "--lang",
            lang,
        ],
    )
    assert done.returncode == 2
    assert "need_satisfation" in done.stderr and "need_satisfaction?" in done.stderr
    assert done.stdout == ""


def test_an_unknown_key_in_the_config_is_a_config_error(tmp_path: Path) -> None:
    _example_with(tmp_path, "  indicators: [reportng]\n")
    done = run_in(tmp_path, ["compute", "--lang", "en"])
    assert done.returncode == 3
    assert "reportng is not an indicator" in done.stderr
    assert "did you mean reporting?" in done.stderr
