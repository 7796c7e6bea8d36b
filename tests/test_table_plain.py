"""Large terminal tables: above a size the same table is drawn as plain aligned text (issue 17)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from clihelp import run_in
from rich.cells import cell_len

from svcmetrics.i18n import label
from svcmetrics.output import OutputFormat, RenderOptions, render
from svcmetrics.output import table as table_module
from svcmetrics.pipeline import Options, run
from svcmetrics.report import Report

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def example() -> Report:
    """examples/: two communities under a street office, three months; the indicators whose
    notes fit a cell (rich wraps a long survey note onto a second line, plain text never
    wraps, so those are compared in test_the_cli_says_when_the_table_is_plain only)."""
    shown = ("resident_participation", "unit_benefit", "need_satisfaction", "reporting")
    return run(Options(config=EXAMPLES / "svcmetrics.yaml", indicators=shown))


def _cells(text: str) -> list[list[str]]:
    """Each non-blank line's cells (split where two or more spaces stand), rules left out."""
    return [
        re.split(r"\s{2,}", line.strip())
        for line in text.splitlines()
        if line.strip() and set(line.strip()) != {"─"}
    ]


# at 80 columns the notes go under the table; rich wraps long English names there, plain
# text never wraps, so that width is compared in Chinese only
@pytest.mark.parametrize(("lang", "width"), [("zh", 140), ("en", 140), ("zh", 80)])
def test_a_large_table_is_the_rich_table_as_plain_text(
    example: Report, monkeypatch: pytest.MonkeyPatch, lang: str, width: int
) -> None:
    options = RenderOptions(lang=lang, width=width)
    drawn = render(example, OutputFormat.TABLE, options)
    assert isinstance(drawn, str) and not table_module.drawn_plain(example)
    monkeypatch.setattr(table_module, "PLAIN_ABOVE", len(example.results) - 1)
    assert table_module.drawn_plain(example)
    plain = render(example, OutputFormat.TABLE, options)
    assert isinstance(plain, str)
    # the same titles, headers, rows, notes and captions, cell by cell
    assert _cells(plain) == _cells(drawn)
    assert "\x1b" not in plain


def test_plain_columns_line_up_by_display_width(
    example: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_module, "PLAIN_ABOVE", 0)
    text = render(example, OutputFormat.TABLE, RenderOptions(lang="zh", width=140))
    assert isinstance(text, str)
    header = label("counts", "zh")
    tables: list[set[int]] = []  # per period's table: where the counts column ends
    for line in text.splitlines():
        match = re.search(r" (\d+/\d+) ", line)
        if line.startswith(label("community", "zh")):  # a table's header row
            tables.append({cell_len(line[: line.index(header) + len(header)])})
        elif match:
            tables[-1].add(cell_len(line[: match.end(1)]))
    assert len(tables) == len(example.periods)
    assert all(len(edges) == 1 for edges in tables), tables


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_cli_says_when_the_table_is_plain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    args = ["compute", "--config", str(EXAMPLES / "svcmetrics.yaml"), "--lang", lang]
    quiet = run_in(tmp_path, args)
    results = len(run(Options(config=EXAMPLES / "svcmetrics.yaml")).results)
    notice = label("table_drawn_plain", lang, count=results, limit=100)
    assert quiet.returncode == 0 and notice not in quiet.stderr
    monkeypatch.setattr(table_module, "PLAIN_ABOVE", 100)
    done = run_in(tmp_path, args)
    assert done.returncode == 0, done.stderr
    assert notice in done.stderr
    if lang == "zh":  # at 120 columns rich wraps the longer English names; plain does not
        # (nor the long survey notes): rows compared without rich's wrapped note lines
        def rows(text: str) -> list[list[str]]:
            return [cells[:4] for cells in _cells(text) if len(cells) >= 4]

        assert rows(done.stdout) == rows(quiet.stdout)
    assert notice not in run_in(tmp_path, [*args, "--quiet"]).stderr
