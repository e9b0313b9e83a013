"""A file or folder path shown in a dialog, fitting any width (issue 18)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import QApplication, QLabel, QSizePolicy, QWidget


class PathLabel(QLabel):
    """A file or folder path that fits any width: elided in the middle (the start and the file
    name stay readable), the whole path in the tooltip, and *Copy the full path* on right-click.
    A long data folder used to run off the dialog's edge (issue 18). Signals: none."""

    def __init__(self, path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_path = path
        self.setToolTip(path)
        self.setAccessibleName(path)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("/…/clinic.db") + 8)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QAction("Copy the full path", self)
        copy.triggered.connect(self.on_copy_triggered)
        self.addAction(copy)
        self._fit()

    def set_path(self, path: str) -> None:
        self.full_path = path
        self.setToolTip(path)
        self._fit()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().sizeHint()
        return QSize(self.fontMetrics().horizontalAdvance(self.full_path) + 8, hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        room = max(0, self.contentsRect().width())
        self.setText(
            self.fontMetrics().elidedText(self.full_path, Qt.TextElideMode.ElideMiddle, room)
        )

    def on_copy_triggered(self) -> None:
        QApplication.clipboard().setText(self.full_path)
