"""A schema upgrade that fails half-way: the safety backup exists, the old database still opens.

The sample database at revision 0001 (``tests/data/clinic-0001.db``) is copied into a private data
folder and opened by the app in a separate process in which SQLite fails (``disk I/O error``) at
a statement in the middle of migration 0002, after its first steps have run. Afterwards:

- the pre-upgrade backup is in the backups folder, sound, at revision 0001, with every row;
- the database itself is still at revision 0001 with every row (the upgrade was one transaction);
- it opens again normally (and is then upgraded, keeping every row);
- the failure reached the caller as a storage error naming the database (what a screen shows),
  not as a driver exception.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from clinic_app.storage import backup, files, migrate
from clinic_app.storage.database import open_database
from tests.reliability.helpers import REPO, assert_user_message, child_env, run_python

SAMPLE = REPO / "tests" / "data" / "clinic-0001.db"
# A statement in the middle of migration 0002 (after the column and index are added).
FAIL_AT = "CREATE TRIGGER patient_fts_delete"

FAULTY_OPEN = f"""
import json, sqlite3, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine

seen = []

@event.listens_for(Engine, "before_cursor_execute")
def _fail_midway(conn, cursor, statement, parameters, context, executemany):
    seen.append(statement)
    if {FAIL_AT!r} in statement:
        raise sqlite3.OperationalError("disk I/O error")

from clinic_app.storage.database import open_database
from clinic_app.storage.errors import StorageError

try:
    open_database(None).close()
except Exception as exc:
    hit = any({FAIL_AT!r} in s for s in seen)
    print(json.dumps({{"ok": False, "error": type(exc).__name__, "hit": hit,
                      "storage_error": isinstance(exc, StorageError), "message": str(exc)}}))
else:
    print(json.dumps({{"ok": True}}))
"""


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the FTS shadow tables, read-only."""
    with files.open_readonly(path) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'patient_fts%'"
            )
        ]
        return {
            t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables
        }


@pytest.fixture
def old_database(private_data_dir: Path) -> Path:
    private_data_dir.mkdir(parents=True, exist_ok=True)
    target = private_data_dir / "clinic.db"
    shutil.copyfile(SAMPLE, target)
    return target


def _failed_upgrade(data: Path) -> dict[str, object]:
    import json

    proc = run_python(FAULTY_OPEN, env=child_env(CLINIC_APP_DATA_DIR=str(data)))
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, proc.stderr[-2000:]
    result: dict[str, object] = json.loads(lines[-1])
    assert not result["ok"], "the injected fault did not stop the upgrade"
    assert result["hit"], f"the upgrade failed before reaching {FAIL_AT}: {result}"
    return result


def test_failed_upgrade_keeps_the_backup_and_the_old_database(
    old_database: Path, private_data_dir: Path
) -> None:
    original = _rows(SAMPLE)
    _failed_upgrade(private_data_dir)

    upgrade_backups = [p for p, reason in backup.list_backups() if reason == "upgrade-from-0001"]
    assert len(upgrade_backups) == 1, backup.list_backups()
    assert files.check_file(upgrade_backups[0], full=True) == "0001"
    assert _rows(upgrade_backups[0]) == original

    conn = sqlite3.connect(old_database)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    assert files.check_file(old_database, full=True) == "0001", "a half-made schema was kept"
    assert _rows(old_database) == original

    # Without the fault it opens, and the upgrade then completes with every patient kept.
    with open_database(None) as db:
        assert db.schema_revision() == migrate.HEAD
    upgraded = _rows(old_database)
    assert [r[:3] for r in upgraded["patient"]] == [r[:3] for r in original["patient"]]
    # 0004 appended the seal columns (the signed one is marked legacy): the 0001 columns are kept
    width = len(original["evaluation"][0])
    assert [row[:width] for row in upgraded["evaluation"]] == original["evaluation"]


def test_failed_upgrade_is_reported_as_a_storage_error_naming_the_database(
    old_database: Path, private_data_dir: Path
) -> None:
    result = _failed_upgrade(private_data_dir)
    assert result["storage_error"], f"a {result['error']} reached the caller: {result['message']}"
    assert_user_message(str(result["message"]), old_database)
