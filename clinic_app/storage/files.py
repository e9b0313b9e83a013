"""Looking at a SQLite file without changing it: header, integrity, schema revision.

Every check opens the file read-only (and, when no other program has it open, as *immutable*, so
SQLite creates no ``-wal``/``-shm`` files beside it): a damaged file must be left exactly as it was
found, for the person who will try to rescue it.

An encrypted (SQLCipher) file is read with ``sqlcipher3`` and the clinic passphrase: the one
given, else the one this process opened that file with (``encryption.key_for``), else
PassphraseRequiredError. A passphrase that does not open it is WrongPassphraseError.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clinic_app.storage.errors import DatabaseFileError

SQLITE_HEADER = b"SQLite format 3\x00"
# SQLCipher 4's page size (cipher_page_size): an encrypted file is a whole number of them.
CIPHER_PAGE_SIZE = 4096


def readonly_uri(path: Path) -> str:
    """A sqlite3 URI that opens ``path`` read-only, writing nothing beside it when possible."""
    # With frames in a -wal file another connection may be writing (or crashed mid-write): read
    # through SQLite's normal locking. Otherwise every committed page is in the main file and
    # "immutable" guarantees that SQLite creates nothing (no -wal, no -shm) next to it.
    options = "mode=ro" if _wal_has_frames(path) else "mode=ro&immutable=1"
    return f"file:{quote(str(path.resolve()))}?{options}"


def passphrase_for(path: Path, passphrase: str | None = None) -> str | None:
    """None for a plain (or missing) file; for an encrypted one the passphrase to read it with:
    ``passphrase``, else the one this process opened it with, else PassphraseRequiredError."""
    from clinic_app.storage import encryption

    if not looks_encrypted(path):
        return None  # plain, or not an encrypted database either (check_header says which)
    known = passphrase if passphrase is not None else encryption.key_for(path)
    if known is None:
        raise encryption.PassphraseRequiredError(path)
    return known


def looks_encrypted(path: Path) -> bool:
    """An encrypted database, as far as can be told without its key (see :func:`_whole_pages`)."""
    from clinic_app.storage import encryption

    return encryption.is_encrypted(path) and _whole_pages(path)


def _whole_pages(path: Path) -> bool:
    """An encrypted database is one or more whole SQLCipher pages (a cut file or another kind
    of file, mostly, is not: it is then refused as "not a SQLite database")."""
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return size > 0 and size % CIPHER_PAGE_SIZE == 0


def check_header(path: Path, *, check_size: bool = True, passphrase: str | None = None) -> None:
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
    encrypted = header and not header.startswith(SQLITE_HEADER)
    if encrypted and passphrase_for(path, passphrase) is not None:
        return  # encrypted: its pages are opaque (the key is checked when it is opened)
    if not header.startswith(SQLITE_HEADER):
        what = (
            "is empty"
            if not header
            else ("is not a SQLite database (unrecognised file header), nor a whole encrypted one")
        )
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
def open_readonly(path: Path, passphrase: str | None = None) -> Iterator[Any]:
    """A read-only connection to ``path`` after checking the file header: sqlite3 for a plain
    file, sqlcipher3 keyed with the passphrase (see the module docstring) for an encrypted one."""
    check_header(path, check_size=not _wal_has_frames(path), passphrase=passphrase)
    key = passphrase_for(path, passphrase)
    if key is None:
        try:
            conn: Any = sqlite3.connect(readonly_uri(path), uri=True)
        except sqlite3.Error as exc:
            raise DatabaseFileError(
                path, f"cannot be opened ({exc}); the file was not changed"
            ) from None
    else:
        conn = open_encrypted(path, key, uri=readonly_uri(path))
    try:
        yield conn
    finally:
        conn.close()


def open_encrypted(path: Path, passphrase: str, *, uri: str | None = None) -> Any:
    """A sqlcipher3 connection to ``path`` (or ``uri``), its key checked by reading the schema:
    WrongPassphraseError (the file untouched) if it does not open."""
    from clinic_app.storage import encryption

    errors = encryption.sql_errors()
    try:
        conn = encryption.connect(uri or path, passphrase, uri=uri is not None)
    except errors as exc:
        raise DatabaseFileError(
            path, f"cannot be opened ({exc}); the file was not changed"
        ) from None
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except errors:
        conn.close()
        raise encryption.WrongPassphraseError(path) from None
    return conn


def check_file(
    path: Path, *, full: bool = False, integrity: bool = True, passphrase: str | None = None
) -> str | None:
    """Check ``path`` is a sound SQLite database and return its schema revision (None if unstamped).

    ``full`` runs ``PRAGMA integrity_check`` (every index against its table); otherwise the much
    cheaper ``PRAGMA quick_check`` used at every start. ``integrity=False`` skips both (header and
    revision only), for a caller that has just checked the file itself. Raises DatabaseFileError
    naming the file.
    """
    from clinic_app.storage import encryption

    pragma = "integrity_check" if full else "quick_check"
    with open_readonly(path, passphrase) as conn:
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
        except encryption.database_errors() as exc:
            raise DatabaseFileError(
                path, f"is damaged or not a database ({exc}); the file was not changed"
            ) from None
    return None if row is None else str(row[0])


def table_names(path: Path, passphrase: str | None = None) -> list[str]:
    """Tables of the database at ``path`` (read-only)."""
    with open_readonly(path, passphrase) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    return [str(r[0]) for r in rows]
