"""The records API: patients, clinicians, evaluations, addenda and the audit trail.

Plain values in, plain values out: every function takes the open :class:`Database` first and
returns frozen dataclasses (never ORM objects), so a screen can keep what it got without holding
a session. Each call is one short transaction (``Database.writing``/``reading``), committed or
rolled back in one place. Every mutation returns what changed and writes an audit event in the
same transaction.

Evaluations are drafts until signed. ``save_draft`` is cheap and idempotent (no write when nothing
changed), so the editor can call it on every autosave tick; it carries the version the editor
loaded, and a save over someone else's newer version raises :class:`ConflictError` with their
findings instead of overwriting them. A signed evaluation is locked (API and database triggers);
only addenda may follow.

``user`` arguments name the person acting (login name or clinician name); they are stored in
``updated_by``/``signed_by``/audit events as given.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import Row, String, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import column, table
from sqlalchemy.sql import text as sql_text

from clinic_app.core import findings as findings_mod
from clinic_app.core.form import Form, parse_form
from clinic_app.storage import models as m
from clinic_app.storage import search as search_mod
from clinic_app.storage._types import utcnow
from clinic_app.storage.errors import (
    ConflictError,
    DuplicateMRNError,
    EvaluationSignedError,
    NotFoundError,
    NotSignedError,
    PatientConflictError,
    StorageError,
)
from clinic_app.storage.values import (
    PATIENT_FIELDS,
    Clinician,
    Patient,
    PatientFields,
    PatientSort,
    Sex,
)

if TYPE_CHECKING:
    from sqlalchemy import Select, Table, TextClause
    from sqlalchemy.engine import Connection, CursorResult
    from sqlalchemy.orm import Session

    from clinic_app.storage.database import Database

__all__ = [
    "Addendum",
    "AuditEntry",
    "ClinicInfo",
    "Clinician",
    "ClinicianInfo",
    "DraftSaved",
    "Evaluation",
    "EvaluationSummary",
    "MeasurePoint",
    "Patient",
    "PatientChange",
    "PatientFields",
    "Signed",
    "add_addendum",
    "archive_patient",
    "audit_events",
    "count_patients",
    "create_patient",
    "evaluation_form",
    "get_clinic",
    "get_clinician",
    "get_evaluation",
    "get_patient",
    "get_patient_by_mrn",
    "list_clinicians",
    "list_evaluations",
    "list_patients",
    "measure_history",
    "save_clinic",
    "save_clinician",
    "save_draft",
    "remember_form",
    "search_patients",
    "sign_evaluation",
    "start_evaluation",
    "update_patient",
    "verify_evaluation",
]

PaperSize = Literal["A4", "Letter"]
EvaluationKind = Literal["initial", "re_evaluation", "discharge"]
EvaluationStatus = Literal["draft", "signed"]
InvolvedSide = Literal["left", "right", "both"]


# --------------------------------------------------------------------------------------------
# Values handed in and out


@dataclass(frozen=True)
class ClinicInfo:
    """The practice as printed on reports."""

    name: str
    address: str = ""
    phone: str = ""
    logo: bytes | None = None  # PNG or JPEG bytes
    paper_size: PaperSize = "A4"


@dataclass(frozen=True)
class ClinicianInfo:
    """What is typed in for a clinician (input of :func:`save_clinician`)."""

    name: str
    credentials: str = ""  # e.g. "PT, DPT"
    licence_number: str = ""
    active: bool = True


@dataclass(frozen=True)
class PatientChange:
    """Result of a patient mutation: the patient now, and the field names that changed."""

    patient: Patient
    changed: tuple[str, ...]


@dataclass(frozen=True)
class Addendum:
    id: int
    evaluation_id: int
    author: str
    created_at: datetime
    text: str


@dataclass(frozen=True)
class Evaluation:
    """One evaluation with its findings (``Findings.to_dict()`` shape) and addenda.

    ``carried_forward``: item ids whose values were copied from evaluation ``carried_from`` and not
    changed or confirmed since; the editor marks them so the clinician re-tests or confirms them.
    """

    id: int
    patient_id: int
    clinician_id: int | None
    kind: EvaluationKind
    eval_date: date
    form_id: str
    form_version: int
    form_snapshot_id: int
    involved_side: InvolvedSide | None
    findings: Mapping[str, Any]
    carried_forward: tuple[str, ...]
    carried_from: int | None
    status: EvaluationStatus
    signed_by: str | None
    signed_at: datetime | None
    content_hash: str
    version: int
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    addenda: tuple[Addendum, ...] = ()

    @property
    def is_signed(self) -> bool:
        return self.status == "signed"

    @property
    def values(self) -> Mapping[str, Any]:
        return cast(Mapping[str, Any], self.findings.get("values", {}))


@dataclass(frozen=True)
class EvaluationSummary:
    """A line of a patient's evaluation list (no findings)."""

    id: int
    patient_id: int
    kind: EvaluationKind
    eval_date: date
    status: EvaluationStatus
    version: int
    form_id: str
    form_version: int
    involved_side: InvolvedSide | None
    signed_by: str | None
    signed_at: datetime | None
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class DraftSaved:
    """Result of :func:`save_draft`. ``changed`` False means nothing was written (idempotent)."""

    evaluation_id: int
    changed: bool
    version: int  # pass as expected_version next time
    changed_items: tuple[str, ...]
    carried_forward: tuple[str, ...]
    content_hash: str
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class Signed:
    """Result of :func:`sign_evaluation`."""

    evaluation_id: int
    version: int
    signed_by: str
    signed_at: datetime
    content_hash: str


@dataclass(frozen=True)
class MeasurePoint:
    """One evaluation's value of one measure, for progress charts.

    ``value`` for a one-sided item; ``left``/``right`` for a bilateral one (None: not recorded).
    """

    evaluation_id: int
    eval_date: date
    kind: EvaluationKind
    status: EvaluationStatus
    value: Any
    left: Any
    right: Any


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    entity: str
    entity_id: int
    action: str
    before_digest: str | None
    after_digest: str | None


# --------------------------------------------------------------------------------------------
# Helpers


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _digest(obj: Any) -> str:
    return hashlib.sha256(_canonical(obj).encode("utf-8")).hexdigest()


def _row_state(row: m.Base) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for col in row.__table__.columns:
        value = getattr(row, col.key)
        if isinstance(value, bytes):
            value = "sha256:" + hashlib.sha256(value).hexdigest()
        elif isinstance(value, date | datetime):
            value = value.isoformat()
        state[col.key] = value
    return state


def _audit(
    session: Session,
    user: str,
    entity: str,
    entity_id: int,
    action: str,
    before: str | None,
    after: str | None,
    at: datetime | None = None,
) -> None:
    session.add(
        m.AuditEvent(
            at=at or utcnow(),
            actor=user,
            entity=entity,
            entity_id=entity_id,
            action=action,
            before_digest=before,
            after_digest=after,
        )
    )


def checked_text(column: Any, label: str, value: str, *, multiline: bool = False) -> str:
    """Trim, then refuse what the column cannot hold, naming the field.

    Limits come from the columns, so SQLite (which would store anything) and PostgreSQL (which
    refuses NUL and over-long text with a driver error, a traceback for the user) behave the same,
    and the user sees why. Control characters are refused (line breaks and tabs only where the
    field is multi-line).
    """
    value = value.strip()
    allowed = "\n\r\t" if multiline else ""
    bad = next((c for c in value if unicodedata.category(c) == "Cc" and c not in allowed), None)
    if bad is not None:
        raise StorageError(f"{label}: contains a control character (U+{ord(bad):04X})")
    column_type = column.type
    limit = column_type.length if isinstance(column_type, String) else None
    if limit is not None and len(value) > limit:
        raise StorageError(f"{label}: {len(value)} characters is too long (at most {limit})")
    return value


def _require_user(user: str) -> str:
    user = checked_text(m.AuditEvent.__table__.c.actor, "user name", user)
    if not user:
        raise StorageError("a user name is needed to record who made the change")
    return user


def _clinician(row: m.Clinician) -> Clinician:
    return Clinician(
        id=row.id,
        name=row.name,
        credentials=row.credentials,
        licence_number=row.licence_number,
        active=row.active,
    )


def _patient(row: m.Patient) -> Patient:
    return Patient(
        id=row.id,
        given_name=row.given_name,
        family_name=row.family_name,
        mrn=row.mrn,
        date_of_birth=row.date_of_birth,
        sex=cast(Sex, row.sex),
        phone=row.phone,
        email=row.email,
        activity=row.activity,
        referring_provider=row.referring_provider,
        archived=row.archived,
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _addendum(row: m.Addendum) -> Addendum:
    return Addendum(
        id=row.id,
        evaluation_id=row.evaluation_id,
        author=row.author,
        created_at=row.created_at,
        text=row.text,
    )


def _evaluation(row: m.Evaluation, addenda: Sequence[m.Addendum] = ()) -> Evaluation:
    carried = row.carried_forward or {}
    return Evaluation(
        id=row.id,
        patient_id=row.patient_id,
        clinician_id=row.clinician_id,
        kind=cast(EvaluationKind, row.kind),
        eval_date=row.eval_date,
        form_id=row.form_id,
        form_version=row.form_version,
        form_snapshot_id=row.form_snapshot_id,
        involved_side=cast(InvolvedSide | None, row.involved_side),
        findings=json.loads(json.dumps(row.findings)),
        carried_forward=tuple(carried.get("items", ())),
        carried_from=carried.get("from_evaluation"),
        status=cast(EvaluationStatus, row.status),
        signed_by=row.signed_by,
        signed_at=row.signed_at,
        content_hash=row.content_hash,
        version=row.version,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        addenda=tuple(_addendum(a) for a in addenda),
    )


def _summary(row: m.Evaluation) -> EvaluationSummary:
    return EvaluationSummary(
        id=row.id,
        patient_id=row.patient_id,
        kind=cast(EvaluationKind, row.kind),
        eval_date=row.eval_date,
        status=cast(EvaluationStatus, row.status),
        version=row.version,
        form_id=row.form_id,
        form_version=row.form_version,
        involved_side=cast(InvolvedSide | None, row.involved_side),
        signed_by=row.signed_by,
        signed_at=row.signed_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _get(session: Session, model: type[m.Base], entity: str, entity_id: int) -> Any:
    row = session.get(model, entity_id)
    if row is None:
        raise NotFoundError(entity, entity_id)
    return row


# --------------------------------------------------------------------------------------------
# Clinic and clinicians


def get_clinic(db: Database) -> ClinicInfo | None:
    """The clinic's details, or None before they were first saved."""
    with db.reading() as s:
        row = s.get(m.Clinic, 1)
        if row is None:
            return None
        return ClinicInfo(
            name=row.name,
            address=row.address,
            phone=row.phone,
            logo=row.logo,
            paper_size=cast(PaperSize, row.paper_size),
        )


def save_clinic(db: Database, info: ClinicInfo, *, user: str) -> ClinicInfo:
    """Create or replace the clinic's details."""
    user = _require_user(user)
    if info.paper_size not in m.PAPER_SIZES:
        raise StorageError(f"paper size must be one of {', '.join(m.PAPER_SIZES)}")
    columns = m.Clinic.__table__.c
    name = checked_text(columns.name, "clinic name", info.name)
    address = checked_text(columns.address, "clinic address", info.address, multiline=True)
    phone = checked_text(columns.phone, "clinic phone", info.phone)
    with db.writing() as s:
        row = s.get(m.Clinic, 1)
        before = None if row is None else _digest(_row_state(row))
        if row is None:
            row = m.Clinic(id=1)
            s.add(row)
        row.name = name
        row.address = address
        row.phone = phone
        row.logo = info.logo
        row.paper_size = info.paper_size
        row.updated_by = user
        row.updated_at = utcnow()
        s.flush()
        _audit(
            s,
            user,
            "clinic",
            1,
            "create" if before is None else "update",
            before,
            _digest(_row_state(row)),
        )
    return info


def list_clinicians(db: Database, *, include_inactive: bool = False) -> list[Clinician]:
    with db.reading() as s:
        query = select(m.Clinician).order_by(m.Clinician.name, m.Clinician.id)
        if not include_inactive:
            query = query.where(m.Clinician.active.is_(True))
        return [_clinician(r) for r in s.scalars(query)]


def get_clinician(db: Database, clinician_id: int) -> Clinician:
    with db.reading() as s:
        return _clinician(_get(s, m.Clinician, "clinician", clinician_id))


def save_clinician(
    db: Database, info: ClinicianInfo, *, user: str, clinician_id: int | None = None
) -> Clinician:
    """Create a clinician (``clinician_id`` None) or update one."""
    user = _require_user(user)
    columns = m.Clinician.__table__.c
    name = checked_text(columns.name, "clinician name", info.name)
    credentials = checked_text(columns.credentials, "credentials", info.credentials)
    licence = checked_text(columns.licence_number, "licence number", info.licence_number)
    if not name:
        raise StorageError("a clinician needs a name")
    with db.writing() as s:
        if clinician_id is None:
            row = m.Clinician()
            s.add(row)
            before = None
        else:
            row = _get(s, m.Clinician, "clinician", clinician_id)
            before = _digest(_row_state(row))
        row.name = name
        row.credentials = credentials
        row.licence_number = licence
        row.active = info.active
        row.updated_by = user
        row.updated_at = utcnow()
        s.flush()
        _audit(
            s,
            user,
            "clinician",
            row.id,
            "create" if before is None else "update",
            before,
            _digest(_row_state(row)),
        )
        return _clinician(row)


# --------------------------------------------------------------------------------------------
# Patients


_FIELD_LABELS = {
    "given_name": "given name",
    "family_name": "family name",
    "mrn": "MRN",
    "phone": "phone",
    "email": "email",
    "activity": "sport / activity",
    "referring_provider": "referring provider",
}


def _clean_text(key: str, value: str) -> str:
    return checked_text(m.Patient.__table__.c[key], _FIELD_LABELS.get(key, key), value)


def _clean_fields(data: PatientFields) -> dict[str, Any]:
    values = {name: getattr(data, name) for name in PATIENT_FIELDS}
    for key, value in values.items():
        if isinstance(value, str) and key != "sex":
            values[key] = _clean_text(key, value)
        elif isinstance(value, str):
            values[key] = value.strip()
    if not values["given_name"] and not values["family_name"]:
        raise StorageError("a patient needs a given or family name")
    if not values["mrn"]:
        raise StorageError("a patient needs a medical record number (MRN)")
    if values["sex"] not in m.SEXES:
        raise StorageError(f"sex must be one of {', '.join(m.SEXES)}")
    return values


def _mrn_taken(session: Session, mrn: str, except_id: int | None = None) -> bool:
    query = select(m.Patient.id).where(m.Patient.mrn == mrn)
    if except_id is not None:
        query = query.where(m.Patient.id != except_id)
    return session.scalar(query) is not None


def create_patient(db: Database, data: PatientFields, *, user: str) -> Patient:
    """Add a patient. Raises DuplicateMRNError if the MRN is taken."""
    user = _require_user(user)
    values = _clean_fields(data)
    now = utcnow()
    try:
        with db.writing() as s:
            if _mrn_taken(s, values["mrn"]):
                raise DuplicateMRNError(values["mrn"])
            row = m.Patient(
                **values,
                archived=False,
                search_name=search_mod.search_name(values["given_name"], values["family_name"]),
                created_at=now,
                updated_by=user,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            _audit(s, user, "patient", row.id, "create", None, _digest(_row_state(row)), now)
            return _patient(row)
    except IntegrityError:  # a concurrent insert won the race for the MRN
        raise DuplicateMRNError(values["mrn"]) from None


def update_patient(
    db: Database,
    patient_id: int,
    data: PatientFields,
    *,
    user: str,
    expected: Patient | None = None,
) -> PatientChange:
    """Save a patient's details; ``changed`` lists the fields written (empty: no write).

    ``expected`` is the patient as the editor loaded it (two workstations may edit the same
    patient). Only the fields that differ from it are written, so someone else's change to
    another field is kept; a field both changed, to different values, raises
    PatientConflictError and writes nothing. Without ``expected`` every field is replaced.
    """
    user = _require_user(user)
    values = _clean_fields(data)
    try:
        with db.writing() as s:
            row: m.Patient = _get(s, m.Patient, "patient", patient_id)
            if expected is not None:
                mine = {k for k in values if values[k] != getattr(expected, k)}
                both = tuple(
                    k
                    for k in PATIENT_FIELDS
                    if k in mine
                    and getattr(row, k) != getattr(expected, k)
                    and getattr(row, k) != values[k]
                )
                if both:
                    raise PatientConflictError(patient_id, both, _patient(row))
                values = {k: v for k, v in values.items() if k in mine}
            changed = tuple(k for k, v in values.items() if getattr(row, k) != v)
            if not changed:
                return PatientChange(_patient(row), ())
            if "mrn" in changed and _mrn_taken(s, values["mrn"], patient_id):
                raise DuplicateMRNError(values["mrn"])
            before = _digest(_row_state(row))
            for key in changed:
                setattr(row, key, values[key])
            row.search_name = search_mod.search_name(row.given_name, row.family_name)
            row.updated_by = user
            row.updated_at = utcnow()
            s.flush()
            _audit(s, user, "patient", row.id, "update", before, _digest(_row_state(row)))
            return PatientChange(_patient(row), changed)
    except IntegrityError:
        raise DuplicateMRNError(values["mrn"]) from None


def archive_patient(
    db: Database, patient_id: int, *, user: str, archived: bool = True
) -> PatientChange:
    """Archive (hide from lists and search) or, with ``archived=False``, restore a patient.

    Patients are never deleted: their signed evaluations are medical records.
    """
    user = _require_user(user)
    with db.writing() as s:
        row: m.Patient = _get(s, m.Patient, "patient", patient_id)
        if row.archived == archived:
            return PatientChange(_patient(row), ())
        before = _digest(_row_state(row))
        row.archived = archived
        row.updated_by = user
        row.updated_at = utcnow()
        s.flush()
        _audit(
            s,
            user,
            "patient",
            row.id,
            "archive" if archived else "unarchive",
            before,
            _digest(_row_state(row)),
        )
        return PatientChange(_patient(row), ("archived",))


def get_patient(db: Database, patient_id: int) -> Patient:
    with db.reading() as s:
        return _patient(_get(s, m.Patient, "patient", patient_id))


def get_patient_by_mrn(db: Database, mrn: str) -> Patient | None:
    with db.reading() as s:
        row = s.scalar(select(m.Patient).where(m.Patient.mrn == mrn.strip()))
        return None if row is None else _patient(row)


# Lists and search run on every scroll and keystroke: they read with SQLAlchemy Core on a plain
# connection and build Patient values straight from rows. A Session loading ORM entities cost a
# 100-patient search at 100,000 patients ~2 ms more than this, around four times the SQL (issue 6).
_PATIENT = cast("Table", m.Patient.__table__)
# The columns in the order of Patient's fields, so that ``Patient(*row)`` builds one.
_PATIENT_ROW = tuple(_PATIENT.c[f.name] for f in dataclass_fields(Patient))


def _patients(conn: Connection, stmt: Select[Any]) -> list[Patient]:
    return [Patient(*row) for row in conn.execute(stmt).all()]


def count_patients(db: Database, *, include_archived: bool = False) -> int:
    query = select(func.count()).select_from(_PATIENT)
    if not include_archived:
        query = query.where(_PATIENT.c.archived.is_(False))
    with db.connection() as conn:
        return int(conn.scalar(query) or 0)


_SORTS: dict[str, tuple[Any, ...]] = {
    "name": (_PATIENT.c.search_name, _PATIENT.c.id),
    "mrn": (_PATIENT.c.mrn, _PATIENT.c.id),
    "date_of_birth": (_PATIENT.c.date_of_birth, _PATIENT.c.search_name, _PATIENT.c.id),
    "created": (_PATIENT.c.id,),
    "updated": (_PATIENT.c.updated_at, _PATIENT.c.id),
}


def list_patients(
    db: Database,
    *,
    offset: int = 0,
    limit: int = 200,
    sort: PatientSort = "name",
    descending: bool = False,
    include_archived: bool = False,
) -> list[Patient]:
    """One page of patients, for a lazily filled list model (``count_patients`` gives the size).

    ``name`` sorts by family then given name, ignoring case and accents.
    """
    if sort not in _SORTS:
        raise StorageError(f"cannot sort patients by {sort!r}")
    # Patients without a date of birth come last either way, on both backends.
    columns = [(c.desc() if descending else c.asc()).nulls_last() for c in _SORTS[sort]]
    query = select(*_PATIENT_ROW).order_by(*columns).offset(max(offset, 0)).limit(max(limit, 0))
    if not include_archived:
        query = query.where(_PATIENT.c.archived.is_(False))
    with db.connection() as conn:
        return _patients(conn, query)


_FTS = table("patient_fts", column("rowid"))


def _fts_match() -> TextClause:
    return sql_text("patient_fts MATCH :match")


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Past this many FTS matches a search is not ranked: bm25 scores and sorts every match before the
# LIMIT, 0.1-0.3 s for a one-letter or MRN prefix among 100,000 patients (benchmarks/, docs/perf).
RANK_CAP = 2000
# How many FTS matches there are, up to RANK_CAP + 1: one row back, not the matches themselves.
_COUNT_UP_TO = sql_text(
    "SELECT count(*) FROM (SELECT 1 FROM patient_fts WHERE patient_fts MATCH :match LIMIT :n)"
)


def _too_many_to_rank(conn: Connection, match: str, dialect: str) -> bool:
    """Whether more than RANK_CAP patients match the FTS expression ``match`` (SQLite only)."""
    if dialect != "sqlite":
        return False
    return int(conn.scalar(_COUNT_UP_TO, {"match": match, "n": RANK_CAP + 1}) or 0) > RANK_CAP


def search_patients(
    db: Database, text_query: str, *, limit: int = 50, include_archived: bool = False
) -> list[Patient]:
    """Patients matching every word (name or MRN prefix, any case, any accents) and date.

    A word that reads as a date (``1984-03-07``, ``07.03.1984``, ``07/03/1984``) matches the date
    of birth. Best matches first: an exact MRN, then (SQLite) FTS5 rank, then name order. When more
    than ``RANK_CAP`` patients match (a first letter, a shared MRN prefix) ranking says little and
    costs much: the newest ``limit`` matches are returned instead, in name order.
    """
    query = search_mod.parse_query(text_query)
    if query.empty or limit <= 0:
        return []
    p = _PATIENT.c
    typed = text_query.strip()
    mrn_exact = func.lower(p.mrn) == typed.lower()
    stmt = select(*_PATIENT_ROW)
    if not include_archived:
        stmt = stmt.where(p.archived.is_(False))
    if query.dates:
        stmt = stmt.where(p.date_of_birth.in_(query.dates))
    order: list[Any] = [case((mrn_exact, 0), else_=1)]
    match = search_mod.fts_match(query.words)
    with db.connection() as conn:
        if query.words and not query.dates and _too_many_to_rank(conn, match, db.dialect):
            # An exact MRN through the unique index, then the newest 2 x limit matches (archived
            # ones among them are dropped by the filter above).
            newest = (
                select(_FTS.c.rowid)
                .where(_fts_match())
                .order_by(_FTS.c.rowid.desc())
                .limit(2 * limit)
                .scalar_subquery()
            )
            stmt = stmt.where(or_(p.mrn == typed, p.mrn == typed.upper(), p.id.in_(newest)))
        elif query.words and db.dialect == "sqlite":
            stmt = stmt.join(_FTS, _FTS.c.rowid == p.id).where(_fts_match())
            order.append(sql_text("bm25(patient_fts, 1.0, 2.0, 4.0, 1.0)"))
        elif query.words:
            words = [_like_escape(w) for w in query.words]
            per_word = [  # a word starting the name or any later part of it, or the MRN
                or_(
                    p.search_name.like(f"{w}%", escape="\\"),
                    p.search_name.like(f"% {w}%", escape="\\"),
                    func.lower(p.mrn).like(f"{w}%", escape="\\"),
                )
                for w in words
            ]
            whole_mrn = func.lower(p.mrn).like(_like_escape(typed.lower()) + "%", escape="\\")
            stmt = stmt.where(or_(and_(*per_word), whole_mrn))
            order.append(case((p.search_name.like(f"{words[0]}%", escape="\\"), 0), else_=1))
        order.extend([p.search_name, p.id])
        stmt = stmt.order_by(*order).limit(limit)
        if query.words and db.dialect == "sqlite":
            stmt = stmt.params(match=match)
        return _patients(conn, stmt)


# --------------------------------------------------------------------------------------------
# Forms and evaluations

_FORM_CACHE: dict[str, Form] = {}


def _form_content(form: Form) -> dict[str, Any]:
    return form.model_dump(mode="json", by_alias=True)


def _form_of(session: Session, snapshot_id: int) -> Form:
    """The form of a snapshot, parsed once per process (autosave must stay cheap)."""
    digest = session.scalar(
        select(m.FormSnapshot.content_hash).where(m.FormSnapshot.id == snapshot_id)
    )
    form = _FORM_CACHE.get(digest or "")
    if form is None:
        snapshot = session.get_one(m.FormSnapshot, snapshot_id)
        form = parse_form(snapshot.content, f"form {snapshot.form_id} v{snapshot.version}")
        _FORM_CACHE[snapshot.content_hash] = form
    return form


def _snapshot(session: Session, form: Form) -> m.FormSnapshot:
    content = _form_content(form)
    digest = _digest(content)
    query = select(m.FormSnapshot).where(
        m.FormSnapshot.form_id == form.id,
        m.FormSnapshot.version == form.version,
        m.FormSnapshot.content_hash == digest,
    )
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = m.FormSnapshot(
                form_id=form.id,
                version=form.version,
                content=content,
                content_hash=digest,
                created_at=utcnow(),
            )
            session.add(row)
    except IntegrityError:  # another workstation stored the same snapshot just now
        row = session.scalar(query)
        assert row is not None
    _FORM_CACHE.setdefault(digest, form)
    return row


def _involved(form: Form, values: Mapping[str, Any]) -> str | None:
    side = values.get(form.involved_side_item)
    return side if side in m.INVOLVED_SIDES else None


HASHED_FIELDS = (
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


def content_hash(values: Mapping[str, Any]) -> str:
    """sha256 of an evaluation's canonical findings and the metadata a report prints.

    ``values`` maps each of ``HASHED_FIELDS`` to the column value (dates as date/datetime).
    """
    state = {}
    for key in HASHED_FIELDS:
        value = values[key]
        state[key] = value.isoformat() if isinstance(value, date | datetime) else value
    return _digest(state)


def _content_hash(row: m.Evaluation) -> str:
    return content_hash({key: getattr(row, key) for key in HASHED_FIELDS})


def _probe(row: m.Evaluation, **changes: Any) -> m.Evaluation:
    """A detached copy of ``row`` with ``changes``, to hash a state before writing it."""
    values = {c.key: getattr(row, c.key) for c in m.Evaluation.__table__.columns}
    values.update(changes)
    return m.Evaluation(**values)


def _copy_forward(form: Form, previous: Mapping[str, Any]) -> dict[str, Any]:
    """Values of ``previous`` that are still valid in ``form`` (items may have changed)."""
    kept: dict[str, Any] = {}
    for item_id, value in previous.items():
        if item_id not in form.items:
            continue
        try:
            findings_mod.validate(form, {"values": {item_id: value}})
        except findings_mod.FindingsError:
            continue
        kept[item_id] = value
    return kept


def start_evaluation(
    db: Database,
    patient_id: int,
    form: Form,
    *,
    user: str,
    kind: EvaluationKind = "initial",
    clinician_id: int | None = None,
    eval_date: date | None = None,
    copy_forward: bool | None = None,
) -> Evaluation:
    """Start a draft evaluation of ``patient_id`` with ``form`` (stored as a snapshot).

    ``copy_forward`` (default: for re-evaluations and discharges) copies the values of the
    patient's latest evaluation that ``form`` still accepts, and marks them carried forward.
    """
    user = _require_user(user)
    if kind not in m.EVALUATION_KINDS:
        raise StorageError(f"evaluation kind must be one of {', '.join(m.EVALUATION_KINDS)}")
    if copy_forward is None:
        copy_forward = kind != "initial"
    now = utcnow()
    with db.writing() as s:
        patient: m.Patient = _get(s, m.Patient, "patient", patient_id)
        if patient.archived:
            raise StorageError(f"patient {patient_id} is archived; restore the patient first")
        if clinician_id is not None:
            _get(s, m.Clinician, "clinician", clinician_id)
        values: dict[str, Any] = {}
        carried_from: int | None = None
        if copy_forward:
            previous = s.scalar(
                select(m.Evaluation)
                .where(m.Evaluation.patient_id == patient_id)
                .order_by(m.Evaluation.eval_date.desc(), m.Evaluation.id.desc())
                .limit(1)
            )
            if previous is not None:
                values = _copy_forward(form, previous.findings.get("values", {}))
                carried_from = previous.id
        findings = findings_mod.validate(form, {"values": values}).to_dict()
        snapshot = _snapshot(s, form)
        row = m.Evaluation(
            patient_id=patient_id,
            clinician_id=clinician_id,
            kind=kind,
            eval_date=eval_date or now.date(),
            form_snapshot_id=snapshot.id,
            form_id=form.id,
            form_version=form.version,
            involved_side=_involved(form, findings["values"]),
            findings=findings,
            carried_forward={"items": sorted(findings["values"]), "from_evaluation": carried_from},
            status="draft",
            signed_by=None,
            signed_at=None,
            content_hash="",
            version=1,
            created_by=user,
            created_at=now,
            updated_by=user,
            updated_at=now,
        )
        s.add(row)
        s.flush()
        row.content_hash = _content_hash(row)
        s.flush()
        _audit(s, user, "evaluation", row.id, "create", None, row.content_hash, now)
        return _evaluation(row)


def _findings_dict(form: Form, data: Mapping[str, Any] | findings_mod.Findings) -> dict[str, Any]:
    raw = data.to_dict() if isinstance(data, findings_mod.Findings) else data
    validated = findings_mod.validate(form, raw)
    if validated.form_version != form.version:
        raise StorageError(
            f"findings are for version {validated.form_version} of form {form.id}, "
            f"the evaluation uses version {form.version}"
        )
    return validated.to_dict()


def _locked(row: m.Evaluation) -> EvaluationSignedError:
    return EvaluationSignedError(row.id, row.signed_by, row.signed_at)


def save_draft(
    db: Database,
    evaluation_id: int,
    findings: Mapping[str, Any] | findings_mod.Findings,
    expected_version: int,
    *,
    user: str,
    confirmed: Iterable[str] = (),
    eval_date: date | None = None,
    clinician_id: int | None = None,
    kind: EvaluationKind | None = None,
) -> DraftSaved:
    """Save the draft's findings (``Findings`` or its ``to_dict()`` shape), if anything changed.

    ``expected_version`` is the version the editor loaded (or got from the last save). When
    nothing differs, nothing is written and ``changed`` is False. When someone saved a different
    version in between, raises ConflictError (nothing written). Changed or ``confirmed`` item ids
    stop being "carried forward". Raises EvaluationSignedError once signed, and
    clinic_app.core.findings.FindingsError for values the evaluation's form does not accept.
    """
    user = _require_user(user)
    with db.writing() as s:
        row: m.Evaluation = _get(s, m.Evaluation, "evaluation", evaluation_id)
        if row.status == "signed":
            raise _locked(row)
        form = _form_of(s, row.form_snapshot_id)
        new_findings = _findings_dict(form, findings)
        old_values: Mapping[str, Any] = row.findings.get("values", {})
        new_values: Mapping[str, Any] = new_findings["values"]
        changed_items = tuple(
            sorted(
                k
                for k in set(old_values) | set(new_values)
                if _canonical(old_values.get(k)) != _canonical(new_values.get(k))
            )
        )
        carried = row.carried_forward or {}
        dropped = set(changed_items) | set(confirmed)
        carried_items = [i for i in carried.get("items", []) if i not in dropped]
        new_carried = {"items": carried_items, "from_evaluation": carried.get("from_evaluation")}
        new_meta = {
            "eval_date": eval_date or row.eval_date,
            "clinician_id": clinician_id if clinician_id is not None else row.clinician_id,
            "kind": kind or row.kind,
        }
        meta_changed = any(getattr(row, k) != v for k, v in new_meta.items())
        unchanged = not changed_items and new_carried == carried and not meta_changed
        if unchanged:  # idempotent: identical content, whoever saved it last
            return DraftSaved(
                row.id,
                False,
                row.version,
                (),
                tuple(carried_items),
                row.content_hash,
                row.updated_by,
                row.updated_at,
            )
        if row.version != expected_version:
            raise ConflictError(
                row.id,
                expected_version,
                row.version,
                row.updated_by,
                row.updated_at,
                json.loads(json.dumps(row.findings)),
            )
        if new_meta["kind"] not in m.EVALUATION_KINDS:
            raise StorageError(f"evaluation kind must be one of {', '.join(m.EVALUATION_KINDS)}")
        if clinician_id is not None:
            _get(s, m.Clinician, "clinician", clinician_id)
        before = row.content_hash
        now = utcnow()
        probe = _probe(
            row,
            findings=new_findings,
            carried_forward=new_carried,
            involved_side=_involved(form, new_values),
            **new_meta,
        )
        digest = _content_hash(probe)
        result = cast(
            "CursorResult[Any]",
            s.execute(
                update(m.Evaluation)
                .where(
                    m.Evaluation.id == row.id,
                    m.Evaluation.version == expected_version,
                    m.Evaluation.status == "draft",
                )
                .values(
                    findings=new_findings,
                    carried_forward=new_carried,
                    involved_side=probe.involved_side,
                    content_hash=digest,
                    version=expected_version + 1,
                    updated_by=user,
                    updated_at=now,
                    **new_meta,
                )
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount != 1:  # another writer got in between our read and our write
            s.expire(row)
            s.refresh(row)
            if row.status == "signed":
                raise _locked(row)
            raise ConflictError(
                row.id,
                expected_version,
                row.version,
                row.updated_by,
                row.updated_at,
                json.loads(json.dumps(row.findings)),
            )
        _audit(s, user, "evaluation", row.id, "save_draft", before, digest, now)
        return DraftSaved(
            row.id,
            True,
            expected_version + 1,
            changed_items,
            tuple(carried_items),
            digest,
            user,
            now,
        )


def sign_evaluation(
    db: Database, evaluation_id: int, expected_version: int, *, user: str
) -> Signed:
    """Sign (lock) a draft. Raises ConflictError if it changed since ``expected_version``."""
    user = _require_user(user)
    with db.writing() as s:
        row: m.Evaluation = _get(s, m.Evaluation, "evaluation", evaluation_id)
        if row.status == "signed":
            raise _locked(row)
        if row.version != expected_version:
            raise ConflictError(
                row.id,
                expected_version,
                row.version,
                row.updated_by,
                row.updated_at,
                json.loads(json.dumps(row.findings)),
            )
        now = utcnow()
        before = row.content_hash
        digest = _content_hash(_probe(row, status="signed", signed_by=user, signed_at=now))
        result = cast(
            "CursorResult[Any]",
            s.execute(
                update(m.Evaluation)
                .where(
                    m.Evaluation.id == evaluation_id,
                    m.Evaluation.version == expected_version,
                    m.Evaluation.status == "draft",
                )
                .values(
                    status="signed",
                    signed_by=user,
                    signed_at=now,
                    content_hash=digest,
                    version=expected_version + 1,
                    updated_by=user,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount != 1:
            fresh: m.Evaluation = _get(s, m.Evaluation, "evaluation", evaluation_id)
            if fresh.status == "signed":
                raise _locked(fresh)
            raise ConflictError(
                fresh.id,
                expected_version,
                fresh.version,
                fresh.updated_by,
                fresh.updated_at,
                json.loads(json.dumps(fresh.findings)),
            )
        _audit(s, user, "evaluation", evaluation_id, "sign", before, digest, now)
        return Signed(evaluation_id, expected_version + 1, user, now, digest)


def add_addendum(db: Database, evaluation_id: int, text: str, *, user: str) -> Addendum:
    """Add a note to a signed evaluation (the only change a signed evaluation accepts)."""
    user = _require_user(user)
    body = checked_text(m.Addendum.__table__.c.text, "addendum", text, multiline=True)
    if not body:
        raise StorageError("an addendum needs some text")
    with db.writing() as s:
        row: m.Evaluation = _get(s, m.Evaluation, "evaluation", evaluation_id)
        if row.status != "signed":
            raise NotSignedError(evaluation_id)
        now = utcnow()
        addendum = m.Addendum(evaluation_id=evaluation_id, author=user, created_at=now, text=body)
        s.add(addendum)
        s.flush()
        _audit(s, user, "addendum", addendum.id, "create", None, _digest(_row_state(addendum)), now)
        _audit(
            s,
            user,
            "evaluation",
            evaluation_id,
            "addendum",
            row.content_hash,
            row.content_hash,
            now,
        )
        return _addendum(addendum)


def get_evaluation(db: Database, evaluation_id: int) -> Evaluation:
    """An evaluation with its findings and addenda (oldest first)."""
    with db.reading() as s:
        row = _get(s, m.Evaluation, "evaluation", evaluation_id)
        addenda = s.scalars(
            select(m.Addendum)
            .where(m.Addendum.evaluation_id == evaluation_id)
            .order_by(m.Addendum.id)
        ).all()
        return _evaluation(row, addenda)


def evaluation_form(db: Database, evaluation_id: int) -> Form:
    """The form exactly as the evaluation was recorded with (from its snapshot, not the file)."""
    with db.reading() as s:
        row: m.Evaluation = _get(s, m.Evaluation, "evaluation", evaluation_id)
        return _form_of(s, row.form_snapshot_id)


def remember_form(form: Form) -> None:
    """Let :func:`evaluation_form` hand out ``form`` itself for snapshots with the same content.

    The editor keeps a built view per Form object; with this, evaluations recorded with the
    form file as it is now open in the view the window built ahead of time.
    """
    _FORM_CACHE[_digest(_form_content(form))] = form


def verify_evaluation(db: Database, evaluation_id: int) -> bool:
    """True if the stored content hash still matches the stored findings and metadata."""
    with db.reading() as s:
        row: m.Evaluation = _get(s, m.Evaluation, "evaluation", evaluation_id)
        return _content_hash(row) == row.content_hash


def list_evaluations(db: Database, patient_id: int) -> list[EvaluationSummary]:
    """A patient's evaluations, oldest first."""
    with db.reading() as s:
        _get(s, m.Patient, "patient", patient_id)
        rows = s.scalars(
            select(m.Evaluation)
            .where(m.Evaluation.patient_id == patient_id)
            .order_by(m.Evaluation.eval_date, m.Evaluation.id)
        )
        return [_summary(r) for r in rows]


def measure_history(
    db: Database, patient_id: int, item_id: str, *, signed_only: bool = False
) -> list[MeasurePoint]:
    """One measure across a patient's evaluations, oldest first (for progress charts).

    Evaluations that did not record the item are left out.
    """
    with db.reading() as s:
        query = (
            select(
                m.Evaluation.id,
                m.Evaluation.eval_date,
                m.Evaluation.kind,
                m.Evaluation.status,
                m.Evaluation.findings,
            )
            .where(m.Evaluation.patient_id == patient_id)
            .order_by(m.Evaluation.eval_date, m.Evaluation.id)
        )
        if signed_only:
            query = query.where(m.Evaluation.status == "signed")
        rows: Sequence[Row[Any]] = s.execute(query).all()
    points: list[MeasurePoint] = []
    for row in rows:
        value = row.findings.get("values", {}).get(item_id)
        if value is None:
            continue
        sided = isinstance(value, Mapping)
        points.append(
            MeasurePoint(
                evaluation_id=row.id,
                eval_date=row.eval_date,
                kind=row.kind,
                status=row.status,
                value=None if sided else value,
                left=value.get("left") if sided else None,
                right=value.get("right") if sided else None,
            )
        )
    return points


def audit_events(
    db: Database,
    *,
    entity: str | None = None,
    entity_id: int | None = None,
    limit: int = 200,
) -> list[AuditEntry]:
    """Audit events, newest first, optionally of one entity (``"patient"``, ``"evaluation"``...)."""
    with db.reading() as s:
        query = select(m.AuditEvent).order_by(m.AuditEvent.id.desc()).limit(limit)
        if entity is not None:
            query = query.where(m.AuditEvent.entity == entity)
        if entity_id is not None:
            query = query.where(m.AuditEvent.entity_id == entity_id)
        return [
            AuditEntry(
                id=r.id,
                at=r.at,
                actor=r.actor,
                entity=r.entity,
                entity_id=r.entity_id,
                action=r.action,
                before_digest=r.before_digest,
                after_digest=r.after_digest,
            )
            for r in s.scalars(query)
        ]
