"""storage.schema: a database's schema compared with what the migrations make."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from clinic_app.storage import migrate, schema
from clinic_app.storage.database import open_database


def _clinic(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    open_database(f"sqlite:///{path}").close()
    return path


def test_sqlites_own_statistics_are_not_a_schema_difference(tmp_path: Path) -> None:
    """ANALYZE (a DBA's, or `PRAGMA optimize`) makes sqlite_stat1/sqlite_stat4: SQLite's
    query-planner statistics, not a table anyone put there."""
    path = _clinic(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("ANALYZE")
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "sqlite_stat1" in names
    assert schema.difference_of_file(path) is None


def test_a_table_of_anyone_elses_is_still_a_difference(tmp_path: Path) -> None:
    path = _clinic(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("ANALYZE")
        conn.execute("CREATE TABLE stat1 (x)")
    assert schema.difference_of_file(path) == (
        "table stat1 (on stat1) is not made by the migrations"
    )
    assert schema.expected(migrate.HEAD)  # the migrations' own objects are known
