"""Rows and definitions to counts: bulk validation and aggregation in DuckDB.

Every check is derived from the record schema (:func:`svcmetrics.models.record_columns`)
and every count from the definitions table (:mod:`svcmetrics.indicators`). Values reach
SQL only as bound parameters or registered tables; identifiers come from the schema and
are quoted.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import duckdb

from svcmetrics.answers import Answer, AnswerLists
from svcmetrics.dates import (
    DATE_FORMATS,
    EXCEL_EPOCH,
    EXCEL_SERIAL,
    FIRST_PART,
    NUMERIC_DATE,
    SECOND_PART,
    AmbiguousDates,
)
from svcmetrics.errors import InputError, Problem
from svcmetrics.indicators import (
    Indicator,
)
from svcmetrics.models import (
    MANGLED_ID,
    RECORD_FIELDS,
    TOTAL_IGNORED,
    TOTAL_WORDS,
    Required,
    canonical_values,
    record_columns,
    value_maps,
)
from svcmetrics.periods import Period
from svcmetrics.readers import (
    BLANKS,
    LONG_LINE,
    Blanks,
    NativeCsv,
    NativeParquet,
    Source,
    blanks,
)
from svcmetrics.stages import (
    HUGEINT_MAX,
    Checked,
    CommunityKey,
    ProfileValue,
)

MEMORY_LIMIT = "1GB"


def buffer_size(size: int) -> int:
    """The CSV reader's buffer for a file of ``size`` bytes (the README's Performance).

    DuckDB's default (32 MiB) leaves a file of a few buffers to few threads and makes
    the order-preserving insert merge large batches: about an eighth of the file, between
    4 and 8 MiB, loads a 1M-row log a third faster and a 10M-row log a quarter faster.
    The buffer holds at least twice the longest line (``readers.LONG_LINE``).
    """
    return min(max(size // 8, 4 * LONG_LINE), 8 * LONG_LINE)


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class Check(NamedTuple):
    """One check of every row: an invalid cell is where ``condition`` holds."""

    field: str
    value: str
    """The SQL of the value shown in the problem."""
    kind: str
    condition: str
    params: list[Any]
    """The parameters of ``condition``."""


def _import_compiler() -> None:
    import svcmetrics.compiler  # noqa: F401  (sqlglot: a tenth of a second of imports)


class Engine:
    """One in-process DuckDB database holding the records of one run."""

    def __init__(self) -> None:
        # the compiler (and sqlglot) is imported while DuckDB loads the logs, which
        # releases the GIL: its import then costs no wall time
        threading.Thread(target=_import_compiler, daemon=True).start()
        self._tmp = tempfile.TemporaryDirectory(prefix="svcmetrics-")
        self.con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT})
        self.con.execute("SET temp_directory = ?", [self._tmp.name])
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar = false")
        self._sources: list[Source] = []
        self._nested = False
        """Whether some periods of :meth:`set_periods` share a start (``ytd``)."""

    @property
    def workdir(self) -> Path:
        """A private folder removed with the engine (DuckDB's spill files, UTF-8 copies)."""
        return Path(self._tmp.name)

    @property
    def sources(self) -> list[Source]:
        """The sources as loaded (a native CSV the engine refused is read by Python)."""
        return self._sources

    def close(self) -> None:
        """Release the database and its spill folder."""
        self.con.close()
        self._tmp.cleanup()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- loading -------------------------------------------------------------------------

    def _table(self, name: str, columns: dict[str, tuple[str, list[Any]]]) -> None:
        """Create small table ``name`` from Python lists: column → (SQL type, values).

        The values are bound as list parameters, never pasted into the SQL.
        """
        selects = [f"unnest(?::{kind}[]) AS {ident(key)}" for key, (kind, _) in columns.items()]
        self.con.execute(
            f"CREATE OR REPLACE TABLE {ident(name)} AS SELECT {', '.join(selects)}",
            [values for _, values in columns.values()],
        )

    def load(self, sources: Sequence[Source], custom_events: Sequence[str] = ()) -> None:
        """Read every source into ``loaded``: trimmed text, mapped values, parsed dates.

        Each source is inserted with a projection only (no join, no sort, so all cores
        share the work) while insertion order is preserved: ``loaded``'s row ids are the
        input order. (A row number from the reader, ``WITH ORDINALITY``, would run the
        whole projection on one thread.) The view ``norm`` holds the non-blank rows, with
        the row id as ``_rec``. A native CSV that DuckDB's reader refuses (ragged rows,
        mixed line endings) is read by Python instead.
        """
        self._sources = list(sources)
        self._check_date_formats()
        self._maps = self._value_maps(custom_events)
        self._canonical = canonical_values(custom_events)
        fields = ", ".join(f"{ident(name)} VARCHAR" for name in RECORD_FIELDS)
        self.con.execute(
            f"CREATE TABLE loaded (_src INTEGER, _line BIGINT, _blank BOOLEAN, _total BOOLEAN, "
            f"{fields}, day DATE, _hash UBIGINT)"
        )
        self.con.execute("SET preserve_insertion_order = true")
        for number, source in enumerate(self._sources):
            if isinstance(source.native, NativeParquet):
                self._load_parquet(number, source)
                continue
            if source.native is not None:
                try:
                    self._load_native(number, source)
                    continue
                except duckdb.Error:
                    source = self._sources[number] = source.read_in_python()
            self._load_rows(number, source)
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute(
            "CREATE VIEW norm AS SELECT rowid AS _rec, * EXCLUDE (_blank) FROM loaded "
            "WHERE NOT _blank"
        )
        self._lists: AnswerLists | None = None
        self._first = {}
        for src, first, count in self.con.execute(
            "SELECT _src, min(rowid), count(*) FROM loaded GROUP BY _src"
        ).fetchall():
            self._first[int(src)] = int(first)
            self._sources[int(src)].records = int(count)

    def _check_date_formats(self) -> None:
        for source in self._sources:
            if source.date_format:
                try:
                    self.con.execute("SELECT try_strptime('2000-01-01', ?)", [source.date_format])
                except duckdb.Error:
                    raise InputError(
                        "bad_date_format", file=source.name, format=source.date_format
                    ) from None

    def _value_maps(self, custom_events: Iterable[str]) -> list[dict[str, dict[str, str]]]:
        """Per source: field → {raw value (lower case) → canonical value}."""
        return [value_maps(source.values, custom_events) for source in self._sources]

    def _insert(
        self,
        number: int,
        relation: str,
        relation_params: list[Any],
        columns: dict[str, str],
        line: str = "NULL",
        blank: Sequence[str] | None = None,
        trimmed: Blanks = Blanks.ALL,
        first: Sequence[str] = (),
        total: str = "false",
    ) -> None:
        """Insert one source's rows into ``loaded``, normalised on the way.

        ``columns`` maps each field the source has to its SQL expression over ``relation``;
        the source's constants fill fields it lacks. With ``blank`` (the file's other
        columns), a row whose fields and other columns are all empty is blank, left out
        as an empty line is; without, no row is. ``trimmed``: the blanks values may begin or
        end with (:func:`svcmetrics.readers.blanks`). ``first``: the names (fields, or
        ``_extra`` columns of ``blank``) of the file's columns in their order, whose first
        non-empty value marks a total row; else ``total``, a boolean over ``relation``.
        """
        source = self._sources[number]
        mapping = self._maps[number]

        def trim(expression: str, trimmed: Blanks = trimmed) -> str:
            if trimmed is Blanks.NONE:
                return expression
            if trimmed is Blanks.SPACES:
                return f"trim({expression})"
            return f"trim({expression}, '{BLANKS}')"

        inner = ["? AS _src", f"{line} AS _line"]
        inner_params: list[Any] = [number]
        for name in RECORD_FIELDS:
            if name in columns:
                inner.append(f"NULLIF({trim(columns[name])}, '') AS {ident(name)}")
            elif name in source.constants:
                inner.append(f"NULLIF({trim('?', Blanks.ALL)}, '') AS {ident(name)}")
                inner_params.append(source.constants[name])
            else:
                inner.append(f"NULL::VARCHAR AS {ident(name)}")
        empty = ["false"]
        if blank is not None:
            inner += [f"NULLIF({trim(e)}, '') AS _extra{i}" for i, e in enumerate(blank)]
            empty = [f"{ident(name)} IS NULL" for name in columns]
            empty += [f"_extra{i} IS NULL" for i in range(len(blank))]
        outer = ["_src", "_line", f"({' AND '.join(empty)}) AS _blank"]
        outer_params: list[Any] = []
        # a total row: its first non-empty cell, its community or its id is a total word
        totals = [_total_sql(ident("community")), _total_sql(ident("id"))]
        if first:
            # the first cell is nearly always filled: the others are read only when not
            # (a COALESCE of every column would evaluate them all, a tenth of the load)
            cell = first[0]
            if len(first) > 1:
                cell = f"CASE WHEN {first[0]} IS NOT NULL THEN {first[0]} "
                cell += f"ELSE COALESCE({', '.join(first[1:])}) END"
            totals.insert(0, _total_sql(cell))
        else:
            inner.append(f"{total} AS _first_total")
            totals.insert(0, "_first_total")
        outer.append(f"({' OR '.join(totals)}) AS _total")
        outer_params += [sorted(TOTAL_WORDS)] * " OR ".join(totals).count("?")
        for name in RECORD_FIELDS:
            pairs = mapping.get(name)
            if pairs:
                whens = " ".join("WHEN ? THEN ?" for _ in pairs)
                outer.append(
                    f"CASE lower({ident(name)}) {whens} ELSE {ident(name)} END AS {ident(name)}"
                )
                outer_params += [value for pair in pairs.items() for value in pair]
            else:
                outer.append(ident(name))
        if source.date_format:
            outer.append("CAST(try_strptime(date, ?) AS DATE) AS day")
            outer_params.append(source.date_format)
        else:
            # the first format alone is cheap and reads nearly every date; the list only
            # what it leaves (the result is the same: it is the list's first format)
            outer.append(
                "CAST(COALESCE(try_strptime(date, ?), try_strptime(date, ?)) AS DATE) AS day"
            )
            outer_params += [DATE_FORMATS[0], list(DATE_FORMATS)]
        fields = ", ".join(ident(name) for name in RECORD_FIELDS)
        self.con.execute(
            f"INSERT INTO loaded BY NAME SELECT *, hash({fields}) AS _hash FROM "
            f"(SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {relation}))",
            [*outer_params, *inner_params, *relation_params],
        )

    def _load_rows(self, number: int, source: Source) -> None:
        import pyarrow as pa  # only for logs read by Python (spreadsheets, YAML, refused CSV)

        arrow = pa.table(
            {
                "_line": pa.array(source.lines, type=pa.int64()),
                "_total": pa.array(source.totals or [False] * len(source.lines), type=pa.bool_()),
                **{
                    name: pa.array(values, type=pa.string())
                    for name, values in source.columns.items()
                },
            }
        )
        self.con.register("_source", arrow)
        try:
            columns = {name: f"_source.{ident(name)}" for name in source.columns}
            self._insert(number, "_source", [], columns, line="_line", total="_source._total")
        finally:
            self.con.unregister("_source")

    def _load_native(self, number: int, source: Source) -> None:
        native = source.native
        assert isinstance(native, NativeCsv)
        types = ", ".join(f"'c{index}': 'VARCHAR'" for index in range(native.width))
        columns = {name: f"c{index}" for name, index in native.resolved.items()}
        used = set(native.resolved.values())
        by_index = {index: name for name, index in native.resolved.items()}
        extras = [index for index in range(native.width) if index not in used]
        first = [
            ident(by_index[index]) if index in by_index else f"_extra{extras.index(index)}"
            for index in range(native.width)
        ]
        self._insert(
            number,
            f"read_csv(?, delim = ?, quote = '\"', escape = '\"', header = true, "
            f"auto_detect = false, buffer_size = ?, columns = {{{types}}})",
            [str(native.path), native.delimiter, buffer_size(native.path.stat().st_size)],
            columns,
            blank=[f"c{index}" for index in extras],
            trimmed=blanks(native),
            first=first,
        )

    def _load_parquet(self, number: int, source: Source) -> None:
        native = source.native
        assert isinstance(native, NativeParquet)
        columns = {
            name: f"CAST({ident(column)} AS VARCHAR)" for name, column in native.resolved.items()
        }
        try:
            self._insert(number, "read_parquet(?)", [str(native.path)], columns)
        except duckdb.Error as exc:
            raise InputError(
                "bad_parquet", file=source.name, detail=str(exc).splitlines()[0]
            ) from exc

    def ambiguous_dates(self) -> list[AmbiguousDates]:
        """Sources without a ``date_format`` whose dates read as D/M/Y or M/D/Y.

        One per such source, with an example and the largest first and second parts;
        the caller turns it into a problem.
        """
        sql = """
            WITH candidates AS (
                SELECT _src, _rec, trim(date) AS value,
                       regexp_extract(trim(date), ?, ?) AS a,
                       regexp_extract(trim(date), ?, ?) AS b
                FROM norm WHERE day IS NULL AND date IS NOT NULL
            )
            SELECT _src, min(_rec), arg_min(value, _rec), max(a::INTEGER), max(b::INTEGER)
            FROM candidates WHERE a <> '' GROUP BY _src ORDER BY _src
        """
        params = [NUMERIC_DATE, FIRST_PART, NUMERIC_DATE, SECOND_PART]
        rows = self.con.execute(sql, params).fetchall()
        return [
            AmbiguousDates(
                int(src),
                self._sources[int(src)].line_at(int(rec) - self._first.get(int(src), 0)) or 0,
                str(value),
                int(first),
                int(second),
            )
            for src, rec, value, first, second in rows
            if not self._sources[int(src)].date_format
        ]

    def distinct_values(self, name: str, where: str = "TRUE") -> list[str]:
        """The distinct non-blank values of a normalised field (for checks done in Python)."""
        rows = self.con.execute(
            f"SELECT DISTINCT {ident(name)} FROM norm WHERE {ident(name)} IS NOT NULL AND {where}"
        ).fetchall()
        return sorted(str(row[0]) for row in rows)

    def classify_answers(self, lists: AnswerLists) -> None:
        """``answer_class``: each distinct survey answer → how it counts (NULL: invalid),
        by the one classification of :func:`svcmetrics.compiler.classify`."""
        from svcmetrics import compiler

        self._lists = lists
        self.con.execute(
            f"CREATE OR REPLACE TABLE answer_class AS "
            f"{compiler.render(compiler.answer_class('norm', lists))}"
        )

    def map_communities(self, communities: Sequence[CommunityKey]) -> None:
        """``cmap``: every value a log may use for a community → its id."""
        keys: dict[str, list[Any]] = {"key": [], "id": []}
        seen: set[str] = set()
        # ids first: a value that is one community's id and another's name is the id
        for key, community_id in [(c.id, c.id) for c in communities] + [
            (key, c.id) for c in communities for key in c.keys
        ]:
            if key and key not in seen:
                seen.add(key)
                keys["key"].append(key)
                keys["id"].append(community_id)
        self._table("cmap", {"key": ("VARCHAR", keys["key"]), "id": ("VARCHAR", keys["id"])})

    def _checks(self, window: tuple[dt.date, dt.date], community_required: bool) -> list[Check]:
        """Every check of a row."""
        checks: list[Check] = []
        for name, column in record_columns().items():
            required = column.required
            if name == "community" and community_required:
                required = Required()
            if required is not None:
                condition, extra = _required_condition(required)
                checks.append(
                    Check(
                        name,
                        "NULL",
                        "missing_value",
                        f"{ident(name)} IS NULL AND {condition}",
                        extra,
                    )
                )
            if column.values:
                only = "TRUE"
                extra = []
                if column.only_on_event:
                    only, extra = "event = ?", [column.only_on_event]
                # a value no map knows is left as it was, so it is not a canonical one
                value = ident(name)
                checks.append(
                    Check(
                        name,
                        value,
                        "bad_value",
                        f"{value} IS NOT NULL AND NOT list_contains(?::VARCHAR[], {value}) "
                        f"AND {only}",
                        [self._canonical[name], *extra],
                    )
                )
        checks += [
            Check("date", "date", "bad_date", "date IS NOT NULL AND day IS NULL", []),
            Check("", "NULL", "total_row", "_total", []),
            Check(
                "date",
                "date",
                "date_out_of_range",
                "day IS NOT NULL AND (day < ? OR day > ?)",
                [window[0], window[1]],
            ),
            Check(
                "community",
                "community",
                "unknown_community",
                "community IS NOT NULL AND community NOT IN (SELECT key FROM cmap)",
                [],
            ),
            Check(
                "status",
                "status",
                "bad_answer",
                "event = 'survey' AND status IS NOT NULL AND status NOT IN "
                "(SELECT raw FROM answer_class WHERE cls IS NOT NULL AND raw IS NOT NULL)",
                [],
            ),
        ]
        return checks

    def _find_problems(self, window: tuple[dt.date, dt.date], community_required: bool) -> None:
        """``problems``: one row per invalid cell (one query per check, in one statement)."""
        queries = []
        params: list[Any] = []
        for name, value, kind, condition, extra in self._checks(window, community_required):
            queries.append(
                f"SELECT _src, _rec, _line, ? AS col, {value} AS value, ? AS kind, "
                f"NULL::BIGINT AS other FROM norm WHERE {condition}"
            )
            params += [name, kind, *extra]
        self.con.execute(f"CREATE TABLE problems AS {' UNION ALL '.join(queries)}", params)
        # a day its month does not have (2026-11-31) and an Excel serial number (46331)
        # are bad dates that say what they are (told apart among the few bad dates)
        ymd = r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"
        part = "TRY_CAST(regexp_extract(value, ?, {}) AS INTEGER)"
        no_such_day = (
            f"CASE WHEN {part.format(2)} BETWEEN 1 AND 12 AND {part.format(3)} <= 31 THEN "
            f"{part.format(3)} > day(last_day(make_date({part.format(1)}, {part.format(2)}, 1))) "
            "END"
        )
        serial = (
            f"CASE WHEN regexp_matches(value, ?) THEN DATE '{EXCEL_EPOCH.isoformat()}' + "
            "TRY_CAST(floor(TRY_CAST(value AS DOUBLE)) AS INTEGER) END BETWEEN ? AND ?"
        )
        self.con.execute(
            f"UPDATE problems SET kind = CASE WHEN COALESCE({no_such_day}, false) "
            f"THEN 'no_such_day' WHEN COALESCE({serial}, false) THEN 'excel_serial_date' "
            "ELSE kind END WHERE kind = 'bad_date'",
            [ymd] * no_such_day.count("?") + [EXCEL_SERIAL, window[0], window[1]],
        )
        # a total row is one problem, not one per cell that is no record's
        self.con.execute(
            "DELETE FROM problems WHERE kind <> 'total_row' AND _rec IN "
            "(SELECT _rec FROM problems WHERE kind = 'total_row')"
        )

    def _problem(
        self,
        src: int,
        rec: int,
        line: int | None,
        col: str,
        value: str | None,
        kind: str,
        params: dict[str, Any] | None = None,
    ) -> Problem:
        """A problem at a row; ``rec`` is the row's input order (``raw``'s row id)."""
        source = self._sources[src]
        position = rec - self._first.get(src, 0)
        return Problem(
            kind=kind,
            file=source.name,
            line=line if line is not None else source.line_at(position),
            column=source.headers.get(col, col),
            value=value,
            record=position + 1,
            params={"field": col, **self._explain(kind, col, value), **(params or {})},
        )

    def _explain(self, kind: str, col: str, value: str | None) -> dict[str, Any]:
        """What a problem's message shows besides the cell: the allowed values in both
        languages, the answer lists to paste, the day an Excel serial number stands for."""
        if kind == "bad_value":
            aliases = dict(record_columns()[col].values)
            return {
                "expected": ", ".join(self._canonical[col]),
                "expected@zh": "、".join(
                    aliases[key][0] if aliases.get(key) else key for key in self._canonical[col]
                ),
            }
        if kind == "bad_answer" and self._lists is not None:
            return {"satisfied": self._lists.pasteable(Answer.SATISFIED, value)}
        if kind == "excel_serial_date" and value is not None:
            return {"day": EXCEL_EPOCH + dt.timedelta(days=int(float(value)))}
        return {}

    def _where(self, src: int, rec: int, line: int | None) -> str:
        """``file:line`` of a row, for messages that point at another row."""
        source = self._sources[src]
        if line is None:
            line = source.line_at(rec - self._first.get(src, 0))
        return f"{source.name}:{line}"

    def _find_warnings(self, today: dt.date, limit: int | None) -> dict[str, int]:
        """``warnings``: what is suspicious but not invalid (duplicates, future dates, ids
        Excel mangled), the first ``limit`` of each kind (all without a limit); returns
        how many there are of each kind.

        A duplicate's ``other`` is the input order of the row it repeats. The other kinds
        are counted in one scan and only their first rows are kept: a log dated ahead
        of today may have millions of them.
        """
        fields = ", ".join(ident(name) for name in RECORD_FIELDS)
        # Rows are first grouped by the hash of their fields computed on loading (one
        # integer: cheap); only the rows whose hash repeats are then compared field by
        # field, so a hash collision never makes a duplicate.
        self.con.execute(
            f"""CREATE TABLE duplicates AS
            SELECT _src, _rec, _line, '' AS col, NULL::VARCHAR AS value,
                   'duplicate_row' AS kind, first AS other
            FROM (
                SELECT _src, _rec, _line,
                       first_value(_rec) OVER (PARTITION BY {fields} ORDER BY _rec) AS first
                FROM norm WHERE _hash IN (  -- (blank rows too: fewer columns to read)
                    SELECT _hash FROM loaded GROUP BY 1 HAVING count(*) > 1
                )
            ) WHERE _rec <> first"""
        )
        checks: list[tuple[str, str, str, list[Any]]] = [
            ("date", "future_date", "day > ?", [today])
        ]
        for name in ("id", "household", "ticket"):
            column = ident(name)
            # (a CASE, not an AND: DuckDB evaluates both sides of an AND in a FILTER,
            # and the regular expression is the costly one)
            checks.append(
                (
                    name,
                    "mangled_id",
                    f"CASE WHEN contains({column}, '+') THEN regexp_matches({column}, ?) "
                    "ELSE false END",
                    [MANGLED_ID],
                )
            )
        counted = self.con.execute(
            "SELECT (SELECT count(*) FROM duplicates), "
            + ", ".join(f"count(*) FILTER (WHERE {condition})" for _, _, condition, _ in checks)
            + " FROM norm",
            [p for *_, extra in checks for p in extra],
        ).fetchone()
        totals: dict[str, int] = {}
        for kind, count in zip(
            ["duplicate_row", *(kind for _, kind, _, _ in checks)], counted or (), strict=True
        ):
            if count:
                totals[kind] = totals.get(kind, 0) + int(count)
        cap = "" if limit is None else f"ORDER BY _rec LIMIT {int(limit)}"
        queries = [f"(SELECT * FROM duplicates {cap})"]
        params: list[Any] = []
        for name, kind, condition, extra in checks:
            if totals.get(kind):
                queries.append(
                    f"(SELECT _src, _rec, _line, ? AS col, {ident(name)} AS value, ? AS kind, "
                    f"NULL::BIGINT AS other FROM norm WHERE {condition} {cap})"
                )
                params += [name, kind, *extra]
        self.con.execute(f"CREATE TABLE warnings AS {' UNION ALL '.join(queries)}", params)
        return totals

    def _fetch_problems(self, table: str, limit: int | None) -> list[tuple[int, Problem]]:
        """(input order, problem) of ``table`` (the first ``limit`` of each kind)."""
        cap = ""
        if limit is not None:
            cap = "QUALIFY row_number() OVER (PARTITION BY kind ORDER BY _rec) <= ?"
        rows = self.con.execute(
            f"""SELECT p._src, p._rec, p._line, p.col, p.value, p.kind, p.other,
                       o._src AS other_src, o._line AS other_line
            FROM (SELECT * FROM {ident(table)} {cap}) p
            LEFT JOIN norm o ON o._rec = p.other
            ORDER BY p._rec, p.kind, p.col""",
            [] if limit is None else [limit],
        ).fetchall()
        wanted: dict[int, list[int]] = {}
        for src, rec, line, _, _, _, other, other_src, other_line in rows:
            if line is None:
                wanted.setdefault(int(src), []).append(int(rec) - self._first.get(int(src), 0))
            if other is not None and other_src is not None and other_line is None:
                position = int(other) - self._first.get(int(other_src), 0)
                wanted.setdefault(int(other_src), []).append(position)
        for src, positions in wanted.items():
            self._sources[src].find_lines(positions)
        found = []
        for src, rec, line, col, value, kind, other, other_src, other_line in rows:
            params = {}
            if other is not None and other_src is not None:
                params["first"] = self._where(int(other_src), int(other), other_line)
            problem = self._problem(src, rec, line, col, value, kind, params)
            found.append((int(rec), problem))
        return found

    def validate(
        self,
        window: tuple[dt.date, dt.date],
        community_required: bool,
        single: str | None,
        as_of: dt.date | None,
        today: dt.date,
        limit: int | None = None,
    ) -> Checked:
        """Check every row in bulk; ``recs`` is then the view of the valid rows (up to
        ``as_of``), with their community ids and the order of their days and lines.

        ``single`` is the id every row belongs to when there is only one community.
        ``limit`` caps how many problems of each kind are listed (all are counted).
        """
        self._find_problems(window, community_required)
        warned = self._find_warnings(today, limit)
        listed = self._fetch_problems("problems", limit)
        listed += self._fetch_problems("warnings", limit)
        notes = [note for source in self._sources for note in source.notes]
        problems = notes + [problem for _, problem in sorted(listed, key=lambda item: item[0])]
        totals = {
            str(kind): int(count)
            for kind, count in self.con.execute(
                "SELECT kind, count(*) FROM problems GROUP BY kind"
            ).fetchall()
        }
        for note in notes:
            warned[note.kind] = warned.get(note.kind, 0) + 1
        totals = dict(sorted({**totals, **warned}.items()))
        # records are a view, not a copy: each count reads only the columns it needs, and
        # the joins to communities and periods are on a few hundred keys
        self._table("single", {"id": ("VARCHAR", [single])})
        valid = ["NOT n._blank"]
        any_error = self.con.execute("SELECT count(*) > 0 FROM problems").fetchone()
        if any_error and any_error[0]:
            self.con.execute("CREATE TABLE bad AS SELECT DISTINCT _rec FROM problems")
            valid.append("n._rec NOT IN (SELECT _rec FROM bad)")
        if as_of:
            valid.append(f"n.day <= DATE '{as_of.isoformat()}'")  # a date, not user text
        fields = ", ".join(
            f"n.{ident(name)}" for name in RECORD_FIELDS if name not in ("date", "community")
        )
        # seq orders records by day, then input order (ties: the later row wins), without
        # sorting: days since 1970 in the high digits, the input order in the low ones
        # (a BIGINT holds it: 2.9 million days to the year 9999, times 10^12 rows).
        self.con.execute(
            f"""CREATE VIEW recs AS
            SELECT COALESCE(c.id, (SELECT id FROM single)) AS community, n.day AS day,
                   {fields}, n._rec AS rec,
                   date_diff('day', DATE '1970-01-01', n.day) * 1000000000000 + n._rec AS seq
            FROM (SELECT rowid AS _rec, * FROM loaded) n
            LEFT JOIN cmap c ON c.key = n.community
            WHERE {" AND ".join(valid)}"""
        )
        # the span, the communities, the periods' days and the records per period all
        # come from this table of a few thousand rows, not from scans of the records
        self.con.execute(
            "CREATE TABLE daily AS SELECT community, day, count(*) AS n FROM recs GROUP BY ALL"
        )
        first, last, rows = self.con.execute(
            "SELECT min(day), max(day), COALESCE(sum(n), 0) FROM daily"
        ).fetchone() or (None, None, 0)
        skipped = self.con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT _rec FROM problems)"
        ).fetchone()
        read = self.con.execute("SELECT count(*) FROM norm").fetchone()
        communities = [
            str(row[0])
            for row in self.con.execute(
                "SELECT DISTINCT community FROM daily ORDER BY 1"
            ).fetchall()
        ]
        return Checked(
            problems,
            first,
            last,
            communities,
            int(rows),
            int(skipped[0]) if skipped else 0,
            totals,
            int(read[0]) if read else 0,
        )

    # -- computing -----------------------------------------------------------------------

    def set_periods(self, periods: Sequence[Period], by: str | None = None) -> None:
        """``periods``, ``rp`` (records joined to their windows), ``needs`` and
        ``respondents`` (:mod:`svcmetrics.compiler`); ``brk`` is the breakdown value
        (``--by``), or '' for none. When some periods share a start (``ytd``), the windows
        are home windows (``homes``, :func:`svcmetrics.compiler.homes`), else the periods.

        Each distinct day of the records is given its period first (``pdays``: a few
        hundred rows), so that records join their period on equality, not on a range.
        """
        self._table(
            "periods",
            {
                "period": ("VARCHAR", [p.label for p in periods]),
                "period_start": ("DATE", [p.start for p in periods]),
                "period_end": ("DATE", [p.end for p in periods]),
            },
        )
        self.con.execute(
            """CREATE OR REPLACE TABLE pdays AS
            SELECT d.day, p.period FROM (SELECT DISTINCT day FROM daily) d
            JOIN periods p ON d.day BETWEEN p.period_start AND p.period_end"""
        )
        from svcmetrics import compiler

        nested = len({p.start for p in periods}) < len(periods)
        self._nested = nested
        if nested:
            homes = compiler.render(compiler.homes())
            self.con.execute(f"CREATE OR REPLACE TABLE homes AS {homes}")
        rp = compiler.render(compiler.rp(by, nested))
        self.con.execute(f"CREATE OR REPLACE VIEW rp AS {rp}")
        needs = compiler.render(compiler.needs(by, nested))
        self.con.execute(f"CREATE OR REPLACE TABLE needs AS {needs}")
        respondents = compiler.render(compiler.respondents(nested))
        self.con.execute(f"CREATE OR REPLACE TABLE respondents AS {respondents}")

    def breakdown_values(self) -> list[str]:
        """The distinct breakdown values of the selected periods ('' for a blank one)."""
        rows = self.con.execute(
            "SELECT brk FROM rp UNION SELECT brk FROM needs ORDER BY 1"
        ).fetchall()
        return [str(row[0]) for row in rows]

    def parts(
        self,
        indicators: Sequence[Indicator],
        communities: Sequence[str],
        profile: Sequence[ProfileValue],
        breakdown: Sequence[str],
    ) -> dict[tuple[str, str, str, str], tuple[int, int | None, int | None]]:
        """(community, period, indicator, breakdown) → (numerator, denominator, sample
        size) for every community × period × breakdown value × indicator, by
        :func:`svcmetrics.compiler.parts`; ``profile``: the denominators."""
        from svcmetrics import compiler

        for value in profile:
            if value.value > HUGEINT_MAX:
                raise InputError(
                    "profile_count_too_large",
                    community=value.community,
                    field=value.field,
                    value=value.value,
                )
        self._table("communities", {"community": ("VARCHAR", list(communities))})
        self._table("brks", {"brk": ("VARCHAR", list(breakdown))})
        self._table(
            "profile",
            {
                "community": ("VARCHAR", [v.community for v in profile]),
                "field": ("VARCHAR", [v.field for v in profile]),
                "as_of": ("DATE", [v.as_of for v in profile]),
                # (text on the way in: a Python list of ints above 2^63 binds as a double)
                "value": ("VARCHAR", [str(v.value) for v in profile]),
            },
        )
        self.con.execute("ALTER TABLE profile ALTER value TYPE HUGEINT")
        query = compiler.render(compiler.parts(indicators, self._nested))
        rows = self.con.execute(query).fetchall()
        return {
            (str(c), str(p), str(i), str(b)): (
                int(n),
                None if d is None else int(d),
                None if s is None else int(s),
            )
            for c, p, b, i, _, n, d, s in rows
        }

    def records_per_period(self) -> dict[tuple[str, str], int]:
        """(community, period) → number of valid records dated in it."""
        rows = self.con.execute(
            "SELECT d.community, p.period, sum(d.n) FROM daily d JOIN pdays p ON p.day = d.day "
            "GROUP BY ALL"
        ).fetchall()
        return {(str(c), str(p)): int(n) for c, p, n in rows}


def _total_sql(expression: str) -> str:
    """SQL: whether a trimmed text is a total word (:func:`svcmetrics.models.is_total`);
    its one parameter is the list of :data:`svcmetrics.models.TOTAL_WORDS`.

    Only a short text starting as a total word does is normalised and looked up (a CASE,
    as DuckDB evaluates both sides of an AND): a tenth of the cost on dates and ids.
    """
    text = f"lower({expression})"
    for ignored in TOTAL_IGNORED:
        text = f"replace({text}, '{ignored}', '')"
    starts = sorted({ord(char) for word in TOTAL_WORDS for char in (word[0], word[0].upper())})
    return (
        f"COALESCE(CASE WHEN strlen({expression}) <= 16 AND unicode({expression}) IN "
        f"({', '.join(map(str, starts))}) THEN list_contains(?::VARCHAR[], {text}) END, false)"
    )


def _required_condition(required: Required) -> tuple[str, list[Any]]:
    """The SQL condition under which a field is required, with its parameters."""
    conditions: list[str] = []
    params: list[Any] = []
    if required.on_event is not None:
        conditions.append("event = ?")
        params.append(required.on_event)
    if required.on_party is not None:
        conditions.append("party = ?")
        params.append(required.on_party)
    if required.unless_event is not None:
        conditions.append("event IS NOT NULL AND event <> ?")
        params.append(required.unless_event)
    return (" AND ".join(conditions) or "TRUE"), params
