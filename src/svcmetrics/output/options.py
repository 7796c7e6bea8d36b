"""The output formats and rendering options (kept light: the CLI imports them at start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OutputFormat(StrEnum):
    """Every output format of ``compute``; each member has exactly one renderer."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    MARKDOWN = "markdown"
    GITHUB = "github"
    PLAIN = "plain"
    SIMPLE = "simple"
    GRID = "grid"
    RST = "rst"
    HTML = "html"
    CHART = "chart"
    XLSX = "xlsx"
    """An Excel workbook (bytes): the 统计报表 to hand in, the data and the problems."""


class SqlDialect(StrEnum):
    """The engines ``svcmetrics sql`` writes for (sqlglot's dialect names)."""

    DUCKDB = "duckdb"
    POSTGRES = "postgres"
    SPARK = "spark"
    TRINO = "trino"


class ProblemFormat(StrEnum):
    """Output formats of ``validate``."""

    TABLE = "table"
    JSON = "json"


@dataclass(frozen=True)
class RenderOptions:
    """How to render: language, CSV shape, and the terminal's colour and width."""

    lang: str = "en"
    wide: bool = False
    bom: bool = False
    color: bool = False
    width: int = 100
    neutralise: bool = True
    terminal: bool = False
    """A person reads the output at a terminal: problems as a table, and tables fitted to
    ``width`` even if a long word must break; else one greppable line per problem, and
    tables that break cells only between words (a line may grow past ``width``)."""
