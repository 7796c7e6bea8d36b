"""The output formats and rendering options (kept light: the CLI imports them at start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Lang(StrEnum):
    """The languages of every label, message and help text (``--lang``, ``lang:``)."""

    ZH = "zh"
    EN = "en"


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
    """Problems as a table for a person at a terminal; else one greppable line each."""
