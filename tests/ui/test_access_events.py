"""Access events from the real screens: viewing a patient, opening an evaluation, exporting,
previewing and printing write exactly those events, with the signed-in clinician and the ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from clinic_app.storage import records
from clinic_app.ui import printing
from clinic_app.ui.access_log import record_access
from clinic_app.ui.main_window import MainWindow
from tests.ui.helpers import settle, when_modal


def access(db) -> list[tuple[str, str, str, int]]:
    """The access events, oldest first: (actor, action, entity, id)."""
    found = records.access_log(db, actions=records.ACCESS_ACTIONS)
    return [(e.actor, e.action, e.entity, e.entity_id) for e in reversed(found)]


def test_the_screens_write_exactly_the_accesses_made(
    qtbot, window: MainWindow, db, mini_form, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    eva = records.create_patient(db, records.PatientFields("Eva", "Berg", "M-1"), user="t")
    other = records.create_patient(db, records.PatientFields("Otto", "Lind", "M-2"), user="t")
    ev = records.start_evaluation(db, eva.id, mini_form, user="t")
    me = window.clinician.login
    assert me
    window.patients.model.reload()
    settle(qtbot, window)
    before = access(db)  # whatever the window showed at start (the first patient listed)

    window.patients.select_patient(eva.id)
    settle(qtbot, window)
    window.detail.show_patient(window.detail.patient)  # shown anew (after an edit): not again
    window.detail.open_button.click()
    settle(qtbot, window)
    assert window.page.evaluation is not None
    assert window.page.evaluation.id == ev.id

    out = tmp_path / "report.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (str(out), "PDF (*.pdf)"))
    window.actions_["export_report"].trigger()
    assert out.read_bytes().startswith(b"%PDF")
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda _url: True)
    window.actions_["preview"].trigger()
    # The system print dialog is the edge of the app: it "prints" 2 pages, then is cancelled.
    monkeypatch.setattr(printing, "print_with_dialog", lambda *_a, **_k: 2)
    window.actions_["print_handout"].trigger()
    monkeypatch.setattr(printing, "print_with_dialog", lambda *_a, **_k: None)
    window.actions_["print_handout"].trigger()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: ("", ""))
    window.actions_["export_handout"].trigger()  # cancelled: nothing exported, nothing logged
    settle(qtbot, window)

    window.actions_["back"].trigger()  # back to the same patient: no second view
    settle(qtbot, window)
    window.patients.select_patient(other.id)
    settle(qtbot, window)

    assert access(db)[len(before) :] == [
        (me, "view", "patient", eva.id),
        (me, "open", "evaluation", ev.id),
        (me, "export", "evaluation", ev.id),
        (me, "preview", "evaluation", ev.id),
        (me, "print", "evaluation", ev.id),
        (me, "view", "patient", other.id),
    ]
    # A login finds them, and so does the clinician's name the change events carry.
    assert len(records.access_log(db, actor=me, actions=records.ACCESS_ACTIONS)) >= 6
    trail = records.access_log(db, patient_id=eva.id, actions=["open", "export"])
    assert {e.patient_name for e in trail} == {"Eva Berg"}
    assert records.verify_database(db) == []


def test_a_failed_access_write_is_shown_the_runners_way(qtbot, window: MainWindow, db) -> None:
    seen: list[str] = []

    def read(box) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.accept()

    when_modal(read)
    assert record_access(window.context, "view", "patient", 424242, parent=window) > 0
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert "patient 424242 does not exist" in seen[0]
    assert access(db) == []


def test_nothing_is_recorded_before_the_database_is_open(qtbot, db, clinician) -> None:
    from clinic_app.ui.context import AppContext

    context = AppContext(clinician)
    assert record_access(context, "view", "patient", 1) == 0


def _open_at_once(window: MainWindow, db, mini_form, mrn: str):
    """Open a new evaluation of a new patient, with no event handled after it."""
    patient = records.create_patient(db, records.PatientFields("Eva", "Berg", mrn), user="t")
    ev = records.start_evaluation(db, patient.id, mini_form, user="t")
    window.open_evaluation(ev, patient)
    return ev


def test_an_open_is_written_once_the_window_is_idle_and_before_what_follows(
    qtbot, window: MainWindow, db, mini_form, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The open's event is written after its layout and paint (the worker would otherwise hold
    the interpreter lock against them), yet the trail keeps the order of what was done."""
    settle(qtbot, window)
    before = len(access(db))
    ev = _open_at_once(window, db, mini_form, "I-1")
    assert window.context.is_idle_waiting()
    assert window.context.runner.pending() == 0  # nothing queued against the first paint
    # An export at once (no event handled in between) still comes after the open.
    out = tmp_path / "r.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (str(out), "PDF (*.pdf)"))
    window.actions_["export_report"].trigger()
    settle(qtbot, window)
    me = window.clinician.login
    assert access(db)[before:] == [
        (me, "open", "evaluation", ev.id),
        (me, "export", "evaluation", ev.id),
    ]
    # And alone: written as soon as the event loop would wait.
    ev2 = _open_at_once(window, db, mini_form, "I-2")
    qtbot.wait(50)
    qtbot.waitUntil(lambda: window.context.runner.pending() == 0)
    assert access(db)[-1] == (me, "open", "evaluation", ev2.id)


def test_an_open_not_written_yet_is_written_when_the_window_stops(
    qtbot, window: MainWindow, db, mini_form
) -> None:
    settle(qtbot, window)
    ev = _open_at_once(window, db, mini_form, "I-3")
    assert window.context.is_idle_waiting()
    window.context.stop()  # closing at once: the event is not lost
    assert not window.context.is_idle_waiting()
    assert access(db)[-1] == (window.clinician.login, "open", "evaluation", ev.id)
