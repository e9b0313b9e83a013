"""The patient view, a visit note and the dialogs at 1024x700 and at 200 %: nothing clipped,
no column cut (issue 18).

``screenshots.layout_problems`` does not look inside item views, so :func:`cut_cells` does: a
header section narrower than its title, a cell whose text needs more than its column without a
tooltip that shows it whole, columns reaching past the view's right edge. The window runs on the
demo database (and a patient with a long name, email and referral) in a child process (a scale
factor is fixed when Qt starts) on an offscreen screen of 1024x700 logical pixels (the default
offscreen screen is 800x800 device pixels: at 200 % that is 400x400, smaller than any dialog).
Every patient, every episode, both tabs of the patient view, every page of a visit note and each
dialog at its default size are checked.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QTableView,
    QTableWidget,
    QTreeView,
    QWidget,
)

from clinic_app.ui.screenshots import layout_problems
from tests.ui.scaled import run_scaled

ROOT = Path(__file__).resolve().parents[2]
SCREEN = (1024, 700)  # logical pixels, at either scale


def _indexes(view: QAbstractItemView) -> list[QModelIndex]:
    """Every index shown: the rows of a table, the expanded rows of a tree."""
    model = view.model()
    out: list[QModelIndex] = []

    def walk(parent: QModelIndex | QPersistentModelIndex) -> None:
        for r in range(model.rowCount(parent)):
            out.extend(model.index(r, c, parent) for c in range(model.columnCount(parent)))
            first = model.index(r, 0, parent)
            if isinstance(view, QTreeView) and view.isExpanded(first):
                walk(first)

    walk(QModelIndex())
    return out


def cut_cells(root: QWidget) -> list[str]:
    """What is cut inside the visible tables and trees of ``root``: a header section narrower
    than its title, columns wider than a view that does not scroll sideways, and a cell whose
    text needs more than it has, without word wrap or a tooltip holding the whole text."""
    problems: list[str] = []
    views = [root] if isinstance(root, QAbstractItemView) else []
    for view in [*views, *root.findChildren(QAbstractItemView)]:
        if not isinstance(view, QTableView | QTreeView):
            continue
        if view is not root and not view.isVisibleTo(root):
            continue
        model = view.model()
        if model is None:
            continue
        header = view.horizontalHeader() if isinstance(view, QTableView) else view.header()
        name = f"{type(view).__name__} {view.objectName()!r}"
        # A section's size hint counts the style's header margin either side, around the
        # padding the text is drawn in: a section that much narrower still shows its title.
        margins = 2 * header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin)
        if not header.isHidden():
            for c in range(model.columnCount()):
                needed, has = header.sectionSizeHint(c) - margins, header.sectionSize(c)
                if not header.isSectionHidden(c) and needed > has + 1:
                    title = model.headerData(c, Qt.Orientation.Horizontal)
                    problems.append(f"{name} header {title!r}: needs {needed} px, has {has}")
        sideways = view.horizontalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        if not sideways and header.length() > view.viewport().width() + 1:
            problems.append(
                f"{name}: columns {header.length()} px wide, view {view.viewport().width()}"
            )
        if view.wordWrap():
            continue  # a wrapped cell grows in height, it is not cut
        for index in _indexes(view):
            text = index.data(Qt.ItemDataRole.DisplayRole)
            rect = view.visualRect(index)  # (a spanned cell: the whole span)
            if not text or header.isSectionHidden(index.column()) or rect.isEmpty():
                continue
            needed = view.sizeHintForIndex(index).width()
            tip = str(index.data(Qt.ItemDataRole.ToolTipRole) or "")
            if needed > rect.width() + 1 and str(text) not in tip:
                problems.append(
                    f"{name} cell ({index.row()}, {index.column()}) {str(text)[:30]!r}: "
                    f"needs {needed} px, has {rect.width()}, no tooltip"
                )
    return problems


def test_the_cell_check_finds_a_cut_cell_a_cut_header_and_columns_past_the_view(qtbot) -> None:
    from PySide6.QtWidgets import QTableWidgetItem

    table = QTableWidget(1, 2)
    qtbot.addWidget(table)
    table.setHorizontalHeaderLabels(["Date", "A rather long header title"])
    table.setWordWrap(False)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.resize(300, 120)
    item = QTableWidgetItem("A cell text far too long for a narrow column")
    table.setItem(0, 0, item)
    table.setColumnWidth(0, 60)
    table.setColumnWidth(1, 60)
    table.show()
    qtbot.waitExposed(table)
    problems = cut_cells(table)
    assert any("cell (0, 0)" in p and "no tooltip" in p for p in problems), problems
    assert any("header 'A rather long header title'" in p for p in problems), problems
    item.setToolTip(item.text())  # elided on purpose, shown whole on hover: allowed
    table.setColumnWidth(1, table.horizontalHeader().sectionSizeHint(1))
    assert cut_cells(table) == []
    table.setColumnWidth(1, 400)  # pushed past the view, which does not scroll sideways
    assert any("columns" in p for p in cut_cells(table))


CHILD = r"""
import json, os, sys, tempfile
from datetime import date
from pathlib import Path
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
QCoreApplication.setOrganizationName("clinic_app")
QSettings.setDefaultFormat(QSettings.Format.IniFormat)
for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
    QSettings.setPath(QSettings.Format.IniFormat, scope, sys.argv[1])
from clinic_app.core.form import load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records
from clinic_app.storage.database import open_database
from clinic_app.storage.demo import fill_demo
from clinic_app.ui.app import apply_style
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.operations import OperationRunner
from clinic_app.ui.screenshots import layout_problems
from tests.ui.test_window_layout_patient import cut_cells

apply_style(app)
tmp = Path(sys.argv[1])
form = load_form(default_form_path())
db = open_database(f"sqlite:///{tmp / 'data' / 'demo.db'}", backup=False, new_encrypted=False)
fill_demo(db, form)
reader = OperationRunner(db)
LONG = records.PatientFields(
    "María José Guadalupe", "Núñez-Castellanos de la Fuente", "P-LONG-000123",
    date_of_birth=date(1971, 7, 22), sex="female", phone="+34 600 000 000 ext. 1234",
    email="maria.jose.guadalupe.nunez-castellanos@example-hospital.org",
    activity="Trail running (ultra distance), sprint, football and basketball",
    referring_provider="Dr. Alexandra Montgomery-Wellington (orthopaedic sports medicine)",
)
reader.call("Adding", lambda d: records.create_patient(d, LONG, user="t"))
who = reader.call("Reading", lambda d: records.list_clinicians(d)[0])
patients = reader.call("Reading", lambda d: records.list_patients(d, include_archived=True))
reader.stop()
w = MainWindow(db, form, who)
w.resize(1024, 700)
w.show()
out = {"ratio": w.devicePixelRatio(), "screen": [], "views": {}, "dialogs": {}, "sizes": {}}
geo = app.primaryScreen().availableGeometry()
out["screen"] = [geo.width(), geo.height()]

def settle(n=10):
    for _ in range(n):
        app.processEvents()

def check(widget, name, into="views"):
    settle()
    out[into][name] = layout_problems(widget) + cut_cells(widget)

settle(20)
out["size"] = [w.width(), w.height()]
d = w.detail
visit = None
for p in patients:
    if not w.patients.select_patient(p.id):
        d.show_patient(p)  # (an archived patient: not in the list)
    settle(5)
    check(w, f"{p.mrn}: patient view")
    for row in range(d.episodes.episode_list.count()):
        d.episodes.episode_list.setCurrentRow(row)
        settle(5)
        check(w, f"{p.mrn} episode {row + 1}: timeline")
        d.tabs.setCurrentWidget(d.charts)
        check(w, f"{p.mrn} episode {row + 1}: progress charts")
        d.tabs.setCurrentIndex(0)
        for line in d.episodes.view.rows:
            if line.what == "visit" and visit is None:
                visit = (p, line.record.id, d.selected_episode())
out["visit_found"] = visit is not None
w.resize(1280, 800)
settle()
out["clinician_column_at_1280"] = not d.table.isColumnHidden(3)
w.resize(1024, 700)
settle()
out["clinician_column_at_1024"] = not d.table.isColumnHidden(3)
t = d.table
names = [(t.item(r, 3).text(), t.item(r, 4).toolTip()) for r in range(t.rowCount())]
out["clinician_in_tooltip"] = bool(names) and all(n in tip for n, tip in names if n)
patient, visit_id, episode = visit
w.patients.select_patient(patient.id)
d.show_episode(episode.id)
settle()
ev = w.context.runner.call("Opening", lambda d_: records.get_evaluation(d_, visit_id))
w.open_evaluation(ev, patient)
view = w.page.view
for section in view.editor.sections:
    view.editor.set_current_section(section.id)
    check(w, f"visit note: {section.title}")
    page = view.editor.built_page(section.id)
    if view.chart is not None and page is not None and page.isAncestorOf(view.chart):
        page.ensureWidgetVisible(view.chart)  # scrolled down to the chart
        check(w, f"visit note: {section.title}, its chart")
out["visit_chart"] = view.chart is not None and view.chart.item_id is not None
w.on_page_back_requested()
settle()

from reportlab.pdfgen.canvas import Canvas
from clinic_app.core.responses import questionnaire_of
from clinic_app.ui import accounts_dialog, help_dialogs
from clinic_app.ui.access_log import AccessLogDialog
from clinic_app.ui.dialogs import ClinicDialog, PatientDialog
from clinic_app.ui.episode_dialog import EpisodeDialog
from clinic_app.ui.first_start import FirstStartDialog
from clinic_app.ui.goal_edit import GoalEditDialog, SuggestedGoalsDialog
from clinic_app.ui.goals_dialog import GoalsDialog
from clinic_app.ui.pdf_preview import PdfPreviewDialog
from clinic_app.ui.plan_dialog import PlanDialog
from clinic_app.ui.self_entry import ClinicianEntryDialog, SelfEntryWindow
from clinic_app.ui.sign_in import NewPasswordDialog, SignInDialog

ctx = w.context
pdf = tmp / "doc.pdf"
canvas = Canvas(str(pdf))
canvas.drawString(72, 700, "Page 1")
canvas.showPage()
canvas.save()
made = []

def dialog(name, make, full_screen=False):
    made.append(make())
    made[-1].show()
    check(made[-1], name, "dialogs")
    if not full_screen:
        out["sizes"][name] = [made[-1].width(), made[-1].height()]
    return made[-1]

for episode in d.episodes.view.episodes:
    goals = dialog(f"Goals ({episode.title})", lambda: GoalsDialog(ctx, episode, w))
    settle()
    if goals.state is not None and goals.state.drafts:
        s = goals.state
        dialog(
            f"Suggested goals ({episode.title})",
            lambda: SuggestedGoalsDialog(form, episode, s.drafts, s.drafts_from, goals),
        )
    dialog(f"Plan of care ({episode.title})", lambda: PlanDialog(ctx, episode, w))
    dialog(f"Edit episode ({episode.title})", lambda: EpisodeDialog(ctx, patient.id, episode, w))
dialog("Add goal", lambda: GoalEditDialog(form, episode, w))
dialog("New episode", lambda: EpisodeDialog(ctx, patient.id, None, w))
dialog("Accounts", lambda: accounts_dialog.AccountsDialog(ctx, w))
dialog("Add account", lambda: accounts_dialog.AddAccountDialog(ctx, w))
dialog("Reset password", lambda: accounts_dialog.ResetPasswordDialog(ctx, "dr.maya.okafor", w))
dialog("Change password", lambda: accounts_dialog.ChangePasswordDialog(ctx, w))
dialog("Access log", lambda: AccessLogDialog(ctx, w))
dialog("User guide", lambda: help_dialogs.GuideWindow(w))
dialog("Keyboard shortcuts", lambda: help_dialogs.ShortcutsWindow(w, w))
dialog("About", lambda: help_dialogs.AboutWindow(str(tmp / "data"), db.display_url, w))
dialog("First start", lambda: FirstStartDialog(f"sqlite:///{tmp / 'new' / 'clinic.db'}"))
dialog("Sign in", lambda: SignInDialog(None))
dialog("New password", lambda: NewPasswordDialog("dr.maya.okafor", "old", None))
dialog("Settings (admin)", lambda: ClinicDialog(ctx.runner, who.id, parent=w, admin=True))
dialog("Settings", lambda: ClinicDialog(ctx.runner, who.id, parent=w, admin=False))
dialog("Edit patient", lambda: PatientDialog(ctx.runner, w.user, patient, parent=w))
dialog("New patient", lambda: PatientDialog(ctx.runner, w.user, None, parent=w))
for item in form.items.values():
    if not getattr(item, "questionnaire", None):
        continue
    dialog(f"Enter answers ({item.id})", lambda: ClinicianEntryDialog(item, None, w))
    def self_entry():
        screen = SelfEntryWindow(
            questionnaire_of(item.questionnaire), item, language="en", first_name="Anna",
            clinician_login="x", clinician_name=who.name, authenticate=lambda _l, _p: None,
        )
        screen.resize(1024, 700)  # (full screen in use)
        return screen
    dialog(f"Self entry ({item.id})", self_entry, full_screen=True)
dialog("Print preview", lambda: PdfPreviewDialog(pdf, "Preview", w, printers=["Front desk"]))
for m in made:
    m.close()
print(json.dumps(out))
settle()
w.close()
w.context.stop()
db.close()
"""


@functools.cache
def _child(scale: str) -> dict[str, Any]:
    """Run the window once per scale (about 10 s) for the tests of this module."""
    with tempfile.TemporaryDirectory(prefix="clinic_layout_") as folder:
        tmp = Path(folder)
        (tmp / "data").mkdir()
        env = {"CLINIC_APP_DATA_DIR": str(tmp / "data")}
        out = run_scaled(CHILD, [tmp], scale=scale, folder=tmp, screen=SCREEN, env=env)
    assert out["ratio"] == float(scale)
    assert out["screen"] == list(SCREEN)
    return out


@pytest.mark.parametrize("scale", ["1", "2"])
def test_the_patient_view_and_a_visit_note_have_nothing_cut_at_1024x700(scale) -> None:
    out = _child(scale)
    assert out["size"] == [1024, 700]
    assert out["visit_found"]
    views = out["views"]
    assert "P-LONG-000123: patient view" in views  # a long name, email, referral
    assert any("timeline" in name for name in views)
    assert any("progress charts" in name for name in views)
    assert any(name.startswith("visit note") for name in views)
    assert out["visit_chart"]
    assert any(name.endswith("its chart") for name in views)
    assert {name: p for name, p in views.items() if p} == {}
    # At 1024 the clinician's column gives way to the details (the name is in the tooltip);
    # a wider window shows it.
    assert not out["clinician_column_at_1024"]
    assert out["clinician_in_tooltip"]
    assert out["clinician_column_at_1280"]


@pytest.mark.parametrize("scale", ["1", "2"])
def test_each_dialog_opens_with_nothing_cut_and_fits_the_screen(scale) -> None:
    out = _child(scale)
    dialogs = out["dialogs"]
    for expected in ("Accounts", "Access log", "Print preview", "Settings (admin)", "Sign in"):
        assert expected in dialogs
    assert any(name.startswith("Suggested goals") for name in dialogs)
    assert any(name.startswith("Self entry") for name in dialogs)
    assert {name: p for name, p in dialogs.items() if p} == {}
    title_bar = 30
    too_big = {
        name: size
        for name, size in out["sizes"].items()
        if size[0] > SCREEN[0] or size[1] > SCREEN[1] - title_bar
    }
    assert too_big == {}


def _timeline_rows() -> tuple[Any, ...]:
    """The longest texts a timeline line can have: a discharge evaluation with a red flag and
    three factors, a visit awaiting a co-signature, a goal set, by a long-named clinician."""
    from datetime import date

    from clinic_app.ui.episode_panel import EvaluationRow, TimelineRow

    who = "Dr Maximiliane Okafor-Wolfeschlegel"
    factors = "⚠ Night pain; Weak eccentric hamstrings; Lumbar stiffness; Training load error"
    rows = [
        TimelineRow(date(2026, 11, 30), "goal", "Goal set: Nordic force deficit below 10%"),
        TimelineRow(
            date(2026, 11, 28),
            "evaluation",
            "Discharge evaluation",
            EvaluationRow(
                3, date(2026, 11, 28), "discharge", "signed", who, factors, "Discharge evaluation"
            ),
        ),
        TimelineRow(
            date(2026, 11, 20),
            "visit",
            "Visit note 12",
            EvaluationRow(
                2, date(2026, 11, 20), "visit", "awaiting co-signature", who, "", "Visit note 12"
            ),
        ),
    ]
    return tuple(rows)


@pytest.mark.parametrize("width", [510, 605, 1000, 1400])
def test_the_longest_timeline_lines_fit_or_are_elided_with_their_tooltip(qtbot, width) -> None:
    """510 px: the patient view at its narrowest (its minimum width less its margins); 605:
    beside the patient list in a 1024 px window; a wide window shows the clinician's column."""
    from datetime import UTC, date, datetime

    from clinic_app.storage.records import Episode
    from clinic_app.ui.episode_panel import EpisodePanel, EpisodeView

    now = datetime(2026, 12, 1, tzinfo=UTC)
    episode = Episode(
        1,
        1,
        "Right posterior thigh",
        "right",
        "",
        "",
        None,
        date(2026, 9, 30),
        None,
        1,
        "t",
        now,
        "t",
        now,
    )
    panel = EpisodePanel()
    qtbot.addWidget(panel)
    panel.resize(width, 420)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_view(EpisodeView((episode,), episode, _timeline_rows(), None))
    qtbot.wait(10)
    assert cut_cells(panel) == []
    table = panel.table
    header = table.horizontalHeader()
    assert header.sectionSize(4) >= header.sectionSizeHint(4) - 4  # the details keep their title
    if width in (605, 1400):
        shown = not table.isColumnHidden(3)
        assert shown == (width == 1400), [table.columnWidth(c) for c in range(5)]
    for r in (1, 2):  # every cell of a record's line carries the whole line
        tip = table.item(r, 0).toolTip()
        assert "Dr Maximiliane Okafor-Wolfeschlegel" in tip
        assert all(table.item(r, c).toolTip() == tip for c in range(5))
    # Filled again (another episode, with no lines yet) while the clinician's column is hidden.
    panel.show_view(EpisodeView((episode,), episode, (), None))
    qtbot.wait(10)
    assert cut_cells(panel) == []


def test_a_long_fact_of_the_patient_is_elided_whole_in_its_tooltip_and_copy(qtbot) -> None:
    from PySide6.QtWidgets import QApplication, QHBoxLayout

    from clinic_app.ui.patient_detail import FitLabel

    box = QWidget()
    qtbot.addWidget(box)
    row = QHBoxLayout(box)
    label = FitLabel(box)
    row.addWidget(label)
    email = "maria.jose.guadalupe.nunez-castellanos@example-hospital.org"
    label.set_full_text(email)
    box.resize(160, 40)
    box.show()
    qtbot.waitExposed(box)
    assert label.text().endswith("…")
    assert label.toolTip() == email
    assert label.accessibleName() == email
    assert layout_problems(box) == []
    label.actions()[0].trigger()
    assert QApplication.clipboard().text() == email
    box.resize(label.sizeHint().width() + 40, 40)  # room enough: whole, no tooltip
    qtbot.waitUntil(lambda: label.text() == email)
    assert label.toolTip() == ""
