"""The window's episode actions: new and edit episode, visit note, plan of care, goals, and the
progress report / discharge summary of the episode selected in the patient view.

One object owns them so that the main window only wires menus (``ui.window_menus``) and the
patient view's buttons to it. The dialogs read and write through the operation runner; the
patient view refreshes from the runner's ``changed`` like every screen.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from clinic_app.ui.access_log import record_access
from clinic_app.ui.context import AppContext
from clinic_app.ui.export_folder import export_folder, remember_export_folder
from clinic_app.ui.operations import show_failure
from clinic_app.ui.text import report_file_name

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import Episode
    from clinic_app.ui.patient_detail import PatientDetail

log = logging.getLogger(__name__)

REPORT_WORDS = {"progress": "progress report", "discharge": "discharge summary"}


class EpisodeActions(QObject):
    """Episode dialogs and documents for the episode selected in ``detail``.

    Signals: ``status(str)`` — a line for the window's status bar ("Saved the plan of care").
    """

    status = Signal(str)

    def __init__(self, context: AppContext, detail: PatientDetail, parent: QWidget) -> None:
        super().__init__(parent)
        self.context = context
        self.detail = detail
        self.parent_widget = parent
        self.dialog: QWidget | None = None  # the last dialog opened (tests look at it)
        detail.episode_action.connect(self.on_detail_episode_action)

    def _episode(self, *, to_change: bool = False) -> Episode | None:
        """The episode selected; None when there is none, or ``to_change`` it while the patient
        is archived (their records can be read, not added to: restore first)."""
        patient = self.detail.patient
        if patient is None or (to_change and patient.archived):
            return None
        return self.detail.selected_episode()

    def on_detail_episode_action(self, key: str) -> None:
        {
            "new": self.on_new_episode_triggered,
            "edit": self.on_edit_episode_triggered,
            "plan": self.on_plan_of_care_triggered,
            "goals": self.on_goals_triggered,
        }[key]()

    # -- episodes ----------------------------------------------------------------------------

    def on_new_episode_triggered(self) -> None:
        patient = self.detail.patient
        if patient is None or patient.archived:
            return
        self._episode_dialog(patient.id, None)

    def on_edit_episode_triggered(self) -> None:
        episode = self._episode(to_change=True)
        if episode is not None:
            self._episode_dialog(episode.patient_id, episode)

    def _episode_dialog(self, patient_id: int, episode: Episode | None) -> None:
        from clinic_app.ui.episode_dialog import EpisodeDialog

        dialog = EpisodeDialog(self.context, patient_id, episode, parent=self.parent_widget)
        dialog.saved.connect(self.on_episode_dialog_saved)
        self.dialog = dialog
        dialog.open()

    def on_episode_dialog_saved(self, episode: Episode) -> None:
        self.detail.show_episode(episode.id)
        state = "open" if episode.is_open else "closed"
        self.status.emit(f"Saved the episode {episode.title} ({state})")

    def on_new_visit_triggered(self) -> None:
        if self.detail.visit_button.isEnabled():
            self.detail.visit_button.click()

    # -- plan of care and goals -----------------------------------------------------------

    def on_plan_of_care_triggered(self) -> None:
        from clinic_app.ui.plan_dialog import PlanDialog

        episode = self._episode(to_change=True)
        if episode is None:
            return
        try:
            dialog = PlanDialog(self.context, episode, parent=self.parent_widget)
        except Exception as err:
            show_failure(self.parent_widget, "Reading the plan of care", err)
            return
        dialog.saved.connect(lambda _p: self.status.emit("Saved a new version of the plan of care"))
        self.dialog = dialog
        dialog.open()

    def on_goals_triggered(self) -> None:
        from clinic_app.ui.goals_dialog import GoalsDialog

        episode = self._episode(to_change=True)
        if episode is None:
            return
        dialog = GoalsDialog(self.context, episode, parent=self.parent_widget)
        self.dialog = dialog
        dialog.open()

    # -- documents ---------------------------------------------------------------------------

    def on_export_progress_triggered(self) -> None:
        self.export_report("progress")

    def on_export_discharge_triggered(self) -> None:
        self.export_report("discharge")

    def export_report(self, kind: str, path: str | None = None) -> int:
        """Ask where (unless ``path``), then write the episode's progress report or discharge
        summary on the worker; the status bar says when it is written. Returns the job number
        (0 when nothing was started)."""
        episode, patient = self._episode(), self.detail.patient
        if episode is None or patient is None:
            return 0
        words = REPORT_WORDS[kind]
        if path is None:
            default = report_file_name(patient, episode.start_date, kind)
            folder = export_folder(self.context.db)  # the last one used for this clinic
            path, _ = QFileDialog.getSaveFileName(
                self.parent_widget, f"Export {words}", str(folder / default), "PDF (*.pdf)"
            )
            if not path:
                return 0
            remember_export_folder(self.context.db, path)
        target, eid = Path(path), episode.id

        def op(db: Database) -> Path:
            from clinic_app import private
            from clinic_app.reports.progress_report import write_progress_report

            try:
                # 0600 whatever the umask, and never through a symlink.
                with os.fdopen(private.open_new(target), "wb") as stream:
                    write_progress_report(db, eid, kind, stream)
            except BaseException:
                if not target.is_symlink():
                    target.unlink(missing_ok=True)
                raise
            return target

        def done(written: Path) -> None:
            record_access(self.context, "export", "patient", patient.id, self.parent_widget)
            self.status.emit(f"Exported the {words}: {written}")

        self.status.emit(f"Writing the {words}…")
        return self.context.runner.run(
            f"Exporting the {words}", op, on_success=done, parent=self.parent_widget
        )
