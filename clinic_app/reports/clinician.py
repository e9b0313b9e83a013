"""The clinician report: red flags first, then the reasoning, the findings and the plan.

Built with reportlab platypus from a :class:`ReportData`; no Qt, no database. What it names comes
from the form: the source legend from its ``sources`` table, the body chart from its ``regions``
item, the closing "Assessment and plan" from its ``plan_section``.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Spacer,
    Table,
)

from clinic_app.core.changes import previous_note
from clinic_app.core.engine import Assessment, RuleResult, format_value
from clinic_app.core.findings import Findings
from clinic_app.core.form import NUMERIC_TYPES, SIDES, Form, Item, ItemType, Side, cited_sources
from clinic_app.core.symmetry import DEFICIT_FORMULA, Asymmetry, grades_text
from clinic_app.reports import layout
from clinic_app.reports.data import ReportData, format_date, format_datetime
from clinic_app.reports.drawings import (
    ROW_MIN,
    BarRow,
    bar_row_height,
    body_chart_drawing,
    side_to_side_drawing,
)
from clinic_app.reports.fonts import markup
from clinic_app.reports.free_text import text_paragraphs
from clinic_app.reports.layout import Styles, heading_room, para
from clinic_app.reports.layout_types import Target

DECISION_LINE = (
    "The app suggests; the therapist decides. The contributing factors and patterns below are "
    "suggestions drawn from the recorded findings, each listed with the findings that triggered it."
)
URGENCY_LABEL = {"emergency": "EMERGENCY", "urgent": "URGENT", "soon": "SOON"}


def _box(content: list[Flowable], width: float, border: colors.Color, fill: colors.Color) -> Table:
    t = Table([[content]], colWidths=[width])
    t.setStyle(
        layout.table_style(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, border),
                ("BACKGROUND", (0, 0), (-1, -1), fill),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return t


def _grid(
    rows: list[list[Flowable | str]],
    widths: Sequence[float],
    *,
    header: bool = True,
    extra: Sequence[tuple[object, ...]] = (),
) -> Table:
    """A table that splits across pages, repeating its header row."""
    t = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0)
    style: list[tuple[object, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, layout.RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), layout.SHADE),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, layout.ACCENT),
        ]
    t.setStyle(layout.table_style([*style, *extra]))
    return t


# ---------------------------------------------------------------------------------------------
# sections


def _identity(data: ReportData, s: Styles, width: float) -> Table:
    p, ev = data.patient, data.evaluation
    status = "Signed" if ev.is_signed else "Draft (not signed)"
    if ev.awaiting_cosignature:
        status = "Draft: awaiting co-signature"
    cells = [
        ("Patient", p.name or "not recorded", "Evaluation date", format_date(ev.date)),
        ("Date of birth", format_date(p.date_of_birth), "Kind", ev.kind),
        ("MRN", p.mrn or "not recorded", "Status", status),
        ("Clinician", data.clinician.display, "Form", f"{data.form.title} (v{data.form.version})"),
    ]
    rows = [
        [para(a, s["cell_bold"]), para(b, s["cell"]), para(c, s["cell_bold"]), para(d, s["cell"])]
        for a, b, c, d in cells
    ]
    w = width
    return _grid(
        rows,
        [w * 0.15, w * 0.35, w * 0.17, w * 0.33],
        header=False,
        extra=[
            ("BACKGROUND", (0, 0), (0, -1), layout.SHADE),
            ("BACKGROUND", (2, 0), (2, -1), layout.SHADE),
        ],
    )


def _red_flags(a: Assessment, s: Styles, width: float) -> list[Flowable]:
    out: list[Flowable] = [heading_room(s, "h1"), para("Red flags", s["h1"])]
    if not a.red_flags:
        out.append(para("No red flag was triggered by the recorded findings.", s["body"]))
        return out
    for flag in a.red_flags:
        label = URGENCY_LABEL.get(flag.urgency.value, flag.urgency.value.upper())
        content: list[Flowable] = [
            para(f"{label}: {flag.name}", s["alert_title"]),
            para(flag.message, s["body"]),
        ]
        content += [para(e.text, s["evidence"], bullet="•") for e in flag.evidence]
        content.append(para("Sources: " + ", ".join(flag.sources), s["small"]))
        out.append(_box(content, width, layout.ALERT, layout.ALERT_BG))
        out.append(Spacer(1, 4))
    return out


def _rule_block(r: RuleResult, s: Styles) -> list[Flowable]:
    tags = [f"{r.strength} of {r.indicators} indicators"]
    if r.region and r.region != "pattern":
        tags.append(f"region: {r.region}")
    tags.append("sources: " + ", ".join(r.sources))
    title = markup(f"{r.id}  {r.name}")
    if r.opinion:
        title += ' <font color="#b54708">[opinion]</font>'
    if not r.confirmed:
        title += ' <font color="#b54708">[possible, not confirmed]</font>'
    out: list[Flowable] = [
        para(title, s["h2"], raw=True),
        para(" · ".join(tags), s["small"]),
    ]
    if not r.confirmed:
        out.append(para("Would be confirmed by: " + " or ".join(r.would_confirm), s["small"]))
    out += [para(e.text, s["evidence"], bullet="•") for e in r.evidence]
    if r.opinion:
        out.append(
            para(
                "Opinion: one author's claim in the sources, not established evidence.", s["small"]
            )
        )
    if r.note:
        out.append(para(f"Note: {r.note}", s["small"]))
    return out


def _rules(title: str, rules: Sequence[RuleResult], none: str, s: Styles) -> list[Flowable]:
    """A heading and its factors or patterns, each kept whole; the heading goes with the first."""
    heading = para(title, s["h1"])
    if not rules:
        return [KeepTogether([heading, para(none, s["body"])])]
    blocks = [_rule_block(r, s) for r in rules]
    return [KeepTogether([heading, *blocks[0]]), *(KeepTogether(b) for b in blocks[1:])]


def _factors(a: Assessment, s: Styles) -> list[Flowable]:
    out = _rules(
        "Contributing factors (strongest first)",
        a.factors,
        "No contributing factor was suggested by the recorded findings.",
        s,
    )
    out += _rules(
        "Patterns (what the pain may be)",
        a.patterns,
        "No pattern was suggested by the recorded findings.",
        s,
    )
    if a.running is not None:
        out += [heading_room(s, "h1"), para("Running guidance", s["h1"])]
        out.append(para(f"{a.running.label}: {a.running.message}", s["body"]))
        out += [para(e.text, s["evidence"], bullet="•") for e in a.running.evidence]
    return out


def _sided_text(item: Item, findings: Findings, side: Side) -> str:
    v = findings.get(item.id, side)
    return "" if v is None else format_value(item, v)


CARRIED_MARK = "↻"


def _with_history(data: ReportData, item: Item, text: str, side: Side | None = None) -> str:
    """A value with its history: ↻ when carried forward and not re-measured, else the last
    visit's value and the change (ordinal grades by name, numbers by a signed amount)."""
    if not text:
        return text
    if item.id in data.carried:
        return f"{text} {CARRIED_MARK}"
    previous = data.previous.get(item.id)
    if previous is None:
        return text
    note = previous_note(item, previous, data.findings.values.get(item.id), side)
    return f"{text} (last visit {note})" if note else text


def _asym_text(asym: Asymmetry, item: Item) -> tuple[str, bool]:
    if asym.method == "grades":  # MMT grades are ordinal: in grades, never % or LSI
        return grades_text(asym), asym.exceeds
    if asym.method == "difference":
        text = f"{format_value(item, asym.difference)} difference"
        if asym.threshold is not None:
            text += f" (MDD {format_value(item, asym.threshold)})"
    else:
        text = f"{asym.deficit_pct:.0f}% deficit"
        if asym.threshold is not None:
            text += f" (threshold {asym.threshold:g}%)"
    if asym.worse is not None and asym.difference > 0:
        text += f", {asym.worse} worse"
    if asym.lsi is not None:
        text += f"; LSI {asym.lsi:.0f}%"
    return text, asym.exceeds


def _findings(data: ReportData, a: Assessment, s: Styles, width: float) -> list[Flowable]:
    form, findings = data.form, data.findings
    out: list[Flowable] = [CondPageBreak(70 * mm), para("Findings by region", s["h1"])]
    if findings.is_empty():
        out.append(para("Nothing was recorded in this evaluation.", s["body"]))
        return out
    out.append(
        para(
            f"Only recorded findings are listed. Side-to-side comparison: {DEFICIT_FORMULA} for "
            "strength and endurance; degrees are compared as an absolute difference against the "
            "minimal detectable difference (MDD); manual muscle test grades are ordinal and are "
            "compared in grades (4− < 4 < 4+ < 5), never as a percentage. Thresholds come from "
            "the form. "
            "▲ marks a gap past its threshold.",
            s["small"],
        )
    )
    if data.carried or data.previous:
        out.append(
            para(
                f"{CARRIED_MARK} marks a value carried forward from the last visit and not "
                're-measured or confirmed; "last visit" gives the earlier value and the change.',
                s["small"],
            )
        )
    by_item = {x.item_id: x for x in a.asymmetries}
    for section in form.sections:
        if section.id == form.plan_section:
            continue
        single: list[list[Flowable | str]] = []
        sided: list[list[Flowable | str]] = []
        flagged_rows: list[int] = []
        texts: list[Flowable] = []
        for item in section.items:
            if item.id not in findings.values:
                continue
            if item.type is ItemType.TEXT and not item.bilateral:
                value = findings.get(item.id)
                texts.append(para(item.label, s["cell_bold"]))
                texts.append(para(str(value), s["body"]))
                continue
            if item.bilateral:
                asym = by_item.get(item.id)
                note, flagged = _asym_text(asym, item) if asym else ("", False)
                if flagged:
                    note = "▲ " + note
                    flagged_rows.append(len(sided) + 1)
                sided.append(
                    [
                        para(item.label, s["cell"]),
                        para(
                            _with_history(data, item, _sided_text(item, findings, "left"), "left"),
                            s["cell"],
                        ),
                        para(
                            _with_history(
                                data, item, _sided_text(item, findings, "right"), "right"
                            ),
                            s["cell"],
                        ),
                        para(note, s["cell_bold"] if flagged else s["cell"]),
                    ]
                )
            else:
                value = findings.get(item.id)
                assert value is not None
                shown = _with_history(data, item, format_value(item, value))
                single.append([para(item.label, s["cell"]), para(shown, s["cell"])])
        if not (single or sided or texts):
            continue
        out.append(CondPageBreak(40 * mm))
        out.append(para(section.title, s["h2"]))
        if single:
            head = [para("Measure", s["cell_bold"]), para("Value", s["cell_bold"])]
            out.append(_grid([head, *single], [width * 0.45, width * 0.55]))
            out.append(Spacer(1, 4))
        if sided:
            head = [para(h, s["cell_bold"]) for h in ("Measure", "Left", "Right", "Asymmetry")]
            extra = [("TEXTCOLOR", (3, r), (3, r), layout.ALERT) for r in flagged_rows]
            extra += [("BACKGROUND", (3, r), (3, r), layout.ALERT_BG) for r in flagged_rows]
            out.append(
                _grid(
                    [head, *sided],
                    [width * 0.34, width * 0.16, width * 0.16, width * 0.34],
                    extra=extra,
                )
            )
            out.append(Spacer(1, 4))
        out += texts
    return out


def _bar_rows(form: Form, a: Assessment) -> list[BarRow]:
    rows = []
    for asym in a.asymmetries:
        item = form.item(asym.item_id)
        if item.type not in NUMERIC_TYPES:
            continue
        note, flagged = _asym_text(asym, item)
        rows.append(
            BarRow(
                item.label,
                asym.left,
                asym.right,
                format_value(item, asym.left),
                format_value(item, asym.right),
                flagged,
                note,
            )
        )
    return rows


def _chart(form: Form, a: Assessment, s: Styles, width: float) -> list[Flowable]:
    rows = _bar_rows(form, a)
    if not rows:
        return []
    out: list[Flowable] = [
        CondPageBreak(60 * mm),
        para("Side-to-side comparison", s["h1"]),
        para(
            "Each pair of bars is scaled to the larger of the two sides; "
            "absolute values are printed beside the bars.",
            s["small"],
        ),
    ]
    # chunks by height, no taller than 18 one-line rows were (a drawing never splits)
    room = 18 * ROW_MIN
    chunk: list[BarRow] = []
    used = 0.0
    for row in rows:
        h = bar_row_height(row, width)
        if chunk and used + h > room:
            out += [side_to_side_drawing(chunk, width), Spacer(1, 6)]
            chunk, used = [], 0.0
        chunk.append(row)
        used += h
    out += [side_to_side_drawing(chunk, width), Spacer(1, 6)]
    return out


def marked_regions(
    form: Form, findings: Findings, involved: str | None
) -> dict[Side, tuple[str, ...]]:
    """Pain regions per side from the form's body-chart item (one-sided: the painful side)."""
    item = form.body_chart_item
    if item is None:
        return {}
    if item.bilateral:
        out: dict[Side, tuple[str, ...]] = {}
        for side in SIDES:
            v = findings.get(item.id, side)
            if isinstance(v, tuple) and v:
                out[side] = v
        return out
    v = findings.get(item.id)
    if not isinstance(v, tuple) or not v:
        return {}
    sides: tuple[Side, ...] = (involved,) if involved in SIDES else SIDES
    return dict.fromkeys(sides, v)


def _body_chart(data: ReportData, a: Assessment, s: Styles, width: float) -> list[Flowable]:
    marked = marked_regions(data.form, data.findings, a.involved)
    if not marked:
        return []
    item = data.form.body_chart_item
    assert item is not None  # marked regions come from it
    lines: list[Flowable] = [para("Marked pain regions", s["h2"])]
    for side in SIDES:
        ids = marked.get(side, ())
        if ids:
            names = ", ".join(item.choice_label(r) for r in ids)
            lines.append(para(f"{side.capitalize()}: {names}", s["body"]))
    lines.append(para("Posterior view: the patient's left is on the viewer's left.", s["small"]))
    drawing = body_chart_drawing(marked, 52 * mm)
    t = Table([[drawing, lines]], colWidths=[60 * mm, width - 60 * mm])
    t.setStyle(
        layout.table_style(
            [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
        )
    )
    return [CondPageBreak(110 * mm), para("Body chart", s["h1"]), t]


def _plan(data: ReportData, s: Styles) -> list[Flowable]:
    out: list[Flowable] = [heading_room(s, "h1", "h2"), para("Assessment and plan", s["h1"])]
    plan = data.form.plan_section
    section = next((x for x in data.form.sections if x.id == plan), None) if plan else None
    found = False
    if section is not None:
        for item in section.items:
            value = data.findings.get(item.id)
            if value is None or value == "":
                continue
            found = True
            out += [heading_room(s, "h2"), para(item.label, s["h2"])]
            text = format_value(item, value) if not isinstance(value, str) else value
            out += text_paragraphs(text, s["body"])
    if not found:
        out.append(para("No assessment or plan was recorded.", s["body"]))
    return out


def _addenda(data: ReportData, s: Styles) -> list[Flowable]:
    addenda = data.evaluation.addenda_list()
    if not addenda:
        return []
    out: list[Flowable] = [heading_room(s, "h1", "h2"), para("Addenda", s["h1"])]
    for ad in addenda:
        out.append(para(f"{format_datetime(ad.time)}, {ad.author}", s["h2"]))
        out += text_paragraphs(ad.text, s["body"])
    return out


def _signature(data: ReportData, s: Styles, width: float) -> list[Flowable]:
    ev = data.evaluation
    if ev.awaiting_cosignature and ev.prepared is not None:
        return [
            Spacer(1, 8),
            _box(
                [
                    para("AWAITING CO-SIGNATURE: not signed yet.", s["alert_title"]),
                    para(
                        f"Prepared by {ev.prepared.display} on "
                        f"{format_datetime(ev.prepared.at)}. A therapist has not co-signed it; "
                        "this report may still change.",
                        s["body"],
                    ),
                ],
                width,
                layout.WARN,
                colors.HexColor("#fff4e5"),
            ),
        ]
    if not ev.is_signed:
        return [
            Spacer(1, 8),
            _box(
                [para("DRAFT: not signed. This report may still change.", s["alert_title"])],
                width,
                layout.WARN,
                colors.HexColor("#fff4e5"),
            ),
        ]
    if ev.prepared is not None and ev.signed_as is not None:
        signed = [
            para(
                f"Prepared by {ev.prepared.display} on {format_datetime(ev.prepared.at)} · "
                f"Co-signed by {ev.signed_as.display} on {format_datetime(ev.signed_at)}",
                s["body"],
            )
        ]
    else:
        who = ev.signed_as.display if ev.signed_as else ev.signer or data.clinician.display
        signed = [
            para(f"Signed by: {who}", s["body"]),
            para(f"Signed at: {format_datetime(ev.signed_at)}", s["body"]),
        ]
    lines: list[Flowable] = [
        para("Electronically signed", s["alert_title"]),
        *signed,
        para(f"Content hash (SHA-256): {ev.content_hash or 'not recorded'}", s["small"]),
        para(
            "The hash identifies the signed content; any later change would alter it. "
            "Changes after signing appear only as addenda.",
            s["small"],
        ),
    ]
    if ev.seal_problem:
        lines.insert(0, para(_seal_broken_text(ev.seal_problem)[0], s["alert_title"]))
    elif ev.sealed:
        lines.append(
            para("Seal: the Ed25519 signature over this content was verified.", s["small"])
        )
    box = _box(lines, width, layout.ACCENT, layout.SHADE)

    return [Spacer(1, 8), KeepTogether([para("Signature", s["h1"]), box])]


SEAL_BROKEN = "SEAL BROKEN"


def _seal_broken_text(problem: str) -> tuple[str, str]:
    """The red box's title and its advice (a key not trusted here is not a changed record)."""
    from clinic_app.storage.signer_seals import seal_headline

    heading, advice = seal_headline([problem])
    what = problem.replace("changed after signing: ", "")  # the heading says it already
    return f"{heading}: {what}", advice


def _seal_warning(data: ReportData, s: Styles, width: float) -> list[Flowable]:
    """A signed record that no longer matches its seal says so first (and across every page)."""
    problem = data.evaluation.seal_problem if data.evaluation.is_signed else None
    if not problem:
        return []
    title, advice = _seal_broken_text(problem)
    return [
        Spacer(1, 6),
        _box(
            [para(title, s["alert_title"]), para(advice, s["body"])],
            width,
            layout.ALERT,
            layout.ALERT_BG,
        ),
    ]


def _sources_legend(form: Form, a: Assessment, s: Styles) -> list[Flowable]:
    """The form's description of each source the suggested factors, patterns and flags cite."""
    cited = [src for r in (*a.factors, *a.patterns) for src in r.sources]
    cited += [src for f in a.red_flags for src in f.sources]
    used = {sid for text in cited for sid in cited_sources(text)}
    known = [f"{x.id} {x.description}" for x in form.sources if x.legend and x.id in used]
    if not known:
        return []
    return [Spacer(1, 6), para("Sources: " + "; ".join(known) + ".", s["small"])]


def story(data: ReportData, width: float) -> list[Flowable]:
    s = layout.make_styles(9.5)
    a = data.resolved_assessment()
    out: list[Flowable] = [
        layout.letterhead(data.clinic, s, width),
        Spacer(1, 8),
        para("Clinician report: posterior thigh evaluation", s["title"]),
        _identity(data, s, width),
        *_seal_warning(data, s, width),
        Spacer(1, 6),
        _box([para(DECISION_LINE, s["small"])], width, layout.RULE, colors.white),
    ]
    out += _red_flags(a, s, width)
    out += [heading_room(s, "h1"), para("Source or victim?", s["h1"])]
    out.append(para(a.summary.text, s["body"]))
    out += _factors(a, s)
    out += _sources_legend(data.form, a, s)
    out += _findings(data, a, s, width)
    out += _chart(data.form, a, s, width)
    out += _body_chart(data, a, s, width)
    out += _plan(data, s)
    out += _addenda(data, s)
    out += _signature(data, s, width)
    return out


def _state(data: ReportData) -> str:
    if not data.evaluation.is_signed:
        return "DRAFT"
    return SEAL_BROKEN if data.evaluation.seal_problem else "signed"


def _decor(data: ReportData) -> layout.PageDecor:
    p = data.patient
    bits = [p.name or "Patient"]
    if p.date_of_birth:
        bits.append(f"DOB {format_date(p.date_of_birth)}")
    if p.mrn:
        bits.append(f"MRN {p.mrn}")
    bits.append(f"evaluation {format_date(data.evaluation.date)}")
    return layout.PageDecor(
        footer_left=" · ".join(bits) + " · " + _state(data),
        header_left=data.clinic.name,
        header_right=f"Clinician report · {p.name}",
        watermark=None if _state(data) == "signed" else _state(data),
        keep=(_state(data),),
    )


def build_clinician_report(data: ReportData, target: Target) -> None:
    """Write the clinician report PDF to a path or a binary stream."""
    build(data, target)


def build(data: ReportData, target: Target) -> None:
    layout.build_document(
        target,
        data.clinic.paper,
        _decor(data),
        lambda width: story(data, width),
        title=f"Clinician report: {data.patient.name}",
        author=data.clinician.display,
        subject=f"{data.evaluation.kind}, {format_date(data.evaluation.date)}",
    )


__all__ = ["Target", "build_clinician_report", "marked_regions", "story"]
