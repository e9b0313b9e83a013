"""The visit note PDF (daily note): red flags first, then S, O, A, P, the addenda and the signature.

A visit note is an evaluation row of kind "visit", so its header, seal check, addenda and
signature block are the clinician report's own (:mod:`clinic_app.reports.clinician`); this module
adds what a visit note has of its own: the visit's pages from the form, the re-measured items
with their last value, the interventions table and the goals read from the latest values.

Each page goes under the SOAP letter the note text gives it (the form's ``soap``, else its place),
each letter headed once, in S, O, A, P order; the goals print once, at the end of A.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer

from clinic_app.core.engine import Assessment, format_value
from clinic_app.core.findings import Findings, Rows
from clinic_app.core.form import Form, Item, ItemType, Section
from clinic_app.core.goals import STATUS_LABELS
from clinic_app.core.note_text import soap_letters
from clinic_app.core.progress import GoalProgress, change_between, value_text
from clinic_app.core.visit import visit_sections
from clinic_app.reports import clinician, layout
from clinic_app.reports.data import ReportData, format_date
from clinic_app.reports.episode_data import VisitNoteData, visit_note_data
from clinic_app.reports.free_text import text_paragraphs
from clinic_app.reports.layout import Styles, heading_room, para
from clinic_app.reports.layout_types import Target

if TYPE_CHECKING:
    from clinic_app.storage.database import Database

BODY_PT = 9.5
ATHLETES_MARK = "†"
ATHLETES_NOTE = (
    f"{ATHLETES_MARK} Cut-off from studies of young male field-sport athletes: a rough guide for "
    "other patients, not a rule."
)
GOALS_NOTE = (
    "Suggested: what the latest values suggest (the app's reading). Set: the status the "
    "clinician set. The app suggests; the therapist decides."
)


# ---------------------------------------------------------------------------------------------
# pieces shared with the progress report


def athletes_cutoff(form: Form, item: Item) -> bool:
    """Whether the form says the item's cut-off comes from athletes (its help, its sources or
    its section's help name them)."""
    words = [item.help, item.source or ""]
    if item.symmetry is not None:
        words.append(item.symmetry.source or "")
    section = next((s for s in form.sections if any(i.id == item.id for i in s.items)), None)
    if section is not None:
        words.append(section.help)
    return any("athlete" in w.lower() for w in words)


def item_label(form: Form, item: Item) -> str:
    return f"{item.label} {ATHLETES_MARK}" if athletes_cutoff(form, item) else item.label


def identity(rows: Sequence[tuple[str, str, str, str]], s: Styles, width: float) -> Flowable:
    """The two-pair identity table of the clinician report's first page."""
    cells = [
        [para(a, s["cell_bold"]), para(b, s["cell"]), para(c, s["cell_bold"]), para(d, s["cell"])]
        for a, b, c, d in rows
    ]
    w = width
    return clinician._grid(
        cells,
        [w * 0.15, w * 0.35, w * 0.17, w * 0.33],
        header=False,
        extra=[
            ("BACKGROUND", (0, 0), (0, -1), layout.SHADE),
            ("BACKGROUND", (2, 0), (2, -1), layout.SHADE),
        ],
    )


def status_text(data: ReportData) -> str:
    ev = data.evaluation
    if ev.awaiting_cosignature:
        return "Draft: awaiting co-signature"
    return "Signed" if ev.is_signed else "Draft (not signed)"


def red_flag_banner(latest: Assessment, s: Styles, width: float) -> list[Flowable]:
    """The clinician report's red-flag boxes, only when a flag fires (it overrides the rest)."""
    if not latest.red_flags:
        return []
    out = clinician._red_flags(latest, s, width)
    out.insert(
        1,
        para(
            "A red flag overrides everything below: deal with it before treatment goes on "
            "as planned.",
            s["alert_title"],
        ),
    )
    return out


def goals_table(
    form: Form, goals: Sequence[GoalProgress], s: Styles, width: float
) -> list[Flowable]:
    if not goals:
        return [para("No goal is recorded for this episode.", s["body"])]
    head = [
        para(h, s["cell_bold"]) for h in ("Goal", "Target", "Baseline → latest", "Suggested", "Set")
    ]
    rows: list[list[Flowable | str]] = [head]
    for g in goals:
        target = g.target_words or "functional (clinician's judgement)"
        item = form.items.get(g.target.item) if g.target is not None else None
        if item is not None and athletes_cutoff(form, item):
            target += f" {ATHLETES_MARK}"
        if g.target_date is not None:
            target += f", by {format_date(g.target_date)}"
        sug = g.suggestion
        suggested = STATUS_LABELS.get(sug.status, sug.status)
        if sug.latest is None or sug.latest.met is None or sug.status == "not_met":
            suggested += f" ({sug.reason})"  # not a reading: why
        first = sug.baseline.text if sug.baseline is not None else "—"
        now = sug.latest.text if sug.latest is not None else "—"
        reading = "—" if g.target is None else f"{first} → {now}"
        rows.append(
            [
                para(f"{g.term.capitalize()}-term: {g.text}", s["cell"]),
                para(target, s["cell"]),
                para(reading, s["cell"]),
                para(suggested, s["cell"]),
                para(STATUS_LABELS.get(g.status, g.status), s["cell_bold"]),
            ]
        )
    w = width
    return [
        clinician._grid(rows, [w * 0.24, w * 0.2, w * 0.22, w * 0.19, w * 0.15]),
        Spacer(1, 2),
        para(GOALS_NOTE, s["small"]),
    ]


def draft_box(text: str, s: Styles, width: float) -> Flowable:
    return clinician._box(
        [para(text, s["alert_title"])], width, layout.WARN, colors.HexColor("#fff4e5")
    )


def text_block(label: str, text: str, s: Styles) -> list[Flowable]:
    out: list[Flowable] = [heading_room(s, "h2"), para(label, s["h2"])]
    out += text_paragraphs(text, s["body"])
    return out


# ---------------------------------------------------------------------------------------------
# the visit's own pages


SOAP_WORDS = {"S": "Subjective", "O": "Objective", "A": "Assessment", "P": "Plan"}
GOAL_ROOM = 200.0  # points: at most this much room is asked for the first goal under its heading


def _title(section: Section) -> str:
    title = section.title
    if title.lower().startswith("visit:"):
        title = title[6:].strip()
    return title[:1].upper() + title[1:]


def _interventions(item: Item, value: Rows, s: Styles, width: float) -> list[Flowable]:
    """The session's rows as a table (sets and reps as one "Sets×reps" column) and the total
    of the minutes column."""
    cols = {c.id: c for c in item.columns}
    combine = "sets" in cols and "reps" in cols
    shown = [c for c in item.columns if not (combine and c.id == "reps")]
    minutes = next((c for c in item.columns if c.unit == "min"), None)
    heads = ["Sets×reps" if combine and c.id == "sets" else c.label for c in shown]
    rows: list[list[Flowable | str]] = [[para(h, s["cell_bold"]) for h in heads]]
    total = 0.0
    for row in value.rows:
        cells: list[str] = []
        for c in shown:
            cell = row.get(c.id)
            if combine and c.id == "sets":
                cells.append(_sets_reps(row.get("sets"), row.get("reps")))
            elif cell is None:
                cells.append("")
            elif isinstance(cell, str):
                cells.append(c.choice_label(cell) if c.choices else cell)
            else:
                cells.append(f"{cell:g}")
        if minutes is not None and isinstance(row.get(minutes.id), int | float):
            total += float(row[minutes.id])
        rows.append([para(c, s["cell"]) for c in cells])
    free = [c.type == "text" and c.max_length > 60 for c in shown]
    fixed = width * 0.13
    n_free = sum(free) or 1
    room = (width - fixed * (len(shown) - sum(free))) / n_free
    widths = [room if f else fixed for f in free]
    if not any(free):
        widths = [width / len(shown)] * len(shown)
    out: list[Flowable] = [para(item.label, s["h2"]), clinician._grid(rows, widths)]
    if minutes is not None:
        n = len(value.rows)
        out.append(
            para(f"Total: {total:g} minutes, {n} intervention{'' if n == 1 else 's'}", s["bold"])
        )
    return out


def _sets_reps(sets: object, reps: object) -> str:
    if isinstance(sets, int | float) and isinstance(reps, int | float):
        return f"{sets:g}×{reps:g}"
    if isinstance(sets, int | float):
        return f"{sets:g} sets"
    if isinstance(reps, int | float):
        return f"{reps:g} reps"
    return ""


def _section(
    section: Section, findings: Findings, s: Styles, width: float, heading: str = ""
) -> tuple[list[Flowable], bool]:
    """The recorded values of one visit page (none: nothing, False)."""
    pairs: list[list[Flowable | str]] = []
    after: list[Flowable] = []
    for item in section.items:
        value = findings.get(item.id)
        if value is None or value == "":
            continue
        if isinstance(value, Rows):
            after += _interventions(item, value, s, width)
        elif item.type is ItemType.TEXT:
            block = text_block(item.label, str(value), s)
            after += block[1:] if item.label.lower() == heading.lower() else block
        else:
            pairs.append([para(item.label, s["cell"]), para(format_value(item, value), s["cell"])])
    out: list[Flowable] = []
    if pairs:
        out.append(clinician._grid(pairs, [width * 0.5, width * 0.5], header=False))
    return out + after, bool(pairs or after)


def _remeasured(data: VisitNoteData, s: Styles, width: float) -> list[Flowable]:
    form = data.report.form
    if not data.remeasured:
        return [para("Nothing was re-measured in this visit.", s["body"])]
    head = [para(h, s["cell_bold"]) for h in ("Measure", "Last value (date)", "Today", "Change")]
    rows: list[list[Flowable | str]] = [head]
    marked = False
    texts: list[Flowable] = []
    for r in data.remeasured:
        if r.item.type in (ItemType.TEXT, ItemType.ROWS) and not r.item.bilateral:
            texts += text_block(r.item.label, value_text(r.item, r.now), s)  # may be long
            continue
        marked = marked or athletes_cutoff(form, r.item)
        before = (
            f"{value_text(r.item, r.before)} ({format_date(r.before_on)})"
            if r.before is not None
            else "first measured today"
        )
        change = change_between(r.item, r.before, r.now) if r.before is not None else ""
        rows.append(
            [
                para(item_label(form, r.item), s["cell"]),
                para(before, s["cell"]),
                para(value_text(r.item, r.now), s["cell"]),
                para(change, s["cell"]),
            ]
        )
    w = width
    out: list[Flowable] = [para("Re-measured today", s["h2"])]
    if len(rows) > 1:
        out.append(clinician._grid(rows, [w * 0.28, w * 0.28, w * 0.24, w * 0.2]))
    if marked:
        out.append(para(ATHLETES_NOTE, s["small"]))
    return out + texts


def _goals(data: VisitNoteData, s: Styles, width: float) -> tuple[float, list[Flowable]]:
    """The goals with their progress, and the room their heading needs at a page's foot: the
    heading, the table's header row and its first goal (a heading never ends a page alone)."""
    form, goals = data.report.form, data.goals
    first = goals_table(form, goals[:1], s, width)[0]
    h2 = s["h2"]
    room = h2.spaceBefore + h2.leading + h2.spaceAfter + min(first.wrap(width, 1e6)[1], GOAL_ROOM)
    return room, [para("Progress toward the goals", s["h2"]), *goals_table(form, goals, s, width)]


def _soap_part(
    letter: str, pages: Sequence[Section], data: VisitNoteData, s: Styles, width: float
) -> list[Flowable]:
    """One letter of the note, headed once: each of its pages that holds something, in form
    order (a page after the first under its own title), the re-measured items opening O and the
    goals closing A; "Nothing recorded." when none of it holds anything."""
    word = SOAP_WORDS[letter]
    parts: list[tuple[str, list[Flowable]]] = []
    for section in pages:
        body, found = _section(section, data.report.findings, s, width, word)
        if found:
            parts.append((_title(section), body))
    if letter == "O":
        first = parts.pop(0)[1] if parts else []
        parts.insert(0, ("", _remeasured(data, s, width) + first))
    room = 30 * mm
    if letter == "A":
        goals_room, goals = _goals(data, s, width)
        if parts:
            parts[-1][1].extend([CondPageBreak(goals_room), *goals])
        else:
            h1 = s["h1"]
            room = max(room, h1.spaceBefore + h1.leading + h1.spaceAfter + goals_room)
            parts.append(("", goals))
    if not parts:
        parts.append(("", [para("Nothing recorded.", s["body"])]))
    out: list[Flowable] = []
    for n, (title, body) in enumerate(parts):
        out.append(CondPageBreak(room if n == 0 else 30 * mm))
        out.append(KeepTogether([para(title if n else f"{letter}: {word}", s["h1"]), *body[:1]]))
        out += body[1:]
    return out


def story(data: VisitNoteData, width: float) -> list[Flowable]:
    s = layout.make_styles(BODY_PT)
    rd = data.report
    p, ev = rd.patient, rd.evaluation
    number = f"{data.visit_number}"
    if data.planned_visits:
        number += f" of {data.planned_visits} planned"
    out: list[Flowable] = [
        layout.letterhead(rd.clinic, s, width),
        Spacer(1, 8),
        para("Visit note", s["title"]),
        identity(
            [
                ("Patient", p.name or "not recorded", "Visit date", format_date(ev.date)),
                ("Date of birth", format_date(p.date_of_birth), "Visit", number),
                ("MRN", p.mrn or "not recorded", "Status", status_text(rd)),
                ("Episode", data.episode_title, "Clinician", rd.clinician.display),
            ],
            s,
            width,
        ),
        *clinician._seal_warning(rd, s, width),
    ]
    out += red_flag_banner(data.latest, s, width)
    pages = visit_sections(rd.form, ())
    letters = soap_letters(pages, pages)  # the note text's letters
    for letter in SOAP_WORDS:
        out += _soap_part(letter, [p for p in pages if letters[p.id] == letter], data, s, width)
    out += clinician._addenda(rd, s)
    out += clinician._signature(rd, s, width)
    return out


def decor(rd: ReportData, title: str, extra: str | None = None) -> layout.PageDecor:
    """Footer (patient, date, state), running header and the DRAFT watermark of a document."""
    p = rd.patient
    bits = [p.name or "Patient"]
    if p.date_of_birth:
        bits.append(f"DOB {format_date(p.date_of_birth)}")
    if p.mrn:
        bits.append(f"MRN {p.mrn}")
    bits.append(format_date(rd.evaluation.date))
    state = clinician._state(rd)
    footer = " · ".join([extra, *bits] if extra else [*bits, state])
    return layout.PageDecor(
        footer_left=footer,
        header_left=rd.clinic.name,
        header_right=f"{title} · {p.name}" + (f" · {extra}" if extra else ""),
        watermark=None if state == "signed" else state,
        keep=(extra, state) if extra else (state,),
    )


def build_visit_note(data: VisitNoteData, target: Target) -> None:
    """Write the visit note PDF of ``data`` to a path or a binary stream."""
    from dataclasses import replace

    data = replace(data, report=layout.fit_header(data.report))
    rd = data.report
    layout.build_document(
        target,
        rd.clinic.paper,
        decor(rd, "Visit note"),
        lambda width: story(data, width),
        title=f"Visit note: {rd.patient.name}",
        author=rd.clinician.display,
        subject=f"Visit note, {format_date(rd.evaluation.date)}",
    )


def write_visit_note(db: Database, evaluation_id: int, target: Target) -> None:
    """Write the visit note PDF of stored visit note ``evaluation_id`` to ``target``.

    Raises NotFoundError for an unknown id, StorageError when the record is not a visit note,
    FindingsError when its stored values no longer fit its form.
    """
    build_visit_note(visit_note_data(db, evaluation_id), target)


__all__ = ["build_visit_note", "write_visit_note"]
