"""Charting by keyboard (issue 18) in the shipped form's editor, on real widgets.

One Tab stop per item, arrows between sides, Enter to the next item, single-key answers for each
item type read back from the database after autosave (as typed, as shown), wrong keys that change
nothing, sections chosen with the focus on their first unanswered item, section keys from the
assessment panel.
"""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QPushButton, QWidget

from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records
from clinic_app.ui.assessment import EvaluationView
from clinic_app.ui.fields import MultiEditor, ToggleEditor
from clinic_app.ui.main_window import MainWindow
from tests.ui.helpers import wait_idle
from tests.ui.test_intake_flow import reread

Ctrl = Qt.KeyboardModifier.ControlModifier
Alt = Qt.KeyboardModifier.AltModifier


@pytest.fixture(scope="module")
def shipped() -> Form:
    return load_form(default_form_path())


def focused() -> QWidget:
    w = QApplication.focusWidget()
    assert w is not None
    return w


def key(qtbot, k: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(focused(), k, mods)


def keys(qtbot, text: str) -> None:
    qtbot.keyClicks(focused(), text)


def shown_view(qtbot, form: Form) -> EvaluationView:
    view = EvaluationView(form)
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    return view


def name_of(item_label: str, side: str | None) -> str:
    return item_label if side is None else f"{item_label}, {side}"


def test_one_tab_stop_per_item_across_a_whole_section(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    editor = view.editor
    section = next(s for s in editor.sections if s.id == "tendon_local")
    editor.set_current_section(section.id, focus=True)
    seen = []
    for _ in section.items:
        seen.append(focused().accessibleName())
        key(qtbot, Qt.Key.Key_Tab)
    expected = [name_of(i.label, "left" if i.bilateral else None) for i in section.items]
    assert seen == expected
    # Shift+Tab walks back one item at a time.
    editor.focus_item(section.items[3].id)
    key(qtbot, Qt.Key.Key_Backtab)
    assert focused().accessibleName() == expected[2]
    key(qtbot, Qt.Key.Key_Backtab)
    assert focused().accessibleName() == expected[1]


def test_arrows_cross_sides_and_enter_moves_on(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    editor = view.editor
    editor.focus_item("slr_deg")
    keys(qtbot, "70")
    key(qtbot, Qt.Key.Key_Left)  # inside the text: the cursor moves, the field stays
    assert focused().accessibleName() == "Passive straight leg raise, left"
    key(qtbot, Qt.Key.Key_End)
    key(qtbot, Qt.Key.Key_Right)
    assert focused().accessibleName() == "Passive straight leg raise, right"
    keys(qtbot, "82")
    key(qtbot, Qt.Key.Key_Right)  # past the right side: nothing
    assert focused().accessibleName() == "Passive straight leg raise, right"
    key(qtbot, Qt.Key.Key_Return)
    assert focused().accessibleName() == "What stopped the straight leg raise, left"
    assert dict(editor.findings.sides("slr_deg")) == {"left": 70, "right": 82}
    # Enter on the last item of a page goes on to the next page's first item.
    last = editor.sections[editor.sections.index(editor.form.section_of("ake_deg"))]
    editor.focus_item(last.items[-1].id, "right")
    key(qtbot, Qt.Key.Key_Return)
    nxt = editor.sections[editor.sections.index(last) + 1]
    assert editor.current_section() == nxt.id
    assert focused().accessibleName().startswith(nxt.items[0].label)


def test_the_focus_is_always_framed(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    editor = view.editor
    for item_id, side in (("trendelenburg", "right"), ("onset", None), ("onset_mechanism", None)):
        target = editor.focus_item(item_id, side)
        ring = editor.current_page().widget().findChild(QWidget, "focusRing")
        assert ring is not None
        assert ring.isVisible(), item_id
        area = editor.editor(item_id, side).focus_area(target)
        where = target.mapTo(ring.parentWidget(), area.topLeft())
        assert ring.geometry().contains(where), item_id
    view.panel.setFocus()
    assert not editor.current_page().widget().findChild(QWidget, "focusRing").isVisible()


def test_wrong_keys_change_nothing(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    editor = view.editor
    editor.focus_item("onset")
    keys(qtbot, "9z")  # no 9th choice, no choice starting with z
    editor.focus_item("rf_pop")
    keys(qtbot, "xq")
    editor.focus_item("trendelenburg", "left")
    keys(qtbot, "y")  # yes is no answer to a positive/negative test
    editor.focus_item("onset_mechanism")
    keys(qtbot, "8")
    assert editor.findings.values == {}
    editor.focus_item("hip_flexor_mmt", "left")
    keys(qtbot, "6")
    assert editor.findings.values == {}  # not a grade: shown as refused, nothing stored
    assert [(i.id, s) for i, s, _ in editor.invalid_fields()] == [("hip_flexor_mmt", "left")]


def test_a_section_chosen_focuses_its_first_unanswered_item(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    editor = view.editor
    editor.focus_item("hip_flexor_mmt", "left")
    keys(qtbot, "4")
    key(qtbot, Qt.Key.Key_Right)
    keys(qtbot, "5")
    editor.focus_item("hip_flexor_force", "left")
    keys(qtbot, "200")
    editor.set_current_section("subjective")
    # A click on "Hips" in the list: the focus on the first field without a value.
    entry = editor.nav.topLevelItem([s.id for s in editor.sections].index("hips"))
    rect = editor.nav.visualItemRect(entry)
    qtbot.mouseClick(editor.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert editor.current_section() == "hips"
    assert focused().accessibleName() == "Hip flexor force, right"
    # Section keys work from the assessment panel beside the editor too.
    view.panel.tree.setFocus() if hasattr(view.panel, "tree") else view.panel.setFocus()
    qtbot.keyClick(view.panel, Qt.Key.Key_PageDown, Ctrl)
    assert (
        editor.current_section()
        == editor.sections[[s.id for s in editor.sections].index("hips") + 1].id
    )
    qtbot.keyClick(focused(), Qt.Key.Key_Up, Alt)
    assert editor.current_section() == "hips"


# -- through the window: typed, autosaved, read back from the database ---------------------------


@pytest.fixture
def shipped_window(qtbot, db, shipped: Form, clinician) -> MainWindow:
    w = MainWindow(db, shipped, clinician)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    return w


def start(window: MainWindow, **fields) -> tuple[records.Patient, records.Evaluation]:
    patient = records.create_patient(
        window.db, records.PatientFields("Ada", "Runner", "MRN-18", **fields), user="t"
    )
    window.patients.model.reload()
    window.patients.select_patient(patient.id)
    window.detail.new_eval_button.click()
    wait_idle(window)
    assert window.page.evaluation is not None
    return patient, window.page.evaluation


def stored(window: MainWindow, db_url: str, evaluation_id: int) -> dict:
    assert window.page.flush()
    wait_idle(window)
    return dict(reread(db_url, evaluation_id).values)


def test_single_key_answers_of_every_type_are_stored_as_shown(
    qtbot, shipped_window: MainWindow, db_url: str
) -> None:
    window = shipped_window
    _, evaluation = start(window)
    editor = window.page.view.editor
    answers = [
        ("involved_side", None, "r"),  # a choice by its first letter
        ("onset", None, "2"),  # a choice by its number
        ("pain_now", None, "7"),  # a scale
        ("duration_weeks", None, "6"),  # a number
        ("onset_mechanism", None, "13"),  # check boxes by number: the 1st and the 3rd
        ("scar_history", None, "y"),  # yes/no
        ("hip_flexor_mmt", "left", "4-"),  # a minus grade
        ("hip_flexor_mmt", "right", "4+"),  # a plus grade
        ("trendelenburg", "left", "p"),  # positive/negative
        ("trendelenburg", "right", "n"),
        ("gastroc_tenderness", "right", "n"),  # a bilateral yes/no
        ("plan", None, "Nordics 3x6, review in 2 weeks"),  # free text
    ]
    for item_id, side, typed in answers:
        editor.focus_item(item_id, side)
        keys(qtbot, typed)
        if item_id != "plan":
            key(qtbot, Qt.Key.Key_Return)
    editor.focus_item("pain_location")
    key(qtbot, Qt.Key.Key_Space)  # the body chart: the first region, left
    expected = {
        "involved_side": "right",
        "onset": "gradual",
        "pain_now": 7,
        "duration_weeks": 6,
        "onset_mechanism": ["sprinting", "hills"],
        "scar_history": "yes",
        "hip_flexor_mmt": {"left": 3.75, "right": 4.5},
        "trendelenburg": {"left": "positive", "right": "negative"},
        "gastroc_tenderness": {"right": "no"},
        "plan": "Nordics 3x6, review in 2 weeks",
        "pain_location": {"left": [shipped_window.form.item("pain_location").allowed[0]]},
    }
    values = stored(window, db_url, evaluation.id)
    assert values == expected
    # What the screen shows is what was stored.
    combo = editor.editor("involved_side").tab_widget()
    assert isinstance(combo, QComboBox)
    assert combo.currentText() == "Right"
    assert editor.editor("hip_flexor_mmt", "left").tab_widget().currentText() == "4−"
    assert editor.editor("hip_flexor_mmt", "right").tab_widget().currentText() == "4+"
    line = editor.editor("duration_weeks").tab_widget()
    assert isinstance(line, QLineEdit)
    assert line.text() == "6"
    toggle = editor.editor("trendelenburg", "right")
    assert isinstance(toggle, ToggleEditor)
    assert toggle.value() == "negative"
    assert toggle.buttons["negative"].isChecked()
    multi = editor.editor("onset_mechanism")
    assert isinstance(multi, MultiEditor)
    assert multi.value() == ["sprinting", "hills"]

    # Wrong keys then: nothing else changes in the database.
    editor.focus_item("trendelenburg", "left")
    keys(qtbot, "yq")
    editor.focus_item("onset")
    keys(qtbot, "z9")
    editor.focus_item("pain_now")
    keys(qtbot, "x")  # "x" is no score: refused beside the field, 7 stays stored
    assert stored(window, db_url, evaluation.id) == expected
    # Delete clears a choice; Space clears a toggle (and the database follows).
    editor.focus_item("onset")
    key(qtbot, Qt.Key.Key_Delete)
    editor.focus_item("scar_history")
    key(qtbot, Qt.Key.Key_Space)
    after = stored(window, db_url, evaluation.id)
    assert "onset" not in after
    assert "scar_history" not in after


def test_all_no_on_the_red_flag_screen(qtbot, shipped_window: MainWindow, db_url: str) -> None:
    window = shipped_window
    _, evaluation = start(window)
    editor = window.page.view.editor
    section = next(s for s in editor.sections if s.id == "red_flags")
    assert section.all_no
    editor.set_current_section("red_flags")
    button = editor.built_page("red_flags").findChild(QPushButton, "red_flags.all_no")
    assert button is not None  # the same for the mouse: "Answer the rest No (Alt+N)"
    assert editor.built_page("hips") is None or not editor.built_page("hips").findChild(
        QPushButton, "hips.all_no"
    )
    editor.focus_item("rf_gap")
    keys(qtbot, "y")  # answered before: never overwritten
    key(qtbot, Qt.Key.Key_N, Alt)
    values = stored(window, db_url, evaluation.id)
    for item in section.items:
        want = "yes" if item.id == "rf_gap" else "no"
        assert values[item.id] == want, item.id
        toggle = editor.editor(item.id)
        assert isinstance(toggle, ToggleEditor)
        assert toggle.value() == want  # shown, and changeable
    assert window.page.view.banner.isVisible()  # the "yes" still raises its flag
    # Every question answered: the focus went on to the next page.
    assert editor.current_section() != "red_flags"
    editor.focus_item("rf_fever")
    keys(qtbot, "y")
    assert stored(window, db_url, evaluation.id)["rf_fever"] == "yes"
    # A page the form does not mark "all no" is not answered by the shortcut.
    editor.set_current_section("tendon_local", focus=True)
    key(qtbot, Qt.Key.Key_N, Alt)
    assert "hop_painful" not in stored(window, db_url, evaluation.id)


def test_sex_and_age_band_come_from_the_patient_record(
    qtbot, shipped_window: MainWindow, db_url: str
) -> None:
    window = shipped_window
    _, evaluation = start(window, date_of_birth=date(1990, 5, 17), sex="female")
    editor = window.page.view.editor
    age = (evaluation.eval_date - date(1990, 5, 17)).days // 365
    band = next(c for c in editor.form.item("age_group").choices if c.ages.min <= age <= c.ages.max)
    values = stored(window, db_url, evaluation.id)
    assert values["sex"] == "female"
    assert values["age_group"] == band.id
    assert editor.editor("age_group").tab_widget().currentText() == band.label
    row = editor.row("sex")
    assert "from the patient record" in row.label.text()
    # Still changeable: then it is the clinician's answer, no longer marked.
    editor.focus_item("sex")
    keys(qtbot, "m")
    assert stored(window, db_url, evaluation.id)["sex"] == "male"
    assert "from the patient record" not in row.label.text()
    assert "from the patient record" in editor.row("age_group").label.text()
    # Enter passes over what is already answered: from the painful side straight to the onset.
    editor.focus_item("involved_side")
    keys(qtbot, "l")
    key(qtbot, Qt.Key.Key_Return)
    assert focused().accessibleName() == "Onset"


def test_unknown_record_fills_nothing(qtbot, shipped_window: MainWindow, db_url: str) -> None:
    window = shipped_window
    _, evaluation = start(window)  # sex unknown, no date of birth
    values = stored(window, db_url, evaluation.id)
    assert "sex" not in values
    assert "age_group" not in values
    assert QPoint  # (imported for the click helpers above)


def test_body_chart_space_marks_and_enter_moves_on(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    editor = view.editor
    chart = editor.focus_item("pain_location")
    key(qtbot, Qt.Key.Key_Right)  # the chart's own arrows: to the right leg
    key(qtbot, Qt.Key.Key_Space)
    first = shipped.item("pain_location").allowed[0]
    assert list(dict(editor.findings.sides("pain_location"))["right"]) == [first]
    key(qtbot, Qt.Key.Key_Return)  # moves on; marks nothing more
    assert focused() is not chart
    assert focused().accessibleName().startswith("Pain quality")
    assert len(dict(editor.findings.sides("pain_location"))["right"]) == 1


def test_a_section_chosen_by_keyboard_in_the_list(qtbot, shipped: Form) -> None:
    view = shown_view(qtbot, shipped)
    editor = view.editor
    editor.nav.setFocus()
    index = [s.id for s in editor.sections].index("flexibility")
    editor.nav.setCurrentItem(editor.nav.topLevelItem(index))
    assert focused() is editor.nav  # arrowing through the list keeps the focus there
    qtbot.keyClick(editor.nav, Qt.Key.Key_Return)
    assert focused().accessibleName() == "Passive straight leg raise, left"


def test_the_focus_ring_hides_with_the_field_it_frames(qtbot) -> None:
    """A field hidden while it has the keyboard (the program list of a signed record with no
    program) must not leave its frame drawn around nothing (seen in docs/img)."""
    from PySide6.QtWidgets import QVBoxLayout

    from clinic_app.ui.keyboard import FocusRing

    body = QWidget()
    qtbot.addWidget(body)
    first, second = QLineEdit(body), QLineEdit(body)
    box = QVBoxLayout(body)
    box.addWidget(first)
    box.addWidget(second)
    ring = FocusRing(body)
    body.show()
    qtbot.waitExposed(body)
    ring.follow(first)
    assert ring.isVisible()
    first.hide()
    assert not ring.isVisible()
    ring.follow(second)  # the next field framed as usual; the hidden one no longer watched
    assert ring.isVisible()
    first.show()
    first.hide()
    assert ring.isVisible()
    ring.follow(first)  # following a hidden field shows nothing
    assert not ring.isVisible()
