"""A dialog's fields in a scroll area with its buttons below, when the fields are taller than
the screen (issue 18): an admin's Settings (clinic, clinician, clinic-wide rules, where the data
lives) is taller than a 1024x700 screen, and Save must stay reachable."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDialogButtonBox, QFrame, QScrollArea, QVBoxLayout, QWidget


class _WidthOnShow(QObject):
    """Gives the scroll area room for its bar beside the fields once they are styled (their
    width is known only when shown). Signals: none."""

    def __init__(self, area: QScrollArea) -> None:
        super().__init__(area)
        self.area = area

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Show:
            QTimer.singleShot(0, self.fit)  # once the fields are polished and laid out
        return False

    def fit(self) -> None:
        body = self.area.widget()
        if body is not None:
            bar = self.area.verticalScrollBar().sizeHint().width()
            self.area.setMinimumWidth(body.minimumSizeHint().width() + bar + 2)


def scroll_fields(dialog: QWidget, layout: QVBoxLayout, buttons: QDialogButtonBox) -> QScrollArea:
    """Move everything in ``layout`` but its last two items (a stretch and ``buttons``) into a
    scroll area as tall as the fields, up to the screen's height."""
    body = QWidget(dialog)
    inner = QVBoxLayout(body)
    inner.setContentsMargins(0, 0, 4, 0)
    inner.setSpacing(layout.spacing())
    while layout.count() > 2:
        item = layout.takeAt(0)
        if item is None:
            break
        widget, sub = item.widget(), item.layout()
        if widget is not None:
            inner.addWidget(widget)
        elif sub is not None:
            inner.addLayout(sub)
    area = QScrollArea(dialog)
    area.setObjectName("settingsScroll")
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(body)
    layout.insertWidget(0, area, 1)
    screen = dialog.screen().availableGeometry().height()
    room = screen - buttons.sizeHint().height() - 90  # the title bar and the margins
    area.setMinimumHeight(max(120, min(body.sizeHint().height(), room)))
    dialog.installEventFilter(_WidthOnShow(area))
    return area
