"""The note text for the clinic's main record: a short plain-text SOAP note of one record.

Many therapists must also document in the clinic's main EMR; this is the text they paste there.
It is generated from the structured record and its form, never written per item: the form's
sections say what is subjective, objective, assessment and plan, the labels name the findings and
:mod:`clinic_app.core.progress` words bilateral values and changes as the reports do.

Layout: a header (kind, date, patient, episode, signer), then the red flags when any fires (a red
flag overrides everything else, and the note says so), then S / O / A / P.

- An evaluation's S is the section holding the painful-side item; O every other section it shows
  with recorded findings (the red-flag screen, the items the red flags test, in one line); A the
  clinician's assessment (the first text item of the form's plan section) and what the app
  suggests (source or victim, factors and patterns with their key evidence); P the rest of the
  plan section and the goals with their status. A re-evaluation or discharge adds, in brackets,
  what changed since the episode's baseline.
- A visit note's pages (``core.visit.visit_sections``) are S, O, A, P in form order: the first is
  S, the last P, the one before it A, the ones between (re-measured items, treatment) O.

To stay short (the EMR box is small): labels lose their bracketed notes ("Pain now (NPRS)" is
"Pain now": the value says "3/10"), negative answers are grouped ("negative: FADIR, FABER"),
evidence keeps its measured part (the thresholds stay in the app's report).

Pure: the caller hands over plain values (``core.progress.Record`` for the episode's records,
anything with the fields of ``records.Goal`` for the goals).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from clinic_app.core.engine import Assessment, RuleResult, assess
from clinic_app.core.findings import Findings, FindingsError, validate
from clinic_app.core.form import Form, Item, ItemType, Section
from clinic_app.core.goals import STATUS_LABELS, merged_values
from clinic_app.core.kinds import kind_label
from clinic_app.core.note_parts import (
    _BRACKETED,
    _SUMMARY,
    _TERM,
    BUDGET,
    DETAIL_STEPS,
    EVIDENCE_CHARS,
    EVIDENCE_LINES,
    RED_FLAG_HEADING,
    SUGGESTED,
    TOP_RULES,
    VISIT_LABEL,
    WIDTH,
    EpisodeRef,
    _blank,
    _changed,
    _Note,
    _screen_sections,
    _wrap,
    fold,
    one_line,
)
from clinic_app.core.progress import (
    Record,
    change_between,
    findings_at,
    goal_progress,
    item_progress,
    value_text,
)
from clinic_app.core.visit import evaluation_sections, remeasured_in, visit_sections

__all__ = [
    "BUDGET",
    "RED_FLAG_HEADING",
    "SUGGESTED",
    "VISIT_LABEL",
    "WIDTH",
    "EpisodeRef",
    "fold",
    "note_text",
    "one_line",
    "status_on",
]

# --- Header, red flags, goals --------------------------------------------------------------------


def _painful_side(form: Form, episode: EpisodeRef | None, history: Sequence[Record]) -> str | None:
    """The episode's involved side, else the latest one its records name."""
    if episode is not None and episode.side in ("left", "right", "both"):
        return episode.side
    for r in reversed(history):
        raw = r.values.get(form.involved_side_item)
        if raw in ("left", "right", "both"):
            return str(raw)
    return None


def _header(
    note: _Note,
    patient: str,
    episode: EpisodeRef | None,
    signer: str | None,
    visit_no: int,
    side: str | None,
) -> list[str]:
    record = note.record
    kind = VISIT_LABEL if record.kind == "visit" else kind_label(record.kind)
    number = f" (visit {visit_no})" if record.kind == "visit" and visit_no else ""
    lines = _wrap(f"{kind.upper()} {record.on.isoformat()}{number} - {one_line(patient)}")
    bits = [one_line(episode.title)] if episode is not None and episode.title.strip() else []
    if side:
        bits.append("both sides" if side == "both" else f"{side} side")
    if episode is not None and episode.start is not None:
        bits.append(f"since {episode.start.isoformat()}")
    signed = record.status == "signed"
    status = f"Signed by {one_line(signer)}." if signed and signer else "Draft (not signed)."
    episode_text = f"Episode: {', '.join(bits)}. " if bits else ""
    lines += _wrap(episode_text + status)
    return lines


def _red_flags(note: _Note, assessment: Assessment) -> list[str]:
    if not assessment.red_flags:
        return []
    lines = [RED_FLAG_HEADING]
    for flag in assessment.red_flags:
        text = f"{one_line(flag.name)} ({flag.urgency.value}): {one_line(flag.message)}"
        lines += _wrap(fold(text), "  ", "! ")
        for ev in flag.evidence[:EVIDENCE_LINES]:
            lines += _wrap(note.evidence(ev), "    ", "  - ")
    return lines


@dataclass(frozen=True)
class _GoalOn:
    """A goal with the status it had on the note's day."""

    id: int
    term: str
    text: str
    target: Mapping[str, Any] | None
    target_date: date | None
    status: str


def status_on(goal: Any, day: date) -> str:
    """The status ``goal`` had on ``day``: its last status set on or before that day (a goal
    starts "not started"); a goal without a ``history`` has only its current ``status``."""
    history = getattr(goal, "history", None)
    if not history:
        return str(goal.status)
    status = "not_started"
    for entry in history:
        at = entry.set_at
        if (at.astimezone().date() if at.tzinfo else at.date()) <= day:
            status = entry.status
    return status


def _goal_texts(note: _Note, goals: Sequence[Any], *, visit: bool = False, **kw: Any) -> list[str]:
    """A line per goal: term, text, target date and the status it had on the note's day, with the
    app's suggestion when it differs. ``visit``: as a visit's assessment shows them, with the
    target in words, both statuses and the reading now (an evaluation shows the values in O)."""
    texts: list[str] = []
    both = visit
    dated = [
        _GoalOn(g.id, g.term, g.text, g.target, g.target_date, status_on(g, note.record.on))
        for g in goals
    ]
    key = (id(goals), visit)
    if key not in note.goal_cache:
        targets = {note.form.involved_side_item}
        for g in goals:
            if isinstance(g.target, Mapping):
                targets.update(str(g.target.get(k)) for k in ("item", "per") if g.target.get(k))
        history = _only(note.history, targets)
        note.goal_cache[key] = goal_progress(note.form, dated, history, **kw)
    for g in note.goal_cache[key]:
        what = one_line(g.text) or g.target_words
        when = [f"target {g.target_words}"] if both and g.target_words else []
        if g.target is None:
            when.append("functional")
        if g.target_date is not None and note.detail < 2:
            when.append(f"by {g.target_date.isoformat()}")
        status = STATUS_LABELS.get(g.status, g.status)
        suggested = STATUS_LABELS.get(g.suggested, g.suggested)
        text = f"{_TERM.get(g.term, g.term)} {what}" + (f" ({', '.join(when)})" if when else "")
        # A functional goal has no suggestion beyond its date: the clinician judges it.
        judged = g.target is None and g.suggested == "not_started"
        if both:
            text += f": set {status}" + ("" if judged else f", app suggests {suggested}")
        else:
            text += f": {status}"
            if g.suggested != g.status and not judged and note.detail < 1:
                text += f" (app suggests {suggested})"
        latest = g.suggestion.latest
        if visit and latest is not None and latest.text and latest.met is not None:
            text += f"; now {one_line(latest.text)}"
        texts.append(text)
    return texts


def _goal_lines(note: _Note, goals: Sequence[Any], *, visit: bool = False, **kw: Any) -> list[str]:
    """The goal lines, wrapped (see :func:`_goal_texts`)."""
    return [
        line
        for t in _goal_texts(note, goals, visit=visit, **kw)
        for line in _wrap(fold(t), "  ", "- ")
    ]


def _goal_status_block(note: _Note, goals: Sequence[Any], **kw: Any) -> list[str]:
    """An evaluation's goals under "Goal status:"; when every goal has the same status (and no
    suggestion differs), it is said once in the heading instead of on every line."""
    texts = _goal_texts(note, goals, **kw)
    endings = {t.rsplit(": ", 1)[-1] for t in texts}
    heading = "Goal status:"
    if len(texts) > 1 and len(endings) == 1 and all(": " in t for t in texts):
        heading = f"Goal status (all {endings.pop()}):"
        texts = [t.rsplit(": ", 1)[0] for t in texts]
    return [heading, *(line for t in texts for line in _wrap(fold(t), "  ", "- "))]


# --- The note ------------------------------------------------------------------------------------


def note_text(
    form: Form,
    record: Record,
    *,
    patient: str,
    episode: EpisodeRef | None = None,
    records: Sequence[Record] = (),
    goals: Sequence[Any] = (),
    signer: str | None = None,
    assessment: Assessment | None = None,
    today: date | None = None,
) -> str:
    """The plain-text note of ``record`` (an evaluation or a visit note), lines ≤ 100 characters.

    ``records``: the episode's records, oldest first (``record`` among them or not); only those up
    to ``record`` count, so an old note reads as it did. ``assessment``: ``engine.assess`` of the
    record, when the caller has it; by default an evaluation is assessed on its own findings and
    a visit on the episode's latest values up to it (so the episode's red flags show).
    ``today`` dates the goal suggestions (default: the record's date).
    """
    history = _history(record, records)
    note = _Note(form, record, history)
    side = _painful_side(form, episode, history)
    if assessment is None:
        values = (
            merged_values(r.values for r in history) if record.kind == "visit" else record.values
        )
        assessment = assess(form, _findings(form, values, side))
    visit_no = sum(1 for r in history if r.kind == "visit")
    lines = _header(note, patient, episode, signer, visit_no, side)
    lines += _red_flags(note, assessment)
    goal_kw = {"involved": side, "today": today or record.on}
    if record.kind == "visit":
        return _joined(lines + _visit(note, goals, goal_kw))
    # Over the budget, less detail of the app's suggestions and the goals, step by step; the
    # findings, the clinician's own words and the red flags are never cut.
    for detail in range(DETAIL_STEPS):
        note.detail = detail
        text = _joined(lines + _evaluation(note, assessment, goals, goal_kw))
        if len(text) <= BUDGET:
            break
    return text


def _joined(lines: Sequence[str]) -> str:
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _findings(form: Form, values: Mapping[str, Any], side: str | None) -> Findings:
    """The values as findings: checked all at once (fast), item by item only when something no
    longer fits the form (``progress.findings_at`` leaves that out)."""
    kept = dict(values)
    if side in ("left", "right", "both") and form.involved_side_item not in kept:
        kept[form.involved_side_item] = side
    try:
        return validate(form, {"values": kept})
    except FindingsError:
        return findings_at(form, values, side)


def _only(records: Sequence[Record], item_ids: Iterable[str]) -> list[Record]:
    """The records with only these items' values (progress reads no other: a long episode fast)."""
    keep = set(item_ids)
    return [replace(r, values={k: v for k, v in r.values.items() if k in keep}) for r in records]


def _history(record: Record, records: Sequence[Record]) -> list[Record]:
    """The episode's records up to ``record``, oldest first, ending with ``record`` itself."""
    key = (record.on, record.id)
    before = [r for r in records if r.id != record.id and (r.on, r.id) < key]
    return [*before, record]


def _evaluation(
    note: _Note, assessment: Assessment, goals: Sequence[Any], goal_kw: Mapping[str, Any]
) -> list[str]:
    form, values = note.form, note.values
    if not note.layout:  # the same for every level of detail
        side_item = form.involved_side_item
        subjective = {form.section_of(side_item).id} if side_item in note.form_items else set()
        note.layout = (evaluation_sections(form), subjective, _screen_sections(form))
    sections, subjective, screen = note.layout
    skip = {form.involved_side_item}
    later = len(note.history) > 1
    lines = ["S:"]
    for section in (s for s in sections if s.id in subjective):
        title = section.title if len(subjective) > 1 else None
        lines += note.paragraph(title, section, skip, changed_only=later)
    if later and note.unchanged & {i.id for s in sections if s.id in subjective for i in s.items}:
        lines.append(f"History otherwise as at the baseline ({note.history[0].on.isoformat()}).")
    lines.append("O:")
    if note.changes:
        lines.append(f"[ ] change since the baseline of {note.history[0].on.isoformat()}")
    # Over the budget, a re-evaluation's O shows what changed and names what did not.
    short_o = later and note.detail >= 2
    same: list[Item] = []
    for section in sections:
        if section.id in subjective or section.id == form.plan_section or section.soap == "P":
            continue
        if section.id in screen:
            lines += _screen_line(section, values, assessment)
        else:
            lines += note.paragraph(section.title, section, skip, changed_only=short_o)
            same += [i for i in section.items if short_o and i.id in note.unchanged]
    if same:
        labels = " / ".join(note.label(i) for i in same)
        lines += _wrap(f"As at the baseline: {labels}.")
    plan = next((s for s in sections if s.id == form.plan_section), None)
    texts = [i for i in plan.items if i.type is ItemType.TEXT] if plan is not None else []
    lines.append("A:")
    if texts and not _blank(values.get(texts[0].id)):
        lines += _wrap(f"{note.label(texts[0])}: {one_line(values[texts[0].id])}")
    lines += _suggested(note, assessment)
    lines.append("P:")
    for item in texts[1:]:
        if not _blank(values.get(item.id)):
            lines += _wrap(f"{note.label(item)}: {one_line(values[item.id])}")
    for section in sections:  # the home program
        if section.soap == "P" and section.id != form.plan_section:
            lines += note.paragraph(None, section, skip, changed_only=False)
    if goals:
        lines += _goal_status_block(note, goals, **goal_kw)
    return lines


def _screen_line(section: Section, values: Mapping[str, Any], assessment: Assessment) -> list[str]:
    asked = [i for i in section.items if not _blank(values.get(i.id))]
    if not asked:
        return []
    title = one_line(section.title)
    if assessment.red_flags:
        fired = ", ".join(one_line(f.name) for f in assessment.red_flags)
        return _wrap(fold(f"{title}: POSITIVE ({fired}), see RED FLAGS."))
    return [f"{title}: negative ({len(asked)} of {len(section.items)} asked)."]


def _suggested(note: _Note, assessment: Assessment) -> list[str]:
    lines = [f"{SUGGESTED}:"]
    lines += _wrap(
        f"Source or victim: {_SUMMARY.get(assessment.summary.kind, assessment.summary.kind)}."
    )
    others: list[RuleResult] = []
    for title, results in (("Factors", assessment.factors), ("Patterns", assessment.patterns)):
        if note.detail >= 2:
            top = TOP_RULES if title == "Factors" else 1
            results, rest = results[:top], results[top:]
            others += rest
        if results:
            lines.append(f"{title}:")
            for result in results:
                lines += _rule_lines(note, result)
    if others:
        named = ", ".join(_rule_head(r) for r in others)
        lines += _wrap(fold(f"Also suggested: {named}."))
    return lines


def _rule_head(result: RuleResult) -> str:
    """ "Name (indicators fired/defined, opinion, possible)"."""
    tags = [f"{result.strength}/{result.indicators}"]
    if result.opinion:
        tags.append("opinion")
    if not result.confirmed:
        tags.append("possible, not confirmed")
    name = one_line(result.name)
    return f"{_BRACKETED.sub('', name).strip() or name} ({', '.join(tags)})"


def _rule_lines(note: _Note, result: RuleResult) -> list[str]:
    head = _rule_head(result)
    # The first evidence line, and the second when both are short together (not over the budget).
    evidence = [note.evidence(e) for e in result.evidence[:EVIDENCE_LINES]]
    if note.detail >= 1 or sum(map(len, evidence)) > EVIDENCE_CHARS:
        evidence = evidence[:1]
    text = f"{head}: {'; '.join(evidence)}" if evidence else head
    return _wrap(fold(text), "  ", "- ")


# --- Visit note ----------------------------------------------------------------------------------


def soap_letters(pages: Sequence[Section], own: Sequence[Section]) -> dict[str, str]:
    """Each page's SOAP letter: its ``soap`` when the form says, else by its place among the
    visit's own pages (first S, last P, the one before it A, the rest and re-measured items O)."""
    unplaced = [p for p in own if p.soap is None]
    by_place: dict[str, str] = {}
    if unplaced:
        by_place[unplaced[0].id] = "S"
    if len(unplaced) > 1:
        by_place[unplaced[-1].id] = "P"
    if len(unplaced) > 2:
        by_place[unplaced[-2].id] = "A"
    return {p.id: p.soap or by_place.get(p.id, "O") for p in pages}


def _visit(note: _Note, goals: Sequence[Any], goal_kw: Mapping[str, Any]) -> list[str]:
    form = note.form
    remeasured = remeasured_in(form, note.values)
    pages = list(visit_sections(form, remeasured))
    own_ids = {s.id for s in form.sections}
    own = [p for p in pages if p.id in own_ids]
    letter = soap_letters(pages, own)

    def block(wanted: str) -> list[str]:
        out: list[str] = []
        for page in pages:
            if letter[page.id] != wanted:
                continue
            out += _visit_items(note, page) if page.id in own_ids else _remeasured(note, remeasured)
        return out

    lines = ["S:", *block("S"), "O:", *block("O"), "A:"]
    if goals:
        lines.append("Goals:")
        lines += _goal_lines(note, goals, visit=True, **goal_kw)
    return [*lines, *block("A"), "P:", *block("P")]


def _fraction(item: Item, value: Any) -> str | None:
    """ "5/7 days" for a count whose label names the whole ("days done of the last 7")."""
    rng = item.value_range
    if item.type is not ItemType.NUMBER or rng is None or rng.min != 0 or not item.integer:
        return None
    whole = f"{rng.max:g}"
    named = whole in item.label.replace(",", " ").split()
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return f"{value:g}/{whole} {item.unit}".strip() if named and number else None


def _visit_items(note: _Note, section: Section) -> list[str]:
    lines = []
    for item in section.items:
        value = note.values.get(item.id)
        if _blank(value):
            continue
        if item.type is ItemType.ROWS:
            lines += _rows(note, item, value)
            continue
        shown = _fraction(item, value) or note.shown(item, value)
        lines += _wrap(f"{note.label(item)}: {shown}", "  ", "")
    return lines


def _rows(note: _Note, item: Item, value: Any) -> list[str]:
    """One line per row (its cells in column order), then the total of the minute columns."""
    rows = [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []
    lines = [f"{note.label(item)}:"]
    timed = [c for c in item.columns if c.type == "number" and c.unit == "min"]
    total = 0.0
    for row in rows:
        lines += _wrap(one_line(fold(value_text(item, [row]))), "    ", "  - ")
        for column in timed:
            cell = row.get(column.id)
            if isinstance(cell, int | float) and not isinstance(cell, bool):
                total += cell
    if timed and total:
        lines.append(f"  Total: {total:g} {timed[0].unit}")
    return lines


def _remeasured(note: _Note, remeasured: Sequence[str]) -> list[str]:
    """Each re-measured item: today's value, the last one before it (dated) and the change since
    the episode's baseline."""
    if not remeasured:
        return []
    last = {p.item.id: p for p in item_progress(note.form, _only(note.history[:-1], remeasured))}
    lines = ["Re-measured:"]
    for item_id in remeasured:
        item = note.form.item(item_id)
        now = note.values[item_id]
        text = f"{note.label(item)}: {note.shown(item, now)}"
        prev = last.get(item_id)
        if prev is None:
            text += " (first measure)"
        else:
            change = _changed(change_between(item, prev.baseline, now))
            text += f" (last {prev.latest_on.isoformat()}: {fold(prev.latest_text())}"
            text += f"; since baseline {change})" if change else ")"
        lines += _wrap(one_line(text), "    ", "  - ")
    return lines
