"""The dialogs: patient details, first run, settings; their checks, saves and failures."""

from __future__ import annotations

import sqlite3
from datetime import date

from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from clinic_app.storage import records
from clinic_app.ui.dialogs import ClinicDialog, PatientDialog, check_date_of_birth
from tests.ui.helpers import press, when_modal
from tests.ui.test_patient_model import add_people


def test_date_of_birth_rules() -> None:
    today = date(2026, 11, 21)
    assert check_date_of_birth("", today) == (None, None)
    assert check_date_of_birth("1984-03-07", today) == (date(1984, 3, 7), None)
    assert check_date_of_birth("07.03.1984", today) == (date(1984, 3, 7), None)
    assert "future" in (check_date_of_birth("2027-01-01", today)[1] or "")
    assert "120" in (check_date_of_birth("1900-01-01", today)[1] or "")
    assert "Not a date" in (check_date_of_birth("31.02.1984", today)[1] or "")


def test_patient_dialog_shows_problems_beside_the_fields(qtbot, db, runner) -> None:
    add_people(db)
    dialog = PatientDialog(runner, "Dana", today=date(2026, 11, 21))
    qtbot.addWidget(dialog)
    dialog.show()
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    save.click()
    assert dialog.isVisible()
    problems = dialog.problems()
    assert problems["given_name"] == "Enter the given name"
    assert problems["family_name"] == "Enter the family name"
    assert problems["mrn"] == "Enter the medical record number"
    # Unicode names with setText; a taken MRN and a future birthday are refused, nothing cleared.
    dialog.fields["given_name"].widget.setText("Zoë")  # type: ignore[union-attr]
    dialog.fields["family_name"].widget.setText("Łukasiewicz-Øster")  # type: ignore[union-attr]
    qtbot.keyClicks(dialog.fields["mrn"].widget, "A-100")
    qtbot.keyClicks(dialog.fields["date_of_birth"].widget, "2030-01-01")
    save.click()
    problems = dialog.problems()
    assert set(problems) == {"mrn", "date_of_birth"}
    assert problems["mrn"] == "MRN A-100 is already used by Müller, Jörg"
    assert "future" in problems["date_of_birth"]
    assert dialog.fields["family_name"].widget.text() == "Łukasiewicz-Øster"  # type: ignore[union-attr]
    assert dialog.fields["mrn"].error.isVisible()
    dialog.fields["mrn"].widget.setText("Z-1")  # type: ignore[union-attr]
    dialog.fields["date_of_birth"].widget.setText("1901-06-01")  # type: ignore[union-attr]
    save.click()
    assert "120" in dialog.problems()["date_of_birth"]
    dialog.fields["date_of_birth"].widget.setText("1988-06-01")  # type: ignore[union-attr]
    with qtbot.waitSignal(dialog.saved) as blocker:
        save.click()
    saved = blocker.args[0]
    assert (saved.given_name, saved.family_name, saved.mrn) == ("Zoë", "Łukasiewicz-Øster", "Z-1")
    assert records.get_patient_by_mrn(db, "Z-1").date_of_birth == date(1988, 6, 1)  # type: ignore[union-attr]


def test_editing_a_patient_keeps_their_own_mrn(qtbot, db, runner) -> None:
    [jorg, *_] = add_people(db)
    dialog = PatientDialog(runner, "Dana", jorg)
    qtbot.addWidget(dialog)
    assert dialog.fields["family_name"].widget.text() == "Müller"  # type: ignore[union-attr]
    dialog.fields["activity"].widget.setText("Trail running")  # type: ignore[union-attr]
    with qtbot.waitSignal(dialog.saved):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert records.get_patient(db, jorg.id).activity == "Trail running"


def test_settings_dialog_shows_where_the_data_lives_and_saves(
    qtbot, db, clinician, db_url, runner
) -> None:
    dialog = ClinicDialog(runner, clinician_id=clinician.id)
    qtbot.addWidget(dialog)
    assert dialog.storage_labels["database"].full_path == db_url
    assert dialog.storage_labels["data_dir"].full_path.endswith("data")
    assert dialog.fields["clinician_name"].widget.text() == "Dana Physio"  # type: ignore[union-attr]
    dialog.fields["clinic_name"].widget.setText("")  # type: ignore[union-attr]
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.problems() == {"clinic_name": "Enter the clinic's name"}
    dialog.fields["clinic_name"].widget.setText("Neue Praxis")  # type: ignore[union-attr]
    with qtbot.waitSignal(dialog.saved):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert records.get_clinic(db).name == "Neue Praxis"  # type: ignore[union-attr]
    assert records.get_clinician(db, clinician.id).credentials == "PT, DPT"


def test_a_failing_settings_save_keeps_the_dialog_as_typed(qtbot, db, clinician, db_url, runner):
    """The clinic table refuses the write (a real SQLite trigger): the failure is shown, the
    dialog stays open with everything typed, Save works again, and nothing was half-saved."""
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    con.execute(
        "CREATE TRIGGER fault BEFORE UPDATE ON clinic BEGIN SELECT RAISE(ABORT, 'disk'); END"
    )
    con.close()
    dialog = ClinicDialog(runner, clinician_id=clinician.id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.fields["clinic_name"].widget.setText("Praxis Nord")  # type: ignore[union-attr]
    dialog.fields["credentials"].widget.setText("PT, MSc")  # type: ignore[union-attr]
    seen: list[str] = []

    def read(box: QMessageBox) -> None:
        seen.append(box.text())
        press(box, "OK")

    when_modal(read)
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    save.click()
    assert not save.isEnabled()  # one save at a time
    qtbot.waitUntil(lambda: bool(seen) and save.isEnabled(), timeout=5000)
    assert seen[0].startswith("Saving the settings did not work.")
    assert dialog.isVisible()
    assert dialog.text("clinic_name") == "Praxis Nord"
    assert dialog.text("credentials") == "PT, MSc"
    assert records.get_clinic(db).name == "Thigh & Hip Clinic"  # type: ignore[union-attr]
    # The clinic is saved first: the profile was never reached, so it did not change either.
    assert records.get_clinician(db, clinician.id).credentials == "PT, DPT"


def test_a_closed_dialog_gives_the_keyboard_back_to_its_window(qtbot, window) -> None:
    window.patients.new_button.click()
    dialog = window.findChild(PatientDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.isActiveWindow() or window.isActiveWindow())
    dialog.reject()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)


def test_mrn_taken_meanwhile_is_said_beside_the_field(qtbot, db, runner) -> None:
    """The MRN was free when checked and taken by another workstation before the save: the
    save's own check says so beside the field, and nothing typed is cleared."""
    dialog = PatientDialog(runner, "Dana", today=date(2026, 11, 21))
    qtbot.addWidget(dialog)
    dialog.show()
    for key, text in (("given_name", "Kai"), ("family_name", "Race"), ("mrn", "R-1")):
        dialog.fields[key].widget.setText(text)  # type: ignore[union-attr]
    assert dialog.check() is not None  # free now
    records.create_patient(db, records.PatientFields("Other", "Desk", "R-1"), user="desk")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: "mrn" in dialog.problems(), timeout=5000)
    assert dialog.problems()["mrn"] == "MRN R-1 is already used by Desk, Other"
    assert dialog.text("given_name") == "Kai"
    assert dialog.isVisible()
