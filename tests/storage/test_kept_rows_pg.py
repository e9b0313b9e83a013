"""Goal status rows changed, replaced or deleted on PostgreSQL by the owner, past the locks.

The statuses are made through the records API as the workstation role (test_pg_roles' clinic);
the database owner (the suite's superuser) then gets past ``goal_status_append_only`` by each
route PostgreSQL offers it: ``session_replication_role = replica``, ``DISABLE TRIGGER`` (one or
all) enabled again after, the trigger dropped and made again, its function replaced and put
back. The lock looks untouched afterwards, so only the rows' own audit events can tell:
``verify`` (and the CLI) must name the exact row. The workstation role can do none of it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clinic_app.storage import records as r
from clinic_app.storage.database import open_database
from tests.storage.test_kept_rows import _goal_with_history, _problems
from tests.storage.test_pg_roles import Clinic, _as_workstation
from tests.storage.test_pg_roles import clinic as clinic  # the fixture, re-exported

pytestmark = pytest.mark.postgres
LOCK = "goal_status_append_only"


@dataclass(frozen=True)
class Goals:
    clinic: Clinic
    goal: int
    ids: list[int]  # its three status rows, oldest first
    other: int  # a second goal, one status


@pytest.fixture
def goals(clinic: Clinic) -> Goals:
    db = open_database(clinic.workstation_url)
    try:
        goal_id, ids = _goal_with_history(db)
        episode = r.get_goal(db, goal_id).episode_id
        other = r.add_goal(db, episode, r.GoalInfo("long", "Run 5 km"), user="dana")
        r.set_goal_status(db, other.id, "progressing", other.version, user="dana")
        assert _problems(db) == []  # the clean clinic verifies clean: the tests can fail
        assert r.verify_database(db) == []
    finally:
        db.close()
    return Goals(clinic, goal_id, ids, other.id)


def _owner(goals: Goals) -> Any:
    import psycopg

    return psycopg.connect(goals.clinic.owner_url.replace("+psycopg", ""), autocommit=True)


def _status_rows(goals: Goals) -> list[tuple[Any, ...]]:
    with _owner(goals) as conn:
        return list(conn.execute("SELECT * FROM goal_status ORDER BY id").fetchall())


def _verify(url: str) -> tuple[list[str], list[str]]:
    """kept_row_problems and every line of verify_database, on a fresh connection."""
    db = open_database(url, migrate=False, backup=False)
    try:
        return _problems(db), [b.line() for b in r.verify_database(db)]
    finally:
        db.close()


def _definitions(conn: Any) -> tuple[str, str]:
    (trigger,) = conn.execute(
        "SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE t.tgname = %s", (LOCK,)
    ).fetchone()
    (function,) = conn.execute(
        "SELECT pg_get_functiondef('clinic_refuse_change'::regproc)"
    ).fetchone()
    return str(trigger), str(function)


# How the owner gets past the lock: statements before and after the change.
BYPASSES: dict[str, tuple[list[str], list[str]]] = {
    "replica session": (["SET session_replication_role = replica"], []),
    "disable trigger all": (
        ["ALTER TABLE goal_status DISABLE TRIGGER ALL"],
        ["ALTER TABLE goal_status ENABLE TRIGGER ALL"],
    ),
    "disable the lock": (
        [f"ALTER TABLE goal_status DISABLE TRIGGER {LOCK}"],
        [f"ALTER TABLE goal_status ENABLE TRIGGER {LOCK}"],
    ),
    "lock fires only in replica sessions": (
        [f"ALTER TABLE goal_status ENABLE REPLICA TRIGGER {LOCK}"],
        [f"ALTER TABLE goal_status ENABLE TRIGGER {LOCK}"],
    ),
    "drop and re-create the lock": ([f"DROP TRIGGER {LOCK} ON goal_status"], ["{trigger}"]),
    "replace the lock's function": (
        [
            "CREATE OR REPLACE FUNCTION clinic_refuse_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; "
            "RETURN NEW; END $$"
        ],
        ["{function}"],
    ),
}


def _changes(goals: Goals) -> dict[str, tuple[list[str], list[str]]]:
    """change name -> (statements, the exact problems verify must report)."""
    a, b, c = goals.ids
    g, other = goals.goal, goals.other
    return {
        "note edited": (
            [f"UPDATE goal_status SET note = 'Met; discharge.' WHERE id = {b}"],
            [f"goal_status {b} was changed outside the app"],
        ),
        "status rewritten": (
            [f"UPDATE goal_status SET status = 'not_met', suggested = NULL WHERE id = {a}"],
            [f"goal_status {a} was changed outside the app"],
        ),
        "row deleted": (
            [f"DELETE FROM goal_status WHERE id = {c}"],
            [
                f"goal_status {c} was deleted outside the app",
                f"goal {g}: 2 statuses kept, the audit trail records 3",
            ],
        ),
        "upsert over the id": (
            [
                f"INSERT INTO goal_status SELECT * FROM goal_status WHERE id = {a} "
                "ON CONFLICT (id) DO UPDATE SET status = 'met', set_by = 'lee'"
            ],
            [f"goal_status {a} was changed outside the app"],
        ),
        "renumbered": (
            [f"UPDATE goal_status SET id = 90000 WHERE id = {b}"],
            [f"goal_status {b} was deleted outside the app"],
        ),
        "moved to the other goal": (
            [f"UPDATE goal_status SET goal_id = {other} WHERE id = {c}"],
            [
                f"goal_status {c} was changed outside the app",
                f"goal {g}: 2 statuses kept, the audit trail records 3",
                f"goal {other}: 2 statuses kept, the audit trail records 1",
            ],
        ),
    }


CHANGES = ("note edited", "status rewritten", "row deleted", "upsert over the id", "renumbered")
CASES = [(bypass, change) for bypass in sorted(BYPASSES) for change in CHANGES]
CASES.append(("replica session", "moved to the other goal"))


def _attack(goals: Goals, bypass: str, statements: list[str]) -> None:
    before, after = BYPASSES[bypass]
    with _owner(goals) as conn:
        trigger, function = _definitions(conn)
        with conn.transaction():  # what the session setting covers; locks restored at the end
            for sql in (*before, *statements, *after):
                conn.execute(sql.format(trigger=trigger, function=function))
        assert _definitions(conn) == (trigger, function)
        state = conn.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = %s", (LOCK,))
        assert state.fetchall() == [("O",)]  # the lock is back, enabled as it was


@pytest.mark.parametrize(("bypass", "change"), CASES)
def test_verify_names_a_status_row_the_owner_changed_past_the_lock(
    goals: Goals, bypass: str, change: str
) -> None:
    statements, expected = _changes(goals)[change]
    before = _status_rows(goals)
    _attack(goals, bypass, statements)
    assert _status_rows(goals) != before  # the attack got past the lock
    problems, lines = _verify(goals.clinic.owner_url)
    assert problems == expected
    assert lines == expected  # and nothing else: the schema check sees the lock as it was
    assert _verify(goals.clinic.workstation_url)[1] == expected


def test_the_lock_still_refuses_without_a_bypass(goals: Goals) -> None:
    import psycopg

    before = _status_rows(goals)
    for statements, _ in _changes(goals).values():
        with _owner(goals) as conn, pytest.raises(psycopg.Error, match="append-only"):
            conn.execute(statements[0])
    assert _status_rows(goals) == before
    assert _verify(goals.clinic.owner_url) == ([], [])


def test_the_cli_exits_1_naming_the_row(goals: Goals, tmp_path: Path) -> None:
    cli = shutil.which("clinic-app", path=str(Path(sys.executable).parent))
    assert cli is not None
    command = [cli, "--database", goals.clinic.owner_url, "verify"]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    clean = run()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    b = goals.ids[1]
    _attack(goals, "disable the lock", [f"UPDATE goal_status SET note = 'x' WHERE id = {b}"])
    broken = run()
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert broken.stdout.splitlines() == [f"goal_status {b} was changed outside the app"]


def _workstation_attacks(goals: Goals) -> Iterator[tuple[str, str]]:
    """(sql, the refusal) for every route above, run as the workstation role."""
    for before, _ in BYPASSES.values():
        altered = before[0].startswith(("ALTER", "DROP"))
        yield before[0], "must be owner" if altered else "permission denied"
    for statements, _ in _changes(goals).values():
        yield statements[0], "permission denied"  # it may only INSERT into goal_status


def test_the_workstation_role_can_do_none_of_it(goals: Goals) -> None:
    before = _status_rows(goals)
    attacks = list(_workstation_attacks(goals))
    assert len(attacks) == len(BYPASSES) + len(_changes(goals))
    for sql, refusal in attacks:
        assert refusal in _as_workstation(goals.clinic, sql), sql
    # replica mode cannot be reached on the same connection either
    sql = (
        f"SET session_replication_role = replica; DELETE FROM goal_status WHERE id = {goals.ids[0]}"
    )
    assert "permission denied" in _as_workstation(goals.clinic, sql)
    assert _status_rows(goals) == before
    assert _verify(goals.clinic.workstation_url) == ([], [])
