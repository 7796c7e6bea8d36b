"""The cache of rendered trees (svcmetrics.engine.compiled): it gives exactly what the
compiler's trees render, never an entry of another compiler, and a second run with the same
config imports no sqlglot and prints the same bytes."""

from __future__ import annotations

import ast
import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from svcmetrics import compiler
from svcmetrics.answers import AnswerLists, answer_lists
from svcmetrics.config import load_config
from svcmetrics.engine import compiled
from svcmetrics.indicators import Indicator, definitions
from svcmetrics.models import Config, SatisfactionConfig

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _config(**fields: Any) -> Config:
    return Config.model_validate(fields)


def _lists() -> list[AnswerLists]:
    moved = SatisfactionConfig.model_validate(
        {"satisfied": ["基本满意", "４", "5"], "excluded": ["没意见"], "scale": [0, 10]}
    )
    return [answer_lists(SatisfactionConfig()), answer_lists(moved)]


def _tables() -> list[list[Indicator]]:
    population = _config(satisfaction={"basis": "population"})
    health, _ = load_config(EXAMPLES / "health" / "svcmetrics.yaml")
    return [definitions(_config()), definitions(population), definitions(health)]


def _calls() -> list[tuple[compiled.Tree, tuple[Any, ...]]]:
    """Every tree the engine runs, with every kind of argument it is built from."""
    calls: list[tuple[compiled.Tree, tuple[Any, ...]]] = [("homes", ())]
    calls += [("answer_class", ("norm", lists)) for lists in _lists()]
    for nested in (False, True):
        calls.append(("respondents", (nested,)))
        for by in (None, "service", "category"):
            calls += [("rp", (by, nested)), ("needs", (by, nested))]
        calls += [("parts", (tuple(table), nested)) for table in _tables()]
    return calls


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of this test; the file the entries go to."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "svcmetrics" / compiled.FILE_NAME


def _compiled(tree: compiled.Tree, args: tuple[Any, ...]) -> str:
    """What the engine runs for ``tree``: through the same function the engine calls."""
    function = getattr(compiled, tree)
    sql = function(*args)
    assert isinstance(sql, str)
    return sql


def _rendered(tree: str, args: tuple[Any, ...]) -> str:
    return compiler.render(getattr(compiler, tree)(*args))


def test_cached_sql_is_what_the_trees_render(cache: Path) -> None:
    calls = _calls()
    first = [_compiled(tree, args) for tree, args in calls]  # rendered, then kept
    entries = json.loads(cache.read_text(encoding="utf-8"))["entries"]
    second = [_compiled(tree, args) for tree, args in calls]  # from the file
    expected = [_rendered(tree, args) for tree, args in calls]
    assert first == expected
    assert second == expected
    assert sorted(entries.values()) == sorted(set(expected))
    assert len(set(expected)) == len(calls)  # (no two calls share an entry)


def test_a_kept_entry_is_used_without_building_a_tree(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _compiled("parts", (tuple(_tables()[2]), True))

    def refuse(*_: object) -> str:
        raise AssertionError("rendered although the entry was kept")

    monkeypatch.setattr(compiled, "_render", refuse)
    assert compiled.parts(_tables()[2], True) == expected
    with pytest.raises(AssertionError, match="rendered although"):
        compiled.parts(_tables()[0], True)  # (another table: another key)


def test_entries_of_an_edited_compiler_are_never_used(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = (_tables()[0], False)
    expected = _rendered("parts", (tuple(args[0]), False))
    compiled.parts(*args)
    # what an older compiler left under the key it had
    data = json.loads(cache.read_text(encoding="utf-8"))
    data["entries"] = dict.fromkeys(data["entries"], "SELECT 'old'")
    cache.write_text(json.dumps(data), encoding="utf-8")
    assert compiled.parts(*args) == "SELECT 'old'"  # (the planted entry is read...)

    edited = tmp_path / "compiler.py"
    edited.write_text(Path(compiler.__file__).read_text(encoding="utf-8") + "\n# edited\n")
    real = compiled.importlib.util.find_spec

    def find_spec(name: str) -> Any:
        spec = real(name)
        if name == "svcmetrics.compiler" and spec is not None:
            spec = copy.copy(spec)  # (not the imported module's own)
            spec.origin = str(edited)
        return spec

    monkeypatch.setattr(compiled.importlib.util, "find_spec", find_spec)
    compiled.fingerprint.cache_clear()
    try:
        assert compiled.parts(*args) == expected  # (...until the compiler's source changes)
        kept = json.loads(cache.read_text(encoding="utf-8"))
        # (the older compiler's entry stays for its own runs: a second installed version)
        assert list(kept["entries"].values()) == ["SELECT 'old'", expected]
        compiled.fingerprint.cache_clear()
        monkeypatch.setattr(compiled.importlib.util, "find_spec", real)
        assert compiled.parts(*args) == "SELECT 'old'"  # (back: its entry was not pushed out)
    finally:
        compiled.fingerprint.cache_clear()


def test_every_module_the_compiler_reads_is_fingerprinted() -> None:
    tree = ast.parse(Path(compiler.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("svcmetrics")
    }
    imported |= {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("svcmetrics")
    }
    assert imported == {"svcmetrics.answers", "svcmetrics.indicators"}
    assert imported | {"svcmetrics.compiler", compiled.__name__} == set(compiled.FINGERPRINTED)
    assert compiled.fingerprint() is not None


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe not json", b"[1, 2]", b'{"fingerprint": 1}', None],
    ids=["bytes", "a-list", "no-entries", "a-folder"],
)
def test_an_unreadable_cache_file_is_passed_over(cache: Path, content: bytes | None) -> None:
    cache.parent.mkdir(parents=True)
    if content is None:
        cache.mkdir()
    else:
        cache.write_bytes(content)
    assert compiled.respondents(True) == _rendered("respondents", (True,))
    assert list(cache.parent.iterdir()) == [cache]  # (no temporary file left)
    if content is not None:  # replaced by a good file
        assert json.loads(cache.read_text(encoding="utf-8"))["entries"]


def test_a_cache_folder_that_cannot_be_made_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert compiled.needs("service", False) == _rendered("needs", ("service", False))
    assert list(tmp_path.iterdir()) == [blocker]  # (no temporary file left)


def test_where_the_cache_goes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compiled.cache_file() == tmp_path / "xdg" / "svcmetrics" / compiled.FILE_NAME
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if sys.platform != "win32":
        home = tmp_path / "home" / ".cache" / "svcmetrics" / compiled.FILE_NAME
        assert compiled.cache_file() == home


def test_the_oldest_entries_go_first(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled, "MAX_ENTRIES", 2)
    sqls = [compiled.rp(by, False) for by in (None, "service", "category")]
    kept = json.loads(cache.read_text(encoding="utf-8"))["entries"]
    assert list(kept.values()) == sqls[1:]


def test_a_second_run_imports_no_sqlglot_and_prints_the_same(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    command = [
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "svcmetrics",
        "compute",
        "--config",
        "svcmetrics.yaml",
        "--format",
        "csv",
    ]
    runs = [
        subprocess.run(command, cwd=EXAMPLES, env=env, capture_output=True, check=True)
        for _ in range(2)
    ]
    assert b" sqlglot\n" in runs[0].stderr  # the first run renders the trees
    assert b"sqlglot" not in runs[1].stderr
    assert b"svcmetrics.compiler" not in runs[1].stderr
    assert runs[1].stdout == runs[0].stdout
