"""Profile tables as street offices keep them (spec 1.1, 1.4), and config errors in zh and en."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from clihelp import run_cli

from svcmetrics.config import load_profile
from svcmetrics.errors import ConfigError, Problem
from svcmetrics.i18n import problem_text
from svcmetrics.pipeline import Options, run

LOG = (
    "date,community,event,party,id,household\n"
    "2026-10-03,c1,participate,resident,r1,h1\n"
    "2026-10-04,c2,benefit,resident,r2,h2\n"
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "log.csv").write_text(LOG, encoding="utf-8")
    return tmp_path


def workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> None:
    """An .xlsx with the given sheets, in order, written by openpyxl as Excel would."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)


def denominators(report: Any, indicator: str) -> dict[str, int | None]:
    """Community (and total) → denominator of ``indicator`` in the report's first period."""
    return {
        r.community: r.denominator
        for r in report.results
        if r.indicator == indicator and r.period == "2026-10"
    }


# ---------------------------------------------------------------------------
# columns: mapping, sheets, extra columns
# ---------------------------------------------------------------------------

POPULATION = {
    "说明": [["本表为 2026 年人口统计"]],
    "2026": [
        ["社区代码", "社区名称", "户籍户数", "有服务能力居民数", "备注", "填表人"],
        ["c1", "一社区", 40, 10, "新建小区", "王"],
        ["c2", "二社区", 60, 20, None, "李"],
    ],
}


def test_profile_table_takes_columns_and_a_sheet(workdir: Path) -> None:
    """Spec 1.4: `profile: {path: 人口.xlsx#2026, columns: {...}}`; extra columns ignored."""
    workbook(workdir / "人口.xlsx", POPULATION)
    (workdir / "svcmetrics.yaml").write_text(
        "profile: {path: 人口.xlsx#2026, columns: {id: 社区代码, name: 社区名称,"
        " households: 户籍户数}}\nlogs: [log.csv]\n",
        encoding="utf-8",
    )
    report = run(Options())
    assert denominators(report, "resident_participation") == {"c1": 10, "c2": 20, "*": 30}
    assert denominators(report, "resident_benefit") == {"c1": 40, "c2": 60, "*": 100}
    names = {unit.id: unit.name for unit in report.units}
    assert names["c1"] == "一社区"
    assert not report.problems


def test_a_plain_profile_path_still_works(workdir: Path) -> None:
    (workdir / "p.csv").write_text("社区编号,户数\nc1,4\nc2,6\n", encoding="utf-8")
    (workdir / "svcmetrics.yaml").write_text("profile: p.csv\nlogs: [log.csv]\n")
    report = run(Options())
    assert denominators(report, "resident_benefit") == {"c1": 4, "c2": 6, "*": 10}


def test_a_sheet_on_the_command_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workbook(
        workdir / "人口.xlsx",
        {"2025": [["x"]], "2026": [["ID", "户数"], ["c1", 4], ["c2", 6]]},
    )
    report = run(Options(logs=("log.csv",), profile=Path("人口.xlsx#2026")))
    assert denominators(report, "resident_benefit")["c1"] == 4


def test_extra_columns_are_ignored(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Today every row is rejected for every extra column ("未知的键 备注")."""
    (workdir / "p.csv").write_text(
        "社区编号,名称,户数,备注,联系电话,Notes\nc1,一,4,新,123,x\nc2,二,6,,456,\n",
        encoding="utf-8",
    )
    code, out, err = run_cli(
        ["compute", "log.csv", "-p", "p.csv", "-f", "csv", "--lang", "zh"], capsys
    )
    assert code == 0, err
    assert "备注" not in err and "Notes" not in err


SENIOR_REACH = (
    "logs: [log.csv]\nindicators:\n  - key: senior_reach\n"
    "    name: {zh: 老人参与率, en: Senior reach}\n"
    "    numerator: {event: participate, party: resident}\n"
    "    denominator: {profile: seniors}\n"
)
"""A config whose indicator reads the user-defined profile field ``seniors``."""


def test_a_user_defined_field_is_read_from_a_table(workdir: Path) -> None:
    """Columns a configured indicator reads are kept (and may be mapped); others are not."""
    (workdir / "p.csv").write_text("社区编号,65岁以上人数,备注\nc1,8,x\nc2,2,y\n", encoding="utf-8")
    (workdir / "svcmetrics.yaml").write_text(
        "profile: {path: p.csv, columns: {seniors: 65岁以上人数}}\n" + SENIOR_REACH,
        encoding="utf-8",
    )
    report = run(Options())
    assert denominators(report, "senior_reach") == {"c1": 8, "c2": 2, "*": 10}


@pytest.mark.parametrize(
    ("columns", "key", "shown"),
    [
        ("{id: 代码}", "mapped_column_missing", "代码"),
        ("{id: 社区编号, housholds: 户数}", "config_unknown_key", "housholds"),
    ],
)
def test_a_bad_columns_mapping_is_named(
    workdir: Path, capsys: pytest.CaptureFixture[str], columns: str, key: str, shown: str
) -> None:
    (workdir / "p.csv").write_text("社区编号,户数\nc1,4\n", encoding="utf-8")
    (workdir / "svcmetrics.yaml").write_text(
        f"profile: {{path: p.csv, columns: {columns}}}\nlogs: [log.csv]\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as raised:
        run(Options())
    found = [raised.value.key, *(problem.kind for problem in raised.value.problems)]
    assert key in found
    code, _, err = run_cli(["compute", "--lang", "zh"], capsys)
    assert code == 3 and shown in err


def test_columns_on_a_yaml_profile_is_an_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "p.yaml").write_text("communities:\n  - {id: c1}\n", encoding="utf-8")
    (workdir / "svcmetrics.yaml").write_text(
        "profile: {path: p.yaml, columns: {id: 代码}}\nlogs: [log.csv]\n", encoding="utf-8"
    )
    code, _, err = run_cli(["compute", "--lang", "zh"], capsys)
    assert code == 3 and "columns:" in err and "p.yaml" in err


# ---------------------------------------------------------------------------
# a missing id column
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_missing_id_column_is_one_error_listing_the_headers(
    workdir: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    """Today: 42 copies of "Field required", without the headers found."""
    rows = "".join(f"{n:04d},社区{n},{n}\n" for n in range(42))
    (workdir / "p.csv").write_text("社区代码,名称,户数\n" + rows, encoding="utf-8")
    code, _, err = run_cli(["compute", "log.csv", "-p", "p.csv", "--lang", lang], capsys)
    assert code == 3
    assert "Field required" not in err
    assert "社区代码, 名称, 户数" in err
    assert err.count("社区代码, 名称, 户数") == 1, err
    assert "columns: {id: 社区代码}" in err  # the mapping to paste


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_row_without_an_id_is_named_by_its_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    """Today: "communities[2].id: 值无效:Field required" (a list position, pydantic's words)."""
    (workdir / "p.csv").write_text(
        "社区编号,名称,户数\nc1,一,4\n,二,6\nc2,三,5\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as raised:
        load_profile(Path("p.csv"), "p.csv")
    assert [(p.kind, p.line, p.column) for p in raised.value.problems] == [
        ("profile_missing_id", 3, "社区编号")
    ]
    code, out, err = run_cli(["compute", "log.csv", "-p", "p.csv", "--lang", lang], capsys)
    assert code == 3 and "p.csv:3:" in out + err
    assert "Field required" not in out + err


# ---------------------------------------------------------------------------
# total rows
# ---------------------------------------------------------------------------

TOTAL_WORDS = ["合计", "总计", "小计", "合計", "總計", "小計", "total", "Subtotal", "SUM"]


@pytest.mark.parametrize("word", TOTAL_WORDS)
def test_a_total_row_is_left_out_with_a_warning(workdir: Path, word: str) -> None:
    """Today a 总计 row counts as a community and doubles the total's denominators."""
    (workdir / "p.csv").write_text(
        f"社区编号,名称,有服务能力居民数\nc1,一,10\nc2,二,20\n{word},,30\n", encoding="utf-8"
    )
    report = run(Options(logs=("log.csv",), profile=Path("p.csv")))
    assert denominators(report, "resident_participation") == {"c1": 10, "c2": 20, "*": 30}
    warnings = [p for p in report.problems if p.kind == "profile_total_row"]
    assert [(p.file, p.line, p.value) for p in warnings] == [("p.csv", 4, word)]
    assert warnings[0].severity == "warning"
    assert report.totals["profile_total_row"] == 1


def test_a_total_word_in_the_id_cell_or_first_cell(workdir: Path) -> None:
    """The first non-empty cell, or the id cell, decides; an Excel row is its sheet row."""
    workbook(
        workdir / "p.xlsx",
        {
            "人口": [
                ["名称", "社区编号", "有服务能力居民数"],
                ["一社区", "c1", 10],
                [None, None, None],
                ["二社区", "c2", 20],
                ["全街道", "合计", 30],
                [None, "  Total ", 30],
            ]
        },
    )
    report = run(Options(logs=("log.csv",), profile=Path("p.xlsx")))
    assert denominators(report, "resident_participation") == {"c1": 10, "c2": 20, "*": 30}
    lines = [p.line for p in report.problems if p.kind == "profile_total_row"]
    assert lines == [5, 6]


def test_a_community_whose_name_holds_a_total_word_is_kept(workdir: Path) -> None:
    """Only a cell that IS a total word marks a total row: 合计社区 is a community."""
    (workdir / "p.csv").write_text(
        "社区编号,名称,有服务能力居民数\nc1,合计社区,10\nc2,sum,20\n", encoding="utf-8"
    )
    report = run(Options(logs=("log.csv",), profile=Path("p.csv")))
    assert denominators(report, "resident_participation") == {"c1": 10, "c2": 20, "*": 30}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_total_row_warning_names_its_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    (workdir / "p.csv").write_text(
        "社区编号,名称,有服务能力居民数\nc1,一,10\nc2,二,20\n总计,,30\n", encoding="utf-8"
    )
    code, out, err = run_cli(["validate", "log.csv", "-p", "p.csv", "--lang", lang], capsys)
    assert code == 0, err
    assert "p.csv:4:" in out and "总计" in out
    assert ("合计行" if lang == "zh" else "total row") in out
    code, _, err = run_cli(
        ["compute", "log.csv", "-p", "p.csv", "-f", "csv", "--lang", lang], capsys
    )
    assert code == 0 and "p.csv:4:" in err  # compute says it too


# ---------------------------------------------------------------------------
# Traditional Chinese headers
# ---------------------------------------------------------------------------


def test_traditional_chinese_headers(workdir: Path) -> None:
    (workdir / "p.csv").write_text(
        "社區編號,名稱,上級,居民數,有服務能力居民數,戶數,單位數\n"
        "c1,一社區,s,100,10,40,5\nc2,二社區,s,200,20,60,7\n",
        encoding="utf-8",
    )
    profile, notes = load_profile(Path("p.csv"), "p.csv")
    first = profile.communities[0]
    assert (first.id, first.name, first.parent) == ("c1", "一社區", "s")
    assert (first.residents, first.residents_capable, first.households, first.units) == (
        100,
        10,
        40,
        5,
    )
    assert notes == []


def test_short_traditional_id_header(workdir: Path) -> None:
    (workdir / "p.csv").write_text("社區,戶數\nc1,4\n", encoding="utf-8")
    profile, _ = load_profile(Path("p.csv"), "p.csv")
    assert (profile.communities[0].id, profile.communities[0].households) == ("c1", 4)


# ---------------------------------------------------------------------------
# Excel number cells in the id column
# ---------------------------------------------------------------------------


def test_excel_number_ids(workdir: Path) -> None:
    """At most 15 significant digits: its digits; more: as Excel shows it, and warned."""
    workbook(
        workdir / "p.xlsx",
        {
            "p": [
                ["社区编号", "户数"],
                [1103, 4],
                [110101199003075000, 5],  # 15 significant digits: exact in Excel
                [110101199001011234, 6],  # 18 digits typed as a number: Excel lost three
            ]
        },
    )
    profile, notes = load_profile(Path("p.xlsx"), "p.xlsx")
    ids = [c.id for c in profile.communities]
    assert ids == ["1103", "110101199003075000", "1.10101199001011E+17"]
    assert [c.households for c in profile.communities] == [4, 5, 6]
    assert [(p.kind, p.line, p.column, p.value) for p in notes] == [
        ("mangled_id", 4, "社区编号", "1.10101199001011E+17")
    ]


def test_two_mangled_ids_stay_equal_and_are_not_invented(workdir: Path) -> None:
    """110101199001011234 and …236 as numbers are one Excel value: never two invented ids."""
    workbook(
        workdir / "p.xlsx",
        {"p": [["社区编号", "户数"], [110101199001011234, 6], [110101199001011236, 7]]},
    )
    with pytest.raises(ConfigError) as raised:
        load_profile(Path("p.xlsx"), "p.xlsx")
    [problem] = raised.value.problems
    assert problem.kind == "profile_duplicate_id"
    assert problem.params["id"] == "1.10101199001011E+17"


def test_a_csv_id_in_scientific_form_is_warned(workdir: Path) -> None:
    """The CSV text form (what Excel exports) is warned the same way."""
    (workdir / "p.csv").write_text("社区编号,户数\n1.10101E+17,4\nc2,5\n", encoding="utf-8")
    _, notes = load_profile(Path("p.csv"), "p.csv")
    assert [(p.kind, p.line, p.value) for p in notes] == [("mangled_id", 2, "1.10101E+17")]


# ---------------------------------------------------------------------------
# our own validators speak both languages
# ---------------------------------------------------------------------------

ENGLISH_WORD = re.compile(r"[A-Za-z]{4,}")


def english_words(text: str, *allowed: str) -> list[str]:
    """English words in ``text`` other than the config keys, ids and files in ``allowed``."""
    for word in allowed:
        text = text.replace(word, "")
    return ENGLISH_WORD.findall(text)


PROFILES = {
    "empty": ("communities: []\n", "profile_empty"),
    "duplicate_id": ("communities:\n  - {id: c1}\n  - {id: c1}\n", "profile_duplicate_id"),
    "duplicate_name": (
        "communities:\n  - {id: c1, name: 一}\n  - {id: c2, name: 一}\n",
        "profile_duplicate_name",
    ),
    "parent_is_community": (
        "communities:\n  - {id: c1, parent: c2}\n  - {id: c2}\n",
        "profile_parent_is_community",
    ),
    "level_is_community": (
        "communities:\n  - {id: c1, parent: s}\n  - {id: c2}\nparents:\n  - {id: c2}\n",
        "profile_level_is_community",
    ),
    "cycle": (
        "communities:\n  - {id: c1, parent: s}\nparents:\n"
        "  - {id: s, parent: d}\n  - {id: d, parent: s}\n",
        "profile_level_cycle",
    ),
    "level_parent_is_community": (
        "communities:\n  - {id: c1, parent: s}\n  - {id: c2}\nparents:\n  - {id: s, parent: c2}\n",
        "profile_parent_is_community",
    ),
    "reserved_id": ('communities:\n  - {id: c1}\n  - {id: "*"}\n', "profile_reserved_id"),
    "bad_count": (
        "communities:\n  - {id: c1, households: -4}\n  - {id: c2, residents: 2.5}\n",
        "profile_bad_count",
    ),
}

KEYS = ("communities", "parents", "parent", "households", "residents", "as_of", "value", "README")


@pytest.mark.parametrize("case", sorted(PROFILES))
def test_profile_validators_give_catalogue_messages(
    workdir: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """Today: "值无效:Value error, the parent of 'c1' is …" in Chinese output."""
    text, kind = PROFILES[case]
    (workdir / "p.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_profile(Path("p.yaml"), "p.yaml")
    assert {problem.kind for problem in raised.value.problems} == {kind}
    for problem in raised.value.problems:
        zh, zh_hint = problem_text(problem, "zh")
        en, en_hint = problem_text(problem, "en")
        assert zh and zh_hint and en and en_hint and zh != kind
        assert not english_words(zh + zh_hint, *KEYS, problem.column), (zh, zh_hint)
        assert "Value error" not in en
    code, _, err = run_cli(["compute", "log.csv", "-p", "p.yaml", "--lang", "zh"], capsys)
    assert code == 3
    assert "Value error" not in err and "值无效" not in err


def test_a_bad_count_names_community_field_and_value(workdir: Path) -> None:
    (workdir / "p.yaml").write_text(
        "communities:\n  - {id: c1, households: -4}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as raised:
        load_profile(Path("p.yaml"), "p.yaml")
    [problem] = raised.value.problems
    assert (problem.column, problem.value) == ("communities[c1].households", "-4")
    zh, _ = problem_text(problem, "zh")
    assert "-4" in zh and "非负整数" in zh


def test_a_user_defined_bad_count_uses_the_same_message(workdir: Path) -> None:
    (workdir / "p.yaml").write_text("communities:\n  - {id: c1, seniors: -4}\n", encoding="utf-8")
    (workdir / "svcmetrics.yaml").write_text("profile: p.yaml\n" + SENIOR_REACH, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        run(Options())
    [problem] = raised.value.problems
    assert (problem.kind, problem.value) == ("profile_bad_count", "-4")


@pytest.mark.parametrize(
    ("config", "kind", "allowed"),
    [
        ("profile: p.yaml\ncommunities:\n  - {id: c1}\n", "config_profile_and_communities", ()),
        ("columns: {househld: 户号}\n", "config_unknown_key", ("househld", "household")),
    ],
)
def test_config_validators_give_catalogue_messages(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    config: str,
    kind: str,
    allowed: tuple[str, ...],
) -> None:
    (workdir / "svcmetrics.yaml").write_text(config, encoding="utf-8")
    code, _, err = run_cli(["compute", "log.csv", "--lang", "zh"], capsys)
    assert code == 3
    assert "Value error" not in err and "值无效" not in err
    code, _, en = run_cli(["compute", "log.csv", "--lang", "en"], capsys)
    assert code == 3 and "Value error" not in en
    if kind == "config_unknown_key":
        assert "household" in err and "household" in en  # the closest key


def test_every_new_kind_has_both_languages() -> None:
    """Each kind our validators raise renders a sentence, not its key, in zh and en."""
    from svcmetrics.i18n import LANGS, catalogue, placeholders
    from svcmetrics.models import MODEL_ERRORS

    for kind in sorted(MODEL_ERRORS | {"profile_total_row", "profile_missing_id"}):
        for lang in LANGS:
            texts = catalogue(lang)
            assert {f"message.{kind}", f"hint.{kind}", f"kind.{kind}"} <= set(texts), kind
            names = placeholders(texts[f"message.{kind}"]) | placeholders(texts[f"hint.{kind}"])
            params = dict.fromkeys(names - {"value", "file", "column", "line"}, "c1")
            text, hint = problem_text(Problem(kind, value="x", params=params), lang)
            assert text != kind and hint
