"""Problems made useful: what a row's value should have been, and value maps that lead nowhere."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from svcmetrics.answers import Answer, AnswerLists
from svcmetrics.dates import EXCEL_EPOCH
from svcmetrics.errors import ConfigError, Problem
from svcmetrics.models import canonical_values, record_columns
from svcmetrics.readers import Source


def check_value_targets(sources: Sequence[Source], events: Sequence[str]) -> None:
    """Every ``values:`` mapping of an event, party or category leads to a canonical value.

    (A need status may also be mapped to a survey answer, so its targets are not checked
    here; a need row with a status that is no need status is invalid, as usual.)
    """
    for source in sources:
        check_targets(source.name, source.values, events)


def check_targets(
    name: str, values: Mapping[str, Mapping[str, str]], events: Sequence[str]
) -> None:
    """:func:`check_value_targets` of one log or table ``name`` with its ``values:``."""
    columns = record_columns()
    allowed = {
        key: canonical
        for key, canonical in canonical_values(events).items()
        if columns[key].only_on_event is None
    }
    for field, table in values.items():
        for raw, target in table.items():
            if field in allowed and target not in allowed[field]:
                raise ConfigError(
                    "bad_value_target",
                    file=name,
                    field=field,
                    value=raw,
                    target=target,
                    allowed=", ".join(allowed[field]),
                )


def describe_problems(
    problems: Sequence[Problem], events: Sequence[str], keys: Sequence[str]
) -> list[Problem]:
    """Add to each row problem what was expected (the values allowed with the user's own
    ``events``, and the closest of the community ``keys``)."""
    allowed = canonical_values(events)
    described: list[Problem] = []
    for problem in problems:
        field = str(problem.params.get("field", ""))
        params = dict(problem.params)
        if problem.kind == "bad_value":
            params["expected"] = ", ".join(allowed[field])
        elif problem.kind == "unknown_community" and problem.value is not None:
            close = difflib.get_close_matches(problem.value, list(keys), n=1, cutoff=0.3)
            params["closest"] = close[0] if close else ""
        described.append(
            Problem(
                problem.kind,
                problem.file,
                problem.line,
                problem.column,
                problem.value,
                params,
                problem.record,
            )
        )
    return described


def explained(
    kind: str,
    field: str,
    value: str | None,
    allowed: Mapping[str, Sequence[str]],
    lists: AnswerLists,
) -> dict[str, Any]:
    """What a row problem's message shows besides the cell: the ``allowed`` values of a
    field in both languages, the answer list to paste for an answer in none."""
    if kind == "bad_value":
        aliases = dict(record_columns()[field].values)
        return {
            "expected": ", ".join(allowed[field]),
            "expected@zh": "、".join(
                aliases[key][0] if aliases.get(key) else key for key in allowed[field]
            ),
        }
    if kind == "bad_answer":
        return {"satisfied": lists.pasteable(Answer.SATISFIED, value)}
    if kind == "excel_serial_date" and value is not None:
        return {"day": EXCEL_EPOCH + dt.timedelta(days=int(float(value)))}
    return {}
