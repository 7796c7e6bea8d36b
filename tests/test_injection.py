"""No injection (issue 8; spec 4): SQL-like payloads in every field, header, name and
setting are plain text, counted like any other value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelp import (
    assert_input_error,
    assert_no_crash,
    by_key,
    run_cli,
    write_csv,
    write_yaml,
)

SQL = "'); DROP TABLE records; --"
PAYLOADS = (SQL, "x'); DROP TABLE recs; --", '"', "\\", ";", "' OR '1'='1")
NASTY = "x'); DROP TABLE recs; --"
"""A community id (and field value) that would end a quoted SQL string."""
QUOTY = "q\"u'o\\te; ' OR '1'='1 --"
"""Double and single quotes, a backslash, a semicolon and a tautology in one value."""


def _payload_log(path: Path, community: str, other: str) -> None:
    """Every field of every event holding payloads; ``community`` gets known numbers:
    2 resident participants, 1 benefiting household, 1 of 2 needs met, 1 of 1 satisfied
    resident; ``other`` gets 1 participating unit."""
    header = ["date", "community", "event", "party", "id", "household", "status", "ticket"]
    header += ["service", "category", NASTY, SQL]
    records: list[dict[str, str]] = [
        {"id": NASTY, "household": QUOTY, "service": SQL, NASTY: NASTY, SQL: QUOTY},
        {"id": QUOTY, "household": "h", "service": QUOTY, NASTY: QUOTY, SQL: SQL},
        {"date": "2026-10-04", "id": NASTY, "household": "h", "service": ";"},
        {"event": "benefit", "id": QUOTY, "household": NASTY, "service": '"'},
        {"event": "benefit", "id": NASTY, "household": NASTY, "service": "\\"},
        {"event": "need", "household": NASTY, "status": "pending", "ticket": NASTY},
        {"date": "2026-10-06", "event": "need", "status": "met", "ticket": NASTY},
        {"date": "2026-10-06", "event": "need", "status": "unmet", "ticket": QUOTY},
        {"date": "2026-10-07", "event": "survey", "id": SQL, "status": "满意"},
        {"community": other, "party": "unit", "id": NASTY, "service": NASTY},
    ]
    base = {"date": "2026-10-03", "community": community, "event": "participate"}
    full = [{**base, "party": "resident", **record} for record in records]
    if path.suffix == ".csv":
        write_csv(path, [header, *[[record.get(key, "") for key in header] for record in full]])
    else:
        write_yaml(path, full)


def _payload_profile(path: Path, community: str, other: str, parent: str) -> None:
    write_yaml(
        path,
        {
            "communities": [
                {
                    "id": community,
                    "name": f"{SQL} name",
                    "parent": parent,
                    "residents": 10,
                    "residents_capable": 10,
                    "households": 10,
                    "units": 10,
                },
                {
                    "id": other,
                    "parent": parent,
                    "residents": 5,
                    "residents_capable": 5,
                    "households": 5,
                    "units": 5,
                },
            ],
            "parents": [{"id": parent, "name": QUOTY}],
        },
    )


@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_sql_payloads_in_every_record_field_are_plain_text(
    workdir: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    parent = "p'); DELETE FROM recs; --"
    _payload_log(workdir / f"payload{suffix}", NASTY, QUOTY)
    _payload_profile(workdir / "payload_profile.yaml", NASTY, QUOTY, parent)
    code, out, err = run_cli(
        ["compute", f"payload{suffix}", "-p", "payload_profile.yaml", "-f", "json", "--lang", "en"],
        capsys,
    )
    assert_no_crash(code, err)
    assert code == 0, err
    rows = by_key(json.loads(out)["results"])

    def numbers(community: str, indicator: str) -> tuple[int, int | None]:
        row = rows[(community, "2026-10", indicator)]
        return row["numerator"], row["denominator"]

    assert numbers(NASTY, "resident_participation") == (2, 10)
    assert numbers(NASTY, "resident_benefit") == (1, 10)
    assert numbers(NASTY, "need_satisfaction") == (1, 2)
    assert numbers(NASTY, "resident_satisfaction") == (1, 1)
    assert numbers(QUOTY, "unit_participation") == (1, 5)
    assert numbers(QUOTY, "resident_participation") == (0, 5)
    assert numbers(parent, "resident_participation") == (2, 15)
    assert numbers("*", "unit_participation") == (1, 15)
    assert rows[(NASTY, "2026-10", "resident_participation")]["community_name"] == f"{SQL} name"
    assert rows[(parent, "2026-10", "resident_participation")]["community_name"] == QUOTY
    # the same values as breakdown keys
    code, out, err = run_cli(
        [
            "compute",
            f"payload{suffix}",
            "-p",
            "payload_profile.yaml",
            "-f",
            "json",
            "--by",
            "service",
        ],
        capsys,
    )
    assert code == 0, err
    services = {r["service"] for r in json.loads(out)["results"]}
    assert {SQL, QUOTY, ";", '"', "\\", NASTY} <= services
    # validate sees every row as valid
    code, out, err = run_cli(
        ["validate", f"payload{suffix}", "-p", "payload_profile.yaml", "-f", "json"], capsys
    )
    assert code == 0, out + err


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_as_survey_answer_is_an_unrecognised_answer(
    workdir: Path, capsys: pytest.CaptureFixture[str], payload: str
) -> None:
    write_csv(
        workdir / "survey.csv",
        [
            ["date", "community", "event", "party", "id", "status"],
            ["2026-10-21", "jianguo", "survey", "resident", "r1", "满意"],
            ["2026-10-22", "jianguo", "survey", "resident", "r2", payload],
        ],
    )
    code, out, err = run_cli(
        ["validate", "survey.csv", "-p", "profile.yaml", "-f", "json", "--lang", "en"], capsys
    )
    assert_no_crash(code, err)
    assert code == 3
    problems = json.loads(out)
    problems = problems["problems"] if isinstance(problems, dict) else problems
    bad = [p for p in problems if p["kind"] == "bad_answer"]
    assert [(p["value"], p["line"]) for p in bad] == [(payload, 3)]
    code, out, err = run_cli(
        ["compute", "survey.csv", "-p", "profile.yaml", "-f", "json", "--skip-invalid"], capsys
    )
    assert code == 0, err
    row = by_key(json.loads(out)["results"])[("jianguo", "2026-10", "resident_satisfaction")]
    assert (row["numerator"], row["denominator"]) == (1, 1)


def test_payloads_in_headers_and_in_a_user_defined_indicator(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mapped headers, extra headers and every string of a user-defined indicator (key,
    names, description, event, status/service conditions, profile field) hold payloads."""
    mapped = {
        field: f"{field} \"\\ ' OR '1'='1 --"
        for field in ("date", "community", "event", "party", "id", "status", "service")
    }
    event = "ch'eck\"up; --"
    status = "o'k\"; DROP TABLE recs"
    service = "s\\'); --"
    profile_field = "sen'iors\"; DROP TABLE recs; --"
    key = "k'ey\"; DROP TABLE recs; --"
    header = [*mapped.values(), SQL, '"; DROP TABLE raw', "x\\"]
    rows = [
        ["2026-10-03", "jianguo", event, "resident", "r1", status, service],
        ["2026-10-03", "jianguo", event, "resident", "r2", status, service],
        ["2026-10-04", "jianguo", event, "resident", "r2", status, service],  # same person
        ["2026-10-03", "jianguo", event, "resident", "r3", "other", service],  # other status
        ["2026-10-03", "jianguo", event, "resident", "r4", status, "other"],  # other service
        ["2026-10-03", "jianguo", event, "unit", "u1", status, service],  # other party
        ["2026-10-05", "jianguo", "participate", "resident", NASTY, "", ""],
    ]
    write_csv(workdir / "headers.csv", [header, *[[*row, SQL, NASTY, QUOTY] for row in rows]])
    config = {
        "columns": mapped,
        "values": {"status": {"'); DROP TABLE vmap; --": "met"}},
        "indicators": [
            {
                "key": key,
                "name": {"zh": "名'\"; --", "en": "N'ame\"; DROP TABLE x; --"},
                "description": {"zh": SQL, "en": QUOTY},
                "numerator": {
                    "event": event,
                    "party": "resident",
                    "count": "distinct id",
                    "status": status,
                    "service": service,
                },
                "denominator": {"profile": profile_field},
                "thresholds": {"warn": 0.5},
            }
        ],
        "thresholds": {key: {"warn": 0.9, "critical": 0.1}},
    }
    write_yaml(workdir / "config.yaml", config)
    write_yaml(
        workdir / "profile2.yaml",
        {"communities": [{"id": "jianguo", "residents_capable": 10, profile_field: 4}]},
    )
    args = ["-c", "config.yaml", "-p", "profile2.yaml", "--lang", "en"]
    code, out, err = run_cli(["compute", "headers.csv", *args, "-f", "json"], capsys)
    assert_no_crash(code, err)
    assert code == 0, err
    rows_out = by_key(json.loads(out)["results"])
    mine = rows_out[("jianguo", "2026-10", key)]
    assert (mine["numerator"], mine["denominator"], mine["rate"]) == (2, 4, 0.5)
    assert mine["indicator_name"] == "N'ame\"; DROP TABLE x; --"
    assert mine["status"] == "warn"
    participation = rows_out[("jianguo", "2026-10", "resident_participation")]
    assert participation["numerator"] == 1
    code, out, err = run_cli(["compute", "headers.csv", *args, "-f", "csv", "--wide"], capsys)
    assert code == 0, err
    code, out, err = run_cli(["explain", key, "-c", "config.yaml", "--lang", "en"], capsys)
    assert code == 0, err
    assert "N'ame\"; DROP TABLE x; --" in out and profile_field in out
    code, out, err = run_cli(["validate", "headers.csv", *args], capsys)
    assert code == 0, out + err


def test_payloads_in_constants_values_and_date_format(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "plain.csv").write_text("when,who\n2026-10-03,r1\n2026-10-04,r2\n", encoding="utf-8")
    write_yaml(
        workdir / "config.yaml",
        {
            "profile": "profile.yaml",
            "logs": [
                {
                    "path": "plain.csv",
                    "columns": {"date": "when", "id": "who"},
                    "constants": {
                        "community": "jianguo",
                        "event": "participate",
                        "party": "resident",
                        "service": SQL,
                    },
                    "values": {"service": {SQL: QUOTY}},
                }
            ],
        },
    )
    code, out, err = run_cli(
        ["compute", "-c", "config.yaml", "-f", "json", "--by", "service"], capsys
    )
    assert_no_crash(code, err)
    assert code == 0, err
    rows = json.loads(out)["results"]
    services = {r["service"] for r in rows}
    assert services <= {SQL, QUOTY}, services
    participation = [
        r
        for r in rows
        if r["community"] == "jianguo" and r["indicator"] == "resident_participation"
    ]
    assert sum(r["numerator"] for r in participation) == 2
    # a date_format holding SQL is only a format: the dates do not parse (exit 3)
    write_yaml(workdir / "fmt.yaml", {"date_format": f"%Y-%m-%d{SQL}"})
    code, _, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", "-c", "fmt.yaml", "--lang", "en"], capsys
    )
    assert_input_error(code, err, "log.csv")


@pytest.mark.parametrize("fmt", ["%Q", "%", "%Y-%m-%d %", "%E"])
@pytest.mark.parametrize("where", ["config", "option"])
def test_a_malformed_date_format_is_a_clear_error(
    workdir: Path, capsys: pytest.CaptureFixture[str], fmt: str, where: str
) -> None:
    """A date_format the engine cannot use is the user's mistake (exit 2 or 3), not exit 4."""
    if where == "config":
        write_yaml(workdir / "fmt.yaml", {"date_format": fmt})
        args = ["-c", "fmt.yaml"]
    else:
        args = ["--date-format", fmt]
    code, _, err = run_cli(
        ["compute", "log.csv", "-p", "profile.yaml", *args, "--lang", "en"], capsys
    )
    assert_no_crash(code, err)
    assert code in (2, 3)
    assert fmt in err


def test_semicolons_inside_quoted_headers_do_not_change_the_delimiter(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A comma-separated file whose quoted headers hold more semicolons than the line has
    commas is still comma-separated (the sniffer must not count quoted characters)."""
    write_csv(
        workdir / "semis.csv",
        [
            ["date", "community", "event", "party", "id", "note; a; b; c; d; e; f; g"],
            ["2026-10-03", "jianguo", "participate", "resident", "r1", "x"],
            ["2026-10-04", "jianguo", "participate", "resident", "r2", "y"],
        ],
    )
    code, out, err = run_cli(
        ["compute", "semis.csv", "-p", "profile.yaml", "-f", "json", "--lang", "en"], capsys
    )
    assert_no_crash(code, err)
    assert code == 0, err
    row = by_key(json.loads(out)["results"])[("jianguo", "2026-10", "resident_participation")]
    assert row["numerator"] == 2
