"""Opening the database: where it lives, connection settings, integrity check, migrations.

``open_database()`` is the one way in. It resolves the URL (argument, else
``$CLINIC_APP_DATABASE_URL``, else ``clinic.db`` in the data folder), checks an existing SQLite
file read-only before anything can write to it, refuses a database made by a newer app, upgrades
an older one after a safety backup, and makes the daily backup.

A SQLite file may be encrypted with SQLCipher (``storage.encryption``): an existing encrypted
file needs the clinic passphrase, and a new one is made encrypted unless
``CLINIC_APP_ENCRYPTION=off``. A PostgreSQL server on another computer must be reached over TLS.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinic_app import private
from clinic_app.logs import safe
from clinic_app.storage import backup as backup_mod
from clinic_app.storage import encryption, files, migrate
from clinic_app.storage import state as state_mod
from clinic_app.storage.errors import (
    DatabaseAccessError,
    DatabaseBusyError,
    DatabaseFileError,
    DatabaseTooNewError,
    MigrationError,
    NotOurDatabaseError,
    ServerUnreachableError,
    StorageError,
    describe_db_error,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine
    from sqlalchemy.orm import Session, sessionmaker

    from clinic_app.core.form import Form

log = logging.getLogger(__name__)

DEFAULT_FILENAME = "clinic.db"
# Seconds a SQLite write waits for another connection's lock before giving up with a
# DatabaseAccessError ("busy"): long enough for another workstation's save or a backup.
DEFAULT_BUSY_TIMEOUT = 10.0
_WRITE = "clinic_app_write"


def default_url() -> str:
    """``$CLINIC_APP_DATABASE_URL`` if set, else SQLite ``clinic.db`` in the data folder."""
    from clinic_app.paths import DATABASE_URL_ENV, data_dir

    env = os.environ.get(DATABASE_URL_ENV)
    if env:
        return env
    return f"sqlite:///{data_dir() / DEFAULT_FILENAME}"


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for other backends and in-memory SQLite."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    name = parsed.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        return None
    return Path(name).expanduser()


def hide_password(url: str | URL) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class FormCache:
    """Parsed forms by the hash of their content, for one :class:`Database`.

    Autosave asks for an evaluation's form on every tick, from the worker thread, while the GUI
    thread may ``put`` the form it built a view for: every access takes the lock. One cache per
    database, so two databases open in one process never hand out each other's forms.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forms: dict[str, Form] = {}

    def get(self, content_hash: str) -> Form | None:
        with self._lock:
            return self._forms.get(content_hash)

    def put(self, content_hash: str, form: Form) -> None:
        with self._lock:
            self._forms[content_hash] = form

    def setdefault(self, content_hash: str, form: Form) -> Form:
        """The form kept for ``content_hash``, keeping ``form`` if there was none."""
        with self._lock:
            return self._forms.setdefault(content_hash, form)

    def __len__(self) -> int:
        with self._lock:
            return len(self._forms)


@dataclass(frozen=True)
class Database:
    """An open database: engine, session factories and where it is.

    Use :meth:`reading` and :meth:`writing` (one short transaction each); call :meth:`close` (or
    use it as a context manager) when done, which closes every pooled connection.
    """

    url: URL
    engine: Engine
    sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    path: Path | None = None
    # Problems that did not stop the database from opening but that a person should hear about
    # (e.g. the daily backup could not be written): one line each, for a status bar or dialog.
    notices: list[str] = field(default_factory=list)
    # Parsed form snapshots (``records.forms``): parsing one costs more than an autosave may.
    forms: FormCache = field(default_factory=FormCache, repr=False, compare=False)
    _closed: list[bool] = field(default_factory=lambda: [False], repr=False)
    # A SQLCipher file, and the clinic passphrase that opened it (for encryption.grant; never
    # shown, logged or compared).
    encrypted: bool = False
    _passphrase: str | None = field(default=None, repr=False, compare=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def mirror(self) -> state_mod.Place | None:
        """Where its last committed state is remembered outside it (``storage.state``): the
        SQLite file, or the clinic server's place (not for another kind of database)."""
        if self.path is not None:
            return self.path
        if self.dialect != "postgresql":
            return None
        url = self.url
        return state_mod.server_place(self.dialect, url.host, url.port, url.database)

    @property
    def where(self) -> str:
        """The file (SQLite) or the URL without password: what messages name."""
        return str(self.path) if self.path is not None else self.display_url

    @property
    def display_url(self) -> str:
        """The URL with any password replaced by ``***``."""
        return hide_password(self.url)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads; rolled back at the end (nothing it does is kept)."""
        with _access_errors(self.where), self.sessions() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session in one transaction: committed if the block succeeds, else rolled back.

        On SQLite the transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock at once,
        so two writers queue (busy timeout) instead of failing half-way with "database is locked".
        A database that stays busy, read-only or unreachable raises DatabaseAccessError naming it
        (the transaction is rolled back: nothing of the operation is kept).
        """
        with _access_errors(self.where):
            with self.write_sessions.begin() as session:
                yield session
                last = self._last_state(session)
            if last is not None and self.mirror is not None:
                state_mod.remember(self.mirror, last)  # committed: mirror it outside the file

    def _last_state(self, session: Session) -> state_mod.State | None:
        """The newest audit event of this write transaction (not inside someone else's outer
        transaction, which may still roll back). On a clinic server too: chain writers hold
        the chain's lock until they commit, so it is the newest when this one commits."""
        from sqlalchemy import inspect
        from sqlalchemy.engine import Connection
        from sqlalchemy.exc import OperationalError

        if self.mirror is None or isinstance(self.write_sessions.kw.get("bind"), Connection):
            return None
        event = session.info.get(state_mod.LAST_AUDIT_EVENT)
        if event is None:
            return None  # no audit event: the last committed state stays what it was
        try:
            session.flush()  # the audit event of this transaction is still pending
            if inspect(event).persistent and event.id is not None and event.hash:
                # Written by this transaction, which holds SQLite's write lock: the newest.
                return state_mod.State(int(event.id), str(event.hash))
            return state_mod.current(session.connection())  # e.g. rolled back to a savepoint
        except OperationalError:  # a schema older than 0004 (no chain hash yet)
            return None

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A plain connection for reads that need no Session (lists, search: ~0.1 ms cheaper a
        call); rolled back at the end. Errors as in :meth:`reading`."""
        with _access_errors(self.where), self.engine.connect() as conn:
            yield conn

    def schema_revision(self) -> str | None:
        with _access_errors(self.where), self.engine.connect() as conn:
            return migrate.current_revision(conn)

    def close(self) -> None:
        if not self._closed[0]:
            self._closed[0] = True
            self.engine.dispose()
            if self.mirror is not None:
                state_mod.release(self.mirror)
            log.info("database closed: %s", safe(self.where))

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# What a driver says when the server is away or dropped the connection (PostgreSQL, psycopg 3).
_UNREACHABLE = (
    "connection refused",
    "could not connect",
    "could not translate host",
    "no route to host",
    "network is unreachable",
    "timeout expired",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "terminating connection",
    "server closed the connection",
    "connection is closed",
    "consuming input failed",
    "connection to server",
    "ssl connection has been closed",
)


def unreachable(exc: BaseException) -> bool:
    """True when ``exc`` says the server cannot be reached or dropped the connection."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    text = str(getattr(exc, "orig", None) or exc).lower()
    return any(needle in text for needle in _UNREACHABLE)


@contextmanager
def _access_errors(where: str) -> Iterator[None]:
    """Driver errors about the database as a whole (busy, read-only, gone) as a StorageError;
    a server that is away or dropped the connection as ServerUnreachableError (SQLAlchemy has
    already thrown the dead connections of the pool away: the next operation connects anew)."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    try:
        yield
    except OperationalError as exc:
        if unreachable(exc):
            raise ServerUnreachableError(where, describe_db_error(exc)) from exc
        if "locked" in str(getattr(exc, "orig", None) or exc).lower():  # (SQLite's busy)
            raise DatabaseBusyError(where, describe_db_error(exc)) from exc
        raise DatabaseAccessError(where, describe_db_error(exc)) from exc
    except DBAPIError as exc:  # psycopg's InterfaceError on a connection closed under it
        if not unreachable(exc):
            raise
        raise ServerUnreachableError(where, describe_db_error(exc)) from exc


def _sqlite_engine(url: URL, busy_timeout: float, passphrase: str | None = None) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import QueuePool

    if passphrase is None:
        engine = create_engine(url)
    else:
        # SQLAlchemy's pysqlcipher dialect runs ``PRAGMA key`` (the URL's password) first on
        # every new connection, before the pragmas below. SQLCipher derives the page key from it
        # (PBKDF2, 256,000 rounds: ~0.1 s a connection), so connections are pooled as for plain
        # SQLite (the dialect's default would be one per thread).
        encryption.check_passphrase(passphrase)
        encryption.sqlcipher()  # SQLCipher's own error lines to stderr off
        keyed = url.set(drivername="sqlite+pysqlcipher", password=passphrase)
        engine = create_engine(keyed, poolclass=QueuePool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # WAL: readers never block the writer, and a crash mid-write cannot damage the file.
            cursor.execute("PRAGMA journal_mode=WAL")
            # NORMAL with WAL: commits survive an application crash; only a power cut or OS crash
            # can lose the last transactions (never corrupt the file). FULL would fsync on every
            # autosave for a guarantee a desktop on a UPS does not need.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # INSERT OR REPLACE deletes the row it replaces without firing DELETE triggers unless
            # this is on: the locks of signed records (migration 0004) must fire on every route.
            cursor.execute("PRAGMA recursive_triggers=ON")
            # 32 MiB of page cache per connection (default 2 MiB): the search index and the
            # patient rows a session touches stay in the process instead of being read again from
            # the OS, which may have dropped them (search p95 -1 ms at 100,000; benchmarks/).
            cursor.execute("PRAGMA cache_size=-32768")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _make_engine(url: URL, busy_timeout: float, passphrase: str | None = None) -> Engine:
    from sqlalchemy import create_engine

    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout, passphrase)
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        encryption.require_tls(url, hide_password(url))
        connect_args.update(_postgres_connect_args(url))
    # pool_pre_ping: every connection is tested (one round trip) when taken from the pool, so
    # after a server restart the dead ones are replaced instead of failing the next save;
    # pool_recycle: none lives longer than 30 minutes (firewalls drop idle connections silently).
    # The pool (5 + 2 overflow) is ample for one worker thread and the start-up loader.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_size=5,
        max_overflow=2,
        pool_timeout=10,
        connect_args=connect_args,
    )


# Server-side limits of every workstation connection (milliseconds). A statement that runs
# longer than this is cancelled (the operation fails with a message; nothing is half-written);
# a row lock held by another workstation is waited for at most lock_timeout; a transaction left
# open (a workstation that hangs mid-operation) is ended by the server, releasing its locks.
STATEMENT_TIMEOUT_MS = 15_000
LOCK_TIMEOUT_MS = 10_000
IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000


def _postgres_connect_args(url: URL) -> dict[str, Any]:
    """libpq settings: fail fast on an unreachable server, notice a dead one, bound statements.
    A setting in the URL's query (``?connect_timeout=3``, ``?options=...``) wins."""
    args: dict[str, Any] = {
        "connect_timeout": 5,  # an unreachable server: say so within seconds
        # TCP keepalives: a server that vanished (power cut, cable) is noticed in ~20 s instead
        # of the kernel's two hours.
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 2,
        "options": (
            f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS} "
            f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS}"
        ),
    }
    return {k: v for k, v in args.items() if k not in url.query}


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK | (os.X_OK if path.is_dir() else 0))


def _precheck_sqlite(
    path: Path,
    *,
    migrate_schema: bool,
    keep: int,
    integrity: bool = True,
    passphrase: str | None = None,
) -> tuple[bool, Path | None]:
    """Check an existing file read-only; (holds data, pre-upgrade backup if one was made).

    An older schema is copied to the backups folder here, before SQLAlchemy opens the file (even
    switching it to WAL mode changes its header): the copy is the file exactly as it was.

    Also refuses, before SQLite creates anything, a folder or file it could not write: SQLite
    in WAL mode needs to create ``-wal``/``-shm`` files beside the database even to read it.
    """
    folder = path.parent
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        known = state_mod.recorded(path)
        if known is not None:
            what = "is empty" if path.exists() else "is missing"
            raise DatabaseFileError(
                path,
                f"{what}, but this data folder recorded a database here (last saved change: "
                f"audit event {known.last_audit_id}); it is not made into a new, empty one. "
                f"Restore a backup (clinic-app restore), or delete {state_mod.state_file(path)} "
                "to start a new database on purpose",
            )
    if not path.exists():
        if not folder.is_dir():
            raise DatabaseFileError(path, "the folder does not exist")
        if not _writable(folder):
            raise DatabaseFileError(
                folder, "the folder is not writable: cannot create the database"
            )
        return False, None
    if path.is_dir():
        raise DatabaseFileError(path, "is a folder, not a database file")
    if not _writable(path) or not _writable(folder):
        raise DatabaseFileError(
            path, "is read-only: clinic_app must be able to write the file and its folder"
        )
    if path.stat().st_size == 0:
        return False, None
    revision = files.check_file(path, integrity=integrity, passphrase=passphrase)
    if integrity:
        log.info("integrity check passed: %s (schema revision %s)", path, safe(revision))
    else:  # the caller ran the integrity check already (on a second thread)
        log.info("header checked: %s (schema revision %s)", path, safe(revision))
    if not migrate_schema:
        return True, None
    if revision is None:
        if files.table_names(path, passphrase):
            raise NotOurDatabaseError(str(path))
    elif not migrate.is_known(revision):
        raise DatabaseTooNewError(str(path), revision, migrate.HEAD)
    elif revision != migrate.HEAD:
        # No upgrade without its safety copy: a failure here stops the opening.
        return True, backup_mod.make_backup(
            path, f"upgrade-from-{revision}", keep=keep, passphrase=passphrase
        )
    return True, None


def _migrate(db: Database, *, saved: Path | None) -> None:
    with db.engine.connect() as conn:
        revision = migrate.current_revision(conn)
        tables = migrate.user_tables(conn) if revision is None else []
    if revision == migrate.HEAD:
        return
    where = str(db.path) if db.path else db.display_url
    if revision is None and tables:
        raise NotOurDatabaseError(where)
    if revision is not None and not migrate.is_known(revision):
        raise DatabaseTooNewError(where, revision, migrate.HEAD)
    log.info(
        "%s has schema revision %s; upgrading to %s",
        safe(where),
        safe(revision or "none (new database)"),
        safe(migrate.HEAD),
    )
    try:
        migrate.upgrade(db.engine)
    except Exception as exc:  # any failure: the upgrade transaction was rolled back
        log.error("schema upgrade of %s failed, rolled back", safe(where), exc_info=exc)
        kept = f"; a copy made before it is at {saved}" if saved else ""
        raise MigrationError(
            where,
            f"upgrading the schema from revision {revision or '(new)'} to {migrate.HEAD} failed "
            f"({describe_db_error(exc)}); the database was left as it was{kept}",
        ) from exc


def open_database(
    url: str | None = None,
    *,
    migrate: bool = True,
    backup: bool = True,
    keep_backups: int | None = None,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    already_checked: bool = False,
    passphrase: str | None = None,
    new_encrypted: bool | None = None,
) -> Database:
    """Open (and create or upgrade, if ``migrate``) the clinic database.

    ``url``: a SQLAlchemy URL (``sqlite:///path.db``, ``postgresql+psycopg://user:pw@host/db``);
    default :func:`default_url`. With ``migrate`` (the default) a new database gets the whole
    schema, an older one is backed up and upgraded, and one made by a newer app is refused
    untouched (DatabaseTooNewError). ``backup`` makes the daily automatic backup of an existing
    SQLite database and keeps the newest ``keep_backups`` (default: the setting, 14); if it
    cannot be written the database still opens and ``Database.notices`` says why.
    ``busy_timeout``: seconds a SQLite write waits for another connection's lock.
    ``already_checked``: the caller has just run ``files.check_file`` on this SQLite file (the
    app does it on a second thread while its modules load); only the header and the schema
    revision are read again.

    Raises (all StorageError, with one-line messages naming the file or database):
    DatabaseFileError for a damaged, foreign, read-only or missing-folder SQLite file (left
    byte-identical), NotOurDatabaseError, DatabaseTooNewError, MigrationError (upgrade rolled
    back, the pre-upgrade copy kept), DatabaseAccessError (busy, unreachable server...).
    A PostgreSQL database is upgraded without a file backup: back it up with pg_dump.

    ``passphrase``: the clinic passphrase of an encrypted SQLite file (else the one this process
    already opened the file with); PassphraseRequiredError without one, WrongPassphraseError
    (the file left byte-identical) when it does not open it. A new SQLite file is made encrypted
    with it unless ``CLINIC_APP_ENCRYPTION=off`` (then the passphrase is ignored);
    ``new_encrypted`` decides instead when given (first start: a clinic whose disk is already
    encrypted may choose a plain file). A PostgreSQL
    server on another computer without TLS: PlainServerError (``encryption``).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import sessionmaker

    from clinic_app.paths import data_dir

    resolved = make_url(url or default_url())
    path = sqlite_file(resolved)
    keep = keep_backups if keep_backups is not None else backup_mod.keep_backups_setting()
    has_data, saved = False, None
    key: str | None = None
    if path is not None:
        if path.parent == data_dir():
            try:
                private.make_folder(path.parent)  # 0700: it holds every patient
                backup_mod.remove_partials()  # what a killed backup or restore left behind
            except OSError as exc:
                raise DatabaseFileError(
                    path.parent, f"cannot create the data folder ({exc.strerror})"
                ) from None
        try:
            key = _passphrase_of(path, passphrase, new_encrypted)
            has_data, saved = _precheck_sqlite(
                path,
                migrate_schema=migrate,
                keep=keep,
                integrity=not already_checked,
                passphrase=key,
            )
        except StorageError as exc:
            log.warning("database refused: %s", exc)  # the message only if it names no patient
            raise
        if not path.exists():
            with contextlib.suppress(OSError):  # 0600 before SQLite writes (its -wal, -shm too)
                private.create_empty(path)
        private.tighten_database(path)
    engine = _make_engine(resolved, busy_timeout, key)
    db = Database(
        url=resolved,
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False),
        write_sessions=sessionmaker(
            engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        ),
        path=path,
        encrypted=key is not None,
        _passphrase=key,
    )
    if path is not None and key is not None:
        encryption.remember_key(path, key)
    try:
        with _access_errors(db.where):
            if migrate:
                _migrate(db, saved=saved)
            if path is not None and has_data:
                _check_state(db, path)
            elif path is None and db.mirror is not None:
                _check_state(db, db.mirror)
            if backup and has_data and path is not None:
                _daily_backup(db, path, keep)
    except BaseException as exc:
        log.warning("database not opened: %s", exc)
        db.close()
        raise
    log.info("database opened: %s (%s)", safe(db.where), safe(db.dialect))
    return db


def _passphrase_of(path: Path, passphrase: str | None, new_encrypted: bool | None) -> str | None:
    """The key to open ``path`` with: None for a plain file (or a new one made plain)."""
    if path.is_file() and path.stat().st_size > 0:
        return files.passphrase_for(path, passphrase)
    encrypt = encryption.new_clinic_encrypted() if new_encrypted is None else new_encrypted
    if path.exists() or not encrypt:
        return None  # not a file (refused by the precheck), or a new clinic made plain
    if passphrase is None:
        passphrase = encryption.key_for(path)
    if passphrase is None:
        raise encryption.PassphraseRequiredError(
            path,
            "a new clinic database is encrypted: give the clinic passphrase "
            f"(--passphrase-stdin), or set {encryption.ENCRYPTION_ENV}=off when the disk itself "
            "is encrypted",
        )
    return encryption.check_passphrase(passphrase, new=True)


def readonly_database(path: Path, passphrase: str | None = None) -> Database:
    """A Database on the SQLite file ``path`` opened read-only (a backup just written): nothing
    is written to it, not even the switch to WAL mode. Encrypted files as in open_database."""
    from urllib.parse import quote

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import sessionmaker
    from sqlalchemy.pool import QueuePool

    key = files.passphrase_for(path, passphrase)
    url = make_url(f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true")
    if key is None:
        engine = create_engine(url)
    else:
        encryption.sqlcipher()
        keyed = url.set(drivername="sqlite+pysqlcipher", password=key)
        engine = create_engine(keyed, poolclass=QueuePool)
    return Database(
        url=url,
        engine=engine,
        sessions=sessionmaker(engine),
        write_sessions=sessionmaker(engine),
        path=path,
        encrypted=key is not None,
        _passphrase=key,
    )


def _check_state(db: Database, path: state_mod.Place) -> None:
    """Warn when the database lacks the last committed state recorded outside it."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        with db.engine.connect() as conn:
            notice = state_mod.behind(conn, path)
            if notice is None and state_mod.recorded(path) is None:
                state_mod.remember(path, state_mod.current(conn))
    except (OperationalError, ProgrammingError):  # an older schema (opened without migrating)
        return
    if notice:
        log.warning("database is behind its last committed state: %s", path)
        db.notices.append(notice)


def daily_backup(db: Database, keep_backups: int | None = None) -> None:
    """Make the daily backup of an open SQLite database if today's is still due.

    For a caller that opened the database with ``backup=False`` to show its window sooner; a
    failure is added to ``db.notices``.
    """
    if db.path is None or not db.path.exists() or db.path.stat().st_size == 0:
        return
    keep = keep_backups if keep_backups is not None else backup_mod.keep_backups_setting()
    _daily_backup(db, db.path, keep)


def _daily_backup(db: Database, path: Path, keep: int) -> None:
    """The once-a-day copy at start; a failure is a notice, not a reason to refuse to open."""
    try:
        if backup_mod.daily_backup_due():
            backup_mod.make_backup(path, "daily", keep=keep, passphrase=db._passphrase)
    except backup_mod.BackupSealError as exc:
        log.warning("daily backup made; %d records fail their seal check", len(exc.problems))
        db.notices.append(f"the daily backup {exc}")
    except (StorageError, OSError) as exc:
        log.warning("daily backup not made: %s", exc)
        db.notices.append(f"the daily backup was not made: {exc}")
