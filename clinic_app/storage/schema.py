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
    "episode": ("episode_kept_no_move", "episode_no_truncate"),  # 0010: no truncate
    "goal": ("goal_kept_no_move", "goal_no_delete", "goal_no_truncate"),
    "goal_status": ("goal_status_append_only", "goal_status_no_truncate"),
    "plan_of_care": ("plan_of_care_append_only", "plan_of_care_no_truncate"),
    "library_exercise": ("library_exercise_append_only", "library_exercise_no_truncate"),
    "library_picture": ("library_picture_append_only", "library_picture_no_truncate"),
    "program_template": ("program_template_append_only", "program_template_no_truncate"),
    # 0010: the tables the app never empties (or, but for patients and episodes, deletes from)
    "clinic": ("clinic_no_delete", "clinic_no_truncate"),
    "clinician": ("clinician_no_delete", "clinician_no_truncate"),
    "patient": ("patient_no_truncate",),
    "setting": ("setting_no_delete", "setting_no_truncate"),
}


def _append_only(table: str, message: str) -> str:
    return (
        f"BEFORE DELETE OR UPDATE ON {table} FOR EACH ROW "
        f"EXECUTE FUNCTION clinic_refuse_change('{message}')"
    )


def _no_delete(table: str, message: str) -> str:
    return (
        f"BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION clinic_refuse_write('{message}')"
    )


def _no_truncate(table: str) -> str:
    return (
        f"BEFORE TRUNCATE ON {table} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION clinic_refuse_write('{table} cannot be emptied')"
    )


_DRAFT_PREPARED = "(old.prepared_by IS NOT NULL) AND ((old.status)::text = 'draft'::text)"
_PREPARED_FIELDS = " OR ".join(
    f"({a}new.{c}{b} IS DISTINCT FROM {a}old.{c}{b})"
    for c, (a, b) in {
        "findings": ("", ""),
        "carried_forward": ("", ""),
        "eval_date": ("", ""),
        "kind": ("(", ")::text"),
        "clinician_id": ("", ""),
        "patient_id": ("", ""),
        "involved_side": ("(", ")::text"),
        "form_snapshot_id": ("", ""),
        "form_id": ("(", ")::text"),
        "form_version": ("", ""),
    }.items()
)
_PREPARED = (
    "an evaluation awaiting co-signature cannot be changed: a therapist returns it for changes"
)
# What PostgreSQL's pg_get_triggerdef says of each lock, after "CREATE TRIGGER <name> " and with
# the table's schema left out: a lock made again to fire on less (WHEN (false), INSERT only) or
# to call another function differs. tests/storage/test_pg_owner.py checks this against a fresh
# migration, so a migration that changes a lock fails there until this follows it.
PG_LOCK_DEFINITIONS = {
    "evaluation_signed_locked": "BEFORE DELETE OR UPDATE ON evaluation FOR EACH ROW WHEN "
    "(((old.status)::text = 'signed'::text)) EXECUTE FUNCTION "
    "clinic_refuse_change('evaluation is signed and locked: only addenda may follow')",
    "evaluation_no_insert_signed": "BEFORE INSERT ON evaluation FOR EACH ROW WHEN "
    "(((new.status)::text = 'signed'::text)) EXECUTE FUNCTION "
    "clinic_refuse_write('an evaluation is signed only by signing its draft')",
    "evaluation_sign_needs_seal": "BEFORE UPDATE ON evaluation FOR EACH ROW WHEN "
    "((((new.status)::text = 'signed'::text) AND ((new.seal IS NULL) OR (new.signature IS NULL))))"
    " EXECUTE FUNCTION clinic_refuse_write('an evaluation is signed only with its seal and "
    "signature')",
    "evaluation_prepared_locked": f"BEFORE UPDATE ON evaluation FOR EACH ROW WHEN "
    f"(({_DRAFT_PREPARED} AND ({_PREPARED_FIELDS}))) "
    f"EXECUTE FUNCTION clinic_refuse_write('{_PREPARED}')",
    "evaluation_prepared_no_delete": f"BEFORE DELETE ON evaluation FOR EACH ROW WHEN "
    f"(({_DRAFT_PREPARED})) EXECUTE FUNCTION clinic_refuse_write('{_PREPARED}')",
    "evaluation_episode_patient": "BEFORE INSERT OR UPDATE OF episode_id, patient_id ON "
    "evaluation FOR EACH ROW EXECUTE FUNCTION "
    "clinic_same_patient_episode('an evaluation belongs to an episode of its own patient')",
    "addendum_append_only": _append_only("addendum", "addenda cannot be changed"),
    "addendum_only_to_signed": "BEFORE INSERT ON addendum FOR EACH ROW EXECUTE FUNCTION "
    "clinic_addendum_to_signed('addenda follow signed evaluations only')",
    "audit_event_append_only": _append_only("audit_event", "audit events are permanent"),
    "form_snapshot_append_only": _append_only("form_snapshot", "form snapshots are permanent"),
    "episode_kept_no_move": "BEFORE UPDATE OF id, patient_id ON episode FOR EACH ROW WHEN "
    "(((new.id IS DISTINCT FROM old.id) OR (new.patient_id IS DISTINCT FROM old.patient_id))) "
    "EXECUTE FUNCTION clinic_episode_kept('an episode with records is never deleted, renumbered "
    "or moved to another patient')",
    "goal_kept_no_move": "BEFORE UPDATE OF id, episode_id ON goal FOR EACH ROW WHEN "
    "(((new.id IS DISTINCT FROM old.id) OR (new.episode_id IS DISTINCT FROM old.episode_id))) "
    "EXECUTE FUNCTION clinic_refuse_write('a goal keeps its number and its episode')",
    "goal_no_delete": "BEFORE DELETE ON goal FOR EACH ROW EXECUTE FUNCTION "
    "clinic_refuse_write('goals are never deleted: discontinue the goal instead')",
    "goal_status_append_only": _append_only("goal_status", "goal status history is append-only"),
    "plan_of_care_append_only": _append_only(
        "plan_of_care", "a plan of care is never changed: save a new version"
    ),
    "library_exercise_append_only": _append_only(
        "library_exercise", "a library exercise is never changed: save a new version"
    ),
    "library_picture_append_only": _append_only(
        "library_picture", "a stored picture is never changed or deleted"
    ),
    "program_template_append_only": _append_only(
        "program_template", "a saved program is never changed: save it again under its name"
    ),
    "clinic_no_delete": _no_delete(
        "clinic", "the clinic details are never deleted: edit them instead"
    ),
    "clinician_no_delete": _no_delete(
        "clinician", "clinicians are never deleted: disable the account instead"
    ),
    "setting_no_delete": _no_delete(
        "setting", "clinic settings are never deleted: save the setting instead"
    ),
}
PG_LOCK_DEFINITIONS.update(
    {
        f"{t}_no_truncate": _no_truncate(t)
        for t, names in PG_LOCKS.items()
        if f"{t}_no_truncate" in names
    }
)
_RAISE = "RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';"
# The lock functions' bodies (pg_proc.prosrc), exactly as the migrations write them.
PG_LOCK_FUNCTIONS = {
    "clinic_refuse_change": " BEGIN RAISE EXCEPTION '% (% %)', TG_ARGV[0], TG_TABLE_NAME, "
    "OLD.id USING ERRCODE = 'integrity_constraint_violation'; END ",
    "clinic_refuse_write": " BEGIN RAISE EXCEPTION '% (%)', TG_ARGV[0], TG_TABLE_NAME "
    "USING ERRCODE = 'integrity_constraint_violation'; END ",
    "clinic_addendum_to_signed": " BEGIN IF NOT EXISTS (SELECT 1 FROM evaluation WHERE id = "
    f"NEW.evaluation_id AND status = 'signed') THEN {_RAISE} END IF; RETURN NEW; END ",
    "clinic_same_patient_episode": " BEGIN IF NOT EXISTS (SELECT 1 FROM episode WHERE id = "
    f"NEW.episode_id AND patient_id = NEW.patient_id) THEN {_RAISE} END IF; RETURN NEW; END ",
    "clinic_episode_kept": " BEGIN IF EXISTS (SELECT 1 FROM evaluation WHERE episode_id = OLD.id)"
    " OR EXISTS (SELECT 1 FROM goal WHERE episode_id = OLD.id) OR EXISTS (SELECT 1 FROM "
    f"plan_of_care WHERE episode_id = OLD.id) THEN {_RAISE} END IF; RETURN NEW; END ",
}


_PG_SCHEMAS = (
    "SELECT current_schema(), (SELECT n.nspname FROM pg_class c JOIN pg_namespace n "
    "ON n.oid = c.relnamespace WHERE c.oid = to_regclass('alembic_version')), "
    "current_setting('search_path')"
)
_PG_TRIGGERS = """
SELECT c.relname, t.tgname, t.tgenabled, pg_get_triggerdef(t.oid), quote_ident(n.nspname),
       p.proname, p.pronamespace = c.relnamespace, p.prosrc, l.lanname, p.prosecdef,
       p.proconfig
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid
JOIN pg_language l ON l.oid = p.prolang
WHERE NOT t.tgisinternal AND n.nspname = current_schema()
"""
# Tables, views and the like in the app's schema that no extension made (pg_trgm's functions and,
# on a managed server, pg_stat_statements' views live there too), with row-level security.
_PG_RELATIONS = """
SELECT c.relname, c.relkind, c.relrowsecurity OR c.relforcerowsecurity FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                AND d.objid = c.oid AND d.deptype = 'e')
"""
_PG_KINDS = {"p": "partitioned table", "v": "view", "m": "materialized view", "f": "foreign table"}
_PG_OTHERS = (
    (
        "rule {1} (on {0}) is not made by the migrations",
        "SELECT tablename, rulename FROM pg_rules WHERE schemaname = current_schema()",
    ),
    (
        "policy {1} (on {0}) is not made by the migrations",
        "SELECT tablename, policyname FROM pg_policies WHERE schemaname = current_schema()",
    ),
    (
        "table {1} inherits from {0}: not made by the migrations",
        "SELECT p.relname, c.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent "
        "JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE p.relnamespace = current_schema()::regnamespace",
    ),
)


def pg_lock_difference(conn: Connection) -> str | None:
    """The first way the locks of a PostgreSQL database at head differ from what the migrations
    make: a lock trigger missing, disabled, made again to do less or calling a function changed
    (``CREATE OR REPLACE FUNCTION``, ``ALTER FUNCTION … SET search_path``); or anything else that
    changes what a write or a read does: another trigger, a rule, a row-level security policy, a
    table or view the migrations do not make (a locked table swapped by ``RENAME``), a child table
    (``INHERITS``); a search_path that puts another schema before the app's."""
    from sqlalchemy import text

    from clinic_app.storage import models

    current, app, path = conn.execute(text(_PG_SCHEMAS)).one()
    if current != app:  # ALTER DATABASE/ROLE … SET search_path: every unqualified name goes there
        return f"the search_path ({path}) puts schema {current} before the app's tables (in {app})"
    found = {(str(row[0]), str(row[1])): row[2:] for row in conn.execute(text(_PG_TRIGGERS))}
    for table, names in PG_LOCKS.items():
        for name in names:
            row = found.pop((table, name), None)
            if row is None:
                return f"trigger {name} (on {table}) is missing"
            state, definition, schema, function, same_schema, body, language, *flags = row
            secure, config = bool(flags[0]), flags[1]  # SECURITY DEFINER; its SET …
            # 0009: its own schema's tables, never a session's temporary ones of those names
            setting = [f"search_path={schema}, pg_temp"]
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
            made = f"CREATE TRIGGER {name} {PG_LOCK_DEFINITIONS[name]}"
            have = _normal(str(definition)).replace(f" ON {schema}.{table} ", f" ON {table} ")
            if have != made or not same_schema:
                return f"trigger {name} (on {table}) differs from what the migrations make"
            wanted = (PG_LOCK_FUNCTIONS.get(str(function)), "plpgsql", False, setting)
            if (body, language, secure, list(config or [])) != wanted:
                return (
                    f"function {function} (of trigger {name}) differs from what the migrations make"
                )
    for table, name in sorted(found):
        return f"trigger {name} (on {table}) is not made by the migrations"
    tables = {*models.Base.metadata.tables, _VERSION_TABLE}
    for name, kind, secured in sorted(conn.execute(text(_PG_RELATIONS)).all()):
        if name not in tables:
            what = _PG_KINDS.get(str(kind), "table")
            return f"{what} {name} is not made by the migrations"
        if kind != "r":
            return f"{name} is a {_PG_KINDS[str(kind)]}, not the table the migrations make"
        if secured:
            return f"row-level security is on for {name}: not made by the migrations"
    for message, query in _PG_OTHERS:
        for names in sorted(conn.execute(text(query)).all()):
            return message.format(*names)
    return None


_PG_COLUMNS = (
    "SELECT table_name, column_name, is_nullable = 'YES' FROM information_schema.columns "
    "WHERE table_schema = current_schema()"
)
_PG_CONSTRAINTS = (
    "SELECT conrelid::regclass::text, conname, contype FROM pg_constraint "
    "WHERE connamespace = current_schema()::regnamespace AND contype IN ('p', 'f', 'u', 'c')"
)


def pg_table_difference(conn: Connection) -> str | None:
    """The first way the app's tables on a PostgreSQL server differ from the models the
    migrations make: a column added, dropped or no longer NOT NULL (or newly so); a primary
    key, foreign key or unique constraint gone or added; fewer or more CHECK constraints (their
    names differ from the models' by the migrations' naming, so they are counted)."""
    from sqlalchemy import text
    from sqlalchemy.sql.schema import CheckConstraint

    from clinic_app.storage import models

    tables = models.Base.metadata.tables
    want = {(t.name, c.name): bool(c.nullable) for t in tables.values() for c in t.columns}
    have = {
        (str(t), str(c)): bool(n) for t, c, n in conn.execute(text(_PG_COLUMNS)) if str(t) in tables
    }
    for key in sorted(want.keys() - have.keys()):
        return f"column {key[0]}.{key[1]} is missing"
    for key in sorted(have.keys() - want.keys()):
        return f"column {key[0]}.{key[1]} is not made by the migrations"
    for key in sorted(k for k in want if want[k] != have[k]):
        if have[key]:
            return f"column {key[0]}.{key[1]} accepts NULL: the migrations make it NOT NULL"
        return f"column {key[0]}.{key[1]} is NOT NULL: the migrations make it nullable"
    named: set[tuple[str, str]] = set()
    checks: dict[str, int] = {}
    for t in tables.values():
        for con in t.constraints:
            if isinstance(con, CheckConstraint):
                checks[t.name] = checks.get(t.name, 0) + 1
            else:
                named.add((t.name, str(con.name)))
    found: set[tuple[str, str]] = set()
    counted: dict[str, int] = {}
    for table, name, kind in conn.execute(text(_PG_CONSTRAINTS)):
        if str(table) not in tables:
            continue
        if kind == "c":
            counted[str(table)] = counted.get(str(table), 0) + 1
        else:
            found.add((str(table), str(name)))
    for table, name in sorted(named - found):
        return f"constraint {name} (on {table}) is missing"
    for table, name in sorted(found - named):
        return f"constraint {name} (on {table}) is not made by the migrations"
    for table in sorted(checks.keys() | counted.keys()):
        if checks.get(table, 0) != counted.get(table, 0):
            return (
                f"table {table} has {counted.get(table, 0)} CHECK constraints, "
                f"the migrations make {checks.get(table, 0)}"
            )
    return None
