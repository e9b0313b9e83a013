"""Answering modal dialogs the way a person does: wait for the dialog, then press its button."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget


def when_modal(handle: Callable[[QWidget], Any], tries: int = 200) -> None:
    """Call ``handle(dialog)`` as soon as a modal dialog is showing (from the event loop)."""

    def poll(left: int) -> None:
        w = QApplication.activeModalWidget()
        if w is not None and w.isVisible():
            handle(w)
        elif left > 0:
            QTimer.singleShot(10, lambda: poll(left - 1))

    QTimer.singleShot(0, lambda: poll(tries))


def press(dialog: QWidget, text: str) -> None:
    """Click the button whose text (without '&') is ``text``."""
    for b in dialog.findChildren(QAbstractButton):
        if b.text().replace("&", "") == text and b.isVisible():
            b.click()
            return
    names = [b.text() for b in dialog.findChildren(QAbstractButton)]
    raise AssertionError(f"no button {text!r} in {names}")


def answer(text: str) -> None:
    """Press ``text`` on the next modal dialog."""
    when_modal(lambda d: press(d, text))
