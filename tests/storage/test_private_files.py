"""Issue 13: PHI files private whatever the umask; missing work made visible."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinic_app import private
from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import backup, sealing, state
from clinic_app.storage import records as r
from clinic_app.storage.database import open_database
from clinic_app.storage.demo import fill_demo
from clinic_app.storage.errors import DatabaseFileError


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield int(request.param)
    finally:
        os.umask(old)


def _modes(folder: Path) -> dict[str, int]:
    found = {folder.name: stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = stat.S_IMODE(path.lstat().st_mode)
    return found


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_demo_session_files_are_private(umask: int, private_data_dir: Path) -> None:
    form = load_form(default_form_path())
    db = open_database()  # clinic.db in the data folder
    try:
        fill_demo(db, form)
        assert db.path is not None
        assert Path(f"{db.path}-wal").exists()
        backup.make_backup(db.path, "manual")
    finally:
        db.close()
    db = open_database()  # the daily backup, the state check
    db.close()
    made = backup.list_backups()[0][0]
    backup.restore(made, private_data_dir / "clinic.db")
    modes = _modes(private_data_dir)
    assert {"clinic.db", sealing.KEY_FILE, "backups", "state"} <= set(modes)
    leaky = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert leaky == {}, f"umask {umask:03o}: {leaky}"
    assert modes[private_data_dir.name] == 0o700


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_existing_files_are_tightened_at_open(tmp_path: Path, private_data_dir: Path) -> None:
    db = open_database()
    db.close()
    path = private_data_dir / "clinic.db"
    os.chmod(path, 0o644)
    os.chmod(private_data_dir, 0o755)
    open_database().close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(private_data_dir.stat().st_mode) == 0o700


def test_open_new_never_follows_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "report.pdf"
    link.symlink_to(victim)
    with pytest.raises(OSError, match="symbolic link"):
        private.write_bytes(link, b"%PDF")
    assert victim.read_text() == "keep me"


def test_partial_backups_are_removed_at_start(private_data_dir: Path) -> None:
    open_database().close()
    folder = backup.backups_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stale = folder / ".clinic-20260101-000000-000000-manual.db.partial"
    stale.write_bytes(b"half a backup")
    os.utime(stale, (0, 0))
    open_database().close()
    assert not stale.exists()


# ----------------------------------------------------------------- missing work made visible


def _with_work(form: Form) -> Path:
    db = open_database()
    try:
        r.create_patient(db, r.PatientFields("Wal", "Lost", mrn="W-1"), user="t")
        assert db.path is not None
        return db.path
    finally:
        db.close()


@pytest.mark.parametrize("how", ["zero bytes", "missing"])
def test_a_database_that_existed_is_not_remade_empty(form: Form, how: str) -> None:
    path = _with_work(form)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if how == "missing":
        path.unlink()
    else:
        path.write_bytes(b"")
    with pytest.raises(DatabaseFileError, match="recorded a database here") as refused:
        open_database()
    assert "\n" not in str(refused.value)
    assert path.exists() == (how == "zero bytes")
    if path.exists():
        assert path.stat().st_size == 0  # left as it was
    state.forget(path)  # the person deletes the record on purpose: a new database
    open_database().close()


def test_a_database_behind_its_last_committed_state_warns(form: Form, tmp_path: Path) -> None:
    path = _with_work(form)
    older = tmp_path / "older.db"
    shutil.copyfile(path, older)
    db = open_database()
    try:
        r.create_patient(db, r.PatientFields("Lost", "Work", mrn="W-2"), user="t")
    finally:
        db.close()
    for suffix in ("-wal", "-shm"):  # as if the -wal with the last save was lost
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(older, path)
    db = open_database(backup=False)
    try:
        assert any("is behind its last saved state" in n for n in db.notices), db.notices
    finally:
        db.close()


def test_a_sound_reopen_has_no_notice(form: Form) -> None:
    _with_work(form)
    db = open_database(backup=False)
    try:
        assert db.notices == []
        conn = sqlite3.connect(db.path or "")
        conn.close()
    finally:
        db.close()
