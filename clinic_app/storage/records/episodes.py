"""Episodes of care, their plan of care, timeline and what is due (issue 15).

An episode is one problem of one patient, from referral to discharge (the left thigh in spring,
the right in autumn). Its evaluations and visit notes (``evaluation`` rows of kind ``visit``)
belong to it; so do its goals (``records.goals``) and its plan of care. A plan of care is never
edited in place: saving one adds a version (a recertification is a new version), so the history
of what was planned stays readable.
"""

from __future__ import annotations

import logging
from dataclasses import fields
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import func, select

from clinic_app.storage import models as m
from clinic_app.storage._types import utcnow
from clinic_app.storage.errors import StaleRecordError, StorageError
from clinic_app.storage.records._common import (
    checked_text,
    days_after,
    digest,
    get_row,
    require_user,
    row_state,
    write_audit,
)
from clinic_app.storage.records.settings import get_setting
from clinic_app.storage.records.signing import returned_note
from clinic_app.storage.records.values import (
    CareDue,
    Episode,
    EpisodeInfo,
    InvolvedSide,
    PlanInfo,
    PlanOfCare,
    TimelineEntry,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinic_app.storage.database import Database

logger = logging.getLogger(__name__)

TITLES = {
    "left": "Left posterior thigh",
    "right": "Right posterior thigh",
    "both": "Posterior thigh, both sides",
}
DEFAULT_TITLE = "Posterior thigh"
MAX_REASON = 4000
# Evaluations a progress count starts from (a visit never resets it).
PROGRESS_KINDS = ("initial", "re_evaluation")
KIND_TEXT = {
    "initial": "Initial evaluation",
    "re_evaluation": "Re-evaluation / progress report",
    "discharge": "Discharge evaluation",
    "visit": "Visit note",
}


def default_title(side: str | None) -> str:
    return TITLES.get(side or "", DEFAULT_TITLE)


def _episode(row: m.Episode) -> Episode:
    return Episode(
        id=row.id,
        patient_id=row.patient_id,
        title=row.title,
        involved_side=cast(InvolvedSide | None, row.involved_side),
        referral_source=row.referral_source,
        referral_reason=row.referral_reason,
        referral_date=row.referral_date,
        start_date=row.start_date,
        end_date=row.end_date,
        version=row.version,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _checked(info: EpisodeInfo, start: date) -> dict[str, Any]:
    t = m.Episode.__table__.c
    for name in ("title", "referral_source", "referral_reason"):
        if not isinstance(getattr(info, name), str):
            raise StorageError(f"episode {name.replace('_', ' ')}: must be text")
    if len(info.referral_reason) > MAX_REASON:
        raise StorageError(
            f"referral reason: {len(info.referral_reason)} characters is too long "
            f"(at most {MAX_REASON})"
        )
    title = checked_text(t.title, "episode title", info.title)
    if not title:
        raise StorageError("episode title: required (e.g. 'Left posterior thigh')")
    if info.involved_side is not None and info.involved_side not in m.INVOLVED_SIDES:
        raise StorageError(f"involved side: must be one of {', '.join(m.INVOLVED_SIDES)}")
    end = info.end_date
    if end is not None and end < start:
        raise StorageError(f"end date: {end.isoformat()} is before the start {start.isoformat()}")
    if info.referral_date is not None and info.referral_date > days_after(start, 366):
        raise StorageError("referral date: more than a year after the episode starts")
    return {
        "title": title,
        "involved_side": info.involved_side,
        "referral_source": checked_text(t.referral_source, "referral source", info.referral_source),
        "referral_reason": checked_text(
            t.referral_reason, "referral reason", info.referral_reason, multiline=True
        ),
        "referral_date": info.referral_date,
        "start_date": start,
        "end_date": end,
    }


def _audit(s: Session, user: str, row: m.Base, action: str, before: str | None) -> str:
    after = digest(row_state(row))
    write_audit(s, user, type(row).__tablename__, cast(Any, row).id, action, before, after)
    return after


def new_episode_row(
    s: Session, patient_id: int, info: EpisodeInfo, user: str, *, start: date | None = None
) -> m.Episode:
    """Add an episode inside an open transaction (``start_evaluation`` uses it too)."""
    values = _checked(info, info.start_date or start or utcnow().date())
    now = utcnow()
    row = m.Episode(
        patient_id=patient_id,
        version=1,
        created_by=user,
        created_at=now,
        updated_by=user,
        updated_at=now,
        **values,
    )
    s.add(row)
    s.flush()
    _audit(s, user, row, "create", None)
    return row


def create_episode(db: Database, patient_id: int, info: EpisodeInfo, *, user: str) -> Episode:
    """Open a new episode of care for ``patient_id``."""
    user = require_user(user)
    with db.writing() as s:
        patient: m.Patient = get_row(s, m.Patient, "patient", patient_id)
        if patient.archived:
            raise StorageError(f"patient {patient_id} is archived; restore the patient first")
        row = new_episode_row(s, patient_id, info, user)
        made = _episode(row)
    logger.info("episode %d opened for patient %d", made.id, patient_id)
    return made


def update_episode(
    db: Database, episode_id: int, info: EpisodeInfo, expected_version: int, *, user: str
) -> Episode:
    """Change an episode's details (closing it: set ``end_date``). Refuses a stale version."""
    user = require_user(user)
    with db.writing() as s:
        row: m.Episode = get_row(s, m.Episode, "episode", episode_id)
        if row.version != expected_version:
            raise StaleRecordError(
                "episode", row.id, expected_version, row.version, row.updated_by, row.updated_at
            )
        values = _checked(info, info.start_date or row.start_date)
        first = s.scalar(
            select(func.min(m.Evaluation.eval_date)).where(m.Evaluation.episode_id == episode_id)
        )
        if first is not None and values["start_date"] > first:
            raise StorageError(
                f"start date: the episode has a record of {first.isoformat()}, before "
                f"{values['start_date'].isoformat()}"
            )
        last = s.scalar(
            select(func.max(m.Evaluation.eval_date)).where(m.Evaluation.episode_id == episode_id)
        )
        if values["end_date"] is not None and last is not None and values["end_date"] < last:
            raise StorageError(
                f"end date: the episode has a record of {last.isoformat()}, after "
                f"{values['end_date'].isoformat()}"
            )
        if all(getattr(row, k) == v for k, v in values.items()):
            return _episode(row)
        before = digest(row_state(row))
        for key, value in values.items():
            setattr(row, key, value)
        row.version += 1
        row.updated_by = user
        row.updated_at = utcnow()
        s.flush()
        _audit(s, user, row, "update", before)
        return _episode(row)


def get_episode(db: Database, episode_id: int) -> Episode:
    with db.reading() as s:
        return _episode(get_row(s, m.Episode, "episode", episode_id))


def list_episodes(db: Database, patient_id: int) -> list[Episode]:
    """A patient's episodes, newest first."""
    with db.reading() as s:
        rows = s.scalars(
            select(m.Episode)
            .where(m.Episode.patient_id == patient_id)
            .order_by(m.Episode.start_date.desc(), m.Episode.id.desc())
        ).all()
        return [_episode(r) for r in rows]


def open_episode_row(s: Session, patient_id: int) -> m.Episode | None:
    """The patient's most recent open episode, if any."""
    return s.scalar(
        select(m.Episode)
        .where(m.Episode.patient_id == patient_id, m.Episode.end_date.is_(None))
        .order_by(m.Episode.start_date.desc(), m.Episode.id.desc())
        .limit(1)
    )


# -- plan of care ------------------------------------------------------------------------------

_PLAN_LIMITS = {
    "visits_per_week": ("visits per week", 1, 14),
    "duration_weeks": ("duration (weeks)", 1, 104),
    "planned_visits": ("planned visits", 1, 400),
    "progress_every_visits": ("progress report every (visits)", 1, 100),
    "progress_every_days": ("progress report every (days)", 1, 365),
    "recert_days": ("recertification after (days)", 1, 365),
}


def _plan(row: m.PlanOfCare) -> PlanOfCare:
    return PlanOfCare(**{f.name: getattr(row, f.name) for f in fields(PlanOfCare)})


def save_plan(db: Database, episode_id: int, info: PlanInfo, *, user: str) -> PlanOfCare:
    """Add a version of the episode's plan of care (the latest is the plan in force).

    Intervals left None take the clinic's settings (``progress_every_visits``,
    ``progress_every_days``, ``recert_days``).
    """
    user = require_user(user)
    defaults = {
        k: get_setting(db, k)
        for k in ("progress_every_visits", "progress_every_days", "recert_days")
    }
    values: dict[str, Any] = {}
    for key, (label, low, high) in _PLAN_LIMITS.items():
        value = getattr(info, key)
        if value is None:
            value = defaults.get(key)
        if value is None:
            values[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise StorageError(f"{label}: must be a whole number")
        if not low <= value <= high:
            raise StorageError(f"{label}: {value} is outside {low}-{high}")
        values[key] = value
    text = checked_text(
        m.PlanOfCare.__table__.c.interventions,
        "planned interventions",
        info.interventions,
        multiline=True,
    )
    if len(text) > 4000:
        raise StorageError(f"planned interventions: {len(text)} characters (at most 4000)")
    with db.writing() as s:
        episode: m.Episode = get_row(s, m.Episode, "episode", episode_id)
        if episode.end_date is not None:
            raise StorageError(
                f"episode {episode_id} was closed on {episode.end_date.isoformat()}; "
                "reopen it before changing its plan of care"
            )
        start = info.start_date or utcnow().date()
        if start < episode.start_date:
            raise StorageError(
                f"plan start: {start.isoformat()} is before the episode's start "
                f"{episode.start_date.isoformat()}"
            )
        row = m.PlanOfCare(
            episode_id=episode_id,
            start_date=start,
            interventions=text,
            created_by=user,
            created_at=utcnow(),
            **values,
        )
        s.add(row)
        s.flush()
        _audit(s, user, row, "create", None)
        return _plan(row)


def plan_history(db: Database, episode_id: int) -> list[PlanOfCare]:
    """Every version of the episode's plan of care, oldest first."""
    with db.reading() as s:
        rows = s.scalars(
            select(m.PlanOfCare)
            .where(m.PlanOfCare.episode_id == episode_id)
            .order_by(m.PlanOfCare.id)
        ).all()
        return [_plan(r) for r in rows]


def current_plan(db: Database, episode_id: int) -> PlanOfCare | None:
    plans = plan_history(db, episode_id)
    return plans[-1] if plans else None


def care_due(db: Database, episode_id: int, today: date | None = None) -> CareDue:
    """When the next progress report and recertification fall due (see :class:`CareDue`)."""
    today = today or date.today()
    with db.reading() as s:
        episode: m.Episode = get_row(s, m.Episode, "episode", episode_id)
        plan = s.scalar(
            select(m.PlanOfCare)
            .where(m.PlanOfCare.episode_id == episode_id)
            .order_by(m.PlanOfCare.id.desc())
            .limit(1)
        )
        records = s.execute(
            select(m.Evaluation.id, m.Evaluation.kind, m.Evaluation.eval_date)
            .where(m.Evaluation.episode_id == episode_id)
            .order_by(m.Evaluation.eval_date, m.Evaluation.id)
        ).all()
        start = episode.start_date
        closed = episode.end_date is not None
    if plan is not None:
        every_visits, every_days = plan.progress_every_visits, plan.progress_every_days
    else:
        every_visits = int(get_setting(db, "progress_every_visits"))
        every_days = int(get_setting(db, "progress_every_days"))
    last_id, last_date, visits = None, start, 0
    for record in records:
        if record.kind in PROGRESS_KINDS:
            last_id, last_date, visits = record.id, record.eval_date, 0
        elif record.kind == "visit":
            visits += 1
    recert_on = days_after(plan.start_date, plan.recert_days) if plan is not None else None
    return CareDue(
        episode_id=episode_id,
        today=today,
        last_progress_id=last_id,
        last_progress_date=last_date,
        visits_since_progress=visits,
        every_visits=every_visits,
        every_days=every_days,
        progress_due_on=days_after(last_date, every_days),
        recert_due_on=recert_on,
        plan_id=plan.id if plan is not None else None,
        closed=closed,
    )


# -- timeline ----------------------------------------------------------------------------------


def timeline(db: Database, episode_id: int) -> list[TimelineEntry]:
    """What happened in an episode, oldest first: its records, plans and goal changes.

    One query per table (a 30-visit episode stays a handful of rows), no findings loaded.
    """
    with db.reading() as s:
        episode: m.Episode = get_row(s, m.Episode, "episode", episode_id)
        records = s.execute(
            select(
                m.Evaluation.id,
                m.Evaluation.kind,
                m.Evaluation.eval_date,
                m.Evaluation.status,
                m.Evaluation.signed_by,
                m.Evaluation.prepared_by,
                m.Evaluation.seal,
            )
            .where(m.Evaluation.episode_id == episode_id)
            .order_by(m.Evaluation.eval_date, m.Evaluation.id)
        ).all()
        plans = s.execute(
            select(
                m.PlanOfCare.id,
                m.PlanOfCare.start_date,
                m.PlanOfCare.visits_per_week,
                m.PlanOfCare.duration_weeks,
            )
            .where(m.PlanOfCare.episode_id == episode_id)
            .order_by(m.PlanOfCare.id)
        ).all()
        goal_rows = s.execute(
            select(m.Goal.id, m.Goal.text, m.Goal.term, m.Goal.created_at)
            .where(m.Goal.episode_id == episode_id)
            .order_by(m.Goal.id)
        ).all()
        changes = s.execute(
            select(
                m.GoalStatus.goal_id, m.GoalStatus.status, m.GoalStatus.set_at, m.GoalStatus.set_by
            )
            .join(m.Goal, m.Goal.id == m.GoalStatus.goal_id)
            .where(m.Goal.episode_id == episode_id)
            .order_by(m.GoalStatus.id)
        ).all()
        start, end, title = episode.start_date, episode.end_date, episode.title
    out: list[TimelineEntry] = [
        TimelineEntry(start, "episode", episode_id, "start", "", f"Episode opened: {title}")
    ]
    visit_no = 0
    for r in records:
        if r.kind == "visit":
            visit_no += 1
        status = _record_status(r.status, r.prepared_by, r.seal)
        who = f" by {r.signed_by}" if r.status == "signed" and r.signed_by else ""
        label = KIND_TEXT.get(r.kind, r.kind)
        if r.kind == "visit":
            label = f"{label} {visit_no}"
        out.append(
            TimelineEntry(
                r.eval_date,
                "visit" if r.kind == "visit" else "evaluation",
                r.id,
                r.kind,
                status,
                f"{label} ({status}{who})",
            )
        )
    for n, p in enumerate(plans):
        dose = ", ".join(
            x
            for x in (
                f"{p.visits_per_week}×/week" if p.visits_per_week else "",
                f"{p.duration_weeks} weeks" if p.duration_weeks else "",
            )
            if x
        )
        what = "Plan of care" if n == 0 else "Plan of care revised"
        out.append(
            TimelineEntry(
                p.start_date, "plan", p.id, "plan", "", f"{what}{': ' + dose if dose else ''}"
            )
        )
    texts = {g.id: g.text for g in goal_rows}
    for g in goal_rows:
        out.append(
            TimelineEntry(
                g.created_at.astimezone().date(),
                "goal",
                g.id,
                g.term,
                "",
                f"Goal set ({g.term}-term): {g.text}",
            )
        )
    for c in changes:
        out.append(
            TimelineEntry(
                c.set_at.astimezone().date(),
                "goal_status",
                c.goal_id,
                c.status,
                "",
                f"Goal {c.status.replace('_', ' ')}: {texts.get(c.goal_id, '')}",
            )
        )
    if end is not None:
        out.append(TimelineEntry(end, "episode", episode_id, "end", "", "Episode closed"))
    order = {"episode": 0, "plan": 1, "goal": 2, "evaluation": 3, "visit": 3, "goal_status": 4}
    out.sort(key=lambda e: (e.on, 9 if e.kind == "end" else order[e.what]))
    return out


def _record_status(status: str, prepared_by: str | None, seal: Any) -> str:
    if status == "signed":
        return "signed"
    if prepared_by is not None:
        return "awaiting co-signature"
    if returned_note(seal) is not None:
        return "returned for changes"
    return "draft"
