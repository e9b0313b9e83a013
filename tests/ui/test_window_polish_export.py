"""The export dialog opens in the folder last used for this clinic, not the home folder; another
data folder keeps its own (issue 18; QSettings without a group would be shared by all)."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from clinic_app.storage import records
from clinic_app.storage.database import open_database
from clinic_app.ui.export_folder import export_folder, remember_export_folder
from clinic_app.ui.main_window import MainWindow
from tests.ui.helpers import wait_idle


def test_the_report_export_remembers_the_folder(
    qtbot, db, mini_form, clinician, tmp_path, monkeypatch
) -> None:
    patient = records.create_patient(db, records.PatientFields("Zoë", "Lambert", "M-9"), user="t")
    w = MainWindow(db, mini_form, clinician)
    qtbot.addWidget(w)
    w.show()
    w.patients.model.reload()
    w.patients.select_patient(patient.id)
    w.detail.new_eval_button.click()
    wait_idle(w)
    chosen = tmp_path / "exports" / "for the GP"
    chosen.mkdir(parents=True)
    asked: list[str] = []

    def fake_save_name(_parent, _title, proposed, _filter):
        asked.append(proposed)
        return str(chosen / Path(proposed).name), "PDF (*.pdf)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_save_name)
    w.actions_["export_report"].trigger()
    assert Path(asked[0]).parent == Path.home()  # the first time
    w.actions_["export_handout"].trigger()
    assert Path(asked[1]).parent == chosen  # then where the last one went
    assert (chosen / Path(asked[1]).name).read_bytes().startswith(b"%PDF")


def test_each_data_folder_keeps_its_own_folder(db, tmp_path) -> None:
    other_folder = tmp_path / "demo"
    other_folder.mkdir()
    shutil.copyfile(db.path, other_folder / "clinic.db")
    other = open_database(f"sqlite:///{other_folder / 'clinic.db'}", backup=False)
    try:
        place = tmp_path / "place"
        place.mkdir()
        remember_export_folder(db, place / "report.pdf")
        assert export_folder(db) == place.resolve()
        assert export_folder(other) == Path.home()  # the demo folder's is not the clinic's
        place.rmdir()  # an unplugged disk: back to the home folder
        assert export_folder(db) == Path.home()
        assert export_folder(None) == Path.home()
    finally:
        other.close()
