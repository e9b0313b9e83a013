"""Migration 0007 (the exercise library) on a clinic at revision 0006: every row kept, the new
tables empty and locked, seals intact; a downgrade that works while the library is empty and is
refused once the clinic has an exercise. SQLite (the sample file) and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from clinic_app.storage import migrate
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database
from tests.data import make_v0005_db, make_v0006_db
from tests.storage.test_programs import png, wall_sit

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "clinic-0006.db"
OLD_TABLES = (
    "clinic",
    "patient",
    "clinician",
    "form_snapshot",
    "evaluation",
    "addendum",
    "episode",
    "plan_of_care",
    "goal",
    "goal_status",
    "audit_event",
)
NEW_TABLES = {"library_exercise", "library_picture", "program_template"}


@pytest.fixture(autouse=True)
def sample_key(private_data_dir: Path) -> str:
    return make_v0005_db.install_key(private_data_dir)


def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Each old table's rows, without the audit events' signature column (0011)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for table in OLD_TABLES:
            result = conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")
            keep = [i for i, name in enumerate(result.keys()) if (table, name) != LATER]
            out[table] = [tuple(row[i] for i in keep) for row in result]
    return out


LATER = ("audit_event", "signature")


def _downgrade(db: Database, target: str = "0006") -> None:
    with db.engine.connect() as conn:
        command.downgrade(migrate.alembic_config(conn), target)
        conn.commit()


@pytest.fixture
def any_0006(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        path = tmp_path / "clinic.db"
        shutil.copyfile(SAMPLE, path)
        return f"sqlite:///{path}"
    url = str(request.getfixturevalue("postgres_url"))
    db = open_database(url)
    try:
        make_v0006_db.fill(db)
        _downgrade(db)
    finally:
        db.close()
    return url


def test_upgrade_keeps_every_row_and_adds_empty_locked_tables(any_0006: str) -> None:
    db = open_database(any_0006, migrate=False, backup=False)
    try:
        assert db.schema_revision() == "0006"
        assert not set(sa.inspect(db.engine).get_table_names()) & NEW_TABLES
        before = _rows(db)
    finally:
        db.close()
    assert len(before["evaluation"]) == 10  # the 0005 sample's nine and a signed visit note
    db = open_database(any_0006, backup=False)
    try:
        assert db.schema_revision() == migrate.HEAD
        assert _rows(db) == before
        assert set(sa.inspect(db.engine).get_table_names()) >= NEW_TABLES
        assert r.verify_database(db) == []
        assert len(r.load_library(db)) == 12  # the shipped ones; the clinic has none yet
        pic = r.add_picture(db, png(), user="dana")
        r.add_exercise(db, wall_sit(pic.sha256), user="dana")
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM library_picture")
    finally:
        db.close()


def test_downgrade_while_empty_and_refused_with_an_exercise(any_0006: str) -> None:
    db = open_database(any_0006, backup=False)
    try:
        before = _rows(db)
        _downgrade(db)
        assert db.schema_revision() == "0006"
        assert not set(sa.inspect(db.engine).get_table_names()) & NEW_TABLES
        assert _rows(db) == before
    finally:
        db.close()
    db = open_database(any_0006, backup=False)
    try:
        r.add_exercise(db, wall_sit(), user="dana")
        with pytest.raises(RuntimeError, match="library_exercise holds 1 row; revision 0006"):
            _downgrade(db)
        # 0008's own downgrade (triggers only) stays done on SQLite, where DDL is not rolled back
        assert db.schema_revision() in ("0007", migrate.HEAD)
        assert "clinic:wall_sit" in r.load_library(db)
    finally:
        db.close()
