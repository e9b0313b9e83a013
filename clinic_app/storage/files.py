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


def readonly_uri(path: Path) -> str:
    """A sqlite3 URI that opens ``path`` read-only, writing nothing beside it when possible."""
    # With frames in a -wal file another connection may be writing (or crashed mid-write): read
    # through SQLite's normal locking. Otherwise every committed page is in the main file and
    # "immutable" guarantees that SQLite creates nothing (no -wal, no -shm) next to it.
    options = "mode=ro" if _wal_has_frames(path) else "mode=ro&immutable=1"
    return f"file:{quote(str(path.resolve()))}?{options}"


def check_header(path: Path, *, check_size: bool = True) -> None:
    """Refuse a file that is not a whole SQLite database, from its first 100 bytes and its size.

    The header states the page size and (when its "valid-for" counter matches) the number of
    pages: a file cut short, even by one byte, is caught here, which ``PRAGMA integrity_check``
    alone does not always do (SQLite reads missing bytes of the last page as zeros). Writes
    nothing. ``check_size`` is skipped for a database whose ``-wal`` file holds newer pages.
    """
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
        size = path.stat().st_size
    except FileNotFoundError:
        raise DatabaseFileError(path, "file not found") from None
    except IsADirectoryError:
        raise DatabaseFileError(path, "is a folder, not a database file") from None
    except OSError as exc:
        raise DatabaseFileError(path, f"cannot read the file ({exc.strerror})") from None
    if not header.startswith(SQLITE_HEADER):
        what = "is empty" if not header else "is not a SQLite database (unrecognised file header)"
        raise DatabaseFileError(path, f"{what}; the file was not changed")
    if len(header) < 100:
        raise DatabaseFileError(path, "is cut short (incomplete header); the file was not changed")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise DatabaseFileError(path, "is damaged (invalid page size); the file was not changed")
    if size % page_size:
        raise DatabaseFileError(
            path,
            f"is cut short or damaged ({size} bytes is not a whole number of {page_size}-byte "
            "pages); the file was not changed",
        )
    pages = int.from_bytes(header[28:32], "big")
    counter_valid = header[24:28] == header[92:96]
    if check_size and counter_valid and pages and pages * page_size > size:
        raise DatabaseFileError(
            path,
            f"is cut short (its header counts {pages} pages, the file holds {size // page_size}); "
            "the file was not changed",
        )


def _wal_has_frames(path: Path) -> bool:
    wal = Path(f"{path}-wal")  # not with_name: "" or "." has no name and would raise
    try:
        return wal.stat().st_size > 32
    except OSError:
        return False


@contextmanager
def open_readonly(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only sqlite3 connection to ``path`` after checking the file header."""
    check_header(path, check_size=not _wal_has_frames(path))
    try:
        conn = sqlite3.connect(readonly_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise DatabaseFileError(
            path, f"cannot be opened ({exc}); the file was not changed"
        ) from None
    try:
        yield conn
    finally:
        conn.close()


def check_file(path: Path, *, full: bool = False, integrity: bool = True) -> str | None:
    """Check ``path`` is a sound SQLite database and return its schema revision (None if unstamped).

    ``full`` runs ``PRAGMA integrity_check`` (every index against its table); otherwise the much
    cheaper ``PRAGMA quick_check`` used at every start. ``integrity=False`` skips both (header and
    revision only), for a caller that has just checked the file itself. Raises DatabaseFileError
    naming the file.
    """
    pragma = "integrity_check" if full else "quick_check"
    with open_readonly(path) as conn:
        try:
            rows = conn.execute(f"PRAGMA {pragma}").fetchall() if integrity else []
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
