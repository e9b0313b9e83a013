"""Clinician accounts, co-signature and clinic-wide settings (issue 14).

- ``clinician``: a unique ``login`` (stored lower-cased; a unique index, so SQLite needs no table
  rebuild), the argon2id ``password_hash``, ``roles`` (comma-separated subset of admin,
  therapist, assistant, student), failed sign-in bookkeeping, ``must_change_password`` (after an
  admin reset), the clinician's own Ed25519 signing key (``signing_key``: PKCS#8 PEM encrypted
  under the clinician's password; ``signing_public_key``) with the certificate of the
  installation key that vouches for it, and ``recovery_hash`` (the first admin's printed recovery
  key, argon2id). Clinicians made before this revision get a login derived from their name and
  no password: an admin sets one (``clinic-app user reset-password``) before they can sign in.
- ``evaluation``: ``prepared_by_id``/``prepared_by``/``prepared_at``: the signature of an
  assistant or student that waits for a therapist's co-signature.
- ``setting``: clinic-wide settings that belong to this database, not to the workstation.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clinic_app.storage._types import JSONType, UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _clinician_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("login", sa.String(64), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("roles", sa.String(100), nullable=False, server_default="therapist"),
        sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_failed_at", UTCDateTime(), nullable=True),
        sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("password_changed_at", UTCDateTime(), nullable=True),
        sa.Column("signing_public_key", sa.String(64), nullable=True),
        sa.Column("signing_key", sa.Text, nullable=True),
        sa.Column("key_certificate", sa.String(128), nullable=True),
        sa.Column("key_certified_by", sa.String(64), nullable=True),
        sa.Column("recovery_hash", sa.String(255), nullable=True),
    )


def _evaluation_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("prepared_by_id", sa.Integer, nullable=True),
        sa.Column("prepared_by", sa.String(100), nullable=True),
        sa.Column("prepared_at", UTCDateTime(), nullable=True),
    )


def login_from_name(name: str, taken: set[str]) -> str:
    """A login for a clinician made before accounts: ASCII letters and digits of the name."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^a-z0-9]+", ".", plain.lower()).strip(".")[:48] or "clinician"
    login, n = base, 1
    while login in taken:
        n += 1
        login = f"{base}{n}"
    taken.add(login)
    return login


# A draft awaiting co-signature: what its preparer signed (findings and the details the report
# prints) cannot change until a therapist returns it for changes (prepared_by cleared) or
# co-signs it (status signed: 0004's lock). Also refused: deleting or writing over such a row
# (DELETE then INSERT would otherwise put changed findings back under the same preparation).
AWAITING = (
    "an evaluation awaiting co-signature cannot be changed: a therapist returns it for changes"
)
_PREPARED_COLUMNS = (
    "findings",
    "carried_forward",
    "eval_date",
    "kind",
    "clinician_id",
    "patient_id",
    "involved_side",
    "form_snapshot_id",
    "form_id",
    "form_version",
)


def _prepared_changed(distinct: str) -> str:
    return " OR ".join(f"NEW.{c} {distinct} OLD.{c}" for c in _PREPARED_COLUMNS)


SQLITE_PREPARED_TRIGGERS = {
    "evaluation_prepared_locked": "BEFORE UPDATE ON evaluation FOR EACH ROW "
    "WHEN OLD.prepared_by IS NOT NULL AND OLD.status = 'draft' "
    f"AND ({_prepared_changed('IS NOT')}) BEGIN SELECT RAISE(ABORT, '{AWAITING}'); END",
    "evaluation_prepared_no_delete": "BEFORE DELETE ON evaluation FOR EACH ROW "
    "WHEN OLD.prepared_by IS NOT NULL AND OLD.status = 'draft' "
    f"BEGIN SELECT RAISE(ABORT, '{AWAITING}'); END",
    "evaluation_prepared_no_replace": "BEFORE INSERT ON evaluation FOR EACH ROW "
    "WHEN EXISTS (SELECT 1 FROM evaluation WHERE id = NEW.id AND prepared_by IS NOT NULL) "
    f"BEGIN SELECT RAISE(ABORT, '{AWAITING}'); END",
}


def _create_prepared_locks() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_PREPARED_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    # clinic_refuse_write (0004) raises its first argument. INSERT ... ON CONFLICT DO UPDATE
    # fires the UPDATE trigger, so PostgreSQL needs no insert rule.
    op.execute(
        "CREATE TRIGGER evaluation_prepared_locked BEFORE UPDATE ON evaluation FOR EACH ROW "
        "WHEN (OLD.prepared_by IS NOT NULL AND OLD.status = 'draft' "
        f"AND ({_prepared_changed('IS DISTINCT FROM')})) "
        f"EXECUTE FUNCTION clinic_refuse_write('{AWAITING}')"
    )
    op.execute(
        "CREATE TRIGGER evaluation_prepared_no_delete BEFORE DELETE ON evaluation FOR EACH ROW "
        "WHEN (OLD.prepared_by IS NOT NULL AND OLD.status = 'draft') "
        f"EXECUTE FUNCTION clinic_refuse_write('{AWAITING}')"
    )


def _drop_prepared_locks() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_PREPARED_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER evaluation_prepared_locked ON evaluation")
        op.execute("DROP TRIGGER evaluation_prepared_no_delete ON evaluation")


def upgrade() -> None:
    for column in _clinician_columns():
        op.add_column("clinician", column)
    for column in _evaluation_columns():
        op.add_column("evaluation", column)
    op.create_table(
        "setting",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", JSONType, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_setting"),
    )
    clinician = sa.table(
        "clinician", sa.column("id", sa.Integer), sa.column("name"), sa.column("login")
    )
    bind = op.get_bind()
    taken: set[str] = set()
    for row in bind.execute(sa.select(clinician.c.id, clinician.c.name).order_by(clinician.c.id)):
        bind.execute(
            clinician.update()
            .where(clinician.c.id == row.id)
            .values(login=login_from_name(row.name, taken))
        )
    op.create_index("uq_clinician_login", "clinician", ["login"], unique=True)
    _create_prepared_locks()


def downgrade() -> None:
    _drop_prepared_locks()  # first: SQLite cannot drop a column a trigger names
    op.drop_index("uq_clinician_login", table_name="clinician")
    op.drop_table("setting")
    # Plain DROP COLUMN (SQLite >= 3.35): a batch rebuild of ``evaluation`` would drop 0004's
    # lock triggers with the old table.
    for table, columns in (
        ("evaluation", _evaluation_columns()),
        ("clinician", _clinician_columns()),
    ):
        for column in columns:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")
