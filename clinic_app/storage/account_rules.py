"""What an account's login, password, roles and details must be (issue 14; ``storage.accounts``
re-exports these). Each refusal is a one-line StorageError naming the field, never quoting a
password."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from clinic_app.storage import models as m
from clinic_app.storage.errors import StorageError
from clinic_app.storage.records._common import checked_text
from clinic_app.storage.values import Clinician

# Ten characters: NIST SP 800-63B asks at least 8 for a password that is not the only safeguard.
# Here the rate limit of storage.accounts backs it (an online guesser gets a handful of tries an
# hour), and argon2id (an offline guesser with a stolen file pays ~0.1 s of 64 MiB per try); 10
# adds margin for short, word-based passwords without pushing clinicians into writing them down.
MIN_PASSWORD_LENGTH = 10
# What is hashed at most: a pasted page or /dev/zero on stdin is refused, not hashed.
MAX_PASSWORD_LENGTH = 256

LOGIN_PATTERN = re.compile(r"[a-z0-9._-]{2,64}")


def normalise_login(text: str) -> str:
    """``text`` trimmed and lower-cased; 2 to 64 of a-z, 0-9, dot, underscore, hyphen."""
    login = text.strip().lower()
    if not login:
        raise StorageError("login: missing")
    if len(login) > 64:
        raise StorageError(f"login: {len(login)} characters is too long (at most 64)")
    if not LOGIN_PATTERN.fullmatch(login):
        raise StorageError(
            "login: use 2 to 64 of the letters a-z, digits, '.', '_' or '-' (no spaces)"
        )
    return login


def check_new_password(password: str, *, login: str = "") -> str:
    """The password as it is hashed (Unicode NFC, so the same word typed on another system
    matches), or StorageError naming "password" (never quoting it)."""
    password = unicodedata.normalize("NFC", password)
    if not password:
        raise StorageError("password: missing")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StorageError(f"password: too long (at most {MAX_PASSWORD_LENGTH} characters)")
    if any(unicodedata.category(c) == "Cs" for c in password):
        raise StorageError("password: not valid text (broken UTF-8?)")
    if any(unicodedata.category(c) == "Cc" for c in password):
        raise StorageError("password: contains a control character (a line break, tab or NUL)")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StorageError(f"password: too short (at least {MIN_PASSWORD_LENGTH} characters)")
    if login and password.lower() == login:
        raise StorageError("password: must not be the login")
    return password


def check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """Roles in ROLES order, or StorageError naming "role"."""
    if isinstance(roles, str):  # one role given as a string, not its letters
        roles = [roles]
    words = [str(role).strip().lower() for role in roles]
    unknown = [w for w in words if w not in m.ROLES]
    if unknown:
        raise StorageError(f"role: {unknown[0][:40]!r} is not a role (use {', '.join(m.ROLES)})")
    chosen = tuple(role for role in m.ROLES if role in words)
    if not chosen:
        raise StorageError("role: a clinician needs at least one role")
    if "therapist" in chosen and ({"assistant", "student"} & set(chosen)):
        raise StorageError(
            "role: an assistant or student cannot also be a therapist (their signature waits "
            "for a therapist's co-signature)"
        )
    return chosen


def has_role(clinician: Clinician, role: str) -> bool:
    return role in clinician.roles


def _text_field(column: str, label: str, value: str) -> str:
    # A lone surrogate (bytes that were not UTF-8, e.g. from argv) cannot be stored: say so.
    if any(unicodedata.category(c) == "Cs" for c in value):
        raise StorageError(f"{label}: not valid text (broken UTF-8?)")
    return checked_text(m.Clinician.__table__.c[column], label, value)


def details(display_name: str, credentials: str, licence_number: str) -> dict[str, str]:
    name = _text_field("name", "display name", display_name)
    if not name:
        raise StorageError("display name: missing")
    return {
        "name": name,
        "credentials": _text_field("credentials", "credentials", credentials),
        "licence_number": _text_field("licence_number", "licence number", licence_number),
    }
