"""Leaving a record whose fields show a value the editor refused asks first (session 13).

A refused value ("24x" in a number field) is shown beside its message and not stored. Choosing
another patient, "← Patient", a new evaluation or Quit used to close the record without a word:
what the field showed was gone. Now the app asks; "Go back" (the default, and Esc) keeps the
record open with the field focused, and "Close and lose them" closes it. Either way the database
holds what was accepted before, and no question comes when nothing was refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from clinic_app.storage import records
from clinic_app.ui.fields import NumberEditor
from clinic_app.ui.main_window import MainWindow
from tests.ui.helpers import press, settle, when_modal
from tests.ui.test_idle_lock import open_draft


def _patient(db: Any, given: str, mrn: str) -> records.Patient:
    return records.create_patient(db, records.PatientFields(given, "Leaving", mrn), user="t")


def _open_with(qtbot: Any, window: MainWindow, typed: str) -> tuple[Any, Any, NumberEditor]:
    """Anna's new evaluation with left SLR 45 entered, then ``typed`` keyed over it (no Tab)."""
    anna, ben = _patient(window.db, "Anna", "L-1"), _patient(window.db, "Ben", "L-2")
    line = open_draft(qtbot, window, anna)
    qtbot.keyClicks(line.line, "45")
    qtbot.keyClick(line.line, Qt.Key.Key_Tab)  # 45 is entered
    assert window.page.flush()
    line.line.setFocus()
    qtbot.waitUntil(line.line.hasFocus)
    line.line.selectAll()
    qtbot.keyClicks(line.line, typed)
    return anna, ben, line


def _stored_slr(window: MainWindow) -> Any:
    ev = window.page.evaluation
    assert ev is not None
    return records.get_evaluation(window.db, ev.id).findings.get("values", {}).get("slr")


def _answer(asked: list[str], button: str | None) -> Callable[[QWidget], None]:
    """Note the question's text, then press ``button`` (None: Esc, as a person would)."""

    def handle(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        asked.append(box.text())
        if button is None:
            box.reject()
        else:
            press(box, button)

    return handle


ROUTES: dict[str, Callable[[MainWindow, Any], None]] = {
    "another patient": lambda w, ben: w.patients.select_patient(ben.id),
    "back": lambda w, _ben: w.page.back_button.click(),
    "new evaluation": lambda w, _ben: w.actions_["new_evaluation"].trigger(),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("answer", [None, "Go back"])
def test_going_back_keeps_the_record_and_what_it_showed(
    qtbot: Any, window: MainWindow, route: str, answer: str | None
) -> None:
    anna, ben, line = _open_with(qtbot, window, "24x")
    ev = window.page.evaluation
    asked: list[str] = []
    when_modal(_answer(asked, answer))
    ROUTES[route](window, ben)
    settle(qtbot, window)
    assert len(asked) == 1
    assert "Passive straight leg raise (left)" in asked[0]
    assert "“24x” is not a number" in asked[0]
    assert window.page.evaluation is ev
    assert window.stack.currentWidget() is window.page
    assert line.line.text() == "24x"
    qtbot.waitUntil(line.line.hasFocus)
    assert _stored_slr(window) == {"left": 45}
    selected = window.patients.view.selectionModel().selectedRows()
    shown = [window.patients.model.patient(i.row()) for i in selected]
    assert [p.id for p in shown if p is not None] == [anna.id]


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_close_and_lose_them_closes_and_keeps_what_was_stored(
    qtbot: Any, window: MainWindow, route: str
) -> None:
    _anna, ben, _line = _open_with(qtbot, window, "24x")
    ev = window.page.evaluation
    assert ev is not None
    asked: list[str] = []
    when_modal(_answer(asked, "Close and lose them"))
    ROUTES[route](window, ben)
    settle(qtbot, window)
    assert len(asked) == 1
    if route == "new evaluation":
        assert window.page.evaluation is not None
        assert window.page.evaluation.id != ev.id
    else:
        assert window.page.evaluation is None
    stored = records.get_evaluation(window.db, ev.id).findings.get("values", {}).get("slr")
    assert stored == {"left": 45}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_nothing_refused_asks_nothing(qtbot: Any, window: MainWindow, route: str) -> None:
    _anna, ben, _line = _open_with(qtbot, window, "50")
    ev = window.page.evaluation
    assert ev is not None
    ROUTES[route](window, ben)
    settle(qtbot, window)
    assert QApplication.activeModalWidget() is None
    assert window.page.evaluation is None or window.page.evaluation.id != ev.id
    stored = records.get_evaluation(window.db, ev.id).findings.get("values", {}).get("slr")
    assert stored == {"left": 50}


def test_quit_asks_and_going_back_keeps_the_window(qtbot: Any, window: MainWindow) -> None:
    _anna, _ben, line = _open_with(qtbot, window, "24x")
    asked: list[str] = []
    when_modal(_answer(asked, None))
    window.actions_["quit"].trigger()
    settle(qtbot, window)
    assert len(asked) == 1
    assert window.isVisible()
    assert line.line.text() == "24x"
    when_modal(_answer(asked, "Close and lose them"))
    window.actions_["quit"].trigger()
    qtbot.waitUntil(lambda: not window.isVisible())
    assert len(asked) == 2


def test_enter_in_the_question_goes_back(qtbot: Any, window: MainWindow) -> None:
    """A therapist typing on presses Enter: that must not throw the values away."""
    _anna, ben, line = _open_with(qtbot, window, "24x")
    ev = window.page.evaluation
    seen: list[str] = []

    def enter(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        default = box.defaultButton()
        seen.append(default.text() if default is not None else "")
        qtbot.keyClick(box, Qt.Key.Key_Return)

    when_modal(enter)
    window.patients.select_patient(ben.id)
    settle(qtbot, window)
    assert seen == ["Go back"]
    assert window.page.evaluation is ev
    assert line.line.text() == "24x"
