"""The admin screen of clinician accounts, and "Change my password…" for everyone.

:class:`AccountsDialog` lists every account (login, display name, roles, active, password set)
with Add…, Disable/Enable and Reset password…; :class:`ChangePasswordDialog` lets the signed-in
clinician change their own password. Both call ``storage.accounts`` through the operation runner
(reads with ``call``, writes with ``run``); the storage layer checks the rules (an active admin,
the password length, the last admin), and its one-line message is shown beside the fields, which
keep what was typed (the passwords excepted: those are cleared after every attempt).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinic_app.ui.operations import show_failure
from clinic_app.ui.questions import ask

if TYPE_CHECKING:
    from clinic_app.storage.accounts import Account
    from clinic_app.storage.database import Database
    from clinic_app.ui.context import AppContext

log = logging.getLogger(__name__)

ROLE_LABELS = {
    "admin": "Admin",
    "therapist": "Therapist",
    "assistant": "Assistant",
    "student": "Student",
}
HEADERS = ("Login", "Name", "Roles", "Active", "Password set")


def _password_edit(parent: QWidget, name: str) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def _error_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setObjectName("accountError")
    label.setWordWrap(True)
    label.setProperty("role", "error")
    label.setStyleSheet("color: #b42318;")
    return label


class _Form(QDialog):
    """A small form whose OK runs one write through the runner; stays open (with the message)
    when the write is refused, closes when it is done."""

    def __init__(self, context: AppContext, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle(title)
        self.setModal(True)
        self.layout_ = QVBoxLayout(self)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.error = _error_label(self)
        self.layout_.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.on_ok)
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)
        self.passwords: list[QLineEdit] = []

    def on_ok(self) -> None:  # pragma: no cover - every form overrides it
        raise NotImplementedError

    def _write(self, what: str, op: Callable[[Database], object]) -> None:
        """Run ``op``; close on success, else show the reason and stay."""
        ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok_button.setEnabled(False)
        self.error.setText("")

        def done(_result: object) -> None:
            self._clear_passwords()
            ok_button.setEnabled(True)
            self.accept()

        def failed(err: BaseException) -> None:
            from clinic_app.storage.errors import StorageError

            self._clear_passwords()
            ok_button.setEnabled(True)
            if isinstance(err, StorageError):
                self.error.setText(str(err))
            else:
                show_failure(self, what, err)

        self.context.runner.run(what, op, on_success=done, on_failure=failed, parent=self)

    def _refuse(self, text: str) -> None:
        self._clear_passwords()
        self.error.setText(text)

    def _clear_passwords(self) -> None:
        for edit in self.passwords:
            edit.clear()

    def _new_password(self) -> str | None:
        """The new password if both fields agree (else None, and the message is shown)."""
        new, again = self.passwords[-2].text(), self.passwords[-1].text()
        if new != again:
            self._refuse("password: the two new passwords differ")
            return None
        return new


class AddAccountDialog(_Form):
    """A new account: login, name, credentials, licence, roles and a first password."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, "Add an account", parent)
        self.setObjectName("addAccountDialog")
        self.login = QLineEdit(self)
        self.login.setObjectName("login")
        self.display_name = QLineEdit(self)
        self.display_name.setObjectName("displayName")
        self.credentials = QLineEdit(self)
        self.credentials.setPlaceholderText("e.g. PT, DPT")
        self.licence = QLineEdit(self)
        self.roles: dict[str, QCheckBox] = {}
        row = QHBoxLayout()
        for role, label in ROLE_LABELS.items():
            box = QCheckBox(label, self)
            box.setObjectName(f"role_{role}")
            box.setChecked(role == "therapist")
            self.roles[role] = box
            row.addWidget(box)
        self.password = _password_edit(self, "password")
        self.again = _password_edit(self, "passwordAgain")
        self.passwords = [self.password, self.again]
        self.form.addRow("Login", self.login)
        self.form.addRow("Name (as printed)", self.display_name)
        self.form.addRow("Credentials", self.credentials)
        self.form.addRow("Licence number", self.licence)
        self.form.addRow("Roles", row)
        self.form.addRow("First password", self.password)
        self.form.addRow("Password again", self.again)
        hint = QLabel(
            "Tell the clinician the first password in person; they can change it with "
            "File › Change my password…",
            self,
        )
        hint.setWordWrap(True)
        hint.setProperty("role", "secondary")
        self.form.addRow(hint)

    def on_ok(self) -> None:
        password = self._new_password()
        if password is None:
            return
        login, name = self.login.text(), self.display_name.text()
        credentials, licence = self.credentials.text(), self.licence.text()
        roles = [role for role, box in self.roles.items() if box.isChecked()]
        by = self.context.clinician

        def op(db: Database) -> object:
            from clinic_app.storage import accounts

            return accounts.add_account(
                db,
                login,
                password,
                roles=roles,
                display_name=name,
                credentials=credentials,
                licence_number=licence,
                by=by,
            )

        self._write("Adding the account", op)


class ResetPasswordDialog(_Form):
    """An admin sets a new password for someone who forgot theirs."""

    def __init__(self, context: AppContext, login: str, parent: QWidget | None = None) -> None:
        super().__init__(context, f"Reset the password of {login}", parent)
        self.setObjectName("resetPasswordDialog")
        self.account_login = login
        self.password = _password_edit(self, "password")
        self.again = _password_edit(self, "passwordAgain")
        self.passwords = [self.password, self.again]
        self.form.addRow("New password", self.password)
        self.form.addRow("New password again", self.again)
        note = QLabel(
            f"{login} must choose a new password at the next sign-in. Their signing key is "
            "replaced: records they signed before stay verifiable.",
            self,
        )
        note.setWordWrap(True)
        self.form.addRow(note)

    def on_ok(self) -> None:
        password = self._new_password()
        if password is None:
            return
        login, by = self.account_login, self.context.clinician

        def op(db: Database) -> None:
            from clinic_app.storage import accounts

            accounts.reset_password(db, login, password, by=by)

        self._write("Resetting the password", op)


class ChangePasswordDialog(_Form):
    """The signed-in clinician changes their own password (the old one first)."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, "Change my password", parent)
        self.setObjectName("changePasswordDialog")
        self.old = _password_edit(self, "oldPassword")
        self.password = _password_edit(self, "password")
        self.again = _password_edit(self, "passwordAgain")
        self.passwords = [self.old, self.password, self.again]
        self.form.addRow("Current password", self.old)
        self.form.addRow("New password", self.password)
        self.form.addRow("New password again", self.again)

    def on_ok(self) -> None:
        login = self.context.clinician.login
        if not login:
            self._refuse(f"{self.context.user} has no account to sign in with")
            return
        old = self.old.text()
        password = self._new_password()
        if password is None:
            return

        def op(db: Database) -> None:
            from clinic_app.storage import accounts

            accounts.change_password(db, login, old, password)

        self._write("Changing the password", op)


class AccountsDialog(QDialog):
    """Every account, with Add…, Disable/Enable and Reset password… (admins only: the storage
    layer refuses anyone else)."""

    changed = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("Accounts")
        self.setObjectName("accountsDialog")
        self.resize(760, 420)
        self.accounts: list[Account] = []
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(HEADERS), self)
        self.table.setObjectName("accountsTable")
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in range(len(HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)
        self.status = QLabel(self)
        self.status.setObjectName("accountsStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add…", self)
        self.toggle_button = QPushButton("Disable", self)
        self.reset_button = QPushButton("Reset password…", self)
        self.add_button.clicked.connect(self.on_add_button_clicked)
        self.toggle_button.clicked.connect(self.on_toggle_button_clicked)
        self.reset_button.clicked.connect(self.on_reset_button_clicked)
        for button in (self.add_button, self.toggle_button, self.reset_button):
            row.addWidget(button)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        row.addWidget(close)
        layout.addLayout(row)
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        def op(db: Database) -> list[Account]:
            from clinic_app.storage import accounts

            return accounts.list_accounts(db)

        try:
            self.accounts = self.context.runner.call("Reading the accounts", op)
        except Exception as err:
            show_failure(self, "Reading the accounts", err)
            self.accounts = []
        self.table.setRowCount(len(self.accounts))
        for r, account in enumerate(self.accounts):
            cells = (
                account.login,
                account.clinician.name,
                ", ".join(ROLE_LABELS.get(role, role) for role in account.roles),
                "yes" if account.active else "disabled",
                ("yes, to be changed" if account.must_change_password else "yes")
                if account.has_password
                else "no",
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, account.login)
                self.table.setItem(r, c, item)
            if account.login == select:
                self.table.selectRow(r)
        self._update_buttons()

    def selected(self) -> Account | None:
        row = self.table.currentRow()
        if not self.table.selectedItems() or not 0 <= row < len(self.accounts):
            return None
        return self.accounts[row]

    def _update_buttons(self) -> None:
        account = self.selected()
        self.toggle_button.setEnabled(account is not None)
        self.reset_button.setEnabled(account is not None and account.active)
        self.toggle_button.setText("Enable" if account and not account.active else "Disable")

    def _done(self, text: str, login: str | None) -> None:
        self.status.setText(text)
        self.refresh(select=login)
        self.changed.emit()

    def on_add_button_clicked(self) -> None:
        dialog = AddAccountDialog(self.context, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            login = dialog.login.text().strip().lower()
            self._done(f"Account {login} added", login)

    def on_reset_button_clicked(self) -> None:
        account = self.selected()
        if account is None:
            return
        dialog = ResetPasswordDialog(self.context, account.login, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._done(f"Password of {account.login} reset", account.login)

    def on_toggle_button_clicked(self) -> None:
        account = self.selected()
        if account is None:
            return
        login, by, enable = account.login, self.context.clinician, not account.active
        if not enable:
            ok, cancel = QMessageBox.StandardButton.Ok, QMessageBox.StandardButton.Cancel
            text = (
                f"Disable the account {escape(login)} ({escape(account.clinician.name)})? "
                "They can no longer "
                "sign in; what they signed stays as it is. It can be enabled again."
            )
            if ask(self, "Disable the account", text, ok | cancel, {ok: "Disable"}) != ok:
                return

        def op(db: Database) -> None:
            from clinic_app.storage import accounts

            if enable:
                accounts.enable_account(db, login, by=by)
            else:
                accounts.disable_account(db, login, by=by)

        what = "Enabling the account" if enable else "Disabling the account"

        def failed(err: BaseException) -> None:
            from clinic_app.storage.errors import StorageError

            if isinstance(err, StorageError):
                self.status.setText(str(err))
                QMessageBox.warning(self, what, str(err))
            else:
                show_failure(self, what, err)

        self.context.runner.run(
            what,
            op,
            on_success=lambda _r: self._done(
                f"Account {login} {'enabled' if enable else 'disabled'}", login
            ),
            on_failure=failed,
            parent=self,
        )
