"""Backups, restore and damaged files (SQLite only: PostgreSQL is backed up with pg_dump)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clinic_app.storage import backup, migrate
from clinic_app.storage import records as r
from clinic_app.storage.database import open_database
from clinic_app.storage.errors import (
    DatabaseAccessError,
    DatabaseFileError,
    DatabaseTooNewError,
    MigrationError,
)


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))


def _with_patients(path: Path, n: int) -> None:
    db = open_database(_url(path))
    try:
        for i in range(n):
            r.create_patient(db, r.PatientFields("Anna", f"Müller{i}", mrn=f"M{i}"), user="a")
    finally:
        db.close()


def _count(path: Path) -> int:
    db = open_database(_url(path), backup=False)
    try:
        return r.count_patients(db)
    finally:
        db.close()


def test_backup_while_app_writes_is_consistent(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    db = open_database(_url(path))
    try:
        r.create_patient(db, r.PatientFields("Zoë", "Ng", mrn="first"), user="a")
        stop = threading.Event()

        def writer() -> None:
            n = 0
            while not stop.is_set():
                r.create_patient(db, r.PatientFields("W", "Writer", mrn=f"w{n}"), user="a")
                n += 1

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            copies = [backup.copy_database(path, tmp_path / f"copy{i}.db") for i in range(3)]
        finally:
            stop.set()
            thread.join()
    finally:
        db.close()
    for copy in copies:
        conn = sqlite3.connect(copy)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            assert conn.execute("SELECT count(*) FROM patient WHERE mrn = 'first'").fetchone() == (
                1,
            )
        finally:
            conn.close()
        assert not Path(f"{copy}-wal").exists()


def test_backup_refuses_existing_destination_and_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    _with_patients(path, 1)
    (tmp_path / "taken.db").write_bytes(b"x")
    with pytest.raises(DatabaseFileError, match="already exists"):
        backup.copy_database(path, tmp_path / "taken.db")
    with pytest.raises(DatabaseFileError, match="folder does not exist"):
        backup.copy_database(path, tmp_path / "nowhere" / "x.db")
    assert not (tmp_path / "nowhere").exists()


def test_restore_round_trip_keeps_replaced_database(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    _with_patients(path, 2)
    saved = backup.copy_database(path, tmp_path / "saved.db")
    later = open_database(_url(path))
    try:
        r.create_patient(later, r.PatientFields("Late", "Comer", mrn="L"), user="a")
    finally:
        later.close()
    assert _count(path) == 3

    result = backup.restore(saved, path)
    assert result.revision == migrate.HEAD
    assert _count(path) == 2
    assert result.replaced_copy is not None
    assert _count(result.replaced_copy) == 3
    assert result.replaced_copy.parent == backup.backups_dir()


@pytest.mark.parametrize("damage", ["truncated", "foreign", "empty", "text", "no_revision"])
def test_restore_refuses_bad_file_and_changes_nothing(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "clinic.db"
    _with_patients(path, 2)
    good = backup.copy_database(path, tmp_path / "good.db")
    bad = tmp_path / "bad.db"
    if damage == "truncated":
        data = good.read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "foreign":
        conn = sqlite3.connect(bad)
        conn.execute("CREATE TABLE recipes (name TEXT)")
        conn.commit()
        conn.close()
    elif damage == "empty":
        bad.write_bytes(b"")
    elif damage == "text":
        bad.write_text("not a database at all\n", encoding="utf-8")
    else:
        shutil.copyfile(good, bad)
        conn = sqlite3.connect(bad)
        conn.execute("DROP TABLE alembic_version")
        conn.commit()
        conn.close()
    before_target, before_bad = _digest(path), _digest(bad)
    backups_before = backup.list_backups()
    with pytest.raises(DatabaseFileError, match="bad.db"):
        backup.restore(bad, path)
    assert _digest(path) == before_target
    assert _digest(bad) == before_bad
    assert _siblings(bad) == ["bad.db"]
    assert backup.list_backups() == backups_before
    assert _count(path) == 2


def test_restore_refuses_backup_from_newer_app(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    _with_patients(path, 1)
    newer = backup.copy_database(path, tmp_path / "newer.db")
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    before = _digest(path)
    with pytest.raises(DatabaseTooNewError, match="9999"):
        backup.restore(newer, path)
    assert _digest(path) == before


def test_restore_of_older_backup_is_upgraded_on_open(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[1] / "data" / "clinic-0003.db"
    path = tmp_path / "clinic.db"
    _with_patients(path, 1)
    result = backup.restore(sample, path)
    assert result.revision == "0003"
    db = open_database(_url(path))
    try:
        assert db.schema_revision() == migrate.HEAD
        assert r.count_patients(db) == 4
        assert r.verify_database(db) == []
        assert r.get_evaluation(db, 1).seal == {"legacy": "0004"}
    finally:
        db.close()


def test_restore_verifies_the_content_hash_of_records_signed_before_seals(tmp_path: Path) -> None:
    """The 0001 sample's content hashes are placeholders: to a restore, changed records."""
    sample = Path(__file__).resolve().parents[1] / "data" / "clinic-0001.db"
    path = tmp_path / "clinic.db"
    _with_patients(path, 1)
    before = _digest(path)
    with pytest.raises(DatabaseFileError, match="evaluation 1: its findings or details no longer"):
        backup.restore(sample, path)
    assert _digest(path) == before


@pytest.mark.parametrize("damage", ["garbage", "truncated", "overwritten_pages"])
def test_damaged_database_refused_at_start_byte_identical(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "clinic.db"
    _with_patients(path, 200)
    data = bytearray(path.read_bytes())
    for side in ("-wal", "-shm"):
        assert not Path(f"{path}{side}").exists()
    if damage == "garbage":
        data = bytearray(b"PK\x03\x04 this is a zip file, not a database" * 100)
    elif damage == "truncated":
        data = data[: len(data) // 3]
    else:
        page = 4096
        for offset in range(page * 2, min(len(data), page * 12)):
            data[offset] = 0x5A
    path.write_bytes(bytes(data))
    before = _digest(path)
    with pytest.raises(DatabaseFileError) as caught:
        open_database(_url(path))
    message = str(caught.value)
    assert str(path) in message
    assert "\n" not in message
    assert _digest(path) == before
    assert _siblings(path) == ["clinic.db"]
    assert backup.list_backups() == []


def test_automatic_backups_daily_and_pruned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clinic.db"
    _with_patients(path, 1)  # new database: no backup needed
    assert backup.list_backups() == []
    open_database(_url(path)).close()
    open_database(_url(path)).close()  # once a day only
    daily = [p for p, reason in backup.list_backups() if reason == "daily"]
    assert len(daily) == 1
    folder = backup.backups_dir()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(20):
        name = backup.backup_name("daily", start + timedelta(days=n))
        shutil.copyfile(daily[0], folder / name)
    (folder / backup.backup_name("manual", start)).write_bytes(b"")
    (folder / backup.backup_name("before-restore", start)).write_bytes(b"")
    monkeypatch.setenv(backup.KEEP_BACKUPS_ENV, "5")
    backup.make_backup(path, "daily")
    reasons = [reason for _, reason in backup.list_backups()]
    assert reasons.count("daily") == 5
    assert "manual" in reasons
    assert "before-restore" in reasons


def test_daily_backup_due() -> None:
    assert backup.daily_backup_due()
    folder = backup.backups_dir()
    folder.mkdir(parents=True)
    (folder / backup.backup_name("daily")).write_bytes(b"")
    assert not backup.daily_backup_due()
    assert backup.daily_backup_due(today=datetime.now(UTC) + timedelta(days=1))


def test_backup_overwrite_on_request(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    _with_patients(path, 3)
    dest = tmp_path / "chosen.db"
    dest.write_bytes(b"old contents")
    backup.copy_database(path, dest, overwrite=True)
    assert _count(dest) == 3
    assert sorted(p.name for p in tmp_path.iterdir() if "chosen" in p.name) == ["chosen.db"]


@pytest.mark.parametrize("cut", [1, 100, 4096])
def test_restore_refuses_file_cut_short_at_the_end(tmp_path: Path, cut: int) -> None:
    """integrity_check alone can miss a short last page: the header's page count catches it."""
    path = tmp_path / "clinic.db"
    _with_patients(path, 30)
    good = backup.copy_database(path, tmp_path / "good.db")
    bad = tmp_path / "short.db"
    bad.write_bytes(good.read_bytes()[:-cut])
    before = _digest(path)
    with pytest.raises(DatabaseFileError, match="short.db: is cut short"):
        backup.restore(bad, path)
    assert _digest(path) == before


def test_daily_backup_failure_is_a_notice_not_a_refusal(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    _with_patients(path, 1)
    backup.backups_dir().parent.mkdir(parents=True, exist_ok=True)
    backup.backups_dir().write_text("a file where the backups folder should be")
    db = open_database(_url(path))
    try:
        assert r.count_patients(db) == 1
        assert len(db.notices) == 1
        assert "daily backup was not made" in db.notices[0]
        assert str(backup.backups_dir()) in db.notices[0]
    finally:
        db.close()


def test_upgrade_refused_when_its_backup_cannot_be_made(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[1] / "data" / "clinic-0001.db"
    path = tmp_path / "clinic.db"
    shutil.copyfile(sample, path)
    before = _digest(path)
    backup.backups_dir().parent.mkdir(parents=True, exist_ok=True)
    backup.backups_dir().write_text("not a folder")
    with pytest.raises(DatabaseFileError, match="backups"):
        open_database(_url(path))
    assert _digest(path) == before


def test_busy_database_gives_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    _with_patients(path, 1)
    db = open_database(_url(path), busy_timeout=0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(DatabaseAccessError) as caught:
            r.create_patient(db, r.PatientFields("Zoë", "Busy", mrn="busy"), user="a")
        message = str(caught.value)
        assert message.startswith(f"{path}: the database is busy")
        assert "\n" not in message
        holder.execute("ROLLBACK")
        r.create_patient(db, r.PatientFields("Zoë", "Busy", mrn="busy"), user="a")
        assert r.count_patients(db) == 2
    finally:
        holder.close()
        db.close()


def test_failed_upgrade_is_rolled_back_and_reported(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[1] / "data" / "clinic-0001.db"
    path = tmp_path / "clinic.db"
    shutil.copyfile(sample, path)
    import sqlalchemy as sa

    def fail(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "CREATE TRIGGER patient_fts_update" in statement:
            raise sqlite3.OperationalError("disk I/O error")

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", fail)
    try:
        with pytest.raises(MigrationError) as caught:
            open_database(_url(path))
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", fail)
    message = str(caught.value)
    assert message.startswith(
        f"{path}: upgrading the schema from revision 0001 to {migrate.HEAD} failed"
    )
    assert "upgrade-from-0001" in message
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
        columns = [c[1] for c in conn.execute("PRAGMA table_info(patient)")]
        assert "search_name" not in columns
    finally:
        conn.close()
    db = open_database(_url(path))
    try:
        assert db.schema_revision() == migrate.HEAD
    finally:
        db.close()
