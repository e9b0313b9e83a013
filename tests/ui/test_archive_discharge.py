"""Archiving and restoring a patient, and starting a discharge evaluation, from the window."""

from __future__ import annotations

from clinic_app.storage import records
from clinic_app.ui.main_window import MainWindow
from tests.ui.helpers import answer, wait_idle


def _patient(window: MainWindow, given: str, family: str, mrn: str) -> records.Patient:
    patient = records.create_patient(window.db, records.PatientFields(given, family, mrn), user="t")
    window.patients.model.reload()
    assert window.patients.select_patient(patient.id)
    return patient


def _names(window: MainWindow) -> list[str]:
    model = window.patients.model
    return [str(model.data(model.index(r, 0))) for r in range(model.rowCount())]


def test_archive_hides_the_patient_and_restore_brings_them_back(window: MainWindow) -> None:
    _patient(window, "Bea", "Keep", "MRN-K")
    gone = _patient(window, "Olga", "Gone", "MRN-G")
    assert window.detail.patient == gone
    answer("Archive")
    window.detail.archive_button.click()
    wait_idle(window)
    assert records.get_patient(window.db, gone.id).archived
    assert _names(window) == ["Keep, Bea"]
    assert window.detail.patient is None
    assert window.patients.count.text() == "1 patient"
    window.patients.search.setText("olga")
    window.patients.debounce.timeout.emit()
    assert window.patients.model.rowCount() == 0  # search does not find archived patients
    window.patients.search.setText("")
    window.patients.debounce.timeout.emit()

    window.patients.archived.setChecked(True)  # show archived patients, marked as such
    assert _names(window) == ["Gone, Olga (archived)", "Keep, Bea"]
    assert window.patients.select_patient(gone.id)
    detail = window.detail
    assert detail.name.text() == "Olga Gone (archived)"
    assert detail.archive_button.text() == "Restore…"
    assert not detail.new_eval_button.isEnabled()  # restore first
    assert not detail.discharge_button.isEnabled()
    answer("Restore")
    detail.archive_button.click()
    wait_idle(window)
    assert not records.get_patient(window.db, gone.id).archived
    window.patients.archived.setChecked(False)
    assert _names(window) == ["Gone, Olga", "Keep, Bea"]
    events = [  # the changes, without the access log's views (issue 14)
        e
        for e in records.audit_events(window.db, entity="patient", entity_id=gone.id)
        if e.action in ("archive", "unarchive")
    ]
    assert [(e.action, e.actor) for e in events[:2]] == [  # newest first
        ("unarchive", "Dana Physio"),
        ("archive", "Dana Physio"),
    ]


def test_cancelling_the_archive_question_changes_nothing(window: MainWindow) -> None:
    patient = _patient(window, "Cal", "Stay", "MRN-S")
    answer("Cancel")
    window.detail.archive_button.click()
    assert not records.get_patient(window.db, patient.id).archived
    assert _names(window) == ["Stay, Cal"]
    assert window.detail.patient == patient


def test_discharge_starts_from_the_last_values(window: MainWindow) -> None:
    patient = _patient(window, "Dee", "Done", "MRN-D")
    assert not window.detail.discharge_button.isEnabled()  # nothing to discharge from yet
    first = records.start_evaluation(window.db, patient.id, window.form, user="t")
    records.save_draft(
        window.db, first.id, {"values": {"slr": {"left": 64, "right": 80}}}, first.version, user="t"
    )
    window.detail.show_patient(patient)
    assert window.detail.discharge_button.isEnabled()
    window.detail.discharge_button.click()
    wait_idle(window)
    evaluation = window.page.evaluation
    assert evaluation is not None
    assert evaluation.kind == "discharge"
    assert window.page.view is not None
    assert dict(evaluation.findings["values"])["slr"] == {"left": 64, "right": 80}
    assert "Discharge" in window.page.title.text()
