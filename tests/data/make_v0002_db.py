"""Make ``clinic-0002.db``: the 0001 sample upgraded to schema revision 0002 and kept there.

It proves the upgrade from 0002 (the FTS5 search index rebuilt with prefix indexes, revision
0003): tests copy it, open it with the current app and check that every row survived and that
searches find the same patients as before. Made once and committed; rerun only to rebuild it
(after ``make_v0001_db`` if that changed):

    .venv/bin/python -m tests.data.make_v0002_db
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.data.make_v0001_db import DB_FILE as V0001_FILE
from tests.data.make_v0001_db import seal

HERE = Path(__file__).resolve().parent
DB_FILE = HERE / "clinic-0002.db"


def make(path: Path) -> str:
    from clinic_app.storage import migrate
    from clinic_app.storage.database import open_database

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(V0001_FILE, path)
    db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
    try:
        migrate.upgrade(db.engine, "0002")
        revision = db.schema_revision()
    finally:
        db.close()
    seal(path)
    return str(revision)


if __name__ == "__main__":
    sys.stdout.write(f"{DB_FILE}: revision {make(DB_FILE)}\n")
