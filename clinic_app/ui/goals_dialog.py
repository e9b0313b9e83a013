"""Goals…: an episode's goals, the status the latest values suggest, and setting it.

The table lists each goal with its term, words, target (``core.goals.target_text``), target
date, the status the clinician set, and the status the app suggests with its reason
(``core.progress.goal_progress`` over the episode's records). The app only suggests: the
status box below starts at the suggestion, and setting it keeps who set what when, with the
suggestion at the time (``records.set_goal_status``), listed under the table. New goals come
from Add goal… (``ui.goal_edit``) or from the goals the form suggests for the factors that fired
in the episode's latest evaluation (Suggested goals…).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.goals import STATUS_LABELS, GoalDraft
from clinic_app.storage.records import Episode, Goal, GoalInfo
from clinic_app.ui.context import AppContext
from clinic_app.ui.episode_panel import plain_tip
from clinic_app.ui.operations import Changes, show_failure
from clinic_app.ui.text import local_datetime

if TYPE_CHECKING:
    from clinic_app.core.form import Form
    from clinic_app.core.progress import GoalProgress
    from clinic_app.storage.database import Database

TERM_LABELS = {"short": "Short-term", "long": "Long-term"}


@dataclass(frozen=True)
class GoalsState:
    """What the dialog shows, read in one operation."""

    goals: tuple[Goal, ...]
    progress: tuple[GoalProgress, ...]  # the same order as ``goals``
    drafts: tuple[GoalDraft, ...]  # the form's goals for the latest evaluation's factors
    drafts_from: str  # "Initial evaluation of 2026-03-02" (or "")


def read_goals(db: Database, episode: Episode, form: Form, today: date | None = None) -> GoalsState:
    """The episode's goals with the suggested statuses, and the goals its latest evaluation's
    fired factors suggest (those already set, by the same words, left out)."""
    from clinic_app.core.engine import assess
    from clinic_app.core.findings import FindingsError, validate
    from clinic_app.core.goals import suggested_goals
    from clinic_app.core.progress import Record, goal_progress
    from clinic_app.storage import records
    from clinic_app.storage.errors import StorageError

    goals = tuple(records.list_goals(db, episode.id))
    evs = records.episode_records(db, episode.id)
    recs = [Record(e.id, e.kind, e.eval_date, e.values, e.status) for e in evs]
    progress = tuple(goal_progress(form, goals, recs, involved=episode.involved_side, today=today))
    drafts: tuple[GoalDraft, ...] = ()
    drafts_from = ""
    latest = next((e for e in reversed(evs) if e.kind != "visit"), None)
    if latest is not None:
        try:
            ev_form = records.evaluation_form(db, latest.id)
            result = assess(ev_form, validate(ev_form, dict(latest.findings)))
        except (StorageError, FindingsError):
            result = None
        if result is not None:
            have = {g.text.casefold() for g in goals}
            drafts = tuple(
                d
                for d in suggested_goals(
                    ev_form, [f.id for f in result.factors], episode.start_date
                )
                if d.text.casefold() not in have
            )
            drafts_from = f"{latest.kind.replace('_', '-')} evaluation of {latest.eval_date}"
    return GoalsState(goals, progress, drafts, drafts_from)


def status_line(entry: object) -> str:
    """One line of a goal's history: when, who, what, and what the app suggested then."""
    e = entry  # records.GoalStatusEntry
    suggested = getattr(e, "suggested", None)
    hint = f" (suggested: {STATUS_LABELS.get(suggested, suggested)})" if suggested else ""
    note = f" — {e.note}" if getattr(e, "note", "") else ""  # type: ignore[attr-defined]
    status = STATUS_LABELS.get(e.status, e.status)  # type: ignore[attr-defined]
    when = local_datetime(e.set_at)  # type: ignore[attr-defined]
    return f"{when} · {e.set_by} set {status}{hint}{note}"  # type: ignore[attr-defined]


class GoalsDialog(QDialog):
    """The episode's goals with suggested statuses; set a status, add goals.

    Signals: ``changed()`` — a goal was added or its status set (the patient view's timeline
    follows through the runner's ``changed`` as well).
    """

    changed = Signal()

    def __init__(
        self, context: AppContext, episode: Episode, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Goals — {episode.title}")
        self.setObjectName("goalsDialog")
        self.context = context
        self.episode = episode
        self.state: GoalsState | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        intro = QLabel(
            "The app suggests a status from the latest measures; you decide. "
            "Setting a status keeps it with the suggestion of the moment.",
            self,
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "secondary")
        layout.addWidget(intro)
        self.table = QTableWidget(0, 6, self)
        self.table.setObjectName("goalTable")
        self.table.setAccessibleName("Goals of the episode")
        self.table.setHorizontalHeaderLabels(
            ["Term", "Goal", "Target", "Target date", "Status", "Suggested"]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        self.table.setAlternatingRowColors(True)
        h = self.table.horizontalHeader()
        for col in (0, 3, 4):
            h.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        for col in (1, 2, 5):
            h.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.currentCellChanged.connect(self.on_table_current_cell_changed)
        layout.addWidget(self.table, 1)

        status_row = QHBoxLayout()
        set_label = QLabel("&Status:", self)
        self.status_box = QComboBox(self)
        self.status_box.setObjectName("goalStatus")
        for key, label in STATUS_LABELS.items():
            self.status_box.addItem(label, key)
        set_label.setBuddy(self.status_box)
        self.note = QLineEdit(self)
        self.note.setObjectName("goalStatusNote")
        self.note.setPlaceholderText("Note (optional): why")
        self.note.setAccessibleName("Status note")
        self.set_button = QPushButton("S&et status", self)
        self.set_button.setObjectName("setStatusButton")
        self.set_button.clicked.connect(self.on_set_button_clicked)
        self.note.returnPressed.connect(self.set_button.click)
        status_row.addWidget(set_label)
        status_row.addWidget(self.status_box)
        status_row.addWidget(self.note, 1)
        status_row.addWidget(self.set_button)
        layout.addLayout(status_row)
        self.history = QLabel(self)
        self.history.setObjectName("goalHistory")
        self.history.setWordWrap(True)
        self.history.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.history)

        buttons = QHBoxLayout()
        self.add_button = QPushButton("&Add goal…", self)
        self.add_button.clicked.connect(self.on_add_button_clicked)
        self.suggested_button = QPushButton("Su&ggested goals…", self)
        self.suggested_button.setObjectName("suggestedGoalsButton")
        self.suggested_button.clicked.connect(self.on_suggested_button_clicked)
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.suggested_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        # No button is pressed by Enter elsewhere: a dialog's first button (Set status) would
        # take Enter on a goal's row and store the status shown, the app's suggestion, as the
        # clinician's decision. Enter in the note sets it; Space presses the focused button.
        for button in (self.set_button, self.add_button, self.suggested_button, close):
            button.setAutoDefault(False)
        self.resize(920, 520)
        self.reload()

    # -- reading -----------------------------------------------------------------------------

    def reload(self, select: int | None = None) -> None:
        episode, form = self.episode, self.context.form
        try:
            state = self.context.runner.call(
                "Reading the goals", lambda db: read_goals(db, episode, form)
            )
        except Exception as err:
            show_failure(self, "Reading the goals", err)
            return
        self.show_state(state, select)

    def show_state(self, state: GoalsState, select: int | None = None) -> None:
        current = self.selected_goal()
        keep = select if select is not None else (current.id if current else None)
        self.state = state
        self.table.setRowCount(len(state.goals))
        row_to_select = 0
        for row, (goal, prog) in enumerate(zip(state.goals, state.progress, strict=True)):
            target = prog.target_words or "functional: your judgement"
            sug = prog.suggestion
            cells = [
                TERM_LABELS.get(goal.term, goal.term),
                goal.text,
                target,
                "" if goal.target_date is None else goal.target_date.isoformat(),
                STATUS_LABELS.get(goal.status, goal.status),
                f"suggested: {STATUS_LABELS.get(sug.status, sug.status)} — {sug.reason}",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tip(text))
                item.setData(Qt.ItemDataRole.UserRole, goal.id)
                self.table.setItem(row, col, item)
            if goal.id == keep:
                row_to_select = row
        if state.goals:
            self.table.setCurrentCell(row_to_select, 1)
        self.on_table_current_cell_changed(self.table.currentRow(), 0, -1, 0)
        self.suggested_button.setEnabled(bool(state.drafts))
        self.suggested_button.setToolTip(
            f"{len(state.drafts)} goal(s) the form suggests for the factors of the "
            f"{state.drafts_from}"
            if state.drafts
            else "No goals suggested: no evaluation yet, or its factors' goals are all set"
        )

    def selected_goal(self) -> Goal | None:
        row = self.table.currentRow()
        if self.state is None or not 0 <= row < len(self.state.goals):
            return None
        return self.state.goals[row]

    def suggestion_for(self, goal_id: int) -> GoalProgress | None:
        if self.state is None:
            return None
        return next((p for p in self.state.progress if p.goal_id == goal_id), None)

    def on_table_current_cell_changed(self, *_cells: int) -> None:
        goal = self.selected_goal()
        self.set_button.setEnabled(goal is not None)
        self.status_box.setEnabled(goal is not None)
        if goal is None:
            self.history.setText("No goals yet: Add goal… or Suggested goals….")
            return
        prog = self.suggestion_for(goal.id)
        wanted = prog.suggestion.status if prog is not None else goal.status
        self.status_box.setCurrentIndex(max(0, self.status_box.findData(wanted)))
        lines = ["<b>History of this goal</b> (newest first)"]
        lines += [escape(status_line(h)) for h in reversed(goal.history)]
        made = f"Goal added {local_datetime(goal.created_at)} by {escape(goal.created_by)}"
        if goal.from_factor:
            made += f" (suggested for factor {escape(goal.from_factor)})"
        self.history.setText("<br>".join([*lines, made]))

    # -- writing -----------------------------------------------------------------------------

    def on_set_button_clicked(self) -> None:
        goal = self.selected_goal()
        if goal is None:
            return
        prog = self.suggestion_for(goal.id)
        suggested = prog.suggestion.status if prog is not None else None
        status = self.status_box.currentData()
        note, user, gid, version = (
            self.note.text().strip(),
            self.context.user,
            goal.id,
            goal.version,
        )

        def op(db: Database) -> Goal:
            from clinic_app.storage import records

            return records.set_goal_status(
                db, gid, status, version, user=user, suggested=suggested, note=note
            )

        def done(_goal: Goal) -> None:
            self.note.clear()
            self.reload(select=gid)
            self.changed.emit()

        self._write("Setting the goal's status", op, done)

    def _write(self, what: str, op: object, done: object) -> None:
        self.set_button.setEnabled(False)

        def failed(err: BaseException) -> None:
            from clinic_app.storage.errors import StaleRecordError

            self.set_button.setEnabled(True)
            show_failure(self, what, err)  # the note typed stays in its box
            if isinstance(err, StaleRecordError):
                # Show what the other window set; the status chosen and the note stay, so
                # pressing Set status again decides over the newer version.
                chosen = self.status_box.currentIndex()
                self.reload()
                self.status_box.setCurrentIndex(chosen)

        self.context.runner.run(
            what,
            op,  # type: ignore[arg-type]
            on_success=done,  # type: ignore[arg-type]
            on_failure=failed,
            parent=self,
            changes=Changes(evaluations_of=frozenset({self.episode.patient_id})),
        )

    def add_goals(self, infos: list[GoalInfo]) -> None:
        """Store ``infos`` (from Add goal… or the suggested goals ticked), in one operation."""
        if not infos:
            return
        user, eid, form = self.context.user, self.episode.id, self.context.form

        def op(db: Database) -> list[Goal]:
            from clinic_app.storage import records

            return [records.add_goal(db, eid, info, user=user, form=form) for info in infos]

        def done(added: list[Goal]) -> None:
            self.reload(select=added[-1].id if added else None)
            self.changed.emit()

        self._write("Adding goals" if len(infos) > 1 else "Adding the goal", op, done)

    def on_add_button_clicked(self) -> None:
        from clinic_app.ui.goal_edit import GoalEditDialog

        dialog = GoalEditDialog(self.context.form, self.episode, parent=self)
        dialog.accepted.connect(
            lambda: self.add_goals([] if dialog.info is None else [dialog.info])
        )
        self._run(dialog)

    def on_suggested_button_clicked(self) -> None:
        from clinic_app.ui.goal_edit import SuggestedGoalsDialog

        if self.state is None or not self.state.drafts:
            return
        dialog = SuggestedGoalsDialog(
            self.context.form, self.episode, self.state.drafts, self.state.drafts_from, self
        )
        dialog.accepted.connect(lambda: self.add_goals(dialog.accepted_goals))
        self._run(dialog)

    @staticmethod
    def _run(dialog: QDialog) -> None:
        """Show ``dialog`` modal; what it holds is stored when it is accepted, not when exec()
        returns: the idle lock hides it (exec() returns "rejected" then) and shows it again
        after the password, with what was typed, to be finished and added."""
        dialog.finished.connect(dialog.deleteLater)
        dialog.exec()
