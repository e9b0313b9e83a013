"""The access log's admin screen with real widgets: the model, the filters, the CSV export."""

from __future__ import annotations

import csv
import os
from datetime import date, timedelta

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from clinic_app.storage import records
from clinic_app.ui.access_log import AccessLogDialog, AccessLogModel
from tests.ui.helpers import settle, when_modal


@pytest.fixture
def trail(db, clinician) -> dict[str, int]:
    eva = records.create_patient(db, records.PatientFields("Eva", "Berg", "M-1"), user="t")
    eve = records.create_patient(db, records.PatientFields("Eve", "Berg", "M-2"), user="t")
    wang = records.create_patient(db, records.PatientFields("芳", "王", "M-3"), user="t")
    records.log_access(db, actor="bob", action="view", entity="patient", entity_id=eva.id)
    records.log_access(db, actor="carol", action="view", entity="patient", entity_id=wang.id)
    records.log_access(db, actor="bob", action="view", entity="patient", entity_id=eve.id)
    return {"eva": eva.id, "eve": eve.id, "wang": wang.id}


def make_dialog(qtbot, window) -> AccessLogDialog:
    dialog = AccessLogDialog(window.context, window)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def shown(dialog: AccessLogDialog) -> list[tuple[str, str, str]]:
    m = dialog.model
    return [
        (m.index(row, 1).data(), m.index(row, 2).data(), m.index(row, 4).data())
        for row in range(m.rowCount())
    ]


def test_the_model_passes_the_model_tester(qtmodeltester, db, trail) -> None:
    model = AccessLogModel()
    qtmodeltester.check(model)
    model.set_entries(records.access_log(db))
    qtmodeltester.check(model)
    assert model.rowCount() == 8  # the clinic, a clinician and three patients made; 3 views
    assert model.index(0, 2).data() == "Viewed"
    assert model.index(0, 4).data() == f"Eve Berg ({trail['eve']})"
    assert model.headerData(0, Qt.Orientation.Horizontal) == "When"
    assert model.headerData(99, Qt.Orientation.Horizontal) is None


def test_lists_every_event_newest_first_then_filters(qtbot, window, trail) -> None:
    dialog = make_dialog(qtbot, window)
    assert len(shown(dialog)) == 8
    assert shown(dialog)[-1][2] == ""  # the clinic's details concern no patient
    assert shown(dialog)[0] == ("bob", "Viewed", f"Eve Berg ({trail['eve']})")
    assert "8 events, newest first" in dialog.status.text()

    dialog.action_box.setCurrentIndex(dialog.action_box.findData("access"))
    dialog.refresh()
    assert [a for _, a, _ in shown(dialog)] == ["Viewed"] * 3

    dialog.clinician_box.setEditText("CAROL")
    dialog.refresh()
    assert shown(dialog) == [("carol", "Viewed", f"芳 王 ({trail['wang']})")]

    dialog.clinician_box.setEditText("")
    dialog.patient_edit.setText(str(trail["eva"]))
    dialog.refresh()
    assert shown(dialog) == [("bob", "Viewed", f"Eva Berg ({trail['eva']})")]

    dialog.patient_edit.setText("王")  # one match: that patient
    dialog.refresh()
    assert [p for _, _, p in shown(dialog)] == [f"芳 王 ({trail['wang']})"]

    dialog.patient_edit.setText("nobody-like-this")
    dialog.refresh()
    assert "No patient matches" in dialog.status.text()
    assert len(shown(dialog)) == 1  # what was shown stays, the filter said why


def test_several_matching_patients_ask_which(qtbot, window, trail) -> None:
    dialog = make_dialog(qtbot, window)
    dialog.patient_edit.setText("Berg")

    offered: list[list[str]] = []

    def pick_eve(box) -> None:
        assert isinstance(box, QInputDialog)
        items = box.comboBoxItems()
        offered.append(items)
        box.setTextValue(next(item for item in items if item.startswith("Berg, Eve ")))
        box.accept()

    when_modal(pick_eve)
    dialog.refresh()
    assert len(offered[0]) == 2
    assert shown(dialog) == [("bob", "Viewed", f"Eve Berg ({trail['eve']})")] + [
        ("t", "Created", f"Eve Berg ({trail['eve']})")
    ]

    def cancel(box) -> None:
        box.reject()

    when_modal(cancel)
    dialog.patient_edit.setText("Berg")
    dialog.refresh()
    assert dialog.patient_id == trail["eve"]  # cancelled: the list shown stays as it was


def test_days(qtbot, window, trail) -> None:
    dialog = make_dialog(qtbot, window)
    today = date.today()
    dialog.until_check.setChecked(True)
    dialog.until_edit.setDate(QDate(today - timedelta(days=1)))
    dialog.refresh()
    assert shown(dialog) == []
    assert "0 events" in dialog.status.text()
    dialog.since_check.setChecked(True)
    dialog.since_edit.setDate(QDate(today))
    dialog.refresh()
    assert "before the From day" in dialog.status.text()
    dialog.until_edit.setDate(QDate(today))
    dialog.refresh()
    assert len(shown(dialog)) == 8


def test_export_csv_through_the_runner(qtbot, window, trail, tmp_path, monkeypatch) -> None:
    dialog = make_dialog(qtbot, window)
    dialog.action_box.setCurrentIndex(dialog.action_box.findData("view"))
    dialog.refresh()
    target = tmp_path / "trail.csv"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV (*.csv)")
    )
    dialog.export_button.click()
    settle(qtbot, window)
    assert dialog.status.text() == f"3 events written to {target}"
    assert dialog.export_button.isEnabled()
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["patient_name"] for row in rows] == ["Eve Berg", "芳 王", "Eva Berg"]
    assert os.stat(target).st_mode & 0o777 == 0o600


def test_export_into_a_folder_says_why_and_writes_nothing(
    qtbot, window, trail, tmp_path, monkeypatch
) -> None:
    dialog = make_dialog(qtbot, window)
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path), "CSV (*.csv)")
    )
    seen: list[str] = []

    def close(box) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.accept()

    when_modal(close)
    dialog.export_button.click()
    settle(qtbot, window)
    qtbot.waitUntil(lambda: bool(seen))
    assert "is not a regular file" in seen[0]
    assert "not exported" in dialog.status.text()
    assert dialog.export_button.isEnabled()


def test_a_cancelled_save_dialog_exports_nothing(qtbot, window, trail, monkeypatch) -> None:
    dialog = make_dialog(qtbot, window)
    before = dialog.status.text()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    dialog.export_button.click()
    assert window.context.runner.pending() == 0
    assert dialog.status.text() == before
