"""Schema revisions: which one a database has, and upgrading it (Alembic, configured in code).

Alembic is imported only when a database actually needs upgrading, so opening an up-to-date
database stays quick. ``HEAD`` must name the newest file in ``migrations/versions`` (a test checks
it against Alembic's own view).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from clinic_app.logs import safe

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine

REVISIONS: tuple[str, ...] = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0010",
    "0011",
)
HEAD: str = REVISIONS[-1]
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"

log = logging.getLogger(__name__)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for our migrations, with no alembic.ini on disk."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_head() -> str | None:
    """Alembic's own idea of the head revision (imports Alembic; for tests and tooling)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision stamped in the database, or None for a database without our schema."""
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    return str(rows[0][0]) if rows else None


def user_tables(connection: Connection) -> list[str]:
    from sqlalchemy import inspect

    return [t for t in inspect(connection).get_table_names() if t != VERSION_TABLE]


def is_known(revision: str) -> bool:
    return revision in REVISIONS


def upgrade(engine: Engine, target: str = "head") -> None:
    """Upgrade the database to ``target`` in one transaction."""
    from alembic import command

    log.info("schema upgrade to %s started", safe(target))
    started = time.perf_counter()
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), target)
        connection.commit()
    log.info("schema upgrade to %s finished in %.2f s", safe(target), time.perf_counter() - started)
