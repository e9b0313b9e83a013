"""The patient dialog's date of birth: an implausible one is refused beside the field with the
records API's own message (``core.patient_checks``), nothing is saved; an old record that already
holds one still opens, lists and can have its other fields corrected. Real widgets offscreen, a
real SQLite file read back."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit

from clinic_app.storage import records
from clinic_app.ui.dialogs import PatientDialog, check_date_of_birth
from clinic_app.ui.patient_model import PatientTableModel
from tests.storage.test_dob_routes import plant_date_of_birth

TODAY = date(2026, 11, 21)
OLD = "is more than 120 years ago"


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("0001-01-01", TODAY, (None, f"Date of birth: 0001-01-01 {OLD}")),
        ("1800-01-01", TODAY, (None, f"Date of birth: 1800-01-01 {OLD}")),
        ("31.12.1895", TODAY, (None, f"Date of birth: 1895-12-31 {OLD}")),
        ("1906-11-20", TODAY, (None, f"Date of birth: 1906-11-20 {OLD}")),  # a day too early
        ("1906-11-21", TODAY, (date(1906, 11, 21), None)),  # the boundary day itself
        ("9999-12-31", TODAY, (None, "Date of birth: 9999-12-31 is in the future")),
        ("2026-11-22", TODAY, (None, "Date of birth: 2026-11-22 is in the future")),
        ("2026-11-21", TODAY, (TODAY, None)),  # born today
        ("2026-02-30", TODAY, (None, "Not a date: use YYYY-MM-DD (or DD.MM.YYYY)")),
        ("  1980-01-01 ", TODAY, (date(1980, 1, 1), None)),
        ("1" * 10_000, TODAY, (None, "Not a date: use YYYY-MM-DD (or DD.MM.YYYY)")),
        ("1992-02-29", TODAY, (date(1992, 2, 29), None)),
        # Today 29 February, 120 years back has none (1900 is no leap year): 28 February is it.
        ("1900-02-28", date(2020, 2, 29), (date(1900, 2, 28), None)),
        ("1900-02-27", date(2020, 2, 29), (None, f"Date of birth: 1900-02-27 {OLD}")),
    ],
    ids=lambda v: v[:20] if isinstance(v, str) else None,
)
def test_the_field_refuses_an_implausible_date_naming_it(
    text: str, today: date, expected: tuple[date | None, str | None]
) -> None:
    assert check_date_of_birth(text, today) == expected


def _line(dialog: PatientDialog, key: str) -> QLineEdit:
    widget = dialog.fields[key].widget
    assert isinstance(widget, QLineEdit)
    return widget


def _save(dialog: PatientDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()


@pytest.mark.parametrize("typed", ["0001-01-01", "1800-01-01", "9999-12-31"])
def test_a_new_patient_with_an_implausible_date_is_not_saved(qtbot, db, runner, typed) -> None:
    dialog = PatientDialog(runner, "Dana")
    qtbot.addWidget(dialog)
    dialog.show()
    _line(dialog, "given_name").setText("Ada")
    _line(dialog, "family_name").setText("Old")
    _line(dialog, "mrn").setText("D-1")
    qtbot.keyClicks(_line(dialog, "date_of_birth"), typed)
    _save(dialog)
    assert dialog.isVisible()
    problem = dialog.problems()["date_of_birth"]
    assert problem.startswith(f"Date of birth: {typed} is ")
    assert dialog.fields["date_of_birth"].error.isVisible()
    assert _line(dialog, "date_of_birth").text() == typed  # nothing typed is cleared
    assert records.count_patients(db, include_archived=True) == 0


def test_an_old_record_opens_lists_and_its_phone_can_be_corrected(qtbot, db, runner) -> None:
    """The date the record already holds may stay (refusing it would force a blank or a guessed
    date of birth to correct a phone number); typing another implausible one is refused."""
    p = records.create_patient(db, records.PatientFields("Ada", "Old", "L-1"), user="t")
    plant_date_of_birth(db, p.id, date(1, 1, 1))
    model = PatientTableModel(runner)
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    # the Born column shows it as the dialog does (strftime's %Y would print "1-01-01")
    assert model.index(0, 2).data().startswith("0001-01-01 (")
    old = records.get_patient(db, p.id)
    dialog = PatientDialog(runner, "Dana", old)
    qtbot.addWidget(dialog)
    dialog.show()
    assert _line(dialog, "date_of_birth").text() == "0001-01-01"
    _line(dialog, "date_of_birth").setText("1800-01-01")
    _save(dialog)
    assert dialog.problems()["date_of_birth"] == f"Date of birth: 1800-01-01 {OLD}"
    assert records.get_patient(db, p.id) == old  # nothing written
    _line(dialog, "date_of_birth").setText("0001-01-01")
    _line(dialog, "phone").setText("555-0199")
    with qtbot.waitSignal(dialog.saved):
        _save(dialog)
    stored = records.get_patient(db, p.id)
    assert (stored.date_of_birth, stored.phone) == (date(1, 1, 1), "555-0199")


def test_an_old_records_year_is_shown_with_four_digits(qtbot, db, window) -> None:
    """strftime's %Y writes year 1 as "1": the detail pane shows 0001-01-01, as stored."""
    p = records.create_patient(db, records.PatientFields("Ada", "Old", "L-2"), user="t")
    plant_date_of_birth(db, p.id, date(1, 1, 1))
    window.detail.show_patient(records.get_patient(db, p.id))
    shown = window.detail.fact_labels["date_of_birth"].full_text
    assert shown.startswith("0001-01-01 (age ")
