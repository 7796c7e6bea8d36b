"""Workbook sheets (xlsx, xls, ods) to rows of text, numbers shown as Excel shows them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from svcmetrics.errors import InputError
from svcmetrics.models import ColumnMapping
from svcmetrics.readers.headers import HEADER_ROWS, header_index

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


def split_sheet(path: str) -> tuple[str, str | None]:
    """``book.xlsx#Sheet`` → (``book.xlsx``, ``Sheet``); other paths are returned whole."""
    head, hash_sign, sheet = path.rpartition("#")
    if hash_sign and head.lower().endswith(EXCEL_SUFFIXES):
        return head, sheet
    return path, None


def _excel_text(cell: object) -> str | None:
    """An Excel cell as text: date cells as ISO dates, whole numbers without ``.0``.

    A number of more than 15 significant digits lost its last digits inside the workbook
    (an 18-digit 身份证号 typed as a number): it is kept as Excel shows it
    (``1.10101199003075E+17``, so two equal cells stay equal, and an identifier gets a
    ``mangled_id`` warning) rather than given invented digits (spec 1.4).
    """
    if cell is None or cell == "":
        return None
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, float | int) and float(cell).is_integer():
        return _excel_number(float(cell))
    if isinstance(cell, float):
        return repr(cell)
    return str(cell)


EXCEL_DIGITS = 15
"""Excel keeps a number's first 15 significant digits and shows no more."""


def _excel_number(cell: float) -> str:
    """A whole number cell as Excel shows it: its digits when it has at most 15 significant
    digits (all Excel keeps), else the scientific form Excel displays: its last digits are
    already lost, and reading them from the float would invent them."""
    shortest = repr(cell + 0.0)  # (-0.0 + 0.0 is 0.0: no "-0")
    significant = shortest.split("e")[0].lstrip("-").replace(".", "").strip("0")
    if len(significant) <= EXCEL_DIGITS:
        return f"{Decimal(shortest).to_integral_value():f}"
    return _as_excel_shows(cell)


def _as_excel_shows(number: float) -> str:
    """A large number as Excel's General format shows it: ``1.10101199003075E+17``."""
    mantissa, exponent = f"{number:.{EXCEL_DIGITS - 1}E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"


def excel_rows(
    path: Path, name: str, sheet: str | None, mapping: ColumnMapping | None = None
) -> tuple[list[str], list[list[str | None]], list[int]]:
    """Headers, non-empty rows (as text) and their row numbers of a workbook's sheet.

    python-calamine reads .xlsx, .xls and .ods alike and hands over typed cells, so date
    cells arrive as dates and ids typed as numbers can be turned back into text. With a
    log's ``mapping``, the header may stand under a title (:func:`header_index`); without
    (a profile), the header is the first row.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    if not path.exists():
        raise InputError("file_not_found", file=name)
    try:
        book = CalamineWorkbook.from_path(str(path))
        if sheet is None:
            table = book.get_sheet_by_index(0)
        elif sheet in book.sheet_names:
            table = book.get_sheet_by_name(sheet)
        else:
            raise InputError(
                "no_such_sheet", file=name, sheet=sheet, sheets=", ".join(book.sheet_names)
            )
        rows = table.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as exc:
        raise InputError("bad_excel", file=name, detail=str(exc)) from exc
    if not rows:
        raise InputError("empty_file", file=name)
    start = 0
    if mapping is not None:
        head = [[_excel_text(cell) for cell in row] for row in rows[:HEADER_ROWS]]
        start = header_index(head, mapping)
        if start >= len(rows):
            raise InputError("empty_file", file=name)
    headers = [_excel_text(cell) or "" for cell in rows[start]]
    body: list[list[str | None]] = []
    lines: list[int] = []
    for number, row in enumerate(rows[start + 1 :], start=start + 2):
        cells = [_excel_text(cell) for cell in row]
        if any(cell is not None and cell.strip() for cell in cells):
            body.append(cells)
            lines.append(number)
    return headers, body, lines
