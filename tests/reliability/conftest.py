"""Reliability fixtures: a private data folder, the throwaway PostgreSQL of the storage tests,
and a terminal summary of what the fault tests measured (crash loss window, run counts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability import report
from tests.storage.conftest import postgres_server, postgres_url  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test keeps its data folder (database, backups) in its own tmp_path."""
    folder = tmp_path / "data"
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(folder))
    monkeypatch.delenv("CLINIC_APP_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLINIC_APP_KEEP_BACKUPS", raising=False)
    return folder


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend (PostgreSQL: the storage tests' throwaway server)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'clinic.db'}"
    return str(request.getfixturevalue("postgres_url"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if report.LINES:
        terminalreporter.section("reliability measurements")
        for line in report.LINES:
            terminalreporter.write_line(line)
