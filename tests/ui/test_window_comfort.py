"""Window comfort: remembered layout (private QSettings), menus, report export, screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QSize
from PySide6.QtWidgets import QFileDialog

from clinic_app.cli import main as cli_main
from clinic_app.storage import records
from clinic_app.storage.database import open_database
from clinic_app.ui.main_window import MainWindow
from tests.ui.helpers import press, wait_idle, when_modal


def make_window(qtbot, db, form, clinician) -> MainWindow:
    w = MainWindow(db, form, clinician)
    qtbot.addWidget(w)
    w.show()
    return w


def test_settings_are_private_to_the_test(private_settings: Path) -> None:
    s = QSettings()
    assert s.format() == QSettings.Format.IniFormat
    assert Path(s.fileName()).is_relative_to(private_settings)


def test_window_remembers_geometry_splitters_and_last_section(
    qtbot, db, mini_form, clinician
) -> None:
    patient = records.create_patient(db, records.PatientFields("Al", "Bo", "M-1"), user="t")
    first = make_window(qtbot, db, mini_form, clinician)
    assert (first.width(), first.height()) == (1280, 800)  # a sensible first size
    # As wide as the test screen lets the next window be (its 800 px, widened to the window's
    # minimum): the splitters are then compared at the same width.
    first.resize(1100, 720)
    width = QSize(1100, 720).boundedTo(first.screen().availableGeometry().size())
    first.resize(width.expandedTo(first.minimumSize()))
    first.splitter.setSizes([380, 720])
    first.patients.select_patient(patient.id)
    first.detail.new_eval_button.click()
    wait_idle(first)
    assert first.page.view is not None
    first.page.view.editor.set_current_section("flexibility")
    qtbot.waitUntil(lambda: first.width() == first.minimumSize().expandedTo(width).width())
    qtbot.wait(50)  # laid out at that width
    default = first.page.view.splitter.sizes()
    first.page.view.splitter.setSizes([default[0] + 36, default[1] - 36])  # panel >= 240
    qtbot.wait(50)
    sizes = first.page.view.splitter.sizes()
    assert sizes != default
    first.close()

    second = make_window(qtbot, db, mini_form, clinician)
    # Restored, as far as the screen allows (the headless test screen is only 800 px wide).
    screen = second.screen().availableGeometry().size()
    expected = QSize(1100, 720).boundedTo(screen).expandedTo(second.minimumSize())
    assert second.size() == expected
    assert second.height() == 720
    assert second.splitter.sizes()[0] == 380  # not below the list's minimum (its three columns)
    second.patients.select_patient(patient.id)
    second.detail.open_button.click()
    assert second.page.view is not None
    assert second.page.view.editor.current_section() == "flexibility"
    qtbot.wait(50)  # laid out
    assert second.page.view.splitter.sizes() == sizes  # the panel's width, not the default


def test_usable_at_1024_by_700(qtbot, db, mini_form, clinician) -> None:
    w = make_window(qtbot, db, mini_form, clinician)
    w.resize(1024, 700)
    patient = records.create_patient(db, records.PatientFields("Al", "Bo", "M-1"), user="t")
    w.patients.model.reload()
    w.patients.select_patient(patient.id)
    w.detail.new_eval_button.click()
    wait_idle(w)
    view = w.page.view
    assert view is not None
    assert w.width() <= 1024
    assert view.panel.width() >= 200
    page = view.editor.pages.currentWidget()
    qtbot.waitUntil(lambda: page.width() >= page.minimumSizeHint().width())
    assert w.width() <= 1024
    assert view.panel.width() >= 200


def test_file_menu_has_the_actions(qtbot, db, mini_form, clinician) -> None:
    w = make_window(qtbot, db, mini_form, clinician)
    texts = [a.text().replace("&", "") for a in w.menuBar().actions()[0].menu().actions()]
    for wanted in (
        "New patient…",
        "New evaluation",
        "Export report…",
        "Export handout…",
        "Print handout…",
        "Preview report",
        "Backup…",
        "Quit",
    ):
        assert wanted in texts
    assert not w.actions_["export_report"].isEnabled()  # nothing open yet


def test_export_report_uses_the_default_file_name(
    qtbot, db, mini_form, clinician, tmp_path, monkeypatch
) -> None:
    patient = records.create_patient(db, records.PatientFields("Zoë", "Lambert", "M-9"), user="t")
    w = make_window(qtbot, db, mini_form, clinician)
    w.patients.model.reload()
    w.patients.select_patient(patient.id)
    w.detail.new_eval_button.click()
    wait_idle(w)
    asked: list[str] = []

    def fake_save_name(_parent, _title, proposed, _filter):
        asked.append(proposed)
        return str(tmp_path / Path(proposed).name), "PDF (*.pdf)"

    # The native file dialog is the one thing a headless test cannot click through.
    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_save_name)
    assert w.actions_["export_report"].isEnabled()
    w.actions_["export_report"].trigger()
    name = Path(asked[0]).name
    assert name.startswith("Lambert_Zoë_")
    assert name.endswith("_report.pdf")
    written = tmp_path / name
    assert written.read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_screenshots_command_renders_every_screen(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "shots"
    assert cli_main(["screenshots", str(out), "--size", "1024x700", "--size", "1100x720"]) == 0
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == [
        "ui_assessment_red_flag.png",
        "ui_assessment_red_flag_1100x720.png",
        "ui_editor_eccentric_strength.png",
        "ui_editor_eccentric_strength_1100x720.png",
        "ui_editor_flexibility.png",
        "ui_editor_flexibility_1100x720.png",
        "ui_editor_hips.png",
        "ui_editor_hips_1100x720.png",
        "ui_patient_dialog.png",
        "ui_patient_dialog_errors.png",
        "ui_patient_list.png",
        "ui_patient_list_1100x720.png",
    ]
    assert "12 screenshots" in capsys.readouterr().out


def test_screenshots_command_refuses_a_bad_size(tmp_path, capsys) -> None:
    assert cli_main(["screenshots", str(tmp_path), "--size", "big"]) == 2
    assert "expected WIDTHxHEIGHT" in capsys.readouterr().err


def test_print_handout_asks_for_the_printer_or_says_there_is_none(
    qtbot, db, mini_form, clinician
) -> None:
    from clinic_app.ui import printing

    patient = records.create_patient(db, records.PatientFields("Al", "Bo", "M-1"), user="t")
    w = make_window(qtbot, db, mini_form, clinician)
    w.patients.model.reload()
    w.patients.select_patient(patient.id)
    w.detail.new_eval_button.click()
    wait_idle(w)
    seen: list[str] = []
    has_printer = bool(printing.available_printers())

    def look_and_close(dialog) -> None:
        if has_printer:
            seen.append(dialog.windowTitle())
            press(dialog, "Cancel")
        else:
            seen.append(dialog.text())
            press(dialog, "OK")

    when_modal(look_and_close)
    w.actions_["print_handout"].trigger()
    assert seen
    if has_printer:  # the print dialog was offered; cancelling it prints nothing
        assert seen[0] == "Print handout"
        assert "Sent" not in w.statusBar().currentMessage()
    else:
        assert seen[0].startswith(printing.NO_PRINTER)


def test_backup_copies_the_database(qtbot, db, mini_form, clinician, tmp_path, monkeypatch) -> None:
    records.create_patient(db, records.PatientFields("Bo", "Backup", "B-1"), user="t")
    w = make_window(qtbot, db, mini_form, clinician)
    target = tmp_path / "copy.db"
    target.write_bytes(b"old")  # the save dialog asked; replacing is what the user chose
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *_a: (str(target), "SQLite database (*.db)")
    )
    w.actions_["backup"].trigger()
    wait_idle(w)
    copy = open_database(f"sqlite:///{target}", backup=False)
    try:
        assert records.get_patient_by_mrn(copy, "B-1") is not None
    finally:
        copy.close()
    assert "Backed up" in w.statusBar().currentMessage()
