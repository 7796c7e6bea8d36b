"""``svcmetrics explain``: each indicator's formula, what its numbers count, and what it means."""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from svcmetrics.i18n import label
from svcmetrics.indicators import (
    Distinct,
    Indicator,
    NeedsMet,
    NeedsRaised,
    ProfileField,
    Respondents,
    Rule,
    SatisfiedRespondents,
)
from svcmetrics.output.console import export, make_console
from svcmetrics.output.options import RenderOptions


def _party(party: str | None, lang: str) -> str:
    return label(f"party_{party or 'any'}", lang)


def describe_rule(rule: Rule, lang: str) -> str:
    """What a numerator or denominator rule counts, in words."""
    if isinstance(rule, Distinct):
        event = (
            label(f"event_{rule.event}", lang)
            if rule.event in {"participate", "benefit", "need", "survey"}
            else rule.event
        )
        if rule.counted is None:
            text = label("rule_rows", lang, party=_party(rule.party, lang), event=event)
        else:
            text = label(
                "rule_distinct",
                lang,
                party=_party(rule.party, lang),
                event=event,
                counted=label(f"counted_{rule.counted}", lang),
            )
        for name in ("status", "service", "category"):
            value = getattr(rule, name)
            if value is not None:
                text += label("rule_condition", lang, field=name, value=value)
        return text
    if isinstance(rule, NeedsMet):
        return label("rule_needs_met", lang)
    if isinstance(rule, NeedsRaised):
        return label("rule_needs_raised", lang)
    if isinstance(rule, SatisfiedRespondents):
        return label("rule_satisfied", lang, party=_party(rule.party, lang))
    if isinstance(rule, Respondents):
        return label("rule_respondents", lang, party=_party(rule.party, lang))
    if isinstance(rule, ProfileField):
        key = "rule_population" if rule.needs_answers else "rule_profile"
        return label(key, lang, field=rule.name)
    assert_never(rule)


def render_explain(
    indicators: Sequence[Indicator], lang: str, min_sample: int, options: RenderOptions
) -> str:
    """Each indicator's formula, what its numbers count, and what it means."""
    console = make_console(options)
    for indicator in indicators:
        console.print(
            Text(
                label(
                    "explain_title",
                    lang,
                    name=indicator.name(lang),
                    code=indicator.key,
                    # an English reader is also given the Chinese name users look for
                    **{"aka": "", "aka@en": f"; {indicator.name('zh')}"},
                ),
                style="bold",
            )
        )
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column()
        formula = label("explain_formula_text", lang, name=indicator.name(lang))
        grid.add_row(f"  {label('explain_formula', lang)}:", formula)
        grid.add_row(
            f"  {label('explain_numerator', lang)}:", describe_rule(indicator.numerator, lang)
        )
        grid.add_row(
            f"  {label('explain_denominator', lang)}:", describe_rule(indicator.denominator, lang)
        )
        if indicator.description(lang):
            grid.add_row(f"  {label('explain_meaning', lang)}:", indicator.description(lang))
        if indicator.survey_basis:
            grid.add_row("", label("explain_survey", lang, min_sample=min_sample))
        console.print(grid)
        console.print()
    console.print(Text(label("explain_compare_title", lang), style="bold"))
    for key in (
        "explain_change",
        "explain_change_yoy",
        "explain_compare_empty",
        "explain_ytd",
        "explain_rank",
        "explain_pace",
        "explain_reporting",
        "explain_outlier",
    ):
        console.print(Padding(Text(label(key, lang)), (0, 0, 0, 2)), overflow="fold")
    return export(console)
