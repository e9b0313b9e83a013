"""Fill a :class:`ReportData` from the clinic database (used by the CLI and the GUI).

Only plain values cross over: the storage records API returns frozen dataclasses, and this module
copies what the documents print.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from clinic_app.core import findings as findings_mod
from clinic_app.core.kinds import kind_label
from clinic_app.reports.data import (
    Addendum,
    ClinicianInfo,
    ClinicInfo,
    EvaluationInfo,
    PatientInfo,
    ReportData,
    Signatory,
)

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import Evaluation
    from clinic_app.storage.values import Patient


def report_data_for_evaluation(db: Database, evaluation_id: int) -> ReportData:
    """Everything both documents need for one stored evaluation.

    Raises the storage layer's NotFoundError for an unknown id, and FindingsError when stored
    values no longer fit the evaluation's form snapshot.
    """
    from clinic_app.storage import records
    from clinic_app.storage.records import programs

    ev = records.get_evaluation(db, evaluation_id)
    form = records.evaluation_form(db, evaluation_id)
    patient = records.get_patient(db, ev.patient_id)
    clinic = clinic_info(db)
    if ev.clinician_id is not None:
        who = records.get_clinician(db, ev.clinician_id)
        clinician = ClinicianInfo(who.name, who.credentials)
    else:
        clinician = ClinicianInfo(ev.created_by)
    problems: list[str] = []
    sealed = bool(ev.is_signed and ev.seal and "legacy" not in ev.seal)
    if ev.is_signed:
        # A signed report prints what was sealed at signing, not today's clinician and clinic
        # rows (renaming a clinician must not change every report they signed), and says so
        # plainly when the stored record no longer matches its seal.
        problems = records.seal_problems(db, evaluation_id)
        clinician, clinic = _as_sealed(ev.seal or {}, clinician, clinic)
    findings = findings_mod.validate(form, dict(ev.findings))
    previous: dict[str, Any] = {}
    if ev.carried_from is not None:
        from clinic_app.core.changes import previous_values

        earlier = records.get_evaluation(db, ev.carried_from)
        previous = previous_values(form, earlier.findings.get("values", {}))
    return ReportData(
        clinic=clinic,
        clinician=clinician,
        patient=patient_info(patient),
        evaluation=EvaluationInfo(
            date=ev.eval_date,
            kind=kind_label(ev.kind),
            status=ev.status,
            signer=ev.signed_by,
            signed_at=ev.signed_at,
            content_hash=ev.content_hash if ev.is_signed else None,
            addenda=tuple(Addendum(a.created_at, a.author, a.text) for a in ev.addenda),
            seal_problem="; ".join(problems) or None,
            sealed=sealed and not problems,
            signed_as=_signatory(ev.seal.get("signer")) if ev.is_signed and ev.seal else None,
            prepared=_prepared(ev),
        ),
        form=form,
        findings=findings,
        carried=frozenset(ev.carried_forward),
        previous=previous,
        library=programs.load_library(db, form),
        pictures=_program_pictures(db, form, findings),
    )


def _program_pictures(db: Database, form: Any, findings: Any) -> dict[str, Any]:
    """The stored pictures the evaluation's home program names (its snapshots), so the handout
    prints the pictures it was signed with, whatever the library holds today."""
    from clinic_app.reports.content import stored_program
    from clinic_app.storage.records import programs

    program = stored_program(form, findings)
    return programs.program_pictures(db, program) if program is not None else {}


def clinic_info(db: Database) -> ClinicInfo:
    """The clinic's letterhead as stored today (a plain "Clinic" before it is set up)."""
    from clinic_app.storage import records

    stored = records.get_clinic(db)
    if stored is None:
        return ClinicInfo(name="Clinic")
    return ClinicInfo(
        name=stored.name,
        address=stored.address,
        phone=stored.phone,
        logo=stored.logo,
        paper=stored.paper_size,
    )


def patient_info(patient: Patient) -> PatientInfo:
    """What the documents print of a patient."""
    return PatientInfo(
        name=f"{patient.given_name} {patient.family_name}".strip(),
        date_of_birth=patient.date_of_birth,
        mrn=patient.mrn,
    )


def _signatory(who: Any, at: Any = None) -> Signatory | None:
    """A signer or preparer as the seal names them (issue 14)."""
    if not isinstance(who, Mapping):
        return None
    when = at if isinstance(at, datetime) else None
    if isinstance(at, str):
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            when = None
    return Signatory(
        name=str(who.get("name", "")),
        credentials=str(who.get("credentials", "")),
        licence_number=str(who.get("licence_number", "")),
        role=str(who.get("role", "therapist")),
        at=when,
    )


def _prepared(ev: Evaluation) -> Signatory | None:
    """Who prepared it: from the co-signed seal's preparation, or (a draft awaiting co-signature)
    from the preparation stored with the draft."""
    seal = ev.seal or {}
    if ev.is_signed:
        part = seal.get("prepared")
        if isinstance(part, Mapping) and isinstance(part.get("seal"), Mapping):
            return _signatory(part["seal"].get("signer"), part["seal"].get("at"))
        return None
    if not ev.awaiting_cosignature:
        return None
    found = _signatory(seal.get("signer"), ev.prepared_at)
    return found or Signatory(ev.prepared_by or "", role="student or assistant", at=ev.prepared_at)


def _as_sealed(
    seal: Mapping[str, Any], clinician: ClinicianInfo, clinic: ClinicInfo
) -> tuple[ClinicianInfo, ClinicInfo]:
    """The clinician and clinic header as sealed (the logo only if it is still the sealed one)."""
    import hashlib

    who = seal.get("clinician")
    if isinstance(who, Mapping):
        clinician = ClinicianInfo(str(who.get("name", "")), str(who.get("credentials", "")))
    header = seal.get("clinic")
    if isinstance(header, Mapping):
        logo = clinic.logo
        if logo is not None and hashlib.sha256(logo).hexdigest() != header.get("logo_sha256"):
            logo = None
        paper = header.get("paper_size")
        clinic = ClinicInfo(
            name=str(header.get("name", "")),
            address=str(header.get("address", "")),
            phone=str(header.get("phone", "")),
            logo=logo,
            paper=paper if paper in ("A4", "Letter") else clinic.paper,
        )
    return clinician, clinic
