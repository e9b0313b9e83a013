"""The home program fits the window at 1024x700, at 100 % and 200 % (issue 18).

The exercise list and its dose form sat side by side and the *Find exercise* row held the search
line and three filters, so at a 1024 px window the section was 258 px wider than its view and
scrolled sideways. Now the dose form goes below the list when the page is narrow, the list's
entries wrap (and the list is as tall as they are), and the filters wrap below the search line.
Checked on the demo database in the real main window with ``screenshots.layout_problems``
(a child outside its parent, a label cut, a form wider than its scroll area); the 200 % run is
a child process with ``QT_SCALE_FACTOR=2`` (a scale factor is fixed when Qt starts).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QScrollArea, QSplitter

from clinic_app.core.form import Form, load_form
from clinic_app.core.library import shipped_library
from clinic_app.paths import default_form_path
from clinic_app.storage import records
from clinic_app.storage.database import Database, open_database
from clinic_app.ui.program_editor import ProgramEditor
from clinic_app.ui.screenshots import layout_problems
from tests.ui.scaled import run_scaled

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("CLINIC_APP_TEST_SHOTS", "/tmp/program_layout"))


@pytest.fixture(scope="module")
def shipped_form() -> Form:
    return load_form(default_form_path())


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory, shipped_form: Form) -> Path:
    """The demo database, filled once for the module (each test works on a copy)."""
    from clinic_app.storage.demo import fill_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    db = open_database(f"sqlite:///{path}", backup=False, new_encrypted=False)
    try:
        fill_demo(db, shipped_form)
    finally:
        db.close()
    return path


@pytest.fixture
def demo(tmp_path: Path, demo_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(data))
    shutil.copyfile(demo_file, data / "demo.db")
    db = open_database(f"sqlite:///{data / 'demo.db'}", backup=False, new_encrypted=False)
    yield db
    db.close()


def anna(db: Database, mrn: str = "DEMO-0001") -> tuple[Any, Any]:
    """Anna Müller (or another demo patient) and her latest evaluation (its program is the
    factors' suggestion)."""
    patient = records.get_patient_by_mrn(db, mrn)
    assert patient is not None
    newest = max(records.list_evaluations(db, patient.id), key=lambda s: (s.eval_date, s.id))
    return patient, records.get_evaluation(db, newest.id)


@pytest.fixture
def window(qtbot: Any, demo: Database, shipped_form: Form) -> Iterator[Any]:
    from clinic_app.ui.main_window import MainWindow

    w = MainWindow(demo, shipped_form, records.list_clinicians(demo)[0])
    qtbot.addWidget(w)
    w.resize(1024, 700)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.context.stop()


def open_program(qtbot: Any, window: Any) -> ProgramEditor:
    patient, evaluation = anna(window.db)
    window.patients.select_patient(patient.id)
    window.open_evaluation(evaluation, patient)
    qtbot.waitUntil(lambda: window.page.view is not None and window.page.view.isVisible())
    window.page.view.editor.set_current_section("home_program")
    ed = window.page.view.editor.editor("home_program")
    assert isinstance(ed, ProgramEditor)
    qtbot.waitUntil(lambda: ed.isVisible() and ed.list.count() >= 3)
    qtbot.wait(50)  # laid out at the page's width
    return ed


def page_of(ed: ProgramEditor) -> QScrollArea:
    w = ed.parentWidget()
    while w is not None and not isinstance(w, QScrollArea):
        w = w.parentWidget()
    assert w is not None
    return w


def save(widget: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))


def entries_fit(qtbot: Any, ed: ProgramEditor) -> None:
    """Every exercise of the list is seen whole: wrapped at the list's width, none hidden below
    a scroll bar inside the scrolling page (a list wraps again 100 ms after a resize)."""
    view = ed.list

    def whole() -> bool:
        room = view.viewport().rect()
        boxes = [view.visualRect(view.model().index(n, 0)) for n in range(view.count())]
        return all(room.contains(b) for b in boxes) and not view.verticalScrollBar().isVisible()

    with contextlib.suppress(qtbot.TimeoutError):  # the assertions below say what is cut
        qtbot.waitUntil(whole, timeout=2000)
    room = view.viewport().rect()
    for n in range(view.count()):
        box = view.visualRect(view.model().index(n, 0))
        assert box.width() <= room.width(), (n, box, room)
        assert room.contains(box), (n, view.item(n).text(), box, room)
    assert not view.verticalScrollBar().isVisible()


def test_the_home_program_fits_a_1024_window(qtbot: Any, window: Any) -> None:
    ed = open_program(qtbot, window)
    save(window, "program_1024x700")
    assert ed.pending  # the suggestion: six exercises, each with its reason on a second line
    assert layout_problems(window) == []
    page = page_of(ed)
    assert page.widget().width() <= page.viewport().width()
    assert not page.horizontalScrollBar().isVisible()
    # Narrow: the dose form is below the list, not beside it.
    assert not ed.body.is_side_by_side()
    dose = ed.fields["sets"].parentWidget()
    assert dose.mapTo(ed, QPoint(0, 0)).y() >= ed.list.mapTo(ed, QPoint(0, ed.list.height())).y()
    entries_fit(qtbot, ed)
    # The filters wrap below the search line, inside the editor.
    for combo in (ed.finder.region, ed.finder.purpose, ed.finder.factor):
        right = combo.mapTo(ed, QPoint(combo.width(), 0)).x()
        assert right <= ed.width(), combo.accessibleName()


def test_a_refused_dose_fits_below_the_form(qtbot: Any, window: Any) -> None:
    """The error under the dose form wraps in the narrow page; it does not push it wider."""
    ed = open_program(qtbot, window)
    ed.list.setCurrentRow(0)
    sets = ed.fields["sets"]
    sets.setFocus()
    sets.selectAll()
    qtbot.keyClicks(sets, "0")
    qtbot.waitUntil(ed.dose_error.isVisible)
    qtbot.wait(50)
    save(window, "program_refused")
    assert layout_problems(window) == []
    assert "not stored until mended" in ed.dose_error.text()


@pytest.mark.parametrize(
    ("width", "sizes", "side_by_side"),
    [(1024, [300, 720], False), (1024, [5000, 0], False), (1400, [5000, 0], True)],
)
def test_the_page_squeezed_or_widened_still_fits(
    qtbot: Any, window: Any, width: int, sizes: list[int], side_by_side: bool
) -> None:
    window.resize(width, 700)
    ed = open_program(qtbot, window)
    splitter = window.page.view.findChild(QSplitter, "evaluationSplitter")
    assert splitter is not None
    splitter.setSizes(sizes)
    qtbot.wait(50)
    save(window, f"program_{width}_{sizes[0]}")
    assert layout_problems(window) == [], (sizes, ed.width())
    assert ed.body.is_side_by_side() is side_by_side, ed.width()
    entries_fit(qtbot, ed)


@pytest.mark.parametrize("width", [480, 560, 640, 800, 1100])
def test_the_editor_fits_any_width_from_480(qtbot: Any, shipped_form: Form, width: int) -> None:
    item = next(i for s in shipped_form.sections for i in s.items if i.id == "home_program")
    area = QScrollArea()
    qtbot.addWidget(area)
    area.setWidgetResizable(True)
    ed = ProgramEditor(item)
    area.setWidget(ed)
    library = shipped_library(shipped_form)
    ed.set_environment(library=library, form=shipped_form)
    ed.set_value(
        {
            "exercises": [
                {"exercise": e.id, "reason": f"for: {e.purpose}"}
                for e in list(library.values())[:5]
            ]
        }
    )
    area.resize(width, 900)
    area.show()
    qtbot.waitExposed(area)
    ed.finder.search.setFocus()  # fills the results
    qtbot.wait(50)
    assert ed.minimumSizeHint().width() <= 480 - 40
    # The factor filter lists each factor's whole name (elided when closed, whole on hover).
    factor = ed.finder.factor
    names = [factor.itemText(n) for n in range(factor.count())]
    assert "F1 Weak hip flexors on the side opposite the pain" in names
    factor.setCurrentIndex(names.index("F1 Weak hip flexors on the side opposite the pain"))
    assert factor.toolTip() == "F1 Weak hip flexors on the side opposite the pain"
    assert layout_problems(area) == [], width
    assert ed.width() <= area.viewport().width()
    entries_fit(qtbot, ed)


def test_the_library_dialog_fits_a_1024x700_screen(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinic_app.ui.library_dialog import LibraryDialog

    db = window.db
    records.add_exercise(
        db,
        {
            "id": "long_one",
            "title": "Standing hip hinge with a dowel along the back, slow on the way down",
            "purpose": "hinging at the hip without rounding the back, before loading it",
            "steps": ["Stand tall", "Hinge"],
            "region": "hip and posterior chain",
            "kind": "strength",
        },
        user="Dana",
    )
    program = {"exercises": [{"exercise": "glute_bridge", "sets": 3, "reps": 10}] * 1}
    records.save_template(
        db,
        "proximal hamstring tendinopathy, stage 1, runners back to easy running",
        program,
        user="Dana",
    )
    monkeypatch.setattr(QScreen, "availableGeometry", lambda _s: QRect(0, 0, 1024, 668))
    dialog = LibraryDialog(window.context, window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(50)
    assert dialog.width() <= 1024
    assert dialog.height() <= 668 - 30  # with its title bar, on the screen
    save(dialog, "library_dialog")
    assert layout_problems(dialog) == []
    assert not dialog.list.horizontalScrollBar().isVisible()  # the long title wraps
    assert dialog.save_button.isVisible()
    assert dialog.rect().contains(dialog.save_button.mapTo(dialog, QPoint(0, 0)))
    dialog.tabs.setCurrentIndex(1)
    qtbot.wait(50)
    save(dialog, "library_dialog_templates")
    assert layout_problems(dialog) == []


@pytest.mark.parametrize("width", [220, 420])
def test_the_program_history_wraps_in_a_narrow_episode_panel(qtbot: Any, width: int) -> None:
    from datetime import date

    from clinic_app.ui.program_history import ProgramHistory, ProgramVersion

    history = ProgramHistory()
    qtbot.addWidget(history)
    history.resize(width, 200)
    history.show()
    qtbot.waitExposed(history)
    # "No home program recorded in this episode yet." wraps: it does not set the panel's width.
    assert history.minimumSizeHint().width() <= 220
    assert history.width() == width
    assert layout_problems(history) == []
    history.show_versions(
        [
            ProgramVersion(date(2026, 9, 10), 1, "Initial evaluation", "started", 3),
            ProgramVersion(
                date(2026, 9, 24),
                2,
                "Visit note 2",
                "added Standing knee lift (hip flexor march); Bridge 3 × 10 → 4 × 12",
                4,
                (("Visit note 2", 5),),
            ),
        ]
    )
    qtbot.wait(20)
    assert layout_problems(history) == []
    view = history.list
    for n in range(view.count()):
        box = view.visualRect(view.model().index(n, 0))
        assert box.width() <= view.viewport().width(), (n, box)
    assert not view.horizontalScrollBar().isVisible()


CHILD = r"""
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication, QSplitter
app = QApplication([])
QSettings.setDefaultFormat(QSettings.Format.IniFormat)
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[2])
from clinic_app.core.form import load_form
from clinic_app.paths import default_form_path
from clinic_app.storage.database import open_database
from clinic_app.ui.app import apply_style
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.screenshots import layout_problems
from tests.ui.test_program_layout import anna
from clinic_app.storage import records
apply_style(app)
db = open_database(f"sqlite:///{sys.argv[1]}", backup=False, new_encrypted=False)
w = MainWindow(db, load_form(default_form_path()), records.list_clinicians(db)[0])
w.resize(1024, 700)
w.show()
patient, evaluation = anna(db)
w.open_evaluation(evaluation, patient)
w.page.view.editor.set_current_section("home_program")
def settle():
    for _ in range(20):
        app.processEvents()
settle()
ed = w.page.view.editor.editor("home_program")
out = {"ratio": w.devicePixelRatio(), "editor": ed.width(), "problems": layout_problems(w)}
w.grab().save(sys.argv[3])
w.page.view.findChild(QSplitter, "evaluationSplitter").setSizes([300, 720])
settle()
out["problems"] += layout_problems(w)
print(json.dumps(out))
w.context.stop()
db.close()
"""


def test_the_home_program_fits_at_200_percent(tmp_path: Path, demo_file: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(demo_file, data / "demo.db")
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = run_scaled(
        CHILD,
        [data / "demo.db", tmp_path, SHOTS / "program_200pct.png"],
        scale="2",
        folder=tmp_path,
        env={"CLINIC_APP_DATA_DIR": str(data)},
        timeout=180,
    )
    assert out["ratio"] == 2.0
    assert out["editor"] < 600
    assert out["problems"] == []
