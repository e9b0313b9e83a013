"""The rows editor (a visit's interventions) on its own: keyboard, values, refusals, read-only."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

from clinic_app.core.form import Item, load_form
from clinic_app.paths import default_form_path
from clinic_app.ui.fields import Invalid
from clinic_app.ui.rows_editor import RowsEditor


@pytest.fixture(scope="module")
def item() -> Item:
    return load_form(default_form_path()).items["interventions"]


@pytest.fixture
def shown(qtbot: Any, item: Item) -> tuple[RowsEditor, list[Any], QLineEdit]:
    holder = QWidget()
    qtbot.addWidget(holder)
    editor = RowsEditor(item, holder)
    after = QLineEdit(holder)  # the next field of the page
    editor.setGeometry(0, 0, 700, 220)
    after.setGeometry(0, 230, 100, 24)
    holder.resize(720, 270)
    holder.show()
    holder.activateWindow()
    qtbot.waitUntil(holder.isActiveWindow)
    seen: list[Any] = []
    editor.edited.connect(seen.append)
    editor.holder = holder  # type: ignore[attr-defined]  # kept alive with the editor
    return editor, seen, after


def press(qtbot: Any, key: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(QApplication.focusWidget(), key, mods)
    QApplication.processEvents()


def typed(qtbot: Any, text: str) -> None:
    for char in text:
        qtbot.keyClick(QApplication.focusWidget(), char)
        QApplication.processEvents()


def test_keyboard_only_rows_and_tab_leaves_the_table_after_the_last_cell(qtbot, shown) -> None:
    editor, seen, after = shown
    editor.table.setFocus()
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # add a row
    typed(qtbot, "m")  # Type: Manual therapy
    press(qtbot, Qt.Key.Key_Tab)
    typed(qtbot, "Soft tissue, hamstring")
    for _ in range(4):  # sets, reps, load left blank: on to minutes
        press(qtbot, Qt.Key.Key_Tab)
    typed(qtbot, "10")
    press(qtbot, Qt.Key.Key_Tab)  # past the last cell: on to the table's buttons, then on
    assert QApplication.focusWidget() is editor.add_button
    press(qtbot, Qt.Key.Key_Tab)
    press(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is after
    press(qtbot, Qt.Key.Key_Backtab)
    press(qtbot, Qt.Key.Key_Backtab)
    press(qtbot, Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is editor.table
    assert seen[-1] == [{"kind": "manual", "name": "Soft tissue, hamstring", "minutes": 10}]


def test_ctrl_delete_removes_the_current_row(qtbot, shown) -> None:
    editor, seen, _ = shown
    editor.set_value([{"kind": "exercise", "name": "A"}, {"kind": "education", "name": "B"}])
    editor.table.setFocus()
    editor.table.setCurrentCell(0, 1)
    press(qtbot, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
    assert seen[-1] == [{"kind": "education", "name": "B"}]
    editor.remove_current_row()
    assert seen[-1] is None  # an empty table is no value


def test_hostile_cells_are_marked_and_reported_not_passed_on(qtbot, shown) -> None:
    editor, seen, _ = shown
    editor.set_value([{"kind": "exercise", "name": "Bridge"}])
    editor.table.item(0, 2).setText("3.5")  # sets must be whole
    assert editor.problems[(0, 2)].endswith("must be a whole number")
    assert isinstance(seen[-1], Invalid)
    assert "row 1, Sets" in seen[-1].reason
    editor.table.item(0, 2).setText("")
    editor.table.item(0, 0).setText("sprinting")  # not a type the form has
    assert isinstance(seen[-1], Invalid)
    editor.table.item(0, 0).setText("Education")  # a label typed in full is read as its id
    assert seen[-1] == [{"kind": "education", "name": "Bridge"}]
    editor.table.item(0, 1).setText("x" * 121)  # longer than the form allows
    assert isinstance(seen[-1], Invalid)
    editor.table.item(0, 1).setText("line\u0007bell")  # a control character
    assert isinstance(seen[-1], Invalid)
    assert editor.table.item(0, 1).toolTip().startswith("Not accepted")


def test_add_from_the_program_and_read_only(qtbot, shown) -> None:
    editor, seen, _ = shown
    assert not editor.program_button.isVisible()
    editor.set_program(["Nordic lower", "One-leg bridge"])
    assert editor.program_button.isVisible()
    editor.set_value([{"kind": "exercise", "name": "One-leg bridge", "sets": 3}])
    editor.program_button.click()
    assert seen[-1] == [
        {"kind": "exercise", "name": "One-leg bridge", "sets": 3},
        {"kind": "exercise", "name": "Nordic lower"},
    ]
    editor.set_read_only(True)
    assert not editor.program_button.isVisible()
    assert not editor.add_button.isEnabled()
    count = len(seen)
    editor.add_row()
    editor.remove_current_row()
    assert len(seen) == count
    assert not editor.table.item(0, 1).flags() & Qt.ItemFlag.ItemIsEditable


def test_max_rows_is_respected(qtbot, shown, item: Item) -> None:
    editor, seen, _ = shown
    editor.set_value([{"kind": "other", "name": f"n{n}"} for n in range(item.max_rows)])
    editor.add_row()
    assert editor.table.rowCount() == item.max_rows
