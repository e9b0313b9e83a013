"""SQLite specifics: connection settings, the lock seen from plain sqlite3, writers queueing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from clinic_app.core.form import Form
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database, sqlite_file


def test_connection_settings(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000


def test_default_location_is_data_dir(private_data_dir: Path) -> None:
    db = open_database()
    try:
        assert db.path == private_data_dir / "clinic.db"
        assert db.path.exists()
    finally:
        db.close()


def test_environment_selects_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_APP_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    db = open_database()
    try:
        assert db.path == tmp_path / "other.db"
    finally:
        db.close()


def test_sqlite_file_of_urls() -> None:
    assert sqlite_file("sqlite:////tmp/x.db") == Path("/tmp/x.db")
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("postgresql+psycopg://u:p@h/db") is None


def test_password_hidden() -> None:
    db_url = "postgresql+psycopg://clinic:s3cret@db.local:5432/clinic"
    from clinic_app.storage.database import hide_password

    assert "s3cret" not in hide_password(db_url)


def test_signed_evaluation_refuses_plain_sqlite3_update(sqlite_db: Database, form: Form) -> None:
    p = r.create_patient(sqlite_db, r.PatientFields("A", "B", mrn="1"), user="a")
    ev = r.start_evaluation(sqlite_db, p.id, form, user="a")
    r.sign_evaluation(sqlite_db, ev.id, 1, user="a")
    assert sqlite_db.path is not None
    conn = sqlite3.connect(sqlite_db.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="signed and locked"):
            conn.execute("UPDATE evaluation SET findings = '{}' WHERE id = ?", (ev.id,))
        with pytest.raises(sqlite3.IntegrityError, match="signed and locked"):
            conn.execute("DELETE FROM evaluation WHERE id = ?", (ev.id,))
        conn.rollback()
    finally:
        conn.close()
    assert r.verify_evaluation(sqlite_db, ev.id)


def test_writers_queue_instead_of_failing(sqlite_db: Database, form: Form) -> None:
    """Two connections autosaving at once: BEGIN IMMEDIATE makes the second wait, not fail."""
    p = r.create_patient(sqlite_db, r.PatientFields("A", "B", mrn="1"), user="a")
    evs = [r.start_evaluation(sqlite_db, p.id, form, user="a") for _ in range(2)]
    second = open_database(str(sqlite_db.url), backup=False)
    errors: list[BaseException] = []

    def autosave(db: Database, ev_id: int) -> None:
        try:
            version = 1
            for n in range(40):
                saved = r.save_draft(db, ev_id, {"values": {"pain_now": n % 10}}, version, user="a")
                version = saved.version
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=autosave, args=(db, ev.id))
        for db, ev in zip((sqlite_db, second), evs, strict=True)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        second.close()
    assert errors == []
    assert [r.get_evaluation(sqlite_db, ev.id).version for ev in evs] == [41, 41]


def test_reads_do_not_take_the_write_lock(sqlite_db: Database) -> None:
    with sqlite_db.reading() as session:
        session.execute(sa.text("SELECT count(*) FROM patient")).scalar()
        r.create_patient(sqlite_db, r.PatientFields("A", "B", mrn="1"), user="a")


def test_import_storage_is_cheap() -> None:
    code = (
        "import sys, clinic_app.storage, clinic_app.storage.errors; "
        "heavy = [m for m in ('sqlalchemy', 'alembic', 'PySide6', 'reportlab') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_opening_current_database_does_not_import_alembic(tmp_path: Path) -> None:
    open_database(f"sqlite:///{tmp_path / 'c.db'}").close()
    code = (
        "import sys; from clinic_app.storage.database import open_database; "
        f"open_database('sqlite:///{tmp_path / 'c.db'}', backup=False).close(); "
        "print('alembic' in sys.modules, 'PySide6' in sys.modules, 'reportlab' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False False"


@pytest.mark.parametrize(("ci", "outcome"), [("true", "fail"), ("", "skip"), ("false", "skip")])
def test_missing_postgres_fails_on_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: str
) -> None:
    from tests.storage.conftest import no_postgres

    monkeypatch.setenv("CI", ci)
    expected = pytest.fail.Exception if outcome == "fail" else pytest.skip.Exception
    with pytest.raises(expected, match="apt-get install postgresql"):
        no_postgres()
