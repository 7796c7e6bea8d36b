"""The pipe of one run: typed stages, run facts, an immutable report, options checked on
creation, the shared date pattern, and the closed sets as types."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from clihelp import LOG, run_cli

from svcmetrics import cli, i18n, models
from svcmetrics.dates import NUMERIC_DATE, AmbiguousDates, ambiguous_date_problem
from svcmetrics.errors import UsageError
from svcmetrics.i18n import Lang
from svcmetrics.indicators import Distinct, definitions
from svcmetrics.models import Community, Config, CountKind, CountRuleConfig, Party
from svcmetrics.output import render
from svcmetrics.output.options import OutputFormat
from svcmetrics.periods import PeriodKind
from svcmetrics.pipeline import Computed, Options, Output, compute
from svcmetrics.report import Report, RunFacts
from svcmetrics.units import TOTAL_ID, Level, repeating, unit_tree

BASE = ["compute", "log.csv", "--profile", "profile.yaml"]

# two invalid rows (an unknown community, a date out of range) and two warnings (a
# duplicate row, a future date) among five rows
FIVE_ROWS = """date,community,event,party,id,household,status,ticket,service
2026-10-03,jianguo,participate,resident,r1,h1,,,助老
2026-10-03,jianguo,participate,resident,r1,h1,,,助老
2026-10-04,jianguo,participate,resident,r2,h2,,,助老
2026-10-05,nowhere,participate,resident,r3,h3,,,助老
2099-10-05,jianguo,participate,resident,r4,h4,,,助老
"""


# -- fixes of issue 13 point 6 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "summary"), [("zh", "共 2 个错误、2 个警告"), ("en", "Errors: 2, warnings: 2.")]
)
def test_skip_invalid_counts_the_warnings_it_lists(
    workdir: Path, capsys: pytest.CaptureFixture[str], lang: str, summary: str
) -> None:
    (workdir / "five.csv").write_text(FIVE_ROWS, encoding="utf-8")
    args = ["compute", "five.csv", "-p", "profile.yaml", "--skip-invalid", "-f", "csv"]
    code, _, err = run_cli([*args, "--lang", lang], capsys)
    assert code == 0, err
    assert "0 个警告" not in err and "warnings: 0" not in err
    assert summary in err
    listed = [line for line in err.splitlines() if line.startswith("five.csv:")]
    assert len(listed) == 2  # the duplicate and the future date, as counted


def test_validate_json_counts_every_row_checked(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "five.csv").write_text(FIVE_ROWS, encoding="utf-8")
    code, out, _ = run_cli(["validate", "five.csv", "-p", "profile.yaml", "-f", "json"], capsys)
    assert code == 3
    document = json.loads(out)
    assert document["rows"] == 5
    assert (document["errors"], document["warnings"]) == (2, 2)


def test_validate_json_rows_leave_blank_rows_out(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "blank.csv").write_text(LOG + ",,,,,,,,\n", encoding="utf-8")
    code, out, _ = run_cli(["validate", "blank.csv", "-p", "profile.yaml", "-f", "json"], capsys)
    assert code == 0
    assert json.loads(out)["rows"] == len(LOG.splitlines()) - 1


def test_dates_with_two_separators_are_diagnosed_not_a_crash(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the engine's pattern took 13/10-2026 for a day-first date and the diagnosis, with a
    # pattern of its own, did not: exit 4 (internal error)
    log = LOG.replace("2026-10-03", "13/10-2026").replace("2026-10-09", "09/10-2026")
    (workdir / "sep.csv").write_text(log, encoding="utf-8")
    code, _, err = run_cli(["compute", "sep.csv", "-p", "profile.yaml", "--lang", "en"], capsys)
    assert code == 3, err
    assert "%d/%m-%Y" in err


# -- the shared date pattern -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "01/02/2026",
        "1.2.2026 08:30",
        "13-10-2026",
        "10/13-2026 12:00:03 AM",
        "2026/01/02",
        "1/2/26",
        "001/02/2026",
        "a01/02/2026",
        "01/02/2026x",
    ],
)
def test_engine_and_diagnosis_read_numeric_dates_alike(value: str) -> None:
    import re

    sql = "SELECT regexp_extract(?, ?, 1), regexp_extract(?, ?, 3)"
    con = duckdb.connect()
    first, second = con.execute(sql, [value, NUMERIC_DATE, value, NUMERIC_DATE]).fetchone() or (
        "",
        "",
    )
    match = re.match(NUMERIC_DATE, value)
    assert (first, second) == ((match.group(1), match.group(3)) if match else ("", ""))


def test_ambiguous_dates_name_both_readings_and_the_format_to_set() -> None:
    both = ambiguous_date_problem(AmbiguousDates(0, 7, "03/04/2026", 5, 6), "f.csv", "日期")
    assert both.kind == "ambiguous_dates"
    assert (both.params["month_first"], both.params["day_first"]) == ("2026-03-04", "2026-04-03")
    assert (both.file, both.line, both.column) == ("f.csv", 7, "日期")
    day_first = ambiguous_date_problem(
        AmbiguousDates(0, 2, "13.10.2026 08:30", 13, 10), "f.csv", "date"
    )
    assert day_first.kind == "unstated_date_format"
    assert day_first.params["format"] == "%d.%m.%Y %H:%M"
    assert day_first.params["reading"] == "2026-10-13"


# -- options checked on creation, render options decided once ------------------------------


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ({"month": "2026-13"}, "bad_month"),
        ({"month": "2026-11", "date_from": dt.date(2026, 1, 1)}, "month_and_range"),
        ({"date_from": dt.date(2026, 1, 1)}, "range_needs_both"),
        ({"date_from": dt.date(2026, 2, 1), "date_to": dt.date(2026, 1, 1)}, "range_reversed"),
        ({"last": PeriodKind.MONTH, "month": "2026-11"}, "last_and_range"),
        ({"month": "2026-11", "period": PeriodKind.QUARTER}, "month_with_period"),
    ],
)
def test_options_that_do_not_fit_are_refused_on_creation(
    given: dict[str, object], key: str
) -> None:
    with pytest.raises(UsageError) as raised:
        Options(**given)  # type: ignore[arg-type]
    assert raised.value.key == key


def test_options_hold_the_selected_range() -> None:
    options = Options(last=PeriodKind.QUARTER, today=dt.date(2026, 5, 4))
    assert options.selected == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert Options(month="2026-02").selected == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert Options().selected is None


@pytest.mark.parametrize("flag", ["wide", "bom", "raw_cells"])
def test_csv_options_need_the_csv_format(flag: str) -> None:
    with pytest.raises(UsageError) as raised:
        Output(fmt=OutputFormat.JSON, **{flag: True})  # type: ignore[arg-type]
    assert raised.value.key == "csv_only_option"


@pytest.mark.parametrize(
    ("fmt", "flag", "config_bom", "bom"),
    [
        (OutputFormat.CSV, False, True, True),
        (OutputFormat.CSV, True, False, True),
        (OutputFormat.CSV, False, False, False),
        (OutputFormat.TABLE, False, True, False),
    ],
)
def test_the_bom_is_decided_from_the_option_and_the_config(
    fmt: OutputFormat, flag: bool, config_bom: bool, bom: bool
) -> None:
    options = Output(fmt=fmt, bom=flag).render_options(Config(csv_bom=config_bom))
    assert options.bom is bom


# -- typed stages, run facts, an immutable report --------------------------------------------


def _computed(workdir: Path, **options: object) -> Computed:
    return compute(
        Options(logs=("log.csv",), profile=Path("profile.yaml"), **options)  # type: ignore[arg-type]
    )


def test_json_meta_is_the_run_facts(workdir: Path) -> None:
    report, render_options = _computed(
        workdir, as_of=dt.date(2026, 11, 30), output=Output(fmt=OutputFormat.JSON, lang="en")
    )
    meta = json.loads(render(report, OutputFormat.JSON, render_options))["meta"]
    assert list(meta) == [
        "version",
        "inputs",
        "encodings",
        "profile",
        "period",
        "by",
        "span",
        "as_of",
        "rows",
        "last_record",
        "skipped_rows",
        "lang",
    ]
    assert meta == {**report.facts.meta(), "lang": "en"}
    assert meta["inputs"] == ["log.csv"] and meta["encodings"] == {"log.csv": "utf-8"}
    assert (meta["span"], meta["as_of"], meta["rows"]) == (["2026-10", "2026-11"], "2026-11-30", 8)


def test_the_report_and_its_facts_cannot_change(workdir: Path) -> None:
    report = _computed(workdir).report
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.totals = {}  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.facts.rows = 0  # type: ignore[misc]
    with pytest.raises(AttributeError):  # a named tuple
        report.results[0].status = None  # type: ignore[misc]
    assert not hasattr(report, "meta") and not hasattr(report, "csv_bom")


def test_run_facts_meta_of_a_run_without_dates() -> None:
    facts = RunFacts(
        inputs=("a.csv", "b.csv"),
        encodings=(("a.csv", "gb18030"), ("b.csv", None)),
        profile=None,
        period=PeriodKind.QUARTER,
        by="service",
        span=("2026-Q1", "2026-Q2"),
        as_of=None,
        rows=3,
        last_record=None,
        skipped_rows=1,
        version="9.9",
    )
    assert facts.meta() == {
        "version": "9.9",
        "inputs": ["a.csv", "b.csv"],
        "encodings": {"a.csv": "gb18030", "b.csv": None},
        "profile": None,
        "period": "quarter",
        "by": "service",
        "span": ["2026-Q1", "2026-Q2"],
        "as_of": None,
        "rows": 3,
        "last_record": None,
        "skipped_rows": 1,
    }
    report = Report([], [], [], [], [], facts)
    assert report.by == "service"


# -- the unit tree and the denominators ---------------------------------------------------------


def test_unit_tree_levels_and_members() -> None:
    profile = models.Profile.model_validate(
        {
            "communities": [
                {"id": "a", "parent": "s1", "residents": 1},
                {"id": "b", "parent": "s1", "residents": 1},
                {"id": "c", "parent": "s2", "residents": 1},
            ],
            "parents": [{"id": "s1", "parent": "d"}, {"id": "s2", "parent": "d"}, {"id": "d"}],
        }
    )
    units = unit_tree(profile, profile.communities)
    assert [(u.level, u.id, u.members) for u in units] == [
        (Level.COMMUNITY, "a", ("a",)),
        (Level.COMMUNITY, "b", ("b",)),
        (Level.COMMUNITY, "c", ("c",)),
        (Level.ROLLUP, "d", ("a", "b", "c")),
        (Level.ROLLUP, "s1", ("a", "b")),
        (Level.ROLLUP, "s2", ("c",)),
        (Level.TOTAL, TOTAL_ID, ("a", "b", "c")),
    ]
    repeats = repeating(units)
    assert units[-1].level is Level.TOTAL and repeats[-1]  # the district pools the same three
    assert not repeats[4]
    alone = unit_tree(None, [Community(id="x")])
    assert [u.level for u in alone] == [Level.COMMUNITY]  # one community: no total


# -- the closed sets as types ----------------------------------------------------------------


def test_closed_sets_are_enums() -> None:
    rule = CountRuleConfig.model_validate(
        {"event": "checkup", "party": "unit", "count": "distinct household"}
    )
    assert rule.party is Party.UNIT and rule.count is CountKind.DISTINCT_HOUSEHOLD
    assert [kind.field for kind in CountKind] == ["id", "household", "ticket", None]
    participation = definitions(Config())[0]
    assert isinstance(participation.numerator, Distinct)
    assert participation.numerator.party is Party.RESIDENT


def test_the_language_is_declared_once() -> None:
    assert i18n.LANGS == tuple(Lang) == ("zh", "en")
    assert Config.model_validate({"lang": "zh"}).lang is Lang.ZH
    assert not hasattr(cli, "LangChoice")


def test_the_column_mapping_no_longer_shadows_the_abc() -> None:
    assert not hasattr(models, "Mapping")
    assert issubclass(models.LogSpec, models.ColumnMapping)
