"""Demo data: a handful of realistic patients and evaluations, for trying the app and for tests.

The demo is data, in ``resources/demo/``: ``demo.json`` holds the clinic, its two clinicians and
the patients (details, clinician, archived or not, visits), and each visit's findings are a
Findings JSON file beside it, in the format of ``examples/`` (README, "Findings JSON"), so
``clinic-app assess resources/demo/<file>.json`` reads them too. Editing a story needs no code.

Names come from several scripts (Müller, Zoë, Łukasz, 王芳, Núñez) so that search, sorting, reports
and fonts are exercised. Findings tell clinical stories from the domain brief: a runner with
proximal tendinopathy and a signed evaluation with an addendum and a re-evaluation, a footballer
with a sudden pop (a red flag), a sprinter with sciatic nerve involvement, a badminton player with
weak hip flexors on the opposite side, a triathlete with SI and core findings.

Every value is checked against the form with ``clinic_app.core.findings.validate``; items the form
does not have are left out (``unknown_items`` tells which, and a test keeps it empty for the
shipped form).

An episode of care (``episodes`` in ``demo.json``, its records' Findings JSON files in a folder of
their own) follows one patient from the initial evaluation through signed visit notes, a
re-evaluation and a discharge: the plan of care and its revision, goals whose statuses are set
from what ``core.progress.goal_progress`` suggests at each re-evaluation (or as the story says for
a functional goal), and the episode closed on the discharge date. Its days count from the
episode's start, which lies ``start_days_ago`` before today.

``fill_demo`` is one transaction: all of the demo or nothing, so a run that fails or is killed
half-way leaves no demo patient behind and can simply be run again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

from clinic_app.core import findings as findings_mod
from clinic_app.core import progress
from clinic_app.core.form import Form
from clinic_app.paths import resources_dir
from clinic_app.storage import models as m
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import StorageError

logger = logging.getLogger(__name__)

DEMO_USER = "demo"
MRN_PREFIX = "DEMO-"
DEMO_DIR = resources_dir() / "demo"


@dataclass(frozen=True)
class DemoPatient:
    fields: r.PatientFields
    # (days before today, kind, values, sign?, addendum text)
    visits: tuple[tuple[int, r.EvaluationKind, Mapping[str, Any], bool, str], ...]
    clinician: int = 0  # index into CLINICIANS
    archived: bool = False


def _findings_values(path: Path) -> dict[str, Any]:
    """The ``values`` of a Findings JSON file (checked against the form when used)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return dict(data["values"])


def _kind(value: str) -> r.EvaluationKind:
    if value not in m.EVALUATION_KINDS:
        raise ValueError(f"{value!r} is not an evaluation kind ({', '.join(m.EVALUATION_KINDS)})")
    return cast(r.EvaluationKind, value)


def _patient(entry: Mapping[str, Any], folder: Path) -> DemoPatient:
    born = entry.get("date_of_birth")
    fields = r.PatientFields(
        given_name=str(entry["given_name"]),
        family_name=str(entry["family_name"]),
        mrn=str(entry["mrn"]),
        date_of_birth=date.fromisoformat(born) if born else None,
        sex=entry.get("sex", "unknown"),
        phone=str(entry.get("phone", "")),
        email=str(entry.get("email", "")),
        activity=str(entry.get("activity", "")),
        referring_provider=str(entry.get("referring_provider", "")),
    )
    visits = tuple(
        (
            int(visit["days_ago"]),
            _kind(visit["kind"]),
            _findings_values(folder / visit["findings"]),
            bool(visit.get("sign", False)),
            str(visit.get("addendum", "")),
        )
        for visit in entry.get("visits", ())
    )
    return DemoPatient(fields, visits, int(entry.get("clinician", 0)), bool(entry.get("archived")))


@dataclass(frozen=True)
class DemoRecord:
    """An evaluation or visit note of a demo episode, ``day`` days after the episode starts."""

    day: int
    kind: r.EvaluationKind
    values: Mapping[str, Any]
    sign: bool = False
    addendum: str = ""


@dataclass(frozen=True)
class DemoGoal:
    """A goal set on ``day``; ``decisions`` are the clinician's own (day, status, note) for a goal
    the values cannot judge (a functional goal), applied instead of the suggestion that day."""

    info: Mapping[str, Any]  # GoalInfo fields; ``weeks`` after the start gives the target date
    weeks: int | None
    day: int = 0
    decisions: tuple[tuple[int, r.GoalStatusName, str], ...] = ()


@dataclass(frozen=True)
class DemoEpisode:
    mrn: str  # the demo patient's
    details: Mapping[str, Any]  # EpisodeInfo fields but the dates
    start_days_ago: int
    referral_days_before: int | None
    records: tuple[DemoRecord, ...]
    plans: tuple[tuple[int, Mapping[str, Any]], ...]  # (day, PlanInfo fields but the start)
    goals: tuple[DemoGoal, ...]
    clinician: int = 0
    close: bool = False

    def days(self) -> list[int]:
        found = {x.day for x in self.records} | {d for d, _ in self.plans}
        return sorted(found | {g.day for g in self.goals})


def _status(value: str) -> r.GoalStatusName:
    if value not in m.GOAL_STATUSES:
        raise ValueError(f"{value!r} is not a goal status ({', '.join(m.GOAL_STATUSES)})")
    return cast(r.GoalStatusName, value)


def _goal(entry: Mapping[str, Any]) -> DemoGoal:
    info = {k: v for k, v in entry.items() if k not in ("weeks", "day", "decisions")}
    decisions = tuple(
        (int(d["day"]), _status(d["status"]), str(d.get("note", "")))
        for d in entry.get("decisions", ())
    )
    weeks = entry.get("weeks")
    return DemoGoal(
        info, None if weeks is None else int(weeks), int(entry.get("day", 0)), decisions
    )


def _episode(entry: Mapping[str, Any], folder: Path) -> DemoEpisode:
    where = folder / entry["folder"]
    records = tuple(
        DemoRecord(
            int(x["day"]),
            _kind(x["kind"]),
            _findings_values(where / x["findings"]),
            bool(x.get("sign", False)),
            str(x.get("addendum", "")),
        )
        for x in entry["records"]
    )
    plans = tuple(
        (int(p["day"]), {k: v for k, v in p.items() if k != "day"}) for p in entry["plan_versions"]
    )
    before = entry.get("referral_days_before")
    episode = DemoEpisode(
        mrn=str(entry["patient"]),
        details=dict(entry["details"]),
        start_days_ago=int(entry["start_days_ago"]),
        referral_days_before=None if before is None else int(before),
        records=tuple(sorted(records, key=lambda x: x.day)),
        plans=plans,
        goals=tuple(_goal(g) for g in entry["goal_list"]),
        clinician=int(entry.get("clinician", 0)),
        close=bool(entry.get("close", False)),
    )
    if any(x.day < 0 or x.day > episode.start_days_ago for x in records):
        raise ValueError(f"{episode.mrn}: a record lies before the episode or after today")
    return episode


def load_demo(
    folder: Path = DEMO_DIR,
) -> tuple[
    r.ClinicInfo, tuple[r.ClinicianInfo, ...], tuple[DemoPatient, ...], tuple[DemoEpisode, ...]
]:
    """The clinic, clinicians, patients and episodes of ``folder/demo.json`` (a shipped file: a
    mistake in it is a bug, reported by the exception of the line that reads it)."""
    data = json.loads((folder / "demo.json").read_text(encoding="utf-8"))
    clinic = r.ClinicInfo(**data["clinic"])
    clinicians = tuple(r.ClinicianInfo(**c) for c in data["clinicians"])
    patients = tuple(_patient(p, folder) for p in data["patients"])
    episodes = tuple(_episode(e, folder) for e in data.get("episodes", ()))
    for patient in patients:
        if not 0 <= patient.clinician < len(clinicians):
            raise ValueError(f"{patient.fields.mrn}: no clinician {patient.clinician}")
    mrns = {p.fields.mrn: p for p in patients}
    for episode in episodes:
        if episode.mrn not in mrns or mrns[episode.mrn].archived:
            raise ValueError(f"episode of {episode.mrn}: no such demo patient (or archived)")
        if not 0 <= episode.clinician < len(clinicians):
            raise ValueError(f"episode of {episode.mrn}: no clinician {episode.clinician}")
    return clinic, clinicians, patients, episodes


CLINIC, CLINICIANS, PATIENTS, EPISODES = load_demo()


def unknown_items(form: Form) -> set[str]:
    """Demo item ids the form does not have (empty for the shipped form)."""
    used: set[str] = set()
    for patient in PATIENTS:
        for _days, _kind, values, _sign, _note in patient.visits:
            used.update(values)
    for episode in EPISODES:
        for record in episode.records:
            used.update(record.values)
        for goal in episode.goals:
            target = goal.info.get("target")
            if target is not None:
                used.add(str(target["item"]))
    return used - set(form.items)


def _reported_on(form: Form, values: Mapping[str, Any], on: date) -> dict[str, Any]:
    """A demo record's questionnaire answers were given on its day (the files hold no date,
    the days count from today); a score item must be what its answers score."""
    from clinic_app.core.responses import score_mismatches

    wrong = score_mismatches(form, values)
    if wrong:
        raise ValueError(f"demo record of {on.isoformat()}: {wrong[0]}")
    out = dict(values)
    for key, value in values.items():
        item = form.items.get(key)
        if item is not None and item.questionnaire and isinstance(value, Mapping):
            out[key] = {"reported_at": f"{on.isoformat()}T10:00", **value}
    return out


def demo_findings(form: Form, values: Mapping[str, Any]) -> findings_mod.Findings:
    """The demo values the form has, validated (raises FindingsError for a bad value)."""
    known = {k: v for k, v in values.items() if k in form.items}
    return findings_mod.validate(form, {"values": known})


@dataclass(frozen=True)
class DemoResult:
    patients: int
    evaluations: int  # visit notes included
    signed: int
    skipped_items: tuple[str, ...]
    episodes: int = 0  # the demo's full episodes of care (the others' episodes not counted)


@contextmanager
def _one_transaction(db: Database) -> Iterator[Database]:
    """``db`` as seen inside one write transaction, committed when the block ends without error.

    Every records function opens its own short transaction; through the database yielded here
    each of them becomes a savepoint of one outer transaction (SQLAlchemy's "join a session into
    an external transaction"), so an error, or the process being killed, keeps nothing.
    """
    from sqlalchemy.orm import sessionmaker

    with db.writing() as outer:
        joined = sessionmaker(
            bind=outer.connection(),
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
        yield replace(db, sessions=joined, write_sessions=joined)


def _add_record(
    tx: Database,
    form: Form,
    patient_id: int,
    clinician: r.Clinician,
    kind: r.EvaluationKind,
    on: date,
    values: Mapping[str, Any],
    sign: bool,
    note: str,
    episode_id: int | None = None,
) -> bool:
    """One evaluation or visit note, saved, signed and given its addendum as the story says;
    True when signed."""
    ev = r.start_evaluation(
        tx,
        patient_id,
        form,
        user=clinician.name,
        kind=kind,
        clinician_id=clinician.id,
        eval_date=on,
        episode_id=episode_id,
    )
    found = demo_findings(form, _reported_on(form, values, on))
    saved = r.save_draft(tx, ev.id, found, ev.version, user=clinician.name)
    if not sign:
        return False
    r.sign_evaluation(tx, ev.id, saved.version, user=clinician.name)
    if note:
        r.add_addendum(tx, ev.id, note, user=clinician.name)
    return True


def _noon(on: date) -> datetime:
    """When a story's goal was set or reviewed: noon UTC of its day (the same date in every time
    zone the clinic could be in), or now for today before noon."""
    return min(datetime.combine(on, time(12), tzinfo=UTC), datetime.now(UTC))


def _review_goals(
    tx: Database,
    form: Form,
    stories: Mapping[int, DemoGoal],
    episode: r.Episode,
    on: date,
    user: str,
) -> None:
    """Each goal's status as the clinician sets it on ``on``: the status the records up to that
    day suggest, or the story's own decision for that day (a functional goal)."""
    records = [
        progress.Record(e.id, e.kind, e.eval_date, e.findings.get("values", {}), e.status)
        for e in r.episode_records(tx, episode.id)
        if e.eval_date <= on
    ]
    goals = r.list_goals(tx, episode.id)
    suggested = progress.goal_progress(
        form, goals, records, involved=episode.involved_side, today=on
    )
    day = (on - episode.start_date).days
    for goal, shown in zip(goals, suggested, strict=True):
        decided = {d: (status, note) for d, status, note in stories[goal.id].decisions}
        status, note = decided.get(day, (shown.suggested, shown.suggestion.reason))
        if status == goal.status:
            continue
        r.set_goal_status(
            tx,
            goal.id,
            status,
            goal.version,
            user=user,
            suggested=shown.suggested,
            note=note,
            at=_noon(on),
        )


def _fill_episode(
    tx: Database,
    form: Form,
    story: DemoEpisode,
    patient_id: int,
    clinician: r.Clinician,
    today: date,
) -> tuple[int, int]:
    """A whole episode of care (see the module's docstring); (records made, records signed)."""
    start = today - timedelta(days=story.start_days_ago)
    referral = (
        start - timedelta(days=story.referral_days_before)
        if story.referral_days_before is not None
        else None
    )
    info = r.EpisodeInfo(**story.details, start_date=start, referral_date=referral)
    episode = r.create_episode(tx, patient_id, info, user=clinician.name)
    made = signed = 0
    goals: dict[int, DemoGoal] = {}
    for day in story.days():
        on = start + timedelta(days=day)
        reviewed = False
        for record in (x for x in story.records if x.day == day):
            signed += _add_record(
                tx,
                form,
                patient_id,
                clinician,
                record.kind,
                on,
                record.values,
                record.sign,
                record.addendum,
                episode.id,
            )
            made += 1
            reviewed |= record.kind in ("re_evaluation", "discharge")
        for _day, plan in (p for p in story.plans if p[0] == day):
            r.save_plan(tx, episode.id, r.PlanInfo(**plan, start_date=on), user=clinician.name)
        for goal in (g for g in story.goals if g.day == day):
            target_date = start + timedelta(weeks=goal.weeks) if goal.weeks is not None else None
            added = r.add_goal(
                tx,
                episode.id,
                r.GoalInfo(**goal.info, target_date=target_date),
                user=clinician.name,
                form=form,
                at=_noon(on),
            )
            goals[added.id] = goal
        if reviewed or any(d == day for g in story.goals for d, _, _ in g.decisions):
            _review_goals(tx, form, goals, episode, on, clinician.name)
    if story.close:
        last = start + timedelta(days=story.records[-1].day)
        current = r.get_episode(tx, episode.id)
        r.update_episode(
            tx, episode.id, replace(info, end_date=last), current.version, user=clinician.name
        )
    return made, signed


def fill_demo(db: Database, form: Form, *, today: date | None = None) -> DemoResult:
    """Add the demo clinic, clinicians, patients, evaluations and episodes, all or nothing.

    Refuses to add them twice.
    """
    today = today or date.today()
    evaluations = signed = 0
    with _one_transaction(db) as tx:
        if r.get_patient_by_mrn(tx, PATIENTS[0].fields.mrn) is not None:
            raise StorageError("the demo patients are already in this database")
        if r.get_clinic(tx) is None:
            r.save_clinic(tx, CLINIC, user=DEMO_USER)
        clinicians = [r.save_clinician(tx, info, user=DEMO_USER) for info in CLINICIANS]
        for patient in PATIENTS:
            made = r.create_patient(tx, patient.fields, user=DEMO_USER)
            clinician = clinicians[patient.clinician]
            for days, kind, values, sign, note in patient.visits:
                on = today - timedelta(days=days)
                signed += _add_record(tx, form, made.id, clinician, kind, on, values, sign, note)
                evaluations += 1
            for story in (e for e in EPISODES if e.mrn == patient.fields.mrn):
                n, k = _fill_episode(tx, form, story, made.id, clinicians[story.clinician], today)
                evaluations += n
                signed += k
            if patient.archived:
                r.archive_patient(tx, made.id, user=DEMO_USER)
    logger.info(
        "demo added: %d patients, %d evaluations (%d signed), %d episodes of care",
        len(PATIENTS),
        evaluations,
        signed,
        len(EPISODES),
    )
    return DemoResult(
        len(PATIENTS), evaluations, signed, tuple(sorted(unknown_items(form))), len(EPISODES)
    )
