"""Help pages and usage errors: entirely in the language in force, Click's own words included."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from clihelp import run_cli

from svcmetrics import cli

COMMANDS = ["compute", "validate", "explain", "init", "sql"]

HELP_PAGES = [["--help"], *[[command, "--help"] for command in COMMANDS]]

USAGE_ERRORS = {
    "no such option": ["compute", "--nope"],
    "bad choice": ["compute", "log.csv", "--period", "week"],
    "bad format": ["compute", "log.csv", "--format", "xml"],
    "bad lang": ["compute", "log.csv", "--lang", "fr"],
    "extra argument": ["explain", "a", "b"],
    "no such command": ["nope"],
    "missing value": ["compute", "--month"],
    "flag with a value": ["compute", "--wide=yes"],
    "missing command": [],
}

_ALLOWED = re.compile(
    r"--?[\w-]+|<[^>]*>|\[默认:[^\]]*\]|\[[\w|]+\]|"
    r"svcmetrics(?: (?:compute|validate|explain|init|template|sql))?|"
    r"\w+://[^\s,、;()(]*|\bURL\b|Spark Connect|warehouse:|"
    r"YYYY-MM(?:-DD)?|\.?/?[\w.]+\.(?:yaml|csv)|'[^']*'|%\w/%\w/%\w|"
    r"\b(?:CSV|YAML|UTF-8|BOM|Excel|SQL|README|zh|en|warn|critical|compute|validate|explain|init|template|sql|"
    r"table|month|quarter|year|all|nope|xml|fr|week|yes)\b"
)
"""What may stay Latin in Chinese help: options, values to type, commands, formats."""


def _english_words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{2,}", _ALLOWED.sub(" ", text))


@pytest.mark.parametrize("args", HELP_PAGES, ids=lambda a: " ".join(a))
def test_help_pages(args: list[str], workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, zh, _ = run_cli(["--lang", "zh", *args], capsys)
    assert code == 0
    assert zh.startswith("用法:svcmetrics") and "显示本帮助并退出" in zh
    assert _english_words(zh) == [], zh
    code, en, _ = run_cli(["--lang", "en", *args], capsys)
    assert code == 0
    assert en.startswith("Usage: svcmetrics") and "Options:" in en
    assert "Show this message and exit." in en
    assert not re.search(r"[\u4e00-\u9fff]", en)


@pytest.mark.parametrize("case", sorted(USAGE_ERRORS))
def test_usage_errors_are_all_chinese_under_zh(
    case: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["--lang", "zh", *USAGE_ERRORS[case]], capsys)
    assert code == 2 and out == ""
    assert "错误:" in err
    assert _english_words(err) == [], err
    if "用法" in err:
        assert "运行 “svcmetrics" in err and "--help” 查看帮助" in err


@pytest.mark.parametrize("case", sorted(USAGE_ERRORS))
def test_usage_errors_under_en(
    case: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["--lang", "en", *USAGE_ERRORS[case]], capsys)
    assert code == 2
    assert "Error: " in err and "Value error" not in err
    assert not re.search(r"[\u4e00-\u9fff]", err)


def test_help_columns_align_by_display_width(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Chinese metavars take two columns a character: the help texts still start in line."""
    from wcwidth import wcswidth

    _, out, _ = run_cli(["--lang", "zh", "compute", "--help"], capsys)
    starts = set()
    for line in out.splitlines():
        if line.startswith(("  -c, --config", "  -p, --profile", "  --month", "  --encoding")):
            name = re.match(r"\s*\S.*?\S(?=\s{2,})", line)
            assert name is not None, line
            starts.add(
                wcswidth(name.group(0)) + len(line[name.end() :]) - len(line[name.end() :].lstrip())
            )
    assert len(starts) == 1, out
    assert "\u200b" not in out


def test_help_follows_the_config_language(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    (workdir / "svcmetrics.yaml").write_text("lang: zh\n", encoding="utf-8")
    _, out, _ = run_cli(["compute", "--help"], capsys)
    assert out.startswith("用法:")
    _, _, err = run_cli(["compute", "--nope"], capsys)
    assert "没有选项 --nope" in err
    _, out, _ = run_cli(["--lang", "en", "compute", "--help"], capsys)
    assert out.startswith("Usage:")


def test_a_broken_config_does_not_break_the_language(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    for text in ("lang: [zh\n", "lang: fr\n", "nonsense: 1\n", "- a list\n"):
        (workdir / "svcmetrics.yaml").write_text(text, encoding="utf-8")
        code, out, _ = run_cli(["compute", "--help"], capsys)
        assert code == 0 and out.startswith("用法:"), text
        code, _, err = run_cli(["compute", "log.csv", "-p", "profile.yaml"], capsys)
        assert code == 3 and "svcmetrics.yaml" in err and "svcmetrics:" in err, (text, err)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from svcmetrics import __version__

    code, out, _ = run_cli(["--version"], capsys)
    assert (code, out) == (0, f"svcmetrics {__version__}\n")


def test_every_parameter_is_read() -> None:
    """No declared and unused option: each is read by the command or by its guard."""
    guard = inspect.getsource(cli._guarded)
    for name in ["root", *COMMANDS]:
        function = inspect.unwrap(getattr(cli, name))
        body = inspect.getsource(function).split(") -> None:", 1)[1]
        for parameter in inspect.signature(function).parameters:
            used = re.search(rf"\b{parameter}\b", body) or f'"{parameter}"' in guard
            assert used, (name, parameter)


def test_languages_of_the_option_are_the_catalogues() -> None:
    from svcmetrics.i18n import LANGS, Lang

    assert tuple(choice.value for choice in Lang) == LANGS


def test_explain_is_chinese_under_zh(capsys: pytest.CaptureFixture[str]) -> None:
    """`explain --lang zh` names each indicator in Chinese; only codes stay Latin (the
    indicator keys and the profile fields a denominator reads, as typed in the config)."""
    code, out, _ = run_cli(["explain", "--lang", "zh"], capsys)
    assert code == 0
    codes = {"Wilson", "units", "households", "residents", "residents_capable", "HTML"}
    codes |= {"rank", "pace", "true", "better", "lower", "reporting", "outlier", "ytd"}
    prose = re.sub(r"--[\w-]+( [\w.-]+)?", " ", out)  # options and their values, as typed
    words = set(re.findall(r"[A-Za-z][A-Za-z_]+", prose)) - codes
    assert words and all("_" in word for word in words), words  # indicator keys only
    assert "Resident participation rate" not in out


def test_help_without_a_config_loads_no_config_models(tmp_path: Path) -> None:
    """Deciding the language reads a config only when there is one: `--help` in a folder
    without svcmetrics.yaml starts without the config models (pydantic's schema building)."""
    import subprocess
    import sys

    from svcmetrics import clicktext, config

    assert clicktext.DEFAULT_CONFIG == config.DEFAULT_CONFIG
    probe = (
        "import sys\n"
        "from svcmetrics.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('svcmetrics.config' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stderr.strip().splitlines()[-1] == "False"


def test_version_alone_starts_without_the_parser_or_the_models(tmp_path: Path) -> None:
    """`svcmetrics --version` prints before the parser is built: no pydantic (the parser's
    adapters, the config models) even beside a config; with other options the parser
    prints the same line."""
    import subprocess
    import sys

    (tmp_path / "svcmetrics.yaml").write_text("lang: en\n", encoding="utf-8")
    probe = (
        "import sys\n"
        "from svcmetrics.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print(code, 'pydantic' in sys.modules, 'svcmetrics.config' in sys.modules,"
        " file=sys.stderr)\n"
    )

    def run(*args: str) -> tuple[str, list[str]]:
        done = subprocess.run(
            [sys.executable, "-c", probe, *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout, done.stderr.split()

    alone, loaded = run("--version")
    assert loaded == ["0", "False", "False"]
    parsed, loaded = run("--lang", "zh", "--version")
    assert loaded[0] == "0" and loaded[1] == "True"  # the parser's path, for comparison
    assert alone == parsed == f"svcmetrics {cli.__version__}\n"
