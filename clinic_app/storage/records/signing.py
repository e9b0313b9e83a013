"""Signing evaluations: an act of the signed-in clinician, with their own key (issue 14).

``sign_evaluation(db, id, version, signer_id=…, password=…)``: the password unlocks the
clinician's own Ed25519 key (``storage.accounts.signing_key``, rate-limited like sign-in). A
*therapist* signs and seals. An *assistant* or *student* **prepares**: their signature of the
draft (their own key, stored in the draft's seal columns) and ``prepared_by``; the evaluation
stays a draft "awaiting co-signature", its findings locked by the API and by a database trigger
(0005), until a therapist co-signs (:func:`cosign_evaluation`: sealed, the seal names both and
carries the preparation) or returns it for changes (:func:`return_for_changes`).

``sign_evaluation(..., user=NAME)`` is the **headless compatibility path** (the demo data and
scripts that have no account): it seals with the installation key and the seal says so
(``"signed_with": "installation key"``). The window never uses it (a test checks).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update

from clinic_app.storage import models as m
from clinic_app.storage import sealing, signer_seals
from clinic_app.storage._types import utcnow
from clinic_app.storage.errors import StorageError
from clinic_app.storage.records import programs
from clinic_app.storage.records._common import get_row, require_user, write_audit
from clinic_app.storage.records.evaluations import _conflict, _content_hash, _locked, _probe
from clinic_app.storage.records.values import Signed

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult
    from sqlalchemy.orm import Session

    from clinic_app.storage.database import Database

logger = logging.getLogger(__name__)

PREPARING_ROLES = ("assistant", "student")


@dataclass(frozen=True)
class _Signer:
    id: int
    login: str
    name: str
    role: str  # "therapist", or the preparing role


def _roles(row: m.Clinician) -> tuple[str, ...]:
    return tuple(r.strip() for r in (row.roles or "").split(",") if r.strip())


def _signer(s: Session, signer_id: int) -> _Signer:
    """The account signing, checked: active, a therapist, assistant or student, with a key."""
    row: m.Clinician = get_row(s, m.Clinician, "clinician", signer_id)
    if not row.active:
        raise StorageError(f"the account of {row.name} is disabled: it cannot sign")
    roles = _roles(row)
    if "therapist" in roles:
        role = "therapist"
    else:
        role = next((r for r in PREPARING_ROLES if r in roles), "")
    if not role or not row.login:
        raise StorageError(
            f"{row.name} is not a therapist, assistant or student: this account cannot sign"
        )
    return _Signer(row.id, row.login, row.name, role)


def _unlock(db: Database, signer_id: int, password: str) -> signer_seals.SignerKey:
    """The clinician's key, unlocked by ``password`` (SignInError if wrong), with the
    certificate that vouches for it; refused when this installation would not trust it."""
    from clinic_app.storage import accounts

    private_key = accounts.signing_key(db, signer_id, password)
    with db.reading() as s:
        row: m.Clinician = get_row(s, m.Clinician, "clinician", signer_id)
        login, certificate, certifier = row.login, row.key_certificate, row.key_certified_by
        public = row.signing_public_key
    if not (login and certificate and certifier) or sealing.public_hex(private_key) != public:
        raise StorageError(f"the signing key of {login}: no certificate; an admin must reset it")
    if certifier not in sealing.trusted_keys():
        raise StorageError(
            f"the signing key of {login} was certified on another installation this one does "
            "not trust (add its key to trusted-keys)"
        )
    return signer_seals.SignerKey(signer_id, login, private_key, certificate, certifier)


def _draft(s: Session, evaluation_id: int, expected_version: int) -> m.Evaluation:
    row: m.Evaluation = get_row(s, m.Evaluation, "evaluation", evaluation_id)
    if row.status == "signed":
        raise _locked(row)
    if row.version != expected_version:
        raise _conflict(row, expected_version)
    if row.prepared_by is None and _last_preparation_event(s, row.id) == "prepare":
        # The database lets prepared_by be cleared (that is what returning does), so a direct
        # write could clear it and then change the findings: the audit trail, append-only and
        # hash-chained, still says it was prepared and never returned. Nobody signs that.
        logger.warning("evaluation %d: preparation removed outside the app", row.id)
        raise StorageError(
            f"evaluation {row.id} was prepared for co-signature, but its preparation was removed "
            "without a return for changes (changed outside the app): it cannot be signed; "
            "check the audit trail"
        )
    return row


def _last_preparation_event(s: Session, evaluation_id: int) -> str | None:
    return s.scalar(
        select(m.AuditEvent.action)
        .where(
            m.AuditEvent.entity == "evaluation",
            m.AuditEvent.entity_id == evaluation_id,
            m.AuditEvent.action.in_(("prepare", "return_for_changes")),
        )
        .order_by(m.AuditEvent.id.desc())
        .limit(1)
    )


def _write(s: Session, row: m.Evaluation, expected_version: int, **values: Any) -> None:
    """The guarded UPDATE: refused (ConflictError / EvaluationSignedError) if someone got in."""
    result = cast(
        "CursorResult[Any]",
        s.execute(
            update(m.Evaluation)
            .where(
                m.Evaluation.id == row.id,
                m.Evaluation.version == expected_version,
                m.Evaluation.status == "draft",
            )
            .values(version=expected_version + 1, **values)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        s.expire(row)
        s.refresh(row)
        if row.status == "signed":
            raise _locked(row)
        raise _conflict(row, expected_version)


def _seal_signed(
    s: Session,
    row: m.Evaluation,
    expected_version: int,
    who: _Signer,
    key: signer_seals.SignerKey,
    now: datetime,
    *,
    prepared: Mapping[str, Any] | None = None,
) -> str:
    """Seal the draft as signed by ``who`` (a co-signature carries the ``prepared`` part) and
    write it with the guarded UPDATE; the new content hash."""
    signed = _signed_values(who.name, who.login, now)
    probe = _probe(row, version=expected_version + 1, **signed)
    new_hash = _content_hash(probe)
    seal, signature = sealing.make_seal(s, probe, key, role=who.role, prepared=prepared)
    _write(
        s, row, expected_version, seal=seal, signature=signature, content_hash=new_hash, **signed
    )
    programs.keep_signed_pictures(s, row.findings, who.login)  # the handout's drawings (17)
    return new_hash


def _signed_values(name: str, login: str, now: datetime) -> dict[str, Any]:
    """The columns signing sets besides the seal: the seal covers them as they will be."""
    return {
        "status": "signed",
        "signed_by": name,
        "signed_at": now,
        "updated_by": login,
        "updated_at": now,
    }


def _awaiting(row: m.Evaluation) -> StorageError:
    when = f" on {row.prepared_at:%Y-%m-%d}" if row.prepared_at else ""
    return StorageError(
        f"evaluation {row.id} was prepared by {row.prepared_by}{when} and awaits a therapist's "
        "co-signature: co-sign it or return it for changes"
    )


def sign_evaluation(
    db: Database,
    evaluation_id: int,
    expected_version: int,
    *,
    signer_id: int | None = None,
    password: str | None = None,
    user: str | None = None,
) -> Signed:
    """Sign a draft as clinician ``signer_id``, whose ``password`` unlocks their key.

    A therapist signs and seals (status "signed"). An assistant or student prepares it: the
    draft awaits a therapist's co-signature (``Signed.awaiting_cosignature``). Raises
    ConflictError if it changed since ``expected_version``, SignInError for a wrong password,
    StorageError for a disabled or non-clinical account or a draft already awaiting co-signature.

    ``user=NAME`` instead (headless compatibility path, no account): seals with the installation
    key, and the seal says so.
    """
    if signer_id is None:
        if user is None or password is not None:
            raise StorageError("signing needs the signer's account and password")
        return _sign_headless(db, evaluation_id, expected_version, require_user(user))
    if user is not None or password is None:
        raise StorageError("signing needs the signer's account and password")
    with db.reading() as s:
        _signer(s, signer_id)  # a disabled or admin-only account is refused before the password
    key = _unlock(db, signer_id, password)
    now = utcnow()
    with db.writing() as s:
        who = _signer(s, signer_id)
        row = _draft(s, evaluation_id, expected_version)
        if row.prepared_by is not None:
            raise _awaiting(row)
        before = row.content_hash
        if who.role != "therapist":
            part, part_signature = signer_seals.make_preparation(s, row, key, role=who.role, at=now)
            _write(
                s,
                row,
                expected_version,
                prepared_by_id=who.id,
                prepared_by=who.name,
                prepared_at=now,
                seal=part,
                signature=part_signature,
                updated_by=who.login,
                updated_at=now,
            )
            write_audit(s, who.login, "evaluation", row.id, "prepare", before, before, now)
            logger.info("evaluation %d prepared, awaiting co-signature", evaluation_id)
            return Signed(evaluation_id, expected_version + 1, who.name, now, before, True)
        new_hash = _seal_signed(s, row, expected_version, who, key, now)
        write_audit(s, who.login, "evaluation", evaluation_id, "sign", before, new_hash, now)
    logger.info("evaluation %d signed (version %d)", evaluation_id, expected_version + 1)
    return Signed(evaluation_id, expected_version + 1, who.name, now, new_hash)


def _sign_headless(db: Database, evaluation_id: int, expected_version: int, user: str) -> Signed:
    with db.writing() as s:
        row = _draft(s, evaluation_id, expected_version)
        if row.prepared_by is not None:
            raise _awaiting(row)
        now = utcnow()
        before = row.content_hash
        signed = _signed_values(user, user, now)
        probe = _probe(row, version=expected_version + 1, **signed)
        new_hash = _content_hash(probe)
        seal, signature = sealing.make_seal(s, probe)  # the installation key; the seal says so
        _write(
            s,
            row,
            expected_version,
            seal=seal,
            signature=signature,
            content_hash=new_hash,
            **signed,
        )
        programs.keep_signed_pictures(s, row.findings, user)  # the handout's drawings (17)
        write_audit(s, user, "evaluation", evaluation_id, "sign", before, new_hash, now)
    logger.info("evaluation %d signed headless (version %d)", evaluation_id, expected_version + 1)
    return Signed(evaluation_id, expected_version + 1, user, now, new_hash)


def _prepared(s: Session, evaluation_id: int, expected_version: int) -> m.Evaluation:
    row = _draft(s, evaluation_id, expected_version)
    if row.prepared_by is None:
        raise StorageError(
            f"evaluation {evaluation_id} does not await a co-signature: sign it instead"
        )
    return row


def cosign_evaluation(
    db: Database, evaluation_id: int, expected_version: int, *, signer_id: int, password: str
) -> Signed:
    """A therapist (not the preparer) co-signs a prepared draft: signed and sealed, the seal
    naming both and carrying the preparer's own signature of what they prepared."""
    with db.reading() as s:
        who = _signer(s, signer_id)
        row = _prepared(s, evaluation_id, expected_version)
        _check_cosigner(who, row)
    key = _unlock(db, signer_id, password)
    now = utcnow()
    with db.writing() as s:
        who = _signer(s, signer_id)
        row = _prepared(s, evaluation_id, expected_version)
        _check_cosigner(who, row)
        check: dict[str, Any] = dict(row.seal or {})
        prepared = {"seal": check, "signature": row.signature}
        check_problem = signer_seals.signed_problem(check, row.signature, sealing.trusted_keys())
        digests = {k: sealing.field_digest(getattr(row, k)) for k in sealing.PREPARED_FIELDS}
        if check_problem or check.get("fields") != digests or check.get("evaluation_id") != row.id:
            raise StorageError(
                f"evaluation {evaluation_id}: its preparation does not match the record "
                f"({check_problem or 'changed after it was prepared'}); return it for changes"
            )
        before = row.content_hash
        new_hash = _seal_signed(s, row, expected_version, who, key, now, prepared=prepared)
        write_audit(s, who.login, "evaluation", evaluation_id, "cosign", before, new_hash, now)
    logger.info("evaluation %d co-signed (version %d)", evaluation_id, expected_version + 1)
    return Signed(evaluation_id, expected_version + 1, who.name, now, new_hash)


def _check_cosigner(who: _Signer, row: m.Evaluation) -> None:
    if who.role != "therapist":
        raise StorageError(f"{who.name} is not a therapist: only a therapist can co-sign")
    if who.id == row.prepared_by_id:
        raise StorageError(
            f"{who.name} prepared evaluation {row.id}: another therapist must co-sign it"
        )


def return_for_changes(
    db: Database, evaluation_id: int, expected_version: int, *, by_id: int, reason: str
) -> int:
    """A therapist returns a prepared draft to its preparer: the preparation is cleared (the
    findings can be edited again) and ``reason`` kept with the draft. Returns the new version."""
    from clinic_app.storage.records._common import checked_text

    reason = checked_text(m.Addendum.__table__.c.text, "reason", reason, multiline=True)
    if not reason:
        raise StorageError("returning an evaluation for changes needs a reason")
    now = utcnow()
    with db.writing() as s:
        who = _signer(s, by_id)
        row = _prepared(s, evaluation_id, expected_version)
        _check_cosigner(who, row)
        note = {
            "returned": {
                "by": who.name,
                "at": now.isoformat(),
                "reason": reason,
                "prepared_by": row.prepared_by,
            }
        }
        _write(
            s,
            row,
            expected_version,
            prepared_by_id=None,
            prepared_by=None,
            prepared_at=None,
            seal=note,
            signature=None,
            updated_by=who.login,
            updated_at=now,
        )
        write_audit(
            s,
            who.login,
            "evaluation",
            evaluation_id,
            "return_for_changes",
            row.content_hash,
            sealing.sha(note),
            now,
        )
    logger.info("evaluation %d returned for changes", evaluation_id)
    return expected_version + 1


def returned_note(seal: Any) -> tuple[str, datetime | None, str] | None:
    """(by, at, reason) of a draft returned for changes, from its seal column."""
    if not isinstance(seal, dict) or not isinstance(seal.get("returned"), dict):
        return None
    note = seal["returned"]
    try:
        at: datetime | None = datetime.fromisoformat(str(note.get("at")))
    except ValueError:
        at = None
    return str(note.get("by", "")), at, str(note.get("reason", ""))
