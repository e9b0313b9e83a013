"""Signing as the signed-in clinician: the password asked again, co-signature, return for changes.

A signature is an act of the clinician signed in at this window (issue 14): *Sign…* asks for
their password again ("Sign as <name>"), and the password unlocks their own signing key in the
operation. Nobody else's name is ever offered. A wrong password is said inside the dialog, which
stays open; nothing is signed and the draft is as it was.

An assistant's or student's signature *prepares* the evaluation: it is then read-only, "awaiting
co-signature", until a therapist co-signs it (*Co-sign…*) or returns it for changes (*Return for
changes…*, with a reason the preparer sees).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clinic_app.ui.operations import Changes, show_failure

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import Evaluation
    from clinic_app.storage.values import Clinician
    from clinic_app.ui.context import AppContext


def is_therapist(clinician: Clinician) -> bool:
    return "therapist" in clinician.roles


def can_sign(clinician: Clinician) -> bool:
    return bool({"therapist", "assistant", "student"} & set(clinician.roles))


def prepares(clinician: Clinician) -> bool:
    """True when this clinician's signature needs a therapist's co-signature."""
    return not is_therapist(clinician) and bool({"assistant", "student"} & set(clinician.roles))


def role_word(clinician: Clinician) -> str:
    for role in ("therapist", "assistant", "student"):
        if role in clinician.roles:
            return role
    return "admin"


def awaiting_text(ev: Evaluation) -> str:
    """The banner of a draft awaiting co-signature."""
    when = f" on {ev.prepared_at.astimezone():%Y-%m-%d}" if ev.prepared_at else ""
    return (
        "<b>Awaiting co-signature by a therapist</b> "
        f"(prepared by {html.escape(ev.prepared_by or '')}{when}). It cannot be changed unless "
        "a therapist returns it for changes."
    )


def returned_text(ev: Evaluation) -> str:
    assert ev.returned is not None
    by, at, reason = ev.returned
    when = f" on {at.astimezone():%Y-%m-%d}" if at else ""
    return f"<b>Returned for changes by {html.escape(by)}{when}:</b> {html.escape(reason)}"


def button(parent: QWidget, text: str, name: str, slot: Callable[[], None]) -> QPushButton:
    made = QPushButton(text, parent)
    made.setObjectName(name)
    made.clicked.connect(slot)
    made.hide()
    return made


def cosign_banner(parent: QWidget) -> QLabel:
    banner = QLabel(parent)
    banner.setObjectName("cosignBanner")
    banner.setWordWrap(True)
    banner.setTextFormat(Qt.TextFormat.RichText)
    banner.setStyleSheet("background: #fff4e5; color: #7a4100; padding: 8px 14px;")
    banner.hide()
    return banner


def ask_cosign(parent: QWidget, ev: Evaluation, who: str) -> bool:
    from PySide6.QtWidgets import QMessageBox

    from clinic_app.ui.questions import ask

    answer = ask(
        parent,
        "Co-sign evaluation",
        f"Co-sign this evaluation, prepared by <b>{html.escape(ev.prepared_by or '')}</b>, as "
        f"<b>{html.escape(who)}</b>?<br><br>It is then signed and cannot be changed; "
        "corrections are added as addenda.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


class PasswordDialog(QDialog):
    """ "Sign as <name>": the signed-in clinician's password, asked again before a signature.

    Signals: ``submitted(str)`` — OK pressed with a password typed (the dialog stays open,
    busy, until :meth:`accept` or :meth:`refuse`).
    """

    submitted = Signal(str)

    def __init__(self, parent: QWidget, who: str, action: str = "Sign") -> None:
        super().__init__(parent)
        self.setObjectName("signPasswordDialog")
        self.setWindowTitle(f"{action} as {who}")
        self.setModal(True)
        layout = QVBoxLayout(self)
        prompt = QLabel(f"{action} as <b>{html.escape(who)}</b> — password:", self)
        prompt.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(prompt)
        self.password = QLineEdit(self)
        self.password.setObjectName("signPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        layout.addWidget(self.password)
        self.error = QLabel(self)
        self.error.setObjectName("signPasswordError")
        self.error.setStyleSheet("color: #b42318;")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(action)
        ok.setDefault(True)
        self.buttons.accepted.connect(self.on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.password.setFocus()

    def on_buttons_accepted(self) -> None:
        if not self.password.text():
            self.refuse("Type your password to sign.")
            return
        self.buttons.setEnabled(False)
        self.password.setEnabled(False)
        self.error.hide()
        self.submitted.emit(self.password.text())

    def refuse(self, message: str) -> None:
        """Say why inside the dialog and let the clinician try again."""
        self.error.setText(message)
        self.error.show()
        self.buttons.setEnabled(True)
        self.password.setEnabled(True)
        self.password.clear()
        self.password.setFocus()

    def reject(self) -> None:
        if self.buttons.isEnabled():  # not while the signature is on its way
            super().reject()


def with_password(
    parent: QWidget,
    context: AppContext,
    what: str,
    action: str,
    op: Callable[[Database, str], Evaluation],
    *,
    on_success: Callable[[Evaluation], None],
    on_failure: Callable[[BaseException], None],
    on_cancel: Callable[[], None],
    changes: Changes,
) -> PasswordDialog:
    """Ask the signed-in clinician's password, then run ``op(db, password)``; a wrong password
    (SignInError) is said in the dialog, which stays open; other failures close it."""
    from clinic_app.storage.accounts import SignInError

    dialog = PasswordDialog(parent, context.clinician.name, action)
    finished = False

    def submitted(password: str) -> None:
        def done(result: Evaluation) -> None:
            nonlocal finished
            finished = True
            dialog.accept()
            on_success(result)

        def failed(err: BaseException) -> None:
            nonlocal finished
            if isinstance(err, SignInError):
                dialog.refuse(str(err))
                return
            finished = True
            dialog.buttons.setEnabled(True)
            dialog.reject()
            on_failure(err)

        context.runner.run(
            what,
            lambda db: op(db, password),
            on_success=done,
            on_failure=failed,
            parent=parent,
            changes=changes,
        )

    def rejected() -> None:
        if not finished:
            on_cancel()

    dialog.submitted.connect(submitted)
    dialog.rejected.connect(rejected)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog


# -- the operations (run on the runner's worker) --------------------------------------------


def sign_op(evaluation_id: int, version: int, signer_id: int) -> Callable[[Database, str], Any]:
    def op(db: Database, password: str) -> Evaluation:
        from clinic_app.storage import records

        records.sign_evaluation(db, evaluation_id, version, signer_id=signer_id, password=password)
        return records.get_evaluation(db, evaluation_id)

    return op


def cosign_op(evaluation_id: int, version: int, signer_id: int) -> Callable[[Database, str], Any]:
    def op(db: Database, password: str) -> Evaluation:
        from clinic_app.storage import records

        records.cosign_evaluation(
            db, evaluation_id, version, signer_id=signer_id, password=password
        )
        return records.get_evaluation(db, evaluation_id)

    return op


def return_for_changes(
    parent: QWidget, context: AppContext, ev: Evaluation, on_done: Callable[[Evaluation], None]
) -> None:
    """Ask the reason, then return ``ev`` to its preparer."""
    from PySide6.QtWidgets import QInputDialog

    reason, ok = QInputDialog.getMultiLineText(
        parent,
        "Return for changes",
        f"Return to {ev.prepared_by} for changes. What should be changed?",
    )
    if not ok or not reason.strip():
        return
    by_id, eid, version = context.clinician.id, ev.id, ev.version

    def op(db: Database) -> Evaluation:
        from clinic_app.storage import records

        records.return_for_changes(db, eid, version, by_id=by_id, reason=reason)
        return records.get_evaluation(db, eid)

    context.runner.run(
        "Returning the evaluation for changes",
        op,
        on_success=on_done,
        on_failure=lambda err: show_failure(parent, "Returning the evaluation for changes", err),
        parent=parent,
        changes=Changes.evaluation(ev.id, ev.patient_id),
    )
