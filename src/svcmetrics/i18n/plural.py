"""Plural-aware catalogue entries: one text per plural category, chosen by a count."""

from __future__ import annotations

from collections.abc import Callable, Mapping


class Plural:
    """A text with one form per plural category (CLDR names: ``one``, ``other``…).

    ``by`` names the placeholder whose number chooses the form; ``other`` is required.
    """

    __slots__ = ("by", "forms")

    def __init__(self, by: str, **forms: str) -> None:
        if "other" not in forms:
            raise ValueError("a plural entry needs an 'other' form")
        self.by = by
        self.forms: Mapping[str, str] = forms

    def choose(self, count: object, rule: Callable[[int], str]) -> str:
        """The form for ``count`` under a language's plural ``rule``."""
        category = rule(count) if isinstance(count, int) else "other"
        return self.forms.get(category, self.forms["other"])

    def __repr__(self) -> str:
        return f"Plural({self.by!r}, {dict(self.forms)!r})"


def one_other(count: int) -> str:
    """English and most European languages: ``one`` for 1, ``other`` otherwise."""
    return "one" if count == 1 else "other"


def no_plural(count: int) -> str:
    """Chinese, Japanese, Korean…: a single form."""
    return "other"
