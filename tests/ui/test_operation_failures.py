"""A database that fails mid-work: every screen says so one way, keeps running, loses nothing.

The faults are real SQLite failures, put in by another connection as a broken or hostile
database would: a trigger that aborts the write (sign, addendum, patient save) and a table that
is gone (the read behind an export). No part of the app is mocked.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QMessageBox

from clinic_app.storage import records
from clinic_app.ui.dialogs import PatientDialog
from clinic_app.ui.fields import NumberEditor
from clinic_app.ui.main_window import MainWindow
from tests.ui.conftest import PASSWORD
from tests.ui.helpers import press, settle, sign_with_password, when_modal


def _sql(db_url: str, *statements: str) -> None:
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def _fail_writes_to(db_url: str, table: str, operation: str = "UPDATE") -> None:
    _sql(
        db_url,
        f"CREATE TRIGGER fault_{table} BEFORE {operation} ON {table} "
        "BEGIN SELECT RAISE(ABORT, 'injected fault: the disk refused the write'); END",
    )


def _heal(db_url: str, table: str) -> None:
    _sql(db_url, f"DROP TRIGGER fault_{table}")


def _failure_shown(qtbot, seen: list[str]) -> None:
    """Arm for the failure message; records its text and closes it with OK."""

    def read_and_close(box: QMessageBox) -> None:
        assert box.objectName() == "operationFailure"
        seen.append(box.text())
        press(box, "OK")

    when_modal(read_and_close)


def _open_draft(qtbot, window: MainWindow, mrn: str) -> records.Evaluation:
    patient = records.create_patient(
        window.db, records.PatientFields("Ida", "Fault", mrn), user="t"
    )
    window.patients.model.reload()
    window.patients.select_patient(patient.id)
    window.detail.new_eval_button.click()
    settle(qtbot, window)
    evaluation = window.page.evaluation
    assert evaluation is not None
    return evaluation


def _type_slr(qtbot, window: MainWindow, text: str) -> None:
    view = window.page.view
    assert view is not None
    view.editor.set_current_section("flexibility")
    editor = view.editor.editor("slr", "left")
    assert isinstance(editor, NumberEditor)
    qtbot.keyClicks(editor.line, text)


def test_sign_fails_shows_why_and_the_draft_stays_editable(qtbot, window, db_url) -> None:
    evaluation = _open_draft(qtbot, window, "F-1")
    _type_slr(qtbot, window, "64")
    assert window.page.flush()
    _fail_writes_to(db_url, "evaluation")
    seen: list[str] = []
    sign_with_password(PASSWORD)  # "Sign this evaluation as …?", then her password
    window.page.sign_button.click()
    _failure_shown(qtbot, seen)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    settle(qtbot, window)
    assert seen[0].startswith("Signing the evaluation did not work.")
    assert "Nothing you typed has been lost" in seen[0]
    stored = records.get_evaluation(window.db, evaluation.id)
    assert not stored.is_signed
    assert stored.values["slr"] == {"left": 64}
    view = window.page.view
    assert view is not None
    assert not view.editor.is_read_only()  # back to editing, as it was
    assert view.editor.findings.get("slr", "left") == 64
    assert window.page.sign_button.isEnabled()
    assert window.isVisible()
    # Mended, the same button signs.
    _heal(db_url, "evaluation")
    sign_with_password(PASSWORD)
    with qtbot.waitSignal(window.page.signed):
        window.page.sign_button.click()
    assert records.get_evaluation(window.db, evaluation.id).is_signed


def test_addendum_fails_and_its_text_is_kept_for_the_next_try(qtbot, window, db_url) -> None:
    evaluation = _open_draft(qtbot, window, "F-2")
    sign_with_password(PASSWORD)
    with qtbot.waitSignal(window.page.signed):
        window.page.sign_button.click()
    _fail_writes_to(db_url, "addendum", "INSERT")
    seen: list[str] = []
    _failure_shown(qtbot, seen)
    window.page.add_addendum("Phoned: pain 2/10 after the weekend run.")
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    settle(qtbot, window)
    assert seen[0].startswith("Adding the addendum did not work.")
    assert records.get_evaluation(window.db, evaluation.id).addenda == ()
    assert window.page.addendum_draft == "Phoned: pain 2/10 after the weekend run."
    assert window.page.addendum_button.isEnabled()
    # The next "Add addendum…" opens with the text typed before.
    _heal(db_url, "addendum")
    offered: list[str] = []

    def take_it(dialog) -> None:
        offered.append(dialog.textValue())
        dialog.accept()

    when_modal(take_it)
    window.page.addendum_button.click()
    settle(qtbot, window)
    assert offered == ["Phoned: pain 2/10 after the weekend run."]
    [addendum] = records.get_evaluation(window.db, evaluation.id).addenda
    assert addendum.text == "Phoned: pain 2/10 after the weekend run."
    assert window.page.addendum_draft == ""


def test_patient_save_fails_and_the_dialog_stays_as_typed(qtbot, window, db_url) -> None:
    _fail_writes_to(db_url, "patient", "INSERT")
    window.patients.new_button.click()
    dialog = window.findChild(PatientDialog)
    assert dialog is not None
    typed = {"given_name": "Noor", "family_name": "Saved-Later", "mrn": "F-3", "phone": "555"}
    for key, text in typed.items():
        qtbot.keyClicks(dialog.fields[key].widget, text)
    seen: list[str] = []
    _failure_shown(qtbot, seen)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    settle(qtbot, window)
    assert seen[0].startswith("Saving the patient did not work.")
    assert dialog.isVisible()
    assert {k: dialog.text(k) for k in typed} == typed
    assert records.get_patient_by_mrn(window.db, "F-3") is None
    _heal(db_url, "patient")
    with qtbot.waitSignal(dialog.saved):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    saved = records.get_patient_by_mrn(window.db, "F-3")
    assert saved is not None
    assert saved.phone == "555"


def test_export_fails_to_read_and_the_evaluation_is_untouched(
    qtbot, window, db_url, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evaluation = _open_draft(qtbot, window, "F-4")
    _type_slr(qtbot, window, "58")
    assert window.page.flush()
    asked: list[str] = []

    def save_name(_parent, _title, proposed, _filter):
        asked.append(proposed)
        return str(tmp_path / "out.pdf"), "PDF (*.pdf)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    _sql(db_url, "ALTER TABLE clinic RENAME TO clinic_gone")  # the report's header is unreadable
    seen: list[str] = []
    _failure_shown(qtbot, seen)
    window.actions_["export_report"].trigger()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen[0].startswith("Exporting the report did not work.")
    assert asked == []  # no file asked for, none written
    assert not (tmp_path / "out.pdf").exists()
    assert window.page.evaluation is not None
    assert window.page.view is not None
    assert window.page.view.editor.findings.get("slr", "left") == 58
    assert records.get_evaluation(window.db, evaluation.id).values["slr"] == {"left": 58}
    _sql(db_url, "ALTER TABLE clinic_gone RENAME TO clinic")
    window.actions_["export_report"].trigger()
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")
    assert QApplication.activeModalWidget() is None
