"""One patient's details and evaluations (right-hand side of the main window).

What it shows is read through the operation runner (one read for the whole evaluation list:
summaries, clinicians and main factors) and refreshed when an operation's ``Changes`` name this
patient or their evaluations.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinic_app.storage.values import Patient
from clinic_app.ui.access_log import record_access
from clinic_app.ui.context import AppContext
from clinic_app.ui.operations import Changes, show_failure
from clinic_app.ui.patient_model import SEX_LABELS, age_on
from clinic_app.ui.text import KIND_LABELS

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import Evaluation


# An assistant's or student's signature awaits a therapist's co-signature (issue 14).
STATUS_LABELS = {
    "signed": "Signed",
    "draft": "Draft",
    "awaiting co-signature": "Draft · awaiting co-signature",
}


@dataclass(frozen=True)
class EvaluationRow:
    """One line of the patient's evaluation list, read in one operation."""

    id: int
    eval_date: date
    kind: str
    status: str
    clinician: str
    main_factors: str


def read_evaluation_rows(db: Database, patient_id: int) -> list[EvaluationRow]:
    """The operation behind the list: summaries, clinician names and each one's main factors."""
    from clinic_app.storage import records

    names: dict[int, str] = {}
    rows = []
    for ev in records.list_evaluations(db, patient_id):
        full = records.get_evaluation(db, ev.id)
        clinician = ""
        if full.clinician_id is not None:
            if full.clinician_id not in names:
                names[full.clinician_id] = records.get_clinician(db, full.clinician_id).name
            clinician = names[full.clinician_id]
        rows.append(
            EvaluationRow(
                ev.id,
                ev.eval_date,
                ev.kind,
                "awaiting co-signature" if ev.awaiting_cosignature else ev.status,
                clinician or full.created_by,
                _main_factors(db, full),
            )
        )
    return rows


def _main_factors(db: Database, ev: Evaluation) -> str:
    from clinic_app.core.engine import assess
    from clinic_app.core.findings import FindingsError, validate
    from clinic_app.storage import records
    from clinic_app.storage.errors import StorageError

    try:
        form = records.evaluation_form(db, ev.id)
        result = assess(form, validate(form, dict(ev.findings)))
    except (StorageError, FindingsError):
        return ""
    names = [f.name for f in result.factors[:3]]
    if result.red_flags:
        names.insert(0, f"⚠ {result.red_flags[0].name}")
    return "; ".join(names) or "–"


class PatientDetail(QWidget):
    """One patient's demographics and evaluations.

    Signals: ``evaluation_opened(int)`` — an evaluation id to open;
    ``new_evaluation_requested(str)`` — "initial" or "re_evaluation";
    ``edit_requested()`` — the Edit patient button; ``archive_requested(bool)`` — archive (True)
    or restore (False) the patient shown.
    """

    evaluation_opened = Signal(int)
    new_evaluation_requested = Signal(str)
    edit_requested = Signal()
    archive_requested = Signal(bool)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.patient: Patient | None = None
        self._viewed_id: int | None = None  # the patient whose viewing is in the access log
        self.evaluations: list[EvaluationRow] = []
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
        self.archive_button = QPushButton("Archive…", self)
        self.archive_button.setObjectName("archiveButton")
        self.archive_button.setToolTip(
            "Hide the patient from the list and search; nothing is deleted"
        )
        self.archive_button.clicked.connect(self.on_archive_button_clicked)
        top.addWidget(self.archive_button)
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
        self.discharge_button = QPushButton("New discharge", self)
        self.discharge_button.setToolTip(
            "A discharge evaluation, starting from the values of the last evaluation"
        )
        self.discharge_button.clicked.connect(
            functools.partial(self.new_evaluation_requested.emit, "discharge")
        )
        self.open_button = QPushButton("Open", self)
        self.open_button.clicked.connect(self.on_open_button_clicked)
        for b in (
            self.new_eval_button,
            self.re_eval_button,
            self.discharge_button,
            self.open_button,
        ):
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
        for w in (self.edit_button, self.archive_button, self.open_button):
            w.setEnabled(enabled)
        # An archived patient's records can be read, not added to: restore first.
        active = enabled and patient is not None and not patient.archived
        for w in (self.new_eval_button, self.re_eval_button, self.discharge_button):
            w.setEnabled(active)
        archived = patient is not None and patient.archived
        self.archive_button.setText("Restore…" if archived else "Archive…")
        if patient is None:
            self.name.setText("No patient selected")
            for lab in self.fact_labels.values():
                lab.setText("")
            self.evaluations = []
            self.table.setRowCount(0)
            self._record_view(None)
            return
        suffix = " (archived)" if patient.archived else ""
        self.name.setText(f"{patient.given_name} {patient.family_name}{suffix}")
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
        self._record_view(patient)  # after the list's read: that read does not wait for it

    def _record_view(self, patient: Patient | None) -> None:
        """Access log: once per patient selected (not again when the same patient is shown
        anew after an edit or on coming back from an evaluation)."""
        pid = None if patient is None else patient.id
        if pid is not None and pid != self._viewed_id:
            if not self.context.ready:
                return
            record_access(self.context, "view", "patient", pid, parent=self)
        self._viewed_id = pid

    def on_runner_changed(self, changes: Changes) -> None:
        """Refresh when an operation changed the evaluations of the patient shown."""
        if self.patient is not None and self.patient.id in changes.evaluations_of:
            self.refresh_evaluations()

    def refresh_evaluations(self) -> None:
        if self.patient is None:
            return
        pid = self.patient.id
        try:
            rows = self.context.runner.call(
                "Reading the patient's evaluations", lambda db: read_evaluation_rows(db, pid)
            )
        except Exception as err:
            rows = []
            show_failure(self, "Reading the patient's evaluations", err)
        self.evaluations = rows
        follow_up = bool(rows) and not self.patient.archived
        self.re_eval_button.setEnabled(follow_up)
        self.discharge_button.setEnabled(follow_up)
        self.table.setRowCount(len(rows))
        for row, ev in enumerate(rows):
            cells = [
                ev.eval_date.isoformat(),
                KIND_LABELS.get(ev.kind, ev.kind),
                STATUS_LABELS.get(ev.status, ev.status),
                ev.clinician,
                ev.main_factors,
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, ev.id)
                if col == 4:
                    item.setToolTip(text)
                self.table.setItem(row, col, item)
        if rows:
            self.table.selectRow(0)

    def selected_evaluation_id(self) -> int | None:
        row = self.table.currentRow()
        if row < 0 or row >= len(self.evaluations):
            return None
        return self.evaluations[row].id

    def on_archive_button_clicked(self) -> None:
        if self.patient is not None:
            self.archive_requested.emit(not self.patient.archived)

    def on_open_button_clicked(self) -> None:
        ev = self.selected_evaluation_id()
        if ev is not None:
            self.evaluation_opened.emit(ev)

    def on_table_item_activated(self, item: QTableWidgetItem) -> None:
        ev = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(ev, int):
            self.evaluation_opened.emit(ev)
