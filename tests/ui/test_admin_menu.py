"""The Admin menu is there only for an admin; "Change my password…" for everyone."""

from __future__ import annotations

from clinic_app.ui.access_log import AccessLogDialog
from clinic_app.ui.accounts_dialog import AccountsDialog, ChangePasswordDialog
from clinic_app.ui.main_window import MainWindow


def _window(qtbot, db, form, who) -> MainWindow:
    w = MainWindow(db, form, who)
    qtbot.addWidget(w)
    w.show()
    return w


def test_an_admin_has_the_admin_menu(qtbot, db, mini_form, account) -> None:
    w = _window(qtbot, db, mini_form, account)
    assert w.admin_menu.menuAction().isVisible()
    for key in ("access_log", "accounts", "change_password"):
        assert w.actions_[key].isEnabled(), key
    w.actions_["access_log"].trigger()
    log_dialog = w.findChild(AccessLogDialog)
    assert log_dialog is not None
    assert log_dialog.isVisible()
    assert log_dialog.model.rowCount() > 0
    w.actions_["accounts"].trigger()
    accounts = w.findChild(AccountsDialog)
    assert accounts is not None
    assert [a.login for a in accounts.accounts] == ["dana"]


def test_a_therapist_has_no_admin_menu(qtbot, db, mini_form, other_account) -> None:
    w = _window(qtbot, db, mini_form, other_account)
    assert not w.admin_menu.menuAction().isVisible()
    assert not w.actions_["access_log"].isEnabled()
    assert not w.actions_["accounts"].isEnabled()
    w.actions_["change_password"].trigger()
    assert w.findChild(ChangePasswordDialog) is not None


def test_the_menu_follows_the_clinician_signed_in(
    qtbot, db, mini_form, account, other_account
) -> None:
    w = _window(qtbot, db, mini_form, other_account)
    assert not w.admin_menu.menuAction().isVisible()
    w.take_over(account)
    assert w.admin_menu.menuAction().isVisible()
    assert w.actions_["accounts"].isEnabled()
    w.take_over(other_account)
    assert not w.admin_menu.menuAction().isVisible()
    assert not w.actions_["accounts"].isEnabled()
