"""Page furniture shared by both documents: paper, styles, running footer, "Page x of y", DRAFT.

Imported only when a PDF is built (it imports reportlab at module level).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, Paragraph, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from clinic_app.reports import fonts
from clinic_app.reports.data import ClinicInfo, Paper, ReportData

INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#5b6673")
RULE = colors.HexColor("#c9d1da")
ACCENT = colors.HexColor("#1f5f8b")
SHADE = colors.HexColor("#eef3f7")
ALERT = colors.HexColor("#b42318")
ALERT_BG = colors.HexColor("#fdecea")
WARN = colors.HexColor("#b54708")
MARGIN = 18 * mm


def page_size(paper: Paper) -> tuple[float, float]:
    size = LETTER if paper == "Letter" else A4
    return float(size[0]), float(size[1])


@dataclass
class Styles:
    base: float
    by_name: dict[str, ParagraphStyle] = field(default_factory=dict)

    def __getitem__(self, name: str) -> ParagraphStyle:
        return self.by_name[name]


def make_styles(base: float, leading: float = 1.35) -> Styles:
    """Paragraph styles scaled from a body size (9.5 pt clinician report, 12 pt handout).

    ``leading`` is the line spacing of body text as a multiple of ``base``; headings keep theirs.
    """
    fonts.register_fonts()
    lead = base * leading
    s = Styles(base)

    def add(name: str, **kw: Any) -> None:
        opts: dict[str, Any] = {
            "fontName": fonts.SANS,
            "bulletFontName": fonts.SANS,
            "fontSize": base,
            "leading": lead,
            "textColor": INK,
            "alignment": TA_LEFT,
        }
        opts.update(kw)
        opts.setdefault("bulletFontSize", opts["fontSize"])
        s.by_name[name] = ParagraphStyle(name, **opts)

    add("body", spaceAfter=base * 0.45)
    add("small", fontSize=base * 0.82, leading=base * 1.1, textColor=MUTED)
    add("cell", fontSize=base * 0.9, leading=base * 1.15)
    add("cell_bold", fontName=fonts.SANS_BOLD, fontSize=base * 0.9, leading=base * 1.15)
    add("bullet", leftIndent=base * 1.2, bulletIndent=base * 0.2, spaceAfter=base * 0.3)
    add(
        "evidence",
        fontSize=base * 0.9,
        leading=base * 1.2,
        leftIndent=base * 1.6,
        bulletIndent=base * 0.6,
        textColor=INK,
    )
    add(
        "title",
        fontName=fonts.SANS_BOLD,
        fontSize=base * 1.9,
        leading=base * 2.3,
        textColor=ACCENT,
        spaceAfter=base * 0.3,
    )
    add(
        "h1",
        fontName=fonts.SANS_BOLD,
        fontSize=base * 1.35,
        leading=base * 1.7,
        textColor=ACCENT,
        spaceBefore=base * 1.0,
        spaceAfter=base * 0.4,
    )
    add(
        "h2",
        fontName=fonts.SANS_BOLD,
        fontSize=base * 1.1,
        leading=base * 1.4,
        spaceBefore=base * 0.6,
        spaceAfter=base * 0.2,
    )
    add("bold", fontName=fonts.SANS_BOLD)
    add(
        "letterhead",
        fontName=fonts.SANS_BOLD,
        fontSize=base * 1.6,
        leading=base * 1.9,
        textColor=ACCENT,
    )
    add(
        "alert_title",
        fontName=fonts.SANS_BOLD,
        fontSize=base * 1.15,
        leading=base * 1.45,
        textColor=ALERT,
        spaceAfter=base * 0.3,
    )
    return s


def table_style(commands: list[tuple[Any, ...]]) -> TableStyle:
    """A TableStyle whose default cell font is the embedded one (reportlab's is Helvetica)."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.SANS), *commands])


def para(
    text: str, style: ParagraphStyle, *, raw: bool = False, bullet: str | None = None
) -> Paragraph:
    """A paragraph from plain text (escaped, font-switched) or from ready markup (``raw``).

    Runs of CJK text have no spaces; reportlab's ``splitLongWords`` (on by default) breaks them
    at the line end, while Latin text keeps breaking between words.
    """
    markup = text if raw else fonts.markup(text)
    return Paragraph(markup, style, bulletText=bullet)


def logo_problem(data: bytes) -> str | None:
    """Why the logo bytes cannot be drawn (None when they can): checked whole, before drawing.

    A PNG cut short still has a readable size; reportlab fails only while writing the page, and
    the report would then fail for a reason that is not the PDF's. The one check shared with
    saving (``storage.logo.logo_problem``): structure, size, pixel dimensions, one decode.
    """
    from clinic_app.storage.logo import logo_problem as stored_logo_problem

    return stored_logo_problem(data)


def logo_flowable(data: bytes, max_w: float, max_h: float) -> Flowable | None:
    """The clinic logo scaled into a box, or None when the bytes are not a readable image."""
    from reportlab.lib.utils import ImageReader

    if logo_problem(data) is not None:  # a broken logo must not stop the report
        return None
    try:
        reader = ImageReader(io.BytesIO(data))
        iw, ih = reader.getSize()
    except Exception:  # noqa: BLE001 - a broken logo must not stop the report
        return None
    scale = min(max_w / iw, max_h / ih)
    return Image(io.BytesIO(data), width=iw * scale, height=ih * scale)


def letterhead(clinic: ClinicInfo, styles: Styles, width: float) -> Table:
    """Clinic name, address and phone, with the logo on the left when there is one."""
    lines = [para(clinic.name or "Clinic", styles["letterhead"])]
    if clinic.address:
        lines.append(para(", ".join(clinic.address.splitlines()), styles["small"]))
    if clinic.phone:
        lines.append(para(f"Phone {clinic.phone}", styles["small"]))
    logo = logo_flowable(clinic.logo, 30 * mm, 18 * mm) if clinic.logo else None
    if logo is not None:
        table = Table([[logo, lines]], colWidths=[34 * mm, width - 34 * mm])
    else:
        table = Table([[lines]], colWidths=[width])
    table.setStyle(
        table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ("LINEBELOW", (0, 0), (-1, -1), 1.2, ACCENT),
            ]
        )
    )
    return table


@dataclass(frozen=True)
class PageDecor:
    """What every page carries: footer text, the watermark, a running header after page 1."""

    footer_left: str
    header_right: str
    watermark: str | None = None
    header_left: str = ""
    side_margin: float = MARGIN
    """Left and right margin: the header and footer rules span the text width."""
    header_at: float = MARGIN - 6 * mm
    """From the top edge down to the running header's baseline (pages 2 on)."""
    footer_at: float = MARGIN - 9 * mm
    """From the bottom edge up to the footer's baseline; its rule is 4 mm higher."""


def canvas_maker(decor: PageDecor) -> Callable[..., Canvas]:
    """A Canvas class that defers page decoration to the end, so the total page count is known."""

    class DecoratedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                Canvas.showPage(self)
            Canvas.save(self)

        def _decorate(self, number: int, total: int) -> None:
            w, h = self._pagesize
            side = decor.side_margin
            usable = w - 2 * side
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.6)
            foot = decor.footer_at
            self.line(side, foot + 4 * mm, w - side, foot + 4 * mm)
            self.setFillColor(MUTED)
            label = f"Page {number} of {total}"
            self.setFont(fonts.SANS, 7.5)
            self.drawRightString(w - side, foot, label)
            room = usable - fonts.string_width(label, fonts.SANS, 7.5) - 12
            footer = fit_text(decor.footer_left, fonts.SANS, 7.5, room)
            fonts.draw_string(self, side, foot, footer, fonts.SANS, 7.5)
            if number > 1:
                y = h - decor.header_at
                left = fit_text(decor.header_left, fonts.SANS_BOLD, 8, usable * 0.45)
                fonts.draw_string(self, side, y, left, fonts.SANS_BOLD, 8)
                right = fit_text(decor.header_right, fonts.SANS, 8, usable * 0.5)
                right_w = fonts.string_width(right, fonts.SANS, 8)
                fonts.draw_string(self, w - side - right_w, y, right, fonts.SANS, 8)
                self.line(side, y - 2 * mm, w - side, y - 2 * mm)
            self.restoreState()

    return DecoratedCanvas


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis so it fits ``width`` points on one line."""
    if fonts.string_width(text, font, size) <= width:
        return text
    while text and fonts.string_width(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def draw_watermark(canvas: Canvas, text: str) -> None:
    """Large pale diagonal text behind the page content (drawn before the flowables)."""
    w, h = canvas._pagesize
    canvas.saveState()
    canvas.setFillColor(colors.Color(0.75, 0.12, 0.1, alpha=0.13))
    canvas.setFont(fonts.SANS_BOLD, 110)
    canvas.translate(w / 2, h / 2)
    canvas.rotate(52)
    canvas.drawCentredString(0, -35, text)
    canvas.restoreState()


# What the page furniture shows of each text a person typed (the letterhead, the masthead, the
# identity table, the running header and footer). The stored records hold no more (the column
# lengths; storage/records/clinic.py limits the address); a longer value stored before those
# limits, or handed in by a script, is cut here with a visible "…" instead of making every report
# fail with reportlab's LayoutError (a table cell taller than a page cannot be split).
HEADER_LIMITS = {
    "clinic name": 200,
    "clinic address": 300,
    "clinic phone": 50,
    "clinician name": 200,
    "credentials": 100,
    "patient name": 201,
    "medical record number": 64,
}
ADDRESS_LINES = 6
CUT = "…"


def cut_text(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and a visible "…"."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + CUT


def cut_address(address: str) -> str:
    """At most ``ADDRESS_LINES`` lines and the address limit; a cut shows as "…"."""
    lines = [line.strip() for line in address.splitlines() if line.strip()]
    kept = "\n".join(lines[:ADDRESS_LINES])
    limit = HEADER_LIMITS["clinic address"]
    if len(lines) > ADDRESS_LINES:
        kept = kept[: limit - 1].rstrip() + CUT
    return cut_text(kept, limit)


def fit_header(data: ReportData) -> ReportData:
    """``data`` with every text of the page furniture cut to what a page holds (see above)."""
    from dataclasses import replace

    limit = HEADER_LIMITS
    clinic = replace(
        data.clinic,
        name=cut_text(data.clinic.name, limit["clinic name"]),
        address=cut_address(data.clinic.address),
        phone=cut_text(data.clinic.phone, limit["clinic phone"]),
    )
    clinician = replace(
        data.clinician,
        name=cut_text(data.clinician.name, limit["clinician name"]),
        credentials=cut_text(data.clinician.credentials, limit["credentials"]),
    )
    patient = replace(
        data.patient,
        name=cut_text(data.patient.name, limit["patient name"]),
        mrn=cut_text(data.patient.mrn, limit["medical record number"]),
    )
    if (clinic, clinician, patient) == (data.clinic, data.clinician, data.patient):
        return data
    return replace(data, clinic=clinic, clinician=clinician, patient=patient)


def build_document(
    target: Any,
    paper: Paper,
    decor: PageDecor,
    make_story: Callable[[float], list[Flowable]],
    *,
    title: str,
    author: str,
    subject: str,
) -> None:
    """One frame per page inside the margins, the watermark behind each page, the running header
    and footer of ``decor``: the page set-up of the clinician report, for the episode's documents
    (visit note, progress report). ``make_story(width)`` gives the flowables; same input, same
    bytes."""
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    size = page_size(paper)
    doc = BaseDocTemplate(
        target if not hasattr(target, "__fspath__") else str(target),
        pagesize=size,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author=author,
        subject=subject,
        creator="clinic_app",
        initialFontName=fonts.SANS,
        invariant=1,
    )
    width = size[0] - 2 * MARGIN
    frame = Frame(
        MARGIN,
        MARGIN,
        width,
        size[1] - 2 * MARGIN,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )

    def on_page(canvas: Canvas, _doc: object) -> None:
        if decor.watermark:
            draw_watermark(canvas, decor.watermark)

    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page)])
    doc.build(make_story(width), canvasmaker=canvas_maker(decor))
