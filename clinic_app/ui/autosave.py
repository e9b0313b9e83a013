"""Autosave of the evaluation being edited: nothing typed is ever lost.

A keystroke only hands the new findings to :meth:`DraftAutosaver.on_findings_changed`, which keeps
them in memory and restarts a single-shot timer: nothing touches the database on the typing path.
The timer fires 0.8 s after the last change; while typing goes on without a pause, a second timer
that is not restarted bounds the wait, so a change is written within about a second even mid-note
(a pure debounce would hold a long note in memory until the typing stops, and a crash would lose
all of it). The write runs on a worker thread, so
a slow server or a database locked by another workstation (SQLite waits up to its busy timeout)
never freezes the screen; the result comes back as a queued signal. One write is in flight at a
time; changes made meanwhile are saved by the next one. :meth:`flush` (window closing, signing,
quitting) waits for the write in flight and then writes what is left, synchronously.

A save over someone else's newer version is refused by storage (``ConflictError``); the saver
keeps the unsaved findings and reports the conflict, and the window lets the clinician choose:
keep mine, take theirs, or save mine as a copy. Nothing is overwritten without that choice.
"""

from __future__ import annotations

import functools
import itertools
from datetime import datetime
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QThread, QTimer, Signal, Slot

from clinic_app.core.findings import Findings
from clinic_app.storage import records
from clinic_app.storage.database import Database
from clinic_app.storage.errors import ConflictError, StorageError
from clinic_app.storage.records import Evaluation
from clinic_app.ui.gc_guard import ensure_gui_thread_gc

AUTOSAVE_DELAY_MS = 800  # pause after the last change
AUTOSAVE_MAX_WAIT_MS = 1_000  # longest a change waits while typing goes on without a pause
RETRY_DELAY_MS = 5_000  # after a failed write (database busy, network down): try again
FLUSH_WAIT_MS = 30_000  # longest wait for a write in flight when closing


def _stop_thread(thread: QThread, _worker: QObject, *_args: object) -> None:
    """End an autosave thread after its write in flight (if any) has finished."""
    try:
        running = thread.isRunning()
    except RuntimeError:  # the QThread itself is already gone (interpreter exit): nothing runs
        return
    if running:
        thread.quit()
        thread.wait()


class _SaveWorker(QObject):
    """Runs ``records.save_draft`` on the saver's thread.

    Signals: ``finished(int, object)`` — the job number and the ``DraftSaved`` or the exception.
    """

    finished = Signal(int, object)

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    @Slot(object)
    def on_saver_requested(self, job: tuple[int, int, Findings, int, str]) -> None:
        number, evaluation_id, findings, version, user = job
        try:
            result: Any = records.save_draft(self.db, evaluation_id, findings, version, user=user)
        except Exception as err:  # handed back to the GUI thread, which decides what to show
            result = err
        self.finished.emit(number, result)


class DraftAutosaver(QObject):
    """Saves one draft evaluation after a pause in editing, off the GUI thread.

    Signals: ``saved(DraftSaved)`` — a write reached the database (or there was nothing new);
    ``conflicted(ConflictError)`` — someone else saved first; nothing was written, the findings are
    kept; ``failed(str)`` — the write did not happen (the message says why); the findings are
    kept and the write is tried again a few seconds later;
    ``requested(object)`` — internal: a job for the worker thread.
    """

    saved = Signal(object)
    conflicted = Signal(object)
    failed = Signal(str)
    requested = Signal(object)

    def __init__(
        self,
        db: Database,
        evaluation: Evaluation,
        user: str,
        delay_ms: int = AUTOSAVE_DELAY_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        ensure_gui_thread_gc()  # the worker thread below must never run the garbage collector
        self.db = db
        self.evaluation_id = evaluation.id
        self.version = evaluation.version
        self.user = user
        self.pending: Findings | None = None
        self.last_saved_at: datetime | None = None
        self.in_conflict: ConflictError | None = None
        self._jobs = itertools.count(1)
        self._in_flight: tuple[int, Findings] | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.delay_ms = delay_ms
        self.timer.timeout.connect(self.on_timer_timeout)
        self.max_wait_ms = min(AUTOSAVE_MAX_WAIT_MS, max(delay_ms, 1))
        self.deadline = QTimer(self)
        self.deadline.setSingleShot(True)
        self.deadline.timeout.connect(self.on_timer_timeout)
        self._thread = QThread()
        self._thread.setObjectName(f"autosave-{evaluation.id}")
        self._worker = _SaveWorker(db)
        self._worker.moveToThread(self._thread)
        self.requested.connect(self._worker.on_saver_requested)
        self._worker.finished.connect(self.on_worker_finished)
        # A saver deleted without detach() (its parent widget closed, or dropped by Python) must
        # not leave a running QThread behind: destroying one aborts the whole process. The slot
        # holds the thread and worker, not the saver, so it still runs after the saver is gone.
        self.destroyed.connect(functools.partial(_stop_thread, self._thread, self._worker))
        self._thread.start()

    def has_pending(self) -> bool:
        return self.pending is not None

    def is_saving(self) -> bool:
        return self._in_flight is not None

    def on_findings_changed(self, findings: Findings) -> None:
        """The keystroke path: remember the findings, restart the timer, nothing more."""
        self.pending = findings
        if self.in_conflict is None:
            self.timer.start(self.delay_ms)
            if not self.deadline.isActive():
                self.deadline.start(self.max_wait_ms)

    def on_timer_timeout(self) -> None:
        if self._in_flight is not None or self.pending is None or self.in_conflict is not None:
            return  # the write in flight restarts the timer when it is done
        self.timer.stop()
        self.deadline.stop()
        number = next(self._jobs)
        self._in_flight = (number, self.pending)
        self.requested.emit((number, self.evaluation_id, self.pending, self.version, self.user))

    @Slot(int, object)
    def on_worker_finished(self, number: int, result: object) -> None:
        if self._in_flight is None or self._in_flight[0] != number:
            return  # detached meanwhile, or already waited for
        _, findings = self._in_flight
        self._in_flight = None
        ok = self._handle(findings, result)
        if self.pending is not None and self.in_conflict is None:
            # Typed on while the write was in flight; or the write failed: try again later.
            self.timer.start(self.delay_ms if ok else RETRY_DELAY_MS)
            if ok and not self.deadline.isActive():
                self.deadline.start(self.max_wait_ms)

    def _handle(self, findings: Findings, result: object) -> bool:
        if isinstance(result, ConflictError):
            self.in_conflict = result
            self.conflicted.emit(result)
            return False
        if isinstance(result, StorageError | ValueError):
            self.failed.emit(str(result))
            return False
        if isinstance(result, BaseException):
            self.failed.emit(f"{type(result).__name__}: {result}")
            return False
        assert isinstance(result, records.DraftSaved)
        self.version = result.version
        if self.pending is findings:
            self.pending = None
        self.in_conflict = None
        self.last_saved_at = result.updated_at if result.changed else datetime.now().astimezone()
        self.saved.emit(result)
        return True

    def _wait_for_write_in_flight(self) -> None:
        if self._in_flight is None:
            return
        loop = QEventLoop()
        self._worker.finished.connect(loop.quit)
        QTimer.singleShot(FLUSH_WAIT_MS, loop.quit)
        while self._in_flight is not None and self._thread.isRunning():
            loop.exec()
            if self._in_flight is not None:
                break  # timed out: the write is still running; do not start another
        self._worker.finished.disconnect(loop.quit)

    def flush(self) -> bool:
        """Write pending changes now (waiting for a write in flight). True when all is saved."""
        self.timer.stop()
        self.deadline.stop()
        self._wait_for_write_in_flight()
        if self._in_flight is not None:
            return False
        if self.pending is None:
            return True
        return self.save_now()

    def save_now(self) -> bool:
        """Write the pending findings on this (the GUI) thread; for flushes and explicit saves."""
        findings = self.pending
        if findings is None:
            return True
        try:
            result: object = records.save_draft(
                self.db, self.evaluation_id, findings, self.version, user=self.user
            )
        except Exception as err:  # same handling as a background write
            result = err
        return self._handle(findings, result)

    # -- conflict resolutions --------------------------------------------------------------------

    def keep_mine(self, err: ConflictError) -> bool:
        """Save my findings over theirs, knowingly (their version stays in the audit trail)."""
        self.version = err.current_version
        self.in_conflict = None
        return self.save_now()

    def take_theirs(self, err: ConflictError) -> dict[str, Any]:
        """Drop my unsaved findings and continue from what is stored now."""
        self.version = err.current_version
        self.pending = None
        self.in_conflict = None
        return dict(err.their_findings)

    def detach(self) -> None:
        """Stop saving and end the worker thread (the evaluation was closed, signed or copied)."""
        self.timer.stop()
        self.deadline.stop()
        self.pending = None
        self._wait_for_write_in_flight()
        self._in_flight = None
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()
