"""The intake flow end to end on a real SQLite database and real widgets.

New patient -> evaluation -> bilateral values typed by keyboard -> a factor in the panel -> a red
flag banner -> autosave in the database (read back through a fresh connection) -> sign -> edits
refused. Plus: closing flushes an unsaved change; a save conflict keeps both versions.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QDialogButtonBox

from clinic_app.storage import records
from clinic_app.storage.database import open_database
from clinic_app.storage.errors import EvaluationSignedError
from clinic_app.ui.dialogs import PatientDialog
from clinic_app.ui.fields import NumberEditor, ToggleEditor
from clinic_app.ui.main_window import MainWindow
from tests.ui.conftest import PASSWORD
from tests.ui.helpers import answer, password_answer, press, settle, wait_idle, when_modal


def reread(db_url: str, evaluation_id: int) -> records.Evaluation:
    """The evaluation as another program would see it: a fresh connection, no shared state."""
    fresh = open_database(db_url, backup=False)
    try:
        return records.get_evaluation(fresh, evaluation_id)
    finally:
        fresh.close()


def new_patient_by_keyboard(qtbot, window: MainWindow, given: str, family: str, mrn: str) -> None:
    qtbot.mouseClick(window.patients.new_button, Qt.MouseButton.LeftButton)
    dialog = window.findChild(PatientDialog)
    assert dialog is not None
    assert dialog.isVisible()
    for key, text in (("given_name", given), ("family_name", family), ("mrn", mrn)):
        qtbot.keyClicks(dialog.fields[key].widget, text)
    qtbot.keyClicks(dialog.fields["date_of_birth"].widget, "1990-05-17")
    with qtbot.waitSignal(dialog.saved):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()


def number(window: MainWindow, item: str, side: str) -> NumberEditor:
    assert window.page.view is not None
    ed = window.page.view.editor.editor(item, side)  # type: ignore[arg-type]
    assert isinstance(ed, NumberEditor)
    return ed


def open_new_evaluation(
    window: MainWindow, given: str, family: str, mrn: str
) -> tuple[records.Patient, records.Evaluation]:
    """A patient made through the records API, then "New evaluation" clicked in the window."""
    patient = records.create_patient(window.db, records.PatientFields(given, family, mrn), user="t")
    window.patients.model.reload()
    window.patients.select_patient(patient.id)
    window.detail.new_eval_button.click()
    wait_idle(window)
    evaluation = window.page.evaluation
    assert evaluation is not None
    assert window.page.view is not None
    return patient, evaluation


def test_intake_flow_end_to_end(qtbot, window: MainWindow, db_url: str) -> None:
    new_patient_by_keyboard(qtbot, window, "Ada", "Runner", "MRN-001")
    patient = window.detail.patient
    assert patient is not None
    assert patient.family_name == "Runner"
    assert window.patients.model.rowCount() == 1
    assert window.patients.current_patient() == patient

    qtbot.mouseClick(window.detail.new_eval_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    view = window.page.view
    assert view is not None
    assert window.stack.currentWidget() is window.page
    evaluation = window.page.evaluation
    assert evaluation is not None

    # Involved side by keyboard, then Ctrl+PgDown twice to the hips.
    combo = view.editor.editor("involved_side").focus_widgets()[0]
    assert isinstance(combo, QComboBox)
    combo.setFocus()
    qtbot.keyClicks(combo, "R")
    for _ in range(2):
        qtbot.keyClick(
            QApplication.focusWidget(), Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier
        )
    assert view.editor.current_section() == "hips"
    left = number(window, "hip_flexor_force", "left").line
    assert left.hasFocus()
    qtbot.keyClicks(left, "180")
    qtbot.keyClick(left, Qt.Key.Key_Right)  # the right side (one Tab stop per item, issue 18)
    qtbot.keyClicks(QApplication.focusWidget(), "260")
    assert [r.text(0) for r in view.panel.result_items()] == [
        "F1 Weak hip flexors on the opposite side"
    ]

    # A red flag: the banner shows at once.
    view.editor.set_current_section("red_flags")
    toggle = view.editor.editor("saddle_numbness")
    assert isinstance(toggle, ToggleEditor)
    qtbot.mouseClick(toggle.buttons["yes"], Qt.MouseButton.LeftButton)
    assert view.banner.isVisible()
    assert "EMERGENCY" in view.banner.badge.text()

    # Autosave reaches the database within about a second; a fresh connection reads it back.
    qtbot.waitUntil(lambda: window.saved_label.text().startswith("Saved "), timeout=3000)
    stored = reread(db_url, evaluation.id)
    assert stored.values["hip_flexor_force"] == {"left": 180, "right": 260}
    assert stored.values["saddle_numbness"] == "yes"
    assert stored.values["involved_side"] == "right"

    # Sign, confirming with the clinician named; then the editor refuses edits.
    def confirm(dialog) -> None:
        assert "Dana Physio" in dialog.text()
        when_modal(password_answer(PASSWORD))  # "Sign as Dana Physio — password"
        press(dialog, "Yes")

    when_modal(confirm)
    with qtbot.waitSignal(window.page.signed):
        qtbot.mouseClick(window.page.sign_button, Qt.MouseButton.LeftButton)
    assert view.editor.is_read_only()
    assert window.page.addendum_button.isVisible()
    assert not window.page.sign_button.isVisible()
    assert "Signed by Dana Physio" in window.page.status.text()
    view.editor.set_current_section("hips")
    left = number(window, "hip_flexor_force", "left").line
    qtbot.keyClicks(left, "9")
    assert view.editor.findings.get("hip_flexor_force", "left") == 180
    signed = reread(db_url, evaluation.id)
    assert signed.is_signed
    assert signed.signed_by == "Dana Physio"
    with pytest.raises(EvaluationSignedError):
        records.save_draft(window.db, evaluation.id, {"values": {}}, signed.version, user="x")

    window.page.add_addendum("Patient phoned: symptoms unchanged.")
    settle(qtbot, window)
    assert "symptoms unchanged" in window.page.addenda.text()
    assert reread(db_url, evaluation.id).addenda[0].author == "Dana Physio"


def test_closing_the_window_flushes_an_unsaved_change(qtbot, window, db_url) -> None:
    _, evaluation = open_new_evaluation(window, "Bea", "Sprinter", "MRN-002")
    window.page.view.editor.set_current_section("flexibility")
    qtbot.keyClicks(number(window, "slr", "left").line, "65")
    assert window.page.saver is not None
    assert window.page.saver.has_pending()
    assert reread(db_url, evaluation.id).values == {}  # not yet written: the timer is pending
    window.close()
    assert reread(db_url, evaluation.id).values["slr"] == {"left": 65}


def test_re_evaluation_copies_forward_the_last_values(qtbot, window, db_url) -> None:
    patient = records.create_patient(
        window.db, records.PatientFields("Cy", "Hurdler", "MRN-003"), user="t"
    )
    first = records.start_evaluation(window.db, patient.id, window.form, user="t")
    records.save_draft(
        window.db, first.id, {"values": {"slr": {"left": 70, "right": 82}}}, first.version, user="t"
    )
    window.patients.model.reload()
    window.patients.select_patient(patient.id)
    assert window.detail.re_eval_button.isEnabled()
    window.detail.re_eval_button.click()
    settle(qtbot, window)
    view = window.page.view
    assert view is not None
    assert window.page.evaluation is not None
    assert window.page.evaluation.kind == "re_evaluation"
    assert number(window, "slr", "right").line.text() == "82"
    assert "from last visit" in view.editor.row("slr").label.text()
    assert len(window.detail.evaluations) == 2


def test_a_save_conflict_keeps_both_versions(qtbot, window, db_url) -> None:
    patient, evaluation = open_new_evaluation(window, "Dee", "Climber", "MRN-004")
    # Someone at another workstation saves first.
    other = open_database(db_url, backup=False)
    records.save_draft(
        other,
        evaluation.id,
        {"values": {"slr": {"left": 50}}},
        evaluation.version,
        user="Sam Other",
    )
    other.close()
    window.page.view.editor.set_current_section("flexibility")
    seen: list[str] = []

    def choose_copy(dialog) -> None:
        seen.append(dialog.findChild(QDialogButtonBox).parent().windowTitle())
        seen.extend(
            dialog.findChild(type(window.detail.table), "conflictTable").item(0, c).text()
            for c in range(3)
        )
        press(dialog, "Save mine as a copy")

    when_modal(choose_copy)
    qtbot.keyClicks(number(window, "slr", "left").line, "75")
    qtbot.waitUntil(
        lambda: window.page.evaluation is not None and window.page.evaluation.id != evaluation.id,
        timeout=3000,
    )
    assert seen[0] == "Evaluation changed elsewhere"
    assert seen[1:] == ["Passive straight leg raise", "L 75°", "L 50°"]
    theirs = reread(db_url, evaluation.id)
    mine = reread(db_url, window.page.evaluation.id)
    assert theirs.values["slr"] == {"left": 50}
    assert mine.values["slr"] == {"left": 75}
    assert len(records.list_evaluations(window.db, patient.id)) == 2


def test_take_theirs_shows_their_values(qtbot, window, db_url) -> None:
    _, evaluation = open_new_evaluation(window, "Eve", "Skier", "MRN-005")
    records.save_draft(
        window.db, evaluation.id, {"values": {"slr": {"right": 88}}}, evaluation.version, user="Sam"
    )
    window.page.view.editor.set_current_section("flexibility")
    answer("Take theirs")
    qtbot.keyClicks(number(window, "slr", "left").line, "60")
    qtbot.waitUntil(lambda: number(window, "slr", "right").line.text() == "88", timeout=3000)
    assert number(window, "slr", "left").line.text() == ""
    assert reread(db_url, evaluation.id).values["slr"] == {"right": 88}
    qtbot.keyClicks(number(window, "slr", "left").line, "61")  # and editing goes on normally
    qtbot.waitUntil(lambda: window.saved_label.text().startswith("Saved "), timeout=3000)
    assert reread(db_url, evaluation.id).values["slr"] == {"left": 61, "right": 88}


def test_typing_stays_responsive_while_the_database_is_locked(qtbot, window, db_url) -> None:
    """Another workstation holds the write lock: the autosave waits on its thread, not the GUI."""
    _, evaluation = open_new_evaluation(window, "Flo", "Locked", "MRN-006")
    saver = window.page.saver
    assert saver is not None
    window.page.view.editor.set_current_section("flexibility")
    lock = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")  # the write lock, as a long transaction elsewhere holds it
        qtbot.keyClicks(number(window, "slr", "left").line, "65")
        qtbot.waitUntil(saver.is_saving)  # the write started and is waiting for the lock...
        started = time.perf_counter()
        qtbot.keyClicks(number(window, "slr", "right").line, "70")  # ...while typing goes on
        assert time.perf_counter() - started < 1.0
        assert window.page.view.editor.findings.get("slr", "right") == 70
        assert saver.is_saving()
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    qtbot.waitUntil(lambda: not saver.is_saving() and not saver.has_pending(), timeout=5000)
    assert reread(db_url, evaluation.id).values["slr"] == {"left": 65, "right": 70}


def test_ctrl_s_saves_at_once_and_alt_left_goes_back(qtbot, window, db_url) -> None:
    _, evaluation = open_new_evaluation(window, "Gus", "Keys", "MRN-007")
    window.page.view.editor.set_current_section("flexibility")
    field = number(window, "slr", "left").line
    qtbot.keyClicks(field, "66")
    qtbot.keyClick(field, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert reread(db_url, evaluation.id).values["slr"] == {"left": 66}
    assert window.saved_label.text().startswith("Saved ")
    qtbot.keyClick(field, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert window.stack.currentWidget() is window.detail
    assert window.patients.isVisible()
    assert [e.id for e in window.detail.evaluations] == [evaluation.id]
