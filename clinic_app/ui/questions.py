"""Questions to the user, asked one way everywhere (tests answer them as a person would)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def ask(
    parent: QWidget | None,
    title: str,
    text: str,
    buttons: QMessageBox.StandardButton,
    labels: dict[QMessageBox.StandardButton, str] | None = None,
    default: QMessageBox.StandardButton | None = None,
) -> QMessageBox.StandardButton:
    """A modal question in rich text; ``labels`` renames buttons ("Archive" says more than
    "Yes"); ``default`` is the button Enter presses (else Qt's choice). Returns the button
    pressed."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    for which, label in (labels or {}).items():
        button = box.button(which)
        if button is not None:
            button.setText(label)
    if default is not None:
        box.setDefaultButton(default)
    return QMessageBox.StandardButton(box.exec())
