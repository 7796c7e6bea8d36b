"""Survey answers: the satisfied, not-satisfied and excluded lists of spec 2.4 (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import yaml

from svcmetrics.models import SatisfactionConfig


class Answer(StrEnum):
    """How one survey answer counts."""

    SATISFIED = "satisfied"
    NOT_SATISFIED = "not_satisfied"
    EXCLUDED = "excluded"


DEFAULT_LISTS: dict[Answer, tuple[str, ...]] = {
    Answer.SATISFIED: (
        "非常满意",
        "满意",
        "比较满意",
        "非常滿意",
        "滿意",
        "比較滿意",
        "very satisfied",
        "satisfied",
        "4",
        "5",
    ),
    Answer.NOT_SATISFIED: (
        "基本满意",
        "一般",
        "不太满意",
        "不满意",
        "非常不满意",
        "基本滿意",
        "不太滿意",
        "不滿意",
        "非常不滿意",
        "neutral",
        "dissatisfied",
        "very dissatisfied",
        "1",
        "2",
        "3",
    ),
    Answer.EXCLUDED: ("不清楚", "不知道", "说不清", "說不清", "don't know"),
}


FULL_WIDTH = "０１２３４５６７８９＋－．"
"""Full-width digits, signs and point, as Chinese input methods type them (spec 2.4)."""
HALF_WIDTH = "0123456789+-."
NUMBER = r"[-+]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]+)"
"""What an answer must look like, once ``FULL_WIDTH`` is read as ``HALF_WIDTH``, to be a
score: an optional sign, at most 15 digits before an optional point and any after it.
Exponents, ``inf`` and ``nan`` are text (in no list: an invalid row). The SQL of
:func:`svcmetrics.compiler.classify` is the definition; :func:`as_number` reads config
entries the same way."""

_NUMBER = re.compile(NUMBER)
_WIDTH = str.maketrans(FULL_WIDTH, HALF_WIDTH)


def as_number(text: str) -> float | None:
    """A config list entry as a score (``4``, ``4.0``, `` 4 `` and ``４`` are equal); None
    when it is text."""
    normal = text.translate(_WIDTH).strip()
    return float(normal) if _NUMBER.fullmatch(normal) else None


@dataclass(frozen=True)
class AnswerLists:
    """Text answers (lower case) and scores, each mapped to how it counts; the answers
    themselves are classified in SQL (:func:`svcmetrics.compiler.classify`)."""

    texts: dict[str, Answer]
    numbers: dict[float, Answer]
    scale: tuple[float, float]

    def pasteable(self, answer: Answer, added: str | None = None) -> str:
        """The list of ``answer`` in force, with ``added``, as YAML to paste into the config
        (a list given there replaces the defaults, so it must hold them all)."""
        entries = [text for text, found in self.texts.items() if found is answer]
        entries += [f"{n:g}" for n, found in self.numbers.items() if found is answer]
        if added is not None and added.strip() not in entries:
            entries.append(added.strip())
        return yaml.safe_dump(entries, allow_unicode=True, default_flow_style=True).strip()


def answer_lists(config: SatisfactionConfig) -> AnswerLists:
    """The lists in force: a list given in the config replaces its default, and its entries
    win over the defaults of the other lists (so ``satisfied: [基本满意]`` moves 基本满意)."""
    given = {
        Answer.SATISFIED: config.satisfied,
        Answer.NOT_SATISFIED: config.not_satisfied,
        Answer.EXCLUDED: config.excluded,
    }
    texts: dict[str, Answer] = {}
    numbers: dict[float, Answer] = {}

    def put(entry: str, answer: Answer) -> None:
        number = as_number(entry)
        if number is None:
            texts[entry.strip().lower()] = answer
        else:
            numbers[number] = answer

    for answer, default in DEFAULT_LISTS.items():
        if given[answer] is None:
            for entry in default:
                put(entry, answer)
    for answer, entries in given.items():
        for entry in entries or ():
            put(entry, answer)
    return AnswerLists(texts, numbers, (float(config.scale[0]), float(config.scale[1])))
