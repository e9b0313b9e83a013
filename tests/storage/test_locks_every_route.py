"""Every sealed or append-only table against every SQL route, as an outside tester would try them.

The clinic file is made by the app once per module (signed evaluation with a home program, its
addendum, a signed visit note, an episode with a plan of care, a goal and its status history);
each case then opens a copy with a plain ``sqlite3`` connection (another tool: SQLite's defaults,
foreign keys off), with ``recursive_triggers`` off and on, tries one route and reads every
locked table back: the stored rows must be exactly as they were, whatever error was or was not
raised. Routes: UPDATE of each column (the primary key too), DELETE, INSERT OR REPLACE and
REPLACE INTO over the id and over any other unique key, INSERT ... ON CONFLICT DO UPDATE,
deleting or renumbering the parent row, moving an episode to another patient, a row inserted
already signed. Dropping a lock cannot be refused by SQLite: ``verify`` must name it, and
episode-of-care rows changed behind a lock dropped and re-created must disagree with their audit
events. The same routes run on the real PostgreSQL server where the test infrastructure has one.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from clinic_app.cli import main
from clinic_app.core.form import load_form
from clinic_app.core.library import shipped_library
from clinic_app.core.program import parse_program, with_snapshots
from clinic_app.paths import default_form_path
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "program_isometrics.json"

# Tables whose every row is permanent (or, for evaluation, every signed row).
APPEND_ONLY = (
    "addendum",
    "audit_event",
    "form_snapshot",
    "plan_of_care",
    "goal_status",
    "library_picture",
)
# Every table whose rows a route below must leave exactly as they were.
WATCHED = ("evaluation", *APPEND_ONLY, "goal", "episode", "patient")
# The other unique key of a table (an INSERT OR REPLACE hitting it deletes the old row).
NATURAL_KEYS = {
    "form_snapshot": ("form_id", "version", "content_hash"),
    "library_picture": ("sha256",),
}


@dataclass(frozen=True)
class Clinic:
    path: Path
    data: Path
    ids: dict[str, int]  # "evaluation", "visit", "addendum", ... -> one locked row's id


def _build(folder: Path) -> Clinic:
    form = load_form(default_form_path())
    path = folder / "clinic.db"
    db = open_database(f"sqlite:///{path}")
    try:
        r.save_clinic(db, r.ClinicInfo(name="Lock Clinic", address="1 Road"), user="admin")
        doc = r.save_clinician(
            db, r.ClinicianInfo("Dr Alice Doe", "PT, DPT", "LIC-1"), user="admin"
        )
        lib = shipped_library(form)
        program = with_snapshots(parse_program(json.loads(EXAMPLE.read_text())), lib).plain()
        pid = r.create_patient(db, r.PatientFields("Ann", "Lock", mrn="LK-1"), user="a").id
        other = r.create_patient(db, r.PatientFields("Bo", "Other", mrn="LK-2"), user="a").id
        r.create_episode(db, other, r.EpisodeInfo("Left posterior thigh"), user="a")
        ev = r.start_evaluation(db, pid, form, user="alice", clinician_id=doc.id)
        values = {"involved_side": "left", "pain_now": 4, "home_program": program}
        saved = r.save_draft(db, ev.id, {"values": values}, ev.version, user="alice")
        r.sign_evaluation(db, ev.id, saved.version, user="Dr Alice Doe")
        ep = r.get_evaluation(db, ev.id).episode_id
        addendum = r.add_addendum(db, ev.id, "Called: pain eased.", user="alice")
        visit = r.start_evaluation(db, pid, form, user="alice", kind="visit", episode_id=ep)
        saved = r.save_draft(
            db, visit.id, {"values": {"home_program": program}}, visit.version, user="alice"
        )
        r.sign_evaluation(db, visit.id, saved.version, user="Dr Alice Doe")
        plan = r.save_plan(db, ep, r.PlanInfo(visits_per_week=2, interventions="Load"), user="a")
        goal = r.add_goal(db, ep, r.GoalInfo("short", "Run 5 km without pain"), user="alice")
        r.set_goal_status(db, goal.id, "progressing", goal.version, user="alice")
        assert r.verify_database(db) == []
    finally:
        db.close()
    conn = sqlite3.connect(path)
    try:

        def first(table: str, where: str = "1") -> int:
            (value,) = conn.execute(f"SELECT min(id) FROM {table} WHERE {where}").fetchone()
            assert value is not None, table
            return int(value)

        ids = {
            "evaluation": ev.id,
            "visit": visit.id,
            "addendum": addendum.id,
            "audit_event": first("audit_event"),
            "form_snapshot": first("form_snapshot"),
            "plan_of_care": plan.id,
            "goal_status": first("goal_status"),
            "library_picture": first("library_picture"),
            "goal": goal.id,
            "episode": ep,
            "patient": pid,
        }
    finally:
        conn.close()
    return Clinic(path, folder / "data", ids)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Clinic:
    folder = tmp_path_factory.mktemp("locks")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLINIC_APP_DATA_DIR", str(folder / "data"))
        return _build(folder)


def stored(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in WATCHED}


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")]


def _changed(column: str) -> str:
    """A value of ``column`` that differs from the stored one, whatever its type."""
    return (
        f"CASE WHEN {column} IS NULL THEN '1' WHEN typeof({column}) IN ('integer', 'real') "
        f"THEN {column} + 1000 ELSE {column} || 'x' END"
    )


# ---------------------------------------------------------------------------- the routes (SQLite)

TARGETS = ("evaluation", "visit", *APPEND_ONLY)


def _table(target: str) -> str:
    return "evaluation" if target == "visit" else target


def _routes(conn: sqlite3.Connection, target: str, row: int) -> dict[str, list[str]]:
    """route name -> statements, for one locked row of ``target``."""
    table = _table(target)
    names = columns(conn, table)
    other = [c for c in names if c != "id"][0] if table != "evaluation" else "findings"
    copy = f"CREATE TEMP TABLE t AS SELECT * FROM {table} WHERE id = {row}"
    routes: dict[str, list[str]] = {
        f"update {c}": [f"UPDATE {table} SET {c} = {_changed(c)} WHERE id = {row}"] for c in names
    }
    routes["delete"] = [f"DELETE FROM {table} WHERE id = {row}"]
    for verb in ("INSERT OR REPLACE", "REPLACE"):
        routes[f"{verb.lower()} over the id"] = [
            copy,
            f"UPDATE t SET {other} = {_changed(other)}",
            f"{verb} INTO {table} SELECT * FROM t",
        ]
    routes["upsert over the id"] = [
        copy,
        f"INSERT INTO {table} SELECT * FROM t WHERE true "
        f"ON CONFLICT (id) DO UPDATE SET {other} = {_changed(other)}",
    ]
    if table in NATURAL_KEYS:
        key = NATURAL_KEYS[table]
        routes["insert or replace over the natural key"] = [
            copy,
            "UPDATE t SET id = 90000",
            f"INSERT OR REPLACE INTO {table} SELECT * FROM t",
        ]
        # delete the old row by the natural key, then put a changed one back under its id
        free = [c for c in names if c not in (*key, "id")][0]
        routes["replace by natural key, then re-insert the id"] = [
            copy,
            "UPDATE t SET id = 90000",
            f"INSERT OR REPLACE INTO {table} SELECT * FROM t",
            f"UPDATE t SET id = {row}, {key[-1]} = {_changed(key[-1])}, {free} = {_changed(free)}",
            f"INSERT INTO {table} SELECT * FROM t",
        ]
        routes["upsert over the natural key"] = [
            copy,
            "UPDATE t SET id = 90000",
            f"INSERT INTO {table} SELECT * FROM t WHERE true ON CONFLICT ({', '.join(key)}) "
            f"DO UPDATE SET {free} = {_changed(free)}",
        ]
    if table == "evaluation":
        routes["back to draft"] = [f"UPDATE evaluation SET status = 'draft' WHERE id = {row}"]
        routes["back to draft without seal"] = [
            f"UPDATE evaluation SET status = 'draft', seal = NULL, signature = NULL "
            f"WHERE id = {row}"
        ]
        routes["insert a copy already signed"] = [
            copy,
            "UPDATE t SET id = 90000",
            "INSERT INTO evaluation SELECT * FROM t",
        ]
        routes["delete then re-insert changed"] = [
            copy,
            f"DELETE FROM evaluation WHERE id = {row}",
            "UPDATE t SET findings = '{}', status = 'draft'",
            "INSERT INTO evaluation SELECT * FROM t",
        ]
    return routes


PARENTS = {  # child table -> (parent table, the child's column naming it)
    "evaluation": [("episode", "episode_id"), ("patient", "patient_id")],
    "addendum": [("evaluation", "evaluation_id")],
    "plan_of_care": [("episode", "episode_id")],
    "goal_status": [("goal", "goal_id")],
    "goal": [("episode", "episode_id")],
    "episode": [("patient", "patient_id")],
}


def _parent_routes(conn: sqlite3.Connection, table: str, row: int) -> dict[str, list[str]]:
    """Routes that remove or renumber the row's parent, or move a goal or an episode."""
    routes: dict[str, list[str]] = {}
    for parent, column in PARENTS.get(table, []):
        (pid,) = conn.execute(f"SELECT {column} FROM {table} WHERE id = {row}").fetchone()
        routes[f"delete the parent {parent}"] = [f"DELETE FROM {parent} WHERE id = {pid}"]
        routes[f"renumber the parent {parent}"] = [
            f"UPDATE {parent} SET id = 90000 WHERE id = {pid}"
        ]
        copy = f"CREATE TEMP TABLE p AS SELECT * FROM {parent} WHERE id = {pid}"
        routes[f"replace the parent {parent}"] = [
            copy,
            f"INSERT OR REPLACE INTO {parent} SELECT * FROM p",
        ]
    return routes


def _case_ids() -> list[tuple[str, str]]:
    """(target, route) of every case, from a scratch clinic-shaped schema: the ids are known
    before the module's clinic exists, so each case is its own test."""
    cases: list[tuple[str, str]] = []
    schema = _schema_only()
    for target in TARGETS:
        for route in _routes(schema, target, 1):
            cases.append((target, route))
        for route in _parent_routes_names(_table(target)):
            cases.append((target, route))
    for target in ("goal", "episode", "patient"):
        for route in _parent_routes_names(target):
            cases.append((target, route))
    cases += [
        ("goal", "delete"),
        ("goal", "insert or replace over the id"),
        ("goal", "renumber"),
        ("goal", "move to another episode"),
        ("episode", "delete"),
        ("episode", "renumber"),
        ("episode", "move to another patient"),
        ("episode", "replace under another patient"),
        ("patient", "delete"),
        ("patient", "renumber"),
    ]
    return cases


def _parent_routes_names(table: str) -> list[str]:
    names: list[str] = []
    for parent, _column in PARENTS.get(table, []):
        names += [f"delete the parent {parent}", f"renumber the parent {parent}"]
        names.append(f"replace the parent {parent}")
    return names


_SCHEMA: list[sqlite3.Connection] = []


def _schema_only() -> sqlite3.Connection:
    """An in-memory database with the head schema (no rows) to list columns from."""
    if not _SCHEMA:
        import tempfile

        from sqlalchemy import create_engine

        from clinic_app.storage import migrate

        folder = Path(tempfile.mkdtemp(prefix="clinic_locks_schema_"))
        engine = create_engine(f"sqlite:///{folder / 's.db'}")
        try:
            migrate.upgrade(engine, migrate.HEAD)
        finally:
            engine.dispose()
        conn = sqlite3.connect(":memory:")
        sqlite3.connect(folder / "s.db").backup(conn)
        shutil.rmtree(folder, ignore_errors=True)
        _SCHEMA.append(conn)
    return _SCHEMA[0]


def _own_routes(conn: sqlite3.Connection, target: str, row: int) -> dict[str, list[str]]:
    """Routes of goals, episodes and patients: rows that may be edited but not removed,
    renumbered or moved while records hang on them."""
    table = target
    copy = f"CREATE TEMP TABLE t AS SELECT * FROM {table} WHERE id = {row}"
    routes = {
        "delete": [f"DELETE FROM {table} WHERE id = {row}"],
        "renumber": [f"UPDATE {table} SET id = 90000 WHERE id = {row}"],
        "insert or replace over the id": [copy, f"INSERT OR REPLACE INTO {table} SELECT * FROM t"],
    }
    if table == "goal":
        (other,) = conn.execute(
            "SELECT id FROM episode WHERE id <> (SELECT episode_id FROM goal WHERE id = ?)",
            (row,),
        ).fetchone()
        routes["move to another episode"] = [
            f"UPDATE goal SET episode_id = {other} WHERE id = {row}"
        ]
    if table == "episode":
        (other,) = conn.execute(
            "SELECT id FROM patient WHERE id <> (SELECT patient_id FROM episode WHERE id = ?)",
            (row,),
        ).fetchone()
        routes["move to another patient"] = [
            f"UPDATE episode SET patient_id = {other} WHERE id = {row}"
        ]
        routes["replace under another patient"] = [
            copy,
            f"UPDATE t SET patient_id = {other}",
            "INSERT OR REPLACE INTO episode SELECT * FROM t",
        ]
    return routes


CASES = _case_ids()


@pytest.fixture(params=[0, 1], ids=["recursive_triggers off", "recursive_triggers on"])
def recursive(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def attacker(
    template: Clinic, tmp_path: Path, recursive: int
) -> Iterator[tuple[sqlite3.Connection, Clinic]]:
    path = tmp_path / "clinic.db"
    shutil.copy(template.path, path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA recursive_triggers = {recursive}")
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (0,)
    try:
        yield conn, template
    finally:
        conn.close()


def _statements(conn: sqlite3.Connection, clinic: Clinic, target: str, route: str) -> list[str]:
    row = clinic.ids[target]
    table = _table(target)
    if target in ("goal", "episode", "patient"):
        own = _own_routes(conn, target, row)
        if route in own:
            return own[route]
    if target in TARGETS:
        routes = _routes(conn, target, row)
        if route in routes:
            return routes[route]
    return _parent_routes(conn, table, row)[route]


def _attempt(conn: sqlite3.Connection, statements: list[str]) -> str | None:
    """Run the statements in one transaction as an attacker would; the first refusal, if any."""
    conn.execute("BEGIN")
    try:
        for sql in statements:
            conn.execute(sql)
    except sqlite3.DatabaseError as error:
        conn.execute("ROLLBACK")
        return str(error)
    conn.execute("COMMIT")
    return None


@pytest.mark.parametrize(("target", "route"), CASES, ids=[f"{t}: {r}" for t, r in CASES])
def test_every_route_leaves_the_locked_rows_as_they_were(
    attacker: tuple[sqlite3.Connection, Clinic], target: str, route: str
) -> None:
    conn, clinic = attacker
    statements = _statements(conn, clinic, target, route)
    before = stored(conn)
    refusal = _attempt(conn, statements)
    conn.execute("DROP TABLE IF EXISTS temp.t")
    conn.execute("DROP TABLE IF EXISTS temp.p")
    after = stored(conn)
    changed = [t for t in WATCHED if before[t] != after[t]]
    assert changed == [], f"{route} on {target} changed {changed} (refusal: {refusal})"


def test_the_cases_reach_every_lock_trigger_table(template: Clinic) -> None:
    """No table with a lock trigger is left out of the cases (a new locked table must be added)."""
    conn = sqlite3.connect(template.path)
    try:
        locked = {
            str(table)
            for (table,) in conn.execute(
                "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger'"
            )
        }
    finally:
        conn.close()
    # library_exercise and program_template are covered by test_programs (no rows here); the
    # delete locks of clinic, clinician and setting (0010) by test_truncate_locks
    covered = {"library_exercise", "program_template", "clinic", "clinician", "setting"}
    assert locked - covered <= set(WATCHED)


# ------------------------------------------------------------------- dropped locks: verify says so


def _lock_triggers(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [
            str(name)
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
            )
        ]
    finally:
        conn.close()


def test_every_dropped_trigger_is_reported_by_verify(
    template: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(template.data))
    names = _lock_triggers(template.path)
    assert len(names) > 20
    for name in names:
        path = tmp_path / f"{name}.db"
        shutil.copy(template.path, path)
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute(f"DROP TRIGGER {name}")
        conn.close()
        db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
        try:
            lines = [b.line() for b in r.verify_database(db)]
        finally:
            db.close()
        assert any(name in line and "missing" in line for line in lines), (name, lines)


def test_cli_verify_fails_on_a_dropped_plan_lock_and_a_changed_plan(
    template: Clinic,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(template.data))
    path = tmp_path / "clinic.db"
    shutil.copy(template.path, path)
    monkeypatch.setenv("CLINIC_APP_DATABASE_URL", f"sqlite:///{path}")
    assert main(["verify"]) == 0
    capsys.readouterr()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER plan_of_care_no_update")
    conn.execute("UPDATE plan_of_care SET visits_per_week = 7")
    conn.close()
    assert main(["verify"]) == 1
    assert "plan_of_care_no_update" in capsys.readouterr().out


BEHIND_A_RESTORED_LOCK = {
    "plan changed": (
        "plan_of_care_no_update",
        ["UPDATE plan_of_care SET visits_per_week = 7"],
        "plan_of_care 1 was changed outside the app",
    ),
    "plan forged": (
        None,  # appending is what the table allows: the audit trail must vouch for each row
        [
            "INSERT INTO plan_of_care SELECT 2, episode_id, start_date, 5, duration_weeks, "
            "planned_visits, 'Rest', progress_every_visits, progress_every_days, recert_days, "
            "created_by, created_at FROM plan_of_care WHERE id = 1"
        ],
        "plan_of_care 2 is not in the audit trail",
    ),
    "goal status removed": (
        "goal_status_no_delete",
        ["DELETE FROM goal_status"],
        "goal 1: 0 statuses kept, the audit trail records 1",
    ),
    "goal status forged": (
        None,
        [
            "INSERT INTO goal_status (goal_id, status, suggested, note, set_by, set_at) "
            "SELECT goal_id, 'met', NULL, '', set_by, set_at FROM goal_status"
        ],
        "goal 1: 2 statuses kept, the audit trail records 1",
    ),
    "goal met without a status": (
        None,
        ["UPDATE goal SET status = 'met'"],
        "goal 1 was changed outside the app",
    ),
    "episode retitled": (
        None,
        ["UPDATE episode SET title = 'Low back' WHERE id = 1"],
        "episode 1 was changed outside the app",
    ),
}


@pytest.mark.parametrize("attack", sorted(BEHIND_A_RESTORED_LOCK))
def test_episode_rows_changed_behind_a_restored_lock_are_reported(
    template: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attack: str
) -> None:
    """Episode-of-care rows have no seal: what their audit events recorded is compared."""
    trigger, statements, problem = BEHIND_A_RESTORED_LOCK[attack]
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(template.data))
    path = tmp_path / "clinic.db"
    shutil.copy(template.path, path)
    conn = sqlite3.connect(path, isolation_level=None)
    sql = None
    if trigger is not None:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (trigger,)).fetchone()
        conn.execute(f"DROP TRIGGER {trigger}")
    for statement in statements:
        conn.execute(statement)
    if sql is not None:
        conn.execute(sql)
    conn.close()
    db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
    try:
        lines = [b.line() for b in r.verify_database(db)]
    finally:
        db.close()
    assert problem in lines
    assert not any(line.startswith("schema") for line in lines)  # the lock looks untouched


# ---------------------------------------------------------------------------------- PostgreSQL


def _pg_clinic(db: Database) -> dict[str, int]:
    form = load_form(default_form_path())
    doc = r.save_clinician(db, r.ClinicianInfo("Dr Alice Doe", "PT, DPT", "LIC-1"), user="admin")
    pid = r.create_patient(db, r.PatientFields("Ann", "Lock", mrn="LK-1"), user="a").id
    other = r.create_patient(db, r.PatientFields("Bo", "Other", mrn="LK-2"), user="a").id
    ev = r.start_evaluation(db, pid, form, user="alice", clinician_id=doc.id)
    saved = r.save_draft(db, ev.id, {"values": {"pain_now": 4}}, ev.version, user="alice")
    r.sign_evaluation(db, ev.id, saved.version, user="Dr Alice Doe")
    ep = r.get_evaluation(db, ev.id).episode_id
    other_ep = r.create_episode(db, other, r.EpisodeInfo("Left posterior thigh"), user="a").id
    addendum = r.add_addendum(db, ev.id, "Called.", user="alice")
    plan = r.save_plan(db, ep, r.PlanInfo(visits_per_week=2), user="a")
    goal = r.add_goal(db, ep, r.GoalInfo("short", "Run 5 km"), user="alice")
    r.set_goal_status(db, goal.id, "progressing", goal.version, user="alice")
    return {
        "evaluation": ev.id,
        "addendum": addendum.id,
        "plan_of_care": plan.id,
        "goal": goal.id,
        "episode": ep,
        "patient": pid,
        "other_patient": other,
        "other_episode": other_ep,
    }


def _pg_routes(ids: dict[str, int]) -> dict[str, str]:
    e, a, p, g = ids["evaluation"], ids["addendum"], ids["plan_of_care"], ids["goal"]
    ep, pat = ids["episode"], ids["patient"]
    routes = {
        "evaluation: update findings": f"UPDATE evaluation SET findings = '{{}}' WHERE id = {e}",
        "evaluation: back to draft": f"UPDATE evaluation SET status = 'draft' WHERE id = {e}",
        "evaluation: renumber": f"UPDATE evaluation SET id = 90000 WHERE id = {e}",
        "evaluation: delete": f"DELETE FROM evaluation WHERE id = {e}",
        "evaluation: upsert": f"INSERT INTO evaluation SELECT * FROM evaluation WHERE id = {e} "
        "ON CONFLICT (id) DO UPDATE SET findings = '{}'::jsonb, status = 'draft'",
        "form_snapshot: upsert over the natural key": "INSERT INTO form_snapshot "
        "SELECT 90000, form_id, version, content, content_hash, created_at FROM form_snapshot "
        "ON CONFLICT (form_id, version, content_hash) DO UPDATE SET content = '{}'::jsonb",
        "addendum: update text": f"UPDATE addendum SET text = 'x' WHERE id = {a}",
        "addendum: upsert": f"INSERT INTO addendum SELECT * FROM addendum WHERE id = {a} "
        "ON CONFLICT (id) DO UPDATE SET text = 'x'",
        "audit_event: upsert": "INSERT INTO audit_event SELECT * FROM audit_event "
        "ON CONFLICT (id) DO UPDATE SET actor = 'x'",
        "plan_of_care: renumber": f"UPDATE plan_of_care SET id = 90000 WHERE id = {p}",
        "plan_of_care: upsert": f"INSERT INTO plan_of_care SELECT * FROM plan_of_care "
        f"WHERE id = {p} ON CONFLICT (id) DO UPDATE SET visits_per_week = 5",
        "goal_status: upsert": "INSERT INTO goal_status SELECT * FROM goal_status "
        "ON CONFLICT (id) DO UPDATE SET status = 'met'",
        "goal: delete": f"DELETE FROM goal WHERE id = {g}",
        "goal: renumber": f"UPDATE goal SET id = 90000 WHERE id = {g}",
        "goal: move to another episode": f"UPDATE goal SET episode_id = {ids['other_episode']} "
        f"WHERE id = {g}",
        "episode: delete": f"DELETE FROM episode WHERE id = {ep}",
        "episode: renumber": f"UPDATE episode SET id = 90000 WHERE id = {ep}",
        "episode: move to another patient": f"UPDATE episode SET patient_id = "
        f"{ids['other_patient']} WHERE id = {ep}",
        "patient: delete": f"DELETE FROM patient WHERE id = {pat}",
        "patient: renumber": f"UPDATE patient SET id = 90000 WHERE id = {pat}",
    }
    routes["evaluation: insert a copy already signed"] = (
        "INSERT INTO evaluation SELECT * FROM json_populate_record(NULL::evaluation, "
        f"(SELECT to_json(e) FROM evaluation e WHERE id = {e})::json || '{{\"id\": 90000}}')"
    )
    for table in ("evaluation", *APPEND_ONLY, "goal"):
        routes[f"{table}: truncate"] = f"TRUNCATE {table} CASCADE"
    return routes


PG_IDS = ("evaluation", "addendum", "plan_of_care", "goal", "episode", "patient")
PG_ROUTE_NAMES = sorted(_pg_routes(dict.fromkeys((*PG_IDS, "other_patient", "other_episode"), 1)))


@pytest.mark.postgres
@pytest.mark.parametrize("route", PG_ROUTE_NAMES)
def test_every_route_on_postgresql_leaves_the_rows(postgres_migrated_url: str, route: str) -> None:
    import psycopg

    db = open_database(postgres_migrated_url)
    try:
        ids = _pg_clinic(db)
    finally:
        db.close()
    sql = _pg_routes(ids)[route]
    with psycopg.connect(postgres_migrated_url.replace("+psycopg", ""), autocommit=True) as conn:

        def rows() -> dict[str, list[tuple[Any, ...]]]:
            return {
                t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()  # type: ignore[arg-type]
                for t in WATCHED
            }

        before = rows()
        refusal = None
        try:
            conn.execute(sql)  # type: ignore[arg-type]
        except psycopg.Error as error:
            refusal = str(error)
        after = rows()
    changed = [t for t in WATCHED if before[t] != after[t]]
    assert changed == [], f"{route} changed {changed} (refusal: {refusal})"


# ------------------------------------------------------------------------- migration 0008 itself


def _migrate(db: Database, target: str, *, down: bool) -> None:
    from alembic import command

    from clinic_app.storage import migrate

    with db.engine.connect() as conn:
        step = command.downgrade if down else command.upgrade
        step(migrate.alembic_config(conn), target)
        conn.commit()


def _pg_triggers(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return {
            str(name)
            for (name,) in conn.exec_driver_sql(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
            )
        }


def test_0008_downgrades_to_0007_exactly_and_upgrades_again(db: Database, tmp_path: Path) -> None:
    from clinic_app.storage import schema

    ids = _pg_clinic(db)
    kept = {"episode_kept_no_move", "goal_kept_no_move"}

    def same_as(revision: str) -> None:
        if db.dialect == "sqlite":
            assert db.path is not None
            conn = sqlite3.connect(db.path)
            try:
                assert schema.difference(conn, revision) is None
            finally:
                conn.close()
        else:
            assert (kept <= _pg_triggers(db)) == (revision == "0008")

    _migrate(db, "0008", down=True)  # from head: 0010 adds SQLite triggers
    same_as("0008")
    _migrate(db, "0007", down=True)
    assert db.schema_revision() == "0007"
    same_as("0007")
    with db.engine.begin() as conn:  # 0007 let a goal move; 0008 refuses it
        conn.exec_driver_sql(
            f"UPDATE goal SET episode_id = {ids['other_episode']} WHERE id = {ids['goal']}"
        )
        conn.exec_driver_sql(
            f"UPDATE goal SET episode_id = {ids['episode']} WHERE id = {ids['goal']}"
        )
    _migrate(db, "0008", down=False)
    assert db.schema_revision() == "0008"
    same_as("0008")
    move = f"UPDATE goal SET episode_id = {ids['other_episode']} WHERE id = {ids['goal']}"
    with (
        pytest.raises(sa.exc.DBAPIError, match="its number and its episode"),
        db.engine.begin() as c,
    ):
        c.exec_driver_sql(move)
    from clinic_app.storage import migrate

    _migrate(db, migrate.HEAD, down=False)  # verify checks a database at head
    assert r.verify_database(db) == []


def test_the_app_still_edits_episodes_goals_and_patients(db: Database) -> None:
    """The new rules refuse moves, not the edits the app makes."""
    ids = _pg_clinic(db)
    form = load_form(default_form_path())
    episode = r.get_episode(db, ids["episode"])
    r.update_episode(
        db, episode.id, r.EpisodeInfo("Renamed posterior thigh"), episode.version, user="a"
    )
    assert r.get_episode(db, ids["episode"]).title == "Renamed posterior thigh"
    goal = r.add_goal(db, ids["episode"], r.GoalInfo("long", "Race again"), user="a")
    r.set_goal_status(db, goal.id, "met", goal.version, user="a")
    patient = r.create_patient(db, r.PatientFields("Cy", "New", mrn="LK-3"), user="a")
    r.start_evaluation(db, patient.id, form, user="a")
    from clinic_app.storage.errors import StorageError

    with pytest.raises(StorageError):
        r.create_patient(db, r.PatientFields("Di", "Dup", mrn="LK-1"), user="a")
    assert r.verify_database(db) == []


def test_episodes_made_in_bulk_or_by_the_upgrade_are_not_reported(sqlite_db: Database) -> None:
    """Synthetic episodes (and the 0006 upgrade's) have no audit event of their own."""
    from clinic_app.storage.synthetic import generate

    generate(sqlite_db, patients=3, evaluations_per_patient=1)
    assert r.verify_database(sqlite_db) == []
