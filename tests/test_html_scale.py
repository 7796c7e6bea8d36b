"""The summarised HTML page of a large report, exercised on the example with lowered limits."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_html import LANGS, ROOT, Page, chromium, page

from svcmetrics.output import chartdata, html, htmlsummary
from svcmetrics.output.cells import fraction, percent, repeated_units, shown_tree, unit_name
from svcmetrics.output.chartdata import subjects
from svcmetrics.pipeline import Options, run
from svcmetrics.report import Report


@pytest.fixture(scope="module")
def report() -> Iterator[Report]:
    """The example of examples/ (two communities, September to November 2026)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        yield run(Options(config=Path("examples/svcmetrics.yaml")))


@pytest.fixture(scope="module")
def by_service() -> Iterator[Report]:
    """The example computed per service item (``--by service``)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        yield run(Options(config=Path("examples/svcmetrics.yaml"), by="service"))


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Limits the example is above: it gets the page a city gets."""
    monkeypatch.setattr(htmlsummary, "SUMMARY_ABOVE_RESULTS", 10)
    for module in (html, htmlsummary):  # the page's text and the summary's lists agree
        monkeypatch.setattr(module, "EXTREMES", 1)
        monkeypatch.setattr(module, "LISTED", 3)


def island(text: str) -> dict[str, Any]:
    """The page's JSON data island, parsed."""
    found = re.search(r'<script type="application/json" id="results-data">(.*?)</script>', text)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def denominators(data: dict[str, Any], block: list[Any]) -> list[int | None]:
    """A block's denominators, following a reference to an earlier block."""
    own = block[4]
    shared: list[int | None] = data["rows"][own][4] if isinstance(own, int) else own
    return shared


def test_the_examples_are_not_summarised(report: Report) -> None:
    assert not html.summarised(report)
    text = page(report, "zh")
    assert "<script" not in text and "results-data" not in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.usefixtures("small_limits")
def test_summarised_page_is_balanced_and_says_what_it_left_out(report: Report, lang: str) -> None:
    assert html.summarised(report)
    text = page(report, lang)
    parsed = Page(text)
    assert parsed.errors == []
    assert not re.findall(r"\b(?:html|chart)_[a-z_]+", parsed.text)  # every label exists
    note = html.label(
        "html_summary_note", lang, results=len(report.results), communities=2, extremes=1, listed=3
    )
    assert note in parsed.text
    assert "--format csv" in note and "--format xlsx" in note
    # the trend charts draw the total (and last year) only, the bars the worst, best and total
    assert text.count('<figure class="chart" id="compare-') == len(report.indicators)
    assert "<polyline" in text


@pytest.mark.parametrize(
    ("lang", "which"), [("zh", "report"), ("en", "report"), ("zh", "by_service")]
)
@pytest.mark.usefixtures("small_limits")
def test_every_result_is_in_the_data_island(
    request: pytest.FixtureRequest, lang: str, which: str
) -> None:
    report: Report = request.getfixturevalue(which)
    data = island(page(report, lang))
    tree = [unit for unit, _ in shown_tree(report.units)]
    names = [unit_name(unit.id, unit.name, unit.level, lang) for unit in tree]
    assert [unit[0] for unit in data["units"]] == names
    assert {"建国社区", "共乐社区"} <= set(names)
    assert data["periods"] == [period.label for period in report.periods]
    charted = subjects(report)
    repeated = repeated_units(report.units)
    found = 0
    for block in data["rows"]:
        period = data["periods"][block[0]]
        subject = charted[block[1]]
        for at, unit in enumerate(tree):
            result = next(
                (
                    r
                    for r in report.results
                    if (r.period, r.community, r.indicator, r.breakdown)
                    == (period, unit.id, subject.indicator.key, subject.value)
                ),
                None,
            )
            if result is None:
                assert block[2][at] == "x"
                continue
            found += 1
            assert block[2][at] == htmlsummary.STATUS_CODES[html.status_class(result)]
            assert block[3][at] == result.numerator
            assert denominators(data, block)[at] == result.denominator
    assert found == sum(1 for r in report.results if r.community not in repeated)


@pytest.mark.usefixtures("small_limits")
def test_distribution_counts_equal_the_results(report: Report) -> None:
    text = page(report, "en")
    start = text.index("<tbody>", text.index('<table id="distribution">'))
    table = text[start : text.index("</tbody>", start)]
    rows = re.findall(r"<tr>\n(.*?)\n</tr>", table, re.S)
    last = report.periods[-1].label
    communities = [u for u in report.units if u.level == "community"]
    assert len(rows) == len(subjects(report))
    for subject, cells in zip(subjects(report), rows, strict=True):
        numbers = [int(n) for n in re.findall(r'<td class="num[^"]*">(\d+)</td>', cells)]
        counted = Counter(
            html.status_class(r)
            for r in report.results
            if r.period == last and r.level == "community" and r.indicator == subject.indicator.key
        )
        missing = len(communities) - sum(counted.values())
        assert numbers == [counted[key] for key in ("ok", "warn", "critical", "na", "none")] + [
            missing
        ]
        assert sum(numbers) == len(communities)


@pytest.mark.usefixtures("small_limits")
def test_bars_show_the_worst_and_best_and_lists_are_capped(report: Report) -> None:
    text = page(report, "en")
    last = report.periods[-1].label
    participation = [
        r
        for r in report.results
        if r.period == last and r.level == "community" and r.indicator == "resident_participation"
    ]
    worst = min(participation, key=lambda r: r.rate or 0.0)
    start = text.index('id="compare-resident_participation"')
    chart = text[start : text.index("</figure>", start)]
    names = re.findall(r'<text class="name"[^>]*>([^<]*)</text>', chart)
    assert names[0] == worst.community_name and len(names) == 3  # worst, best, the total
    breaches = [
        r for r in report.results if r.breached and r.community not in repeated_units(report.units)
    ]
    assert len(breaches) > 3
    start = text.index('<section id="breaches">')
    listed = text[start : text.index("</section>", start)]
    assert listed.count("<tr class=") == 3
    assert html.label("html_listed_more", "en", shown=3, total=len(breaches)) in listed


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.usefixtures("small_limits")
def test_summarised_page_has_no_reference_to_the_network(report: Report, lang: str) -> None:
    text = page(report, lang)
    for needle in ("http://", "https://", "//", "<link", "@import", "@font-face", "<iframe"):
        assert needle not in text.replace("</", "")
    for needle in ("fetch(", "XMLHttpRequest", "import(", "WebSocket", "sendBeacon", "src="):
        assert needle not in text
    assert all(value.startswith("#") for _, value in Page(text).links)
    assert text.count("<script") == 2  # the data island and the inline search


def test_island_cannot_close_its_script(report: Report) -> None:
    data = html.data_island(report, subjects(report), "en")
    assert "<" not in data and ">" not in data and "&" not in data


@pytest.mark.usefixtures("small_limits")
def test_search_table_is_filled_in_a_real_browser(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in (html, htmlsummary):
        monkeypatch.setattr(module, "LISTED", 1000)
    path = tmp_path / "summary-en.html"
    path.write_text(page(report, "en"), encoding="utf-8")
    dom = chromium(tmp_path, "--dump-dom", path.as_uri())
    body = dom[dom.index('<tbody id="search-rows">') :]
    body = body[: body.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    last = report.periods[-1].label
    repeated = repeated_units(report.units)
    shown = [r for r in report.results if r.period == last and r.community not in repeated]
    assert len(rows) == len(shown)  # the last period by default, every unit and indicator
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    drawn = sorted((c[0], c[2], c[4], c[5], c[6]) for c in cells)
    names = {i.key: i.name("en") for i in report.indicators}
    expected = sorted(
        (
            r.period,
            unit_name(r.community, r.community_name, r.level, "en"),
            names[r.indicator],
            percent(r.rate),
            fraction(r),
        )
        for r in shown
    )
    assert drawn == expected  # the page's rates equal Python's, rounding included
    assert f"{len(shown)} found, {len(shown)} shown" in dom


@pytest.mark.parametrize(("lang", "which"), [("zh", "report"), ("en", "by_service")])
@pytest.mark.usefixtures("small_limits")
def test_summarised_page_finds_all_it_draws_in_the_results_it_picks(
    request: pytest.FixtureRequest, lang: str, which: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page indexes only the last period's results and the sums' (a city's 37,000 of
    445,000): given every result instead, it is the same page."""
    report: Report = request.getfixturevalue(which)
    picked = page(report, lang)
    everything = chartdata.index(report.results)
    monkeypatch.setattr(html, "index", lambda _results: everything)
    rows = html.result_rows
    monkeypatch.setattr(
        html,
        "result_rows",
        lambda report, lang, periods=None, sums=False, results=None: rows(
            report, lang, periods, sums
        ),
    )
    assert page(report, lang) == picked


def test_listed_equals_one_filter_per_list(report: Report) -> None:
    repeated = repeated_units(report.units)
    shown = [r for r in report.results if r.community not in repeated]
    expected = (
        [r for r in shown if r.breached],
        [r for r in shown if "small_sample" in r.flags],
        [r for r in shown if r.ci_low is not None and r.ci_high is not None],
    )
    found = html.listed(report, "en", limit=2)
    assert found.counts == tuple(len(kept) for kept in expected)
    assert all(len(kept) > 2 for kept in expected)  # the limit cuts every list
    names = {i.key: i.name("en") for i in report.indicators}
    for rows, kept in zip((found.breaches, found.small, found.survey), expected, strict=True):
        assert rows == [html.row(r, "en", names, by=report.by) for r in kept[:2]]
