"""The command line: parses options, runs the pipe, writes stdout/stderr, maps errors to exits.

The language is resolved before the app is built, so that help texts are in it too.
"""

import contextlib
import datetime as dt
import functools
import os
import shutil
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn, ParamSpec

import typer

from svcmetrics import __version__
from svcmetrics.errors import WARNING_KINDS, InputError, SvcmetricsError, UsageError
from svcmetrics.i18n import error_text, label, resolve_lang
from svcmetrics.output.options import OutputFormat, ProblemFormat, RenderOptions, SqlDialect
from svcmetrics.periods import PeriodKind

if TYPE_CHECKING:
    from svcmetrics.report import Report

EXIT_OK = 0
EXIT_BREACH = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INTERNAL = 4
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


P = ParamSpec("P")


class LangChoice(StrEnum):
    """The languages of ``--lang``."""

    ZH = "zh"
    EN = "en"


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


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanup runs as for Ctrl-C."""


def _on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise Terminated


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _stderr_options(lang: str) -> RenderOptions:
    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    width = shutil.get_terminal_size().columns if sys.stderr.isatty() else 120
    return RenderOptions(lang=lang, color=color, width=width, terminal=sys.stderr.isatty())


def _err(text: str) -> None:
    sys.stderr.write(text if text.endswith("\n") or not text else text + "\n")
    sys.stderr.flush()


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


def _emit(text: str, output: Path | None) -> None:
    from svcmetrics.files import write_atomic

    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    if not output.parent.exists() and str(output.parent):
        raise InputError("output_folder_missing", file=str(output), folder=str(output.parent))
    if output.is_dir():
        raise InputError("output_unwritable", file=str(output), detail="a folder")
    try:
        write_atomic(output, text)
    except OSError as exc:
        raise InputError(
            "output_unwritable", file=str(output), detail=exc.strerror or str(exc)
        ) from exc


def _guarded(lang: str, debug: bool) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Turn what a command raises into the exit codes of spec 3.3 (never a traceback)."""

    def decorate(command: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(command)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                command(*args, **kwargs)
            except typer.Exit:
                raise
            except SvcmetricsError as exc:
                _report_error(exc, lang)
                raise typer.Exit(exc.exit_code) from None
            except KeyboardInterrupt:
                _err(label("interrupted", lang))
                raise typer.Exit(EXIT_SIGINT) from None
            except Terminated:
                _err(label("interrupted", lang))
                raise typer.Exit(EXIT_SIGTERM) from None
            except BrokenPipeError:
                _quiet_broken_pipe()
                raise typer.Exit(EXIT_OK) from None
            except Exception as exc:  # the one place where a bug becomes exit 4
                if debug:
                    traceback.print_exc()
                _err(label("internal_error", lang, detail=type(exc).__name__))
                raise typer.Exit(EXIT_INTERNAL) from None

        return wrapper

    return decorate


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
        _err(label("skipped_rows", lang, count=report.meta.get("skipped_rows", 0)))
        _err(summary(errors, lang))
    warnings = [p for p in report.problems if p.severity == "warning"]
    if warnings:
        counts = {k: n for k, n in report.totals.items() if k in WARNING_KINDS}
        _err(render_notices(warnings, lang, counts))
    breaches = render_breaches(report, lang)
    if breaches:
        _err(breaches)


def build_app(lang: str, debug: bool = False) -> typer.Typer:
    """The Typer app with every help text in ``lang``."""
    app = typer.Typer(
        name="svcmetrics",
        help=label("help_app", lang),
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )

    def show_version(value: bool) -> None:
        if value:
            sys.stdout.write(f"svcmetrics {__version__}\n")
            raise typer.Exit(EXIT_OK)

    @app.callback()
    def root(
        version: Annotated[
            bool,
            typer.Option(
                "--version", help=label("help_version", lang), callback=show_version, is_eager=True
            ),
        ] = False,
        lang_option: Annotated[
            LangChoice | None, typer.Option("--lang", help=label("help_lang", lang))
        ] = None,
    ) -> None:
        """Language and version options shared by every command."""

    Logs = Annotated[
        list[str] | None, typer.Argument(help=label("help_logs", lang), show_default=False)
    ]
    ConfigOpt = Annotated[
        Path | None, typer.Option("--config", "-c", help=label("help_config", lang))
    ]
    ProfileOpt = Annotated[
        Path | None, typer.Option("--profile", "-p", help=label("help_profile", lang))
    ]
    LangOpt = Annotated[LangChoice | None, typer.Option("--lang", help=label("help_lang", lang))]
    DateFormatOpt = Annotated[
        str | None, typer.Option("--date-format", help=label("help_date_format", lang))
    ]
    EncodingOpt = Annotated[
        str | None, typer.Option("--encoding", help=label("help_encoding", lang))
    ]

    guard = _guarded(lang, debug)

    @app.command(help=label("help_compute", lang))
    @guard
    def compute(
        logs: Logs = None,
        config: ConfigOpt = None,
        profile: ProfileOpt = None,
        period: Annotated[
            PeriodKind | None,
            typer.Option("--period", help=label("help_period", lang), show_default="month"),
        ] = None,
        month: Annotated[
            str | None, typer.Option("--month", help=label("help_month", lang))
        ] = None,
        last: Annotated[
            LastPeriod | None, typer.Option("--last", help=label("help_last", lang))
        ] = None,
        date_from: Annotated[
            str | None, typer.Option("--from", help=label("help_from", lang))
        ] = None,
        date_to: Annotated[str | None, typer.Option("--to", help=label("help_to", lang))] = None,
        as_of: Annotated[
            str | None, typer.Option("--as-of", help=label("help_as_of", lang))
        ] = None,
        fmt: Annotated[
            OutputFormat, typer.Option("--format", "-f", help=label("help_format", lang))
        ] = OutputFormat.TABLE,
        wide: Annotated[bool, typer.Option("--wide", help=label("help_wide", lang))] = False,
        chart: Annotated[
            bool, typer.Option("--chart", help=label("help_chart", lang), hidden=True)
        ] = False,
        raw_cells: Annotated[
            bool, typer.Option("--raw-cells", help=label("help_raw_cells", lang))
        ] = False,
        bom: Annotated[bool, typer.Option("--bom", help=label("help_bom", lang))] = False,
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help=label("help_output", lang))
        ] = None,
        lang_option: LangOpt = None,
        by: Annotated[By | None, typer.Option("--by", help=label("help_by", lang))] = None,
        fail_on: Annotated[
            FailOn | None, typer.Option("--fail-on", help=label("help_fail_on", lang))
        ] = None,
        skip_invalid: Annotated[
            bool, typer.Option("--skip-invalid", help=label("help_skip_invalid", lang))
        ] = False,
        encoding: EncodingOpt = None,
        date_format: DateFormatOpt = None,
        quiet: Annotated[
            bool, typer.Option("--quiet", "-q", help=label("help_quiet", lang))
        ] = False,
        verbose: Annotated[
            bool, typer.Option("--verbose", "-v", help=label("help_verbose", lang))
        ] = False,
        debug: Annotated[bool, typer.Option("--debug", help=label("help_debug", lang))] = False,
    ) -> None:
        from svcmetrics.judge import Status, at_or_beyond
        from svcmetrics.output import render
        from svcmetrics.pipeline import Options, run

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
            skip_invalid=skip_invalid,
            encoding=encoding,
            date_format=date_format,
        )
        if (wide or bom or raw_cells) and fmt is not OutputFormat.CSV:
            option = "--wide" if wide else "--bom" if bom else "--raw-cells"
            raise UsageError("csv_only_option", option=option)
        if chart:  # deprecated alias of --format chart, kept for existing crontabs
            if fmt not in (OutputFormat.TABLE, OutputFormat.CHART):
                raise UsageError("chart_needs_table")
            fmt = OutputFormat.CHART
        with _progress(lang, enabled=sys.stderr.isatty() and not quiet) as progress:
            report = run(replace(options, progress=progress))
        color = output is None and _stdout_is_terminal()
        width = shutil.get_terminal_size().columns if color else 120
        csv_bom = bom or (report.csv_bom and fmt is OutputFormat.CSV)
        render_options = RenderOptions(
            lang=lang,
            wide=wide,
            bom=csv_bom,
            color=color,
            width=width,
            neutralise=not raw_cells,
            terminal=output is None and sys.stdout.isatty(),
        )
        text = render(report, fmt, render_options)
        _emit(
            text,
            None if output is None else Path(str(output).replace("{period}", report.period_label)),
        )
        if verbose and not quiet:
            for source, encoding_used in report.meta.get("encodings", {}).items():
                _err(label("encoding_used", lang, file=source, encoding=encoding_used or "-"))
        failed = fail_on is not None and any(
            at_or_beyond(result.status, Status(fail_on.value)) for result in report.results
        )
        if not quiet:
            _notices(report, lang)
        if failed:
            raise typer.Exit(EXIT_BREACH)

    @app.command(help=label("help_validate", lang))
    @guard
    def validate(
        logs: Logs = None,
        config: ConfigOpt = None,
        profile: ProfileOpt = None,
        fmt: Annotated[
            ProblemFormat, typer.Option("--format", "-f", help=label("help_format", lang))
        ] = ProblemFormat.TABLE,
        lang_option: LangOpt = None,
        encoding: EncodingOpt = None,
        date_format: DateFormatOpt = None,
        debug: Annotated[bool, typer.Option("--debug", help=label("help_debug", lang))] = False,
    ) -> None:
        from svcmetrics.output.problems import render_problems, render_problems_json
        from svcmetrics.pipeline import Options, check

        checked = check(
            Options(
                logs=tuple(logs or ()),
                config=config,
                profile=profile,
                encoding=encoding,
                date_format=date_format,
            )
        )
        if fmt is ProblemFormat.JSON:
            sys.stdout.write(
                render_problems_json(checked.problems, checked.rows, lang, checked.totals)
            )
        elif checked.problems:
            options = RenderOptions(
                lang=lang,
                color=_stdout_is_terminal(),
                width=shutil.get_terminal_size().columns,
                terminal=sys.stdout.isatty(),
            )
            sys.stdout.write(render_problems(checked.problems, options, checked.totals))
        else:
            sys.stdout.write(label("validate_ok", lang, rows=checked.rows) + "\n")
        if checked.error_count:
            raise typer.Exit(EXIT_INPUT)

    @app.command(help=label("help_explain", lang))
    @guard
    def explain(
        indicator: Annotated[
            str | None, typer.Argument(help=label("help_indicator", lang), show_default=False)
        ] = None,
        config: ConfigOpt = None,
        lang_option: LangOpt = None,
    ) -> None:
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
        sys.stdout.write(render_explain(table, lang, loaded.satisfaction.min_sample, options))

    @app.command(help=label("help_init", lang))
    @guard
    def init(
        folder: Annotated[
            Path, typer.Argument(help=label("help_init_folder", lang), show_default=False)
        ] = Path("."),
        lang_option: LangOpt = None,
    ) -> None:
        from svcmetrics.files import write_starter

        written = write_starter(folder)
        for path in written:
            sys.stdout.write(f"{path}\n")
        _err(label("init_done", lang, folder=folder))

    @app.command(help=label("help_sql", lang))
    @guard
    def sql(
        dialect: Annotated[
            SqlDialect, typer.Option("--dialect", help=label("help_dialect", lang))
        ] = SqlDialect.DUCKDB,
        config: ConfigOpt = None,
        lang_option: LangOpt = None,
    ) -> None:
        from svcmetrics.answers import answer_lists
        from svcmetrics.config import load_config
        from svcmetrics.indicators import definitions
        from svcmetrics.sqlexport import query

        loaded, _ = load_config(config)
        text = query(definitions(loaded), answer_lists(loaded.satisfaction), dialect)
        sys.stdout.write(text)

    return app


def _option_value(argv: Sequence[str], name: str) -> str | None:
    """The value of ``--name VALUE`` or ``--name=VALUE`` in raw arguments (last wins)."""
    value: str | None = None
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def _config_lang(argv: Sequence[str]) -> str | None:
    """The ``lang`` of the config the run will use, read leniently (errors come later)."""
    path = Path(_option_value(argv, "--config") or _option_value(argv, "-c") or "svcmetrics.yaml")
    if not path.is_file():
        return None
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except Exception:  # a config that cannot be read is reported, in full, by the run
        return None
    value = data.get("lang") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the command line and exit with the code of spec 3.3."""
    args = list(sys.argv[1:] if argv is None else argv)
    option = _option_value(args, "--lang")
    lang = resolve_lang(option, None if option in ("zh", "en") else _config_lang(args))
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Even where the caller started us with SIGINT ignored (a background job), Ctrl-C and
    # `kill -INT` end the run the same way: one line, exit 130, no file half-written.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    app = build_app(lang, debug="--debug" in args)
    code: int | str | None = EXIT_OK
    try:
        app(args=args, prog_name="svcmetrics")
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        _err(label("interrupted", lang))
        code = EXIT_SIGINT
    except Terminated:
        _err(label("interrupted", lang))
        code = EXIT_SIGTERM
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    sys.exit(code)


def _quiet_broken_pipe() -> None:
    """After ``| head`` closed the pipe: point stdout at /dev/null so the exit flush is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
