"""The main window: patients on the left; a patient's details or an evaluation on the right.

The window wires its screens together and owns nothing they store: every read and write goes
through the operation runner of its :class:`~clinic_app.ui.context.AppContext`, and after an
operation changed something the runner's ``changed`` signal reaches ``on_runner_changed`` here and
in each screen, which refresh what they show. Export, print, preview and backup live in
:class:`~clinic_app.ui.documents.DocumentActions`; the episode of care's dialogs and documents
(new/edit episode, visit note, plan of care, goals, progress report, discharge summary) in
:class:`~clinic_app.ui.episode_actions.EpisodeActions`; the menus and which of their actions are
enabled in ``clinic_app.ui.window_menus``.

The window is complete when constructed: the patient list, the patient's details, the evaluation
page and the document actions all exist from ``__init__``. It can appear before the database is
open (see ``clinic_app.ui.app``): built from a ``FirstPage`` it shows the patient list at once
and "Opening the clinic database…" on the right, with only the list, search and Quit enabled;
:meth:`attach` opens the context on the database and the form when the loader has them. The
panels import the editor, SQLAlchemy and the form machinery only when first used, so the first
paint stays light (tests/ui/test_startup.py).
"""

from __future__ import annotations

import gc
from datetime import datetime
from html import escape
from importlib import import_module
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from clinic_app.storage.values import Clinician, Patient
from clinic_app.ui import window_menus
from clinic_app.ui.context import AppContext
from clinic_app.ui.documents import DocumentActions
from clinic_app.ui.episode_actions import EpisodeActions
from clinic_app.ui.evaluation_page import EvaluationPage
from clinic_app.ui.gc_guard import ensure_gui_thread_gc
from clinic_app.ui.idle_lock import WindowLock
from clinic_app.ui.patient_detail import PatientDetail
from clinic_app.ui.patient_list import PatientListPanel
from clinic_app.ui.questions import ask
from clinic_app.ui.text import local_time, report_file_name

if TYPE_CHECKING:
    from clinic_app.core.form import Form
    from clinic_app.storage.database import Database
    from clinic_app.storage.first_page import FirstPage
    from clinic_app.storage.kept import KeptSaved
    from clinic_app.storage.records import Evaluation
    from clinic_app.ui.operations import Changes

__all__ = ["MainWindow", "PatientListPanel", "report_file_name"]

# After this long idle once attached, the window builds an editor and loads the PDF libraries.
WARM_UP_DELAY_MS = 300


class MainWindow(QMainWindow):
    """Patients, their evaluations and the evaluation editor.

    Signals: ``ready()`` — database, form and every panel attached (``is_ready``);
    ``warmed()`` — the editor and the PDF libraries were prepared ahead of use (``is_warm``).
    Otherwise it reacts to its panels' signals in ``on_…`` handlers.
    """

    ready = Signal()
    warmed = Signal()

    def __init__(
        self,
        db: Database | None,
        form: Form | None,
        clinician: Clinician,
        parent: QWidget | None = None,
        *,
        first_page: FirstPage | None = None,
        idle_lock_ms: int | None = None,
    ) -> None:
        """With ``db`` and ``form``: the whole window. Without: the patient list of
        ``first_page`` only, until :meth:`attach`. ``idle_lock_ms`` overrides the clinic's
        idle-lock setting (tests)."""
        super().__init__(parent)
        ensure_gui_thread_gc()  # before any of the window's worker threads can start
        if (db is None or form is None) and first_page is None:
            raise ValueError("MainWindow needs a database and a form, or a first page to show")
        self.context = AppContext(clinician, self)
        # The SQLite file the first page came from (None when built with a database).
        self.first_page_path = None if first_page is None else first_page.path
        self.is_warm = False
        self._warming: set[str] = set()  # warm_up's parts still at work: "editor", "pdf"
        self._before_rehearsal: tuple[QWidget | None, QWidget | None] = (None, None)
        self.locker: WindowLock | None = None  # from attach(): the idle lock (ui/idle_lock.py)
        self._idle_lock_ms = idle_lock_ms
        self.setWindowTitle("clinic_app — posterior thigh evaluation")
        self.setMinimumSize(960, 620)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.patients = PatientListPanel(None, self.splitter, first_page=first_page)
        self.stack = QStackedWidget(self.splitter)
        self.opening = QLabel("Opening the clinic database…", self.stack)
        self.opening.setObjectName("openingLabel")
        self.opening.setProperty("role", "secondary")
        self.opening.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.opening)
        # Every panel exists from here on; they read through the context once it is attached.
        self.detail = PatientDetail(self.context, self.stack)
        self.page = EvaluationPage(self.context, self)
        self.documents = DocumentActions(self.context, self.page, self)
        self.episodes = EpisodeActions(self.context, self.detail, self)
        self.stack.addWidget(self.detail)
        self.stack.addWidget(self.page)
        self.splitter.addWidget(self.patients)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([360, 920])
        # Only the screen shown sets how narrow the right side may get: an editor built once
        # (and kept) would otherwise hold the patient view at its width, and the splitter
        # squeezed the patient list instead (issue 18).
        self.stack.currentChanged.connect(self.on_stack_current_changed)
        self.setCentralWidget(self.splitter)
        self.saved_label = QLabel(self)
        self.saved_label.setObjectName("savedLabel")
        self.statusBar().addPermanentWidget(self.saved_label)
        self.statusBar().showMessage(f"Signed in as {clinician.name} · opening the database…")

        self.patients.patient_selected.connect(self.on_patients_patient_selected)
        self.patients.patient_activated.connect(self.on_patients_patient_activated)
        self.patients.new_button.clicked.connect(self.on_new_patient_triggered)
        self.detail.edit_requested.connect(self.on_detail_edit_requested)
        self.detail.archive_requested.connect(self.on_detail_archive_requested)
        self.detail.evaluation_opened.connect(self.on_detail_evaluation_opened)
        self.detail.new_evaluation_requested.connect(self.on_detail_new_evaluation_requested)
        self.page.back_requested.connect(self.on_page_back_requested)
        self.page.status_changed.connect(self.on_page_status_changed)
        self.documents.status.connect(self.on_documents_status)
        self.episodes.status.connect(self.on_documents_status)
        self.detail.selection_changed.connect(self._update_actions)
        self.actions_: dict[str, QAction] = {}
        self.admin_menu: QMenu  # made by window_menus.build_menus
        self.context.clinician_changed.connect(self.on_context_clinician_changed)
        self._build_menus()
        self.restore_settings()
        if db is not None and form is not None:
            self.attach(db, form)

    def attach(self, db: Database, form: Form) -> None:
        """Open the context on the database and the form (starting its operation runner), show
        the patient's details instead of "Opening…"; emits ``ready``."""
        from clinic_app.ui.autosave import AUTOSAVE_MAX_WAIT_MS

        if self.is_ready:
            raise RuntimeError("the main window is already attached to a database")
        self.context.attach(db, form)
        runner = self.context.runner
        self.locker = WindowLock(self, interval_ms=self._idle_lock_ms)
        self.locker.start()

        def remember(db: Database) -> None:
            from clinic_app.storage import records

            # Evaluations recorded with this form open with this very object: the editor built
            # ahead of time for it can be reused (EvaluationPage.prepare).
            records.remember_form(db, form)

        runner.run("Loading the form", remember, parent=self)
        self.stack.setCurrentWidget(self.detail)
        self.stack.removeWidget(self.opening)
        self.opening.deleteLater()
        runner.changed.connect(self.detail.on_runner_changed)
        runner.changed.connect(self.on_runner_changed)
        self.statusBar().showMessage(
            f"Signed in as {self.context.user} · "
            f"changes saved within {AUTOSAVE_MAX_WAIT_MS / 1000:g} s"
        )
        for notice in db.notices:
            self.statusBar().showMessage(notice, 15000)
        # Reloads from the database (the first page may be a moment old) and selects again the
        # patient picked meanwhile, which shows their details.
        self.patients.attach(runner)
        if self.detail.patient is None:
            self.detail.show_patient(self.patients.current_patient())
        self._update_actions()
        self.save_kept_drafts()
        self.ready.emit()
        QTimer.singleShot(WARM_UP_DELAY_MS, self.warm_up)

    def save_kept_drafts(self) -> None:
        """Save what was kept on this computer when the window closed while the clinic server
        was away (``storage.kept``), first in the worker's queue: before any evaluation opens.
        Someone else's newer version is not overwritten: mine becomes a copy, and the status bar
        says so. What still cannot be saved stays in the data folder for the next start."""

        def op(db: Database) -> tuple[list[KeptSaved], list[str]]:
            from clinic_app.storage import kept
            from clinic_app.storage.errors import StorageError

            done: list[KeptSaved] = []
            problems: list[str] = []
            for draft in kept.kept(db.where):
                try:
                    done.append(kept.save_kept(db, draft))
                except StorageError as err:
                    problems.append(str(err))
            return done, problems

        def saved(result: tuple[list[KeptSaved], list[str]]) -> None:
            done, problems = result
            copies = [d for d in done if d.copy_id is not None]
            parts = []
            if done:
                parts.append(f"changes kept on this computer saved ({len(done)} evaluation(s))")
            if copies:
                who = ", ".join(sorted({d.changed_by or "someone else" for d in copies}))
                parts.append(f"{len(copies)} saved as a copy: changed meanwhile by {who}")
            if problems:
                parts.append(f"not saved yet (kept for the next start): {problems[0]}")
            if parts:
                self.statusBar().showMessage("; ".join(parts), 30000)

        def changes(result: tuple[list[KeptSaved], list[str]]) -> Changes:
            from clinic_app.ui.operations import Changes

            done = result[0]
            ids = {d.evaluation_id for d in done} | {d.copy_id for d in done if d.copy_id}
            return Changes(
                evaluations=frozenset(ids),
                evaluations_of=frozenset(d.patient_id for d in done if d.copy_id),
            )

        self.context.runner.run(
            "Saving changes kept on this computer", op, on_success=saved, changes=changes
        )

    @property
    def is_ready(self) -> bool:
        """The database is open and every panel is there (see :meth:`attach`)."""
        return self.context.ready

    @property
    def db(self) -> Database:
        return self.context.db

    @property
    def form(self) -> Form:
        return self.context.form

    @property
    def clinician(self) -> Clinician:
        return self.context.clinician

    @property
    def user(self) -> str:
        return self.context.user

    # -- warm-up ---------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Prepare, while the therapist looks at the list, what the first evaluation and the
        first PDF would otherwise build on demand (~100 ms and ~150 ms; benchmarks/). Warm
        (``warmed``) once both the editor's pages and the PDF libraries are ready."""
        if self.is_warm or not self.is_ready:
            return
        form = self.form
        self.page.prepared.connect(self.on_page_prepared)
        self.page.prepare(form)
        self.page.rehearse_first_showing(self._show_page_once)
        self._warming = {"pdf"} | ({"editor"} if self.page.is_preparing() else set())

        def load_pdf_libraries(_db: Database) -> None:
            from clinic_app.reports import warm_up

            warm_up(form)

        self.context.runner.run(
            "Preparing the PDF builder",
            load_pdf_libraries,
            on_success=self.on_pdf_warmed,
            on_failure=lambda _err: self.on_pdf_warmed(None),  # the first PDF is just slower
        )

    def _show_page_once(self, show: bool) -> None:
        """The evaluation page as the current screen, or the screen before it back (for
        ``EvaluationPage.rehearse_first_showing``); the keyboard focus stays where it was."""
        if show:
            self._before_rehearsal = (self.stack.currentWidget(), QApplication.focusWidget())
            self.patients.hide()  # as open_evaluation does: the page at its width when open
            self.splitter.refresh()
            self.stack.setCurrentWidget(self.page)
            return
        screen, focus = self._before_rehearsal
        if screen is not None:
            self.stack.setCurrentWidget(screen)
        self.patients.show()
        self.splitter.refresh()
        if focus is not None and QApplication.focusWidget() is not focus:
            focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def on_page_prepared(self) -> None:
        self._warmed("editor")

    def on_pdf_warmed(self, _result: object) -> None:
        self._warmed("pdf")

    def _warmed(self, part: str) -> None:
        self._warming.discard(part)
        if self._warming or self.is_warm:
            return
        # Everything loaded so far lives as long as the app: keep it out of the cyclic garbage
        # collector's full passes, which otherwise walk it all (5-15 ms pauses while typing).
        gc.freeze()
        self.is_warm = True
        self.warmed.emit()

    # -- menus -----------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        window_menus.build_menus(self)

    def _update_actions(self) -> None:
        window_menus.update_actions(self)

    def _update_admin_actions(self) -> None:
        window_menus.update_admin_actions(self)

    # -- settings --------------------------------------------------------------------------------

    def restore_settings(self) -> None:
        s = self.context.settings()
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = s.value("window/main_splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)

    def save_settings(self) -> None:
        s = self.context.settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/main_splitter", self.splitter.saveState())
        self.page.remember_layout()  # nothing to remember while no evaluation is open
        s.sync()

    # -- what changed ------------------------------------------------------------------------

    def on_runner_changed(self, changes: Changes) -> None:
        """An operation changed something: refresh the list when its rows may differ."""
        if changes.patient_list:
            self.patients.refresh()

    # -- patients --------------------------------------------------------------------------------

    def on_patients_patient_selected(self, patient: Patient | None) -> None:
        if not self.is_ready:
            return  # attach() shows the patient then selected
        if self.stack.currentWidget() is self.page and self.page.evaluation is not None:
            if (
                patient is not None
                and self.page.patient is not None
                and patient.id == self.page.patient.id
            ):
                return
            if not self.page.may_close() or not self.page.close_evaluation():
                if self.page.patient is not None:  # the list shows whose record is open again
                    # (once the list has finished moving to the row clicked)
                    open_id = self.page.patient.id
                    QTimer.singleShot(0, lambda: self.patients.select_patient(open_id))
                return
        self.detail.show_patient(patient)
        self.stack.setCurrentWidget(self.detail)
        self._update_actions()

    def on_patients_patient_activated(self, patient: Patient) -> None:
        self.on_patients_patient_selected(patient)

    def on_new_patient_triggered(self) -> None:
        if self.is_ready:
            self._edit_patient(None)

    def on_detail_edit_requested(self) -> None:
        if self.detail.patient is not None:
            self._edit_patient(self.detail.patient)

    def _edit_patient(self, patient: Patient | None) -> None:
        from clinic_app.ui.dialogs import PatientDialog

        dialog = PatientDialog(self.context.runner, self.user, patient, parent=self)
        dialog.saved.connect(self.on_patient_dialog_saved)
        dialog.open()

    def on_detail_archive_requested(self, archive: bool) -> None:
        patient = self.detail.patient
        if patient is None:
            return
        name = escape(f"{patient.given_name} {patient.family_name}")
        if archive:
            title, verb = "Archive patient", "Archive"
            text = (
                f"Archive <b>{name}</b> (MRN {escape(patient.mrn)})?<br><br>The patient leaves the "
                "list and search. Nothing is deleted: tick <i>Archived</i> below the list to see "
                "archived patients and restore them."
            )
        else:
            title, verb = "Restore patient", "Restore"
            text = f"Restore <b>{name}</b> to the patient list?"
        ok, cancel = QMessageBox.StandardButton.Ok, QMessageBox.StandardButton.Cancel
        if ask(self, title, text, ok | cancel, {ok: verb}) != ok:
            return
        user, pid = self.user, patient.id

        def op(db: Database) -> Patient:
            from clinic_app.storage import records

            return records.archive_patient(db, pid, user=user, archived=archive).patient

        def done(changed: Patient) -> None:
            self.patients.model.reload()
            shown = self.patients.select_patient(changed.id)
            self.detail.show_patient(changed if shown else None)
            verb_done = "Archived" if archive else "Restored"
            self.statusBar().showMessage(
                f"{verb_done} {patient.given_name} {patient.family_name}", 8000
            )
            self._update_actions()

        self.context.runner.run(
            "Archiving the patient" if archive else "Restoring the patient",
            op,
            on_success=done,
            parent=self,
        )

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
        from clinic_app.ui.operations import Changes

        patient = self.detail.patient or self.page.patient
        if patient is None:
            return
        if not self.page.may_close() or not self.page.close_evaluation():
            return
        form, user, clinician_id = self.form, self.user, self.clinician.id
        # Into the episode selected on the patient view (when open); else the patient's open
        # episode, or a new one (records.start_evaluation).
        episode = self.detail.selected_episode()
        episode_id = episode.id if episode is not None and episode.is_open else None
        if kind == "visit" and episode_id is None:
            return  # a visit note belongs to an open episode (the button says so)

        def op(db: Database) -> Evaluation:
            from clinic_app.storage import records

            return records.start_evaluation(
                db,
                patient.id,
                form,
                user=user,
                kind=kind,  # type: ignore[arg-type]
                clinician_id=clinician_id,
                episode_id=episode_id,
            )

        self.context.runner.run(
            "Starting the visit note" if kind == "visit" else "Starting the evaluation",
            op,
            on_success=lambda ev: self.open_evaluation(ev, patient),
            parent=self,
            changes=lambda ev: Changes.evaluation(ev.id, patient.id),
        )

    def on_detail_evaluation_opened(self, evaluation_id: int) -> None:
        from clinic_app.ui.operations import show_failure

        patient = self.detail.patient
        if patient is None:
            return

        def op(db: Database) -> Evaluation:
            from clinic_app.storage import records

            return records.get_evaluation(db, evaluation_id)

        try:
            evaluation = self.context.runner.call("Opening the evaluation", op)
        except Exception as err:
            show_failure(self, "Opening the evaluation", err)
            return
        self.open_evaluation(evaluation, patient)

    def open_evaluation(self, evaluation: Evaluation, patient: Patient) -> None:
        self.page.open(evaluation, patient)
        if self.page.view is None:
            return  # could not be opened; the page said why
        # The evaluation gets the whole width; "← Patient" brings the patient list back.
        # (Hidden first, and the splitter told at once: showing the page lays it out there and
        # then, at the width it finds; laying it out twice costs ~12 ms.)
        self.patients.hide()
        self.splitter.refresh()
        self.stack.setCurrentWidget(self.page)
        self._update_actions()
        # Sex and age band from the record, filled into a new draft (ui/keyboard.py, issue 18).
        self.page.view.editor.keys.use_patient_record(
            patient.sex,
            patient.date_of_birth,
            evaluation.eval_date,
            fill=evaluation.version == 1 and evaluation.status == "draft",
        )
        self.page.view.editor.focus_first_field()

    def on_stack_current_changed(self, _index: int) -> None:
        shown = self.stack.currentWidget()
        for i in range(self.stack.count()):
            screen = self.stack.widget(i)
            ignored = QSizePolicy.Policy.Ignored
            policy = QSizePolicy.Policy.Preferred if screen is shown else ignored
            if screen is not None:
                screen.setSizePolicy(policy, policy)

    def on_page_back_requested(self) -> None:
        if not self.page.may_close() or not self.page.close_evaluation():
            return
        self.detail.show_patient(self.page.patient)
        self.stack.setCurrentWidget(self.detail)
        self.patients.show()
        self._update_actions()

    def on_page_status_changed(self, text: str) -> None:
        self.saved_label.setText(text)

    def on_next_section_triggered(self) -> None:
        if self.page.view is not None:
            self.page.view.editor.step_section(1)

    def on_previous_section_triggered(self) -> None:
        if self.page.view is not None:
            self.page.view.editor.step_section(-1)

    # -- documents ---------------------------------------------------------------------------

    def on_export_report_triggered(self) -> None:
        self.documents.export("report")

    def on_export_handout_triggered(self) -> None:
        self.documents.export("handout")

    def on_print_handout_triggered(self) -> None:
        self.documents.print_handout()

    def on_preview_triggered(self) -> None:
        self.documents.preview()

    def on_backup_triggered(self) -> None:
        self.documents.backup()

    def on_documents_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _open(self, dialog: str) -> QWidget:
        """Show ``<module>.<Name>Dialog(context, self)`` of clinic_app.ui (imported when used)."""
        module, name = dialog.split(".")
        made = getattr(import_module(f"clinic_app.ui.{module}"), f"{name}Dialog")(
            self.context, self
        )
        made.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        made.show()
        return made  # type: ignore[no-any-return]

    def on_settings_triggered(self) -> None:
        from clinic_app.ui.dialogs import ClinicDialog

        admin = "admin" in self.clinician.roles and self.clinician.login is not None
        dialog = ClinicDialog(
            self.context.runner, clinician_id=self.clinician.id, parent=self, admin=admin
        )
        dialog.saved.connect(self.context.set_clinician)
        if admin and self.locker is not None:
            dialog.saved.connect(self.locker.on_settings_saved)
        dialog.open()

    # -- the idle lock and signing out (ui/idle_lock.py) -----------------------------------

    def on_lock_triggered(self) -> None:
        if self.locker is not None:
            self.locker.lock()

    def on_sign_out_triggered(self) -> None:
        if self.locker is not None:
            self.locker.sign_out()

    def show_patient_list(self) -> None:
        """The patient list and an empty detail panel (no evaluation open)."""
        self.patients.show()
        self.patients.view.clearSelection()
        self.detail.show_patient(None)
        self.stack.setCurrentWidget(self.detail)
        self._update_actions()

    def take_over(self, clinician: Clinician) -> None:
        """Another clinician signed in on the lock page (the open evaluation is already saved
        and closed): the window becomes theirs, at the patient list."""
        self.show_patient_list()
        self.patients.search.clear()
        self.context.set_clinician(clinician)
        self.statusBar().showMessage(f"Signed in as {clinician.name}", 8000)

    def on_context_clinician_changed(self, clinician: Clinician) -> None:
        if self.page.saver is not None:
            self.page.saver.user = clinician.name
        self.statusBar().showMessage("Settings saved", 5000)

    # -- closing ---------------------------------------------------------------------------------

    def may_quit(self) -> bool:
        """Fields showing refused values: ask first (not over the idle lock: no field shows)."""
        locked = self.locker is not None and self.locker.is_locked
        return not self.is_ready or locked or self.page.may_close()

    def quit(self) -> None:
        """File ▸ Quit: as the close button."""
        if self.may_quit():
            self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        # nothing to flush before attach, or with no draft open; a server that is away: the
        # unsaved changes go to the data folder and are saved at the next start
        # The window's own close button asks about refused values (Quit asks in quit()); a
        # close from code (the app ending, a test) does not wait for an answer.
        if event.spontaneous() and not self.may_quit():
            event.ignore()
            return
        if not self.page.flush() and self.page.keep_on_this_computer() is None:
            answer = ask(
                self,
                "Unsaved changes",
                "The open evaluation could not be saved. Close anyway and lose the last changes?",
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                default=QMessageBox.StandardButton.Cancel,  # Enter loses nothing
            )
            if answer != QMessageBox.StandardButton.Discard:
                event.ignore()
                return
        self.save_settings()
        if self.page.saver is not None:
            self.page.saver.detach()
        event.accept()
        self.context.stop()  # after the last save: ends the database worker thread

    def on_loader_noticed(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)

    def flush(self) -> bool:
        """Save the open evaluation now (quitting, logging out); True if nothing is left unsaved."""
        return self.page.flush()
