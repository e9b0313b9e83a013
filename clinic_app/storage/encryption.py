"""Encryption at rest: SQLCipher databases, the clinic passphrase and the per-clinician keyring.

The clinic passphrase *is* the SQLCipher key: SQLCipher derives the page key from it with the
salt kept in the first 16 bytes of each file (PBKDF2-HMAC-SHA512, 256,000 iterations, AES-256
with an HMAC per page). So every encrypted file of a clinic, its backups included, opens anywhere
with the passphrase alone, also with the ``sqlcipher`` command-line tool (README, "Encryption").
The passphrase is never written to disk in clear.

Unlocking on a shared workstation: ``clinic.db.keyring`` beside the database (JSON, 0600) holds
the passphrase wrapped once per clinician under that clinician's password (argon2id, a random
salt per entry, the parameters in the entry, then AES-256-GCM with the login as associated data,
so an entry copied to another login does not open) and once under the first admin's recovery key.
Entries are keyed by the SHA-256 of the login: the file does not list the logins. Signing in
unwraps the passphrase (:func:`unlock`) and opens the database with it.

While a database is open, this process remembers its passphrase by file (:func:`remember_key`),
so code that reads the same file again read-only (integrity checks, seal verification, backups,
the drafts kept in ``unsaved/``) needs no passphrase argument. Nothing of it leaves memory.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinic_app import private
from clinic_app.storage.errors import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from clinic_app.storage.database import Database

log = logging.getLogger(__name__)

ENCRYPTION_ENV = "CLINIC_APP_ENCRYPTION"  # "off": a NEW data folder's database is plain SQLite
PASSPHRASE_ENV = "CLINIC_APP_PASSPHRASE"  # tests and CI only: a passphrase in the environment
MIN_PASSPHRASE_LENGTH = 12
MAX_PASSPHRASE_LENGTH = 1024
SQLITE_HEADER = b"SQLite format 3\x00"
KEYRING_SUFFIX = ".keyring"
KEYRING_FORMAT = "clinic_app keyring"
MAX_KEYRING_BYTES = 1_000_000
# argon2id for wrapping the passphrase (about 0.15 s here); stored in each entry, so a later
# change of these numbers still opens older entries. Bounds refuse a keyring that asks for more.
KDF = {"time_cost": 3, "memory_cost": 65536, "parallelism": 1}
_KDF_LIMITS = {"time_cost": 20, "memory_cost": 1 << 20, "parallelism": 16}
_AD = b"clinic_app keyring 1\x00"


class PassphraseRequiredError(StorageError):
    """An encrypted file was to be opened without the clinic passphrase."""

    def __init__(self, path: Path | str, problem: str | None = None) -> None:
        what = problem or "is encrypted: the clinic passphrase is needed (--passphrase-stdin)"
        super().__init__(f"{path}: {what}")
        self.path = Path(path)


class WrongPassphraseError(StorageError):
    """The passphrase does not open the file (or its first page is damaged); file untouched."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(
            f"the passphrase does not open {path} (or the file is damaged); "
            "the file was not changed"
        )
        self.path = Path(path)


class PassphraseError(StorageError):
    """A passphrase that cannot be used (empty, too short or long, control characters)."""


class PlainServerError(StorageError):
    """A PostgreSQL server on another computer, reached without TLS."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"{where}: a clinic server on another computer must be reached over TLS: add "
            "?sslmode=verify-full to the database URL (or set CLINIC_APP_ALLOW_PLAIN_SERVER=1 "
            "on this workstation if the network itself is protected)"
        )


class UnlockError(StorageError):
    """Signing in could not unwrap the clinic passphrase; never says whether name or password."""

    def __init__(self, message: str = "wrong name or password") -> None:
        super().__init__(message)


class NoKeyForLoginError(UnlockError):
    """The keyring has no entry for this login (same message: it does not tell logins apart)."""


def is_encrypted(path: Path) -> bool:
    """True for a non-empty file that does not start with the SQLite header (SQLCipher files
    start with their random salt). False for a missing, empty or plain SQLite file, and for one
    that starts with zeros (a sparse or wiped file, not a salt)."""
    try:
        if not path.is_file():  # a FIFO or a device would block the read, or never end
            return False
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError:
        return False
    return bool(head.strip(b"\x00")) and head != SQLITE_HEADER


def new_clinic_encrypted() -> bool:
    """Whether a new SQLite database is made encrypted: yes unless ``CLINIC_APP_ENCRYPTION=off``."""
    return os.environ.get(ENCRYPTION_ENV, "").strip().lower() not in ("off", "0", "no", "false")


def check_passphrase(text: str, *, new: bool = False) -> str:
    """``text`` if it can be a clinic passphrase, else PassphraseError (one line).

    Any passphrase must be 1 to 1024 characters without control characters (a NUL would cut
    it short inside SQLite); a ``new`` one must have at least 12 characters.
    """
    if not text:
        raise PassphraseError("the passphrase is empty")
    if len(text) > MAX_PASSPHRASE_LENGTH:
        raise PassphraseError(f"the passphrase is too long (at most {MAX_PASSPHRASE_LENGTH})")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise PassphraseError("the passphrase contains control characters (NUL, tab, ...)")
    if new and len(text) < MIN_PASSPHRASE_LENGTH:
        raise PassphraseError(
            f"the passphrase is too short: at least {MIN_PASSPHRASE_LENGTH} characters"
        )
    return text


def sqlcipher() -> Any:
    """The ``sqlcipher3`` module, with SQLCipher's own log lines to stderr switched off (a wrong
    key would print three "ERROR CORE" lines besides the one line the app says)."""
    import sqlcipher3  # type: ignore[import-untyped]

    with _lock:
        if not _quiet[0]:
            conn = sqlcipher3.connect(":memory:")
            try:
                conn.execute("PRAGMA cipher_log_level = NONE")
            finally:
                conn.close()
            _quiet[0] = True
    return sqlcipher3


def key_pragma(passphrase: str) -> str:
    """``PRAGMA key = '…'`` with the passphrase as an SQL string literal."""
    check_passphrase(passphrase)
    return "PRAGMA key = '" + passphrase.replace("'", "''") + "'"


def connect(target: str | Path, passphrase: str, *, uri: bool = False) -> Any:
    """A sqlcipher3 connection to ``target`` keyed with ``passphrase`` (``PRAGMA key`` is its
    first statement). The key is only checked when the file is first read."""
    module = sqlcipher()
    conn = module.connect(str(target), uri=uri)
    try:
        conn.execute(key_pragma(passphrase))
    except BaseException:
        conn.close()
        raise
    return conn


def sql_errors() -> tuple[type[Exception], ...]:
    """The DB-API Error classes of both drivers (sqlcipher3's are not sqlite3's)."""
    import sqlite3

    return (sqlite3.Error, sqlcipher().Error)


def database_errors() -> tuple[type[Exception], ...]:
    import sqlite3

    return (sqlite3.DatabaseError, sqlcipher().DatabaseError)


# -- passphrases of the files open in this process ----------------------------------------------

_lock = threading.Lock()
_quiet = [False]
_known: dict[Path, str] = {}


def _key(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def remember_key(path: Path, passphrase: str) -> None:
    """Remember (in memory only) that ``passphrase`` opens ``path``."""
    with _lock:
        _known[_key(path)] = passphrase


def key_for(path: Path) -> str | None:
    """The passphrase this process opened ``path`` with, if any."""
    with _lock:
        return _known.get(_key(path))


def forget_key(path: Path) -> None:
    with _lock:
        _known.pop(_key(path), None)


# -- wrapping a secret under a password (argon2id + AES-256-GCM) --------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _derive(password: str, salt: bytes, params: dict[str, int]) -> bytes:
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(
        password.encode("utf-8"),
        salt,
        time_cost=params["time_cost"],
        memory_cost=params["memory_cost"],
        parallelism=params["parallelism"],
        hash_len=32,
        type=Type.ID,
    )


def seal_secret(secret: bytes, password: str, associated: bytes) -> dict[str, Any]:
    """``secret`` encrypted under a key derived from ``password``; JSON-ready."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    params = dict(KDF)
    key = _derive(password, salt, params)
    wrapped = AESGCM(key).encrypt(nonce, secret, _AD + associated)
    return {
        "kdf": "argon2id",
        **params,
        "salt": _b64(salt),
        "nonce": _b64(nonce),
        "data": _b64(wrapped),
    }


def open_secret(entry: object, password: str, associated: bytes) -> bytes:
    """The secret of :func:`seal_secret`; ValueError for a wrong password, a changed entry, an
    entry made for other associated data, or parameters out of bounds."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not isinstance(entry, dict) or entry.get("kdf") != "argon2id":
        raise ValueError("not a wrapped secret")
    params: dict[str, int] = {}
    for name, limit in _KDF_LIMITS.items():
        value = entry.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
            raise ValueError(f"{name} out of bounds")
        params[name] = value
    if params["memory_cost"] < 8 * params["parallelism"]:
        raise ValueError("memory_cost out of bounds")
    salt, nonce, data = (_unb64(entry.get(k)) for k in ("salt", "nonce", "data"))
    if len(salt) < 8 or len(nonce) != 12:
        raise ValueError("salt or nonce of the wrong size")
    key = _derive(password, salt, params)
    try:
        return AESGCM(key).decrypt(nonce, data, _AD + associated)
    except InvalidTag:
        raise ValueError("wrong password or changed entry") from None


# -- the keyring beside the database -------------------------------------------------------------


def keyring_file(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + KEYRING_SUFFIX)


def _login_id(login: str) -> str:
    return hashlib.sha256(_normal(login).encode("utf-8")).hexdigest()


def _normal(login: str) -> str:
    return login.strip().lower()


def _login_ad(login: str) -> bytes:
    return b"login\x00" + _normal(login).encode("utf-8")


_RECOVERY_AD = b"recovery"


def _read_keyring(db_path: Path) -> dict[str, Any]:
    path = keyring_file(db_path)
    try:
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise UnlockError(f"{path}: not a regular file; the keyring cannot be read")
        with path.open("rb") as fh:
            raw = fh.read(MAX_KEYRING_BYTES + 1)
    except FileNotFoundError:
        return {"format": KEYRING_FORMAT, "version": 1, "logins": {}, "recovery": None}
    except OSError as exc:
        raise UnlockError(f"{path}: the keyring cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_KEYRING_BYTES:
        raise UnlockError(f"{path}: the keyring is too large to be one (damaged?)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise UnlockError(f"{path}: the keyring is damaged (not JSON)") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != KEYRING_FORMAT
        or not isinstance(data.get("logins"), dict)
    ):
        raise UnlockError(f"{path}: not a clinic_app keyring")
    return data


def _write_keyring(db_path: Path, data: dict[str, Any]) -> None:
    path = keyring_file(db_path)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = private.open_new(part)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, path)
    private.tighten(path)


def _require_key(db: Database) -> tuple[Path, str] | None:
    passphrase: str | None = getattr(db, "_passphrase", None)
    if not getattr(db, "encrypted", False) or db.path is None or passphrase is None:
        return None
    return db.path, passphrase


def grant(db: Database, login: str, password: str) -> None:
    """Wrap ``db``'s passphrase for ``login`` under ``password`` (replacing an older entry).

    A no-op on a plain SQLite file or a PostgreSQL database. Call it when a password is set or
    changed (the password itself is not kept), after the transaction that set it: the keyring
    is written under the database's write lock."""
    found = _require_key(db)
    if found is None:
        return
    entry = seal_secret(found[1].encode("utf-8"), password, _login_ad(login))  # ~0.15 s, unlocked

    def change(data: dict[str, Any]) -> bool:
        data["logins"][_login_id(login)] = entry
        return True

    _update_keyring(db, found[0], change)
    log.info("keyring: an entry written for a clinician")


def revoke(db: Database, login: str) -> None:
    """Remove ``login``'s entry: that clinician can no longer unlock this database."""
    found = _require_key(db)
    if found is None or not keyring_file(found[0]).exists():
        return

    def change(data: dict[str, Any]) -> bool:
        return data["logins"].pop(_login_id(login), None) is not None

    if _update_keyring(db, found[0], change):
        log.info("keyring: an entry removed")


def _plain_recovery(key: str) -> str:
    """The recovery key as accounts hashes it: no spaces or dashes, upper-case."""
    return "".join(c for c in key.upper() if c not in " -\t")[:200]


def grant_recovery(db: Database, recovery_key: str) -> None:
    """Wrap ``db``'s passphrase under the recovery key (replacing an older recovery entry);
    spaces, dashes and case in the key do not matter."""
    found = _require_key(db)
    if found is None:
        return
    entry = seal_secret(found[1].encode("utf-8"), _plain_recovery(recovery_key), _RECOVERY_AD)

    def change(data: dict[str, Any]) -> bool:
        data["recovery"] = entry
        return True

    _update_keyring(db, found[0], change)
    log.info("keyring: the recovery entry written")


def _update_keyring(db: Database, path: Path, change: Callable[[dict[str, Any]], bool]) -> bool:
    """Read, change and write the keyring under SQLite's write lock of ``db`` (so two processes
    never lose each other's entries). A damaged keyring is moved aside (``.damaged-…``; its
    clinicians then type the passphrase once) rather than blocking every password change."""
    with _keyring_lock, db.writing() as session:
        session.connection()  # takes the write lock now (BEGIN IMMEDIATE), not at the end
        try:
            data = _read_keyring(path)
        except UnlockError:
            ring = keyring_file(path)
            aside = ring.with_name(f"{ring.name}.damaged-{int(time.time())}")
            log.warning("keyring damaged: moved aside to %s", aside.name)
            os.replace(ring, aside)
            data = _read_keyring(path)
        changed = change(data)
        if changed:
            _write_keyring(path, data)
    return changed


def unlock(db_path: Path, login: str, password: str) -> str:
    """The clinic passphrase unwrapped with ``login``'s password; UnlockError (or its
    NoKeyForLoginError when the keyring has no entry for ``login``), never saying which."""
    data = _read_keyring(db_path)
    entry = data["logins"].get(_login_id(login))
    if entry is None:
        _derive(password, secrets.token_bytes(16), dict(KDF))  # the same time as a wrong one
        raise NoKeyForLoginError()
    return _unwrap(entry, password, _login_ad(login))


def unlock_recovery(db_path: Path, recovery_key: str) -> str:
    """The clinic passphrase unwrapped with the recovery key; UnlockError otherwise."""
    entry = _read_keyring(db_path).get("recovery")
    if entry is None:
        raise UnlockError("this database has no recovery entry in its keyring")
    return _unwrap(entry, _plain_recovery(recovery_key), _RECOVERY_AD)


def _unwrap(entry: object, password: str, associated: bytes) -> str:
    try:
        return open_secret(entry, password, associated).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise UnlockError() from None


_keyring_lock = threading.Lock()


# -- PostgreSQL: encryption in transit -------------------------------------------------------------

ALLOW_PLAIN_SERVER_ENV = "CLINIC_APP_ALLOW_PLAIN_SERVER"
_TLS_MODES = ("require", "verify-ca", "verify-full")


def _local_host(host: str) -> bool:
    import ipaddress

    host = host.strip().strip("[]")
    if not host or host.startswith("/") or host.lower() == "localhost":
        return True  # no host (the default unix socket), a socket folder, this computer
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_state(url: URL) -> str:
    """What ``info`` says of a PostgreSQL connection's encryption in transit."""
    mode = _sslmode(url)
    if _server_is_local(url):
        return f"local server (sslmode={mode or 'libpq default'})"
    if mode in _TLS_MODES:
        return f"TLS (sslmode={mode})"
    return f"NOT encrypted (sslmode={mode or 'libpq default'})"


def _sslmode(url: URL) -> str:
    mode = url.query.get("sslmode") or os.environ.get("PGSSLMODE", "")
    return str(mode[-1] if isinstance(mode, tuple) else mode).strip().lower()


def _server_is_local(url: URL) -> bool:
    """Every host libpq may connect to is this computer (``host``, ``hostaddr``, which libpq
    uses instead of resolving the name, and ``PGHOST``/``PGHOSTADDR``); a ``service`` entry
    (pg_service.conf) cannot be told: not local."""
    if url.query.get("service") or os.environ.get("PGSERVICE"):
        return False
    hosts: list[str] = []
    for value in (
        url.host,
        url.query.get("host"),
        url.query.get("hostaddr"),
        os.environ.get("PGHOST") if not url.host else None,
        os.environ.get("PGHOSTADDR"),
    ):
        if value:
            for one in value if isinstance(value, tuple) else (value,):
                hosts.extend(str(one).split(","))
    return all(_local_host(h) for h in hosts)


def require_tls(url: URL, shown: str) -> None:
    """Refuse a PostgreSQL server on another computer reached without TLS (patient data would
    cross the network in clear) unless this workstation allows it (ALLOW_PLAIN_SERVER_ENV=1: a
    database setting cannot be read before connecting). ``shown``: the URL without password."""
    if _server_is_local(url) or _sslmode(url) in _TLS_MODES:
        return
    if os.environ.get(ALLOW_PLAIN_SERVER_ENV, "").strip() == "1":
        log.warning("connecting to a clinic server without TLS (%s=1)", ALLOW_PLAIN_SERVER_ENV)
        return
    raise PlainServerError(shown)


# -- converting a plain database ------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptResult:
    """What :func:`encrypt_database` did."""

    path: Path
    safety_copy: Path  # the plain copy made first (in the backups folder)
    tables: int
    rows: int
    plain_backups: tuple[Path, ...]  # older backups still plain: the clinic should remove them


def encrypt_database(
    path: Path, passphrase: str, *, directory: Path | None = None
) -> EncryptResult:
    """Convert the plain SQLite database ``path`` into an encrypted one with ``passphrase``.

    A safety copy is made first (backups folder). The encrypted copy is made with
    ``sqlcipher_export`` under the write lock, then checked: full integrity check, the same
    schema revision, the same rows in every table, and the same seal verification as the plain
    file. Only then is it renamed over ``path`` (atomic). If anything fails, ``path`` is left as
    it was and the partial file removed. Close the app on every computer first.
    """
    from clinic_app.storage import backup, files
    from clinic_app.storage.errors import DatabaseFileError, describe_db_error

    check_passphrase(passphrase, new=True)
    if not path.is_file() or path.stat().st_size == 0:
        raise DatabaseFileError(path, "no database here to encrypt")
    if files.looks_encrypted(path):
        raise DatabaseFileError(path, "is already encrypted; nothing was changed")
    revision = files.check_file(path, full=True)  # a damaged file is refused, untouched
    seals = _seal_lines(path, None, revision)
    try:
        safety = backup.make_backup(path, "before-encrypt", directory=directory, keep=None)
    except backup.BackupSealError as exc:  # kept; the same breaks are checked for below
        safety = exc.path
    staged = path.with_name(f".{path.name}.encrypt{backup.PARTIAL}")
    errors = sql_errors()
    _remove_with_sides(staged)
    conn = sqlcipher().connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        private.create_empty(staged)  # 0600 before SQLCipher writes into it
        conn.execute("ATTACH DATABASE ? AS encrypted KEY ?", (str(staged), passphrase))
        conn.execute("BEGIN IMMEDIATE")  # no other writer until the swap
        counts = _row_counts(conn, "main")
        conn.execute("SELECT sqlcipher_export('encrypted')")
        version = conn.execute("PRAGMA main.user_version").fetchone()[0]
        conn.execute(f"PRAGMA encrypted.user_version = {int(version)}")
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE encrypted")
        conn.execute("BEGIN IMMEDIATE")  # hold the lock through the checks and the swap
        if _row_counts(conn, "main") != counts:
            raise DatabaseFileError(path, "changed while it was being encrypted; nothing changed")
        problem = _encrypted_problem(staged, passphrase, revision, counts, seals)
        if problem:
            raise DatabaseFileError(
                path, f"the encrypted copy does not verify ({problem}); the plain file is kept"
            )
        os.replace(staged, path)
        for suffix in ("-wal", "-shm"):  # the plain file's: never beside the encrypted one
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        conn.execute("ROLLBACK")
    except errors as exc:
        _remove_with_sides(staged)
        raise DatabaseFileError(
            path, f"cannot be encrypted ({describe_db_error(exc)}); nothing was changed"
        ) from None
    except BaseException:
        _remove_with_sides(staged)
        raise
    finally:
        conn.close()
    remember_key(path, passphrase)
    private.tighten_database(path)
    stale = keyring_file(path)
    if stale.exists():  # left from an earlier encrypted file here: it cannot unlock this one
        stale.replace(stale.with_name(f"{stale.name}.replaced-{int(time.time())}"))
    older = tuple(
        p for p, _reason in backup.list_backups(directory) if p.is_file() and not is_encrypted(p)
    )
    log.info("database encrypted: %d tables, %d rows", len(counts), sum(counts.values()))
    return EncryptResult(path, safety, len(counts), sum(counts.values()), older)


def _remove_with_sides(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _row_counts(conn: Any, schema: str) -> dict[str, int]:
    names = [
        str(r[0])
        for r in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall()
    ]
    return {
        name: int(conn.execute(f'SELECT count(*) FROM {schema}."{name}"').fetchone()[0])
        for name in names
    }


def _seal_lines(path: Path, passphrase: str | None, revision: str | None) -> list[str]:
    from clinic_app.storage import migrate, sealing
    from clinic_app.storage.database import readonly_database

    if revision != migrate.HEAD:
        return []  # an older schema: its seals are checked when the app upgrades it
    db = readonly_database(path, passphrase)
    try:
        return [b.line() for b in sealing.verify_database(db)]
    finally:
        db.engine.dispose()


def _encrypted_problem(
    staged: Path, passphrase: str, revision: str | None, counts: dict[str, int], seals: list[str]
) -> str | None:
    from clinic_app.storage import files
    from clinic_app.storage.errors import StorageError

    try:
        if not is_encrypted(staged):
            return "it is not encrypted"
        if files.check_file(staged, full=True, passphrase=passphrase) != revision:
            return "another schema revision"
        with files.open_readonly(staged, passphrase) as conn:
            if _row_counts(conn, "main") != counts:
                return "not the same rows"
        remember_key(staged, passphrase)  # the schema check inside verify reads it by path
        if _seal_lines(staged, passphrase, revision) != seals:
            return "the seals do not verify as in the plain file"
    except StorageError as exc:
        return str(exc)
    finally:
        forget_key(staged)
    return None
