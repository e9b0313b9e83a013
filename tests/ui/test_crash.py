"""The crash handler: an exception in a slot, a QThread or a thread reaches the log file and one
dialog, the app keeps running, and "Copy details" puts screened details on the clipboard.

pytest-qt captures exceptions raised in Qt code and fails the test. The handler calls the hook it
replaced, so inside ``qtbot.capture_exceptions()`` the test both sees the exception (and checks
it) and lets the handler do its work; pytest's own thread-exception hook is replaced the same way
by a recorder for the block. Nothing is switched off for other tests.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThread, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QPushButton

from clinic_app import logs
from clinic_app.ui.crash import CrashDialog, CrashHandler, crash_handler, install_crash_handler

SECRET = "Anna Mueller 1980-02-03 MRN-4711"


@pytest.fixture
def log_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(tmp_path / "logs"))
    path = logs.setup_logging()
    assert path is not None
    yield path
    logs.shutdown_logging()


def fail() -> None:
    raise ValueError(SECRET)


@pytest.fixture
def button(qtbot: Any) -> QPushButton:
    """A real button whose slot raises, as a bug in a screen's handler would."""
    widget = QPushButton("Fail")
    qtbot.addWidget(widget)
    widget.clicked.connect(fail)
    return widget


def shown_dialogs() -> list[CrashDialog]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, CrashDialog) and w.isVisible()
    ]


def wait_for_dialog(qtbot: Any, handler: CrashHandler) -> CrashDialog:
    qtbot.waitUntil(lambda: handler.dialog is not None and handler.dialog.isVisible())
    assert handler.dialog is not None  # closed (and deleted) when the crash_handler block ends
    return handler.dialog


def check_log(path: Path, where: str) -> str:
    text = path.read_text(encoding="utf-8")
    assert "ERROR clinic_app.ui.crash" in text
    assert "Traceback (most recent call last):" in text
    assert f"in {where}" in text  # the frame that raised
    assert "ValueError: (message withheld" in text
    for secret in SECRET.split():
        assert secret not in text
    return text


def test_an_exception_in_a_slot_is_logged_and_shown_and_the_app_goes_on(
    qtbot: Any, qapp: QApplication, log_path: Path, button: QPushButton
) -> None:
    with qtbot.capture_exceptions() as seen, crash_handler(qapp) as handler:
        button.click()
        dialog = wait_for_dialog(qtbot, handler)
        # The app still runs: its event loop delivers a timer after the crash.
        timer = QTimer()
        timer.setSingleShot(True)
        with qtbot.waitSignal(timer.timeout, timeout=2000):
            timer.start(0)
    assert [type(exc) for _, exc, _ in seen] == [ValueError]  # pytest-qt's hook still heard it
    check_log(log_path, "fail")
    where = dialog.findChild(QLabel, "crash_log_path")
    assert where is not None
    assert str(log_path) in where.text()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    copied = QApplication.clipboard().text()
    assert "Traceback (most recent call last):" in copied
    for expected in ("clinic_app 0.1.0", "PySide6", "Qt 6.", "thread MainThread", "in fail"):
        assert expected in copied
    for secret in SECRET.split():
        assert secret not in copied
    dialog.close()
    assert handler.dialog is None


def test_an_exception_in_a_thread_is_logged_and_shown_on_the_gui_thread(
    qtbot: Any, qapp: QApplication, log_path: Path
) -> None:
    heard: list[threading.ExceptHookArgs] = []
    before = threading.excepthook
    threading.excepthook = heard.append
    try:
        with crash_handler(qapp) as handler:
            worker = threading.Thread(target=fail, name="report worker")
            worker.start()
            worker.join()
            dialog = wait_for_dialog(qtbot, handler)
            assert dialog.thread() is qapp.thread()
    finally:
        threading.excepthook = before
    assert [args.exc_type for args in heard] == [ValueError]
    text = check_log(log_path, "fail")
    assert "on thread report worker" in text
    assert "thread report worker" in dialog.details_text()


class FailingThread(QThread):
    def run(self) -> None:
        fail()


def test_an_exception_in_a_qthread_run_reaches_the_dialog(
    qtbot: Any, qapp: QApplication, log_path: Path
) -> None:
    with qtbot.capture_exceptions() as seen, crash_handler(qapp) as handler:
        thread = FailingThread()
        with qtbot.waitSignal(thread.finished, timeout=5000):
            thread.start()
        thread.wait()
        wait_for_dialog(qtbot, handler)
    assert [type(exc) for _, exc, _ in seen] == [ValueError]
    check_log(log_path, "run")


def test_repeated_crashes_are_counted_in_one_dialog_and_the_log_stays_small(
    qtbot: Any, qapp: QApplication, log_path: Path, button: QPushButton
) -> None:
    with qtbot.capture_exceptions() as seen, crash_handler(qapp) as handler:
        for _ in range(25):
            button.click()
        dialog = wait_for_dialog(qtbot, handler)
        qtbot.waitUntil(lambda: handler.problems == 25)
        assert shown_dialogs() == [dialog]
        assert dialog.more_label.text().startswith("24 more problems")
        assert "25 problems; the first 5 follow" in dialog.details_text()
    assert len(seen) == 25
    text = log_path.read_text(encoding="utf-8")
    assert text.count("Traceback (most recent call last):") == 3
    assert "the same ValueError again (10 times so far)" in text
    # Closed, the next problem gets a dialog again.
    with qtbot.capture_exceptions(), crash_handler(qapp) as handler:
        button.click()
        assert wait_for_dialog(qtbot, handler) is not dialog


def test_keyboard_interrupt_is_not_a_crash(qapp: QApplication, log_path: Path) -> None:
    passed_on: list[type[BaseException]] = []
    before = sys.excepthook
    sys.excepthook = lambda kind, exc, tb: passed_on.append(kind)
    try:
        with crash_handler(qapp) as handler:
            sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    finally:
        sys.excepthook = before
    assert passed_on == [KeyboardInterrupt]  # to the hook before, as Ctrl+C in a terminal
    assert "ERROR" not in log_path.read_text(encoding="utf-8")
    assert handler.dialog is None
    assert handler.problems == 0


def test_the_app_installs_one_handler_and_uninstall_restores_the_hooks(
    qtbot: Any, qapp: QApplication, log_path: Path
) -> None:
    before = (sys.excepthook, threading.excepthook)
    handler = install_crash_handler(qapp)
    try:
        assert install_crash_handler(qapp) is handler  # run() twice: still one handler
        assert sys.excepthook == handler.excepthook
        assert threading.excepthook == handler.thread_excepthook
    finally:
        handler.uninstall()
        handler.deleteLater()
    assert (sys.excepthook, threading.excepthook) == before


def test_a_handler_never_chains_to_another_so_a_problem_is_logged_once(
    qtbot: Any, qapp: QApplication, log_path: Path, button: QPushButton
) -> None:
    with qtbot.capture_exceptions() as seen, crash_handler(qapp), crash_handler(qapp) as second:
        button.click()
        wait_for_dialog(qtbot, second)
    assert len(seen) == 1
    assert len(shown_dialogs()) <= 1
    assert log_path.read_text(encoding="utf-8").count("unexpected ValueError") == 1
