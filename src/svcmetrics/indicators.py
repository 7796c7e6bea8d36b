"""The definitions table: the seven built-in indicators as data, plus the user's own (spec 2.7)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from svcmetrics.errors import ConfigError, UsageError
from svcmetrics.models import (
    EVENTS,
    PROFILE_COUNT_FIELDS,
    Config,
    CountRuleConfig,
    IndicatorConfig,
    Party,
    SatisfactionConfig,
    Threshold,
)


@dataclass(frozen=True)
class Distinct:
    """Distinct values of ``counted`` (or matching rows, when ``counted`` is None)."""

    event: str
    party: Party | None
    counted: str | None
    status: str | None = None
    service: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class NeedsMet:
    """Needs raised in the period whose latest state is ``met`` (spec 2.3)."""


@dataclass(frozen=True)
class NeedsRaised:
    """All needs raised in the period (spec 2.3)."""


@dataclass(frozen=True)
class SatisfiedRespondents:
    """Respondents of a party whose latest counted answer is satisfied (spec 2.4)."""

    party: Party


@dataclass(frozen=True)
class Respondents:
    """Respondents of a party with a counted answer: the survey basis (spec 2.4)."""

    party: Party


@dataclass(frozen=True)
class ProfileField:
    """A denominator read from the profile, as of the period's last day.

    ``needs_answers`` is the population basis of satisfaction: undefined in a period
    with no counted answer of ``needs_answers``'s party.
    """

    name: str
    needs_answers: Party | None = None


NumeratorRule = Distinct | NeedsMet | SatisfiedRespondents
DenominatorRule = Distinct | NeedsRaised | Respondents | ProfileField
Rule = NumeratorRule | DenominatorRule


@dataclass(frozen=True)
class Indicator:
    """One row of the definitions table."""

    key: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    numerator: NumeratorRule
    denominator: DenominatorRule
    threshold: Threshold | None = None
    builtin: bool = True

    def name(self, lang: str) -> str:
        """The indicator's name in ``lang``."""
        return self.name_zh if lang == "zh" else self.name_en

    def description(self, lang: str) -> str:
        """What the indicator means, in ``lang``."""
        return self.description_zh if lang == "zh" else self.description_en

    @property
    def survey_basis(self) -> bool:
        """True when the rate is a survey sample (it then carries n and a Wilson interval)."""
        return isinstance(self.denominator, Respondents)


def _satisfaction_denominator(party: Party, basis: str) -> DenominatorRule:
    if basis == "population":
        return ProfileField(
            "residents" if party is Party.RESIDENT else "units", needs_answers=party
        )
    return Respondents(party)


def _satisfaction_meaning(party: Party, basis: str) -> tuple[str, str]:
    """What a satisfaction rate means on its basis, in Chinese and English."""
    who_zh, who_en = ("居民", "resident") if party is Party.RESIDENT else ("单位", "organisation")
    if basis == "population":
        return (
            f"表示满意的被调查{who_zh}数 / 社区全体{who_zh}数(全体口径);本期没有调查时无法计算。",
            f"Satisfied {who_en} respondents / all {who_en}s of the profile (population "
            "basis); undefined in a period without a survey.",
        )
    return (
        f"表示满意的被调查{who_zh}数 / 被调查的{who_zh}总数。"
        f"每个{who_zh}每期只计最新一次有效回答。",
        f"Satisfied {who_en} respondents / {who_en} respondents with a counted answer. Each "
        f"{who_en} counts once per period, with the latest counted answer.",
    )


def builtin_indicators(satisfaction: SatisfactionConfig | None = None) -> list[Indicator]:
    """The seven standard indicators, in their canonical order, shaped by the survey basis."""
    satisfaction = satisfaction or SatisfactionConfig()
    resident_basis = satisfaction.basis
    unit_basis = satisfaction.unit_basis or satisfaction.basis
    return [
        Indicator(
            "resident_participation",
            "居民参与率",
            "Resident participation rate",
            "参与服务的居民数 / 社区有服务能力的居民总数。参与率越高,说明居民发动得越充分,"
            "社区服务的社会化程度越高。",
            "Residents who took part in providing services / residents capable of serving. "
            "The higher it is, the more fully residents have been mobilised.",
            Distinct("participate", Party.RESIDENT, "id"),
            ProfileField("residents_capable"),
        ),
        Indicator(
            "unit_participation",
            "辖区单位参与率",
            "Unit participation rate",
            "参与服务的单位数 / 辖区单位总数。衡量辖区单位被发动参与社区服务的程度。",
            "Organisations that took part in providing services / all organisations in the "
            "jurisdiction. Measures how well organisations have been mobilised.",
            Distinct("participate", Party.UNIT, "id"),
            ProfileField("units"),
        ),
        Indicator(
            "resident_benefit",
            "居民受益率",
            "Resident (household) benefit rate",
            "受益居民户数 / 社区居民户总数。衡量社区服务覆盖了多少户居民。",
            "Households that benefited / all households. Measures the reach of services.",
            Distinct("benefit", Party.RESIDENT, "household"),
            ProfileField("households"),
        ),
        Indicator(
            "unit_benefit",
            "社区单位受益率",
            "Unit benefit rate",
            "受益社区单位数 / 辖区单位总数。衡量社区服务覆盖了多少辖区单位。",
            "Organisations that benefited / all organisations. Measures the reach of "
            "services to organisations.",
            Distinct("benefit", Party.UNIT, "id"),
            ProfileField("units"),
        ),
        Indicator(
            "need_satisfaction",
            "服务需求满足率",
            "Need satisfaction rate",
            "需求满足数量 / 居民提出的需求总数。一个需求按单号合并,归入首次提出的月份,"
            "以最新状态为准。",
            "Needs met / needs raised. A need is one ticket with all its updates; it belongs "
            "to the period it was first raised in and its state is its latest status.",
            NeedsMet(),
            NeedsRaised(),
        ),
        Indicator(
            "resident_satisfaction",
            "居民满意率",
            "Resident satisfaction rate",
            *_satisfaction_meaning(Party.RESIDENT, resident_basis),
            SatisfiedRespondents(Party.RESIDENT),
            _satisfaction_denominator(Party.RESIDENT, resident_basis),
        ),
        Indicator(
            "unit_satisfaction",
            "社区单位满意率",
            "Unit satisfaction rate",
            *_satisfaction_meaning(Party.UNIT, unit_basis),
            SatisfiedRespondents(Party.UNIT),
            _satisfaction_denominator(Party.UNIT, unit_basis),
        ),
    ]


def _count_rule(rule: CountRuleConfig) -> Distinct:
    return Distinct(
        event=rule.event,
        party=rule.party,
        counted=rule.count.field,
        status=rule.status,
        service=rule.service,
        category=rule.category,
    )


def _user_indicator(spec: IndicatorConfig) -> Indicator:
    description = spec.description
    denominator: DenominatorRule
    if isinstance(spec.denominator, CountRuleConfig):
        denominator = _count_rule(spec.denominator)
    else:
        denominator = ProfileField(spec.denominator.profile)
    return Indicator(
        key=spec.key,
        name_zh=spec.name.zh,
        name_en=spec.name.en,
        description_zh=description.zh if description else "",
        description_en=description.en if description else "",
        numerator=_count_rule(spec.numerator),
        denominator=denominator,
        threshold=spec.thresholds,
        builtin=False,
    )


def definitions(config: Config) -> list[Indicator]:
    """The built-ins then the user's indicators, with the config's thresholds attached."""
    table = builtin_indicators(config.satisfaction)
    keys = {indicator.key for indicator in table} | {REPORTING}
    for spec in config.indicators:
        if spec.key in keys:
            raise ConfigError("config_duplicate_indicator", key=spec.key)
        keys.add(spec.key)
        table.append(_user_indicator(spec))
    for key in config.thresholds:
        if key not in keys:
            raise ConfigError("config_unknown_threshold", key=key, valid=", ".join(sorted(keys)))
    return [
        replace(indicator, threshold=config.thresholds[indicator.key])
        if indicator.key in config.thresholds
        else indicator
        for indicator in table
    ]


REPORTING = "reporting"
"""The key of 上报率, the completeness of the roll-ups and the total (spec 2.8)."""


def reporting_indicator(config: Config) -> Indicator:
    """上报率: communities with a valid record in the period / communities under the unit.

    It is made from the records per community and period, not counted by the engine: its
    rules below only say so to ``explain`` and the SQL export, which do not list it.
    """
    return Indicator(
        REPORTING,
        "上报率",
        "Reporting rate",
        "本期至少有一条有效记录的社区数 / 所辖社区总数(街道、区和合计行)。",
        "Communities with at least one valid record in the period / communities under the "
        "unit (street offices, districts and the total).",
        Distinct("*", None, "community"),
        ProfileField("communities"),
        threshold=config.thresholds.get(REPORTING),
    )


def custom_events(table: list[Indicator]) -> list[str]:
    """Events named by user-defined indicators: they become valid event values."""
    events: list[str] = []
    for indicator in table:
        for rule in (indicator.numerator, indicator.denominator):
            if isinstance(rule, Distinct) and rule.event not in EVENTS and rule.event not in events:
                events.append(rule.event)
    return events


def profile_fields(table: list[Indicator]) -> list[str]:
    """Every profile field some indicator's denominator reads."""
    fields = list(PROFILE_COUNT_FIELDS)
    for indicator in table:
        rule = indicator.denominator
        if isinstance(rule, ProfileField) and rule.name not in fields:
            fields.append(rule.name)
    return fields


def shown_indicators(
    chosen: Sequence[str], indicators: Sequence[Indicator], config: Config
) -> list[Indicator]:
    """The indicators shown, in order: ``chosen`` (``--indicators``), else the config's
    ``report: indicators:``, else all (``reporting`` last). An unknown key is an error naming
    the closest (a usage error on the command line, a config error in the config)."""
    table = [*indicators, reporting_indicator(config)]
    keys = tuple(chosen) or tuple(config.report.indicators or ())
    by_key = {indicator.key: indicator for indicator in table}
    for key in keys:
        if key not in by_key:
            closest = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0)
            error = UsageError if chosen else ConfigError
            raise error(
                "unknown_shown_indicator", key=key, closest=closest[0], valid=", ".join(by_key)
            )
    return [by_key[key] for key in dict.fromkeys(keys)] if keys else table
