"""Choices wrap instead of clipping (issue 18): the word-wrapping check box, the layout that puts
choices in as many equal columns as fit, and a choice item's editor squeezed into a narrow
left/right column of a real section page."""

from __future__ import annotations

import functools

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from clinic_app.core.form import Form, ItemType, load_form
from clinic_app.paths import default_form_path
from clinic_app.ui.fields import MultiEditor
from clinic_app.ui.flow_layout import ColumnFlowLayout
from clinic_app.ui.screenshots import layout_problems
from clinic_app.ui.section_page import SectionPage
from clinic_app.ui.wrap_check import WrapCheckBox

LONG = "Over-rotates or crosses the body when running uphill"


@functools.cache
def shipped_form() -> Form:
    return load_form(default_form_path())


def _holder(qtbot, width: int, *widgets: QWidget) -> QWidget:
    holder = QWidget()
    qtbot.addWidget(holder)
    box = QVBoxLayout(holder)
    for w in widgets:
        w.setParent(holder)
        box.addWidget(w)
    box.addStretch(1)
    holder.resize(width, 400)
    holder.show()
    qtbot.waitExposed(holder)
    return holder


def test_a_narrow_box_wraps_its_label_and_grows_in_height(qtbot) -> None:
    box = WrapCheckBox(LONG)
    holder = _holder(qtbot, 600, box)
    one_line = box.height()
    assert not box.wraps()
    assert box.heightForWidth(box.width()) == one_line
    holder.resize(130, 400)
    qtbot.waitUntil(box.wraps)
    assert box.height() >= 3 * box.fontMetrics().height()  # four or five short lines
    assert box.height() >= box.heightForWidth(box.width())
    assert box.width() <= 130
    assert box.text() == LONG  # the label is whole: drawn wrapped, not cut
    assert layout_problems(holder) == []


def test_no_word_is_ever_cut(qtbot) -> None:
    box = WrapCheckBox("Spreading tingling")
    longest = box.fontMetrics().horizontalAdvance("Spreading")
    assert box.minimumSizeHint().width() >= longest
    assert box.minimumSizeHint().width() < box.sizeHint().width()


def test_a_click_on_the_second_line_ticks_it(qtbot) -> None:
    box = WrapCheckBox(LONG)
    holder = _holder(qtbot, 130, box)
    qtbot.waitUntil(box.wraps)
    assert holder.isVisible()
    got: list[bool] = []
    box.toggled.connect(got.append)
    lower = QPoint(box.width() // 2, box.height() - 4)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=lower)
    assert box.isChecked()
    assert got == [True]
    qtbot.keyClick(box, Qt.Key.Key_Space)  # the keyboard still works as on any check box
    assert not box.isChecked()


def test_a_changed_text_is_measured_again(qtbot) -> None:
    box = WrapCheckBox("Ache")
    short = box.sizeHint().width()
    box.setText(LONG)
    assert box.sizeHint().width() > short


@pytest.mark.parametrize("width", [120, 260, 420, 700, 1000])
def test_choices_take_as_many_equal_columns_as_fit(qtbot, width) -> None:
    boxes = [WrapCheckBox(t) for t in ("Ache", "Sharp", "Pulling", "Tingling", LONG)]
    holder = QWidget()
    qtbot.addWidget(holder)
    layout = ColumnFlowLayout(holder, max_columns=3)
    for b in boxes:
        layout.addWidget(b)
    holder.resize(width, layout.heightForWidth(width))
    holder.show()
    qtbot.waitExposed(holder)
    columns = layout.columns_for(width)
    cell = max(b.sizeHint().width() for b in boxes)
    assert columns == max(1, min(3, (width + 16) // (cell + 16)))
    lefts = sorted({b.x() for b in boxes})
    assert len(lefts) == columns  # aligned: one left edge per column
    for b in boxes:
        assert holder.rect().contains(b.geometry()), (width, b.text(), b.geometry())
        assert b.height() >= b.heightForWidth(b.width())
    assert layout_problems(holder) == []


def test_a_choice_item_fits_a_narrow_left_right_column(qtbot) -> None:
    """The shoulder-girdle page at 480 px: before, its left/right arm-swing choices made the page
    144 px wider than its view at a 1024-pixel window (a sideways scroll, labels cut)."""
    form = shipped_form()
    section = next(s for s in form.sections if s.id == "shoulder_girdle")
    assert any(i.type is ItemType.MULTI and i.bilateral for i in section.items)
    page = SectionPage(section)
    qtbot.addWidget(page)
    page.resize(480, 600)
    page.show()
    qtbot.waitExposed(page)
    qtbot.wait(20)
    assert page.widget().width() <= page.viewport().width()
    assert layout_problems(page) == []
    multis = [w for w in page.findChildren(MultiEditor) if w.isVisible()]
    assert multis
    assert any(box.wraps() for ed in multis for box in ed.boxes.values())
