"""Typed errors and problems: what went wrong with the input, as data the CLI can render."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]

WARNING_KINDS: frozenset[str] = frozenset(
    {
        "duplicate_row",
        "future_date",
        "mangled_id",
        "numerator_above_denominator",
        "profile_total_row",
        "encoding_guess",
        "encoding_private_use",
    }
)
"""Kinds of problem that do not make a row invalid; every other kind does."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one place of the input (a cell, a row, a config key).

    ``kind`` names a message of the i18n catalogue; ``params`` fill it in. The message and
    its hint are rendered in the user's language only when shown.
    """

    kind: str
    file: str = ""
    line: int | None = None
    column: str = ""
    value: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    record: int | None = None

    @property
    def severity(self) -> Severity:
        """``warning`` for what is suspicious but valid, else ``error``."""
        return "warning" if self.kind in WARNING_KINDS else "error"


def tally(problems: list[Problem]) -> dict[str, int]:
    """How many problems of each kind a list holds."""
    counts: dict[str, int] = {}
    for problem in problems:
        counts[problem.kind] = counts.get(problem.kind, 0) + 1
    return dict(sorted(counts.items()))


class SvcmetricsError(Exception):
    """Base of every error svcmetrics raises on purpose; ``exit_code`` is what the CLI uses."""

    exit_code = 4

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class UsageError(SvcmetricsError):
    """Options that do not fit together, or nothing to read (exit 2)."""

    exit_code = 2


class InputError(SvcmetricsError):
    """A log, profile or standard input that cannot be used (exit 3)."""

    exit_code = 3

    def __init__(
        self,
        key: str,
        /,
        problems: list[Problem] | None = None,
        totals: dict[str, int] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(key, **params)
        self.problems = problems or []
        self.totals = totals if totals is not None else tally(self.problems)
        """Problems of each kind, all counted (``problems`` may list only the first)."""


class ConfigError(InputError):
    """A config or profile that does not follow the schema (exit 3)."""
