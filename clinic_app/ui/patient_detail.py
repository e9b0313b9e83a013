"""One patient's details, episodes of care and their timeline (right side of the main window).

What it shows is read through the operation runner (one read for the episodes and the selected
episode's timeline with clinicians and main factors, ``ui.episode_panel``) and refreshed when an
operation's ``Changes`` name this patient or their evaluations.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from clinic_app.storage.values import Patient
from clinic_app.ui.access_log import record_access
from clinic_app.ui.context import AppContext
from clinic_app.ui.episode_charts import EpisodeCharts, read_chart_data
from clinic_app.ui.episode_panel import EpisodePanel, EpisodeView, EvaluationRow, read_episode_view
from clinic_app.ui.flow_layout import FlowLayout
from clinic_app.ui.operations import Changes, show_failure
from clinic_app.ui.patient_model import SEX_LABELS, age_on

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import Episode


MIN_WIDTH = 560


class FitLabel(QLabel):
    """One line of a patient's record that fits any width: elided on the right when longer
    than its room, the whole text then in the tooltip and under *Copy* (right-click). A long
    name, email or referral ran off the patient view at 1024 px (issue 18). Signals: none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("MMMMM…"))
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QAction("Copy", self)
        copy.triggered.connect(self.on_copy_triggered)
        self.addAction(copy)

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.setAccessibleName(text)  # read whole, however it is shown
        self._fit()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().sizeHint()
        margins = self.width() - self.contentsRect().width()
        return QSize(self.fontMetrics().horizontalAdvance(self.full_text) + margins, hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()  # the style sheet's font arrives when the label is polished

    def _fit(self) -> None:
        room = max(0, self.contentsRect().width())
        metrics = self.fontMetrics()
        shown = metrics.elidedText(self.full_text, Qt.TextElideMode.ElideRight, room)
        self.setText(shown)
        self.setToolTip("" if shown == self.full_text else self.full_text)

    def on_copy_triggered(self) -> None:
        QApplication.clipboard().setText(self.full_text)


class PatientDetail(QWidget):
    """One patient's demographics, episodes of care and the selected episode's timeline.

    Signals: ``evaluation_opened(int)`` — an evaluation or visit note id to open;
    ``new_evaluation_requested(str)`` — "initial", "re_evaluation", "discharge" or "visit" (in
    the selected episode); ``edit_requested()`` — the Edit patient button;
    ``archive_requested(bool)`` — archive (True) or restore (False) the patient shown;
    ``episode_action(str)`` — "new", "edit", "plan" or "goals" for the selected episode;
    ``selection_changed()`` — another patient or episode is shown (the window's menus follow).
    """

    evaluation_opened = Signal(int)
    new_evaluation_requested = Signal(str)
    edit_requested = Signal()
    archive_requested = Signal(bool)
    episode_action = Signal(str)
    selection_changed = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.patient: Patient | None = None
        self._viewed_id: int | None = None  # the patient whose viewing is in the access log
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 14, 20, 14)
        layout.setSpacing(10)
        top = QHBoxLayout()
        self.name = FitLabel(self)
        self.name.setObjectName("patientName")
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
        self.fact_labels: dict[str, FitLabel] = {}
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
            value = FitLabel(self)
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
        # The two rows of buttons wrap when the view is narrow (1024 px with the list beside it):
        # as plain rows they set a minimum width that squeezed the patient list (issue 18).
        title = QLabel("Episodes of care", self)
        title.setProperty("role", "panelTitle")
        layout.addWidget(title)
        head = FlowLayout()
        self.episode_buttons: dict[str, QPushButton] = {}
        for key, text, tip in (
            ("new", "New episode…", "A new problem: its side, referral and start (Ctrl+Shift+O)"),
            (
                "edit",
                "Edit episode…",
                "Title, side, referral; an end date closes it (Ctrl+Shift+E)",
            ),
            (
                "plan",
                "Plan of care…",
                "Frequency, duration, interventions (Ctrl+Shift+P)",
            ),
            ("goals", "Goals…", "Short- and long-term goals with their status (Ctrl+Shift+G)"),
        ):
            button = QPushButton(text, self)
            button.setObjectName(f"episode_{key}")
            button.setToolTip(tip)
            button.clicked.connect(functools.partial(self.episode_action.emit, key))
            head.addWidget(button)
            self.episode_buttons[key] = button
        layout.addLayout(head)
        self.episodes = EpisodePanel(self)
        self.episodes.episode_selected.connect(self.on_episodes_episode_selected)
        self.episodes.record_opened.connect(self.evaluation_opened)
        self.table = self.episodes.table
        row = FlowLayout()
        self.new_eval_button = QPushButton("New evaluation", self)
        self.new_eval_button.setToolTip("An initial evaluation in the selected open episode")
        self.new_eval_button.clicked.connect(
            functools.partial(self.new_evaluation_requested.emit, "initial")
        )
        self.visit_button = QPushButton("New visit note", self)
        self.visit_button.setObjectName("newVisitButton")
        self.visit_button.setToolTip("A daily note in the selected open episode (Ctrl+Shift+V)")
        self.visit_button.clicked.connect(
            functools.partial(self.new_evaluation_requested.emit, "visit")
        )
        self.re_eval_button = QPushButton("New re-evaluation", self)
        self.re_eval_button.setToolTip(
            "A re-evaluation / progress report, starting from the latest values"
        )
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
        self.open_button.setToolTip("Open the evaluation or visit note selected (Enter)")
        self.open_button.clicked.connect(self.on_open_button_clicked)
        for b in (
            self.visit_button,
            self.new_eval_button,
            self.re_eval_button,
            self.discharge_button,
        ):
            row.addWidget(b)
        row.addWidget(self.open_button)
        layout.addLayout(row)
        # The timeline, and beside it the episode's progress charts (read when first shown).
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("episodeTabs")
        self.tabs.addTab(self.episodes, "&Timeline")
        self.charts = EpisodeCharts(self)
        self.tabs.addTab(self.charts, "Progress &charts")
        self.tabs.currentChanged.connect(self.on_tabs_current_changed)
        self._charts_of: int | None = None  # the episode whose charts are shown
        layout.addWidget(self.tabs, 1)
        # However far the splitter is dragged, the timeline keeps room for its columns.
        self.setMinimumWidth(MIN_WIDTH)
        self.show_patient(None)

    @property
    def evaluations(self) -> list[EvaluationRow]:
        """The selected episode's evaluations and visit notes, newest first."""
        return self.episodes.records

    def selected_episode(self) -> Episode | None:
        return self.episodes.selected

    def show_patient(self, patient: Patient | None) -> None:
        changed = patient is None or self.patient is None or patient.id != self.patient.id
        self.patient = patient
        enabled = patient is not None
        for w in (self.edit_button, self.archive_button, self.open_button):
            w.setEnabled(enabled)
        archived = patient is not None and patient.archived
        self.archive_button.setText("Restore…" if archived else "Archive…")
        if patient is None:
            self.name.set_full_text("No patient selected")
            for lab in self.fact_labels.values():
                lab.set_full_text("")
            self.episodes.show_view(None)
            self._enable_record_buttons()
            self._record_view(None)
            self.selection_changed.emit()
            return
        suffix = " (archived)" if patient.archived else ""
        self.name.set_full_text(f"{patient.given_name} {patient.family_name}{suffix}")
        dob = patient.date_of_birth
        values = {
            "mrn": patient.mrn,
            "date_of_birth": f"{dob.isoformat()} (age {age_on(dob, date.today())})" if dob else "–",
            "sex": SEX_LABELS.get(patient.sex, patient.sex),
            "activity": patient.activity or "–",
            "phone": patient.phone or "–",
            "email": patient.email or "–",
            "referring_provider": patient.referring_provider or "–",
        }
        for key, lab in self.fact_labels.items():
            lab.set_full_text(values[key])
        shown = self.selected_episode()
        self.refresh_evaluations(None if changed or shown is None else shown.id)
        self._record_view(patient)  # after the list's read: that read does not wait for it

    def _record_view(self, patient: Patient | None) -> None:
        """Access log: once per patient selected (not again when the same patient is shown
        anew after an edit or on coming back from an evaluation)."""
        pid = None if patient is None else patient.id
        if pid is not None and pid != self._viewed_id:
            if not self.context.ready:
                return
            record_access(self.context, "view", "patient", pid, self, when_idle=True)
        self._viewed_id = pid

    def on_runner_changed(self, changes: Changes) -> None:
        """Refresh when an operation changed the evaluations (or episodes) of the patient shown;
        the episode of a record just started is selected."""
        if self.patient is None or self.patient.id not in changes.evaluations_of:
            return
        shown = self.selected_episode()
        self.refresh_evaluations(None if shown is None else shown.id, follow=changes.evaluations)

    def refresh_evaluations(
        self, episode_id: int | None = None, follow: frozenset[int] = frozenset()
    ) -> None:
        """Read the episodes again and show ``episode_id`` (default: the newest open one); when
        ``follow`` names a record of another episode of the patient, that episode is shown."""
        if self.patient is None:
            return
        pid = self.patient.id

        def read(db: Database) -> EpisodeView:
            from clinic_app.storage import records

            wanted = episode_id
            for eid in follow:
                try:
                    ev = records.get_evaluation(db, eid)
                except Exception:  # noqa: BLE001 - gone meanwhile: keep the episode shown
                    continue
                if ev.patient_id == pid and ev.episode_id is not None:
                    wanted = ev.episode_id
            return read_episode_view(db, pid, wanted)

        try:
            view: EpisodeView | None = self.context.runner.call(
                "Reading the patient's episodes", read
            )
        except Exception as err:
            view = None
            show_failure(self, "Reading the patient's episodes", err)
        self.episodes.show_view(view)
        self._charts_of = None  # read again when the charts tab is next shown
        if self.tabs.currentWidget() is self.charts:
            self.refresh_charts()
        for eid in follow:  # a record just started or changed: its line is selected
            if self.episodes.select_record(eid):
                break
        self._enable_record_buttons()
        self.selection_changed.emit()

    def _enable_record_buttons(self) -> None:
        patient = self.patient
        # An archived patient's records can be read, not added to: restore first.
        active = patient is not None and not patient.archived
        episode = self.selected_episode()
        is_open = episode is not None and episode.is_open
        self.new_eval_button.setEnabled(active)
        self.visit_button.setEnabled(active and is_open)
        follow_up = active and bool(self.evaluations) and (episode is None or is_open)
        self.re_eval_button.setEnabled(follow_up)
        self.discharge_button.setEnabled(follow_up)
        self.episode_buttons["new"].setEnabled(active)
        for key in ("edit", "plan", "goals"):  # they change the episode: restore first
            self.episode_buttons[key].setEnabled(active and episode is not None)

    def on_tabs_current_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.charts:
            self.refresh_charts()

    def refresh_charts(self) -> None:
        """Read the selected episode's records for its charts (once per episode and change)."""
        episode = self.selected_episode()
        if episode is None:
            self.charts.show_data(None)
            self._charts_of = None
            return
        if self._charts_of == episode.id:
            return
        try:
            data = self.context.runner.call(
                "Reading the progress charts",
                functools.partial(read_chart_data, episode_id=episode.id),
            )
        except Exception as err:
            data = None
            show_failure(self, "Reading the progress charts", err)
        self.charts.show_data(data)
        self._charts_of = episode.id if data is not None else None

    def on_episodes_episode_selected(self, episode: Episode) -> None:
        self.refresh_evaluations(episode.id)

    def show_episode(self, episode_id: int) -> None:
        """Select the patient's episode ``episode_id`` (after it was created or edited)."""
        self.refresh_evaluations(episode_id)

    def selected_evaluation_id(self) -> int | None:
        return self.episodes.selected_record_id()

    def on_archive_button_clicked(self) -> None:
        if self.patient is not None:
            self.archive_requested.emit(not self.patient.archived)

    def on_open_button_clicked(self) -> None:
        ev = self.selected_evaluation_id()
        if ev is not None:
            self.evaluation_opened.emit(ev)
