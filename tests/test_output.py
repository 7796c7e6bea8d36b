"""What the formats show: repeated roll-ups once, category names, whole words, widths."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest
from clihelp import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import unit_repeats
from test_html import Page, chromium

from svcmetrics.i18n import label
from svcmetrics.models import Community, Profile, canonical_values
from svcmetrics.output import OutputFormat, RenderOptions, render
from svcmetrics.output.cells import repeated_units, shown_tree, unit_tree
from svcmetrics.output.chartdata import Subject
from svcmetrics.output.htmlcharts import bar_chart
from svcmetrics.pipeline import Options, run
from svcmetrics.report import Report, Unit
from svcmetrics.units import unit_tree as build_units

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def example() -> Report:
    """examples/: two communities under 道里街道, under 道里区 (one street office)."""
    return run(Options(config=EXAMPLES / "svcmetrics.yaml"))


def test_a_roll_up_over_one_unit_is_shown_once(example: Report) -> None:
    repeated = repeated_units(example.units)
    # the district pools only the street office, and so does the total
    assert {unit: shown.id for unit, shown in repeated.items()} == {
        "daoli-district": "daoli-street",
        "*": "daoli-street",
    }
    assert [(unit.id, depth) for unit, depth in shown_tree(example.units)] == [
        ("daoli-street", 0),
        ("gongle", 1),
        ("jianguo", 1),
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_table_shows_the_street_office_once_and_says_why(example: Report, lang: str) -> None:
    text = render(example, OutputFormat.TABLE, RenderOptions(lang=lang, width=140))
    participation = example.indicators[0].name(lang)
    # one row per shown unit (street office, two communities) in each of the three months
    assert text.count(participation) == 3 * 3
    district, total = "道里区", label("total_name", lang)
    both = district + label("list_sep", lang) + total
    note = label("repeat_note", lang, units=both, unit="道里街道")
    assert text.count(district) == text.count(total) == 1 and note in text


def test_the_page_counts_the_breaches_stderr_counts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLES)
    page = tmp_path / "report.html"
    code, _, err = run_cli(["compute", "-f", "html", "-o", str(page), "--lang", "en"], capsys)
    assert code == 0
    told = int(re.search(r"^(\d+) below target:", err, re.MULTILINE).group(1))  # type: ignore[union-attr]
    html = page.read_text(encoding="utf-8")
    shown = int(re.search(r"<strong class=\"st-\w+\">(\d+)</strong> below target", html).group(1))  # type: ignore[union-attr]
    breaches = html[html.index('<section id="breaches">') : html.index('<section id="results">')]
    assert told == shown == breaches.count("<tr class=") == 22
    assert "道里区, All communities: the same communities as 道里街道" in html


PROFILE_TWO_STREETS = """communities:
  - {id: a, name: 甲社区, parent: s1, residents: 9, residents_capable: 9, households: 8, units: 2}
  - {id: b, name: 乙社区, parent: s2, residents: 9, residents_capable: 9, households: 8, units: 2}
  - {id: c, name: 丙社区, parent: s2, residents: 9, residents_capable: 9, households: 8, units: 2}
parents:
  - {id: s1, name: 一街道, parent: city}
  - {id: s2, name: 二街道, parent: city}
  - {id: city, name: 某市}
"""

LOG = """date,community,event,party,id,household
2026-11-03,a,participate,resident,r1,h1
2026-11-04,b,participate,resident,r2,h2
2026-11-05,c,participate,resident,r3,h3
"""


def test_only_the_roll_ups_that_repeat_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "profile.yaml").write_text(PROFILE_TWO_STREETS, encoding="utf-8")
    (tmp_path / "log.csv").write_text(LOG, encoding="utf-8")
    report = run(Options(logs=(str(tmp_path / "log.csv"),), profile=tmp_path / "profile.yaml"))
    # 一街道 pools only 甲社区, the total only 某市; 二街道 pools two communities
    assert {unit: shown.id for unit, shown in repeated_units(report.units).items()} == {
        "s1": "a",
        "*": "city",
    }
    # 甲社区 takes 一街道's place, before 二街道
    assert [(unit.id, depth) for unit, depth in shown_tree(report.units)] == [
        ("city", 0),
        ("a", 1),
        ("s2", 1),
        ("b", 2),
        ("c", 2),
    ]
    text = render(report, OutputFormat.TABLE, RenderOptions(lang="zh", width=140))
    assert "一街道包含的社区与甲社区相同" in text and "全部社区包含的社区与某市相同" in text
    # the chart compares the communities with their sum, named as the table names it
    chart = render(report, OutputFormat.CHART, RenderOptions(lang="zh", width=100))
    assert "某市" in chart and "一街道" not in chart.split("预警线")[0]


def test_a_chart_bar_carries_a_level_set_for_its_district(tmp_path: Path) -> None:
    (tmp_path / "profile.yaml").write_text(PROFILE_TWO_STREETS, encoding="utf-8")
    (tmp_path / "log.csv").write_text(LOG, encoding="utf-8")
    (tmp_path / "svcmetrics.yaml").write_text(
        "profile: profile.yaml\nlogs: [log.csv]\nthresholds:\n"
        "  resident_participation: {warn: 0.2, communities: {city: {warn: 0.5}}}\n",
        encoding="utf-8",
    )
    report = run(Options(config=tmp_path / "svcmetrics.yaml"))
    indicator = next(i for i in report.indicators if i.key == "resident_participation")
    chart = bar_chart(report, Subject(indicator), report.periods[-1], "en")
    # 0.5 (the city's level, not the default 0.2) on a 0..50% axis: every marker at its end
    assert chart.ticks[-1].text == "50%"
    assert {bar.warn_x for bar in chart.bars} == {chart.plot_right}
    statuses = {r.community: r.status for r in report.results if r.indicator == indicator.key}
    assert {bar.status for bar in chart.bars} == {statuses["a"].value}  # type: ignore[union-attr]


CATEGORY_LOG = """date,community,event,party,id,household,category
2026-11-03,a,participate,resident,r1,h1,special
2026-11-04,a,participate,resident,r2,h2,一般居民服务
2026-11-05,a,participate,unit,u1,,unit
"""


@pytest.mark.parametrize(
    "fmt", [OutputFormat.TABLE, OutputFormat.MARKDOWN, OutputFormat.HTML, OutputFormat.CHART]
)
def test_categories_are_named_in_the_output_language(tmp_path: Path, fmt: OutputFormat) -> None:
    (tmp_path / "log.csv").write_text(CATEGORY_LOG, encoding="utf-8")
    (tmp_path / "profile.yaml").write_text(
        "communities:\n  - {id: a, residents: 9, residents_capable: 9, households: 8, units: 2}",
        encoding="utf-8",
    )
    report = run(
        Options(logs=(str(tmp_path / "log.csv"),), profile=tmp_path / "profile.yaml", by="category")
    )
    zh = render(report, fmt, RenderOptions(lang="zh", width=140))
    assert "特殊群体服务" in zh and "一般居民服务" in zh and "单位后勤服务" in zh
    shown = re.sub(r'id="[^"]*"', "", zh)  # HTML anchors may use the values
    assert not re.search(r"\b(special|general)\b", shown)
    en = render(report, fmt, RenderOptions(lang="en", width=140))
    assert "special groups" in en and "general residents" in en
    # data formats keep the values scripts filter on
    data = json.loads(render(report, OutputFormat.JSON, RenderOptions(lang="zh")))
    assert {row["category"] for row in data["results"]} >= {"special", "general", "unit"}


def test_every_category_has_a_name_in_every_language() -> None:
    for value in canonical_values()["category"]:
        for lang in ("zh", "en"):
            assert label(f"category_{value}", lang) != f"category_{value}"


WORDY_LOG = """date,community,event,party,id,household,status,ticket,service
2026-11-03,jianguo,participate,resident,r1,h1,,,Intergenerational-homework-mentoring
2026-11-04,jianguo,benefit,resident,r2,h2,,,Neighbourhood-rehabilitation-physiotherapy
2026-11-05,gongle,participate,resident,r3,h3,,,Intergenerational-homework-mentoring
2026-11-06,gongle,survey,resident,r3,h3,满意,,
"""

WORDY_PROFILE = """communities:
  - {id: jianguo, name: Jianguo Neighbourhood Committee, parent: daoli, residents: 40,
     residents_capable: 10, households: 8, units: 4}
  - {id: gongle, name: Gongle Neighbourhood Committee, parent: daoli, residents: 30,
     residents_capable: 5, households: 6, units: 2}
parents:
  - {id: daoli, name: Daoli Subdistrict Office}
"""


@pytest.fixture
def wordy(tmp_path: Path) -> Report:
    """Long English names and service items with long words, broken down by service."""
    (tmp_path / "log.csv").write_text(WORDY_LOG, encoding="utf-8")
    (tmp_path / "profile.yaml").write_text(WORDY_PROFILE, encoding="utf-8")
    return run(
        Options(logs=(str(tmp_path / "log.csv"),), profile=tmp_path / "profile.yaml", by="service")
    )


def test_a_table_off_a_terminal_keeps_every_word_whole(wordy: Report) -> None:
    text = render(wordy, OutputFormat.TABLE, RenderOptions(lang="en", width=120))
    words = {word for r in wordy.results for word in (r.breakdown or "").split()}
    words |= {word for r in wordy.results for word in (r.community_name or "").split()}
    words |= {word for i in wordy.indicators for word in i.name("en").split()}
    assert "Neighbourhood-rehabilitation-physiotherapy" in words
    assert [word for word in sorted(words) if word not in text] == []
    assert "…" not in text


def test_a_table_at_a_terminal_still_fits_the_screen(wordy: Report) -> None:
    text = render(wordy, OutputFormat.TABLE, RenderOptions(lang="en", width=120, terminal=True))
    assert max(len(line) for line in text.splitlines()) <= 120


BAD_LOG = """date,community,event,party,id,household,status,ticket,service
2026-13-03,jianguo,participate,resident,r1,h1,,,助老
2026-11-04,nowhere,participate,resident,r2,h2,,,助老
2026-11-05,jianguo,dance,resident,r3,h3,,,助老
"""


def test_validate_draws_its_table_at_the_terminals_width(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "bad.csv").write_text(BAD_LOG, encoding="utf-8")
    monkeypatch.setenv("COLUMNS", "72")
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    code, out, _ = run_cli(["validate", "bad.csv", "-p", "profile.yaml", "--lang", "en"], capsys)
    assert code == 3
    assert "Where" in out and "nowhere" in out  # the table, not one line per problem
    assert max(len(line) for line in out.splitlines()) <= 72


def test_chart_is_a_format_and_the_old_flag_its_alias(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["compute", "log.csv", "-p", "profile.yaml", "--lang", "en"]
    code, by_format, _ = run_cli([*base, "-f", "chart"], capsys)
    assert code == 0 and "│" in by_format
    assert run_cli([*base, "--chart"], capsys)[:2] == (0, by_format)
    code, _, err = run_cli([*base, "--chart", "-f", "csv"], capsys)
    assert code == 2 and "--chart" in err
    _, help_text, _ = run_cli(["compute", "--help", "--lang", "en"], capsys)
    assert "--chart" not in help_text and "chart" in help_text


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page of ``pdf`` (poppler's pdftotext, laid out)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    done = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout.split("\f")[:-1]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_prints_on_a4_without_stranded_headings_or_broken_names(
    example: Report, tmp_path: Path, lang: str
) -> None:
    html = render(example, OutputFormat.HTML, RenderOptions(lang=lang))
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", path.as_uri())
    pages = pdf_pages(pdf)
    assert len(pages) > 2
    headings = set(re.findall(r"<h2>([^<]+)</h2>", html))
    notes = [unescape(note) for note in re.findall(r'<p class="note">([^<]+)</p>', html)]
    for number, text in enumerate(pages[:-1], start=1):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        # a heading ends a page, or only its note follows it there
        stranded = lines[-1] in headings or (
            lines[-2] in headings and any(note.startswith(lines[-1]) for note in notes)
        )
        assert not stranded, (number, lines[-2:])
    # every indicator name is printed whole as often as the page holds it
    printed, shown = "".join(pages), Page(html).text
    for indicator in example.indicators:
        name = indicator.name(lang)
        assert printed.count(name) == shown.count(name), name


def naive_repeated(units: list[Unit]) -> dict[str, Unit]:
    """repeated_units as it was written first: each unit asked alone (quadratic)."""
    shown = [unit for unit, _ in unit_tree(units) if not unit_repeats(unit, units)]
    instead: dict[str, Unit] = {}
    for unit in units:
        same = [o for o in shown if set(o.members) == set(unit.members)]
        if unit_repeats(unit, units) and same:
            instead[unit.id] = same[0]
    return instead


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=9))
def test_repeated_units_equal_each_unit_asked_on_its_own(placed: list[tuple[int, int]]) -> None:
    """Communities under street offices s0..s3, the offices under districts d0..d2: some
    offices and districts pool one unit below them, some several (the linear version of
    issue 17 against the quadratic one)."""
    communities = [
        Community(id=f"c{n}", parent=f"s{street}") for n, (street, _) in enumerate(placed)
    ]
    districts = {f"s{street}": f"d{district}" for street, district in placed}
    profile = Profile.model_validate(
        {
            "communities": [{"id": c.id, "parent": c.parent, "residents": 1} for c in communities],
            "parents": [{"id": s, "parent": d} for s, d in districts.items()]
            + [{"id": d} for d in sorted(set(districts.values()))],
        }
    )
    units = build_units(profile, profile.communities)
    assert repeated_units(units) == naive_repeated(units)


def test_trend_axis_labels_never_touch() -> None:
    """Many periods (15 months, a year of ytd windows): every step-th label and the last,
    none closer to the next than its width; three months keep every label."""
    from svcmetrics.output.htmlcharts import AXIS_FONT, labelled, text_width

    spacing = 416 / 14
    months = [f"{2025 + (8 + n) // 12}-{(8 + n) % 12 + 1:02d}" for n in range(15)]
    windows = [f"2026-01..2026-{n:02d}" for n in range(1, 13)]
    for labels, gap in ((months, spacing), (windows, 416 / 11)):
        chosen = labelled(labels, gap)
        assert chosen[0] == 0 and chosen[-1] == len(labels) - 1 and len(chosen) < len(labels)
        widest = 1.5 * max(text_width(text, AXIS_FONT) for text in labels)  # beside an end
        assert all((b - a) * gap >= widest for a, b in zip(chosen, chosen[1:], strict=False))
    assert labelled(["2026-09", "2026-10", "2026-11"], 208) == [0, 1, 2]
