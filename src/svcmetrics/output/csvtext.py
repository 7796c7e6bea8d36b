"""CSV: one row per result with the keys of spec 3.1, or one row per unit and period (--wide)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from svcmetrics.output.cells import (
    FORMULA_STARTS,
    POINTS_FIELDS,
    indicator_names,
    neutralise,
    result_fields,
    result_record,
    unit_name,
)
from svcmetrics.output.options import RenderOptions
from svcmetrics.report import Report


def _cell(value: Any, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if key in POINTS_FIELDS else f"{value:.4f}"
    return str(value)


def _cleaner(options: RenderOptions) -> Callable[[str], str]:
    """:func:`neutralise` under ``options.neutralise`` (each text done once: names, periods
    and flags recur on every row), else the text as it is."""
    if not options.neutralise:
        return str
    done: dict[str, str] = {}

    def clean(cell: str) -> str:
        text = done.get(cell)
        if text is None:
            text = done[cell] = neutralise(cell)
        return text

    return clean


def _csv_text(
    header: list[str], rows: list[list[str]], options: RenderOptions, cleaned: bool = False
) -> str:
    """The CSV document; ``cleaned``: the rows' cells are neutralised already."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    clean = _cleaner(options)
    writer.writerow([clean(cell) for cell in header])
    if options.neutralise and not cleaned:
        # only a cell starting with a formula character can change (:func:`neutralise`)
        rows = [
            [cell if cell[:1] not in FORMULA_STARTS else clean(cell) for cell in row]
            for row in rows
        ]
    writer.writerows(rows)
    return ("\ufeff" if options.bom else "") + buffer.getvalue()


def _rows(report: Report, lang: str, clean: Callable[[str], str]) -> list[list[str]]:
    """The long CSV's rows: the cells of :func:`result_record` formatted as :func:`_cell`
    does, built straight from the results (a city has some 400,000 of them), the texts
    passed through ``clean``. The numbers need no cleaning: an integer or a finite number
    written with its decimals is a number to a spreadsheet, which :func:`neutralise` leaves
    as it is (rates, intervals and changes are finite; so are the levels, which the config
    checks)."""
    names = {key: (clean(key), clean(name)) for key, name in indicator_names(report, lang).items()}
    by = report.by
    # the cells that name a unit (level, id, name, parent), once per unit
    units: dict[tuple[str, str | None, str, str | None], tuple[str, ...]] = {}
    texts: dict[str, str] = {}  # periods, statuses, flags, breakdown values
    rows = []
    for r in report.results:
        unit_key = (r.level, r.community_name, r.community, r.parent)
        unit = units.get(unit_key)
        if unit is None:
            unit = units[unit_key] = (
                clean(str(r.level)),
                clean(r.community),
                clean(unit_name(r.community, r.community_name, r.level, lang)),
                "" if r.parent is None else clean(r.parent),
            )
        status = "" if r.status is None else r.status.value
        flags = ";".join(r.flags)
        for text in (r.period, status, flags):
            if text not in texts:
                texts[text] = clean(text)
        rate, target = r.rate, r.target_level
        ci_low, ci_high, before, change = r.ci_low, r.ci_high, r.previous_rate, r.change
        year, change_yoy = r.previous_year_rate, r.change_yoy
        row = [
            *unit,
            texts[r.period],
            *names[r.indicator],
            str(r.numerator),
            "" if r.denominator is None else str(r.denominator),
            "" if rate is None else f"{rate:.4f}",
            "" if r.sample_size is None else str(r.sample_size),
            "" if ci_low is None else f"{ci_low:.4f}",
            "" if ci_high is None else f"{ci_high:.4f}",
            "" if before is None else f"{before:.4f}",
            "" if change is None else f"{change:.2f}",
            "" if year is None else f"{year:.4f}",
            "" if change_yoy is None else f"{change_yoy:.2f}",
            "" if r.rank is None else str(r.rank),
            _cell(target, "target_level"),
            texts[status],
            texts[flags],
        ]
        if by is not None:
            value = "" if r.breakdown is None else r.breakdown
            if value not in texts:
                texts[value] = clean(value)
            row.insert(7, texts[value])
        rows.append(row)
    return rows


def render_csv(report: Report, options: RenderOptions) -> str:
    """CSV: one row per result with the keys of spec 3.1, or ``--wide``."""
    fields = result_fields(report.by)
    if not options.wide:
        rows = _rows(report, options.lang, _cleaner(options))
        return _csv_text(fields, rows, options, cleaned=True)
    names = indicator_names(report, options.lang)
    records = [result_record(r, names, options.lang, report.by) for r in report.results]
    head = ["level", "community", "community_name", "parent", "period"]
    if report.by is not None:
        head.append(report.by)
    header = list(head)
    for indicator in report.indicators:
        header += [indicator.key, f"{indicator.key}_num", f"{indicator.key}_den"]
    grouped: dict[tuple[str, ...], list[str]] = {}
    for record in records:
        key = tuple(str(record[name]) for name in head)
        row = grouped.setdefault(key, [_cell(record[name], name) for name in head])
        row += [
            _cell(record["rate"], "rate"),
            _cell(record["numerator"], "numerator"),
            _cell(record["denominator"], "denominator"),
        ]
    return _csv_text(header, list(grouped.values()), options)
