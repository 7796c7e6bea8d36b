"""Fixtures shared by the test modules."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelp import LOG, PROFILE


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, so that no stray ./svcmetrics.yaml is picked up."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the sample log and profile of clihelp, as the working directory; no
    colour. (Modules needing other files define their own ``workdir``.)"""
    (tmp_path / "log.csv").write_text(LOG, encoding="utf-8")
    (tmp_path / "profile.yaml").write_text(PROFILE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


@pytest.fixture(autouse=True, scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The rendered SQL the runs keep (svcmetrics.engine.compiled) goes to a folder of the
    test session (and its subprocesses), not to the user's cache."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


def pytest_configure(config: pytest.Config) -> None:
    """Texts strict in every test (and the subprocesses they start): a missing catalogue key
    or placeholder is an error, not a silent fallback."""
    import os

    from svcmetrics import i18n

    os.environ["SVCMETRICS_STRICT_I18N"] = "1"
    i18n.set_strict(True)
