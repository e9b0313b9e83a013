"""The command palette (Ctrl+K, issue 18): items by label, synonym or abbreviation; actions."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.ui.assessment import EvaluationView
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.palette import CommandPalette, item_entry, search


@pytest.fixture(scope="module")
def shipped() -> Form:
    return load_form(default_form_path())


def entries(form: Form):
    return [item_entry(i, form.section_of(i.id).title) for i in form.items.values()]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("slr", "slr_deg"),  # a synonym
        ("SLR", "slr_deg"),
        ("nordic", "nordic_force"),
        ("thomas", "thomas_result"),  # both Thomas items, the shorter label first
        ("ake", "ake_deg"),
        ("mbks", "modified_bent_knee_stretch"),
        ("sbe", "side_bridge_s"),  # the label's initials: Side Bridge Endurance
        ("straight leg", "slr_deg"),  # words of the label
        ("heel raise", "heel_raise_reps"),
    ],
)
def test_items_found_by_synonym_abbreviation_or_label(shipped: Form, query, first) -> None:
    found = search(query, entries(shipped))
    assert found, query
    assert found[0].item_id == first, [e.item_id for e in found[:5]]
    if query == "thomas":
        assert {e.item_id for e in found[:2]} == {"thomas_deg", "thomas_result"}


def test_no_match_and_hostile_queries(shipped: Form) -> None:
    all_entries = entries(shipped)
    assert search("zzzqqq", all_entries) == []
    assert len(search("", all_entries)) == len(all_entries)  # nothing typed: everything
    for hostile in ("%", "'; drop table", "\\", "(", "*" * 500, "ü" * 40):
        search(hostile, all_entries)  # never raises


def test_palette_jumps_to_the_item(qtbot, shipped: Form) -> None:
    view = EvaluationView(shipped)
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    sign = QAction("&Sign…", view)
    hidden = QAction("Disabled thing", view)
    hidden.setEnabled(False)
    palette = CommandPalette(view.editor, [sign, hidden], view)
    palette.open()
    assert QApplication.focusWidget() is palette.search_box  # at once, in the same window
    qtbot.keyClicks(QApplication.focusWidget(), "nordic")
    shown = palette.shown()
    assert shown[0].item_id == "nordic_force"
    qtbot.keyClick(palette.search_box, Qt.Key.Key_Return)
    assert not palette.isVisible()
    assert view.editor.current_section() == shipped.section_of("nordic_force").id
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    assert QApplication.focusWidget().accessibleName() == "Nordic hamstring force, left"
    # Actions are listed (enabled ones only) and found by their words.
    again = CommandPalette(view.editor, [sign, hidden], view)
    again.open()
    qtbot.keyClicks(again.search_box, "sign")
    titles = [e.title for e in again.shown()]
    assert "Sign" in titles
    assert "Disabled thing" not in [e.title for e in again.entries]
    triggered = []
    sign.triggered.connect(lambda: triggered.append(True))
    while again.shown()[again.results.currentRow()].action is not sign:
        qtbot.keyClick(again.search_box, Qt.Key.Key_Down)
    qtbot.keyClick(again.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(triggered))


def test_ctrl_k_in_the_window_lists_the_menu_actions(qtbot, window: MainWindow) -> None:
    window.patients.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    palette = window.findChild(CommandPalette)
    assert palette is not None
    qtbot.waitUntil(palette.isVisible)
    assert palette.editor is None  # no evaluation open: actions only
    qtbot.keyClicks(palette.search_box, "find patient")
    assert palette.shown()[0].action is window.actions_["find_patient"]
    qtbot.keyClick(palette.search_box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not any(p.isVisible() for p in window.findChildren(CommandPalette)))


def test_ctrl_k_from_inside_a_field_lists_the_items(qtbot, window: MainWindow) -> None:
    from tests.ui.test_intake_flow import open_new_evaluation

    open_new_evaluation(window, "Ada", "Runner", "MRN-K")
    editor = window.page.view.editor
    line = editor.focus_item("hip_flexor_force", "left")
    qtbot.keyClicks(line, "120")
    qtbot.keyClick(line, Qt.Key.Key_Home)
    qtbot.keyClick(line, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert line.text() == "120"  # not "delete to the end of the line"
    palette = window.findChild(CommandPalette)
    assert palette is not None
    qtbot.waitUntil(palette.isVisible)
    assert palette.editor is editor
    qtbot.keyClicks(palette.search_box, "slr")
    assert palette.shown()[0].item_id == "slr"
    qtbot.keyClick(palette.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is editor.editor("slr", "left").line)


def test_a_side_word_jumps_to_that_side(qtbot, shipped: Form) -> None:
    view = EvaluationView(shipped)
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    palette = CommandPalette(view.editor, [], view)
    palette.open()
    qtbot.keyClicks(palette.search_box, "nordic r")
    assert palette.shown()[0].item_id == "nordic_force"
    qtbot.keyClick(palette.search_box, Qt.Key.Key_Return)
    assert QApplication.focusWidget().accessibleName() == "Nordic hamstring force, right"
    again = CommandPalette(view.editor, [], view)
    again.open()
    qtbot.keyClicks(again.search_box, "pain now right")  # one-sided: its only field
    qtbot.keyClick(again.search_box, Qt.Key.Key_Return)
    assert QApplication.focusWidget().accessibleName() == "Pain now (NPRS)"
