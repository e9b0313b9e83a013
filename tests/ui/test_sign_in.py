"""Signing in (issue 14): the panel's error line, the rate limit, a disabled account, a password an
admin reset, the last login remembered per data folder; and the start through ``app.run`` on a
plain and on an encrypted clinic (no main window, so no patient, before the password is right)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QLabel, QLineEdit

from clinic_app.storage import accounts, encryption, records
from clinic_app.storage.database import open_database
from clinic_app.ui import app as app_mod
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.sign_in import (
    NewPasswordDialog,
    SignInDialog,
    SignInPanel,
    last_login,
    runner_authenticate,
    runner_change_password,
)
from tests.storage.conftest import (  # noqa: F401 (fixtures)
    postgres_migrated_url,
    postgres_server,
    postgres_template,
)
from tests.ui.conftest import OTHER_PASSWORD, PASSWORD
from tests.ui.helpers import when_modal

PASSPHRASE = "the clinic's long passphrase"


@pytest.fixture
def panel(qtbot, runner, account) -> SignInPanel:
    p = SignInPanel(runner_authenticate(runner), change_password=runner_change_password(runner))
    qtbot.addWidget(p)
    p.show()
    return p


def submit(panel: SignInPanel, login: str, password: str) -> None:
    panel.login.setText(login)
    panel.password.setText(password)
    panel.password.returnPressed.emit()


def test_focus_starts_in_the_first_empty_field(qtbot, panel: SignInPanel) -> None:
    panel.reset("")
    panel.focus_first_empty()
    qtbot.waitUntil(panel.login.hasFocus)
    panel.reset("dana")
    panel.focus_first_empty()
    qtbot.waitUntil(panel.password.hasFocus)
    assert panel.password.echoMode() == QLineEdit.EchoMode.Password


def test_errors_show_on_the_line_under_the_fields(qtbot, panel: SignInPanel, db) -> None:
    got: list[object] = []
    panel.signed_in.connect(got.append)
    submit(panel, "", "x")
    assert panel.error.text() == "Enter your login name"
    submit(panel, "dana", "")
    assert panel.error.text() == "Enter your password"
    submit(panel, "dana", "wrong password")
    assert panel.error.text() == "wrong name or password"
    assert panel.password.text() == ""  # typed again, not kept
    submit(panel, "nobody", "wrong password")
    assert panel.error.text() == "wrong name or password"  # the same words: no login oracle
    submit(panel, "Robert'); DROP TABLE clinician;--", "x")
    assert panel.error.text() == "wrong name or password"
    assert got == []
    submit(panel, "  DANA ", PASSWORD)  # case and spaces do not matter in the login
    assert len(got) == 1
    assert got[0].login == "dana"  # type: ignore[attr-defined]
    assert panel.error.isHidden()
    assert last_login() == "dana"  # remembered for this data folder
    assert [e.action for e in records.access_log(db, actions=["sign_in", "sign_in_failed"])][
        0
    ] == "sign_in"


def test_a_bug_is_one_line_never_a_traceback(qtbot) -> None:
    def broken(login: str, password: str):
        raise ZeroDivisionError("division by zero in the hash")

    p = SignInPanel(broken)
    qtbot.addWidget(p)
    submit(p, "dana", "x")
    assert p.error.text() == "An unexpected problem (ZeroDivisionError) stopped it."
    assert p.button.isEnabled()


def test_a_disabled_account_and_the_rate_limit(qtbot, panel, db, account, other_account) -> None:
    accounts.disable_account(db, "lee", by=account)
    submit(panel, "lee", OTHER_PASSWORD)
    assert panel.error.text() == "account lee is disabled"
    for _ in range(accounts.FREE_FAILURES):
        submit(panel, "dana", "not the password")
    submit(panel, "dana", PASSWORD)  # even the right password waits now
    assert panel.error.text().startswith("too many failed sign-ins: try again in ")


def test_a_password_reset_by_an_admin_is_changed_before_going_on(
    qtbot, panel, db, account, other_account
) -> None:
    accounts.reset_password(db, "lee", "temporary pass 1", by=account)
    got: list[object] = []
    panel.signed_in.connect(got.append)
    new = "my own secret 99"

    def choose(dialog) -> None:
        assert isinstance(dialog, NewPasswordDialog)
        dialog.first.setText("short")
        dialog.second.setText("short")
        dialog.buttons.accepted.emit()
        assert "at least" in dialog.error.text()
        dialog.first.setText(new)
        dialog.second.setText(new + "x")
        dialog.buttons.accepted.emit()
        assert dialog.error.text() == "new password: the two entries differ"
        dialog.second.setText(new)
        dialog.buttons.accepted.emit()

    when_modal(choose)
    submit(panel, "lee", "temporary pass 1")
    assert len(got) == 1
    assert accounts.authenticate(db, "lee", new).id == other_account.id
    assert not accounts.get_account(db, "lee").must_change_password


def test_a_reset_password_not_changed_does_not_sign_in(qtbot, panel, db, account, other_account):
    accounts.reset_password(db, "lee", "temporary pass 1", by=account)
    got: list[object] = []
    panel.signed_in.connect(got.append)
    when_modal(lambda d: d.reject())
    submit(panel, "lee", "temporary pass 1")
    assert got == []
    assert "new password" in panel.error.text()


# -- the start, through app.run --------------------------------------------------------------


def _patient(db) -> None:
    records.create_patient(db, records.PatientFields("Ada", "Lovelace", "MRN-7731"), user="t")


def _texts() -> str:
    out = []
    for top in QApplication.topLevelWidgets():
        if top.isVisible():
            out.append(top.windowTitle())
            out += [w.text() for w in top.findChildren(QLabel) + top.findChildren(QLineEdit)]
    return " ".join(out)


def _main_windows() -> set[MainWindow]:
    return {w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)}


def _start(url: str, steps: list) -> tuple[int, dict]:
    """Run the app on ``url``; answer the sign-in with ``steps`` (login, password) in turn, then
    note the main window and close it."""
    seen: dict = {"errors": [], "before": []}
    earlier = _main_windows()  # an earlier test's window, even one left open, is not this start's

    def poll(left: int = 3000) -> None:
        if seen.get("over"):
            return  # the start is over: never touch a later test's windows
        shown = [w for w in _main_windows() - earlier if w.isVisible()]
        if shown:
            seen["clinician"] = shown[0].context.clinician
            model = shown[0].patients.model
            rows = [
                str(model.data(model.index(r, c)))
                for r in range(model.rowCount())
                for c in range(model.columnCount())
            ]
            seen["window_text"] = _texts() + " " + " ".join(rows)
            shown[0].close()
            return
        dialog = QApplication.activeModalWidget()
        if (
            isinstance(dialog, SignInDialog)
            and dialog.isVisible()
            and not dialog.panel.busy
            and not seen.get("submitting")
        ):
            seen["before"].append(_texts())
            # Each error noted once, and left on the screen: a test may be watching for it too
            # (clearing it here raced with such a watcher, which then waited for good).
            if dialog.panel.error.text() and not seen.get("noted"):
                seen["errors"].append(dialog.panel.error.text())
                seen["noted"] = True
            if steps:
                login, password = steps.pop(0)
                dialog.panel.login.setText(login)
                dialog.panel.password.setText(password)
                seen["noted"] = False  # the next error is a new one
                # Nothing more until this submit has run: on a loaded machine the next poll
                # could come first, see no error yet and type the next step over this one.
                seen["submitting"] = True
                QTimer.singleShot(0, lambda: _submit(dialog))
        if left:
            QTimer.singleShot(20, lambda: poll(left - 1))

    def _submit(dialog: SignInDialog) -> None:
        try:
            dialog.panel.submit()
        finally:
            seen["submitting"] = False

    QTimer.singleShot(0, poll)
    guard = QTimer()  # never hang the suite; stopped after, so no later test is closed by it
    guard.setSingleShot(True)
    guard.timeout.connect(QApplication.closeAllWindows)
    guard.start(60000)
    try:
        return app_mod.run(url), seen
    finally:
        guard.stop()
        seen["over"] = True


def test_the_start_signs_in_before_the_window_on_a_plain_clinic(qtbot, db, db_url, account):
    _patient(db)
    code, seen = _start(db_url, [("dana", "wrong one"), ("dana", PASSWORD)])
    assert code == 0
    assert seen["errors"] == ["wrong name or password"]
    assert seen["clinician"].id == account.id
    assert all("Lovelace" not in t for t in seen["before"])  # nothing of a patient before
    assert "Lovelace" in seen["window_text"]  # and the list after


def _encrypted_clinic(url: str) -> tuple[Path, int]:
    """An encrypted clinic with its admin (granted in the keyring) and one patient, and a
    second account that has no keyring entry yet (as after ``clinic-app encrypt``)."""
    path = Path(url.removeprefix("sqlite:///"))
    path.unlink()
    import os

    os.environ["CLINIC_APP_ENCRYPTION"] = "on"
    try:
        db = open_database(url, passphrase=PASSPHRASE, backup=False)
    finally:
        os.environ["CLINIC_APP_ENCRYPTION"] = "off"
    try:
        records.save_clinic(db, records.ClinicInfo(name="Praxis"), user="t")
        admin, _key = accounts.create_first_admin(db, "dana", PASSWORD, display_name="Dana")
        encryption.grant(db, "dana", PASSWORD)
        lee = accounts.add_account(
            db, "lee", OTHER_PASSWORD, roles=["therapist"], display_name="Lee", by=admin
        )
        encryption.revoke(db, "lee")  # no key for lee on this computer
        _patient(db)
    finally:
        db.close()
    encryption.forget_key(path)
    assert encryption.is_encrypted(path)
    return path, lee.id


def test_the_start_unlocks_an_encrypted_clinic_with_the_password(
    qtbot, db_url, cheap_hashing
) -> None:
    path, _ = _encrypted_clinic(db_url)
    code, seen = _start(db_url, [("dana", "wrong one"), ("dana", PASSWORD)])
    assert code == 0
    assert seen["errors"] == ["wrong name or password"]
    assert seen["clinician"].login == "dana"
    assert "Lovelace" in seen["window_text"]
    assert encryption.is_encrypted(path)


def test_an_encrypted_clinic_is_backed_up_after_the_window_not_before(
    qtbot, db_url, cheap_hashing, monkeypatch
) -> None:
    """The first sign-in of the day on an encrypted clinic: the window does not wait for the
    daily copy (seconds on a big clinic); the copy is made behind it, encrypted too. The
    form and modules were loaded while the password was typed, and the file untouched."""
    from clinic_app.storage import backup as backup_mod

    path, _ = _encrypted_clinic(db_url)
    before = path.read_bytes()
    at_window: list[list[Path]] = []
    untouched: list[bool] = []
    original = app_mod.Opening._main_window
    original_preload = app_mod.Opening._preload

    def preload(opening) -> None:
        original_preload(opening)
        untouched.append(path.read_bytes() == before)

    def main_window(opening, clinician):
        assert opening.preloaded
        assert opening.form is opening.preloaded[0]
        at_window.append([p for p, _ in backup_mod.list_backups()])
        return original(opening, clinician)

    monkeypatch.setattr(app_mod.Opening, "_preload", preload)
    monkeypatch.setattr(app_mod.Opening, "_main_window", main_window)
    code, seen = _start(db_url, [("dana", PASSWORD)])
    assert code == 0
    assert seen["clinician"].login == "dana"
    assert at_window == [[]]  # no backup yet when the window was built
    assert untouched == [True]
    daily = [p for p, reason in backup_mod.list_backups() if reason == "daily"]
    assert len(daily) == 1  # made by the time the app ended
    assert encryption.is_encrypted(daily[0])
    assert b"Lovelace" not in daily[0].read_bytes()


def test_a_login_without_a_key_here_gives_the_passphrase_once(qtbot, db_url, cheap_hashing) -> None:
    path, lee_id = _encrypted_clinic(db_url)
    with pytest.raises(encryption.NoKeyForLoginError):
        encryption.unlock(path, "lee", OTHER_PASSWORD)
    asked: list[str] = []

    def give(dialog) -> None:
        assert isinstance(dialog, QInputDialog)
        asked.append(dialog.labelText())
        dialog.setTextValue(PASSPHRASE)
        dialog.accept()

    def answer_when_asked(left: int = 3000) -> None:
        w = QApplication.activeModalWidget()
        if isinstance(w, QInputDialog) and w.isVisible():
            give(w)
        elif left and not asked:
            QTimer.singleShot(10, lambda: answer_when_asked(left - 1))

    QTimer.singleShot(0, answer_when_asked)
    code, seen = _start(db_url, [("lee", OTHER_PASSWORD)])
    assert code == 0
    assert len(asked) == 1
    assert seen["clinician"].id == lee_id
    assert encryption.unlock(path, "lee", OTHER_PASSWORD) == PASSPHRASE  # granted: next time


def test_a_wrong_passphrase_is_one_line_and_changes_nothing(qtbot, db_url, cheap_hashing):
    path, _ = _encrypted_clinic(db_url)
    before = path.read_bytes()

    def wrong(left: int = 3000) -> None:
        w = QApplication.activeModalWidget()
        if isinstance(w, QInputDialog) and w.isVisible():
            w.setTextValue("not the passphrase at all")
            w.accept()
        elif left and not errors:
            QTimer.singleShot(10, lambda: wrong(left - 1))

    QTimer.singleShot(0, wrong)
    errors: list[str] = []

    def close_after_error(left: int = 3000) -> None:
        d = QApplication.activeModalWidget()
        if isinstance(d, SignInDialog) and d.panel.error.text():
            errors.append(d.panel.error.text())
            d.reject()
        elif left and not errors:
            QTimer.singleShot(20, lambda: close_after_error(left - 1))

    QTimer.singleShot(0, close_after_error)
    code, seen = _start(db_url, [("lee", OTHER_PASSWORD)])
    assert code == 0
    assert "clinician" not in seen
    assert len(errors) == 1
    assert "\n" not in errors[0]
    assert "passphrase" in errors[0].lower()
    assert path.read_bytes() == before


def test_the_dialog_prefills_the_last_login_of_this_data_folder(qtbot, tmp_path) -> None:
    from clinic_app.ui.sign_in import remember_login

    remember_login("dana", str(tmp_path / "a"))
    remember_login("lee", str(tmp_path / "b"))
    first = SignInDialog(None, where=str(tmp_path / "a"))
    second = SignInDialog(None, where=str(tmp_path / "b"))
    other = SignInDialog(None, where=str(tmp_path / "c"))
    for d in (first, second, other):
        qtbot.addWidget(d)
    assert first.panel.login.text() == "dana"
    assert second.panel.login.text() == "lee"
    assert other.panel.login.text() == ""


@pytest.mark.postgres
def test_the_start_on_a_clinic_server(qtbot, request, cheap_hashing) -> None:
    """PostgreSQL: opened first; a server without an admin starts with the first-start wizard
    (no encryption page: the server's business), then the admin signs in at the next start."""
    from clinic_app.ui.first_start import ADMIN, FirstStartDialog

    url = request.getfixturevalue("postgres_migrated_url")
    pages: list[int] = []

    def set_up(wizard) -> None:
        assert isinstance(wizard, FirstStartDialog)
        wizard.fields["clinic_name"].setText("Praxis am Server")  # type: ignore[union-attr]
        wizard.next_button.click()
        pages.append(wizard.pages.currentIndex())
        for key, value in (
            ("login", "dana"),
            ("display_name", "Dana Physio"),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
        ):
            wizard.fields[key].setText(value)  # type: ignore[union-attr]
        wizard.next_button.click()  # Create
        wizard.kept.setChecked(True)
        wizard.next_button.click()  # Finish

    over: list[bool] = []
    earlier = _main_windows()  # an earlier test's window, even one left open, is not this start's

    def close_window(left: int = 3000) -> None:
        if over:
            return
        shown = [w for w in _main_windows() - earlier if w.isVisible()]
        if shown:
            shown[0].close()
        elif left:
            QTimer.singleShot(20, lambda: close_window(left - 1))

    when_modal(set_up, tries=2000)
    QTimer.singleShot(0, close_window)
    try:
        assert app_mod.run(url) == 0
    finally:
        over.append(True)
    assert pages == [ADMIN]
    code, seen = _start(url, [("dana", "wrong one"), ("dana", PASSWORD)])
    assert code == 0
    assert seen["errors"] == ["wrong name or password"]
    assert seen["clinician"].login == "dana"
