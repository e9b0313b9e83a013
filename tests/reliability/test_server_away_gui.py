"""The clinic server goes away while a clinician types into the real main window (issue 21).

A private PostgreSQL cluster (``own_postgres``) is stopped with ``pg_ctl -m immediate`` between
keystrokes. The typing goes on; the status bar says "clinic server unreachable, changes kept on
this computer"; once the server is back the autosaver's own retry stores every typed value. When
the window is closed while the server is still away, the unsaved findings are kept in the data
folder (a 0600 file) without asking to discard them, and the next start saves them through the
operation runner, as a copy when someone else changed the evaluation meanwhile.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clinic_app.storage import kept, records
from clinic_app.storage.database import Database, open_database
from clinic_app.ui.evaluation_page import SERVER_AWAY
from tests.reliability.helpers import USER, findings, seed_records, small_form

WITHIN_MS = 30_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints"),
]


@pytest.fixture
def settings(tmp_path: Path) -> None:
    from PySide6.QtCore import QCoreApplication, QSettings

    QCoreApplication.setOrganizationName("clinic_app")
    QCoreApplication.setApplicationName("clinic_app_reliability")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "settings"))


@pytest.fixture
def db(own_postgres: Any) -> Iterator[Database]:
    database = open_database(own_postgres.url, backup=False)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Questions the window asked (answered Cancel: a test must not hang on a dialog)."""
    from PySide6.QtWidgets import QMessageBox

    import clinic_app.ui.main_window as main_window

    questions: list[str] = []

    def ask(_parent: object, title: str, *_args: object, **_kw: object) -> Any:
        questions.append(title)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(main_window, "ask", ask)
    return questions


def _window(qtbot: Any, db: Database) -> Any:
    from clinic_app.ui.main_window import MainWindow

    clinician = next(iter(records.list_clinicians(db)), None) or records.save_clinician(
        db, records.ClinicianInfo(name=USER), user=USER
    )
    window = MainWindow(db, small_form(), clinician)
    qtbot.addWidget(window)
    window.show()
    return window


def _field(window: Any) -> Any:
    from PySide6.QtWidgets import QLineEdit

    assert window.page.view is not None
    field = window.page.view.editor.editor("nordic_force", "left").focus_widgets()[0]
    assert isinstance(field, QLineEdit)
    return field


def _close_while_away(
    qtbot: Any, own_postgres: Any, db: Database, ev: Any, *, before: str, during: str
) -> None:
    """Type ``before`` (and wait until saved), stop the server, type ``during``, close."""
    window = _window(qtbot, db)
    window.open_evaluation(ev, records.get_patient(db, ev.patient_id))
    field = _field(window)
    if before:
        qtbot.keyClicks(field, before)
        qtbot.waitUntil(lambda: window.saved_label.text().startswith("Saved"), timeout=WITHIN_MS)
    own_postgres.crash()
    qtbot.keyClicks(field, during)
    qtbot.waitUntil(lambda: window.saved_label.text() == SERVER_AWAY, timeout=WITHIN_MS)
    window.close()


def _start_again(qtbot: Any, db: Database, says: str) -> Any:
    """The next start: a new window on the database, once its status bar ``says`` so."""
    window = _window(qtbot, db)
    qtbot.waitUntil(lambda: says in window.statusBar().currentMessage(), timeout=WITHIN_MS)
    return window


@pytest.mark.postgres
def test_typing_goes_on_while_the_server_is_away_and_is_saved_when_it_is_back(
    qtbot: Any, own_postgres: Any, db: Database, settings: None, asked: list[str]
) -> None:
    ev = seed_records(db, small_form())
    window = _window(qtbot, db)
    try:
        window.open_evaluation(ev, records.get_patient(db, ev.patient_id))
        field = _field(window)
        qtbot.keyClicks(field, "3")
        qtbot.waitUntil(lambda: window.saved_label.text().startswith("Saved"), timeout=WITHIN_MS)
        own_postgres.crash()
        qtbot.keyClicks(field, "1")  # typing goes on
        qtbot.waitUntil(lambda: window.saved_label.text() == SERVER_AWAY, timeout=WITHIN_MS)
        qtbot.keyClicks(field, "2")
        assert field.text() == "312"
        assert window.saved_label.text() == SERVER_AWAY  # not "Editing…" while still away
        assert window.page.saver is not None
        assert window.page.saver.has_pending()
        own_postgres.start()
        qtbot.waitUntil(lambda: window.saved_label.text().startswith("Saved"), timeout=WITHIN_MS)
        stored = records.get_evaluation(db, ev.id).findings["values"]
        assert stored == {"nordic_force": {"left": 312}}
    finally:
        window.close()
    assert asked == []


@pytest.mark.postgres
def test_closing_while_the_server_is_away_keeps_the_changes_and_the_next_start_saves_them(
    qtbot: Any,
    own_postgres: Any,
    db: Database,
    settings: None,
    asked: list[str],
    private_data_dir: Path,
) -> None:
    ev = seed_records(db, small_form())
    _close_while_away(qtbot, own_postgres, db, ev, before="2", during="75")
    assert asked == []  # kept, not "close anyway and lose the last changes?"
    files = list((private_data_dir / kept.FOLDER).glob("evaluation-*.json"))
    assert [f.name for f in files] == [f"evaluation-{ev.id}.json"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((private_data_dir / kept.FOLDER).stat().st_mode) == 0o700

    own_postgres.start()
    assert records.get_evaluation(db, ev.id).findings["values"] == {"nordic_force": {"left": 2}}
    again = _start_again(qtbot, db, "changes kept on this computer saved")
    try:
        stored = records.get_evaluation(db, ev.id).findings["values"]
        assert stored == {"nordic_force": {"left": 275}}
        assert not files[0].exists()
    finally:
        again.close()


@pytest.mark.postgres
@pytest.mark.usefixtures("settings", "asked")
def test_kept_changes_over_a_newer_version_become_a_copy(
    qtbot: Any, own_postgres: Any, db: Database
) -> None:
    form = small_form()
    ev = seed_records(db, form)
    _close_while_away(qtbot, own_postgres, db, ev, before="", during="41")
    own_postgres.start()
    theirs = findings(form, notes="saved at desk 2 meanwhile")
    records.save_draft(db, ev.id, theirs, ev.version, user="Blake at desk 2")
    again = _start_again(qtbot, db, "saved as a copy")
    try:
        assert "Blake at desk 2" in again.statusBar().currentMessage()
        assert records.get_evaluation(db, ev.id).findings["values"] == theirs["values"]
        others = [e for e in records.list_evaluations(db, ev.patient_id) if e.id != ev.id]
        assert len(others) == 1
        copy = records.get_evaluation(db, others[0].id)
        assert copy.findings["values"] == {"nordic_force": {"left": 41}}
        assert kept.kept() == []
    finally:
        again.close()


def test_a_save_whose_answer_was_lost_is_not_a_conflict_with_oneself(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection is cut after the commit: the write is stored, its answer lost. The next
    write (typed on meanwhile) meets "a newer version by you": the saver takes that version and
    writes over it instead of showing a conflict between the clinician's own two versions."""
    from clinic_app.core.findings import validate
    from clinic_app.storage.errors import ServerUnreachableError
    from tests.reliability.helpers import autosaver

    form = small_form()
    real = records.save_draft
    cut = [True]

    def commit_then_lose_the_answer(*args: Any, **kwargs: Any) -> Any:
        saved = real(*args, **kwargs)
        if cut[0]:
            cut[0] = False
            raise ServerUnreachableError("127.0.0.1", "the connection was lost")
        return saved

    with open_database(f"sqlite:///{tmp_path / 'clinic.db'}", backup=False) as db:
        ev = seed_records(db, form)
        monkeypatch.setattr(records, "save_draft", commit_then_lose_the_answer)
        with autosaver(db, records.get_evaluation(db, ev.id), USER) as saver:
            conflicts: list[object] = []
            saver.conflicted.connect(conflicts.append)
            saver.on_findings_changed(validate(form, findings(form, pain_now=3)))
            assert not saver.flush()
            assert saver.server_unreachable()
            saver.on_findings_changed(validate(form, findings(form, pain_now=3, notes="more")))
            assert saver.flush()
            assert conflicts == []
            assert not saver.has_pending()
        stored = records.get_evaluation(db, ev.id)
    assert stored.findings["values"] == {"pain_now": 3, "notes": "more"}
    assert stored.version == ev.version + 2


@pytest.mark.postgres
@pytest.mark.usefixtures("settings", "asked")
def test_an_access_event_that_meets_the_server_away_is_written_once_it_is_back(
    qtbot: Any, own_postgres: Any, db: Database
) -> None:
    """An evaluation was opened (read) just before the server went away: its "open" event in
    the access log cannot be written. No dialog stops the clinician; the event is written by a
    retry once the server answers again (found by a full run that hung on that dialog)."""
    from PySide6.QtWidgets import QApplication

    from clinic_app.storage.records.access import access_log
    from clinic_app.ui import access_log as access_ui

    ev = seed_records(db, small_form())
    window = _window(qtbot, db)
    try:
        qtbot.waitUntil(lambda: window.context.ready, timeout=WITHIN_MS)
        before = [e for e in access_log(db, actions=["open"]) if e.entity_id == ev.id]
        own_postgres.crash()
        failures: list[str] = []
        window.context.runner.failed.connect(lambda what, _err: failures.append(what))
        access_ui.record_access(window.context, "open", "evaluation", ev.id, parent=window)
        qtbot.waitUntil(lambda: failures == [access_ui.ACCESS_WHAT], timeout=WITHIN_MS)
        qtbot.wait(300)
        assert QApplication.activeModalWidget() is None  # nothing to answer
        own_postgres.start()

        def written() -> bool:
            try:
                events = access_log(db, actions=["open"])
            except Exception:  # the pool still reconnecting
                return False
            return len([e for e in events if e.entity_id == ev.id]) == len(before) + 1

        qtbot.waitUntil(written, timeout=WITHIN_MS)
        assert QApplication.activeModalWidget() is None
    finally:
        window.close()
