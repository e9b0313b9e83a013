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
EvaluationKind = Literal["initial", "re_evaluation", "discharge", "visit"]
EvaluationStatus = Literal["draft", "signed"]
InvolvedSide = Literal["left", "right", "both"]
GoalTerm = Literal["short", "long"]
GoalStatusName = Literal["not_started", "progressing", "met", "not_met", "discontinued"]


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
    episode_id: int | None = None  # the episode of care (always set for stored rows, 0006)

    @property
    def is_signed(self) -> bool:
        return self.status == "signed"

    @property
    def is_visit(self) -> bool:
        return self.kind == "visit"

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
    episode_id: int | None = None

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


@dataclass(frozen=True)
class EpisodeInfo:
    """What is typed in for an episode of care (input of ``create_episode``/``update_episode``).

    ``start_date`` None: today (on create). ``end_date`` set closes the episode.
    """

    title: str
    involved_side: InvolvedSide | None = None
    referral_source: str = ""
    referral_reason: str = ""
    referral_date: date | None = None
    start_date: date | None = None
    end_date: date | None = None


@dataclass(frozen=True)
class Episode:
    id: int
    patient_id: int
    title: str
    involved_side: InvolvedSide | None
    referral_source: str
    referral_reason: str
    referral_date: date | None
    start_date: date
    end_date: date | None
    version: int
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.end_date is None


@dataclass(frozen=True)
class PlanInfo:
    """A plan of care as typed in. ``None`` for the three intervals: the clinic's setting."""

    start_date: date | None = None
    visits_per_week: int | None = None
    duration_weeks: int | None = None
    planned_visits: int | None = None
    interventions: str = ""
    progress_every_visits: int | None = None
    progress_every_days: int | None = None
    recert_days: int | None = None


@dataclass(frozen=True)
class PlanOfCare:
    id: int
    episode_id: int
    start_date: date
    visits_per_week: int | None
    duration_weeks: int | None
    planned_visits: int | None
    interventions: str
    progress_every_visits: int
    progress_every_days: int
    recert_days: int
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class CareDue:
    """What an episode's plan of care asks for next (``episodes.care_due``).

    The progress report is due after ``every_visits`` visits or ``every_days`` days since the
    last evaluation (initial or re-evaluation), whichever comes first; recertification
    ``recert_days`` after the plan (or its last recertification) started.
    """

    episode_id: int
    today: date
    last_progress_id: int | None  # the evaluation the count starts from
    last_progress_date: date
    visits_since_progress: int
    every_visits: int
    every_days: int
    progress_due_on: date
    recert_due_on: date | None  # None without a plan of care
    plan_id: int | None
    closed: bool  # a closed episode has nothing due

    @property
    def visits_left(self) -> int:
        return max(0, self.every_visits - self.visits_since_progress)

    @property
    def progress_due(self) -> bool:
        return not self.closed and (
            self.visits_since_progress >= self.every_visits or self.today >= self.progress_due_on
        )

    @property
    def recert_due(self) -> bool:
        return (
            not self.closed and self.recert_due_on is not None and self.today >= self.recert_due_on
        )


@dataclass(frozen=True)
class GoalInfo:
    """A goal as typed in. ``target``: a form test (see ``core.goals``), None for a functional
    goal."""

    term: GoalTerm
    text: str
    target: Mapping[str, Any] | None = None
    target_date: date | None = None
    from_factor: str | None = None


@dataclass(frozen=True)
class GoalStatusEntry:
    id: int
    goal_id: int
    status: GoalStatusName
    suggested: GoalStatusName | None
    note: str
    set_by: str
    set_at: datetime


@dataclass(frozen=True)
class Goal:
    id: int
    episode_id: int
    term: GoalTerm
    text: str
    target: Mapping[str, Any] | None
    target_date: date | None
    from_factor: str | None
    status: GoalStatusName
    version: int
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    history: tuple[GoalStatusEntry, ...] = ()


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an episode's timeline, oldest first: an evaluation or visit note, a plan of
    care version, a goal set, or a goal's status change."""

    on: date
    what: Literal["evaluation", "visit", "plan", "goal", "goal_status", "episode"]
    record_id: int
    kind: str  # evaluation kind, or the goal status, or "start"/"end"
    status: str  # draft / signed / awaiting co-signature, or ""
    text: str  # one line for the list
