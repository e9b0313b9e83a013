"""The main window's idle-time warm-up: what the first open of an evaluation would otherwise
pay for is done before ``warmed``, without anything showing or the focus moving."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from clinic_app.core.responses import questionnaire_of
from clinic_app.storage import records
from clinic_app.ui.main_window import MainWindow

CREATED = Qt.WidgetAttribute.WA_WState_Created


def _warm(qtbot: Any, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    with qtbot.waitSignal(window.warmed, timeout=30_000):
        pass


def _shown_parts(view: QWidget) -> list[QWidget]:
    """The prepared view's widgets that will show with it (its current page and panels)."""
    return [w for w in view.findChildren(QWidget) if w.isVisibleTo(view)]


def test_warm_only_once_the_pages_ahead_and_the_visit_view_are_built(
    qtbot: Any, shipped_window: MainWindow
) -> None:
    seen: list[tuple[bool, bool, bool]] = []

    def on_warmed() -> None:
        page = shipped_window.page
        spare = page._spare
        assert spare is not None
        seen.append(
            (spare.editor.is_building_ahead(), page.is_preparing(), page._spare_visit is None)
        )

    shipped_window.warmed.connect(on_warmed)
    _warm(qtbot, shipped_window)
    # The shipped form has visit notes: a visit note's view is prepared as well.
    assert seen == [(False, False, False)]
    spare = shipped_window.page._spare
    assert spare is not None
    assert spare.editor.built_sections() == [s.id for s in spare.editor.sections]


def test_the_first_showing_is_rehearsed_unseen_and_the_focus_stays(
    qtbot: Any, shipped_window: MainWindow
) -> None:
    window = shipped_window
    window.patients.search.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.patients.search)
    before = window.stack.currentWidget()
    assert before is not window.page
    _warm(qtbot, window)
    spare = window.page._spare
    assert spare is not None
    parts = _shown_parts(spare)
    assert len(parts) > 50
    # Qt's first showing (each widget created) happened in the warm-up, not in the first open;
    # on a window that only grabbed the view none of them was.
    assert [w.objectName() or type(w).__name__ for w in parts if not w.testAttribute(CREATED)] == []
    assert window.stack.currentWidget() is before
    assert not window.page.isVisible()
    assert not spare.isVisible()
    assert QApplication.focusWidget() is window.patients.search


def test_the_first_open_uses_the_prepared_view_and_its_questionnaires(
    qtbot: Any, shipped_window: MainWindow, db: Any, clinician: Any
) -> None:
    window = shipped_window
    questionnaire_of.cache_clear()
    _warm(qtbot, window)
    wanted = {i.questionnaire for i in window.form.items.values() if i.questionnaire}
    assert wanted  # the shipped form has LEFS, PSFS and NPRS items
    assert questionnaire_of.cache_info().currsize >= len(wanted)
    patient = records.create_patient(db, records.PatientFields("Ann", "Lee", "W-1"), user="t")
    evaluation = records.start_evaluation(
        db, patient.id, window.form, user="t", clinician_id=clinician.id
    )
    spare = window.page._spare
    misses = questionnaire_of.cache_info().misses
    window.open_evaluation(evaluation, patient)
    assert window.page.view is spare
    assert spare.isVisible()
    assert questionnaire_of.cache_info().misses == misses  # nothing parsed by the open


def _open(window: MainWindow, db: Any, clinician: Any, mrn: str) -> Any:
    patient = records.create_patient(db, records.PatientFields("Ann", "Lee", mrn), user="t")
    evaluation = records.start_evaluation(
        db, patient.id, window.form, user="t", clinician_id=clinician.id
    )
    window.open_evaluation(evaluation, patient)
    return evaluation


def test_the_prepared_view_has_the_size_and_split_it_will_have_when_open(
    qtbot: Any, db: Any, shipped_form: Any, clinician: Any
) -> None:
    """A view laid out at another width or split is laid out again by the first open (~12 ms
    for the page's rows): the warm-up leaves it as the open will show it, with the split the
    clinician left last time, and the patient list as it was."""
    first = MainWindow(db, shipped_form, clinician)
    qtbot.addWidget(first)
    first.resize(1280, 800)
    first.show()
    _warm(qtbot, first)
    _open(first, db, clinician, "W-2")
    view = first.page.view
    assert view is not None
    total = sum(view.splitter.sizes())
    view.splitter.setSizes([total - 300, 300])  # the clinician widens the assessment
    split = view.splitter.saveState()
    assert first.page.close_evaluation()
    first.close()

    window = MainWindow(db, shipped_form, clinician)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    list_sizes = window.splitter.sizes()
    _warm(qtbot, window)
    assert window.splitter.sizes() == list_sizes
    assert window.patients.isVisible()
    spare = window.page._spare
    assert spare is not None
    prepared = (spare.size(), spare.splitter.saveState())
    assert prepared[1] == split
    _open(window, db, clinician, "W-3")
    QApplication.processEvents()
    assert window.page.view is spare
    assert (spare.size(), spare.splitter.saveState()) == prepared
