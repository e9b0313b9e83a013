"""Each clinician's own Ed25519 signing key, kept in their ``clinician`` row (issue 14).

``signing_key`` holds a header line naming the key derivation, then the private key as PKCS#8 PEM
encrypted (``BestAvailableEncryption``) under a key derived from the clinician's password with
argon2id, salted with their public key: PKCS#8's own derivation (PBKDF2) is far cheaper to guess
offline than the argon2id password hash next to it in the same row, so the PEM is not encrypted
under the password itself. ``key_certificate`` is this installation's signature over
``{"clinician_id", "login", "public_key"}`` (``sealing.canonical``), so someone who can write the
database cannot swap in a key of their own: ``storage.sealing`` checks the certificate.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from clinic_app.storage import models as m
from clinic_app.storage.errors import StorageError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# argon2id time cost, memory (KiB) and lanes
Params = tuple[int, int, int]

_HEADER = re.compile(r"clinic-app-key-kdf: argon2id t=(\d{1,2}) m=(\d{1,7}) p=(\d{1,2})")


class WrongPassword(Exception):
    """The password does not decrypt the key (the caller words it)."""


def _kek(password: str, public: str, params: Params) -> bytes:
    from argon2.low_level import Type, hash_secret_raw

    t, memory, p = params
    salt = bytes.fromhex(public)
    return hash_secret_raw(password.encode("utf-8"), salt, t, memory, p, 32, Type.ID)


def wrap_key(key: Ed25519PrivateKey, public: str, password: str, params: Params) -> str:
    """``key`` as the ``signing_key`` column holds it."""
    from cryptography.hazmat.primitives import serialization

    kek = _kek(password, public, params)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(kek.hex().encode("ascii")),
    )
    t, memory, p = params
    return f"clinic-app-key-kdf: argon2id t={t} m={memory} p={p}\n{pem.decode('ascii')}"


def unwrap_key(stored: str, public: str, password: str, login: str) -> Ed25519PrivateKey:
    """The private key; WrongPassword if ``password`` does not open it, StorageError if the
    column is damaged or holds a key other than ``public``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from clinic_app.storage import sealing

    damaged = StorageError(
        f"the signing key of {login} is damaged: an admin must reset the password"
    )
    header, _, pem = stored.partition("\n")
    found = _HEADER.fullmatch(header.strip())
    if found is None:
        raise damaged
    t, memory, p = (int(x) for x in found.groups())
    # A hostile row must not make a sign-in allocate gigabytes or spin for minutes.
    if not (1 <= t <= 20 and 8 * p <= memory <= 1_048_576 and 1 <= p <= 16):
        raise damaged
    try:
        kek = _kek(password, public, (t, memory, p))
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=kek.hex().encode())
    except (ValueError, TypeError, UnicodeEncodeError):
        raise WrongPassword from None
    if not isinstance(key, Ed25519PrivateKey) or sealing.public_hex(key) != public:
        raise damaged
    return key


def new_key(password: str, params: Params) -> tuple[str, str]:
    """A new key pair: its public key (hex) and the private key wrapped under ``password``.
    Slow (argon2id): made before the write transaction, which then only stores and certifies."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from clinic_app.storage import sealing

    key = Ed25519PrivateKey.generate()
    public = sealing.public_hex(key)
    return public, wrap_key(key, public, password, params)


def certify(row: m.Clinician) -> None:
    """This installation's certificate for the row's public key (the row is flushed: it has an
    id). Seals made with an older key keep that key's public half and certificate inside them."""
    from clinic_app.storage import sealing

    installation = sealing.installation_key()
    assert installation is not None  # made on first use
    vouched = {"clinician_id": row.id, "login": row.login, "public_key": row.signing_public_key}
    row.key_certified_by = sealing.public_hex(installation)
    row.key_certificate = installation.sign(sealing.canonical(vouched).encode("utf-8")).hex()
