"""Every table is locked against being emptied; clinic, clinicians and settings are never deleted.

An outside review found that ``TRUNCATE setting`` went through on PostgreSQL: the ``setting``
table (the clinic-wide idle lock, plan-of-care and MRN policy) had no BEFORE TRUNCATE trigger, so
the owner could reset every setting to its default in one statement and ``verify`` said nothing.
The same held for ``clinic``, ``clinician``, ``patient`` and ``episode`` (patients and episodes
only while no table that names them was emptied with them: ``TRUNCATE … CASCADE`` stopped at
``evaluation_no_truncate``). The app never deletes a row of any of these tables (clinicians are
disabled, patients archived, settings saved again), so each now refuses TRUNCATE, as the other
tables have since 0004, 0006 and 0007.

Row by row, ``DELETE FROM setting`` (or ``clinic``, ``clinician``) went through on both backends:
the app never deletes these rows either, so a BEFORE DELETE trigger now refuses it. Patients and
episodes keep 0008's rule (deleted only while nothing names them; on PostgreSQL the foreign keys
see to that).

The triggers call 0004's ``clinic_refuse_write`` (0009 set its ``search_path``; no function is
added or changed here).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables that had no BEFORE TRUNCATE trigger on PostgreSQL (every other table has one).
NO_TRUNCATE = ("clinic", "clinician", "patient", "episode", "setting")
# The tables whose rows had no BEFORE DELETE trigger at all, on either backend.
NO_DELETE = {
    "clinic": "the clinic details are never deleted: edit them instead",
    "clinician": "clinicians are never deleted: disable the account instead",
    "setting": "clinic settings are never deleted: save the setting instead",
}


def _raise(message: str) -> str:
    return f"BEGIN SELECT RAISE(ABORT, '{message}'); END"


SQLITE_TRIGGERS: dict[str, str] = {
    f"{table}_no_delete": f"BEFORE DELETE ON {table} FOR EACH ROW {_raise(message)}"
    for table, message in NO_DELETE.items()
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    for table, message in NO_DELETE.items():
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION clinic_refuse_write('{message}')"
        )
    for table in NO_TRUNCATE:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION clinic_refuse_write('{table} cannot be emptied')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        return
    for table in NO_TRUNCATE:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    for table in NO_DELETE:
        op.execute(f"DROP TRIGGER {table}_no_delete ON {table}")
