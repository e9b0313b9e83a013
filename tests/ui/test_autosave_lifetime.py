"""The autosaver's lifetime: one saver per open draft, and the database worker ends with its owner.

The autosaver owns no thread any more: its writes are operations on the window's one database
worker (``clinic_app.ui.operations``). What has to hold: the worker thread stops however its
runner goes away, and a draft never has two savers (after "Save mine as a copy" the old saver used
to stay connected and kept writing the copied findings into the other workstation's draft).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject

from clinic_app.core.findings import empty
from clinic_app.storage import records
from clinic_app.ui.autosave import DraftAutosaver
from clinic_app.ui.operations import OperationRunner
from tests.ui.helpers import press, settle, when_modal


def _evaluation(db, mini_form, clinician) -> records.Evaluation:
    patient = records.create_patient(db, records.PatientFields("Ada", "Runner", "MRN-L"), user="t")
    return records.start_evaluation(db, patient.id, mini_form, user="t", clinician_id=clinician.id)


def test_runner_deleted_with_its_parent_stops_its_thread(qtbot, db) -> None:
    parent = QObject()
    runner = OperationRunner(db, parent)
    thread = runner._thread
    assert thread.isRunning()
    del runner
    with qtbot.waitSignal(parent.destroyed):
        parent.deleteLater()
    assert thread.isFinished()


def test_runner_dropped_by_python_stops_its_thread(qtbot, db, mini_form, clinician) -> None:
    evaluation = _evaluation(db, mini_form, clinician)
    runner = OperationRunner(db)
    saver = DraftAutosaver(runner, evaluation, "t")
    saver.on_findings_changed(empty(mini_form))
    assert saver.flush()
    thread = runner._thread
    assert thread.isRunning()
    del saver, runner
    gc.collect()
    qtbot.waitUntil(thread.isFinished, timeout=5000)
    assert records.get_evaluation(db, evaluation.id).version >= evaluation.version


def test_save_mine_as_a_copy_leaves_one_saver_connected(qtbot, window, db_url) -> None:
    """After "Save mine as a copy" exactly one autosaver exists and listens to the editor, and
    typing goes into the copy only: the other workstation's draft is left as they saved it."""
    from clinic_app.storage.database import open_database
    from clinic_app.ui.fields import NumberEditor

    patient = records.create_patient(window.db, records.PatientFields("Dee", "C", "M-C"), user="t")
    window.patients.model.reload()
    window.patients.select_patient(patient.id)
    window.detail.new_eval_button.click()
    settle(qtbot, window)
    theirs_id = window.page.evaluation.id
    other = open_database(db_url, backup=False)
    try:
        first = records.get_evaluation(other, theirs_id)
        records.save_draft(
            other, theirs_id, {"values": {"slr": {"left": 50}}}, first.version, user="Sam"
        )
    finally:
        other.close()
    view = window.page.view
    view.editor.set_current_section("flexibility")
    line = view.editor.editor("slr", "left")
    assert isinstance(line, NumberEditor)
    when_modal(lambda d: press(d, "Save mine as a copy"))
    qtbot.keyClicks(line.line, "75")
    qtbot.waitUntil(
        lambda: window.page.evaluation is not None and window.page.evaluation.id != theirs_id,
        timeout=5000,
    )
    settle(qtbot, window)
    qtbot.wait(10)  # deleteLater of the old saver
    savers = window.page.findChildren(DraftAutosaver)
    assert savers == [window.page.saver]
    # The editor's findings_changed reaches the page (status text) and the one saver: no more.
    signal = "2findings_changed(PyObject)"
    assert window.page.view.receivers(signal) == 2
    copy_id = window.page.evaluation.id
    line = window.page.view.editor.editor("slr", "left")
    line.line.clear()
    qtbot.keyClicks(line.line, "77")
    assert window.page.flush()
    assert records.get_evaluation(window.db, copy_id).values["slr"] == {"left": 77}
    assert records.get_evaluation(window.db, theirs_id).values["slr"] == {"left": 50}
