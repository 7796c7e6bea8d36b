"""The pipe of one run: config and profile, read logs, validate and count, build the report."""

from __future__ import annotations

import datetime as dt
import difflib
import glob
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from svcmetrics import __version__
from svcmetrics.answers import answer_lists
from svcmetrics.config import (
    DEFAULT_CONFIG,
    check_profile_fields,
    load_config,
    load_profile,
    validation_problems,
)
from svcmetrics.errors import WARNING_KINDS, ConfigError, InputError, Problem, UsageError, tally
from svcmetrics.indicators import (
    Indicator,
    custom_events,
    definitions,
    profile_fields,
)
from svcmetrics.models import (
    Community,
    Config,
    LogSpec,
    Profile,
    canonical_values,
    record_columns,
)
from svcmetrics.periods import (
    Period,
    PeriodKind,
    calendar_period,
    last_complete,
    parse_month,
    span,
)
from svcmetrics.readers import STDIN, Source, effective_mapping, read_log
from svcmetrics.report import TOTAL_ID, Part, Report, Unit, build_results

if TYPE_CHECKING:
    from svcmetrics.engine import Engine

NO_COMMUNITY = ""
"""The id of the one community of a log that names none, run without a profile."""


@dataclass(frozen=True)
class Options:
    """What a run was asked to do (the command line, already parsed)."""

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
    skip_invalid: bool = False
    encoding: str | None = None
    date_format: str | None = None
    """``--date-format``: how the dates of the command line's logs are written."""
    progress: Callable[[str], None] | None = None
    """Told each stage as it starts (``read``, ``check``, ``count``): the CLI's progress bar."""

    def stage(self, name: str) -> None:
        """Report that a stage of the run starts."""
        if self.progress is not None:
            self.progress(name)

    today: dt.date | None = None

    @property
    def kind(self) -> PeriodKind:
        """The period the results are grouped by."""
        return self.period or self.last or PeriodKind.MONTH


@dataclass
class Inputs:
    """The config, the definitions and the profile of one run, loaded and checked."""

    config: Config
    base: Path
    indicators: list[Indicator]
    profile: Profile | None
    profile_name: str | None


def load_inputs(options: Options) -> Inputs:
    """Load the config, the definitions table and the profile (spec 1.1, 1.3)."""
    config, base = load_config(options.config)
    if options.date_format is not None:
        config = config.model_copy(update={"date_format": options.date_format})
    indicators = definitions(config)
    profile: Profile | None = None
    name: str | None = None
    if options.profile is not None:
        if config.communities is not None:
            raise ConfigError("profile_twice", file=str(options.profile))
        name = str(options.profile)
        profile = load_profile(options.profile, name)
    elif config.profile is not None:
        name = config.profile
        profile = load_profile(base / config.profile, name)
    elif config.communities is not None:
        name = str(options.config or DEFAULT_CONFIG)
    if config.communities is not None or (profile is not None and config.parents):
        profile = with_parents(profile, config, name or DEFAULT_CONFIG)
    if profile is not None:
        check_profile_fields(profile, profile_fields(indicators), name or "")
    return Inputs(config, base, indicators, profile, name)


def with_parents(profile: Profile | None, config: Config, name: str) -> Profile:
    """The profile with the config's ``parents:`` (a profile file's own come first)."""
    communities = profile.communities if profile else (config.communities or [])
    known = {parent.id for parent in profile.parents} if profile else set()
    parents = [
        *(profile.parents if profile else []),
        *(p for p in config.parents if p.id not in known),
    ]
    try:
        return Profile(communities=communities, parents=parents)
    except ValidationError as exc:
        raise ConfigError(
            "profile_errors",
            problems=validation_problems(
                exc,
                Profile,
                name,
                {
                    "communities": [{"id": c.id} for c in communities],
                    "parents": [{"id": p.id} for p in parents],
                },
            ),
            file=name,
        ) from None


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


def selected_range(options: Options) -> tuple[dt.date, dt.date] | None:
    """The range chosen by ``--month``, ``--from/--to`` or ``--last``; None for all data."""
    if options.last is not None:
        if options.month is not None or options.date_from or options.date_to:
            raise UsageError("last_and_range")
        if options.last is PeriodKind.ALL:
            raise UsageError("last_all")
        try:
            return last_complete(options.last, options.as_of or options.today or dt.date.today())
        except ValueError:
            raise UsageError("no_last_period") from None
    if options.month is not None:
        if options.date_from or options.date_to:
            raise UsageError("month_and_range")
        if options.kind not in (PeriodKind.MONTH, PeriodKind.ALL):
            raise UsageError("month_with_period", period=options.kind.value)
        try:
            return parse_month(options.month)
        except ValueError:
            raise UsageError("bad_month", value=options.month) from None
    if options.date_from is None and options.date_to is None:
        return None
    if options.date_from is None or options.date_to is None:
        raise UsageError("range_needs_both")
    if options.date_from > options.date_to:
        raise UsageError("range_reversed", start=options.date_from, end=options.date_to)
    return options.date_from, options.date_to


def _date_window(config: Config, today: dt.date) -> tuple[dt.date, dt.date]:
    start = config.date_range.from_ or dt.date(1990, 1, 1)
    try:
        default_end = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        default_end = today.replace(year=today.year + 1, day=28)
    return start, config.date_range.to or default_end


def _communities(profile: Profile | None, from_log: list[str]) -> list[Community]:
    if profile is not None:
        return list(profile.communities)
    return [Community(id=value, name=value) for value in from_log]


def _units(profile: Profile | None, communities: list[Community]) -> list[Unit]:
    """Every output unit with the communities it pools (spec 2.6)."""
    units = [Unit("community", c.id, c.name, c.parent, (c.id,)) for c in communities]
    parents = {parent.id: parent for parent in (profile.parents if profile else [])}
    children: dict[str, list[str]] = {}
    for community in communities:
        seen: set[str] = set()
        current = community.parent
        while current is not None and current not in seen:
            seen.add(current)
            children.setdefault(current, []).append(community.id)
            current = parents[current].parent if current in parents else None
    for parent_id in sorted(children):
        parent = parents.get(parent_id)
        units.append(
            Unit(
                "rollup",
                parent_id,
                parent.name if parent else None,
                parent.parent if parent else None,
                tuple(children[parent_id]),
            )
        )
    if len(communities) > 1:
        units.append(Unit("total", TOTAL_ID, None, None, tuple(c.id for c in communities)))
    return units


_NUMERIC_DATE = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(.*)$")


def _time_format(rest: str) -> str:
    """The strptime format of what follows a date (`` 12:00:03 AM``, `` 08:30``)."""
    rest = rest.strip()
    if not rest:
        return ""
    twelve = rest.upper().endswith(("AM", "PM"))
    clock = rest[:-2].strip() if twelve else rest
    parts = clock.count(":")
    hours = "%I" if twelve else "%H"
    text = " " + hours + (":%M:%S" if parts >= 2 else ":%M")
    return text + (" %p" if twelve else "")


def ambiguous_date_problem(
    source: Source, line: int, value: str, first: int, second: int
) -> Problem:
    """A file whose dates read both as day/month/year and month/day/year (spec 1.2, 4).

    The problem shows an example row, both readings, and the format to set; when some
    first part is above 12 the file can only be day-first (and the other way round).
    """
    match = _NUMERIC_DATE.match(value)
    if match is None:  # the engine's pattern and this one agree; keep mypy and readers honest
        raise ValueError(value)
    a, separator, b, year, rest = match.groups()
    clock = _time_format(rest)
    month_first = f"%m{separator}%d{separator}%Y{clock}"
    day_first = f"%d{separator}%m{separator}%Y{clock}"

    def reading(month: str, day: str) -> str:
        try:
            return dt.date(int(year), int(month), int(day)).isoformat()
        except ValueError:
            return "—"

    params = {
        "month_first": reading(a, b),
        "day_first": reading(b, a),
        "month_first_format": month_first,
        "day_first_format": day_first,
    }
    kind = "ambiguous_dates"
    if first > 12 >= second:  # some day comes first: the file is day-first
        kind, params["format"], params["reading"] = (
            "unstated_date_format",
            day_first,
            params["day_first"],
        )
    elif second > 12 >= first:
        kind, params["format"], params["reading"] = (
            "unstated_date_format",
            month_first,
            params["month_first"],
        )
    return Problem(
        kind=kind,
        file=source.name,
        line=line,
        column=source.headers.get("date", "date"),
        value=value,
        params=params,
    )


def _check_value_targets(sources: list[Source], events: list[str]) -> None:
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


def _describe_problems(problems: list[Problem], inputs: Inputs, keys: list[str]) -> list[Problem]:
    """Add to each row problem what was expected (and the closest community name)."""
    allowed = canonical_values(custom_events(inputs.indicators))
    described: list[Problem] = []
    for problem in problems:
        field = str(problem.params.get("field", ""))
        params = dict(problem.params)
        if problem.kind == "bad_value":
            params["expected"] = ", ".join(allowed[field])
        elif problem.kind == "unknown_community" and problem.value is not None:
            close = difflib.get_close_matches(problem.value, keys, n=1, cutoff=0.3)
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


@dataclass
class Validated:
    """The outcome of reading and checking the logs of one run."""

    inputs: Inputs
    sources: list[Source]
    communities: list[Community]
    problems: list[Problem]
    rows: int
    first: dt.date | None
    last: dt.date | None
    totals: dict[str, int]
    """Problems of each kind, all counted (``problems`` may list only the first ones)."""
    skipped: int
    """Rows left out because they are invalid."""

    @property
    def error_count(self) -> int:
        """How many errors (invalid cells) were found."""
        return sum(count for kind, count in self.totals.items() if kind not in WARNING_KINDS)


LISTED = 200
"""How many problems of each kind ``compute`` lists (``validate`` lists all)."""


def _validate(engine: Engine, options: Options, limit: int | None) -> Validated:
    """Load the inputs into ``engine`` and check every row (spec 1.2, 4)."""
    from svcmetrics.engine import CommunityKey

    today = options.today or dt.date.today()
    inputs = load_inputs(options)
    options.stage("read")
    sources = read_logs(options, inputs, engine.workdir)
    events = custom_events(inputs.indicators)
    _check_value_targets(sources, events)
    config = inputs.config
    engine.load(sources, events)
    options.stage("check")
    ambiguous = [
        ambiguous_date_problem(engine.sources[src], line, value, first, second)
        for src, line, value, first, second in engine.ambiguous_dates()
    ]
    if ambiguous:
        raise InputError("ambiguous_dates_found", problems=ambiguous)
    engine.classify_answers(answer_lists(config.satisfaction))
    communities = _communities(inputs.profile, engine.distinct_values("community"))
    keys = [CommunityKey(c.id, tuple(k for k in (c.id, c.name) if k)) for c in communities]
    engine.map_communities(keys)
    single = communities[0].id if len(communities) == 1 else None
    if not communities:
        communities = [Community(id=NO_COMMUNITY)]
        single = NO_COMMUNITY
    checked = engine.validate(
        _date_window(config, today),
        community_required=len(communities) > 1,
        single=single,
        as_of=options.as_of,
        today=today,
        limit=limit,
    )
    problems = _describe_problems(checked.problems, inputs, [k for key in keys for k in key.keys])
    return Validated(
        inputs,
        engine.sources,
        communities,
        problems,
        checked.rows,
        checked.first,
        checked.last,
        checked.totals,
        checked.skipped,
    )


def check(options: Options) -> Validated:
    """Read and check the logs without computing: ``svcmetrics validate``."""
    from svcmetrics.engine import Engine

    with Engine() as engine:
        return _validate(engine, options, limit=None)


def _previous_period(
    kind: PeriodKind, periods: list[Period], first_record: dt.date | None
) -> Period | None:
    """The period before a selected range, when the data reach back into it.

    ``--month 2026-11`` then still shows the change against October; without data
    before the range there is nothing to compare with.
    """
    if kind is PeriodKind.ALL or first_record is None:
        return None
    _, first_day, _ = calendar_period(kind, periods[0].start)
    if first_day <= dt.date.min:
        return None
    before = first_day - dt.timedelta(days=1)
    if first_record > before:
        return None
    return span(kind, before, before)[0]


def run(options: Options) -> Report:
    """Read, validate, count and judge: the whole computation of ``svcmetrics compute``."""
    from svcmetrics.engine import Engine, profile_values

    selected = selected_range(options)
    with Engine() as engine:
        checked = _validate(engine, options, limit=LISTED)
        inputs = checked.inputs
        problems = checked.problems
        if checked.error_count and not options.skip_invalid:
            raise InputError(
                "invalid_rows", problems=problems, totals=checked.totals, count=checked.error_count
            )
        if selected is not None:
            periods = span(options.kind, selected[0], selected[1], clip=True)
        elif checked.first is not None and checked.last is not None:
            periods = span(options.kind, checked.first, checked.last)
        else:
            raise InputError("nothing_to_compute", problems=problems, totals=checked.totals)
        options.stage("count")
        earlier = _previous_period(options.kind, periods, checked.first) if selected else None
        counted = [earlier, *periods] if earlier else periods
        engine.set_periods(counted, options.by)
        records = engine.records_per_period()
        breakdown = engine.breakdown_values() if options.by else [""]
        communities = checked.communities
        profile = profile_values(communities) if inputs.profile is not None else []
        counts = engine.parts(inputs.indicators, [c.id for c in communities], profile, breakdown)
    parts = {key: Part(*numbers) for key, numbers in counts.items()}
    units = _units(inputs.profile, communities)
    results = build_results(
        parts,
        units,
        counted,
        inputs.indicators,
        records,
        inputs.config.satisfaction.min_sample,
        breakdown if options.by else [None],
    )
    if earlier is not None:  # counted only so that the first period has a change
        results = [result for result in results if result.period != earlier.label]
    issues = [
        Problem(
            "numerator_above_denominator",
            params={
                "community": r.community,
                "period": r.period,
                "indicator": r.indicator,
                "numerator": r.numerator,
                "denominator": r.denominator,
            },
        )
        for r in results
        if r.level == "community" and "numerator_above_denominator" in r.flags
    ]
    meta = {
        "version": __version__,
        "inputs": [source.name for source in checked.sources],
        "encodings": {source.name: source.encoding for source in checked.sources},
        "profile": inputs.profile_name,
        "period": options.kind.value,
        "by": options.by,
        "span": [periods[0].label, periods[-1].label],
        "as_of": options.as_of.isoformat() if options.as_of else None,
        "rows": checked.rows,
        "last_record": checked.last.isoformat() if checked.last else None,
        "skipped_rows": checked.skipped,
    }
    report = Report(results, problems + issues, inputs.indicators, periods, units, meta)
    report.by = options.by
    report.csv_bom = inputs.config.csv_bom
    report.totals = {**checked.totals}
    for kind, count in tally(issues).items():
        report.totals[kind] = report.totals.get(kind, 0) + count
    return report
