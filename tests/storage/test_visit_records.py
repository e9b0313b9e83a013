"""Visit notes (issue 15) are evaluation rows of kind "visit": the same drafts, conflicts,
signature, seal, addenda and database locks, and the interventions table of the shipped form.
SQLite and PostgreSQL (``db``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from clinic_app.core.findings import FindingsError
from clinic_app.core.form import Form
from clinic_app.core.form_loading import load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import ConflictError, EvaluationSignedError, StorageError

D0 = date(2026, 4, 6)
LOCKED = "signed"

ROWS = [
    {"kind": "exercise", "name": "Nordic hamstring curl", "sets": 3, "reps": 6, "load": "body"},
    {"kind": "manual", "name": "Soft tissue, posterior thigh", "minutes": 10},
    {"kind": "education", "name": "Load management: sprint return"},
    {"kind": "exercise", "name": "Bridge, single leg", "sets": 20, "reps": 200, "minutes": 180},
]


@pytest.fixture(scope="module")
def shipped() -> Form:
    return load_form(default_form_path())


def episode_with_initial(db: Database, form: Form) -> tuple[int, int]:
    """A patient with a signed initial evaluation (left side): (patient id, episode id)."""
    pid = r.create_patient(db, r.PatientFields("Anna", "Müller", mrn="V-1"), user="dana").id
    ev = r.start_evaluation(db, pid, form, user="dana", eval_date=D0)
    saved = r.save_draft(db, ev.id, {"values": {"involved_side": "left"}}, ev.version, user="dana")
    r.sign_evaluation(db, ev.id, saved.version, user="dana")
    return pid, ev.episode_id or 0


def visit(db: Database, form: Form, days: int = 2) -> tuple[int, r.Evaluation]:
    pid, ep = episode_with_initial(db, form)
    made = r.start_evaluation(
        db, pid, form, user="dana", kind="visit", eval_date=D0 + timedelta(days), episode_id=ep
    )
    return pid, made


def test_a_visit_note_is_drafted_saved_signed_sealed_and_amended(
    db: Database, shipped: Form
) -> None:
    pid, v = visit(db, shipped)
    assert (v.kind, v.status, v.version) == ("visit", "draft", 1)
    assert v.findings["values"] == {}  # a visit starts empty: nothing carried forward
    assert v.carried_forward == ()
    assert v.involved_side == "left"  # the episode's side
    values: dict[str, Any] = {
        "pain_now": 3,
        "interventions": ROWS,
        "visit_impression": "Tolerated the dose; less pain on sitting.",
        "next_visit_plan": "Progress the Nordic to 3 x 8.",
    }
    saved = r.save_draft(db, v.id, {"values": values}, v.version, user="dana")
    assert saved.changed
    assert saved.version == 2
    assert set(saved.changed_items) == set(values)
    again = r.save_draft(db, v.id, {"values": values}, 1, user="lee")  # identical: no write
    assert (again.changed, again.version) == (False, 2)
    stored = r.get_evaluation(db, v.id)
    assert stored.findings["values"]["interventions"] == ROWS
    assert stored.involved_side == "left"
    assert r.verify_evaluation(db, v.id)
    # A second editor still on version 1 gets a conflict with the stored findings.
    with pytest.raises(ConflictError) as conflict:
        r.save_draft(db, v.id, {"values": {"pain_now": 8}}, 1, user="lee")
    assert conflict.value.their_findings["values"]["pain_now"] == 3
    assert conflict.value.current_version == 2
    assert r.get_evaluation(db, v.id).version == 2
    signed = r.sign_evaluation(db, v.id, 2, user="dana")
    assert signed.version == 3
    stored = r.get_evaluation(db, v.id)
    assert (stored.status, stored.signed_by) == ("signed", "dana")
    assert stored.seal is not None
    assert stored.seal["signed_with"] == "installation key"
    assert r.verify_evaluation(db, v.id)
    assert r.seal_problems(db, v.id) == []
    with pytest.raises(EvaluationSignedError):
        r.save_draft(db, v.id, {"values": {"pain_now": 1}}, 3, user="dana")
    r.add_addendum(db, v.id, "Phoned: no soreness the next day.", user="dana")
    assert [a.text for a in r.get_evaluation(db, v.id).addenda] == [
        "Phoned: no soreness the next day."
    ]
    assert r.verify_database(db) == []
    actions = [e.action for e in reversed(r.audit_events(db, entity="evaluation", entity_id=v.id))]
    assert actions == ["create", "save_draft", "sign", "addendum"]
    assert [e.kind for e in r.list_evaluations(db, pid, kinds=["visit"])] == ["visit"]
    assert [e.kind for e in r.list_evaluations(db, pid, kinds=["initial"])] == ["initial"]


def test_visit_and_evaluation_kinds_never_turn_into_each_other(db: Database, form: Form) -> None:
    pid, v = visit(db, form)
    for kind in ("initial", "re_evaluation", "discharge"):
        with pytest.raises(StorageError, match="cannot turn into each other") as err:
            r.save_draft(db, v.id, {"values": {"pain_now": 2}}, v.version, user="d", kind=kind)
        assert "\n" not in str(err.value)
    assert r.get_evaluation(db, v.id).kind == "visit"
    assert r.get_evaluation(db, v.id).version == 1
    re = r.start_evaluation(
        db, pid, form, user="d", kind="re_evaluation", eval_date=D0 + timedelta(5)
    )
    with pytest.raises(StorageError, match="cannot turn into each other"):
        r.save_draft(db, re.id, {"values": {"pain_now": 2}}, re.version, user="d", kind="visit")
    # Between evaluation kinds a draft may still change (a re-evaluation becomes the discharge).
    moved = r.save_draft(db, re.id, re.findings, re.version, user="d", kind="discharge")
    assert moved.changed
    assert r.get_evaluation(db, re.id).kind == "discharge"
    with pytest.raises(StorageError, match="kind must be one of"):
        r.start_evaluation(db, pid, form, user="d", kind="phone_call")  # type: ignore[arg-type]


def _refused(db: Database, sql: str) -> None:
    with pytest.raises(sa.exc.DBAPIError, match=LOCKED), db.engine.begin() as conn:
        conn.exec_driver_sql(sql)


def test_a_signed_visit_is_locked_by_every_sql_route(db: Database, form: Form) -> None:
    _pid, v = visit(db, form)
    saved = r.save_draft(db, v.id, {"values": {"pain_now": 4}}, v.version, user="dana")
    r.sign_evaluation(db, v.id, saved.version, user="dana")
    r.add_addendum(db, v.id, "first note", user="dana")
    before = r.get_evaluation(db, v.id)
    for sql in (
        f"UPDATE evaluation SET findings = '{{}}' WHERE id = {v.id}",
        f"UPDATE evaluation SET kind = 'initial' WHERE id = {v.id}",
        f"UPDATE evaluation SET status = 'draft' WHERE id = {v.id}",
        f"UPDATE evaluation SET eval_date = '2020-01-01' WHERE id = {v.id}",
        f"DELETE FROM evaluation WHERE id = {v.id}",
    ):
        _refused(db, sql)
    for sql in (
        f"UPDATE addendum SET text = 'rewritten' WHERE evaluation_id = {v.id}",
        f"DELETE FROM addendum WHERE evaluation_id = {v.id}",
    ):
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
            conn.exec_driver_sql(sql)
    if db.dialect == "sqlite":
        routes = [
            "INSERT OR REPLACE INTO evaluation SELECT * FROM t",
            "REPLACE INTO evaluation SELECT * FROM t",
        ]
    else:
        routes = [
            "INSERT INTO evaluation SELECT * FROM t "
            "ON CONFLICT (id) DO UPDATE SET findings = '{}'::jsonb",
            "INSERT INTO evaluation SELECT * FROM t "
            "ON CONFLICT (id) DO UPDATE SET status = 'draft', kind = 'initial'",
        ]
    for route in routes:
        with db.engine.connect() as conn:
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE t AS SELECT * FROM evaluation WHERE id = {v.id}"
            )
            conn.exec_driver_sql("UPDATE t SET findings = '{}', status = 'draft'")
            with pytest.raises(sa.exc.DBAPIError, match=LOCKED):
                conn.exec_driver_sql(route)
            conn.rollback()
    assert r.get_evaluation(db, v.id) == before
    assert r.verify_database(db) == []


def test_a_draft_visit_is_saved_like_any_draft(db: Database, form: Form) -> None:
    """Two visits of one day, separate rows; each its own version line and audit trail."""
    pid, v = visit(db, form)
    other = r.start_evaluation(db, pid, form, user="lee", kind="visit", eval_date=v.eval_date)
    assert other.id != v.id
    assert other.episode_id == v.episode_id
    a = r.save_draft(db, v.id, {"values": {"pain_now": 2}}, 1, user="dana")
    b = r.save_draft(db, other.id, {"values": {"pain_now": 6}}, 1, user="lee")
    assert (a.version, b.version) == (2, 2)
    moved = r.save_draft(
        db, v.id, {"values": {"pain_now": 2}}, 2, user="dana", eval_date=D0 + timedelta(3)
    )
    assert moved.changed
    assert r.get_evaluation(db, v.id).eval_date == D0 + timedelta(3)
    records = r.episode_records(db, v.episode_id or 0)
    assert [e.kind for e in records] == ["initial", "visit", "visit"]


# -- interventions rows (the shipped form's ``rows`` item) -------------------------------------


def test_intervention_rows_are_stored_exactly(db: Database, shipped: Form) -> None:
    _pid, v = visit(db, shipped)
    rows = [*ROWS, {"kind": "other", "name": "Ice", "minutes": 1}]
    rows += [{"kind": "exercise", "name": f"Drill {n}", "sets": 1} for n in range(30 - len(rows))]
    assert len(rows) == 30  # the form's limit
    saved = r.save_draft(db, v.id, {"values": {"interventions": rows}}, 1, user="dana")
    assert r.get_evaluation(db, v.id).findings["values"]["interventions"] == rows
    # Blank cells are no value: stored without them; an empty table is no value at all.
    spaced = [{"kind": "exercise", "name": "  Squat  ", "load": "   ", "sets": None}]
    saved = r.save_draft(db, v.id, {"values": {"interventions": spaced}}, saved.version, user="d")
    assert r.get_evaluation(db, v.id).findings["values"]["interventions"] == [
        {"kind": "exercise", "name": "Squat"}
    ]
    r.save_draft(db, v.id, {"values": {"interventions": []}}, saved.version, user="d")
    assert "interventions" not in r.get_evaluation(db, v.id).findings["values"]


def _row(**cells: Any) -> dict[str, Any]:
    return {"kind": "exercise", "name": "Nordic", **cells}


BAD_ROWS: list[tuple[Any, str]] = [
    ([{}], "row 1: the row is empty"),
    (
        [_row(), {"kind": "exercise", "name": "x", "colour": "red"}],
        "row 2: 'colour' is not a column",
    ),
    ([_row()] * 31, "31 rows, the limit is 30"),
    ([_row(sets=0)], "row 1 (Sets): 0 is outside 1-20"),
    ([_row(sets=21)], "row 1 (Sets): 21 is outside 1-20"),
    ([_row(), _row(sets=1.5)], "row 2 (Sets): 1.5 must be a whole number"),
    ([_row(sets=True)], "row 1 (Sets): True is not a number"),
    ([_row(sets="3")], "row 1 (Sets): '3' is not a number"),
    ([_row(name="Nordic\ncurl")], "row 1 (What): contains a control character (U+000A)"),
    ([_row(name="a\x00b")], "row 1 (What): contains a control character (U+0000)"),
    ([_row(name="n" * 121)], "row 1 (What): text is 121 characters, the limit is 120"),
    ([_row(reps=10**40)], "row 1 (Reps): a number far too large is outside 1-200"),
    ([_row(minutes=1e308)], "row 1 (Minutes): a number far too large min is outside 1-180 min"),
    ([_row(minutes=float("nan"))], "row 1 (Minutes): nan is not a finite number"),
    ([{"name": "Nordic"}], "row 1: Type is required"),
    ([{"kind": "surgery", "name": "x"}], "row 1 (Type): 'surgery' is not one of"),
    ([_row(name="")], "row 1: What is required"),
    ({"kind": "exercise"}, "expected a list of rows"),
    ("Nordic 3x6", "expected a list of rows"),
    ([["exercise", "Nordic"]], "row 1: expected an object"),
]


@pytest.mark.parametrize(("rows", "message"), BAD_ROWS)
def test_bad_intervention_rows_are_refused_naming_item_and_row(
    db: Database, shipped: Form, rows: Any, message: str
) -> None:
    _pid, v = visit(db, shipped)
    first = r.save_draft(db, v.id, {"values": {"interventions": ROWS[:1]}}, 1, user="dana")
    with pytest.raises(FindingsError) as err:
        r.save_draft(db, v.id, {"values": {"interventions": rows}}, first.version, user="dana")
    (problem,) = err.value.problems
    assert problem.startswith("interventions")
    assert message in problem
    assert "\n" not in problem
    assert len(problem) < 200
    stored = r.get_evaluation(db, v.id)
    assert stored.version == first.version
    assert stored.findings["values"]["interventions"] == ROWS[:1]
