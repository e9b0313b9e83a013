"""The question asked when someone else saved the open evaluation first: theirs or mine."""

from __future__ import annotations

import functools

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.engine import format_value
from clinic_app.core.findings import Findings, FindingsError, validate
from clinic_app.core.form import Form
from clinic_app.storage.errors import ConflictError
from clinic_app.ui.text import local_datetime


class ConflictDialog(QDialog):
    """Someone else saved this evaluation first: show both versions and let the clinician choose.

    ``choice`` after exec: ``"mine"``, ``"theirs"`` or ``"copy"`` (``None`` if closed: decide
    later; the unsaved findings are kept in memory meanwhile).

    Signals: none (modal; read ``choice``).
    """

    def __init__(
        self, form: Form, mine: Findings, err: ConflictError, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Evaluation changed elsewhere")
        self.choice: str | None = None
        layout = QVBoxLayout(self)
        who = err.changed_by or "someone else"
        when = local_datetime(err.changed_at) if err.changed_at else "just now"
        intro = QLabel(
            f"<b>{who}</b> saved this evaluation at {when} (version {err.current_version}) while "
            "you were editing. Nothing of yours was overwritten and nothing of theirs was lost. "
            "Choose which version to continue with:",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        try:
            theirs = validate(form, dict(err.their_findings))
        except FindingsError:
            theirs = Findings(form.id, form.version, {})
        self.differences = differences(form, mine, theirs)
        table = QTableWidget(len(self.differences), 3, self)
        table.setObjectName("conflictTable")
        table.setHorizontalHeaderLabels(["Item", "Mine", f"Theirs ({who})"])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, (label, a, b) in enumerate(self.differences):
            for col, text in enumerate((label, a, b)):
                table.setItem(row, col, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout.addWidget(table)
        buttons = QDialogButtonBox(self)
        self.mine_button = buttons.addButton("Keep mine", QDialogButtonBox.ButtonRole.AcceptRole)
        self.theirs_button = buttons.addButton(
            "Take theirs", QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.copy_button = buttons.addButton(
            "Save mine as a copy", QDialogButtonBox.ButtonRole.ActionRole
        )
        for key, button in (
            ("mine", self.mine_button),
            ("theirs", self.theirs_button),
            ("copy", self.copy_button),
        ):
            button.clicked.connect(functools.partial(self.on_choice_clicked, key))
        layout.addWidget(buttons)
        self.resize(620, 360)

    def on_choice_clicked(self, key: str) -> None:
        self.choice = key
        self.accept()


def differences(form: Form, mine: Findings, theirs: Findings) -> list[tuple[str, str, str]]:
    """(item label, my value, their value) for every item the two versions disagree on."""

    def show(f: Findings, item_id: str) -> str:
        item = form.items[item_id]
        if item.bilateral:
            sides = f.sides(item_id)
            parts = [f"{s[0].upper()} {format_value(item, v)}" for s, v in sides.items()]
            return ", ".join(parts) or "–"
        v = f.get(item_id)
        return "–" if v is None else format_value(item, v)

    out = []
    for item_id, item in form.items.items():
        a, b = mine.values.get(item_id), theirs.values.get(item_id)
        if a != b:
            out.append((item.label, show(mine, item_id), show(theirs, item_id)))
    return out
