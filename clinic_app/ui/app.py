"""Starting the desktop app: Qt application, style, database, first run, main window."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QWidget

from clinic_app.core.form import FormError, load_form
from clinic_app.paths import default_form_path, resources_dir
from clinic_app.storage import records
from clinic_app.storage.database import Database
from clinic_app.storage.errors import NotFoundError, StorageError
from clinic_app.storage.records import Clinician

ORGANISATION = "clinic_app"
APPLICATION = "clinic_app"


def style_sheet() -> str:
    path = resources_dir() / "style.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setStyleSheet(style_sheet())


def ensure_clinician(db: Database, parent: QWidget | None = None) -> Clinician | None:
    """The clinician using this computer; asks on first run (clinic details and profile).

    Remembered per computer in QSettings (``clinician_id``); None if the user cancels.
    """
    from clinic_app.ui.dialogs import ClinicDialog

    settings = QSettings()
    raw = settings.value("clinician_id")
    clinic = records.get_clinic(db)
    if raw is not None and clinic is not None:
        try:
            return records.get_clinician(db, int(str(raw)))
        except (NotFoundError, ValueError):
            pass
    people = records.list_clinicians(db)
    someone_else = "Someone else (add a clinician)…"
    if clinic is not None and people:
        names = [p.name for p in people]
        if len(people) == 1:
            name = names[0]
        else:
            name, ok = QInputDialog.getItem(
                parent,
                "Who is using this computer?",
                "Clinician:",
                [*names, someone_else],
                0,
                False,
            )
            if not ok:
                return None
        if name in names:
            chosen = people[names.index(name)]
            settings.setValue("clinician_id", chosen.id)
            return chosen
    dialog = ClinicDialog(db, first_run=True, show_storage=True, parent=parent)
    if dialog.exec() != ClinicDialog.DialogCode.Accepted or dialog.clinician is None:
        return None
    settings.setValue("clinician_id", dialog.clinician.id)
    return dialog.clinician  # type: ignore[no-any-return]


def run(database: str | None = None) -> int:
    """Open the app on ``database`` (a URL; default: the data folder's SQLite file)."""
    from clinic_app.storage.database import open_database
    from clinic_app.ui.main_window import MainWindow

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv)
    QCoreApplication.setOrganizationName(ORGANISATION)
    QCoreApplication.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("clinic_app")
    apply_style(app)
    try:
        form = load_form(default_form_path())
    except FormError as err:
        QMessageBox.critical(None, "The evaluation form cannot be used", "\n".join(err.problems))
        return 1
    try:
        db = open_database(database)
    except StorageError as err:
        QMessageBox.critical(None, "The database cannot be opened", str(err))
        return 1
    try:
        clinician = ensure_clinician(db)
        if clinician is None:
            return 1
        window = MainWindow(db, form, clinician)
        # A session ending (logout, shutdown) may quit without closing the window: save anyway.
        app.aboutToQuit.connect(window.page.flush)
        window.show()
        code = int(app.exec())
        window.page.close_evaluation()  # saves anything left and ends the autosave thread
        return code
    finally:
        db.close()
