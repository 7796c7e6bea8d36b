"""The command line: parses options, runs the pipe, writes stdout/stderr, maps errors to exits.

The language is resolved once, before parsing (spec 3.2); help texts are catalogue keys
translated when shown (:mod:`svcmetrics.clicktext`), so the commands live at module level.
"""

import contextlib
import datetime as dt
import functools
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, ParamSpec

import typer

from svcmetrics import __version__, early, signals
from svcmetrics.clicktext import (
    Command,
    Group,
    current_lang,
    is_usage_error,
    lazy,
    resolve_run_lang,
    set_lang,
    usage_error_lines,
)
from svcmetrics.console import (
    UTF8_FORMATS,
    console_notice,
    emit,
    protect_console,
    write_bytes,
    write_text,
)
from svcmetrics.errors import WARNING_KINDS, InputError, SvcmetricsError, UsageError
from svcmetrics.heap import collector_paused, spare_exit_collection
from svcmetrics.i18n import Lang, error_text, label
from svcmetrics.output.options import OutputFormat, ProblemFormat, RenderOptions, SqlDialect
from svcmetrics.periods import PeriodKind
from svcmetrics.signals import (
    EXIT_SIGINT,
    EXIT_SIGTERM,
    Terminated,
    exit_code,
    signal_code,
    signalled,
    stopped_early,
)

if TYPE_CHECKING:
    from svcmetrics.report import Report

EXIT_OK = 0
EXIT_BREACH = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INTERNAL = 4


P = ParamSpec("P")


class LastPeriod(StrEnum):
    """The complete periods ``--last`` can select."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class By(StrEnum):
    """The fields ``--by`` breaks results down by."""

    SERVICE = "service"
    CATEGORY = "category"


class FailOn(StrEnum):
    """The breach level at or beyond which ``compute`` exits 1."""

    WARN = "warn"
    CRITICAL = "critical"


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _stderr_options(lang: str) -> RenderOptions:
    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    width = shutil.get_terminal_size().columns if sys.stderr.isatty() else 120
    return RenderOptions(lang=lang, color=color, width=width, terminal=sys.stderr.isatty())


def _err(text: str) -> None:
    write_text(text if text.endswith("\n") or not text else text + "\n", sys.stderr)


def _report_error(error: SvcmetricsError, lang: str) -> None:
    """Write an error (and the problems it carries) to stderr, in ``lang``."""
    from svcmetrics.output.problems import render_problems

    if isinstance(error, InputError) and error.problems:
        _err(render_problems(error.problems, _stderr_options(lang), error.totals))
    text, hint = error_text(error, lang)
    _err(f"svcmetrics: {text}")
    if hint:
        _err(f"  → {hint}")


def _parse_day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError("bad_day_option", option=option, value=value) from None


def _guarded(command: Callable[P, None]) -> Callable[P, None]:
    """Turn what a command raises into the exit codes of spec 3.3 (never a traceback).

    Messages are in the command's ``--lang`` (else the run's language); its ``--debug``
    shows the traceback of an internal error.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        option = kwargs.get("lang_option")
        lang = _lang(option if isinstance(option, Lang) else None)
        try:
            command(*args, **kwargs)
        except typer.Exit:
            raise
        except SvcmetricsError as exc:
            _report_error(exc, lang)
            raise typer.Exit(exc.exit_code) from None
        except (KeyboardInterrupt, Terminated) as stop:  # (said by main, as every stop)
            raise typer.Exit(exit_code(stop)) from None
        except BrokenPipeError:
            _quiet_broken_pipe()
            raise typer.Exit(EXIT_OK) from None
        except Exception as exc:  # the one place where a bug becomes exit 4
            if signalled:  # (an error a signal caused, e.g. in a DuckDB query)
                raise typer.Exit(signal_code(signalled[-1])) from None
            if kwargs.get("debug"):
                traceback.print_exc()
            _err(label("internal_error", lang, detail=type(exc).__name__))
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


@contextlib.contextmanager
def _progress(lang: str, enabled: bool) -> Iterator[Callable[[str], None] | None]:
    """A bar of the run's stages on stderr, only on a terminal (never in pipes or cron)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    stages = ("read", "check", "count")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label("progress_read", lang), total=len(stages))

        def advance(stage: str) -> None:
            bar.update(
                task,
                completed=stages.index(stage) if stage in stages else len(stages),
                description=label(f"progress_{stage}", lang),
            )

        yield advance


def _notices(report: "Report", lang: str) -> None:
    """Skipped rows, warnings and breaches, on stderr after the results."""
    from svcmetrics.output.problems import render_breaches, render_notices, summary

    errors = {k: n for k, n in report.totals.items() if k not in WARNING_KINDS}
    if errors:
        _err(label("skipped_rows", lang, count=report.facts.skipped_rows))
        _err(summary(report.totals, lang))
    warnings = [p for p in report.problems if p.severity == "warning"]
    if warnings:
        counts = {k: n for k, n in report.totals.items() if k in WARNING_KINDS}
        _err(render_notices(warnings, lang, counts))
    breaches = render_breaches(report, lang)
    if breaches:
        _err(breaches)


app = typer.Typer(
    name="svcmetrics",
    help=lazy("help_app"),
    cls=Group,
    add_completion=False,
    no_args_is_help=True,
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

Logs = Annotated[
    list[str] | None,
    typer.Argument(help=lazy("help_logs"), metavar=lazy("metavar_logs"), show_default=False),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help=lazy("help_config"), metavar=lazy("metavar_file")),
]
ProfileOpt = Annotated[
    Path | None,
    typer.Option("--profile", "-p", help=lazy("help_profile"), metavar=lazy("metavar_file")),
]
LangOpt = Annotated[Lang | None, typer.Option("--lang", help=lazy("help_lang"))]
DateFormatOpt = Annotated[
    str | None,
    typer.Option("--date-format", help=lazy("help_date_format"), metavar=lazy("metavar_format")),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help=lazy("help_encoding"), metavar=lazy("metavar_encoding")),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help=lazy("help_debug"))]
EngineOpt = Annotated[str | None, typer.Option("--engine", help=lazy("help_engine"), metavar="URL")]
Day = "YYYY-MM-DD"


def _lang(option: Lang | None) -> str:
    """The language of the run: ``--lang`` as parsed, else the one resolved at start."""
    return current_lang() if option is None else option.value


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help=lazy("help_version"))] = False,
    lang_option: LangOpt = None,
) -> None:
    """Language and version options shared by every command."""
    if version:
        write_text(f"svcmetrics {__version__}\n")
        raise typer.Exit(EXIT_OK)
    if ctx.invoked_subcommand is None:
        ctx.fail(label("click.missing_command", _lang(lang_option)))


@app.command(cls=Command, help=lazy("help_compute"))
@_guarded
def compute(
    logs: Logs = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
    period: Annotated[
        PeriodKind | None,
        typer.Option("--period", help=lazy("help_period"), show_default="month"),
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", help=lazy("help_month"), metavar="YYYY-MM")
    ] = None,
    last: Annotated[LastPeriod | None, typer.Option("--last", help=lazy("help_last"))] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help=lazy("help_from"), metavar=Day)
    ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help=lazy("help_to"), metavar=Day)] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help=lazy("help_as_of"), metavar=Day)
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help=lazy("help_format"))
    ] = OutputFormat.TABLE,
    wide: Annotated[bool, typer.Option("--wide", help=lazy("help_wide"))] = False,
    chart: Annotated[bool, typer.Option("--chart", help=lazy("help_chart"), hidden=True)] = False,
    raw_cells: Annotated[bool, typer.Option("--raw-cells", help=lazy("help_raw_cells"))] = False,
    bom: Annotated[bool, typer.Option("--bom", help=lazy("help_bom"))] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help=lazy("help_output"), metavar=lazy("metavar_file")),
    ] = None,
    lang_option: LangOpt = None,
    by: Annotated[By | None, typer.Option("--by", help=lazy("help_by"))] = None,
    indicators: Annotated[
        str | None,
        typer.Option("--indicators", help=lazy("help_indicators"), metavar=lazy("metavar_keys")),
    ] = None,
    fail_on: Annotated[FailOn | None, typer.Option("--fail-on", help=lazy("help_fail_on"))] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help=lazy("help_skip_invalid"))
    ] = False,
    encoding: EncodingOpt = None,
    date_format: DateFormatOpt = None,
    engine: EngineOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=lazy("help_quiet"))] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=lazy("help_verbose"))] = False,
    debug: DebugOpt = False,
) -> None:
    """Compute every indicator per community and period."""
    from svcmetrics.judge import Status, at_or_beyond
    from svcmetrics.output import render
    from svcmetrics.pipeline import Options, Output, compute

    if engine is not None:
        from svcmetrics.warehouse.pipe import compute

    lang = _lang(lang_option)
    color = output is None and _stdout_is_terminal()
    if chart:  # deprecated alias of --format chart, kept for existing crontabs
        if fmt not in (OutputFormat.TABLE, OutputFormat.CHART):
            raise UsageError("chart_needs_table")
        fmt = OutputFormat.CHART
    options = Options(
        logs=tuple(logs or ()),
        config=config,
        profile=profile,
        period=period,
        month=month,
        last=None if last is None else PeriodKind(last.value),
        by=None if by is None else by.value,
        date_from=_parse_day(date_from, "--from"),
        date_to=_parse_day(date_to, "--to"),
        as_of=_parse_day(as_of, "--as-of"),
        indicators=tuple(k.strip() for k in (indicators or "").split(",") if k.strip()),
        skip_invalid=skip_invalid,
        encoding=encoding,
        date_format=date_format,
        engine=engine,
        output=Output(
            fmt=fmt,
            lang=lang,
            wide=wide,
            bom=bom,
            raw_cells=raw_cells,
            color=color,
            width=shutil.get_terminal_size().columns if color else 120,
            terminal=output is None and sys.stdout.isatty(),
        ),
    )
    if fmt is OutputFormat.XLSX and output is None and sys.stdout.isatty():
        raise UsageError("xlsx_to_terminal")
    with _progress(lang, enabled=sys.stderr.isatty() and not quiet) as progress:
        report, render_options = compute(replace(options, progress=progress))
    text = render(report, fmt, render_options)
    emit(
        text,
        None if output is None else Path(str(output).replace("{period}", report.period_label)),
        utf8=fmt in UTF8_FORMATS,
    )
    if fmt is OutputFormat.TABLE and not quiet:
        from svcmetrics.output.table import PLAIN_ABOVE, drawn_plain

        if drawn_plain(report):
            _err(label("table_drawn_plain", lang, count=len(report.results), limit=PLAIN_ABOVE))
    if verbose and not quiet:
        for source, encoding_used in report.facts.encodings:
            _err(label("encoding_used", lang, file=source, encoding=encoding_used or "-"))
    failed = fail_on is not None and any(
        at_or_beyond(result.status, Status(fail_on.value)) for result in report.results
    )
    if not quiet:
        _notices(report, lang)
    if failed:
        raise typer.Exit(EXIT_BREACH)


@app.command(cls=Command, help=lazy("help_validate"))
@_guarded
def validate(
    logs: Logs = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
    fmt: Annotated[
        ProblemFormat, typer.Option("--format", "-f", help=lazy("help_format"))
    ] = ProblemFormat.TABLE,
    lang_option: LangOpt = None,
    encoding: EncodingOpt = None,
    date_format: DateFormatOpt = None,
    engine: EngineOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Check logs and list every problem."""
    lang = _lang(lang_option)
    from svcmetrics.output.problems import render_problems, render_problems_json
    from svcmetrics.pipeline import Options, check

    if engine is not None:
        from svcmetrics.warehouse.pipe import check

    checked = check(
        Options(
            logs=tuple(logs or ()),
            config=config,
            profile=profile,
            encoding=encoding,
            date_format=date_format,
            engine=engine,
        )
    )
    if fmt is ProblemFormat.JSON:
        write_bytes(
            render_problems_json(checked.problems, checked.read, lang, checked.totals).encode()
        )
    elif checked.problems:
        options = RenderOptions(
            lang=lang,
            color=_stdout_is_terminal(),
            width=shutil.get_terminal_size().columns,
            terminal=sys.stdout.isatty(),
        )
        write_text(render_problems(checked.problems, options, checked.totals))
    else:
        write_text(label("validate_ok", lang, rows=checked.rows) + "\n")
    if checked.error_count:
        raise typer.Exit(EXIT_INPUT)


@app.command(cls=Command, help=lazy("help_explain"))
@_guarded
def explain(
    indicator: Annotated[
        str | None,
        typer.Argument(
            help=lazy("help_indicator"), metavar=lazy("metavar_indicator"), show_default=False
        ),
    ] = None,
    config: ConfigOpt = None,
    lang_option: LangOpt = None,
) -> None:
    """Explain an indicator's formula and meaning."""
    lang = _lang(lang_option)
    from svcmetrics.config import load_config
    from svcmetrics.indicators import definitions
    from svcmetrics.output.explain import render_explain

    loaded, _ = load_config(config)
    table = definitions(loaded)
    if indicator is not None:
        table = [entry for entry in table if entry.key == indicator]
        if not table:
            valid = ", ".join(entry.key for entry in definitions(loaded))
            raise UsageError("unknown_indicator", key=indicator, valid=valid)
    options = RenderOptions(lang=lang, color=_stdout_is_terminal(), width=100)
    write_text(render_explain(table, lang, loaded.satisfaction.min_sample, options))


@app.command(cls=Command, help=lazy("help_init"))
@_guarded
def init(
    folder: Annotated[
        Path,
        typer.Argument(
            help=lazy("help_init_folder"), metavar=lazy("metavar_folder"), show_default=False
        ),
    ] = Path("."),
    lang_option: LangOpt = None,
) -> None:
    """Write a working starter config, profile and log."""
    lang = _lang(lang_option)
    from svcmetrics.files import write_starter

    written = write_starter(folder, lang)
    for path in written:
        write_text(f"{path}\n")
    _err(label("init_done", lang, folder=folder))


@app.command(cls=Command, help=lazy("help_template"))
@_guarded
def template(
    file: Annotated[
        Path | None,
        typer.Argument(
            help=lazy("help_template_file"), metavar=lazy("metavar_file"), show_default=False
        ),
    ] = None,
    config: ConfigOpt = None,
    profile: ProfileOpt = None,
    lang_option: LangOpt = None,
) -> None:
    """Write a ledger workbook to fill in, with drop-down lists (spec 3.4)."""
    lang = _lang(lang_option)
    from svcmetrics.template import ledger_template

    target = file or Path(label("template_default_name", lang))
    if target.exists():  # never over a ledger that is already filled in
        raise InputError("template_exists", file=str(target))
    emit(ledger_template(config, profile, lang, dt.date.today(), target.name), target)
    _err(label("template_written", lang, file=target))


@app.command(cls=Command, help=lazy("help_sql"))
@_guarded
def sql(
    dialect: Annotated[
        SqlDialect, typer.Option("--dialect", help=lazy("help_dialect"))
    ] = SqlDialect.DUCKDB,
    config: ConfigOpt = None,
    lang_option: LangOpt = None,
) -> None:
    """Print the indicators as one SQL query for a warehouse."""
    from svcmetrics.answers import answer_lists
    from svcmetrics.config import load_config
    from svcmetrics.indicators import definitions
    from svcmetrics.sqlexport import query

    loaded, _ = load_config(config)
    text = query(definitions(loaded), answer_lists(loaded.satisfaction), dialect)
    write_text(text)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the command line and exit with the code of spec 3.3."""
    args = list(sys.argv[1:] if argv is None else argv)
    signalled.clear()
    protect_console()
    if args == ["--version"]:  # the same line the parser would print, without building it
        write_text(f"svcmetrics {__version__}\n")
        sys.exit(EXIT_OK)
    signals.install()  # (again: main may be called without the entry, as in tests)
    # Python's collector paused from the config's loading (which builds the models) to
    # the exit: a run makes objects that live to its end, and no cycles worth walking
    with collector_paused():
        try:
            code = _run(args)
        except (KeyboardInterrupt, Terminated) as stop:  # (while the config was read)
            code = stopped_early(stop, args)
        finally:
            early.discard()  # (the copies of logs this run never read)
            _discard_opening()
        if argv is None:  # the process's own command line: it ends here
            # (frozen while the collector is still paused: once enabled again, it would
            # first walk every object the run made, as the exit collection did)
            spare_exit_collection()
    sys.exit(code)


def _discard_opening() -> None:
    """Close the database a run started opening and never used (:mod:`svcmetrics.opening`
    is imported only by the runs that open one)."""
    opening = sys.modules.get("svcmetrics.opening")
    if opening is not None:
        opening.discard()


def _run(args: list[str]) -> int | str | None:
    """:func:`main` past ``--version``: the command's exit code."""
    # a large GB18030, GBK or Big5 log's copy starts now, while the rest is imported and
    # the config and profile are read
    early.start(args)
    if early.reads_logs(args):  # (its database opens meanwhile too)
        from svcmetrics import opening

        opening.start()
    lang = resolve_run_lang(args)
    set_lang(lang)
    code: int | str | None = EXIT_OK
    try:
        returned = app(args=args, prog_name="svcmetrics", standalone_mode=False)
        code = returned if isinstance(returned, int) else EXIT_OK
    except SystemExit as exc:
        code = exc.code
    except (KeyboardInterrupt, Terminated) as stop:
        code = exit_code(stop)
    except Exception as exc:
        if not is_usage_error(exc):
            raise
        _err("\n".join(usage_error_lines(exc, lang)))
        code = EXIT_USAGE
    # Only a stop ends with these codes: a command's (its handler turns it into them), one
    # while typer parsed the command line (typer turns Ctrl-C into exit 130, silently),
    # or one here; each is said once, here.
    if code in (EXIT_SIGINT, EXIT_SIGTERM):
        _err(label("interrupted", lang))
    console_notice(lang)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    return code


def _quiet_broken_pipe() -> None:
    """After ``| head`` closed the pipe: point stdout at /dev/null so the exit flush is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
