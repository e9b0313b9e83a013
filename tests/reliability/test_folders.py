"""Read-only, missing and full folders: a clear message naming the path, nothing half-written.

Each fault is real: the operation runs in its own process, without root's power to ignore file
permissions (``setpriv``, when the tests run as root), or with a file-size limit that makes writes
fail part-way as on a full disk. Success means: the error is a storage error (the message a
screen or the CLI shows as it is), it names the path at fault, and the folders hold exactly the
files they held before (no stray or partial file).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.helpers import (
    assert_user_message,
    child_env,
    make_database,
    probe,
    read_only,
    run_cli,
    snapshot,
    writable,
)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def test_read_only_data_folder_without_a_database(data: Path) -> None:
    read_only(data)
    try:
        result, stderr = probe(
            "open", env=child_env(CLINIC_APP_DATA_DIR=str(data)), drop_privileges=True
        )
    finally:
        writable(data)
    assert result["storage_error"], f"{result} {stderr[-400:]}"
    assert_user_message(result["message"], data)
    assert snapshot(data) == {}


def test_read_only_data_folder_with_a_database(data: Path) -> None:
    make_database(data / "clinic.db")
    before = snapshot(data)
    read_only(data / "clinic.db", data)
    try:
        result, stderr = probe(
            "open", env=child_env(CLINIC_APP_DATA_DIR=str(data)), drop_privileges=True
        )
    finally:
        writable(data, data / "clinic.db")
    assert result["storage_error"], f"{result} {stderr[-400:]}"
    assert_user_message(result["message"], data)
    assert snapshot(data) == before


def test_data_folder_that_cannot_be_created(tmp_path: Path) -> None:
    parent = tmp_path / "locked"
    parent.mkdir()
    read_only(parent)
    missing = parent / "clinic_app"
    try:
        result, stderr = probe(
            "open", env=child_env(CLINIC_APP_DATA_DIR=str(missing)), drop_privileges=True
        )
    finally:
        writable(parent)
    assert result["storage_error"], f"{result} {stderr[-400:]}"
    assert_user_message(result["message"], missing)
    assert snapshot(parent) == {}


def test_missing_data_folder_is_created(tmp_path: Path) -> None:
    missing = tmp_path / "new" / "clinic_app"
    result, stderr = probe(
        "open", env=child_env(CLINIC_APP_DATA_DIR=str(missing)), drop_privileges=True
    )
    assert result["ok"], f"{result} {stderr[-400:]}"
    assert (missing / "clinic.db").is_file()


def test_database_url_in_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "clinic.db"
    result, _ = probe("open", f"sqlite:///{target}")
    assert result["storage_error"], result
    assert_user_message(result["message"], target)
    assert not (tmp_path / "nowhere").exists()


def test_cli_on_a_read_only_data_folder(data: Path) -> None:
    read_only(data)
    try:
        proc = run_cli("demo", env=child_env(CLINIC_APP_DATA_DIR=str(data)), drop_privileges=True)
    finally:
        writable(data)
    assert proc.returncode != 0
    assert_user_message(proc.stderr, data)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert snapshot(data) == {}


def test_unwritable_backup_destination(tmp_path: Path, data: Path) -> None:
    source = data / "clinic.db"
    make_database(source)
    dest_dir = tmp_path / "stick"
    dest_dir.mkdir()
    read_only(dest_dir)
    before = snapshot(data)
    try:
        result, stderr = probe("copy", str(source), str(dest_dir / "copy.db"), drop_privileges=True)
        cli = run_cli(
            "backup",
            str(dest_dir / "copy.db"),
            env=child_env(CLINIC_APP_DATA_DIR=str(data)),
            drop_privileges=True,
        )
    finally:
        writable(dest_dir)
    assert snapshot(dest_dir) == {}
    assert snapshot(data) == before
    assert result["storage_error"], f"{result} {stderr[-400:]}"
    # The problem is the destination: the message must name it (not only the database).
    assert_user_message(result["message"], dest_dir / "copy.db")
    assert cli.returncode != 0
    assert_user_message(cli.stderr, dest_dir)


def test_backup_destination_full_leaves_no_partial_file(tmp_path: Path, data: Path) -> None:
    source = data / "clinic.db"
    make_database(source, patients=40)
    assert source.stat().st_size > 64 * 1024
    dest_dir = tmp_path / "full"
    dest_dir.mkdir()
    before = snapshot(data)
    result, stderr = probe("copy", str(source), str(dest_dir / "copy.db"), fsize_limit=16 * 1024)
    assert snapshot(dest_dir) == {}, "a partial backup was left behind"
    # The size limit applies to the whole process, so SQLite's own -wal/-shm beside the source
    # may stay behind (harmless); the database file itself must not change.
    assert snapshot(data)["clinic.db"] == before["clinic.db"]
    assert result["storage_error"], f"{result} {stderr[-400:]}"
    assert_user_message(result["message"], dest_dir / "copy.db")


def test_backups_folder_unwritable_at_start_still_opens_or_says_why(data: Path) -> None:
    """The daily backup at start cannot be written: open anyway, or refuse naming the folder."""
    make_database(data / "clinic.db")
    backups = data / "backups"
    backups.mkdir()
    read_only(backups)
    try:
        result, stderr = probe(
            "open", env=child_env(CLINIC_APP_DATA_DIR=str(data)), drop_privileges=True
        )
    finally:
        writable(backups)
    assert result["ok"] or result["storage_error"], f"{result} {stderr[-400:]}"
    if not result["ok"]:
        assert_user_message(result["message"], backups)
    assert snapshot(backups) == {}
