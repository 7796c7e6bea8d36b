"""The Spark Connect engine without Spark: a missing client, refusals, values, and a start-up
that never loads pyspark (bench/spark_connect.py runs it on a real server)."""

from __future__ import annotations

import datetime as dt
import decimal
import socket
import subprocess
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from svcmetrics.warehouse import spark
from svcmetrics.warehouse.connection import Refusal, WarehouseError


def _without_pyspark(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every ``import pyspark...`` fail as where the package is not installed."""
    for name in [n for n in sys.modules if n == "pyspark" or n.startswith("pyspark.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "pyspark", None)


def test_a_missing_client_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_pyspark(monkeypatch)
    with pytest.raises(WarehouseError) as raised:
        spark.connect("sc://localhost:15002")
    assert raised.value.refusal is Refusal.MISSING_DRIVER
    assert raised.value.exit_code == 3
    assert raised.value.params["detail"] == "pip install 'svcmetrics[spark]'"


class _Refused(Exception):
    """A pyspark error as the client raises it (condition, gRPC status, message)."""

    def __init__(self, condition: str | None, message: str, status: str = "INTERNAL") -> None:
        super().__init__(message)
        self._condition, self._message, self._status = condition, message, status

    def getCondition(self) -> str | None:
        return self._condition

    def getMessage(self) -> str:
        return self._message

    def getGrpcStatusCode(self) -> Any:
        return types.SimpleNamespace(name=self._status)


class _Result:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows
        self.columns = ["community", "n"]

    def collect(self) -> list[tuple[Any, ...]]:
        return self._rows


class _Session:
    """Spark Connect's session, answering each query from ``ANSWERS``."""

    ANSWERS: dict[str, list[tuple[Any, ...]] | Exception] = {}

    def __init__(self, url: str) -> None:
        self.url = url
        self.conf_set: dict[str, str] = {}
        self.policies: list[Any] = []
        self.stopped = False
        self.client = types.SimpleNamespace(set_retry_policies=self.policies.extend)
        self.conf = types.SimpleNamespace(set=self.conf_set.__setitem__)

    def sql(self, query: str) -> _Result:
        answer = self.ANSWERS[query]
        if isinstance(answer, Exception):
            raise answer
        return _Result(answer)

    def stop(self) -> None:
        self.stopped = True


class _Builder:
    def remote(self, url: str) -> Any:
        return types.SimpleNamespace(create=lambda: _Session(url))


@pytest.fixture
def fake_pyspark(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Just enough of pyspark's modules for :func:`spark.connect` to use."""
    modules = {
        "pyspark": {},
        "pyspark.errors": {"PySparkException": _Refused},
        "pyspark.logger": {"PySparkLogger": types.SimpleNamespace(getLogger=_logger)},
        "pyspark.sql": {"SparkSession": types.SimpleNamespace(builder=_Builder())},
        "pyspark.sql.connect": {},
        "pyspark.sql.connect.client": {},
        "pyspark.sql.connect.client.retries": {"DefaultPolicy": lambda **kw: kw},
    }
    for name, names in modules.items():
        module = types.ModuleType(name)
        module.__dict__.update(names)
        monkeypatch.setitem(sys.modules, name, module)
    yield


def _logger(name: str) -> Any:
    import logging

    return logging.getLogger(f"svcmetrics-test.{name}")


@pytest.fixture
def server() -> Iterator[str]:
    """A port that accepts connections (the engine checks it before any call)."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        yield f"sc://127.0.0.1:{listening.getsockname()[1]}"


def test_fetch_gives_python_values_and_ansi_mode(fake_pyspark: None, server: str) -> None:
    day = dt.date(2026, 3, 1)
    row = ("c01", day, 12, decimal.Decimal("7"), decimal.Decimal("0.5"), 0.25, None)
    _Session.ANSWERS = {"SELECT 1": [row]}
    connection = spark.connect(server)
    assert connection.dialect == "spark"
    assert connection.fetch("SELECT 1") == [("c01", day, 12, 7, decimal.Decimal("0.5"), 0.25, None)]
    assert type(connection.fetch("SELECT 1")[0][3]) is int
    assert connection.columns("SELECT 1") == ["community", "n"]
    session = connection.session  # type: ignore[attr-defined]
    assert session.conf_set == {"spark.sql.ansi.enabled": "true"}
    assert session.policies == [{"max_retries": 6, "max_backoff": 15_000}]
    connection.close()
    assert session.stopped


@pytest.mark.parametrize(
    ("error", "refusal", "detail"),
    [
        (
            _Refused("TABLE_OR_VIEW_NOT_FOUND", "[TABLE_OR_VIEW_NOT_FOUND] `ledger`.`x`\nmore"),
            Refusal.MISSING_TABLE,
            "[TABLE_OR_VIEW_NOT_FOUND] `ledger`.`x`",
        ),
        (
            _Refused("SCHEMA_NOT_FOUND", "[SCHEMA_NOT_FOUND] `ledger`"),
            Refusal.MISSING_TABLE,
            "[SCHEMA_NOT_FOUND] `ledger`",
        ),
        (
            _Refused("UNRESOLVED_COLUMN.WITH_SUGGESTION", "[UNRESOLVED_COLUMN] `status`\n\nJVM"),
            Refusal.MISSING_COLUMN,
            "[UNRESOLVED_COLUMN] `status`",
        ),
        (
            _Refused("INSUFFICIENT_PERMISSIONS", "[INSUFFICIENT_PERMISSIONS] SELECT on x"),
            Refusal.PERMISSION,
            "[INSUFFICIENT_PERMISSIONS] SELECT on x",
        ),
        (_Refused(None, "token expired", "UNAUTHENTICATED"), Refusal.LOGIN, "token expired"),
        (_Refused(None, "gone", "UNAVAILABLE"), Refusal.UNREACHABLE, "gone"),
        (
            _Refused("PARSE_SYNTAX_ERROR", "\n[PARSE_SYNTAX_ERROR] at 'selec'\n== SQL ==\n"),
            Refusal.OTHER,
            "[PARSE_SYNTAX_ERROR] at 'selec'",
        ),
    ],
)
def test_refusals(
    fake_pyspark: None, server: str, error: Exception, refusal: Refusal, detail: str
) -> None:
    _Session.ANSWERS = {"SELECT 1": error}
    connection = spark.connect(server)
    for call in (connection.fetch, connection.columns):
        with pytest.raises(WarehouseError) as raised:
            call("SELECT 1")
        assert raised.value.refusal is refusal
        assert raised.value.params["detail"] == detail


def test_a_closed_port_is_unreachable_at_once(fake_pyspark: None) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WarehouseError) as raised:
        spark.connect(f"sc://127.0.0.1:{port}/;token=s3cret")
    assert raised.value.refusal is Refusal.UNREACHABLE
    assert raised.value.params["url"] == f"sc://127.0.0.1:{port}/;token=***"


def test_the_token_is_never_shown(fake_pyspark: None, server: str) -> None:
    url = f"{server}/;user_id=ana;token=s3cret"
    _Session.ANSWERS = {"SELECT 1": _Refused(None, f"bad {url}", "UNAUTHENTICATED")}
    with pytest.raises(WarehouseError) as raised:
        spark.connect(url).fetch("SELECT 1")
    assert "s3cret" not in repr(raised.value.params)
    assert raised.value.params["url"].endswith(";user_id=ana;token=***")


_PROBE = """
import sys

class Refuse:
    seen = []
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pyspark", "grpc", "pandas"):
            Refuse.seen.append(name)
            raise ImportError(name)
        return None

sys.meta_path.insert(0, Refuse())
import svcmetrics.warehouse.spark
from svcmetrics.cli import main
for args in (["--help"], ["compute", "--help"]):
    try:
        main(args)
    except SystemExit:
        pass
print(sorted(set(Refuse.seen)), file=sys.stderr)
"""


def test_start_up_never_imports_pyspark(tmp_path: Any) -> None:
    """``svcmetrics --help`` (and importing the Spark engine) loads no part of the client."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_redact_hides_a_spark_token_wherever_the_url_is_shown() -> None:
    """The URL in messages, ``--verbose`` and the JSON meta goes through ``redact``."""
    from svcmetrics.warehouse.connection import redact, scrub

    url = "sc://spark.example.org:443/;use_ssl=true;token=s3cret;user_id=ana"
    assert redact(url) == "sc://spark.example.org:443/;use_ssl=true;token=***;user_id=ana"
    assert scrub("token s3cret refused", url) == "token *** refused"
