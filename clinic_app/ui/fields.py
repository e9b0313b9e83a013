"""One input widget per item type, built from the form definition.

Each editor edits one value (one side of a bilateral item) and reports every change with the raw
value the user entered, or :class:`Invalid` when the text cannot even be read as a value. Checking
the value against the form is not done here: the evaluation editor hands it to
``Findings.with_value`` so that the rules live in one place (core), and shows the reason beside the
field when it is refused.

Keyboard (issue 18): each editor has one Tab stop (:meth:`ValueEditor.tab_widget`); single keys
answer (:meth:`ValueEditor.answer_key`: Y/N, P/N, a choice's first letter or its number; grades,
scores and numbers are typed); ``clinic_app.ui.keyboard`` adds Enter (next item) and Left/Right
(the other side) around them. A new editor (a questionnaire, the home program) fits by keeping
``focus_widgets()[0]`` as its Tab stop, or setting ``inner_navigation`` when it moves its own
focus (a table): then Enter and the arrows are left to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QEvent, QObject, QRect, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from clinic_app.core.form import (
    CATEGORICAL_VALUES,
    MMT_GRADES,
    Item,
    ItemType,
    parse_mmt_grade,
)
from clinic_app.core.words import SHOWN_DIGITS, shown_number
from clinic_app.ui.flow_layout import ColumnFlowLayout
from clinic_app.ui.wrap_check import WrapCheckBox

EMPTY = "–"  # shown for "not recorded" in drop-downs


@dataclass(frozen=True)
class Invalid:
    """Text that is not a value at all (e.g. letters in a number field), with the reason."""

    text: str
    reason: str


def format_number(value: float) -> str:
    """A number as a field shows it: 15.0 as "15", never with an exponent ("99999999")."""
    return shown_number(value)


# Digits (any script's decimal digits: "١٠" is 10), a sign, one decimal point. Not what Python's
# float() also takes and a person does not mean: "1_0" (read as 10), "1e3", "nan", "inf".
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
# Significant digits a decimal keeps as stored (a float): more would be stored rounded.
_DECIMAL_DIGITS = 15


def parse_number(text: str) -> float | int | None | Invalid:
    """A number typed by a person: blank is "not recorded", a decimal comma is accepted. A
    whole number is read exactly ("1234567890123", not a float's 1.23457e+12); one with more
    than ``SHOWN_DIGITS`` digits, or a decimal with more digits than can be stored, is refused
    rather than stored as some other number."""
    t = text.strip().replace(",", ".")
    if not t:
        return None
    if _NUMBER.fullmatch(t) is None:
        return Invalid(text, f"“{text.strip()}” is not a number")
    number = Decimal(t)  # exact; reads any script's digits, as the pattern does
    if number and number.adjusted() >= SHOWN_DIGITS:
        digits = sum(c.isdigit() for c in t)
        return Invalid(text, f"“{text.strip()[:20]}…” ({digits} digits) is too large a number")
    if number == number.to_integral_value():
        return int(number)  # "12.0" is 12, "-0" is 0
    value = float(number)
    if Decimal(format(value, f".{_DECIMAL_DIGITS}g")) != number:
        return Invalid(
            text,
            f"“{text.strip()[:40]}” has more digits than can be stored "
            f"(at most {_DECIMAL_DIGITS} significant digits)",
        )
    return value


def range_text(item: Item) -> str:
    rng = item.value_range
    if rng is None:
        return ""
    unit = f" {item.unit}" if item.unit and item.unit != "°" else item.unit
    return f"{format_number(rng.min)}–{format_number(rng.max)}{unit}"


class ValueEditor(QWidget):
    """Base of the per-type editors.

    Signals: ``edited(object)`` — the user changed the value: the new raw value, ``None`` when
    cleared, or an :class:`Invalid`. Never emitted by :meth:`set_value`. ``finished()`` — a
    typed editor (``typed``) lost focus or took Return: the typing that began with the first
    ``edited`` is over. Editors that are not typed (drop-downs, toggles, check boxes) make each
    change in one step, so every ``edited`` is a finished edit.
    """

    edited = Signal(object)
    finished = Signal()
    typed = False  # the value is typed key by key, so it passes through prefixes
    # The editor moves focus inside itself (a table): Enter and the arrows are its own.
    inner_navigation = False

    def __init__(self, item: Item, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def set_read_only(self, read_only: bool) -> None:
        for w in self.focus_widgets():
            w.setEnabled(not read_only)

    def focus_widgets(self) -> list[QWidget]:
        """The widgets that take keyboard focus, in tab order."""
        raise NotImplementedError

    def tab_widget(self) -> QWidget:
        """The one widget Tab stops at (the item's other widgets are reached by arrows)."""
        return self.focus_widgets()[0]

    def focus_area(self, widget: QWidget) -> QRect:
        """Where the focus frame goes when ``widget`` has the focus (its coordinates)."""
        return widget.rect()

    def set_accessible(self, name: str, description: str) -> None:
        """Name the field for screen readers ("Passive straight leg raise, left"), with the
        item's help as its description."""
        w = self.tab_widget()
        w.setAccessibleName(name)
        w.setAccessibleDescription(description)

    def answer_key(self, watched: QObject, event: QKeyEvent) -> bool:
        """Answer from one key pressed in ``watched`` (one of :meth:`focus_widgets`); True when
        the key was used. Typed editors leave keys to their line edit."""
        return False

    def leaves_by(self, watched: QObject, key: int) -> bool:
        """Whether Left/Right pressed in ``watched`` moves to the other side (a line edit only
        from the end or the start of its text, or with all of it selected)."""
        line = watched if isinstance(watched, QLineEdit) else None
        if isinstance(watched, QComboBox) and watched.isEditable():
            line = watched.lineEdit()
        if line is None:
            return True
        if line.hasSelectedText() and len(line.selectedText()) == len(line.text()):
            return True  # everything selected (arrived by Tab): the arrow moves on
        at = line.cursorPosition()
        return at == len(line.text()) if key == Qt.Key.Key_Right else at == 0

    def set_invalid(self, invalid: bool) -> None:
        for w in self.focus_widgets():
            w.setProperty("invalid", invalid)
            w.style().unpolish(w)
            w.style().polish(w)


class NumberEditor(ValueEditor):
    """A line edit for a number, its unit beside it, the allowed range as placeholder.

    Signals: ``edited(object)`` (from ValueEditor) on every keystroke; ``finished()`` on Return
    or leaving the field.
    """

    typed = True

    def __init__(self, item: Item, parent: QWidget | None = None) -> None:
        super().__init__(item, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(range_text(item))
        self.line.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.line.setMinimumWidth(60)
        self.line.setMaximumWidth(96)
        self.line.setAccessibleName(item.label)
        self.line.textEdited.connect(self.on_line_text_edited)
        self.line.editingFinished.connect(self.finished)
        layout.addWidget(self.line)
        self.unit = QLabel(item.unit, self)
        self.unit.setProperty("role", "unit")
        self.unit.setMinimumWidth(max(22, self.unit.fontMetrics().horizontalAdvance(item.unit) + 4))
        layout.addWidget(self.unit)
        layout.addStretch(1)

    def on_line_text_edited(self, text: str) -> None:
        self.edited.emit(parse_number(text))

    def set_value(self, value: Any) -> None:
        self.line.setText("" if value is None else format_number(value))

    def set_read_only(self, read_only: bool) -> None:
        self.line.setReadOnly(read_only)
        self.line.setProperty("readOnly", read_only)

    def focus_widgets(self) -> list[QWidget]:
        return [self.line]


class ComboEditor(ValueEditor):
    """A drop-down for choices, MMT grades and 0–10 scales, with "–" for not recorded.

    Grades and scales can also be typed (``4-``, ``4+``, ``7``): the drop-down is editable for
    them, and a typed text that is no grade is reported as :class:`Invalid` and stays showing,
    instead of a keyboard search quietly picking the entry that starts like it ("15" picking 1).

    Signals: ``edited(object)`` (from ValueEditor) on a pick and on every keystroke;
    ``finished()`` when a typed entry is done.
    """

    def __init__(self, item: Item, parent: QWidget | None = None) -> None:
        super().__init__(item, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox(self)
        self.combo.setAccessibleName(item.label)
        self.combo.addItem(EMPTY, None)
        self.typed = item.type in (ItemType.MMT, ItemType.SCALE)
        if item.type is ItemType.MMT:
            for grade, label in MMT_GRADES:
                self.combo.addItem(label, grade)
        elif item.type is ItemType.SCALE:
            for n in range(11):
                self.combo.addItem(str(n), n)
        else:
            for c in item.choices:
                self.combo.addItem(c.label, c.id)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        if self.typed:
            self.combo.setEditable(True)
            self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            # An inline completion would type for the clinician ("1" becoming "10").
            self.combo.setCompleter(None)  # type: ignore[arg-type]
            line = self.combo.lineEdit()
            assert line is not None
            line.setPlaceholderText("0–5" if item.type is ItemType.MMT else "0–10")
            line.textEdited.connect(self.on_line_text_edited)
            line.editingFinished.connect(self.on_line_editing_finished)
            line.clear()  # not "–": typing starts on an empty field
            room = self.combo.fontMetrics().horizontalAdvance("0–10") + 40
            self.combo.setMinimumWidth(max(72, room))
        self.combo.currentIndexChanged.connect(self.on_combo_current_index_changed)
        layout.addWidget(self.combo)
        layout.addStretch(1)

    def parse(self, text: str) -> float | int | None | Invalid:
        """A typed grade or score: blank is "not recorded"."""
        t = text.strip()
        if not t or t == EMPTY:
            return None
        if self.item.type is ItemType.MMT:
            grade = parse_mmt_grade(t)
            if grade is None:
                return Invalid(text, f"“{t}” is not a muscle test grade (0–5, with − or +)")
            return grade
        value = parse_number(t)
        if isinstance(value, Invalid):
            return Invalid(text, f"“{t}” is not a score from 0 to 10")
        return value

    def on_line_text_edited(self, text: str) -> None:
        self.edited.emit(self.parse(text))

    def answer_key(self, watched: QObject, event: QKeyEvent) -> bool:
        """A choice by its number (1 is the first) unless a label starts with a digit ("20-29":
        then the digits search the labels, as letters do); Delete clears. Grades and scores
        are typed into the field."""
        if self.typed or self.item.type is not ItemType.CHOICE:
            return False
        key, text = event.key(), event.text()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.combo.setCurrentIndex(0)
            return True
        labels = [c.label for c in self.item.choices]
        if text.isdigit() and not any(lab[:1].isdigit() for lab in labels):
            n = int(text)
            if 1 <= n <= len(labels):
                self.combo.setCurrentIndex(n)
            return True  # a number that is no choice changes nothing
        if len(text) == 1 and (text.isalpha() or text.isdigit()):
            low = text.lower()
            starts = [n + 1 for n, lab in enumerate(labels) if lab.lower().startswith(low)]
            if starts:
                later = [n for n in starts if n > self.combo.currentIndex()]
                self.combo.setCurrentIndex((later or starts)[0])
            return True  # a letter no choice starts with changes nothing
        return False

    def on_line_editing_finished(self) -> None:
        line = self.combo.lineEdit()
        assert line is not None
        value = self.parse(line.text())
        if not isinstance(value, Invalid):
            self.set_value(value)  # "4-" is shown as the grade it is, "4−"
        self.finished.emit()

    def on_combo_current_index_changed(self, index: int) -> None:
        line = self.combo.lineEdit()
        if line is not None and index == 0:
            line.clear()
        self.edited.emit(self.combo.itemData(index))
        if self.typed:
            self.finished.emit()  # a pick from the list is a whole entry

    def set_value(self, value: Any) -> None:
        index = 0 if value is None else self.combo.findData(value)
        if index < 0 and isinstance(value, int | float):
            index = self.combo.findData(float(value))
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(max(index, 0))
        line = self.combo.lineEdit()
        if line is not None:
            line.setText("" if index <= 0 else self.combo.itemText(index))
        self.combo.blockSignals(False)

    def focus_widgets(self) -> list[QWidget]:
        return [self.combo]


class ToggleEditor(ValueEditor):
    """Two compact toggle buttons (Yes/No, Pos/Neg); pressing the lit one clears the value.

    One focus for the pair: Y/N (P/N) answer, Up/Down switch, Space or Delete clear; the
    buttons take clicks only (the editor's focus ring, ``ui/keyboard.py``, shows the focus).
    """

    LABELS = {"yes": "Yes", "no": "No", "positive": "Pos", "negative": "Neg"}

    def __init__(self, item: Item, parent: QWidget | None = None) -> None:
        super().__init__(item, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(3, 3, 3, 3)
        layout.setSpacing(0)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.buttons: dict[str, QToolButton] = {}
        values = CATEGORICAL_VALUES[item.type]
        for n, value in enumerate(values):
            b = QToolButton(self)
            b.setText(self.LABELS.get(value, value))
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setAccessibleName(f"{item.label}: {value}")
            b.setProperty("segment", "first" if n == 0 else "last")
            b.setProperty("value", value)
            b.clicked.connect(self.on_button_clicked)
            layout.addWidget(b)
            self.buttons[value] = b
        layout.addStretch(1)
        self.setAccessibleName(item.label)

    def on_button_clicked(self, checked: bool) -> None:
        sender = self.sender()
        value = sender.property("value") if sender is not None else None
        for v, b in self.buttons.items():
            if v != value:
                b.setChecked(False)
        self.edited.emit(value if checked else None)

    def choose(self, value: str | None) -> None:
        """Set the value as the user would (emits ``edited`` when it changes)."""
        if value == self.value():
            return
        self.set_value(value)
        self.edited.emit(value)

    def answer_key(self, watched: QObject, event: QKeyEvent) -> bool:
        key, text = event.key(), event.text().lower()
        values = list(self.buttons)
        for value in values:
            if text and self.LABELS[value].lower().startswith(text):
                self.choose(value)
                return True
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            now = self.value()
            step = 1 if key == Qt.Key.Key_Down else -1
            n = values.index(now) + step if now in values else (0 if step > 0 else -1)
            self.choose(values[n % len(values)])
            return True
        if key in (Qt.Key.Key_Space, Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.choose(None)
            return True
        return bool(text.strip()) and text.isprintable()  # another letter: nothing changes

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.isEnabled() and self.answer_key(self, event):
            event.accept()
            return
        super().keyPressEvent(event)

    def focus_area(self, widget: QWidget) -> QRect:
        """The two buttons, not the empty room beside them."""
        area = QRect()
        for b in self.buttons.values():
            area = area.united(b.geometry())
        return area

    def set_accessible(self, name: str, description: str) -> None:
        super().set_accessible(name, description)
        for value, b in self.buttons.items():
            b.setAccessibleName(f"{name}: {self.LABELS[value]}")

    def value(self) -> str | None:
        for v, b in self.buttons.items():
            if b.isChecked():
                return v
        return None

    def set_value(self, value: Any) -> None:
        for v, b in self.buttons.items():
            b.setChecked(v == value)

    def focus_widgets(self) -> list[QWidget]:
        return [self]


class MultiEditor(ValueEditor):
    """Check boxes, one per choice, in as many equal columns as fit (at most ``columns``); in a
    column narrower than a choice, its label wraps (issue 18: never cut at any width)."""

    def __init__(self, item: Item, parent: QWidget | None = None, columns: int = 3) -> None:
        super().__init__(item, parent)
        layout = ColumnFlowLayout(self, max_columns=columns, spacing=16, row_spacing=2)
        self.boxes: dict[str, QCheckBox] = {}
        for c in item.choices:
            box = WrapCheckBox(c.label, self)
            box.toggled.connect(self.on_box_toggled)
            layout.addWidget(box)
            self.boxes[c.id] = box
        policy = self.sizePolicy()
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def value(self) -> list[str] | None:
        chosen = [cid for cid, box in self.boxes.items() if box.isChecked()]
        return chosen or None

    def answer_key(self, watched: QObject, event: QKeyEvent) -> bool:
        """A choice's number (1 is the first) ticks or unticks it; a letter ticks the one choice
        starting with it, or moves to the next of several; the arrows move between choices."""
        boxes = list(self.boxes.values())
        if watched not in boxes:
            return False
        here = boxes.index(watched)
        key, text = event.key(), event.text()
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = 1 if key in (Qt.Key.Key_Down, Qt.Key.Key_Right) else -1
            boxes[(here + step) % len(boxes)].setFocus(Qt.FocusReason.TabFocusReason)
            return True
        if text.isdigit():
            n = int(text) if text != "0" else 10
            if 1 <= n <= len(boxes):
                boxes[n - 1].setFocus(Qt.FocusReason.TabFocusReason)
                boxes[n - 1].toggle()
            return True
        if len(text) == 1 and text.isalpha():
            starts = [n for n, b in enumerate(boxes) if b.text().lower().startswith(text.lower())]
            if len(starts) == 1:
                boxes[starts[0]].setFocus(Qt.FocusReason.TabFocusReason)
                boxes[starts[0]].toggle()
            elif starts:
                later = [n for n in starts if n > here]
                boxes[(later or starts)[0]].setFocus(Qt.FocusReason.TabFocusReason)
            return True
        return False

    def set_accessible(self, name: str, description: str) -> None:
        """The group carries the item's name; each box says its choice ("Pain quality: Ache")."""
        self.setAccessibleName(name)
        self.setAccessibleDescription(description)
        for box in self.boxes.values():
            box.setAccessibleName(f"{name}: {box.text()}")
            box.setAccessibleDescription(description)

    def on_box_toggled(self, _checked: bool) -> None:
        self.edited.emit(self.value())

    def set_value(self, value: Any) -> None:
        chosen = set(value or ())
        for cid, box in self.boxes.items():
            box.blockSignals(True)
            box.setChecked(cid in chosen)
            box.blockSignals(False)

    def focus_widgets(self) -> list[QWidget]:
        return list(self.boxes.values())


class TextEditor(ValueEditor):
    """Free text; Tab moves on to the next field instead of typing a tab.

    Signals: ``edited(object)`` on every change; ``finished()`` when the text loses focus.
    """

    typed = True

    def __init__(self, item: Item, parent: QWidget | None = None) -> None:
        super().__init__(item, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text = QPlainTextEdit(self)
        self.text.setTabChangesFocus(True)
        self.text.setAccessibleName(item.label)
        self.text.setFixedHeight(64)
        self.text.textChanged.connect(self.on_text_text_changed)
        self.text.installEventFilter(self)
        layout.addWidget(self.text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.text and event.type() == QEvent.Type.FocusOut:
            self.finished.emit()
        return super().eventFilter(watched, event)

    def on_text_text_changed(self) -> None:
        t = self.text.toPlainText()
        self.edited.emit(t if t.strip() else None)

    def set_value(self, value: Any) -> None:
        self.text.blockSignals(True)
        self.text.setPlainText("" if value is None else str(value))
        self.text.blockSignals(False)

    def set_read_only(self, read_only: bool) -> None:
        self.text.setReadOnly(read_only)

    def focus_widgets(self) -> list[QWidget]:
        return [self.text]


def is_whole_item(item: Item) -> bool:
    """Items edited by one widget for both sides (the body chart), not one editor per side."""
    return item.type is ItemType.REGIONS and item.bilateral
