"""The schema, declared once: profile, service-log records and config, as pydantic models.

The engine validates log rows in bulk, but it derives every check (canonical columns,
header aliases, allowed values and their aliases, which fields each event needs) from
:class:`Record` here, so the schema is never written twice.
"""

from __future__ import annotations

import collections.abc as abc
import datetime as dt
import difflib
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from svcmetrics.i18n import Lang


class Party(StrEnum):
    """Who a record is about: a resident, or an organisation of the community (a unit)."""

    RESIDENT = "resident"
    UNIT = "unit"


class CountKind(StrEnum):
    """What a user-defined count counts (``count:`` of a rule, spec 2.7)."""

    DISTINCT_ID = "distinct id"
    DISTINCT_HOUSEHOLD = "distinct household"
    DISTINCT_TICKET = "distinct ticket"
    ROWS = "rows"

    @property
    def field(self) -> str | None:
        """The record field whose distinct values are counted; None to count rows."""
        return None if self is CountKind.ROWS else self.value.removeprefix("distinct ")


def _to_text(value: Any) -> Any:
    """Ids written as YAML numbers (``101``) are still ids: keep them as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | dt.date):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_to_text)]

TOTAL_ID = "*"
"""The id of the grand total's unit (spec 3.1), which no community or roll-up level may
take: its counts would be mistaken for the total's."""


MODEL_ERRORS: frozenset[str] = frozenset(
    {
        "config_profile_and_communities",
        "config_unknown_key",
        "profile_bad_count",
        "profile_duplicate_id",
        "profile_duplicate_name",
        "profile_empty",
        "profile_level_cycle",
        "profile_level_is_community",
        "profile_parent_is_community",
        "profile_reserved_id",
    }
)
"""The errors our own validators raise: catalogue kinds whose params are the error's context,
so that a message is a sentence in each language, never pydantic's English."""


def invalid(kind: str, **params: Any) -> PydanticCustomError:
    """A validation error that the catalogue renders in each language: ``kind`` (one of
    :data:`MODEL_ERRORS`) with ``params``."""
    if kind not in MODEL_ERRORS:
        raise KeyError(kind)
    return PydanticCustomError(kind, kind, params)


class Strict(BaseModel):
    """Base for config models: unknown keys are errors (reported with the closest key)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ---------------------------------------------------------------------------
# Profile (spec 1.1)
# ---------------------------------------------------------------------------

Count = Annotated[int, Field(strict=True, ge=0)]


def _one_count_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A count that is not a count is one error saying what a count is (spec 1.1), not
    pydantic's list of what each member of the union expected."""
    try:
        return handler(value)
    except ValidationError:
        raise invalid("profile_bad_count") from None


class DatedValue(Strict):
    """A denominator value valid from ``as_of`` on."""

    as_of: dt.date
    value: Count


CountValue = Annotated[Count | list[DatedValue], WrapValidator(_one_count_error)]


@functools.cache
def _count_value() -> TypeAdapter[CountValue]:
    """The validator of a user-defined count field, built when a profile first has one
    (building it costs a run that has none a millisecond)."""
    return TypeAdapter(CountValue)


PROFILE_COUNT_FIELDS: tuple[str, ...] = ("residents", "residents_capable", "households", "units")
"""The profile's built-in denominator fields (spec 1.1)."""

TOTAL_WORDS: frozenset[str] = frozenset(
    {"合计", "总计", "小计", "合計", "總計", "小計", "total", "subtotal", "sum"}
)
"""Words (lower case) that mark a total row of a table, not data (spec 1.4)."""

MANGLED_ID = r"^\d+(\.\d+)?[eE]\+\d+$"
"""An identifier Excel turned into scientific notation (``1.10101E+17``): digits are lost."""


class Community(BaseModel):
    """One community and its denominators; extra count fields are checked against the config."""

    model_config = ConfigDict(extra="allow")

    id: Text
    name: Text | None = None
    parent: Text | None = None
    residents: CountValue | None = None
    residents_capable: CountValue | None = None
    households: CountValue | None = None
    units: CountValue | None = None

    def count_fields(self) -> dict[str, CountValue]:
        """Every denominator this community declares, built-in or user-defined."""
        values: dict[str, Any] = {
            name: getattr(self, name)
            for name in PROFILE_COUNT_FIELDS
            if getattr(self, name) is not None
        }
        values.update(self.model_extra or {})
        return values

    def count_field_value(self, key: str, value: Any) -> None:
        """Validate a user-defined count field in place (ValueError when it is not a count)."""
        validated = _count_value().validate_python(value)
        if self.model_extra is not None:
            self.model_extra[key] = validated

    def count(self, field_name: str, on: dt.date) -> int | None:
        """The value of a denominator on a day: the latest value dated on or before ``on``."""
        # one field looked up, not count_fields() built: a city asks this 240,000 times
        value: int | list[DatedValue] | None
        if field_name in PROFILE_COUNT_FIELDS:
            value = getattr(self, field_name)
        else:
            value = (self.model_extra or {}).get(field_name)
        if value is None or isinstance(value, int):
            return value
        ordered = sorted(value, key=lambda dated: dated.as_of)
        current = ordered[0].value
        for dated in ordered:
            if dated.as_of <= on:
                current = dated.value
        return current


class Parent(Strict):
    """A roll-up level (street office, district)."""

    id: Text
    name: Text | None = None
    parent: Text | None = None


class Profile(Strict):
    """Communities with their denominators, and the roll-up levels above them."""

    communities: list[Community]
    parents: list[Parent] = []

    @model_validator(mode="after")
    def _one_hierarchy(self) -> Profile:
        """Unique ids, none of them the total's; parents are roll-up levels, not
        communities; no parent cycles."""
        if not self.communities:
            raise invalid("profile_empty")
        seen: set[str] = set()
        names: dict[str, str] = {}
        for community in self.communities:
            if community.id in seen:
                raise invalid("profile_duplicate_id", id=community.id)
            seen.add(community.id)
            if community.name:
                if community.name in names:
                    raise invalid(
                        "profile_duplicate_name",
                        first=names[community.name],
                        id=community.id,
                        name=community.name,
                    )
                names[community.name] = community.id
        levels = {parent.id: parent.parent for parent in self.parents}
        if any(TOTAL_ID in (c.id, c.parent) for c in self.communities) or any(
            TOTAL_ID in (p.id, p.parent) for p in self.parents
        ):
            raise invalid("profile_reserved_id", id=TOTAL_ID)
        for community in self.communities:
            if community.parent in seen:
                raise invalid(
                    "profile_parent_is_community", id=community.id, parent=community.parent
                )
        for level in levels:
            if level in seen:
                raise invalid("profile_level_is_community", id=level)
            chain = [level]
            while levels.get(chain[-1]) is not None:
                following = levels[chain[-1]]
                if following in chain:
                    raise invalid("profile_level_cycle", chain=" → ".join([*chain, following]))
                if following in seen:
                    raise invalid("profile_parent_is_community", id=chain[-1], parent=following)
                chain.append(str(following))
        return self


# ---------------------------------------------------------------------------
# Service-log records (spec 1.2)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Required:
    """When a record field must be filled: always, on some events/parties, or unless an event."""

    on_event: str | None = None
    on_party: str | None = None
    unless_event: str | None = None


@dataclass(frozen=True)
class Column:
    """How a record field is written in files: header aliases and value aliases."""

    aliases: tuple[str, ...] = ()
    values: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Allowed canonical values with their aliases; empty means free text."""
    required: Required | None = None
    only_on_event: str | None = None
    """The allowed values are checked only on rows of this event (need statuses)."""


EVENTS: tuple[str, ...] = ("participate", "benefit", "need", "survey")
NEED_STATUSES: tuple[str, ...] = ("met", "unmet", "pending")


class Record(BaseModel):
    """One event of a service log. Field order is the canonical column order.

    Only its fields are read (the schema of the columns), never a record validated: its
    validator is not built (a millisecond of every run)."""

    model_config = ConfigDict(defer_build=True)

    date: Annotated[dt.date, Column(aliases=("日期",), required=Required())]
    community: Annotated[str | None, Column(aliases=("社区", "社區"))] = None
    event: Annotated[
        str,
        Column(
            aliases=("类型", "類型"),
            values=(
                ("participate", ("参与", "參與")),
                ("benefit", ("受益",)),
                ("need", ("需求",)),
                ("survey", ("调查", "满意度调查", "調查", "滿意度調查")),
            ),
            required=Required(),
        ),
    ]
    party: Annotated[
        Party,
        Column(
            aliases=("对象", "對象"),
            values=(("resident", ("居民",)), ("unit", ("单位", "單位"))),
            required=Required(),
        ),
    ]
    id: Annotated[
        str | None, Column(aliases=("编号", "編號"), required=Required(unless_event="need"))
    ] = None
    household: Annotated[
        str | None,
        Column(
            aliases=("户号", "戶號"), required=Required(on_event="benefit", on_party="resident")
        ),
    ] = None
    status: Annotated[
        str | None,
        Column(
            aliases=("状态", "狀態"),
            values=(
                ("met", ("已满足", "已解决", "已滿足", "已解決")),
                ("unmet", ("未满足", "未解决", "未滿足", "未解決")),
                ("pending", ("处理中", "處理中")),
            ),
            required=Required(on_event="need"),
            only_on_event="need",
        ),
    ] = None
    ticket: Annotated[str | None, Column(aliases=("单号", "單號"))] = None
    service: Annotated[str | None, Column(aliases=("服务项目", "服務項目"))] = None
    category: Annotated[
        Literal["special", "general", "unit"] | None,
        Column(
            aliases=("服务类别", "服務類別"),
            values=(
                ("special", ("特殊群体服务", "特殊群體服務")),
                ("general", ("一般居民服务",)),
                ("unit", ("单位后勤服务", "單位後勤服務")),
            ),
        ),
    ] = None


def record_columns() -> dict[str, Column]:
    """The canonical record fields in order, each with its :class:`Column` description."""
    columns: dict[str, Column] = {}
    for name, info in Record.model_fields.items():
        found = [meta for meta in info.metadata if isinstance(meta, Column)]
        columns[name] = found[0] if found else Column()
    return columns


RECORD_FIELDS: tuple[str, ...] = tuple(Record.model_fields)


TOTAL_IGNORED = " \u3000:：\t"
"""What :func:`is_total` ignores in a cell: spaces (``合　计``) and a trailing colon."""


def is_total(cell: str | None) -> bool:
    """Whether a cell is a total word (``合计``, ``合　计:``, ``Total``)."""
    if not cell:
        return False
    text = cell.strip().lower()
    for ignored in TOTAL_IGNORED:
        text = text.replace(ignored, "")
    return text in TOTAL_WORDS


def canonical_values(custom_events: Sequence[str] = ()) -> dict[str, list[str]]:
    """The fields with a fixed set of values → those values, in order; the events of the
    user's own indicators join the built-in events."""
    found = {
        name: [canonical for canonical, _ in column.values]
        for name, column in record_columns().items()
        if column.values
    }
    found["event"] += [event for event in custom_events if event not in found["event"]]
    return found


def value_maps(
    own: abc.Mapping[str, abc.Mapping[str, str]], custom_events: Iterable[str] = ()
) -> dict[str, dict[str, str]]:
    """Field → {raw value in lower case → canonical value}: the built-in aliases, the events
    of the user's own indicators, then a log's own ``values:`` (which win)."""
    builtin: dict[str, dict[str, str]] = {}
    for name, column in record_columns().items():
        for canonical, aliases in column.values:
            for raw in (canonical, *aliases):
                builtin.setdefault(name, {})[raw.lower()] = canonical
    for event in custom_events:
        builtin.setdefault("event", {})[event.lower()] = event
    return {
        name: {**builtin.get(name, {}), **own.get(name, {})}
        for name in sorted(set(builtin) | set(own))
    }


# ---------------------------------------------------------------------------
# Config (spec 1.3)
# ---------------------------------------------------------------------------


class ColumnMapping(Strict):
    """How a file's columns and values map to the record schema."""

    columns: dict[str, Text] = {}
    constants: dict[str, Text] = {}
    values: dict[str, dict[Text, Text]] = {}
    date_format: str | None = None

    @field_validator("columns", "constants", "values")
    @classmethod
    def _known_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if key not in RECORD_FIELDS:
                raise unknown_key(key, RECORD_FIELDS)
        return value


class LogMapping(ColumnMapping):
    """The mapping of one log, with the settings only a log may have."""

    header_row: Annotated[int, Field(ge=1)] | None = None
    """The header's row (1-based); by default the first of the first rows holding the
    required columns (spec 1.4)."""


class LogSpec(LogMapping):
    """A log file with settings of its own."""

    path: str


class WarehouseSpec(ColumnMapping):
    """Where the records live in a database for ``--engine URL`` (spec 5.2), mapped like a log."""

    records: Text
    """The records table (``schema.table`` or ``table``)."""
    profile: Text | None = None
    """A table holding the profile (one row per community), instead of a profile file."""
    order: Text | None = None
    """The column that orders a table's rows (a sequence number or a timestamp): it breaks
    same-day ties of needs and respondents; else the row's values do."""
    key: list[Text] = []
    """The columns naming a row in problems (default: ``order``, else the date, community,
    event and id columns)."""


class DateRange(Strict):
    """The plausible window for record dates."""

    from_: dt.date | None = Field(default=None, alias="from")
    to: dt.date | None = None


class Levels(Strict):
    """Warn and critical levels of one indicator."""

    warn: Annotated[float, Field(allow_inf_nan=False)] | None = None
    critical: Annotated[float, Field(allow_inf_nan=False)] | None = None


class Threshold(Levels):
    """Levels of one indicator, its direction, and per-community overrides."""

    better: Literal["higher", "lower"] = "higher"
    communities: dict[Text, Levels] = {}
    pace: bool = False
    """序时进度: the levels are annual targets, scaled by the elapsed share of the year (2.8)."""


class SatisfactionConfig(Strict):
    """How survey answers are counted (spec 2.4)."""

    basis: Literal["survey", "population"] = "survey"
    unit_basis: Literal["survey", "population"] | None = None
    satisfied: list[Text] | None = None
    not_satisfied: list[Text] | None = None
    excluded: list[Text] | None = None
    scale: tuple[
        Annotated[float, Field(allow_inf_nan=False)], Annotated[float, Field(allow_inf_nan=False)]
    ] = (1, 5)
    min_sample: Annotated[int, Field(ge=1)] = 30


class IndicatorName(Strict):
    """A name or description in both languages."""

    zh: str
    en: str


class CountRuleConfig(Strict):
    """A count over records: ``{event: checkup, party: resident, count: distinct id}``."""

    event: Text
    party: Party | None = None
    count: CountKind = CountKind.DISTINCT_ID
    status: Text | None = None
    service: Text | None = None
    category: Text | None = None


class ProfileRuleConfig(Strict):
    """A denominator from a profile field: ``{profile: residents_65plus}``."""

    profile: str


class IndicatorConfig(Strict):
    """A user-defined indicator (spec 2.7)."""

    key: str
    name: IndicatorName
    description: IndicatorName | None = None
    numerator: CountRuleConfig
    denominator: ProfileRuleConfig | CountRuleConfig
    thresholds: Threshold | None = None


class ProfileSpec(Strict):
    """Where the profile is and, for a table, the headers of its columns (spec 1.3, 1.4):
    ``{path: 人口.xlsx#2026, columns: {id: 社区代码, households: 户籍户数}}``."""

    path: str
    columns: dict[str, Text] = {}
    """Profile field (``id``, ``households``, a user-defined count…) → header in the table."""


def _path_alone(value: Any) -> Any:
    """``profile: communities.yaml`` is ``profile: {path: communities.yaml}``."""
    return {"path": value} if isinstance(value, str) else value


class Signatures(Strict):
    """The names in the footer of a 统计报表 (blank lines to sign where none is given)."""

    head: Text | None = None
    """单位负责人: the head of the reporting office."""
    statistician: Text | None = None
    """统计负责人: who answers for the statistics."""
    preparer: Text | None = None
    """填表人: who filled in the form."""
    date: Text | None = None
    """报出日期: the day the report goes out, as it should be printed."""


class ReportConfig(Strict):
    """How the handed-in report (``--format xlsx``) is headed and signed (spec 3.4)."""

    unit: Text | None = None
    """填报单位: the office that hands the report in."""
    signatures: Signatures = Signatures()
    indicators: list[Text] | None = None
    """The indicators shown, in this order (``--indicators`` replaces it); None: all."""


class Config(ColumnMapping):
    """The whole ``svcmetrics.yaml``."""

    profile: Annotated[ProfileSpec, BeforeValidator(_path_alone)] | None = None
    communities: list[Community] | None = None
    parents: list[Parent] = []
    logs: list[str | LogSpec] = []
    lang: Lang | None = None
    csv_bom: bool = False
    date_range: DateRange = DateRange()
    thresholds: dict[str, Threshold] = {}
    satisfaction: SatisfactionConfig = SatisfactionConfig()
    indicators: list[IndicatorConfig] = []
    report: ReportConfig = ReportConfig()
    warehouse: WarehouseSpec | None = None

    @model_validator(mode="after")
    def _one_profile(self) -> Config:
        if self.profile is not None and self.communities is not None:
            raise invalid("config_profile_and_communities")
        return self


def unknown_key_params(key: str, valid: Sequence[str]) -> dict[str, str]:
    """What the message of an unknown key shows: the closest valid key ("" when none is
    close) and every valid key."""
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.5)
    return {"closest": close[0] if close else "", "valid": ", ".join(valid)}


def unknown_key(key: str, valid: Sequence[str]) -> PydanticCustomError:
    """An unknown key, with the closest valid key when there is one."""
    return invalid("config_unknown_key", value=key, **unknown_key_params(key, valid))
