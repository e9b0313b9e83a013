"""Starting the app: the patient list shows before the heavy libraries load, and nothing is lost
or written while the database is opened behind it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from clinic_app.storage import files, records
from clinic_app.storage.database import open_database
from clinic_app.storage.errors import DatabaseFileError
from clinic_app.storage.first_page import read_first_page
from clinic_app.ui import app as app_mod
from clinic_app.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "pydantic", "yaml", "alembic", "reportlab")


def _fill(db_url: str, n: int = 30) -> int:
    db = open_database(db_url, backup=False)
    try:
        records.save_clinic(db, records.ClinicInfo(name="Clinic"), user="t")
        person = records.save_clinician(db, records.ClinicianInfo(name="Dana Physio"), user="t")
        for i in range(n):
            records.create_patient(
                db,
                records.PatientFields(f"Given{i:02d}", f"Family{i:02d}", f"MRN-{i:03d}"),
                user="t",
            )
        records.create_patient(db, records.PatientFields("Anna", "Müller", "MRN-MU"), user="t")
    finally:
        db.close()
    QSettings().setValue("clinician_id", person.id)
    return person.id


def _path(db_url: str) -> Path:
    return Path(db_url.removeprefix("sqlite:///"))


def _shell_window(qtbot, db_url: str) -> MainWindow:
    """The main window as the usual start shows it: the first page only, no database yet."""
    clinician_id = _fill(db_url)
    first = read_first_page(_path(db_url), clinician_id=clinician_id)
    assert first is not None
    window = MainWindow(None, None, first.clinician, first_page=first)
    qtbot.addWidget(window)
    return window


def _add_admin(db_url: str) -> None:
    from clinic_app.storage import accounts

    db = open_database(db_url, backup=False)
    try:
        accounts.create_first_admin(db, "dana", "correct horse 42", display_name="Dana Physio")
    finally:
        db.close()


def test_sign_in_shows_before_any_heavy_library_and_no_patient(db_url: str, tmp_path: Path) -> None:
    """In a fresh interpreter, the sign-in window needs none of SQLAlchemy, pydantic, PyYAML,
    Alembic or reportlab, and shows no patient (no main window exists before the sign-in);
    the loader opens the database behind it meanwhile."""
    _fill(db_url)
    _add_admin(db_url)
    script = textwrap.dedent(
        f"""
        import json, sys
        from PySide6.QtCore import QCoreApplication, QTimer
        from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QMainWindow
        app = QApplication([])
        QCoreApplication.setOrganizationName("clinic_app")
        QCoreApplication.setApplicationName("clinic_app")
        from clinic_app.ui import app as app_mod
        opening = app_mod.Opening(app, {db_url!r})
        out = {{}}

        def shown():
            out["heavy"] = sorted(m for m in {HEAVY!r} if m in sys.modules)

        opening.sign_in_shown.connect(shown)

        def poll():
            d = opening.dialog
            if "texts" not in out and d is not None and d.isVisible():
                texts = [w.text() for top in app.topLevelWidgets() if top.isVisible()
                         for w in top.findChildren(QLabel) + top.findChildren(QLineEdit)]
                out["texts"] = texts
                out["windows"] = [type(t).__name__ for t in app.topLevelWidgets()
                                  if isinstance(t, QMainWindow)]
            if "texts" in out and (opening.db is not None or opening.failure):
                out["opened"] = opening.db is not None
                d.reject()
                return
            QTimer.singleShot(5, poll)

        QTimer.singleShot(0, poll)
        out["code"] = opening.run()
        opening.close()
        print("RESULT " + json.dumps(out))
        """
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, proc.stdout + proc.stderr
    out = json.loads(lines[-1].removeprefix("RESULT "))
    assert out["heavy"] == []
    assert out["windows"] == []
    assert not any("Family" in t or "MRN" in t for t in out["texts"]), out["texts"]
    assert "Login name" in " ".join(out["texts"]) or out["texts"]
    assert out["opened"] is True
    assert out["code"] == 0  # closed without signing in


def test_search_and_selection_made_before_attach_are_kept(qtbot, db_url: str, mini_form) -> None:
    window = _shell_window(qtbot, db_url)
    window.show()
    panel = window.patients
    assert panel.model.rowCount() == 31
    assert panel.count.text() == "31 patients"
    assert not panel.new_button.isEnabled()
    assert not window.actions_["new_patient"].isEnabled()
    assert window.actions_["find_patient"].isEnabled()
    panel.view.selectRow(3)
    chosen = panel.current_patient()
    assert chosen is not None
    panel.search.setText("mül")  # typed while the database is still opening
    panel.debounce.timeout.emit()
    assert panel.model.rowCount() == 31  # waits for the database
    panel.search.setText("")
    panel.debounce.timeout.emit()

    db = open_database(db_url, backup=False)
    try:
        with qtbot.waitSignal(window.ready):
            window.attach(db, mini_form)
        assert window.is_ready
        assert panel.new_button.isEnabled()
        assert window.actions_["new_patient"].isEnabled()
        assert panel.current_patient() == chosen
        assert window.detail.patient == chosen  # the click made meanwhile now shows its details
        panel.search.setText("mül")
        panel.debounce.timeout.emit()
        assert [p.family_name for p in panel.model._rows] == ["Müller"]
        with qtbot.waitSignal(window.warmed, timeout=20000):
            pass  # the editor and the PDF libraries are prepared when idle
        assert window.page._spare is not None
        window.close()
    finally:
        db.close()


def test_search_typed_before_attach_runs_after_it(qtbot, db_url: str, mini_form) -> None:
    window = _shell_window(qtbot, db_url)
    window.patients.search.setText("muller")
    window.patients.debounce.timeout.emit()
    db = open_database(db_url, backup=False)
    try:
        window.attach(db, mini_form)
        assert window.patients.model.is_searching()
        assert window.patients.count.text() == "1 match"
        window.close()
    finally:
        db.close()


def test_damage_found_behind_the_first_page_is_refused_untouched(
    qtbot, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list reads fine but the integrity check finds damage: the app says so, quits with 1,
    and the file is byte-identical (nothing wrote to it before the check)."""
    clinician_id = _fill(db_url, n=400)
    path = _path(db_url)
    original = path.read_bytes()
    page = 4096
    for k in range(1, len(original) // page):  # a page the first page does not read
        data = bytearray(original)
        data[len(data) - k * page : len(data) - (k - 1) * page] = b"\x5a" * page
        path.write_bytes(bytes(data))
        try:
            files.check_file(path)
        except DatabaseFileError:
            if read_first_page(path, clinician_id=clinician_id) is not None:
                break
    else:
        pytest.fail("no damaged page that the first page does not read")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    seen: list[str] = []

    def close(box: object) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.accept()

    over: list[bool] = []

    def message_box(left: int = 3000) -> None:  # the sign-in window is modal too: skip it
        if seen or over:
            return
        w = QApplication.activeModalWidget()
        if isinstance(w, QMessageBox) and w.isVisible():
            close(w)
        elif left:
            QTimer.singleShot(10, lambda: message_box(left - 1))

    QTimer.singleShot(0, message_box)
    guard = QTimer()  # never hang the suite; stopped after, so no later test is closed by it
    guard.setSingleShot(True)
    guard.timeout.connect(QApplication.closeAllWindows)
    guard.start(30000)
    try:
        assert app_mod.run(db_url) == 1
    finally:
        guard.stop()
        over.append(True)  # stops the poll above, had it not found its message
    assert seen
    assert str(path) in seen[0]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    # state/ is the last committed state the writes of _fill recorded (storage.state), and
    # the installation key signed their audit events (migration 0011)
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "clinic.db",
        "signing-key.pem",
        "state",
    ]


def test_daily_backup_after_start_reports_a_failure_and_keeps_the_app(qtbot, db_url: str) -> None:
    """The daily backup runs after the window has its database; if it cannot be written, the
    loader says so (status bar) and the database stays open."""
    _fill(db_url)
    path = _path(db_url)
    (path.parent / "backups").write_text("a file where the backups folder should be")
    loader = app_mod.StartupLoader(db_url, path)
    opened: list[object] = []
    notices: list[str] = []
    loader.loaded.connect(lambda db, form: opened.append(db))
    loader.noticed.connect(notices.append)
    loader.start()
    qtbot.waitUntil(lambda: bool(notices), timeout=20000)
    db = loader.wait()
    assert db is not None
    try:
        assert opened == [db]
        assert "daily backup was not made" in notices[0]
        assert "backups" in notices[0]
        assert records.count_patients(db) == 31  # type: ignore[arg-type]
    finally:
        db.close()


def test_a_window_deleted_during_its_warm_up_is_no_error(qtbot, db, mini_form, clinician) -> None:
    """The PDF warm-up runs on the window's database worker and reports back to the window; if
    the window is gone by then (closed at once after start), the worker thread ends with it and
    nothing is delivered to the deleted window (an exception there fails this test)."""
    import shiboken6

    window = MainWindow(db, mini_form, clinician)
    window.warm_up()
    thread = window.context.runner._thread
    assert thread.isRunning()
    shiboken6.delete(window)
    qtbot.waitUntil(thread.isFinished, timeout=60_000)
    qtbot.wait(50)  # a queued result, had one been left, would be delivered (and fail) now


def test_the_bundled_fallback_font_draws_chinese_names(qapp) -> None:
    """With the app's style applied, a Chinese name is drawn with the bundled font's glyphs where
    the system font has none (as on CI), instead of boxes."""
    from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics
    from PySide6.QtWidgets import QLabel

    from clinic_app.ui.app import apply_style

    system = QFont(qapp.font().family())  # type: ignore[attr-defined]
    apply_style(qapp)  # type: ignore[arg-type]
    assert "Droid Sans Fallback" in QFontDatabase.families()
    assert qapp.font().families()[-1] == "Droid Sans Fallback"  # type: ignore[attr-defined]
    assert qapp.font().families()[0] == system.family()  # type: ignore[attr-defined]
    assert QFontMetrics(QFont("Droid Sans Fallback")).inFontUcs4(ord("王"))

    def drawn(font: QFont):
        label = QLabel("王芳")
        label.setFont(font)
        label.resize(120, 40)
        return label.grab().toImage()

    if not QFontMetrics(system).inFontUcs4(ord("王")):  # the system alone would draw boxes
        assert drawn(qapp.font()) != drawn(system)  # type: ignore[attr-defined]
