"""The evaluation editor generated from the form: widgets per item, validation, keyboard use."""

from __future__ import annotations

from pathlib import Path

import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QPlainTextEdit

from clinic_app.core.findings import Findings, validate
from clinic_app.core.form import Form, load_form
from clinic_app.ui.editor import EvaluationEditor
from clinic_app.ui.fields import ComboEditor, MultiEditor, NumberEditor, TextEditor, ToggleEditor
from tests.ui.conftest import DATA


def make_editor(qtbot, form: Form, findings: Findings | None = None) -> EvaluationEditor:
    editor = EvaluationEditor(form, findings)
    qtbot.addWidget(editor)
    editor.resize(1000, 650)
    editor.show()
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow)
    return editor


def line(editor: EvaluationEditor, item_id: str, side: str | None = None) -> QLineEdit:
    ed = editor.editor(item_id, side)  # type: ignore[arg-type]
    assert isinstance(ed, NumberEditor)
    return ed.line


def test_every_item_gets_the_editor_its_type_calls_for(qtbot, mini_form: Form) -> None:
    editor = make_editor(qtbot, mini_form)
    assert isinstance(editor.editor("hip_flexor_force", "left"), NumberEditor)
    assert isinstance(editor.editor("hip_flexor_force", "right"), NumberEditor)
    assert isinstance(editor.editor("hip_flexor_mmt", "left"), ComboEditor)
    assert isinstance(editor.editor("pain_now"), ComboEditor)
    assert isinstance(editor.editor("involved_side"), ComboEditor)
    assert isinstance(editor.editor("trendelenburg", "right"), ToggleEditor)
    assert isinstance(editor.editor("pain_quality"), MultiEditor)
    assert isinstance(editor.editor("notes"), TextEditor)
    assert line(editor, "hip_flexor_force", "left").placeholderText() == "0–800 N"
    assert editor.row("hip_flexor_force").details_text.startswith("0–800 N")
    assert "dynamometer" in line(editor, "hip_flexor_force", "left").toolTip()


def test_an_item_added_to_the_form_file_appears_without_code_changes(qtbot, tmp_path: Path) -> None:
    data = yaml.safe_load((DATA / "mini_form.yaml").read_text(encoding="utf-8"))
    hips = next(s for s in data["sections"] if s["id"] == "hips")
    hips["items"].append(
        {
            "id": "hip_ir_rom",
            "label": "Hip internal rotation",
            "type": "number",
            "unit": "°",
            "range": {"min": 0, "max": 90},
            "bilateral": True,
            "source": "test",
        }
    )
    path = tmp_path / "extended.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    editor = make_editor(qtbot, load_form(path))
    editor.set_current_section("hips")
    new_line = line(editor, "hip_ir_rom", "right")
    assert new_line.isVisible()
    assert "Hip internal rotation" in editor.row("hip_ir_rom").label.text()
    assert editor.nav.topLevelItem(2).text(1) == "0/4"
    qtbot.keyClicks(new_line, "35")
    assert editor.findings.get("hip_ir_rom", "right") == 35


def test_bilateral_values_typed_by_keyboard_show_the_asymmetry_live(qtbot, mini_form) -> None:
    editor = make_editor(qtbot, mini_form)
    editor.set_current_section("hips", focus=True)
    left = line(editor, "hip_flexor_force", "left")
    assert left.hasFocus()
    qtbot.keyClicks(left, "200")
    qtbot.keyClick(left, Qt.Key.Key_Right)  # one Tab stop per item: the arrow to the right side
    right = line(editor, "hip_flexor_force", "right")
    assert right.hasFocus()
    with qtbot.waitSignal(editor.findings_changed):
        qtbot.keyClicks(right, "250")
    findings = editor.findings
    assert dict(findings.sides("hip_flexor_force")) == {"left": 200, "right": 250}
    asym = editor.row("hip_flexor_force").asymmetry
    assert asym.text().startswith("L 20% weaker")
    assert asym.property("exceeds") is True
    qtbot.keyClick(right, Qt.Key.Key_Backspace)  # 25 N: the gap is now the other way and huge
    qtbot.keyClick(right, Qt.Key.Key_Backspace)
    qtbot.keyClicks(right, "05")
    assert editor.findings.get("hip_flexor_force", "right") == 205
    assert asym.property("exceeds") is False
    assert editor.nav.topLevelItem(2).text(1) == "1/3"


def test_difference_items_compare_with_the_minimal_detectable_difference(qtbot, mini_form) -> None:
    editor = make_editor(qtbot, mini_form)
    editor.set_current_section("flexibility")
    qtbot.keyClicks(line(editor, "slr", "left"), "70")
    qtbot.keyClicks(line(editor, "slr", "right"), "76")
    asym = editor.row("slr").asymmetry
    assert asym.text() == "L 6° worse"
    assert asym.property("exceeds") is False
    line(editor, "slr", "right").clear()
    qtbot.keyClicks(line(editor, "slr", "right"), "80")
    assert asym.property("exceeds") is True
    assert "minimal detectable difference" in asym.toolTip()


def test_out_of_range_value_is_refused_with_the_reason_nothing_lost(qtbot, mini_form) -> None:
    editor = make_editor(qtbot, mini_form)
    editor.set_current_section("hips")
    qtbot.keyClicks(line(editor, "hip_flexor_force", "right"), "300")
    left = line(editor, "hip_flexor_force", "left")
    qtbot.keyClicks(left, "800")
    left.editingFinished.emit()  # the clinician left the field: 800 N is the value now
    before = editor.findings
    qtbot.keyClicks(left, "0")  # 8000 N
    error = editor.row("hip_flexor_force").error
    assert error.isVisible()
    assert "8000 N is outside 0-800 N" in error.text()
    assert left.text() == "8000"  # what was typed stays, to be corrected
    assert left.property("invalid") is True
    assert editor.findings == before  # the refused value never entered the findings
    assert editor.findings.get("hip_flexor_force", "right") == 300
    assert [(i.id, s) for i, s, _ in editor.invalid_fields()] == [("hip_flexor_force", "left")]
    assert editor.nav.topLevelItem(2).text(1).startswith("⚠")
    qtbot.keyClick(left, Qt.Key.Key_Backspace)
    assert editor.invalid_fields() == []
    assert not editor.nav.topLevelItem(2).text(1).startswith("⚠")
    assert not error.isVisible()
    assert left.property("invalid") is False
    assert dict(editor.findings.sides("hip_flexor_force")) == {"left": 800, "right": 300}


def test_text_that_is_not_a_number_is_explained(qtbot, mini_form) -> None:
    editor = make_editor(qtbot, mini_form)
    editor.set_current_section("flexibility")
    qtbot.keyClicks(line(editor, "slr", "left"), "7o")
    assert "“7o” is not a number" in editor.row("slr").error.text()
    qtbot.keyClicks(line(editor, "slr", "left"), "")
    line(editor, "slr", "left").setText("")
    qtbot.keyClicks(line(editor, "slr", "left"), "72.5")
    assert "must be a whole number" in editor.row("slr").error.text()


def test_every_item_type_reaches_the_findings(qtbot, mini_form) -> None:
    editor = make_editor(qtbot, mini_form)
    combo = editor.editor("involved_side").focus_widgets()[0]
    assert isinstance(combo, QComboBox)
    combo.setFocus()
    qtbot.keyClicks(combo, "R")
    assert editor.findings.get("involved_side") == "right"
    pain = editor.editor("pain_now").focus_widgets()[0]
    assert isinstance(pain, QComboBox)
    pain.setCurrentIndex(pain.findData(6))
    assert editor.findings.get("pain_now") == 6
    quality = editor.editor("pain_quality")
    assert isinstance(quality, MultiEditor)
    quality.boxes["tingling"].click()
    quality.boxes["ache"].click()
    assert editor.findings.get("pain_quality") == ("ache", "tingling")
    notes = editor.editor("notes").focus_widgets()[0]
    assert isinstance(notes, QPlainTextEdit)
    notes.setPlainText("Läuft seit 3 Wochen · Schmerz ↑")
    assert editor.findings.get("notes") == "Läuft seit 3 Wochen · Schmerz ↑"
    editor.set_current_section("hips")
    toggle = editor.editor("trendelenburg", "left")
    assert isinstance(toggle, ToggleEditor)
    toggle.buttons["positive"].setFocus()
    qtbot.keyClick(toggle.buttons["positive"], Qt.Key.Key_Space)
    assert editor.findings.get("trendelenburg", "left") == "positive"
    qtbot.keyClick(toggle.buttons["positive"], Qt.Key.Key_Space)  # pressing again clears
    assert editor.findings.get("trendelenburg", "left") is None
    mmt = editor.editor("hip_flexor_mmt", "right").focus_widgets()[0]
    assert isinstance(mmt, QComboBox)
    mmt.setCurrentIndex(mmt.findText("4+"))
    assert editor.findings.get("hip_flexor_mmt", "right") == 4.5
    assert editor.nav.topLevelItem(0).text(1) == "4/5"


def test_keyboard_moves_between_sections(qtbot, mini_form) -> None:
    ctrl, alt = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier
    editor = make_editor(qtbot, mini_form)
    editor.focus_first_field()
    assert editor.current_section() == "subjective"
    with qtbot.waitSignal(editor.section_changed) as blocker:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_PageDown, ctrl)
    assert blocker.args == ["red_flags"]
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down, alt)
    assert editor.current_section() == "hips"
    assert QApplication.focusWidget() is line(editor, "hip_flexor_force", "left")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Up, alt)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_PageUp, ctrl)
    assert editor.current_section() == "subjective"


def test_tab_order_follows_the_form(qtbot, mini_form) -> None:
    editor = make_editor(qtbot, mini_form)
    editor.set_current_section("hips", focus=True)
    seen = []
    for _ in range(6):
        w = QApplication.focusWidget()
        seen.append(w.accessibleName())
        qtbot.keyClick(w, Qt.Key.Key_Tab)
    assert seen[:3] == [  # one stop per item (issue 18), on its left side
        "Hip flexor strength, left",
        "Hip flexor MMT, left",
        "Trendelenburg, left",
    ]


def test_loaded_findings_are_shown_and_read_only_refuses_edits(qtbot, mini_form) -> None:
    findings = validate(
        mini_form,
        {"values": {"hip_flexor_force": {"left": 180, "right": 240}, "involved_side": "left"}},
    )
    editor = make_editor(qtbot, mini_form, findings)
    assert line(editor, "hip_flexor_force", "right").text() == "240"
    assert "LSI 75%" in editor.row("hip_flexor_force").asymmetry.text()
    editor.set_read_only(True)
    editor.set_current_section("hips")
    left = line(editor, "hip_flexor_force", "left")
    assert left.isReadOnly()
    qtbot.keyClicks(left, "5")
    assert editor.findings == findings
    assert not editor.editor("involved_side").focus_widgets()[0].isEnabled()


def test_pages_are_built_when_first_shown(qtbot, mini_form) -> None:
    findings = validate(mini_form, {"values": {"slr": {"left": 70, "right": 80}}})
    editor = EvaluationEditor(mini_form, findings, initial_section="hips")
    qtbot.addWidget(editor)
    assert editor.current_section() == "hips"
    assert editor.built_sections() == ["hips"]
    assert editor.nav.topLevelItem(3).text(1) == "1/1"  # counts need no page
    editor.set_current_section("flexibility")
    assert editor.built_sections() == ["hips", "flexibility"]
    assert line(editor, "slr", "right").text() == "80"
    assert editor.row("slr").asymmetry.text() == "L 10° worse"


def test_odd_numbers_are_refused_or_read_sensibly(qtbot, mini_form) -> None:
    editor = make_editor(qtbot, mini_form)
    editor.set_current_section("hips")
    field = line(editor, "hip_flexor_force", "left")
    error = editor.row("hip_flexor_force").error
    for text, problem in (
        ("nan", "is not a number"),  # the field refuses them before the findings check
        ("inf", "is not a number"),
        ("1e3", "is not a number"),
        ("1_0", "is not a number"),
        ("1" + "0" * 400, "too large a number"),
        ("-5", "outside 0-800"),
        ("12..5", "is not a number"),
    ):
        field.setText(text)
        field.textEdited.emit(text)
        assert problem in error.text(), text
        assert editor.findings.get("hip_flexor_force", "left") is None
    field.setText(" 12,5 ")
    field.textEdited.emit(" 12,5 ")  # a decimal comma, spaces around
    assert not error.isVisible()
    assert editor.findings.get("hip_flexor_force", "left") == 12.5
