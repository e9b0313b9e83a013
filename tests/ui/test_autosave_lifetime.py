"""The autosave thread ends with its saver, however the saver goes away."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject

from clinic_app.core.findings import empty
from clinic_app.storage import records
from clinic_app.ui.autosave import DraftAutosaver


def _evaluation(db, mini_form, clinician) -> records.Evaluation:
    patient = records.create_patient(db, records.PatientFields("Ada", "Runner", "MRN-L"), user="t")
    return records.start_evaluation(db, patient.id, mini_form, user="t", clinician_id=clinician.id)


def test_saver_deleted_with_its_parent_stops_its_thread(qtbot, db, mini_form, clinician) -> None:
    parent = QObject()
    saver = DraftAutosaver(db, _evaluation(db, mini_form, clinician), "t", parent=parent)
    thread = saver._thread
    assert thread.isRunning()
    del saver
    with qtbot.waitSignal(parent.destroyed):
        parent.deleteLater()
    assert thread.isFinished()


def test_saver_dropped_by_python_stops_its_thread(qtbot, db, mini_form, clinician) -> None:
    evaluation = _evaluation(db, mini_form, clinician)
    saver = DraftAutosaver(db, evaluation, "t")
    saver.on_findings_changed(empty(mini_form))
    saver.flush()
    thread = saver._thread
    assert thread.isRunning()
    del saver
    gc.collect()
    qtbot.waitUntil(thread.isFinished, timeout=5000)
    assert records.get_evaluation(db, evaluation.id).version >= evaluation.version
