"""The terminal table: one rich table per period, communities grouped under their parents."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich import box
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from svcmetrics.i18n import label
from svcmetrics.output.cells import (
    STATUS_STYLE,
    breakdown_text,
    change,
    fraction,
    indicator_names,
    notes,
    percent,
    repeat_notes,
    shown_tree,
    status_text,
    unit_name,
)
from svcmetrics.output.console import export, make_console
from svcmetrics.output.options import RenderOptions
from svcmetrics.report import Report, Result, Unit

NOTES_INLINE_WIDTH = 110
"""Narrower terminals get the notes under each table instead of in a column."""
_MEASURE_WIDTH = 100_000
"""Wide enough to measure any cell unwrapped."""


PLAIN_ABOVE = 2_000
"""Above this many results the table is drawn as plain aligned text: rich lays a table out
for a screen, and a city's 400,000 results took it minutes (issue 17)."""

_NUMBERS = ("rate", "counts", "change", "status")
"""The columns that never wrap, right-aligned but for the status."""


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
    # and numbers keep their width.
    inline_notes = options.width >= NOTES_INLINE_WIDTH
    columns = [("community", "left"), ("indicator", "left")]
    if report.by is not None:
        columns.append((report.by, "left"))
    columns += [("rate", "right"), ("counts", "right"), ("change", "right"), ("status", "left")]
    if inline_notes:
        columns.append(("notes", "left"))
    headers = [label("change_short" if key == "change" else key, lang) for key, _ in columns]
    tree = shown_tree(report.units)
    plain = drawn_plain(report)
    console = None if plain else make_console(options)
    out: list[str] = []
    for period in report.periods:
        title = label("title_period", lang, period=period.label)
        below: list[str] = []
        rows = _rows(tree, by_key, period.label, names, report.by, lang, inline_notes, below)
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
            table.add_column(header, justify=justify, no_wrap=key in _NUMBERS)  # type: ignore[arg-type]
        status_at = len(headers) - (2 if inline_notes else 1)
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


def _rows(
    tree: list[tuple[Unit, int]],
    by_key: dict[tuple[str, str], list[Result]],
    period: str,
    names: dict[str, str],
    by: str | None,
    lang: str,
    inline_notes: bool,
    below: list[str],
) -> Iterator[Row]:
    """The rows of one period's table, as text; notes not shown inline go to ``below``."""
    for unit, depth in tree:
        results = by_key.get((period, unit.id), [])
        shown_name = unit_name(unit.id, unit.name, unit.level, lang)
        for number, result in enumerate(results):
            breakdown = [breakdown_text(result.breakdown, by, lang)] if by is not None else []
            note = notes(result, lang)
            if note and not inline_notes:
                below.append(f"  {shown_name} · {names[result.indicator]}: {note}")
            status = status_text(result, lang) if result.status is not None else ""
            cells = [
                "  " * depth + shown_name if number == 0 else "",
                names[result.indicator],
                *breakdown,
                percent(result.rate),
                fraction(result),
                change(result),
                status,
                *([note] if inline_notes else []),
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
