"""The patient handout: what we found, home exercises with drawings, the running traffic light.

Plain words, large type (13 pt body), one idea per paragraph. Texts come from
``resources/handout/*.yaml``; the findings only choose which texts appear.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Spacer,
    Table,
)

from clinic_app.core.engine import Assessment
from clinic_app.reports import content, figures, fonts, layout
from clinic_app.reports.data import ReportData, format_date
from clinic_app.reports.drawings import TRAFFIC_ORDER, lamp_colour, traffic_light_drawing
from clinic_app.reports.layout import Styles, para
from clinic_app.reports.layout_types import Target

BODY_PT = 12.0
ALWAYS_TIPS = ("bend_with_comfortable_back", "break_up_sitting")
NOT_TIPS = ("follow_referral", "running_traffic_light")


def _box(
    rows: list[Flowable], width: float, border: colors.Color, fill: colors.Color, line: float = 1.2
) -> Table:
    t = Table([[rows]], colWidths=[width])
    t.setStyle(
        layout.table_style(
            [
                ("BOX", (0, 0), (-1, -1), line, border),
                ("BACKGROUND", (0, 0), (-1, -1), fill),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return t


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
    referral = content.advice().get("follow_referral")
    if referral is not None:
        rows += [para(p, s["bold"]) for p in referral.paragraphs]
    return [_box(rows, width, layout.ALERT, layout.ALERT_BG, line=2.5), Spacer(1, 8)]


def _found(a: Assessment, s: Styles) -> list[Flowable]:
    text = content.handout_text()
    out: list[Flowable] = [para(text.text("found_heading"), s["h1"])]
    plains = list(dict.fromkeys(r.plain for r in (*a.factors, *a.patterns) if r.plain.strip()))
    if not plains:
        out.append(para(text.text("found_none"), s["body"]))
        return out
    out += [para(p, s["bullet"], bullet="•") for p in plains]
    out.append(para(text.text("found_outro"), s["body"]))
    return out


def _exercise_card(ex: content.Exercise, number: int, s: Styles, width: float) -> Flowable:
    """Name across the top; the drawing beside purpose, dose and caution; numbered steps below."""
    pic_w = 56 * mm
    drawing = figures.drawing(ex.id, pic_w - 8) if ex.id in figures.FIGURE_IDS else Spacer(1, 1)
    about: list[Flowable] = [
        para(ex.purpose, s["body"]),
        para(f"<b>How much:</b> {content_markup(ex.dose)}", s["body"], raw=True),
        para(f"<b>Take care:</b> {content_markup(ex.safety)}", s["body"], raw=True),
    ]
    steps = [para(step, s["step"], bullet=f"{n}.") for n, step in enumerate(ex.steps, start=1)]
    rows = [[para(f"{number}. {ex.name}", s["card_title"]), ""], [drawing, about], [steps, ""]]
    t = Table(rows, colWidths=[pic_w, width - pic_w])
    t.setStyle(
        layout.table_style(
            [
                ("SPAN", (0, 0), (1, 0)),
                ("SPAN", (0, 2), (1, 2)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("VALIGN", (0, 1), (0, 1), "MIDDLE"),
                ("BOX", (0, 0), (-1, -1), 0.8, layout.RULE),
                ("BACKGROUND", (0, 0), (-1, 0), layout.SHADE),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, layout.RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return t


def content_markup(text: str) -> str:
    from clinic_app.reports.fonts import markup

    return markup(text)


def _exercises(a: Assessment, s: Styles, width: float) -> list[Flowable]:
    text = content.handout_text()
    chosen = content.choose_exercises(a.exercises, a.advice)
    head: list[Flowable] = [
        para(text.text("exercises_heading"), s["h1"]),
        para(text.text("exercises_intro"), s["body"]),
    ]
    if a.red_flags:
        head.append(para(text.text("exercises_wait"), s["bold"]))
    out: list[Flowable] = []
    for n, ex in enumerate(chosen, start=1):
        card = [_exercise_card(ex, n, s, width), Spacer(1, 8)]
        out.append(KeepTogether([*head, *card] if n == 1 else card))
    return out


def _traffic_light(a: Assessment, s: Styles, width: float) -> list[Flowable]:
    text = content.handout_text()
    levels = text.run_levels()
    current = a.running.level.value if a.running is not None else None
    rows = []
    style: list[tuple[object, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
    ]
    for n, level in enumerate(reversed(TRAFFIC_ORDER)):
        info = levels[level]
        title = info.label
        if level == current:
            title += " ← you are here today"
            style.append(("BOX", (1, n), (1, n), 2.0, lamp_colour(level)))
        hex_colour = lamp_colour(level).hexval()[2:]
        rows.append(
            [
                "",
                [
                    para(
                        f'<font color="#{hex_colour}"><b>{content_markup(title)}</b></font>',
                        s["body"],
                        raw=True,
                    ),
                    para(info.text, s["body"]),
                ],
            ]
        )
    light = traffic_light_drawing(current, lamp=34)
    light_w = light.width + 10
    table = Table(rows, colWidths=[light_w, width - light_w])
    style.append(("SPAN", (0, 0), (0, -1)))
    table.setStyle(layout.table_style(style))
    table._cellvalues[0][0] = light  # the drawing spans every row
    out: list[Flowable] = [para(text.text("running_intro"), s["body"]), table]
    return [KeepTogether([para(text.text("running_heading"), s["h1"]), *out])]


def _tips(a: Assessment, s: Styles) -> list[Flowable]:
    text = content.handout_text()
    library = content.advice()
    ids = [aid for aid in dict.fromkeys((*a.advice, *ALWAYS_TIPS)) if aid not in NOT_TIPS]
    out: list[Flowable] = [para(text.text("tips_heading"), s["h1"])]
    for aid in ids:
        adv = library.get(aid)
        if adv is None:
            continue
        block: list[Flowable] = [para(adv.title, s["h2"])]
        block += [para(p, s["body"]) for p in adv.paragraphs]
        out.append(KeepTogether(block))
    return out


def _help(data: ReportData, s: Styles, width: float) -> list[Flowable]:
    text = content.handout_text()
    clinic = data.clinic
    contact: list[Flowable] = [para(text.text("contact_heading"), s["h2"])]
    line = clinic.name + (f", phone {clinic.phone}" if clinic.phone else "")
    contact.append(para(line, s["bold"]))
    if clinic.address:
        contact.append(para(", ".join(clinic.address.splitlines()), s["body"]))
    contact.append(para(f"Your therapist: {data.clinician.display}", s["body"]))
    items = [para(p, s["bullet"], bullet="•") for p in text.paragraphs("help_items")]
    out: list[Flowable] = [
        KeepTogether(
            [
                para(text.text("help_heading"), s["h1"]),
                _box(contact, width, layout.ACCENT, layout.SHADE),
            ]
        ),
        Spacer(1, 6),
        KeepTogether([para(text.text("help_intro"), s["body"]), *items]),
    ]
    urgent: list[Flowable] = [para(text.text("urgent_intro"), s["alert_title"])]
    urgent += [para(p, s["bullet"], bullet="•") for p in text.paragraphs("urgent_items")]
    out.append(Spacer(1, 4))
    out.append(_box(urgent, width, layout.ALERT, colors.white))
    out.append(Spacer(1, 6))
    out.append(para(text.text("disclaimer"), s["small"]))
    return out


def story(data: ReportData, width: float) -> list[Flowable]:
    s = layout.make_styles(BODY_PT)
    s.by_name["step"] = ParagraphStyle(
        "step",
        parent=s["body"],
        leftIndent=BODY_PT * 1.5,
        bulletIndent=0,
        spaceAfter=1,
        leading=BODY_PT * 1.25,
    )
    s.by_name["card_title"] = ParagraphStyle(
        "card_title", parent=s["h2"], spaceBefore=0, spaceAfter=0, textColor=layout.ACCENT
    )
    s.by_name["small"] = ParagraphStyle("small_handout", parent=s["small"], fontSize=11, leading=14)
    a = data.resolved_assessment()
    text = content.handout_text()
    who = [
        f"For {data.patient.name}" if data.patient.name else "For you",
        format_date(data.evaluation.date),
        f"Therapist: {data.clinician.display}",
    ]
    out: list[Flowable] = [
        layout.letterhead(data.clinic, s, width),
        Spacer(1, 8),
        para(text.text("title"), s["title"]),
        para(" · ".join(who), s["body"]),
        Spacer(1, 4),
    ]
    out += _red_flag_box(a, s, width)
    out += [para(p, s["body"]) for p in text.paragraphs("intro")]
    out += _found(a, s)
    out += _tips(a, s)
    out += _exercises(a, s, width)
    out += _traffic_light(a, s, width)
    out += _help(data, s, width)
    return out


def build(data: ReportData, target: Target) -> None:
    """Write the handout PDF to a path or a binary stream."""
    size = layout.page_size(data.clinic.paper)
    name = data.patient.name
    decor = layout.PageDecor(
        footer_left=f"{data.clinic.name} · home program for {name}" if name else data.clinic.name,
        header_left=data.clinic.name,
        header_right=f"Home program · {name}" if name else "Home program",
    )
    doc = BaseDocTemplate(
        target if not hasattr(target, "__fspath__") else str(target),
        pagesize=size,
        leftMargin=layout.MARGIN,
        rightMargin=layout.MARGIN,
        topMargin=layout.MARGIN,
        bottomMargin=layout.MARGIN,
        title=f"Home program: {name}",
        author=data.clinician.display,
        creator="clinic_app",
        initialFontName=fonts.SANS,
        invariant=1,  # same input, same bytes: no creation timestamp in the file
    )
    width = size[0] - 2 * layout.MARGIN
    frame = Frame(
        layout.MARGIN,
        layout.MARGIN,
        width,
        size[1] - 2 * layout.MARGIN,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(story(data, width), canvasmaker=layout.canvas_maker(decor))
