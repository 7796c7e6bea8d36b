"""CSV: one row per result with the keys of spec 3.1, or one row per unit and period (--wide)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from svcmetrics.output.cells import (
    POINTS_FIELDS,
    indicator_names,
    neutralise,
    result_fields,
    result_record,
)
from svcmetrics.output.options import RenderOptions
from svcmetrics.report import Report


def _cell(value: Any, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if key in POINTS_FIELDS else f"{value:.4f}"
    return str(value)


def _csv_text(header: list[str], rows: list[list[str]], options: RenderOptions) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    clean: Callable[[str], str] = neutralise if options.neutralise else str
    writer.writerow([clean(cell) for cell in header])
    for row in rows:
        writer.writerow([clean(cell) for cell in row])
    return ("\ufeff" if options.bom else "") + buffer.getvalue()


def render_csv(report: Report, options: RenderOptions) -> str:
    """CSV: one row per result with the keys of spec 3.1, or ``--wide``."""
    names = indicator_names(report, options.lang)
    records = [result_record(r, names, options.lang, report.by) for r in report.results]
    fields = result_fields(report.by)
    if not options.wide:
        rows = [[_cell(record[key], key) for key in fields] for record in records]
        return _csv_text(fields, rows, options)
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
