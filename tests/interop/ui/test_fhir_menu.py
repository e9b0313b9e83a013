"""File → Export FHIR…: the shown patient's record written through the operation runner (the
window never waits on the database), validated, 0600, in the access log under the signed-in
clinician's login; the action is off until a patient is shown."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from PySide6.QtWidgets import QFileDialog

from clinic_app.core.form import Form
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.ui import window_menus
from tests.ui.helpers import settle


# The offscreen platform cannot raise a window or grab the keyboard for the popped-up menu.
@pytest.mark.qt_log_ignore("This plugin does not support")
def test_export_fhir_from_the_file_menu(
    qtbot: Any,
    window: Any,
    db: Database,
    mini_form: Form,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    action = window.actions_["export_fhir"]
    assert not action.isEnabled()  # no patient shown yet
    patient = r.create_patient(db, r.PatientFields("Zoë", "Lambert", mrn="Z-1"), user="dana")
    r.start_evaluation(db, patient.id, mini_form, user="dana")
    window.on_patients_patient_selected(patient)
    settle(qtbot, window)
    window_menus.update_actions(window)
    assert action.isEnabled()
    target = tmp_path / "zoe.json"
    asked: list[str] = []

    def dialog(*args: Any, **_kw: Any) -> tuple[str, str]:
        asked.append(args[2])
        return str(target), "FHIR JSON (*.json)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    action.trigger()
    settle(qtbot, window, timeout=30000)
    assert asked == [str(Path.home() / f"patient-{patient.id}-fhir.json")]  # no name in it
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    bundle = json.loads(Bundle.model_validate_json(target.read_text("utf-8")).model_dump_json())
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Patient") == 1
    assert kinds.count("Encounter") == 1
    assert "FHIR resources" in window.statusBar().currentMessage()
    exports = r.access_log(db, actions=["export"])
    assert [(e.entity, e.entity_id, e.actor) for e in exports] == [("patient", patient.id, "dana")]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: ("", ""))
    action.trigger()  # cancelled: nothing written, nothing logged
    settle(qtbot, window)
    assert len(r.access_log(db, actions=["export"])) == 1
    menu = window.menuBar().actions()[0].menu()
    menu.popup(window.mapToGlobal(window.rect().topLeft()))
    qtbot.waitUntil(menu.isVisible)
    folder = Path("/tmp/fhir_helper")
    folder.mkdir(exist_ok=True)
    menu.grab().save(str(folder / "file_menu.png"))
    menu.close()
