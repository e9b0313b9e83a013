"""Session-wide test settings: Qt offscreen, a private data folder, no user settings touched."""

from __future__ import annotations

import os
import tempfile

# Must be set before any Qt import: tests run headless, on CI and on a developer's desktop alike.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Commands run by tests without a data folder log here, never into the user's own log folder.
os.environ.setdefault("CLINIC_APP_LOG_DIR", tempfile.mkdtemp(prefix="clinic_app_test_logs_"))
# A test that sets no data folder of its own gets a throwaway one: the signing key, the record of
# the last committed state (storage/state.py) and backups never land in the user's real folder.
os.environ.setdefault("CLINIC_APP_DATA_DIR", tempfile.mkdtemp(prefix="clinic_app_test_data_"))
# Tests that name no data folder of their own (signing key, last committed state) use a private
# one, never the user's (storage tests and most others set their own in tmp_path).
os.environ.setdefault("CLINIC_APP_DATA_DIR", tempfile.mkdtemp(prefix="clinic_app_test_data_"))
os.environ.setdefault("QT_QUICK_BACKEND", "software")
# New SQLite clinics are encrypted with SQLCipher by default (issue 14); most tests read the raw
# file with sqlite3 to check what is stored, so their new clinics are plain. Encryption is tested
# in its own files (tests/storage/test_encryption*.py), which unset this.
os.environ.setdefault("CLINIC_APP_ENCRYPTION", "off")

# -- no test may hang on a dialog nobody answers ---------------------------------------------------

import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

MODAL_LIMIT_S = 30.0  # far beyond any dialog a test answers on purpose (those take milliseconds)


@pytest.fixture(autouse=True)
def no_modal_left_waiting(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail, instead of hanging the whole run, a test that leaves a modal dialog open with nobody
    to answer it (a failure message the app showed where the test expected none, say): after
    ``MODAL_LIMIT_S`` the dialog is closed and the test fails naming its title and text."""
    if "qapp" not in request.fixturenames and "qtbot" not in request.fixturenames:
        yield
        return
    import clinic_app.ui  # noqa: F401 (PySide6 6.12's None reference leak, see there)

    request.getfixturevalue("qapp")  # the timer needs the application
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

    seen: dict[int, float] = {}
    left: list[str] = []

    def check() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None:
            seen.clear()
            return
        first = seen.setdefault(id(modal), time.monotonic())
        if time.monotonic() - first < MODAL_LIMIT_S:
            return
        text = modal.text() if isinstance(modal, QMessageBox) else ""
        left.append(f"{type(modal).__name__} {modal.windowTitle()!r}: {text[:300]!r}")
        seen.pop(id(modal), None)
        if isinstance(modal, QDialog):
            modal.reject()
        else:
            modal.close()

    timer = QTimer()
    timer.setInterval(1000)
    timer.timeout.connect(check)
    timer.start()
    try:
        yield
    finally:
        timer.stop()
        timer.timeout.disconnect(check)
        del timer
    if left:
        pytest.fail(f"a modal dialog waited {MODAL_LIMIT_S:.0f} s with nobody to answer: {left}")
