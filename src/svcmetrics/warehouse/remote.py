"""A warehouse table checked and counted where it lives: the checks of spec 4 and the compiled
indicator query run in the engine, and only counts come back (spec 5.2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlglot import exp

from svcmetrics import compiler, sqlexport
from svcmetrics.answers import AnswerLists
from svcmetrics.diagnose import explained
from svcmetrics.errors import Problem
from svcmetrics.indicators import Indicator
from svcmetrics.models import Community, LogMapping, WarehouseSpec, canonical_values
from svcmetrics.periods import Period, plausible_window
from svcmetrics.readers import resolve_headers
from svcmetrics.stages import (
    Checked,
    Inputs,
    PartCounts,
    ProfileValue,
    check_profile_counts,
    community_keys,
    part_counts,
    with_inputs_problems,
)
from svcmetrics.warehouse import checks, sqldates
from svcmetrics.warehouse import literals as sql
from svcmetrics.warehouse import relations as rel
from svcmetrics.warehouse.connection import Connection, Refusal, WarehouseError

BIGINT_MAX = 2**63 - 1
"""The largest profile count a warehouse computes with (a BIGINT)."""

DEFAULT_KEYS = ("date", "community", "event", "id")
"""The fields whose columns name a row in problems when the config names no ``key``."""


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | Decimal | float) else int(str(value))


def _day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


class Warehouse:
    """The records table of one run on one engine: its mapping, its checks, its counts.

    :meth:`check` runs the checks and gives :class:`~svcmetrics.stages.Checked`; the
    counting methods then satisfy :class:`~svcmetrics.stages.Counting`.
    """

    def __init__(
        self,
        connection: Connection,
        url: str,
        spec: WarehouseSpec,
        mapping: LogMapping,
        custom_events: Sequence[str],
        lists: AnswerLists,
    ) -> None:
        self.connection = connection
        self.name = spec.records
        self.lists = lists
        self.custom_events = list(custom_events)
        self.allowed = canonical_values(custom_events)
        self._dialect = connection.dialect
        self._table = exp.to_table(spec.records, dialect=self._dialect)
        headers = connection.columns(self._sql(exp.select(exp.Star()).from_(self._table.copy())))
        resolved = resolve_headers(headers, mapping, spec.records)
        self.headers = {name: headers[index] for name, index in resolved.items()}
        for column in [spec.order, *spec.key]:
            if column is not None and column not in headers:
                raise WarehouseError(
                    Refusal.MISSING_COLUMN, url, f"{spec.records}: {column}", column=column
                )
        self.keys = list(spec.key) or (
            [spec.order]
            if spec.order
            else [self.headers[name] for name in DEFAULT_KEYS if name in self.headers]
        )
        self.shape = sqldates.date_shape(mapping.date_format)
        self._norm = rel.mapped(
            self._table,
            self.headers,
            mapping.constants,
            mapping.values,
            custom_events,
            self.keys,
            spec.order,
            self.shape,
        )
        self._ctes: list[tuple[str, exp.Query]] = [("norm", self._norm)]
        self._periods: list[Period] = []
        self._by: str | None = None

    # -- running -------------------------------------------------------------------------

    def _sql(self, tree: exp.Expression) -> str:
        return compiler.render(tree, self._dialect)

    def _fetch(self, select: exp.Select, ctes: Sequence[tuple[str, exp.Query]] = ()) -> list[Any]:
        """The rows of ``select`` with the table's relations, then ``ctes``, before its own
        common table expressions (each is defined before it is read)."""
        own = select.args.pop("with_", None)
        for name, query in [*self._ctes, *ctes]:
            select = select.with_(name, as_=query.copy(), copy=False)
        if own is not None:
            select.args["with_"].set(
                "expressions", [*select.args["with_"].expressions, *own.expressions]
            )
        return self.connection.fetch(self._sql(select))

    # -- checks ----------------------------------------------------------------------------

    def distinct_communities(self) -> list[str]:
        """The distinct non-blank community values of the table (without a profile)."""
        rows = self._fetch(
            exp.select("community")
            .distinct()
            .from_("norm")
            .where(exp.column("community").is_(exp.null()).not_())
        )
        return sorted(str(row[0]) for row in rows)

    def community_problem(self, kind: str, value: str) -> Problem:
        """A problem of ``kind`` in the table's community column, which holds ``value``."""
        return Problem(kind, self.name, None, self.headers.get("community", "community"), value)

    def check(
        self,
        inputs: Inputs,
        communities: Sequence[Community],
        today: dt.date,
        as_of: dt.date | None,
        limit: int | None,
    ) -> Checked:
        """Check every row in the engine: a count per kind and the first ``limit`` rows of
        each (all without a limit), named by their key columns; then ``records`` is the
        relation of the valid rows the counts read. ``communities`` as
        :func:`svcmetrics.engine.checks.check` takes them."""
        pairs: dict[str, str] = {}
        keys = community_keys(communities)
        for community in keys:  # ids first, as the local engine maps them
            pairs.setdefault(community.id, community.id)
        for community in keys:
            for key in community.keys:
                pairs.setdefault(key, community.id)
        cmap = sql.relation(
            [("key", "VARCHAR"), ("id", "VARCHAR")],
            [(sql.lit(key), sql.lit(value)) for key, value in pairs.items()],
        )
        self._ctes.append(("cmap", cmap))
        config = inputs.config
        window = plausible_window(config.date_range.from_, config.date_range.to, today)
        errors = checks.errors(
            self.shape,
            self.custom_events,
            len(communities) > 1,
            window,
            exp.select("key").from_("cmap"),
            self.lists,
        )
        self._ctes.append(("flagged", checks.flagged("norm", errors)))
        found = checks.problems("norm", [*errors, *checks.warnings(today)], len(self.keys))
        found = exp.union(found, checks.duplicates("norm", len(self.keys)), distinct=False)
        listed, totals = self._problems(self._fetch(checks.listed(found, limit)))
        single = communities[0].id if len(communities) == 1 else None
        self._ctes.append(("records", rel.valid_records("flagged", "cmap", single, as_of)))
        valid: exp.Expr = exp.not_(exp.column("_bad"))
        if as_of is not None:
            valid = exp.and_(valid, exp.column("day") <= sql.date_lit(as_of))
        when = exp.Case().when(valid, exp.column("day"))
        stats = exp.select(
            exp.Min(this=when.copy()),
            exp.Max(this=when.copy()),
            exp.Sum(this=exp.Case().when(valid.copy(), sql.lit(1)).else_(sql.lit(0))),
            exp.Sum(this=exp.Case().when(exp.column("_bad"), sql.lit(1)).else_(sql.lit(0))),
            exp.Count(this=exp.Star()),
        ).from_("flagged")
        first, last, rows, skipped, read = self._fetch(stats)[0]
        problems, totals = with_inputs_problems(inputs, communities, listed, totals)
        return Checked(
            inputs,
            [],
            list(communities),
            problems,
            _int(rows or 0),
            _day(first),
            _day(last),
            totals,
            _int(skipped or 0),
            _int(read or 0),
        )

    def _problems(self, rows: Sequence[Sequence[Any]]) -> tuple[list[Problem], dict[str, int]]:
        """Problems of the listed rows (named ``table (key=value, ...)``), and the totals."""
        keys = len(self.keys)
        totals: dict[str, int] = {}
        problems: list[Problem] = []
        for row in rows:
            rec, kind, name = row[0], str(row[1]), str(row[2])
            value = None if row[3] is None else str(row[3])
            own, first = row[4 : 4 + keys], row[4 + keys : 4 + 2 * keys]
            totals[kind] = _int(row[-1])
            params: dict[str, Any] = {
                "field": name,
                **explained(kind, name, value, self.allowed, self.lists),
            }
            if kind == "duplicate_row":
                params["first"] = self._where(first)
            problems.append(
                Problem(
                    kind=kind,
                    file=self._where(own),
                    column=self.headers.get(name, name),
                    value=value,
                    record=_int(rec),
                    params=params,
                )
            )
        return problems, dict(sorted(totals.items()))

    def _where(self, values: Sequence[Any]) -> str:
        """``table (column=value, ...)``: a row named by its key columns."""
        named = ", ".join(
            f"{column}={'' if value is None else value}"
            for column, value in zip(self.keys, values, strict=True)
        )
        return f"{self.name} ({named})"

    # -- counting (the Counting protocol) --------------------------------------------------

    def set_periods(self, periods: Sequence[Period], by: str | None = None) -> None:
        self._periods = list(periods)
        self._by = by

    def _period_ctes(self) -> list[tuple[str, exp.Query]]:
        periods = sql.relation(
            [("period", "VARCHAR"), ("period_start", "DATE"), ("period_end", "DATE")],
            [(sql.lit(p.label), sql.date_lit(p.start), sql.date_lit(p.end)) for p in self._periods],
        )
        return [("periods", periods)]

    def breakdown_values(self) -> list[str]:
        ctes = [*self._period_ctes(), *self._inputs([], [""], None)]
        select = exp.union(
            exp.select("brk").from_("rp"), exp.select("brk").from_("needs"), distinct=True
        )
        query = exp.select("brk").from_(select.subquery("b")).order_by("brk")
        return [str(row[0]) for row in self._fetch(query, ctes)]

    def _inputs(
        self,
        communities: Sequence[str],
        breakdown: Sequence[str],
        profile: Sequence[ProfileValue] | None,
    ) -> list[tuple[str, exp.Query]]:
        columns = [("community", "VARCHAR"), ("field", "VARCHAR"), ("as_of", "DATE")]
        values = sql.relation(
            [*columns, ("value", "BIGINT")],
            [
                (sql.lit(v.community), sql.lit(v.field), sql.date_lit(v.as_of), sql.lit(v.value))
                for v in profile or []
            ],
        )
        listed = sql.relation([("community", "VARCHAR")], [(sql.lit(c),) for c in communities])
        brks = sql.relation([("brk", "VARCHAR")], [(sql.lit(b),) for b in breakdown])
        return [
            ("profile", values),
            *sqlexport.inputs(self.lists, self._by, listed, brks),
        ]

    def parts(
        self,
        indicators: Sequence[Indicator],
        communities: Sequence[str],
        profile: Sequence[ProfileValue],
        breakdown: Sequence[str],
    ) -> PartCounts:
        check_profile_counts(profile, BIGINT_MAX)
        inputs = [*self._period_ctes(), *self._inputs(communities, breakdown, profile)]
        select = compiler.parts(indicators, sqlexport.NESTED, inputs)
        return part_counts(self._fetch(select))

    def records_per_period(self) -> dict[tuple[str, str], int]:
        inputs = [*self._period_ctes(), *self._inputs([], [""], None)]
        select = (
            exp.select(
                exp.column("community", "r"),
                exp.column("period", "d"),
                exp.alias_(exp.Count(this=exp.Star()), "n"),
            )
            .from_(exp.alias_(exp.to_table("recs"), "r", table=True))
            .join(
                exp.alias_(exp.to_table("pdays"), "d", table=True),
                on=exp.column("day", "d").eq(exp.column("day", "r")),
            )
            .group_by(exp.column("community", "r"), exp.column("period", "d"))
        )
        return {(str(c), str(p)): _int(n) for c, p, n in self._fetch(select, inputs)}
