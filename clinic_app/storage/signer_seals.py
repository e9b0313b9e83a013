"""Seals made with a clinician's own key (seal version 2, issue 14): the certificate that vouches
for the key, the assistant's or student's *preparation* a co-signed seal carries, and their checks.

See :mod:`clinic_app.storage.sealing` for the seal itself and the trust rules. A clinician's key is
vouched for by an installation key's signature (``key_certificate``) over
:func:`certificate_message`: the clinician id, the login and the public key. The seal carries the
public key, the certificate and the certifying key, so it stays verifiable after the key is
replaced on a password reset. Not covered by the certificate: the role (it is in the signed seal,
so nobody but the key's holder can change it; a test checks the audit trail names the signer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from clinic_app.storage import models as m
from clinic_app.storage.sealing import (
    PREPARED_FIELDS,
    SEAL_VERSION,
    _form_part,
    _plain,
    _signature_ok,
    _signed_part,
    canonical,
    public_hex,
    sha,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy.orm import Session


def certificate_message(clinician_id: int, login: str, public_key: str) -> str:
    """What an installation key signs to vouch for a clinician's key (``key_certificate``)."""
    return canonical({"clinician_id": clinician_id, "login": login, "public_key": public_key})


@dataclass(frozen=True)
class SignerKey:
    """A clinician's unlocked signing key and the certificate that vouches for it."""

    clinician_id: int
    login: str
    private_key: Ed25519PrivateKey
    certificate: str
    certified_by: str

    def block(self) -> dict[str, str]:
        return {
            "public_key": public_hex(self.private_key),
            "certificate": self.certificate,
            "certified_by": self.certified_by,
        }


def signer_part(session: Session, signer: SignerKey, role: str) -> dict[str, Any]:
    """Who signs, as they are now (name, credentials, licence number) and in which role."""
    who = session.get_one(m.Clinician, signer.clinician_id)
    return {
        "clinician_id": signer.clinician_id,
        "login": signer.login,
        "name": who.name,
        "credentials": who.credentials,
        "licence_number": who.licence_number,
        "role": role,
    }


def make_preparation(
    session: Session, row: m.Evaluation, signer: SignerKey, *, role: str, at: datetime
) -> tuple[dict[str, Any], str]:
    """(preparation, signature): an assistant's or student's signature of a draft, awaiting a
    therapist's co-signature (stored in the draft's seal columns until then)."""
    values = {key: getattr(row, key) for key in PREPARED_FIELDS}
    part: dict[str, Any] = {
        "v": SEAL_VERSION,
        "kind": "preparation",
        "evaluation_id": row.id,
        "fields": {key: sha(_plain(values[key])) for key in PREPARED_FIELDS},
        "form": _form_part(session, row),
        "signer": signer_part(session, signer, role),
        "at": at.isoformat(),
    }
    signature = signer.private_key.sign(canonical(part).encode("utf-8")).hex()
    part["key"] = signer.block()
    return part, signature


UNTRUSTED = "this installation does not trust"
"""In every problem that says only that the seal cannot be checked here, not that it changed."""


def seal_headline(problems: Sequence[str]) -> tuple[str, str]:
    """The heading and the advice a window or report puts above a signed record's problems:
    a seal made or certified elsewhere (a key not in ``trusted-keys``) is not a changed record."""
    if problems and all(UNTRUSTED in p for p in problems):
        return (
            "This record's seal cannot be checked on this computer",
            "Its key is not one this installation trusts: if the record was signed on another "
            "workstation of the clinic, add that workstation's public key (clinic-app info "
            "prints it there) to trusted-keys in the data folder.",
        )
    return (
        "This record was changed after it was signed",
        "Do not rely on this report; the stored record was altered.",
    )


def signed_problem(
    seal: Mapping[str, Any], signature: str | None, trusted: frozenset[str]
) -> str | None:
    """Why ``signature`` does not vouch for ``seal`` (None: it does).

    Version 1: the seal's key must be trusted. Version 2: the certifying key must be trusted,
    its certificate must name this public key with the clinician id and login of the seal's
    signer, and the signature must verify under the clinician's key."""
    key = seal.get("key")
    if isinstance(key, str):
        if key not in trusted:
            return f"its seal was made with a key {UNTRUSTED}"
        public = key
    elif isinstance(key, Mapping):
        certifier = str(key.get("certified_by", ""))
        public = str(key.get("public_key", ""))
        signer = seal.get("signer")
        if certifier not in trusted:
            return f"its signer's key was certified by a key {UNTRUSTED}"
        if not isinstance(signer, Mapping) or not _signature_ok(
            certifier,
            str(key.get("certificate", "")),
            certificate_message(signer.get("clinician_id"), signer.get("login"), public),  # type: ignore[arg-type]
        ):
            return "its signer's key certificate does not vouch for this key and clinician"
    else:
        return "its seal names no signing key"
    if not _signature_ok(public, signature, _signed_part(seal)):
        return "its seal or signature was altered (the signature does not match)"
    return None


def _preparation_problems(
    row: m.Evaluation, seal: Mapping[str, Any], trusted: frozenset[str]
) -> list[str]:
    """A co-signed seal's preparation: signed by the preparer's certified key, for these very
    findings, and not by the co-signer."""
    prepared = seal.get("prepared")
    if not prepared:
        return []
    part = prepared.get("seal") if isinstance(prepared, Mapping) else None
    if not isinstance(part, Mapping):
        return ["its preparation is unreadable"]
    problem = signed_problem(part, prepared.get("signature"), trusted)
    if problem:
        return [
            problem.replace("its seal", "its preparation").replace("its signer", "its preparer")
        ]
    found: list[str] = []
    if part.get("evaluation_id") != row.id:
        found.append(f"its preparation belongs to evaluation {part.get('evaluation_id')}")
    cosigned = seal.get("fields") or {}
    if part.get("fields") != {key: cosigned.get(key) for key in PREPARED_FIELDS}:
        found.append("what was co-signed is not what was prepared")
    preparer = part.get("signer") or {}
    cosigner = seal.get("signer") or {}
    if cosigner.get("role") != "therapist":
        found.append("it was co-signed by someone who is not a therapist")
    if preparer.get("clinician_id") == cosigner.get("clinician_id"):
        found.append("its preparer co-signed it themselves")
    return found


def signer_problems(
    session: Session, row: m.Evaluation, seal: Mapping[str, Any], trusted: frozenset[str]
) -> list[str]:
    """A sound version-2 seal's signer: a therapist, the one the audit trail records as signing
    (a clinician who can write the database cannot re-sign a colleague's record as their own
    unnoticed), and its preparation, if any."""
    signer = seal.get("signer")
    if not isinstance(signer, Mapping):
        return []
    found: list[str] = []
    if signer.get("role") != "therapist":
        found.append("it was signed by someone who is not a therapist")
    actor = session.scalar(
        select(m.AuditEvent.actor)
        .where(
            m.AuditEvent.entity == "evaluation",
            m.AuditEvent.entity_id == row.id,
            m.AuditEvent.action.in_(("sign", "cosign")),
        )
        .order_by(m.AuditEvent.id.desc())
        .limit(1)
    )
    if actor != signer.get("login"):
        found.append(
            f"its seal names {signer.get('login')} as signer, the audit trail records "
            f"{actor or 'no signature'}"
        )
    return found + _preparation_problems(row, seal, trusted)
