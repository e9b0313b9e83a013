"""Signing in: a login name and a password, checked by ``storage.accounts`` (issue 14).

:class:`SignInPanel` is one widget used twice: inside :class:`SignInDialog` when the app starts
(before any patient datum is read) and as the lock page of the main window
(``ui/idle_lock.py``). It knows nothing of databases: it is given an ``authenticate(login,
password)`` callable that returns the signed-in ``Clinician`` or raises a ``StorageError`` whose
message is shown as it is, on the line under the fields ("wrong name or password", a disabled
account, the delay after failed attempts). Anything else is shown as one line naming its type
(the traceback goes to the log); never a traceback on screen.

An account whose password an admin has reset (``must_change_password``) is asked for a new one
before the panel reports the sign-in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.values import Clinician

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, and whether an admin's reset obliges them to choose a new password."""

    clinician: Clinician
    must_change_password: bool = False


Authenticate = Callable[[str, str], SignedIn]
ChangePassword = Callable[[str, str, str], Any]

MIN_PASSWORD_LENGTH = 10  # storage.accounts.MIN_PASSWORD_LENGTH, which has the last word


def problem_text(err: BaseException) -> str:
    """One line for the error line: a storage error's own message, else only its type."""
    from clinic_app.ui.operations import failure_reason

    return failure_reason(err)


# -- the last login name, per data folder -----------------------------------------------------


def last_login(where: Any = None) -> str:
    """The login name last signed in on this computer for the data folder or database
    ``where`` (see ``ui/workstation.py``; None: the default one); "" if none."""
    from clinic_app.ui import workstation

    return str(workstation.settings(where).value("last_login", "") or "")


def remember_login(login: str, where: Any = None) -> None:
    from clinic_app.ui import workstation

    workstation.settings(where).setValue("last_login", login)


# -- the operations ------------------------------------------------------------------------------


def authenticate_op(login: str, password: str) -> Callable[[Database], SignedIn]:
    """An operation for the runner: the clinician whose login and password these are (the
    accounts module audits the sign-in and applies the rate limit)."""

    def op(db: Database) -> SignedIn:
        from clinic_app.storage import accounts

        clinician = accounts.authenticate(db, login, password)
        account = accounts.get_account(db, clinician.login or login)
        return SignedIn(clinician, account.must_change_password)

    return op


def change_password_op(login: str, old: str, new: str) -> Callable[[Database], Any]:
    def op(db: Database) -> Any:
        from clinic_app.storage import accounts

        accounts.change_password(db, login, old, new)  # re-wraps the clinic key (encrypted)

    return op


def ensure_key_op(login: str, password: str) -> Callable[[Database], None]:
    """An encrypted clinic: make sure ``login``'s checked ``password`` unlocks it on this
    computer next time (an entry missing, or wrapped under an older password, is written)."""

    def op(db: Database) -> None:
        from clinic_app.storage import encryption

        if not getattr(db, "encrypted", False) or db.path is None:
            return
        try:
            encryption.unlock(db.path, login, password)
        except encryption.UnlockError:  # no entry, or one under a password since changed
            encryption.grant(db, login, password)

    return op


def runner_authenticate(runner: Any) -> Authenticate:
    """``authenticate`` for a panel, through the window's operation runner (argon2: ~0.1 s)."""
    return lambda login, password: runner.call("Signing in", authenticate_op(login, password))


def runner_change_password(runner: Any) -> ChangePassword:
    return lambda login, old, new: runner.call(
        "Changing the password", change_password_op(login, old, new)
    )


# -- the widgets ---------------------------------------------------------------------------------


class SignInPanel(QWidget):
    """Login name, password, one error line and a Sign in button; Enter signs in.

    Signals: ``signed_in(object)`` — the ``Clinician`` whose password was right (after a
    required password change, if any).
    """

    signed_in = Signal(object)

    def __init__(
        self,
        authenticate: Authenticate | None = None,
        parent: QWidget | None = None,
        *,
        heading: str = "Sign in",
        change_password: ChangePassword | None = None,
        where: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signInPanel")
        self.where = where  # whose workstation settings remember the login (None: default)
        self.authenticate = authenticate
        self.change_password = change_password
        self.busy = False
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QWidget(self)
        box.setFixedWidth(440)
        layout = QVBoxLayout(box)
        layout.setSpacing(10)
        self.heading = QLabel(f"<h2>{heading}</h2>", box)
        self.heading.setObjectName("signInHeading")
        layout.addWidget(self.heading)
        self.note = QLabel("", box)
        self.note.setObjectName("signInNote")
        self.note.setWordWrap(True)
        self.note.setProperty("role", "secondary")
        self.note.hide()
        layout.addWidget(self.note)
        form = QFormLayout()
        self.login = QLineEdit(box)
        self.login.setObjectName("login")
        self.login.setAccessibleName("Login name")
        self.login.setMaxLength(64)
        self.password = QLineEdit(box)
        self.password.setObjectName("password")
        self.password.setAccessibleName("Password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setMaxLength(1024)
        form.addRow("&Login name", self.login)
        form.addRow("&Password", self.password)
        layout.addLayout(form)
        self.error = QLabel("", box)
        self.error.setObjectName("signInError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.button = QPushButton("Sign in", box)
        self.button.setObjectName("signInButton")
        self.button.setDefault(True)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignRight)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.login.returnPressed.connect(self.on_field_return_pressed)
        self.password.returnPressed.connect(self.on_field_return_pressed)
        self.button.clicked.connect(self.submit)

    def reset(self, login: str = "", note: str = "") -> None:
        """Empty the password and the error line, prefill ``login``, show ``note``."""
        self.login.setText(login)
        self.password.clear()
        self.show_error(None)
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.set_busy(False)

    def focus_first_empty(self) -> None:
        field = self.login if not self.login.text().strip() else self.password
        field.setFocus(Qt.FocusReason.OtherFocusReason)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.focus_first_empty()

    def show_error(self, text: str | None) -> None:
        self.error.setText(text or "")
        self.error.setVisible(bool(text))

    def set_busy(self, busy: bool, text: str = "Signing in…") -> None:
        self.busy = busy
        self.button.setEnabled(not busy)
        self.button.setText(text if busy else "Sign in")

    def on_field_return_pressed(self) -> None:
        if self.sender() is self.login and not self.password.text():
            self.password.setFocus()
            return
        self.submit()

    def submit(self) -> None:
        """Check the two fields, then the password; the error line says what is wrong."""
        if self.busy:
            return
        login = self.login.text().strip().lower()
        password = self.password.text()
        if not login:
            self.show_error("Enter your login name")
            self.login.setFocus()
            return
        if not password:
            self.show_error("Enter your password")
            self.password.setFocus()
            return
        if self.authenticate is None:
            self.show_error("Sign-in is not available yet: the clinic database is still opening")
            return
        self.show_error(None)
        self.set_busy(True)
        try:
            result = self.authenticate(login, password)
        except Exception as err:
            if not _is_storage_error(err):
                log.error("signing in failed", exc_info=(type(err), err, err.__traceback__))
            self.set_busy(False)
            self.password.clear()
            self.show_error(problem_text(err))
            self.password.setFocus()
            return
        finally:
            if self.busy:
                self.set_busy(False)
        if result.must_change_password and not self.ask_new_password(login, password):
            self.password.clear()
            self.show_error("Choose a new password to continue (an admin reset this one)")
            return
        self.password.clear()
        remember_login(login, self.where)
        self.signed_in.emit(result.clinician)

    def ask_new_password(self, login: str, old: str) -> bool:
        """True once the clinician has chosen and stored a new password."""
        dialog = NewPasswordDialog(login, old, self.change_password, self)
        return dialog.exec() == QDialog.DialogCode.Accepted


def _is_storage_error(err: BaseException) -> bool:
    from clinic_app.storage.errors import StorageError
    from clinic_app.ui.operations import OperationTimeoutError

    return isinstance(err, StorageError | OperationTimeoutError)


class NewPasswordDialog(QDialog):
    """The new password, twice, for an account that must change its password.

    Signals: those of QDialog.
    """

    def __init__(
        self,
        login: str,
        old: str,
        change_password: ChangePassword | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("newPasswordDialog")
        self.setWindowTitle("Choose a new password")
        self.setModal(True)
        self.login, self.old = login, old
        self.change_password = change_password
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"The password of <b>{login}</b> was set by an admin. Choose your own now: at least "
            f"{MIN_PASSWORD_LENGTH} characters, known only to you.",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.first = QLineEdit(self)
        self.first.setObjectName("new_password")
        self.second = QLineEdit(self)
        self.second.setObjectName("new_password_again")
        for field in (self.first, self.second):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("New password", self.first)
        form.addRow("Again", self.second)
        layout.addLayout(form)
        self.error = QLabel("", self)
        self.error.setObjectName("newPasswordError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def show_error(self, text: str | None) -> None:
        self.error.setText(text or "")
        self.error.setVisible(bool(text))

    def on_buttons_accepted(self) -> None:
        new = self.first.text()
        if len(new) < MIN_PASSWORD_LENGTH:
            self.show_error(f"new password: at least {MIN_PASSWORD_LENGTH} characters")
            return
        if new != self.second.text():
            self.show_error("new password: the two entries differ")
            return
        if new == self.old:
            self.show_error("new password: the same as the old one")
            return
        if self.change_password is None:
            self.show_error("The password cannot be changed here")
            return
        try:
            self.change_password(self.login, self.old, new)
        except Exception as err:
            if not _is_storage_error(err):
                log.error("changing the password failed", exc_info=(type(err), err, None))
            self.show_error(problem_text(err))
            return
        self.accept()


class SignInDialog(QDialog):
    """The sign-in window of the start: nothing of the clinic shows before it is accepted.

    ``clinician`` is the signed-in ``Clinician`` once accepted. Signals: those of QDialog.
    """

    def __init__(
        self,
        authenticate: Authenticate | None = None,
        parent: QWidget | None = None,
        *,
        change_password: ChangePassword | None = None,
        login: str | None = None,
        where: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.setWindowTitle("clinic_app — sign in")
        self.setModal(True)  # shown before exec() (to be timed): modal from the first show
        self.setMinimumSize(480, 320)
        self.clinician: Clinician | None = None
        layout = QVBoxLayout(self)
        self.panel = SignInPanel(
            authenticate, self, heading="clinic_app", change_password=change_password, where=where
        )
        layout.addWidget(self.panel)
        self.panel.reset(last_login(where) if login is None else login)
        self.panel.signed_in.connect(self.on_panel_signed_in)

    def on_panel_signed_in(self, clinician: Clinician) -> None:
        self.clinician = clinician
        self.accept()
