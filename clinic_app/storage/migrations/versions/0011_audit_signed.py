"""Audit events are signed: the chain's newest event carries an Ed25519 signature of its hash.

Since 0004 the audit events form a SHA-256 hash chain, which anyone who can write the database
can recompute: on a clinic server the tables' owner could rewrite an access event, or drop the
newest events, and rechain the rest; only a workstation whose own last event was touched would
notice (``storage.state``). From here on the app signs the last event of each write with the
installation key (``storage.sealing.chain_audit``), and ``verify`` requires the newest event to
carry a signature by a trusted key. The chain links every event to the one before, so that one
signature vouches for the whole trail up to it; rechaining anything breaks it, and the forger
holds no workstation's key.

A database that already has events has its newest one signed here, with the key of the
installation that upgrades it (the append-only lock lifted for that one column of that one row,
inside the upgrade's transaction), so a trail whose newest event predates this revision verifies.
Downgrading drops the column.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_v4 = importlib.import_module("clinic_app.storage.migrations.versions.0004_seal_and_lock")

_AUDIT_LOCK = 1_300_013  # clinic_app.storage.sealing's: serialises writers of the chain


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("signature", sa.String(128), nullable=True))
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        bind.execute(sa.text(f"SELECT pg_advisory_xact_lock({_AUDIT_LOCK})"))
    audit = sa.table(
        "audit_event",
        sa.column("id", sa.Integer),
        sa.column("hash", sa.String),
        sa.column("signature", sa.String),
    )
    newest = bind.execute(
        sa.select(audit.c.id, audit.c.hash).order_by(audit.c.id.desc()).limit(1)
    ).first()
    if newest is None or not newest.hash:
        return  # no events yet: each will be written signed
    from clinic_app.storage import sealing

    key = sealing.installation_key()
    assert key is not None
    signature = key.sign(str(newest.hash).encode("utf-8")).hex()
    # Audit events refuse UPDATE (0001, 0004): the lock is lifted for this one row's new column.
    if postgres:
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    else:
        op.execute("DROP TRIGGER audit_event_no_update")
    bind.execute(audit.update().where(audit.c.id == newest.id).values(signature=signature))
    if postgres:
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
    else:
        body = _v4.SQLITE_TRIGGERS["audit_event_no_update"]
        op.execute(f"CREATE TRIGGER audit_event_no_update {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite >= 3.35 drops a column in place; the append-only triggers name no column.
        op.execute("ALTER TABLE audit_event DROP COLUMN signature")
    else:
        op.drop_column("audit_event", "signature")
