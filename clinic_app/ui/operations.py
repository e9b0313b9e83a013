"""One way to run database work from the screens (after Anki's ``CollectionOp`` / ``QueryOp``).

Every read or write a screen starts goes through the window's :class:`OperationRunner`:

- ``runner.run(what, op, on_success=…)`` queues ``op(db)`` on the application's one worker
  thread and returns at once. The result comes back on the GUI thread to ``on_success``; a
  failure goes to ``on_failure`` if given, else :func:`show_failure` tells the user one way (what
  failed, why, that nothing typed was lost, where the log is). Writes and anything that can wait
  on a lock (SQLite's busy timeout, a PostgreSQL server) use this, so the window never freezes.
- ``runner.call(what, op)`` runs ``op(db)`` on the same worker and waits for it: for short
  reads a screen needs before it can draw (a page of the patient list), for flushing the draft
  when the window closes, and for scripts. It raises what the operation raised.

One worker means one order: an operation queued after a save sees that save. An operation that
changed something returns (or is given) a :class:`Changes` value; the runner announces it with
``changed`` after the success handler ran, and each screen refreshes what it shows in its own
handler. Operations get the :class:`~clinic_app.storage.database.Database` and return plain
values; they never touch a widget (they run on another thread).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from clinic_app.logs import safe
from clinic_app.ui.gc_guard import ensure_gui_thread_gc

if TYPE_CHECKING:
    from clinic_app.storage.database import Database

log = logging.getLogger(__name__)

T = TypeVar("T")

CALL_TIMEOUT_S = 30.0  # longest a screen waits for a ``call`` (SQLite's busy timeout is 10 s)

# Runners whose thread may still run: stopped at interpreter exit, before Python tears down the
# objects (a QThread destroyed while running aborts the whole process).
_RUNNERS: weakref.WeakSet[OperationRunner] = weakref.WeakSet()


@atexit.register
def _stop_all_runners() -> None:
    for runner in list(_RUNNERS):
        with contextlib.suppress(RuntimeError):  # its C++ object is gone: so is its thread
            runner.stop()


@dataclass(frozen=True)
class Changes:
    """What an operation changed, so each screen refreshes only what it shows.

    ``patients``: ids of patients created, edited, archived or restored; ``patient_list``: the
    list's rows or order may differ; ``evaluations``: ids of evaluations created, saved, signed
    or given an addendum; ``evaluations_of``: patient ids whose list of evaluations changed;
    ``clinic``: the clinic's details or a clinician.
    """

    patients: frozenset[int] = frozenset()
    patient_list: bool = False
    evaluations: frozenset[int] = frozenset()
    evaluations_of: frozenset[int] = frozenset()
    clinic: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.patients
            or self.patient_list
            or self.evaluations
            or self.evaluations_of
            or self.clinic
        )

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            self.patients | other.patients,
            self.patient_list or other.patient_list,
            self.evaluations | other.evaluations,
            self.evaluations_of | other.evaluations_of,
            self.clinic or other.clinic,
        )

    @classmethod
    def patient(cls, patient_id: int, *, listed: bool = True) -> Changes:
        return cls(patients=frozenset({patient_id}), patient_list=listed)

    @classmethod
    def evaluation(cls, evaluation_id: int, patient_id: int) -> Changes:
        return cls(evaluations=frozenset({evaluation_id}), evaluations_of=frozenset({patient_id}))


class OperationTimeoutError(RuntimeError):
    """``call`` waited longer than its timeout; the operation may still finish later."""


@dataclass(eq=False)
class _Job(Generic[T]):
    number: int
    what: str
    op: Callable[[Database], T]
    on_success: Callable[[T], None] | None = None
    on_failure: Callable[[BaseException], None] | None = None
    parent: QWidget | None = None
    changes: Changes | Callable[[T], Changes] | None = None
    done: threading.Event | None = None  # set by the worker for ``call``
    result: Any = None
    error: BaseException | None = None
    cancelled: bool = field(default=False)


class _Worker(QObject):
    """Runs jobs on the runner's thread, one at a time, in the order queued.

    Signals: ``finished(object)`` — the job, with ``result`` or ``error`` filled in.
    """

    finished = Signal(object)

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    @Slot(object)
    def on_runner_submitted(self, job: _Job[Any]) -> None:
        try:
            job.result = job.op(self.db)
        except Exception as err:  # handed back to the GUI thread, which decides what to show
            job.error = err
        if job.done is not None:
            job.done.set()  # ``call`` is waiting on the GUI thread: no signal, no event loop
        else:
            self.finished.emit(job)


class OperationRunner(QObject):
    """The application's one worker thread for database work, and how its results come back.

    Signals: ``changed(Changes)`` — an operation changed something (after its success handler);
    ``failed(str, object)`` — an operation failed (what, the exception), after it was shown;
    ``idle()`` — no background operation is queued or running any more;
    ``submitted(object)`` — internal: a job for the worker thread.
    """

    changed = Signal(object)
    failed = Signal(str, object)
    idle = Signal()
    submitted = Signal(object)

    def __init__(self, db: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        ensure_gui_thread_gc()  # the worker thread must never run the cyclic garbage collector
        self.db = db
        self._numbers = itertools.count(1)
        self._in_flight: dict[int, _Job[Any]] = {}
        self._thread = QThread()
        self._thread.setObjectName("clinic_app database worker")
        self._worker = _Worker(db)
        self._worker.moveToThread(self._thread)
        self.submitted.connect(self._worker.on_runner_submitted)
        self._worker.finished.connect(self.on_worker_finished)
        self.destroyed.connect(_stopper(self._thread))
        self._stopped = False
        self._thread.start()
        _RUNNERS.add(self)

    # -- running ---------------------------------------------------------------------------------

    def run(
        self,
        what: str,
        op: Callable[[Database], T],
        *,
        on_success: Callable[[T], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        parent: QWidget | None = None,
        changes: Changes | Callable[[T], Changes] | None = None,
    ) -> int:
        """Queue ``op(db)`` on the worker; returns at once with the job's number.

        ``what`` names the work for the user ("Signing the evaluation"). ``changes`` (a value,
        or a function of the result) is announced with ``changed`` after ``on_success``.
        """
        if self._stopped:  # the window is closing: nobody is left to hear the result
            log.warning("%s: not started, the database worker has stopped", safe(what))
            return 0
        job: _Job[T] = _Job(next(self._numbers), what, op, on_success, on_failure, parent, changes)
        self._in_flight[job.number] = job
        self.submitted.emit(job)
        return job.number

    def call(
        self, what: str, op: Callable[[Database], T], *, timeout_s: float = CALL_TIMEOUT_S
    ) -> T:
        """Run ``op(db)`` on the worker and wait for it; raises what it raised.

        Waits after anything queued before it (one order). The GUI thread blocks meanwhile
        without running an event loop, so nothing else on the screen can change under the
        caller; keep these short.
        """
        if self._stopped:
            raise OperationTimeoutError(f"{what}: the database worker has stopped")
        if QThread.currentThread() is self._thread:  # an operation calling another: run it here
            return op(self.db)  # (waiting for the worker from the worker would never end)
        job: _Job[T] = _Job(next(self._numbers), what, op, done=threading.Event())
        self.submitted.emit(job)
        assert job.done is not None
        if not job.done.wait(timeout_s):
            log.warning("%s: no answer from the database within %.0f s", safe(what), timeout_s)
            raise OperationTimeoutError(
                f"{what}: the database did not answer within {timeout_s:g} s"
            )
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[no-any-return]

    def pending(self) -> int:
        """Background operations queued or running (their handlers not yet called)."""
        return len(self._in_flight)

    def cancel(self, number: int) -> None:
        """Do not call the handlers of job ``number`` (its screen went away); it still runs."""
        job = self._in_flight.get(number)
        if job is not None:
            job.cancelled = True

    @Slot(object)
    def on_worker_finished(self, job: _Job[Any]) -> None:
        self._in_flight.pop(job.number, None)
        try:
            if job.cancelled:
                return
            if job.error is not None:
                self._fail(job)
                return
            if job.on_success is not None:
                job.on_success(job.result)
            changes = job.changes(job.result) if callable(job.changes) else job.changes
            if changes:
                self.changed.emit(changes)
        finally:
            if not self._in_flight:
                self.idle.emit()

    def _fail(self, job: _Job[Any]) -> None:
        err = job.error
        assert err is not None
        if job.on_failure is not None:
            job.on_failure(err)
        else:
            show_failure(job.parent, job.what, err)
        self.failed.emit(job.what, err)

    def stop(self) -> None:
        """Finish the operation running, drop the queue's handlers, end the worker thread."""
        self._stopped = True
        for job in self._in_flight.values():
            job.cancelled = True
        _stopper(self._thread)()


def _stopper(thread: QThread) -> Callable[..., None]:
    """Ends ``thread`` after the job running; holds the thread, not the runner, so that it still
    works from ``destroyed`` (destroying a running QThread aborts the whole process)."""

    def stop(*_args: object) -> None:
        try:
            running = thread.isRunning()
        except RuntimeError:  # the QThread itself is already gone (interpreter exit)
            return
        if running:
            thread.quit()
            thread.wait()

    return stop


# -- telling the user ----------------------------------------------------------------------------


def failure_reason(err: BaseException) -> str:
    """Why an operation failed, in words for the user (a bug's details go to the log only)."""
    from clinic_app.storage.errors import StorageError

    if isinstance(err, StorageError | OperationTimeoutError):
        return str(err)
    return f"An unexpected problem ({type(err).__name__}) stopped it."


def failure_text(what: str, err: BaseException) -> str:
    """The one message a failed operation shows: what failed, why, and what to do."""
    why = failure_reason(err)
    where = log_file_hint()
    return (
        f"{what} did not work.\n\n{why}\n\nNothing you typed has been lost: it is still on the "
        "screen. Try again in a moment; if it keeps failing, ask whoever looks after the clinic's "
        f"computers.{where}"
    )


def log_file_hint() -> str:
    """Where the log file is, for the end of a message ("" when logging goes nowhere)."""
    from clinic_app.logs import log_file

    path = log_file()
    return "" if path is None else f"\n\nDetails are in the log: {path}"


def show_failure(parent: QWidget | None, what: str, err: BaseException) -> None:
    """Show a failed operation the app's one way: a warning naming what failed and why."""
    from clinic_app.storage.errors import StorageError

    if isinstance(err, StorageError | OperationTimeoutError):
        log.warning("%s failed: %s", safe(what), type(err))
    else:
        log.error("%s failed", safe(what), exc_info=(type(err), err, err.__traceback__))
    box = QMessageBox(QMessageBox.Icon.Warning, what, failure_text(what, err), parent=parent)
    box.setObjectName("operationFailure")
    box.exec()
