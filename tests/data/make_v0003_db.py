"""Make ``clinic-0003.db``: the 0002 sample at schema revision 0003, as the app of 0003 kept it.

The 0001 sample's content hashes are placeholders (``000…1``) and its addendum has no audit
event: fine for proving that rows survive an upgrade, but not what any app ever wrote. Restores
now verify every signed record (issue 13), so this sample carries what the app of revision 0003
stored: each evaluation's real content hash (the same ``records.content_hash`` formula, unchanged
since 0001) and the audit events an addendum writes. It proves that upgrading to 0004 marks the
signed evaluation legacy, chains addenda and audit events, and that such a database restores and
verifies clean. Made once and committed; rerun only to rebuild it (after ``make_v0002_db``):

    .venv/bin/python -m tests.data.make_v0003_db
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from tests.data.make_v0001_db import seal
from tests.data.make_v0002_db import DB_FILE as V0002_FILE

HERE = Path(__file__).resolve().parent
DB_FILE = HERE / "clinic-0003.db"
STAMP = "%Y-%m-%d %H:%M:%S.%f"


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.strptime(text, STAMP).replace(tzinfo=UTC)


def make(path: Path) -> str:
    from clinic_app.storage import migrate
    from clinic_app.storage.database import open_database
    from clinic_app.storage.records import HASHED_FIELDS, content_hash

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(V0002_FILE, path)
    db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
    try:
        migrate.upgrade(db.engine, "0003")
    finally:
        db.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        lock = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'evaluation_signed_no_update'"
        ).fetchone()[0]
        conn.execute("BEGIN")
        conn.execute("DROP TRIGGER evaluation_signed_no_update")  # 0001's lock, put back below
        hashes = {}
        for row in conn.execute("SELECT * FROM evaluation ORDER BY id").fetchall():
            values = dict(row)
            values["eval_date"] = date.fromisoformat(values["eval_date"])
            values["signed_at"] = _when(values["signed_at"])
            values["findings"] = json.loads(values["findings"])
            values["carried_forward"] = json.loads(values["carried_forward"])
            hashes[row["id"]] = content_hash({k: values[k] for k in HASHED_FIELDS})
            conn.execute(
                "UPDATE evaluation SET content_hash = ? WHERE id = ?",
                (hashes[row["id"]], row["id"]),
            )
        conn.execute(lock)
        for addendum in conn.execute("SELECT * FROM addendum ORDER BY id").fetchall():
            for entity, entity_id, action, before in (
                ("addendum", addendum["id"], "create", None),
                ("evaluation", addendum["evaluation_id"], "addendum", "e"),
            ):
                digest = hashes[addendum["evaluation_id"]] if before else "a" * 64
                conn.execute(
                    "INSERT INTO audit_event (at, actor, entity, entity_id, action, "
                    "before_digest, after_digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        addendum["created_at"],
                        addendum["author"],
                        entity,
                        entity_id,
                        action,
                        digest if before else None,
                        digest,
                    ),
                )
        conn.execute("COMMIT")
        revision = str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        conn.close()
    seal(path)
    return revision


if __name__ == "__main__":
    sys.stdout.write(f"{DB_FILE}: revision {make(DB_FILE)}\n")
