"""The HTML report and the terminal charts: structure, no network, a real browser, the bars."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from svcmetrics.output import OutputFormat, RenderOptions, render
from svcmetrics.output.cells import repeated_units
from svcmetrics.output.chart import CRITICAL_MARK, WARN_MARK, bar_text, render_chart
from svcmetrics.output.chartdata import Subject, nice_top
from svcmetrics.output.html import render_html
from svcmetrics.output.htmlcharts import bar_chart
from svcmetrics.pipeline import Options, run
from svcmetrics.report import Report

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
LANGS = ("zh", "en")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
CRITICAL_RED = bytes((0xC6, 0x28, 0x28))
"""The fill of a critical bar (--critical in the page's stylesheet)."""


@pytest.fixture(scope="module")
def report() -> Iterator[Report]:
    """The example of examples/ (two communities, September to November 2026)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        yield run(Options(config=Path("examples/svcmetrics.yaml")))


class Page(HTMLParser):
    """Parses a page, checking that every element is closed in order; collects text and links."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, tuple[int, int]]] = []
        self.errors: list[str] = []
        self.texts: list[str] = []
        self.links: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self.feed(text)
        self.close()
        self.errors += [f"<{tag}> at {where} is never closed" for tag, where in self.open]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attributes(tag, attrs)
        if tag not in VOID:
            self.open.append((tag, self.getpos()))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attributes(tag, attrs)

    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
                self.links.append((name, value or ""))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            expected = self.open[-1][0] if self.open else "nothing"
            self.errors.append(f"</{tag}> at {self.getpos()} closes {expected}")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    @property
    def text(self) -> str:
        """The page's text, as a reader sees it (entities decoded)."""
        return "".join(self.texts)


def squash(text: str) -> str:
    """Text without whitespace, so that table cells read as one string."""
    return re.sub(r"\s+", "", text)


def section(html: str, name: str) -> str:
    """The squashed text of one ``<section id=NAME>`` of a page."""
    start = html.index(f'<section id="{name}">')
    return squash(Page(html[start : html.index("</section>", start) + 10]).text)


def page(report: Report, lang: str) -> str:
    """The report as HTML in ``lang``, through the renderer dispatch."""
    return render(report, OutputFormat.HTML, RenderOptions(lang=lang))


@pytest.mark.parametrize("lang", LANGS)
def test_page_is_balanced_html_with_every_name(report: Report, lang: str) -> None:
    text = page(report, lang)
    parsed = Page(text)
    assert parsed.errors == []
    assert text.startswith("<!DOCTYPE html>\n")
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in text
    assert parsed.tags.count("html") == parsed.tags.count("body") == 1
    assert '<meta name="viewport"' in text
    for indicator in report.indicators:
        assert indicator.name(lang) in parsed.text
    for name in ("建国社区", "共乐社区", "全部社区" if lang == "zh" else "All communities"):
        assert name in parsed.text
    assert "2026-09..2026-11" in parsed.text and "2026-09-01" in parsed.text
    # one comparison chart and one trend chart per indicator
    assert text.count('<figure class="chart" id="compare-') == len(report.indicators)
    assert text.count('<figure class="chart" id="trend-') == len(report.indicators)
    # every label the template asks for exists in the catalogue (label() returns unknown keys)
    assert not re.findall(r"\b(?:html|chart)_[a-z_]+", parsed.text)


@pytest.mark.parametrize("lang", LANGS)
def test_page_has_no_reference_to_the_network(report: Report, lang: str) -> None:
    text = page(report, lang)
    for needle in ("http://", "https://", 'src="//', "<script", "<link", "@import", "@font-face"):
        assert needle not in text
    # url() only for references inside the page
    assert all(target.startswith("#") for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", text))
    assert all(value.startswith("#") for _, value in Page(text).links)


def test_page_prints_on_a4_and_reads_on_a_phone(report: Report) -> None:
    text = page(report, "zh")
    assert "@page { size: A4;" in text and "@media print" in text
    assert "break-inside: avoid" in text and "page-break-inside: avoid" in text
    assert "overflow-x: auto" in text and "@media (max-width: 600px)" in text


def test_page_lists_breaches_small_samples_and_intervals(report: Report) -> None:
    html = page(report, "zh")
    repeated = repeated_units(report.units)  # shown once, as the unit below them
    breached = [r for r in report.results if r.breached and r.community not in repeated]
    assert breached  # the example has participation below the critical level
    breaches = section(html, "breaches")
    assert breaches.count("2026-") == len(breached)
    # Gongle, October: 10/100 equals the critical level: warn, not critical (README)
    assert "2026-10共乐社区居民参与率10.0%10/10020.0%预警" in breaches
    small = [r for r in report.results if "small_sample" in r.flags and r.community not in repeated]
    assert section(html, "small-samples").count("2026-") == len(small)
    # Jianguo, November: 9 of 12 satisfied, with its Wilson interval
    assert "2026-11建国社区居民满意率1275.0%46.8%–91.1%" in section(html, "survey")
    assert section(html, "problems") == "问题没有数据问题。"


def test_page_is_deterministic(report: Report) -> None:
    assert page(report, "en") == page(report, "en")


LOG = """date,community,event,party,id,household,status
2026-11-03,a,participate,resident,r1,h1,
2026-11-04,a,participate,resident,r2,h2,
2026-11-05,b,participate,resident,r3,h3,
2026-11-05,b,participate,unit,u1,,
2026-11-05,a,participate,unit,u2,,
2026-13-45,a,participate,resident,r4,h4,
"""

PROFILE = """communities:
  - {id: a, name: '<i>A&B "Q"</i>', residents_capable: 10, units: 2}
  - {id: b, name: 共乐, residents_capable: 10, units: 2}
"""

CONFIG = """profile: profile.yaml
logs: [log.csv]
thresholds:
  resident_participation: {warn: 0.2, critical: 0.1, communities: {b: {warn: 0.5}}}
  unit_participation: {warn: 0.4, better: lower}
"""


@pytest.fixture
def odd(tmp_path: Path) -> Report:
    """One month, a name with markup in it, overrides, ``better: lower``, a skipped bad row."""
    (tmp_path / "log.csv").write_text(LOG, encoding="utf-8")
    (tmp_path / "profile.yaml").write_text(PROFILE, encoding="utf-8")
    (tmp_path / "svcmetrics.yaml").write_text(CONFIG, encoding="utf-8")
    return run(Options(config=tmp_path / "svcmetrics.yaml", skip_invalid=True))


def test_page_escapes_names_and_shows_problems(odd: Report) -> None:
    text = render_html(odd, RenderOptions(lang="en"))
    parsed = Page(text)
    assert parsed.errors == []
    assert "<i>A&B" not in text and "&lt;i&gt;A&amp;B &#34;Q&#34;&lt;/i&gt;" in text
    assert '<i>A&B "Q"</i>' in parsed.text
    # the bad date is listed under data problems
    assert "2026-13-45" in parsed.text and "not a date" in parsed.text
    # one month: no trend to draw, said so
    assert 'id="trend-' not in text and "no trend to draw" in parsed.text
    assert "lower is better" in parsed.text and "own levels" in parsed.text


def test_bars_carry_each_communitys_levels(odd: Report) -> None:
    indicator = next(i for i in odd.indicators if i.key == "resident_participation")
    chart = bar_chart(odd, Subject(indicator), odd.periods[-1], "en")
    bars = {bar.name: bar for bar in chart.bars}
    a, b = bars['<i>A&B "Q"</i>'], bars["共乐"]
    assert a.status == "ok" and b.status == "warn"  # 2/10 on 0.2 is no breach; 1/10 below 0.5
    assert a.critical_x == b.critical_x and a.warn_x is not None and b.warn_x is not None
    assert b.warn_x > a.warn_x  # b's own warn level, 0.5, is further right
    assert b.length == pytest.approx(a.length / 2)
    assert [tick.text for tick in chart.ticks][-1] == "50%"


def test_breach_of_a_lower_is_better_level_is_listed(odd: Report) -> None:
    breaches = section(render_html(odd, RenderOptions(lang="zh")), "breaches")
    assert "辖区单位参与率50.0%1/240.0%预警" in breaches


def test_nice_top() -> None:
    assert nice_top([]) == (1.0, 0.25)
    assert nice_top([0.03, 0.2, 0.1]) == (pytest.approx(0.2), 0.05)
    assert nice_top([0.8532]) == (pytest.approx(1.0), 0.2)
    assert nice_top([1.3])[0] >= 1.3


def test_bar_text_draws_eighths_and_markers() -> None:
    bar = bar_text(0.5, None, (0.8, 0.25), 1.0, 8).plain
    assert bar == "██" + CRITICAL_MARK + "█  " + WARN_MARK + " "
    assert bar_text(None, None, (None, None), 1.0, 4).plain == "    "
    assert bar_text(0.0625, None, (None, None), 1.0, 2).plain == "▏ "


@pytest.mark.parametrize("lang", LANGS)
def test_terminal_chart_has_bars_and_threshold_markers(report: Report, lang: str) -> None:
    text = render_chart(report, RenderOptions(lang=lang, width=100))
    assert "\x1b[" not in text
    assert "█" in text and WARN_MARK in text and CRITICAL_MARK in text
    for indicator in report.indicators:
        assert indicator.name(lang) in text
    title = "居民参与率(2026-11)" if lang == "zh" else "Resident participation rate, 2026-11"
    assert title in text
    participation = text[text.index(title) :].splitlines()[1:4]
    assert all(WARN_MARK in line and CRITICAL_MARK in line for line in participation)
    assert "\x1b[" in render_chart(report, RenderOptions(lang=lang, width=100, color=True))


# --- a real browser ----------------------------------------------------------------------


def png_colours(data: bytes, rows: int) -> tuple[int, int, set[bytes]]:
    """Width, height and the distinct pixel values of the first rows of an 8-bit PNG.

    Stdlib only: pure-Python unfiltering is slow, so only the top of a screenshot is read.
    """
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, []
    width = height = channels = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and body[12] == 0, "8-bit, not interlaced"
            channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
        elif kind == b"IDAT":
            chunks.append(body)
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    colours: set[bytes] = set()
    for y in range(min(rows, height)):
        start = y * (stride + 1)
        line = _unfilter(
            raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, channels
        )
        colours.update(bytes(line[i : i + 3]) for i in range(0, stride, channels))
        previous = line
    return width, height, colours


def _unfilter(kind: int, line: bytearray, previous: bytearray, step: int) -> bytearray:
    """Undo one scanline's PNG filter (None, Sub, Up, Average, Paeth)."""
    if kind == 2:
        return bytearray((a + b) & 255 for a, b in zip(line, previous, strict=True))
    if kind in (1, 3, 4):
        for i in range(len(line)):
            left = line[i - step] if i >= step else 0
            up = previous[i]
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            else:
                corner = previous[i - step] if i >= step else 0
                guess = left + up - corner
                a, b, c = abs(guess - left), abs(guess - up), abs(guess - corner)
                line[i] = (
                    line[i] + (left if a <= b and a <= c else up if b <= c else corner)
                ) & 255
    return line


def chromium(tmp_path: Path, *args: str) -> str:
    """Run headless Chromium (the package of Debian) offline; its stdout."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs chromium and fonts-noto-cjk")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)")
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium'}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_chinese_page_is_drawn_in_a_real_browser(report: Report, tmp_path: Path) -> None:
    path = tmp_path / "report-zh.html"
    path.write_text(page(report, "zh"), encoding="utf-8")
    shot = tmp_path / "shot.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", path.as_uri())
    width, height, colours = png_colours(shot.read_bytes(), rows=800)
    assert (width, height) == (1280, 2000)
    # the top holds the header and the first charts: text, bars and lines, anti-aliased
    assert len(colours) > 100
    assert CRITICAL_RED in colours  # the participation bars, below the critical level
    dom = chromium(tmp_path, "--dump-dom", path.as_uri())
    assert all(indicator.name("zh") in dom for indicator in report.indicators)
    assert "建国社区" in dom and "共乐社区" in dom and "各社区对比(2026-11)" in dom


def test_english_page_loads_in_a_real_browser(report: Report, tmp_path: Path) -> None:
    path = tmp_path / "report-en.html"
    path.write_text(page(report, "en"), encoding="utf-8")
    dom = chromium(tmp_path, "--dump-dom", path.as_uri())
    assert all(indicator.name("en") in dom for indicator in report.indicators)
    assert "Communities compared, 2026-11" in dom


def test_sparkline_follows_the_rates_on_the_bars_scale() -> None:
    from svcmetrics.output.chartdata import sparkline

    assert sparkline([0.0, 0.1, 0.2, None], top=0.2) == "▁▅█ "
    assert sparkline([0.03, 0.10, 0.03], top=0.2) == "▂▅▂"


def test_terminal_chart_shows_the_trend_across_periods(report: Report) -> None:
    from svcmetrics.output.chart import render_chart

    text = render_chart(report, RenderOptions(lang="en", color=False, width=100))
    assert "2026-09..2026-11" in text
    assert "▂▅▂" in text  # 共乐社区's participation: 3%, 10%, 3% on a 20% scale
