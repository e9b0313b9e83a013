"""The progress report and the discharge summary of an episode of care.

Baseline against latest for every re-measured item, the goals with their status, the visits
attended against the plan of care, the home program and the plan. The report belongs to the
episode's latest re-evaluation (progress) or discharge evaluation (discharge): that
evaluation's signature and seal are printed as the clinician report prints them, and while it is
not signed (or does not exist) every page says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Spacer

from clinic_app.core.progress import ItemProgress, chartable
from clinic_app.reports import clinician, fonts, layout
from clinic_app.reports.data import format_date
from clinic_app.reports.episode_data import KIND_WORDS, ProgressData, progress_data
from clinic_app.reports.layout import Styles, para
from clinic_app.reports.layout_types import Target
from clinic_app.reports.visit_note import (
    ATHLETES_NOTE,
    athletes_cutoff,
    decor,
    draft_box,
    goals_table,
    identity,
    item_label,
    red_flag_banner,
    status_text,
    text_block,
)

if TYPE_CHECKING:
    from clinic_app.core.form import Form
    from clinic_app.storage.database import Database

BODY_PT = 9.5
TITLES = {"progress": "Progress report", "discharge": "Discharge summary"}
SIDES = {"left": "left", "right": "right", "both": "both sides"}
REFERRAL_CELL = 240
"""Characters of the referral shown in the identity table (the whole text follows it)."""
MAX_CHARTS = 6
"""Charts in one report: the items with goals first, then scores with an MCID, then the rest."""
CHART_HEIGHT = 52 * mm
FLAG_NOTE = (
    "“Real change”: the change passes the measure's minimal detectable change (MDC; a "
    "questionnaire without one: its minimal clinically important difference), so it is more than "
    "measurement error; “within measurement noise”: it does not. A change of exactly the "
    "threshold counts as the questionnaire file or the form says (at least, or more than). "
    "Measures without a threshold in the form get no flag."
)


def _charts(data: ProgressData, s: Styles, width: float) -> list[Flowable]:
    """Progress charts of the re-measured numbers (core.chart, drawn by reports.chart_pdf):
    left/right with goal lines, the side-to-side gap when a goal is written on it, and scores
    with the baseline ± MCID band the form gives."""
    from clinic_app.core.chart import Chart, gap_chart, measure_chart
    from clinic_app.reports.chart_pdf import chart_flowable

    form = data.report.form
    targets: dict[str, set[str]] = {}
    for goal in data.goal_rows:
        target = goal.target or {}
        if isinstance(target.get("item"), str):
            targets.setdefault(target["item"], set()).add(str(target.get("measure", "value")))
    numeric = chartable(form, data.records, data.goal_rows)
    involved = data.episode.involved_side
    charts: list[Chart] = []
    for item in numeric:
        if len(charts) >= MAX_CHARTS:
            break
        charts.append(
            measure_chart(
                form,
                item.id,
                data.records,
                data.goal_rows,
                involved,
                mcid=item.mcid,
                better=item.better,
            )
        )
        if item.bilateral and targets.get(item.id, set()) - {"value"}:
            charts.append(gap_chart(form, item.id, data.records, data.goal_rows, involved))
    if not charts:
        return []
    out: list[Flowable] = [CondPageBreak(CHART_HEIGHT + 20 * mm), para("Progress charts", s["h1"])]
    out.append(
        para(
            "Each measure over the episode's records; dashed lines are goal targets, shaded "
            "bands the side-to-side threshold or the baseline ± the minimal clinically "
            "important difference.",
            s["small"],
        )
    )
    for chart in charts[:MAX_CHARTS]:
        out += [Spacer(1, 4), chart_flowable(chart, width, CHART_HEIGHT)]
    return out


def _dated(text: str, on: object, draft: bool) -> str:
    when = format_date(on)  # type: ignore[arg-type]
    return f"{text} ({when}{', draft' if draft else ''})"


def _measures(data: ProgressData, s: Styles, width: float) -> list[Flowable]:
    form = data.report.form
    out: list[Flowable] = [CondPageBreak(40 * mm), para("Baseline and latest values", s["h1"])]
    shown = _without_repeated_scores(form, data.items)
    changed = [p for p in shown if not _unchanged(p)]
    same = [p for p in shown if _unchanged(p)]
    if not data.items:
        out.append(para("No item was measured more than once in this episode yet.", s["body"]))
    elif not changed:
        out.append(para("No re-measured item changed in this episode.", s["body"]))
    else:
        head = [para(h, s["cell_bold"]) for h in ("Measure", "Baseline", "Latest", "Change")]
        rows: list[list[Flowable | str]] = [head]
        marked = False
        for p in changed:
            marked = marked or athletes_cutoff(form, p.item)
            rows.append(
                [
                    para(item_label(form, p.item), s["cell"]),
                    para(_baseline(p, data), s["cell"]),
                    para(_latest(p, data), s["cell"]),
                    _change_cell(p, s),
                ]
            )
        w = width
        out.append(clinician._grid(rows, [w * 0.22, w * 0.22, w * 0.22, w * 0.34]))
        notes = [
            "Baseline: the first value recorded in the episode; latest: the last one. Bilateral "
            "measures show both sides and the side-to-side gap of that day."
        ]
        if any(p.flags for p in changed):
            notes.append(FLAG_NOTE)
        if any(p.baseline_id in data.drafts or p.latest_id in data.drafts for p in changed):
            notes.append("“draft” marks a value from a record not signed yet.")
        if marked:
            notes.append(ATHLETES_NOTE)
        out += [para(n, s["small"]) for n in notes]
    if same:
        names = ", ".join(f"{item_label(form, p.item)} ({p.latest_text()})" for p in same)
        out.append(para(f"Re-measured without change: {names}.", s["small"]))
    if data.measured_once:
        n = data.measured_once
        out.append(
            para(
                f"{n} other item{' was' if n == 1 else 's were'} measured once only and "
                f"{'is' if n == 1 else 'are'} not listed.",
                s["small"],
            )
        )
    return out


def _without_repeated_scores(form: Form, items: Sequence[ItemProgress]) -> list[ItemProgress]:
    """The items without a score item whose baseline and latest are exactly what its
    questionnaire's answers score: the answers' row ("LEFS 56/80 (patient-reported)") says it."""
    from clinic_app.core.responses import covered_scores

    by_id = {p.item.id: p for p in items}
    repeated = set()
    for p in items:
        target = by_id.get(str(p.item.score_item)) if p.item.score_item else None
        if target is None:
            continue
        pairs = ((p.baseline, target.baseline), (p.latest, target.latest))
        if all(
            target.item.id in covered_scores(form, {p.item.id: a, target.item.id: n})
            for a, n in pairs
        ):
            repeated.add(target.item.id)
    return [p for p in items if p.item.id not in repeated]


def _change_cell(p: ItemProgress, s: Styles) -> Flowable:
    """The change, then the plain flag: "real change" when it passes the measure's MDC (or a
    questionnaire's MCID where its file gives no MDC), else "within measurement noise"."""
    text = fonts.markup(_change(p))
    if p.flags:
        for flag in p.flags:
            side = f"{flag.side[0].upper()} " if flag.side else ""
            text += (
                f"<br/><b>{fonts.markup(side + flag.flag)}</b> "
                f"<font size='{BODY_PT - 2}'>({fonts.markup(flag.why)})</font>"
            )
    return para(text, s["cell"], raw=True)


def _change(p: ItemProgress) -> str:
    text = p.change()
    if not text or _unchanged(p):
        return "no change"
    return text


def _unchanged(p: ItemProgress) -> bool:
    """No change on any side (values carried over unchanged are not progress)."""
    return p.baseline == p.latest or all(
        part.endswith("no change") for part in p.change().split(" · ") if part
    )


def _baseline(p: ItemProgress, data: ProgressData) -> str:
    return _dated(p.baseline_text(), p.baseline_on, p.baseline_id in data.drafts)


def _latest(p: ItemProgress, data: ProgressData) -> str:
    return _dated(p.latest_text(), p.latest_on, p.latest_id in data.drafts)


def _visits(data: ProgressData, s: Styles, width: float) -> list[Flowable]:
    out: list[Flowable] = [CondPageBreak(30 * mm), para("Visits attended", s["h1"])]
    n = len(data.visits)
    if n:
        span = f"{format_date(min(data.visits))} to {format_date(max(data.visits))}"
        line = f"{n} visit note{'' if n == 1 else 's'} from {span} ({data.visits_signed} signed)."
    else:
        line = "No visit note in this episode yet."
    planned = None
    if data.plan is not None:
        planned = data.plan.planned_visits
        if planned is None and data.plan.visits_per_week and data.plan.duration_weeks:
            planned = data.plan.visits_per_week * data.plan.duration_weeks
    if planned:
        line += f" Planned in the plan of care: {planned} visits."
    out.append(para(line, s["body"]))
    if data.evaluations:
        shown = "; ".join(
            f"{e.kind} {format_date(e.on)}{'' if e.status == 'signed' else ' (draft)'}"
            for e in data.evaluations
        )
        out.append(para(f"Evaluations: {shown}.", s["body"]))
    return out


def _care(data: ProgressData, s: Styles, width: float) -> list[Flowable]:
    out: list[Flowable] = [CondPageBreak(30 * mm), para("Plan of care", s["h1"])]
    plan = data.plan
    if plan is None:
        out.append(para("No plan of care is recorded for this episode.", s["body"]))
        return out
    freq = f"{plan.visits_per_week} a week" if plan.visits_per_week else "not recorded"
    duration = f"{plan.duration_weeks} weeks" if plan.duration_weeks else "not recorded"
    rows = [
        ("Started", format_date(plan.start_date), "Frequency", freq),
        (
            "Duration",
            duration,
            "Planned visits",
            str(plan.planned_visits) if plan.planned_visits else "not recorded",
        ),
    ]
    due = data.due
    end = data.episode.end_date
    closed = end is not None and data.today >= end  # the report's day, not today's
    if due is not None and not closed:
        rows.append(
            (
                "Progress report due",
                f"{format_date(due.progress_due_on)} or after {due.every_visits} visits",
                "Recertification due",
                format_date(due.recert_due_on) if due.recert_due_on else "not set",
            )
        )
    elif due is not None:
        rows.append(("Episode", "closed: nothing is due", "", ""))
    out.append(identity(rows, s, width))
    if plan.interventions.strip():
        out += text_block("Interventions planned", plan.interventions, s)
    return out


def _program(data: ProgressData, s: Styles, width: float) -> list[Flowable]:
    out: list[Flowable] = [CondPageBreak(30 * mm), para("Home program", s["h1"])]
    src = data.program_from
    if src is None or not data.exercises:
        out.append(para("No evaluation of this episode chooses a home program yet.", s["body"]))
    else:
        state = "" if src.status == "signed" else ", not signed yet"
        out.append(
            para(
                f"The exercises the patient handout of the {src.kind.lower()} of "
                f"{format_date(src.on)}{state} gives:",
                s["body"],
            )
        )
        for ex in data.exercises:
            out.append(para(f"{ex.name}: {ex.dose}", s["bullet"], bullet="•"))
    if data.program_changes is not None:
        on, text = data.program_changes
        out += text_block(f"Latest program change (visit of {format_date(on)})", text, s)
    return out


def _plan(data: ProgressData, s: Styles) -> list[Flowable]:
    out: list[Flowable] = [CondPageBreak(30 * mm), para("Plan", s["h1"])]
    if not data.plan_texts:
        out.append(para("No plan was recorded.", s["body"]))
        return out
    out.append(para(f"From the {data.plan_from}.", s["small"]))
    for label, text in data.plan_texts:
        out += text_block(label, text, s)
    return out


def _signature(data: ProgressData, s: Styles, width: float) -> list[Flowable]:
    if data.evaluation_id is None:
        assert data.draft_line is not None
        return [Spacer(1, 8), draft_box(f"{data.draft_line}; this report is not signed.", s, width)]
    out = clinician._addenda(data.report, s)
    if data.draft_line is not None and not data.report.evaluation.awaiting_cosignature:
        return [
            *out,
            Spacer(1, 8),
            draft_box(f"{data.draft_line}; this report may still change.", s, width),
        ]
    return out + clinician._signature(data.report, s, width)


def story(data: ProgressData, width: float) -> list[Flowable]:
    s = layout.make_styles(BODY_PT)
    rd = data.report
    p, ep = rd.patient, data.episode
    side = SIDES.get(ep.involved_side or "", "not recorded")
    period = format_date(ep.start_date) + (
        f" to {format_date(ep.end_date)}" if ep.end_date else ", open"
    )
    owner = (
        f"{KIND_WORDS[data.kind].capitalize()} of {format_date(rd.evaluation.date)}"
        if data.evaluation_id is not None
        else f"no {KIND_WORDS[data.kind]} yet"
    )
    referral = ", ".join(x for x in (ep.referral_source, ep.referral_reason) if x) or "not recorded"
    whole_referral = None
    if len(referral) > REFERRAL_CELL:  # a table cell cannot split across pages: in full below
        whole_referral, referral = referral, layout.cut_text(referral, REFERRAL_CELL)
    out: list[Flowable] = [
        layout.letterhead(rd.clinic, s, width),
        Spacer(1, 8),
        para(TITLES[data.kind], s["title"]),
        identity(
            [
                ("Patient", p.name or "not recorded", "Episode", ep.title),
                ("Date of birth", format_date(p.date_of_birth), "Painful side", side),
                ("MRN", p.mrn or "not recorded", "Episode dates", period),
                ("Clinician", rd.clinician.display, "Referral", referral),
                ("Report of", owner, "Status", status_text(rd) if data.evaluation_id else "Draft"),
            ],
            s,
            width,
        ),
        *clinician._seal_warning(rd, s, width),
    ]
    if whole_referral is not None:
        out += text_block("Referral", whole_referral, s)
    if data.draft_line is not None:
        out += [Spacer(1, 6), draft_box(data.draft_line, s, width)]
    out += red_flag_banner(data.latest, s, width)
    out += [
        Spacer(1, 6),
        clinician._box(
            [para(clinician.DECISION_LINE.split(". ")[0] + ".", s["small"])],
            width,
            layout.RULE,
            colors.white,
        ),
    ]
    out += _measures(data, s, width)
    out += _charts(data, s, width)
    out += [CondPageBreak(40 * mm), para("Goals", s["h1"])]
    out += goals_table(rd.form, data.goals, s, width)
    out += _visits(data, s, width)
    out += _program(data, s, width)
    out += _care(data, s, width)
    out += _plan(data, s)
    out += _signature(data, s, width)
    return out


def build_progress_report(data: ProgressData, target: Target) -> None:
    """Write the progress report / discharge summary of ``data`` to a path or a binary stream."""
    data = replace(data, report=layout.fit_header(data.report))
    rd = data.report
    title = TITLES[data.kind]
    layout.build_document(
        target,
        rd.clinic.paper,
        decor(rd, title, data.draft_line),
        lambda width: story(data, width),
        title=f"{title}: {rd.patient.name}",
        author=rd.clinician.display,
        subject=f"{title}, {data.episode.title}, {format_date(rd.evaluation.date)}",
    )


def write_progress_report(db: Database, episode_id: int, kind: str, target: Target) -> None:
    """Write the progress report (``kind`` "progress") or discharge summary ("discharge") of
    episode ``episode_id`` to ``target``.

    Raises ReportKindError for another kind, NotFoundError for an unknown episode.
    """
    build_progress_report(progress_data(db, episode_id, kind), target)


__all__ = ["build_progress_report", "write_progress_report"]
