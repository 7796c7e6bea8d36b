"""The ledger template of ``svcmetrics template``: a workbook to fill in, with drop-down lists.

Its first sheet reads back as a log with no mapping and no sheet name (spec 3.4): the
headers are those of spec 1.2, and every list holds values the checks accept.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svcmetrics.answers import DEFAULT_LISTS, Answer
from svcmetrics.i18n import label
from svcmetrics.indicators import custom_events
from svcmetrics.models import Config, Profile, record_columns
from svcmetrics.output.xlsx import HEADER_FILL, Styles, new_workbook, print_setup, text_width
from svcmetrics.periods import plausible_window
from svcmetrics.pipeline import Options, load_inputs

LAST_ROW = 1_048_575
"""Excel's last row (0-based): lists, prompts and formats hold for the whole column."""

TEXT_FIELDS = ("id", "household", "ticket")
"""Identifier columns: formatted as text, so 0101 and 18-digit numbers stay as typed."""

LIST_NAMES = {
    "community": "svc_community",
    "event": "svc_event",
    "party": "svc_party",
    "status": "svc_status",
    "category": "svc_category",
}
"""The fields with a drop-down list, and the workbook name of each list's range."""

MESSAGE_LIMIT = 255
"""Excel's longest input message (a longer one is not shown at all)."""


@dataclass(frozen=True)
class LedgerField:
    """One column of the ledger: its field, header, prompt and allowed values (if a list)."""

    key: str
    header: str
    prompt: str
    values: tuple[str, ...] = ()


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" for char in text)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def in_language(values: Sequence[str], lang: str) -> list[str]:
    """The answers a worker of ``lang`` picks from: Chinese words in Chinese, English words
    in English, scores in both (all of them when that would leave no word)."""
    words = [value for value in values if not _is_number(value)]
    mine = [value for value in words if _has_cjk(value) == (lang == "zh")]
    keep = set(mine) if mine else set(words)
    return [value for value in values if value in keep or _is_number(value)]


def answers(config: Config) -> list[str]:
    """The satisfaction answers in force (spec 2.4), satisfied first; blanks left out."""
    given = {
        Answer.SATISFIED: config.satisfaction.satisfied,
        Answer.NOT_SATISFIED: config.satisfaction.not_satisfied,
        Answer.EXCLUDED: config.satisfaction.excluded,
    }
    found: list[str] = []
    for answer, default in DEFAULT_LISTS.items():
        entries = given[answer]
        for value in default if entries is None else entries:
            if value.strip() and value not in found:
                found.append(value)
    return found


def ledger_fields(
    config: Config, profile: Profile | None, events: Sequence[str], lang: str
) -> list[LedgerField]:
    """The columns of the ledger in the order of spec 1.2, headers and values in ``lang``."""
    fields: list[LedgerField] = []
    for key, column in record_columns().items():
        header = column.aliases[0] if lang == "zh" and column.aliases else key
        values = [
            aliases[0] if lang == "zh" and aliases else value for value, aliases in column.values
        ]
        if key == "event":
            values += [event for event in events if event not in values]
        elif key == "status":
            values += [value for value in in_language(answers(config), lang) if value not in values]
        elif key == "community" and profile is not None:
            values = [community.name or community.id for community in profile.communities]
        prompt = label(f"template_{key}", lang)[:MESSAGE_LIMIT]
        fields.append(LedgerField(key, header, prompt, tuple(values)))
    return fields


def ledger_template(
    config: Path | None, profile: Path | None, lang: str, today: dt.date, name: str
) -> bytes:
    """The template for a config and profile loaded as a run loads them (``name``: the file
    name the notes tell the worker to check)."""
    inputs = load_inputs(Options(config=config, profile=profile))
    events = custom_events(inputs.indicators)
    return render_template(inputs.config, inputs.profile, events, lang, today, name)


def render_template(
    config: Config,
    profile: Profile | None,
    events: Sequence[str],
    lang: str,
    today: dt.date,
    name: str = "",
) -> bytes:
    """The ledger workbook: 台账 to fill in, 说明 explaining each column, the hidden lists."""
    buffer = io.BytesIO()
    workbook = new_workbook(buffer)
    workbook.set_properties({"title": label("template_title", lang)})
    styles = Styles(workbook, lang)
    fields = ledger_fields(config, profile, events, lang)
    ledger = workbook.add_worksheet(label("template_sheet_ledger", lang))
    notes = workbook.add_worksheet(label("template_sheet_notes", lang))
    lists = workbook.add_worksheet(label("template_sheet_lists", lang))
    _lists_sheet(workbook, lists, fields, styles)
    window = plausible_window(config.date_range.from_, config.date_range.to, today)
    _ledger_sheet(ledger, fields, styles, window, lang)
    _notes_sheet(notes, fields, styles, lang, name or label("template_default_name", lang))
    lists.hide()
    ledger.activate()
    workbook.close()
    return buffer.getvalue()


def _lists_sheet(workbook: Any, sheet: Any, fields: Sequence[LedgerField], styles: Styles) -> None:
    """One column per drop-down list, each named, so that any number of values fit."""
    header = styles.get(bold=True)
    text = styles.get(num_format="@")
    number = 0
    for field in fields:
        if field.key not in LIST_NAMES or not field.values:
            continue
        sheet.write_string(0, number, field.header, header)
        for row, value in enumerate(field.values, start=1):
            sheet.write_string(row, number, value, text)
        letter = _letter(number)
        workbook.define_name(
            LIST_NAMES[field.key],
            f"='{sheet.get_name()}'!${letter}$2:${letter}${len(field.values) + 1}",
        )
        sheet.set_column(number, number, 16)
        number += 1


def _letter(number: int) -> str:
    """A column's letters (0 → A, 26 → AA)."""
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _ledger_sheet(
    sheet: Any,
    fields: Sequence[LedgerField],
    styles: Styles,
    window: tuple[dt.date, dt.date],
    lang: str,
) -> None:
    """The sheet to fill in: headers of spec 1.2, lists, date checks, text ids, prompts."""
    header = styles.get(bold=True, border=1, align="center", bg_color=HEADER_FILL, num_format="@")
    sheet.set_row(0, 22)
    for number, field in enumerate(fields):
        sheet.write_string(0, number, field.header, header)
        width = max(12, text_width(field.header) + 4)
        cells = None
        if field.key == "date":
            cells = styles.get(num_format="yyyy-mm-dd", align="left")
        elif field.key in TEXT_FIELDS:
            cells = styles.get(num_format="@")
            width = 20 if field.key == "id" else 14
        elif field.values:
            width = max(width, min(30, max(text_width(value) for value in field.values) + 4))
        sheet.set_column(number, number, width, cells)
        title = field.header[:32]
        sheet.data_validation(
            0, number, 0, number,
            {"validate": "any", "input_title": title, "input_message": field.prompt},
        )  # fmt: skip
        sheet.data_validation(1, number, LAST_ROW, number, _rule(field, window, lang))
    sheet.freeze_panes(1, 0)
    print_setup(sheet, 0)


def _rule(field: LedgerField, window: tuple[dt.date, dt.date], lang: str) -> dict[str, Any]:
    """The data validation of a column's cells: a list, a date window, or only the prompt."""
    rule: dict[str, Any] = {
        "input_title": field.header[:32],
        "input_message": field.prompt,
        "error_title": field.header[:32],
    }
    if field.key == "date":
        first, last = window
        return {
            **rule,
            "validate": "date",
            "criteria": "between",
            "minimum": first,
            "maximum": last,
            "error_message": label(
                "template_bad_date", lang, first=first.isoformat(), last=last.isoformat()
            ),
        }
    if field.key in LIST_NAMES and field.values:
        return {
            **rule,
            "validate": "list",
            "source": "=" + LIST_NAMES[field.key],
            "error_message": label("template_not_in_list", lang, column=field.header),
        }
    return {"validate": "any", "input_title": rule["input_title"], "input_message": field.prompt}


def _lines(text: str, width: float) -> int:
    """How many lines a wrapped text takes in a column ``width`` characters wide."""
    return max(1, math.ceil(text_width(text) / max(width - 2, 1)))


NOTES_WIDTHS = (14, 60, 40)
LINE_HEIGHT = 14


def _notes_sheet(
    sheet: Any, fields: Sequence[LedgerField], styles: Styles, lang: str, name: str
) -> None:
    """What each column holds, what may go in it, and what to do with the filled ledger."""
    for number, width in enumerate(NOTES_WIDTHS):
        sheet.set_column(number, number, width)
    title = styles.get(bold=True, font_size=14)
    sheet.write_string(0, 0, label("template_notes_title", lang), title)
    wrap = styles.get(text_wrap=True, valign="top")
    row = 1
    for key in ("template_how_1", "template_how_2", "template_how_3"):
        text = label(key, lang, file=name)
        sheet.merge_range(row, 0, row, 2, text, wrap)
        sheet.set_row(row, LINE_HEIGHT * _lines(text, sum(NOTES_WIDTHS)) + 6)
        row += 1
    row += 1
    header = styles.get(bold=True, border=1, bg_color=HEADER_FILL)
    for number, key in enumerate(("column", "template_meaning", "template_values")):
        sheet.write_string(row, number, label(key, lang), header)
    print_setup(sheet, row)
    cell = styles.get(text_wrap=True, valign="top", border=1)
    for field in fields:
        row += 1
        values = label("list_sep", lang).join(field.values)
        sheet.write_string(row, 0, field.header, styles.get(bold=True, valign="top", border=1))
        sheet.write_string(row, 1, field.prompt, cell)
        sheet.write_string(row, 2, values, cell)
        lines = max(_lines(field.prompt, NOTES_WIDTHS[1]), _lines(values, NOTES_WIDTHS[2]))
        sheet.set_row(row, LINE_HEIGHT * lines + 4)
