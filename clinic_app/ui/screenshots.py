"""Pictures of the main screens, rendered headless from the demo database.

Used by ``clinic-app screenshots DIR`` to check the look at several window sizes and for the
documentation (``docs/img/ui_*.png``). Settings go to a temporary folder: taking screenshots never
reads or changes the user's window layout.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QMessageLogContext,
    QRect,
    QSettings,
    Qt,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QLabel,
    QScrollArea,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionComboBox,
    QStyleOptionViewItem,
    QTreeView,
    QTreeWidget,
    QWidget,
)

from clinic_app.core.form import Form
from clinic_app.storage.database import Database
from clinic_app.storage.records import Evaluation
from clinic_app.storage.values import Clinician, Patient
from clinic_app.ui.app import apply_style
from clinic_app.ui.dialogs import PatientDialog
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.operations import OperationRunner
from clinic_app.ui.section_nav import SectionNavDelegate, shown_titles
from clinic_app.ui.wrap_check import WrapCheckBox

DEFAULT_SIZES: tuple[tuple[int, int], ...] = ((1280, 800), (1024, 700))
# Window sizes a screenshot may have: from a small laptop's to a 4K screen's. Qt cannot paint a
# far larger window (99999x99999 is 40 GB of pixels: the paint engine fails, then Python crashes).
MIN_SIZE = (640, 480)
MAX_SIZE = (3840, 2160)


def size_problem(size: tuple[int, int]) -> str | None:
    """Why a screenshot cannot have this window size (None when it can)."""
    (w, h), (min_w, min_h), (max_w, max_h) = size, MIN_SIZE, MAX_SIZE
    if min_w <= w <= max_w and min_h <= h <= max_h:
        return None
    return f"{w}x{h} is outside {min_w}x{min_h} to {max_w}x{max_h}"


EDITOR_SECTIONS = ("hips", "eccentric_strength", "flexibility")


def _inside_scrolled_area(w: QWidget) -> bool:
    """Whether ``w`` sits in a scroll area's or item view's viewport, where being larger than
    the visible part is what scrolling is for."""
    p = w.parentWidget()
    while p is not None:
        grand = p.parentWidget()
        if isinstance(grand, QAbstractScrollArea) and grand.viewport() is p:
            return True
        p = grand
    return False


def _label_problem(label: QLabel) -> str | None:
    """Whether a label's text does not fit (cut on the right or below) without a tooltip that
    shows it whole."""
    text = label.text()
    if not text or label.pixmap() is not None and not label.pixmap().isNull() or label.toolTip():
        return None
    room = label.contentsRect()
    if label.wordWrap():
        needed = label.heightForWidth(label.width())
        if needed > label.height() + 1:
            return f"needs {needed} px of height, has {label.height()}"
        return None
    plain = label.textFormat() == Qt.TextFormat.PlainText or (
        label.textFormat() == Qt.TextFormat.AutoText and "<" not in text
    )
    if plain:
        if label.buddy() is not None:  # "&Find": the ampersand marks the shortcut, not drawn
            text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
        width = max(label.fontMetrics().horizontalAdvance(line) for line in text.splitlines())
    else:  # rich text: what the label itself asks for, less its margins
        width = label.sizeHint().width() - (label.width() - room.width())
    if width > room.width() + 1:
        return f"text needs {width} px, has {room.width()}"
    return None


def _combo_problem(combo: QComboBox) -> str | None:
    """Whether a drop-down's chosen text is cut ("Hamstring stretch fe…") without a tooltip."""
    text = combo.currentText()
    if not text or combo.toolTip() and text in combo.toolTip() or combo.isEditable():
        return None
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
    )
    needed = combo.fontMetrics().horizontalAdvance(text)
    if needed > field.width() + 1:
        return f"choice {text[:40]!r} needs {needed} px, has {field.width()}"
    return None


def _wrapped_rows_problems(view: QTreeView) -> list[str]:
    """Rows of a word-wrapping tree too low for their wrapped text (Qt then cuts the last line
    it can show with "…"): each visible row measured in its own font, in the rectangle the style
    paints its text in."""
    model = view.model()
    delegate = view.itemDelegate()
    if model is None or not isinstance(delegate, QStyledItemDelegate):
        return []
    style = view.style()
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    problems: list[str] = []
    pending = [model.index(r, 0) for r in range(model.rowCount())]
    while pending:
        index = pending.pop()
        if view.isExpanded(index):
            pending.extend(model.index(r, 0, index) for r in range(model.rowCount(index)))
        rect = view.visualRect(index)
        if rect.isEmpty() or not rect.intersects(view.viewport().rect()):
            continue
        option = QStyleOptionViewItem()
        option.initFrom(view)
        option.rect = rect
        delegate.initStyleOption(option, index)
        if not option.text:
            continue
        room = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, view)
        width = room.width() - 2 * margin
        needed = (
            QFontMetrics(option.font)
            .boundingRect(QRect(0, 0, max(width, 1), 100000), Qt.TextFlag.TextWordWrap, option.text)
            .height()
        )
        if needed > room.height() + 1:
            problems.append(f"row {option.text[:40]!r} needs {needed} px high, has {room.height()}")
    return problems


def layout_problems(root: QWidget) -> list[str]:
    """What is clipped in ``root`` as laid out now: a visible child reaching outside its
    parent's visible area, and a label whose text is cut without a tooltip (issue 18)."""
    problems: list[str] = []
    for w in root.findChildren(QWidget):
        if w.isWindow() or not w.isVisibleTo(root):
            continue
        parent = w.parentWidget()
        if parent is None or isinstance(parent, QAbstractScrollArea):
            continue  # a scroll area's own bars and corner are placed by Qt around its frame
        name = f"{type(w).__name__} {w.objectName()!r}"
        if isinstance(w, QLabel):
            name += f" {w.text()[:40]!r}"
        box = w.geometry()
        scrolled = _inside_scrolled_area(w)  # larger than the view: scrolling shows the rest
        if not scrolled and not box.isEmpty() and not parent.rect().contains(box):
            problems.append(
                f"{name}: {box.getRect()} outside its {type(parent).__name__}'s "
                f"{parent.rect().getRect()}"
            )
        inner = w.widget() if isinstance(w, QScrollArea) and w.widgetResizable() else None
        if isinstance(w, QScrollArea) and inner is not None:
            # A form wider than its view: cut on the right, or scrolled sideways.
            wider = inner.width() - w.viewport().width()
            if wider > 1:
                problems.append(f"{name}: content {wider} px wider than its view")
        if isinstance(w, QTreeWidget) and isinstance(w.itemDelegate(), SectionNavDelegate):
            for text, needs, room in shown_titles(w):
                if needs > room:
                    problems.append(f"{name}: section {text!r} needs {needs} px, has {room}")
        if isinstance(w, QTreeView) and w.wordWrap():
            problems.extend(f"{name}: {why}" for why in _wrapped_rows_problems(w))
        if isinstance(w, QComboBox):
            why = _combo_problem(w)
            if why is not None:
                problems.append(f"{name}: {why}")
        if isinstance(w, QLabel):
            why = _label_problem(w)
            if why is not None:
                problems.append(f"{name}: {why}")
        elif isinstance(w, WrapCheckBox):  # its label wraps: it needs the height, not the width
            if w.height() + 1 < w.heightForWidth(w.width()):
                problems.append(
                    f"{name} {w.text()[:40]!r}: needs {w.heightForWidth(w.width())} px high, "
                    f"has {w.height()}"
                )
        elif isinstance(w, QAbstractButton) and w.text() and not w.toolTip():
            needed = w.sizeHint().width()
            if w.width() + 1 < needed:
                problems.append(f"{name} {w.text()[:40]!r}: needs {needed} px, has {w.width()}")
    return problems


def _settle(app: QApplication, rounds: int = 4) -> None:
    for _ in range(rounds):
        app.processEvents()


@contextmanager
def private_settings() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="clinic_app_shots_") as folder:
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(QSettings.Format.IniFormat, scope, folder)
        yield Path(folder)


@dataclass(frozen=True)
class _Subjects:
    """What the screenshots show, read once: the first clinician, and two demo patients with
    their latest evaluations."""

    clinician: Clinician
    anna: Patient
    anna_latest: Evaluation
    zoe: Patient
    zoe_latest: Evaluation
    visit_patient: Patient | None = None  # the first demo patient with a visit note, and it
    visit: Evaluation | None = None


def _read_subjects(db: Database) -> _Subjects:
    """An operation for the runner (it runs on the worker thread)."""
    from clinic_app.storage import records

    def patient(mrn: str) -> Patient:
        p = records.get_patient_by_mrn(db, mrn)
        if p is None:
            raise LookupError(f"the database has no patient {mrn}: run 'clinic-app demo' first")
        return p

    def latest(p: Patient) -> Evaluation:
        summaries = records.list_evaluations(db, p.id)
        if not summaries:
            raise LookupError(f"patient {p.mrn} has no evaluation")
        newest = max(summaries, key=lambda s: (s.eval_date, s.id))
        return records.get_evaluation(db, newest.id)

    clinicians = records.list_clinicians(db)
    if not clinicians:
        raise LookupError("the database has no clinician: run 'clinic-app demo' first")
    anna, zoe = patient("DEMO-0001"), patient("DEMO-0002")
    for who in records.list_patients(db):
        visits = [s for s in records.list_evaluations(db, who.id) if s.kind == "visit"]
        if visits:
            newest = max(visits, key=lambda s: (s.eval_date, s.id))
            visit = records.get_evaluation(db, newest.id)
            return _Subjects(clinicians[0], anna, latest(anna), zoe, latest(zoe), who, visit)
    return _Subjects(clinicians[0], anna, latest(anna), zoe, latest(zoe))


def read_subjects(database: Database) -> _Subjects:
    """What the screenshots show, read from ``database`` on a worker thread of its own (stopped
    after), as the app reads. (Not an operation itself, so its argument is not named ``db``:
    tests/ui/test_architecture.py takes a function whose first argument is ``db`` for one.)"""
    reader = OperationRunner(database)
    try:
        return reader.call("Reading the demo patients", _read_subjects)
    finally:
        reader.stop()
        reader.deleteLater()


def render(
    db: Database,
    form: Form,
    out: Path,
    sizes: Sequence[tuple[int, int]] = DEFAULT_SIZES,
    log: Callable[[str], None] = lambda _m: None,
) -> list[Path]:
    """Save PNGs of the main screens of the demo database into ``out``; return their paths."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("a QApplication must exist")
    for size in sizes:
        problem = size_problem(size)
        if problem is not None:
            raise ValueError(f"window size {problem}")
    QCoreApplication.setOrganizationName("clinic_app")
    apply_style(app)
    out.mkdir(parents=True, exist_ok=True)
    subjects = read_subjects(db)
    anna, zoe = subjects.anna, subjects.zoe
    saved: list[Path] = []

    def save(widget: QWidget, name: str, size: tuple[int, int]) -> None:
        suffix = "" if size == sizes[0] else f"_{size[0]}x{size[1]}"
        path = out / f"ui_{name}{suffix}.png"
        _settle(app)
        if not widget.grab().save(str(path)):
            raise OSError(f"{path}: cannot write the picture")
        saved.append(path)
        log(str(path))

    for size in sizes:
        with private_settings():
            window = MainWindow(db, form, subjects.clinician)
            window.resize(*size)
            window.show()
            _settle(app)
            window.patients.select_patient(anna.id)
            save(window, "patient_list", size)

            window.open_evaluation(subjects.anna_latest, anna)
            view = window.page.view
            assert view is not None
            for item in view.panel.result_items()[:1]:
                item.setExpanded(True)
            for section in EDITOR_SECTIONS:
                if section in {s.id for s in view.form.sections}:
                    view.editor.set_current_section(section)
                    save(window, f"editor_{section}", size)
            window.page.close_evaluation()

            window.patients.select_patient(zoe.id)
            window.open_evaluation(subjects.zoe_latest, zoe)
            view = window.page.view
            assert view is not None
            view.editor.set_current_section("red_flags")
            for item in [*view.panel.result_items(), *view.panel.result_items("patterns")][:2]:
                item.setExpanded(True)
            save(window, "assessment_red_flag", size)
            window.page.close_evaluation()

            if size != sizes[0]:  # a dialog's size does not follow the window's
                window.close()
                window.deleteLater()
                _settle(app)
                continue
            dialog = PatientDialog(
                window.context.runner, subjects.clinician.name, anna, parent=window
            )
            dialog.show()
            _settle(app)
            save(dialog, "patient_dialog", size)
            dialog.fields["date_of_birth"].widget.setText("2031-02-30")  # type: ignore[union-attr]
            dialog.fields["mrn"].widget.setText(zoe.mrn)  # type: ignore[union-attr]
            dialog.check()
            _settle(app)
            dialog.adjustSize()
            save(dialog, "patient_dialog_errors", size)
            dialog.close()
            window.close()
            window.deleteLater()
            _settle(app)
    return saved


_NOISE = ("This plugin does not support propagateSizeHints", "This plugin does not support raise")


def _quiet_offscreen(mode: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    """The offscreen platform reports window-manager calls it cannot do; nothing to act on."""
    if not message.startswith(_NOISE):
        sys.stderr.write(f"{message}\n")


def application() -> QApplication:
    """The QApplication to render with (made headless if there is none yet)."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    qInstallMessageHandler(_quiet_offscreen)
    return QApplication([sys.argv[0] if sys.argv else "clinic-app"])


# -- the window at 1024x700, at 100 % and 200 % (issue 18; scripts/screenshots) ------------------

WINDOW_SIZE = (1024, 700)
# The editor pages saved as pictures (the others are checked, not saved): the red-flag screen,
# choices beside a long label, left/right choices, a wide table, and a visit note's pages.
SHOWN = {
    "evaluation": ("subjective", "shoulder_girdle", "home_program"),
    "red_flag": ("red_flags",),
    "visit": ("visit_subjective", "home_program"),
}


@dataclass(frozen=True)
class DemoWindow:
    """The main window on a fresh demo database, and what it was opened with."""

    window: MainWindow
    db: Database
    form: Form
    subjects: _Subjects


@contextmanager
def demo_window(size: tuple[int, int] = WINDOW_SIZE) -> Iterator[DemoWindow]:
    """The main window shown at ``size`` on a demo database made in a temporary folder (the
    data folder ``CLINIC_APP_DATA_DIR`` meanwhile), with private settings. Afterwards the
    window is closed and deleted, its worker stopped, the database closed, the folder removed
    and ``CLINIC_APP_DATA_DIR`` put back as it was."""
    from clinic_app.core.form import load_form
    from clinic_app.paths import default_form_path
    from clinic_app.storage.database import open_database
    from clinic_app.storage.demo import fill_demo

    app = application()
    QCoreApplication.setOrganizationName("clinic_app")
    apply_style(app)
    before = os.environ.get("CLINIC_APP_DATA_DIR")
    try:
        with tempfile.TemporaryDirectory(prefix="clinic_app_window_") as tmp, private_settings():
            os.environ["CLINIC_APP_DATA_DIR"] = tmp
            form = load_form(default_form_path())
            where = f"sqlite:///{Path(tmp) / 'demo.db'}"
            db = open_database(where, backup=False, new_encrypted=False)
            try:
                fill_demo(db, form)
                subjects = read_subjects(db)
                window = MainWindow(db, form, subjects.clinician)
                try:
                    window.resize(*size)
                    window.show()
                    _settle(app, 10)
                    yield DemoWindow(window, db, form, subjects)
                finally:
                    window.close()
                    window.context.stop()
                    window.deleteLater()
                    _settle(app)
                    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            finally:
                db.close()
    finally:
        if before is None:
            os.environ.pop("CLINIC_APP_DATA_DIR", None)
        else:
            os.environ["CLINIC_APP_DATA_DIR"] = before


def window_shots(out: Path, log: Callable[[str], None] = print) -> list[Path]:
    """Save the main window at 1024x700 (logical pixels) on a fresh demo database: the patient
    view, the editor and the red-flag screen, named for this process's scale factor
    (``window_1024x700*.png`` at 100 %, ``window_200pct*.png`` at ``QT_SCALE_FACTOR=2``);
    log what :func:`layout_problems` finds in each."""
    app = application()
    scale = float(os.environ.get("QT_SCALE_FACTOR", "1") or 1)
    stem = "window_1024x700" if scale == 1 else f"window_{round(scale * 100)}pct"
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with demo_window() as demo:
        window, subjects = demo.window, demo.subjects

        def save(suffix: str) -> None:
            _settle(app, 10)
            path = out / f"{stem}{suffix}.png"
            if not window.grab().save(str(path)):
                raise OSError(f"{path}: cannot write the picture")
            saved.append(path)
            check(str(path))

        def check(what: str) -> None:
            _settle(app, 10)
            problems = layout_problems(window)
            log(f"{what}: {len(problems)} layout problems")
            for problem in problems:
                log(f"  {problem}")

        def walk(evaluation: Evaluation, who: Patient, kind: str) -> None:
            """Every page of the editor checked; the ones in ``SHOWN`` saved as pictures."""
            window.open_evaluation(evaluation, who)
            view = window.page.view
            if view is None:
                raise RuntimeError(f"the demo {kind} did not open")
            for section in view.editor.sections:
                view.editor.set_current_section(section.id)
                if section.id in SHOWN.get(kind, ()):
                    save(f"_{kind}_{section.id}" if kind == "visit" else f"_{section.id}")
                else:
                    check(f"{kind} page {section.id}")
            window.on_page_back_requested()

        window.patients.select_patient(subjects.anna.id)
        save("")
        walk(subjects.anna_latest, subjects.anna, "evaluation")  # carried values, a program
        walk(subjects.zoe_latest, subjects.zoe, "red_flag")  # a red flag raised
        if subjects.visit is not None and subjects.visit_patient is not None:
            walk(subjects.visit, subjects.visit_patient, "visit")
    return saved


if __name__ == "__main__":
    window_shots(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/img"))
