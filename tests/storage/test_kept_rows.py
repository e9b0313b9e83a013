"""A goal's kept status rows are checked one by one against their own audit events.

Each status the app keeps writes a "goal_status" event with the row's digest, so ``verify`` names
a status row changed, replaced or deleted outside the app (behind a dropped trigger), not only a
change in how many there are. Older clinics (tests/data, no such events) still verify clean.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from clinic_app.core.form_loading import load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.demo import fill_demo
from clinic_app.storage.kept_rows import kept_row_problems

DATA = Path(__file__).resolve().parents[1] / "data"


def _goal_with_history(db: Database) -> tuple[int, list[int]]:
    pid = r.create_patient(db, r.PatientFields("Jon", "Smith", mrn="K-1"), user="dana").id
    ep = r.create_episode(
        db, pid, r.EpisodeInfo("Right posterior thigh", start_date=date(2026, 5, 4)), user="dana"
    ).id
    goal = r.add_goal(db, ep, r.GoalInfo("short", "Sit 30 minutes"), user="dana")
    goal = r.set_goal_status(db, goal.id, "progressing", goal.version, user="dana")
    goal = r.set_goal_status(
        db, goal.id, "progressing", goal.version, user="lee", suggested="met", note="Wait a visit."
    )
    goal = r.set_goal_status(db, goal.id, "met", goal.version, user="dana", suggested="met")
    return goal.id, [h.id for h in goal.history]


def _problems(db: Database) -> list[str]:
    with db.reading() as s:
        return kept_row_problems(s)


def test_each_kept_status_has_its_own_event_and_verifies_clean(db: Database) -> None:
    goal_id, ids = _goal_with_history(db)
    events = [e for e in r.audit_events(db, limit=1000) if e.entity == "goal_status"]
    assert sorted(e.entity_id for e in events) == ids
    assert {e.action for e in events} == {"create"}
    assert all(e.after_digest for e in events)
    assert _problems(db) == []
    assert r.verify_database(db) == []


@pytest.fixture
def clinic(tmp_path: Path) -> tuple[Path, int, list[int]]:
    path = tmp_path / "clinic.db"
    db = open_database(f"sqlite:///{path}")
    try:
        goal_id, ids = _goal_with_history(db)
        assert _problems(db) == []
    finally:
        db.close()
    return path, goal_id, ids


def _raw(path: Path, *sql: str) -> None:
    conn = sqlite3.connect(path)
    try:
        for statement in sql:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def _problems_of(path: Path) -> list[str]:
    db = open_database(f"sqlite:///{path}")
    try:
        return _problems(db)
    finally:
        db.close()


def test_a_status_note_edited_behind_a_dropped_trigger_is_named(
    clinic: tuple[Path, int, list[int]],
) -> None:
    path, _, ids = clinic
    _raw(
        path,
        "DROP TRIGGER goal_status_no_update",
        f"UPDATE goal_status SET note = 'Met; discharge.' WHERE id = {ids[1]}",
    )
    assert _problems_of(path) == [f"goal_status {ids[1]} was changed outside the app"]


def test_a_status_row_replaced_with_another_status_is_named(
    clinic: tuple[Path, int, list[int]],
) -> None:
    path, _, ids = clinic
    _raw(
        path,
        "DROP TRIGGER goal_status_no_replace",
        "DROP TRIGGER goal_status_no_delete",
        "CREATE TEMP TABLE t AS SELECT * FROM goal_status WHERE id = " + str(ids[0]),
        "UPDATE t SET status = 'not_met'",
        "INSERT OR REPLACE INTO goal_status SELECT * FROM t",
    )
    assert _problems_of(path) == [f"goal_status {ids[0]} was changed outside the app"]


def test_a_deleted_status_row_is_named(clinic: tuple[Path, int, list[int]]) -> None:
    path, goal_id, ids = clinic
    _raw(path, "DROP TRIGGER goal_status_no_delete", f"DELETE FROM goal_status WHERE id = {ids[2]}")
    assert _problems_of(path) == [
        f"goal_status {ids[2]} was deleted outside the app",
        f"goal {goal_id}: 2 statuses kept, the audit trail records 3",
    ]


def test_the_demo_clinic_verifies_clean(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        fill_demo(db, load_form(default_form_path()), today=date(2026, 6, 1))
        events = r.audit_events(db, limit=100_000)
        assert any(e.entity == "goal_status" for e in events)  # the demo sets statuses
        assert _problems(db) == []
        assert r.verify_database(db) == []
    finally:
        db.close()


@pytest.mark.parametrize("name", ["clinic-0006.db", "clinic-0005.db"])
def test_older_sample_clinics_still_verify_their_goals_clean(tmp_path: Path, name: str) -> None:
    copy = tmp_path / name
    shutil.copyfile(DATA / name, copy)
    db = open_database(f"sqlite:///{copy}")
    try:
        assert _problems(db) == []
    finally:
        db.close()


def test_status_events_of_goals_a_downgrade_removed_are_not_reported(tmp_path: Path) -> None:
    """Below 0006 the goals and their statuses go and their events stay; ids are reused after."""
    from alembic import command

    from clinic_app.storage import migrate

    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    db = open_database(url)
    try:
        _goal_with_history(db)  # goal 1, statuses 1-3
        with db.engine.connect() as conn:
            command.downgrade(migrate.alembic_config(conn), "0005")
            conn.commit()
    finally:
        db.close()
    db = open_database(url)
    try:
        pid = r.create_patient(db, r.PatientFields("Ann", "Lee", mrn="K-2"), user="dana").id
        ep = r.create_episode(db, pid, r.EpisodeInfo("Knee", start_date=date(2026, 6, 1)), user="a")
        goal = r.add_goal(db, ep.id, r.GoalInfo("short", "Stairs"), user="dana")
        goal = r.set_goal_status(db, goal.id, "progressing", goal.version, user="dana")
        assert (goal.id, [h.id for h in goal.history]) == (1, [1])  # the freed ids again
        assert _problems(db) == []
        assert r.verify_database(db) == []
    finally:
        db.close()
