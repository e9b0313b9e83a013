"""What every records module shares: hashing, the audit writer, text checks, row look-up."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import String

from clinic_app.storage import models as m
from clinic_app.storage._types import utcnow
from clinic_app.storage.errors import NotFoundError, StorageError
from clinic_app.storage.state import LAST_AUDIT_EVENT

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from sqlalchemy import Table
    from sqlalchemy.orm import Session


ID_CHUNK = 500
"""Ids bound in one ``IN (…)``: well under SQLite's oldest limit of 999 parameters."""


def id_chunks(ids: Sequence[int], size: int = ID_CHUNK) -> Iterator[list[int]]:
    """``ids`` in lists of at most ``size``, in order, for ``column.in_(chunk)`` queries."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def days_after(day: date, days: int) -> date:
    """``day`` plus ``days``, or the last date there is (a typed 9999-12-31 plus a plan's 90
    days raised OverflowError: a traceback for the user, in the window and in every report)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(obj: Any) -> str:
    return hashlib.sha256(canonical(obj).encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def row_state(row: m.Base) -> dict[str, Any]:
    """A row's columns as its audit events digest them."""
    return {col.key: _plain(getattr(row, col.key)) for col in row.__table__.columns}


def mapping_state(table: Table, values: Mapping[Any, Any]) -> dict[str, Any]:
    """:func:`row_state` of a row read with Core (``select(table)``), keyed by its columns:
    without an ORM object per row, ``verify`` reads 100,000 episodes many times faster."""
    return {col.key: _plain(values[col]) for col in table.columns}


def write_audit(
    session: Session,
    user: str,
    entity: str,
    entity_id: int,
    action: str,
    before: str | None,
    after: str | None,
    at: datetime | None = None,
) -> None:
    write_audits(session, user, entity, (entity_id,), action, before, after, at)


def write_audits(
    session: Session,
    user: str,
    entity: str,
    entity_ids: Sequence[int],
    action: str,
    before: str | None = None,
    after: str | None = None,
    at: datetime | None = None,
) -> None:
    """One audit event per id, in that order, at one moment: the chain is read and locked once
    (an export of 100,000 patients writes its events in seconds, not a minute)."""
    from clinic_app.storage.sealing import chain_audit

    when = at or utcnow()
    events = [
        m.AuditEvent(
            at=when,
            actor=user,
            entity=entity,
            entity_id=entity_id,
            action=action,
            before_digest=before,
            after_digest=after,
        )
        for entity_id in entity_ids
    ]
    if not events:
        return
    chain_audit(session, *events)  # each event carries the hash of the one before (issue 13)
    session.add_all(events)
    session.info[LAST_AUDIT_EVENT] = events[-1]  # the state to mirror once committed


def checked_text(column: Any, label: str, value: str, *, multiline: bool = False) -> str:
    """Trim, then refuse what the column cannot hold, naming the field.

    Limits come from the columns, so SQLite (which would store anything) and PostgreSQL (which
    refuses NUL and over-long text with a driver error, a traceback for the user) behave the same,
    and the user sees why. Control characters are refused (line breaks and tabs only where the
    field is multi-line).
    """
    value = value.strip()
    allowed = "\n\r\t" if multiline else ""
    bad = next((c for c in value if unicodedata.category(c) == "Cc" and c not in allowed), None)
    if bad is not None:
        raise StorageError(f"{label}: contains a control character (U+{ord(bad):04X})")
    column_type = column.type
    limit = column_type.length if isinstance(column_type, String) else None
    if limit is not None and len(value) > limit:
        raise StorageError(f"{label}: {len(value)} characters is too long (at most {limit})")
    return value


def require_user(user: str) -> str:
    user = checked_text(m.AuditEvent.__table__.c.actor, "user name", user)
    if not user:
        raise StorageError("a user name is needed to record who made the change")
    return user


def get_row(session: Session, model: type[m.Base], entity: str, entity_id: int) -> Any:
    row = session.get(model, entity_id)
    if row is None:
        raise NotFoundError(entity, entity_id)
    return row
