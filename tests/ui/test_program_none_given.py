"""A signed record without a home program says so in one line (no empty list, no dead form).

The record is signed through the storage API and opened in the real window with the shipped
form, on a real SQLite file; the home-program page is then looked at as the therapist sees it.
A draft without a program keeps the whole editor.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from PySide6.QtWidgets import QApplication

from clinic_app.core.findings import validate
from clinic_app.core.form import Form
from clinic_app.storage import records
from clinic_app.ui.program_editor import ProgramEditor
from clinic_app.ui.screenshots import layout_problems

START = date(2026, 9, 10)
PROGRAM = {"exercises": [{"exercise": "glute_bridge", "side": "both", "sets": 3, "reps": 12}]}


def visit_note(
    db: Any,
    form: Form,
    first: dict[str, Any],
    *,
    sign: bool,
    mrn: str = "P-1",
    today: dict[str, Any] | None = None,
) -> tuple[Any, Any]:
    """A patient with an initial evaluation holding ``first`` and a visit note a week later
    holding ``today`` (no program: the carried one taken out), signed if ``sign``."""
    patient = records.create_patient(db, records.PatientFields("Pat", "Lee", mrn), user="t")
    ev = records.start_evaluation(db, patient.id, form, user="t", eval_date=START)
    records.save_draft(db, ev.id, validate(form, {"values": first}), ev.version, user="t")
    visit = records.start_evaluation(
        db, patient.id, form, user="t", kind="visit", eval_date=START + timedelta(days=7)
    )
    values = validate(form, {"values": today or {"pain_now": 3}})
    saved = records.save_draft(db, visit.id, values, visit.version, user="t")
    if sign:
        records.sign_evaluation(db, visit.id, saved.version, user="Dana Physio")
    stored = records.get_evaluation(db, visit.id)
    assert stored.findings["values"].get("home_program") == (today or {}).get("home_program")
    assert stored.is_signed == sign
    return patient, stored


def program_page(qtbot: Any, shipped_window: Any, patient: Any, visit: Any) -> ProgramEditor:
    shipped_window.open_evaluation(records.get_evaluation(shipped_window.db, visit.id), patient)
    qtbot.waitUntil(
        lambda: shipped_window.page.view is not None and shipped_window.page.view.isVisible()
    )
    editor = shipped_window.page.view.editor
    editor.set_current_section("home_program")
    ed = editor.editor("home_program")
    assert isinstance(ed, ProgramEditor)
    qtbot.waitUntil(ed.isVisible)
    QApplication.processEvents()
    return ed


def test_a_signed_visit_without_a_program_says_so_and_names_the_earlier_one(
    qtbot: Any, shipped_window: Any, db: Any, shipped_form: Form
) -> None:
    patient, visit = visit_note(db, shipped_form, {"home_program": PROGRAM}, sign=True)
    ed = program_page(qtbot, shipped_window, patient, visit)
    assert ed.read_only
    assert ed.banner.isVisible()
    text = ed.banner.text()
    assert text.startswith("No home program was given at this visit.")
    assert f"initial evaluation of {START:%Y-%m-%d}" in text
    for hidden in (ed.list, ed.fields["sets"], ed.side, ed.instruction, ed.finder, ed.note):
        assert not hidden.isVisible()
    assert not ed.templates.isVisible()
    page = shipped_window.page.view.editor.built_page("home_program")
    assert layout_problems(page) == []


def test_a_signed_visit_without_any_program_in_the_episode_says_just_that(
    qtbot: Any, shipped_window: Any, db: Any, shipped_form: Form
) -> None:
    patient, visit = visit_note(db, shipped_form, {"pain_now": 5}, sign=True)
    ed = program_page(qtbot, shipped_window, patient, visit)
    assert ed.banner.isVisible()
    assert ed.banner.text() == "No home program was given at this visit."
    assert not ed.list.isVisible()


def test_a_signed_program_with_only_a_note_shows_the_note_without_the_empty_list(
    qtbot: Any, shipped_window: Any, db: Any, shipped_form: Form
) -> None:
    only_note = {"home_program": {"exercises": [], "note": "Walk 20 minutes a day."}}
    patient, visit = visit_note(db, shipped_form, {}, sign=True, today=only_note)
    ed = program_page(qtbot, shipped_window, patient, visit)
    assert ed.banner.text() == "No exercises were given at this visit, only the note below."
    assert ed.note.isVisible()
    assert ed.note.toPlainText() == "Walk 20 minutes a day."
    assert not ed.list.isVisible()
    assert not ed.fields["sets"].isVisible()
    assert layout_problems(shipped_window.page.view.editor.built_page("home_program")) == []


def test_a_draft_without_a_program_keeps_the_editor(
    qtbot: Any, shipped_window: Any, db: Any, shipped_form: Form
) -> None:
    signed_patient, signed = visit_note(db, shipped_form, {}, sign=True, mrn="P-0")
    ed = program_page(qtbot, shipped_window, signed_patient, signed)
    assert not ed.list.isVisible()
    assert shipped_window.page.close_evaluation()
    # the same window (and the visit view it keeps) opens a draft next
    patient, visit = visit_note(db, shipped_form, {"home_program": PROGRAM}, sign=False)
    ed = program_page(qtbot, shipped_window, patient, visit)
    assert not ed.read_only
    assert ed.pending  # the factors' suggestion, as in a window that opened the draft first
    assert ed.list.count() > 0
    for shown in (ed.list, ed.fields["sets"], ed.finder, ed.note, ed.templates):
        assert shown.isVisible()
    assert "No home program" not in ed.banner.text() or not ed.banner.isVisible()
    QApplication.processEvents()
    assert layout_problems(shipped_window.page.view.editor.built_page("home_program")) == []
