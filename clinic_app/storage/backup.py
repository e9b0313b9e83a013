"""Backups and restore of the SQLite database, with SQLite's online backup API.

``sqlite3.Connection.backup`` copies a consistent snapshot page by page while the app keeps
running (a plain file copy of a WAL database can miss committed pages still in the ``-wal`` file).
Automatic backups (daily at start, before each schema upgrade) go to ``data_dir()/backups``; of
each kind (daily, upgrade, manual, before-restore...) only the newest ``keep`` are kept.

Every backup is private (0600, in a 0700 folder) whatever the umask: it holds every patient.
A restore is a checked import, not a file copy (issue 13): the backup's schema must be exactly
what the migrations make at its revision, ``foreign_key_check`` clean and every seal sound; it
is migrated in a private copy, checked again, and only then copied over the live database.

A backup of an encrypted (SQLCipher) database is encrypted with the same passphrase (it opens
with the passphrase alone, like the database). A restore never mixes the two: a plain backup
into an encrypted clinic, or an encrypted one into a plain clinic, is refused with nothing
changed (``clinic-app encrypt`` converts a plain file first).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clinic_app import private
from clinic_app.logs import safe
from clinic_app.storage import encryption, files, migrate
from clinic_app.storage.errors import DatabaseFileError, DatabaseTooNewError, describe_db_error

log = logging.getLogger(__name__)

KEEP_BACKUPS_ENV = "CLINIC_APP_KEEP_BACKUPS"
DEFAULT_KEEP_BACKUPS = 14
AUTOMATIC = ("daily", "upgrade")
_NAME = re.compile(r"^clinic-(?P<stamp>\d{8}-\d{6}-\d{6})-(?P<reason>[a-z0-9-]+)\.db$")
PARTIAL = ".partial"


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


def copy_database(
    source: Path, dest: Path, *, overwrite: bool = False, passphrase: str | None = None
) -> Path:
    """Copy the live database ``source`` to ``dest`` with the online backup API.

    The copy is written next to ``dest`` under a temporary name and renamed into place when
    complete, so ``dest`` is never a half-written file; an existing ``dest`` is refused unless
    ``overwrite``. The copy is switched to a single-file (rollback journal) database so it can be
    mailed or copied to a stick as one file. An encrypted ``source`` (read with ``passphrase``,
    else the one this process opened it with) gives a copy encrypted with the same passphrase.
    """
    if dest.exists() and not overwrite:
        raise DatabaseFileError(dest, "already exists; choose another name")
    if not dest.parent.is_dir():
        raise DatabaseFileError(dest, "the folder does not exist")
    files.check_header(source, check_size=False, passphrase=passphrase)
    key = files.passphrase_for(source, passphrase)
    partial = dest.with_name(f".{dest.name}.partial")
    leftovers = [partial, *(partial.with_name(partial.name + s) for s in ("-journal", "-wal"))]
    src = _open_source(source, key)
    failures: tuple[type[Exception], ...] = (*encryption.sql_errors(), OSError)
    try:
        try:
            for leftover in leftovers:  # a copy killed before: start afresh
                leftover.unlink(missing_ok=True)
            private.create_empty(partial)  # 0600 before SQLite writes a byte (and its journal)
            dst = _connect(partial, key)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
                dst.commit()
            finally:
                dst.close()
            partial.replace(dest)
            if key is not None:
                encryption.remember_key(dest, key)
        except failures as exc:
            log.warning("copy of %s to %s failed: %s", source, dest, exc)
            sql = not isinstance(exc, OSError)
            problem = exc.strerror if isinstance(exc, OSError) else describe_db_error(exc)
            if sql and "malformed" in str(exc):
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


def _connect(path: Path, key: str | None) -> Any:
    """A read-write connection to ``path``: sqlite3, or sqlcipher3 keyed when ``key``."""
    return sqlite3.connect(path) if key is None else encryption.connect(path, key)


def _open_source(source: Path, key: str | None = None) -> Any:
    """A connection to the live database for the backup API, read-only if it must be.

    Normally an ordinary connection (it shares the app's locks, so the copy is consistent while
    the app writes). Where that fails for want of writing beside the file (a read-only folder, no
    room for SQLite's ``-shm``), the file is opened read-only instead.
    """
    errors = encryption.sql_errors()
    conn = _connect(source, key)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
        return conn
    except errors as exc:
        conn.close()
        first = exc
    if key is not None and "not a database" in str(first):
        raise encryption.WrongPassphraseError(source)
    if "malformed" in str(first) or "not a database" in str(first):
        raise DatabaseFileError(source, f"cannot be backed up ({describe_db_error(first)})")
    uri = files.readonly_uri(source)
    conn = sqlite3.connect(uri, uri=True) if key is None else encryption.connect(uri, key, uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
    except errors:
        conn.close()
        raise DatabaseFileError(
            source, f"cannot be read for the backup ({describe_db_error(first)})"
        ) from None
    return conn


def make_backup(
    source: Path,
    reason: str,
    *,
    directory: Path | None = None,
    keep: int | None = None,
    passphrase: str | None = None,
) -> Path:
    """Back ``source`` up into the backups folder, then prune old automatic backups."""
    directory = directory or backups_dir()
    _make_folder(directory)
    dest = copy_database(source, directory / backup_name(reason), passphrase=passphrase)
    log.info("backup written: %s (%s, %d bytes)", dest, safe(reason), dest.stat().st_size)
    broken = copy_problems(dest, passphrase)
    if broken:  # the copy is kept (a backup is never thrown away), but the breach is told
        raise BackupSealError(dest, broken)
    prune(directory, keep if keep is not None else keep_backups_setting())
    return dest


def _make_folder(directory: Path) -> None:
    try:
        private.make_folder(directory)
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
    """Of each kind of backup (daily, upgrade, manual, before-restore...), delete all but the
    newest ``keep``; returns what was deleted."""
    kinds: dict[str, list[Path]] = {}
    for path, reason in list_backups(directory):
        kinds.setdefault(_kind(reason), []).append(path)
    doomed = [p for paths in kinds.values() for p in paths[: max(len(paths) - keep, 0)]]
    for path in doomed:
        path.unlink(missing_ok=True)
    if doomed:
        log.info(
            "pruned %d old backups in %s (keeping %d of each kind)", len(doomed), directory, keep
        )
    return doomed


def _kind(reason: str) -> str:
    """ "upgrade-from-0002" is an upgrade backup, "before-restore" a before-restore one."""
    word = reason.split("-")[0]
    return word if word in AUTOMATIC else reason


def remove_partials(directory: Path | None = None) -> list[Path]:
    """Delete what an interrupted backup or restore left behind (``.…partial`` files)."""
    directory = directory or backups_dir()
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    recent = time.time() - 60  # another process's backup may be writing one right now
    for path in directory.iterdir():
        if path.name.startswith(".") and PARTIAL in path.name and path.is_file():
            with contextlib.suppress(OSError):
                if path.stat().st_mtime > recent:
                    continue
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    if removed:
        log.info("removed %d partial backup files in %s", len(removed), directory)
    return removed


def daily_backup_due(directory: Path | None = None, today: datetime | None = None) -> bool:
    stamp = f"{(today or datetime.now(UTC)):%Y%m%d}"
    return not any(
        p.name.startswith(f"clinic-{stamp}") and reason == "daily"
        for p, reason in list_backups(directory)
    )


class BackupSealError(DatabaseFileError):
    """A backup was written, but records in it no longer match their seals or chains."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        more = (
            f" (and {len(problems) - 1} more; clinic-app verify lists them)" if problems[1:] else ""
        )
        super().__init__(path, f"was written, but {problems[0]}{more}")
        self.problems = problems


def copy_problems(path: Path, passphrase: str | None = None) -> list[str]:
    """What no longer matches in the database copy at ``path`` (its seals, chains, schema);
    the lines name evaluation ids, never patients."""
    from clinic_app.storage import sealing
    from clinic_app.storage.database import readonly_database

    if files.check_file(path, integrity=False, passphrase=passphrase) != migrate.HEAD:
        return []  # an older revision (the copy made before an upgrade): checked on restore
    db = readonly_database(path, passphrase)  # read-only: not even the switch to WAL mode
    try:
        broken = sealing.verify_database(db)
    finally:
        db.engine.dispose()
    return [
        (f"evaluation {b.evaluation_id}: " if b.evaluation_id else "") + b.problem for b in broken
    ]


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did: the file restored, its schema revision, where the old database went."""

    restored_from: Path
    revision: str
    replaced_copy: Path | None


def verify_backup(path: Path, passphrase: str | None = None) -> str:
    """Check a file before restoring it: SQLite, full integrity check, our schema, not too new."""
    revision = files.check_file(path, full=True, passphrase=passphrase)
    if revision is None:
        raise DatabaseFileError(path, "is not a clinic_app database (no schema revision)")
    if not migrate.is_known(revision):
        raise DatabaseTooNewError(str(path), revision, migrate.HEAD)
    return revision


def restore(
    candidate: Path,
    target: Path,
    *,
    directory: Path | None = None,
    passphrase: str | None = None,
) -> RestoreResult:
    """Replace the database at ``target`` by the backup ``candidate``, keeping the old one.

    The candidate is checked first (:func:`checked_import`): nothing is touched unless it passes,
    and what is copied over ``target`` is the checked, migrated private copy, never the file
    itself. The database being replaced is copied to the backups folder (moved there as it is, if
    it is too damaged to copy). Close the app's connections to ``target`` first.

    An encrypted clinic takes only a backup encrypted with its own passphrase (``passphrase``,
    else the one this process opened ``target`` with), a plain one only a plain backup; a new
    clinic (no ``target`` yet) takes either, as it is. Anything else is refused unchanged.
    """
    directory = directory or backups_dir()
    _make_folder(directory)
    try:
        key = _restore_key(candidate, target, passphrase)
        revision = verify_backup(candidate, key)
        staged = checked_import(candidate, revision, directory, target=target, passphrase=key)
    except Exception as exc:
        log.warning("restore refused: %s", exc)
        raise
    try:
        return _swap_in(candidate, staged, target, revision, directory, key)
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{staged}{suffix}").unlink(missing_ok=True)


def _restore_key(candidate: Path, target: Path, passphrase: str | None) -> str | None:
    """The passphrase both files open with (None: both plain); refuses a plain/encrypted mix."""
    had = target.is_file() and target.stat().st_size > 0
    if not had:
        return files.passphrase_for(candidate, passphrase)
    target_key = files.passphrase_for(target, passphrase)
    candidate_encrypted = encryption.is_encrypted(candidate)
    if target_key is None and candidate_encrypted:
        raise DatabaseFileError(
            candidate,
            "is an encrypted backup and this clinic's database is not encrypted: restore "
            "refused, nothing was changed (encrypt the clinic first: clinic-app encrypt)",
        )
    if target_key is not None and not candidate_encrypted:
        raise DatabaseFileError(
            candidate,
            "is a plain (unencrypted) backup and this clinic's database is encrypted: restore "
            "refused, nothing was changed (encrypt the backup first: clinic-app --database "
            "sqlite:///FILE encrypt)",
        )
    if target_key is not None:
        try:
            with files.open_readonly(target, target_key):
                pass  # the passphrase opens the clinic itself (its keyring stays valid)
        except encryption.WrongPassphraseError:
            with files.open_readonly(candidate, target_key):
                pass  # WrongPassphraseError naming the backup when it does not open either
            raise DatabaseFileError(
                target,
                "the passphrase opens the backup but not this database (damaged, or another "
                "clinic's): restore refused, nothing was changed; move the file out of the data "
                "folder and restore again",
            ) from None
    return target_key


def checked_import(
    candidate: Path,
    revision: str,
    directory: Path,
    *,
    target: Path | None = None,
    passphrase: str | None = None,
) -> Path:
    """A private copy of ``candidate`` in ``directory``, checked and migrated to head.

    Refused (DatabaseFileError naming ``candidate`` and the first difference) unless: its schema
    is exactly what the migrations make at ``revision`` (no table, column, index, trigger or view
    more, less or different: a planted trigger, a dropped lock or audit table, an old stamp on a
    newer schema); ``foreign_key_check`` finds nothing; after the upgrade the schema is the
    head's and every seal, addendum chain and the audit chain verify.
    """
    from clinic_app.storage import schema

    staged = directory / f".restore-{backup_name('import')}{PARTIAL}"
    key = files.passphrase_for(candidate, passphrase)
    try:
        private.create_empty(staged)
        with files.open_readonly(candidate, key) as src:
            dst = _connect(staged, key)
            try:
                src.backup(dst)
            finally:
                dst.close()
        conn = _connect(staged, key)
        try:
            difference = schema.difference(conn, revision)
            orphan = conn.execute("PRAGMA foreign_key_check").fetchone()
        finally:
            conn.close()
        if difference:
            raise DatabaseFileError(
                candidate,
                f"is not a clean clinic_app backup: {difference}; nothing was restored",
            )
        if orphan:
            raise DatabaseFileError(
                candidate,
                f"is inconsistent: a {orphan[0]} row (id {orphan[1]}) refers to a missing "
                f"{orphan[2]}; nothing was restored",
            )
        _upgrade_and_verify(candidate, staged, key)
    except encryption.sql_errors() as exc:
        _discard(staged)
        raise DatabaseFileError(
            target or candidate,
            f"the backup cannot be checked in {directory} ({describe_db_error(exc)}); "
            "nothing was restored",
        ) from None
    except BaseException:
        _discard(staged)
        raise
    return staged


def _upgrade_and_verify(candidate: Path, staged: Path, key: str | None = None) -> None:
    from clinic_app.storage import schema, sealing
    from clinic_app.storage.database import open_database

    db = open_database(f"sqlite:///{staged}", migrate=False, backup=False, passphrase=key)
    try:
        if db.schema_revision() != migrate.HEAD:
            migrate.upgrade(db.engine)
        with files.open_readonly(staged, key) as conn:
            difference = schema.difference(conn, migrate.HEAD)
        if difference:
            raise DatabaseFileError(
                candidate, f"does not upgrade cleanly: {difference}; nothing was restored"
            )
        broken = sealing.verify_database(db, schema=False)
    finally:
        db.close()
    if broken:
        first = broken[0]
        what = f"evaluation {first.evaluation_id}: " if first.evaluation_id else ""
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        raise DatabaseFileError(
            candidate,
            f"holds a record changed after it was signed or chained: {what}{first.problem}"
            f"{more}; nothing was restored",
        )


def _remember_state(target: Path, key: str | None = None) -> None:
    """The restored database is now the last committed state (storage.state)."""
    from clinic_app.storage import state

    with files.open_readonly(target, key) as conn:
        row = conn.execute("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
    state.forget(target)  # both slots: the restored state may be older than the one recorded
    if row is not None:
        state.remember(target, state.State(int(row[0]), str(row[1] or "")))


def _discard(staged: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            Path(f"{staged}{suffix}").unlink(missing_ok=True)


def _swap_in(
    candidate: Path,
    staged: Path,
    target: Path,
    revision: str,
    directory: Path,
    key: str | None = None,
) -> RestoreResult:
    log.info(
        "restore of %s into %s started (schema revision %s)", candidate, target, safe(revision)
    )
    replaced: Path | None = None
    if target.exists() and target.stat().st_size > 0:
        _make_folder(directory)
        try:
            replaced = copy_database(
                target, directory / backup_name("before-restore"), passphrase=key
            )
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
    try:  # the database's folder may be one the user chose: made, never re-permissioned
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseFileError(
            target.parent, f"cannot create the folder ({exc.strerror})"
        ) from None
    private.create_empty(target)
    with files.open_readonly(staged, key) as src:
        try:
            dst = _connect(target, key)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=WAL")
                dst.commit()
            finally:
                dst.close()
            private.tighten_database(target)
            if key is not None:
                encryption.remember_key(target, key)
        except encryption.sql_errors() as exc:
            kept = f"; the replaced database is kept at {replaced}" if replaced else ""
            raise DatabaseFileError(
                target, f"the restore could not be written ({describe_db_error(exc)}){kept}"
            ) from None
    _remember_state(target, key)
    log.info("restored %s into %s; the replaced database is at %s", candidate, target, replaced)
    return RestoreResult(restored_from=candidate, revision=revision, replaced_copy=replaced)
