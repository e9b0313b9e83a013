"""Goals of an episode and its plan of care (issue 15): what they accept, what they refuse
(naming the problem, writing nothing), their kept history, and the database triggers that keep
plans and goal statuses append-only and goals undeletable. SQLite and PostgreSQL (``db``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from clinic_app.core.form import Form
from clinic_app.core.form_loading import load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import NotFoundError, StaleRecordError, StorageError

D0 = date(2026, 5, 4)
LSI = {
    "item": "hip_flexor_force",
    "measure": "lsi",
    "side": "opposite",
    "op": ">=",
    "threshold": 90,
}
ASLR = {"item": "aslr_difficulty", "op": "<=", "threshold": 0}


@pytest.fixture(scope="module")
def shipped() -> Form:
    return load_form(default_form_path())


def episode(db: Database, start: date = D0) -> int:
    pid = r.create_patient(db, r.PatientFields("Jon", "Smith", mrn="G-1"), user="dana").id
    return r.create_episode(
        db, pid, r.EpisodeInfo("Right posterior thigh", start_date=start), user="dana"
    ).id


def audit_count(db: Database) -> int:
    return len(r.audit_events(db, limit=100_000))


def _replace_sql(db: Database, table: str, change: str) -> str:
    if db.dialect == "sqlite":
        return f"INSERT OR REPLACE INTO {table} SELECT * FROM t"
    return f"INSERT INTO {table} SELECT * FROM t ON CONFLICT (id) DO UPDATE SET {change}"


def _refused_routes(db: Database, table: str, row_id: int, change: str, message: str) -> None:
    """UPDATE, DELETE and a replacing INSERT of ``table``'s row are refused with ``message``."""
    for sql in (
        f"UPDATE {table} SET {change} WHERE id = {row_id}",
        f"DELETE FROM {table} WHERE id = {row_id}",
        f"DELETE FROM {table}",
    ):
        with pytest.raises(sa.exc.DBAPIError, match=message), db.engine.begin() as conn:
            conn.exec_driver_sql(sql)
    with db.engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE TEMP TABLE t AS SELECT * FROM {table} WHERE id = {row_id}")
        with pytest.raises(sa.exc.DBAPIError, match=message):
            conn.exec_driver_sql(_replace_sql(db, table, change))
        conn.rollback()
    if db.dialect == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="cannot be emptied"), db.engine.begin() as c:
            c.exec_driver_sql(f"TRUNCATE {table} CASCADE")


# -- plan of care -------------------------------------------------------------------------------


def test_plan_versions_are_kept_and_the_latest_is_in_force(db: Database) -> None:
    ep = episode(db)
    assert r.current_plan(db, ep) is None
    assert r.plan_history(db, ep) == []
    first = r.save_plan(
        db,
        ep,
        r.PlanInfo(
            start_date=D0,
            visits_per_week=2,
            duration_weeks=6,
            planned_visits=12,
            interventions="Nordic progression\nRunning return\tphase 1",
        ),
        user="dana",
    )
    assert (first.visits_per_week, first.duration_weeks, first.planned_visits) == (2, 6, 12)
    assert first.interventions == "Nordic progression\nRunning return\tphase 1"
    assert (first.progress_every_visits, first.progress_every_days, first.recert_days) == (
        10,
        30,
        90,
    )
    second = r.save_plan(
        db,
        ep,
        r.PlanInfo(start_date=D0 + timedelta(85), visits_per_week=1, recert_days=60),
        user="lee",
    )
    assert [p.id for p in r.plan_history(db, ep)] == [first.id, second.id]
    assert r.current_plan(db, ep) == second
    assert r.plan_history(db, ep)[0] == first  # the first version unchanged
    events = [(e.entity, e.entity_id, e.action) for e in r.audit_events(db, entity="plan_of_care")]
    assert events == [("plan_of_care", second.id, "create"), ("plan_of_care", first.id, "create")]
    with pytest.raises(NotFoundError):
        r.save_plan(db, 99999, r.PlanInfo(), user="dana")


def test_a_plan_of_care_is_append_only_in_the_database(db: Database) -> None:
    ep = episode(db)
    plan = r.save_plan(db, ep, r.PlanInfo(start_date=D0, visits_per_week=2), user="dana")
    _refused_routes(db, "plan_of_care", plan.id, "visits_per_week = 5", "never changed")
    assert r.plan_history(db, ep) == [plan]


PLAN_REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"visits_per_week": 0}, "visits per week: 0 is outside 1-14"),
    ({"visits_per_week": 15}, "visits per week: 15 is outside 1-14"),
    ({"visits_per_week": True}, "visits per week: must be a whole number"),
    ({"visits_per_week": 2.5}, "visits per week: must be a whole number"),
    ({"visits_per_week": "2"}, "visits per week: must be a whole number"),
    ({"duration_weeks": 0}, "duration (weeks): 0 is outside 1-104"),
    ({"duration_weeks": 10**30}, "duration (weeks): 1000000000000000000000000000000 is outside"),
    ({"planned_visits": 401}, "planned visits: 401 is outside 1-400"),
    ({"planned_visits": False}, "planned visits: must be a whole number"),
    ({"progress_every_visits": 0}, "progress report every (visits): 0 is outside 1-100"),
    ({"progress_every_days": 366}, "progress report every (days): 366 is outside 1-365"),
    ({"recert_days": -1}, "recertification after (days): -1 is outside 1-365"),
    ({"interventions": "a\x00b"}, "planned interventions: contains a control character (U+0000)"),
    ({"interventions": "x" * 4001}, "planned interventions: 4001 characters (at most 4000)"),
    ({"start_date": D0 - timedelta(1)}, "plan start: 2026-05-03 is before the episode's start"),
]


@pytest.mark.parametrize(("change", "message"), PLAN_REFUSED)
def test_plan_limits_are_refused_naming_the_field(
    db: Database, change: dict[str, Any], message: str
) -> None:
    ep = episode(db)
    before = audit_count(db)
    with pytest.raises(StorageError) as err:
        r.save_plan(db, ep, r.PlanInfo(**{"start_date": D0, **change}), user="dana")
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)
    assert r.plan_history(db, ep) == []
    assert audit_count(db) == before


def test_the_database_refuses_out_of_range_plans_too(db: Database) -> None:
    ep = episode(db)
    with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO plan_of_care (episode_id, start_date, visits_per_week, interventions, "
            "progress_every_visits, progress_every_days, recert_days, created_by, created_at) "
            f"VALUES ({ep}, '2026-05-04', 15, '', 10, 30, 90, 'x', '2026-05-04 00:00:00')"
        )
    assert r.plan_history(db, ep) == []


# -- goals --------------------------------------------------------------------------------------


def test_goals_with_and_without_targets(db: Database, shipped: Form) -> None:
    ep = episode(db)
    long = r.add_goal(
        db,
        ep,
        r.GoalInfo("long", "Return to full sprinting", target_date=D0 + timedelta(84)),
        user="dana",
    )
    short = r.add_goal(
        db,
        ep,
        r.GoalInfo(
            "short",
            "Hip flexor LSI at least 90%",
            target=LSI,
            target_date=D0 + timedelta(42),
            from_factor="F1",
        ),
        user="dana",
        form=shipped,
    )
    aslr = r.add_goal(
        db,
        ep,
        r.GoalInfo("short", "ASLR without difficulty", target=ASLR),
        user="dana",
        form=shipped,
    )
    assert (short.status, short.version, short.history, short.from_factor) == (
        "not_started",
        1,
        (),
        "F1",
    )
    assert LSI.items() <= dict(short.target or {}).items()  # stored with the test's defaults
    assert ASLR.items() <= dict(aslr.target or {}).items()
    assert r.parse_target(short.target, shipped) == r.parse_target(LSI, shipped)
    assert long.target is None
    assert [g.id for g in r.list_goals(db, ep)] == [short.id, aslr.id, long.id]  # short first
    assert r.get_goal(db, short.id) == short
    assert r.parse_target(LSI, shipped) is not None
    assert r.parse_target(None, shipped) is None
    with pytest.raises(StorageError, match="target date: 2026-05-03 is before the episode"):
        r.add_goal(db, ep, r.GoalInfo("short", "x", target_date=D0 - timedelta(1)), user="d")
    assert len(r.list_goals(db, ep)) == 3
    with pytest.raises(NotFoundError):
        r.add_goal(db, 99999, r.GoalInfo("short", "x"), user="d")


GOAL_REFUSED: list[tuple[dict[str, Any], str]] = [
    (
        {"target": {"item": "no_such_item", "op": ">=", "threshold": 1}},
        "goal target.item: unknown item 'no_such_item'",
    ),
    (
        {"target": {"item": "pain_now", "side": "left", "op": "<=", "threshold": 2}},
        "goal target.side: item 'pain_now' is not bilateral",
    ),
    ({"target": {"item": "pain_now", "in": ["3"]}}, "goal target.in: item 'pain_now' is a"),
    ({"target": {"item": "aslr_difficulty", "op": "~", "threshold": 0}}, "goal target: op"),
    ({"target": "LSI >= 90"}, "goal target: expected a test"),
    ({"target": {"item": "pain_now", "op": ">=", "threshold": 1, "colour": 1}}, "goal target:"),
    ({"term": "medium"}, "goal term: must be one of short, long"),
    ({"text": "   "}, "goal: the goal needs words"),
    ({"text": "g" * 501}, "goal: 501 characters is too long (at most 500)"),
    ({"text": "walk\x00"}, "goal: contains a control character (U+0000)"),
    ({"text": "walk\nrun"}, "goal: contains a control character (U+000A)"),
    ({"from_factor": "F" * 11}, "goal factor: 11 characters is too long (at most 10)"),
]


@pytest.mark.parametrize(("change", "message"), GOAL_REFUSED)
def test_goals_the_form_or_the_fields_refuse(
    db: Database, shipped: Form, change: dict[str, Any], message: str
) -> None:
    ep = episode(db)
    kept = r.add_goal(db, ep, r.GoalInfo("short", "Sit 30 minutes"), user="dana")
    before = audit_count(db)
    info = r.GoalInfo(**{"term": "short", "text": "A goal", **change})
    for call in (
        lambda: r.add_goal(db, ep, info, user="dana", form=shipped),
        lambda: r.update_goal(db, kept.id, info, kept.version, user="dana", form=shipped),
    ):
        with pytest.raises(StorageError) as err:
            call()
        assert str(err.value).startswith(message)
        assert "\n" not in str(err.value)
    assert r.list_goals(db, ep) == [kept]
    assert audit_count(db) == before


def test_status_history_keeps_each_decision_and_the_suggestion(db: Database) -> None:
    ep = episode(db)
    goal = r.add_goal(db, ep, r.GoalInfo("short", "Sit 30 minutes"), user="dana")
    goal = r.set_goal_status(
        db, goal.id, "progressing", goal.version, user="dana", suggested="progressing"
    )
    goal = r.set_goal_status(
        db,
        goal.id,
        "progressing",
        goal.version,
        user="lee",
        suggested="met",
        note="Met once; wait for the next visit to confirm.",
    )
    goal = r.set_goal_status(db, goal.id, "met", goal.version, user="dana", suggested="met")
    assert (goal.status, goal.version) == ("met", 4)
    assert [(h.status, h.suggested, h.set_by, h.note) for h in goal.history] == [
        ("progressing", "progressing", "dana", ""),
        ("progressing", "met", "lee", "Met once; wait for the next visit to confirm."),
        ("met", "met", "dana", ""),
    ]
    assert r.get_goal(db, goal.id).history == goal.history
    assert r.list_goals(db, ep)[0].history == goal.history
    before = audit_count(db)
    with pytest.raises(StaleRecordError):
        r.set_goal_status(db, goal.id, "not_met", 2, user="lee")
    with pytest.raises(StaleRecordError):
        r.update_goal(db, goal.id, r.GoalInfo("short", "Sit 20 minutes"), 1, user="lee")
    for status, suggested, message in (
        ("done", None, "goal status: must be one of"),
        ("met", "maybe", "suggested status: must be one of"),
    ):
        with pytest.raises(StorageError, match=message):
            r.set_goal_status(
                db,
                goal.id,
                status,
                goal.version,
                user="d",  # type: ignore[arg-type]
                suggested=suggested,
            )  # type: ignore[arg-type]
    with pytest.raises(StorageError, match="status note: contains a control character"):
        r.set_goal_status(db, goal.id, "met", goal.version, user="d", note="ok\x07")
    assert r.get_goal(db, goal.id) == goal
    assert audit_count(db) == before
    events = [e.action for e in reversed(r.audit_events(db, entity="goal", entity_id=goal.id))]
    assert events == ["create", "status", "status", "status"]
    changed = r.update_goal(
        db, goal.id, r.GoalInfo("short", "Sit 45 minutes"), goal.version, user="lee"
    )
    assert (changed.text, changed.version, changed.status) == ("Sit 45 minutes", 5, "met")
    assert changed.history == goal.history
    same = r.update_goal(db, goal.id, r.GoalInfo("short", "Sit 45 minutes"), 5, user="lee")
    assert same.version == 5  # unchanged: nothing written


def test_goals_are_never_deleted_and_statuses_never_rewritten(db: Database) -> None:
    ep = episode(db)
    goal = r.add_goal(db, ep, r.GoalInfo("long", "Run 5 km"), user="dana")
    goal = r.set_goal_status(db, goal.id, "discontinued", goal.version, user="dana")
    for sql in (f"DELETE FROM goal WHERE id = {goal.id}", "DELETE FROM goal"):
        with pytest.raises(sa.exc.DBAPIError, match="never deleted"), db.engine.begin() as conn:
            conn.exec_driver_sql(sql)
    if db.dialect == "sqlite":  # REPLACE deletes the old row first: refused as a deletion
        with db.engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE TEMP TABLE t AS SELECT * FROM goal WHERE id = {goal.id}")
            with pytest.raises(sa.exc.DBAPIError, match="never deleted"):
                conn.exec_driver_sql("INSERT OR REPLACE INTO goal SELECT * FROM t")
            conn.rollback()
    else:
        with pytest.raises(sa.exc.DBAPIError, match="cannot be emptied"), db.engine.begin() as c:
            c.exec_driver_sql("TRUNCATE goal CASCADE")
    status_id = goal.history[0].id
    _refused_routes(db, "goal_status", status_id, "status = 'met'", "append-only")
    assert r.get_goal(db, goal.id) == goal
    assert r.verify_database(db) == []


@pytest.mark.parametrize("threshold", [float("nan"), float("inf"), float("-inf")])
def test_a_target_that_is_no_number_is_refused_and_nothing_stored(
    db: Database, shipped: Form, threshold: float
) -> None:
    """A NaN threshold used to be stored as null, which reads back as the form's default
    threshold: the goal then said something the clinician never set."""
    ep = episode(db)
    before = audit_count(db)
    target = {**ASLR, "threshold": threshold}
    with pytest.raises(StorageError, match="goal target: threshold: .*finite number"):
        r.add_goal(db, ep, r.GoalInfo("short", "ASLR", target=target), user="dana", form=shipped)
    assert r.list_goals(db, ep) == []
    assert audit_count(db) == before


def test_an_episode_at_the_end_of_the_calendar_has_its_due_dates(db: Database) -> None:
    """Dates the date fields take, up to 9999-12-31: the referral check, the plan's
    recertification and the next progress report raised OverflowError (a traceback in the
    window, the progress report and the discharge summary); they now stop at the last date."""
    last = date.max
    pid = r.create_patient(db, r.PatientFields("Jon", "Late", mrn="G-9"), user="dana").id
    start = last - timedelta(days=5)
    info = r.EpisodeInfo("Right posterior thigh", start_date=start, referral_date=last)
    ep = r.create_episode(db, pid, info, user="dana").id
    r.save_plan(db, ep, r.PlanInfo(start_date=start, visits_per_week=2), user="dana")
    due = r.care_due(db, ep, today=last)
    assert due.progress_due_on == last
    assert due.recert_due_on == last
    assert r.access_log(db, until=last) is not None
