"""Backups and restore of the SQLite database, with SQLite's online backup API.

``sqlite3.Connection.backup`` copies a consistent snapshot page by page while the app keeps
running (a plain file copy of a WAL database can miss committed pages still in the ``-wal`` file).
Automatic backups (daily at start, before each schema upgrade) go to ``data_dir()/backups`` and
only the newest ``keep`` of them are kept; manual backups and the copy of a database replaced by a
restore are never pruned.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clinic_app.logs import safe
from clinic_app.storage import files, migrate
from clinic_app.storage.errors import DatabaseFileError, DatabaseTooNewError, describe_db_error

log = logging.getLogger(__name__)

KEEP_BACKUPS_ENV = "CLINIC_APP_KEEP_BACKUPS"
DEFAULT_KEEP_BACKUPS = 14
AUTOMATIC = ("daily", "upgrade")
_NAME = re.compile(r"^clinic-(?P<stamp>\d{8}-\d{6}-\d{6})-(?P<reason>[a-z0-9-]+)\.db$")


def keep_backups_setting() -> int:
    """How many automatic backups to keep: ``$CLINIC_APP_KEEP_BACKUPS``, default 14."""
    raw = os.environ.get(KEEP_BACKUPS_ENV, "")
    try:
        value = int(raw)
    except ValueError:
        return DEFAULT_KEEP_BACKUPS
    return max(value, 1)


def backups_dir() -> Path:
    from clinic_app.paths import data_dir

    return data_dir() / "backups"


def backup_name(reason: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"clinic-{now:%Y%m%d-%H%M%S-%f}-{reason}.db"


def copy_database(source: Path, dest: Path, *, overwrite: bool = False) -> Path:
    """Copy the live database ``source`` to ``dest`` with the online backup API.

    The copy is written next to ``dest`` under a temporary name and renamed into place when
    complete, so ``dest`` is never a half-written file; an existing ``dest`` is refused unless
    ``overwrite``. The copy is switched to a single-file (rollback journal) database so it can be
    mailed or copied to a stick as one file.
    """
    if dest.exists() and not overwrite:
        raise DatabaseFileError(dest, "already exists; choose another name")
    if not dest.parent.is_dir():
        raise DatabaseFileError(dest, "the folder does not exist")
    files.check_header(source, check_size=False)
    partial = dest.with_name(f".{dest.name}.partial")
    leftovers = [partial, *(partial.with_name(partial.name + s) for s in ("-journal", "-wal"))]
    src = _open_source(source)
    try:
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
                dst.commit()
            finally:
                dst.close()
            partial.replace(dest)
        except (sqlite3.Error, OSError) as exc:
            log.warning("copy of %s to %s failed: %s", source, dest, exc)
            problem = describe_db_error(exc) if isinstance(exc, sqlite3.Error) else exc.strerror
            if isinstance(exc, sqlite3.DatabaseError) and "malformed" in str(exc):
                raise DatabaseFileError(source, f"cannot be backed up ({problem})") from None
            raise DatabaseFileError(
                dest, f"the backup cannot be written ({problem}); nothing was kept"
            ) from None
    finally:
        src.close()
        for leftover in leftovers:
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
    return dest


def _open_source(source: Path) -> sqlite3.Connection:
    """A connection to the live database for the backup API, read-only if it must be.

    Normally an ordinary connection (it shares the app's locks, so the copy is consistent while
    the app writes). Where that fails for want of writing beside the file (a read-only folder, no
    room for SQLite's ``-shm``), the file is opened read-only instead.
    """
    conn = sqlite3.connect(source)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
        return conn
    except sqlite3.Error as exc:
        conn.close()
        first = exc
    if "malformed" in str(first) or "not a database" in str(first):
        raise DatabaseFileError(source, f"cannot be backed up ({describe_db_error(first)})")
    conn = sqlite3.connect(files.readonly_uri(source), uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
    except sqlite3.Error:
        conn.close()
        raise DatabaseFileError(
            source, f"cannot be read for the backup ({describe_db_error(first)})"
        ) from None
    return conn


def make_backup(
    source: Path, reason: str, *, directory: Path | None = None, keep: int | None = None
) -> Path:
    """Back ``source`` up into the backups folder, then prune old automatic backups."""
    directory = directory or backups_dir()
    _make_folder(directory)
    dest = copy_database(source, directory / backup_name(reason))
    log.info("backup written: %s (%s, %d bytes)", dest, safe(reason), dest.stat().st_size)
    prune(directory, keep if keep is not None else keep_backups_setting())
    return dest


def _make_folder(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseFileError(directory, f"cannot create the folder ({exc.strerror})") from None


def list_backups(directory: Path | None = None) -> list[tuple[Path, str]]:
    """(path, reason) of the backups in ``directory``, oldest first."""
    directory = directory or backups_dir()
    if not directory.is_dir():
        return []
    found: list[tuple[str, Path, str]] = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((match["stamp"], path, match["reason"]))
    return [(p, r) for _, p, r in sorted(found)]


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` automatic backups; returns what was deleted."""
    automatic = [p for p, reason in list_backups(directory) if reason.split("-")[0] in AUTOMATIC]
    doomed = automatic[: max(len(automatic) - keep, 0)]
    for path in doomed:
        path.unlink(missing_ok=True)
    if doomed:
        log.info("pruned %d old automatic backups in %s (keeping %d)", len(doomed), directory, keep)
    return doomed


def daily_backup_due(directory: Path | None = None, today: datetime | None = None) -> bool:
    stamp = f"{(today or datetime.now(UTC)):%Y%m%d}"
    return not any(
        p.name.startswith(f"clinic-{stamp}") and reason == "daily"
        for p, reason in list_backups(directory)
    )


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did: the file restored, its schema revision, where the old database went."""

    restored_from: Path
    revision: str
    replaced_copy: Path | None


def verify_backup(path: Path) -> str:
    """Check a file before restoring it: SQLite, full integrity check, our schema, not too new."""
    revision = files.check_file(path, full=True)
    if revision is None:
        raise DatabaseFileError(path, "is not a clinic_app database (no schema revision)")
    if not migrate.is_known(revision):
        raise DatabaseTooNewError(str(path), revision, migrate.HEAD)
    return revision


def restore(candidate: Path, target: Path, *, directory: Path | None = None) -> RestoreResult:
    """Replace the database at ``target`` by the backup ``candidate``, keeping the old one.

    The candidate is verified first: nothing is touched unless it passes. The database being
    replaced is copied to the backups folder (moved there as it is, if it is too damaged to copy).
    Close the app's connections to ``target`` first (the CLI opens none).
    """
    try:
        revision = verify_backup(candidate)
    except DatabaseFileError as exc:
        log.warning("restore refused: %s", exc)
        raise
    log.info(
        "restore of %s into %s started (schema revision %s)", candidate, target, safe(revision)
    )
    directory = directory or backups_dir()
    replaced: Path | None = None
    if target.exists() and target.stat().st_size > 0:
        _make_folder(directory)
        try:
            replaced = copy_database(target, directory / backup_name("before-restore"))
        except DatabaseFileError as err:
            if err.path != target:  # the backups folder is the problem: stop, nothing changed
                raise
            replaced = directory / backup_name("replaced-damaged")
            try:
                target.replace(replaced)
                for suffix in ("-wal", "-shm"):
                    side = target.with_name(target.name + suffix)
                    if side.exists():
                        side.replace(replaced.with_name(replaced.name + suffix))
            except OSError as exc:
                raise DatabaseFileError(
                    target, f"cannot be moved aside ({exc.strerror}); nothing was restored"
                ) from None
    _make_folder(target.parent)
    with files.open_readonly(candidate) as src:
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=WAL")
                dst.commit()
            finally:
                dst.close()
        except sqlite3.Error as exc:
            kept = f"; the replaced database is kept at {replaced}" if replaced else ""
            raise DatabaseFileError(
                target, f"the restore could not be written ({describe_db_error(exc)}){kept}"
            ) from None
    log.info("restored %s into %s; the replaced database is at %s", candidate, target, replaced)
    return RestoreResult(restored_from=candidate, revision=revision, replaced_copy=replaced)
