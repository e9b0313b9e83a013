"""Reading the audit trail (every mutation writes its event: ``_common.write_audit``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from clinic_app.storage import models as m
from clinic_app.storage.records.values import AuditEntry

if TYPE_CHECKING:
    from clinic_app.storage.database import Database


def audit_events(
    db: Database,
    *,
    entity: str | None = None,
    entity_id: int | None = None,
    limit: int = 200,
) -> list[AuditEntry]:
    """Audit events, newest first, optionally of one entity (``"patient"``, ``"evaluation"``...)."""
    with db.reading() as s:
        query = select(m.AuditEvent).order_by(m.AuditEvent.id.desc()).limit(limit)
        if entity is not None:
            query = query.where(m.AuditEvent.entity == entity)
        if entity_id is not None:
            query = query.where(m.AuditEvent.entity_id == entity_id)
        return [
            AuditEntry(
                id=r.id,
                at=r.at,
                actor=r.actor,
                entity=r.entity,
                entity_id=r.entity_id,
                action=r.action,
                before_digest=r.before_digest,
                after_digest=r.after_digest,
            )
            for r in s.scalars(query)
        ]
