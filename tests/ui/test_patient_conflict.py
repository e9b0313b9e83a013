"""The patient dialog when another workstation changed the same patient meanwhile."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from clinic_app.storage import records
from clinic_app.ui.dialogs import PatientDialog
from tests.ui.helpers import press, when_modal


def _edited_meanwhile(qtbot, db, runner) -> tuple[PatientDialog, records.Patient]:
    """A dialog open on Anna; the front desk then saves a new phone and email elsewhere; the
    therapist types a phone and an activity."""
    anna = records.create_patient(
        db, records.PatientFields("Anna", "Müller", "MRN-A", phone="111"), user="setup"
    )
    dialog = PatientDialog(runner, "Dana", anna)
    qtbot.addWidget(dialog)
    dialog.show()
    desk = replace(anna.fields(), phone="222", email="anna@example.org")
    records.update_patient(db, anna.id, desk, user="Front desk", expected=anna)
    dialog.fields["phone"].widget.setText("333")  # type: ignore[union-attr]
    dialog.fields["activity"].widget.setText("Trail running")  # type: ignore[union-attr]
    return dialog, anna


def _save(dialog: PatientDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()


@pytest.mark.parametrize(("choice", "phone"), [("Keep mine", "333"), ("Use theirs", "222")])
def test_a_conflict_asks_and_keeps_every_other_change(
    qtbot, db, choice: str, phone: str, runner
) -> None:
    dialog, anna = _edited_meanwhile(qtbot, db, runner)
    seen: list[str] = []

    def choose(box) -> None:
        seen.append(box.text())
        press(box, choice)

    when_modal(choose)
    with qtbot.waitSignal(dialog.saved):
        _save(dialog)
    assert "Front desk" in seen[0]
    assert "Phone: theirs <b>222</b>, yours <b>333</b>" in seen[0]
    now = records.get_patient(db, anna.id)
    assert now.phone == phone
    assert now.activity == "Trail running"  # my other edit
    assert now.email == "anna@example.org"  # their other change
    assert not dialog.isVisible()


def test_keep_editing_saves_nothing_and_keeps_the_typing(qtbot, db, runner) -> None:
    dialog, anna = _edited_meanwhile(qtbot, db, runner)
    asked: list[str] = []

    def keep_editing(box) -> None:
        asked.append(box.text())
        press(box, "Keep editing")

    when_modal(keep_editing)
    _save(dialog)
    qtbot.waitUntil(lambda: bool(asked), timeout=5000)  # the question comes from the save
    qtbot.waitUntil(lambda: runner.pending() == 0, timeout=5000)
    now = records.get_patient(db, anna.id)
    assert (now.phone, now.activity) == ("222", "")
    assert dialog.isVisible()
    assert dialog.text("phone") == "333"
    assert dialog.text("activity") == "Trail running"
