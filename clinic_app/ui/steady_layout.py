"""Keep the form still under the pointer when something above it appears or goes.

The red-flag banner shows above the editor the moment a red flag is answered "yes", and it can be
three lines tall: the form used to jump down by that much, right under the mouse, so the next
click could land on the item below the one meant (issue 18). Reserving the banner's space would
cost a band of empty screen on every evaluation; covering the form would hide items. Instead the
editor's scroll area is scrolled by exactly the distance the form moved, so what is under the
pointer stays under it; the banner is still the first thing on the screen.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QMoveEvent
from PySide6.QtWidgets import QScrollArea, QWidget


class SteadyContent(QObject):
    """Watches ``moving`` (the widget below the banner); when it moves down or up while shown,
    scrolls the visible scroll areas inside ``content()`` by the same amount. Signals: none."""

    def __init__(self, moving: QWidget, content: Callable[[], QWidget]) -> None:
        super().__init__(moving)
        self.moving = moving
        self.content = content
        moving.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if (
            watched is self.moving
            and event.type() == QEvent.Type.Move
            and isinstance(event, QMoveEvent)
            and self.moving.isVisible()
        ):
            shift = event.pos().y() - event.oldPos().y()
            if shift:  # once the scroll areas below have their new height too
                QTimer.singleShot(0, lambda: self.scroll_by(shift))
        return False

    def scroll_by(self, shift: int) -> None:
        root = self.content()
        for area in root.findChildren(QScrollArea):
            if area.isVisibleTo(root) and area.isVisible():
                bar = area.verticalScrollBar()  # a short section cannot scroll: it moves
                bar.setValue(bar.value() + shift)


def keep_still(moving: QWidget, content: Callable[[], QWidget]) -> SteadyContent:
    """Keep the scrolled content of ``content()`` still on the screen when ``moving`` moves."""
    return SteadyContent(moving, content)
