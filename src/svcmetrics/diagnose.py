"""Problems made useful: what a row's value should have been, and value maps that lead nowhere."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from svcmetrics.errors import ConfigError, Problem
from svcmetrics.models import canonical_values, record_columns
from svcmetrics.readers import Source


def check_value_targets(sources: Sequence[Source], events: Sequence[str]) -> None:
    """Every ``values:`` mapping of an event, party or category leads to a canonical value.

    (A need status may also be mapped to a survey answer, so its targets are not checked
    here; a need row with a status that is no need status is invalid, as usual.)
    """
    columns = record_columns()
    allowed = {
        name: values
        for name, values in canonical_values(events).items()
        if columns[name].only_on_event is None
    }
    for source in sources:
        for name, table in source.values.items():
            for raw, target in table.items():
                if name in allowed and target not in allowed[name]:
                    raise ConfigError(
                        "bad_value_target",
                        file=source.name,
                        field=name,
                        value=raw,
                        target=target,
                        allowed=", ".join(allowed[name]),
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
