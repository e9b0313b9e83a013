"""The New patient dialog proposes the next MRN of the clinic's pattern (issue 18).

Real widgets on a real SQLite file; a second workstation is a second Database on the same file.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QDialogButtonBox

from clinic_app.storage import records
from clinic_app.storage.database import open_database
from clinic_app.ui.dialogs import ClinicDialog, PatientDialog

TODAY = date(2026, 12, 2)


def new_dialog(qtbot, runner) -> PatientDialog:
    dialog = PatientDialog(runner, "Dana", today=TODAY)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def save(qtbot, dialog: PatientDialog) -> records.Patient:
    with qtbot.waitSignal(dialog.saved, timeout=5000) as blocker:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    return blocker.args[0]


def test_without_a_pattern_the_mrn_is_typed(qtbot, db, runner) -> None:
    dialog = new_dialog(qtbot, runner)
    assert dialog.fields["mrn"].widget.text() == ""  # type: ignore[union-attr]
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.problems()["mrn"] == "Enter the medical record number"


def test_the_next_number_is_proposed_and_saved(qtbot, db, runner) -> None:
    records.save_setting(db, "mrn_pattern", "P{year}-{n:05}", user="admin")
    records.create_patient(db, records.PatientFields("Al", "Bo", "P2026-00041"), user="t")
    dialog = new_dialog(qtbot, runner)
    mrn = dialog.fields["mrn"].widget
    assert mrn.text() == "P2026-00042"  # type: ignore[union-attr]
    assert "pattern" in mrn.toolTip()
    dialog.fields["given_name"].widget.setText("Fang")  # type: ignore[union-attr]
    dialog.fields["family_name"].widget.setText("Wang")  # type: ignore[union-attr]
    assert save(qtbot, dialog).mrn == "P2026-00042"


def test_another_workstation_took_the_proposal_meanwhile(qtbot, db, runner) -> None:
    records.save_setting(db, "mrn_pattern", "P{year}-{n:05}", user="admin")
    dialog = new_dialog(qtbot, runner)
    assert dialog.fields["mrn"].widget.text() == "P2026-00001"  # type: ignore[union-attr]
    other = open_database(db.url, backup=False)
    try:
        records.create_patient(
            other, records.PatientFields("Lee", "Other", "P2026-00001"), user="b"
        )
    finally:
        other.close()
    dialog.fields["given_name"].widget.setText("Fang")  # type: ignore[union-attr]
    dialog.fields["family_name"].widget.setText("Wang")  # type: ignore[union-attr]
    saved = save(qtbot, dialog)
    assert saved.mrn == "P2026-00002"  # the next free one, not a duplicate refusal
    assert records.get_patient_by_mrn(db, "P2026-00001").given_name == "Lee"  # type: ignore[union-attr]


def test_a_typed_mrn_is_still_allowed_and_checked(qtbot, db, runner) -> None:
    records.save_setting(db, "mrn_pattern", "P{year}-{n:05}", user="admin")
    records.create_patient(db, records.PatientFields("Al", "Bo", "OLD-7"), user="t")
    dialog = new_dialog(qtbot, runner)
    dialog.fields["given_name"].widget.setText("Fang")  # type: ignore[union-attr]
    dialog.fields["family_name"].widget.setText("Wang")  # type: ignore[union-attr]
    dialog.fields["mrn"].widget.setText("OLD-7")  # type: ignore[union-attr]
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.problems()["mrn"] == "MRN OLD-7 is already used by Bo, Al"
    dialog.fields["mrn"].widget.setText("HAND-1")  # type: ignore[union-attr]
    assert save(qtbot, dialog).mrn == "HAND-1"


def test_editing_a_patient_proposes_nothing(qtbot, db, runner) -> None:
    records.save_setting(db, "mrn_pattern", "P{year}-{n:05}", user="admin")
    p = records.create_patient(db, records.PatientFields("Al", "Bo", "OLD-7"), user="t")
    dialog = PatientDialog(runner, "Dana", p, today=TODAY)
    qtbot.addWidget(dialog)
    assert dialog.fields["mrn"].widget.text() == "OLD-7"  # type: ignore[union-attr]


def test_the_admin_sets_the_pattern_in_settings(qtbot, db, runner, clinician) -> None:
    dialog = ClinicDialog(runner, clinician.id, admin=True)
    qtbot.addWidget(dialog)
    dialog.show()
    field = dialog.fields["mrn_pattern"].widget
    field.setText("P {n}")  # type: ignore[union-attr]
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert "MRN pattern" in dialog.problems()["mrn_pattern"]
    assert records.get_setting(db, "mrn_pattern") == ""
    field.setText("K{year}/{n:04}")  # type: ignore[union-attr]
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert records.get_setting(db, "mrn_pattern") == "K{year}/{n:04}"
    again = ClinicDialog(runner, clinician.id, admin=True)
    qtbot.addWidget(again)
    assert again.text("mrn_pattern") == "K{year}/{n:04}"
