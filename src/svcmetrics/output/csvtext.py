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


def _csv_text(header: list[str], rows: list[list[str]], options: RenderOptions) -> str:
    """The CSV document, its cells neutralised under ``options.neutralise``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    clean = _cleaner(options)
    writer.writerow([clean(cell) for cell in header])
    if options.neutralise:
        # only a cell starting with a formula character can change (:func:`neutralise`)
        rows = [
            [cell if cell[:1] not in FORMULA_STARTS else clean(cell) for cell in row]
            for row in rows
        ]
    writer.writerows(rows)
    return ("\ufeff" if options.bom else "") + buffer.getvalue()


def _field(text: str) -> str:
    """``text`` as one CSV field, quoted as :func:`_csv_text`'s writer quotes it."""
    if not text:
        return ""  # a row's only field would be quoted when empty; one of many is not
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([text])
    return buffer.getvalue()[: -len("\r\n")]


def _lines(report: Report, lang: str, clean: Callable[[str], str]) -> list[str]:
    """The long CSV's lines without their line ends: the cells of :func:`result_record`
    formatted as :func:`_cell` does, built straight from the results (a city has some
    400,000 of them), joined as the CSV writer joins them. Each text is passed through
    ``clean`` and quoted once (names, periods, statuses and flags recur on every row). The
    numbers need neither: an integer or a finite number written with its decimals is a
    number to a spreadsheet, which :func:`neutralise` leaves as it is (rates, intervals and
    changes are finite; so are the levels, which the config checks), and holds no character
    that needs quotes."""
    texts: dict[str, str] = {}

    def field(text: str) -> str:
        done = texts.get(text)
        if done is None:
            done = texts[text] = _field(clean(text))
        return done

    names = {
        key: f"{field(key)},{field(name)}" for key, name in indicator_names(report, lang).items()
    }
    by = report.by
    # the cells that name a unit (level, id, name, parent), once per unit
    units: dict[tuple[str, str | None, str, str | None], str] = {}
    lines: list[str] = []
    append = lines.append
    # each result taken apart at once (its fields in the order of ``Result._fields``)
    for (
        level,
        community,
        community_name,
        parent,
        period,
        indicator,
        breakdown,
        numerator,
        denominator,
        sample,
        ci_low,
        ci_high,
        before,
        change,
        year,
        change_yoy,
        status,
        flags,
        _,  # limit
        rank,
        target_level,
    ) in report.results:
        unit_key = (level, community_name, community, parent)
        unit = units.get(unit_key)
        if unit is None:
            unit = units[unit_key] = ",".join(
                (
                    field(str(level)),
                    field(community),
                    field(unit_name(community, community_name, level, lang)),
                    "" if parent is None else field(parent),
                )
            )
        named = names[indicator]
        if by is not None:
            named += "," + field("" if breakdown is None else breakdown)
        append(
            ",".join(
                (
                    unit,
                    field(period),
                    named,
                    str(numerator),
                    "" if denominator is None else str(denominator),
                    f"{numerator / denominator:.4f}" if denominator else "",
                    "" if sample is None else str(sample),
                    "" if ci_low is None else f"{ci_low:.4f}",
                    "" if ci_high is None else f"{ci_high:.4f}",
                    "" if before is None else f"{before:.4f}",
                    "" if change is None else f"{change:.2f}",
                    "" if year is None else f"{year:.4f}",
                    "" if change_yoy is None else f"{change_yoy:.2f}",
                    "" if rank is None else str(rank),
                    "" if target_level is None else _cell(target_level, "target_level"),
                    "" if status is None else field(status.value),
                    field(";".join(flags)) if flags else "",
                )
            )
        )
    return lines


def render_csv(report: Report, options: RenderOptions) -> str:
    """CSV: one row per result with the keys of spec 3.1, or ``--wide``."""
    fields = result_fields(report.by)
    if not options.wide:
        top = _csv_text(fields, [], options)
        lines = [top[: -len("\r\n")], *_lines(report, options.lang, _cleaner(options)), ""]
        return "\r\n".join(lines)  # (one copy of a city's 55 MB, not two)
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
