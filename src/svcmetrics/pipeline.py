"""The pipe of one run, orchestration only: options → inputs → checked → counted → report.

Each stage takes the record of the stage before it, so the call order lives in the
types; the domain work is done by the modules each stage calls.
"""

from __future__ import annotations

import datetime as dt
import glob
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from svcmetrics.completeness import in_order, reporting_results, silent
from svcmetrics.config import (
    DEFAULT_CONFIG,
    check_profile_fields,
    load_config,
    load_profile,
    with_parents,
)
from svcmetrics.diagnose import check_value_targets
from svcmetrics.errors import ConfigError, InputError, Problem, UsageError, tally
from svcmetrics.indicators import (
    REPORTING,
    Indicator,
    custom_events,
    definitions,
    profile_fields,
    shown_indicators,
)
from svcmetrics.models import Community, Config, LogSpec, Profile
from svcmetrics.outliers import WINDOW as OUTLIER_WINDOW
from svcmetrics.output.options import OutputFormat, RenderOptions
from svcmetrics.pace import apply_targets
from svcmetrics.periods import (
    WHOLE,
    Compared,
    Period,
    PeriodKind,
    comparisons,
    history_periods,
    last_complete,
    parse_month,
    span,
)
from svcmetrics.readers import STDIN, Source, effective_mapping, read_log
from svcmetrics.report import (
    Part,
    PartKey,
    Report,
    RunFacts,
    build_results,
    numerator_issues,
    rank_results,
)
from svcmetrics.stages import Checked, Counting, Inputs, profile_values
from svcmetrics.units import TOTAL_ID, unit_tree

if TYPE_CHECKING:
    from svcmetrics.engine import Engine

NO_COMMUNITY = ""
"""The id of the one community of a log that names none, run without a profile."""


def log_communities(
    values: list[str], problem_at: Callable[[str, str], Problem]
) -> list[Community]:
    """The communities of a log run without a profile: each of the distinct community
    ``values`` is one (its own name), or there is the one unnamed community when it names
    none.

    A value equal to the total's id (``*``) is refused, pointing at the first row holding
    it (``problem_at(kind, value)``): its counts would be mistaken for the total's.
    """
    if TOTAL_ID in values:
        problem = problem_at("reserved_community", TOTAL_ID)
        raise InputError("reserved_community_found", problems=[problem])
    return [Community(id=v, name=v) for v in values] or [Community(id=NO_COMMUNITY)]


LISTED = 200
"""How many problems of each kind ``compute`` lists (``validate`` lists all)."""


@dataclass(frozen=True)
class Output:
    """How the results are to be shown: the format and the options the command line gave.

    Checked on creation: the CSV options go with ``--format csv`` only.
    """

    fmt: OutputFormat = OutputFormat.TABLE
    lang: str = "en"
    wide: bool = False
    bom: bool = False
    """``--bom``; the config's ``csv_bom: true`` asks for it too."""
    raw_cells: bool = False
    color: bool = False
    width: int = 120
    terminal: bool = False
    """Results go to a terminal (not a file or a pipe)."""

    def __post_init__(self) -> None:
        if (self.wide or self.bom or self.raw_cells) and self.fmt is not OutputFormat.CSV:
            option = "--wide" if self.wide else "--bom" if self.bom else "--raw-cells"
            raise UsageError("csv_only_option", option=option)

    def render_options(self, config: Config) -> RenderOptions:
        """The options of the renderers: the one place where the command line and the
        config's output settings meet."""
        return RenderOptions(
            lang=self.lang,
            wide=self.wide,
            bom=self.bom or (config.csv_bom and self.fmt is OutputFormat.CSV),
            color=self.color,
            width=self.width,
            neutralise=not self.raw_cells,
            terminal=self.terminal,
        )


@dataclass(frozen=True)
class Options:
    """What a run was asked to do (the command line, already parsed), checked on creation:
    options that do not fit together raise :class:`UsageError`."""

    logs: tuple[str, ...] = ()
    config: Path | None = None
    profile: Path | None = None
    period: PeriodKind | None = None
    """None: monthly, or the kind of ``last`` when that is given."""
    month: str | None = None
    last: PeriodKind | None = None
    by: str | None = None
    """``service`` or ``category``: every indicator per value of that field."""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    as_of: dt.date | None = None
    indicators: tuple[str, ...] = ()
    """``--indicators``: the keys of the indicators shown, in order; empty: the config's."""
    skip_invalid: bool = False
    encoding: str | None = None
    date_format: str | None = None
    """``--date-format``: how the dates of the command line's logs are written."""
    engine: str | None = None
    """``--engine URL``: the database whose ``warehouse.records`` table holds the records."""
    progress: Callable[[str], None] | None = None
    """Told each stage as it starts (``read``, ``check``, ``count``): the CLI's progress bar."""
    today: dt.date | None = None
    output: Output = Output()
    selected: tuple[dt.date, dt.date] | None = field(init=False, repr=False, compare=False)
    """The range chosen by ``--month``, ``--from/--to`` or ``--last``; None for all data."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "selected", self._selected_range())

    def stage(self, name: str) -> None:
        """Report that a stage of the run starts."""
        if self.progress is not None:
            self.progress(name)

    @property
    def kind(self) -> PeriodKind:
        """The period the results are grouped by."""
        return self.period or self.last or PeriodKind.MONTH

    def _selected_range(self) -> tuple[dt.date, dt.date] | None:
        if self.last is not None:
            if self.month is not None or self.date_from or self.date_to:
                raise UsageError("last_and_range")
            if self.last is PeriodKind.ALL:
                raise UsageError("last_all")
            try:
                return last_complete(self.last, self.as_of or self.today or dt.date.today())
            except ValueError:
                raise UsageError("no_last_period") from None
        if self.month is not None:
            if self.date_from or self.date_to:
                raise UsageError("month_and_range")
            if self.kind not in (PeriodKind.MONTH, PeriodKind.YTD, PeriodKind.ALL):
                raise UsageError("month_with_period", period=self.kind.value)
            try:
                return parse_month(self.month)
            except ValueError:
                raise UsageError("bad_month", value=self.month) from None
        if self.date_from is None and self.date_to is None:
            return None
        if self.kind is PeriodKind.YTD:
            raise UsageError("range_with_ytd")
        if self.date_from is None or self.date_to is None:
            raise UsageError("range_needs_both")
        if self.date_from > self.date_to:
            raise UsageError("range_reversed", start=self.date_from, end=self.date_to)
        return self.date_from, self.date_to


# -- stage 1: the inputs ---------------------------------------------------------------


def load_inputs(options: Options) -> Inputs:
    """Load the config, the definitions table and the profile (spec 1.1, 1.3)."""
    config, base = load_config(options.config)
    if options.date_format is not None:
        config = config.model_copy(update={"date_format": options.date_format})
    indicators = definitions(config)
    fields = profile_fields(indicators)
    profile: Profile | None = None
    name: str | None = None
    notes: list[Problem] = []
    if options.profile is not None:
        if config.communities is not None:
            raise ConfigError("profile_twice", file=str(options.profile))
        name = str(options.profile)
        profile, notes = load_profile(options.profile, name, fields=fields)
    elif config.profile is not None:
        name = config.profile.path
        profile, notes = load_profile(base / name, name, config.profile.columns, fields)
    elif config.communities is not None:
        name = str(options.config or DEFAULT_CONFIG)
    if config.communities is not None or (profile is not None and config.parents):
        profile = with_parents(profile, config, name or DEFAULT_CONFIG)
    if profile is not None:
        check_profile_fields(profile, fields, name or "")
    return Inputs(config, base, indicators, profile, name, notes)


def log_paths(
    options: Options, config: Config, base: Path
) -> list[tuple[str, Path | None, LogSpec | None]]:
    """(display name, path or None for stdin, per-file settings) of every log, in input order.

    Command-line logs replace the config's; a glob's matches are sorted by name.
    """
    if options.logs:
        return [(log, None if log == STDIN else Path(log), None) for log in options.logs]
    found: list[tuple[str, Path | None, LogSpec | None]] = []
    for entry in config.logs:
        spec = entry if isinstance(entry, LogSpec) else None
        pattern = spec.path if spec else str(entry)
        if glob.has_magic(pattern):
            matches = sorted(glob.glob(str(base / pattern)))
            if not matches:
                raise InputError("glob_no_match", file=pattern)
            for match in matches:
                display = str(Path(match).relative_to(base)) if base != Path.cwd() else match
                found.append((display, Path(match), spec))
        else:
            found.append((pattern, base / pattern, spec))
    return found


def read_logs(options: Options, inputs: Inputs, spill: Path | None = None) -> list[Source]:
    """Every log, read into canonical columns (nothing validated yet); logs in another
    encoding than UTF-8 are copied as UTF-8 into ``spill``."""
    paths = log_paths(options, inputs.config, inputs.base)
    if not paths:
        raise UsageError("no_logs")
    sources: list[Source] = []
    for display, path, spec in paths:
        mapping = effective_mapping(inputs.config, spec)
        source = read_log(
            STDIN if path is None else str(path), mapping, options.encoding, spill=spill
        )
        source.name = display
        sources.append(source)
    return sources


# -- stage 2: the logs, read and checked -------------------------------------------------


def validate(engine: Engine, options: Options, limit: int | None) -> Checked:
    """Load the inputs into ``engine`` and check every row (spec 1.2, 4)."""
    from svcmetrics.engine import checks

    today = options.today or dt.date.today()
    inputs = load_inputs(options)
    options.stage("read")
    sources = read_logs(options, inputs, engine.workdir)
    events = custom_events(inputs.indicators)
    check_value_targets(sources, events)
    loaded = engine.load(sources, events)
    options.stage("check")
    if inputs.profile is not None:
        communities = list(inputs.profile.communities)
    else:
        communities = log_communities(loaded.distinct_values("community"), loaded.community_problem)
    return checks.check(loaded, inputs, communities, today, options.as_of, limit)


# -- stage 3: the counts -------------------------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """The counts of the valid rows for every period and breakdown value."""

    checked: Checked
    periods: list[Period]
    """The periods shown."""
    compared: dict[str, Compared]
    """Each shown period's comparison periods (环比, 同比) by its label."""
    counted: list[Period]
    """Every period counted: those shown, then the comparison periods not among them."""
    parts: dict[PartKey, Part]
    """Numerator, denominator and sample of every community × period × indicator × value."""
    records: dict[tuple[str, str], int]
    """(community, period) → valid records dated in it."""
    breakdown: list[str]
    """The ``--by`` values ('' alone without ``--by``)."""
    history: list[Period] = field(default_factory=list)
    """Periods before ``counted``, counted only as the history outliers are judged against."""
    shown: list[Indicator] = field(default_factory=list)
    """The indicators shown (``--indicators``), in their order; ``reporting`` among them."""


def count(engine: Counting, options: Options, checked: Checked) -> Counted:
    """Stop at invalid rows (unless they are to be skipped), choose the periods and count."""
    if checked.error_count and not options.skip_invalid:
        raise InputError(
            "invalid_rows",
            problems=checked.problems,
            totals=checked.totals,
            count=checked.error_count,
        )
    selected = options.selected
    if selected is not None:
        periods = span(options.kind, selected[0], selected[1], clip=True)
    elif checked.first is not None and checked.last is not None:
        periods = span(options.kind, checked.first, checked.last)
    else:
        raise InputError("nothing_to_compute", problems=checked.problems, totals=checked.totals)
    options.stage("count")
    compared, hidden = comparisons(options.kind, periods, checked.first, checked.last)
    counted = [*periods, *hidden]
    labels = {period.label for period in counted}
    history = [
        period
        for period in history_periods(options.kind, periods[0], checked.first, OUTLIER_WINDOW)
        if period.label not in labels
    ]
    inputs = checked.inputs
    shown = shown_indicators(options.indicators, inputs.indicators, inputs.config)
    engine.set_periods([*history, *counted], options.by)
    breakdown = engine.breakdown_values() if options.by else [""]
    inputs = checked.inputs
    communities = checked.communities
    profile = profile_values(communities) if inputs.profile is not None else []
    counted_indicators = [i for i in inputs.indicators if i in shown]
    ids = [c.id for c in communities]
    # (``--indicators reporting`` alone counts no indicator over the records)
    found = engine.parts(counted_indicators, ids, profile, breakdown) if counted_indicators else {}
    return Counted(
        checked,
        periods,
        compared,
        counted,
        found,
        engine.records_per_period(),
        breakdown,
        history,
        shown,
    )


# -- stage 4: the report ---------------------------------------------------------------------


def build_report(options: Options, counted: Counted) -> Report:
    """Rates, roll-ups, changes and statuses of the counts, with the run's facts."""
    checked = counted.checked
    inputs = checked.inputs
    counted_indicators = [i for i in counted.shown if i.key != REPORTING]
    units = unit_tree(inputs.profile, checked.communities)
    every = sorted(
        (p for p in (*counted.history, *counted.counted) if not p.label.endswith(WHOLE)),
        key=lambda period: period.start,
    )
    # ranked and judged for outliers as they are made
    results, outliers = build_results(
        counted.parts,
        units,
        counted.periods,
        counted_indicators,
        counted.records,
        inputs.config.satisfaction.min_sample,
        counted.breakdown if options.by else [None],
        counted.compared,
        ranked=True,
        history=[period.label for period in every],
    )
    # completeness is a unit's, not one service's: no reporting rows under --by
    shown = [i for i in counted.shown if i.key != REPORTING or options.by is None]
    reporting = [i for i in shown if i.key == REPORTING]
    if reporting:
        # ranked among themselves: no other result has their indicator
        results += rank_results(
            reporting_results(
                reporting[0], units, counted.periods, counted.records, counted.compared
            ),
            shown,
        )
    results = apply_targets(results, shown, counted.periods, options.kind, units)
    results = in_order(results, counted.periods, shown)
    issues = numerator_issues(results)
    totals = {**checked.totals}
    for kind, number in tally(issues).items():
        totals[kind] = totals.get(kind, 0) + number
    periods = counted.periods
    facts = RunFacts(
        inputs=tuple(source.name for source in checked.sources),
        encodings=tuple((source.name, source.encoding) for source in checked.sources),
        profile=inputs.profile_name,
        period=options.kind,
        by=options.by,
        span=(periods[0].label, periods[-1].label),
        as_of=options.as_of,
        rows=checked.rows,
        last_record=checked.last,
        skipped_rows=checked.skipped,
    )
    return Report(
        results,
        checked.problems + issues,
        shown,
        periods,
        units,
        facts,
        totals,
        office=inputs.config.report,
        outliers=outliers,
        silent=silent(units, periods, counted.records),
    )


# -- the commands' pipes ----------------------------------------------------------------------


def check(options: Options) -> Checked:
    """Read and check the logs without computing: ``svcmetrics validate``."""
    from svcmetrics.engine import Engine

    with Engine() as engine:
        return validate(engine, options, limit=None)


class Computed(NamedTuple):
    """A report and how to render it."""

    report: Report
    render: RenderOptions


def compute(options: Options) -> Computed:
    """Read, validate, count and judge: the whole computation of ``svcmetrics compute``."""
    from svcmetrics.engine import Engine

    with Engine() as engine:
        checked = validate(engine, options, limit=LISTED)
        counted = count(engine.counting(checked), options, checked)
    report = build_report(options, counted)
    return Computed(report, options.output.render_options(checked.inputs.config))


def run(options: Options) -> Report:
    """The report of ``svcmetrics compute`` (without the rendering decisions)."""
    return compute(options).report
