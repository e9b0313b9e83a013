"""Adding, editing, archiving and fetching patients (lists and search: ``records.search``)."""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clinic_app.core.patient_checks import date_of_birth_problem
from clinic_app.storage import models as m
from clinic_app.storage import search as search_mod
from clinic_app.storage._types import utcnow
from clinic_app.storage.errors import DuplicateMRNError, PatientConflictError, StorageError
from clinic_app.storage.records._common import (
    checked_text,
    digest,
    get_row,
    require_user,
    row_state,
    write_audit,
)
from clinic_app.storage.records.values import PatientChange
from clinic_app.storage.values import PATIENT_FIELDS, Patient, PatientFields, Sex

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinic_app.storage.database import Database

logger = logging.getLogger(__name__)


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
    born = values["date_of_birth"]
    if born is not None and type(born) is not date:  # a datetime or a text is no day of birth
        raise StorageError(f"Date of birth: expected a date, not a {type(born).__name__}")
    return values


def _check_birth(born: date | None) -> None:
    """Refuse a date of birth no patient can have (``core.patient_checks``)."""
    problem = None if born is None else date_of_birth_problem(born, date.today())
    if problem:
        logger.info("patient not saved: implausible date of birth")  # never the date itself
        raise StorageError(problem)


def _mrn_taken(session: Session, mrn: str, except_id: int | None = None) -> bool:
    query = select(m.Patient.id).where(m.Patient.mrn == mrn)
    if except_id is not None:
        query = query.where(m.Patient.id != except_id)
    return session.scalar(query) is not None


def _mrn_belongs_to_another(mrn: str) -> DuplicateMRNError:
    logger.info("patient not saved: its MRN belongs to another patient")  # never the MRN itself
    return DuplicateMRNError(mrn)


def _duplicate_mrn(mrn: str, exc: IntegrityError) -> StorageError:
    """The MRN's unique index refused the row (a concurrent save took the MRN); any other
    refusal (a trigger, a foreign key) is reported as what it is, not as a taken MRN."""
    reason = str(exc.orig).lower()
    if "mrn" in reason and ("unique" in reason or "duplicate" in reason):
        return _mrn_belongs_to_another(mrn)
    logger.warning("patient not saved: the database refused the row (%s)", type(exc.orig).__name__)
    # Not the driver's own text: on PostgreSQL it can quote the row's values.
    return StorageError(
        f"The database refused to store the patient ({type(exc.orig).__name__}: a rule in the "
        "database stopped the change)"
    )


def create_patient(db: Database, data: PatientFields, *, user: str) -> Patient:
    """Add a patient. Raises DuplicateMRNError if the MRN is taken, StorageError for a date of
    birth in the future or more than ``core.patient_checks.MAX_AGE_YEARS`` years ago."""
    user = require_user(user)
    values = _clean_fields(data)
    _check_birth(values["date_of_birth"])
    now = utcnow()
    try:
        with db.writing() as s:
            if _mrn_taken(s, values["mrn"]):
                raise _mrn_belongs_to_another(values["mrn"])
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
            write_audit(s, user, "patient", row.id, "create", None, digest(row_state(row)), now)
            made = _patient(row)
    except IntegrityError as exc:  # e.g. a concurrent insert won the race for the MRN
        raise _duplicate_mrn(values["mrn"], exc) from None
    logger.info("patient %d created", made.id)
    return made


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
    A date of birth changed to one ``core.patient_checks`` refuses raises StorageError; the one
    the record already holds may stay, so an old record's other fields can still be corrected.
    """
    user = require_user(user)
    values = _clean_fields(data)
    try:
        with db.writing() as s:
            row: m.Patient = get_row(s, m.Patient, "patient", patient_id)
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
                    logger.warning(
                        "patient %d: %s changed by another save too (conflict); nothing written",
                        patient_id,
                        ", ".join(both),
                    )
                    raise PatientConflictError(patient_id, both, _patient(row))
                values = {k: v for k, v in values.items() if k in mine}
            changed = tuple(k for k, v in values.items() if getattr(row, k) != v)
            if not changed:
                return PatientChange(_patient(row), ())
            if "date_of_birth" in changed:  # a date the record already holds may stay
                _check_birth(values["date_of_birth"])
            if "mrn" in changed and _mrn_taken(s, values["mrn"], patient_id):
                raise _mrn_belongs_to_another(values["mrn"])
            before = digest(row_state(row))
            for key in changed:
                setattr(row, key, values[key])
            row.search_name = search_mod.search_name(row.given_name, row.family_name)
            row.updated_by = user
            row.updated_at = utcnow()
            s.flush()
            write_audit(s, user, "patient", row.id, "update", before, digest(row_state(row)))
            result = PatientChange(_patient(row), changed)
    except IntegrityError as exc:
        raise _duplicate_mrn(values["mrn"], exc) from None
    logger.info("patient %d updated: %s", patient_id, ", ".join(changed))
    return result


def archive_patient(
    db: Database, patient_id: int, *, user: str, archived: bool = True
) -> PatientChange:
    """Archive (hide from lists and search) or, with ``archived=False``, restore a patient.

    Patients are never deleted: their signed evaluations are medical records.
    """
    user = require_user(user)
    with db.writing() as s:
        row: m.Patient = get_row(s, m.Patient, "patient", patient_id)
        if row.archived == archived:
            return PatientChange(_patient(row), ())
        before = digest(row_state(row))
        row.archived = archived
        row.updated_by = user
        row.updated_at = utcnow()
        s.flush()
        write_audit(
            s,
            user,
            "patient",
            row.id,
            "archive" if archived else "unarchive",
            before,
            digest(row_state(row)),
        )
        result = PatientChange(_patient(row), ("archived",))
    logger.info("patient %d %s", patient_id, "archived" if archived else "restored")
    return result


def get_patient(db: Database, patient_id: int) -> Patient:
    with db.reading() as s:
        return _patient(get_row(s, m.Patient, "patient", patient_id))


def get_patient_by_mrn(db: Database, mrn: str) -> Patient | None:
    with db.reading() as s:
        row = s.scalar(select(m.Patient).where(m.Patient.mrn == mrn.strip()))
        return None if row is None else _patient(row)
