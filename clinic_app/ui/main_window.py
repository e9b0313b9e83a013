"""The main window: patients on the left; a patient's details or an evaluation on the right.

Everything stored goes through ``clinic_app.storage.records`` (plain values in and out, one short
transaction per call). After a mutation the window refreshes what it shows in its own ``on_…``
handler; no widget holds a session.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.engine import assess, format_value
from clinic_app.core.findings import Findings, FindingsError, validate
from clinic_app.core.form import Form
from clinic_app.storage import records
from clinic_app.storage.database import Database
from clinic_app.storage.errors import ConflictError, StorageError
from clinic_app.storage.records import Clinician, Evaluation, EvaluationSummary, Patient
from clinic_app.ui.assessment import EvaluationView
from clinic_app.ui.autosave import AUTOSAVE_MAX_WAIT_MS, DraftAutosaver
from clinic_app.ui.dialogs import ClinicDialog, PatientDialog
from clinic_app.ui.patient_model import SEX_LABELS, PatientTableModel, age_on

SEARCH_DEBOUNCE_MS = 150
KIND_LABELS = {
    "initial": "Initial evaluation",
    "re_evaluation": "Re-evaluation",
    "discharge": "Discharge",
}


def local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S")


def local_datetime(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def report_file_name(patient: Patient, day: date, kind: str = "report") -> str:
    """``<Family>_<Given>_<date>_report.pdf``, safe on every file system."""

    def clean(text: str) -> str:
        return "".join(ch if ch.isalnum() or ch in "-" else "-" for ch in text.strip()) or "patient"

    return f"{clean(patient.family_name)}_{clean(patient.given_name)}_{day:%Y-%m-%d}_{kind}.pdf"


class PatientListPanel(QWidget):
    """Search box over the patient table.

    Signals: ``patient_selected(object)`` — the Patient now current (or None);
    ``patient_activated(object)`` — a Patient double-clicked or Enter pressed on.
    """

    patient_selected = Signal(object)
    patient_activated = Signal(object)

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = PatientTableModel(db, parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 6, 8)
        layout.setSpacing(6)
        title = QLabel("Patients", self)
        title.setProperty("role", "panelTitle")
        layout.addWidget(title)
        self.search = QLineEdit(self)
        self.search.setObjectName("patientSearch")
        self.search.setPlaceholderText("Search name, MRN or date of birth")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search patients")
        layout.addWidget(self.search)
        self.view = QTableView(self)
        self.view.setObjectName("patientTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Indicator first, then sorting on: otherwise Qt sorts once by its default (descending)
        # and again by ours, two database queries for nothing.
        self.view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(26)
        self.view.setShowGrid(False)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        # Fixed widths from the font, not ResizeToContents: that would measure every loaded row
        # on each search keystroke.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        metrics = self.view.fontMetrics()
        for col, sample in (
            (1, "MMMM-00000"),
            (2, "0000-00-00 (00)"),
            (3, "Female"),
            (4, "Activity"),
        ):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, metrics.horizontalAdvance(sample) + 24)
        header.setSectionHidden(3, True)  # sex and activity: in the patient's details
        header.setSectionHidden(4, True)
        layout.addWidget(self.view, 1)
        bottom = QHBoxLayout()
        self.count = QLabel(self)
        self.count.setProperty("role", "secondary")
        bottom.addWidget(self.count, 1)
        self.new_button = QPushButton("New patient…", self)
        bottom.addWidget(self.new_button)
        layout.addLayout(bottom)

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self.debounce.timeout.connect(self.on_debounce_timeout)
        self.search.textChanged.connect(self.on_search_text_changed)
        self.search.returnPressed.connect(self.on_search_return_pressed)
        self.model.loaded.connect(self.on_model_loaded)
        self.model.rowsInserted.connect(self.on_model_loaded)
        self.view.selectionModel().currentRowChanged.connect(self.on_view_current_row_changed)
        self.view.activated.connect(self.on_view_activated)
        self.on_model_loaded()

    def current_patient(self) -> Patient | None:
        index = self.view.currentIndex()
        return self.model.patient(index.row()) if index.isValid() else None

    def select_patient(self, patient_id: int) -> bool:
        row = self.model.row_of(patient_id)
        while row is None and self.model.canFetchMore():
            self.model.fetchMore()
            row = self.model.row_of(patient_id)
        if row is None:
            return False
        self.view.selectRow(row)
        self.view.scrollTo(self.model.index(row, 0))
        return True

    def on_search_text_changed(self, _text: str) -> None:
        self.debounce.start()

    def on_debounce_timeout(self) -> None:
        self.model.set_query(self.search.text())

    def on_search_return_pressed(self) -> None:
        self.debounce.stop()
        self.model.set_query(self.search.text())
        if self.model.rowCount() > 0:
            self.view.setFocus()
            self.view.selectRow(0)

    def on_model_loaded(self, *_args: object) -> None:
        m = self.model
        if m.is_searching():
            n = m.rowCount()
            limit = " (best shown: type more to narrow)" if n >= m.search_limit else ""
            self.count.setText(f"{n} match{'es' if n != 1 else ''}{limit}")
        else:
            self.count.setText(f"{m.total:,} patient{'s' if m.total != 1 else ''}")

    def on_view_current_row_changed(self, current: Any, _previous: Any) -> None:
        self.patient_selected.emit(self.model.patient(current.row()) if current.isValid() else None)

    def on_view_activated(self, index: Any) -> None:
        p = self.model.patient(index.row())
        if p is not None:
            self.patient_activated.emit(p)


class PatientDetail(QWidget):
    """One patient's demographics and evaluations.

    Signals: ``evaluation_opened(int)`` — an evaluation id to open;
    ``new_evaluation_requested(str)`` — "initial" or "re_evaluation";
    ``edit_requested()`` — the Edit patient button.
    """

    evaluation_opened = Signal(int)
    new_evaluation_requested = Signal(str)
    edit_requested = Signal()

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.patient: Patient | None = None
        self.evaluations: list[EvaluationSummary] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 14, 20, 14)
        layout.setSpacing(10)
        top = QHBoxLayout()
        self.name = QLabel(self)
        self.name.setProperty("role", "patientName")
        top.addWidget(self.name, 1)
        self.edit_button = QPushButton("Edit patient…", self)
        self.edit_button.clicked.connect(self.edit_requested)
        top.addWidget(self.edit_button)
        layout.addLayout(top)
        self.facts = QGridLayout()
        self.facts.setHorizontalSpacing(18)
        self.facts.setVerticalSpacing(4)
        self.fact_labels: dict[str, QLabel] = {}
        for n, (key, label) in enumerate(
            (
                ("mrn", "MRN"),
                ("date_of_birth", "Date of birth"),
                ("sex", "Sex"),
                ("activity", "Sport / activity"),
                ("phone", "Phone"),
                ("email", "Email"),
                ("referring_provider", "Referred by"),
            )
        ):
            cap = QLabel(label, self)
            cap.setProperty("role", "secondary")
            value = QLabel(self)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setObjectName(f"fact_{key}")
            self.facts.addWidget(cap, n // 2, (n % 2) * 2)
            self.facts.addWidget(value, n // 2, (n % 2) * 2 + 1)
            self.fact_labels[key] = value
        self.facts.setColumnStretch(1, 1)
        self.facts.setColumnStretch(3, 1)
        layout.addLayout(self.facts)

        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setProperty("role", "rowRule")
        layout.addWidget(line)
        head = QHBoxLayout()
        evals = QLabel("Evaluations", self)
        evals.setProperty("role", "panelTitle")
        head.addWidget(evals, 1)
        self.new_eval_button = QPushButton("New evaluation", self)
        self.new_eval_button.clicked.connect(
            functools.partial(self.new_evaluation_requested.emit, "initial")
        )
        self.re_eval_button = QPushButton("New re-evaluation", self)
        self.re_eval_button.setToolTip("Starts from the values of the last evaluation")
        self.re_eval_button.clicked.connect(
            functools.partial(self.new_evaluation_requested.emit, "re_evaluation")
        )
        self.open_button = QPushButton("Open", self)
        self.open_button.clicked.connect(self.on_open_button_clicked)
        for b in (self.new_eval_button, self.re_eval_button, self.open_button):
            head.addWidget(b)
        layout.addLayout(head)
        self.table = QTableWidget(0, 5, self)
        self.table.setObjectName("evaluationTable")
        self.table.setHorizontalHeaderLabels(
            ["Date", "Kind", "Status", "Clinician", "Main factors"]
        )
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setWordWrap(True)
        self.table.setAlternatingRowColors(True)
        h = self.table.horizontalHeader()
        for col in range(4):
            h.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemActivated.connect(self.on_table_item_activated)
        self.table.itemDoubleClicked.connect(self.on_table_item_activated)
        layout.addWidget(self.table, 1)
        self.show_patient(None)

    def show_patient(self, patient: Patient | None) -> None:
        self.patient = patient
        enabled = patient is not None
        for w in (self.edit_button, self.new_eval_button, self.re_eval_button, self.open_button):
            w.setEnabled(enabled)
        if patient is None:
            self.name.setText("No patient selected")
            for lab in self.fact_labels.values():
                lab.setText("")
            self.evaluations = []
            self.table.setRowCount(0)
            return
        self.name.setText(f"{patient.given_name} {patient.family_name}")
        dob = patient.date_of_birth
        values = {
            "mrn": patient.mrn,
            "date_of_birth": f"{dob:%Y-%m-%d} (age {age_on(dob, date.today())})" if dob else "–",
            "sex": SEX_LABELS.get(patient.sex, patient.sex),
            "activity": patient.activity or "–",
            "phone": patient.phone or "–",
            "email": patient.email or "–",
            "referring_provider": patient.referring_provider or "–",
        }
        for key, lab in self.fact_labels.items():
            lab.setText(values[key])
        self.refresh_evaluations()

    def refresh_evaluations(self) -> None:
        if self.patient is None:
            return
        self.evaluations = records.list_evaluations(self.db, self.patient.id)
        self.re_eval_button.setEnabled(bool(self.evaluations))
        self.table.setRowCount(len(self.evaluations))
        names: dict[int, str] = {}
        for row, ev in enumerate(self.evaluations):
            full = records.get_evaluation(self.db, ev.id)
            clinician = ""
            if full.clinician_id is not None:
                if full.clinician_id not in names:
                    names[full.clinician_id] = records.get_clinician(
                        self.db, full.clinician_id
                    ).name
                clinician = names[full.clinician_id]
            factors = self._main_factors(full)
            status = "Signed" if ev.status == "signed" else "Draft"
            cells = [
                ev.eval_date.isoformat(),
                KIND_LABELS.get(ev.kind, ev.kind),
                status,
                clinician or full.created_by,
                factors,
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, ev.id)
                if col == 4:
                    item.setToolTip(text)
                self.table.setItem(row, col, item)
        if self.evaluations:
            self.table.selectRow(0)

    def _main_factors(self, ev: Evaluation) -> str:
        try:
            form = records.evaluation_form(self.db, ev.id)
            result = assess(form, validate(form, dict(ev.findings)))
        except (StorageError, FindingsError):
            return ""
        names = [f.name for f in result.factors[:3]]
        if result.red_flags:
            names.insert(0, f"⚠ {result.red_flags[0].name}")
        return "; ".join(names) or "–"

    def selected_evaluation_id(self) -> int | None:
        row = self.table.currentRow()
        if row < 0 or row >= len(self.evaluations):
            return None
        return self.evaluations[row].id

    def on_open_button_clicked(self) -> None:
        ev = self.selected_evaluation_id()
        if ev is not None:
            self.evaluation_opened.emit(ev)

    def on_table_item_activated(self, item: QTableWidgetItem) -> None:
        ev = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(ev, int):
            self.evaluation_opened.emit(ev)


class ConflictDialog(QDialog):
    """Someone else saved this evaluation first: show both versions and let the clinician choose.

    ``choice`` after exec: ``"mine"``, ``"theirs"`` or ``"copy"`` (``None`` if closed: decide
    later; the unsaved findings are kept in memory meanwhile).

    Signals: none (modal; read ``choice``).
    """

    def __init__(
        self, form: Form, mine: Findings, err: ConflictError, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Evaluation changed elsewhere")
        self.choice: str | None = None
        layout = QVBoxLayout(self)
        who = err.changed_by or "someone else"
        when = local_datetime(err.changed_at) if err.changed_at else "just now"
        intro = QLabel(
            f"<b>{who}</b> saved this evaluation at {when} (version {err.current_version}) while "
            "you were editing. Nothing of yours was overwritten and nothing of theirs was lost. "
            "Choose which version to continue with:",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        try:
            theirs = validate(form, dict(err.their_findings))
        except FindingsError:
            theirs = Findings(form.id, form.version, {})
        self.differences = differences(form, mine, theirs)
        table = QTableWidget(len(self.differences), 3, self)
        table.setObjectName("conflictTable")
        table.setHorizontalHeaderLabels(["Item", "Mine", f"Theirs ({who})"])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, (label, a, b) in enumerate(self.differences):
            for col, text in enumerate((label, a, b)):
                table.setItem(row, col, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout.addWidget(table)
        buttons = QDialogButtonBox(self)
        self.mine_button = buttons.addButton("Keep mine", QDialogButtonBox.ButtonRole.AcceptRole)
        self.theirs_button = buttons.addButton(
            "Take theirs", QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.copy_button = buttons.addButton(
            "Save mine as a copy", QDialogButtonBox.ButtonRole.ActionRole
        )
        for key, button in (
            ("mine", self.mine_button),
            ("theirs", self.theirs_button),
            ("copy", self.copy_button),
        ):
            button.clicked.connect(functools.partial(self.on_choice_clicked, key))
        layout.addWidget(buttons)
        self.resize(620, 360)

    def on_choice_clicked(self, key: str) -> None:
        self.choice = key
        self.accept()


def differences(form: Form, mine: Findings, theirs: Findings) -> list[tuple[str, str, str]]:
    """(item label, my value, their value) for every item the two versions disagree on."""

    def show(f: Findings, item_id: str) -> str:
        item = form.items[item_id]
        if item.bilateral:
            sides = f.sides(item_id)
            parts = [f"{s[0].upper()} {format_value(item, v)}" for s, v in sides.items()]
            return ", ".join(parts) or "–"
        v = f.get(item_id)
        return "–" if v is None else format_value(item, v)

    out = []
    for item_id, item in form.items.items():
        a, b = mine.values.get(item_id), theirs.values.get(item_id)
        if a != b:
            out.append((item.label, show(mine, item_id), show(theirs, item_id)))
    return out


class EvaluationPage(QWidget):
    """The evaluation being edited (or read, once signed), with its status bar of actions.

    Signals: ``back_requested()`` — return to the patient; ``signed(int)`` — evaluation signed;
    ``status_changed(str)`` — text for the window's status bar ("Saved 10:42:13").
    """

    back_requested = Signal()
    signed = Signal(int)
    status_changed = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.evaluation: Evaluation | None = None
        self.patient: Patient | None = None
        self.form: Form | None = None
        self.view: EvaluationView | None = None
        self.saver: DraftAutosaver | None = None
        self._spare: EvaluationView | None = None  # the closed view, kept for the same form
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        bar = QFrame(self)
        bar.setObjectName("evaluationBar")
        h = QHBoxLayout(bar)
        h.setContentsMargins(12, 8, 12, 8)
        self.back_button = QPushButton("← Patient", bar)
        self.back_button.setToolTip("Back to the patient's details")
        self.back_button.clicked.connect(self.back_requested)
        h.addWidget(self.back_button)
        self.title = QLabel(bar)
        self.title.setProperty("role", "evalTitle")
        h.addWidget(self.title, 1)
        self.status = QLabel(bar)
        self.status.setObjectName("evaluationStatus")
        h.addWidget(self.status)
        self.sign_button = QPushButton("Sign…", bar)
        self.sign_button.setObjectName("signButton")
        self.sign_button.clicked.connect(self.on_sign_button_clicked)
        h.addWidget(self.sign_button)
        self.addendum_button = QPushButton("Add addendum…", bar)
        self.addendum_button.clicked.connect(self.on_addendum_button_clicked)
        h.addWidget(self.addendum_button)
        layout.addWidget(bar)
        self.body = QVBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.body, 1)
        self.addenda = QLabel(self)
        self.addenda.setObjectName("addenda")
        self.addenda.setWordWrap(True)
        self.addenda.setTextFormat(Qt.TextFormat.RichText)
        self.addenda.setContentsMargins(14, 6, 14, 8)
        self.addenda.hide()
        layout.addWidget(self.addenda)

    @property
    def db(self) -> Database:
        return self.window_.db

    def open(self, evaluation: Evaluation, patient: Patient) -> None:
        self.close_evaluation()
        self.evaluation = evaluation
        self.patient = patient
        self.form = records.evaluation_form(self.db, evaluation.id)
        try:
            findings = validate(self.form, dict(evaluation.findings))
        except FindingsError as err:  # stored values the form snapshot refuses: show, not crash
            self.evaluation = None
            QMessageBox.warning(self, "Cannot open the evaluation", "\n".join(err.problems[:10]))
            return
        spare, self._spare = self._spare, None
        if spare is not None and spare.form is self.form:
            # Building the view's rows costs 50-100 ms; refilling the same form's rows ~10 ms.
            self.view = spare
            self.view.set_findings(findings)
            section = self.window_.last_section()
            if section is not None:
                self.view.editor.set_current_section(section)
            self.view.show()
        else:
            if spare is not None:
                spare.deleteLater()
            self.view = EvaluationView(
                self.form, findings, self, initial_section=self.window_.last_section()
            )
            self.body.addWidget(self.view)
            self.view.findings_changed.connect(self.on_view_findings_changed)
        self.view.editor.set_carried(evaluation.carried_forward)
        self.saver = DraftAutosaver(self.db, evaluation, self.window_.user, parent=self)
        self.view.findings_changed.connect(self.saver.on_findings_changed)
        self.saver.saved.connect(self.on_saver_saved)
        self.saver.conflicted.connect(self.on_saver_conflicted)
        self.saver.failed.connect(self.on_saver_failed)
        self._show_state()
        self.window_.restore_evaluation_layout(self.view)

    def close_evaluation(self) -> bool:
        """Flush and drop the open evaluation. False if a conflict is still unresolved."""
        if self.saver is not None and not self.flush():
            return False
        if self.view is not None:
            self.window_.remember_evaluation_layout(self.view)
            # Not setParent(None): that turns hundreds of styled widgets into a hidden top-level
            # window and re-polishes them all (18-75 ms). Kept hidden: the next evaluation of the
            # same form reuses it (see open).
            if self.saver is not None:
                self.view.findings_changed.disconnect(self.saver.on_findings_changed)
            self.view.hide()
            self._spare = self.view
        if self.saver is not None:
            self.saver.detach()
            self.saver.deleteLater()
        self.view = None
        self.saver = None
        self.evaluation = None
        return True

    def flush(self) -> bool:
        if self.saver is None:
            return True
        if self.saver.flush():
            return True
        return self.saver.in_conflict is None and not self.saver.has_pending()

    def _show_state(self) -> None:
        ev, p = self.evaluation, self.patient
        if ev is None or p is None or self.view is None:
            return
        kind = KIND_LABELS.get(ev.kind, ev.kind)
        self.title.setText(
            f"<b>{p.given_name} {p.family_name}</b> · {kind} · {ev.eval_date:%Y-%m-%d}"
        )
        signed = ev.is_signed
        self.view.editor.set_read_only(signed)
        self.sign_button.setVisible(not signed)
        self.addendum_button.setVisible(signed)
        if signed:
            self.status.setText(f"Signed by {ev.signed_by} · {local_datetime(ev.signed_at)}")
            self.status.setProperty("state", "signed")
        else:
            self.status.setText("Draft")
            self.status.setProperty("state", "draft")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        if ev.addenda:
            parts = [
                f"<b>Addendum</b> {local_datetime(a.created_at)} · {a.author}: {a.text}"
                for a in ev.addenda
            ]
            self.addenda.setText("<br>".join(parts))
            self.addenda.show()
        else:
            self.addenda.hide()

    def on_view_findings_changed(self, _findings: Findings) -> None:
        self.status_changed.emit("Editing… (saves automatically)")

    def on_saver_saved(self, result: records.DraftSaved) -> None:
        stamp = local_time(
            self.saver.last_saved_at
            if self.saver and self.saver.last_saved_at
            else result.updated_at
        )
        self.status_changed.emit(f"Saved {stamp}")
        if self.view is not None:
            self.view.editor.set_carried(result.carried_forward)

    def on_saver_failed(self, message: str) -> None:
        # No pop-up while typing: the changes are kept and the write is retried shortly.
        self.status_changed.emit("Not saved yet — retrying")
        self.status.setToolTip(f"Last save attempt failed: {message}")

    def on_saver_conflicted(self, err: ConflictError) -> None:
        self.status_changed.emit("Not saved: changed elsewhere")
        self.resolve_conflict(err)

    def resolve_conflict(self, err: ConflictError) -> None:
        if self.view is None or self.saver is None or self.form is None:
            return
        mine = self.saver.pending or self.view.editor.findings
        dialog = ConflictDialog(self.form, mine, err, self)
        self.window_.conflict_dialog = dialog
        dialog.exec()
        self.window_.conflict_dialog = None
        if dialog.choice == "mine":
            self.saver.keep_mine(err)
        elif dialog.choice == "theirs":
            theirs = self.saver.take_theirs(err)
            self.view.set_findings(validate(self.form, theirs))
            self.status_changed.emit(f"Showing {err.changed_by or 'their'} version")
        elif dialog.choice == "copy":
            self.save_as_copy(mine)

    def save_as_copy(self, mine: Findings) -> None:
        """Keep theirs where it is and store mine as a new draft evaluation of the same patient."""
        ev, p = self.evaluation, self.patient
        if ev is None or p is None or self.form is None or self.saver is None:
            return
        self.saver.detach()
        copy = records.start_evaluation(
            self.db,
            p.id,
            self.form,
            user=self.window_.user,
            kind=ev.kind,
            clinician_id=self.window_.clinician_id,
            copy_forward=False,
        )
        saved = records.save_draft(self.db, copy.id, mine, copy.version, user=self.window_.user)
        self.saver = None
        self.open(records.get_evaluation(self.db, copy.id), p)
        self.status_changed.emit(f"Saved as a copy {local_time(saved.updated_at)}")
        self.window_.on_evaluations_changed()

    def on_sign_button_clicked(self) -> None:
        ev = self.evaluation
        if ev is None or self.saver is None:
            return
        if not self.flush():
            QMessageBox.information(
                self, "Not signed", "The evaluation has changes that are not saved yet; try again."
            )
            return
        who = self.window_.user
        answer = self.window_.ask(
            "Sign evaluation",
            f"Sign this evaluation as <b>{who}</b>?<br><br>A signed evaluation cannot be changed; "
            "corrections are added as addenda.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            records.sign_evaluation(self.db, ev.id, self.saver.version, user=who)
        except ConflictError as err:
            self.resolve_conflict(err)
            return
        except StorageError as err:
            QMessageBox.warning(self, "Not signed", str(err))
            return
        self.saver.detach()
        self.evaluation = records.get_evaluation(self.db, ev.id)
        self._show_state()
        self.status_changed.emit(f"Signed by {who}")
        self.signed.emit(ev.id)

    def on_addendum_button_clicked(self) -> None:
        ev = self.evaluation
        if ev is None:
            return
        text, ok = QInputDialog.getMultiLineText(
            self, "Add addendum", f"Addendum to the signed evaluation, as {self.window_.user}:"
        )
        if not ok or not text.strip():
            return
        self.add_addendum(text)

    def add_addendum(self, text: str) -> None:
        ev = self.evaluation
        if ev is None:
            return
        records.add_addendum(self.db, ev.id, text.strip(), user=self.window_.user)
        self.evaluation = records.get_evaluation(self.db, ev.id)
        self._show_state()
        self.window_.on_evaluations_changed()


class MainWindow(QMainWindow):
    """Patients, their evaluations and the evaluation editor.

    Signals: none of its own; it reacts to its panels' signals in ``on_…`` handlers.
    """

    def __init__(
        self,
        db: Database,
        form: Form,
        clinician: Clinician,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.form = form
        self.clinician = clinician
        self.conflict_dialog: ConflictDialog | None = None
        self.setWindowTitle("clinic_app — posterior thigh evaluation")
        self.setMinimumSize(960, 620)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.patients = PatientListPanel(db, self.splitter)
        self.patients.setMinimumWidth(250)
        self.stack = QStackedWidget(self.splitter)
        self.detail = PatientDetail(db, self.stack)
        self.page = EvaluationPage(self)
        self.stack.addWidget(self.detail)
        self.stack.addWidget(self.page)
        self.splitter.addWidget(self.patients)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([360, 920])
        self.setCentralWidget(self.splitter)
        self.saved_label = QLabel(self)
        self.saved_label.setObjectName("savedLabel")
        self.statusBar().addPermanentWidget(self.saved_label)
        self.statusBar().showMessage(
            f"Signed in as {clinician.name} · "
            f"changes saved within {AUTOSAVE_MAX_WAIT_MS / 1000:g} s"
        )

        self.patients.patient_selected.connect(self.on_patients_patient_selected)
        self.patients.patient_activated.connect(self.on_patients_patient_activated)
        self.patients.new_button.clicked.connect(self.on_new_patient_triggered)
        self.detail.edit_requested.connect(self.on_detail_edit_requested)
        self.detail.evaluation_opened.connect(self.on_detail_evaluation_opened)
        self.detail.new_evaluation_requested.connect(self.on_detail_new_evaluation_requested)
        self.page.back_requested.connect(self.on_page_back_requested)
        self.page.status_changed.connect(self.on_page_status_changed)
        self.page.signed.connect(self.on_page_signed)
        self._build_menus()
        self.restore_settings()

    @property
    def user(self) -> str:
        return self.clinician.name

    @property
    def clinician_id(self) -> int:
        return self.clinician.id

    # -- menus -----------------------------------------------------------------------------------

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.actions_: dict[str, QAction] = {}
        a = self.actions_
        a["new_patient"] = self._action(
            file, "&New patient…", self.on_new_patient_triggered, "Ctrl+Shift+N"
        )
        a["new_evaluation"] = self._action(
            file, "New &evaluation", self.on_new_evaluation_triggered, QKeySequence.StandardKey.New
        )
        a["save_now"] = self._action(
            file, "&Save now", self.on_save_now_triggered, QKeySequence.StandardKey.Save
        )
        file.addSeparator()
        a["export_report"] = self._action(
            file, "Export &report…", self.on_export_report_triggered, "Ctrl+E"
        )
        a["export_handout"] = self._action(
            file, "Export &handout…", self.on_export_handout_triggered
        )
        a["print_handout"] = self._action(
            file, "&Print handout…", self.on_print_handout_triggered, QKeySequence.StandardKey.Print
        )
        a["preview"] = self._action(file, "Pre&view report", self.on_preview_triggered)
        file.addSeparator()
        a["backup"] = self._action(file, "&Backup…", self.on_backup_triggered)
        a["settings"] = self._action(file, "&Settings…", self.on_settings_triggered)
        file.addSeparator()
        a["quit"] = self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        go = bar.addMenu("&Go")
        a["next_section"] = self._action(
            go, "Next section\tCtrl+PgDown", self.on_next_section_triggered
        )
        a["previous_section"] = self._action(
            go, "Previous section\tCtrl+PgUp", self.on_previous_section_triggered
        )
        a["find_patient"] = self._action(
            go, "&Find patient", self.on_find_patient_triggered, "Ctrl+F"
        )
        a["back"] = self._action(
            go, "&Back to the patient", self.on_page_back_requested, "Alt+Left"
        )
        self._update_actions()

    def _update_actions(self) -> None:
        has_patient = self.detail.patient is not None
        has_eval = self.page.evaluation is not None and self.stack.currentWidget() is self.page
        self.actions_["new_evaluation"].setEnabled(has_patient)
        for key in ("export_report", "export_handout", "print_handout", "preview", "save_now"):
            self.actions_[key].setEnabled(has_eval)
        self.actions_["back"].setEnabled(has_eval)
        self.actions_["backup"].setEnabled(self.db.path is not None)

    # -- settings --------------------------------------------------------------------------------

    def settings(self) -> QSettings:
        return QSettings()

    def restore_settings(self) -> None:
        s = self.settings()
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = s.value("window/main_splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)

    def save_settings(self) -> None:
        s = self.settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/main_splitter", self.splitter.saveState())
        if self.page.view is not None:
            self.remember_evaluation_layout(self.page.view)
        s.sync()

    def remember_evaluation_layout(self, view: EvaluationView) -> None:
        s = self.settings()
        s.setValue("evaluation/splitter", view.splitter.saveState())
        s.setValue("evaluation/last_section", view.editor.current_section())

    def last_section(self) -> str | None:
        section = self.settings().value("evaluation/last_section")
        return section if isinstance(section, str) else None

    def restore_evaluation_layout(self, view: EvaluationView) -> None:
        s = self.settings()
        state = s.value("evaluation/splitter")
        if isinstance(state, QByteArray):
            view.splitter.restoreState(state)
        section = s.value("evaluation/last_section")
        if isinstance(section, str):
            view.editor.set_current_section(section)

    # -- dialogs (one place, so tests can answer them like a person would) ----------------------

    def ask(
        self, title: str, text: str, buttons: QMessageBox.StandardButton
    ) -> QMessageBox.StandardButton:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        return QMessageBox.StandardButton(box.exec())

    # -- patients --------------------------------------------------------------------------------

    def on_patients_patient_selected(self, patient: Patient | None) -> None:
        if self.stack.currentWidget() is self.page and self.page.evaluation is not None:
            if (
                patient is not None
                and self.page.patient is not None
                and patient.id == self.page.patient.id
            ):
                return
            if not self.page.close_evaluation():
                return
        self.detail.show_patient(patient)
        self.stack.setCurrentWidget(self.detail)
        self._update_actions()

    def on_patients_patient_activated(self, patient: Patient) -> None:
        self.on_patients_patient_selected(patient)

    def on_new_patient_triggered(self) -> None:
        dialog = PatientDialog(self.db, self.user, parent=self)
        dialog.saved.connect(self.on_patient_dialog_saved)
        dialog.open()

    def on_detail_edit_requested(self) -> None:
        if self.detail.patient is None:
            return
        dialog = PatientDialog(self.db, self.user, self.detail.patient, parent=self)
        dialog.saved.connect(self.on_patient_dialog_saved)
        dialog.open()

    def on_patient_dialog_saved(self, patient: Patient) -> None:
        self.patients.model.reload()
        if not self.patients.select_patient(patient.id):
            self.patients.search.clear()
            self.patients.model.set_query("")
            self.patients.select_patient(patient.id)
        self.detail.show_patient(patient)
        self.stack.setCurrentWidget(self.detail)
        self.statusBar().showMessage(f"Saved {patient.given_name} {patient.family_name}", 5000)
        self._update_actions()

    def on_save_now_triggered(self) -> None:
        """Autosave already runs; this writes at once for those who like to press Ctrl+S."""
        if self.page.flush():
            self.saved_label.setText(f"Saved {local_time(datetime.now())}")

    def on_find_patient_triggered(self) -> None:
        self.patients.search.setFocus()
        self.patients.search.selectAll()

    # -- evaluations -----------------------------------------------------------------------------

    def on_new_evaluation_triggered(self) -> None:
        self.on_detail_new_evaluation_requested("initial")

    def on_detail_new_evaluation_requested(self, kind: str) -> None:
        patient = self.detail.patient or self.page.patient
        if patient is None:
            return
        if not self.page.close_evaluation():
            return
        ev = records.start_evaluation(
            self.db,
            patient.id,
            self.form,
            user=self.user,
            kind=kind,  # type: ignore[arg-type]
            clinician_id=self.clinician_id,
        )
        self.open_evaluation(ev, patient)
        self.on_evaluations_changed()

    def on_detail_evaluation_opened(self, evaluation_id: int) -> None:
        patient = self.detail.patient
        if patient is None:
            return
        self.open_evaluation(records.get_evaluation(self.db, evaluation_id), patient)

    def open_evaluation(self, evaluation: Evaluation, patient: Patient) -> None:
        self.page.open(evaluation, patient)
        if self.page.view is None:
            return  # could not be opened; the page said why
        self.stack.setCurrentWidget(self.page)
        # The evaluation gets the whole width; "← Patient" brings the patient list back.
        self.patients.hide()
        self._update_actions()
        if self.page.view is not None:
            self.page.view.editor.focus_first_field()

    def on_page_back_requested(self) -> None:
        if not self.page.close_evaluation():
            return
        self.detail.show_patient(self.page.patient)
        self.stack.setCurrentWidget(self.detail)
        self.patients.show()
        self._update_actions()

    def on_page_status_changed(self, text: str) -> None:
        self.saved_label.setText(text)

    def on_page_signed(self, _evaluation_id: int) -> None:
        self.on_evaluations_changed()

    def on_evaluations_changed(self) -> None:
        if self.detail.patient is not None:
            self.detail.refresh_evaluations()

    def on_next_section_triggered(self) -> None:
        if self.page.view is not None:
            self.page.view.editor.step_section(1)

    def on_previous_section_triggered(self) -> None:
        if self.page.view is not None:
            self.page.view.editor.step_section(-1)

    # -- reports ---------------------------------------------------------------------------------

    def report_data(self) -> Any:
        """The open evaluation as ``clinic_app.reports.ReportData``, read back after a flush so
        the document shows exactly what is stored (one builder shared with the CLI)."""
        from clinic_app.reports.records import report_data_for_evaluation

        ev = self.page.evaluation
        if ev is None:
            return None
        if not self.page.flush():
            QMessageBox.warning(
                self, "Not saved", "Save the evaluation first: it has unsaved changes."
            )
            return None
        return report_data_for_evaluation(self.db, ev.id)

    def _export(self, kind: str) -> Path | None:
        from clinic_app import reports

        data = self.report_data()
        p = self.page.patient
        if data is None or p is None:
            return None
        default = report_file_name(p, data.evaluation.date, kind)
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export {kind}", str(Path.home() / default), "PDF (*.pdf)"
        )
        if not path:
            return None
        build = reports.build_clinician_report if kind == "report" else reports.build_handout
        try:
            build(data, Path(path))
        except Exception as err:  # a report problem must not lose the evaluation
            QMessageBox.warning(self, "Export failed", f"The {kind} could not be written:\n{err}")
            return None
        self.statusBar().showMessage(f"Exported {path}", 8000)
        return Path(path)

    def on_export_report_triggered(self) -> None:
        self._export("report")

    def on_export_handout_triggered(self) -> None:
        self._export("handout")

    def on_print_handout_triggered(self) -> None:
        """Build the handout PDF, let the user pick the printer, and send that PDF to it."""
        import tempfile

        from PySide6.QtPrintSupport import QPrintDialog
        from PySide6.QtWidgets import QProgressDialog

        from clinic_app import reports
        from clinic_app.ui import printing

        data = self.report_data()
        p = self.page.patient
        if data is None or p is None:
            return
        try:
            printer = printing.make_printer()
        except printing.PrintError as err:
            QMessageBox.information(self, "Print handout", str(err))
            return
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Print handout")
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        with tempfile.TemporaryDirectory(prefix="clinic_app_print_") as folder:
            path = Path(folder) / report_file_name(p, data.evaluation.date, "handout")
            reports.build_handout(data, path)
            progress = QProgressDialog("Printing the handout…", "Cancel", 0, 0, self)
            progress.setWindowModality(Qt.WindowModality.WindowModal)

            def on_page(done: int, total: int) -> bool:
                progress.setMaximum(total)
                progress.setValue(done)
                return not progress.wasCanceled()

            try:
                pages = printing.print_pdf(path, printer, job_name=path.stem, progress=on_page)
            except printing.PrintError as err:
                QMessageBox.warning(self, "Print handout", str(err))
                return
            finally:
                progress.close()
        self.statusBar().showMessage(f"Sent {pages} pages to {printer.printerName()}", 8000)

    def on_preview_triggered(self) -> None:
        import tempfile

        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        from clinic_app import reports

        data = self.report_data()
        p = self.page.patient
        if data is None or p is None:
            return
        folder = Path(tempfile.mkdtemp(prefix="clinic_app_preview_"))
        path = folder / report_file_name(p, data.evaluation.date, "report")
        reports.build_clinician_report(data, path)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        self.statusBar().showMessage(f"Preview: {path}", 8000)

    def on_backup_triggered(self) -> None:
        from clinic_app.storage import backup

        if self.db.path is None:
            return
        self.page.flush()
        default = f"clinic_backup_{date.today():%Y-%m-%d}.db"
        path, _ = QFileDialog.getSaveFileName(
            self, "Back up the database", str(Path.home() / default), "SQLite database (*.db)"
        )
        if not path:
            return
        try:
            # The save dialog has already asked before replacing an existing file.
            backup.copy_database(self.db.path, Path(path), overwrite=True)
        except (OSError, StorageError) as err:
            QMessageBox.warning(self, "Backup failed", str(err))
            return
        self.statusBar().showMessage(f"Backed up to {path}", 8000)

    def on_settings_triggered(self) -> None:
        dialog = ClinicDialog(self.db, clinician_id=self.clinician.id, parent=self)
        dialog.saved.connect(self.on_settings_dialog_saved)
        dialog.open()

    def on_settings_dialog_saved(self, clinician: Clinician) -> None:
        self.clinician = clinician
        if self.page.saver is not None:
            self.page.saver.user = clinician.name
        self.statusBar().showMessage("Settings saved", 5000)

    # -- closing ---------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.page.flush():
            answer = self.ask(
                "Unsaved changes",
                "The open evaluation could not be saved. Close anyway and lose the last changes?",
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Discard:
                event.ignore()
                return
        self.save_settings()
        if self.page.saver is not None:
            self.page.saver.detach()
        event.accept()
