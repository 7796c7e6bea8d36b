"""JSON: the run's facts, every result and every problem (spec 3.1); raw values, null when
undefined."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from svcmetrics.output.cells import indicator_names, problem_record, result_record
from svcmetrics.output.options import RenderOptions
from svcmetrics.report import Report

INDENT = "  "
"""One level of the document's indentation (``json.dumps(..., indent=2)``)."""


def render_json(report: Report, options: RenderOptions) -> str:
    """JSON: meta, results and issues (spec 3.1); raw values, null when undefined.

    The text is ``json.dumps(document, ensure_ascii=False, indent=2)`` of the document
    ``{"meta": ..., "results": [...], "issues": [...]}``, byte for byte; the records are
    encoded by :func:`_records` (a city has some 400,000: ``indent`` makes ``json`` encode
    them in Python, several times slower than its C encoder).
    """
    names = indicator_names(report, options.lang)
    meta = {**report.facts.meta(), "lang": options.lang}
    results = [result_record(r, names, options.lang, report.by) for r in report.results]
    issues = [problem_record(p, options.lang) for p in report.problems]
    members = [
        f'{INDENT}"meta": {_nested(meta, 1)}',
        f'{INDENT}"results": {_records(results, 1)}',
        f'{INDENT}"issues": {_records(issues, 1)}',
    ]
    return "{\n" + ",\n".join(members) + "\n}\n"


def _nested(value: Any, depth: int) -> str:
    """``value`` as ``json.dumps(..., indent=2)`` writes it ``depth`` levels down."""
    # a JSON string holds no raw line break, so every one is the layout's
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + INDENT * depth)


def _records(records: Sequence[Mapping[str, Any]], depth: int) -> str:
    """A list of flat records (every value a string, number, boolean or null) as
    ``json.dumps(..., indent=2)`` writes it ``depth`` levels down, encoded by json's C
    encoder in one call: the separator between members carries the line break and the
    indentation of a record's members, and the records' own breaks are put in after.

    No JSON string holds a raw line break, so ``},`` + that separator + ``{`` can only
    stand between two records.
    """
    if not records or not all(records):
        return _nested(list(records), depth)  # (an empty record has no member to split on)
    inner = INDENT * (depth + 1)
    member = ",\n" + INDENT * (depth + 2)
    text = json.dumps(records, ensure_ascii=False, separators=(member, ": "))
    text = text.replace("}" + member + "{", f"\n{inner}}},\n{inner}{{{member[1:]}")
    # [{first ... last}] -> [\n  {\n    first ... last\n  }\n]
    return f"[\n{inner}{{{member[1:]}{text[2:-2]}\n{inner}}}\n{INDENT * depth}]"
