"""The catalogues of every language and the functions that look texts up in them.

One module per language (``zh.py``, ``en.py``) holds one dict, key → text; a text may be a
:class:`Plural` whose form a count chooses. Keys are plain for labels, ``message.KIND`` and
``hint.KIND`` for the message and hint of an error or problem kind, ``kind.KIND`` for the
name of a kind of problem, ``click.…`` for the words of the command-line parser. Adding a
language is adding its module and a line in ``LANGUAGES``.
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from types import ModuleType
from typing import Any

from svcmetrics.errors import Problem, SvcmetricsError
from svcmetrics.i18n import en, zh
from svcmetrics.i18n.plural import Plural


class Lang(StrEnum):
    """The output languages (``--lang``, config ``lang:``), one per catalogue module."""

    ZH = "zh"
    EN = "en"


LANGUAGES: dict[str, ModuleType] = {"zh": zh, "en": en}
"""Every output language, by its ``--lang`` code; the first is the default of Chinese locales."""

LANGS: tuple[str, ...] = tuple(LANGUAGES)

FALLBACK = "en"
"""The language a text missing from another catalogue is taken from (outside strict mode)."""


class CatalogueError(LookupError):
    """A key or a placeholder the catalogue lacks: raised in strict mode (the tests)."""


_strict = os.environ.get("SVCMETRICS_STRICT_I18N", "") not in ("", "0")


def set_strict(strict: bool) -> None:
    """Make a missing key or placeholder an error (tests) instead of a fallback (users)."""
    global _strict
    _strict = strict


def catalogue(lang: str) -> Mapping[str, str | Plural]:
    """The texts of ``lang``, key → text."""
    return LANGUAGES[lang].CATALOGUE  # type: ignore[no-any-return]


def placeholders(text: str | Plural) -> set[str]:
    """The ``{name}`` placeholders of a text (of every form of a plural entry)."""
    forms = text.forms.values() if isinstance(text, Plural) else [text]
    return {
        name.split(".")[0].split("[")[0]
        for form in forms
        for _, name, _, _ in string.Formatter().parse(form)
        if name
    }


class _Missing(dict[str, Any]):
    """Parameters for ``format_map``: a missing one raises in strict mode, else stays shown."""

    def __missing__(self, key: str) -> str:
        if _strict:
            raise CatalogueError(f"no value for the placeholder {{{key}}}")
        return "{" + key + "}"


def _lookup(key: str, lang: str) -> tuple[str | Plural, str] | None:
    """The entry for ``key`` and the language it came from (``lang``, else the fallback)."""
    entry = catalogue(lang if lang in LANGUAGES else FALLBACK).get(key)
    if entry is not None:
        return entry, lang
    if _strict:
        raise CatalogueError(f"the {lang} catalogue has no key {key!r}")
    entry = catalogue(FALLBACK).get(key)
    return None if entry is None else (entry, FALLBACK)


def text(key: str, lang: str, params: Mapping[str, Any] | None = None) -> str:
    """The text of ``key`` in ``lang`` with its placeholders filled from ``params``."""
    found = _lookup(key, lang)
    if found is None:
        return key
    entry, used = found
    values = _Missing(localised(params or {}, used))
    if isinstance(entry, Plural):
        rule: Callable[[int], str] = LANGUAGES[used].PLURAL
        entry = entry.choose(values.get(entry.by), rule)
    return entry.format_map(values)


LOCAL = "@"
"""A parameter ``name@zh`` is what ``{name}`` shows in zh (values said in the language:
the Chinese headers of missing columns, the allowed values as a worker types them)."""


def localised(params: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """``params`` as ``lang`` shows them: ``name@lang`` stands for ``name``; the variants of
    other languages are dropped."""
    values = {key: value for key, value in params.items() if LOCAL not in key}
    suffix = LOCAL + lang
    values.update(
        {key.removesuffix(suffix): value for key, value in params.items() if key.endswith(suffix)}
    )
    return values


def has(key: str, lang: str) -> bool:
    """Whether the catalogue of ``lang`` has ``key``."""
    return key in catalogue(lang)


def label(key: str, lang: str, **params: Any) -> str:
    """A label in ``lang``."""
    return text(key, lang, params)


def kind_name(kind: str, lang: str) -> str:
    """The name of a kind of problem."""
    return text(f"kind.{kind}", lang)


def message(key: str, lang: str, params: Mapping[str, Any]) -> tuple[str, str]:
    """The message and the hint of an error or problem kind."""
    return text(f"message.{key}", lang, params), text(f"hint.{key}", lang, params)


WITHOUT: dict[str, tuple[str, str]] = {
    "unknown_community": ("closest", "unknown_community_far"),
    "config_unknown_key": ("closest", "config_unknown_key_far"),
    "config_invalid": ("value", "config_invalid_shape"),
}
"""Kinds whose message has a variant for when a parameter is empty: kind → (param, variant)."""


def problem_text(problem: Problem, lang: str) -> tuple[str, str]:
    """A problem's message and hint in ``lang``."""
    params = {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "value": problem.value if problem.value is not None else "",
        **problem.params,
    }
    key = problem.kind
    if key in WITHOUT and not params.get(WITHOUT[key][0]):
        key = WITHOUT[key][1]
    return message(key, lang, params)


def error_text(error: SvcmetricsError, lang: str) -> tuple[str, str]:
    """An error's message and hint in ``lang``."""
    return message(error.key, lang, error.params)


LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def option_values(argv: Sequence[str], name: str) -> list[str]:
    """The values of ``--name VALUE`` and ``--name=VALUE`` in raw arguments, in order."""
    values: list[str] = []
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            values.append(argv[index + 1])
        elif arg.startswith(name + "="):
            values.append(arg.split("=", 1)[1])
    return values


def lang_option(argv: Sequence[str]) -> str | None:
    """The language raw arguments ask for with their last valid ``--lang``; None when they
    ask for none (before anything is parsed: an invalid one is reported later)."""
    valid = [value for value in option_values(argv, "--lang") if value in LANGUAGES]
    return valid[-1] if valid else None


def locale_lang(env: Mapping[str, str] | None = None) -> str:
    """The language of the locale: the first of LC_ALL, LC_MESSAGES, LANG that is set."""
    environ = os.environ if env is None else env
    for name in LOCALE_VARIABLES:
        value = environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def resolve_lang(
    option: str | None, config_lang: str | None, env: Mapping[str, str] | None = None
) -> str:
    """``--lang``, else the config's ``lang``, else the locale (zh* gives zh), else en."""
    for choice in (option, config_lang):
        if choice in LANGUAGES:
            return str(choice)
    return locale_lang(env)
