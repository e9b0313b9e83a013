"""Seals of signed evaluations, hash chains of addenda and audit events, and their verification.

Signing stores, inside the evaluation row, a *seal*: everything its report prints as it was at
signing (a digest of each printed field, the digest of the form snapshot's content, the
clinician's name, credentials and licence number, the clinic header) and the public key that
signed it; ``signature`` is an Ed25519 signature over the seal's canonical JSON. A forger who
can write the database can recompute a SHA-256 but not this signature without the private key.
Since session 14 a seal also covers the row's bookkeeping (``ROW_FIELDS``: its episode, version,
who created and last updated it and when, its preparation), so a signed record cannot be moved
to another episode or credited to someone else behind the lock either.

**Keys.** Each installation has one key: ``signing-key.pem`` in the data folder, 0600, made on
first use. It certifies the clinicians' own keys (issue 14, ``storage.accounts``: each
clinician's Ed25519 key, encrypted under their password, with ``key_certificate``, the
installation key's signature over ``canonical({"clinician_id", "login", "public_key"})``) and
signs addenda. Trusted keys: this installation's key and the public keys listed in
``trusted-keys`` in the data folder (one hex key a line: the other workstations of a clinic
server, or the machine a restored backup came from). ``clinic-app info`` prints this
installation's public key.

**Seal versions.** Version 2 (issue 14): signed with the signing clinician's own key, unlocked by
their password at signing; the seal carries that public key, its certificate and the certifying
key (``seal["key"]``), so it stays verifiable after the clinician's key is replaced (a password
reset). It is trusted when the certifying key is trusted, the certificate vouches for that
public key *and* the clinician id and login named in the seal's ``signer``, and the signature
verifies under the clinician's key. A co-signed seal also carries the assistant's or student's
own signed *preparation* (``seal["prepared"]``: what they vouched for, checked the same way).
Version 1: signed with the installation key itself (evaluations signed before accounts, and the
headless ``user=`` path, which says so: ``"signed_with": "installation key"``). Rows signed
before 0004 carry ``{"legacy": "0004"}`` and are checked against their content hash only.

Addenda of an evaluation form a hash chain (each carries the hash of the one before, the first
the zero hash) and each addendum's hash is signed. Audit events form one hash chain in id order;
on PostgreSQL writers take a transaction-level advisory lock first so the chain has one order.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text

from clinic_app import private
from clinic_app.storage import models as m
from clinic_app.storage.errors import StorageError
from clinic_app.storage.kept_rows import BY_0006, kept_row_problems

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy.orm import Session

    from clinic_app.storage.database import Database
    from clinic_app.storage.signer_seals import SignerKey

log = logging.getLogger(__name__)

KEY_FILE = "signing-key.pem"
TRUSTED_FILE = "trusted-keys"
GENESIS = "0" * 64
SEAL_VERSION = 2
INSTALLATION_SEAL_VERSION = 1
LEGACY = "0004"
# Any constant: PostgreSQL writers of audit events queue on it (pg_advisory_xact_lock).
_AUDIT_LOCK = 1_300_013
# The fields of an evaluation its report prints (records.evaluations.HASHED_FIELDS is this).
SEALED_FIELDS = (
    "patient_id",
    "clinician_id",
    "kind",
    "eval_date",
    "form_id",
    "form_version",
    "form_snapshot_id",
    "involved_side",
    "findings",
    "carried_forward",
    "status",
    "signed_by",
    "signed_at",
)
# The row's bookkeeping as it is once signed: no report prints it, but it says which episode the
# record belongs to, who made it and when, and who prepared it. Seals made before session 14 do
# not carry it (``seal["row"]`` absent): for them these columns are covered by the lock only.
ROW_FIELDS = (
    "episode_id",
    "version",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "prepared_by_id",
    "prepared_by",
    "prepared_at",
)
# What an assistant or student vouches for when they sign their part (all but the signature).
PREPARED_FIELDS = tuple(k for k in SEALED_FIELDS if k not in ("status", "signed_by", "signed_at"))


def canonical(obj: Any) -> str:
    import json

    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha(obj: Any) -> str:
    return hashlib.sha256(canonical(obj).encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


# ---------------------------------------------------------------------------------------- keys


def key_folder() -> Path:
    from clinic_app.paths import data_dir

    return data_dir()


_keys: dict[Path, Ed25519PrivateKey] = {}


def installation_key(
    folder: Path | None = None, *, create: bool = True
) -> Ed25519PrivateKey | None:
    """This installation's signing key, made (0600) on first use if ``create``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = (folder or key_folder()) / KEY_FILE
    cached = _keys.get(path)
    if cached is not None and path.exists():
        return cached
    if not path.exists():
        if not create:
            return None
        private.make_folder(path.parent)
        new = Ed25519PrivateKey.generate()
        pem = new.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        temporary = path.with_name(f".{KEY_FILE}.{os.getpid()}.partial")
        try:
            private.write_bytes(temporary, pem)
            with contextlib.suppress(FileExistsError):  # another process made it first: use it
                os.link(temporary, path)
        except OSError as exc:
            raise StorageError(
                f"{path}: the signing key cannot be written ({exc.strerror})"
            ) from None
        finally:
            temporary.unlink(missing_ok=True)
        log.info("signing key made: %s", path)
    private.tighten(path)
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise StorageError(f"{path}: the signing key cannot be read ({exc})") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise StorageError(f"{path}: not an Ed25519 signing key")
    _keys[path] = loaded
    return loaded


def public_hex(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def installation_public_key(folder: Path | None = None) -> str | None:
    key = installation_key(folder, create=False)
    return None if key is None else public_hex(key)


def trusted_keys(folder: Path | None = None) -> frozenset[str]:
    """This installation's public key and those listed in ``trusted-keys``."""
    folder = folder or key_folder()
    keys: set[str] = set()
    own = installation_public_key(folder)
    if own:
        keys.add(own)
    with contextlib.suppress(OSError):
        for line in (folder / TRUSTED_FILE).read_text(encoding="utf-8").splitlines():
            word = line.split("#", 1)[0].strip().lower()
            if len(word) == 64 and all(c in "0123456789abcdef" for c in word):
                keys.add(word)
    return frozenset(keys)


def _sign(data: str) -> tuple[str, str]:
    key = installation_key()
    assert key is not None
    return public_hex(key), key.sign(data.encode("utf-8")).hex()


def _signature_ok(public: str, signature: str | None, data: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not signature:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(
            bytes.fromhex(signature), data.encode("utf-8")
        )
    except (InvalidSignature, ValueError):
        return False
    return True


# ------------------------------------------------------------------------------------- sealing


def field_digest(value: Any) -> str:
    return sha(_plain(value))


def field_digests(values: Mapping[str, Any]) -> dict[str, str]:
    return {key: sha(_plain(values[key])) for key in SEALED_FIELDS}


def clinician_part(session: Session, row: m.Evaluation) -> dict[str, str]:
    if row.clinician_id is None:
        return {"name": row.signed_by or row.created_by, "credentials": "", "licence_number": ""}
    who = session.get_one(m.Clinician, row.clinician_id)
    return {
        "name": who.name,
        "credentials": who.credentials,
        "licence_number": who.licence_number,
    }


def clinic_part(session: Session) -> dict[str, str] | None:
    clinic = session.get(m.Clinic, 1)
    if clinic is None:
        return None
    return {
        "name": clinic.name,
        "address": clinic.address,
        "phone": clinic.phone,
        "paper_size": clinic.paper_size,
        "logo_sha256": hashlib.sha256(clinic.logo).hexdigest() if clinic.logo else "",
    }


def snapshot_digest(session: Session, snapshot_id: int) -> str | None:
    content = session.scalar(select(m.FormSnapshot.content).where(m.FormSnapshot.id == snapshot_id))
    return None if content is None else sha(content)


def _form_part(session: Session, row: m.Evaluation) -> dict[str, Any]:
    return {
        "snapshot_id": row.form_snapshot_id,
        "content_sha256": snapshot_digest(session, row.form_snapshot_id),
    }


def make_seal(
    session: Session,
    row: m.Evaluation,
    signer: SignerKey | None = None,
    *,
    role: str = "therapist",
    prepared: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], str]:
    """(seal, signature) for ``row`` as it will be once signed (status, signer, time set).

    With ``signer`` (a clinician's unlocked key) a version-2 seal naming them; ``prepared`` is
    the assistant's or student's signed preparation being co-signed (``{"seal", "signature"}``
    as :func:`make_preparation` made it). Without, a version-1 seal made with the installation
    key (the headless path), which says so.
    """
    values = {key: getattr(row, key) for key in SEALED_FIELDS}
    seal: dict[str, Any] = {
        "v": SEAL_VERSION if signer else INSTALLATION_SEAL_VERSION,
        "evaluation_id": row.id,
        "fields": field_digests(values),
        "row": {key: field_digest(getattr(row, key)) for key in ROW_FIELDS},
        "form": _form_part(session, row),
        "clinician": clinician_part(session, row),
        "clinic": clinic_part(session),
    }
    if signer is None:
        seal["signed_with"] = "installation key"
        public, signature = _sign(canonical(seal))
        seal["key"] = public
        return seal, signature
    from clinic_app.storage.signer_seals import signer_part

    seal["signer"] = signer_part(session, signer, role)
    seal["prepared"] = dict(prepared) if prepared else None
    signature = signer.private_key.sign(canonical(seal).encode("utf-8")).hex()
    seal["key"] = signer.block()
    return seal, signature


def _signed_part(seal: Mapping[str, Any]) -> str:
    return canonical({k: v for k, v in seal.items() if k != "key"})


def is_legacy(seal: Mapping[str, Any] | None) -> bool:
    return bool(seal) and "legacy" in (seal or {})


def addendum_hash(
    evaluation_id: int, author: str, created_at: datetime, body: str, prev: str
) -> str:
    """As migration 0004 computes it."""
    return sha(
        {
            "evaluation_id": evaluation_id,
            "author": author,
            "created_at": created_at.isoformat(),
            "text": body,
            "prev": prev,
        }
    )


def chain_addendum(session: Session, addendum: m.Addendum) -> None:
    """Fill ``prev_hash``, ``hash`` and ``signature`` of a new addendum (before it is flushed)."""
    prev = session.scalar(
        select(m.Addendum.hash)
        .where(m.Addendum.evaluation_id == addendum.evaluation_id)
        .order_by(m.Addendum.id.desc())
        .limit(1)
    )
    addendum.prev_hash = prev or GENESIS
    addendum.hash = addendum_hash(
        addendum.evaluation_id,
        addendum.author,
        addendum.created_at,
        addendum.text,
        addendum.prev_hash,
    )
    _public, addendum.signature = _sign(addendum.hash)


def audit_hash(event: m.AuditEvent, prev: str) -> str:
    """As migration 0004 computes it."""
    return sha(
        {
            "at": event.at.isoformat(),
            "actor": event.actor,
            "entity": event.entity,
            "entity_id": event.entity_id,
            "action": event.action,
            "before": event.before_digest,
            "after": event.after_digest,
            "prev": prev,
        }
    )


def chain_audit(session: Session, *events: m.AuditEvent) -> None:
    """Link new audit events, in the order given, to the last one and to each other (call
    inside their write transaction, then add them in the same order)."""
    # Row locks first (flush the transaction's pending changes), the chain's lock last: a writer
    # holding the chain lock never waits for a row another writer holds (no deadlock).
    session.flush()
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({_AUDIT_LOCK})"))
    prev = session.scalar(select(m.AuditEvent.hash).order_by(m.AuditEvent.id.desc()).limit(1))
    for event in events:
        event.prev_hash = prev or GENESIS
        event.hash = prev = audit_hash(event, event.prev_hash)
    if events and prev:
        # The newest event vouches for the whole chain behind it (0011): one signature a write.
        events[-1].signature = _sign(prev)[1]


# -------------------------------------------------------------------------------- verification


def evaluation_problems(
    session: Session,
    row: m.Evaluation,
    addenda: Sequence[m.Addendum],
    trusted: frozenset[str],
) -> list[str]:
    """What no longer matches the seal of a signed evaluation (empty: sound, or not signed)."""
    from clinic_app.storage.records.evaluations import _content_hash

    if row.status != "signed":
        return []
    problems: list[str] = []
    seal = row.seal
    hash_ok = _content_hash(row) == row.content_hash
    if not seal:
        return ["it is marked signed but has no seal"]
    if is_legacy(seal):
        if not hash_ok:
            problems.append("its findings or details no longer match its content hash")
    else:
        from clinic_app.storage import signer_seals

        key_problem = signer_seals.signed_problem(seal, row.signature, trusted)
        if key_problem:
            problems.append(key_problem)
        else:
            problems.extend(signer_seals.signer_problems(session, row, seal, trusted))
            if seal.get("evaluation_id") != row.id:
                problems.append(f"its seal belongs to evaluation {seal.get('evaluation_id')}")
            now = field_digests({key: getattr(row, key) for key in SEALED_FIELDS})
            sealed = seal.get("fields", {})
            changed = [key for key in SEALED_FIELDS if sealed.get(key) != now[key]]
            kept = seal.get("row")
            if isinstance(kept, dict):  # absent from seals made before session 14
                changed += [k for k in ROW_FIELDS if kept.get(k) != field_digest(getattr(row, k))]
            if changed:
                problems.append("changed after signing: " + ", ".join(changed))
            form = seal.get("form", {})
            if snapshot_digest(session, row.form_snapshot_id) != form.get("content_sha256"):
                problems.append("its form snapshot was changed after signing")
            if not hash_ok and not changed:
                problems.append("its content hash was changed")
    problems.extend(_addenda_problems(session, row, addenda, trusted, legacy=is_legacy(seal)))
    return problems


def _addenda_problems(
    session: Session,
    row: m.Evaluation,
    addenda: Sequence[m.Addendum],
    trusted: frozenset[str],
    *,
    legacy: bool,
) -> list[str]:
    problems: list[str] = []
    prev = GENESIS
    # Addenda are signed with the installation key: a version-1 seal's key, or any trusted one.
    key = None if legacy else (row.seal or {}).get("key")
    public = key if isinstance(key, str) else None
    for addendum in addenda:
        expected = addendum_hash(
            addendum.evaluation_id, addendum.author, addendum.created_at, addendum.text, prev
        )
        if addendum.prev_hash != prev:
            problems.append(f"addendum {addendum.id} does not follow the one before it")
        elif addendum.hash != expected:
            problems.append(f"addendum {addendum.id} was changed after it was added")
        elif addendum.signature is not None or not legacy:
            keys = [public] if public else sorted(trusted)
            if not any(_signature_ok(k, addendum.signature, expected) for k in keys if k):
                problems.append(f"addendum {addendum.id} is not signed by a trusted key")
        prev = addendum.hash or ""
    recorded = session.scalar(
        select(func.count())
        .select_from(m.AuditEvent)
        .where(
            m.AuditEvent.entity == "evaluation",
            m.AuditEvent.entity_id == row.id,
            m.AuditEvent.action == "addendum",
        )
    )
    if recorded is not None and recorded != len(addenda):
        problems.append(f"the audit trail records {recorded} addenda, {len(addenda)} are present")
    return problems


def audit_problems(session: Session, trusted: frozenset[str] | None = None) -> list[str]:
    """Breaks in the audit events' hash chain (the first few), and a newest event that is not
    signed by a ``trusted`` key (this installation's and trusted-keys' by default)."""
    problems: list[str] = []
    prev = GENESIS
    newest: m.AuditEvent | None = None
    for newest in session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id)):
        if newest.prev_hash != prev:
            problems.append(f"audit event {newest.id}: the event before it is missing or changed")
        elif newest.hash != audit_hash(newest, prev):
            problems.append(f"audit event {newest.id} was changed")
        prev = newest.hash or ""
        if len(problems) >= 5:
            return problems
    if newest is not None:
        problem = _newest_problem(newest, trusted_keys() if trusted is None else trusted)
        if problem:
            problems.append(problem)
    return problems


def _newest_problem(newest: m.AuditEvent, trusted: frozenset[str]) -> str | None:
    """The newest event's signature covers the chain behind it (0011): rechaining the trail, or
    adding an event, outside the app leaves it unsigned or signed over another hash."""
    where = f"audit event {newest.id}, the newest,"
    if not newest.signature:
        return f"{where} is not signed: the audit trail was changed outside the app"
    if any(_signature_ok(key, newest.signature, newest.hash or "") for key in sorted(trusted)):
        return None
    return (
        f"{where} is not signed by a key this installation trusts: the audit trail was changed "
        "outside the app, or it was written on a computer whose key is not in trusted-keys "
        "(another workstation of the clinic server, the one a backup came from)"
    )


def last_audit(session: Session) -> tuple[int, str]:
    """(number of audit events, hash of the last one): the state mirrored outside the file."""
    count = session.scalar(select(func.count()).select_from(m.AuditEvent)) or 0
    last = session.scalar(select(m.AuditEvent.hash).order_by(m.AuditEvent.id.desc()).limit(1))
    return int(count), last or GENESIS


@dataclass(frozen=True)
class Broken:
    """One record that no longer matches what was signed or chained."""

    evaluation_id: int | None
    mrn: str | None
    problem: str

    def line(self) -> str:
        if self.evaluation_id is None:
            return self.problem
        return f"evaluation {self.evaluation_id} (patient MRN {self.mrn}): {self.problem}"


def seal_problems(db: Database, evaluation_id: int) -> list[str]:
    """What no longer matches the seal of one evaluation (empty if sound or not signed)."""
    with db.reading() as s:
        row = s.get(m.Evaluation, evaluation_id)
        if row is None:
            return []
        addenda = s.scalars(
            select(m.Addendum)
            .where(m.Addendum.evaluation_id == evaluation_id)
            .order_by(m.Addendum.id)
        ).all()
        problems = evaluation_problems(s, row, addenda, trusted_keys())
    if problems:
        log.warning("evaluation %d: seal check failed (%d problems)", evaluation_id, len(problems))
    return problems


def verify_database(db: Database, *, schema: bool = True) -> list[Broken]:
    """Every signed evaluation's seal, every addendum chain, the audit chain and (SQLite) the
    schema against what the migrations make: one :class:`Broken` per problem found."""
    found: list[Broken] = []
    trusted = trusted_keys()
    if schema and db.path is not None:
        from clinic_app.storage import schema as schema_mod

        difference = schema_mod.difference_of_file(db.path)
        if difference:
            found.append(Broken(None, None, f"schema: {difference}"))
    elif schema and db.dialect == "postgresql":
        from clinic_app.storage import schema as schema_mod

        with db.connection() as conn:
            difference = schema_mod.pg_lock_difference(conn) or schema_mod.pg_table_difference(conn)
        if difference:
            found.append(Broken(None, None, f"schema: {difference}"))
    if db.path is None and db.mirror is not None:  # a clinic server's newest events, deleted
        from clinic_app.storage import state

        with db.connection() as conn:
            gone = state.behind(conn, db.mirror)
        if gone:
            found.append(Broken(None, None, gone))
    with db.reading() as s:
        addenda: dict[int, list[m.Addendum]] = {}
        for addendum in s.scalars(select(m.Addendum).order_by(m.Addendum.id)):
            addenda.setdefault(addendum.evaluation_id, []).append(addendum)
        signed = s.execute(
            select(m.Evaluation, m.Patient.mrn)
            .join(m.Patient, m.Patient.id == m.Evaluation.patient_id, isouter=True)
            .where(m.Evaluation.status == "signed")
            .order_by(m.Evaluation.id)
        ).all()
        for row, mrn in signed:
            for problem in evaluation_problems(s, row, addenda.pop(row.id, []), trusted):
                found.append(Broken(row.id, mrn, problem))
        for evaluation_id, orphans in sorted(addenda.items()):
            status = s.scalar(select(m.Evaluation.status).where(m.Evaluation.id == evaluation_id))
            if status != "signed":
                found.append(
                    Broken(
                        evaluation_id,
                        None,
                        f"{len(orphans)} addenda belong to an evaluation that is not signed",
                    )
                )
        found.extend(Broken(None, None, p) for p in audit_problems(s, trusted))
        found.extend(Broken(None, None, p) for p in kept_row_problems(s))
        from clinic_app.storage.records.settings import setting_problems  # records import us

        found.extend(Broken(None, None, p) for p in setting_problems(s))
    log.info("verified %d signed evaluations: %d problems", len(signed), len(found))
    return found


def verify_file(path: Path) -> list[Broken]:
    """:func:`verify_database` of a SQLite file opened read-only (a backup just written): nothing
    is written to it, not even the switch to WAL mode that opening it as the app does makes."""
    from urllib.parse import quote

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import sessionmaker

    from clinic_app.storage.database import Database

    url = make_url(f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true")
    engine = create_engine(url)
    db = Database(
        url=url,
        engine=engine,
        sessions=sessionmaker(engine),
        write_sessions=sessionmaker(engine),
        path=path,
    )
    try:
        return verify_database(db)
    finally:
        engine.dispose()


__all__ = [
    "BY_0006",
    "Broken",
    "installation_key",
    "installation_public_key",
    "kept_row_problems",
    "seal_problems",
    "trusted_keys",
    "verify_database",
    "verify_file",
]
