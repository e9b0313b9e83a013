"""What makes keyboard charting fast (issue 18) changes nothing that is shown or stored.

Pages built ahead in idle time are the pages the user then sees, filled with the findings of
the moment and kept up to date; "all no" is one change (assessed and announced once); the
assessment panel, updated in place, shows what a panel built anew would; moving down a page by
Enter keeps the field in sight while scrolling less often. Real widgets, the shipped form.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QTreeWidgetItem, QWidget

from clinic_app.core.findings import empty
from clinic_app.core.form import Form, ItemType, load_form
from clinic_app.paths import default_form_path
from clinic_app.ui.assessment import AssessmentPanel, EvaluationView
from clinic_app.ui.editor import EvaluationEditor
from clinic_app.ui.fields import NumberEditor
from clinic_app.ui.main_window import MainWindow
from tests.ui.test_keyboard import focused, key, keys, shown_view, start, stored

Alt = Qt.KeyboardModifier.AltModifier


@pytest.fixture(scope="module")
def shipped() -> Form:
    return load_form(default_form_path())


def built_ahead(qtbot: Any, view: EvaluationView) -> None:
    view.editor.build_pages_ahead()
    qtbot.waitUntil(lambda: not view.editor.is_building_ahead(), timeout=10_000)


# -- pages built ahead ---------------------------------------------------------------------------


def test_pages_built_ahead_are_the_pages_then_shown(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    editor = view.editor
    # A value given before the pages are built is on its page when that page is built.
    editor.focus_item("duration_weeks")
    keys(qtbot, "3")
    assert editor.built_sections() == [editor.sections[0].id]
    built_ahead(qtbot, view)
    assert editor.built_sections() == [s.id for s in editor.sections]
    ahead = {s.id: editor.built_page(s.id) for s in editor.sections}
    shown: list[str] = []
    editor.page_built.connect(shown.append)
    for section in editor.sections:
        editor.set_current_section(section.id, focus=True)
        assert editor.current_page() is ahead[section.id]  # that page, not another built
    assert shown == []  # no page was built on the way
    # Typed on a page built ahead: shown there, stored in the findings, assessed.
    editor.focus_item("hip_flexor_force", "left")
    keys(qtbot, "240")
    key(qtbot, Qt.Key.Key_Right)
    keys(qtbot, "190")
    assert dict(editor.findings.sides("hip_flexor_force")) == {"left": 240, "right": 190}
    right = editor.editor("hip_flexor_force", "right")
    assert isinstance(right, NumberEditor)
    assert right.line.text() == "190"
    assert editor.row("hip_flexor_force").asymmetry.text()  # the side-to-side column follows
    assert view.assessment.asymmetries  # and the live assessment


def line_of(page: Any, item_id: str, side: str) -> str:
    """The text a page's own field shows (read from the page, not through the editor)."""
    ed = page.rows[item_id].editors[side]
    assert isinstance(ed, NumberEditor)
    return str(ed.line.text())


def test_pages_built_ahead_show_the_findings_set_later(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    built_ahead(qtbot, view)
    editor = view.editor
    pages = {s.id: editor.built_page(s.id) for s in editor.sections}
    findings = editor.findings
    for item_id, left, right in (("nordic_force", 300, 200), ("hip_flexor_force", 240, 190)):
        findings = findings.with_value(shipped, item_id, left, "left")
        findings = findings.with_value(shipped, item_id, right, "right")
    # e.g. the next evaluation opened in the same view, then each page shown as the list does
    view.set_findings(findings)
    for item_id, left in (("nordic_force", "300"), ("hip_flexor_force", "240")):
        section = editor.section_of(item_id)
        ids = [s.id for s in editor.sections]
        editor.nav.setCurrentItem(editor.nav.topLevelItem(ids.index(section)))
        page = pages[section]
        assert line_of(page, item_id, "left") == left  # read from the page as it shows
        assert page.rows[item_id].asymmetry.text()  # and its side-to-side column
        assert editor.current_page() is page
    # Asked for before it is shown (the palette's jump, a test): filled as well.
    view.set_findings(findings.with_value(shipped, "nordic_force", 310, "left"))
    assert editor.editor("nordic_force", "left").line.text() == "310"  # type: ignore[attr-defined]
    # Another evaluation's empty findings: nothing of the last one stays on any page.
    view.set_findings(empty(shipped))
    for section_id, page in pages.items():
        editor.set_current_section(section_id)
        for item_id in ("nordic_force", "hip_flexor_force"):
            if item_id in page.rows:
                assert line_of(page, item_id, "left") == ""
                assert page.rows[item_id].asymmetry.text() == ""


def test_the_window_builds_its_prepared_editor_ahead_and_stores_what_is_typed(
    qtbot, db, shipped: Form, clinician, db_url: str
) -> None:
    window = MainWindow(db, shipped, clinician)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.waitUntil(lambda: window.is_warm, timeout=20_000)
    spare = window.page._spare
    assert spare is not None
    qtbot.waitUntil(lambda: not spare.editor.is_building_ahead(), timeout=10_000)
    assert spare.editor.built_sections() == [s.id for s in spare.editor.sections]
    _, evaluation = start(window)
    assert window.page.view is spare  # the prepared view, its pages built
    editor = spare.editor
    thomas = editor.built_page(editor.section_of("thomas_deg"))
    editor.focus_item("thomas_deg", "left")
    assert editor.current_page() is thomas
    keys(qtbot, "12")
    key(qtbot, Qt.Key.Key_Right)
    keys(qtbot, "4")
    assert stored(window, db_url, evaluation.id)["thomas_deg"] == {"left": 12, "right": 4}


# -- "all no": one change ------------------------------------------------------------------------


def test_all_no_is_one_change(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    editor = view.editor
    changes: list[object] = []
    assessed: list[object] = []
    editor.findings_changed.connect(changes.append)
    view.assessed.connect(assessed.append)
    editor.set_current_section("red_flags", focus=True)
    key(qtbot, Qt.Key.Key_N, Alt)
    section = next(s for s in editor.sections if s.id == "red_flags")
    assert all(editor.findings.get(i.id) == "no" for i in section.items)
    assert len(changes) == 1
    assert changes[0] is editor.findings  # the findings after every answer
    assert len(assessed) == 1
    # The section list counts them (once, at the end): as a list made for these findings does.
    fresh = EvaluationEditor(shipped, editor.findings)
    qtbot.addWidget(fresh)
    for n in range(len(editor.sections)):
        assert editor.nav.topLevelItem(n).text(1) == fresh.nav.topLevelItem(n).text(1), n
    # One edit after it is one change of its own, as before.
    editor.focus_item("rf_fever")
    keys(qtbot, "y")
    assert len(changes) == 2
    assert editor.findings.get("rf_fever") == "yes"


def test_one_change_nested_and_empty(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    editor = view.editor
    changes: list[object] = []
    editor.findings_changed.connect(changes.append)
    with editor.one_change():
        pass
    assert changes == []  # nothing edited: nothing announced
    item = shipped.item("onset")
    with editor.one_change():
        with editor.one_change():
            editor.on_value_edited(item, None, "sudden")
        assert changes == []  # the outer one announces
        editor.on_value_edited(shipped.item("pain_now"), None, 4)
    assert len(changes) == 1
    assert editor.findings.get("onset") == "sudden"
    assert editor.findings.get("pain_now") == 4


# -- the assessment panel, updated in place ------------------------------------------------------


def dump(panel: AssessmentPanel) -> list[Any]:
    """Everything the panel's tree shows, row by row (texts, tips, ids, spans, expansion)."""
    tree = panel.tree
    out: list[Any] = []

    def walk(item: QTreeWidgetItem, depth: int) -> None:
        index = tree.indexFromItem(item)
        out.append(
            (
                depth,
                item.text(0),
                item.text(1),
                item.toolTip(0),
                item.toolTip(1),
                item.data(0, Qt.ItemDataRole.UserRole),
                item.data(0, Qt.ItemDataRole.UserRole + 1),
                tree.isFirstColumnSpanned(index.row(), index.parent()),
                item.isExpanded(),
            )
        )
        for n in range(item.childCount()):
            child = item.child(n)
            assert child is not None
            walk(child, depth + 1)

    for n in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(n)
        assert top is not None
        walk(top, 0)
    return out


def test_the_panel_updated_in_place_shows_what_a_new_panel_would(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    editor = view.editor
    editor.focus_item("involved_side")
    keys(qtbot, "r")
    rows_before = None
    # Each digit changes the evidence figures (in place) or which factors fire (rebuilt).
    for item_id, left, right in (
        ("nordic_force", "310", "225"),
        ("hip_ext_torque", "180", "140"),
        ("nordic_force", "", "9"),  # 2259: a larger right side, the deficit gone
    ):
        editor.focus_item(item_id, "left")
        keys(qtbot, left)
        key(qtbot, Qt.Key.Key_Right)
        for digit in right:
            keys(qtbot, digit)
            fresh = AssessmentPanel()
            qtbot.addWidget(fresh)
            fresh.show_assessment(view.assessment)
            assert dump(view.panel) == dump(fresh), (item_id, digit)
            assert view.panel.summary.text() == fresh.summary.text()
            assert view.panel.running.text() == fresh.running.text()
            rows_before = rows_before or dump(view.panel)
    assert rows_before != dump(view.panel)  # the intake did change what the panel shows


def test_a_panel_led_through_many_assessments_shows_each_as_a_new_panel_would(
    qtbot, shipped: Form
) -> None:
    """Factors and patterns coming, going, changing places and figures (each typed prefix of
    a few intakes), shown one after the other in one panel."""
    from clinic_app.core.engine import assess

    panel = AssessmentPanel()
    qtbot.addWidget(panel)
    panel.resize(380, 700)
    panel.show()
    findings = empty(shipped).with_value(shipped, "involved_side", "right")
    steps = [
        ("nordic_force", "left", 310),
        ("nordic_force", "right", 2),
        ("nordic_force", "right", 22),
        ("nordic_force", "right", 225),
        ("hip_ext_torque", "left", 180),
        ("hip_ext_torque", "right", 1),
        ("hip_ext_torque", "right", 14),
        ("hip_ext_torque", "right", 140),
        ("ankle_df_deg", "left", 40),
        ("ankle_df_deg", "right", 3),
        ("ankle_df_deg", "right", 38),
        ("slr_deg", "left", 85),
        ("slr_deg", "right", 7),
        ("slr_deg", "right", 70),
        ("nordic_force", "right", 400),  # the deficit moves to the other side
        ("involved_side", None, "left"),
        ("hip_ext_torque", "right", 180),
        ("nordic_force", "right", 310),
    ]
    seen = set()
    for item_id, side, value in steps:
        findings = findings.with_value(shipped, item_id, value, side)
        a = assess(shipped, findings)
        panel.show_assessment(a)
        fresh = AssessmentPanel()
        qtbot.addWidget(fresh)
        fresh.show_assessment(a)
        assert dump(panel) == dump(fresh), (item_id, side, value)
        seen.add(tuple(r.id for r in a.factors))
    assert len(seen) > 3  # the factors shown did change along the way


def test_texts_updated_in_place_keep_the_rows(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    editor = view.editor
    editor.focus_item("involved_side")
    keys(qtbot, "r")
    editor.focus_item("nordic_force", "left")
    keys(qtbot, "300")
    key(qtbot, Qt.Key.Key_Right)
    keys(qtbot, "200")
    rows = view.panel.result_items()
    assert rows, "a nordic deficit suggests a factor"
    texts = dump(view.panel)
    keys(qtbot, "\b1")  # 201: the same factors, other figures
    assert view.panel.result_items() == rows  # the same row objects, their texts changed
    assert dump(view.panel) != texts


# -- Enter down a long page ----------------------------------------------------------------------


def in_sight(page: Any, widget: QWidget) -> bool:
    view = page.viewport()
    where = QRect(widget.mapTo(view, widget.rect().topLeft()), widget.size())
    return view.rect().contains(where)


def test_enter_down_a_long_page_keeps_the_field_in_sight_scrolling_less(
    qtbot, shipped: Form
) -> None:
    view = shown_view(qtbot, shipped)
    view.resize(1280, 600)
    QApplication.processEvents()
    editor = view.editor
    editor.set_current_section(editor.sections[0].id, focus=True)
    page = editor.current_page()
    bar = page.verticalScrollBar()
    assert bar.maximum() > 0, "the first page is longer than the view"
    scrolls: list[int] = []
    bar.valueChanged.connect(scrolls.append)
    moves = 0
    while editor.current_section() == editor.sections[0].id and moves < 40:
        item_id = focused().property("clinicItem")
        if shipped.item(item_id).type is ItemType.TEXT:
            break  # free text keeps Enter for its new lines
        key(qtbot, Qt.Key.Key_Return)
        moves += 1
        if editor.current_section() == editor.sections[0].id:
            assert in_sight(page, focused()), focused().accessibleName()
    assert moves > 10
    assert scrolls, "the page scrolled down"
    assert len(scrolls) <= moves // 4, scrolls  # not a row at a time


# -- the command palette, opened again -----------------------------------------------------------


def test_ctrl_k_opens_the_same_palette_again_with_current_lists(qtbot, window: MainWindow) -> None:
    from clinic_app.ui.palette import CommandPalette

    window.patients.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    first = window.findChild(CommandPalette)
    assert first is not None
    qtbot.waitUntil(first.isVisible)
    qtbot.keyClicks(first.search_box, "find patient")
    assert first.shown()[0].action is window.actions_["find_patient"]
    # The focus going elsewhere closes it (its own focus events, no global connection).
    window.patients.setFocus()
    qtbot.waitUntil(lambda: not first.isVisible())
    window.actions_["find_patient"].setEnabled(False)
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    again = window.findChild(CommandPalette)
    assert again is first  # kept, not built anew
    assert again.isVisible()
    assert QApplication.focusWidget() is again.search_box
    assert again.search_box.text() == ""  # nothing typed yet
    assert window.actions_["find_patient"] not in [e.action for e in again.entries]
    assert len(again.shown()) == min(len(again.entries), 60)  # everything, nothing typed
    qtbot.keyClick(again.search_box, Qt.Key.Key_Escape)
    assert not again.isVisible()
    assert len(window.findChildren(CommandPalette)) == 1


def test_the_palette_list_refilled_in_place_shows_each_search(qtbot, shipped: Form) -> None:
    from clinic_app.ui.palette import MAX_SHOWN, CommandPalette, search

    view = shown_view(qtbot, shipped)
    palette = CommandPalette(view.editor, [], view)
    palette.open()
    for text in ("s", "sl", "slu", "sl", "", "nordic", "nordic r", "zzz", "p", "plan"):
        palette.search_box.setText(text)
        query = text[: -len(" r")] if text.endswith(" r") else text
        want = search(query, palette.entries)[:MAX_SHOWN]
        assert palette.shown() == want, text
        titles = [palette.results.item(n).text() for n in range(palette.results.count())]
        assert [t.split("    — ")[0] for t in titles] == [e.title for e in want], text
        assert palette.results.currentRow() == (0 if want else -1), text
