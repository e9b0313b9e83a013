"""The window at 1024x700 and at 200 %: nothing clipped, nothing collapsed (issue 18).

``screenshots.layout_problems`` walks every visible widget: a child reaching outside its parent's
visible area, or a label whose text does not fit without a tooltip, is a problem. The patient
list's Name column and count keep their room however far the splitter is dragged; a long data
folder is elided in the middle with the whole path in its tooltip; the red-flag banner appearing
does not move the form under the pointer. The 200 % run is a child process with
``QT_SCALE_FACTOR=2`` (a scale factor is fixed when Qt starts).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records
from clinic_app.ui.patient_list import NAME_SAMPLE
from clinic_app.ui.screenshots import layout_problems
from tests.ui.scaled import run_scaled

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = (
    ("Łukasz", "Nowak", "P-0001", "1991-04-12"),
    ("芳", "王", "P-0002", "1991-04-30"),
    ("María José", "Núñez-Castellanos", "P-0003", "1971-07-22"),
)


@functools.cache
def shipped_form() -> Form:
    return load_form(default_form_path())


def add_people(db) -> None:
    from datetime import date

    for given, family, mrn, born in PEOPLE:
        records.create_patient(
            db,
            records.PatientFields(given, family, mrn, date_of_birth=date.fromisoformat(born)),
            user="t",
        )


def test_the_checker_finds_a_clipped_label_and_a_child_outside(qtbot) -> None:
    box = QWidget()
    qtbot.addWidget(box)
    box.resize(120, 60)
    label = QLabel("A label far too long for its little box", box)
    label.setGeometry(0, 0, 100, 20)
    QVBoxLayout()  # (no layout: the geometry stays as set)
    outside = QWidget(box)
    outside.setGeometry(100, 40, 50, 30)
    box.show()
    problems = layout_problems(box)
    assert any("text needs" in p for p in problems), problems
    assert any("outside" in p for p in problems), problems
    label.setToolTip(label.text())  # elided on purpose, shown whole on hover: allowed
    outside.hide()
    assert layout_problems(box) == []


def test_the_checker_finds_a_cut_choice_and_a_cut_section_name(qtbot) -> None:
    from PySide6.QtWidgets import QComboBox

    from clinic_app.ui.editor import EvaluationEditor

    box = QWidget()
    qtbot.addWidget(box)
    combo = QComboBox(box)
    combo.addItems(["–", "Hamstring stretch felt behind the thigh"])
    combo.setCurrentIndex(1)
    combo.setGeometry(0, 0, 90, 26)
    box.resize(200, 40)
    box.show()
    assert any("choice 'Hamstring stretch" in p for p in layout_problems(box))
    combo.setCurrentIndex(0)
    assert layout_problems(box) == []

    editor = EvaluationEditor(shipped_form())
    qtbot.addWidget(editor)
    editor.resize(700, 600)
    editor.show()
    qtbot.waitExposed(editor)
    assert layout_problems(editor) == []
    first = editor.nav.topLevelItem(0)
    first.setData(0, Qt.ItemDataRole.UserRole + 1, "A short title far too long to fit")
    assert any("section 'A short title" in p for p in layout_problems(editor))


def test_the_checker_finds_a_wrapped_row_too_low_for_its_bold_text(qtbot) -> None:
    """The assessment tree's group rows are bold: measured in the tree's regular font, the
    second line of "What the pain may be (patterns)" was cut to "…" at 1024 px."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

    from clinic_app.ui.assessment import WrappingDelegate

    box = QWidget()
    qtbot.addWidget(box)
    tree = QTreeWidget(box)
    QVBoxLayout(box).addWidget(tree)
    tree.setObjectName("factorTree")
    tree.setHeaderHidden(True)
    tree.setWordWrap(True)
    tree.setUniformRowHeights(False)
    tree.setItemDelegate(WrappingDelegate(tree))
    title = "What the pain may be (patterns)"
    row = QTreeWidgetItem([title])
    bold = QFont(tree.font())
    bold.setBold(True)
    bold.setPointSizeF(bold.pointSizeF() * 1.6)  # much wider than the tree's own font
    tree.addTopLevelItem(row)
    row.setFirstColumnSpanned(True)
    plain = tree.fontMetrics().horizontalAdvance(title)
    box.resize(plain + tree.indentation() + 40, 200)  # one line in the plain font, not in bold
    box.show()
    qtbot.waitExposed(box)
    row.setFont(0, bold)
    qtbot.wait(20)
    assert tree.visualItemRect(row).height() > 2 * tree.fontMetrics().height()  # two lines
    assert layout_problems(box) == []  # the delegate measures the row in its own font

    class PlainDelegate(WrappingDelegate):  # what it did before: the tree's font for every row
        def sizeHint(self, option, index):  # noqa: N802 (Qt's name)
            from PySide6.QtCore import QSize

            return QSize(10, tree.fontMetrics().height() + 4)

    tree.setItemDelegate(PlainDelegate(tree))
    tree.doItemsLayout()
    qtbot.wait(20)
    assert any("row 'What the pain may be" in p for p in layout_problems(box))


def test_list_keeps_its_name_column_and_count_at_1024(qtbot, window) -> None:
    add_people(window.db)
    window.patients.model.reload()
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024)
    assert window.patients.select_patient(records.get_patient_by_mrn(window.db, "P-0001").id)
    view = window.patients.view
    name_room = view.fontMetrics().horizontalAdvance(NAME_SAMPLE)
    for sizes in ([0, 5000], [5000, 0], [360, 660]):
        window.splitter.setSizes(sizes)
        qtbot.wait(20)
        assert view.columnWidth(0) >= name_room, (sizes, window.splitter.sizes())
        count = window.patients.count
        assert count.fontMetrics().horizontalAdvance(count.text()) <= count.contentsRect().width()
        # The three columns fit the view: no column pushed out of sight.
        header = view.horizontalHeader()
        assert header.length() <= view.viewport().width() + 1, sizes
        assert layout_problems(window) == [], sizes


def test_a_long_data_folder_is_elided_in_the_middle_not_cut(
    qtbot, runner, clinician, tmp_path, monkeypatch
) -> None:
    from clinic_app.ui.dialogs import ClinicDialog

    long = tmp_path / ("a-very-long-folder-name-for-the-clinic-data-" * 4) / "data"
    long.mkdir(parents=True)
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(long))
    dialog = ClinicDialog(runner, clinician.id, admin=True)
    qtbot.addWidget(dialog)
    dialog.resize(520, 600)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(20)  # laid out again with the scroll bar
    label = dialog.storage_labels["data_dir"]
    assert label.full_path == str(long)
    assert label.toolTip() == str(long)
    assert "…" in label.text()
    assert label.text().endswith("data")  # the end of the path stays readable
    assert label.geometry().right() <= label.parentWidget().rect().right()
    assert layout_problems(dialog) == []
    label.actions()[0].trigger()
    from PySide6.QtWidgets import QApplication

    assert QApplication.clipboard().text() == str(long)


def test_the_first_start_shows_its_data_folder_whole_or_elided(qtbot, tmp_path) -> None:
    from clinic_app.ui.first_start import FirstStartDialog

    folder = tmp_path / ("clinic-data-folder-with-a-long-name-" * 5)
    wizard = FirstStartDialog(f"sqlite:///{folder / 'clinic.db'}")
    qtbot.addWidget(wizard)
    wizard.resize(560, 520)
    wizard.show()
    qtbot.waitExposed(wizard)
    assert wizard.folder_label.toolTip() == str(folder)
    assert layout_problems(wizard) == []


def test_the_red_flag_banner_does_not_move_the_form_under_the_pointer(qtbot) -> None:
    from clinic_app.ui.assessment import EvaluationView

    view = EvaluationView(shipped_form())
    qtbot.addWidget(view)
    view.resize(1024, 700)
    view.show()
    qtbot.waitExposed(view)
    view.editor.set_current_section("red_flags")
    qtbot.wait(50)
    toggle = view.editor.editor("rf_cannot_bear_weight")
    below = view.editor.editor("rf_fever")  # further down: the one the pointer goes to next
    before = below.mapTo(view, QPoint(0, 0)).y()
    button = toggle.buttons["yes"]  # type: ignore[attr-defined]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(view.banner.isVisible)
    qtbot.wait(50)
    assert view.banner.height() > 20
    assert abs(below.mapTo(view, QPoint(0, 0)).y() - before) <= 1
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # cleared: the banner goes
    qtbot.waitUntil(lambda: not view.banner.isVisible())
    qtbot.wait(50)
    assert abs(below.mapTo(view, QPoint(0, 0)).y() - before) <= 1


CHILD = r"""
import json, os, sys
from datetime import date
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
QSettings.setDefaultFormat(QSettings.Format.IniFormat)
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[2])
from clinic_app.storage import records
from clinic_app.storage.database import open_database
from clinic_app.ui.app import apply_style
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.screenshots import layout_problems
from tests.ui.conftest import DATA
from clinic_app.core.form import load_form
apply_style(app)
db = open_database(f"sqlite:///{sys.argv[1]}", backup=False, new_encrypted=False)
who = records.save_clinician(db, records.ClinicianInfo(name="Dana"), user="t")
for given, family, mrn, born in json.loads(sys.argv[3]):
    records.create_patient(db, records.PatientFields(given, family, mrn,
        date_of_birth=date.fromisoformat(born)), user="t")
w = MainWindow(db, load_form(DATA / "mini_form.yaml"), who)
w.resize(1024, 700)
w.show()
for _ in range(20):
    app.processEvents()
out = {"ratio": w.devicePixelRatio(), "size": [w.width(), w.height()], "problems": []}
for sizes in ([0, 5000], [5000, 0]):
    w.splitter.setSizes(sizes)
    for _ in range(10):
        app.processEvents()
    out["problems"] += layout_problems(w)
    out["name_column"] = w.patients.view.columnWidth(0)
print(json.dumps(out))
w.context.stop()
db.close()
"""


@pytest.mark.parametrize("scale", ["1", "2"])
def test_nothing_clipped_at_1024x700_at_100_and_200_percent(tmp_path, scale) -> None:
    (tmp_path / "data").mkdir()
    out = run_scaled(
        CHILD,
        [tmp_path / "data" / "clinic.db", tmp_path, json.dumps(PEOPLE)],
        scale=scale,
        folder=tmp_path,
        env={"CLINIC_APP_DATA_DIR": str(tmp_path / "data")},
        timeout=120,
    )
    assert out["ratio"] == float(scale)
    assert out["size"] == [1024, 700]
    assert out["problems"] == []
    assert out["name_column"] >= 90


@pytest.mark.parametrize(
    ("scale", "name", "pixels"),
    [
        ("1", "window_1024x700", (1024, 700)),
        ("1.25", "window_125pct", (1280, 875)),
        ("1.5", "window_150pct", (1536, 1050)),
        ("2", "window_200pct", (2048, 1400)),
    ],
)
def test_the_screenshot_script_makes_the_pictures(tmp_path, scale, name, pixels) -> None:
    from PySide6.QtGui import QImage

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": scale}
    env.pop("CLINIC_APP_DATA_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "clinic_app.ui.screenshots", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    suffixes = ["", "_red_flags", "_subjective", "_shoulder_girdle", "_home_program"]
    suffixes += ["_visit_visit_subjective", "_visit_home_program"]
    for suffix in suffixes:
        picture = tmp_path / f"{name}{suffix}.png"
        image = QImage(str(picture))
        assert (image.width(), image.height()) == pixels
        assert f"{picture}: 0 layout problems" in done.stdout
    # Every page of an evaluation and of a visit note was laid out and checked, not only the
    # ones saved: choices wrap, section names fit the list, no page scrolls sideways.
    lines = done.stdout.strip().splitlines()
    assert lines
    assert all(line.endswith(": 0 layout problems") for line in lines), done.stdout
    form = shipped_form()
    from clinic_app.core.visit import evaluation_sections, visit_sections

    for section in evaluation_sections(form):
        assert any(section.id in line for line in lines), section.id
    for section in visit_sections(form):
        assert any(
            f"visit_{section.id}" in line or f"visit page {section.id}" in line for line in lines
        ), section.id


def test_an_admins_settings_fit_a_700_pixel_screen(qtbot, runner, clinician, monkeypatch) -> None:
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QScreen
    from PySide6.QtWidgets import QDialogButtonBox, QScrollArea

    from clinic_app.ui.dialogs import ClinicDialog

    monkeypatch.setattr(QScreen, "availableGeometry", lambda _s: QRect(0, 0, 1024, 668))
    dialog = ClinicDialog(runner, clinician.id, admin=True)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.height() <= 668 - 30  # with its title bar, on the screen
    area = dialog.findChild(QScrollArea, "settingsScroll")
    assert area is not None
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert save.isVisible()
    assert dialog.rect().contains(save.geometry().translated(dialog.buttons.pos()))
    area.ensureWidgetVisible(dialog.storage_labels["data_dir"])  # the last rows: scrolled to
    qtbot.wait(20)  # laid out again with the scroll bar
    assert layout_problems(dialog) == []
