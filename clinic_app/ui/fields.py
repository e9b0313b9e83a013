"""One input widget per item type, built from the form definition.

Each editor edits one value (one side of a bilateral item) and reports every change with the raw
value the user entered, or :class:`Invalid` when the text cannot even be read as a value. Checking
the value against the form is not done here: the evaluation editor hands it to
``Findings.with_value`` so that the rules live in one place (core), and shows the reason beside the
field when it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
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

EMPTY = "–"  # shown for "not recorded" in drop-downs


@dataclass(frozen=True)
class Invalid:
    """Text that is not a value at all (e.g. letters in a number field), with the reason."""

    text: str
    reason: str


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def parse_number(text: str) -> float | int | None | Invalid:
    """A number typed by a person: blank is "not recorded", a decimal comma is accepted."""
    t = text.strip().replace(",", ".")
    if not t:
        return None
    try:
        v = float(t)
    except ValueError:
        return Invalid(text, f"“{text.strip()}” is not a number")
    return int(v) if v.is_integer() else v


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
        self.line.setMaxLength(12)
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
            line.setMaxLength(8)
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
    """Two compact toggle buttons (Yes/No, Pos/Neg); pressing the lit one clears the value."""

    LABELS = {"yes": "Yes", "no": "No", "positive": "Pos", "negative": "Neg"}

    def __init__(self, item: Item, parent: QWidget | None = None) -> None:
        super().__init__(item, parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.buttons: dict[str, QToolButton] = {}
        values = CATEGORICAL_VALUES[item.type]
        for n, value in enumerate(values):
            b = QToolButton(self)
            b.setText(self.LABELS.get(value, value))
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            b.setAccessibleName(f"{item.label}: {value}")
            b.setProperty("segment", "first" if n == 0 else "last")
            b.setProperty("value", value)
            b.clicked.connect(self.on_button_clicked)
            layout.addWidget(b)
            self.buttons[value] = b
        layout.addStretch(1)

    def on_button_clicked(self, checked: bool) -> None:
        sender = self.sender()
        value = sender.property("value") if sender is not None else None
        for v, b in self.buttons.items():
            if v != value:
                b.setChecked(False)
        self.edited.emit(value if checked else None)

    def value(self) -> str | None:
        for v, b in self.buttons.items():
            if b.isChecked():
                return v
        return None

    def set_value(self, value: Any) -> None:
        for v, b in self.buttons.items():
            b.setChecked(v == value)

    def focus_widgets(self) -> list[QWidget]:
        return list(self.buttons.values())


class MultiEditor(ValueEditor):
    """Check boxes, one per choice, in up to ``columns`` columns."""

    def __init__(self, item: Item, parent: QWidget | None = None, columns: int = 3) -> None:
        super().__init__(item, parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(16)
        layout.setVerticalSpacing(2)
        self.boxes: dict[str, QCheckBox] = {}
        for n, c in enumerate(item.choices):
            box = QCheckBox(c.label, self)
            box.toggled.connect(self.on_box_toggled)
            layout.addWidget(box, n // columns, n % columns)
            self.boxes[c.id] = box
        layout.setColumnStretch(columns, 1)

    def value(self) -> list[str] | None:
        chosen = [cid for cid, box in self.boxes.items() if box.isChecked()]
        return chosen or None

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
