"""Looking at a SQLite file without changing it: header, integrity, schema revision.

Every check opens the file read-only (and, when no other program has it open, as *immutable*, so
SQLite creates no ``-wal``/``-shm`` files beside it): a damaged file must be left exactly as it was
found, for the person who will try to rescue it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from clinic_app.storage.errors import DatabaseFileError

SQLITE_HEADER = b"SQLite format 3\x00"


def _readonly_uri(path: Path) -> str:
    wal = path.with_name(path.name + "-wal")
    # With a -wal file present another connection may be writing (or crashed mid-write): read it
    # through SQLite's normal locking. Otherwise nothing can change under us and "immutable"
    # guarantees that SQLite writes nothing at all next to the file.
    options = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    return f"file:{quote(str(path.resolve()))}?{options}"


def check_header(path: Path) -> None:
    """Refuse a file that does not start with the SQLite header (reads 16 bytes, writes nothing)."""
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        raise DatabaseFileError(path, "file not found") from None
    except OSError as exc:
        raise DatabaseFileError(path, f"cannot read the file ({exc.strerror})") from None
    if header != SQLITE_HEADER:
        what = "is empty" if not header else "is not a SQLite database (unrecognised file header)"
        raise DatabaseFileError(path, f"{what}; the file was not changed")


@contextmanager
def open_readonly(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only sqlite3 connection to ``path`` after checking the file header."""
    check_header(path)
    try:
        conn = sqlite3.connect(_readonly_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise DatabaseFileError(
            path, f"cannot be opened ({exc}); the file was not changed"
        ) from None
    try:
        yield conn
    finally:
        conn.close()


def check_file(path: Path, *, full: bool = False) -> str | None:
    """Check ``path`` is a sound SQLite database and return its schema revision (None if unstamped).

    ``full`` runs ``PRAGMA integrity_check`` (every index against its table); otherwise the much
    cheaper ``PRAGMA quick_check`` used at every start. Raises DatabaseFileError naming the file.
    """
    pragma = "integrity_check" if full else "quick_check"
    with open_readonly(path) as conn:
        try:
            rows = conn.execute(f"PRAGMA {pragma}").fetchall()
            problems = [str(r[0]) for r in rows if r[0] != "ok"]
            if problems:
                raise DatabaseFileError(
                    path, f"is damaged ({problems[0]}); the file was not changed"
                )
            has_version = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            if has_version is None:
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise DatabaseFileError(
                path, f"is damaged or not a database ({exc}); the file was not changed"
            ) from None
    return None if row is None else str(row[0])


def table_names(path: Path) -> list[str]:
    """Tables of the database at ``path`` (read-only)."""
    with open_readonly(path) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    return [str(r[0]) for r in rows]
