"""Starting the desktop app: Qt application, style, sign-in (or the first start), main window.

No patient datum is read before a clinician has signed in with their name and password (issue
14). The usual start (an existing plain SQLite database) shows the sign-in window at once, before
SQLAlchemy, pydantic and PyYAML are imported; meanwhile a worker thread opens the database
properly (integrity check, schema check, then the daily backup) and loads the form, so the
password is usually checked against a database already open. An encrypted database is opened
only once the password has unwrapped its passphrase (``storage.encryption``); PostgreSQL is
opened first; a new data folder starts with the first-start wizard (``ui/first_start.py``). The
main window is built after the sign-in. Nothing writes to a plain file before the integrity
check has passed, so a damaged database is still refused byte-identical. This module therefore
imports only Qt and light modules at the top.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QWidget,
)

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


# What a dialog's first keystroke should go into: the first of these in its Tab order.
_INPUTS = (
    "QLineEdit",
    "QPlainTextEdit",
    "QTextEdit",
    "QAbstractSpinBox",
    "QComboBox",
)


def first_input(dialog: QWidget) -> QWidget | None:
    """The first field of ``dialog`` that a person can type into (None when it has none, e.g.
    a message box: its default button keeps the focus), in the order the fields were laid out.

    Read with ``findChildren`` rather than by walking ``nextInFocusChain``: that walk made a
    wrapper for every widget of the chain and, in PySide6 6.12, left the interpreter to crash
    at exit (a segfault in 4 of 5 test runs, none without it)."""
    for w in dialog.findChildren(QWidget):
        typable = any(w.inherits(name) for name in _INPUTS) and not (
            isinstance(w, QLineEdit) and w.isReadOnly()
        )
        if (
            typable
            and w.window() is dialog
            and w.isVisibleTo(dialog)
            and w.isEnabled()
            and w.focusPolicy() & Qt.FocusPolicy.TabFocus
        ):
            return w
    return None


def focus_first_field(window: object) -> None:
    """Every dialog opens with the keyboard in its first field (issue 18): Qt gives the focus
    to the first widget made, which in a dialog that makes its buttons first is *Save*, so a
    name typed at once went nowhere. A dialog that chose its focus itself keeps it; one
    without a field keeps Qt's choice (its default button). Each dialog is seen once, when it
    first gets the focus: coming back to it later leaves the focus where the user left it.

    Connected to ``focusWindowChanged`` (a few times a minute), not to every event of the
    application, by :func:`install_dialog_focus`. A plain function, not a QObject child of the
    application: that child's wrapper crashed the interpreter at exit (PySide6 6.12)."""
    for widget in QApplication.topLevelWidgets():
        if (
            isinstance(widget, QDialog)
            and widget.windowHandle() is window
            and not widget.property("firstFieldFocused")
        ):
            widget.setProperty("firstFieldFocused", True)
            current = widget.focusWidget()
            if current is None or current.inherits("QAbstractButton"):
                field = first_input(widget)
                if field is not None:
                    field.setFocus(Qt.FocusReason.TabFocusReason)


def install_dialog_focus(app: QApplication) -> None:
    """Connect :func:`focus_first_field` to ``app`` (once; calling again does nothing)."""
    if not app.property("dialogFocusInstalled"):
        app.setProperty("dialogFocusInstalled", True)
        app.focusWindowChanged.connect(focus_first_field)


# The app's own light colours (calm neutrals, one accent). The style sheet names palette roles
# only, so a dark or high-contrast system palette is followed as it is (issue 18).
LIGHT_COLOURS = {
    "Window": "#f6f7f9",
    "WindowText": "#1f2933",
    "Base": "#ffffff",
    "AlternateBase": "#f7f9fb",
    "Text": "#1f2933",
    "Button": "#eef1f4",
    "ButtonText": "#1f2933",
    "Mid": "#c4cbd3",
    "Midlight": "#dde1e6",
    "Highlight": "#2f6db5",
    "HighlightedText": "#ffffff",
    "PlaceholderText": "#5f6b76",
    "ToolTipBase": "#ffffff",
    "ToolTipText": "#1f2933",
}


def light_palette() -> Any:
    """The app's light palette (Fusion's, with the colours above)."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette(QApplication.style().standardPalette())
    for role, colour in LIGHT_COLOURS.items():
        palette.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
    return palette


def is_dark(palette: Any) -> bool:
    """Whether ``palette`` draws light text on a dark window (a dark or high-contrast theme)."""
    from PySide6.QtGui import QPalette

    window = palette.color(QPalette.ColorRole.Window).lightness()
    text = palette.color(QPalette.ColorRole.WindowText).lightness()
    return bool(window < text)


def follow_system_palette(app: QApplication, system: Any = None) -> None:
    """Use the system's palette when it is dark (or high contrast, light on dark), else the
    app's light one; then lay the style sheet again (its ``palette(...)`` colours are read when
    it is applied)."""
    from PySide6.QtGui import QGuiApplication

    system = system if system is not None else QGuiApplication.palette()
    dark_scheme = app.styleHints().colorScheme() == Qt.ColorScheme.Dark
    app.setPalette(system if dark_scheme or is_dark(system) else light_palette())
    app.setStyleSheet(style_sheet())


def _on_scheme_changed(app: QApplication) -> None:
    """The system switched dark/light: drop the app's palette to read the system's again."""
    from PySide6.QtGui import QGuiApplication, QPalette

    app.setPalette(QPalette())
    follow_system_palette(app, QGuiApplication.palette())


def apply_style(app: QApplication) -> None:
    from PySide6.QtGui import QGuiApplication

    system = QGuiApplication.palette()  # before Fusion's own replaces it
    app.setStyle("Fusion")
    follow_system_palette(app, system)
    if not app.property("followsColourScheme"):
        app.setProperty("followsColourScheme", True)
        app.styleHints().colorSchemeChanged.connect(lambda _s: _on_scheme_changed(app))
    add_fallback_font(app)
    install_dialog_focus(app)


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


# -- the start: sign in (or set the clinic up) before any patient datum is read -----------------

NEEDS_FIRST_ADMIN = 2  # SignInDialog result: the open database has no admin account yet
FAILED = 3  # SignInDialog result: the database could not be opened (the user was told)


class Opening(QObject):
    """Opens the clinic for one start and signs the clinician in (issue 14).

    The sign-in window shows at once. A plain SQLite file is opened by the
    :class:`StartupLoader` meanwhile (integrity check, schema, form), so that the password is
    usually checked against a database already open; an encrypted file cannot be opened before
    the password unwraps its passphrase (``encryption.unlock``); a PostgreSQL database and a
    new data folder are opened (or set up) first. Nothing reads a patient before the password
    was checked: the main window is built only after that.

    Signals: ``sign_in_shown()`` — the sign-in window has just been shown (before the loader
    starts; benchmarks and tests take their measure here); ``noticed(str)`` — something to tell
    in the window (an encrypted clinic's daily backup failed). :meth:`run` returns the exit
    code.
    """

    sign_in_shown = Signal()
    noticed = Signal(str)

    def __init__(self, app: QApplication, url: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.noticed.connect(self.on_loader_noticed, Qt.ConnectionType.QueuedConnection)
        from clinic_app.storage import encryption
        from clinic_app.storage.first_page import sqlite_path

        self.app = app
        self.url = url
        self.path = sqlite_path(url)
        self.db: Database | None = None
        self.form: Form | None = None
        self.failure: tuple[str, str] | None = None
        self.notices: list[str] = []
        self.loader: StartupLoader | None = None
        self.preloader: threading.Thread | None = None  # an encrypted clinic's (see run)
        self.preloaded: list[Form] = []  # the form the preloader loaded
        self.backup_thread: threading.Thread | None = None  # an encrypted clinic's daily backup
        self.runner: OperationRunner | None = None  # the sign-in's own, until the window
        self.dialog: Any = None
        self.window: MainWindow | None = None
        self.shown_at: float | None = None  # time.perf_counter() when the sign-in showed
        if self.path is None:
            self.mode = "server"  # PostgreSQL (or an unusual SQLite URL): opened first
        elif not self.path.is_file() or self.path.stat().st_size == 0:
            self.mode = "new"
        elif encryption.is_encrypted(self.path):
            self.mode = "encrypted"
        else:
            self.mode = "plain"

    @property
    def where(self) -> str:
        """What names this clinic's workstation settings (``ui/workstation.py``)."""
        return str(self.path.resolve().parent) if self.path is not None else self.url

    # -- running ---------------------------------------------------------------------------------

    def run(self) -> int:
        if self.mode == "new":
            return self._first_start(None)
        if self.mode == "server" and not self._open_now():
            return 1
        from clinic_app.ui.sign_in import SignInDialog

        self.dialog = SignInDialog(
            self.authenticate, change_password=self.change_password, where=self.where
        )
        if self.db is not None and self._needs_first_admin():
            return self._first_start(self.db)
        self.dialog.show()
        self.shown_at = time.perf_counter()
        self.sign_in_shown.emit()
        if self.mode == "plain":  # opened while the clinician types
            assert self.path is not None
            self.loader = StartupLoader(self.url, self.path)
            queued = Qt.ConnectionType.QueuedConnection
            self.loader.loaded.connect(self.on_loader_loaded, queued)
            self.loader.failed.connect(self.on_loader_failed, queued)
            self.loader.noticed.connect(self.on_loader_noticed, queued)
            self.loader.start()
        elif self.mode == "encrypted":  # opened with the password; its modules load meanwhile
            self.preloader = threading.Thread(target=self._preload, name="clinic_app preload")
            self.preloader.start()
        result = self.dialog.exec()
        if result == FAILED or self.failure is not None:
            return 1
        if result == NEEDS_FIRST_ADMIN:
            assert self.db is not None
            return self._first_start(self.db)
        clinician = self.dialog.clinician
        if result != QDialog.DialogCode.Accepted or clinician is None:
            return 0  # closed without signing in: nothing was opened for anyone
        return self._main_window(clinician)

    def _open_now(self) -> bool:
        """Open the database (and the form) before the sign-in: PostgreSQL."""
        from clinic_app.storage.database import open_database
        from clinic_app.storage.errors import StorageError

        if not self._load_form():
            return False
        try:
            self.db = open_database(self.url)
        except StorageError as err:
            QMessageBox.critical(None, DATABASE_PROBLEM, str(err))
            return False
        return True

    def _load_form(self) -> bool:
        from clinic_app.core.form import FormError, load_form
        from clinic_app.paths import default_form_path

        if self.form is not None:
            return True
        try:
            self.form = load_form(default_form_path())
        except FormError as err:
            QMessageBox.critical(None, FORM_PROBLEM, "\n".join(err.problems))
            return False
        return True

    def _first_start(self, db: Database | None) -> int:
        from clinic_app.ui.first_start import CLOSING, FirstStartDialog

        if self.dialog is not None:
            self.dialog.hide()
        self._stop_runner()
        if not self._load_form():
            return 1
        wizard = FirstStartDialog(self.url, db=db)
        if wizard.exec() != QDialog.DialogCode.Accepted or wizard.clinician is None:
            sys.stderr.write(CLOSING + "\n")
            QMessageBox.information(None, "clinic_app", CLOSING)
            return 0
        self.db = wizard.db
        return self._main_window(wizard.clinician)

    def _main_window(self, clinician: Clinician) -> int:
        from clinic_app.ui.main_window import MainWindow

        self._stop_runner()
        if not self._load_form() or self.db is None or self.form is None:
            return 1
        window = MainWindow(self.db, self.form, clinician)
        self.window = window
        for notice in self.notices:
            window.on_loader_noticed(notice)
        # A session ending (logout, shutdown) may quit without closing the window: save anyway.
        self.app.aboutToQuit.connect(window.flush)
        window.show()
        if self.mode == "encrypted":  # the first sign-in of the day: the backup after the window
            self.backup_thread = threading.Thread(
                target=self._daily_backup, args=(self.db,), name="clinic_app daily backup"
            )
            self.backup_thread.start()
        code = int(self.app.exec())
        window.flush()
        window.page.close_evaluation()  # saves anything left
        window.context.stop()  # ends the database worker thread
        return 1 if self.failure is not None else code

    def close(self) -> None:
        self._stop_runner()
        for thread in (self.preloader, self.backup_thread):
            if thread is not None:
                thread.join()
        db = self.loader.wait() if self.loader is not None else None
        for opened in {id(d): d for d in (db, self.db) if d is not None}.values():
            opened.close()

    # -- the loader (plain SQLite) ---------------------------------------------------------------

    def on_loader_loaded(self, db: Database, form: Form) -> None:
        self.db, self.form = db, form
        if self._needs_first_admin() and self.dialog is not None:
            self.dialog.done(NEEDS_FIRST_ADMIN)

    def on_loader_failed(self, title: str, message: str) -> None:
        self.failure = (title, message)
        QMessageBox.critical(self.dialog, title, message)
        if self.dialog is not None:
            self.dialog.done(FAILED)

    def on_loader_noticed(self, text: str) -> None:
        if self.window is not None:
            self.window.on_loader_noticed(text)
        else:
            self.notices.append(text)

    def _wait_for_database(self) -> None:
        """Let the loader finish (the sign-in window stays responsive meanwhile)."""
        if self.dialog is not None:
            self.dialog.panel.set_busy(True, "Opening the clinic…")
        while self.db is None and self.failure is None:
            self.app.processEvents()
            time.sleep(0.005)

    # -- signing in ------------------------------------------------------------------------------

    def _sign_in_runner(self) -> OperationRunner:
        from clinic_app.ui.operations import OperationRunner

        assert self.db is not None
        if self.runner is None:
            self.runner = OperationRunner(self.db)
        return self.runner

    def _stop_runner(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            self.runner.deleteLater()
            self.runner = None

    def _needs_first_admin(self) -> bool:
        def op(db: Database) -> bool:
            from clinic_app.storage import accounts

            return accounts.needs_first_admin(db)

        return bool(self._sign_in_runner().call("Reading the clinic's accounts", op))

    def authenticate(self, login: str, password: str) -> Any:
        """The sign-in window's check (see the class docstring); raises StorageError."""
        from clinic_app.storage.errors import StorageError
        from clinic_app.ui.sign_in import authenticate_op

        grant = False
        if self.db is None and self.mode == "encrypted":
            grant = self._open_encrypted(login, password)
        elif self.db is None:
            self._wait_for_database()
        if self.failure is not None or self.db is None:
            raise StorageError(self.failure[1] if self.failure else "the database is not open")
        runner = self._sign_in_runner()
        if self._needs_first_admin():
            QTimer.singleShot(0, lambda: self.dialog.done(NEEDS_FIRST_ADMIN))
            raise StorageError("this clinic has no admin account yet: set one up first")
        signed_in = runner.call("Signing in", authenticate_op(login, password))
        if grant:

            def op(db: Database) -> None:
                from clinic_app.storage import encryption

                encryption.grant(db, login, password)

            runner.call("Unlocking the clinic on this computer", op)
        return signed_in

    def change_password(self, login: str, old: str, new: str) -> Any:
        from clinic_app.ui.sign_in import change_password_op

        return self._sign_in_runner().call(
            "Changing the password", change_password_op(login, old, new)
        )

    def _open_encrypted(self, login: str, password: str) -> bool:
        """Unwrap the passphrase with the password and open the file; True when the clinic
        passphrase had to be typed (this login has no key here yet: grant one after sign-in)."""
        from clinic_app.storage import encryption
        from clinic_app.storage.database import open_database
        from clinic_app.storage.errors import StorageError

        assert self.path is not None
        typed = False
        passphrase: str | None
        try:
            passphrase = encryption.unlock(self.path, login, password)
        except encryption.NoKeyForLoginError:
            passphrase = self.ask_passphrase()
            if passphrase is None:
                raise StorageError(
                    "not signed in: this account has no key to the clinic on this computer "
                    "yet, and the clinic passphrase was not given"
                ) from None
            typed = True
        if self.dialog is not None:
            self.dialog.panel.set_busy(True, "Opening the clinic…")
        if self.preloader is not None:
            while self.preloader.is_alive():
                self.app.processEvents()
                self.preloader.join(0.005)
            if self.form is None and self.preloaded:
                self.form = self.preloaded[0]
        if not self._load_form():
            raise StorageError("the evaluation form cannot be used")
        # The integrity check takes seconds on a big clinic: on a thread, the sign-in window
        # stays responsive meanwhile. The daily backup comes after the window (_main_window).
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["db"] = open_database(self.url, passphrase=passphrase, backup=False)
            except BaseException as err:  # handed back to the sign-in window
                box["error"] = err

        thread = threading.Thread(target=work, name="clinic_app unlock")
        thread.start()
        while thread.is_alive():
            self.app.processEvents()
            thread.join(0.005)
        if "error" in box:
            raise box["error"]
        self.db = box["db"]
        for notice in self.db.notices:
            self.notices.append(notice)
        return typed

    def _preload(self) -> None:
        """While the clinician types (an encrypted clinic): load the form and import what
        opening the clinic and the window need next. Touches no file of the clinic."""
        from clinic_app.core.form import FormError, load_form
        from clinic_app.paths import default_form_path

        with contextlib.suppress(FormError):  # loaded again on the GUI thread, which says why
            self.preloaded.append(load_form(default_form_path()))
        import clinic_app.core.engine  # noqa: F401
        import clinic_app.storage.database  # noqa: F401
        import clinic_app.storage.records  # noqa: F401

    def _daily_backup(self, db: Database | None) -> None:
        from clinic_app.storage.database import daily_backup

        if db is None:
            return
        before = len(db.notices)
        daily_backup(db)
        for notice in db.notices[before:]:  # a failed backup: told in the window
            self.noticed.emit(notice)

    def ask_passphrase(self) -> str | None:
        """The clinic passphrase, asked once (None if cancelled)."""
        text, ok = QInputDialog.getText(
            self.dialog,
            "Clinic passphrase",
            "This account cannot unlock the clinic on this computer yet (e.g. right after the "
            "database was encrypted).\nType the clinic passphrase once; your password unlocks "
            "it from then on.",
            QLineEdit.EchoMode.Password,
        )
        return text if ok and text else None


def run(database: str | None = None) -> int:
    """Open the app on ``database`` (a URL; default: the data folder's SQLite file): sign in
    (or set the clinic up on the first start), then the main window."""
    app = _prepare_app()
    from clinic_app.ui.crash import install_crash_handler

    install_crash_handler(app)  # an uncaught exception: logged, one dialog, the app goes on
    from clinic_app.storage.database import default_url

    opening = Opening(app, database or default_url())
    try:
        return opening.run()
    finally:
        opening.close()
