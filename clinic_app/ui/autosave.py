"""Autosave of the evaluation being edited: nothing typed is ever lost.

A keystroke only hands the new findings to :meth:`DraftAutosaver.on_findings_changed`, which keeps
them in memory and restarts a single-shot timer: nothing touches the database on the typing path.
The timer fires 0.8 s after the last change; while typing goes on without a pause, a second timer
that is not restarted bounds the wait, so a change is written within about a second even mid-note
(a pure debounce would hold a long note in memory until the typing stops, and a crash would lose
all of it). The write is an operation on the application's
worker thread (``clinic_app.ui.operations``), so a slow server or a database locked by another
workstation (SQLite waits up to its busy timeout) never freezes the screen; the result comes back
on the GUI thread. One write is in flight at a time; changes made meanwhile are saved by the next
one. :meth:`flush` (window closing, signing, quitting) waits for the write in flight and then
writes what is left, on the same worker, waiting for it.

A save over someone else's newer version is refused by storage (``ConflictError``); the saver
keeps the unsaved findings and reports the conflict, and the window lets the clinician choose:
keep mine, take theirs, or save mine as a copy. Nothing is overwritten without that choice.
"""

from __future__ import annotations

import functools
import itertools
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from clinic_app.core.findings import Findings
from clinic_app.storage.errors import ConflictError, ServerUnreachableError, StorageError
from clinic_app.ui.operations import Changes, OperationRunner, OperationTimeoutError

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import DraftSaved, Evaluation

AUTOSAVE_DELAY_MS = 800  # pause after the last change
AUTOSAVE_MAX_WAIT_MS = 1_000  # longest a change waits while typing goes on without a pause
RETRY_DELAY_MS = 5_000  # after failed writes (database busy, server away): the longest wait
RETRY_FIRST_MS = 500  # the first retry; each further failure doubles the wait up to the above
FLUSH_WAIT_S = 30.0  # longest wait for the database when closing

WHAT = "Saving the evaluation"


def retry_delay_ms(failures: int) -> int:
    """The wait before the next try after ``failures`` failed writes in a row: 0.5, 1, 2, 4,
    then 5 s. A restarted clinic server answers again within a second or two; the first tries
    come soon after, and ten workstations do not hammer a server that stays away."""
    doublings = max(0, min(failures, 16) - 1)
    return int(min(RETRY_DELAY_MS, RETRY_FIRST_MS << doublings))


def _save(
    evaluation_id: int,
    findings: Findings,
    version: int,
    user: str,
    box: dict[str, object],
    confirmed: frozenset[str] = frozenset(),
) -> Any:
    """The write itself, as an operation: runs on the worker thread. The result is also left in
    ``box`` so that a flush can take it before its queued delivery reaches the GUI thread."""

    def op(db: Database) -> DraftSaved:
        from clinic_app.storage import records

        try:
            box["result"] = records.save_draft(
                db, evaluation_id, findings, version, user=user, confirmed=confirmed
            )
        except Exception as err:
            box["result"] = err
            raise
        return box["result"]  # type: ignore[return-value]

    return op


class DraftAutosaver(QObject):
    """Saves one draft evaluation after a pause in editing, through the operation runner.

    Signals: ``saved(DraftSaved)`` — a write reached the database (or there was nothing new);
    ``conflicted(ConflictError)`` — someone else saved first; nothing was written, the findings are
    kept; ``failed(str)`` — the write did not happen (the message says why); the findings are
    kept and the write is tried again a few seconds later.
    """

    saved = Signal(object)
    conflicted = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        runner: OperationRunner,
        evaluation: Evaluation,
        user: str,
        delay_ms: int = AUTOSAVE_DELAY_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.evaluation_id = evaluation.id
        self.patient_id = evaluation.patient_id
        self.version = evaluation.version
        self.user = user
        self.pending: Findings | None = None
        # Carried-forward items the clinician confirmed: sent with every save (idempotent).
        self.confirmed: frozenset[str] = frozenset()
        self.last_saved_at: datetime | None = None
        self.in_conflict: ConflictError | None = None
        self.detached = False
        self._jobs = itertools.count(1)
        # (our job number, the findings written, the box the worker leaves the result in)
        self._in_flight: tuple[int, Findings, dict[str, object]] | None = None
        self.failures = 0  # failed writes in a row (the retry backs off with them)
        self.last_error: BaseException | None = None  # why the last write failed
        # Findings of writes that failed since the last success: a connection cut after the
        # commit loses the answer, not the write, so one of these may be stored already.
        self._unanswered: list[Findings] = []
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.delay_ms = delay_ms
        self.timer.timeout.connect(self.on_timer_timeout)
        self.max_wait_ms = min(AUTOSAVE_MAX_WAIT_MS, max(delay_ms, 1))
        self.deadline = QTimer(self)
        self.deadline.setSingleShot(True)
        self.deadline.timeout.connect(self.on_timer_timeout)

    def has_pending(self) -> bool:
        return self.pending is not None

    def server_unreachable(self) -> bool:
        """The last write failed because the clinic server is away (changes are kept, retried)."""
        return isinstance(self.last_error, ServerUnreachableError)

    def is_saving(self) -> bool:
        return self._in_flight is not None

    def on_findings_changed(self, findings: Findings) -> None:
        """The keystroke path: remember the findings, restart the timer, nothing more."""
        if self.detached:
            return
        self.pending = findings
        if self.in_conflict is None:
            self.timer.start(self.delay_ms)
            if not self.deadline.isActive():
                self.deadline.start(self.max_wait_ms)

    def confirm(self, item_ids: tuple[str, ...], findings: Findings) -> None:
        """Carried values confirmed as still true: saved like an edit (after the same pause)."""
        self.confirmed = self.confirmed | frozenset(item_ids)
        self.on_findings_changed(findings)

    def on_timer_timeout(self) -> None:
        if self._in_flight is not None or self.pending is None or self.in_conflict is not None:
            return  # the write in flight restarts the timer when it is done
        self.timer.stop()
        self.deadline.stop()
        number = next(self._jobs)
        box: dict[str, object] = {}
        findings = self.pending
        self._in_flight = (number, findings, box)
        op = _save(self.evaluation_id, findings, self.version, self.user, box, self.confirmed)
        self.runner.run(
            WHAT,
            op,
            on_success=functools.partial(self.on_write_done, number),
            on_failure=functools.partial(self.on_write_done, number),
            changes=self._changes,
        )

    def _changes(self, result: DraftSaved) -> Changes:
        return Changes(evaluations=frozenset({self.evaluation_id})) if result.changed else Changes()

    def on_write_done(self, number: int, result: object) -> None:
        if self._in_flight is None or self._in_flight[0] != number:
            return  # detached meanwhile, or already taken by a flush
        _, findings, _box = self._in_flight
        self._in_flight = None
        ok = self._handle(findings, result)
        if self.pending is not None and self.in_conflict is None and not self.detached:
            # Typed on while the write was in flight; or the write failed: try again later.
            self.timer.start(self.delay_ms if ok else retry_delay_ms(self.failures))
            if ok and not self.deadline.isActive():
                self.deadline.start(self.max_wait_ms)

    def _handle(self, findings: Findings, result: object) -> bool:
        from clinic_app.storage.records import DraftSaved

        if isinstance(result, ConflictError):
            if self._was_mine(result):
                return True  # our own earlier write had landed: the pending one goes next
            self.in_conflict = result
            self.conflicted.emit(result)
            return False
        if isinstance(result, StorageError | ValueError | OperationTimeoutError):
            self.failures += 1
            self.last_error = result
            if isinstance(result, ServerUnreachableError):
                self._unanswered.append(findings)
            self.failed.emit(str(result))
            return False
        if isinstance(result, BaseException):
            self.failures += 1
            self.last_error = result
            self.failed.emit(f"{type(result).__name__}: {result}")
            return False
        assert isinstance(result, DraftSaved)
        self.failures = 0
        self.last_error = None
        self._unanswered = []
        self.version = result.version
        if self.pending is findings:
            self.pending = None
        self.in_conflict = None
        self.last_saved_at = result.updated_at if result.changed else datetime.now().astimezone()
        self.saved.emit(result)
        return True

    def _was_mine(self, err: ConflictError) -> bool:
        """The "newer version" is a write of ours whose answer was lost (same user, the very
        findings of a write that failed on a lost connection): take its version instead of
        asking the clinician to choose between their own two versions."""
        theirs = dict(err.their_findings).get("values")
        if err.changed_by != self.user or not any(
            f.to_dict()["values"] == theirs for f in self._unanswered
        ):
            return False
        self.version = err.current_version
        self._unanswered = []
        self.failures = 0
        self.last_error = None
        return True

    def _wait_for_write_in_flight(self) -> bool:
        """Wait until the worker has done the write in flight and take its result; False if the
        database did not answer in time (the write is still running)."""
        if self._in_flight is None:
            return True
        try:
            # One worker, one order: once this returns, the write queued before it is done.
            self.runner.call(WHAT, lambda _db: None, timeout_s=FLUSH_WAIT_S)
        except OperationTimeoutError:
            return False
        _, findings, box = self._in_flight
        self._in_flight = None
        self._handle(findings, box.get("result"))
        return True

    def flush(self) -> bool:
        """Write pending changes now (waiting for a write in flight). True when all is saved."""
        self.timer.stop()
        self.deadline.stop()
        if not self._wait_for_write_in_flight():
            return False
        if self.pending is None:
            return True
        return self.save_now()

    def save_now(self) -> bool:
        """Write the pending findings now, waiting for the worker; for flushes and Ctrl+S."""
        findings = self.pending
        if findings is None or self.detached:
            return findings is None
        box: dict[str, object] = {}
        try:
            self.runner.call(
                WHAT,
                _save(self.evaluation_id, findings, self.version, self.user, box, self.confirmed),
                timeout_s=FLUSH_WAIT_S,
            )
            result: object = box.get("result")
        except Exception as err:  # same handling as a background write
            result = err
        ok = self._handle(findings, result)
        if ok and isinstance(result, ConflictError):  # our own lost-answer write: go over it
            return self.save_now()
        if ok and getattr(result, "changed", False):
            self.runner.changed.emit(Changes(evaluations=frozenset({self.evaluation_id})))
        return ok

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
        """Stop saving (the evaluation was closed, signed or copied); drops unsaved findings, so
        flush first. A write in flight still completes; its result is ignored."""
        self.timer.stop()
        self.deadline.stop()
        self.pending = None
        self._wait_for_write_in_flight()
        self._in_flight = None
        self.detached = True
