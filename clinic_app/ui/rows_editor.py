"""The editor of a ``rows`` item (a visit's interventions): a compact table, one row per entry.

The columns come from the form (``Item.columns``): a choice column is edited with a drop-down, a
number or text column with a line. Keyboard only: Tab and Shift+Tab move through the cells (and
out of the table after the last one), typing starts editing a cell, Enter commits it, Esc puts
back what the cell held before (and takes away a row with nothing in it), Ctrl+Enter adds a row,
Ctrl+Delete removes the current one.

Like every editor it only reads what is typed: each committed cell emits the whole table as a
list of rows (blank rows left out), or :class:`~clinic_app.ui.fields.Invalid` when a cell is not
even a value (letters in a number column). The evaluation editor hands the list to
``Findings.with_value``, so the form's rules (ranges, whole numbers, required columns) are checked
in core; a refused cell is marked here (red, with the reason as its tooltip) and nothing of the
table is stored until it is mended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.findings import FindingsError, Rows, check_value
from clinic_app.core.form import Item
from clinic_app.core.form_schema import Column
from clinic_app.core.words import shown_number
from clinic_app.ui.episode_panel import plain_tip
from clinic_app.ui.fields import Invalid, ValueEditor, format_number, parse_number

ROLE_VALUE = Qt.ItemDataRole.UserRole  # a choice cell's id
INVALID_BRUSH = QBrush(QColor("#fbe0de"))
REQUIRED = "required, fill it in or remove the row"


def _is_ctrl_enter(event: QEvent) -> bool:
    if not isinstance(event, QKeyEvent):
        return False
    return event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and bool(
        event.modifiers() & Qt.KeyboardModifier.ControlModifier
    )


class _Delegate(QStyledItemDelegate):
    """A drop-down for choice columns, a line for the others; Ctrl+Enter inside a cell adds a
    row (the cell is committed first) instead of reaching the editor's "confirm" shortcut.

    Signals: ``add_row_requested()``.
    """

    add_row_requested = Signal()

    def __init__(self, columns: Sequence[Column], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        # Each open editor's cell and what it held before (text, choice id): keys commit as
        # they are typed, so Esc puts this back instead of the model's (already typed) text.
        self._before: dict[QWidget, tuple[QPersistentModelIndex, Any, Any]] = {}

    def createEditor(
        self,
        parent: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QWidget:
        column = self.columns[index.column()]
        editor: QWidget
        if column.type == "choice":
            combo = QComboBox(parent)
            combo.addItem("–", None)
            for c in column.choices:
                combo.addItem(c.label, c.id)
            combo.setAccessibleName(column.label)
            # A choice picked goes to the table at once too: "Manual therapy" showing in the
            # cell when Save is pressed or the window closed was stored as the choice before.
            combo.activated.connect(lambda _index: self.commitData.emit(combo))
            editor = combo
        else:
            line = QLineEdit(parent)
            if column.type == "text":  # a number is not cut short: too long a one is refused
                line.setMaxLength(column.max_length)
            line.setAccessibleName(column.label)
            # Each key goes to the table at once, as every field's does: a cell still being
            # typed in when the window is closed (or the record left by a menu) is not lost.
            line.textEdited.connect(lambda _text: self.commitData.emit(line))
            editor = line
        before = (index.data(Qt.ItemDataRole.EditRole), index.data(ROLE_VALUE))
        self._before[editor] = (QPersistentModelIndex(index), *before)
        return editor

    def destroyEditor(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        self._before.pop(editor, None)
        super().destroyEditor(editor, index)

    def revert(self, editor: QWidget) -> int | None:
        """Esc: the cell shows what it held when its editor opened (the row, or None)."""
        index, text, value = self._before.pop(editor, (None, None, None))
        if index is None or not index.isValid():
            return None
        model = index.model()
        if index.data(ROLE_VALUE) != value:
            model.setData(index, value, ROLE_VALUE)
        if index.data(Qt.ItemDataRole.EditRole) != text:
            model.setData(index, text, Qt.ItemDataRole.EditRole)
        return index.row()

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QLineEdit) and editor.text() == index.data(Qt.ItemDataRole.EditRole):
            return  # (the key just committed: setting the same text would move the cursor)
        if isinstance(editor, QComboBox):
            found = editor.findData(index.data(ROLE_VALUE))
            editor.setCurrentIndex(max(found, 0))
            return
        super().setEditorData(editor, index)

    def setModelData(
        self,
        editor: QWidget,
        model: QAbstractItemModel,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if isinstance(editor, QComboBox):
            value = editor.currentData()
            model.setData(index, editor.currentText() if value else "", Qt.ItemDataRole.EditRole)
            model.setData(index, value, ROLE_VALUE)
            return
        super().setModelData(editor, model, index)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and _is_ctrl_enter(event):
            event.accept()  # a key for this cell, not for the window's shortcuts
            return True
        if event.type() == QEvent.Type.KeyPress and _is_ctrl_enter(event):
            if isinstance(watched, QWidget):
                self.commitData.emit(watched)
                self.closeEditor.emit(watched, QAbstractItemDelegate.EndEditHint.NoHint)
            self.add_row_requested.emit()
            return True
        return super().eventFilter(watched, event)


class _Table(QTableWidget):
    """The table: Tab leaves it after its last cell (and Shift+Tab before its first) instead of
    going round; Ctrl+Enter adds a row, Ctrl+Delete removes one.

    Signals: ``add_row_requested()``, ``remove_row_requested()``, ``cell_closed()`` — a cell's
    editor closed (its typing is over), ``cell_reverted(int)`` — Esc put a cell of that row back.
    """

    add_row_requested = Signal()
    remove_row_requested = Signal()
    cell_closed = Signal()
    cell_reverted = Signal(int)

    def _at_edge(self, forward: bool) -> bool:
        index = self.currentIndex()
        if self.rowCount() == 0 or not index.isValid():
            return True
        if forward:
            return index.row() == self.rowCount() - 1 and index.column() == self.columnCount() - 1
        return index.row() == 0 and index.column() == 0

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and _is_ctrl_enter(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        if _is_ctrl_enter(event):
            self.add_row_requested.emit()
            return
        if key == Qt.Key.Key_Delete and mods & Qt.KeyboardModifier.ControlModifier:
            self.remove_row_requested.emit()
            return
        if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and not (
            mods & Qt.KeyboardModifier.ControlModifier
        ):
            forward = key == Qt.Key.Key_Tab and not mods & Qt.KeyboardModifier.ShiftModifier
            if self._at_edge(forward):
                self._leave(forward)
                return
        super().keyPressEvent(event)

    def _leave(self, forward: bool) -> None:
        """On to the widget after (or before) the table, as Tab does elsewhere."""
        self.setFocus(Qt.FocusReason.TabFocusReason)
        QWidget.focusNextPrevChild(self, forward)

    def closeEditor(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:
        delegate = self.itemDelegate()
        if hint == QAbstractItemDelegate.EndEditHint.RevertModelCache and isinstance(
            delegate, _Delegate
        ):  # Esc
            row = delegate.revert(editor)
            super().closeEditor(editor, hint)
            self.cell_closed.emit()
            if row is not None:
                self.cell_reverted.emit(row)
            return
        forward = hint == QAbstractItemDelegate.EndEditHint.EditNextItem
        backward = hint == QAbstractItemDelegate.EndEditHint.EditPreviousItem
        if (forward or backward) and self._at_edge(forward):
            super().closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
            self._leave(forward)
        else:
            super().closeEditor(editor, hint)
        self.cell_closed.emit()


class RowsEditor(ValueEditor):
    """A table of rows for a ``rows`` item, with *Add row*, *Remove row* and, when a program is
    known, *Add from the program*.

    Signals: ``edited(object)`` (from ValueEditor) after each committed cell, added or removed
    row: a list of rows (column id to typed value), None when empty, or Invalid.
    """

    typed = True  # a cell is typed key by key: "2" then "25" (refused) never stores the "2"

    def __init__(self, item: Item, parent: QWidget | None = None) -> None:
        super().__init__(item, parent)
        self.columns = item.columns
        self._loading = False
        self._read_only = False
        self.program: tuple[str, ...] = ()  # exercise names for "Add from the program"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.table = _Table(0, len(self.columns), self)
        self.table.setObjectName(f"{item.id}.table")
        self.table.setAccessibleName(item.label)
        self.table.setHorizontalHeaderLabels([c.label for c in self.columns])
        for n, c in enumerate(self.columns):
            head = self.table.horizontalHeaderItem(n)
            if head is not None and c.unit:
                head.setToolTip(f"{c.label} ({c.unit})")
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 14)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(True)
        # The "What" column stretches and the others are narrow: no sideways scrolling.
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        for n, c in enumerate(self.columns):
            if c.type == "text" and c.max_length > 60:
                header.setSectionResizeMode(n, QHeaderView.ResizeMode.Stretch)
            else:
                header.setSectionResizeMode(n, QHeaderView.ResizeMode.Interactive)
                head = self.table.horizontalHeaderItem(n)
                label = head.text() if head is not None else c.label
                width = max(
                    header.fontMetrics().horizontalAdvance(label) + 20,
                    124 if c.type == "choice" else 52,
                )
                self.table.setColumnWidth(n, width)
        self.delegate = _Delegate(self.columns, self.table)
        self.table.setItemDelegate(self.delegate)
        self.delegate.add_row_requested.connect(self.add_row)
        self.table.add_row_requested.connect(self.add_row)
        self.table.remove_row_requested.connect(self.remove_current_row)
        self.table.itemChanged.connect(self.on_table_item_changed)
        self.table.cell_closed.connect(self.finished)
        self.table.cell_reverted.connect(self.on_table_cell_reverted)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.add_button = QPushButton("Add row", self)
        self.add_button.setToolTip("Add a row (Ctrl+Enter in the table)")
        self.add_button.clicked.connect(self.add_row)
        self.remove_button = QPushButton("Remove row", self)
        self.remove_button.setToolTip("Remove the current row (Ctrl+Delete in the table)")
        self.remove_button.clicked.connect(self.remove_current_row)
        self.program_button = QPushButton("Add from the program", self)
        self.program_button.setToolTip("Add a row for each exercise of the patient's program")
        self.program_button.clicked.connect(self.add_program)
        self.program_button.hide()
        for b in (self.add_button, self.remove_button, self.program_button):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.problems: dict[tuple[int, int], str] = {}
        self._fit_height()

    # -- value ---------------------------------------------------------------------------------

    def set_value(self, value: Any) -> None:
        rows: Sequence[Mapping[str, Any]]
        if isinstance(value, Rows):
            rows = value.rows
        elif isinstance(value, list | tuple):
            rows = [r for r in value if isinstance(r, Mapping)]
        else:
            rows = ()
        self._loading = True
        try:
            self.table.setRowCount(0)
            for row in rows:
                self._append(row)
            self.problems.clear()
        finally:
            self._loading = False
        self._fit_height()

    def _append(self, row: Mapping[str, Any]) -> int:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for n, c in enumerate(self.columns):
            v = row.get(c.id)
            cell = QTableWidgetItem()
            if c.type == "choice":
                cell.setText(c.choice_label(v) if isinstance(v, str) else "")
                cell.setData(ROLE_VALUE, v)
            elif c.type == "number":
                cell.setText(format_number(v) if isinstance(v, int | float) else "")
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            else:
                cell.setText("" if v is None else str(v))
            self._set_editable(cell)
            self.table.setItem(r, n, cell)
        return r

    def _set_editable(self, cell: QTableWidgetItem) -> None:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self._read_only:
            flags |= Qt.ItemFlag.ItemIsEditable
        cell.setFlags(flags)

    def _cell_text(self, r: int, n: int) -> str:
        cell = self.table.item(r, n)
        return cell.text().strip() if cell is not None else ""

    def _cell(self, r: int, n: int) -> tuple[Any, str | None]:
        """The typed value of a cell (None when blank) and why it is not even a value."""
        c = self.columns[n]
        cell = self.table.item(r, n)
        text = self._cell_text(r, n)
        if not text:
            return None, None
        if c.type == "choice":
            value = cell.data(ROLE_VALUE) if cell is not None else None
            if value is not None and c.choice_label(value) != text:
                value = None  # the text shown is not the choice picked: read the text
            if value is None:  # typed text, not picked: a label or id
                value = next(
                    (x.id for x in c.choices if text.casefold() in (x.label.casefold(), x.id)),
                    None,
                )
            if value is None:
                return None, f"“{text}” is not one of {', '.join(x.label for x in c.choices)}"
            return value, None
        if c.type == "number":
            number = parse_number(text)
            if isinstance(number, Invalid):
                return None, number.reason
            return number, None
        return text, None

    def raw_value(self) -> list[dict[str, Any]] | None | Invalid:
        """What the table shows: its non-blank rows, or the first cell that is not a value (a
        required cell left blank in a row begun is one: "row 2, What: required…")."""
        self.problems.clear()
        rows: list[dict[str, Any]] = []
        first: Invalid | None = None
        for r in range(self.table.rowCount()):
            row: dict[str, Any] = {}
            found: dict[int, str] = {}
            for n, c in enumerate(self.columns):
                value, problem = self._cell(r, n)
                if problem is None and value is not None:
                    problem = self._refused(c, value, self._cell_text(r, n))
                if problem is not None:
                    found[n] = problem
                elif value is not None:
                    row[c.id] = value
            if not row and not found:
                continue  # a blank row: left out
            for n, c in enumerate(self.columns):
                if c.required and c.id not in row and n not in found:
                    found[n] = REQUIRED
            rows.append(row)
            for n in sorted(found):
                self.problems[(r, n)] = found[n]
                if first is None:
                    where = f"row {r + 1}, {self.columns[n].label}"
                    first = Invalid(self._cell_text(r, n), f"{where}: {found[n]}")
        self._mark()
        if first is not None:
            return first
        return rows or None

    def _refused(self, column: Column, value: Any, typed: str) -> str | None:
        """Why the form refuses this one cell (range, whole number, length), else None; a
        number named as typed ("99999999", not the message's rounded "1e+08")."""
        try:
            check_value(self.item, [{column.id: value}])
        except FindingsError as err:
            text = str(err)
            marker = f"({column.label}): "
            if marker in text:
                problem = text.split(marker, 1)[1]
                shown = shown_number(value) if column.type == "number" else ""
                if shown and problem.startswith(f"{shown} "):
                    problem = typed + problem[len(shown) :]
                return problem
        return None

    def _mark(self) -> None:
        self.table.blockSignals(True)
        for r in range(self.table.rowCount()):
            for n in range(len(self.columns)):
                cell = self.table.item(r, n)
                if cell is None:
                    continue
                problem = self.problems.get((r, n))
                cell.setBackground(INVALID_BRUSH if problem else QBrush())
                cell.setToolTip(plain_tip(f"Not accepted: {problem}") if problem else "")
        self.table.blockSignals(False)

    def _emit(self) -> None:
        self.edited.emit(self.raw_value())
        if self.table.state() != QAbstractItemView.State.EditingState:
            self.finished.emit()  # a row added or removed, a cell set: a change in one step

    # -- editing -------------------------------------------------------------------------------

    def on_table_item_changed(self, _cell: QTableWidgetItem) -> None:
        if not self._loading:
            self._emit()

    def on_table_cell_reverted(self, r: int) -> None:
        """Esc in a row with nothing in it (one just added): the row goes, as it came."""
        if self._read_only or r >= self.table.rowCount():
            return
        if all(self._cell_text(r, n) == "" for n in range(len(self.columns))):
            self.table.removeRow(r)
            self._fit_height()
            self._emit()

    def add_row(self, row: Mapping[str, Any] | None = None) -> None:
        """A new (blank) row, its first cell current and being edited."""
        if self._read_only or self.table.rowCount() >= self.item.max_rows:
            return
        self._loading = True
        try:
            r = self._append(row if isinstance(row, Mapping) else {})
        finally:
            self._loading = False
        self._fit_height()
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        self.table.setCurrentCell(r, 0)
        if isinstance(row, Mapping) and row:
            self._emit()
        else:
            first = self.table.item(r, 0)
            if first is not None:
                self.table.editItem(first)

    def remove_current_row(self) -> None:
        r = self.table.currentRow()
        if self._read_only or r < 0:
            return
        self.table.removeRow(r)
        self._fit_height()
        if self.table.rowCount():
            self.table.setCurrentCell(min(r, self.table.rowCount() - 1), 0)
        self._emit()

    def set_program(self, names: Sequence[str]) -> None:
        """The exercises of the patient's current program (names): *Add from the program*."""
        self.program = tuple(names)
        self.program_button.setVisible(bool(self.program) and not self._read_only)
        self.program_button.setToolTip("Add a row for each of: " + ", ".join(self.program))

    def add_program(self) -> None:
        kind = next((c for c in self.columns if c.type == "choice"), None)
        name = next((c for c in self.columns if c.type == "text"), None)
        if name is None or self._read_only:
            return
        have = {
            self.table.item(r, self.columns.index(name)).text()  # type: ignore[union-attr]
            for r in range(self.table.rowCount())
            if self.table.item(r, self.columns.index(name)) is not None
        }
        self._loading = True
        try:
            for ex in self.program:
                if ex in have or self.table.rowCount() >= self.item.max_rows:
                    continue
                row: dict[str, Any] = {name.id: ex}
                if kind is not None and any(c.id == "exercise" for c in kind.choices):
                    row[kind.id] = "exercise"
                self._append(row)
        finally:
            self._loading = False
        self._fit_height()
        self._emit()

    def _fit_height(self) -> None:
        rows = max(self.table.rowCount(), 1)
        h = self.table.horizontalHeader().sizeHint().height()
        h += rows * self.table.verticalHeader().defaultSectionSize() + 2 * self.table.frameWidth()
        self.table.setFixedHeight(min(h, 420))
        self.updateGeometry()  # the page makes room for the rows now, not at the next resize

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        for r in range(self.table.rowCount()):
            for n in range(len(self.columns)):
                cell = self.table.item(r, n)
                if cell is not None:
                    self._set_editable(cell)
        for b in (self.add_button, self.remove_button):
            b.setEnabled(not read_only)
        self.program_button.setVisible(bool(self.program) and not read_only)

    def set_invalid(self, invalid: bool) -> None:
        self.table.setProperty("invalid", invalid)
        self.table.style().unpolish(self.table)
        self.table.style().polish(self.table)

    def focus_widgets(self) -> list[QWidget]:
        return [self.table]
