"""Drafts kept on this computer while the clinic server was away, saved at the next start.

When the window closes and the open draft cannot be written (the PostgreSQL server is away),
its unsaved findings are written to ``unsaved/evaluation-<id>.json`` in the data folder: 0600 in
a 0700 folder, replaced atomically, never through a symlink. When the database is an encrypted
SQLite file (``storage.encryption``; this process opened it, so it knows the passphrase), the
findings are encrypted too: AES-256-GCM under a key derived from the clinic passphrase
(argon2id, a random salt per file), bound to the evaluation and the database; only the
database's path and the evaluation id stay readable, to find the file again. Such a file is read
only once that database is open (unlocked) in this process.

At the next start :func:`save_kept` (an operation on the app's worker) writes each kept draft
that belongs to the database now open over the version it was typed on. When someone else saved
that evaluation meanwhile, nothing of theirs is overwritten: mine becomes a new draft of the same
patient (as "save mine as a copy" does) and the result says so. A kept file is removed only after
its findings are stored; one for another database stays until that database is opened.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinic_app import private
from clinic_app.storage import encryption
from clinic_app.storage.errors import ConflictError, EvaluationSignedError, StorageError

if TYPE_CHECKING:
    from clinic_app.storage.database import Database

log = logging.getLogger(__name__)

FOLDER = "unsaved"
ENCRYPTED = "clinic_app kept draft, encrypted"


def _associated(database: str, evaluation_id: int) -> bytes:
    return f"kept\x00{database}\x00{evaluation_id}".encode()


def _passphrase(database: str) -> str | None:
    """The passphrase of the (encrypted, open) SQLite database named ``database``, if any."""
    if not database or "://" in database:
        return None  # a server's URL: its drafts are not on an encrypted file
    return encryption.key_for(Path(database))


@dataclass(frozen=True)
class KeptDraft:
    """Unsaved findings of one draft, as they were when the window closed."""

    evaluation_id: int
    version: int  # the version they were typed on (the last one this computer saved or loaded)
    user: str
    database: str  # Database.where of the database they belong to
    findings: Mapping[str, Any]
    confirmed: tuple[str, ...] = ()
    path: Path | None = None


@dataclass(frozen=True)
class KeptSaved:
    """What :func:`save_kept` did with one kept draft."""

    evaluation_id: int
    patient_id: int
    copy_id: int | None  # the new draft holding mine, when someone else had saved meanwhile
    changed_by: str | None


def folder() -> Path:
    from clinic_app.paths import data_dir

    return data_dir() / FOLDER


def keep(draft: KeptDraft) -> Path:
    """Write ``draft`` to the data folder (0600, atomically); returns the file."""
    where = private.make_folder(folder())
    path = where / f"evaluation-{draft.evaluation_id}.json"
    part = where / f".evaluation-{draft.evaluation_id}.json.part"
    data: dict[str, Any] = {
        "evaluation_id": draft.evaluation_id,
        "version": draft.version,
        "user": draft.user,
        "database": draft.database,
        "findings": dict(draft.findings),
        "confirmed": list(draft.confirmed),
    }
    passphrase = _passphrase(draft.database)
    if passphrase is not None:
        clear = json.dumps(data).encode("utf-8")
        data = {
            "format": ENCRYPTED,
            "evaluation_id": draft.evaluation_id,
            "database": draft.database,
            "sealed": encryption.seal_secret(
                clear, passphrase, _associated(draft.database, draft.evaluation_id)
            ),
        }
    fd = private.open_new(part)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, path)
    log.info("evaluation %d: unsaved changes kept in the data folder", draft.evaluation_id)
    return path


def kept(database: str | None = None) -> list[KeptDraft]:
    """The kept drafts (of ``database`` only, if given); unreadable files are left alone."""
    where = folder()
    if not where.is_dir():
        return []
    found: list[KeptDraft] = []
    for path in sorted(where.glob("evaluation-*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") == ENCRYPTED:
                if database is not None and data.get("database") != database:
                    continue
                data = _open_sealed(data, path)
                if data is None:
                    continue
            draft = KeptDraft(
                evaluation_id=int(data["evaluation_id"]),
                version=int(data["version"]),
                user=str(data["user"]),
                database=str(data["database"]),
                findings=dict(data["findings"]),
                confirmed=tuple(str(i) for i in data.get("confirmed", ())),
                path=path,
            )
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("a kept draft could not be read and is left as it is: %s", path.name)
            continue
        if database is None or draft.database == database:
            found.append(draft)
    return found


def _open_sealed(data: dict[str, Any], path: Path) -> dict[str, Any] | None:
    """The clear content of an encrypted kept draft; None while its database is locked."""
    database, evaluation_id = str(data["database"]), int(data["evaluation_id"])
    passphrase = _passphrase(database)
    if passphrase is None:
        log.info("a kept draft waits for its encrypted database to be unlocked: %s", path.name)
        return None
    clear = encryption.open_secret(data["sealed"], passphrase, _associated(database, evaluation_id))
    found = json.loads(clear.decode("utf-8"))
    if not isinstance(found, dict) or found.get("evaluation_id") != evaluation_id:
        raise ValueError("the sealed content is not this file's")
    return found


def forget(draft: KeptDraft) -> None:
    if draft.path is not None:
        draft.path.unlink(missing_ok=True)


def save_kept(db: Database, draft: KeptDraft) -> KeptSaved:
    """Store one kept draft (see the module docstring); the file is removed once stored.

    Raises StorageError when it cannot be stored now (the server is still away, the evaluation
    was signed meanwhile, ...): the file stays for the next try.
    """
    from clinic_app.storage import records

    ev = records.get_evaluation(db, draft.evaluation_id)
    try:
        records.save_draft(
            db,
            draft.evaluation_id,
            draft.findings,
            draft.version,
            user=draft.user,
            confirmed=draft.confirmed,
        )
    except ConflictError as err:
        form = records.evaluation_form(db, draft.evaluation_id)
        copy = records.start_evaluation(
            db, ev.patient_id, form, user=draft.user, kind=ev.kind, copy_forward=False
        )
        records.save_draft(db, copy.id, draft.findings, copy.version, user=draft.user)
        forget(draft)
        log.info(
            "evaluation %d: kept changes saved as a copy (%d), it was changed meanwhile",
            draft.evaluation_id,
            copy.id,
        )
        return KeptSaved(draft.evaluation_id, ev.patient_id, copy.id, err.changed_by)
    except EvaluationSignedError as err:
        raise StorageError(
            f"evaluation {draft.evaluation_id} was signed meanwhile; the changes kept on this "
            f"computer are still in {draft.path}"
        ) from err
    forget(draft)
    log.info("evaluation %d: changes kept on this computer saved", draft.evaluation_id)
    return KeptSaved(draft.evaluation_id, ev.patient_id, None, None)
