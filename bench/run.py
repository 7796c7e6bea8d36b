"""Benchmark ``svcmetrics compute`` against hand-written DuckDB SQL, pandas and polars scripts.

    python bench/run.py --rows 1000000 --rows 10000000 --repeat 3 --skip-pandas-above 5000000
    python bench/run.py --rows 2000000 --communities 5000 --repeat 1     # a city

For each size: generate the log (cached in bench/data/), check that the tools give the
same community-level numerators and denominators for every community, month and
indicator, then time them alternating, each run a separate process under
``/usr/bin/time -v`` (wall time, peak RSS). Prints markdown tables: median wall time, the
ratios to the SQL, to pandas and to polars, peak memory; and the start-up time of
``svcmetrics --help`` / ``--version`` against a bare ``python -c "import typer, rich.console"``,
and of a run on the 136-row example against ``import duckdb, typer, rich, pydantic, yaml``.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import generate

BENCH = Path(__file__).resolve().parent
EXAMPLE = BENCH.parent / "examples" / "svcmetrics.yaml"
"""The worked example's config: a street office's tiny ledger (136 rows)."""
EXAMPLE_RUN = "svcmetrics compute --config examples/svcmetrics.yaml --format csv"
BARE_IMPORT = "import typer, rich.console"
BARE = f'python -c "{BARE_IMPORT}"'
"""The floor of ``--help`` and ``--version``: a Typer + Rich CLI."""
FLOOR_IMPORT = "import duckdb, typer, rich, pydantic, yaml"
FLOOR = f'python -c "{FLOOR_IMPORT}"'
"""The floor of a run: importing the libraries any run needs."""
YEAR_ROWS = 100_000
"""A normal year of a street office: 50 communities, 12 months, this many log rows."""
YEAR_CSV = f"svcmetrics compute (a 50-community year, {YEAR_ROWS:,} rows) --format csv"
YEAR_TABLE = f"svcmetrics compute (a 50-community year, {YEAR_ROWS:,} rows), the default table"
YEAR_SQL = f"hand-written DuckDB SQL (the same year, {YEAR_ROWS:,} rows)"
TIME = Path("/usr/bin/time")
TOOLS = ("svcmetrics", "svcmetrics-gb18030", "svcmetrics-table", "duckdb-sql", "pandas", "polars")
TIMED_ONLY = ("svcmetrics-table",)
"""Tools timed but not checked (their output is not the result CSV), and run only when
named in ``--tools``: ``svcmetrics-table`` is ``--format table`` (the default output)."""
SCRIPTS = {
    "duckdb-sql": "reference_sql.py",
    "pandas": "reference_pandas.py",
    "polars": "reference_polars.py",
}
"""The hand-written peers: tool → script in bench/ (LOG PROFILE, results on stdout)."""
PEERS = tuple(SCRIPTS)
"""The tools every other one is compared with (a ratio column each)."""
NEEDS = {"pandas": "pandas", "polars": "polars"}
"""The peers that need a package svcmetrics does not depend on: tool → module."""
Key = tuple[str, str, str]
Numbers = tuple[str, str]


@dataclass
class Runs:
    """The timed runs of one tool on one size."""

    walls: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    """User + system CPU seconds (steadier than wall time on a shared machine)."""

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpus)

    def add(self, timed: Timed) -> None:
        self.walls.append(timed.wall)
        self.rss_kb.append(timed.rss_kb)
        self.cpus.append(timed.cpu)


@dataclass(frozen=True)
class Timed:
    """One run: wall seconds, peak RSS (kB), user + system CPU seconds."""

    wall: float
    rss_kb: int
    cpu: float


def ratio(runs: dict[str, Runs], tool: str, other: str) -> str:
    """``tool``'s median wall time over ``other``'s, or a dash when ``other`` did not run."""
    if other not in runs or not runs[other].walls:
        return "—"
    return f"{runs[tool].median / runs[other].median:.2f}×"


def parse_rows(text: str) -> int:
    return int(text.replace("_", "").replace(",", ""))


def svcmetrics_command(args: argparse.Namespace) -> list[str]:
    if args.svcmetrics:
        return [args.svcmetrics]
    beside = Path(sys.executable).parent / "svcmetrics"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("svcmetrics")
    return [found] if found else [sys.executable, "-m", "svcmetrics"]


def gb18030_copy(log: Path) -> Path:
    """The log re-encoded in GB18030 (as Chinese ledgers often are), made once and cached."""
    copy = log.with_name("log-gb18030.csv")
    if not copy.exists() or copy.stat().st_mtime < log.stat().st_mtime:
        with open(log, encoding="utf-8", newline="") as source:
            with open(copy, "w", encoding="gb18030", newline="") as target:
                while block := source.read(1 << 20):
                    target.write(block)
    return copy


def commands(tool: str, log: Path, profile: Path, args: argparse.Namespace) -> list[str]:
    if tool.startswith("svcmetrics"):
        return [
            *svcmetrics_command(args),
            "compute",
            str(gb18030_copy(log) if tool == "svcmetrics-gb18030" else log),
            "--profile",
            str(profile),
            "--format",
            "table" if tool == "svcmetrics-table" else "csv",
        ]
    return [sys.executable, str(BENCH / SCRIPTS[tool]), str(log), str(profile)]


def dataset(rows: int, data: Path, communities: int) -> tuple[Path, Path]:
    """The cached log and profile of ``rows`` rows, generated when missing or outdated."""
    folder = data / generate.folder_name(rows, communities)
    stamp = folder / ".generator"
    wanted = f"version={generate.GENERATOR_VERSION} seed={generate.SEED}\n"
    log, profile = folder / "log.csv", folder / "profile.yaml"
    if log.exists() and profile.exists() and stamp.exists() and stamp.read_text() == wanted:
        return log, profile
    print(f"generating {rows:,} rows into {folder} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    generate.generate(rows, folder, communities=communities)
    stamp.write_text(wanted)
    print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return log, profile


def child_env(args: argparse.Namespace) -> dict[str, str]:
    """The environment of every timed command. By default each one runs with its Python
    bytecode cached in ``DATA/pycache`` (``PYTHONPYCACHEPREFIX``, written by the first
    run), as after ``pip install``, which compiles the package's ``.pyc`` files: a
    ``PYTHONDONTWRITEBYTECODE`` in this environment would otherwise have svcmetrics run
    from a source tree compile its modules at every run while the libraries of the
    floors load theirs from ``.pyc`` files. ``--compile-each-run`` keeps the environment
    as it is."""
    env = dict(os.environ)
    if not args.compile_each_run:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str((args.data / "pycache").resolve())
    return env


def bytecode_note(args: argparse.Namespace) -> str:
    """How the timed commands got their bytecode (printed with the tables)."""
    if args.compile_each_run:
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            return (
                "Bytecode: `--compile-each-run` with `PYTHONDONTWRITEBYTECODE` set: "
                "svcmetrics from a source tree compiles its modules at every run."
            )
        return "Bytecode: `--compile-each-run`, as this environment has it."
    return (
        "Bytecode: every command runs with its Python bytecode cached (`PYTHONPYCACHEPREFIX`"
        " in the data folder, warmed by the first run), as after `pip install`; "
        "`--compile-each-run` times svcmetrics compiling its modules from source instead "
        "when `PYTHONDONTWRITEBYTECODE` is set."
    )


def run_once(command: list[str], stdout: Path, workdir: Path, env: dict[str, str]) -> Timed:
    """Wall seconds, peak RSS and CPU seconds of one run, under ``/usr/bin/time -v``."""
    report = workdir / "time.txt"
    with open(stdout, "wb") as out, open(workdir / "stderr.txt", "wb") as err:
        started = time.perf_counter()
        done = subprocess.run(
            [str(TIME), "-v", "-o", str(report), *command],
            stdout=out,
            stderr=err,
            cwd=workdir,
            env=env,
            check=False,
        )
        wall = time.perf_counter() - started
    if done.returncode != 0:
        tail = (workdir / "stderr.txt").read_text(errors="replace")[-3000:]
        raise SystemExit(f"{' '.join(command)} exited with {done.returncode}:\n{tail}")
    text = report.read_text()
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    cpu = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text))
    return Timed(wall, int(match.group(1)) if match else 0, cpu)


def read_results(path: Path, tool: str) -> dict[Key, Numbers]:
    """(community, period, indicator) → (numerator, denominator) as text."""
    results: dict[Key, Numbers] = {}
    with open(path, encoding="utf-8-sig", newline="") as file:
        for row in csv.DictReader(file):
            if tool.startswith("svcmetrics") and row["level"] != "community":
                continue
            key = (row["community"], row["period"], row["indicator"])
            results[key] = (row["numerator"], row["denominator"])
    return results


def check(outputs: dict[str, Path]) -> tuple[bool, str]:
    """Whether every tool gives the same numbers, and a summary; prints the disagreements."""
    results = {tool: read_results(path, tool) for tool, path in outputs.items()}
    keys = sorted(set().union(*results.values()), key=lambda k: (k[1], k[0], k[2]))
    differing = [k for k in keys if len({results[t].get(k) for t in results}) > 1]
    counts = ", ".join(f"{tool}: {len(found)}" for tool, found in results.items())
    if not differing:
        summary = f"all {len(keys)} community-level results equal ({counts})"
        print(f"check: {summary}", flush=True)
        return True, summary
    summary = f"{len(differing)} of {len(keys)} results DIFFER ({counts})"
    print(f"check: {summary}:", flush=True)
    print("| community | period | indicator | " + " | ".join(results) + " |")
    print("|---|---|---|" + "---|" * len(results))
    for key in differing[:200]:
        cells = [
            "missing" if results[t].get(key) is None else "{} / {}".format(*results[t][key])
            for t in results
        ]
        print(f"| {' | '.join(key)} | {' | '.join(cells)} |")
    if len(differing) > 200:
        print(f"... and {len(differing) - 200} more")
    return False, summary


def run_quietly(command: list[str], workdir: Path, env: dict[str, str]) -> None:
    """Run ``command`` with its output discarded; its standard error is shown only when it
    fails (the year's log has warnings that would fill the terminal at every run)."""
    done = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=workdir, env=env
    )
    if done.returncode != 0:
        sys.stderr.buffer.write(done.stderr)
        raise subprocess.CalledProcessError(done.returncode, command)


def startup(args: argparse.Namespace, workdir: Path) -> list[str]:
    """Median wall and CPU time of ``--help`` and ``--version`` against a bare Typer + Rich
    import, and of a run on the 136-row example and on a 50-community year
    (:data:`YEAR_ROWS`, csv and the default table) against importing what a run needs
    (:data:`FLOOR`), interleaved after one warm-up each."""
    command = svcmetrics_command(args)
    log, profile = dataset(YEAR_ROWS, args.data, generate.COMMUNITIES)
    cases = {
        "svcmetrics --help": ([*command, "--help"], BARE),
        "svcmetrics --version": ([*command, "--version"], BARE),
        BARE: ([sys.executable, "-c", BARE_IMPORT], BARE),
        EXAMPLE_RUN: ([*command, "compute", "--config", str(EXAMPLE), "--format", "csv"], FLOOR),
        FLOOR: ([sys.executable, "-c", FLOOR_IMPORT], FLOOR),
        YEAR_CSV: (commands("svcmetrics", log, profile, args), FLOOR),
        YEAR_TABLE: (commands("svcmetrics-table", log, profile, args), FLOOR),
        YEAR_SQL: (commands("duckdb-sql", log, profile, args), FLOOR),
    }
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    env = child_env(args)
    # warm the file cache, the bytecode cache and svcmetrics' SQL cache once
    for run, _ in cases.values():
        run_quietly(run, workdir, env)
    for _ in range(args.startup_runs):
        for name, (run, _) in cases.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            run_quietly(run, workdir, env)
            walls[name].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    lines = [
        f"Start-up, median of {args.startup_runs} runs each (interleaved):",
        "",
        "| command | median wall s | ratio to its floor | median CPU s | CPU ratio | floor |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, (_, floor) in cases.items():
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        base_wall, base_cpu = statistics.median(walls[floor]), statistics.median(cpus[floor])
        lines.append(
            f"| `{name}` | {wall:.3f} | {wall / base_wall:.2f}× | {cpu:.3f} | "
            f"{cpu / base_cpu:.2f}× | `{floor}` |"
        )
    drawn = statistics.median(walls[YEAR_TABLE]) - statistics.median(walls[YEAR_CSV])
    lines += [
        "",
        f"The year's default table takes {drawn:.3f} s more than its csv.",
        "",
        bytecode_note(args),
    ]
    return lines


def versions(args: argparse.Namespace) -> str:
    parts = [f"Python {platform.python_version()}"]
    done = subprocess.run(
        [*svcmetrics_command(args), "--version"], capture_output=True, text=True, check=False
    )
    parts.append(done.stdout.strip() or "svcmetrics ?")
    for module in ("duckdb", "pandas", "polars", "pyarrow"):
        try:
            parts.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            parts.append(f"{module} missing")
    source = subprocess.run(
        ["git", "-C", str(BENCH.parent), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    if source.returncode == 0:
        parts[1] += f" (source {source.stdout.strip()})"
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = f", {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GB"
    return "; ".join(parts) + f"; {os.cpu_count()} CPUs{memory}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=parse_rows, action="append", help="default: 1000000")
    parser.add_argument(
        "--communities",
        type=parse_rows,
        default=generate.COMMUNITIES,
        metavar="C",
        help=f"communities in the generated data (default {generate.COMMUNITIES}; a city: 5000)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="timed runs per tool (default 3); 0: report the check runs (one each)",
    )
    parser.add_argument(
        "--skip-pandas-above",
        type=parse_rows,
        default=None,
        metavar="N",
        help="leave pandas out for sizes above N rows",
    )
    parser.add_argument(
        "--tools",
        default=",".join(tool for tool in TOOLS if tool not in TIMED_ONLY),
        help=f"comma-separated subset of {','.join(TOOLS)}",
    )
    parser.add_argument("--data", type=Path, default=BENCH / "data", help="cache folder")
    parser.add_argument("--svcmetrics", default=None, help="the svcmetrics executable")
    parser.add_argument("--startup-runs", type=int, default=10)
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up timing")
    parser.add_argument(
        "--compile-each-run",
        action="store_true",
        help="run the commands in this environment as it is, without the bytecode cache "
        "(with PYTHONDONTWRITEBYTECODE set, svcmetrics from a source tree is compiled at "
        "every run)",
    )
    parser.add_argument(
        "--ignore-mismatch",
        action="store_true",
        help="time the tools even when their outputs differ",
    )
    parser.add_argument("--output", type=Path, default=None, help="also write the tables here")
    args = parser.parse_args()
    sizes = args.rows or [1_000_000]
    tools = [tool for tool in args.tools.split(",") if tool]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    if args.communities < 1:
        parser.error("--communities must be at least 1")
    for tool in tools:
        if tool in NEEDS and importlib.util.find_spec(NEEDS[tool]) is None:
            parser.error(
                f"{tool} needs `pip install {NEEDS[tool]}` (a benchmark-only package); "
                f"or leave it out with --tools"
            )
    if not TIME.exists():
        raise SystemExit(
            "/usr/bin/time is missing (GNU time is needed for peak memory): apt-get install -y time"
        )
    lines = [f"Machine: {versions(args)}", ""]
    print(lines[0], flush=True)
    failed = False
    checks: list[str] = []
    table = [
        "| tool | rows | communities | median wall s | "
        + " | ".join(f"ratio to {peer}" for peer in PEERS)
        + " | median CPU s | CPU ratio to duckdb-sql | peak RSS MB |",
        "|---|---:|---:|---:|" + "---:|" * len(PEERS) + "---:|---:|---:|",
    ]
    env = child_env(args)
    with tempfile.TemporaryDirectory(prefix="svcmetrics-bench-") as tmp:
        workdir = Path(tmp)
        for rows in sizes:
            log, profile = dataset(rows, args.data, args.communities)
            active = [
                tool
                for tool in tools
                if not (
                    tool == "pandas"
                    and args.skip_pandas_above is not None
                    and rows > args.skip_pandas_above
                )
            ]
            # SQL is the cheap referee
            checked = [t for t in dict.fromkeys([*active, "duckdb-sql"]) if t not in TIMED_ONLY]
            outdir = log.parent / "out"
            outdir.mkdir(exist_ok=True)
            outputs: dict[str, Path] = {}
            runs = {tool: Runs() for tool in active}
            for tool in checked:  # the check runs also warm the file cache
                outputs[tool] = outdir / f"{tool}.csv"
                timed = run_once(commands(tool, log, profile, args), outputs[tool], workdir, env)
                if args.repeat == 0 and tool in runs:  # check only: report the check runs
                    runs[tool].add(timed)
                print(
                    f"{rows:,} rows, check run: {tool} {timed.wall:.2f} s "
                    f"(CPU {timed.cpu:.2f} s), {timed.rss_kb / 1024:.0f} MB",
                    flush=True,
                )
            if len(outputs) > 1:
                equal, summary = check(outputs)
                checks.append(f"- {rows:,} rows, {args.communities:,} communities: {summary}")
                if not equal:
                    failed = True
                    if not args.ignore_mismatch:
                        continue
            for repetition in range(args.repeat):
                for tool in active:
                    timed = run_once(
                        commands(tool, log, profile, args), workdir / "out.csv", workdir, env
                    )
                    runs[tool].add(timed)
                    print(
                        f"{rows:,} rows, run {repetition + 1}/{args.repeat}: {tool} "
                        f"{timed.wall:.2f} s (CPU {timed.cpu:.2f} s), "
                        f"{timed.rss_kb / 1024:.0f} MB",
                        flush=True,
                    )
            for tool in active:
                if not runs[tool].walls:
                    continue
                ratios = " | ".join(ratio(runs, tool, peer) for peer in PEERS)
                cpu = runs[tool].median_cpu
                sql = runs.get("duckdb-sql", Runs())
                cpu_ratio = f"{cpu / sql.median_cpu:.2f}×" if sql.cpus else "—"
                table.append(
                    f"| {tool} | {rows:,} | {args.communities:,} | {runs[tool].median:.2f} | "
                    f"{ratios} | {cpu:.2f} | {cpu_ratio} | {max(runs[tool].rss_kb) / 1024:.0f} |"
                )
            if runs.get("svcmetrics-table", Runs()).walls and runs.get("svcmetrics", Runs()).walls:
                checks.append(
                    f"- {rows:,} rows: `--format table` takes "
                    f"{ratio(runs, 'svcmetrics-table', 'svcmetrics')} the time of `--format csv`"
                )
        how = (
            f"Median of {args.repeat} run(s) per tool, alternating"
            if args.repeat
            else "One run per tool (the check runs, file cache warm after the first tool)"
        )
        lines += [
            f"{how}; peak RSS is the largest of the runs (`/usr/bin/time -v`). "
            + bytecode_note(args),
            "",
            *table,
            "",
            "Check (svcmetrics `level=community` rows against the references):",
            *checks,
        ]
        if not args.no_startup:
            lines += ["", *startup(args, workdir)]
    print()
    print("\n".join(lines))
    if args.output:
        args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
