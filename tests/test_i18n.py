"""The catalogues: complete in every language, placeholders alike, plurals, strict lookups,
and pydantic's errors said in the user's language."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from clihelp import run_cli

from svcmetrics import i18n
from svcmetrics.clicktext import HELP_KEYS
from svcmetrics.config import PYDANTIC_KINDS
from svcmetrics.errors import Problem
from svcmetrics.i18n import (
    LANGS,
    WITHOUT,
    CatalogueError,
    catalogue,
    label,
    message,
    placeholders,
    problem_text,
)
from svcmetrics.judge import Status
from svcmetrics.models import MODEL_ERRORS as OWN_KINDS
from svcmetrics.models import CountRuleConfig, canonical_values

SRC = Path(__file__).resolve().parent.parent / "src" / "svcmetrics"
SOURCES = {
    path: path.read_text(encoding="utf-8")
    for path in [*SRC.rglob("*.py"), *SRC.rglob("*.j2")]
    if "i18n" not in path.parts
}


def _found(pattern: str) -> set[str]:
    """Every first group of ``pattern`` in the sources (outside the catalogues)."""
    return {match for text in SOURCES.values() for match in re.findall(pattern, text)}


LABEL_KEYS = _found(r"""\blabel\(\s*["']([\w/.]+)["']""") | _found(r"""\bt\(\s*["'](\w+)["']""")
"""Labels named literally: ``label("key", …)`` in Python, ``t("key")`` in the HTML template."""

MESSAGE_KINDS = (
    _found(r"""\b(?:Input|Usage|Config|Svcmetrics)Error\(\s*["'](\w+)["']""")
    | _found(r"""\bkind=["'](\w+)["']""")
    | set(PYDANTIC_KINDS.values())
    | OWN_KINDS
    | {variant for _, variant in WITHOUT.values()}
)
"""Errors raised by key and problem kinds: each has a message and a hint."""

PROBLEM_KINDS = (
    _found(r"""\bkind=["'](\w+)["']""")
    | _found(r"""(?:Problem|_problem)\(\s*["'](\w+)["']""")
    | set(PYDANTIC_KINDS.values())
    | OWN_KINDS
)
"""Problem kinds: each has a name too (summaries count problems by kind)."""


def _dynamic_labels() -> set[str]:
    """The keys built at run time (f-strings), enumerated from where their parts come from."""
    counted = [
        str(value).removeprefix("distinct ")
        for value in typing.get_args(CountRuleConfig.model_fields["count"].annotation)
        if str(value).startswith("distinct ")
    ]
    values = canonical_values()
    flags = _found(r"""flags\.append\(["'](\w+)["']\)""")
    flags |= _found(r"""\(["'](partial_\w+)["'],\)""")
    assert {"no_records", "small_sample", "partial_rollup", "partial_period"} <= flags
    stages = _found(r"""\.stage\(["'](\w+)["']\)""")
    assert stages == {"read", "check", "count"}
    return {
        *(f"status_{status.value}" for status in Status),
        *(f"flag_{flag}" for flag in flags),
        *(f"progress_{stage}" for stage in stages),
        *(f"party_{party}" for party in [*values["party"], "any"]),
        *(f"event_{event}" for event in ("participate", "benefit", "need", "survey")),
        *(f"counted_{name}" for name in counted),
        # column headers and --by fields, looked up by their result key
        "level", "community", "community_name", "parent", "period", "indicator",
        "indicator_name", "numerator", "denominator", "rate", "sample_size", "ci_low",
        "ci_high", "change", "change_short", "status", "flags", "service", "category",
        "counts", "notes", "rule_profile", "rule_population",
    }  # fmt: skip


def test_every_language_has_the_same_keys() -> None:
    keys = {lang: set(catalogue(lang)) for lang in LANGS}
    for lang in LANGS:
        assert keys[lang] == keys[LANGS[0]], (lang, keys[lang] ^ keys[LANGS[0]])


def test_placeholders_match_between_languages() -> None:
    first = catalogue(LANGS[0])
    for lang in LANGS[1:]:
        for key, text in catalogue(lang).items():
            assert placeholders(text) == placeholders(first[key]), (lang, key)


@pytest.mark.parametrize("lang", LANGS)
def test_every_key_used_exists(lang: str) -> None:
    texts = catalogue(lang)
    wanted = (
        LABEL_KEYS
        | _dynamic_labels()
        | HELP_KEYS
        | {f"message.{kind}" for kind in MESSAGE_KINDS}
        | {f"hint.{kind}" for kind in MESSAGE_KINDS}
        | {f"kind.{kind}" for kind in PROBLEM_KINDS}
    )
    assert len(LABEL_KEYS) > 100 and len(MESSAGE_KINDS) > 60  # the scan finds the uses
    assert sorted(wanted - set(texts)) == []


def test_help_keys_are_registered_by_the_cli() -> None:
    import svcmetrics.cli  # noqa: F401  (declares the commands, registering their help keys)

    assert {"help_app", "help_compute", "help_logs", "metavar_file"} <= HELP_KEYS


def test_chinese_texts_are_chinese() -> None:
    """No zh text is left in English (codes, options, file names and formats aside)."""
    allowed = re.compile(
        r"[\w./-]+\.(yaml|csv)|--?[\w-]+( csv| json| service| category)?|%\w|\{[^}]*\}|"
        r"svcmetrics( \w+)?|"
        r"YYYY-MM(-DD)?|\.xlsx|\w+:"
    )
    names = {
        *"README YAML CSV UTF BOM GB18030 gb18030 Excel WPS Parquet SQL NUL Wilson".split(),
        *"json status xlsx households ____ Big5".split(),
        *"rank better lower pace true target_level reporting outlier HTML".split(),
        *"true false big5 utf warn critical satisfied not_satisfied excluded month".split(),
        *"quarter year date_format date_range values columns constants communities".split(),
        *"parents satisfaction thresholds profile logs as_of value parent key half ytd".split(),
        *"Spark Connect duckdb PostgreSQL PGPASSWORD pgpass DATE SELECT".split(),
        *"warehouse records order".split(),
    }
    left = []
    for key, text in catalogue("zh").items():
        forms = text.forms.values() if isinstance(text, i18n.Plural) else [text]
        for form in forms:
            words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]{2,}", allowed.sub(" ", form))) - names
            if words:
                left.append((key, sorted(words)))
    assert left == []


def test_plurals() -> None:
    assert label("validate_ok", "en", rows=1) == "The 1 row is valid."
    assert label("validate_ok", "en", rows=5) == "All 5 rows are valid."
    assert label("validate_ok", "zh", rows=1) == label("validate_ok", "zh", rows=1)
    assert "1 行" in label("validate_ok", "zh", rows=1)
    assert label("skipped_rows", "en", count=1).startswith("Skipped 1 invalid row ")
    assert label("skipped_rows", "en", count=2).startswith("Skipped 2 invalid rows ")
    text, _ = message("invalid_rows", "en", {"count": 1})
    assert text.startswith("The logs have 1 invalid entry;")


def test_strict_mode_makes_gaps_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "_strict", True)
    with pytest.raises(CatalogueError):
        label("no_such_key", "zh")
    with pytest.raises(CatalogueError):
        label("validate_ok", "en")  # {rows} is not given
    # users never see a crash: the key, or the placeholder, stays visible
    monkeypatch.setattr(i18n, "_strict", False)
    assert label("no_such_key", "zh") == "no_such_key"
    assert label("html_rows_count", "en") == "{rows} rows"


def test_a_missing_text_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "_strict", False)
    monkeypatch.delitem(i18n.zh.CATALOGUE, "interrupted")
    assert label("interrupted", "zh") == "Interrupted."


def test_the_tests_run_strict() -> None:
    assert i18n._strict


# -- pydantic's errors in the user's language -------------------------------------------------

PROFILE_HEAD = "communities:\n"

BAD_PROFILES = {
    "missing": "communities:\n  - {name: 甲}\n",
    "profile_bad_count": "communities:\n  - {id: a, residents: many}\n",
    "list_type": "communities: {id: a}\n",
    "model_type": "communities:\n  - 7\n",
    "extra_forbidden": "communities:\n  - {id: a}\nparnets: []\n",
    "profile_empty": "communities: []\n",
    "profile_duplicate_id": "communities:\n  - {id: a}\n  - {id: a}\n",
    "profile_duplicate_name": "communities:\n  - {id: a, name: 甲}\n  - {id: b, name: 甲}\n",
    "profile_parent_is_community": "communities:\n  - {id: a, parent: b}\n  - {id: b}\n",
    "profile_level_is_community": "communities:\n  - {id: a}\nparents:\n  - {id: a}\n",
    "profile_reserved_id": 'communities:\n  - {id: a, parent: "*"}\n',
    "profile_level_cycle": (
        "communities:\n  - {id: a, parent: p}\nparents:\n  - {id: p, parent: q}\n"
        "  - {id: q, parent: p}\n"
    ),
}

BAD_CONFIGS = {
    "int_parsing": "satisfaction: {min_sample: many}\n",
    "greater_than_equal": "satisfaction: {min_sample: 0}\n",
    "literal_error": "lang: fr\n",
    "bool_parsing": "csv_bom: maybe\n",
    "float_parsing": "thresholds:\n  participation_rate: {warn: lots}\n",
    "date_parsing": "date_range: {from: someday, to: 2026-12-31}\n",
    "string_type": "logs: [7]\n",
    "dict_type": "satisfaction: [1]\n",
    "config_unknown_key": "columns: {nonsense: 日期}\n",
    "config_profile_and_communities": "profile: p.yaml\ncommunities:\n  - {id: a}\n",
}

_ALLOWED_IN_ZH = re.compile(
    r"可用的(键|字段):[^)]*|[\w./-]+\.(yaml|csv)|communities\[[^\]]*\][\w.]*|communities|parents|svcmetrics|README|"
    r"--\w[\w-]*|'[^']*'|“[^”]*”|\b[a-z_]+:|\{as_of, value\}|as_of|value|id|true|false|"
    r"zh|en|parent|satisfaction|thresholds|date_range|csv_bom|logs|lang|profile|columns|"
    r"constants|values|warn|participation_rate|start|key|fields?"
)


def _assert_no_english(err: str) -> None:
    words = re.findall(r"[A-Za-z]{3,}", _ALLOWED_IN_ZH.sub(" ", err))
    assert not words, (words, err)


CASES = [("-p", case) for case in sorted(BAD_PROFILES)] + [
    ("-c", case) for case in sorted(BAD_CONFIGS)
]


@pytest.mark.parametrize(("option", "case"), CASES)
def test_config_and_profile_errors_are_chinese_under_zh(
    option: str, case: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = BAD_PROFILES[case] if option == "-p" else BAD_CONFIGS[case]
    (workdir / "bad.yaml").write_text(text, encoding="utf-8")
    code, _, err = run_cli(["compute", "log.csv", option, "bad.yaml", "--lang", "zh"], capsys)
    assert code == 3, err
    assert ("社区概况" if option == "-p" else "配置") + " bad.yaml 有误" in err
    _assert_no_english(err)
    _, _, err_en = run_cli(["compute", "log.csv", option, "bad.yaml", "--lang", "en"], capsys)
    assert "Value error" not in err_en and "Input should" not in err_en, err_en


def test_each_pydantic_case_gives_its_kind(workdir: Path) -> None:
    """Each case above triggers the kind it is named after (so the cases cover the map)."""
    from svcmetrics.config import load_config, load_profile
    from svcmetrics.errors import ConfigError

    expected = {**PYDANTIC_KINDS, "extra_forbidden": "config_unknown_key"}
    for case, text in [*BAD_PROFILES.items(), *BAD_CONFIGS.items()]:
        path = workdir / "case.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as raised:
            if case in BAD_PROFILES:
                load_profile(path, "case.yaml")
            else:
                load_config(path)
        kinds = {problem.kind for problem in raised.value.problems}
        assert expected.get(case, case) in kinds, (case, kinds)
        assert "config_invalid" not in kinds, case
    covered = {expected.get(case, case) for case in [*BAD_PROFILES, *BAD_CONFIGS]}
    assert OWN_KINDS <= covered


def test_problem_variant_without_the_closest_key() -> None:
    problem = Problem(kind="config_unknown_key", params={"value": "x", "closest": "", "valid": "a"})
    text, hint = problem_text(problem, "zh")
    assert "是不是" not in hint and "a" in hint


def test_a_parameter_may_be_said_in_each_language() -> None:
    """``name@zh`` is what ``{name}`` shows in Chinese; English keeps the plain value."""
    from svcmetrics.i18n import localised

    params = {"expected": "met, unmet", "expected@zh": "已满足、未满足", "file": "a.csv"}
    assert localised(params, "zh") == {"expected": "已满足、未满足", "file": "a.csv"}
    assert localised(params, "en") == {"expected": "met, unmet", "file": "a.csv"}
