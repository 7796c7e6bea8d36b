"""Click's and Typer's own words (usage line, help headings, usage errors) in the output language.

Help texts are catalogue keys until a help page or usage line is drawn: :class:`Command` and
:class:`Group` put them in the language in force at that moment (lazy translation), and
give the parser's English (``Usage:``, ``Options:``, ``[default: …]``, ``Show this message
and exit.``) its catalogue text. Usage errors are raised by the parser in English; they are
recognised by their class and attributes (and, for the few raised as plain text, by their
fixed wording) and written again from the catalogue by :func:`usage_error_lines`.

The language in force is decided once per run, before parsing, by :func:`resolve_run_lang`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from typer.core import TyperCommand, TyperGroup

from svcmetrics.console import shown
from svcmetrics.errors import SvcmetricsError
from svcmetrics.i18n import label, lang_option, locale_lang, option_values, resolve_lang

_LANG: ContextVar[str | None] = ContextVar("svcmetrics_lang", default=None)

HELP_KEYS: set[str] = set()
"""Every catalogue key used as a help text or metavar (the completeness test reads it)."""


def set_lang(lang: str) -> None:
    """Set the language of this run (resolved once, before parsing)."""
    _LANG.set(lang)


def current_lang() -> str:
    """The language in force: the one set for the run, else the locale's."""
    return _LANG.get() or locale_lang()


def lazy(key: str) -> str:
    """A help text or metavar given by its catalogue key, translated when it is shown."""
    HELP_KEYS.add(key)
    return key


_LOCALISED = ("help", "short_help", "metavar")


def _localise(item: Any, lang: str) -> None:
    """Put the lazy texts of a command or parameter in ``lang`` (each built app is fresh)."""
    for attr in _LOCALISED:
        value = getattr(item, attr, None)
        if isinstance(value, str) and value in HELP_KEYS:
            setattr(item, attr, label(value, lang))


def localise(command: Any, ctx: Any) -> None:
    """Translate a command, its parameters, its help option and its subcommands."""
    lang = current_lang()
    _localise(command, lang)
    command.options_metavar = label("click.options_metavar", lang)
    for param in command.params:
        _localise(param, lang)
    help_option = command.get_help_option(ctx)
    if help_option is not None:
        help_option.help = label("click.help_option", lang)
    for sub in getattr(command, "commands", {}).values():
        _localise(sub, lang)
    if hasattr(command, "subcommand_metavar"):
        command.subcommand_metavar = label("click.command_metavar", lang)


_HEADING = re.compile(r"^(Usage: |Options:$|Arguments:$|Commands:$)", re.MULTILINE)
_HEADING_KEYS = {
    "Usage: ": "click.usage",
    "Options:": "click.options",
    "Arguments:": "click.arguments",
    "Commands:": "click.commands",
}
_DEFAULT = re.compile(r"\[default: ((?:[^\[\]]|\[[^\]]*\])*)\]")
_REQUIRED = re.compile(r"\[required\]")
_ARGUMENT_TYPE = re.compile(r" <(?:list\[)?(?:str|path)\]?>(?=  )")
"""Typer's type after an argument's name (its metavar already says what to give)."""


def click_words(text: str, lang: str) -> str:
    """A help page or usage line with the parser's own English words in ``lang``."""
    text = _HEADING.sub(lambda m: label(_HEADING_KEYS[m.group(1)], lang), text)
    text = _ARGUMENT_TYPE.sub("", text)
    text = _DEFAULT.sub(lambda m: label("click.default", lang, value=m.group(1)), text)
    return _REQUIRED.sub(lambda m: label("click.required", lang), text)


_ZERO_WIDTH = "\u200b"

_BaseContext: Any = TyperCommand.context_class


class _Formatter(_BaseContext.formatter_class):  # type: ignore[misc]
    """Click's formatter, aligning columns by display width (a Chinese character is two).

    Click pads by ``len``; each name in the first column gets as many zero-width spaces as
    its wide characters, so that ``len`` is its width, and they are taken out at the end.
    """

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        padded = [(_widened(first), *rest) for first, *rest in rows]
        super().write_dl(padded, col_max, col_spacing)

    def getvalue(self) -> str:
        return str(super().getvalue()).replace(_ZERO_WIDTH, "")


def _widened(text: str) -> str:
    from wcwidth import wcswidth

    width = wcswidth(text)
    return text + _ZERO_WIDTH * (width - len(text)) if width > len(text) else text


class _Context(_BaseContext):  # type: ignore[misc]
    formatter_class = _Formatter


class _Localised:
    """Help and usage drawn in the language in force, columns aligned by display width."""

    context_class: Any = _Context

    def get_usage(self, ctx: Any) -> str:
        localise(self, ctx)
        return click_words(super().get_usage(ctx), current_lang())  # type: ignore[misc]

    def get_help(self, ctx: Any) -> str:
        localise(self, ctx)
        # the parser prints the page itself: note here what the console cannot show
        page = click_words(super().get_help(ctx), current_lang())  # type: ignore[misc]
        return shown(page, sys.stdout)


class Command(_Localised, TyperCommand):
    """A command whose help and usage follow the language in force."""


class Group(_Localised, TyperGroup):
    """The command group, likewise."""


def _names(error: BaseException) -> set[str]:
    """The class names of an exception and its bases (Click's classes, wherever they live)."""
    return {cls.__name__ for cls in type(error).__mro__}


def is_usage_error(error: BaseException) -> bool:
    """Whether ``error`` is the parser's usage error (exit 2)."""
    return "UsageError" in _names(error) and hasattr(error, "format_message")


def _param_hint(param: Any) -> str:
    if param is None:
        return ""
    if getattr(param, "param_type_name", "") == "argument":
        return repr(param.metavar or param.name)
    return " / ".join(repr(opt) for opt in param.opts)


_PLAIN: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Got unexpected extra arguments? ?(?:\(s\))? \((?P<args>.*)\)$"), "click.extra"),
    (re.compile(r"^Missing command\.$"), "click.missing_command"),
    (re.compile(r"^No such command '(?P<name>.*)'\.$"), "click.no_such_command"),
    (
        re.compile(r"^Option '(?P<option>.*)' requires (?:an argument|\d+ arguments)\.$"),
        "click.needs_value",
    ),
    (re.compile(r"^Option '(?P<option>.*)' does not take a value\.$"), "click.takes_no_value"),
    (
        re.compile(r"^(?:Value error, )?'(?P<value>.*)' is not one of (?P<choices>.*)\.$"),
        "click.not_one_of",
    ),
]
"""Messages the parser raises as plain text: their fixed wording, and the catalogue key."""


def _plain(message: str, lang: str) -> str:
    for pattern, key in _PLAIN:
        found = pattern.match(message.strip())
        if found:
            return label(key, lang, **found.groupdict())
    return message


def usage_message(error: Any, lang: str) -> str:
    """The text of a usage error in ``lang``."""
    names = _names(error)
    if "NoSuchOption" in names:
        text = label("click.no_such_option", lang, option=error.option_name)
        if error.possibilities:
            options = ", ".join(sorted(error.possibilities))
            text += label("click.possible_options", lang, options=options)
        return text
    if "MissingParameter" in names:
        return label("click.missing", lang, name=_param_hint(error.param))
    if "BadParameter" in names:
        hint = _param_hint(error.param)
        detail = _plain(str(error.message), lang)
        if not hint:
            return label("click.invalid_value", lang, detail=detail)
        return label("click.invalid_value_for", lang, name=hint, detail=detail)
    return _plain(str(error.message), lang)


def usage_error_lines(error: Any, lang: str) -> list[str]:
    """What to write on stderr for a usage error: usage line, where to find help, the error."""
    ctx = getattr(error, "ctx", None)
    if "NoArgsIsHelpError" in _names(error) and ctx is not None:
        return [ctx.get_help()]
    lines: list[str] = []
    if ctx is not None:
        lines.append(ctx.get_usage())
        if ctx.command.get_help_option(ctx) is not None:
            option = ctx.help_option_names[0]
            lines.append(label("click.try_help", lang, command=ctx.command_path, option=option))
        lines.append("")
    lines.append(label("click.error", lang, message=usage_message(error, lang)))
    return lines


DEFAULT_CONFIG = "svcmetrics.yaml"
"""The config a run reads when none is named (:data:`svcmetrics.config.DEFAULT_CONFIG`)."""


def _config_lang(argv: Sequence[str]) -> str | None:
    """The ``lang`` of the config the run will use, read by the config loader.

    A config that cannot be loaded gives no language here; the command reports it in full.
    """
    names = option_values(argv, "--config") + option_values(argv, "-c")
    name = names[-1] if names else None
    if name is None and not Path(DEFAULT_CONFIG).is_file():
        return None  # no config to read: --help and --version start without the models
    from svcmetrics.config import load_config

    try:
        config, _ = load_config(None if name is None else Path(name))
    except SvcmetricsError:
        return None
    return config.lang


def resolve_run_lang(argv: Sequence[str]) -> str:
    """The language of a run (spec 3.2), decided once before anything is parsed or shown:
    ``--lang``, else the config's ``lang``, else the locale."""
    chosen = lang_option(argv)
    if chosen:  # an invalid --lang is reported, in the language of the rest
        return resolve_lang(chosen, None)
    return resolve_lang(None, _config_lang(argv))
