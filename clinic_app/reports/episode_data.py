"""What the episode's documents print, gathered from the records API (no reportlab, no Qt).

The visit note PDF (:func:`visit_note_data`) and the progress report / discharge summary
(:func:`progress_data`) are built from plain values gathered here, so a test can check what a
document will say without reading a PDF. Progress comes from :mod:`clinic_app.core.progress`
(the same answers the note text and the visit's assessment page show); the header, the signature
and the seal come from :func:`clinic_app.reports.records.report_data_for_evaluation`, as the
clinician report prints them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from clinic_app.core import findings as findings_mod
from clinic_app.core.engine import Assessment, assess
from clinic_app.core.form import Form, Item
from clinic_app.core.goals import merged_values
from clinic_app.core.progress import (
    GoalProgress,
    ItemProgress,
    Record,
    findings_at,
    goal_progress,
    item_progress,
)
from clinic_app.core.visit import remeasured_in
from clinic_app.reports.data import EvaluationInfo, ReportData, format_date

if TYPE_CHECKING:
    from clinic_app.reports.content import Exercise
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import CareDue, Episode, Evaluation, Goal, PlanOfCare

ReportKind = Literal["progress", "discharge"]
REPORT_KINDS: tuple[ReportKind, ...] = ("progress", "discharge")
EVALUATION_KIND: dict[str, str] = {"progress": "re_evaluation", "discharge": "discharge"}
"""Which evaluation a report belongs to (and is signed with)."""
KIND_WORDS: dict[str, str] = {"progress": "re-evaluation", "discharge": "discharge evaluation"}
VISIT = "visit"


class ReportKindError(ValueError):
    """A report kind other than progress or discharge."""


@dataclass(frozen=True)
class Remeasure:
    """An item measured again in a visit: its value before (and when) and today's."""

    item: Item
    before: Any  # stored shape, None when first measured today
    before_on: date | None
    now: Any


@dataclass(frozen=True)
class VisitNoteData:
    report: ReportData
    """The visit as a stored evaluation row: header, values, status, signature, addenda."""
    episode_title: str
    visit_number: int
    """Which visit of the episode this is (1 = the first visit note)."""
    planned_visits: int | None
    latest: Assessment
    """The form's rules over the episode's latest values with the visit's own (red flags)."""
    remeasured: tuple[Remeasure, ...]
    goals: tuple[GoalProgress, ...]


@dataclass(frozen=True)
class EvaluationLine:
    id: int
    kind: str
    on: date
    status: str


@dataclass(frozen=True)
class ProgressData:
    kind: ReportKind
    report: ReportData
    """The re-evaluation / discharge evaluation the report belongs to (its header, signature,
    seal and addenda); when there is none, the episode's header with a draft status."""
    evaluation_id: int | None
    draft_line: str | None
    """Printed on every page while the report's evaluation is not signed (or missing)."""
    episode: Episode
    items: tuple[ItemProgress, ...]
    """Items measured more than once, in form order."""
    measured_once: int
    drafts: frozenset[int]
    """Ids of the records not signed (their values are marked)."""
    goals: tuple[GoalProgress, ...]
    visits: tuple[date, ...]
    visits_signed: int
    evaluations: tuple[EvaluationLine, ...]
    plan: PlanOfCare | None
    due: CareDue | None
    exercises: tuple[Exercise, ...]
    program_from: EvaluationLine | None
    program_changes: tuple[date, str] | None
    plan_texts: tuple[tuple[str, str], ...]
    plan_from: str
    latest: Assessment
    """The form's rules over the episode's latest values, to today (red flags first)."""
    today: date
    records: tuple[Record, ...] = ()
    """The records the report reads (up to its evaluation), for the progress charts."""
    goal_rows: tuple[Any, ...] = ()
    """The episode's goals as stored (their targets draw goal lines on the charts)."""


def records_of(evaluations: Sequence[Evaluation]) -> list[Record]:
    """The episode's rows as :class:`core.progress.Record` values, oldest first.

    A value carried forward from the record before and neither re-measured nor confirmed is
    left out: it is not a new measurement (the record it came from already counts)."""
    out = []
    for e in evaluations:
        carried = set(e.carried_forward)
        values = {k: v for k, v in e.findings.get("values", {}).items() if k not in carried}
        out.append(Record(e.id, e.kind, e.eval_date, values, e.status))
    return out


def latest_assessment(form: Form, records: Sequence[Record], involved: str | None) -> Assessment:
    """The form's rules over the latest value of every item of ``records`` (red flags fire on
    the episode's values together, not on one record's alone)."""
    latest = findings_at(form, merged_values(r.values for r in records), involved)
    return assess(form, latest)


def goals_on(goals: Sequence[Goal], day: date) -> list[Goal]:
    """The goals with the status the clinician had set on ``day`` (a later decision is not
    printed on an earlier note; as the note text does)."""
    from clinic_app.core.note_text import status_on

    return [replace(g, status=status_on(g, day)) for g in goals]  # type: ignore[arg-type]


def _plan_on(plans: Sequence[PlanOfCare], day: date) -> PlanOfCare | None:
    """The plan of care in force on ``day`` (the last one started by then; else the first)."""
    started = [p for p in plans if p.start_date <= day]
    return started[-1] if started else (plans[0] if plans else None)


def _planned(plan: PlanOfCare | None) -> int | None:
    if plan is None:
        return None
    if plan.planned_visits is not None:
        return plan.planned_visits
    if plan.visits_per_week is not None and plan.duration_weeks is not None:
        return plan.visits_per_week * plan.duration_weeks
    return None


def _upto(evaluations: Sequence[Evaluation], evaluation_id: int) -> list[Evaluation]:
    out: list[Evaluation] = []
    for e in evaluations:
        out.append(e)
        if e.id == evaluation_id:
            break
    return out


def visit_note_data(db: Database, evaluation_id: int) -> VisitNoteData:
    """Everything the visit-note PDF prints for stored visit note ``evaluation_id``.

    Raises NotFoundError for an unknown id, StorageError when the record is not a visit note.
    """
    from clinic_app.storage import records as r
    from clinic_app.storage.errors import StorageError

    ev = r.get_evaluation(db, evaluation_id)
    if ev.kind != VISIT:
        raise StorageError(f"record {evaluation_id} is not a visit note (it is a {ev.kind})")
    assert ev.episode_id is not None  # every stored row has its episode (0006)
    return EpisodeNotes(db, ev.episode_id).data(db, ev)


class EpisodeNotes:
    """What the visit notes of one episode print from the whole episode (its records, goals
    and plan), read once: an export of every note of a 200-visit, 60-goal episode read
    200 × 221 records and 200 × 60 goals when each note read them again."""

    def __init__(self, db: Database, episode_id: int) -> None:
        from itertools import accumulate

        from clinic_app.storage import records as r

        self.episode = r.get_episode(db, episode_id)
        self.rows = r.episode_records(db, episode_id)
        self.records = records_of(self.rows)
        self.place = {e.id: n for n, e in enumerate(self.rows)}  # record id -> its place
        self.number = list(accumulate(int(e.kind == VISIT) for e in self.rows))
        self.goals = r.list_goals(db, episode_id)
        self.planned = _planned(r.current_plan(db, episode_id))

    def data(self, db: Database, ev: Evaluation) -> VisitNoteData:
        """The data of visit note ``ev``, one of this episode's."""
        from clinic_app.reports.records import report_data_for_evaluation

        report = report_data_for_evaluation(db, ev.id)
        report = replace(report, evaluation=replace(report.evaluation, kind="Visit note"))
        upto = self.place[ev.id]
        recs, form, involved = self.records[: upto + 1], report.form, self.episode.involved_side
        last = {p.item.id: p for p in item_progress(form, recs[:-1])}
        today_values = recs[-1].values
        remeasured = []
        for item_id in remeasured_in(form, today_values):
            was = last.get(item_id)
            remeasured.append(
                Remeasure(
                    form.item(item_id),
                    was.latest if was else None,
                    was.latest_on if was else None,
                    today_values[item_id],
                )
            )
        goals = goal_progress(
            form, goals_on(self.goals, ev.eval_date), recs, involved=involved, today=ev.eval_date
        )
        return VisitNoteData(
            report=report,
            episode_title=self.episode.title,
            visit_number=self.number[upto],
            planned_visits=self.planned,
            latest=latest_assessment(form, recs, involved),
            remeasured=tuple(remeasured),
            goals=tuple(goals),
        )


def _plan_texts(form: Form, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The plan section's texts of an evaluation (label, text), in form order."""
    section = next((s for s in form.sections if s.id == form.plan_section), None)
    if section is None:
        return []
    return [
        (i.label, str(values[i.id]))
        for i in section.items
        if isinstance(values.get(i.id), str) and str(values[i.id]).strip()
    ]


def _visit_plan_texts(form: Form, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A visit note's plan page texts (its last visit section's text items)."""
    from clinic_app.core.form import ItemType

    pages = form.record_sections("visit")
    if not pages:
        return []
    return [
        (i.label, str(values[i.id]))
        for i in pages[-1].items
        if i.type is ItemType.TEXT and isinstance(values.get(i.id), str) and values[i.id].strip()
    ]


def _program_changes(form: Form, rows: Sequence[Evaluation]) -> tuple[date, str] | None:
    """The latest visit's home-program change (a visit plan text labelled as one)."""
    for e in reversed(rows):
        if e.kind != VISIT:
            continue
        for label, text in _visit_plan_texts(form, e.findings.get("values", {})):
            if "program" in label.lower():
                return e.eval_date, text
    return None


def _latest_plan(
    form: Form, rows: Sequence[Evaluation], owner: Evaluation | None
) -> tuple[list[tuple[str, str]], str]:
    """The plan texts the report prints: its own evaluation's, else the latest record's."""
    from clinic_app.core.kinds import kind_label

    ordered = [*([owner] if owner is not None else []), *reversed(rows)]
    for e in ordered:
        values = e.findings.get("values", {})
        if e.kind == VISIT:
            texts = _visit_plan_texts(form, values)
            where = f"visit note of {format_date(e.eval_date)}"
        else:
            texts = _plan_texts(form, values)
            where = f"{kind_label(e.kind).lower()} of {format_date(e.eval_date)}"
        if texts:
            return texts, where
    return [], ""


def _care_due(db: Database, episode_id: int, on: date) -> CareDue | None:
    """When the next progress report and recertification are due; None when that is past the
    calendar's last day (an episode dated in 9999), so the report is still made without it."""
    from clinic_app.storage import records as r

    due = r.care_due(db, episode_id, on)  # stops at 9999-12-31 (records._common.days_after)
    if date.max in (due.progress_due_on, due.recert_due_on):
        return None  # it would fall in the year 10000: not printed as a date it is not
    return due


def progress_data(
    db: Database, episode_id: int, kind: str, *, today: date | None = None
) -> ProgressData:
    """Everything the progress report (``kind`` "progress") or discharge summary ("discharge")
    prints for episode ``episode_id``.

    The report belongs to the episode's latest re-evaluation / discharge evaluation: the values
    are read up to it, and its signature and seal are printed. Without one, the whole episode is
    read and the report says on every page that no such evaluation exists yet.
    Raises ReportKindError for another kind, NotFoundError for an unknown episode.
    """
    from clinic_app.core.form import load_form
    from clinic_app.core.kinds import kind_label
    from clinic_app.paths import default_form_path
    from clinic_app.reports.content import choose_exercises
    from clinic_app.reports.data import ClinicianInfo
    from clinic_app.reports.records import clinic_info, patient_info, report_data_for_evaluation
    from clinic_app.storage import records as r

    if kind not in REPORT_KINDS:
        raise ReportKindError(f"report kind {kind!r}: expected progress or discharge")
    report_kind: ReportKind = "progress" if kind == "progress" else "discharge"
    episode = r.get_episode(db, episode_id)
    rows = everything = r.episode_records(db, episode_id)
    wanted = EVALUATION_KIND[report_kind]
    owner = next((e for e in reversed(rows) if e.kind == wanted), None)
    words = KIND_WORDS[report_kind]
    if owner is not None:
        rows = _upto(rows, owner.id)
        report = report_data_for_evaluation(db, owner.id)
        form = report.form
        on = today or owner.eval_date
        draft_line = (
            None
            if owner.status == "signed"
            else f"DRAFT: the {words} of {format_date(owner.eval_date)} is not signed"
        )
    else:
        form = r.evaluation_form(db, rows[-1].id) if rows else load_form(default_form_path())
        on = today or date.today()
        patient = r.get_patient(db, episode.patient_id)
        report = ReportData(
            clinic=clinic_info(db),
            clinician=ClinicianInfo(rows[-1].updated_by if rows else "not recorded"),
            patient=patient_info(patient),
            evaluation=EvaluationInfo(date=on, kind=kind_label(wanted)),
            form=form,
            findings=findings_mod.empty(form),
        )
        draft_line = f"DRAFT: no {words} yet"
    recs = records_of(rows)
    involved = episode.involved_side
    progress = item_progress(form, recs)
    goals = goal_progress(
        form, goals_on(r.list_goals(db, episode_id), on), recs, involved=involved, today=on
    )
    visits = [e for e in rows if e.kind == VISIT]
    evaluations = tuple(
        EvaluationLine(e.id, kind_label(e.kind), e.eval_date, e.status)
        for e in rows
        if e.kind != VISIT
    )
    exercises: tuple[Exercise, ...] = ()
    program_from: EvaluationLine | None = None
    signed = [e for e in rows if e.kind != VISIT and e.status == "signed"]
    source = signed[-1] if signed else next((e for e in reversed(rows) if e.kind != VISIT), None)
    if source is not None:
        found: findings_mod.Findings | None
        if owner is not None and source.id == owner.id:  # gathered with the header already
            src_form, found = report.form, report.findings
        else:
            src_form = r.evaluation_form(db, source.id)
            try:
                found = findings_mod.validate(src_form, dict(source.findings))
            except findings_mod.FindingsError:
                found = None
        if found is not None:
            a = assess(src_form, found)
            exercises = tuple(choose_exercises(a.exercises, a.advice))
            program_from = EvaluationLine(
                source.id, kind_label(source.kind), source.eval_date, source.status
            )
    changes = _program_changes(form, rows)
    plan_texts, plan_from = _latest_plan(form, rows, owner)
    return ProgressData(
        kind=report_kind,
        report=report,
        evaluation_id=owner.id if owner is not None else None,
        draft_line=draft_line,
        episode=episode,
        items=tuple(p for p in progress if p.remeasured),
        measured_once=sum(1 for p in progress if not p.remeasured),
        drafts=frozenset(e.id for e in rows if e.status != "signed"),
        goals=tuple(goals),
        visits=tuple(e.eval_date for e in visits),
        visits_signed=sum(1 for e in visits if e.status == "signed"),
        evaluations=evaluations,
        plan=_plan_on(r.plan_history(db, episode_id), on),
        due=_care_due(db, episode_id, on),
        exercises=exercises,
        program_from=program_from,
        program_changes=changes,
        plan_texts=tuple(plan_texts),
        plan_from=plan_from,
        # a red flag recorded after the report's evaluation still comes first
        latest=latest_assessment(form, records_of(everything), involved),
        today=on,
        records=tuple(recs),
        goal_rows=tuple(goals_on(r.list_goals(db, episode_id), on)),
    )
