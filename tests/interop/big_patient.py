"""A patient with one long episode of care, built through the records API: a signed initial
evaluation, a plan of care, ``goals`` goals (the demo episode's six, repeated and numbered), and
``visits`` signed visit notes with the demo episode's visit values, a signed re-evaluation after
every tenth visit at which each goal is given a status (so goals carry a status history). Used
by the FHIR scaling tests and ``benchmarks/interop.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from clinic_app.core.form import Form
from clinic_app.storage import demo
from clinic_app.storage import records as r
from clinic_app.storage.database import Database

REVIEW_EVERY = 10
STATUSES: tuple[r.GoalStatusName, ...] = ("progressing", "not_met", "met", "progressing")
USER = "dana"


@dataclass(frozen=True)
class Built:
    patient_id: int
    episode_id: int
    initial_id: int
    visit_ids: tuple[int, ...]
    review_ids: tuple[int, ...]
    goal_ids: tuple[int, ...]


def _review(db: Database, episode_id: int, on: date, round_: int) -> None:
    """Each goal given a status on ``on`` (its history grows by one entry a review)."""
    at = min(datetime.combine(on, time(12), tzinfo=UTC), datetime.now(UTC))
    for n, goal in enumerate(r.list_goals(db, episode_id)):
        status = STATUSES[(n + round_) % len(STATUSES)]
        if status != goal.status:
            r.set_goal_status(db, goal.id, status, goal.version, user=USER, at=at, note="review")


def build_patient(
    db: Database,
    form: Form,
    visits: int,
    goals: int,
    *,
    mrn: str = "BIG-1",
    today: date | None = None,
) -> Built:
    """One patient in ``db`` with a ``visits``-visit, ``goals``-goal episode (see the module)."""
    story = demo.EPISODES[0]
    patient = r.create_patient(db, r.PatientFields("Big", "Patient", mrn), user=USER)
    start = (today or date(2026, 12, 1)) - timedelta(days=visits * 3 + 10)
    episode = r.create_episode(
        db, patient.id, r.EpisodeInfo(**story.details, start_date=start), user=USER
    )
    by_kind: dict[str, list[Any]] = {}
    for record in story.records:
        by_kind.setdefault(record.kind, []).append(record.values)

    def add(kind: Any, on: date, values: Any) -> int:
        ev = r.start_evaluation(
            db, patient.id, form, user=USER, kind=kind, eval_date=on, episode_id=episode.id
        )
        saved = r.save_draft(db, ev.id, demo.demo_findings(form, values), ev.version, user=USER)
        r.sign_evaluation(db, ev.id, saved.version, user=USER)
        return int(ev.id)

    initial = add("initial", start, by_kind["initial"][0])
    for _day, plan in story.plans[:1]:
        r.save_plan(db, episode.id, r.PlanInfo(**plan, start_date=start), user=USER)
    goal_ids = []
    for n in range(goals):
        goal = story.goals[n % len(story.goals)]
        info = dict(goal.info, text=f"{goal.info['text']} ({n + 1})")
        target_date = start + timedelta(weeks=goal.weeks) if goal.weeks else None
        added = r.add_goal(
            db, episode.id, r.GoalInfo(**info, target_date=target_date), user=USER, form=form
        )
        goal_ids.append(added.id)
    visit_ids: list[int] = []
    reviews: list[int] = []
    for n in range(visits):
        on = start + timedelta(days=3 * (n + 1))
        visit_ids.append(add("visit", on, by_kind["visit"][n % len(by_kind["visit"])]))
        if (n + 1) % REVIEW_EVERY == 0 and n + 1 < visits:
            reviews.append(add("re_evaluation", on, by_kind["re_evaluation"][0]))
            _review(db, episode.id, on, len(reviews))
    return Built(patient.id, episode.id, initial, tuple(visit_ids), tuple(reviews), tuple(goal_ids))
