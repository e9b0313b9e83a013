"""On a clinic server, the tables' owner rechains the audit trail: the newest signature tells.

The owner (a plain LOGIN role owning the database, as in test_pg_owner) can switch the audit
events' lock off, change an event and compute every later chain hash again. Before 0011 nothing
in the database could tell; the workstation's own mirror (``storage.state``) only sees its own
last event. The newest event's signature, made with a workstation's key the owner does not
hold, no longer matches.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from clinic_app.storage import models as m
from clinic_app.storage import records as r
from clinic_app.storage import sealing
from clinic_app.storage.database import open_database
from tests.storage.test_audit_signed import UNSIGNED, UNTRUSTED
from tests.storage.test_pg_owner import Clinic, _as_owner, _verify, clinic, owner

pytestmark = pytest.mark.postgres
__all__ = ["clinic", "owner"]  # the fixtures, made in test_pg_owner
LIFT = "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"
PUT_BACK = "ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"


def _events(clinic: Clinic) -> list[m.AuditEvent]:
    db = open_database(clinic.url, migrate=False, backup=False)
    try:
        with db.reading() as s:
            events = list(s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id)))
            s.expunge_all()
            return events
    finally:
        db.close()


def _rechained(events: list[m.AuditEvent], changed: int, actor: str) -> list[str]:
    """The owner's statements: event ``changed`` credited to ``actor``, every hash again."""
    statements = [LIFT, f"UPDATE audit_event SET actor = '{actor}' WHERE id = {changed}"]
    prev = sealing.GENESIS
    for event in events:
        if event.id == changed:
            event.actor = actor
        value = sealing.audit_hash(event, prev)
        statements.append(
            f"UPDATE audit_event SET prev_hash = '{prev}', hash = '{value}' WHERE id = {event.id}"
        )
        prev = value
    return [*statements, PUT_BACK]


def test_the_owner_rechaining_an_event_is_named(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _events(clinic)
    assert len(events) >= 5
    assert _as_owner(clinic, _rechained(events, events[1].id, "nobody")) == []
    after = _events(clinic)
    assert [e.actor for e in after][1] == "nobody"  # the change is there, the chain sound
    newest = events[-1].id
    assert _verify(clinic, capsys) == (
        1,
        [
            # this workstation's own mirror sees it too: it wrote the newest event itself
            f"audit event {newest}, the last this workstation saved, differs on the clinic "
            "server: its newest events were deleted or replaced outside the app, or the server "
            "was restored from an older backup",
            UNTRUSTED.format(id=newest),
        ],
    )


def test_the_owner_appending_an_event_is_named(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    """An access event the owner adds, correctly chained, carries no workstation's signature."""
    newest = _events(clinic)[-1]
    planted = m.AuditEvent(
        at=newest.at,
        actor="auditor",
        entity="patient",
        entity_id=clinic.ids["patient"],
        action="view",
        before_digest=None,
        after_digest=None,
    )
    value = sealing.audit_hash(planted, newest.hash or "")
    statement = (
        "INSERT INTO audit_event (at, actor, entity, entity_id, action, prev_hash, hash) "
        f"SELECT at, 'auditor', 'patient', {clinic.ids['patient']}, 'view', hash, '{value}' "
        f"FROM audit_event WHERE id = {newest.id}"
    )
    assert _as_owner(clinic, [statement]) == []
    (line,) = _verify(clinic, capsys)[1]
    assert line == UNSIGNED.format(id=_events(clinic)[-1].id)


def test_a_write_after_the_owners_change_does_not_launder_it(
    clinic: Clinic, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The next workstation write signs the new newest event over the rechained trail: the
    chain is then sound and signed. What is left to tell is the event the workstation wrote
    last before the change (its mirror), named at the next open and by verify."""
    events = _events(clinic)
    assert _as_owner(clinic, _rechained(events, events[1].id, "nobody")) == []
    db = open_database(clinic.url)
    try:
        notices = list(db.notices)
        r.add_addendum(db, clinic.ids["evaluation"], "Called again.", user="alice")
    finally:
        db.close()
    assert notices  # the mirror saw its own last event changed
    code, lines = _verify(clinic, capsys)
    assert [line for line in lines if "newest" in line] == []
    assert code in (0, 1)
