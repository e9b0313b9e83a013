"""Initial schema: clinic, clinicians, patients, form snapshots, evaluations, addenda, audit.

Signed evaluations, addenda and audit events are protected by triggers, so that not even a raw
SQL statement from another tool can change a signed record.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clinic_app.storage._types import JSONType, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_MESSAGE = "evaluation is signed and locked: only addenda may follow"
APPEND_ONLY = {"addendum": "addenda cannot be changed", "audit_event": "audit events are permanent"}


def _ck(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "clinic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(50), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("paper_size", sa.String(10), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(_ck("paper_size", ("A4", "Letter")), name="ck_clinic_paper_size"),
        sa.PrimaryKeyConstraint("id", name="pk_clinic"),
    )
    op.create_table(
        "clinician",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("credentials", sa.String(100), nullable=False),
        sa.Column("licence_number", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clinician"),
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("given_name", sa.String(100), nullable=False),
        sa.Column("family_name", sa.String(100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("mrn", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(50), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("activity", sa.String(200), nullable=False),
        sa.Column("referring_provider", sa.String(200), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(_ck("sex", ("female", "male", "other", "unknown")), name="ck_patient_sex"),
        sa.PrimaryKeyConstraint("id", name="pk_patient"),
        sa.UniqueConstraint("mrn", name="uq_patient_mrn"),
    )
    op.create_index("ix_patient_date_of_birth", "patient", ["date_of_birth"])
    op.create_table(
        "form_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", JSONType, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_form_snapshot"),
        sa.UniqueConstraint("form_id", "version", "content_hash", name="uq_form_snapshot_content"),
    )
    op.create_table(
        "evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("eval_date", sa.Date(), nullable=False),
        sa.Column("form_snapshot_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.String(64), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("involved_side", sa.String(10), nullable=True),
        sa.Column("findings", JSONType, nullable=False),
        sa.Column("carried_forward", JSONType, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("signed_by", sa.String(100), nullable=True),
        sa.Column("signed_at", UTCDateTime(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            _ck("kind", ("initial", "re_evaluation", "discharge")), name="ck_evaluation_kind"
        ),
        sa.CheckConstraint(_ck("status", ("draft", "signed")), name="ck_evaluation_status"),
        sa.CheckConstraint(
            "involved_side IS NULL OR " + _ck("involved_side", ("left", "right", "both")),
            name="ck_evaluation_involved_side",
        ),
        sa.CheckConstraint("version >= 1", name="ck_evaluation_version"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name="fk_evaluation_patient_id_patient"
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"], ["clinician.id"], name="fk_evaluation_clinician_id_clinician"
        ),
        sa.ForeignKeyConstraint(
            ["form_snapshot_id"],
            ["form_snapshot.id"],
            name="fk_evaluation_form_snapshot_id_form_snapshot",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_evaluation"),
    )
    op.create_index("ix_evaluation_patient", "evaluation", ["patient_id", "eval_date", "id"])
    op.create_table(
        "addendum",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"], ["evaluation.id"], name="fk_addendum_evaluation_id_evaluation"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_addendum"),
    )
    op.create_index("ix_addendum_evaluation", "addendum", ["evaluation_id", "id"])
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(30), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("before_digest", sa.String(64), nullable=True),
        sa.Column("after_digest", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_event"),
    )
    op.create_index("ix_audit_event_entity", "audit_event", ["entity", "entity_id", "id"])
    _create_triggers()


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER evaluation_signed_no_{event.lower()} BEFORE {event} ON evaluation "
                f"FOR EACH ROW WHEN OLD.status = 'signed' "
                f"BEGIN SELECT RAISE(ABORT, '{LOCK_MESSAGE}'); END"
            )
            for table, message in APPEND_ONLY.items():
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )
        return
    op.execute(
        "CREATE FUNCTION clinic_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% (% %)', TG_ARGV[0], TG_TABLE_NAME, OLD.id "
        "USING ERRCODE = 'integrity_constraint_violation'; END $$"
    )
    op.execute(
        "CREATE TRIGGER evaluation_signed_locked BEFORE UPDATE OR DELETE ON evaluation "
        "FOR EACH ROW WHEN (OLD.status = 'signed') "
        f"EXECUTE FUNCTION clinic_refuse_change('{LOCK_MESSAGE}')"
    )
    for table, message in APPEND_ONLY.items():
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION clinic_refuse_change('{message}')"
        )


def downgrade() -> None:
    for table in ("audit_event", "addendum", "evaluation", "form_snapshot", "patient"):
        op.drop_table(table)
    op.drop_table("clinician")
    op.drop_table("clinic")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION clinic_refuse_change()")
