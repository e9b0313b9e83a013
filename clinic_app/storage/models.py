"""The tables, as typed SQLAlchemy models.

Only the storage package sees these classes: the records API hands out frozen dataclasses. The
schema itself is made by the Alembic migrations (``migrations/versions``), never by
``metadata.create_all``; a test checks that these models and the migrated schema agree on both
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from clinic_app.storage._types import JSONType, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PAPER_SIZES = ("A4", "Letter")
SEXES = ("female", "male", "other", "unknown")
# A visit note (daily note) is an evaluation row of kind "visit": it shares the form, autosave,
# signing, seal, addenda, conflict handling, audit and database locks of evaluations (0006).
EVALUATION_KINDS = ("initial", "re_evaluation", "discharge", "visit")
EVALUATION_STATUSES = ("draft", "signed")
INVOLVED_SIDES = ("left", "right", "both")
ROLES = ("admin", "therapist", "assistant", "student")
GOAL_TERMS = ("short", "long")
GOAL_STATUSES = ("not_started", "progressing", "met", "not_met", "discontinued")
PICTURE_MEDIA_TYPES = ("image/svg+xml", "image/png", "image/jpeg")
MAX_PICTURE_BYTES = 2 * 1024 * 1024


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


class Clinic(Base):
    """The practice itself: one row (id 1), printed on every report."""

    __tablename__ = "clinic"
    __table_args__ = (CheckConstraint(_in("paper_size", PAPER_SIZES), name="paper_size"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    paper_size: Mapped[str] = mapped_column(String(10), default="A4")
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class Clinician(Base):
    """A clinician and their account. Never deleted: ``active`` False disables the account."""

    __tablename__ = "clinician"
    __table_args__ = (Index("uq_clinician_login", "login", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credentials: Mapped[str] = mapped_column(String(100), default="")
    licence_number: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]
    # Accounts (0005; ``storage.accounts``). ``login`` is unique and lower-cased; ``roles`` a
    # comma-separated subset of ROLES; ``signing_key`` the clinician's Ed25519 key as PKCS#8 PEM
    # encrypted under their password, vouched for by an installation key (``key_certificate``).
    login: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[str] = mapped_column(String(100), default="therapist", server_default="therapist")
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_at: Mapped[datetime | None]
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    password_changed_at: Mapped[datetime | None]
    signing_public_key: Mapped[str | None] = mapped_column(String(64))
    signing_key: Mapped[str | None] = mapped_column(Text)
    key_certificate: Mapped[str | None] = mapped_column(String(128))
    key_certified_by: Mapped[str | None] = mapped_column(String(64))
    recovery_hash: Mapped[str | None] = mapped_column(String(255))


class Patient(Base):
    """A patient. Never deleted: ``archived`` hides them from lists and search."""

    __tablename__ = "patient"
    __table_args__ = (
        CheckConstraint(_in("sex", SEXES), name="sex"),
        Index("ix_patient_list", "archived", "search_name", "id"),
        Index("ix_patient_date_of_birth", "date_of_birth"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10), default="unknown")
    mrn: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    activity: Mapped[str] = mapped_column(String(200), default="")
    referring_provider: Mapped[str] = mapped_column(String(200), default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    # "family given", lower-cased and without accents (see search.normalise): the sort key of
    # patient lists and, on PostgreSQL, the searched column. Added by revision 0002.
    search_name: Mapped[str] = mapped_column(String(210), default="", server_default="")
    created_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class FormSnapshot(Base):
    """The exact form an evaluation was recorded with, so it still opens after the file changes.

    Keyed by content hash as well as id and version: a form edited without bumping its version
    gets a second snapshot rather than silently reinterpreting old evaluations.
    """

    __tablename__ = "form_snapshot"
    __table_args__ = (
        UniqueConstraint("form_id", "version", "content_hash", name="uq_form_snapshot_content"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Episode(Base):
    """An episode of care: one problem of one patient from referral to discharge (0006).

    Evaluations and visit notes belong to an episode. ``end_date`` is set at discharge (or when
    the episode is closed without one); an open episode has none.
    """

    __tablename__ = "episode"
    __table_args__ = (
        CheckConstraint(
            "involved_side IS NULL OR " + _in("involved_side", INVOLVED_SIDES),
            name="involved_side",
        ),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_episode_patient", "patient_id", "start_date", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    title: Mapped[str] = mapped_column(String(200))
    involved_side: Mapped[str | None] = mapped_column(String(10))
    referral_source: Mapped[str] = mapped_column(String(200), default="")
    referral_reason: Mapped[str] = mapped_column(Text, default="")
    referral_date: Mapped[date | None] = mapped_column(Date)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class PlanOfCare(Base):
    """One version of an episode's plan of care. Append-only: the latest row is the plan in
    force, earlier rows are its history (a recertification adds a row)."""

    __tablename__ = "plan_of_care"
    __table_args__ = (
        CheckConstraint("visits_per_week IS NULL OR visits_per_week BETWEEN 1 AND 14", name="freq"),
        CheckConstraint("duration_weeks IS NULL OR duration_weeks BETWEEN 1 AND 104", name="weeks"),
        CheckConstraint(
            "planned_visits IS NULL OR planned_visits BETWEEN 1 AND 400", name="visits"
        ),
        CheckConstraint("progress_every_visits BETWEEN 1 AND 100", name="progress_visits"),
        CheckConstraint("progress_every_days BETWEEN 1 AND 365", name="progress_days"),
        CheckConstraint("recert_days BETWEEN 1 AND 365", name="recert_days"),
        Index("ix_plan_of_care_episode", "episode_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"))
    start_date: Mapped[date] = mapped_column(Date)  # the plan (or its recertification) starts
    visits_per_week: Mapped[int | None] = mapped_column(Integer)
    duration_weeks: Mapped[int | None] = mapped_column(Integer)
    planned_visits: Mapped[int | None] = mapped_column(Integer)
    interventions: Mapped[str] = mapped_column(Text, default="")
    progress_every_visits: Mapped[int] = mapped_column(Integer)
    progress_every_days: Mapped[int] = mapped_column(Integer)
    recert_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Goal(Base):
    """A short- or long-term goal of an episode (0006).

    ``target`` is the measurable part as a form test (``{"item": "nordic_force", "measure":
    "deficit", "op": "<", "threshold": 10}``, see ``core.form.Leaf``); None for a functional
    goal. ``status`` is the clinician's; each change is kept in ``goal_status``.
    """

    __tablename__ = "goal"
    __table_args__ = (
        CheckConstraint(_in("term", GOAL_TERMS), name="term"),
        CheckConstraint(_in("status", GOAL_STATUSES), name="status"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_goal_episode", "episode_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"))
    term: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(String(500))
    target: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    target_date: Mapped[date | None] = mapped_column(Date)
    from_factor: Mapped[str | None] = mapped_column(String(10))  # the factor that suggested it
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class GoalStatus(Base):
    """One status a clinician set on a goal, with the app's suggestion at the time. Append-only."""

    __tablename__ = "goal_status"
    __table_args__ = (
        CheckConstraint(_in("status", GOAL_STATUSES), name="status"),
        CheckConstraint(
            "suggested IS NULL OR " + _in("suggested", GOAL_STATUSES), name="suggested"
        ),
        Index("ix_goal_status_goal", "goal_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id"))
    status: Mapped[str] = mapped_column(String(20))
    suggested: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime]


class Evaluation(Base):
    """One visit's findings. Draft until signed; signed rows are locked by database triggers."""

    __tablename__ = "evaluation"
    __table_args__ = (
        CheckConstraint(_in("kind", EVALUATION_KINDS), name="kind"),
        CheckConstraint(_in("status", EVALUATION_STATUSES), name="status"),
        CheckConstraint(
            "involved_side IS NULL OR " + _in("involved_side", INVOLVED_SIDES), name="involved_side"
        ),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_evaluation_patient", "patient_id", "eval_date", "id"),
        Index("ix_evaluation_episode", "episode_id", "eval_date", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    # The episode of care (0006): of the same patient (a trigger checks), never changed once
    # signed (0004's lock covers every column).
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"))
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    kind: Mapped[str] = mapped_column(String(20))
    eval_date: Mapped[date] = mapped_column(Date)
    form_snapshot_id: Mapped[int] = mapped_column(ForeignKey("form_snapshot.id"))
    form_id: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int] = mapped_column(Integer)
    involved_side: Mapped[str | None] = mapped_column(String(10))
    findings: Mapped[dict[str, Any]]
    carried_forward: Mapped[dict[str, Any]]  # {"items": [...], "from_evaluation": id | null}
    status: Mapped[str] = mapped_column(String(10), default="draft")
    signed_by: Mapped[str | None] = mapped_column(String(100))
    signed_at: Mapped[datetime | None]
    content_hash: Mapped[str] = mapped_column(String(64))
    # What the signed report prints, as it was at signing, and its Ed25519 signature (0004;
    # ``storage.sealing``). A draft has neither; rows signed before 0004: {"legacy": "0004"}.
    seal: Mapped[dict[str, Any] | None]
    signature: Mapped[str | None] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]
    # An assistant's or student's signature, waiting for a therapist's co-signature (0005). The
    # row stays a draft (status) until the co-signature seals it; both names print on the report.
    prepared_by_id: Mapped[int | None] = mapped_column(Integer)  # a clinician id (no FK: 0005
    # adds it with ALTER TABLE, which on SQLite cannot add a foreign key)
    prepared_by: Mapped[str | None] = mapped_column(String(100))
    prepared_at: Mapped[datetime | None]


class Setting(Base):
    """A clinic-wide setting that belongs to this database (0005), not to a workstation."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class Addendum(Base):
    """A note added to a signed evaluation. Append-only (database triggers refuse changes)."""

    __tablename__ = "addendum"
    __table_args__ = (Index("ix_addendum_evaluation", "evaluation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"))
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    # The evaluation's addenda form a hash chain, each one signed (0004; ``storage.sealing``).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(128))


class AuditEvent(Base):
    """Who did what to which record, with digests of the record before and after. Append-only."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    before_digest: Mapped[str | None] = mapped_column(String(64))
    after_digest: Mapped[str | None] = mapped_column(String(64))
    # One hash chain over every event, in id order (0004; ``storage.sealing``); the last event
    # of each write carries the installation key's signature of its hash (0011).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(128))


class LibraryExercise(Base):
    """One version of one of the clinic's own exercises (0007). Append-only: an edit is a new
    version, the newest is the one offered; ``definition`` is ``core.library``'s JSON shape."""

    __tablename__ = "library_exercise"
    __table_args__ = (
        UniqueConstraint("exercise_id", "version"),
        CheckConstraint("version >= 1", name="version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class LibraryPicture(Base):
    """A picture of an exercise, addressed by the SHA-256 of its bytes (0007). Immutable."""

    __tablename__ = "library_picture"
    __table_args__ = (
        UniqueConstraint("sha256"),
        CheckConstraint(_in("media_type", PICTURE_MEDIA_TYPES), name="media_type"),
        CheckConstraint(f"size BETWEEN 1 AND {MAX_PICTURE_BYTES}", name="size"),
        CheckConstraint("length(sha256) = 64", name="sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class ProgramTemplate(Base):
    """A saved home program under a name (0007). Append-only: the newest row of a name is the
    template; ``program`` is ``core.program``'s JSON shape."""

    __tablename__ = "program_template"
    __table_args__ = (Index("ix_program_template_name", "name", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    program: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
