"""The real entry point: ``clinic-app`` opens the window on a database and saves on the way out."""

from __future__ import annotations

import os
import subprocess
import sys

from clinic_app.core.form import load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records
from clinic_app.ui.editor import EvaluationEditor
from tests.ui.conftest import PASSWORD

DRIVER = """
import sys
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from clinic_app.cli import main

settings_dir, url, patient_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
QSettings.setDefaultFormat(QSettings.Format.IniFormat)
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
app = QApplication(["clinic-app"])

def drive():
    from clinic_app.ui.main_window import MainWindow
    from clinic_app.ui.sign_in import SignInDialog

    dialog = QApplication.activeModalWidget()
    if isinstance(dialog, SignInDialog) and not dialog.panel.busy:  # every start signs in first
        dialog.panel.login.setText("dana")
        dialog.panel.password.setText(sys.argv[4])
        QTimer.singleShot(0, dialog.panel.submit)
        QTimer.singleShot(20, drive)
        return
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    if not windows or not windows[0].isVisible():
        QTimer.singleShot(20, drive)
        return
    window = windows[0]
    window.patients.select_patient(patient_id)
    window.detail.new_eval_button.click()  # starts the evaluation on the database worker
    QTimer.singleShot(20, lambda: edit(window))

def edit(window):
    if window.page.view is None:
        QTimer.singleShot(20, lambda: edit(window))
        return
    combo = window.page.view.editor.editor("involved_side").focus_widgets()[0]
    combo.setCurrentIndex(2)
    print("edited", window.db.display_url, flush=True)
    QApplication.quit()  # quitting, not closing: the pending change must still be saved

QTimer.singleShot(0, drive)
sys.exit(main(["--database", url]))
"""


def test_gui_entry_point_opens_edits_and_saves_on_quit(db, account, db_url, tmp_path) -> None:
    """``clinic-app --database URL`` in its own process (quitting ends a QApplication for good):
    sign in, open a patient, edit, quit."""
    patient = records.create_patient(db, records.PatientFields("Ivo", "Quit", "Q-1"), user="t")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            DRIVER,
            str(tmp_path / "gui-settings"),
            db_url,
            str(patient.id),
            PASSWORD,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"edited {db_url}"
    [summary] = records.list_evaluations(db, patient.id)
    assert records.get_evaluation(db, summary.id).values == {"involved_side": "right"}


def test_the_shipped_form_renders_every_item(qtbot) -> None:
    form = load_form(default_form_path())
    editor = EvaluationEditor(form)
    qtbot.addWidget(editor)
    editor.resize(1000, 700)
    editor.show()
    for n, section in enumerate(editor.sections):  # an evaluation's pages
        editor.step_section(1) if n else editor.set_current_section(section.id)
        assert editor.current_section() == section.id
        assert editor.nav.topLevelItem(n).text(1) == f"0/{len(section.items)}"  # type: ignore[union-attr]
        for item in section.items:
            row = editor.row(item.id)
            assert row.focus_widgets(), item.id
            assert all(w.isVisible() for w in row.focus_widgets()), item.id
