"""The schema, declared once: profile, service-log records and config, as pydantic models.

The engine validates log rows in bulk, but it derives every check (canonical columns,
header aliases, allowed values and their aliases, which fields each event needs) from
:class:`Record` here, so the schema is never written twice.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

Lang = Literal["zh", "en"]


def _to_text(value: Any) -> Any:
    """Ids written as YAML numbers (``101``) are still ids: keep them as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | dt.date):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_to_text)]


class Strict(BaseModel):
    """Base for config models: unknown keys are errors (reported with the closest key)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ---------------------------------------------------------------------------
# Profile (spec 1.1)
# ---------------------------------------------------------------------------

Count = Annotated[int, Field(strict=True, ge=0)]


class DatedValue(Strict):
    """A denominator value valid from ``as_of`` on."""

    as_of: dt.date
    value: Count


CountValue = Count | list[DatedValue]

_COUNT_VALUE: TypeAdapter[CountValue] = TypeAdapter(CountValue)

PROFILE_COUNT_FIELDS: tuple[str, ...] = ("residents", "residents_capable", "households", "units")
"""The profile's built-in denominator fields (spec 1.1)."""


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
        validated = _COUNT_VALUE.validate_python(value)
        if self.model_extra is not None:
            self.model_extra[key] = validated

    def count(self, field_name: str, on: dt.date) -> int | None:
        """The value of a denominator on a day: the latest value dated on or before ``on``."""
        value = self.count_fields().get(field_name)
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
        """Unique ids; parents are roll-up levels, not communities; no parent cycles."""
        if not self.communities:
            raise ValueError("the profile lists no community")
        seen: set[str] = set()
        names: dict[str, str] = {}
        for community in self.communities:
            if community.id in seen:
                raise ValueError(f"duplicate community id {community.id!r}")
            seen.add(community.id)
            if community.name:
                if community.name in names:
                    raise ValueError(
                        f"{names[community.name]!r} and {community.id!r} share the name "
                        f"{community.name!r}: a log naming it could mean either"
                    )
                names[community.name] = community.id
        levels = {parent.id: parent.parent for parent in self.parents}
        for community in self.communities:
            if community.parent in seen:
                raise ValueError(
                    f"the parent of {community.id!r} is the community {community.parent!r}; "
                    "parents are roll-up levels (street offices, districts) under `parents:`"
                )
        for level in levels:
            if level in seen:
                raise ValueError(f"{level!r} is both a community and a roll-up level")
            chain = [level]
            while levels.get(chain[-1]) is not None:
                following = levels[chain[-1]]
                if following in chain:
                    raise ValueError(f"roll-up levels form a cycle: {' → '.join(chain)}")
                if following in seen:
                    raise ValueError(f"the parent of {chain[-1]!r} is the community {following!r}")
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
    """One event of a service log. Field order is the canonical column order."""

    date: Annotated[dt.date, Column(aliases=("日期",), required=Required())]
    community: Annotated[str | None, Column(aliases=("社区",))] = None
    event: Annotated[
        str,
        Column(
            aliases=("类型",),
            values=(
                ("participate", ("参与",)),
                ("benefit", ("受益",)),
                ("need", ("需求",)),
                ("survey", ("调查", "满意度调查")),
            ),
            required=Required(),
        ),
    ]
    party: Annotated[
        Literal["resident", "unit"],
        Column(
            aliases=("对象",),
            values=(("resident", ("居民",)), ("unit", ("单位",))),
            required=Required(),
        ),
    ]
    id: Annotated[str | None, Column(aliases=("编号",), required=Required(unless_event="need"))] = (
        None
    )
    household: Annotated[
        str | None,
        Column(aliases=("户号",), required=Required(on_event="benefit", on_party="resident")),
    ] = None
    status: Annotated[
        str | None,
        Column(
            aliases=("状态",),
            values=(
                ("met", ("已满足", "已解决")),
                ("unmet", ("未满足", "未解决")),
                ("pending", ("处理中",)),
            ),
            required=Required(on_event="need"),
            only_on_event="need",
        ),
    ] = None
    ticket: Annotated[str | None, Column(aliases=("单号",))] = None
    service: Annotated[str | None, Column(aliases=("服务项目",))] = None
    category: Annotated[
        Literal["special", "general", "unit"] | None,
        Column(
            aliases=("服务类别",),
            values=(
                ("special", ("特殊群体服务",)),
                ("general", ("一般居民服务",)),
                ("unit", ("单位后勤服务",)),
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


# ---------------------------------------------------------------------------
# Config (spec 1.3)
# ---------------------------------------------------------------------------


class Mapping(Strict):
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
                raise ValueError(unknown_key_message(key, RECORD_FIELDS))
        return value


class LogSpec(Mapping):
    """A log file with settings of its own."""

    path: str


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


COUNT_KINDS: tuple[str, ...] = ("distinct id", "distinct household", "distinct ticket", "rows")


class CountRuleConfig(Strict):
    """A count over records: ``{event: checkup, party: resident, count: distinct id}``."""

    event: Text
    party: Literal["resident", "unit"] | None = None
    count: Literal["distinct id", "distinct household", "distinct ticket", "rows"] = "distinct id"
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


class Config(Mapping):
    """The whole ``svcmetrics.yaml``."""

    profile: str | None = None
    communities: list[Community] | None = None
    parents: list[Parent] = []
    logs: list[str | LogSpec] = []
    lang: Lang | None = None
    csv_bom: bool = False
    date_range: DateRange = DateRange()
    thresholds: dict[str, Threshold] = {}
    satisfaction: SatisfactionConfig = SatisfactionConfig()
    indicators: list[IndicatorConfig] = []

    @model_validator(mode="after")
    def _one_profile(self) -> Config:
        if self.profile is not None and self.communities is not None:
            raise ValueError("give either `profile:` or `communities:`, not both")
        return self


def unknown_key_message(key: str, valid: tuple[str, ...] | list[str]) -> str:
    """Name an unknown key and, when there is one, the closest valid key."""
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.5)
    hint = f"; did you mean `{close[0]}`?" if close else ""
    return f"unknown key `{key}`{hint} (valid: {', '.join(valid)})"
