"""The application context: what every screen needs from the app, handed to it.

Screens get one :class:`AppContext` instead of reaching into their parent window: the operation
runner (and through it the database), the form, the signed-in clinician and the settings. The
main window can be shown before the database is open (see ``clinic_app.ui.app``), so ``db``,
``form`` and ``runner`` arrive with :meth:`AppContext.attach`; until then :attr:`ready` is False
and the screens that need them are disabled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Signal

from clinic_app.storage.values import Clinician

if TYPE_CHECKING:
    from clinic_app.core.form import Form
    from clinic_app.storage.database import Database
    from clinic_app.ui.operations import OperationRunner


class AppContext(QObject):
    """Database access, form, clinician and settings for the screens of one window.

    Signals: ``attached()`` — the database and the form are there (``ready``);
    ``clinician_changed(object)`` — the clinician's profile was saved (the new ``Clinician``).
    """

    attached = Signal()
    clinician_changed = Signal(object)

    def __init__(self, clinician: Clinician, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clinician = clinician
        self._db: Database | None = None
        self._form: Form | None = None
        self._runner: OperationRunner | None = None

    def attach(self, db: Database, form: Form) -> None:
        """Start the operation runner on ``db``; emits ``attached``."""
        from clinic_app.ui.operations import OperationRunner

        if self._runner is not None:
            raise RuntimeError("the application context is already attached to a database")
        self._db, self._form = db, form
        self._runner = OperationRunner(db, self)
        self.attached.emit()

    @property
    def ready(self) -> bool:
        return self._runner is not None

    @property
    def runner(self) -> OperationRunner:
        if self._runner is None:
            raise RuntimeError("the database is not open yet")
        return self._runner

    @property
    def db(self) -> Database:
        """For values about the database (its path, URL); work on it goes through ``runner``."""
        if self._db is None:
            raise RuntimeError("the database is not open yet")
        return self._db

    @property
    def form(self) -> Form:
        if self._form is None:
            raise RuntimeError("the form is not loaded yet")
        return self._form

    @property
    def user(self) -> str:
        """The name recorded with every change and signature."""
        return self.clinician.name

    def set_clinician(self, clinician: Clinician) -> None:
        self.clinician = clinician
        self.clinician_changed.emit(clinician)

    def settings(self) -> QSettings:
        """This computer's window geometry, shared by every data folder (it says nothing of a
        clinic or a clinician). What a workstation remembers per data folder (the evaluation
        page's layout, the last login) is in ``ui/workstation.py``; clinic-wide settings are in
        the database (``records.settings``)."""
        return QSettings()

    def stop(self) -> None:
        """End the worker thread after the operation running (the window is closing)."""
        if self._runner is not None:
            self._runner.stop()
