"""Patient search: SQLite's FTS5 index also keeps 1-, 2- and 3-letter prefixes.

Without prefix indexes FTS5 answers a prefix query ``"s"*`` by merging the posting lists of every
indexed term that starts with "s"; among 100,000 patients the capped broad search's probe
(``SELECT rowid FROM patient_fts WHERE patient_fts MATCH '"s"*' ORDER BY rowid DESC LIMIT 2001``)
took 9.5 ms, most of a keystroke's budget (issue 6: search p95 <= 15 ms at 100,000 patients). With
``prefix='1 2 3'`` the first three letters of every term are indexed as terms of their own and the
same probe takes 0.4 ms. Longer prefixes are already narrow enough to merge quickly. The cost:
rebuilding the index takes about 0.5 s at 100,000 patients and the file grows by about 3.5 %.

FTS5 cannot add prefix indexes to an existing table, so ``patient_fts`` is dropped and made again
(same columns, external content ``patient``, same tokenizer, same three triggers) and rebuilt
from ``patient``. PostgreSQL searches ``patient.search_name`` with its trigram index (0002): on
PostgreSQL this revision does nothing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The table and triggers of 0002, repeated rather than imported: a revision must keep describing
# the schema it made even if a later one changes (0002's module name is not importable anyway).
FTS_COLUMNS = "given_name, family_name, mrn, search_name"
TRIGGERS = ("insert", "delete", "update")
PREFIXES = "1 2 3"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _drop_fts()
        _create_fts(prefix=PREFIXES)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _drop_fts()
        _create_fts(prefix=None)  # 0002's table


def _drop_fts() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER patient_fts_{name}")
    op.execute("DROP TABLE patient_fts")


def _create_fts(prefix: str | None) -> None:
    options = f", prefix='{prefix}'" if prefix else ""
    op.execute(
        f"CREATE VIRTUAL TABLE patient_fts USING fts5({FTS_COLUMNS}, content='patient', "
        f"content_rowid='id', tokenize='unicode61 remove_diacritics 2'{options})"
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
