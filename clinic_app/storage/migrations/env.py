"""Alembic environment, driven from code (clinic_app.storage.migrate), never from alembic.ini.

The caller hands over an open connection in ``config.attributes["connection"]``; the migration
runs inside one transaction on it (SQLite DDL is transactional too, so a failed upgrade leaves the
old schema, and the safety backup made before it, intact).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from clinic_app.storage.models import Base

config = context.config
connection = config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "run migrations through clinic_app.storage.migrate, which passes a connection"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
