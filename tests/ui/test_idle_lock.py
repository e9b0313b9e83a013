"""The idle lock (issue 14): after the interval the window shows no patient datum; the same
clinician resumes the very draft with nothing lost; another clinician's sign-in saves the first
one's draft under the first one's name; a wrong password keeps it locked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from clinic_app.storage import records
from clinic_app.ui.fields import NumberEditor
from clinic_app.ui.idle_lock import LOCKED_TITLE, IdleWatcher
from clinic_app.ui.main_window import MainWindow
from tests.ui.conftest import OTHER_PASSWORD, PASSWORD
from tests.ui.helpers import settle

LOCK_MS = 400
SHOTS = Path("/tmp/clinic_app_idle_lock")


def visible_text(window: MainWindow) -> list[str]:
    """Everything a person could read on the screen: the texts of every visible widget of the
    window and of any visible top-level window, the visible rows of item views, the title and
    the status bar."""
    out = [window.windowTitle(), window.statusBar().currentMessage()]
    tops = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    for top in tops:
        out.append(top.windowTitle())
        for w in [top, *top.findChildren(QWidget)]:
            if not w.isVisible():
                continue
            if isinstance(w, QLabel | QAbstractButton | QLineEdit):
                out.append(w.text())
            elif isinstance(w, QPlainTextEdit | QTextEdit):
                out.append(w.toPlainText())
            elif isinstance(w, QComboBox):
                out.append(w.currentText())
            if isinstance(w, QAbstractItemView) and w.model() is not None:
                model = w.model()
                for r in range(model.rowCount()):
                    for c in range(model.columnCount()):
                        out.append(str(model.data(model.index(r, c)) or ""))
    return [t for t in out if t]


def shot(window: MainWindow, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    window.grab().save(str(path))
    return path


@pytest.fixture
def patient(db) -> records.Patient:
    return records.create_patient(
        db, records.PatientFields("Ada", "Lovelace", "MRN-7731", activity="fencing"), user="t"
    )


@pytest.fixture
def locking_window(qtbot, db, mini_form, account, patient) -> MainWindow:
    """The window with an idle lock that waits a minute: a test that wants the lock to come by
    itself shortens it (``set_interval_ms(LOCK_MS)``) once the screen is as it wants it."""
    w = MainWindow(db, mini_form, account, idle_lock_ms=60_000)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    settle(qtbot, w)
    return w


def open_draft(qtbot, window: MainWindow, patient: records.Patient) -> NumberEditor:
    window.patients.model.reload()
    window.patients.select_patient(patient.id)
    window.detail.new_eval_button.click()
    settle(qtbot, window)
    view = window.page.view
    assert view is not None
    view.editor.set_current_section("flexibility")
    line = view.editor.editor("slr", "left")
    assert isinstance(line, NumberEditor)
    line.line.setFocus()
    qtbot.waitUntil(line.line.hasFocus)
    return line


def slr_left(db, evaluation_id: int) -> Any:
    return records.get_evaluation(db, evaluation_id).findings.get("values", {}).get("slr", {})


def sign_in(window: MainWindow, login: str, password: str) -> None:
    assert window.locker is not None
    panel = window.locker.panel
    panel.login.setText(login)
    panel.password.setText(password)
    panel.password.setFocus()
    panel.password.returnPressed.emit()  # Enter in the password field


def test_the_watcher_fires_after_the_interval_and_input_postpones_it(qtbot) -> None:
    watcher = IdleWatcher(300)
    fired: list[float] = []
    watcher.idled.connect(lambda: fired.append(watcher.idle_ms()))
    target = QLineEdit()
    qtbot.addWidget(target)
    target.show()
    target.activateWindow()
    target.setFocus()
    qtbot.waitUntil(target.hasFocus)
    watcher.start()
    for _ in range(4):  # typing every 150 ms for 600 ms: never idle for 300 ms
        qtbot.wait(150)
        qtbot.keyClick(target, "a")
    assert fired == []
    qtbot.waitUntil(lambda: bool(fired), timeout=2000)
    assert fired[0] >= 300
    assert target.text() == "aaaa"


def test_mouse_input_through_the_window_postpones_it_too(qtbot) -> None:
    """Platform input reaches a top-level window first: the watcher sees it there, also for a
    widget without the focus (a click or a wheel turn on a list)."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    top = QWidget()
    qtbot.addWidget(top)
    top.resize(300, 200)
    top.show()
    qtbot.waitExposed(top)
    watcher = IdleWatcher(300)
    fired: list[int] = []
    watcher.idled.connect(lambda: fired.append(watcher.idle_ms()))
    watcher.start()
    handle = top.windowHandle()
    for n in range(4):  # a mouse moved or clicked every 150 ms for 600 ms
        qtbot.wait(150)
        if n % 2:
            QTest.mouseClick(handle, Qt.MouseButton.LeftButton, pos=QPoint(20 + n, 30))
        else:
            QTest.mouseMove(handle, QPoint(40 + n, 50))
    assert fired == []
    qtbot.waitUntil(lambda: bool(fired), timeout=2000)
    watcher.stop()
    assert not watcher._watched


def test_locked_window_shows_no_patient_data_and_resumes_the_same_draft(
    qtbot, db, locking_window: MainWindow, patient
) -> None:
    window = locking_window
    line = open_draft(qtbot, window, patient)
    evaluation_id = window.page.evaluation.id
    qtbot.keyClicks(line.line, "6")  # mid-typing: the lock comes before the autosave's timer
    before = " ".join(visible_text(window))
    assert "Lovelace" in before  # the walk sees what the screen shows
    shot(window, "1-before-lock")
    window.locker.watcher.set_interval_ms(LOCK_MS)  # counted from the last keystroke
    with qtbot.waitSignal(window.locker.locked, timeout=5000):
        pass
    assert window.locker.is_locked
    assert slr_left(db, evaluation_id) == {"left": 6}  # saved before anything was hidden
    texts = visible_text(window)
    joined = " ".join(texts)
    for secret in ("Ada", "Lovelace", "MRN-7731", "fencing", "Passive straight leg raise"):
        assert secret not in joined, (secret, texts)
    assert not any(t.strip() == "6" for t in texts), texts
    assert window.windowTitle() == LOCKED_TITLE
    assert window.statusBar().currentMessage() == ""
    assert window.saved_label.text() == ""
    assert not window.menuBar().isEnabled()
    assert not window.actions_["export_report"].isEnabled()
    assert not window.actions_["lock"].isEnabled()
    assert window.locker.panel.login.text() == "dana"  # the same clinician: prefilled
    shot(window, "2-locked")
    # a status message arriving while locked (a late save naming the patient) is not shown
    window.statusBar().showMessage("Saved Ada Lovelace", 5000)
    assert window.statusBar().currentMessage() == ""

    sign_in(window, "dana", "not my password")
    assert window.locker.is_locked
    assert window.locker.panel.error.text() == "wrong name or password"
    assert "Lovelace" not in " ".join(visible_text(window))
    shot(window, "3-wrong-password")

    window.locker.watcher.set_interval_ms(60_000)  # no second lock while the test reads on
    sign_in(window, "dana", PASSWORD)
    assert not window.locker.is_locked
    assert window.page.evaluation is not None
    assert window.page.evaluation.id == evaluation_id
    assert window.stack.currentWidget() is window.page
    qtbot.waitUntil(line.line.hasFocus, timeout=2000)  # the same field has the keyboard
    assert line.line.text() == "6"
    qtbot.keyClicks(line.line, "7")  # typing goes on where it stopped
    assert window.menuBar().isEnabled()
    assert window.actions_["export_report"].isEnabled()
    assert "Lovelace" in " ".join(visible_text(window))
    shot(window, "4-resumed")
    assert window.flush()
    assert slr_left(db, evaluation_id) == {"left": 67}
    actions = [e.action for e in records.access_log(db, actions=["lock", "unlock"])]
    assert actions == ["unlock", "lock"]  # newest first
    window.close()


def test_another_clinician_saves_the_first_ones_draft_under_their_name(
    qtbot, db, locking_window: MainWindow, patient, other_account
) -> None:
    window = locking_window
    line = open_draft(qtbot, window, patient)
    evaluation_id = window.page.evaluation.id
    qtbot.keyClicks(line.line, "58")
    window.locker.lock()
    sign_in(window, "lee", "wrong password!")
    assert window.locker.is_locked
    assert window.context.clinician.id == window.locker.window.context.clinician.id
    sign_in(window, "lee", OTHER_PASSWORD)
    assert not window.locker.is_locked
    assert window.context.clinician.id == other_account.id
    assert window.context.user == "Lee Second"
    assert window.page.evaluation is None  # closed: Lee starts at the patient list
    assert window.stack.currentWidget() is window.detail
    assert window.patients.isVisible()
    assert window.detail.patient is None
    stored = records.get_evaluation(db, evaluation_id)
    assert stored.findings["values"]["slr"] == {"left": 58}
    assert stored.updated_by == "Dana Physio"  # the draft stays Dana's
    assert stored.status == "draft"
    assert "Lee Second" in window.statusBar().currentMessage()
    shot(window, "5-taken-over")
    settle(qtbot, window)  # the sign-out event is written in the background, after the sign-in
    trail = [(e.actor, e.action) for e in records.access_log(db, actions=["sign_in", "sign_out"])]
    assert ("lee", "sign_in") in trail
    assert ("dana", "sign_out") in trail
    window.close()


def test_a_dialog_of_patient_data_is_hidden_and_comes_back(
    qtbot, db, locking_window: MainWindow, patient
) -> None:
    window = locking_window
    window.patients.model.reload()
    window.patients.select_patient(patient.id)
    window.on_detail_edit_requested()  # the patient dialog, with the name in its fields
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is not None, timeout=2000)
    dialog = QApplication.activeModalWidget()
    assert dialog is not None
    assert "Lovelace" in " ".join(visible_text(window))
    dialog.findChild(QLineEdit, "activity").setText("sabre")  # typed, not saved yet
    window.locker.watcher.set_interval_ms(LOCK_MS)
    with qtbot.waitSignal(window.locker.locked, timeout=5000):
        pass
    assert not dialog.isVisible()
    joined = " ".join(visible_text(window))
    assert "Lovelace" not in joined
    assert "sabre" not in joined
    sign_in(window, "dana", PASSWORD)
    assert dialog.isVisible()
    assert dialog.findChild(QLineEdit, "activity").text() == "sabre"
    dialog.reject()
    window.close()


def test_a_question_in_exec_is_answered_cancel_and_not_shown_again(
    qtbot, db, locking_window: MainWindow
) -> None:
    """A question the code waits for in exec() (the program editor's safety question) returns
    "cancel" when the lock hides it, and is not shown again after the password (its buttons
    would do nothing: the code that asked has moved on)."""
    window = locking_window
    box = QMessageBox(QMessageBox.Icon.Warning, "Add this exercise?", "Confirm?", parent=window)
    add = box.addButton("Add it anyway", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    QTimer.singleShot(0, window.locker.lock)
    box.exec()
    assert window.locker.is_locked
    assert box.clickedButton() is not add
    sign_in(window, "dana", PASSWORD)
    assert not window.locker.is_locked
    settle(qtbot, window)
    assert not box.isVisible()
    window.close()


def test_lock_now_and_sign_out(qtbot, db, locking_window: MainWindow, patient, other_account):
    window = locking_window
    window.locker.watcher.set_interval_ms(60_000)
    line = open_draft(qtbot, window, patient)
    qtbot.keyClicks(line.line, "41")
    evaluation_id = window.page.evaluation.id
    assert window.page.saver.has_pending()  # typed, not saved yet (the autosave waits 0.8 s)
    assert slr_left(db, evaluation_id) == {}
    window.actions_["lock"].trigger()  # Ctrl+L
    assert window.locker.is_locked
    assert slr_left(db, evaluation_id) == {"left": 41}  # saved by the lock itself, first
    assert not window.page.saver.has_pending()
    sign_in(window, "dana", PASSWORD)
    assert window.page.evaluation is not None
    window.actions_["sign_out"].trigger()
    assert window.locker.is_locked
    assert window.locker.panel.login.text() == ""  # signed out: nobody prefilled
    assert window.page.evaluation is None
    assert slr_left(db, evaluation_id) == {"left": 41}
    sign_in(window, "dana", PASSWORD)  # after signing out even Dana starts at the list
    assert not window.locker.is_locked
    assert window.page.evaluation is None
    assert window.stack.currentWidget() is window.detail
    window.close()


def test_the_interval_comes_from_the_clinic_setting(qtbot, db, mini_form, account) -> None:
    records.save_setting(db, "idle_lock_minutes", 2, user="dana")
    window = MainWindow(db, mini_form, account)
    qtbot.addWidget(window)
    settle(qtbot, window)
    assert window.locker is not None
    assert window.locker.watcher.interval_ms == 120_000
    assert not window.locker.watcher.active  # not shown yet: nothing to hide
    window.show()
    assert window.locker.watcher.active
    window.hide()  # a hidden window does not watch the application's events
    assert not window.locker.watcher.active
    assert not window.locker.watcher._installed
    window.close()


def test_an_admin_sets_the_minutes_in_the_settings_dialog(
    qtbot, db, mini_form, account, other_account
) -> None:
    from clinic_app.ui.dialogs import ClinicDialog

    window = MainWindow(db, mini_form, account)
    qtbot.addWidget(window)
    settle(qtbot, window)
    window.on_settings_triggered()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), ClinicDialog))
    dialog = QApplication.activeModalWidget()
    field = dialog.fields["idle_lock_minutes"].widget
    assert field.text() == "5"
    save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
    for bad in ("0", "241", "five", "-3", "1e3", ""):
        field.setText(bad)
        save.click()
        assert dialog.problems() == {"idle_lock_minutes": "Enter whole minutes from 1 to 240"}
        assert records.get_setting(db, "idle_lock_minutes") == 5
    field.setText("3")
    with qtbot.waitSignal(dialog.saved):
        save.click()
    assert records.get_setting(db, "idle_lock_minutes") == 3
    settle(qtbot, window)
    assert window.locker.watcher.interval_ms == 180_000
    window.close()

    lee_window = MainWindow(db, mini_form, other_account)  # a therapist, not an admin
    qtbot.addWidget(lee_window)
    lee_window.on_settings_triggered()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), ClinicDialog))
    lee_dialog = QApplication.activeModalWidget()
    assert "idle_lock_minutes" not in lee_dialog.fields
    lee_dialog.reject()
    lee_window.close()


def test_the_keyboard_reaches_nothing_behind_the_lock(
    qtbot, db, locking_window: MainWindow, patient
) -> None:
    from PySide6.QtCore import Qt

    window = locking_window
    window.locker.watcher.set_interval_ms(60_000)
    open_draft(qtbot, window, patient)
    editor = window.page.view.editor
    section = editor.current_section() if hasattr(editor, "current_section") else None
    window.locker.lock()
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    for key, mods in (
        (Qt.Key.Key_E, ctrl),  # export report
        (Qt.Key.Key_P, ctrl),  # print handout
        (Qt.Key.Key_N, ctrl | shift),  # new patient
        (Qt.Key.Key_F, ctrl),  # find patient
        (Qt.Key.Key_PageDown, ctrl),  # next section
        (Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier),  # back to the patient
        (Qt.Key.Key_S, ctrl),
    ):
        qtbot.keyClick(window.locker.panel.password, key, mods)
        assert QApplication.activeModalWidget() is None
        assert window.locker.is_locked
        assert window.stack.currentWidget() is window.page  # behind the lock, untouched
    if section is not None:
        assert editor.current_section() == section
    for _ in range(25):  # Tab never leaves the sign-in page
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focus = QApplication.focusWidget()
        assert focus is not None
        assert window.locker.panel.isAncestorOf(focus), focus
    assert "Lovelace" not in " ".join(visible_text(window))
    window.close()


def test_another_clinician_on_an_encrypted_clinic_gets_a_key_here(
    qtbot, db_url, mini_form, cheap_hashing
) -> None:
    from clinic_app.storage import accounts, encryption
    from clinic_app.storage.database import open_database
    from tests.ui.test_sign_in import PASSPHRASE, _encrypted_clinic

    path, lee_id = _encrypted_clinic(db_url)
    db = open_database(db_url, passphrase=PASSPHRASE, backup=False)
    try:
        dana = accounts.authenticate(db, "dana", PASSWORD)
        window = MainWindow(db, mini_form, dana, idle_lock_ms=60_000)
        qtbot.addWidget(window)
        window.show()
        window.locker.lock()
        sign_in(window, "lee", OTHER_PASSWORD)
        assert window.context.clinician.id == lee_id
        settle(qtbot, window)
        assert encryption.unlock(path, "lee", OTHER_PASSWORD) == PASSPHRASE
        window.close()
    finally:
        db.close()
