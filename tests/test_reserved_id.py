"""The total's id (``*``) is no community's: a profile or a log naming a community or a
roll-up level ``*`` is refused with the place it is at (exit 3), never counted as the total."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelp import run_in
from test_warehouse import load_duckdb, warehouse_config

from svcmetrics.config import load_profile
from svcmetrics.errors import ConfigError

LOG = (
    "date,community,event,party,id\n"
    "2026-10-01,a,participate,resident,R1\n"
    "2026-10-02,*,participate,resident,R2\n"
    "2026-10-03,b,participate,resident,R3\n"
    "2026-10-04,*,participate,resident,R4\n"
)


@pytest.mark.parametrize(
    "text",
    [
        'communities:\n  - {id: a}\n  - {id: "*"}\n',
        'communities:\n  - {id: a, parent: "*"}\n',
        'communities:\n  - {id: a, parent: s}\nparents:\n  - {id: s, parent: "*"}\n',
        'communities:\n  - {id: a, parent: s}\nparents:\n  - {id: s}\n  - {id: "*"}\n',
    ],
    ids=["community", "parent", "level's parent", "level"],
)
def test_a_profile_may_not_use_the_totals_id(tmp_path: Path, text: str) -> None:
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_profile(tmp_path / "p.yaml", "p.yaml")
    assert [problem.kind for problem in raised.value.problems] == ["profile_reserved_id"]


def test_a_log_without_a_profile_naming_the_totals_id_is_refused(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(LOG, encoding="utf-8")
    done = run_in(tmp_path, ["compute", "log.csv", "--format", "csv", "--lang", "en"])
    assert done.returncode == 3
    assert done.stdout == ""
    assert "log.csv:3: community: community '*' is the id of the total" in done.stderr
    assert "nothing was computed" in done.stderr
    checked = run_in(tmp_path, ["validate", "log.csv", "--lang", "zh"])
    assert checked.returncode == 3
    assert "log.csv:3: community: 社区 “*” 与全部社区合计的编号相同" in checked.stderr


def test_a_log_without_the_totals_id_still_counts_every_community(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(LOG.replace(",*,", ",c,"), encoding="utf-8")
    done = run_in(tmp_path, ["compute", "log.csv", "--format", "csv", "--lang", "en"])
    assert done.returncode == 0, done.stderr
    rows = [line.split(",")[:2] for line in done.stdout.splitlines()[1:]]
    assert {tuple(row) for row in rows} == {
        ("community", "a"),
        ("community", "b"),
        ("community", "c"),
        ("total", "*"),
    }


def test_a_table_without_a_profile_naming_the_totals_id_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    load_duckdb(tmp_path / "t.duckdb", "star", log)
    config = warehouse_config(tmp_path / "none.yaml", tmp_path, "star", None)
    done = run_in(
        tmp_path,
        ["compute", "-c", str(config), "--engine", f"duckdb:///{tmp_path / 't.duckdb'}",
         "--lang", "en"],
    )  # fmt: skip
    assert done.returncode == 3
    assert "ledger.star: community: community '*' is the id of the total" in done.stderr
