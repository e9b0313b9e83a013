"""What can go wrong with stored records, as exceptions a screen or the CLI can word for a person.

Every error here carries a message that can be shown as it is (one line, naming the record or the
file). They live in their own light module so that catching them needs no SQLAlchemy import.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any


class StorageError(Exception):
    """Base class of every storage problem a person can act on."""


class NotFoundError(StorageError):
    """The record does not exist (or was never created on this database)."""

    def __init__(self, entity: str, entity_id: int | str) -> None:
        super().__init__(f"{entity} {entity_id} does not exist")
        self.entity = entity
        self.entity_id = entity_id


class DuplicateMRNError(StorageError):
    """Another patient already has this medical record number."""

    def __init__(self, mrn: str) -> None:
        super().__init__(f"medical record number {mrn!r} is already used by another patient")
        self.mrn = mrn


class EvaluationSignedError(StorageError):
    """A signed evaluation is locked: only addenda may follow."""

    def __init__(
        self, evaluation_id: int, signed_by: str | None, signed_at: datetime | None
    ) -> None:
        when = f" on {signed_at:%Y-%m-%d %H:%M} UTC" if signed_at else ""
        who = f" by {signed_by}" if signed_by else ""
        super().__init__(
            f"evaluation {evaluation_id} was signed{who}{when} and cannot be changed; "
            "add an addendum instead"
        )
        self.evaluation_id = evaluation_id
        self.signed_by = signed_by
        self.signed_at = signed_at


class NotSignedError(StorageError):
    """An addendum was requested for an evaluation that is still a draft."""

    def __init__(self, evaluation_id: int) -> None:
        super().__init__(
            f"evaluation {evaluation_id} is still a draft: edit it instead of adding an addendum"
        )
        self.evaluation_id = evaluation_id


class PatientConflictError(StorageError):
    """Someone else changed the same patient details since this copy was loaded.

    Nothing was written. ``fields`` are the details both changed, differently; ``theirs`` is the
    patient as stored now, to show and to pass as ``expected`` when saving over it knowingly.
    """

    def __init__(self, patient_id: int, fields: tuple[str, ...], theirs: Any) -> None:
        who = getattr(theirs, "updated_by", None) or "someone else"
        at = getattr(theirs, "updated_at", None)
        when = f" at {at:%Y-%m-%d %H:%M:%S} UTC" if at else ""
        super().__init__(
            f"patient {patient_id}: {', '.join(fields)} changed by {who}{when} while you were "
            "editing; nothing was saved"
        )
        self.patient_id = patient_id
        self.fields = fields
        self.theirs = theirs


class ConflictError(StorageError):
    """Someone else saved the evaluation since this copy was loaded.

    Nothing was written. ``their_findings`` is what is stored now, so a screen can show both
    versions and let the clinician merge; ``current_version`` is what to pass as
    ``expected_version`` when saving the merged result.
    """

    def __init__(
        self,
        evaluation_id: int,
        expected_version: int,
        current_version: int,
        changed_by: str | None,
        changed_at: datetime | None,
        their_findings: Mapping[str, Any],
    ) -> None:
        who = changed_by or "someone else"
        when = f" at {changed_at:%Y-%m-%d %H:%M:%S} UTC" if changed_at else ""
        super().__init__(
            f"evaluation {evaluation_id} was changed by {who}{when} "
            f"(version {current_version}, you had version {expected_version}); nothing was saved"
        )
        self.evaluation_id = evaluation_id
        self.expected_version = expected_version
        self.current_version = current_version
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.their_findings = their_findings


class DatabaseFileError(StorageError):
    """A database file that cannot be used (not SQLite, damaged, not ours); left untouched."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


class DatabaseTooNewError(StorageError):
    """The database was upgraded by a newer clinic_app; this version must not touch it."""

    def __init__(self, where: str, revision: str, head: str) -> None:
        super().__init__(
            f"{where}: the database has schema revision {revision}, made by a newer version of "
            f"clinic_app (this version knows up to {head}); it was not changed. "
            "Install the newer clinic_app."
        )
        self.revision = revision
        self.head = head


class NotOurDatabaseError(StorageError):
    """The database has tables but no clinic_app schema revision."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"{where}: this database holds tables that clinic_app did not make; it was not changed"
        )


class DatabaseAccessError(StorageError):
    """The database cannot be used right now: busy, read-only, disk full, server unreachable.

    ``where`` is the file (SQLite) or the URL without password; nothing was changed by the
    operation that failed (its transaction was rolled back).
    """

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


class ServerUnreachableError(DatabaseAccessError):
    """The clinic server cannot be reached or dropped the connection (restarted, stopped, the
    network is down). Nothing of the operation was kept; the next operation connects again
    (the pool checks every connection before use), so trying again later is the remedy."""


class DatabaseBusyError(DatabaseAccessError):
    """Another connection (a workstation, a backup, a program) held the database longer than
    the busy timeout. Nothing of the operation was kept; trying again later is the remedy."""


class MigrationError(StorageError):
    """A schema upgrade failed; its transaction was rolled back, the old schema is intact."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def describe_db_error(exc: BaseException) -> str:
    """One line, for a person, about a driver error (the original text in brackets)."""
    original = getattr(exc, "orig", None) or exc
    text = " ".join(str(original).split()) or type(original).__name__
    lowered = text.lower()
    known = (
        ("locked", "the database is busy (another program or workstation is using it)"),
        ("readonly", "the database or its folder is read-only"),
        ("read-only", "the database or its folder is read-only"),
        ("unable to open", "the database file cannot be opened or created"),
        ("disk i/o error", "the disk could not be written or read (full, removed or failing?)"),
        ("full", "the disk is full"),
        ("malformed", "the database file is damaged"),
        ("connection refused", "the database server cannot be reached"),
        ("shutting down", "the database server is shutting down"),
        ("starting up", "the database server is starting up"),
        ("terminating connection", "the database server ended the connection"),
        ("server closed the connection", "the database server ended the connection"),
        ("connection is closed", "the connection to the database server was lost"),
        ("consuming input failed", "the connection to the database server was lost"),
        ("timeout expired", "the database server did not answer in time"),
        ("could not translate host", "the database server cannot be found"),
        ("password authentication failed", "the database server refused the user name/password"),
    )
    for needle, meaning in known:
        if needle in lowered:
            return f"{meaning} [{text}]"
    return text


class StaleRecordError(StorageError):
    """Someone else changed an episode or goal since this copy was loaded; nothing was written."""

    def __init__(
        self,
        entity: str,
        entity_id: int,
        expected_version: int,
        current_version: int,
        changed_by: str | None,
        changed_at: datetime | None,
    ) -> None:
        who = changed_by or "someone else"
        when = f" at {changed_at:%Y-%m-%d %H:%M:%S} UTC" if changed_at else ""
        super().__init__(
            f"{entity} {entity_id} was changed by {who}{when} (version {current_version}, "
            f"you had version {expected_version}); nothing was saved: reload it"
        )
        self.entity = entity
        self.entity_id = entity_id
        self.current_version = current_version
