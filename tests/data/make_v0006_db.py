"""Make ``clinic-0006.db``: a clinic at schema revision 0006 (before the exercise library).

The records of ``clinic-0005.db`` (:func:`tests.data.make_v0005_db.fill`) plus what 0006 added:
a signed visit note in an episode. Written by the current records API at the head revision,
then downgraded to 0006 by the migrations, and checked to have exactly the schema that
upgrading a new database to 0006 makes. Made once and committed; rerun only to rebuild it:

    .venv/bin/python -m tests.data.make_v0006_db
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from tests.data.make_v0001_db import seal
from tests.data.make_v0005_db import _schema, install_key
from tests.data.make_v0005_db import fill as fill_0005

HERE = Path(__file__).resolve().parent
DB_FILE = HERE / "clinic-0006.db"
REVISION = "0006"


def fill(db: Any) -> None:
    """The 0005 sample's records and a signed visit note for the second patient."""
    from clinic_app.core.form import parse_form
    from clinic_app.storage import records as r
    from tests.storage.conftest import small_form_data

    fill_0005(db)
    form = parse_form(small_form_data(), "sample form")
    episode = r.list_episodes(db, 2)[0]
    visit = r.start_evaluation(
        db, 2, form, user="dana", kind="visit", eval_date=date(2026, 6, 8), episode_id=episode.id
    )
    saved = r.save_draft(db, visit.id, {"values": {"pain_now": 4}}, visit.version, user="dana")
    r.sign_evaluation(db, visit.id, saved.version, user="dana")


def make(path: Path) -> str:
    from alembic import command

    from clinic_app.storage import migrate
    from clinic_app.storage.database import open_database

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    work = Path(tempfile.mkdtemp(prefix="clinic-0006-"))
    old = {k: os.environ.get(k) for k in ("CLINIC_APP_DATA_DIR", "CLINIC_APP_ENCRYPTION")}
    os.environ["CLINIC_APP_DATA_DIR"] = str(work / "data")
    os.environ["CLINIC_APP_ENCRYPTION"] = "off"  # a sample in git: a plain file
    try:
        install_key(work / "data")
        db = open_database(f"sqlite:///{path}", backup=False)
        try:
            fill(db)
        finally:
            db.close()
        db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
        try:
            with db.engine.connect() as conn:
                command.downgrade(migrate.alembic_config(conn), REVISION)
                conn.commit()
            revision = str(db.schema_revision())
        finally:
            db.close()
        fresh = work / "fresh.db"
        db = open_database(f"sqlite:///{fresh}", migrate=False, backup=False)
        try:
            migrate.upgrade(db.engine, REVISION)
        finally:
            db.close()
        if _schema(path) != _schema(fresh):
            raise SystemExit(f"the downgraded schema is not revision {REVISION}'s")
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(work, ignore_errors=True)
    seal(path)
    return revision


if __name__ == "__main__":
    sys.stdout.write(f"{DB_FILE}: revision {make(DB_FILE)}\n")
