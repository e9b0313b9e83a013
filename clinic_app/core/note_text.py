"""The note text for the clinic's main record: a short plain-text SOAP note of one record.

Many therapists must also document in the clinic's main EMR; this is the text they paste there.
It is generated from the structured record and its form, never written per item: the form's
sections say what is subjective, objective, assessment and plan, the labels name the findings and
:mod:`clinic_app.core.progress` gives bilateral values and changes in the words the reports use.

Layout: a header (kind, date, patient, episode, signer), then the red flags when any fires (a red
flag overrides everything else, and the note says so), then S / O / A / P. An evaluation's S is the
section holding the painful-side item, O every other examined section with recorded findings, A
the clinician's assessment text and what the app suggests (factors with their key evidence,
patterns, source or victim), P the rest of the assessment-and-plan page and the goals with their
status. A visit note's pages are S, O (re-measured items and treatment), A, P in form order: the
first visit section is S, the last P, the one before it A, and the ones between O.

Pure: the caller hands over plain values (``core.progress.Record`` for the episode's records,
anything with the fields of ``records.Goal`` for the goals).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from clinic_app.core.engine import Assessment, RuleResult, assess, format_value
from clinic_app.core.form import Form, Item, ItemType, Leaf, Section
from clinic_app.core.form_schema import AllOf, AnyOf, Condition
from clinic_app.core.goals import STATUS_LABELS, merged_values
from clinic_app.core.kinds import kind_label
from clinic_app.core.progress import (
    Record,
    findings_at,
    goal_progress,
    item_progress,
    value_text,
)
from clinic_app.core.visit import evaluation_sections, remeasured_in, visit_sections

WIDTH = 100
EVIDENCE_LINES = 2  # the key evidence of a factor: its first lines
SUGGESTED = "suggested by the app; the therapist decides"
_TERM = {"short": "STG", "long": "LTG"}
# Typographic symbols an EMR text box may mangle, as plain ASCII. Names and free text keep their
# Unicode: only these symbols are folded.
_FOLD = str.maketrans(
    {
        "≤": "<=",
        "≥": ">=",
        "→": "->",
        "—": "-",
        "–": "-",
        "−": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "·": ".",
        "…": "...",
    }
)


@dataclass(frozen=True)
class EpisodeRef:
    """The episode a record belongs to, as the header names it."""

    title: str
    side: str | None = None
    start: date | None = None


def fold(text: str) -> str:
    """Typographic symbols as ASCII (≤ as <=, − as -); everything else unchanged."""
    return text.translate(_FOLD)


def one_line(text: str) -> str:
    """Free text on one line: line breaks and runs of spaces become single spaces."""
    return " ".join(str(text).split())


def _wrap(text: str, indent: str = "", first: str | None = None) -> list[str]:
    first = indent if first is None else first
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=True,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _label(item: Item) -> str:
    """The item's label without a trailing note in brackets ("Worst pain (NPRS)" stays)."""
    return one_line(item.label)


def _shown(item: Item, value: Any) -> str:
    """A stored value in words, on one line (free text squeezed)."""
    if item.type is ItemType.TEXT:
        return one_line(str(value))
    return one_line(fold(value_text(item, value)))


# ---------------------------------------------------------------------------------------------
# Which items are the red-flag screen: the ones the red flags test (from the form).


def _leaves(cond: Condition) -> Iterable[Leaf]:
    if isinstance(cond, Leaf):
        yield cond
    elif isinstance(cond, AllOf):
        for c in cond.all:
            yield from _leaves(c)
    elif isinstance(cond, AnyOf):
        for c in cond.any:
            yield from _leaves(c)


def _screen_sections(form: Form) -> set[str]:
    """Sections every item of which a red flag tests: the red-flag screen."""
    tested = {leaf.item for flag in form.red_flags for leaf in _leaves(flag.when)}
    return {s.id for s in form.sections if all(i.id in tested for i in s.items)}


# ---------------------------------------------------------------------------------------------
# Pieces


def _header(
    form: Form,
    record: Record,
    patient: str,
    episode: EpisodeRef | None,
    signer: str | None,
) -> list[str]:
    kind = "Visit note" if record.kind == "visit" else kind_label(record.kind)
    head = f"{kind.upper()} {record.on.isoformat()} - {one_line(patient)}"
    lines = _wrap(head)
    if episode is not None:
        bits = [one_line(episode.title)]
        if episode.side:
            bits.append(f"{episode.side} side")
        if episode.start is not None:
            bits.append(f"since {episode.start.isoformat()}")
        lines += _wrap(f"Episode: {', '.join(bits)}")
    status = f"Signed by {one_line(signer)}" if record.status == "signed" and signer else "Draft"
    lines.append(f"{status}; {one_line(form.title)}")
    return lines


def _red_flags(assessment: Assessment) -> list[str]:
    if not assessment.red_flags:
        return []
    lines = ["RED FLAGS - a red flag overrides everything else in this note:"]
    for flag in assessment.red_flags:
        lines += _wrap(
            fold(f"{flag.name} ({flag.urgency.value}): {one_line(flag.message)}"),
            "  ",
            "! ",
        )
        for ev in flag.evidence[:EVIDENCE_LINES]:
            lines += _wrap(fold(one_line(ev.text)), "    ", "  - ")
    return lines


def _items_text(section: Section, values: Mapping[str, Any], skip: set[str]) -> list[str]:
    """ "Label value" for each recorded item of a section, in form order."""
    out = []
    for item in section.items:
        value = values.get(item.id)
        if item.id in skip or value is None or value in ("", [], {}):
            continue
        out.append(f"{_label(item)}: {_shown(item, value)}")
    return out


def _paragraph(title: str, parts: Sequence[str]) -> list[str]:
    if not parts:
        return []
    return _wrap(f"{title}: " + "; ".join(parts) + ".", "  ", "")


def _factor_lines(result: RuleResult) -> list[str]:
    tags = [f"{result.strength}/{result.indicators}"]
    if result.opinion:
        tags.append("opinion")
    if not result.confirmed:
        tags.append("possible, not confirmed")
    head = f"{result.name} ({', '.join(tags)})"
    evidence = [one_line(e.text) for e in result.evidence[:EVIDENCE_LINES]]
    text = f"{head}: {'; '.join(evidence)}" if evidence else head
    return _wrap(fold(text), "    ", "  - ")


def _goal_lines(
    form: Form, goals: Sequence[Any], records: Sequence[Record], **kw: Any
) -> list[str]:
    lines: list[str] = []
    for g in goal_progress(form, goals, records, **kw):
        target = f"target {g.target_words}" if g.target_words else "functional"
        by = f" by {g.target_date.isoformat()}" if g.target_date else ""
        status = STATUS_LABELS.get(g.status, g.status)
        text = f"{_TERM.get(g.term, g.term)} {one_line(g.text)} ({target}{by}): {status}"
        if g.suggested != g.status:
            text += f" (app suggests {STATUS_LABELS.get(g.suggested, g.suggested)})"
        latest = g.suggestion.latest
        if latest is not None and latest.text:
            text += f"; latest {one_line(latest.text)}"
        lines += _wrap(fold(text), "    ", "  - ")
    return lines


# ---------------------------------------------------------------------------------------------
# The note


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
    """The plain-text note of ``record`` (an evaluation or a visit note).

    ``records``: the episode's records oldest first (``record`` among them or not); only those up
    to ``record`` count, so an old note reads as it did. ``assessment``: ``engine.assess`` of the
    record's findings, when the caller has it (a visit is assessed on the episode's latest values
    up to it, so its red flags show). ``today`` dates goal suggestions (default: the record's date).
    """
    history = _history(record, records)
    side = episode.side if episode is not None else None
    if assessment is None:
        values = (
            record.values if record.kind != "visit" else merged_values(r.values for r in history)
        )
        assessment = assess(form, findings_at(form, values, side))
    lines = _header(form, record, patient, episode, signer)
    lines += _red_flags(assessment)
    goal_kw = {"involved": side, "today": today or record.on}
    if record.kind == "visit":
        lines += _visit(form, record, history, goals, goal_kw)
    else:
        lines += _evaluation(form, record, assessment, history, goals, goal_kw)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _history(record: Record, records: Sequence[Record]) -> list[Record]:
    """The episode's records up to and including ``record`` (it last), oldest first."""
    before = [r for r in records if r.id != record.id and (r.on, r.id) <= (record.on, record.id)]
    return [*before, record]


def _evaluation(
    form: Form,
    record: Record,
    assessment: Assessment,
    history: Sequence[Record],
    goals: Sequence[Any],
    goal_kw: Mapping[str, Any],
) -> list[str]:
    values = record.values
    sections = evaluation_sections(form)
    subjective = (
        {form.section_of(form.involved_side_item).id}
        if form.involved_side_item in (form.items)
        else set()
    )
    screen = _screen_sections(form)
    skip = {form.involved_side_item}
    since = _since_baseline(form, record, history)
    lines = ["S:"]
    for section in sections:
        if section.id in subjective:
            lines += _paragraph(section.title, _items_text(section, values, skip)) or []
    lines.append("O:")
    for section in sections:
        if section.id in subjective or section.id == form.plan_section:
            continue
        if section.id in screen:
            lines += _screen_line(section, values, assessment)
            continue
        parts = _items_text(section, values, skip)
        if since:
            parts = [p + since.get(p.split(": ", 1)[0], "") for p in parts]
        lines += _paragraph(section.title, parts)
    plan = next((s for s in sections if s.id == form.plan_section), None)
    texts = [i for i in plan.items if i.type is ItemType.TEXT] if plan is not None else []
    lines.append("A:")
    if texts and values.get(texts[0].id):
        lines += _wrap(one_line(str(values[texts[0].id])), "  ", "  ")
    lines += _suggested(assessment)
    lines.append("P:")
    for item in texts[1:]:
        if values.get(item.id):
            lines += _wrap(f"{_label(item)}: {one_line(str(values[item.id]))}", "  ", "  ")
    if goals:
        lines.append("  Goals:")
        lines += _goal_lines(form, goals, history, **goal_kw)
    return lines


def _since_baseline(form: Form, record: Record, history: Sequence[Record]) -> dict[str, str]:
    """For a re-evaluation or discharge: " (baseline DATE: value, change)" by item label."""
    if len(history) < 2:
        return {}
    out = {}
    for p in item_progress(form, history):
        if p.latest_id != record.id or p.baseline_id == record.id:
            continue
        change = fold(p.change())
        out[_label(p.item)] = f" (baseline {p.baseline_text()}" + (
            f", {change})" if change else ")"
        )
    return {k: fold(v) for k, v in out.items()}


def _screen_line(section: Section, values: Mapping[str, Any], assessment: Assessment) -> list[str]:
    asked = [i for i in section.items if values.get(i.id) is not None]
    if not asked:
        return []
    if assessment.red_flags:
        fired = ", ".join(f.name for f in assessment.red_flags)
        return _wrap(fold(f"{section.title}: positive ({fired}); see RED FLAGS."), "  ", "")
    return [f"{section.title}: negative ({len(asked)} of {len(section.items)} items asked)."]


def _suggested(assessment: Assessment) -> list[str]:
    lines = _wrap(fold(f"App summary ({SUGGESTED}): {assessment.summary.text}"), "  ", "  ")
    if assessment.factors:
        lines.append("  Factors:")
        for result in assessment.factors:
            lines += _factor_lines(result)
    if assessment.patterns:
        lines.append("  Patterns:")
        for result in assessment.patterns:
            lines += _factor_lines(result)
    return lines


def _visit(
    form: Form,
    record: Record,
    history: Sequence[Record],
    goals: Sequence[Any],
    goal_kw: Mapping[str, Any],
) -> list[str]:
    values = record.values
    remeasured = remeasured_in(form, values)
    pages = [p for p in visit_sections(form, remeasured)]
    own = [p for p in pages if p.id in {s.id for s in form.sections}]
    s_page = own[0] if own else None
    p_page = own[-1] if len(own) > 1 else None
    a_page = own[-2] if len(own) > 2 else None
    o_pages = [p for p in pages if p not in (s_page, a_page, p_page)]
    lines = ["S:"]
    if s_page is not None:
        lines += _visit_items(s_page, values)
    lines.append("O:")
    for page in o_pages:
        if page.id not in {s.id for s in form.sections}:
            lines += _remeasured(form, record, history, remeasured)
        else:
            lines += _treatment(page, values)
    lines.append("A:")
    if goals:
        lines += _goal_lines(form, goals, history, **goal_kw)
    if a_page is not None:
        lines += _visit_items(a_page, values)
    lines.append("P:")
    if p_page is not None:
        lines += _visit_items(p_page, values)
    return lines


def _fraction(item: Item, value: Any) -> str | None:
    """ "5/7 days" for a count whose label names the whole ("days done of the last 7")."""
    rng = item.value_range
    if item.type is not ItemType.NUMBER or rng is None or rng.min != 0 or not item.integer:
        return None
    whole = f"{rng.max:g}"
    if whole not in item.label.split() or not isinstance(value, int | float):
        return None
    return f"{value:g}/{whole} {item.unit}".strip()


def _visit_items(section: Section, values: Mapping[str, Any]) -> list[str]:
    lines = []
    for item in section.items:
        value = values.get(item.id)
        if value is None or value in ("", [], {}):
            continue
        if item.type is ItemType.ROWS:
            lines += _rows(item, value)
            continue
        shown = _fraction(item, value) or _shown(item, value)
        lines += _wrap(f"{_label(item)}: {shown}", "    ", "  ")
    return lines


def _treatment(section: Section, values: Mapping[str, Any]) -> list[str]:
    return _visit_items(section, values)


def _rows(item: Item, value: Any) -> list[str]:
    """One line per row (its cells in column order), then the total of the minute columns."""
    rows = value if isinstance(value, list) else []
    lines = [f"  {_label(item)}:"]
    total = 0.0
    timed = [c for c in item.columns if c.type == "number" and c.unit == "min"]
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        shown = value_text(item, [row])
        lines += _wrap(fold(one_line(shown)), "      ", "    - ")
        for column in timed:
            cell = row.get(column.id)
            if isinstance(cell, int | float) and not isinstance(cell, bool):
                total += cell
    if timed and total:
        lines.append(f"    Total: {total:g} {timed[0].unit}")
    return lines


def _remeasured(
    form: Form, record: Record, history: Sequence[Record], remeasured: Sequence[str]
) -> list[str]:
    """Each re-measured item: today's value, the last one before (with its date) and the change
    since the baseline."""
    if not remeasured:
        return []
    before = item_progress(form, history[:-1])
    last = {p.item.id: p for p in before}
    since = {p.item.id: p for p in item_progress(form, history)}
    lines = ["  Re-measured:"]
    for item_id in remeasured:
        item = form.item(item_id)
        text = f"{_label(item)}: {_shown(item, record.values[item_id])}"
        prev = last.get(item_id)
        if prev is not None:
            text += f" (last {prev.latest_on.isoformat()}: {prev.latest_text()}"
            change = since[item_id].change() if item_id in since else ""
            text += f"; since baseline {change})" if change else ")"
        else:
            text += " (first measure)"
        lines += _wrap(fold(one_line(text)), "      ", "    - ")
    return lines


__all__ = ["EVIDENCE_LINES", "SUGGESTED", "EpisodeRef", "format_value", "note_text"]
