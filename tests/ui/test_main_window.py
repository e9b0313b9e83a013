"""The main window: complete once attached, wired to its screens, refreshed by what changed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from clinic_app.storage import records
from clinic_app.storage.first_page import read_first_page
from clinic_app.ui.documents import DocumentActions
from clinic_app.ui.evaluation_page import EvaluationPage
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.operations import Changes
from clinic_app.ui.patient_detail import PatientDetail
from tests.ui.helpers import settle


def test_built_with_a_database_every_panel_is_there(window: MainWindow) -> None:
    assert window.is_ready
    assert isinstance(window.detail, PatientDetail)
    assert isinstance(window.page, EvaluationPage)
    assert isinstance(window.documents, DocumentActions)
    assert window.detail.context is window.context
    assert window.page.context is window.context
    assert window.findChild(QLabel, "openingLabel") is None
    enabled = {k for k, a in window.actions_.items() if a.isEnabled()}
    assert {"new_patient", "backup", "settings", "quit", "find_patient"} <= enabled
    assert "export_report" not in enabled  # nothing open yet


def test_from_a_first_page_only_the_list_works_until_attached(
    qtbot, db_url, db, mini_form, clinician
) -> None:
    records.create_patient(db, records.PatientFields("Ann", "First", "P-1"), user="t")
    path = Path(db_url.removeprefix("sqlite:///"))
    first = read_first_page(path, clinician_id=clinician.id, limit=100)
    assert first is not None
    window = MainWindow(None, None, first.clinician, first_page=first)
    qtbot.addWidget(window)
    assert not window.is_ready
    assert window.patients.model.rowCount() == 1
    assert window.findChild(QLabel, "openingLabel") is not None
    enabled = {k for k, a in window.actions_.items() if a.isEnabled()}
    help_ = {"help_guide", "help_shortcuts", "help_about"}  # the guide needs no database
    assert enabled == {"quit", "find_patient", *help_}
    with qtbot.waitSignal(window.ready):
        window.attach(db, mini_form)
    assert window.is_ready
    assert window.actions_["new_patient"].isEnabled()


def test_a_change_made_by_another_screen_refreshes_the_list_and_keeps_the_selection(
    qtbot, window: MainWindow
) -> None:
    a = records.create_patient(window.db, records.PatientFields("Ada", "Alpha", "C-1"), user="t")
    window.patients.refresh()
    assert window.patients.select_patient(a.id)
    # Another patient arrives through some operation; its Changes reach the window.
    b = window.context.runner.call(
        "Adding",
        lambda db: records.create_patient(db, records.PatientFields("Bo", "Beta", "C-2"), user="t"),
    )
    window.context.runner.changed.emit(Changes.patient(b.id))
    assert window.patients.model.rowCount() == 2
    assert window.patients.current_patient() == a


def test_an_evaluation_change_refreshes_the_patient_shown(qtbot, window: MainWindow) -> None:
    patient = records.create_patient(
        window.db, records.PatientFields("Cy", "Gamma", "C-3"), user="t"
    )
    window.patients.refresh()
    window.patients.select_patient(patient.id)
    assert window.detail.evaluations == []
    ev = records.start_evaluation(window.db, patient.id, window.form, user="t")
    window.context.runner.changed.emit(Changes.evaluation(ev.id, patient.id))
    assert [row.id for row in window.detail.evaluations] == [ev.id]


def test_closing_ends_the_database_worker(qtbot, window: MainWindow) -> None:
    thread = window.context.runner._thread
    assert thread.isRunning()
    window.close()
    assert thread.isFinished()


def test_settings_saved_change_who_saves(qtbot, window: MainWindow, db) -> None:
    patient = records.create_patient(
        window.db, records.PatientFields("Di", "Delta", "C-4"), user="t"
    )
    window.patients.refresh()
    window.patients.select_patient(patient.id)
    window.detail.new_eval_button.click()
    settle(qtbot, window)
    assert window.page.saver is not None
    renamed = records.save_clinician(
        db, records.ClinicianInfo("Dana Physio-Renamed"), user="t", clinician_id=window.clinician.id
    )
    window.context.set_clinician(renamed)
    assert window.page.saver.user == "Dana Physio-Renamed"
    assert window.user == "Dana Physio-Renamed"
