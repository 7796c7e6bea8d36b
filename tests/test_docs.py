"""The documentation, run as a user would: README commands, the examples, the CHANGELOG.

Every ```sh block of README.md is run, one command line at a time, from the repository root
(except blocks whose first line is ``# not run by tests`` and the venv set-up lines of the
Quick start). A trailing ``# exit N`` comment on a command is the exit code it documents.

Outputs the README shows are compared with what the tool prints. They are marked with HTML
comments (invisible on GitHub) right before their fenced block:

- ``<!-- stdout of: ARGS -->`` or ``<!-- stderr of: ARGS  # exit N -->``: the block is that
  stream of ``svcmetrics ARGS``, line for line; a line ``…`` in the block stands for lines
  left out (then the shown lines must appear in that order);
- ``<!-- file: NAME -->``: the block is a file those commands read (written to NAME in the
  folder they run in, beside a link to ``examples/``);
- ``<!-- output: ARGS -->`` … ``<!-- /output -->`` around lines (not a fenced block): an
  excerpt of stdout, its lines in order.

Commands run in-process (the ``python -m svcmetrics`` process is tested in test_cli).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from functools import cache
from pathlib import Path

import pytest
from clihelp import Done, run_in

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CHANGELOG = ROOT / "CHANGELOG.md"
CI_RUN = ROOT / ".ci" / "run"
EXAMPLES = ROOT / "examples"

SVCMETRICS_TOKENS = ("svcmetrics", ".venv/bin/svcmetrics")
NOT_RUN = "# not run by tests"
SHELL_OPERATORS = {"|", "||", "&&", ";", "<", ">", ">>", "2>", "2>>", "&"}

EXAMPLE_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && "
    ".venv/bin/svcmetrics compute --config examples/svcmetrics.yaml"
)
TEST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && "
    ".venv/bin/ruff check src tests && .venv/bin/mypy src && .venv/bin/pytest -q"
)
CI_COMMAND = "ruff check src tests && mypy src && pytest -q"
CHANGELOG_HEADER = (
    "# Changelog\n\nAll notable changes to this project will be documented in this file.\n"
)

CONFIG = ["--config", "examples/svcmetrics.yaml"]
FORMATS = ("table", "csv", "json", "markdown")
LANGS = ("zh", "en")
PARTICIPATION = {"zh": "居民参与率", "en": "Resident participation rate"}
TITLE = {"zh": "社区服务指标", "en": "Community service indicators"}


# --------------------------------------------------------------------------- running


@cache
def run(args: tuple[str, ...]) -> Done:
    """``svcmetrics ARGS`` from the repository root, as a user's shell would run it."""
    return run_in(ROOT, args)


# --------------------------------------------------------------------------- README parsing


def fenced_blocks(text: str, language: str) -> list[str]:
    """The body of every ```language block (``language`` empty: blocks with no language)."""
    pattern = re.compile(rf"^```{re.escape(language)}[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
    return [match.group(1) for match in pattern.finditer(text)]


def logical_lines(body: str) -> list[str]:
    """Lines of a shell block, backslash continuations joined."""
    lines: list[str] = []
    pending = ""
    for line in body.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def is_skipped(body: str) -> bool:
    """Blocks that must not run: marked, or setting up a virtual environment."""
    first = body.lstrip("\n").splitlines()[0].strip() if body.strip() else ""
    return first.startswith(NOT_RUN) or re.search(r"-m\s+venv\b", body) is not None


def readme_commands() -> list[tuple[str, tuple[str, ...], int]]:
    """(command as written, svcmetrics arguments, expected exit code) of the README's sh blocks."""
    commands = []
    for body in fenced_blocks(README.read_text(encoding="utf-8"), "sh"):
        if is_skipped(body):
            continue
        for line in logical_lines(body):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            documented = EXIT_COMMENT.search(line)
            tokens = shlex.split(line, comments=True)
            commands.append(
                (line.strip(), tuple(tokens), int(documented.group(1)) if documented else 0)
            )
    return commands


def to_svcmetrics_args(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The arguments after a leading ``svcmetrics`` token (any other command is an error)."""
    assert tokens and tokens[0] in SVCMETRICS_TOKENS, (
        f"a README sh command must start with svcmetrics (or be in a block marked "
        f"{NOT_RUN!r}): {shlex.join(tokens)}"
    )
    operators = SHELL_OPERATORS.intersection(tokens)
    assert not operators, (
        f"README sh commands are run without a shell; {sorted(operators)} needs a block "
        f"marked {NOT_RUN!r}: {shlex.join(tokens)}"
    )
    return tokens[1:]


EXIT_COMMENT = re.compile(r"#\s*exit\s+(\d+)\s*$")
ELIDED = "…"


def shown_outputs() -> list[tuple[str, tuple[str, ...], int, list[str]]]:
    """(stream, svcmetrics arguments, exit code, lines) of each fenced block the README marks
    ``<!-- stdout of: ARGS -->`` or ``<!-- stderr of: ARGS -->``."""
    pattern = re.compile(
        r"^<!-- (stdout|stderr) of: (.+?) -->\n```[a-z]*[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S
    )
    shown = []
    for match in pattern.finditer(README.read_text(encoding="utf-8")):
        documented = EXIT_COMMENT.search(match.group(2))
        args = tuple(shlex.split(match.group(2), comments=True))
        code = int(documented.group(1)) if documented else 0
        shown.append((match.group(1), args, code, match.group(3).splitlines()))
    return shown


def shown_files() -> dict[str, str]:
    """Name → text of each fenced block the README marks ``<!-- file: NAME -->``."""
    pattern = re.compile(r"^<!-- file: (\S+) -->\n```[a-z]*[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
    return {match.group(1): match.group(2) for match in pattern.finditer(README.read_text("utf-8"))}


def assert_shown(shown: list[str], produced: str, where: str) -> None:
    """``shown`` lines are ``produced``, line for line (trailing blanks aside); with ``…``
    lines, the other lines appear in ``produced`` in the order shown."""
    lines = [line.rstrip() for line in produced.rstrip("\n").splitlines()]
    wanted = [ELIDED if line.strip() == ELIDED else line.rstrip() for line in shown]
    if ELIDED not in wanted:
        assert lines == wanted, f"{where} prints:\n" + "\n".join(lines)
        return
    remaining = iter(lines)
    missing = [line for line in wanted if line != ELIDED and line not in remaining]
    assert not missing, f"{where}: {missing} not in this order in:\n" + "\n".join(lines)


def output_excerpts() -> list[tuple[tuple[str, ...], list[str]]]:
    """(svcmetrics arguments, lines) of each ``<!-- output: ARGS -->`` excerpt of the README."""
    pattern = re.compile(r"^<!-- output: (.+?) -->\n(.*?)^<!-- /output -->", re.M | re.S)
    return [
        (tuple(shlex.split(match.group(1))), [ln for ln in match.group(2).splitlines() if ln])
        for match in pattern.finditer(README.read_text(encoding="utf-8"))
    ]


def example_readme_commands() -> list[tuple[str, ...]]:
    """The svcmetrics commands listed in examples/README.md (arguments only)."""
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    commands = []
    for body in fenced_blocks(text, ""):
        for line in logical_lines(body):
            tokens = shlex.split(line, comments=True)
            if tokens and tokens[0] in SVCMETRICS_TOKENS:
                commands.append(tuple(tokens[1:]))
    return commands


README_COMMANDS = readme_commands()


def example_args(fmt: str, lang: str) -> tuple[str, ...]:
    """``compute`` of the example config in one format and language.

    Chinese comes from the config's ``lang: zh`` (so these runs are also the README's),
    English from ``--lang en``: both ways of choosing the language are run.
    """
    args: tuple[str, ...] = ("compute", *CONFIG)
    if fmt != "table":
        args += ("--format", fmt)
    return args if lang == "zh" else (*args, "--lang", lang)


PROFILE_CSV = ("--profile", "examples/profile.yaml", "--format", "csv", "--lang", "en")
FROM_YAML = ("compute", "examples/log.yaml", *PROFILE_CSV)
FROM_CSV = ("compute", "examples/log.csv", *PROFILE_CSV)
AS_OF_SEPTEMBER = (*example_args("csv", "en"), "--month", "2026-09", "--as-of", "2026-09-30")
OTHER_CONFIGS = sorted(
    path.relative_to(ROOT).as_posix()
    for path in EXAMPLES.glob("*/svcmetrics.yaml")  # further examples, in folders of their own
)
OTHER_RUNS = [example_args(fmt, lang) for fmt in FORMATS for lang in LANGS]
OTHER_RUNS += [FROM_YAML, FROM_CSV, AS_OF_SEPTEMBER]
OTHER_RUNS += [("compute", "--config", config, "--format", "json") for config in OTHER_CONFIGS]


# --------------------------------------------------------------------------- (a) README commands


def test_readme_has_commands_to_run() -> None:
    assert len(README_COMMANDS) >= 10


@pytest.mark.parametrize(
    ("written", "tokens", "code"), README_COMMANDS, ids=[c[0] for c in README_COMMANDS]
)
def test_readme_command_runs(written: str, tokens: tuple[str, ...], code: int) -> None:
    done = run(to_svcmetrics_args(tokens))
    assert done.returncode == code, f"{written}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    if code in (0, 1):  # 1: a threshold breach with --fail-on; the results are still written
        assert done.stdout.strip(), f"{written}: empty stdout\n{done.stderr}"
    else:
        assert done.stderr.strip(), f"{written}: no message on stderr"


def test_readme_output_excerpts_are_real() -> None:
    excerpts = output_excerpts()
    assert excerpts, "the README shows a real output excerpt"
    for args, lines in excerpts:
        done = run(args)
        assert done.returncode == 0, done.stderr
        assert_shown([*lines, ELIDED], done.stdout, f"svcmetrics {shlex.join(args)}")


SHOWN = shown_outputs()


def test_readme_shows_marked_outputs() -> None:
    assert {stream for stream, *_ in SHOWN} == {"stdout", "stderr"}
    assert "bad.csv" in shown_files()


@pytest.mark.parametrize(
    ("stream", "args", "code", "lines"), SHOWN, ids=[shlex.join(s[1]) for s in SHOWN]
)
def test_readme_shown_output_is_what_the_tool_prints(
    tmp_path: Path, stream: str, args: tuple[str, ...], code: int, lines: list[str]
) -> None:
    for name, text in shown_files().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    done = run_in(tmp_path, args)
    assert done.returncode == code, done.stderr
    assert_shown(lines, done.stdout if stream == "stdout" else done.stderr, shlex.join(args))


def test_skipped_blocks_are_only_set_up_or_marked() -> None:
    text = README.read_text(encoding="utf-8")
    skipped = [body for body in fenced_blocks(text, "sh") if is_skipped(body)]
    venv_blocks = [body for body in skipped if not body.startswith(NOT_RUN)]
    assert [body.strip() for body in venv_blocks] == [EXAMPLE_COMMAND, TEST_COMMAND]


# --------------------------------------------------------------------------- (b) Quick start, CI


def test_readme_quick_start_commands() -> None:
    text = README.read_text(encoding="utf-8")
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    for command in (EXAMPLE_COMMAND, TEST_COMMAND):
        assert f"```sh\n{command}\n```" in quick_start


def test_ci_runs_the_readme_test_command() -> None:
    lines = [
        line.strip()
        for line in CI_RUN.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert CI_COMMAND in lines
    assert lines[-1] == CI_COMMAND
    assert TEST_COMMAND.replace(".venv/bin/", "").endswith(CI_COMMAND)


# --------------------------------------------------------------------------- (c) the examples


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", LANGS)
def test_example_config_in_every_format_and_language(fmt: str, lang: str) -> None:
    done = run(example_args(fmt, lang))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert "\x1b[" not in done.stdout
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(done.stdout)))
        # 2 communities + 2 roll-up levels + total, 3 months, 7 indicators; 上报率 for the
        # 2 roll-up levels and the total
        assert len(rows) == 5 * 3 * 7 + 3 * 3
        assert {row["indicator_name"] for row in rows} >= {PARTICIPATION[lang]}
    elif fmt == "json":
        document = json.loads(done.stdout)
        assert document["meta"]["lang"] == lang
        assert document["meta"]["rows"] == 136
        assert len(document["results"]) == 5 * 3 * 7 + 3 * 3
    elif fmt == "table":
        assert TITLE[lang] in done.stdout
    else:
        assert PARTICIPATION[lang] in done.stdout


def test_example_yaml_log_gives_the_same_csv_as_the_csv_log() -> None:
    from_yaml = run(FROM_YAML)
    from_csv = run(FROM_CSV)
    assert from_yaml.returncode == 0, from_yaml.stderr
    assert from_csv.returncode == 0, from_csv.stderr
    assert from_yaml.stdout
    assert from_yaml.stdout == from_csv.stdout


@pytest.mark.parametrize("args", example_readme_commands(), ids=shlex.join)
def test_examples_readme_commands_run(args: tuple[str, ...]) -> None:
    done = run(args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


@pytest.mark.parametrize("config", OTHER_CONFIGS)
def test_other_examples_compute(config: str) -> None:
    done = run(("compute", "--config", config, "--format", "json"))
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["results"]
    assert not [issue for issue in document["issues"] if issue["severity"] == "error"]


def _csv_rows(args: tuple[str, ...]) -> dict[tuple[str, str, str], dict[str, str]]:
    done = run(args)
    assert done.returncode == 0, done.stderr
    return {
        (row["community"], row["period"], row["indicator"]): row
        for row in csv.DictReader(io.StringIO(done.stdout))
    }


def test_the_facts_the_readme_states_about_the_example() -> None:
    now = _csv_rows(example_args("csv", "en"))
    september = now[("jianguo", "2026-09", "need_satisfaction")]
    assert (september["numerator"], september["denominator"]) == ("2", "3")
    october = now[("gongle", "2026-10", "resident_participation")]
    assert (october["numerator"], october["denominator"], october["status"]) == (
        "10",
        "100",
        "warn",
    )
    households = [
        now[("jianguo", month, "resident_benefit")]["denominator"]
        for month in ("2026-09", "2026-10")
    ]
    assert households == ["168", "176"]
    as_of = _csv_rows(AS_OF_SEPTEMBER)
    then = as_of[("jianguo", "2026-09", "need_satisfaction")]
    assert (then["numerator"], then["denominator"]) == ("1", "3")


# --------------------------------------------------------------------------- (d) CHANGELOG


def test_changelog_follows_keep_a_changelog() -> None:
    text = CHANGELOG.read_text(encoding="utf-8")
    assert text.startswith(CHANGELOG_HEADER)
    assert "[Keep a Changelog](https://keepachangelog.com/" in text
    headings = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert headings and headings[0] == "Unreleased"
    unreleased = text.split("## [Unreleased]", 1)[1].split("\n## [", 1)[0]
    assert "### Added" in unreleased
