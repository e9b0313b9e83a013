"""The accounts screen and "Change my password…" with real widgets, argon2id and a real database."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtWidgets import QDialog, QLineEdit

from clinic_app.storage import accounts
from clinic_app.storage.errors import StorageError
from clinic_app.ui.accounts_dialog import (
    AccountsDialog,
    AddAccountDialog,
    ChangePasswordDialog,
    ResetPasswordDialog,
)
from clinic_app.ui.main_window import MainWindow
from tests.ui.conftest import OTHER_PASSWORD, PASSWORD
from tests.ui.helpers import press, settle, when_modal

NEW_PASSWORD = "a new one 2026"


@pytest.fixture
def admin_window(qtbot, db, mini_form, account, other_account) -> MainWindow:
    w = MainWindow(db, mini_form, account)
    qtbot.addWidget(w)
    w.show()
    return w


def make(qtbot, window: MainWindow) -> AccountsDialog:
    dialog = AccountsDialog(window.context, window)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def rows(dialog: AccountsDialog) -> list[tuple[str, ...]]:
    t = dialog.table
    return [tuple(t.item(r, c).text() for c in range(t.columnCount())) for r in range(t.rowCount())]


def select(dialog: AccountsDialog, login: str) -> None:
    row = [a.login for a in dialog.accounts].index(login)
    dialog.table.selectRow(row)


def test_lists_the_accounts(qtbot, admin_window) -> None:
    dialog = make(qtbot, admin_window)
    assert rows(dialog) == [
        ("dana", "Dana Physio", "Admin, Therapist", "yes", "yes"),
        ("lee", "Lee Second", "Therapist", "yes", "yes"),
    ]
    assert not dialog.toggle_button.isEnabled()  # nothing selected yet


def test_add_an_account_refuses_bad_input_then_adds(qtbot, admin_window, db) -> None:
    dialog = make(qtbot, admin_window)
    form = AddAccountDialog(admin_window.context, dialog)
    qtbot.addWidget(form)
    form.login.setText("Sam.Student")
    form.display_name.setText("Sam Student")
    form.roles["therapist"].setChecked(False)
    form.roles["student"].setChecked(True)
    form.password.setText(NEW_PASSWORD)
    form.again.setText(NEW_PASSWORD + "x")
    form.on_ok()
    assert form.error.text() == "password: the two new passwords differ"
    assert form.password.text() == ""  # never kept after an attempt
    assert form.login.text() == "Sam.Student"  # the rest is kept
    form.password.setText("short")
    form.again.setText("short")
    form.on_ok()
    settle(qtbot, admin_window)
    assert form.error.text().startswith("password: too short")
    assert form.result() != QDialog.DialogCode.Accepted
    form.roles["therapist"].setChecked(True)  # therapist and student: refused by the rules
    form.password.setText(NEW_PASSWORD)
    form.again.setText(NEW_PASSWORD)
    form.on_ok()
    settle(qtbot, admin_window)
    assert form.error.text().startswith("role: an assistant or student cannot also be")
    assert [a.login for a in accounts.list_accounts(db)] == ["dana", "lee"]
    form.roles["therapist"].setChecked(False)
    form.password.setText(NEW_PASSWORD)
    form.again.setText(NEW_PASSWORD)
    form.on_ok()
    settle(qtbot, admin_window)
    assert form.result() == QDialog.DialogCode.Accepted
    made = accounts.get_account(db, "sam.student")
    assert made.roles == ("student",)
    assert made.has_password
    assert accounts.authenticate(db, "sam.student", NEW_PASSWORD).name == "Sam Student"


def test_a_taken_login_is_refused_in_the_form(qtbot, admin_window) -> None:
    form = AddAccountDialog(admin_window.context, admin_window)
    qtbot.addWidget(form)
    form.login.setText("LEE")
    form.display_name.setText("Another Lee")
    form.password.setText(NEW_PASSWORD)
    form.again.setText(NEW_PASSWORD)
    form.on_ok()
    settle(qtbot, admin_window)
    assert "lee" in form.error.text()
    assert form.result() != QDialog.DialogCode.Accepted


def test_the_add_button_opens_the_form_and_refreshes_the_list(qtbot, admin_window) -> None:
    dialog = make(qtbot, admin_window)

    def fill(form) -> None:
        assert isinstance(form, AddAccountDialog)
        form.login.setText("kim")
        form.display_name.setText("Kim Assist")
        form.roles["therapist"].setChecked(False)
        form.roles["assistant"].setChecked(True)
        form.password.setText(NEW_PASSWORD)
        form.again.setText(NEW_PASSWORD)
        press(form, "OK")

    when_modal(fill)
    dialog.add_button.click()
    assert ("kim", "Kim Assist", "Assistant", "yes", "yes") in rows(dialog)
    assert dialog.status.text() == "Account kim added"
    assert dialog.selected() is not None
    assert dialog.selected().login == "kim"


def test_disable_and_enable(qtbot, admin_window, db) -> None:
    dialog = make(qtbot, admin_window)
    select(dialog, "lee")
    assert dialog.toggle_button.text() == "Disable"
    when_modal(lambda box: press(box, "Disable"))
    dialog.toggle_button.click()
    settle(qtbot, admin_window)
    assert rows(dialog)[1][3] == "disabled"
    with pytest.raises(StorageError, match="disabled"):
        accounts.authenticate(db, "lee", OTHER_PASSWORD)
    assert dialog.toggle_button.text() == "Enable"
    assert not dialog.reset_button.isEnabled()
    dialog.toggle_button.click()  # enabling asks nothing
    settle(qtbot, admin_window)
    assert rows(dialog)[1][3] == "yes"
    assert accounts.authenticate(db, "lee", OTHER_PASSWORD).login == "lee"


def test_the_last_admin_cannot_be_disabled(qtbot, admin_window, db) -> None:
    dialog = make(qtbot, admin_window)
    select(dialog, "dana")
    seen: list[str] = []

    def confirm_then_read(box) -> None:
        press(box, "Disable")
        when_modal(lambda warning: (seen.append(warning.text()), warning.accept()))

    when_modal(confirm_then_read)
    dialog.toggle_button.click()
    settle(qtbot, admin_window)
    qtbot.waitUntil(lambda: bool(seen))
    assert "last active admin" in seen[0]
    assert accounts.get_account(db, "dana").active


def test_cancelling_the_question_changes_nothing(qtbot, admin_window, db) -> None:
    dialog = make(qtbot, admin_window)
    select(dialog, "lee")
    when_modal(lambda box: press(box, "Cancel"))
    dialog.toggle_button.click()
    assert admin_window.context.runner.pending() == 0
    assert accounts.get_account(db, "lee").active


def test_reset_password(qtbot, admin_window, db) -> None:
    form = ResetPasswordDialog(admin_window.context, "lee", admin_window)
    qtbot.addWidget(form)
    form.password.setText(NEW_PASSWORD)
    form.again.setText(NEW_PASSWORD)
    form.on_ok()
    settle(qtbot, admin_window)
    assert form.result() == QDialog.DialogCode.Accepted
    assert accounts.get_account(db, "lee").must_change_password
    assert accounts.authenticate(db, "lee", NEW_PASSWORD).login == "lee"
    with pytest.raises(StorageError):
        accounts.authenticate(db, "lee", OTHER_PASSWORD)


def test_someone_who_is_not_admin_is_refused_by_the_storage(
    qtbot, db, mini_form, other_account
) -> None:
    w = MainWindow(db, mini_form, other_account)
    qtbot.addWidget(w)
    form = AddAccountDialog(w.context, w)
    qtbot.addWidget(form)
    form.login.setText("eve")
    form.display_name.setText("Eve")
    form.password.setText(NEW_PASSWORD)
    form.again.setText(NEW_PASSWORD)
    form.on_ok()
    settle(qtbot, w)
    assert "only an active admin can manage accounts" in form.error.text()
    assert [a.login for a in accounts.list_accounts(db)] == ["dana", "lee"]


def test_change_my_password(qtbot, db, mini_form, other_account) -> None:
    w = MainWindow(db, mini_form, other_account)
    qtbot.addWidget(w)
    form = ChangePasswordDialog(w.context, w)
    qtbot.addWidget(form)
    assert all(e.echoMode() == QLineEdit.EchoMode.Password for e in form.passwords)
    form.old.setText("not my password")
    form.password.setText(NEW_PASSWORD)
    form.again.setText(NEW_PASSWORD)
    form.on_ok()
    settle(qtbot, w)
    assert form.error.text() == accounts.WRONG
    assert all(e.text() == "" for e in form.passwords)
    form.old.setText(OTHER_PASSWORD)
    form.password.setText(OTHER_PASSWORD)
    form.again.setText(OTHER_PASSWORD)
    form.on_ok()
    settle(qtbot, w)
    assert "must differ" in form.error.text()
    form.old.setText(OTHER_PASSWORD)
    form.password.setText(NEW_PASSWORD)
    form.again.setText(NEW_PASSWORD)
    form.on_ok()
    settle(qtbot, w)
    assert form.result() == QDialog.DialogCode.Accepted
    assert accounts.authenticate(db, "lee", NEW_PASSWORD).login == "lee"
    assert PASSWORD != NEW_PASSWORD


def test_change_password_without_an_account(qtbot, window) -> None:
    form = ChangePasswordDialog(window.context, window)
    qtbot.addWidget(form)
    window.context.clinician = dataclasses.replace(window.context.clinician, login=None)
    form.old.setText("x" * 12)
    form.on_ok()
    assert "has no account" in form.error.text()
    assert form.old.text() == ""
    assert window.context.runner.pending() == 0
