"""A visit's interventions table typed at by keyboard only: Esc, Tab, Shift+Tab, Enter, Save.

Session 13 made each key of a cell go to the note at once (nothing typed is lost when the window
closes); Esc then put nothing back. Here Esc shows what the cell held before and the database
holds what the screen shows; a value refused is named with its row and column and never stored.
The other tables a therapist can type into (the suggested goals) are checked for the same Esc.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QComboBox, QLineEdit, QWidget

from tests.ui.helpers import settle
from tests.ui.test_episode_typed_s13b import BRIDGE, visit_window
from tests.ui.test_episodes_ui import full_window
from tests.ui.test_rows_editor import press as key
from tests.ui.test_rows_editor import typed

__all__ = ["full_window"]  # the fixture, imported for the goal tests

BEFORE = {**BRIDGE, "sets": 3, "minutes": 10}
SHOWN_BEFORE = ["Exercise", "Bridge", "3", "", "", "10"]
TYPE, WHAT, SETS, MINUTES = 0, 1, 2, 5


def shown(rows: Any) -> list[list[str]]:
    t = rows.table
    return [[t.item(r, n).text() for n in range(t.columnCount())] for r in range(t.rowCount())]


@pytest.fixture
def note(qtbot: Any, db: Any, db_url: str, clinician: Any):
    """A visit note on its treatment page with one row stored (Bridge, 3 sets, 10 minutes), the
    table with the keyboard: (window, rows editor, read back)."""
    from tests.ui import test_visit_note as tvn

    window, visit, _other, editor = visit_window(qtbot, db, clinician)
    editor.set_current_section("visit_treatment")
    rows = editor.editor("interventions")
    rows.add_row(BEFORE)

    def read_back() -> Any:
        """Save now (Ctrl+S, when the window is open), then what the database holds."""
        if window.isVisible():
            window.saved_label.clear()
            key(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
            assert window.saved_label.text().startswith("Saved ")
            settle(qtbot, window)
        return tvn.stored(db_url, visit.id)[1].get("interventions")

    assert read_back() == [BEFORE]
    rows.table.setFocus()
    yield window, rows, read_back
    window.close()


def start_typing(qtbot: Any, rows: Any, column: int, text: str) -> QWidget:
    """The cell made current and ``text`` typed at it (the first key opens its editor)."""
    rows.table.setCurrentCell(0, column)
    typed(qtbot, text)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit | QComboBox), editor
    return editor


def problems(window: Any) -> list[str]:
    return [reason for *_, reason in window.page.view.editor.invalid_fields()]


@pytest.mark.parametrize(
    ("column", "keys", "shows", "holds"),
    [
        (SETS, "5", "5", {**BEFORE, "sets": 5}),
        (MINUTES, "45", "45", {**BEFORE, "minutes": 45}),
        (WHAT, "Squat", "Squat", {**BEFORE, "name": "Squat"}),
        (TYPE, "m", "Manual therapy", {**BEFORE, "kind": "manual"}),
    ],
)
def test_esc_puts_back_what_the_cell_held_and_the_database_holds_it_too(
    qtbot, note, column: int, keys: str, shows: str, holds: dict
) -> None:
    """Each key went to the note, so Esc (which only closes the cell's editor) left "5" in the
    cell and stored; a choice picked was the other way round: shown and never stored."""
    window, rows, read_back = note
    editor = start_typing(qtbot, rows, column, keys)
    text = editor.currentText() if isinstance(editor, QComboBox) else editor.text()
    assert text == shows
    assert read_back() == [holds]  # a cell being typed in is part of the note (session 13)
    key(qtbot, Qt.Key.Key_Escape)
    assert rows.table.state() != QAbstractItemView.State.EditingState
    assert shown(rows) == [SHOWN_BEFORE]
    assert read_back() == [BEFORE]
    key(qtbot, Qt.Key.Key_Escape)  # twice: nothing more happens
    assert QApplication.focusWidget() is rows.table
    assert shown(rows) == [SHOWN_BEFORE]
    assert window.page.view is not None
    assert window.page.view.isVisible()
    assert read_back() == [BEFORE]
    assert problems(window) == []


def test_a_choice_picked_in_a_cell_is_stored_when_the_window_closes(qtbot, note) -> None:
    """The drop-down gave its choice to the table only when it closed: the window's close button
    moves no focus, so "Education" showed and "Exercise" stayed stored."""
    window, rows, read_back = note
    combo = start_typing(qtbot, rows, TYPE, "m")  # Manual therapy
    key(qtbot, Qt.Key.Key_Down)
    assert isinstance(combo, QComboBox)
    assert combo.currentText() == "Education"
    assert window.close()
    assert read_back() == [{**BEFORE, "kind": "education"}]


REFUSED = [
    ("abc", "row 1, Minutes: “abc” is not a number"),
    ("-5", "row 1, Minutes: -5 min is outside 1-180 min"),
    ("99999999", "row 1, Minutes: 99999999 min is outside 1-180 min"),
    ("1e3", "row 1, Minutes: “1e3” is not a number"),
    ("2.5", "row 1, Minutes: 2.5 must be a whole number"),
]


@pytest.mark.parametrize("ending", ["Esc", "Enter"])
@pytest.mark.parametrize(("keys", "says"), REFUSED)
def test_a_refused_value_is_named_never_stored_and_esc_puts_back_the_value_before(
    qtbot, note, keys: str, says: str, ending: str
) -> None:
    """The refused text stayed in the cell after Esc, red, the note saying "not stored";
    "99999999" was named "1e+08" (another number than the one typed)."""
    window, rows, read_back = note
    start_typing(qtbot, rows, MINUTES, keys)
    assert problems(window) == [says]
    assert read_back() == [BEFORE]  # nothing of it stored, even while it shows
    if ending == "Esc":
        key(qtbot, Qt.Key.Key_Escape)
        assert shown(rows) == [SHOWN_BEFORE]
        assert rows.table.item(0, MINUTES).toolTip() == ""  # no longer marked refused
        assert problems(window) == []
        assert read_back() == [BEFORE]
        return
    key(qtbot, Qt.Key.Key_Return)
    assert rows.table.state() != QAbstractItemView.State.EditingState
    assert shown(rows)[0][MINUTES] == keys  # still showing, to be mended
    assert problems(window) == [says]
    assert rows.table.item(0, MINUTES).toolTip() == "Not accepted: " + says.split(": ", 1)[1]
    assert read_back() == [BEFORE]
    rows.table.setCurrentCell(0, MINUTES)
    typed(qtbot, "20")  # typed over, mended
    key(qtbot, Qt.Key.Key_Tab)
    assert problems(window) == []
    assert read_back() == [{**BEFORE, "minutes": 20}]


@pytest.mark.parametrize("keys", ["", "m", "Squat"])
def test_esc_in_a_new_row_takes_the_row_away(qtbot, note, keys: str) -> None:
    """Esc left the row just added, empty, on the screen only (the note leaves blank rows out);
    "Squat" typed into it before Esc stayed as well."""
    window, rows, read_back = note
    rows.table.setCurrentCell(0, MINUTES)
    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # a new row
    assert rows.table.rowCount() == 2
    if keys == "Squat":
        key(qtbot, Qt.Key.Key_Tab)  # (the Type left blank)
    typed(qtbot, keys)
    key(qtbot, Qt.Key.Key_Escape)
    assert shown(rows) == [SHOWN_BEFORE]
    key(qtbot, Qt.Key.Key_Escape)
    assert shown(rows) == [SHOWN_BEFORE]
    assert problems(window) == []
    assert read_back() == [BEFORE]


def test_a_new_row_typed_by_tab_and_shift_tab_then_esc_keeps_what_was_committed(
    qtbot, note
) -> None:
    """Tab and Shift+Tab commit the cell they leave; Esc puts back only the cell being typed in,
    as it was when its editor opened (not as it was before the row was begun)."""
    window, rows, read_back = note
    rows.table.setCurrentCell(0, MINUTES)
    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    typed(qtbot, "m")  # Manual therapy
    key(qtbot, Qt.Key.Key_Tab)
    typed(qtbot, "Soft tissue")
    key(qtbot, Qt.Key.Key_Tab)
    key(qtbot, Qt.Key.Key_Tab)  # (Sets left blank)
    typed(qtbot, "12")  # Reps
    key(qtbot, Qt.Key.Key_Backtab)
    key(qtbot, Qt.Key.Key_Backtab)  # back to What, its text
    line = QApplication.focusWidget()
    assert isinstance(line, QLineEdit)
    assert line.text() == "Soft tissue"
    line.end(False)
    typed(qtbot, " hamstring")
    assert read_back() == [BEFORE, {"kind": "manual", "name": "Soft tissue hamstring", "reps": 12}]
    key(qtbot, Qt.Key.Key_Escape)
    key(qtbot, Qt.Key.Key_Escape)
    new_row = ["Manual therapy", "Soft tissue", "", "12", "", ""]
    assert shown(rows) == [SHOWN_BEFORE, new_row]
    assert read_back() == [BEFORE, {"kind": "manual", "name": "Soft tissue", "reps": 12}]
    rows.table.setCurrentCell(1, SETS)
    typed(qtbot, "25")  # refused (1-20)
    key(qtbot, Qt.Key.Key_Backtab)  # left by Shift+Tab: committed, refused, named
    assert problems(window) == ["row 2, Sets: 25 is outside 1-20"]
    assert read_back() == [BEFORE, {"kind": "manual", "name": "Soft tissue", "reps": 12}]
    rows.table.setCurrentCell(1, SETS)
    typed(qtbot, "2")
    key(qtbot, Qt.Key.Key_Escape)  # back to the refused 25 it held, still named
    assert shown(rows)[1] == ["Manual therapy", "Soft tissue", "25", "12", "", ""]
    assert problems(window) == ["row 2, Sets: 25 is outside 1-20"]
    assert read_back() == [BEFORE, {"kind": "manual", "name": "Soft tissue", "reps": 12}]


def test_a_required_cell_left_blank_is_named_with_its_row(qtbot, note) -> None:
    """Core's "interventions row 2: What is required" lost its row beside the table ("What is
    required", with several rows), and the blank cell was not marked."""
    window, rows, read_back = note
    rows.table.setCurrentCell(0, MINUTES)
    key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    typed(qtbot, "m")  # Manual therapy, and no What yet
    key(qtbot, Qt.Key.Key_Tab)
    says = "row 2, What: required, fill it in or remove the row"
    assert problems(window) == [says]
    assert rows.table.item(1, WHAT).toolTip() == "Not accepted: " + says.split(": ", 1)[1]
    assert read_back() == [BEFORE]
    typed(qtbot, "Massage")
    assert problems(window) == []
    assert read_back() == [BEFORE, {"kind": "manual", "name": "Massage"}]
    rows.table.setCurrentCell(0, WHAT)
    key(qtbot, Qt.Key.Key_F2)
    key(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    key(qtbot, Qt.Key.Key_Backspace)  # the first row's What cleared
    key(qtbot, Qt.Key.Key_Return)
    assert problems(window) == ["row 1, What: required, fill it in or remove the row"]
    assert read_back() == [BEFORE, {"kind": "manual", "name": "Massage"}]


# -- the other tables typed into ----------------------------------------------------------------


def test_esc_in_a_suggested_goal_cell_puts_back_its_words_and_twice_adds_nothing(
    qtbot, full_window
) -> None:
    from clinic_app.core.goals import GoalDraft
    from clinic_app.storage import records
    from clinic_app.ui.goal_edit import SuggestedGoalsDialog
    from tests.ui.test_episode_typed_s13 import an_episode
    from tests.ui.test_episodes_ui import shipped_form

    ep = an_episode(full_window)
    draft = GoalDraft("F6", "Weak", "short", "Sprint again", None, ep.start_date, "form")
    dialog = SuggestedGoalsDialog(shipped_form(), ep, [draft], "initial evaluation", full_window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.isVisible)
    dialog.tick(0)
    dialog.table.setFocus()
    dialog.table.setCurrentCell(0, 2)
    typed(qtbot, "Walk")
    assert isinstance(QApplication.focusWidget(), QLineEdit)
    key(qtbot, Qt.Key.Key_Escape)
    assert dialog.cell(0, 2).text() == "Sprint again"
    assert dialog.isVisible()
    key(qtbot, Qt.Key.Key_Escape)  # the dialog's own Esc: cancelled, nothing added
    assert not dialog.isVisible()
    assert dialog.accepted_goals == []
    assert records.list_goals(full_window.db, ep.id) == []


def test_the_goals_and_plan_tables_take_no_typing(qtbot, full_window) -> None:
    """They list what is stored; typing at them opens no cell (edits go through their dialogs)."""
    from clinic_app.storage import records
    from clinic_app.storage.records import GoalInfo, PlanInfo
    from clinic_app.ui.goals_dialog import GoalsDialog
    from clinic_app.ui.plan_dialog import PlanDialog
    from tests.ui.test_episode_typed_s13 import an_episode

    ep = an_episode(full_window)
    records.add_goal(full_window.db, ep.id, GoalInfo("short", "Walk"), user="t")
    records.save_plan(full_window.db, ep.id, PlanInfo(visits_per_week=2), user="t")
    goals = GoalsDialog(full_window.context, ep, parent=full_window)
    plan = PlanDialog(full_window.context, ep, parent=full_window)
    for dialog, table in ((goals, goals.table), (plan, plan.history)):
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(dialog.isVisible)
        table.setFocus()
        table.setCurrentCell(0, 1)
        before = [table.item(0, n).text() for n in range(table.columnCount()) if table.item(0, n)]
        qtbot.keyClick(table, "x")
        qtbot.keyClick(table, Qt.Key.Key_F2)
        assert table.state() != QAbstractItemView.State.EditingState
        after = [table.item(0, n).text() for n in range(table.columnCount()) if table.item(0, n)]
        assert after == before
        dialog.reject()
