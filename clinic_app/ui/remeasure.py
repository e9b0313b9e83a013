"""The re-measure picker of a visit note: find an evaluation item by name, Enter puts it on the
"Re-measured today" page.

A search line (Ctrl+M on the evaluation page) with the matching items listed under it
(``core.visit.search_items``: every word typed must appear in the item's name, id or section).
Up and Down choose, Enter picks (an item already on the page is focused instead), Ctrl+Delete
takes the chosen item off the page again while it holds no value, Escape clears the search.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.form import Form
from clinic_app.core.visit import search_items

ROLE_ID = Qt.ItemDataRole.UserRole
SHOWN = 6  # results listed at once


class RemeasurePicker(QFrame):
    """Search line and results for the items to re-measure today.

    Signals: ``picked(str)`` — put this item on the page (or focus it there);
    ``removed(str)`` — take this item off the page (the page checks that it is empty).
    """

    picked = Signal(str)
    removed = Signal(str)

    def __init__(
        self, form: Form, is_picked: Callable[[str], bool], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.form = form
        self.is_picked = is_picked
        self.setObjectName("remeasurePicker")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 6, 12, 4)
        outer.setSpacing(2)
        line = QHBoxLayout()
        line.setSpacing(6)
        label = QLabel("Re-measure:", self)
        line.addWidget(label)
        self.search = QLineEdit(self)
        self.search.setObjectName("remeasureSearch")
        self.search.setPlaceholderText("find an item by name, e.g. nordic, slr, bridge (Ctrl+M)")
        self.search.setAccessibleName("Find an item to re-measure")
        self.search.setClearButtonEnabled(True)
        label.setBuddy(self.search)
        self.search.textChanged.connect(self.on_search_text_changed)
        self.search.returnPressed.connect(self.pick_current)
        self.search.installEventFilter(self)
        line.addWidget(self.search, 1)
        self.add_button = QPushButton("Add", self)
        self.add_button.setToolTip("Put the chosen item on the Re-measured today page (Enter)")
        self.add_button.clicked.connect(self.pick_current)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip(
            "Take the chosen item off the page while it holds no value (Ctrl+Delete)"
        )
        self.remove_button.clicked.connect(self.remove_current)
        for b in (self.add_button, self.remove_button):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            line.addWidget(b)
        outer.addLayout(line)
        self.results = QListWidget(self)
        self.results.setObjectName("remeasureResults")
        self.results.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.results.itemActivated.connect(self.on_results_item_activated)
        self.results.hide()
        outer.addWidget(self.results)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def refresh(self) -> None:
        """List the items matching the search again (after the page changed)."""
        self.on_search_text_changed(self.search.text())

    def on_search_text_changed(self, text: str) -> None:
        self.results.clear()
        found = search_items(self.form, text)
        for item in found:
            section = self.form.section_of(item.id).title
            on_page = self.is_picked(item.id)
            mark = "✓ " if on_page else ""
            tail = " — on the page" if on_page else ""
            entry = QListWidgetItem(f"{mark}{item.label}  ·  {section}{tail}")
            entry.setData(ROLE_ID, item.id)
            self.results.addItem(entry)
        if found:
            self.results.setCurrentRow(0)
            rows = min(len(found), SHOWN)
            self.results.setFixedHeight(rows * self.results.sizeHintForRow(0) + 6)
        self.results.setVisible(bool(found))
        self.remove_button.setEnabled(bool(found))
        self.add_button.setEnabled(bool(found))

    def current_id(self) -> str | None:
        entry = self.results.currentItem()
        value = entry.data(ROLE_ID) if entry is not None else None
        return value if isinstance(value, str) else None

    def pick_current(self) -> None:
        item_id = self.current_id()
        if item_id is not None:
            self.picked.emit(item_id)

    def remove_current(self) -> None:
        item_id = self.current_id()
        if item_id is not None:
            self.removed.emit(item_id)

    def clear(self) -> None:
        self.search.clear()

    def on_results_item_activated(self, entry: QListWidgetItem) -> None:
        self.results.setCurrentItem(entry)
        self.pick_current()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and isinstance(event, QKeyEvent):
            if event.type() != QEvent.Type.KeyPress:
                return super().eventFilter(watched, event)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.results.count():
                step = 1 if key == Qt.Key.Key_Down else -1
                row = (self.results.currentRow() + step) % self.results.count()
                self.results.setCurrentRow(row)
                return True
            if key == Qt.Key.Key_Delete and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.remove_current()
                return True
            if key == Qt.Key.Key_Escape and self.search.text():
                self.search.clear()
                return True
        return super().eventFilter(watched, event)
