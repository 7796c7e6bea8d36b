"""The shape of the package: no import circle, heavy libraries only where they are used."""

from __future__ import annotations

import ast
import io
import subprocess
import sys
from pathlib import Path

import pytest

import svcmetrics
from svcmetrics.output import OutputFormat, RenderOptions, render
from svcmetrics.pipeline import Options, run
from svcmetrics.report import Report

SOURCE = Path(svcmetrics.__file__).resolve().parent
ROOT = Path(__file__).resolve().parent.parent

Graph = dict[str, set[str]]


def module_names(source: Path) -> dict[str, Path]:
    """Every module of the package under ``source``, by dotted name."""
    modules = {}
    for path in sorted(source.rglob("*.py")):
        parts = path.relative_to(source.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imports(source: Path) -> Graph:
    """Which package modules each module imports: at the top, in functions, under
    TYPE_CHECKING, everywhere (``from package import name`` counts as importing the
    submodule ``package.name`` when there is one, else the package)."""
    modules = module_names(source)
    graph: Graph = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            graph[name].update(target for target in targets if target in modules)
        graph[name].discard(name)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The import circles of ``graph``: its strongly connected components of more than one
    module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_a_planted_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_walk_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from pkg.sub import b\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("from .. import a\n")
    graph = imports(package)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"]]
    # the real package: the CLI imports the renderers inside its commands
    real = imports(SOURCE)
    assert {"svcmetrics.output", "svcmetrics.output.problems"} <= real["svcmetrics.cli"]


def test_no_import_circle() -> None:
    assert cycles(imports(SOURCE)) == []


@pytest.mark.parametrize(
    ("library", "allowed"),
    [
        (
            "rich",
            {
                "svcmetrics.cli",
                "svcmetrics.output.chart",
                "svcmetrics.output.console",
                "svcmetrics.output.explain",
                "svcmetrics.output.problems",
                "svcmetrics.output.table",
            },
        ),
        ("tabulate", {"svcmetrics.output.text"}),
        ("jinja2", {"svcmetrics.output.html"}),
        (
            "duckdb",
            {
                "svcmetrics.engine",
                "svcmetrics.engine.checks",
                "svcmetrics.engine.count",
                "svcmetrics.engine.interrupt",
                "svcmetrics.engine.load",
                "svcmetrics.engine.sql",
                "svcmetrics.opening",  # (the engine's database, opened before its import)
                "svcmetrics.warehouse.duck",
            },
        ),
    ],
)
def test_heavy_libraries_are_imported_only_where_they_draw(library: str, allowed: set[str]) -> None:
    users = set()
    for name, path in module_names(SOURCE).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(found.split(".")[0] == library for found in names):
                users.add(name)
    assert users <= allowed


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("svcmetrics.output.html", ("rich", "tabulate")),
        ("svcmetrics.output.csvtext", ("rich", "tabulate", "jinja2")),
        ("svcmetrics.output.jsontext", ("rich", "tabulate", "jinja2")),
        ("svcmetrics.output.options", ("rich", "tabulate", "jinja2", "pydantic")),
        ("svcmetrics.output.problems", ("rich", "tabulate", "jinja2")),
    ],
)
def test_importing_a_format_loads_only_what_it_needs(module: str, absent: tuple[str, ...]) -> None:
    code = f"import sys, {module}; print(sorted(m for m in {absent!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def report() -> Report:
    """The example of examples/ (two communities under one street office, three months)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        return run(Options(config=Path("examples/svcmetrics.yaml")))


def _workbook_text(data: bytes) -> str:
    """Every cell of every sheet of a workbook, as text."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return "\n".join(
        str(cell)
        for name in book.sheet_names
        for row in book.get_sheet_by_name(name).to_python()
        for cell in row
    )


@pytest.mark.parametrize("fmt", list(OutputFormat))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_format_renders_the_example(report: Report, fmt: OutputFormat, lang: str) -> None:
    rendered = render(report, fmt, RenderOptions(lang=lang, width=100))
    if fmt is OutputFormat.XLSX:  # a workbook: its cells as text
        assert isinstance(rendered, bytes) and rendered.startswith(b"PK")
        text = _workbook_text(rendered)
    else:
        assert isinstance(rendered, str) and rendered.endswith("\n")
        text = rendered
    named = [indicator.name(lang) for indicator in report.indicators]
    assert all(name in text for name in named)
    assert "2026-11" in text and "建国社区" in text
