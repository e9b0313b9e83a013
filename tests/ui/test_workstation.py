"""Per-data-folder workstation settings: two data folders never share a remembered value."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from clinic_app.storage import records
from clinic_app.storage.database import open_database
from clinic_app.ui import workstation
from clinic_app.ui.main_window import MainWindow
from tests.ui.helpers import wait_idle


def test_two_data_folders_keep_separate_values(tmp_path: Path) -> None:
    clinic, demo = tmp_path / "clinic", tmp_path / "demo"
    workstation.settings(str(clinic)).setValue("last_login", "dana")
    workstation.settings(str(demo)).setValue("last_login", "demo")
    assert workstation.settings(str(clinic)).value("last_login") == "dana"
    assert workstation.settings(str(demo)).value("last_login") == "demo"
    # The same folder named another way is the same folder.
    assert workstation.settings(f"{tmp_path}/demo/../clinic/").value("last_login") == "dana"
    assert QSettings().value("last_login") is None  # nothing leaks to the shared level


def test_the_default_follows_the_data_folder_and_the_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLINIC_APP_DATABASE_URL", raising=False)
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(tmp_path / "a"))
    workstation.settings().setValue("x", 1)
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(tmp_path / "b"))
    assert workstation.settings().value("x") is None
    monkeypatch.setenv("CLINIC_APP_DATABASE_URL", f"sqlite:///{tmp_path / 'a' / 'clinic.db'}")
    assert int(workstation.settings().value("x")) == 1


def test_a_database_url_is_keyed_without_its_password(private_settings: Path) -> None:
    one = "postgresql+psycopg://clinic:s3cret@db.example:5432/clinic"
    same = "postgresql+psycopg://clinic:other@db.example:5432/clinic"
    workstation.settings(one).setValue("k", "v")
    assert workstation.settings(same).value("k") == "v"
    assert workstation.settings("postgresql+psycopg://clinic@db.example/other").value("k") is None
    QSettings().sync()
    written = "".join(p.read_text() for p in private_settings.rglob("*") if p.is_file())
    assert "s3cret" not in written
    assert "db.example" not in written  # the group is a digest, not the address


def _second_data_folder(tmp_path: Path, db_path: Path) -> str:
    other = tmp_path / "other_data"
    other.mkdir()
    shutil.copyfile(db_path, other / "clinic.db")
    return f"sqlite:///{other / 'clinic.db'}"


def test_the_evaluation_layout_is_remembered_per_data_folder(
    qtbot, db, mini_form, clinician, tmp_path: Path
) -> None:
    patient = records.create_patient(db, records.PatientFields("Al", "Bo", "M-1"), user="t")
    assert db.path is not None
    other_url = _second_data_folder(tmp_path, db.path)

    first = MainWindow(db, mini_form, clinician)
    qtbot.addWidget(first)
    first.show()
    first.patients.select_patient(patient.id)
    first.detail.new_eval_button.click()
    wait_idle(first)
    assert first.page.view is not None
    first.page.view.editor.set_current_section("flexibility")
    first.close()
    assert workstation.settings(db).value("evaluation/last_section") == "flexibility"
    assert QSettings().value("evaluation/last_section") is None

    other_db = open_database(other_url, backup=False)
    try:
        assert workstation.settings(other_db).value("evaluation/last_section") is None
        second = MainWindow(other_db, mini_form, clinician)
        qtbot.addWidget(second)
        second.show()
        assert second.page.last_section() is None
        second.close()
    finally:
        other_db.close()
