"""Starting the desktop app: Qt application, style, database, first run, main window.

The usual start (an existing, up-to-date SQLite database and a clinician remembered on this
computer) shows the main window with the first page of patients read by the stdlib ``sqlite3``
module, *before* SQLAlchemy, pydantic and PyYAML are imported (together about three times a bare
Qt window's start; benchmarks/). A worker thread then opens the database properly (integrity
check, schema check, daily backup) and loads the form; the window attaches them when it is done.
Nothing writes to the file before that check has passed, so a damaged database is still refused
byte-identical. Any other start (first run, an upgrade, PostgreSQL) opens everything first, as
before. This module therefore imports only Qt and light modules at the top.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QWidget

from clinic_app.paths import resources_dir
from clinic_app.ui.gc_guard import ensure_gui_thread_gc

if TYPE_CHECKING:
    from clinic_app.core.form import Form
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import Clinician
    from clinic_app.ui.main_window import MainWindow
    from clinic_app.ui.operations import OperationRunner

ORGANISATION = "clinic_app"
APPLICATION = "clinic_app"
FORM_PROBLEM = "The evaluation form cannot be used"
DATABASE_PROBLEM = "The database cannot be opened"


def style_sheet() -> str:
    path = resources_dir() / "style.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


# Shipped with the app (the PDFs embed it too): Chinese and Japanese names on a computer whose
# system fonts have no such glyphs. Registering it costs about 6 ms at start.
FALLBACK_FONT = "DroidSansFallbackFull.ttf"


def add_fallback_font(app: QApplication) -> None:
    """Make the bundled CJK font the app's fallback, after the system's own font: Qt does not
    fall back to an application font by itself, so 王芳 would show as boxes."""
    from PySide6.QtGui import QFontDatabase

    font_id = QFontDatabase.addApplicationFont(str(resources_dir() / "fonts" / FALLBACK_FONT))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        return  # a missing or unreadable font file: names in other scripts may show as boxes
    font = app.font()
    font.setFamilies([*font.families(), *[f for f in families if f not in font.families()]])
    app.setFont(font)


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setStyleSheet(style_sheet())
    add_fallback_font(app)


def remembered_clinician_id() -> int | None:
    """The clinician chosen on this computer before (QSettings ``clinician_id``), if any."""
    raw = QSettings().value("clinician_id")
    try:
        return None if raw is None else int(str(raw))
    except ValueError:
        return None


def _who(db: Database, remembered: int | None) -> tuple[bool, Clinician | None, list[Clinician]]:
    """An operation: is the clinic set up, the remembered clinician (if still there), everyone."""
    from clinic_app.storage import records
    from clinic_app.storage.errors import NotFoundError

    clinic = records.get_clinic(db) is not None
    if remembered is not None and clinic:
        try:
            return clinic, records.get_clinician(db, remembered), []
        except NotFoundError:
            pass
    return clinic, None, records.list_clinicians(db)


def ensure_clinician(runner: OperationRunner, parent: QWidget | None = None) -> Clinician | None:
    """The clinician using this computer; asks on first run (clinic details and profile).

    Remembered per computer in QSettings (``clinician_id``); None if the user cancels.
    """
    from clinic_app.ui.dialogs import ClinicDialog

    settings = QSettings()
    remembered = remembered_clinician_id()
    clinic, known, people = runner.call(
        "Reading the clinic's clinicians", lambda db: _who(db, remembered)
    )
    if known is not None:
        return known
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
    dialog = ClinicDialog(runner, first_run=True, show_storage=True, parent=parent)
    if dialog.exec() != ClinicDialog.DialogCode.Accepted or dialog.clinician is None:
        return None
    settings.setValue("clinician_id", dialog.clinician.id)
    return dialog.clinician  # type: ignore[no-any-return]


class StartupLoader(QObject):
    """Opens the SQLite database at ``path`` and loads the form, on worker threads.

    The file's integrity check (``PRAGMA quick_check``, C code that releases the GIL) runs on a
    second thread while the first imports SQLAlchemy and pydantic and parses the form: the two
    take about as long as each other. The daily backup follows *after* ``loaded``.

    Signals (delivered on the thread that made the loader): ``loaded(object, object)`` — the
    open Database and the Form; ``failed(str, str)`` — a dialog title and a one-line message;
    ``noticed(str)`` — something to tell the user that does not stop the app (backup failed).
    """

    loaded = Signal(object, object)
    failed = Signal(str, str)
    noticed = Signal(str)

    def __init__(self, database: str | None, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.database = database
        self.path = path
        self.db: Database | None = None
        self._thread = threading.Thread(target=self._load, name="clinic_app start-up")

    def start(self) -> None:
        self._thread.start()

    def wait(self) -> Database | None:
        """Wait for the thread (and the daily backup); the database it opened, if any."""
        if self._thread.ident is not None:
            self._thread.join()
        return self.db

    def _check(self, problems: list[Exception]) -> None:
        from clinic_app.storage import files

        try:
            files.check_file(self.path)
        except Exception as exc:  # handed to _load, which reports it
            problems.append(exc)

    def _load(self) -> None:
        problems: list[Exception] = []
        checker = threading.Thread(target=self._check, args=(problems,), name="clinic_app check")
        checker.start()
        try:
            form, db = self._open(checker, problems)
        finally:
            checker.join()
        if form is None or db is None:
            return
        self.db = db
        # What attach() needs next, imported here rather than on the window's thread.
        import clinic_app.core.engine  # noqa: F401
        import clinic_app.storage.records  # noqa: F401

        self.loaded.emit(db, form)
        from clinic_app.storage.database import daily_backup

        daily_backup(db)
        for notice in db.notices:
            self.noticed.emit(notice)

    def _open(
        self, checker: threading.Thread, problems: list[Exception]
    ) -> tuple[Form | None, Database | None]:
        from clinic_app.core.form import FormError, load_form
        from clinic_app.paths import default_form_path
        from clinic_app.storage.database import open_database
        from clinic_app.storage.errors import StorageError

        try:
            form = load_form(default_form_path())
        except FormError as err:
            self.failed.emit(FORM_PROBLEM, "\n".join(err.problems))
            return None, None
        checker.join()
        try:
            if problems:
                raise problems[0]
            return form, open_database(self.database, backup=False, already_checked=True)
        except StorageError as err:
            self.failed.emit(DATABASE_PROBLEM, str(err))
        except Exception as err:  # an unforeseen problem must reach the window, not the console
            self.failed.emit(DATABASE_PROBLEM, f"{type(err).__name__}: {err}")
        return None, None


def show_first_page(database: str | None = None) -> MainWindow | None:
    """The main window showing the first page of patients, before the database is open.

    None when that is not possible (no database yet, an upgrade due, PostgreSQL, first run...):
    the caller then opens everything first. Imports no SQLAlchemy, pydantic or PyYAML.
    """
    from clinic_app.storage.database import default_url
    from clinic_app.storage.first_page import read_first_page, sqlite_path
    from clinic_app.ui.main_window import MainWindow
    from clinic_app.ui.patient_model import PAGE_SIZE

    path = sqlite_path(database or default_url())
    if path is None:
        return None
    first = read_first_page(path, clinician_id=remembered_clinician_id(), limit=PAGE_SIZE)
    if first is None:
        return None
    window = MainWindow(None, None, first.clinician, first_page=first)
    window.show()
    return window


def _prepare_app() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv)
    QCoreApplication.setOrganizationName(ORGANISATION)
    QCoreApplication.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("clinic_app")
    ensure_gui_thread_gc()  # before the start-up loader thread imports and parses
    apply_style(app)
    return app


def run(database: str | None = None) -> int:
    """Open the app on ``database`` (a URL; default: the data folder's SQLite file)."""
    app = _prepare_app()
    from clinic_app.ui.crash import install_crash_handler

    install_crash_handler(app)  # an uncaught exception: logged, one dialog, the app goes on
    window = show_first_page(database)
    if window is None or window.first_page_path is None:
        return _run_opened_first(app, database)
    loader = StartupLoader(database, window.first_page_path)
    outcome: dict[str, Any] = {"code": 0}

    def on_loaded(db: Database, form: Form) -> None:
        window.attach(db, form)

    def on_failed(title: str, message: str) -> None:
        outcome["code"] = 1
        QMessageBox.critical(window, title, message)
        window.close()
        app.exit(1)

    # Emitted on the loader's threads; queued, so the window is only touched on this thread.
    queued = Qt.ConnectionType.QueuedConnection
    loader.loaded.connect(on_loaded, queued)
    loader.failed.connect(on_failed, queued)
    loader.noticed.connect(window.on_loader_noticed, queued)
    # A session ending (logout, shutdown) may quit without closing the window: save anyway.
    app.aboutToQuit.connect(window.flush)
    loader.start()
    code = int(app.exec())
    db = loader.wait()
    try:
        window.flush()
        if window.is_ready:
            window.page.close_evaluation()  # saves anything left
        window.context.stop()  # ends the database worker thread
    finally:
        if db is not None:
            db.close()
    return int(outcome["code"]) or code


def _run_opened_first(app: QApplication, database: str | None) -> int:
    """The start that opens the database (creating or upgrading it) before any window."""
    from clinic_app.core.form import FormError, load_form
    from clinic_app.paths import default_form_path
    from clinic_app.storage.database import open_database
    from clinic_app.storage.errors import StorageError
    from clinic_app.ui.main_window import MainWindow

    try:
        form = load_form(default_form_path())
    except FormError as err:
        QMessageBox.critical(None, FORM_PROBLEM, "\n".join(err.problems))
        return 1
    try:
        db = open_database(database)
    except StorageError as err:
        QMessageBox.critical(None, DATABASE_PROBLEM, str(err))
        return 1
    try:
        from clinic_app.ui.operations import OperationRunner

        first_run = OperationRunner(db)
        try:
            clinician = ensure_clinician(first_run)
        finally:
            first_run.stop()
            first_run.deleteLater()
        if clinician is None:
            return 1
        window = MainWindow(db, form, clinician)
        app.aboutToQuit.connect(window.flush)
        window.show()
        code = int(app.exec())
        window.page.close_evaluation()  # saves anything left
        window.context.stop()  # ends the database worker thread
        return code
    finally:
        db.close()
