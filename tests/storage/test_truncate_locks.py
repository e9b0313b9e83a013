"""Migration 0010: no table is emptied, and the clinic, clinicians and settings are never deleted.

Before 0010, ``TRUNCATE setting`` (and ``clinic``, ``clinician``; ``patient`` and ``episode``
with ``CASCADE`` as far as the locked tables let it) went through for the table owner on
PostgreSQL, and ``DELETE FROM setting`` on both backends: the clinic's idle lock, plan-of-care
and MRN policy silently went back to the defaults, and ``verify`` said nothing. Now each is
refused by a trigger, a trigger disabled or dropped is named by ``verify``, and a setting changed
or deleted behind the app's back (the owner's plain UPDATE, a DELETE behind a dropped lock) is
named by comparing the settings with the audit trail.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from clinic_app.storage import migrate, roles
from clinic_app.storage import records as r
from clinic_app.storage import schema as schema_mod
from clinic_app.storage.database import Database, open_database
from tests.storage import test_pg_roles as pg_roles
from tests.storage.conftest import PgServer
from tests.storage.test_locks_every_route import _migrate, _pg_triggers
from tests.storage.test_pg_owner import (  # noqa: F401 (owner and clinic are fixtures)
    Clinic,
    Owner,
    _as_owner,
    _connect,
    _verify,
    clinic,
    owner,
)
from tests.storage.test_rows_deleted import _behind_a_lock

TRUNCATED = ("clinic", "clinician", "patient", "episode", "setting")
REFERENCED = ("clinician", "patient", "episode")  # named by other tables' foreign keys
DELETED = {
    "clinic": "the clinic details are never deleted: edit them instead",
    "clinician": "clinicians are never deleted: disable the account instead",
    "setting": "clinic settings are never deleted: save the setting instead",
}
NEW_PG_TRIGGERS = sorted(
    [(t, f"{t}_no_truncate") for t in TRUNCATED] + [(t, f"{t}_no_delete") for t in DELETED]
)
SAVED = {"idle_lock_minutes": 12, "recert_days": 60}
_roles = itertools.count(1)


def _settle(db: Database) -> None:
    """The clinic's details and two settings, saved through the app."""
    r.save_clinic(db, r.ClinicInfo(name="Owner Clinic", address="1 Main St"), user="admin")
    for key, value in SAVED.items():
        r.save_setting(db, key, value, user="admin")


@pytest.fixture
def settled(clinic: Clinic) -> Clinic:  # noqa: F811
    db = open_database(clinic.url)
    try:
        _settle(db)
        assert r.verify_database(db) == []
    finally:
        db.close()
    return clinic


def _counts(of: Clinic) -> dict[str, int]:
    with _connect(of) as conn:
        return {
            t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in (*TRUNCATED, "evaluation", "audit_event")
        }


def _settings(db: Database) -> dict[str, object]:
    return {key: r.get_setting(db, key) for key in SAVED}


# -- PostgreSQL, as the table owner (no superuser) ----------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("cascade", ["", " CASCADE", " RESTART IDENTITY CASCADE"])
@pytest.mark.parametrize("table", TRUNCATED)
def test_the_owner_cannot_truncate_a_newly_locked_table(
    settled: Clinic, capsys: pytest.CaptureFixture[str], table: str, cascade: str
) -> None:
    before = _counts(settled)
    assert all(before[t] for t in TRUNCATED), before  # every table holds rows: a loss would show
    errors = _as_owner(settled, [f"TRUNCATE {table}{cascade}"])
    if table in REFERENCED and not cascade:  # PostgreSQL refuses before any trigger fires
        assert errors == ["cannot truncate a table referenced in a foreign key constraint"]
    else:  # before 0010: gone (clinic, setting), or evaluation_no_truncate's message
        assert errors == [f"{table} cannot be emptied ({table})"]
    assert _counts(settled) == before
    db = open_database(settled.url, migrate=False, backup=False)
    try:
        assert _settings(db) == SAVED
    finally:
        db.close()
    assert _verify(settled, capsys) == (0, [])


@pytest.mark.postgres
@pytest.mark.parametrize("table", sorted(DELETED))
def test_the_owner_cannot_delete_a_clinic_clinician_or_setting_row(
    settled: Clinic, capsys: pytest.CaptureFixture[str], table: str
) -> None:
    before = _counts(settled)
    errors = _as_owner(settled, [f"DELETE FROM {table}"])
    assert errors == [f"{DELETED[table]} ({table})"]
    assert _counts(settled) == before
    assert _verify(settled, capsys) == (0, [])


@pytest.mark.postgres
@pytest.mark.parametrize("how", ["disable", "drop"])
@pytest.mark.parametrize(("table", "trigger"), NEW_PG_TRIGGERS)
def test_a_new_lock_disabled_or_dropped_is_named_by_verify(
    settled: Clinic, capsys: pytest.CaptureFixture[str], table: str, trigger: str, how: str
) -> None:
    sql = {
        "disable": f"ALTER TABLE {table} DISABLE TRIGGER {trigger}",
        "drop": f"DROP TRIGGER {trigger} ON {table}",
    }[how]
    assert _as_owner(settled, [sql]) == []
    said = {"disable": "is disabled", "drop": "is missing"}[how]
    assert _verify(settled, capsys) == (1, [f"schema: trigger {trigger} (on {table}) {said}"])


@pytest.mark.postgres
def test_settings_emptied_behind_a_disabled_lock_are_named_by_verify(
    settled: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    """The owner disables the lock, empties the settings and enables it again: the schema check
    sees nothing, the audit trail names every setting lost."""
    statements = [
        "ALTER TABLE setting DISABLE TRIGGER setting_no_truncate",
        "TRUNCATE setting",
        "ALTER TABLE setting ENABLE TRIGGER setting_no_truncate",
    ]
    assert _as_owner(settled, statements) == []
    lines = [f"setting {key} was deleted outside the app" for key in SAVED]
    assert _verify(settled, capsys) == (1, lines)


@pytest.mark.postgres
def test_a_setting_changed_deleted_or_added_by_the_owner_is_named_until_saved_again(
    settled: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    statements = [
        "UPDATE setting SET value = '240' WHERE key = 'idle_lock_minutes'",
        "ALTER TABLE setting DISABLE TRIGGER setting_no_delete",
        "DELETE FROM setting WHERE key = 'recert_days'",
        "ALTER TABLE setting ENABLE TRIGGER setting_no_delete",
        "INSERT INTO setting VALUES ('progress_every_days', '365', 'admin', now())",
        "INSERT INTO setting VALUES ('no_such_setting', '1', 'admin', now())",  # never read
    ]
    assert _as_owner(settled, statements) == []
    assert _verify(settled, capsys) == (
        1,
        [
            "setting idle_lock_minutes was changed outside the app",
            "setting progress_every_days is not in the audit trail",
            "setting recert_days was deleted outside the app",
        ],
    )
    db = open_database(settled.url)
    try:  # the therapist's own saves put the audit trail and the settings in step again
        for key, value in {
            "idle_lock_minutes": 5,
            "recert_days": 90,
            "progress_every_days": 30,
        }.items():
            r.save_setting(db, key, value, user="admin")
    finally:
        db.close()
    assert _verify(settled, capsys) == (0, [])


@pytest.fixture
def workstation(settled: Clinic, owner: Owner, postgres_server: PgServer) -> pg_roles.Clinic:  # noqa: F811
    """A workstation role with only the app's grants (``clinic-app grant``) on the clinic."""
    role = f"clinic_ws_truncate_{os.getpid()}_{next(_roles)}"
    with postgres_server.admin() as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    db = open_database(settled.url)
    try:
        roles.grant_workstation(db, role)
    finally:
        db.close()
    url = settled.url.replace(f"{owner.role}@", f"{role}@", 1)
    return pg_roles.Clinic(settled.url, url, role, signed=0)


@pytest.mark.postgres
@pytest.mark.parametrize("table", TRUNCATED)
def test_the_workstation_role_cannot_truncate_or_delete_either(
    workstation: pg_roles.Clinic, settled: Clinic, table: str
) -> None:
    """Refused by the grants before any trigger (so this held before 0010 too)."""
    before = _counts(settled)
    for sql in (f"TRUNCATE {table}", f"TRUNCATE {table} CASCADE", f"DELETE FROM {table}"):
        assert "permission denied" in pg_roles._as_workstation(workstation, sql)
    assert _counts(settled) == before
    db = open_database(workstation.workstation_url)
    try:
        assert roles.current_role(db) == roles.RoleInfo(workstation.role, owner=False)
        assert r.verify_database(db) == []
        r.save_setting(db, "idle_lock_minutes", 7, user="ws")  # the app's own save still works
        assert r.get_setting(db, "idle_lock_minutes") == 7
        assert r.verify_database(db) == []
    finally:
        db.close()


# -- SQLite, changed by another tool --------------------------------------------------------------


@pytest.fixture
def sqlite_clinic(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    db = open_database(f"sqlite:///{path}")
    try:
        _settle(db)
        r.save_clinician(db, r.ClinicianInfo("Dr Pat", "PT"), user="admin")
        assert r.verify_database(db) == []
    finally:
        db.close()
    return path


def _sqlite_verify(path: Path) -> list[str]:
    db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
    try:
        return [b.line() for b in r.verify_database(db)]
    finally:
        db.close()


@pytest.mark.parametrize("foreign_keys", ["ON", "OFF"])
@pytest.mark.parametrize("table", sorted(DELETED))
def test_sqlite_refuses_emptying_the_clinic_clinicians_or_settings(
    sqlite_clinic: Path, table: str, foreign_keys: str
) -> None:
    conn = sqlite3.connect(sqlite_clinic)
    try:
        conn.execute(f"PRAGMA foreign_keys = {foreign_keys}")
        before = conn.execute(f"SELECT * FROM {table}").fetchall()
        assert before
        with pytest.raises(sqlite3.IntegrityError, match=f"^{DELETED[table]}$"):
            conn.execute(f"DELETE FROM {table}")
        conn.rollback()
        assert conn.execute(f"SELECT * FROM {table}").fetchall() == before
    finally:
        conn.close()
    assert _sqlite_verify(sqlite_clinic) == []


def test_sqlite_setting_changed_or_deleted_behind_the_app_is_named(sqlite_clinic: Path) -> None:
    conn = sqlite3.connect(sqlite_clinic)
    try:
        conn.execute("UPDATE setting SET value = '240' WHERE key = 'idle_lock_minutes'")
        conn.commit()
    finally:
        conn.close()
    _behind_a_lock(
        sqlite_clinic, "setting_no_delete", "DELETE FROM setting WHERE key = 'recert_days'"
    )
    assert _sqlite_verify(sqlite_clinic) == [
        "setting idle_lock_minutes was changed outside the app",
        "setting recert_days was deleted outside the app",
    ]


def test_sqlite_a_dropped_delete_lock_is_named_by_verify(sqlite_clinic: Path) -> None:
    conn = sqlite3.connect(sqlite_clinic)
    try:
        conn.execute("DROP TRIGGER setting_no_delete")
        conn.execute("DELETE FROM setting")
        conn.commit()
    finally:
        conn.close()
    assert _sqlite_verify(sqlite_clinic) == [
        "schema: trigger setting_no_delete (on setting) is missing",
        *(f"setting {key} was deleted outside the app" for key in SAVED),
    ]


# -- migration 0010 itself, both ways --------------------------------------------------------------


def test_0010_downgrades_to_0009_exactly_and_upgrades_again(db: Database) -> None:
    _settle(db)
    new = {name for _table, name in NEW_PG_TRIGGERS}
    empty_it = "TRUNCATE setting" if db.dialect == "postgresql" else "DELETE FROM setting"

    def same_as(revision: str) -> None:
        assert db.schema_revision() == revision
        if db.dialect == "sqlite":
            assert db.path is not None
            conn = sqlite3.connect(db.path)
            try:
                assert schema_mod.difference(conn, revision) is None
            finally:
                conn.close()
        else:
            assert (new & _pg_triggers(db)) == (set() if revision == "0009" else new)

    same_as(migrate.HEAD)
    _migrate(db, "0009", down=True)
    same_as("0009")
    with db.engine.begin() as conn:  # 0009 let the settings go; 0010 refuses it
        conn.exec_driver_sql(empty_it)
    _migrate(db, "0010", down=False)
    same_as("0010")
    _migrate(db, "head", down=False)
    same_as(migrate.HEAD)
    _settle(db)
    with (
        pytest.raises(sa.exc.DBAPIError, match="cannot be emptied|never deleted"),
        db.engine.begin() as conn,
    ):
        conn.exec_driver_sql(empty_it)
    assert _settings(db) == SAVED
    assert [b.line() for b in r.verify_database(db)] == []
