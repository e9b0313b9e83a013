"""PostgreSQL: the lock functions read the app's own tables, never a session's temporary ones.

An outside test (``tests/storage/test_pg_owner.py``) found that the lock functions of 0004, 0006
and 0008 read ``evaluation``, ``episode``, ``goal`` and ``plan_of_care`` by unqualified name, and
PostgreSQL searches the session's temporary schema first. Any role allowed to make temporary
tables (PUBLIC is, by default; so the workstation role is) could make empty ones of those names
and then move a signed evaluation's episode to another patient, or add an addendum to an
evaluation that is not signed: the lock read the empty temporary table and let it through. Only
the audit trail told afterwards.

Each lock function now runs with ``search_path`` set to the schema its tables are in, then
``pg_temp`` (named last, so it is searched last). Nothing changes on SQLite, where a trigger's
statements only see the tables of its own database.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every function a lock trigger calls (clinic_app.storage.schema checks each one's setting).
LOCK_FUNCTIONS = (
    "clinic_refuse_change",
    "clinic_refuse_write",
    "clinic_addendum_to_signed",
    "clinic_same_patient_episode",
    "clinic_episode_kept",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one()
    for name in LOCK_FUNCTIONS:
        op.execute(f"ALTER FUNCTION {schema}.{name}() SET search_path = {schema}, pg_temp")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one()
    for name in LOCK_FUNCTIONS:
        op.execute(f"ALTER FUNCTION {schema}.{name}() RESET search_path")
