"""The clinic's exercise library: its own exercises, their pictures and saved programs (issue 17).

- ``library_exercise``: one row per version of a clinic exercise (``exercise_id``, ``version``,
  the definition as JSON). Editing adds a version; a row is never changed or deleted, so a
  signed program that names version 3 can always be shown with version 3's words.
- ``library_picture``: pictures addressed by their SHA-256, immutable. A program's snapshot and
  an exercise name a picture by hash; the bytes behind a hash can never change.
- ``program_template``: saved programs ("proximal tendinopathy, stage 1"), append-only: saving
  a template again under its name adds a row, the newest one is the template.

All three are locked like the audit trail: on SQLite, triggers refuse UPDATE, DELETE and an
INSERT that would replace a row (``INSERT OR REPLACE`` deletes the old row without firing DELETE
triggers, so the INSERT trigger refuses an id, hash or exercise version that exists); on
PostgreSQL, triggers refuse UPDATE, DELETE and TRUNCATE, and workstations get INSERT only
(``storage/roles.py``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clinic_app.storage._types import JSONType, UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEDIA_TYPES = "('image/svg+xml', 'image/png', 'image/jpeg')"
MAX_PICTURE_BYTES = 2 * 1024 * 1024
MESSAGES = {
    "library_exercise": "a library exercise is never changed: save a new version",
    "library_picture": "a stored picture is never changed or deleted",
    "program_template": "a saved program is never changed: save it again under its name",
}
# The other unique key of a table: an INSERT OR REPLACE that hits it would delete the old row.
NATURAL_KEYS = {
    "library_exercise": "exercise_id = NEW.exercise_id AND version = NEW.version",
    "library_picture": "sha256 = NEW.sha256",
}
TABLES = tuple(MESSAGES)


def _tables() -> None:
    op.create_table(
        "library_exercise",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("exercise_id", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("definition", JSONType, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_library_exercise"),
        sa.UniqueConstraint("exercise_id", "version", name="uq_library_exercise_exercise_id"),
        sa.CheckConstraint("version >= 1", name="ck_library_exercise_version"),
    )
    op.create_table(
        "library_picture",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(20), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_library_picture"),
        sa.UniqueConstraint("sha256", name="uq_library_picture_sha256"),
        sa.CheckConstraint(f"media_type IN {MEDIA_TYPES}", name="ck_library_picture_media_type"),
        sa.CheckConstraint(
            f"size BETWEEN 1 AND {MAX_PICTURE_BYTES}", name="ck_library_picture_size"
        ),
        sa.CheckConstraint("length(sha256) = 64", name="ck_library_picture_sha256"),
    )
    op.create_table(
        "program_template",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("program", JSONType, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_program_template"),
    )
    op.create_index("ix_program_template_name", "program_template", ["name", "id"])


def _raise(message: str) -> str:
    return f"BEGIN SELECT RAISE(ABORT, '{message}'); END"


SQLITE_TRIGGERS: dict[str, str] = {}
for _table, _message in MESSAGES.items():
    SQLITE_TRIGGERS[f"{_table}_no_update"] = (
        f"BEFORE UPDATE ON {_table} FOR EACH ROW {_raise(_message)}"
    )
    SQLITE_TRIGGERS[f"{_table}_no_delete"] = (
        f"BEFORE DELETE ON {_table} FOR EACH ROW {_raise(_message)}"
    )
    _same = f"id = NEW.id OR {NATURAL_KEYS[_table]}" if _table in NATURAL_KEYS else "id = NEW.id"
    SQLITE_TRIGGERS[f"{_table}_no_replace"] = (
        f"BEFORE INSERT ON {_table} FOR EACH ROW "
        f"WHEN EXISTS (SELECT 1 FROM {_table} WHERE {_same}) {_raise(_message)}"
    )


def upgrade() -> None:
    _tables()
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    for table, message in MESSAGES.items():
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION clinic_refuse_change('{message}')"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION clinic_refuse_write('{table} cannot be emptied')"
        )


def downgrade() -> None:
    """Refused while the clinic has exercises, pictures or templates (they would be lost)."""
    bind = op.get_bind()
    for table in TABLES:
        count = bind.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
        if count:
            raise RuntimeError(
                f"{table} holds {count} row{'' if count == 1 else 's'}; revision 0006 has no "
                "place for the clinic's exercise library (downgrade refused)"
            )
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.drop_index("ix_program_template_name", table_name="program_template")
    for table in TABLES:
        op.drop_table(table)
