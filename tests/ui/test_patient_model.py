"""The patient list model and panel, in both directions (change the model, read the view; use the
view, read the model); the dialogs are in test_dialogs.py."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt

from clinic_app.storage import records
from clinic_app.ui.main_window import PatientListPanel, report_file_name
from clinic_app.ui.patient_model import PatientTableModel

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
