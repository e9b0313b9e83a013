"""Autosave of the evaluation being edited: nothing typed is ever lost.

A keystroke only hands the new findings to :meth:`DraftAutosaver.on_findings_changed`, which keeps
them in memory and restarts a single-shot timer; the database write happens when the timer fires
(about a second after the last change), never on the typing path. ``save_draft`` is one short
SQLite transaction (~20 ms), so it runs on the GUI thread from the timer; a slow server would be
the reason to move it to a worker. :meth:`flush` writes at once (window closing, signing, quitting).

A save over someone else's newer version is refused by storage (``ConflictError``); the saver
keeps the unsaved findings and reports the conflict, and the window lets the clinician choose:
keep mine, take theirs, or save mine as a copy. Nothing is overwritten without that choice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from clinic_app.core.findings import Findings
from clinic_app.storage import records
from clinic_app.storage.database import Database
from clinic_app.storage.errors import ConflictError, StorageError
from clinic_app.storage.records import Evaluation

AUTOSAVE_DELAY_MS = 800


class DraftAutosaver(QObject):
    """Saves one draft evaluation after a pause in editing.

    Signals: ``saved(DraftSaved)`` — a write reached the database (or there was nothing new);
    ``conflicted(ConflictError)`` — someone else saved first; nothing was written, the findings are
    kept; ``failed(str)`` — storage refused the save for another reason (the message says why).
    """

    saved = Signal(object)
    conflicted = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        db: Database,
        evaluation: Evaluation,
        user: str,
        delay_ms: int = AUTOSAVE_DELAY_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.evaluation_id = evaluation.id
        self.version = evaluation.version
        self.user = user
        self.pending: Findings | None = None
        self.last_saved_at: datetime | None = None
        self.in_conflict: ConflictError | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.on_timer_timeout)

    def has_pending(self) -> bool:
        return self.pending is not None

    def on_findings_changed(self, findings: Findings) -> None:
        """The keystroke path: remember the findings, restart the timer, nothing more."""
        self.pending = findings
        if self.in_conflict is None:
            self.timer.start()

    def on_timer_timeout(self) -> None:
        self.save_now()

    def flush(self) -> bool:
        """Write pending changes now. True when nothing is left unsaved."""
        self.timer.stop()
        if self.pending is None:
            return True
        return self.save_now()

    def save_now(self) -> bool:
        findings = self.pending
        if findings is None:
            return True
        try:
            result = records.save_draft(
                self.db, self.evaluation_id, findings, self.version, user=self.user
            )
        except ConflictError as err:
            self.in_conflict = err
            self.conflicted.emit(err)
            return False
        except (StorageError, ValueError) as err:
            self.failed.emit(str(err))
            return False
        self.version = result.version
        if self.pending is findings:
            self.pending = None
        self.in_conflict = None
        self.last_saved_at = result.updated_at if result.changed else datetime.now().astimezone()
        self.saved.emit(result)
        return True

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
        """Stop saving (the editor moved on to another evaluation or a copy)."""
        self.timer.stop()
        self.pending = None
