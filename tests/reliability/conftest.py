"""Reliability fixtures: a private data folder, the throwaway PostgreSQL of the storage tests,
and a terminal summary of what the fault tests measured (crash loss window, run counts)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability import report
from tests.storage.conftest import (  # noqa: F401 - the two fixtures are used by tests here
    PG_INITDB,
    _free_port,
    postgres_server,
    postgres_url,
)


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


@dataclass
class OwnPostgres:
    """A private PostgreSQL cluster that a test may stop (crash) and start again."""

    base: Path
    port: int
    prefix: list[str]
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.base / "data"), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} -c fsync=off"
        self.ctl("-o", options, "-l", str(self.base / "log"), "-w", "start")

    def crash(self) -> None:
        """Stop at once, as a power cut or a killed server would (no clean shutdown)."""
        self.ctl("-m", "immediate", "-w", "stop")


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A throwaway cluster of its own (the shared one must not be stopped under other tests)."""
    if not PG_INITDB:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but no PostgreSQL server binaries (apt-get install postgresql)")
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)")
    bindir = Path(PG_INITDB[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="clinic-pg-own-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(base / "data"),
            "--auth=trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = OwnPostgres(base=base, port=_free_port(), prefix=prefix, bindir=bindir)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by the test
            server.ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
