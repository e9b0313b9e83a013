"""The window's document actions: export, print and preview the open evaluation; back up.

One object owns them so that the main window only wires menus to it. What a document shows is
read back from the database after the draft is flushed (one builder shared with the CLI,
``clinic_app.reports.records``), through the operation runner; a failure is shown the app's one
way and the evaluation stays exactly as it was.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from clinic_app.ui.access_log import record_access
from clinic_app.ui.context import AppContext
from clinic_app.ui.export_folder import export_folder, remember_export_folder
from clinic_app.ui.operations import show_failure
from clinic_app.ui.text import report_file_name

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.ui.evaluation_page import EvaluationPage
    from clinic_app.ui.pdf_preview import PdfPreviewDialog

log = logging.getLogger(__name__)

KIND_WORDS = {"report": "report", "handout": "handout"}
PREVIEW_PREFIX = "clinic_app_preview_"


def remove_previews(keep: set[Path] | frozenset[Path] = frozenset()) -> int:
    """Delete this user's preview folders left in the temporary folder (a preview is a whole
    patient report); returns how many. At start every one is stale; at quit, this run's."""
    removed = 0
    base = Path(tempfile.gettempdir())
    try:
        candidates = list(base.glob(f"{PREVIEW_PREFIX}*"))
    except OSError:
        return 0
    for folder in candidates:
        try:
            mine = (
                folder.is_dir()
                and not folder.is_symlink()
                and (os.name == "nt" or folder.stat().st_uid == os.getuid())
            )
        except OSError:
            continue
        if mine and folder not in keep:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        log.info("removed %d report previews", removed)
    return removed


class DocumentActions(QObject):
    """Export, print and preview the evaluation open in ``page``; back up the database.

    Signals: ``status(str)`` — a line for the window's status bar ("Exported …").
    """

    status = Signal(str)

    def __init__(self, context: AppContext, page: EvaluationPage, parent: QWidget) -> None:
        super().__init__(parent)
        self.context = context
        self.page = page
        self.parent_widget = parent
        self.previews: list[Path] = []
        self.preview_dialog: PdfPreviewDialog | None = None  # the last preview shown
        remove_previews()  # what an earlier run left behind (it crashed, or was killed)
        from PySide6.QtCore import QCoreApplication

        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.remove_previews)

    def remove_previews(self) -> None:
        """Delete the previews this window made (when the app quits)."""
        previews, self.previews = self.previews, []
        for folder in previews:
            shutil.rmtree(folder, ignore_errors=True)

    # -- reading what is stored ---------------------------------------------------------------

    def report_data(self, what: str) -> Any:
        """The open evaluation as ``clinic_app.reports.ReportData``, read back after a flush so
        the document shows exactly what is stored; None (after saying why) if it cannot be."""
        ev = self.page.evaluation
        if ev is None:
            return None
        if not self.page.flush():
            QMessageBox.warning(
                self.parent_widget,
                "Not saved",
                "Save the evaluation first: it has unsaved changes.",
            )
            return None
        eid = ev.id

        def read(db: Database) -> tuple[Any, str | None]:
            from clinic_app.reports.records import report_data_for_evaluation
            from clinic_app.storage.logo import logo_problem

            data = report_data_for_evaluation(db, eid)
            logo = data.clinic.logo
            return data, None if logo is None else logo_problem(logo)

        try:
            data, logo_problem = self.context.runner.call(what, read)
        except Exception as err:
            show_failure(self.parent_widget, what, err)
            return None
        if logo_problem is not None and not self.confirm_without_logo(what, logo_problem):
            return None
        if logo_problem is not None:
            from dataclasses import replace

            data = replace(data, clinic=replace(data.clinic, logo=None))
        return data

    def confirm_without_logo(self, what: str, problem: str) -> bool:
        """A stored logo that cannot be drawn (damaged after it was saved): say so and ask,
        rather than make a document silently without the clinic's logo (issue 19)."""
        from clinic_app.storage.logo import FIX

        box = QMessageBox(
            QMessageBox.Icon.Warning,
            what,
            f"The clinic logo stored in the database {problem}.\n\n"
            f"The document can be made without the logo. To mend it, {FIX}.",
            parent=self.parent_widget,
        )
        go = box.addButton("Make it without the logo", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("damaged_logo")
        box.exec()
        chosen = box.clickedButton() is go
        log.warning("the stored clinic logo cannot be drawn (made without it: %s)", chosen)
        return chosen

    def _build(self, kind: str, data: Any, path: Path, what: str) -> bool:
        from clinic_app import private, reports

        build = reports.build_clinician_report if kind == "report" else reports.build_handout
        try:
            # 0600 whatever the umask, and never through a symlink: an export must not
            # overwrite the file a link points to.
            with os.fdopen(private.open_new(path), "wb") as stream:
                build(data, stream)
        except Exception as err:  # a report problem must not lose the evaluation
            if not path.is_symlink():
                path.unlink(missing_ok=True)
            show_failure(self.parent_widget, what, err)
            return False
        return True

    def _record(self, action: str) -> None:
        """Access log: the open evaluation's document was exported, printed or previewed."""
        ev = self.page.evaluation
        if ev is not None:
            record_access(self.context, action, "evaluation", ev.id, parent=self.parent_widget)

    # -- the actions --------------------------------------------------------------------------

    def export(self, kind: str) -> Path | None:
        """Ask where, then write the clinician report (``"report"``) or the handout."""
        what = f"Exporting the {KIND_WORDS[kind]}"
        data = self.report_data(what)
        p = self.page.patient
        if data is None or p is None:
            return None
        default = report_file_name(p, data.evaluation.date, kind)
        folder = export_folder(self.context.db)  # the last one used for this clinic
        path, _ = QFileDialog.getSaveFileName(
            self.parent_widget, f"Export {kind}", str(folder / default), "PDF (*.pdf)"
        )
        if not path or not self._build(kind, data, Path(path), what):
            return None
        remember_export_folder(self.context.db, path)
        self._record("export")
        self.status.emit(f"Exported {path}")
        return Path(path)

    def print_handout(self) -> None:
        """Build the handout PDF, let the user pick the printer, and send that PDF to it."""

        from clinic_app.ui import printing

        what = "Printing the handout"
        data = self.report_data(what)
        p = self.page.patient
        if data is None or p is None:
            return
        parent = self.parent_widget
        with tempfile.TemporaryDirectory(prefix="clinic_app_print_") as folder:
            path = Path(folder) / report_file_name(p, data.evaluation.date, "handout")
            if not self._build("handout", data, path, what):
                return
            progress, on_page = printing.page_progress("Printing the handout…", parent)

            try:
                sent = printing.print_with_dialog(
                    parent, path, job_name=path.stem, progress=on_page, title="Print handout"
                )
            except printing.PrintError as err:
                QMessageBox.information(parent, "Print handout", str(err))
                return
            finally:
                progress.close()
        if sent is not None:
            self._record("print")
            self.status.emit(f"Sent {sent} pages to the printer")

    def preview(self, kind: str = "report") -> Path | None:
        """Build the report (or handout) and show it in the app's own print preview.

        In the app, not the system's PDF viewer: a computer without one showed nothing at all.
        """
        what = f"Previewing the {KIND_WORDS[kind]}"
        data = self.report_data(what)
        p = self.page.patient
        if data is None or p is None:
            return None
        folder = Path(tempfile.mkdtemp(prefix=PREVIEW_PREFIX))  # 0700: only this user
        self.previews.append(folder)
        path = folder / report_file_name(p, data.evaluation.date, kind)
        if not self._build(kind, data, path, what):
            return None
        self._record("preview")
        self.show_preview(path, f"Preview: {KIND_WORDS[kind]}")
        self.status.emit(f"Preview: {path.name}")
        return path

    def show_preview(self, path: Path, title: str) -> PdfPreviewDialog:
        """The print preview of ``path`` (not modal: the record stays usable beside it)."""
        from clinic_app.ui.pdf_preview import PdfPreviewDialog

        dialog = PdfPreviewDialog(path, title, self.parent_widget, job_name=path.stem)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.printed.connect(self.on_preview_printed)
        self.preview_dialog = dialog
        dialog.show()
        return dialog

    def on_preview_printed(self, pages: int) -> None:
        self._record("print")
        self.status.emit(f"Sent {pages} pages to the printer")

    def backup(self) -> None:
        """Copy the SQLite database to a file the user chooses (SQLite's online backup)."""
        source = self.context.db.path
        if source is None:
            return
        self.page.flush()
        default = f"clinic_backup_{date.today():%Y-%m-%d}.db"
        path, _ = QFileDialog.getSaveFileName(
            self.parent_widget,
            "Back up the database",
            str(Path.home() / default),
            "SQLite database (*.db)",
        )
        if not path:
            return
        target = Path(path)

        def copy(_db: Database) -> list[str]:
            from clinic_app.storage import backup

            # The save dialog has already asked before replacing an existing file.
            backup.copy_database(source, target, overwrite=True)
            return backup.copy_problems(target)  # seals, chains, schema of what was copied

        def copied(problems: list[str]) -> None:
            if not problems:
                self.status.emit(f"Backed up to {path}")
                return
            self.status.emit(f"Backed up to {path}; {len(problems)} records fail their seal check")
            QMessageBox.warning(
                self.parent_widget,
                "Backed up, but records were changed",
                "The backup was written, but records in it were changed after they were signed:"
                "\n" + "\n".join(problems[:10]),
            )

        def failed(err: BaseException) -> None:
            if isinstance(err, OSError):
                QMessageBox.warning(self.parent_widget, "Backup failed", str(err))
            else:
                show_failure(self.parent_widget, "Backing up the database", err)

        self.context.runner.run(
            "Backing up the database",
            copy,
            on_success=copied,
            on_failure=failed,
            parent=self.parent_widget,
        )
