"""JSON: the run's facts, every result and every problem (spec 3.1); raw values, null when
undefined."""

from __future__ import annotations

import json

from svcmetrics.output.cells import indicator_names, problem_record, result_record
from svcmetrics.output.options import RenderOptions
from svcmetrics.report import Report


def render_json(report: Report, options: RenderOptions) -> str:
    """JSON: meta, results and issues (spec 3.1); raw values, null when undefined."""
    names = indicator_names(report, options.lang)
    document = {
        "meta": {**report.facts.meta(), "lang": options.lang},
        "results": [result_record(r, names, options.lang, report.by) for r in report.results],
        "issues": [problem_record(p, options.lang) for p in report.problems],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
