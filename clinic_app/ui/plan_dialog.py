"""Plan of care…: frequency, duration, planned visits, interventions and when reports fall due.

A plan is never edited in place: saving adds a version (a recertification is a new version) and
the versions stay listed below the fields, newest first. The three intervals start from the plan
in force, or for a first plan from the clinic's settings (``progress_every_visits``,
``progress_every_days``, ``recert_days``; Settings… for an admin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from clinic_app.storage.records import Episode, PlanInfo, PlanOfCare
from clinic_app.ui.context import AppContext
from clinic_app.ui.dialogs import _FormDialog
from clinic_app.ui.episode_dialog import read_date
from clinic_app.ui.episode_panel import plain_tip
from clinic_app.ui.operations import Changes, show_failure
from clinic_app.ui.text import local_datetime

if TYPE_CHECKING:
    from clinic_app.storage.database import Database

# key, label, (low, high) as records.episodes checks them when saving.
NUMBERS = (
    ("visits_per_week", "Visits per week", (1, 14)),
    ("duration_weeks", "Duration (weeks)", (1, 104)),
    ("planned_visits", "Planned visits", (1, 400)),
    ("progress_every_visits", "Progress report every (visits)", (1, 100)),
    ("progress_every_days", "Progress report every (days)", (1, 365)),
    ("recert_days", "Recertify after (days)", (1, 365)),
)
INTERVALS = ("progress_every_visits", "progress_every_days", "recert_days")


@dataclass(frozen=True)
class PlanState:
    history: tuple[PlanOfCare, ...]  # oldest first
    defaults: dict[str, Any]  # the clinic's settings for the three intervals


def read_plans(db: Database, episode_id: int) -> PlanState:
    from clinic_app.storage import records

    defaults = {k: records.get_setting(db, k) for k in INTERVALS}
    return PlanState(tuple(records.plan_history(db, episode_id)), defaults)


def plan_dose(plan: PlanOfCare) -> str:
    parts = []
    if plan.visits_per_week:
        parts.append(f"{plan.visits_per_week}×/week")
    if plan.duration_weeks:
        parts.append(f"{plan.duration_weeks} weeks")
    if plan.planned_visits:
        parts.append(f"{plan.planned_visits} visits")
    return ", ".join(parts) or "–"


class PlanDialog(_FormDialog):
    """The episode's plan of care: a new version from the fields, the versions listed.

    Signals: ``saved(object)`` — the ``records.PlanOfCare`` version added.
    """

    saved = Signal(object)

    def __init__(
        self, context: AppContext, episode: Episode, parent: QWidget | None = None
    ) -> None:
        super().__init__(f"Plan of care — {episode.title}", parent)
        self.setObjectName("planDialog")
        self.context = context
        self.episode = episode
        form = self._form("New version of the plan")
        self._add(form, "start_date", "Starts", QLineEdit(self), "YYYY-MM-DD (blank: today)")
        for key, label, (low, high) in NUMBERS[:3]:
            self._add(form, key, label, QLineEdit(self), f"{low}–{high}")
        interventions = QPlainTextEdit(self)
        interventions.setTabChangesFocus(True)
        interventions.setFixedHeight(80)
        self._add(
            form,
            "interventions",
            "Interventions",
            interventions,
            "e.g. eccentric hamstring loading, running progression, education",
        )
        due = self._form("When reports fall due")
        for key, label, (low, high) in NUMBERS[3:]:
            self._add(due, key, label, QLineEdit(self), f"{low}–{high}")
        self.history_label = QLabel("Versions of the plan (newest first)", self)
        self.history_label.setProperty("role", "secondary")
        self.layout_.addWidget(self.history_label)
        self.history = QTableWidget(0, 4, self)
        self.history.setObjectName("planHistory")
        self.history.setAccessibleName("Versions of the plan of care")
        self.history.setHorizontalHeaderLabels(["Starts", "Plan", "Interventions", "Saved"])
        self.history.verticalHeader().hide()
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.setWordWrap(True)
        self.history.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        h = self.history.horizontalHeader()
        for col in (0, 1, 3):
            h.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.history.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.history.setMinimumHeight(110)
        self.layout_.addWidget(self.history, 1)
        self._finish()
        self.layout_.takeAt(self.layout_.count() - 2)  # no stretch: the history takes the room
        eid = episode.id
        state = context.runner.call("Reading the plan of care", lambda db: read_plans(db, eid))
        self.show_state(state)
        self.setMinimumWidth(680)

    def show_state(self, state: PlanState) -> None:
        self.state = state
        current = state.history[-1] if state.history else None
        for key in INTERVALS:
            value = getattr(current, key) if current is not None else state.defaults[key]
            self.set_text(key, str(value))
        if current is not None:
            for key in ("visits_per_week", "duration_weeks", "planned_visits"):
                value = getattr(current, key)
                self.set_text(key, "" if value is None else str(value))
            self.set_text("interventions", current.interventions)
        plans = list(reversed(state.history))
        self.history.setRowCount(len(plans))
        for row, plan in enumerate(plans):
            cells = [
                plan.start_date.isoformat(),
                f"{plan_dose(plan)}\nprogress report every {plan.progress_every_visits} visits "
                f"or {plan.progress_every_days} days\nrecertify after {plan.recert_days} days",
                plan.interventions,
                f"{local_datetime(plan.created_at)}\n{plan.created_by}",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tip(text))
                self.history.setItem(row, col, item)
        self.history_label.setVisible(bool(plans))
        self.history.setVisible(bool(plans))

    def info(self) -> PlanInfo | None:
        """The plan typed, checked; None with every problem shown beside its field."""
        for key in self.fields:
            self.problem(key, None)
        ok = True
        start, problem = read_date("Starts", self.text("start_date"))
        if problem:
            self.problem("start_date", problem)
            ok = False
        elif start is not None and start < self.episode.start_date:
            self.problem("start_date", "Starts: before the episode's start")
            ok = False
        numbers: dict[str, int | None] = {}
        for key, label, (low, high) in NUMBERS:
            text = self.text(key)
            if not text:
                numbers[key] = None
                if key in INTERVALS:
                    self.problem(key, f"{label}: enter a whole number from {low} to {high}")
                    ok = False
                continue
            # isdecimal, not isdigit: "²" and "①" are digits int() cannot read.
            value = int(text) if text.isdecimal() else None
            if value is None or not low <= value <= high:
                self.problem(key, f"{label}: enter a whole number from {low} to {high}")
                ok = False
            numbers[key] = value
        if not ok:
            return None
        return PlanInfo(start_date=start, interventions=self.text("interventions"), **numbers)

    def on_buttons_accepted(self) -> None:
        info = self.info()
        if info is None:
            return
        user, eid, pid = self.context.user, self.episode.id, self.episode.patient_id

        def op(db: Database) -> PlanOfCare:
            from clinic_app.storage import records

            return records.save_plan(db, eid, info, user=user)

        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(False)

        def done(plan: PlanOfCare) -> None:
            save.setEnabled(True)
            self.accept()
            self.saved.emit(plan)

        def failed(err: BaseException) -> None:
            save.setEnabled(True)
            show_failure(self, "Saving the plan of care", err)

        self.context.runner.run(
            "Saving the plan of care",
            op,
            on_success=done,
            on_failure=failed,
            parent=self,
            changes=Changes(evaluations_of=frozenset({pid})),
        )
