"""The application context: what every screen needs from the app, handed to it.

Screens get one :class:`AppContext` instead of reaching into their parent window: the operation
runner (and through it the database), the form, the signed-in clinician and the settings. The
main window can be shown before the database is open (see ``clinic_app.ui.app``), so ``db``,
``form`` and ``runner`` arrive with :meth:`AppContext.attach`; until then :attr:`ready` is False
and the screens that need them are disabled.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractEventDispatcher, QObject, QSettings, Signal

from clinic_app.storage.values import Clinician

if TYPE_CHECKING:
    from collections.abc import Callable

    from clinic_app.core.form import Form
    from clinic_app.storage.database import Database
    from clinic_app.ui.operations import OperationRunner


log = logging.getLogger(__name__)


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
        self._idle: list[Callable[[], object]] = []  # when_idle's, not called yet
        self._idle_connected: QAbstractEventDispatcher | None = None  # its aboutToBlock

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

    def when_idle(self, start: Callable[[], object]) -> None:
        """Call ``start`` once the GUI thread is about to wait for input again, i.e. after the
        layout and first paint of what is being shown now. For background writes started by
        showing something (the access log): run during that layout, the worker's Python holds
        the interpreter lock between Qt's calls into the screen's Python (+15-25 ms to an
        evaluation's first open). :meth:`stop` calls what is still waiting."""
        # (aboutToBlock: emitted by the event loop just before it sleeps; a processEvents()
        # loop that never sleeps never emits it, see run_idle and is_idle_waiting.)
        self._idle.append(start)
        if len(self._idle) > 1:
            return
        dispatcher = QAbstractEventDispatcher.instance()
        if dispatcher is None:  # no event loop (a script): at once
            self.run_idle()
        else:
            dispatcher.aboutToBlock.connect(self.run_idle)
            self._idle_connected = dispatcher

    def run_idle(self) -> None:
        """Call now what :meth:`when_idle` holds (an event that must come after them, such as
        a lock, or a test that wants them written)."""
        dispatcher, self._idle_connected = self._idle_connected, None
        if dispatcher is not None:
            with contextlib.suppress(RuntimeError, TypeError):  # (its thread is ending)
                dispatcher.aboutToBlock.disconnect(self.run_idle)
        waiting, self._idle = self._idle, []
        for start in waiting:
            start()

    def is_idle_waiting(self) -> bool:
        """Whether :meth:`when_idle` holds something not started yet."""
        return bool(self._idle)

    def stop(self) -> None:
        """End the worker thread after the operations started (the window is closing)."""
        if self._idle:
            self.run_idle()
            if self._runner is not None:
                try:  # waits after what was just queued: nothing left unwritten
                    self._runner.call("Writing the last access events", lambda _db: None)
                except Exception as err:  # the app is closing: logged, not shown
                    log.warning("the last access events: %s", type(err).__name__)
        if self._runner is not None:
            self._runner.stop()
