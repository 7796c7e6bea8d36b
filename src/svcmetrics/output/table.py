"""The terminal table: one rich table per period, communities grouped under their parents."""

from __future__ import annotations

from rich import box
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
from svcmetrics.report import Report, Result

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


def render_table(report: Report, options: RenderOptions) -> str:
    """Rich tables, one per period, communities grouped under their parents; a roll-up that
    repeats the unit below it is shown once, with a note saying so."""
    lang = options.lang
    console = make_console(options)
    by_key: dict[tuple[str, str], list[Result]] = {}
    for result in report.results:
        by_key.setdefault((result.period, result.community), []).append(result)
    names = indicator_names(report, lang)
    for period in report.periods:
        table = Table(
            title=label("title_period", lang, period=period.label),
            box=box.SIMPLE_HEAD,
            caption=label("caption_flags", lang),
            caption_justify="left",
        )
        columns = [("community", "left"), ("indicator", "left")]
        if report.by is not None:
            columns.append((report.by, "left"))
        # On a narrow terminal the notes (intervals, flags) go under the table, so that names
        # and numbers keep their width, and so do the rates of 上期 and 上年同期 (their
        # changes keep a column).
        wide = options.width >= NOTES_INLINE_WIDTH
        compared = [
            key for key in comparison_columns(report) if wide or key in ("change", "change_yoy")
        ]
        inline_notes = options.width >= NOTES_INLINE_WIDTH + YEAR_COLUMNS_WIDTH * (
            "change_yoy" in compared
        )
        columns += [("rate", "right"), ("counts", "right")]
        columns += [(key, "right") for key in compared]
        columns.append(("status", "left"))
        if inline_notes:  # 排名 where it fits
            columns += [("rank", "right"), ("notes", "left")]
        numbers = ("rate", "counts", "status", "rank", *compared)
        for key, justify in columns:
            header = label(HEADERS.get(key, key), lang)
            # numbers never wrap; a long name may take two lines on a narrow terminal
            table.add_column(header, justify=justify, no_wrap=key in numbers)  # type: ignore[arg-type]
        below: list[str] = []
        for unit, depth in shown_tree(report.units):
            first = True
            rows = by_key.get((period.label, unit.id), [])
            for number, result in enumerate(rows):
                name = (
                    "  " * depth + unit_name(unit.id, unit.name, unit.level, lang) if first else ""
                )
                first = False
                status = Text("")
                if result.status is not None:
                    status = Text(status_text(result, lang), style=STATUS_STYLE[result.status])
                breakdown = (
                    [breakdown_text(result.breakdown, report.by, lang)]
                    if report.by is not None
                    else []
                )
                note = notes(result, lang)
                if not inline_notes:
                    note = "; ".join(
                        [*_compared_notes(result, compared, lang), *([note] if note else [])]
                    )
                if note and not inline_notes:
                    where = unit_name(unit.id, unit.name, unit.level, lang)
                    below.append(f"  {where} · {names[result.indicator]}: {note}")
                table.add_row(
                    Text(name, style="bold" if unit.level != "community" else ""),
                    names[result.indicator],
                    *breakdown,
                    percent(result.rate),
                    fraction(result),
                    *[comparison_cell(result, key) for key in compared],
                    status,
                    *([rank_text(result), note] if inline_notes else []),
                    end_section=number == len(rows) - 1,
                )
        if not options.terminal:
            _keep_words_whole(table, console)
        console.print(table, crop=options.terminal)
        below += silent_notes(report, period.label, lang)
        if below:
            console.print(label("notes", lang) + ":")
            for line in below:
                console.print(Text(line), overflow="fold")
    for line in repeat_notes(report.units, lang):
        console.print(Text(line), overflow="fold")
    return export(console)


def _keep_words_whole(table: Table, console: Console) -> None:
    """Off a terminal (a file, a cron mail), no column gets narrower than its longest word,
    or than its longest cell for a column that never wraps: where the table cannot fit the
    width otherwise, its lines grow longer instead of breaking a word in two."""
    options = console.options.update_width(_MEASURE_WIDTH)
    for column in table.columns:
        cells: list[RenderableType] = [column.header, *column.cells]
        sizes = [Measurement.get(console, options, cell) for cell in cells]
        column.min_width = max(size.maximum if column.no_wrap else size.minimum for size in sizes)
