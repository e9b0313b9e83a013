"""The access log: who looked at, opened, exported, printed or previewed which record, and who
signed in, out, locked or unlocked (issue 14).

Every access is an ``audit_event`` row written by ``_common.write_audits``: append-only (the
triggers of 0001/0004 refuse UPDATE and DELETE) and in the one hash chain ``verify`` checks, so a
removed or altered access shows as a broken chain. Access events carry no digests (nothing
changed). :func:`access_log` reads them back together with the change events (create, update,
sign, addendum...) so the privacy officer sees one trail, each row with the patient it concerns.
"""

from __future__ import annotations

import csv
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from clinic_app import private
from clinic_app.storage import models as m
from clinic_app.storage.errors import NotFoundError, StorageError
from clinic_app.storage.records._common import days_after, id_chunks, require_user, write_audits

if TYPE_CHECKING:
    from clinic_app.storage.database import Database

# Reading or handing out a record (entity "patient" or "evaluation").
DOCUMENT_ACTIONS = ("view", "open", "export", "print", "preview")
# A clinician's session (entity "clinician"; id 0 for a failed sign-in under an unknown name).
SESSION_ACTIONS = ("sign_in", "sign_in_failed", "sign_out", "lock", "unlock")
ACCESS_ACTIONS = DOCUMENT_ACTIONS + SESSION_ACTIONS
ACCESS_ENTITIES = ("patient", "evaluation", "clinician")
# The change events the records modules write today (a filter may name these too).
CHANGE_ACTIONS = (
    "create",
    "update",
    "save_draft",
    "status",
    "sign",
    "addendum",
    "archive",
    "unarchive",
    "bulk_create",
    "enable",
    "disable",
    "password_reset",
    "password_change",
    "recover",
    "prepare",
    "cosign",
    "return_for_changes",
)
CSV_FIELDS = ("id", "at", "actor", "action", "entity", "entity_id", "patient_id", "patient_name")
_ACTION_NAME = re.compile(r"[a-z][a-z_]{0,29}")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AccessEntry:
    """One event of the trail; ``patient_id``/``patient_name`` when it concerns a patient."""

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int
    patient_id: int | None
    patient_name: str | None


def log_access(db: Database, *, actor: str, action: str, entity: str, entity_id: int) -> None:
    """Record that ``actor`` did ``action`` to ``entity`` ``entity_id`` (one short write).

    Raises StorageError naming an unknown action or entity, an action that does not fit the
    entity (a patient is viewed, a clinician signs in), or a record that does not exist.
    """
    log_accesses(db, actor=actor, action=action, entity=entity, entity_ids=(entity_id,))


# the ids are INTEGER columns: 32 bits on PostgreSQL (a larger number is no record, and SQLite
# would raise OverflowError past 64 bits)
_LARGEST_ID = 2**31 - 1


def log_accesses(
    db: Database, *, actor: str, action: str, entity: str, entity_ids: Sequence[int]
) -> int:
    """Record that ``actor`` did ``action`` to each record of ``entity_ids`` (an export or a
    listing of many patients): one event per distinct record, in the order given, all in one
    transaction, so either every event is written or none. Returns the number written.

    Raises StorageError as :func:`log_access` does; one record that does not exist names it,
    and then nothing is written.
    """
    actor = require_user(actor)
    if action not in ACCESS_ACTIONS:
        raise StorageError(f"access action: {action!r} is not one of {', '.join(ACCESS_ACTIONS)}")
    if entity not in ACCESS_ENTITIES:
        raise StorageError(f"access entity: {entity!r} is not one of {', '.join(ACCESS_ENTITIES)}")
    session_action = action in SESSION_ACTIONS
    if session_action != (entity == "clinician"):
        expected = "clinician" if session_action else "patient or evaluation"
        raise StorageError(f"access action {action!r} is about a {expected}, not a {entity}")
    for entity_id in entity_ids:
        if (
            isinstance(entity_id, bool)
            or not isinstance(entity_id, int)
            or not 0 <= entity_id <= _LARGEST_ID
        ):
            raise StorageError(f"access entity id: {entity_id!r} is not a record number")
    ids = list(dict.fromkeys(entity_ids))
    if not ids:
        return 0
    model: Any = {"patient": m.Patient, "evaluation": m.Evaluation, "clinician": m.Clinician}[
        entity
    ]
    # a failed sign-in under a name no clinician has is recorded against id 0
    wanted = [i for i in ids if not (i == 0 and action == "sign_in_failed")]
    with db.writing() as s:
        found: set[int] = set()
        for chunk in id_chunks(wanted):
            found.update(s.scalars(select(model.id).where(model.id.in_(chunk))))
        missing = next((i for i in wanted if i not in found), None)
        if missing is not None:
            raise NotFoundError(entity, missing)
        write_audits(s, actor, entity, ids, action)
    return len(ids)


def _day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` on this computer's clock, as an aware datetime."""
    return datetime.combine(day, time()).astimezone()


def access_log(
    db: Database,
    *,
    patient_id: int | None = None,
    actor: str | None = None,
    since: date | None = None,
    until: date | None = None,
    actions: Sequence[str] | None = None,
    limit: int = 5000,
) -> list[AccessEntry]:
    """The trail, newest first: access events and (``actions`` None) every change event.

    ``patient_id``: events on the patient, on their evaluations and on those evaluations'
    addenda. ``actor``: as recorded (case ignored), or the clinician with that login.
    ``since``/``until``: calendar days on this computer's clock, both included.
    ``actions``: only these (access or change) actions.
    """
    if limit < 1:
        raise StorageError(f"limit: {limit} is not a positive number of rows")
    if since is not None and until is not None and until < since:
        raise StorageError(f"dates: until {until.isoformat()} is before since {since.isoformat()}")
    if actions is not None:
        for action in actions:
            if not isinstance(action, str) or not _ACTION_NAME.fullmatch(action):
                raise StorageError(f"action: {action!r} is not an action name")
    ae = m.AuditEvent
    ev = aliased(m.Evaluation)
    ad = aliased(m.Addendum)
    ad_ev = aliased(m.Evaluation)
    patient_of = case(
        (ae.entity == "patient", ae.entity_id),
        (ae.entity == "evaluation", ev.patient_id),
        (ae.entity == "addendum", ad_ev.patient_id),
        else_=None,
    )
    query = (
        select(  # columns, not ORM objects: the admin screen reads thousands at once
            ae.id,
            ae.at,
            ae.actor,
            ae.action,
            ae.entity,
            ae.entity_id,
            patient_of.label("pid"),
            m.Patient.given_name,
            m.Patient.family_name,
        )
        .outerjoin(ev, and_(ae.entity == "evaluation", ev.id == ae.entity_id))
        .outerjoin(ad, and_(ae.entity == "addendum", ad.id == ae.entity_id))
        .outerjoin(ad_ev, ad_ev.id == ad.evaluation_id)
        .outerjoin(m.Patient, m.Patient.id == patient_of)
        .order_by(ae.id.desc())
        .limit(limit)
    )
    if patient_id is not None:
        evaluations = select(m.Evaluation.id).where(m.Evaluation.patient_id == patient_id)
        addenda = (
            select(m.Addendum.id)
            .join(m.Evaluation, m.Evaluation.id == m.Addendum.evaluation_id)
            .where(m.Evaluation.patient_id == patient_id)
        )
        query = query.where(
            or_(
                and_(ae.entity == "patient", ae.entity_id == patient_id),
                and_(ae.entity == "evaluation", ae.entity_id.in_(evaluations)),
                and_(ae.entity == "addendum", ae.entity_id.in_(addenda)),
            )
        )
    if actor is not None:
        # As recorded, or the name of the clinician with that login (events name either).
        wanted = actor.strip().lower()
        names = select(m.Clinician.name).where(m.Clinician.login == wanted)
        query = query.where(or_(func.lower(ae.actor) == wanted, ae.actor.in_(names)))
    if since is not None:
        query = query.where(ae.at >= _day_start(since))
    if until is not None:
        query = query.where(ae.at < _day_start(days_after(until, 1)))
    if actions is not None:
        query = query.where(ae.action.in_(list(actions)))
    with db.reading() as s:
        return [
            AccessEntry(
                id=event_id,
                at=at,
                actor=who,
                action=action,
                entity=entity,
                entity_id=entity_id,
                patient_id=pid,
                patient_name=None if given is None else f"{given} {family}".strip(),
            )
            for event_id, at, who, action, entity, entity_id, pid, given, family in s.execute(query)
        ]


def spreadsheet_safe(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_access_csv(entries: Sequence[AccessEntry], path: Path) -> int:
    """Write ``entries`` to ``path`` as CSV (UTF-8, a header line, 0600, never through a link).

    Text fields that a spreadsheet would run as a formula are prefixed with ``'``. Returns the
    number of rows written (without the header). An OSError says why the file could not be made.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        pass
    else:  # a FIFO would block the write until someone reads it; a folder is no file
        if not stat.S_ISREG(info.st_mode):
            raise OSError(21, "is not a regular file", str(path))
    fd = private.open_new(path)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_FIELDS)
        for entry in entries:
            writer.writerow(
                (
                    entry.id,
                    entry.at.isoformat(timespec="seconds"),
                    spreadsheet_safe(entry.actor),
                    spreadsheet_safe(entry.action),
                    spreadsheet_safe(entry.entity),
                    entry.entity_id,
                    "" if entry.patient_id is None else entry.patient_id,
                    "" if entry.patient_name is None else spreadsheet_safe(entry.patient_name),
                )
            )
    return len(entries)
