"""Signed means sealed: seal columns, hash chains and locks that no SQL route gets around.

Issue 13. Before this revision a signed evaluation could be rewritten without firing a trigger:
``INSERT OR REPLACE`` deletes the old row without DELETE triggers while SQLite's
``recursive_triggers`` is off (the app now turns it on for every connection, but another tool
need not). So every locked table also gets a BEFORE INSERT trigger refusing an insert over an
existing locked id, which fires whatever that setting is:

- ``evaluation``: no insert over a signed id; no row inserted already signed (signing is an
  UPDATE of a draft); a draft becomes signed only with its seal and signature.
- ``addendum``: no insert over an existing id; only onto a signed evaluation.
- ``audit_event``: no insert over an existing id (UPDATE and DELETE were refused since 0001).
- ``form_snapshot``: the form a signed evaluation was recorded with is part of what its report
  prints: snapshots are now immutable (no UPDATE, DELETE or insert over an id).

On PostgreSQL INSERT ... ON CONFLICT DO UPDATE fires the UPDATE triggers, so only the new rules
are added, plus BEFORE TRUNCATE triggers (a role that may TRUNCATE would bypass the row
triggers). Which role may do what is set by grants (``clinic_app.storage.roles``).

New columns: ``evaluation.seal`` (what the signed report prints, as sealed: clinician, clinic
header, form digest, field digests) and ``evaluation.signature`` (Ed25519 over the seal);
``addendum.prev_hash``/``hash``/``signature`` and ``audit_event.prev_hash``/``hash`` (hash
chains). Existing rows are chained here; evaluations signed before this revision get a
``{"legacy": "0004"}`` seal (they keep their content hash; no key existed to sign them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from clinic_app.storage._types import JSONType, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_MESSAGE = "evaluation is signed and locked: only addenda may follow"
NOT_SIGNED_INSERT = "an evaluation is signed only by signing its draft"
NEEDS_SEAL = "an evaluation is signed only with its seal and signature"
ADDENDUM_TO_SIGNED = "addenda follow signed evaluations only"
MESSAGES = {
    "addendum": "addenda cannot be changed",
    "audit_event": "audit events are permanent",
    "form_snapshot": "form snapshots are permanent",
}
GENESIS = "0" * 64

# The chain hashes of 0004, repeated here rather than imported (a revision keeps describing what
# it made even if the app's code changes later); clinic_app.storage.sealing computes the same.


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _sha(obj: Any) -> str:
    return hashlib.sha256(_canonical(obj).encode("utf-8")).hexdigest()


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _drop_sqlite_locks_0001()
    else:
        _drop_pg_locks_0001()
    with op.batch_alter_table("evaluation") as batch:
        batch.add_column(sa.Column("seal", JSONType, nullable=True))
        batch.add_column(sa.Column("signature", sa.String(128), nullable=True))
    with op.batch_alter_table("addendum") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("signature", sa.String(128), nullable=True))
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    _backfill()
    if sqlite:
        _create_sqlite_locks()
    else:
        _create_pg_locks()


def _drop_sqlite_locks_0001() -> None:
    for event in ("update", "delete"):
        op.execute(f"DROP TRIGGER evaluation_signed_no_{event}")
        for table in ("addendum", "audit_event"):
            op.execute(f"DROP TRIGGER {table}_no_{event}")


def _drop_pg_locks_0001() -> None:
    op.execute("DROP TRIGGER evaluation_signed_locked ON evaluation")
    for table in ("addendum", "audit_event"):
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")


def _backfill() -> None:
    """Chain the existing addenda and audit events; mark evaluations signed before sealing."""
    bind = op.get_bind()
    evaluation = sa.table(
        "evaluation", sa.column("id", sa.Integer), sa.column("status"), sa.column("seal", JSONType)
    )
    bind.execute(
        evaluation.update().where(evaluation.c.status == "signed").values(seal={"legacy": "0004"})
    )
    addendum = sa.table(
        "addendum",
        sa.column("id", sa.Integer),
        sa.column("evaluation_id", sa.Integer),
        sa.column("author", sa.String),
        sa.column("created_at", UTCDateTime()),
        sa.column("text", sa.Text),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    previous: dict[int, str] = {}
    for row in bind.execute(sa.select(addendum).order_by(addendum.c.id)).all():
        prev = previous.get(row.evaluation_id, GENESIS)
        value = addendum_hash(row.evaluation_id, row.author, row.created_at, row.text, prev)
        previous[row.evaluation_id] = value
        bind.execute(
            addendum.update().where(addendum.c.id == row.id).values(prev_hash=prev, hash=value)
        )
    audit = audit_table()
    prev = GENESIS
    for row in bind.execute(sa.select(audit).order_by(audit.c.id)).all():
        value = audit_hash(
            row.at,
            row.actor,
            row.entity,
            row.entity_id,
            row.action,
            row.before_digest,
            row.after_digest,
            prev,
        )
        bind.execute(audit.update().where(audit.c.id == row.id).values(prev_hash=prev, hash=value))
        prev = value


def addendum_hash(evaluation_id: int, author: str, created_at: Any, text: str, prev: str) -> str:
    return _sha(
        {
            "evaluation_id": evaluation_id,
            "author": author,
            "created_at": created_at.isoformat(),
            "text": text,
            "prev": prev,
        }
    )


def audit_table() -> sa.TableClause:
    """The audit events' columns as of 0004 (later revisions chain events with it too)."""
    return sa.table(
        "audit_event",
        sa.column("id", sa.Integer),
        sa.column("at", UTCDateTime()),
        sa.column("actor", sa.String),
        sa.column("entity", sa.String),
        sa.column("entity_id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("before_digest", sa.String),
        sa.column("after_digest", sa.String),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )


def audit_hash(
    at: Any,
    actor: str,
    entity: str,
    entity_id: int,
    action: str,
    before: str | None,
    after: str | None,
    prev: str,
) -> str:
    return _sha(
        {
            "at": at.isoformat(),
            "actor": actor,
            "entity": entity,
            "entity_id": entity_id,
            "action": action,
            "before": before,
            "after": after,
            "prev": prev,
        }
    )


def _raise(message: str) -> str:
    return f"BEGIN SELECT RAISE(ABORT, '{message}'); END"


SQLITE_TRIGGERS: dict[str, str] = {
    # evaluation: a signed row is never changed, deleted or written over; signing needs its seal.
    "evaluation_signed_no_update": "BEFORE UPDATE ON evaluation FOR EACH ROW "
    f"WHEN OLD.status = 'signed' {_raise(LOCK_MESSAGE)}",
    "evaluation_signed_no_delete": "BEFORE DELETE ON evaluation FOR EACH ROW "
    f"WHEN OLD.status = 'signed' {_raise(LOCK_MESSAGE)}",
    "evaluation_signed_no_replace": "BEFORE INSERT ON evaluation FOR EACH ROW "
    "WHEN EXISTS (SELECT 1 FROM evaluation WHERE id = NEW.id AND status = 'signed') "
    f"{_raise(LOCK_MESSAGE)}",
    "evaluation_no_insert_signed": "BEFORE INSERT ON evaluation FOR EACH ROW "
    f"WHEN NEW.status = 'signed' {_raise(NOT_SIGNED_INSERT)}",
    "evaluation_sign_needs_seal": "BEFORE UPDATE ON evaluation FOR EACH ROW "
    "WHEN NEW.status = 'signed' AND (NEW.seal IS NULL OR NEW.signature IS NULL) "
    f"{_raise(NEEDS_SEAL)}",
    "addendum_only_to_signed": "BEFORE INSERT ON addendum FOR EACH ROW "
    "WHEN NOT EXISTS (SELECT 1 FROM evaluation WHERE id = NEW.evaluation_id "
    f"AND status = 'signed') {_raise(ADDENDUM_TO_SIGNED)}",
}
for _table, _message in MESSAGES.items():
    SQLITE_TRIGGERS[f"{_table}_no_update"] = (
        f"BEFORE UPDATE ON {_table} FOR EACH ROW {_raise(_message)}"
    )
    SQLITE_TRIGGERS[f"{_table}_no_delete"] = (
        f"BEFORE DELETE ON {_table} FOR EACH ROW {_raise(_message)}"
    )
    SQLITE_TRIGGERS[f"{_table}_no_replace"] = (
        f"BEFORE INSERT ON {_table} FOR EACH ROW "
        f"WHEN EXISTS (SELECT 1 FROM {_table} WHERE id = NEW.id) {_raise(_message)}"
    )


def _create_sqlite_locks() -> None:
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def _create_pg_locks() -> None:
    # clinic_refuse_change (0001) names OLD.id; these rules also fire on INSERT and TRUNCATE.
    op.execute(
        "CREATE FUNCTION clinic_refuse_write() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% (%)', TG_ARGV[0], TG_TABLE_NAME "
        "USING ERRCODE = 'integrity_constraint_violation'; END $$"
    )
    op.execute(
        "CREATE TRIGGER evaluation_signed_locked BEFORE UPDATE OR DELETE ON evaluation "
        "FOR EACH ROW WHEN (OLD.status = 'signed') "
        f"EXECUTE FUNCTION clinic_refuse_change('{LOCK_MESSAGE}')"
    )
    op.execute(
        "CREATE TRIGGER evaluation_no_insert_signed BEFORE INSERT ON evaluation "
        "FOR EACH ROW WHEN (NEW.status = 'signed') "
        f"EXECUTE FUNCTION clinic_refuse_write('{NOT_SIGNED_INSERT}')"
    )
    op.execute(
        "CREATE TRIGGER evaluation_sign_needs_seal BEFORE UPDATE ON evaluation "
        "FOR EACH ROW WHEN (NEW.status = 'signed' AND (NEW.seal IS NULL OR NEW.signature IS NULL)) "
        f"EXECUTE FUNCTION clinic_refuse_write('{NEEDS_SEAL}')"
    )
    op.execute(
        "CREATE FUNCTION clinic_addendum_to_signed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF NOT EXISTS (SELECT 1 FROM evaluation WHERE id = NEW.evaluation_id "
        "AND status = 'signed') THEN RAISE EXCEPTION '%', TG_ARGV[0] "
        "USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER addendum_only_to_signed BEFORE INSERT ON addendum FOR EACH ROW "
        f"EXECUTE FUNCTION clinic_addendum_to_signed('{ADDENDUM_TO_SIGNED}')"
    )
    for table, message in MESSAGES.items():
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION clinic_refuse_change('{message}')"
        )
    for table in ("evaluation", *MESSAGES):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION clinic_refuse_write('{table} cannot be emptied')"
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER evaluation_signed_locked ON evaluation")
        op.execute("DROP TRIGGER evaluation_no_insert_signed ON evaluation")
        op.execute("DROP TRIGGER evaluation_sign_needs_seal ON evaluation")
        op.execute("DROP TRIGGER addendum_only_to_signed ON addendum")
        for table in MESSAGES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        for table in ("evaluation", *MESSAGES):
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION clinic_addendum_to_signed()")
        op.execute("DROP FUNCTION clinic_refuse_write()")
    for table, columns in (
        ("audit_event", ("hash", "prev_hash")),
        ("addendum", ("signature", "hash", "prev_hash")),
        ("evaluation", ("signature", "seal")),
    ):
        for column in columns:  # ALTER TABLE DROP COLUMN (SQLite 3.35+): no table rebuild
            op.drop_column(table, column)
    # 0001's locks again
    if sqlite:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER evaluation_signed_no_{event.lower()} BEFORE {event} ON evaluation "
                f"FOR EACH ROW WHEN OLD.status = 'signed' {_raise(LOCK_MESSAGE)}"
            )
            for table in ("addendum", "audit_event"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"FOR EACH ROW {_raise(MESSAGES[table])}"
                )
    else:
        op.execute(
            "CREATE TRIGGER evaluation_signed_locked BEFORE UPDATE OR DELETE ON evaluation "
            "FOR EACH ROW WHEN (OLD.status = 'signed') "
            f"EXECUTE FUNCTION clinic_refuse_change('{LOCK_MESSAGE}')"
        )
        for table in ("addendum", "audit_event"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION clinic_refuse_change('{MESSAGES[table]}')"
            )
