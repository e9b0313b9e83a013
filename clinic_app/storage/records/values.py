"""The values the records API hands in and out: frozen dataclasses, never ORM objects.

A screen can keep what it got without holding a session. Patient and clinician values live in
``clinic_app.storage.values`` (importable without SQLAlchemy, for the start-up path).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, cast

from clinic_app.storage.values import Patient

PaperSize = Literal["A4", "Letter"]
EvaluationKind = Literal["initial", "re_evaluation", "discharge"]
EvaluationStatus = Literal["draft", "signed"]
InvolvedSide = Literal["left", "right", "both"]


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
    # What the signed report prints, as sealed at signing (``storage.sealing``): "clinician"
    # (name, credentials, licence_number), "clinic" (name, address, phone, paper_size,
    # logo_sha256). None for drafts; {"legacy": "0004"} for evaluations signed before seals.
    seal: Mapping[str, Any] | None = None
    # An assistant's or student's signature (issue 14): while the draft awaits a therapist's
    # co-signature its findings are locked; on a co-signed record, who prepared it.
    prepared_by_id: int | None = None
    prepared_by: str | None = None
    prepared_at: datetime | None = None
    # A draft a therapist returned for changes: (by, at, reason).
    returned: tuple[str, datetime | None, str] | None = None

    @property
    def is_signed(self) -> bool:
        return self.status == "signed"

    @property
    def awaiting_cosignature(self) -> bool:
        return self.status == "draft" and self.prepared_by is not None

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
    prepared_by: str | None = None
    prepared_at: datetime | None = None

    @property
    def awaiting_cosignature(self) -> bool:
        return self.status == "draft" and self.prepared_by is not None


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
    # An assistant's or student's signature: the draft now awaits a therapist's co-signature
    # (``signed_by``/``signed_at`` are then the preparer and the time of preparation).
    awaiting_cosignature: bool = False


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
