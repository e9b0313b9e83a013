"""Clinician accounts: sign-in names, argon2id passwords, roles, the rate limit, the first admin's
recovery key and each clinician's own signing key (issue 14). No Qt: screens and the command line
(``clinic-app user``) both call these.

Secrets (passwords, recovery keys) never reach a log line, an exception message or an audit
event: the audit trail records *that* a password changed (a digest of the row), never what to.

Who may manage accounts: an active admin (``by=`` a :class:`Clinician`), or the command line run
by whoever holds the data folder (``by=`` :class:`Headless`; on an encrypted clinic they also need
the passphrase). Roles are plain data in the ``clinician`` row: anyone who can write the database
file can change them (see the report of issue 14); the signing key, by contrast, is vouched for by
the installation key, so a forged key does not verify.
"""

from __future__ import annotations

import logging
import math
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, select, text, update
from sqlalchemy.exc import IntegrityError

from clinic_app.storage import account_keys
from clinic_app.storage import models as m
from clinic_app.storage._types import utcnow
from clinic_app.storage.account_rules import MAX_PASSWORD_LENGTH as MAX_PASSWORD_LENGTH
from clinic_app.storage.account_rules import MIN_PASSWORD_LENGTH as MIN_PASSWORD_LENGTH
from clinic_app.storage.account_rules import check_new_password as check_new_password
from clinic_app.storage.account_rules import check_roles as check_roles
from clinic_app.storage.account_rules import details as _details
from clinic_app.storage.account_rules import has_role as has_role
from clinic_app.storage.account_rules import normalise_login as normalise_login
from clinic_app.storage.errors import StorageError
from clinic_app.storage.records._common import digest, row_state, write_audit
from clinic_app.storage.records.clinic import _clinician, parse_roles
from clinic_app.storage.values import Clinician

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy.orm import Session

    from clinic_app.storage.database import Database

log = logging.getLogger(__name__)

FREE_FAILURES = 5  # failed sign-ins in a row before the delay starts
FIRST_DELAY_S = 30  # after the 5th failure; doubled for each further one
MAX_DELAY_S = 15 * 60

# Crockford-like: no 0/O, 1/I to misread on paper. 32 symbols x 30 = 150 bits.
RECOVERY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RECOVERY_GROUPS, RECOVERY_GROUP_LENGTH = 6, 5

WRONG = "wrong name or password"
WRONG_RECOVERY = "wrong name or recovery key"
UNKNOWN_ACTOR = "(unknown login)"  # the actor of a failed sign-in under a name no one has

# The parameters of argon2-cffi's defaults (argon2id, 3 passes, 64 MiB, 4 lanes); a test may
# swap in a cheaper PasswordHasher. Stored hashes carry their parameters; a sign-in rehashes a
# hash made with other ones (``check_needs_rehash``).
_hasher = PasswordHasher()
_dummy_hashes: dict[tuple[int, int, int], str] = {}


class SignInError(StorageError):
    """A sign-in (or password re-entry) was refused; the message is one line and never says
    whether the login exists when the password was wrong."""


@dataclass(frozen=True)
class Account:
    """A clinician's account, as the account screens and ``clinic-app user list`` show it."""

    clinician: Clinician
    login: str
    roles: tuple[str, ...]
    active: bool
    has_password: bool
    must_change_password: bool


@dataclass(frozen=True)
class Headless:
    """The command line, run by whoever holds the data folder: it manages accounts without an
    admin signed in (``who`` is the operating-system user, recorded in the audit trail)."""

    who: str = ""

    @property
    def actor(self) -> str:
        # $LOGNAME is whatever the environment says: no line breaks or escapes into the trail.
        who = "".join("?" if unicodedata.category(c).startswith("C") else c for c in self.who)
        return f"command line ({who or 'unknown user'})"[:100]


Actor = Clinician | Headless


# ----------------------------------------------------------------------------- hashing


def _hash(secret: str) -> str:
    return _hasher.hash(secret)


def _verify_hash(stored: str, secret: str) -> bool:
    try:
        return bool(_hasher.verify(stored, secret))
    except InvalidHashError:
        log.warning("a stored password or recovery hash is not an argon2 hash (damaged?)")
        return False
    except (VerificationError, UnicodeEncodeError):  # mismatch, or not text at all
        return False


def _params() -> account_keys.Params:
    return (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism)


def _dummy_verify(secret: str) -> None:
    """Spend what checking a real password costs, so timing does not tell which logins exist."""
    params = _params()
    dummy = _dummy_hashes.get(params)
    if dummy is None:
        dummy = _dummy_hashes.setdefault(params, _hasher.hash(secrets.token_urlsafe(16)))
    _verify_hash(dummy, secret[:MAX_PASSWORD_LENGTH])


def new_recovery_key() -> str:
    groups = (
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
        for _ in range(RECOVERY_GROUPS)
    )
    return "-".join(groups)


def _plain_recovery(key: str) -> str:
    """A typed recovery key without spaces and dashes, upper-cased (the form that is hashed)."""
    return "".join(c for c in key.upper() if c not in " -\t")[:200]


def _unwrap(stored: str, public: str, password: str, login: str) -> Ed25519PrivateKey:
    """The key, for a password already checked against the hash: if it does not open the key,
    the row was tampered with or damaged (e.g. its public key swapped), not mistyped."""
    try:
        return account_keys.unwrap_key(stored, public, password, login)
    except account_keys.WrongPassword:
        log.warning("the signing key of %s does not open with its checked password", login)
        raise StorageError(
            f"the signing key of {login} is damaged: an admin must reset the password"
        ) from None


# --------------------------------------------------------------------- hooks for part B


def _password_set(db: Database, login: str, password: str) -> None:
    """Called after every committed password set (first admin, new account, change, reset,
    recovery). Wraps the clinic passphrase of an encrypted database for ``login`` under
    ``password`` (storage.encryption.grant), so this login can unlock it at sign-in."""
    from clinic_app.storage import encryption

    encryption.grant(db, login, password)


def _recovery_set(db: Database, recovery_key: str) -> None:
    """Called after a recovery key was made: the clinic passphrase of an encrypted database is
    wrapped under it too (storage.encryption.grant_recovery), for a lost-password day."""
    from clinic_app.storage import encryption

    encryption.grant_recovery(db, _plain_recovery(recovery_key))


def _account_disabled(db: Database, login: str) -> None:
    """Called after an account was disabled. Removes the clinic passphrase wrapped for ``login``
    (storage.encryption.revoke), so a disabled clinician's password no longer unlocks the file."""
    from clinic_app.storage import encryption

    encryption.revoke(db, login)


# ------------------------------------------------------------------------------ reads


def _account(row: m.Clinician) -> Account:
    clinician = _clinician(row)
    return Account(
        clinician=clinician,
        login=row.login or "",
        roles=clinician.roles,
        active=row.active,
        has_password=row.password_hash is not None,
        must_change_password=row.must_change_password,
    )


def list_accounts(db: Database, *, include_disabled: bool = True) -> list[Account]:
    """Every clinician with a login, by login."""
    with db.reading() as s:
        query = (
            select(m.Clinician).where(m.Clinician.login.is_not(None)).order_by(m.Clinician.login)
        )
        if not include_disabled:
            query = query.where(m.Clinician.active.is_(True))
        return [_account(row) for row in s.scalars(query)]


def _row_by_login(s: Session, login: str) -> m.Clinician:
    row = s.scalars(select(m.Clinician).where(m.Clinician.login == login)).first()
    if row is None:
        raise StorageError(f"login {login!r}: no such account")
    return row


def get_account(db: Database, login: str) -> Account:
    login = normalise_login(login)
    with db.reading() as s:
        return _account(_row_by_login(s, login))


def _is_admin(row: m.Clinician) -> bool:
    return row.active and row.password_hash is not None and "admin" in parse_roles(row.roles)


def _admins(s: Session) -> list[m.Clinician]:
    rows = s.scalars(select(m.Clinician).where(m.Clinician.password_hash.is_not(None)))
    return [row for row in rows if _is_admin(row)]


def needs_first_admin(db: Database) -> bool:
    """True while no active admin account with a password exists (first start)."""
    with db.reading() as s:
        return not _admins(s)


# ----------------------------------------------------------------------------- writes


def _lock_accounts(s: Session) -> None:
    """Serialise account administration: SQLite's BEGIN IMMEDIATE already does; on PostgreSQL two
    workstations could otherwise each make a first admin, or disable the last two admins."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(1414)"))


def _actor(s: Session, by: Actor) -> str:
    if isinstance(by, Headless):
        return by.actor
    row = s.get(m.Clinician, by.id)
    if row is None or not _is_admin(row):
        raise StorageError(f"{by.name}: only an active admin can manage accounts")
    return row.login or row.name


def _duplicate(login: str, exc: IntegrityError) -> StorageError:
    reason = str(exc.orig).lower()
    if "login" in reason and ("unique" in reason or "duplicate" in reason):
        return StorageError(f"login {login!r} is already taken")
    log.warning("account not saved: the database refused the row (%s)", type(exc.orig).__name__)
    return StorageError(
        f"The database refused to store the account ({type(exc.orig).__name__}: a rule in the "
        "database stopped the change)"
    )


@dataclass(frozen=True)
class _Secret:
    """A password's hash and the signing key wrapped under it, made before the write
    transaction (argon2id takes ~0.1 s each; SQLite's write lock is not held meanwhile)."""

    password_hash: str
    public: str
    wrapped: str


def _new_secret(password: str) -> _Secret:
    public, wrapped = account_keys.new_key(password, _params())
    return _Secret(_hash(password), public, wrapped)


def _set_password(row: m.Clinician, secret: _Secret) -> None:
    """Store ``secret`` in the row (flushed); a new public key gets this installation's
    certificate. The sign-in delay is cleared."""
    row.password_hash = secret.password_hash
    row.signing_key = secret.wrapped
    if row.signing_public_key != secret.public or row.key_certificate is None:
        row.signing_public_key = secret.public
        account_keys.certify(row)
    row.password_changed_at = utcnow()
    row.failed_attempts = 0
    row.last_failed_at = None


def _new_row(
    s: Session,
    login: str,
    secret: _Secret,
    roles: tuple[str, ...],
    details: dict[str, str],
    actor: str,
) -> m.Clinician:
    if s.scalars(select(m.Clinician.id).where(m.Clinician.login == login)).first() is not None:
        raise StorageError(f"login {login!r} is already taken")
    now = utcnow()
    row = m.Clinician(
        **details,
        login=login,
        roles=",".join(roles),
        must_change_password=False,
        active=True,
        updated_by=actor,
        updated_at=now,
    )
    s.add(row)
    s.flush()
    _set_password(row, secret)
    return row


def _audit(s: Session, actor: str, row: m.Clinician, action: str, before: str | None) -> None:
    s.flush()
    write_audit(s, actor, "clinician", row.id, action, before, digest(row_state(row)))


def create_first_admin(
    db: Database,
    login: str,
    password: str,
    *,
    display_name: str,
    credentials: str = "",
    licence_number: str = "",
    therapist: bool = True,
) -> tuple[Clinician, str]:
    """The first admin (also a therapist unless ``therapist`` is False) and their recovery key,
    to print and keep safe: it is shown once and stored only as an argon2id hash."""
    login = normalise_login(login)
    password = check_new_password(password, login=login)
    details = _details(display_name, credentials, licence_number)
    roles = ("admin", "therapist") if therapist else ("admin",)
    recovery = new_recovery_key()
    secret, recovery_hash = _new_secret(password), _hash(_plain_recovery(recovery))
    try:
        with db.writing() as s:
            _lock_accounts(s)
            if _admins(s):
                raise StorageError("an admin account already exists: an admin adds accounts")
            row = _new_row(s, login, secret, roles, details, login)
            row.recovery_hash = recovery_hash
            _audit(s, login, row, "create", None)
            made = _clinician(row)
    except IntegrityError as exc:
        raise _duplicate(login, exc) from None
    log.info("first admin account %d created", made.id)
    _password_set(db, login, password)
    _recovery_set(db, recovery)
    return made, recovery


def add_account(
    db: Database,
    login: str,
    password: str,
    *,
    roles: Iterable[str],
    display_name: str,
    credentials: str = "",
    licence_number: str = "",
    by: Actor,
) -> Clinician:
    """A new account, made by an active admin (or the command line)."""
    login = normalise_login(login)
    password = check_new_password(password, login=login)
    chosen = check_roles(roles)
    details = _details(display_name, credentials, licence_number)
    secret = _new_secret(password)
    try:
        with db.writing() as s:
            _lock_accounts(s)
            actor = _actor(s, by)
            row = _new_row(s, login, secret, chosen, details, actor)
            _audit(s, actor, row, "create", None)
            made = _clinician(row)
    except IntegrityError as exc:
        raise _duplicate(login, exc) from None
    log.info("account %d created (%s)", made.id, ",".join(chosen))
    _password_set(db, login, password)
    return made


def _set_active(db: Database, login: str, active: bool, by: Actor) -> None:
    login = normalise_login(login)
    with db.writing() as s:
        _lock_accounts(s)
        actor = _actor(s, by)
        row = _row_by_login(s, login)
        if row.active == active:
            return
        if not active and _is_admin(row) and len(_admins(s)) <= 1:
            raise StorageError(
                f"account {login} is the last active admin: make another admin before disabling it"
            )
        before = digest(row_state(row))
        row.active = active
        row.updated_by, row.updated_at = actor, utcnow()
        _audit(s, actor, row, "enable" if active else "disable", before)
    log.info("account %d %s", row.id, "enabled" if active else "disabled")


def disable_account(db: Database, login: str, *, by: Actor) -> None:
    """Disable an account (never deleted: its signatures stay). The last active admin cannot
    be disabled."""
    _set_active(db, login, False, by)
    _account_disabled(db, normalise_login(login))


def enable_account(db: Database, login: str, *, by: Actor) -> None:
    _set_active(db, login, True, by)


def reset_password(db: Database, login: str, new_password: str, *, by: Actor) -> None:
    """An admin sets a password (the old one unknown): a new signing key, the sign-in delay
    cleared, and the clinician must choose their own password at the next sign-in."""
    login = normalise_login(login)
    password = check_new_password(new_password, login=login)
    secret = _new_secret(password)  # a new key: the old one is encrypted under a lost password
    with db.writing() as s:
        _lock_accounts(s)
        actor = _actor(s, by)
        row = _row_by_login(s, login)
        before = digest(row_state(row))
        _set_password(row, secret)
        row.must_change_password = True
        row.updated_by, row.updated_at = actor, utcnow()
        _audit(s, actor, row, "password_reset", before)
    log.info("password of account %d reset by an admin", row.id)
    _password_set(db, login, password)


# ---------------------------------------------------------------------------- sign-in


@dataclass(frozen=True)
class _Seen:
    """What was read of the row before the (slow) hash check, outside any transaction."""

    id: int
    login: str
    stored: str | None
    active: bool
    failed_attempts: int
    last_failed_at: datetime | None


def wait_left(failed_attempts: int, last_failed_at: datetime | None, now: datetime) -> int:
    """Seconds before the next sign-in may be tried (0: now)."""
    if failed_attempts < FREE_FAILURES or last_failed_at is None:
        return 0
    delay = min(FIRST_DELAY_S * int(2 ** min(failed_attempts - FREE_FAILURES, 20)), MAX_DELAY_S)
    left = (last_failed_at + timedelta(seconds=delay) - now).total_seconds()
    return max(0, min(math.ceil(left), delay))  # another workstation's clock may run ahead


def _check_secret(
    db: Database, where: ColumnElement[bool], secret: str, *, recovery: bool = False
) -> _Seen:
    """Check ``secret`` against the row ``where`` picks, with the rate limit. Each failure is
    counted in the row (so it holds across processes and workstations) and audited."""
    wrong = WRONG_RECOVERY if recovery else WRONG
    column = m.Clinician.recovery_hash if recovery else m.Clinician.password_hash
    with db.reading() as s:
        found = s.execute(
            select(
                m.Clinician.id,
                m.Clinician.login,
                column,
                m.Clinician.active,
                m.Clinician.failed_attempts,
                m.Clinician.last_failed_at,
            ).where(where)
        ).first()
    if found is None:
        _dummy_verify(secret)
        _unknown_failed(db)
        raise SignInError(wrong)
    seen = _Seen(found[0], found[1] or "", found[2], found[3], found[4], found[5])
    wait = wait_left(seen.failed_attempts, seen.last_failed_at, utcnow())
    if wait:
        log.warning(
            "sign-in refused for account %d: %d failures, %d s left",
            seen.id,
            seen.failed_attempts,
            wait,
        )
        raise SignInError(f"too many failed sign-ins: try again in {wait} s")
    if seen.stored is None:
        _dummy_verify(secret)
        if recovery:
            _failed(db, seen)
            raise SignInError(wrong)
        raise SignInError(f"no password set for {seen.login}: an admin must set one")
    if len(secret) > MAX_PASSWORD_LENGTH or not _verify_hash(seen.stored, secret):
        if len(secret) > MAX_PASSWORD_LENGTH:
            _dummy_verify(secret)
        _failed(db, seen)
        raise SignInError(wrong)
    if not seen.active:
        _failed(db, seen, count=False)  # audited, but no delay: the password was right
        raise SignInError(f"account {seen.login} is disabled")
    return seen


def _failed(db: Database, seen: _Seen, *, count: bool = True) -> None:
    now = utcnow()
    with db.writing() as s:
        if count:
            s.execute(
                update(m.Clinician)
                .where(m.Clinician.id == seen.id)
                .values(failed_attempts=m.Clinician.failed_attempts + 1, last_failed_at=now)
            )
        write_audit(s, seen.login, "clinician", seen.id, "sign_in_failed", None, None, now)
    if count:
        log.warning(
            "sign-in failed for account %d (%d in a row)", seen.id, seen.failed_attempts + 1
        )
    else:
        log.info("sign-in refused for account %d: disabled", seen.id)


def _unknown_failed(db: Database) -> None:
    """Audit a sign-in under a name no account has (entity id 0). Not the typed name: people
    type their password into the name field, and the trail must not keep it."""
    with db.writing() as s:
        write_audit(s, UNKNOWN_ACTOR, "clinician", 0, "sign_in_failed", None, None)
    log.info("sign-in refused: unknown login")


def _succeeded(db: Database, seen: _Seen, password: str, action: str | None) -> None:
    """Clear the failure count (and rehash a hash made with older parameters); audit."""
    assert seen.stored is not None
    values: dict[str, Any] = {"failed_attempts": 0, "last_failed_at": None}
    if _hasher.check_needs_rehash(seen.stored):
        values["password_hash"] = _hash(password)
    if not action and seen.failed_attempts == 0 and "password_hash" not in values:
        return
    with db.writing() as s:
        done = s.execute(
            update(m.Clinician)
            .where(m.Clinician.id == seen.id, m.Clinician.password_hash == seen.stored)
            .values(**values)
        )
        if getattr(done, "rowcount", 1) == 0:  # the password was changed meanwhile
            raise SignInError(WRONG)
        if action:
            write_audit(s, seen.login, "clinician", seen.id, action, None, None)


def _login_or_wrong(db: Database, login: str, secret: str, wrong: str = WRONG) -> str:
    try:
        return normalise_login(login)
    except StorageError:
        _dummy_verify(secret)  # a malformed name costs what a real one does
        _unknown_failed(db)
        raise SignInError(wrong) from None


def authenticate(db: Database, login: str, password: str) -> Clinician:
    """The clinician whose ``login`` and ``password`` these are, or SignInError."""
    password = unicodedata.normalize("NFC", password)
    login = _login_or_wrong(db, login, password)
    seen = _check_secret(db, m.Clinician.login == login, password)
    _succeeded(db, seen, password, "sign_in")
    log.info("account %d signed in", seen.id)
    with db.reading() as s:
        return _clinician(s.get_one(m.Clinician, seen.id))


def check_password(db: Database, clinician_id: int, password: str) -> None:
    """Re-entry of the signed-in clinician's password (before signing): SignInError if wrong,
    with the same rate limit as sign-in."""
    password = unicodedata.normalize("NFC", password)
    seen = _check_secret(db, m.Clinician.id == clinician_id, password)
    _succeeded(db, seen, password, None)


def signing_key(db: Database, clinician_id: int, password: str) -> Ed25519PrivateKey:
    """The clinician's own signing key, decrypted with their password (checked first)."""
    password = unicodedata.normalize("NFC", password)
    check_password(db, clinician_id, password)
    with db.reading() as s:
        row = s.get_one(m.Clinician, clinician_id)
        stored, public, login = row.signing_key, row.signing_public_key, row.login or ""
    if stored is None or public is None:
        raise StorageError(f"{login} has no signing key: an admin must reset the password")
    return _unwrap(stored, public, password, login)


def change_password(db: Database, login: str, old_password: str, new_password: str) -> None:
    """The clinician changes their own password: the same signing key, wrapped anew."""
    old = unicodedata.normalize("NFC", old_password)
    login = _login_or_wrong(db, login, old)
    new = check_new_password(new_password, login=login)
    if new == old:
        raise StorageError("new password: must differ from the old one")
    seen = _check_secret(db, m.Clinician.login == login, old)
    with db.reading() as s:
        row = s.get_one(m.Clinician, seen.id)
        wrapped, public = row.signing_key, row.signing_public_key
    if wrapped is None or public is None:  # a row without a key (made by hand): a new one
        secret = _new_secret(new)
    else:  # the same key, wrapped under the new password
        key = _unwrap(wrapped, public, old, login)
        secret = _Secret(_hash(new), public, account_keys.wrap_key(key, public, new, _params()))
    with db.writing() as s:
        row = s.get_one(m.Clinician, seen.id)
        if row.password_hash != seen.stored or row.signing_key != wrapped:  # changed meanwhile
            raise SignInError(WRONG)
        before = digest(row_state(row))
        _set_password(row, secret)
        row.must_change_password = False
        row.updated_by, row.updated_at = login, utcnow()
        _audit(s, login, row, "password_change", before)
    log.info("account %d changed its password", seen.id)
    _password_set(db, login, new)


def recover(db: Database, login: str, recovery_key: str, new_password: str) -> str:
    """The first admin's way back in: the printed recovery key sets a new password (and a new
    signing key). Returns a new recovery key; the old one is spent."""
    key = _plain_recovery(recovery_key)
    login = _login_or_wrong(db, login, key, WRONG_RECOVERY)
    new = check_new_password(new_password, login=login)
    seen = _check_secret(db, m.Clinician.login == login, key, recovery=True)
    fresh = new_recovery_key()
    secret, fresh_hash = _new_secret(new), _hash(_plain_recovery(fresh))
    with db.writing() as s:
        row = s.get_one(m.Clinician, seen.id)
        if row.recovery_hash != seen.stored:  # spent meanwhile by another recovery
            raise SignInError(WRONG_RECOVERY)
        before = digest(row_state(row))
        _set_password(row, secret)
        row.recovery_hash = fresh_hash
        row.must_change_password = False
        row.updated_by, row.updated_at = login, utcnow()
        _audit(s, login, row, "recover", before)
    log.info("account %d recovered with its recovery key", seen.id)
    _password_set(db, login, new)
    _recovery_set(db, fresh)
    return fresh
