"""The terminal table: one rich table per period, communities grouped under their parents."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from svcmetrics.i18n import label
from svcmetrics.output.cells import (
    COMPARISON_LABELS,
    STATUS_STYLE,
    breakdown_text,
    compared_rate,
    comparison_cell,
    comparison_columns,
    fraction,
    indicator_names,
    notes,
    percent,
    rank_text,
    repeat_notes,
    shown_tree,
    silent_notes,
    status_text,
    unit_name,
)
from svcmetrics.output.console import export, make_console
from svcmetrics.output.options import RenderOptions
from svcmetrics.report import Report, Result, Unit

NOTES_INLINE_WIDTH = 110
"""Narrower terminals get the notes under each table instead of in a column."""
YEAR_COLUMNS_WIDTH = 30
"""How much wider the terminal must be for the notes column when 上年同期 and 同比 are shown."""
_MEASURE_WIDTH = 100_000
"""Wide enough to measure any cell unwrapped."""
HEADERS = {
    **COMPARISON_LABELS,
    "change": "change_short",
    "change_yoy": "change_yoy_short",
}
"""The catalogue key of a column's header where it is not the column's key."""


def _compared_notes(result: Result, shown: list[str], lang: str) -> list[str]:
    """The rates of 上期 and 上年同期 that have no column, as notes (``上期 80.0%``)."""
    return [
        label(HEADERS[key], lang) + " " + compared_rate(getattr(result, key))
        for key in ("previous_rate", "previous_year_rate")
        if key not in shown and getattr(result, key) is not None
    ]


PLAIN_ABOVE = 2_000
"""Above this many results the table is drawn as plain aligned text: rich lays a table out
for a screen, and a city's 400,000 results took it minutes (issue 17)."""


def drawn_plain(report: Report) -> bool:
    """True when :func:`render_table` draws plain text instead of rich tables (the CLI
    says so on stderr)."""
    return len(report.results) > PLAIN_ABOVE


def render_table(report: Report, options: RenderOptions) -> str:
    """Rich tables, one per period, communities grouped under their parents; a roll-up that
    repeats the unit below it is shown once, with a note saying so. Above
    :data:`PLAIN_ABOVE` results, the same tables as plain aligned text."""
    lang = options.lang
    by_key: dict[tuple[str, str], list[Result]] = {}
    for result in report.results:
        by_key.setdefault((result.period, result.community), []).append(result)
    names = indicator_names(report, lang)
    # On a narrow terminal the notes (intervals, flags) go under the table, so that names
    # and numbers keep their width, and so do the rates of 上期 and 上年同期 (their changes
    # keep a column).
    wide = options.width >= NOTES_INLINE_WIDTH
    changes = ("change", "change_yoy")
    compared = [key for key in comparison_columns(report) if wide or key in changes]
    inline_notes = options.width >= NOTES_INLINE_WIDTH + YEAR_COLUMNS_WIDTH * (
        "change_yoy" in compared
    )
    columns = [("community", "left"), ("indicator", "left")]
    if report.by is not None:
        columns.append((report.by, "left"))
    columns += [("rate", "right"), ("counts", "right")]
    columns += [(key, "right") for key in compared]
    columns.append(("status", "left"))
    if inline_notes:  # 排名 where it fits
        columns += [("rank", "right"), ("notes", "left")]
    numbers = ("rate", "counts", "status", "rank", *compared)
    keys = [key for key, _ in columns]
    headers = [label(HEADERS.get(key, key), lang) for key in keys]
    layout = _Layout(names, report.by, lang, compared, inline_notes)
    tree = shown_tree(report.units)
    plain = drawn_plain(report)
    console = None if plain else make_console(options)
    out: list[str] = []
    for period in report.periods:
        title = label("title_period", lang, period=period.label)
        below: list[str] = []
        rows = list(_rows(tree, by_key, period.label, layout, below))
        below += silent_notes(report, period.label, lang)
        if console is None:
            out.append(_plain_table(title, headers, [j for _, j in columns], rows, lang))
            if below:
                out.extend([label("notes", lang) + ":", *below])
            continue
        table = Table(
            title=title,
            box=box.SIMPLE_HEAD,
            caption=label("caption_flags", lang),
            caption_justify="left",
        )
        for (key, justify), header in zip(columns, headers, strict=True):
            # numbers never wrap; a long name may take two lines on a narrow terminal
            table.add_column(header, justify=justify, no_wrap=key in numbers)  # type: ignore[arg-type]
        status_at = keys.index("status")
        for unit, result, cells, last in rows:
            status = Text("")
            if result.status is not None:
                status = Text(cells[status_at], style=STATUS_STYLE[result.status])
            table.add_row(
                Text(cells[0], style="bold" if unit.level != "community" else ""),
                *cells[1:status_at],
                status,
                *cells[status_at + 1 :],
                end_section=last,
            )
        if not options.terminal:
            _keep_words_whole(table, console)
        console.print(table, crop=options.terminal)
        if below:
            console.print(label("notes", lang) + ":")
            for line in below:
                console.print(Text(line), overflow="fold")
    if console is None:
        out.extend(repeat_notes(report.units, lang))
        return "\n".join(out) + "\n"
    for line in repeat_notes(report.units, lang):
        console.print(Text(line), overflow="fold")
    return export(console)


Row = tuple[Unit, Result, list[str], bool]
"""A unit, one of its results, the row's cells, and whether it ends the unit's block."""


@dataclass(frozen=True)
class _Layout:
    """What every row of a report's tables shows besides the result itself."""

    names: dict[str, str]
    """Indicator key → its name in the output language."""
    by: str | None
    lang: str
    compared: list[str]
    """The comparison columns shown (上期, 环比, 上年同期, 同比)."""
    inline_notes: bool
    """Notes (and 排名) in columns; else the notes go under the table."""


def _rows(
    tree: list[tuple[Unit, int]],
    by_key: dict[tuple[str, str], list[Result]],
    period: str,
    layout: _Layout,
    below: list[str],
) -> Iterator[Row]:
    """The rows of one period's table, as text; notes not shown inline go to ``below``."""
    lang = layout.lang
    for unit, depth in tree:
        results = by_key.get((period, unit.id), [])
        shown_name = unit_name(unit.id, unit.name, unit.level, lang)
        for number, result in enumerate(results):
            by = layout.by
            breakdown = [breakdown_text(result.breakdown, by, lang)] if by is not None else []
            note = notes(result, lang)
            if not layout.inline_notes:
                note = "; ".join(
                    [*_compared_notes(result, layout.compared, lang), *([note] if note else [])]
                )
                if note:
                    below.append(f"  {shown_name} · {layout.names[result.indicator]}: {note}")
            status = status_text(result, lang) if result.status is not None else ""
            cells = [
                "  " * depth + shown_name if number == 0 else "",
                layout.names[result.indicator],
                *breakdown,
                percent(result.rate),
                fraction(result),
                *[comparison_cell(result, key) for key in layout.compared],
                status,
                *([rank_text(result), note] if layout.inline_notes else []),
            ]
            yield unit, result, cells, number == len(results) - 1


def _plain_table(
    title: str, headers: list[str], justify: list[str], rows: Iterable[Row], lang: str
) -> str:
    """One period's table as plain text: the rich table's title, columns, blocks and
    caption, aligned by display width (a Chinese character takes two columns)."""
    lines: list[list[str]] = []
    ends: list[bool] = []
    for _, _, cells, last in rows:
        lines.append(cells)
        ends.append(last)
    widths = [cell_len(header) for header in headers]
    for cells in lines:
        for index, cell in enumerate(cells):
            size = cell_len(cell)
            if size > widths[index]:
                widths[index] = size

    def line(cells: list[str]) -> str:
        padded = []
        for cell, width, side in zip(cells, widths, justify, strict=True):
            gap = " " * (width - cell_len(cell))
            padded.append(gap + cell if side == "right" else cell + gap)
        return "  ".join(padded).rstrip()

    total = sum(widths) + 2 * (len(widths) - 1)
    text = [title.center(max(total, cell_len(title))).rstrip(), line(headers), "─" * total]
    for cells, last in zip(lines, ends, strict=True):
        text.append(line(cells))
        if last:
            text.append("")
    text.append(label("caption_flags", lang))
    return "\n".join(text)


def _keep_words_whole(table: Table, console: Console) -> None:
    """Off a terminal (a file, a cron mail), no column gets narrower than its longest word,
    or than its longest cell for a column that never wraps: where the table cannot fit the
    width otherwise, its lines grow longer instead of breaking a word in two."""
    options = console.options.update_width(_MEASURE_WIDTH)
    for column in table.columns:
        cells: list[RenderableType] = [column.header, *column.cells]
        sizes = [Measurement.get(console, options, cell) for cell in cells]
        column.min_width = max(size.maximum if column.no_wrap else size.minimum for size in sizes)
