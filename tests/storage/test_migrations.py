"""Schema migrations: models match migrations, upgrades keep every row, newer databases refused."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from clinic_app.storage import backup, migrate
from clinic_app.storage import records as r
from clinic_app.storage.database import open_database
from clinic_app.storage.errors import DatabaseTooNewError, NotOurDatabaseError
from clinic_app.storage.models import Base
from tests.data import make_v0001_db

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "clinic-0001.db"
TABLES = (
    "clinic",
    "clinician",
    "patient",
    "form_snapshot",
    "evaluation",
    "addendum",
    "audit_event",
)
# Objects the migrations make that the models do not describe (search indexes, FTS tables).
EXTRA = {
    "patient_fts",
    "ix_patient_search_trgm",
    "ix_patient_search_prefix",
    "ix_patient_mrn_lower",
}


def test_head_constant_matches_alembic() -> None:
    assert migrate.script_head() == migrate.HEAD
    assert migrate.REVISIONS == ("0001", "0002")


def test_models_match_migrated_schema(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = open_database(database_url)
    try:
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, parent: (
                        not (name in EXTRA or (name or "").startswith("patient_fts"))
                    ),
                },
            )
            diff = compare_metadata(ctx, Base.metadata)
    finally:
        db.close()
    assert diff == []


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = {}
        for table in TABLES:
            cols = [
                c[1] for c in conn.execute(f"PRAGMA table_info({table})") if c[1] != "search_name"
            ]
            out[table] = conn.execute(
                f"SELECT {', '.join(cols)} FROM {table} ORDER BY id"
            ).fetchall()
        return out
    finally:
        conn.close()


def test_sample_is_at_0001() -> None:
    conn = sqlite3.connect(f"file:{SAMPLE}?mode=ro", uri=True)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    finally:
        conn.close()


def test_upgrade_from_0001_keeps_every_row(tmp_path: Path, private_data_dir: Path) -> None:
    path = tmp_path / "clinic.db"
    shutil.copyfile(SAMPLE, path)
    before = _rows(path)
    assert sum(len(v) for v in before.values()) == 17

    db = open_database(f"sqlite:///{path}")
    try:
        assert db.schema_revision() == migrate.HEAD
        assert [p.family_name for p in r.search_patients(db, "muller")] == ["Müller"]
        assert [p.family_name for p in r.search_patients(db, "lukasz")] == ["Kowalski"]
        assert r.search_patients(db, "nunez") == []  # archived
        assert r.get_evaluation(db, 1).addenda[0].text == "Telefonat: Schmerz gebessert."
        with pytest.raises(sa.exc.DatabaseError, match="signed"), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE evaluation SET findings = '{}' WHERE id = 1"))
        assert r.evaluation_form(db, 2).id == "test_form"
        assert [p.family_name for p in r.list_patients(db)] == ["Kowalski", "Müller", "Smith", "王"]
    finally:
        db.close()
    assert _rows(path) == before

    kept = [(p, reason) for p, reason in backup.list_backups() if reason.startswith("upgrade")]
    assert len(kept) == 1
    assert kept[0][1] == "upgrade-from-0001"
    assert _rows(kept[0][0]) == before
    with sqlite3.connect(kept[0][0]) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    conn.close()


@pytest.mark.postgres
def test_upgrade_from_0001_on_postgres(postgres_url: str) -> None:
    db = open_database(postgres_url, migrate=False)
    try:
        migrate.upgrade(db.engine, "0001")
        with db.engine.begin() as conn:
            counts = make_v0001_db.fill(conn)
            before = {
                t: conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY id")).all() for t in TABLES
            }
    finally:
        db.close()
    db = open_database(postgres_url)
    try:
        assert db.schema_revision() == migrate.HEAD
        with db.engine.connect() as conn:
            for table in TABLES:
                cols = [c for c in before[table][0]._fields if c != "search_name"]
                after = conn.execute(
                    sa.text(f"SELECT {', '.join(cols)} FROM {table} ORDER BY id")
                ).all()
                assert [tuple(x) for x in after] == [tuple(x) for x in before[table]]
                assert len(after) == counts[table]
        assert [p.family_name for p in r.search_patients(db, "MÜL")] == ["Müller"]
    finally:
        db.close()


def _stamp(url: str, revision: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    finally:
        engine.dispose()


def test_newer_database_refused_untouched(database_url: str, tmp_path: Path) -> None:
    open_database(database_url).close()
    _stamp(database_url, "9999")
    path = tmp_path / "clinic.db"
    data = path.read_bytes() if database_url.startswith("sqlite") else b""
    with pytest.raises(DatabaseTooNewError, match="9999.*newer version of clinic_app"):
        open_database(database_url)
    if data:
        assert path.read_bytes() == data
        assert backup.list_backups() == []
    # Without migrating (``info``) it opens and tells the revision.
    db = open_database(database_url, migrate=False, backup=False)
    try:
        assert db.schema_revision() == "9999"
    finally:
        db.close()


def test_foreign_database_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    data = path.read_bytes()
    with pytest.raises(NotOurDatabaseError, match="did not make"):
        open_database(f"sqlite:///{path}")
    assert path.read_bytes() == data


def test_new_database_made_at_head(database_url: str) -> None:
    db = open_database(database_url)
    try:
        assert db.schema_revision() == migrate.HEAD
        assert r.count_patients(db) == 0
    finally:
        db.close()
    assert backup.list_backups() == []  # nothing to back up in a new database


def test_search_index_exists(db_url_and_kind: tuple[str, str]) -> None:
    url, kind = db_url_and_kind
    db = open_database(url)
    try:
        with db.engine.connect() as conn:
            if kind == "sqlite":
                sql = "SELECT sql FROM sqlite_master WHERE name = 'patient_fts'"
                assert "remove_diacritics 2" in str(conn.execute(sa.text(sql)).scalar())
            else:
                names = set(
                    conn.execute(
                        sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'patient'")
                    ).scalars()
                )
                assert "ix_patient_search_trgm" in names
                assert "ix_patient_mrn_lower" in names
    finally:
        db.close()


@pytest.fixture
def db_url_and_kind(database_url: str) -> tuple[str, str]:
    return database_url, "sqlite" if database_url.startswith("sqlite") else "postgresql"
