"""The schema a SQLite file must have: exactly what the migrations make at its revision.

A restored backup (and ``clinic-app verify``'s live database) is compared object by object with a
fresh database migrated to the same revision: every table, column, index, trigger and view, by
name and by the SQL that made it. Anything more (a planted trigger), less (a dropped lock or audit
table) or different (an ALTER TABLE, a trigger edited through ``PRAGMA writable_schema``) is a
difference, and the first one is named.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from clinic_app.storage import files, migrate

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_cache: dict[str, dict[str, tuple[str, str, str]]] = {}
_lock = threading.Lock()
_VERSION_TABLE = migrate.VERSION_TABLE


def _normal(sql: str | None) -> str:
    return re.sub(r"\s+", " ", sql or "").strip()


# ANALYZE's query-planner statistics (sqlite_stat1, sqlite_stat4): made by SQLite itself, never by
# anyone's CREATE (a name starting "sqlite_" is refused), and no record is kept in them.
_SQLITE_STATISTICS = re.compile(r"sqlite_stat[1-4]")


def objects(conn: sqlite3.Connection) -> dict[str, tuple[str, str, str]]:
    """name -> (type, table, normalised SQL) of every schema object."""
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {
        str(name): (str(kind), str(table), _normal(sql))
        for kind, name, table, sql in rows
        if not _SQLITE_STATISTICS.fullmatch(str(name))
    }


def expected(revision: str) -> dict[str, tuple[str, str, str]]:
    """The schema objects the migrations make at ``revision`` (made once per process)."""
    from sqlalchemy import create_engine

    with _lock:
        known = _cache.get(revision)
        if known is not None:
            return known
        with tempfile.TemporaryDirectory(prefix="clinic_app_schema_") as folder:
            path = Path(folder) / "expected.db"
            engine = create_engine(f"sqlite:///{path}")
            try:
                migrate.upgrade(engine, revision)
            finally:
                engine.dispose()
            conn = sqlite3.connect(path)
            try:
                made = objects(conn)
            finally:
                conn.close()
        _cache[revision] = made
        return made


def difference(conn: sqlite3.Connection, revision: str) -> str | None:
    """The first difference between the schema of ``conn`` and the migrations' at ``revision``."""
    have = objects(conn)
    want = expected(revision)
    for name, (kind, table, _sql) in sorted(want.items()):
        if name not in have:
            return f"{kind} {name} (on {table}) is missing"
    for name, (kind, table, _sql) in sorted(have.items()):
        if name not in want:
            return f"{kind} {name} (on {table}) is not made by the migrations"
    for name, (kind, _table, sql) in sorted(want.items()):
        if have[name] != (kind, _table, sql):
            return f"{kind} {name} differs from what the migrations make"
    return None


def difference_of_file(path: Path) -> str | None:
    """:func:`difference` for the database file at ``path`` at its own revision (read-only)."""
    with files.open_readonly(path) as conn:
        row = None
        if conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_VERSION_TABLE,)
        ).fetchone():
            row = conn.execute(f"SELECT version_num FROM {_VERSION_TABLE}").fetchone()
        if row is None:
            return "no schema revision"
        revision = str(row[0])
        if not migrate.is_known(revision):
            return f"schema revision {revision} is newer than this app"
        return difference(conn, revision)


# The lock triggers on PostgreSQL at head: each must exist and be enabled (the owner
# can ``ALTER TABLE … DISABLE TRIGGER``; workstations cannot, see ``storage.roles``).
PG_LOCKS = {
    "evaluation": (
        "evaluation_signed_locked",
        "evaluation_no_insert_signed",
        "evaluation_sign_needs_seal",
        "evaluation_no_truncate",
        "evaluation_prepared_locked",  # 0005: a draft awaiting co-signature
        "evaluation_prepared_no_delete",
        "evaluation_episode_patient",  # 0006: a record stays in its own patient's episode
    ),
    "addendum": ("addendum_append_only", "addendum_only_to_signed", "addendum_no_truncate"),
    "audit_event": ("audit_event_append_only", "audit_event_no_truncate"),
    "form_snapshot": ("form_snapshot_append_only", "form_snapshot_no_truncate"),
    # 0006: episodes of care, plans and goals; 0007: the clinic's library; 0008: kept parents
    "episode": ("episode_kept_no_move",),
    "goal": ("goal_kept_no_move", "goal_no_delete", "goal_no_truncate"),
    "goal_status": ("goal_status_append_only", "goal_status_no_truncate"),
    "plan_of_care": ("plan_of_care_append_only", "plan_of_care_no_truncate"),
    "library_exercise": ("library_exercise_append_only", "library_exercise_no_truncate"),
    "library_picture": ("library_picture_append_only", "library_picture_no_truncate"),
    "program_template": ("program_template_append_only", "program_template_no_truncate"),
}


def pg_lock_difference(conn: Connection) -> str | None:
    """The first lock trigger missing or disabled on a PostgreSQL database at head."""
    from sqlalchemy import text

    rows = conn.execute(
        text(
            "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
        )
    ).all()
    found = {(str(table), str(name)): str(state) for table, name, state in rows}
    for table, names in PG_LOCKS.items():
        for name in names:
            state = found.get((table, name))
            if state is None:
                return f"trigger {name} (on {table}) is missing"
            # pg_trigger.tgenabled: O fires (the default), A fires always, D never, and R only
            # in a replica session (ENABLE REPLICA TRIGGER): an ordinary session, the app's or
            # anyone's, is then not held by it, so R is as good as disabled.
            if state == "D":
                return f"trigger {name} (on {table}) is disabled"
            if state not in ("O", "A"):
                return (
                    f"trigger {name} (on {table}) fires only in replica sessions "
                    "(ENABLE REPLICA TRIGGER): it locks nothing"
                )
    return None
