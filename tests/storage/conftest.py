"""Storage test fixtures: every ``db`` test runs on SQLite and on a real, throwaway PostgreSQL.

The PostgreSQL cluster is made once per session with ``initdb`` and ``pg_ctl`` on 127.0.0.1 (a
free port, its socket in a private temporary folder) and removed at the end; each test gets a
fresh database in it. When running as root the server runs as the ``postgres`` user (PostgreSQL
refuses root). Without server binaries the PostgreSQL cases are skipped, except under CI=true,
where they fail: CI must install them (``apt-get install postgresql``).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from clinic_app.core.form import Form, parse_form
from clinic_app.storage.database import Database, open_database

PG_INITDB = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def admin(self) -> Any:
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


NO_SERVER = (
    "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb); "
    "install them with: apt-get install postgresql"
)


def no_postgres() -> NoReturn:
    """Skip the PostgreSQL cases, or fail them under CI=true (CI must test both backends)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {NO_SERVER}")
    pytest.skip(NO_SERVER)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PgServer]:
    if not PG_INITDB:
        no_postgres()
    bindir = Path(PG_INITDB[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
    data = base / "data"
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "--auth=trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {base} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(base / "log"),
        "-w",
        "start",
    )
    try:
        yield PgServer(host="127.0.0.1", port=port, user="postgres")
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


_names = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: PgServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    name = f"clinic_test_{os.getpid()}_{next(_names)}"
    with postgres_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_server.url(name)
    finally:
        with postgres_server.admin() as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every storage test keeps its data folder (database, backups) in its own tmp_path."""
    folder = tmp_path / "data"
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(folder))
    monkeypatch.delenv("CLINIC_APP_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLINIC_APP_KEEP_BACKUPS", raising=False)
    return folder


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PgServer) -> str:
    """A database migrated to head once per session, copied for each test (CREATE ... TEMPLATE)."""
    name = f"clinic_template_{os.getpid()}"
    with postgres_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    open_database(postgres_server.url(name)).close()
    return name


@pytest.fixture
def postgres_migrated_url(postgres_server: PgServer, postgres_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database already at the head revision, dropped after the test."""
    name = f"clinic_test_{os.getpid()}_{next(_names)}"
    with postgres_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    try:
        yield postgres_server.url(name)
    finally:
        with postgres_server.admin() as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'clinic.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def db(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An open, migrated database on each backend."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'clinic.db'}"
    else:
        url = str(request.getfixturevalue("postgres_migrated_url"))
    database = open_database(url)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'clinic.db'}")
    try:
        yield database
    finally:
        database.close()


def small_form_data(version: int = 1) -> dict[str, Any]:
    """A small but complete form: one-sided and bilateral items of each kind."""
    src = "test"
    return {
        "id": "test_form",
        "version": version,
        "title": "Test form",
        "involved_side_item": "involved_side",
        "sections": [
            {
                "id": "main",
                "title": "Main",
                "items": [
                    {
                        "id": "involved_side",
                        "label": "Involved side",
                        "type": "choice",
                        "source": src,
                        "choices": [
                            {"id": "left", "label": "Left"},
                            {"id": "right", "label": "Right"},
                            {"id": "both", "label": "Both"},
                        ],
                    },
                    {"id": "pain_now", "label": "Pain now", "type": "scale", "source": src},
                    {
                        "id": "nordic_force",
                        "label": "Nordic",
                        "type": "number",
                        "unit": "N",
                        "range": {"min": 0, "max": 1000},
                        "bilateral": True,
                        "source": src,
                    },
                    {
                        "id": "hip_flexor_mmt",
                        "label": "Hip flexor",
                        "type": "mmt",
                        "bilateral": True,
                        "source": src,
                    },
                    {
                        "id": "slump",
                        "label": "Slump",
                        "type": "posneg",
                        "bilateral": True,
                        "source": src,
                    },
                    {
                        "id": "pain_location",
                        "label": "Where",
                        "type": "regions",
                        "source": src,
                        "choices": [
                            {"id": "sit_bone", "label": "Sit bone"},
                            {"id": "mid_thigh", "label": "Mid thigh"},
                        ],
                    },
                    {"id": "notes", "label": "Notes", "type": "text", "source": src},
                ],
            }
        ],
    }


@pytest.fixture
def form() -> Form:
    return parse_form(small_form_data(), "test form")
