"""Opening visit notes quickly without showing less (issue 15's "open a visit note" figure).

An open is one read on the worker; the visit view keeps one editor per set of re-measured items
and refills it when a note with that set opens again. These tests open notes of two patients
whose sets differ, back and forth, and check that each shows exactly its own record: values,
the last values beside re-measured items, read-only state, seal state, goals, the red-flag
banner and the access event. Real window offscreen, SQLite and PostgreSQL, the shipped form.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QWidget

from clinic_app.core.findings import validate
from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records
from clinic_app.storage.errors import DatabaseAccessError, NotFoundError
from clinic_app.storage.records.evaluations import episode_values
from clinic_app.ui.visit_view import GoalsBox
from tests.storage.conftest import (  # noqa: F401 (fixtures)
    postgres_migrated_url,
    postgres_server,
    postgres_template,
)
from tests.ui.helpers import press, settle, when_modal

START = date(2026, 9, 10)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, db_url: str) -> Iterator[Any]:
    from clinic_app.storage.database import open_database

    url = db_url if request.param == "sqlite" else request.getfixturevalue("postgres_migrated_url")
    database = open_database(url, backup=False)
    yield database
    database.close()


@pytest.fixture(scope="module")
def shipped_form() -> Form:
    return load_form(default_form_path())


@pytest.fixture
def window(qtbot: Any, db: Any, shipped_form: Form, clinician: Any) -> Any:
    from clinic_app.ui.main_window import MainWindow

    w = MainWindow(db, shipped_form, clinician)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    return w


def note(
    db: Any,
    form: Form,
    mrn: str,
    first: dict[str, Any],
    earlier: dict[str, Any],
    today: dict[str, Any],
    *,
    goal: str | None = None,
    sign: bool = False,
) -> tuple[Any, Any]:
    """A patient with an initial evaluation (``first``), one visit (``earlier``) and a visit
    note holding ``today`` (signed if ``sign``); a goal on the Nordic deficit if ``goal``."""
    patient = records.create_patient(db, records.PatientFields("Pat", mrn, mrn), user="t")
    ev = records.start_evaluation(db, patient.id, form, user="t", eval_date=START)
    records.save_draft(db, ev.id, validate(form, {"values": first}), ev.version, user="t")
    episode = records.get_evaluation(db, ev.id).episode_id
    if goal:
        target = {"item": "nordic_force", "measure": "deficit", "op": "<", "threshold": 10}
        records.add_goal(
            db,
            episode,
            records.GoalInfo(term="short", text=goal, target=target),
            user="t",
            form=form,
        )
    ids = []
    for n, values in enumerate((earlier, today), 1):
        v = records.start_evaluation(
            db,
            patient.id,
            form,
            user="t",
            kind="visit",
            eval_date=START + timedelta(days=7 * n),
            episode_id=episode,
        )
        saved = records.save_draft(
            db, v.id, validate(form, {"values": values}), v.version, user="t"
        )
        ids.append((v.id, saved.version))
    vid, version = ids[-1]
    if sign:
        records.sign_evaluation(db, vid, version, user="Dana Physio")
    return patient, records.get_evaluation(db, vid)


def two_notes(db: Any, form: Form) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """Anna's signed note re-measures the Nordic and the SLR; Ben's draft re-measures the
    bridge only; Anna's episode has a red flag and a goal, Ben's neither."""
    anna = note(
        db,
        form,
        "ANNA",
        {"involved_side": "left", "nordic_force": {"left": 210, "right": 280}, "rf_gap": "yes"},
        {"nordic_force": {"left": 230, "right": 282}, "slr_deg": {"left": 60, "right": 80}},
        {"nordic_force": {"left": 250, "right": 281}, "slr_deg": {"left": 66, "right": 80}},
        goal="Nordic deficit under 10%",
        sign=True,
    )
    ben = note(
        db,
        form,
        "BEN",
        {"involved_side": "right", "sl_bridge_reps": {"left": 20, "right": 9}},
        {"sl_bridge_reps": {"left": 20, "right": 12}},
        {"pain_now": 2},
    )
    return anna, ben


def open_note(qtbot: Any, window: Any, patient: Any, visit: Any) -> Any:
    window.open_evaluation(records.get_evaluation(window.db, visit.id), patient)
    qtbot.waitUntil(lambda: window.page.view is not None and window.page.view.isVisible())
    QApplication.processEvents()
    return window.page.view


def line(view: Any, item_id: str, side: str | None = None) -> str:
    return view.editor.editor(item_id, side).focus_widgets()[0].text()


def test_an_open_is_one_read_on_the_worker_and_keeps_the_access_event(
    qtbot: Any, window: Any, db: Any, shipped_form: Form
) -> None:
    (anna, visit), _ = two_notes(db, shipped_form)
    runner = window.context.runner
    settle(qtbot, window)
    calls: list[str] = []
    original = runner.call

    def counted(what: str, op: Any, **kw: Any) -> Any:
        calls.append(what)
        return original(what, op, **kw)

    runner.call = counted  # type: ignore[method-assign]
    view = open_note(qtbot, window, anna, visit)
    view.editor.set_current_section("visit_assessment")  # the goals come with that read
    runner.call = original  # type: ignore[method-assign]
    assert calls == ["Opening the visit note"]
    assert window.page.seal_problems == []
    assert window.page.status.property("state") == "signed"
    box = view.goals_box
    assert box is not None
    assert "Nordic deficit under 10%" in box.text()
    settle(qtbot, window)
    opened = records.access_log(db, patient_id=anna.id, actions=["open"])
    assert [(e.entity, e.entity_id) for e in opened] == [("evaluation", visit.id)]


def test_notes_of_other_sets_reopen_in_their_own_editor_showing_only_their_own_record(
    qtbot: Any, window: Any, db: Any, shipped_form: Form
) -> None:
    (anna, a_visit), (ben, b_visit) = two_notes(db, shipped_form)
    view = open_note(qtbot, window, anna, a_visit)
    a_editor = view.editor
    assert view.remeasured == ("nordic_force", "slr_deg")
    view.editor.set_current_section("visit_assessment")
    again = open_note(qtbot, window, ben, b_visit)
    assert again is view
    b_editor = view.editor
    assert b_editor is not a_editor
    for _ in range(2):  # back and forth: the same two editors, refilled
        view = open_note(qtbot, window, anna, a_visit)
        assert view.editor is a_editor
        assert view.remeasured == ("nordic_force", "slr_deg")
        assert (line(view, "nordic_force", "left"), line(view, "slr_deg", "left")) == ("250", "66")
        assert "Last 17 Sep: L 230 N / R 282 N" in view.editor.row("nordic_force").label.text()
        assert view.editor.is_read_only()  # signed
        assert view.banner.isVisible()  # the initial evaluation's red flag
        assert not window.page.sign_button.isVisible()
        view.editor.set_current_section("visit_assessment")
        boxes = view.editor.built_page("visit_assessment").findChildren(GoalsBox)
        assert len(boxes) == 1
        assert boxes[0] is view.goals_box
        assert "Nordic deficit under 10%" in boxes[0].text()
        view = open_note(qtbot, window, ben, b_visit)
        assert view.editor is b_editor
        assert view.remeasured == ("sl_bridge_reps",)
        assert not view.editor.has_item("nordic_force")  # Anna's items are not on Ben's pages
        assert line(view, "sl_bridge_reps", "right") == ""  # today's not measured yet
        label = view.editor.row("sl_bridge_reps").label.text()
        assert "Last 17 Sep: L 20" in label
        assert "R 12" in label
        assert view.editor.findings.get("pain_now") == 2
        assert not view.editor.is_read_only()  # Ben's is a draft
        assert not view.banner.isVisible()
        assert window.page.sign_button.isVisible()
        view.editor.set_current_section("visit_assessment")
        box = view.goals_box
        assert box is not None
        assert "No goals are set" in box.text()
        assert "Nordic" not in box.text()
    assert window.page.status.property("state") == "draft"


def test_typing_in_a_reused_editor_stores_to_the_note_open_now(
    qtbot: Any, window: Any, db: Any, shipped_form: Form
) -> None:
    (anna, a_visit), (ben, b_visit) = two_notes(db, shipped_form)
    open_note(qtbot, window, ben, b_visit)
    open_note(qtbot, window, anna, a_visit)
    view = open_note(qtbot, window, ben, b_visit)
    field = view.editor.editor("sl_bridge_reps", "right").focus_widgets()[0]
    qtbot.keyClicks(field, "14")
    qtbot.waitUntil(lambda: window.saved_label.text().startswith("Saved "), timeout=4000)
    settle(qtbot, window)
    assert records.get_evaluation(db, b_visit.id).values["sl_bridge_reps"] == {"right": 14}
    signed = records.get_evaluation(db, a_visit.id)
    assert signed.values["nordic_force"] == {"left": 250, "right": 281}  # untouched
    assert signed.version == a_visit.version


def test_a_changed_signed_note_shows_its_broken_seal_when_reopened(
    qtbot: Any, window: Any, db: Any, shipped_form: Form
) -> None:
    if db.path is None:
        pytest.skip("changing a signed row behind the app's back: the SQLite file only")
    (anna, a_visit), (ben, b_visit) = two_notes(db, shipped_form)
    open_note(qtbot, window, anna, a_visit)
    assert window.page.seal_banner.isHidden()
    open_note(qtbot, window, ben, b_visit)
    conn = sqlite3.connect(db.path, isolation_level=None)
    conn.execute("DROP TRIGGER evaluation_signed_no_update")
    conn.execute(
        "UPDATE evaluation SET findings = json_set(findings, '$.values.slr_deg.left', 90)"
        " WHERE id = ?",
        (a_visit.id,),
    )
    conn.close()
    view = open_note(qtbot, window, anna, a_visit)
    banner = window.page.seal_banner
    assert not banner.isHidden()
    assert "changed after it was signed" in banner.text()
    assert window.page.status.property("state") == "broken"
    assert line(view, "slr_deg", "left") == "90"  # what is stored now, shown as it is


def test_a_failed_read_shows_why_and_leaves_no_record_on_screen(
    qtbot: Any, window: Any, db: Any, shipped_form: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    (anna, a_visit), (ben, b_visit) = two_notes(db, shipped_form)
    view = open_note(qtbot, window, anna, a_visit)
    from clinic_app.ui import evaluation_page

    def unreachable(*_args: Any) -> Any:
        raise DatabaseAccessError("clinic.db: the database cannot be reached")

    monkeypatch.setattr(evaluation_page, "_open_read", unreachable)
    seen: list[str] = []

    def close(box: QWidget) -> None:
        seen.append(box.windowTitle())
        press(box, "OK")

    when_modal(close)
    window.page.open(records.get_evaluation(db, b_visit.id), ben)
    assert seen == ["Opening the visit note"]
    assert window.page.view is None
    assert window.page.evaluation is None
    assert not view.isVisible()  # Anna's note is not left on screen under Ben's name


def test_episode_values_reads_the_episode_oldest_first(db: Any, shipped_form: Form) -> None:
    (_anna, a_visit), _ = two_notes(db, shipped_form)
    side, rows = episode_values(db, a_visit.episode_id)
    assert side == "left"
    assert [(r.kind, r.on) for r in rows] == [
        ("initial", START),
        ("visit", START + timedelta(days=7)),
        ("visit", START + timedelta(days=14)),
    ]
    assert rows[-1].status == "signed"
    assert rows[-1].values["slr_deg"] == {"left": 66, "right": 80}
    rows[-1].values["slr_deg"]["left"] = 0  # the caller's own copy
    assert episode_values(db, a_visit.episode_id)[1][-1].values["slr_deg"]["left"] == 66
    with pytest.raises(NotFoundError):
        episode_values(db, 987654)


def test_the_panel_is_refilled_only_when_the_assessment_changes(
    qtbot: Any, window: Any, db: Any, shipped_form: Form
) -> None:
    _, (ben, b_visit) = two_notes(db, shipped_form)
    view = open_note(qtbot, window, ben, b_visit)
    filled: list[Any] = []
    original = view.panel.show_assessment

    def counted(assessment: Any) -> None:
        filled.append(assessment)
        original(assessment)

    view.panel.show_assessment = counted  # type: ignore[method-assign]
    text = view.editor.editor("visit_report_text").focus_widgets()[0]
    qtbot.keyClicks(text, "better")  # words only: the assessment stays as it was
    assert filled == []
    assert not view.banner.isVisible()
    view.picker.search.setText("gap")
    view.picker.pick_current()
    view.editor.editor("rf_gap").buttons["yes"].click()  # a red flag: banner and panel follow
    assert view.banner.isVisible()
    assert "R1" in [f.id for f in view.banner.flags]
    assert [f.id for f in filled[-1].red_flags] == ["R1"]
    assert view.panel.assessment is view.assessment
