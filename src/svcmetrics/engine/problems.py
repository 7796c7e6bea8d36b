"""The invalid and suspicious rows the checks found, fetched from the engine as problems (data).

Only the rows listed are fetched; their lines are looked up in the files then, in one
pass per file (:class:`svcmetrics.engine.lines.Lines`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from svcmetrics.answers import AnswerLists
from svcmetrics.diagnose import explained
from svcmetrics.engine.load import Loaded
from svcmetrics.engine.sql import ident
from svcmetrics.errors import Problem


@dataclass(frozen=True)
class Listing:
    """Turns rows of a problem table (``_src``, ``_rec``, ``_line``, ``col``, ``value``,
    ``kind``, ``other``) into problems that say where they are and what was expected."""

    loaded: Loaded
    lists: AnswerLists
    """The survey answers as the config reads them (for the answer lists to paste)."""

    def fetch(self, table: str, limit: int | None) -> list[tuple[int, Problem]]:
        """(input order, problem) of ``table`` (the first ``limit`` of each kind)."""
        loaded = self.loaded
        cap = ""
        if limit is not None:
            cap = "QUALIFY row_number() OVER (PARTITION BY kind ORDER BY _rec) <= ?"
        rows = loaded.con.execute(
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
                wanted.setdefault(int(src), []).append(loaded.position(int(src), int(rec)))
            if other is not None and other_src is not None and other_line is None:
                position = loaded.position(int(other_src), int(other))
                wanted.setdefault(int(other_src), []).append(position)
        for src, positions in wanted.items():
            loaded.lines.find(src, positions)
        found = []
        for src, rec, line, col, value, kind, other, other_src, other_line in rows:
            params = {}
            if other is not None and other_src is not None:
                params["first"] = self._where(int(other_src), int(other), other_line)
            problem = self._problem(src, rec, line, col, value, kind, params)
            found.append((int(rec), problem))
        return found

    def _problem(
        self,
        src: int,
        rec: int,
        line: int | None,
        col: str,
        value: str | None,
        kind: str,
        params: dict[str, Any],
    ) -> Problem:
        """A problem at a row; ``rec`` is the row's input order (``loaded``'s row id)."""
        source = self.loaded.sources[src]
        position = self.loaded.position(src, rec)
        return Problem(
            kind=kind,
            file=source.name,
            line=line if line is not None else self.loaded.lines.at(src, position),
            column=source.headers.get(col, col),
            value=value,
            record=position + 1,
            params={
                "field": col,
                **explained(kind, col, value, self.loaded.canonical, self.lists),
                **params,
            },
        )

    def _where(self, src: int, rec: int, line: int | None) -> str:
        """``file:line`` of a row, for messages that point at another row."""
        if line is None:
            line = self.loaded.line_at(src, rec)
        return f"{self.loaded.sources[src].name}:{line}"
