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
from clinic_app.storage.search import search_name
from tests.data import make_v0001_db

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "clinic-0001.db"
SAMPLE_0002 = Path(__file__).resolve().parents[1] / "data" / "clinic-0002.db"
TABLES = make_v0001_db.TABLES
LATER = (
    {"search_name", "seal", "signature", "prev_hash", "hash"}
    | {  # 0005: accounts
        "login",
        "password_hash",
        "roles",
        "failed_attempts",
        "last_failed_at",
        "must_change_password",
        "password_changed_at",
        "signing_public_key",
        "signing_key",
        "key_certificate",
        "key_certified_by",
        "recovery_hash",
        "prepared_by_id",
        "prepared_by",
        "prepared_at",
    }
    | {"episode_id"}
)  # 0006: episodes of care
# Objects the migrations make that the models do not describe (search indexes, FTS tables).
EXTRA = {
    "patient_fts",
    "ix_patient_search_trgm",
    "ix_patient_search_prefix",
    "ix_patient_mrn_lower",
}


def test_head_constant_matches_alembic() -> None:
    assert migrate.script_head() == migrate.HEAD
    assert migrate.REVISIONS == (
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
        "0008",
        "0009",
        "0010",
        "0011",
    )


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
            cols = [  # the columns of the sample's revision (0002, 0004, 0005 added the others)
                c[1] for c in conn.execute(f"PRAGMA table_info({table})") if c[1] not in LATER
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


def test_sample_0002_is_at_0002_without_prefix_indexes() -> None:
    conn = sqlite3.connect(f"file:{SAMPLE_0002}?mode=ro", uri=True)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0002",)]
        assert "prefix" not in _fts_sql(conn)
    finally:
        conn.close()


def _fts_sql(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'patient_fts'").fetchone()
    return str(row[0])


# Typed searches whose answers must not change when the search index is rebuilt: accents either
# way, a name prefix, an MRN prefix and an exact MRN, one letter, a date, archived patients.
SEARCHES = (
    "muller",
    "MÜL",
    "Łuk",
    "zoe",
    "王",
    "mrn-000",
    "MRN-0003",
    "m",
    "k",
    "s",
    "z",
    "anna 07.03.1984",
    "nunez",
)


def _search_all(db: Any) -> dict[tuple[str, bool], list[int]]:
    return {
        (q, archived): [p.id for p in r.search_patients(db, q, include_archived=archived)]
        for q in SEARCHES
        for archived in (False, True)
    }


def test_upgrade_from_0002_keeps_rows_and_search_results(tmp_path: Path) -> None:
    before_copy = tmp_path / "before.db"
    shutil.copyfile(SAMPLE_0002, before_copy)
    db = open_database(f"sqlite:///{before_copy}", migrate=False, backup=False)
    try:
        assert db.schema_revision() == "0002"
        found_before = _search_all(db)
    finally:
        db.close()
    # The answers are the sample's patients, not an empty index agreeing with itself.
    assert found_before[("MÜL", False)] == [1]
    assert found_before[("Łuk", False)] == [3]
    assert found_before[("mrn-000", False)] == [3, 1, 2, 4]
    assert found_before[("k", False)] == [3]
    assert found_before[("nunez", False)] == []
    assert found_before[("nunez", True)] == [5]

    path = tmp_path / "clinic.db"
    shutil.copyfile(SAMPLE_0002, path)
    rows_before = _rows(path)
    assert sum(len(v) for v in rows_before.values()) == 17
    db = open_database(f"sqlite:///{path}")
    try:
        assert db.schema_revision() == migrate.HEAD
        assert _search_all(db) == found_before
    finally:
        db.close()
    assert _rows(path) == rows_before
    kept = [p for p, reason in backup.list_backups() if reason == "upgrade-from-0002"]
    assert len(kept) == 1
    assert _rows(kept[0]) == rows_before
    conn = sqlite3.connect(path)
    try:
        assert "prefix='1 2 3'" in _fts_sql(conn)
        # FTS5's own check that the index matches the patient table (raises if not).
        conn.execute("INSERT INTO patient_fts(patient_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()

    # The triggers were made again: new and renamed patients are found at once.
    db = open_database(f"sqlite:///{path}")
    try:
        new = r.create_patient(db, r.PatientFields("Åsa", "Øberg", mrn="Q-1"), user="t")
        assert [p.id for p in r.search_patients(db, "ob")] == [new.id]
        assert [p.id for p in r.search_patients(db, "q")] == [new.id]
        r.update_patient(db, 2, r.PatientFields("Zoë", "Ørsted", mrn="MRN-0002"), user="t")
        assert [p.id for p in r.search_patients(db, "o")] == [new.id, 2]
        assert r.search_patients(db, "smith") == []
    finally:
        db.close()


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
                fts = str(conn.execute(sa.text(sql)).scalar())
                assert "remove_diacritics 2" in fts
                assert "prefix='1 2 3'" in fts  # revision 0003
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


def test_downgrade_0003_restores_the_0002_index(tmp_path: Path) -> None:
    from alembic import command

    path = tmp_path / "clinic.db"
    shutil.copyfile(SAMPLE_0002, path)
    open_database(f"sqlite:///{path}", backup=False).close()
    db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
    try:
        with db.engine.connect() as conn:
            command.downgrade(migrate.alembic_config(conn), "0002")
            conn.commit()
        assert db.schema_revision() == "0002"
        with db.engine.begin() as conn:  # records write 0004's audit columns: plain SQL here
            conn.execute(
                sa.text(
                    "INSERT INTO patient (given_name, family_name, sex, mrn, phone, email, "
                    "activity, referring_provider, archived, search_name, created_at, "
                    "updated_by, updated_at) VALUES ('Åsa', 'Øberg', 'unknown', 'Q-1', '', '', "
                    "'', '', 0, :name, '2026-01-01 00:00:00.000000', 't', "
                    "'2026-01-01 00:00:00.000000')"
                ),
                {"name": search_name("Åsa", "Øberg")},
            )
        assert [p.mrn for p in r.search_patients(db, "ob")] == ["Q-1"]
        assert [p.family_name for p in r.search_patients(db, "mül")] == ["Müller"]
    finally:
        db.close()
    with sqlite3.connect(path) as conn:
        fts = _fts_sql(conn)
        assert "prefix" not in fts
        assert "remove_diacritics 2" in fts
        triggers = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'patient' "
            "AND name LIKE 'patient_fts_%' ORDER BY name"
        ).fetchall()
        assert triggers == [
            ("patient_fts_delete",),
            ("patient_fts_insert",),
            ("patient_fts_update",),
        ]
    conn.close()


@pytest.fixture
def db_url_and_kind(database_url: str) -> tuple[str, str]:
    return database_url, "sqlite" if database_url.startswith("sqlite") else "postgresql"


SAMPLE_0003 = Path(__file__).resolve().parents[1] / "data" / "clinic-0003.db"


def test_upgrade_from_0003_marks_legacy_signatures_and_chains_the_trail(tmp_path: Path) -> None:
    """0004 on a database the app of 0003 kept: every row kept, the signed evaluation marked
    legacy (no key existed), addenda and audit events chained; it verifies clean."""
    path = tmp_path / "clinic.db"
    shutil.copyfile(SAMPLE_0003, path)
    before = _rows(path)
    db = open_database(f"sqlite:///{path}")
    try:
        assert db.schema_revision() == migrate.HEAD
        assert r.verify_database(db) == []
        assert r.get_evaluation(db, 1).seal == {"legacy": "0004"}
        assert r.get_evaluation(db, 2).seal is None
        r.add_addendum(db, 1, "after the upgrade", user="t")  # the chain goes on
        assert r.verify_database(db) == []
    finally:
        db.close()
    after = _rows(path)
    assert {t: after[t][: len(before[t])] for t in TABLES} == before
    conn = sqlite3.connect(path)
    try:
        hashes = conn.execute("SELECT prev_hash, hash FROM audit_event ORDER BY id").fetchall()
    finally:
        conn.close()
    assert hashes[0][0] == "0" * 64
    assert all(prev == earlier[1] for earlier, (prev, _h) in zip(hashes, hashes[1:], strict=False))
