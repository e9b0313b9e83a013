"""Another process holds the SQLite write lock: saves wait, then say so; nothing typed is dropped.

The lock holder is a real second process with ``BEGIN EXCLUSIVE`` (or ``IMMEDIATE``) open on the
database file, as a second workstation or a backup tool would. A short lock must be waited out
(the save succeeds); a lock held past the busy timeout must end in a message a person can read
(naming the database, no traceback), with nothing written and the typed findings still pending,
so that the next save after the lock is gone stores them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinic_app.core.findings import validate
from clinic_app.storage import records
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.errors import DatabaseBusyError, StorageError
from tests.reliability.helpers import (
    USER,
    autosaver,
    findings,
    seed_records,
    small_form,
    sqlite_lock,
)
from tests.ui.helpers import settle

# The app waits up to 10 s (SQLite busy timeout) for a lock; the long locks here are held until
# the save has given up, and the autosave test waits this long for the failure to be reported.
REPORT_WITHIN_MS = 16_000


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "clinic.db"


@pytest.fixture
def db(db_file: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{db_file}", backup=False)
    try:
        yield database
    finally:
        database.close()


@pytest.mark.parametrize("mode", ["IMMEDIATE", "EXCLUSIVE"])
def test_a_short_lock_is_waited_out_and_the_save_succeeds(
    db: Database, db_file: Path, mode: str
) -> None:
    form = small_form()
    ev = seed_records(db, form)
    with sqlite_lock(db_file, mode) as lock:
        timer = threading.Timer(1.0, lock.release)
        timer.start()
        try:
            saved = records.save_draft(
                db, ev.id, findings(form, notes="typed while locked"), ev.version, user=USER
            )
        finally:
            timer.join()
    assert saved.changed
    assert records.get_evaluation(db, ev.id).findings["values"] == {"notes": "typed while locked"}


@pytest.mark.slow
def test_a_long_lock_ends_in_a_clear_error_and_nothing_is_written(
    db: Database, db_file: Path
) -> None:
    form = small_form()
    ev = seed_records(db, form)
    audit_before = len(records.audit_events(db))
    with sqlite_lock(db_file, "EXCLUSIVE"), pytest.raises(StorageError) as caught:
        records.save_draft(
            db, ev.id, findings(form, notes="typed while locked"), ev.version, user=USER
        )
    message = str(caught.value)
    assert str(db_file) in message, message
    assert "\n" not in message, message
    assert isinstance(caught.value, DatabaseBusyError)  # what a caller may retry later
    stored = records.get_evaluation(db, ev.id)
    assert stored.version == ev.version
    assert stored.findings["values"] == {}
    assert len(records.audit_events(db)) == audit_before
    # The lock is gone: the same save goes through.
    saved = records.save_draft(
        db, ev.id, findings(form, notes="typed while locked"), ev.version, user=USER
    )
    assert saved.changed


@pytest.mark.slow
def test_autosave_under_a_long_lock_tells_the_user_and_keeps_the_text(
    qtbot, db: Database, db_file: Path
) -> None:
    """The editor's autosaver: a failed save is reported (naming the database) and retried."""
    form = small_form()
    ev = seed_records(db, form)
    typed = validate(form, findings(form, notes="Left sit bone pain", pain_now=6))
    failures: list[str] = []
    with autosaver(db, ev, USER, delay_ms=50) as saver:
        saver.failed.connect(failures.append)
        with sqlite_lock(db_file, "EXCLUSIVE"):
            with qtbot.waitSignal(saver.failed, timeout=REPORT_WITHIN_MS):
                saver.on_findings_changed(typed)
            assert saver.has_pending(), "the typed findings were dropped after a failed save"
            assert records.get_evaluation(db, ev.id).findings["values"] == {}
        assert failures
        assert str(db_file) in failures[0], failures
        assert "Traceback" not in failures[0]
        # The lock is gone: the saver tries again by itself and stores what was typed.
        with qtbot.waitSignal(saver.saved, timeout=REPORT_WITHIN_MS):
            pass
        stored = records.get_evaluation(db, ev.id).findings["values"]
        assert stored == {"notes": "Left sit bone pain", "pain_now": 6}
        assert not saver.has_pending()


@pytest.mark.slow
@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def _window_with_a_draft(qtbot, db: Database):
    """The real main window on ``db`` and a draft of the small form (not opened yet)."""
    from clinic_app.ui.main_window import MainWindow

    form = small_form()
    clinician = records.save_clinician(db, records.ClinicianInfo(name=USER), user=USER)
    ev = seed_records(db, form)
    window = MainWindow(db, form, clinician)
    qtbot.addWidget(window)
    window.show()
    return window, ev


def test_main_window_under_a_long_lock_says_not_saved_then_saves(
    qtbot, db: Database, db_file: Path, tmp_path: Path
) -> None:
    """What the clinician sees: typing goes on, the status says "not saved", then "Saved"."""
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QLineEdit

    QCoreApplication.setOrganizationName("clinic_app")
    QCoreApplication.setApplicationName("clinic_app_reliability")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "settings"))
    window, ev = _window_with_a_draft(qtbot, db)
    try:
        window.open_evaluation(ev, records.get_patient(db, ev.patient_id))
        assert window.page.view is not None
        settle(qtbot, window)  # the open's access event written, as a moment later in use
        field = window.page.view.editor.editor("nordic_force", "left").focus_widgets()[0]
        assert isinstance(field, QLineEdit)
        with sqlite_lock(db_file, "EXCLUSIVE"):
            qtbot.keyClicks(field, "312")
            qtbot.waitUntil(
                lambda: window.saved_label.text().startswith("Not saved"),
                timeout=REPORT_WITHIN_MS,
            )
            assert records.get_evaluation(db, ev.id).findings["values"] == {}
            assert str(db_file) in window.page.status.toolTip(), window.page.status.toolTip()
        qtbot.waitUntil(
            lambda: window.saved_label.text().startswith("Saved"), timeout=REPORT_WITHIN_MS
        )
        stored = records.get_evaluation(db, ev.id).findings["values"]
        assert stored == {"nordic_force": {"left": 312}}
    finally:
        window.close()


def test_an_access_event_that_meets_a_long_lock_is_retried_without_a_dialog(
    qtbot, db_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An open's access event is written once the window is idle; if another workstation
    holds the file then, the clinician gets no dialog in the middle of the typing, and the
    event is written by a retry once the file is free."""
    from PySide6.QtWidgets import QApplication

    from clinic_app.ui import access_log

    monkeypatch.setattr(access_log, "ACCESS_RETRY_MS", 300)
    db = open_database(f"sqlite:///{db_file}", backup=False, busy_timeout=0.2)
    window, ev = _window_with_a_draft(qtbot, db)

    def opened() -> list[int]:
        return [e.entity_id for e in records.access_log(db, actions=["open"])]

    try:
        with sqlite_lock(db_file, "EXCLUSIVE"):
            window.open_evaluation(ev, records.get_patient(db, ev.patient_id))
            assert window.context.is_idle_waiting()
            qtbot.waitUntil(lambda: not window.context.is_idle_waiting())  # the write started
            qtbot.wait(1500)  # it failed (0.2 s busy timeout) and was retried, more than once
            assert QApplication.activeModalWidget() is None
        qtbot.waitUntil(lambda: opened() == [ev.id], timeout=5000)
    finally:
        window.close()
        db.close()
