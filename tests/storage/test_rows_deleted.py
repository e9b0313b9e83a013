"""Episodes, plans of care and goals deleted outside the app are named by ``verify``.

The app never deletes these rows, and every row it writes leaves an audit event. A row an event
names that is gone was deleted outside the app (behind a lock dropped and put back, or an empty
episode, which no lock needs to keep), unless its table went in a downgrade below 0006: the
upgrade that makes the tables again chains one "episode tables made" event, and only the events
after it count.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from clinic_app.storage import migrate, sealing
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.kept_rows import TABLES_REMADE
from tests.storage.test_kept_rows import _problems, _problems_of

DATA = Path(__file__).resolve().parents[1] / "data"
MIGRATION_0006 = "clinic_app.storage.migrations.versions.0006_episodes"


def _care(db: Database, mrn: str = "K-1") -> dict[str, int]:
    """A patient with an episode, a plan of care and a goal with a status; and a second
    patient whose episode has nothing in it yet."""
    pid = r.create_patient(db, r.PatientFields("Jon", "Smith", mrn=mrn), user="dana").id
    ep = r.create_episode(
        db, pid, r.EpisodeInfo("Right posterior thigh", start_date=date(2026, 5, 4)), user="dana"
    ).id
    plan = r.save_plan(db, ep, r.PlanInfo(visits_per_week=2, duration_weeks=6), user="dana").id
    goal = r.add_goal(db, ep, r.GoalInfo("short", "Sit 30 minutes"), user="dana")
    r.set_goal_status(db, goal.id, "progressing", goal.version, user="dana")
    other = r.create_patient(db, r.PatientFields("Ann", "Lee", mrn=mrn + "b"), user="dana").id
    empty = r.create_episode(
        db, other, r.EpisodeInfo("Left calf", start_date=date(2026, 5, 6)), user="dana"
    ).id
    return {"episode": ep, "plan_of_care": plan, "goal": goal.id, "empty_episode": empty}


def _marks(db: Database) -> int:
    mark = (*TABLES_REMADE, "migration 0006")
    events = r.audit_events(db, limit=100_000)
    return sum(1 for e in events if (e.entity, e.entity_id, e.action, e.actor) == mark)


def _delete_episode(db: Database, episode_id: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM episode WHERE id = :id"), {"id": episode_id})


def _downgrade_to_0005(db: Database) -> None:
    with db.engine.connect() as conn:
        command.downgrade(migrate.alembic_config(conn), "0005")
        conn.commit()


def test_the_mark_is_what_migration_0006_writes() -> None:
    import importlib

    assert importlib.import_module(MIGRATION_0006).REMADE == TABLES_REMADE


# -- SQLite files, changed by another tool ------------------------------------------------------


@pytest.fixture
def clinic(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    path = tmp_path / "clinic.db"
    db = open_database(f"sqlite:///{path}")
    try:
        ids = _care(db)
        assert _problems(db) == []
        with db.reading() as s:  # the mark is chained (the samples' seals use another key)
            assert sealing.audit_problems(s) == []
    finally:
        db.close()
    return path, ids


def _behind_a_lock(path: Path, trigger: str, *sql: str) -> None:
    """Drop ``trigger``, run ``sql``, and put the trigger back exactly as it was, so the schema
    check alone sees nothing."""
    conn = sqlite3.connect(path)
    try:
        (definition,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (trigger,)
        ).fetchone()
        conn.execute(f"DROP TRIGGER {trigger}")
        for statement in sql:
            conn.execute(statement)
        conn.execute(definition)
        conn.commit()
    finally:
        conn.close()


def _verify_cli(path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLINIC_APP_ENCRYPTION": "off"}
    return subprocess.run(
        [sys.executable, "-m", "clinic_app", "--database", f"sqlite:///{path}", "verify"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("table", ["goal", "plan_of_care"])
def test_a_row_deleted_behind_its_lock_is_named_by_verify(
    clinic: tuple[Path, dict[str, int]], table: str
) -> None:
    path, ids = clinic
    row = ids[table]
    line = f"{table} {row} was deleted outside the app"
    _behind_a_lock(path, f"{table}_no_delete", f"DELETE FROM {table} WHERE id = {row}")
    assert _problems_of(path) == [line]
    done = _verify_cli(path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert line in done.stdout.splitlines()
    assert "schema:" not in done.stdout  # the lock is back: the trail alone tells


def test_a_goal_and_its_statuses_deleted_together_are_named(
    clinic: tuple[Path, dict[str, int]],
) -> None:
    path, ids = clinic
    goal = ids["goal"]
    _behind_a_lock(path, "goal_status_no_delete", f"DELETE FROM goal_status WHERE goal_id = {goal}")
    _behind_a_lock(path, "goal_no_delete", f"DELETE FROM goal WHERE id = {goal}")
    problems = _problems_of(path)
    assert problems == [
        f"goal {goal} was deleted outside the app",
        f"goal {goal}: 0 statuses kept, the audit trail records 1",
    ]


# -- both backends ------------------------------------------------------------------------------


def test_an_empty_episode_deleted_outside_the_app_is_named(db: Database) -> None:
    """No lock keeps an episode nothing names yet (0008); the app never deletes one."""
    ids = _care(db)
    _delete_episode(db, ids["empty_episode"])
    assert _problems(db) == [f"episode {ids['empty_episode']} was deleted outside the app"]


PG_ROUTES = {
    # ordinary triggers do not fire for a replica session (superuser only)
    "replica": ("SET LOCAL session_replication_role = replica", None),
    "disabled": (
        "ALTER TABLE {table} DISABLE TRIGGER ALL",
        "ALTER TABLE {table} ENABLE TRIGGER ALL",
    ),
}


@pytest.mark.parametrize("route", list(PG_ROUTES))
@pytest.mark.parametrize("table", ["goal", "plan_of_care"])
def test_a_row_deleted_past_its_lock_on_a_clinic_server_is_named(
    postgres_migrated_url: str, table: str, route: str
) -> None:
    """As the server's superuser, past the lock triggers, then the locks put back."""
    db = open_database(postgres_migrated_url)
    try:
        ids = _care(db)
        before, after = PG_ROUTES[route]
        tables = ["goal_status", "goal"] if table == "goal" else [table]  # statuses go first
        with db.engine.begin() as conn:
            for name in tables:
                conn.execute(sa.text(before.format(table=name)))
            for name in tables:
                key = "goal_id" if name == "goal_status" else "id"
                conn.execute(sa.text(f"DELETE FROM {name} WHERE {key} = :id"), {"id": ids[table]})
            for name in tables if after else ():
                conn.execute(sa.text(str(after).format(table=name)))
        lines = [b.line() for b in r.verify_database(db)]
    finally:
        db.close()
    assert f"{table} {ids[table]} was deleted outside the app" in lines
    assert not [line for line in lines if line.startswith("schema:")]  # the locks are back


def test_rows_that_went_with_their_tables_are_not_reported_and_later_ones_are(
    db: Database,
) -> None:
    first = _care(db)
    assert _marks(db) == 0  # a clinic made at this revision: nothing to mark
    _downgrade_to_0005(db)
    db.close()
    db2 = open_database(db.url, backup=False)  # upgrades to the head again
    try:
        assert db2.schema_revision() == migrate.HEAD
        assert _marks(db2) == 1
        assert r.list_episodes(db2, 1) == []  # the episodes went with their table
        assert _problems(db2) == []
        assert r.verify_database(db2) == []
        again = _care(db2, mrn="K-2")  # the freed ids are used again
        assert again["goal"] == first["goal"]
        assert _problems(db2) == []
        _delete_episode(db2, again["empty_episode"])
        # Events after the mark count: this row was the app's after the tables were made again.
        assert _problems(db2) == [f"episode {again['empty_episode']} was deleted outside the app"]
    finally:
        db2.close()


def test_a_second_trip_below_0006_leaves_a_second_mark_and_verifies_clean(db: Database) -> None:
    _care(db)
    for trip in (1, 2):
        _downgrade_to_0005(db)
        db.close()
        db = open_database(db.url, backup=False)
        assert _marks(db) == trip
        assert _problems(db) == []
        assert r.verify_database(db) == []
        _care(db, mrn=f"K-{trip + 1}")
    assert _problems(db) == []
    db.close()


def test_a_forged_mark_does_not_hide_a_deletion(clinic: tuple[Path, dict[str, int]]) -> None:
    """Someone deletes a goal and appends a chained mark of their own to excuse it: the plan
    still there then has no event after the mark, nor the goal's statuses, so they are named.
    (Episodes without events are not: storage.synthetic makes those.)"""
    from clinic_app.storage.records._common import write_audit

    path, ids = clinic
    _behind_a_lock(path, "goal_no_delete", f"DELETE FROM goal WHERE id = {ids['goal']}")
    db = open_database(f"sqlite:///{path}")
    try:
        with db.writing() as s:
            write_audit(s, "migration 0006", *TABLES_REMADE, None, None)
        with db.reading() as s:
            assert sealing.audit_problems(s) == []  # the chain itself is sound
        problems = _problems(db)
    finally:
        db.close()
    assert problems == [
        f"plan_of_care {ids['plan_of_care']} is not in the audit trail",
        f"goal {ids['goal']}: 1 status kept, the audit trail records 0",
    ]


# -- sample clinics -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "marks"), [("clinic-0003.db", 0), ("clinic-0005.db", 1)])
def test_sample_clinics_are_marked_only_where_rows_went(
    tmp_path: Path, name: str, marks: int
) -> None:
    """clinic-0005.db was made by a downgrade and names episodes that are gone; clinic-0003.db
    never had any: only the first is marked, and both verify clean."""
    path = tmp_path / name
    shutil.copyfile(DATA / name, path)
    db = open_database(f"sqlite:///{path}", backup=False)
    try:
        assert db.schema_revision() == migrate.HEAD
        assert _marks(db) == marks
        assert _problems(db) == []
        with db.reading() as s:  # the mark is chained (the samples' seals use another key)
            assert sealing.audit_problems(s) == []
    finally:
        db.close()
