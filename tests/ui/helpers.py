"""Answering modal dialogs the way a person does: wait for the dialog, then press its button."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget


def when_modal(handle: Callable[[QWidget], Any], tries: int = 200) -> None:
    """Call ``handle(dialog)`` as soon as a new modal dialog is showing (from the event loop).

    A dialog already showing when this is called (the one whose button starts the work that
    asks) is not the one meant: the question may come a moment later, from an operation."""
    before = QApplication.activeModalWidget()

    def poll(left: int) -> None:
        w = QApplication.activeModalWidget()
        if w is not None and w is not before and w.isVisible():
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


def settle(qtbot: Any, window: Any, timeout: int = 5000) -> None:
    """Wait until the window's background operations have all come back (their handlers ran)."""
    context = window.context
    runner = context.runner
    # (and what waits for the GUI to go idle first: an access event, AppContext.when_idle)
    qtbot.waitUntil(
        lambda: runner.pending() == 0 and not context.is_idle_waiting(), timeout=timeout
    )


def wait_idle(window: Any, timeout_s: float = 5.0) -> None:
    """``settle`` without a qtbot: run the event loop until the window's operations are done."""
    import time

    runner = window.context.runner
    window.context.run_idle()  # (processEvents never lets the event loop go idle)
    deadline = time.monotonic() + timeout_s
    while runner.pending():
        if time.monotonic() > deadline:
            raise AssertionError(f"{runner.pending()} operations still running after {timeout_s} s")
        QApplication.processEvents()
        time.sleep(0.002)


def password_answer(password: str) -> Callable[[QWidget], None]:
    """A ``when_modal`` handler typing ``password`` into "Sign as <name>" and pressing Sign."""
    from PySide6.QtWidgets import QDialogButtonBox, QLineEdit

    def type_password(dialog: QWidget) -> None:
        field = dialog.findChild(QLineEdit, "signPassword")
        assert field is not None, f"not the password dialog: {dialog.windowTitle()}"
        field.setText(password)
        buttons = dialog.findChild(QDialogButtonBox)
        assert buttons is not None
        buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    return type_password


def sign_with_password(password: str, *, confirm: str = "Yes") -> None:
    """Answer *Sign…* (or *Co-sign…*) as a person does: press ``confirm`` on the sign check's
    question, then type ``password`` into "Sign as <name>" and press its button."""

    def confirmed(box: QWidget) -> None:
        when_modal(password_answer(password))
        press(box, confirm)

    when_modal(confirmed)
