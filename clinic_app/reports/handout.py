"""The patient handout: what we found, home exercises with drawings, the running traffic light.

Plain words, large type (12 pt body), one idea per paragraph. Texts come from
``resources/handout/*.yaml``; the findings only choose which texts appear.

The handout is printed on the spot, so it should use few pages without looking crowded. Every
exercise card, the traffic light and "When to contact us or get help" each stay on one page; the
everyday tips and the traffic light go where they leave the smallest gaps (see :func:`_arrange`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
)

from clinic_app.core.engine import Assessment, RedFlagResult
from clinic_app.core.library import shipped_library
from clinic_app.core.program import suggest_program
from clinic_app.reports import content, fonts, layout, pictures
from clinic_app.reports.data import ReportData, format_date
from clinic_app.reports.drawings import TRAFFIC_ORDER, lamp_colour, traffic_light_drawing
from clinic_app.reports.free_text import cut_line, few_breaks
from clinic_app.reports.layout import Styles, para
from clinic_app.reports.layout_types import Target

BODY_PT = 12.0
STEP_PT = 11.5
"""The exercises' numbered steps (may go to 11.5 pt, never below)."""
LARGE_BODY_PT = 15.0
LARGE_STEP_PT = 14.5
"""Large print for readers who need it: every text at 14 pt or more, headings larger too."""
LEADING = 1.25
"""Line spacing of body text, as a multiple of the type size."""
PICTURE_SHARE = 0.33
"""The part of an exercise card's width given to its pictures (start and end side by side)."""
PICTURE_H = 40 * mm
LARGE_PICTURE_H = 36 * mm
LARGE_PICTURE_SHARE = 0.72
"""In large print the pictures go above the text, at most this part of the card's width."""
CARD_GAP = 6.0
NOTE_BREAKS = 10
"""Line breaks of the therapist's note kept on a card (which cannot split across pages)."""
NOTE_ROW = 500
"""Characters of the program's note in one row of its box (a row cannot split either)."""
logger = logging.getLogger(__name__)
SIDE_MARGIN = 15 * mm
TOP_MARGIN = 15 * mm
BOTTOM_MARGIN = 15 * mm


def _box(
    rows: list[Flowable],
    width: float,
    border: colors.Color,
    fill: colors.Color,
    line: float = 1.2,
    pad: float = 8,
) -> Table:
    t = Table([[rows]], colWidths=[width])
    t.setStyle(
        layout.table_style(
            [
                ("BOX", (0, 0), (-1, -1), line, border),
                ("BACKGROUND", (0, 0), (-1, -1), fill),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), pad),
                ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
            ]
        )
    )
    return t


def _note_box(title: Flowable, note: str, s: Styles, width: float) -> Table:
    """The program's note in a box of one row per typed line (a longer line over rows of at most
    NOTE_ROW characters), so the box splits between pages: in one cell, a note of 1,000 short
    lines (the limit is 2,000 characters) was taller than a page and stopped the handout."""
    rows: list[list[Flowable]] = [[title]]
    for line in note.splitlines():
        rows += [[para(part, s["box_last"])] for part in cut_line(line, NOTE_ROW) if part.strip()]
    t = Table(rows, colWidths=[width])
    t.setStyle(
        layout.table_style(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, layout.ACCENT),
                ("BACKGROUND", (0, 0), (-1, -1), layout.SHADE),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, 0), 6),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
            ]
        )
    )
    return t


def _masthead(data: ReportData, s: Styles, width: float, title: str = "title") -> Table:
    """Title and who it is for at the left; the clinic's name, address and phone at the right."""
    text = content.handout_text()
    clinic = data.clinic
    who = [
        f"For {data.patient.name}" if data.patient.name else "For you",
        format_date(data.evaluation.date),
    ]
    left: list[Flowable] = [
        para(text.text(title), s["title"]),
        para(" · ".join(who), s["lead"]),
        para(f"Therapist: {data.clinician.display}", s["lead"]),
    ]
    right: list[Flowable] = [para(clinic.name or "Clinic", s["clinic"])]
    if clinic.address:
        right.append(para(", ".join(clinic.address.splitlines()), s["clinic_small"]))
    if clinic.phone:
        right.append(para(f"Phone {clinic.phone}", s["clinic_small"]))
    logo = layout.logo_flowable(clinic.logo, 28 * mm, 16 * mm) if clinic.logo else None
    if logo is not None:
        right.insert(0, logo)
        logo.hAlign = "RIGHT"
    right_w = width * 0.4
    table = Table([[left, right]], colWidths=[width - right_w, right_w], spaceAfter=6)
    table.setStyle(
        layout.table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("LEFTPADDING", (1, 0), (1, 0), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ("LINEBELOW", (0, 0), (-1, -1), 1.2, layout.ACCENT),
            ]
        )
    )
    return table


def _red_flag_box(a: Assessment, s: Styles, width: float) -> list[Flowable]:
    if not a.red_flags:
        return []
    text = content.handout_text()
    rows: list[Flowable] = [para(text.text("red_flag_heading"), s["alert_title"])]
    seen: set[str] = set()
    for flag in a.red_flags:
        plain = flag.plain or "Some of what we found needs a doctor to check it."
        if plain not in seen:
            seen.add(plain)
            rows.append(para(plain, s["body"]))
    for referral in content.referral_advice():
        rows += [para(p, s["bold"]) for p in referral.paragraphs]
    return [_box(rows, width, layout.ALERT, layout.ALERT_BG, line=2.5), Spacer(1, 8)]


def _found(a: Assessment, s: Styles) -> list[Flowable]:
    text = content.handout_text()
    heading = para(text.text("found_heading"), s["h1"])
    plains = list(dict.fromkeys(r.plain for r in (*a.factors, *a.patterns) if r.plain.strip()))
    if not plains:
        return [KeepTogether([heading, para(text.text("found_none"), s["body"])])]
    items = [para(p, s["bullet"], bullet="•") for p in plains]
    return [
        KeepTogether([heading, items[0]]),
        *items[1:],
        para(text.text("found_outro"), s["body"]),
    ]


def _picture(card: content.Card, width: float, max_height: float) -> Flowable:
    """The exercise's picture (the shipped drawing, or the clinic's own PNG, JPEG or SVG); a
    picture that cannot be drawn is left out with a log line rather than losing the handout."""
    pic = card.picture
    if pic is None:
        return Spacer(1, 1)
    try:
        return pictures.picture_flowable(pic.media_type, pic.data, width, max_height)
    except Exception:  # noqa: BLE001 - a damaged stored picture must not stop the handout
        logger.warning("handout: the picture of %r cannot be drawn; left out", card.exercise_id)
        return Spacer(1, 1)


def _exercise_card(card: content.Card, s: Styles, width: float, large: bool) -> Flowable:
    """Name across the top; the start and end pictures beside purpose, dose, the therapist's
    notes and the caution; numbered steps below. In large print the picture goes above the text
    across the card, so the text keeps a readable line length."""
    title = f"{card.number}. {card.title}"
    if card.side:
        title += f" – {card.side} side only"
    about: list[Flowable] = [para(card.purpose, s["card_body"])] if card.purpose else []
    lines = [
        ("How much", card.dose),
        ("Use", card.load),
        ("Your note", card.instruction),
        ("Next step", card.progression),
        ("Take care", card.safety),
    ]
    for label, value in lines:
        if value:
            note = label == "Your note"
            text = (
                fonts.multiline(few_breaks(value, NOTE_BREAKS)) if note else content_markup(value)
            )
            markup = f"<b>{label}:</b> {text}"
            about.append(para(markup, s["card_body"], raw=True))
    steps = [para(step, s["step"], bullet=f"{n}.") for n, step in enumerate(card.steps, start=1)]
    head = para(title, s["card_title"])
    if large:
        picture = _picture(card, width * LARGE_PICTURE_SHARE, LARGE_PICTURE_H)
        rows: list[list[object]] = [[head], [picture], [about], [steps]]
        widths = [width]
        spans: list[tuple[object, ...]] = [("ALIGN", (0, 1), (0, 1), "CENTER")]
    else:
        pic_w = round(width * PICTURE_SHARE)
        picture = _picture(card, pic_w - 12, PICTURE_H)
        rows = [[head, ""], [picture, about], [steps, ""]]
        widths = [pic_w, width - pic_w]
        spans = [
            ("SPAN", (0, 0), (1, 0)),
            ("SPAN", (0, 2), (1, 2)),
            ("VALIGN", (0, 1), (0, 1), "MIDDLE"),
            ("ALIGN", (0, 1), (0, 1), "CENTER"),
            ("LEFTPADDING", (1, 1), (1, 1), 4),
        ]
    t = Table(rows, colWidths=widths, spaceAfter=CARD_GAP)
    t.setStyle(
        layout.table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (-1, -1), 0.8, layout.RULE),
                ("BACKGROUND", (0, 0), (-1, 0), layout.SHADE),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, layout.RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 1), (-1, 1), 4),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 4),
                *spans,
            ]
        )
    )
    return t


def content_markup(text: str) -> str:
    from clinic_app.reports.fonts import markup

    return markup(text)


def handout_cards(data: ReportData, a: Assessment | None = None) -> list[content.Card]:
    """The exercise cards this handout prints: the stored program's, else the suggested one's;
    none with an emergency red flag."""
    a = a if a is not None else data.resolved_assessment()
    if a.emergency:
        return []
    library = data.library if data.library is not None else shipped_library(data.form)
    stored = content.stored_program(data.form, data.findings)
    program = stored if stored is not None else suggest_program(data.form, a, library)
    return content.program_cards(program, library, data.pictures, suggested=stored is None)


def _exercises(
    data: ReportData, a: Assessment, s: Styles, width: float, large: bool
) -> list[Flowable]:
    text = content.handout_text()
    cards = handout_cards(data, a)
    program = content.stored_program(data.form, data.findings)
    head: list[Flowable] = [
        para(text.text("exercises_heading"), s["h1"]),
        para(text.text("exercises_intro"), s["body"]),
    ]
    if a.red_flags:
        head.append(para(text.text("exercises_wait"), s["bold"]))
    if program is not None and program.note:
        title = para(text.text("program_note_heading"), s["card_title"])
        head += [_note_box(title, program.note, s, width), Spacer(1, 6)]
    if not cards:
        return [KeepTogether(head)]
    out: list[Flowable] = []
    for card in cards:
        flow = _exercise_card(card, s, width, large)
        out.append(KeepTogether([*head, flow] if card.number == 1 else [flow]))
    return out


def _traffic_light(a: Assessment, s: Styles, width: float) -> list[Flowable]:
    text = content.handout_text()
    levels = text.run_levels()
    current = a.running.level.value if a.running is not None else None
    rows = []
    style: list[tuple[object, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    for n, level in enumerate(reversed(TRAFFIC_ORDER)):
        info = levels[level]
        title = info.label
        if level == current:
            title += " ← you are here today"
            style.append(("BOX", (1, n), (1, n), 2.0, lamp_colour(level)))
        hex_colour = lamp_colour(level).hexval()[2:]
        label = f'<font color="#{hex_colour}"><b>{content_markup(title)}:</b></font>'
        rows.append(["", para(f"{label} {content_markup(info.text)}", s["lamp"], raw=True)])
    light = traffic_light_drawing(current, lamp=24)
    light_w = light.width + 10
    table = Table(rows, colWidths=[light_w, width - light_w])
    style.append(("SPAN", (0, 0), (0, -1)))
    table.setStyle(layout.table_style(style))
    table._cellvalues[0][0] = light  # the drawing spans every row
    heading = para(text.text("running_heading"), s["h1"])
    block: list[Flowable] = [heading, para(text.text("running_intro"), s["body"]), table]
    flag = _deciding_flag(a)
    if flag is not None:  # a red flag set the level, whatever the run answers said: say so
        reason = flag.plain or flag.message
        block.append(para(f"{text.text('running_reason')} {reason}", s["bold"]))
    return [KeepTogether(block)]


def _deciding_flag(a: Assessment) -> RedFlagResult | None:
    if a.running is None or a.running.set_by is None:
        return None
    return next((f for f in a.red_flags if f.id == a.running.set_by), None)


def _emergency_story(data: ReportData, a: Assessment, s: Styles, width: float) -> list[Flowable]:
    """A red flag asking for the emergency handout (``overrides: {handout: emergency}`` in the
    form): the emergency message, when to seek help and the clinic's contact. No exercises, no
    everyday tips and no traffic light: nothing that reads as "carry on at home"."""
    text = content.handout_text()
    story: list[Flowable] = [_masthead(data, s, width, title="emergency_title")]
    rows: list[Flowable] = [
        para(text.text("emergency_heading"), s["alert_title"]),
        para(text.text("emergency_intro"), s["bold"]),
    ]
    seen: set[str] = set()
    for flag in a.red_flags:
        plain = flag.plain or flag.message
        if plain not in seen:
            seen.add(plain)
            rows.append(para(plain, s["body"]))
    story += [_box(rows, width, layout.ALERT, layout.ALERT_BG, line=2.5), Spacer(1, 8)]
    story += _help(data, s, width)
    return story


def _tips(a: Assessment, s: Styles) -> list[Flowable]:
    text = content.handout_text()
    out: list[Flowable] = []
    no_running = _deciding_flag(a) is not None
    for adv in content.tips(a.advice):
        if no_running and adv.group == "running":
            continue  # "run shorter, build up slowly" reads as "keep running": a red flag said no
        block: list[Flowable] = [para(adv.title, s["h2"])]
        block += [para(p, s["tip"]) for p in adv.paragraphs]
        if not out:
            block.insert(0, para(text.text("tips_heading"), s["h1"]))
        out.append(KeepTogether(block))
    return out


def _help(data: ReportData, s: Styles, width: float) -> list[Flowable]:
    """When to contact the clinic (with its phone number) and when to get urgent help: one block."""
    text = content.handout_text()
    clinic = data.clinic
    accent = layout.ACCENT.hexval()[2:]
    heading = f'<font color="#{accent}">{content_markup(text.text("contact_heading"))}:</font>'
    line = content_markup(clinic.name + (f", phone {clinic.phone}" if clinic.phone else ""))
    where = [", ".join(clinic.address.splitlines())] if clinic.address else []
    where.append(f"Your therapist: {data.clinician.display}")
    contact: list[Flowable] = [
        para(f"{heading} {line}", s["bold"], raw=True),
        para(" · ".join(where), s["box_last"]),
    ]
    items = [para(p, s["item"], bullet="•") for p in text.paragraphs("help_items")]
    urgent: list[Flowable] = [para(text.text("urgent_intro"), s["alert_title"])]
    urgent += [para(p, s["bullet"], bullet="•") for p in text.paragraphs("urgent_items")]
    block: list[Flowable] = [
        para(text.text("help_heading"), s["h1"]),
        _box(contact, width, layout.ACCENT, layout.SHADE, pad=6),
        Spacer(1, 5),
        para(text.text("help_intro"), s["body"]),
        *items,
        Spacer(1, 3),
        _box(urgent, width, layout.ALERT, colors.white, pad=6),
        Spacer(1, 4),
        para(text.text("disclaimer"), s["small"]),
    ]
    return [KeepTogether(block)]


def _styles(large: bool = False) -> Styles:
    """The handout's styles; ``large``: large print (every text at 14 pt or more)."""
    body, step_pt = (LARGE_BODY_PT, LARGE_STEP_PT) if large else (BODY_PT, STEP_PT)
    small, clinic_small = (14.0, 14.0) if large else (11.0, 10.0)
    s = layout.make_styles(body, leading=LEADING)
    s["body"].spaceAfter = body * 0.35  # paragraphs stay apart, a little closer than 0.45
    s["bullet"].spaceAfter = body * 0.25

    def add(name: str, parent: str, **kw: object) -> None:
        s.by_name[name] = ParagraphStyle(name, parent=s[parent], **kw)

    add(
        "step",
        "body",
        fontSize=step_pt,
        bulletFontSize=step_pt,
        leading=step_pt * 1.2,
        leftIndent=step_pt * 1.5,
        bulletIndent=0,
        spaceAfter=1,
    )
    add("card_body", "body", spaceAfter=body * 0.2)
    add("card_last", "card_body", spaceAfter=0)
    add("card_title", "h2", spaceBefore=0, spaceAfter=0, textColor=layout.ACCENT)
    add("box_last", "body", spaceAfter=0)
    add("lamp", "body", spaceAfter=0)
    add("tip", "body", spaceAfter=body * 0.3)
    add("item", "bullet", spaceAfter=body * 0.2)
    add("small", "small", fontSize=small, leading=small * 1.27)
    add("lead", "body", spaceAfter=0)
    add("clinic", "h2", spaceBefore=0, spaceAfter=1, textColor=layout.ACCENT, alignment=TA_RIGHT)
    add(
        "clinic_small",
        "small",
        fontSize=clinic_small,
        leading=clinic_small * 1.25,
        alignment=TA_RIGHT,
    )
    return s


@dataclass
class _Fill:
    """A dry run of the frame filling, to compare arrangements before the one real build.

    It follows reportlab's rules (space before is dropped at the top of a page and merges with the
    space after the flowable above; a KeepTogether goes to a new page when it does not fit), except
    that a paragraph is never split: that only errs towards more pages.
    """

    height: float
    width: float
    pages: int = 1
    room: float = 0.0
    top: bool = True
    space_after: float = 0.0
    gaps: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        self.room = self.height

    def _new_page(self) -> None:
        self.gaps += (max(self.room, 0.0),)
        self.pages += 1
        self.room = self.height
        self.top = True
        self.space_after = 0.0

    def _before(self, f: Flowable) -> float:
        return 0.0 if self.top else max(f.getSpaceBefore() - self.space_after, 0.0)

    def add(self, f: Flowable, heights: dict[int, float]) -> None:
        if isinstance(f, KeepTogether):
            parts: list[Flowable] = list(f._content)
            total = self._group_height(parts, heights)
            if not self.top and self._before(parts[0]) + total > self.room:
                self._new_page()
            for part in parts:
                self.add(part, heights)
            return
        h = _height(f, self.width, self.height, heights)
        s = self._before(f)
        if not self.top and s + h > self.room + 1e-3:
            self._new_page()
            s = 0.0
        self.space_after = f.getSpaceAfter()
        self.room -= s + h + self.space_after
        if h > 0:
            self.top = False

    def _group_height(self, parts: Sequence[Flowable], heights: dict[int, float]) -> float:
        total, prev = 0.0, 0.0
        for n, part in enumerate(parts):
            total += _height(part, self.width, self.height, heights)
            if n:
                total += max(part.getSpaceBefore() - prev, 0.0)
            prev = part.getSpaceAfter()
            total += prev
        return total - prev


def _height(f: Flowable, width: float, height: float, cache: dict[int, float]) -> float:
    key = id(f)
    if key not in cache:
        cache[key] = float(f.wrap(width, height)[1])
    return cache[key]


def _arrange(
    head: list[Flowable],
    movable: dict[str, list[Flowable]],
    tail: list[Flowable],
    width: float,
    height: float,
) -> list[Flowable]:
    """The story in the order that needs the fewest pages, then leaves the smallest gaps.

    What we found always comes first and "When to contact us" last; the exercises, the traffic
    light and the everyday tips are tried in a few reading orders (earlier orders win ties).
    """
    orders = (
        ("tips", "exercises", "running"),
        ("exercises", "running", "tips"),
        ("exercises", "tips", "running"),
        ("tips", "running", "exercises"),
        ("running", "exercises", "tips"),
        ("running", "tips", "exercises"),
    )
    heights: dict[int, float] = {}
    best: list[Flowable] = []
    best_score: tuple[float, ...] | None = None
    for order in orders:
        flow = [*head, *(f for name in order for f in movable[name]), *tail]
        fill = _Fill(height, width)
        for f in flow:
            fill.add(f, heights)
        # fewest pages; then the largest white gap, in half-inch steps so near-ties keep the
        # more natural earlier order
        score = (fill.pages, max(fill.gaps, default=0.0) // 36)
        if best_score is None or score < best_score:
            best, best_score = flow, score
    return best


class _WrapOnce(Paragraph):  # type: ignore[misc]  # reportlab has no type hints
    """A paragraph that keeps its line breaks for the width it was last wrapped at.

    The handout's story is measured once to arrange it (:func:`_arrange`), and reportlab then
    wraps every paragraph again when a KeepTogether checks its fit, when the frame places it and
    when a table draws its cells: 3-4 line breakings of the same text at the same width, most of
    the time of a build. The breaks depend on the width only, so the first one is kept.
    """

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        # split() drops the breaks (blPara) when it refuses to leave one line alone at a page's
        # foot; the next wrap at the same width must make them again, or drawing fails on them.
        if getattr(self, "_wrapped_at", None) != availWidth or not hasattr(self, "blPara"):
            super().wrap(availWidth, availHeight)
            self._wrapped_at = availWidth
        return float(self.width), float(self.height)


def _wrap_once(flowables: Sequence[object]) -> None:
    for f in flowables:
        if type(f) is Paragraph:
            f.__class__ = _WrapOnce
        elif isinstance(f, KeepTogether):
            _wrap_once(f._content)
        elif isinstance(f, Table):
            for row in f._cellvalues:
                for cell in row:
                    _wrap_once(cell if isinstance(cell, list | tuple) else [cell])


def story(
    data: ReportData, width: float, height: float, large_print: bool = False
) -> list[Flowable]:
    flow = _story(data, width, height, large_print)
    _wrap_once(flow)
    return flow


def _story(data: ReportData, width: float, height: float, large_print: bool) -> list[Flowable]:
    s = _styles(large_print)
    a = data.resolved_assessment()
    if a.emergency:
        return _emergency_story(data, a, s, width)
    text = content.handout_text()
    head: list[Flowable] = [_masthead(data, s, width)]
    head += _red_flag_box(a, s, width)
    head += [para(p, s["body"]) for p in text.paragraphs("intro")]
    head += _found(a, s)
    movable = {
        "tips": _tips(a, s),
        "exercises": _exercises(data, a, s, width, large_print),
        "running": _traffic_light(a, s, width),
    }
    tail = _help(data, s, width)
    _wrap_once([*head, *(f for part in movable.values() for f in part), *tail])
    return _arrange(head, movable, tail, width, height)


def build(data: ReportData, target: Target, large_print: bool = False) -> None:
    """Write the handout PDF to a path or a binary stream (``large_print``: 15 pt body)."""
    size = layout.page_size(data.clinic.paper)
    name = data.patient.name
    decor = layout.PageDecor(
        footer_left=f"{data.clinic.name} · home program for {name}" if name else data.clinic.name,
        header_left=data.clinic.name,
        header_right=f"Home program · {name}" if name else "Home program",
        side_margin=SIDE_MARGIN,
        header_at=TOP_MARGIN - 6 * mm,
        footer_at=BOTTOM_MARGIN - 7.5 * mm,
    )
    doc = BaseDocTemplate(
        target if not hasattr(target, "__fspath__") else str(target),
        pagesize=size,
        leftMargin=SIDE_MARGIN,
        rightMargin=SIDE_MARGIN,
        topMargin=TOP_MARGIN,
        bottomMargin=BOTTOM_MARGIN,
        title=f"Home program: {name}",
        author=data.clinician.display,
        creator="clinic_app",
        initialFontName=fonts.SANS,
        invariant=1,  # same input, same bytes: no creation timestamp in the file
    )
    width = size[0] - 2 * SIDE_MARGIN
    height = size[1] - TOP_MARGIN - BOTTOM_MARGIN
    frame = Frame(
        SIDE_MARGIN,
        BOTTOM_MARGIN,
        width,
        height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(story(data, width, height, large_print), canvasmaker=layout.canvas_maker(decor))
