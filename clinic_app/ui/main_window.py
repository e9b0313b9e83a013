"""The main window: patients on the left; a patient's details or an evaluation on the right.

Everything stored goes through ``clinic_app.storage.records`` (plain values in and out, one short
transaction per call). After a mutation the window refreshes what it shows in its own ``on_…``
handler; no widget holds a session.

The window can appear before the database is open (see ``clinic_app.ui.app``): built from a
``FirstPage`` it shows the patient list at once and a placeholder on the right; :meth:`attach`
adds the database, the form, the patient details and the evaluation page when the worker thread
has opened them. This module therefore imports only Qt and light modules at the top; the rest
comes in with ``attach``.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from clinic_app.storage.values import Clinician, Patient
from clinic_app.ui.gc_guard import ensure_gui_thread_gc
from clinic_app.ui.patient_list import PatientListPanel
from clinic_app.ui.text import local_time, report_file_name

if TYPE_CHECKING:
    from clinic_app.core.form import Form
    from clinic_app.storage.database import Database
    from clinic_app.storage.first_page import FirstPage
    from clinic_app.storage.records import Evaluation
    from clinic_app.ui.assessment import EvaluationView
    from clinic_app.ui.evaluation_page import ConflictDialog, EvaluationPage
    from clinic_app.ui.patient_detail import PatientDetail

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
    _pdf_warmed = Signal()  # from the warm-up thread; delivered on the window's thread

    def __init__(
        self,
        db: Database | None,
        form: Form | None,
        clinician: Clinician,
        parent: QWidget | None = None,
        *,
        first_page: FirstPage | None = None,
    ) -> None:
        """With ``db`` and ``form``: the whole window. Without: the patient list of
        ``first_page`` only, until :meth:`attach`."""
        super().__init__(parent)
        ensure_gui_thread_gc()  # before any of the window's worker threads can start
        if (db is None or form is None) and first_page is None:
            raise ValueError("MainWindow needs a database and a form, or a first page to show")
        self.db: Database = db  # type: ignore[assignment]  # set by attach() when None
        self.form: Form = form  # type: ignore[assignment]
        self.clinician = clinician
        # The SQLite file the first page came from (None when built with a database).
        self.first_page_path = None if first_page is None else first_page.path
        self.is_ready = False
        self.is_warm = False
        self.conflict_dialog: ConflictDialog | None = None
        self.detail: PatientDetail
        self.page: EvaluationPage
        self.setWindowTitle("clinic_app — posterior thigh evaluation")
        self.setMinimumSize(960, 620)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.patients = PatientListPanel(db, self.splitter, first_page=first_page)
        self.patients.setMinimumWidth(250)
        self.stack = QStackedWidget(self.splitter)
        self.opening = QLabel("Opening the clinic database…", self.stack)
        self.opening.setObjectName("openingLabel")
        self.opening.setProperty("role", "secondary")
        self.opening.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.opening)
        self.splitter.addWidget(self.patients)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([360, 920])
        self.setCentralWidget(self.splitter)
        self.saved_label = QLabel(self)
        self.saved_label.setObjectName("savedLabel")
        self.statusBar().addPermanentWidget(self.saved_label)
        self.statusBar().showMessage(f"Signed in as {clinician.name} · opening the database…")

        self.patients.patient_selected.connect(self.on_patients_patient_selected)
        self.patients.patient_activated.connect(self.on_patients_patient_activated)
        self.patients.new_button.clicked.connect(self.on_new_patient_triggered)
        self._pdf_warmed.connect(self.on_pdf_warmed)
        self._build_menus()
        self.restore_settings()
        if db is not None and form is not None:
            self.attach(db, form)

    def attach(self, db: Database, form: Form) -> None:
        """Add the database, the form and the panels that need them; emits ``ready``."""
        from clinic_app.storage import records
        from clinic_app.ui.autosave import AUTOSAVE_MAX_WAIT_MS
        from clinic_app.ui.evaluation_page import EvaluationPage
        from clinic_app.ui.patient_detail import PatientDetail

        if self.is_ready:
            raise RuntimeError("the main window is already attached to a database")
        self.db = db
        self.form = form
        records.remember_form(db, form)
        self.detail = PatientDetail(db, self.stack)
        self.page = EvaluationPage(self)
        self.stack.addWidget(self.detail)
        self.stack.addWidget(self.page)
        self.stack.setCurrentWidget(self.detail)
        self.stack.removeWidget(self.opening)
        self.opening.deleteLater()
        self.detail.edit_requested.connect(self.on_detail_edit_requested)
        self.detail.archive_requested.connect(self.on_detail_archive_requested)
        self.detail.evaluation_opened.connect(self.on_detail_evaluation_opened)
        self.detail.new_evaluation_requested.connect(self.on_detail_new_evaluation_requested)
        self.page.back_requested.connect(self.on_page_back_requested)
        self.page.status_changed.connect(self.on_page_status_changed)
        self.page.signed.connect(self.on_page_signed)
        self.statusBar().showMessage(
            f"Signed in as {self.clinician.name} · "
            f"changes saved within {AUTOSAVE_MAX_WAIT_MS / 1000:g} s"
        )
        for notice in db.notices:
            self.statusBar().showMessage(notice, 15000)
        self.is_ready = True
        # Reloads from the database (the first page may be a moment old) and selects again the
        # patient picked meanwhile, which shows their details.
        self.patients.attach(db)
        if self.detail.patient is None:
            self.detail.show_patient(self.patients.current_patient())
        self._update_actions()
        self.ready.emit()
        QTimer.singleShot(WARM_UP_DELAY_MS, self.warm_up)

    # -- warm-up ---------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Prepare, while the therapist looks at the list, what the first evaluation and the
        first PDF would otherwise build on demand (~100 ms and ~150 ms; benchmarks/)."""
        if self.is_warm or not self.is_ready:
            return
        self.page.prepare(self.form)
        self._warm_thread = threading.Thread(
            target=self._warm_pdf, name="clinic_app PDF warm-up", daemon=True
        )
        self._warm_thread.start()

    def _warm_pdf(self) -> None:
        from clinic_app.reports import warm_up

        try:
            warm_up(self.form)
        finally:
            # RuntimeError: the window was closed and deleted meanwhile; nobody to tell.
            with contextlib.suppress(RuntimeError):
                self._pdf_warmed.emit()

    def on_pdf_warmed(self) -> None:
        # Everything loaded so far lives as long as the app: keep it out of the cyclic garbage
        # collector's full passes, which otherwise walk it all (5-15 ms pauses while typing).
        gc.freeze()
        self.is_warm = True
        self.warmed.emit()

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
        if not self.is_ready:  # only the list and the search box work until attach()
            for key, action in self.actions_.items():
                action.setEnabled(key in ("quit", "find_patient"))
            return
        for action in self.actions_.values():
            action.setEnabled(True)
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
        if self.is_ready and self.page.view is not None:
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
        self,
        title: str,
        text: str,
        buttons: QMessageBox.StandardButton,
        labels: dict[QMessageBox.StandardButton, str] | None = None,
    ) -> QMessageBox.StandardButton:
        """A question; ``labels`` renames buttons ("Archive" says more than "Yes")."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        for which, label in (labels or {}).items():
            button = box.button(which)
            if button is not None:
                button.setText(label)
        return QMessageBox.StandardButton(box.exec())

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
            if not self.page.close_evaluation():
                return
        self.detail.show_patient(patient)
        self.stack.setCurrentWidget(self.detail)
        self._update_actions()

    def on_patients_patient_activated(self, patient: Patient) -> None:
        self.on_patients_patient_selected(patient)

    def on_new_patient_triggered(self) -> None:
        from clinic_app.ui.dialogs import PatientDialog

        if not self.is_ready:
            return
        dialog = PatientDialog(self.db, self.user, parent=self)
        dialog.saved.connect(self.on_patient_dialog_saved)
        dialog.open()

    def on_detail_edit_requested(self) -> None:
        from clinic_app.ui.dialogs import PatientDialog

        if self.detail.patient is None:
            return
        dialog = PatientDialog(self.db, self.user, self.detail.patient, parent=self)
        dialog.saved.connect(self.on_patient_dialog_saved)
        dialog.open()

    def on_detail_archive_requested(self, archive: bool) -> None:
        from html import escape

        from clinic_app.storage import records
        from clinic_app.storage.errors import StorageError

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
        if self.ask(title, text, ok | cancel, {ok: verb}) != ok:
            return
        try:
            change = records.archive_patient(self.db, patient.id, user=self.user, archived=archive)
        except StorageError as err:
            QMessageBox.warning(self, title, str(err))
            return
        self.patients.model.reload()
        shown = self.patients.select_patient(change.patient.id)
        self.detail.show_patient(change.patient if shown else None)
        done = "Archived" if archive else "Restored"
        self.statusBar().showMessage(f"{done} {patient.given_name} {patient.family_name}", 8000)
        self._update_actions()

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
        from clinic_app.storage import records

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
        from clinic_app.storage import records

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
        from clinic_app.storage.errors import StorageError

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
        from clinic_app.ui.dialogs import ClinicDialog

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
        if not self.is_ready:
            self.save_settings()
            event.accept()
            return
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

    def on_loader_noticed(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)

    def flush(self) -> bool:
        """Save the open evaluation now (quitting, logging out); True if nothing is left unsaved."""
        return self.page.flush() if self.is_ready else True
