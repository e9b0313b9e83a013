"""Patient search: folded name column, SQLite FTS5 index kept by triggers, PostgreSQL trigram index.

``patient.search_name`` holds "family given" folded (lower case, no accents; see
clinic_app.storage.search.fold). It is the accent-insensitive sort key of patient lists on both
backends. SQLite also indexes the names, MRN and folded name with FTS5 (``unicode61
remove_diacritics 2``), kept in sync by triggers so rows written by any tool stay findable.
PostgreSQL searches ``search_name`` with a pg_trgm GIN index (a prefix index where pg_trgm is
not installed).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clinic_app.storage.search import search_name

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_COLUMNS = "given_name, family_name, mrn, search_name"


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column(
        "patient", sa.Column("search_name", sa.String(210), nullable=False, server_default="")
    )
    patient = sa.table(
        "patient",
        sa.column("id", sa.Integer()),
        sa.column("given_name", sa.String()),
        sa.column("family_name", sa.String()),
        sa.column("search_name", sa.String()),
    )
    rows = bind.execute(sa.select(patient.c.id, patient.c.given_name, patient.c.family_name))
    updates = [{"pid": r.id, "name": search_name(r.given_name, r.family_name)} for r in rows]
    if updates:
        bind.execute(
            patient.update()
            .where(patient.c.id == sa.bindparam("pid"))
            .values(search_name=sa.bindparam("name")),
            updates,
        )
    op.create_index("ix_patient_list", "patient", ["archived", "search_name", "id"])
    if bind.dialect.name == "sqlite":
        _sqlite_fts()
    else:
        _postgres_indexes(bind)


def _sqlite_fts() -> None:
    op.execute(
        f"CREATE VIRTUAL TABLE patient_fts USING fts5({FTS_COLUMNS}, content='patient', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    new = ", ".join(f"new.{c.strip()}" for c in FTS_COLUMNS.split(","))
    old = ", ".join(f"old.{c.strip()}" for c in FTS_COLUMNS.split(","))
    insert_new = f"INSERT INTO patient_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, {new});"
    delete_old = (
        f"INSERT INTO patient_fts(patient_fts, rowid, {FTS_COLUMNS}) "
        f"VALUES ('delete', old.id, {old});"
    )
    op.execute(f"CREATE TRIGGER patient_fts_insert AFTER INSERT ON patient BEGIN {insert_new} END")
    op.execute(f"CREATE TRIGGER patient_fts_delete AFTER DELETE ON patient BEGIN {delete_old} END")
    op.execute(
        f"CREATE TRIGGER patient_fts_update AFTER UPDATE OF {FTS_COLUMNS} ON patient "
        f"BEGIN {delete_old} {insert_new} END"
    )
    op.execute("INSERT INTO patient_fts(patient_fts) VALUES ('rebuild')")


def _postgres_indexes(bind: sa.Connection) -> None:
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).first()
    trigram = False
    if available is not None:
        try:
            with bind.begin_nested():
                bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            trigram = True
        except sa.exc.DBAPIError:  # no privilege to install it: fall back to prefix search
            trigram = False
    if trigram:
        op.execute(
            "CREATE INDEX ix_patient_search_trgm ON patient USING gin (search_name gin_trgm_ops)"
        )
    else:
        op.execute("CREATE INDEX ix_patient_search_prefix ON patient (search_name text_pattern_ops)")
    op.execute("CREATE INDEX ix_patient_mrn_lower ON patient (lower(mrn) text_pattern_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER patient_fts_{name}")
        op.execute("DROP TABLE patient_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_patient_search_trgm")
        op.execute("DROP INDEX IF EXISTS ix_patient_search_prefix")
        op.execute("DROP INDEX ix_patient_mrn_lower")
    op.drop_index("ix_patient_list", table_name="patient")
    op.drop_column("patient", "search_name")
