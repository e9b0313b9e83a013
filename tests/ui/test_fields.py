"""The per-type editors of ui/fields: what each one reports for what a person types or clicks."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QLineEdit, QWidget

from clinic_app.core.form import Form, Item, mmt_grade
from clinic_app.ui.fields import (
    ComboEditor,
    Invalid,
    MultiEditor,
    NumberEditor,
    TextEditor,
    ToggleEditor,
    format_number,
    parse_number,
    range_text,
)


def _shown(qtbot: Any, widget: QWidget) -> QWidget:
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _record(editor: Any) -> list[Any]:
    got: list[Any] = []
    editor.edited.connect(got.append)
    return got


def _item(form: Form, item_id: str) -> Item:
    return form.item(item_id)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("  ", None),
        ("12", 12),
        ("12.5", 12.5),
        ("12,5", 12.5),
        (" 7 ", 7),
        ("150", 150),
        ("+3", 3),
        ("-0", 0),
        (".5", 0.5),
        ("١٠", 10),  # Arabic-Indic digits: ten, as typed
    ],
)
def test_parse_number_reads_what_a_person_types(text: str, expected: object) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    # Python's float() reads the second row as 10, 1000, NaN, infinity, 10 and 100: the field
    # would have shown one thing and stored another.
    ["7o", "1e", "--1", "½", "1 2", "1.2.3", "²", "1_0", "1e3", "nan", "inf", "1e1", "1_0_0"],
)
def test_parse_number_refuses_text_that_is_no_number(text: str) -> None:
    result = parse_number(text)
    assert isinstance(result, Invalid)
    assert result.text == text
    assert "is not a number" in result.reason


def test_parse_number_refuses_more_digits_than_a_number_holds() -> None:
    result = parse_number("9" * 400)
    assert isinstance(result, Invalid)
    assert "too large" in result.reason


def test_format_and_range_text(mini_form: Form) -> None:
    assert format_number(15.0) == "15"
    assert format_number(2.5) == "2.5"
    assert range_text(_item(mini_form, "hip_flexor_force")) == "0–800 N"
    assert range_text(_item(mini_form, "slr")) == "0–180°"
    assert range_text(_item(mini_form, "notes")) == ""


def test_number_editor_reports_every_keystroke_and_a_finished_entry(qtbot, mini_form) -> None:
    ed = _shown(qtbot, NumberEditor(_item(mini_form, "slr")))
    got = _record(ed)
    finished: list[bool] = []
    ed.finished.connect(lambda: finished.append(True))
    assert ed.typed
    qtbot.keyClicks(ed.line, "15x")
    assert got[:2] == [1, 15]
    assert isinstance(got[2], Invalid)
    assert finished == []
    ed.line.editingFinished.emit()
    assert finished == [True]
    ed.set_value(42)  # from the findings: shown, not reported
    assert ed.line.text() == "42"
    assert len(got) == 3


def test_mmt_editor_offers_every_grade_in_order_and_reads_typed_grades(qtbot, mini_form) -> None:
    ed = _shown(qtbot, ComboEditor(_item(mini_form, "hip_flexor_mmt")))
    labels = [ed.combo.itemText(n) for n in range(ed.combo.count())]
    assert labels[:5] == ["–", "0", "0+", "1−", "1"]
    assert labels[-4:] == ["4", "4+", "5−", "5"]
    values = [ed.combo.itemData(n) for n in range(1, ed.combo.count())]
    assert values == sorted(values)  # the documented numeric order is the clinical order
    assert [mmt_grade(v) for v in values] == labels[1:]
    assert ed.typed
    assert ed.parse("4-") == 3.75
    assert ed.parse("4−") == 3.75
    assert ed.parse("4+") == 4.5
    assert ed.parse("5") == 5.0
    assert ed.parse("") is None
    for bad in ("45", "6", "4++", "-4", "4.2", "five"):
        assert isinstance(ed.parse(bad), Invalid), bad


def test_typing_over_a_grade_reports_the_text_not_a_keyboard_search_match(qtbot, mini_form) -> None:
    ed = _shown(qtbot, ComboEditor(_item(mini_form, "hip_flexor_mmt")))
    got = _record(ed)
    line = ed.combo.lineEdit()
    assert isinstance(line, QLineEdit)
    qtbot.keyClicks(line, "45")
    assert got[0] == 4
    assert isinstance(got[-1], Invalid)
    assert line.text() == "45"  # what was typed stays showing
    line.clear()
    qtbot.keyClicks(line, "4-")
    line.editingFinished.emit()
    assert got[-1] == 3.75
    assert line.text() == "4−"  # shown as the grade it is


def test_scale_editor_refuses_scores_above_ten(qtbot, mini_form) -> None:
    ed = _shown(qtbot, ComboEditor(_item(mini_form, "pain_now")))
    got = _record(ed)
    line = ed.combo.lineEdit()
    assert line is not None
    qtbot.keyClicks(line, "11")
    assert got == [1, 11]  # 11 is a number; the form's 0-10 check refuses it in the editor
    qtbot.keyClicks(line, "x")
    assert isinstance(got[-1], Invalid)
    ed.combo.setCurrentIndex(ed.combo.findData(6))
    assert got[-1] == 6
    ed.set_value(None)
    assert line.text() == ""


def test_a_choice_is_a_plain_drop_down(qtbot, mini_form) -> None:
    ed = _shown(qtbot, ComboEditor(_item(mini_form, "involved_side")))
    got = _record(ed)
    assert not ed.typed
    assert not ed.combo.isEditable()
    ed.combo.setCurrentIndex(ed.combo.findData("both"))
    assert got == ["both"]


def test_toggle_editor_sets_and_clears(qtbot, mini_form) -> None:
    ed = _shown(qtbot, ToggleEditor(_item(mini_form, "trendelenburg")))
    got = _record(ed)
    ed.buttons["positive"].click()
    ed.buttons["negative"].click()
    ed.buttons["negative"].click()  # pressing the lit one clears it
    assert got == ["positive", "negative", None]
    assert ed.value() is None


def test_multi_editor_reports_the_ticked_choices(qtbot, mini_form) -> None:
    ed = _shown(qtbot, MultiEditor(_item(mini_form, "pain_quality")))
    got = _record(ed)
    ed.boxes["tingling"].click()
    ed.boxes["ache"].click()
    assert got[-1] == ["ache", "tingling"]
    ed.set_value(None)
    assert ed.value() is None
    assert len(got) == 2


def test_text_editor_finishes_when_it_loses_focus(qtbot, mini_form) -> None:
    holder = QWidget()
    ed = TextEditor(_item(mini_form, "notes"), holder)
    other = QLineEdit(holder)
    other.move(0, 80)
    _shown(qtbot, holder)
    holder.activateWindow()
    qtbot.waitUntil(holder.isActiveWindow)
    got = _record(ed)
    finished: list[bool] = []
    ed.finished.connect(lambda: finished.append(True))
    ed.text.setFocus()
    qtbot.keyClicks(ed.text, "ok")
    assert got[-1] == "ok"
    other.setFocus()
    qtbot.waitUntil(lambda: finished == [True])
    ed.set_value("   ")
    assert got[-1] == "ok"  # set_value reports nothing
