"""Issue 13: exports and previews are private, exports never follow a symlink, previews go."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from clinic_app.storage import records
from clinic_app.ui import documents
from clinic_app.ui.main_window import MainWindow
from tests.ui.helpers import press, settle, when_modal


def _open_draft(qtbot, window: MainWindow, mrn: str) -> None:
    patient = records.create_patient(window.db, records.PatientFields("Pia", "Vate", mrn), user="t")
    window.patients.model.reload()
    window.patients.select_patient(patient.id)
    window.detail.new_eval_button.click()
    settle(qtbot, window)
    assert window.page.evaluation is not None


@pytest.fixture
def umask_000():
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_export_is_private_and_never_follows_a_symlink(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_000: None
) -> None:
    _open_draft(qtbot, window, "P-1")
    out = tmp_path / "report.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (str(out), "PDF (*.pdf)"))
    window.actions_["export_report"].trigger()
    assert out.read_bytes().startswith(b"%PDF")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    victim = tmp_path / "victim.txt"
    victim.write_text("not a report")
    out.unlink()
    out.symlink_to(victim)
    seen: list[str] = []

    def read_and_close(box: QMessageBox) -> None:
        seen.append(box.text())
        press(box, "OK")

    when_modal(read_and_close)
    window.actions_["export_report"].trigger()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert victim.read_text() == "not a report"
    assert out.is_symlink()


def test_previews_are_removed_at_quit_and_at_next_start(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda _url: True)
    _open_draft(qtbot, window, "P-2")
    shown = window.documents.preview()
    assert shown is not None
    assert shown.exists()
    if os.name != "nt":
        assert stat.S_IMODE(shown.stat().st_mode) == 0o600
        assert stat.S_IMODE(shown.parent.stat().st_mode) == 0o700
    window.documents.remove_previews()  # what quitting does (QCoreApplication.aboutToQuit)
    assert not shown.parent.exists()
    left = Path(tempfile.mkdtemp(prefix=documents.PREVIEW_PREFIX))  # a run killed earlier
    (left / "Vate_Pia_report.pdf").write_bytes(b"%PDF")
    assert documents.remove_previews() >= 1  # what every start does
    assert not left.exists()


def test_gui_backup_of_a_changed_record_says_so(
    qtbot, window: MainWindow, mini_form, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    db = window.db
    patient = records.create_patient(db, records.PatientFields("Bea", "Kup", "P-3"), user="t")
    ev = records.start_evaluation(db, patient.id, mini_form, user="t")
    records.sign_evaluation(db, ev.id, ev.version, user="t")
    assert db.path is not None
    conn = sqlite3.connect(db.path, isolation_level=None)
    conn.execute("DROP TRIGGER evaluation_signed_no_update")
    conn.execute("UPDATE evaluation SET kind = 'discharge' WHERE id = ?", (ev.id,))
    conn.close()
    target = tmp_path / "copy.db"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (str(target), "(*.db)"))
    seen: list[str] = []

    def read_and_close(box: QMessageBox) -> None:
        seen.append(box.text())
        press(box, "OK")

    when_modal(read_and_close)
    window.actions_["backup"].trigger()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert target.exists()
    assert f"evaluation {ev.id}: changed after signing: kind" in seen[0]
    assert "fail their seal check" in window.statusBar().currentMessage()
