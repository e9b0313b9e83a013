"""The patient list model (both directions), the patient dialog, settings and first run."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QComboBox, QDialogButtonBox

from clinic_app.storage import records
from clinic_app.ui.app import ensure_clinician
from clinic_app.ui.dialogs import ClinicDialog, PatientDialog, check_date_of_birth
from clinic_app.ui.main_window import PatientListPanel, report_file_name
from clinic_app.ui.patient_model import PatientTableModel
from tests.ui.helpers import when_modal

PEOPLE = [
    ("Jörg", "Müller", "A-100", date(1980, 3, 7)),
    ("Ana", "Núñez", "A-101", date(1995, 12, 1)),
    ("Sam", "Lee", "B-200", None),
    ("Kim", "Ortega", "C-300", date(2001, 4, 30)),
]


def add_people(db, people=PEOPLE) -> list[records.Patient]:
    return [
        records.create_patient(db, records.PatientFields(g, f, mrn, dob), user="t")
        for g, f, mrn, dob in people
    ]


def names(model: PatientTableModel) -> list[str]:
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_model_passes_the_model_tester_browsing_and_searching(qtmodeltester, db, runner) -> None:
    add_people(db)
    model = PatientTableModel(runner)
    qtmodeltester.check(model)
    model.set_query("mul")
    qtmodeltester.check(model)
    empty = PatientTableModel(runner)
    empty.set_query("zzz")
    qtmodeltester.check(empty)


def test_model_pages_instead_of_loading_everyone(qtbot, db, runner) -> None:
    add_people(db, [(f"Given{n:02d}", f"Family{n:02d}", f"M{n:03d}", None) for n in range(35)])
    model = PatientTableModel(runner, page_size=10)
    assert model.total == 35
    assert model.rowCount() == 10
    assert model.canFetchMore()
    model.fetchMore()
    assert model.rowCount() == 20
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == 35
    assert names(model)[:2] == ["Family00, Given00", "Family01, Given01"]


def test_view_fetches_more_rows_as_it_scrolls(qtbot, db, runner) -> None:
    add_people(db, [(f"G{n:02d}", f"F{n:02d}", f"M{n:03d}", None) for n in range(60)])
    panel = PatientListPanel(runner)
    panel.model.page_size = 15
    panel.model.reload()
    qtbot.addWidget(panel)
    panel.resize(360, 300)
    panel.show()
    assert panel.model.rowCount() == 15
    panel.view.scrollToBottom()
    qtbot.waitUntil(lambda: panel.model.rowCount() > 15)
    assert panel.count.text() == "60 patients"


def test_database_changes_show_in_the_view(qtbot, db, runner) -> None:
    panel = PatientListPanel(runner)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.view.model().rowCount() == 0
    assert panel.count.text() == "0 patients"
    add_people(db)
    panel.model.reload()
    view_names = [
        panel.view.model().index(r, 0).data() for r in range(panel.view.model().rowCount())
    ]
    assert view_names == ["Lee, Sam", "Müller, Jörg", "Núñez, Ana", "Ortega, Kim"]
    assert panel.count.text() == "4 patients"
    kim = records.get_patient_by_mrn(db, "C-300")
    assert kim is not None
    assert panel.select_patient(kim.id)
    assert panel.current_patient() == kim


def test_typing_in_search_filters_the_model_debounced(qtbot, db, runner) -> None:
    add_people(db)
    panel = PatientListPanel(runner)
    qtbot.addWidget(panel)
    panel.show()
    loads: list[int] = []
    panel.model.loaded.connect(lambda: loads.append(1))
    qtbot.keyClicks(panel.search, "mul")  # ASCII finds "Müller": accents are folded
    assert panel.model.query == ""  # not on every keystroke...
    qtbot.waitUntil(lambda: panel.model.query == "mul")  # ...but once typing pauses
    assert len(loads) == 1
    assert names(panel.model) == ["Müller, Jörg"]
    assert panel.count.text() == "1 match"
    panel.search.setText("MÜL")  # Unicode goes in with setText
    qtbot.waitUntil(lambda: panel.model.query == "MÜL")
    assert names(panel.model) == ["Müller, Jörg"]
    panel.search.clear()
    qtbot.keyClicks(panel.search, "B-20")
    qtbot.waitUntil(lambda: panel.model.query == "B-20")
    assert names(panel.model) == ["Lee, Sam"]
    panel.search.clear()
    qtbot.keyClicks(panel.search, "1995-12-01")
    qtbot.waitUntil(lambda: panel.model.query == "1995-12-01")
    assert names(panel.model) == ["Núñez, Ana"]
    panel.search.clear()
    qtbot.waitUntil(lambda: panel.model.query == "")
    assert panel.model.rowCount() == 4


def test_header_click_sorts(qtbot, db, runner) -> None:
    add_people(db)
    panel = PatientListPanel(runner)
    qtbot.addWidget(panel)
    panel.show()
    panel.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    assert [panel.model.index(r, 1).data() for r in range(4)] == [
        "C-300",
        "B-200",
        "A-101",
        "A-100",
    ]
    panel.view.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    born = [panel.model.index(r, 2).data()[:10] for r in range(4)]
    assert born == ["1980-03-07", "1995-12-01", "2001-04-30", ""]  # unknown dates last
    panel.view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    assert panel.model.index(0, 2).data().startswith("2001-04-30")
    assert panel.model.index(3, 2).data() == ""
    panel.model.set_query("a")  # a search result is sorted the same way, in memory
    born = [panel.model.index(r, 2).data()[:10] for r in range(panel.model.rowCount())]
    assert born == sorted(filter(None, born), reverse=True) + [b for b in born if not b]


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


def test_first_run_asks_for_clinic_and_clinician(qtbot, db, runner) -> None:
    def fill(dialog) -> None:
        assert isinstance(dialog, ClinicDialog)
        dialog.fields["clinic_name"].widget.setText("Praxis Süd")  # type: ignore[union-attr]
        qtbot.keyClicks(dialog.fields["clinician_name"].widget, "Robin Park")
        qtbot.keyClicks(dialog.fields["credentials"].widget, "PT")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()

    when_modal(fill)
    person = ensure_clinician(runner)
    assert person is not None
    assert person.name == "Robin Park"
    assert records.get_clinic(db).name == "Praxis Süd"  # type: ignore[union-attr]
    assert int(QSettings().value("clinician_id")) == person.id  # type: ignore[arg-type]
    assert ensure_clinician(runner) == person  # remembered: no second question


def test_settings_dialog_shows_where_the_data_lives_and_saves(
    qtbot, db, clinician, db_url, runner
) -> None:
    dialog = ClinicDialog(runner, clinician_id=clinician.id)
    qtbot.addWidget(dialog)
    assert dialog.storage_labels["database"].text() == db_url
    assert dialog.storage_labels["data_dir"].text().endswith("data")
    assert dialog.fields["clinician_name"].widget.text() == "Dana Physio"  # type: ignore[union-attr]
    dialog.fields["clinic_name"].widget.setText("")  # type: ignore[union-attr]
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.problems() == {"clinic_name": "Enter the clinic's name"}
    dialog.fields["clinic_name"].widget.setText("Neue Praxis")  # type: ignore[union-attr]
    with qtbot.waitSignal(dialog.saved):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert records.get_clinic(db).name == "Neue Praxis"  # type: ignore[union-attr]
    assert records.get_clinician(db, clinician.id).credentials == "PT, DPT"


@pytest.mark.parametrize(
    ("given", "family", "expected"),
    [
        ("Ada", "Runner", "Runner_Ada_2026-11-21_report.pdf"),
        ("Zoë", "O'Neil / Smith", "O-Neil---Smith_Zoë_2026-11-21_report.pdf"),
    ],
)
def test_report_file_name(given: str, family: str, expected: str) -> None:
    p = records.Patient(  # a plain value: no database needed
        1,
        given,
        family,
        "M",
        None,
        "unknown",
        "",
        "",
        "",
        "",
        False,
        date(2026, 1, 1),
        date(2026, 1, 1),
        "t",  # type: ignore[arg-type]
    )
    assert report_file_name(p, date(2026, 11, 21)) == expected


def test_a_second_computer_picks_a_clinician_or_adds_one(qtbot, db, clinician, runner) -> None:
    records.save_clinician(db, records.ClinicianInfo("Lee Second"), user="t")
    QSettings().remove("clinician_id")  # this computer has not been set up

    def pick(dialog) -> None:
        combo = dialog.findChild(QComboBox)
        assert [combo.itemText(n) for n in range(combo.count())] == [
            "Dana Physio",
            "Lee Second",
            "Someone else (add a clinician)…",
        ]
        combo.setCurrentIndex(1)
        dialog.accept()

    when_modal(pick)
    chosen = ensure_clinician(runner)
    assert chosen is not None
    assert chosen.name == "Lee Second"
    assert int(QSettings().value("clinician_id")) == chosen.id  # type: ignore[arg-type]
