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
from reportlab.platypus import CondPageBreak, Image, Paragraph, Table, TableStyle
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


def heading_room(s: Styles, *styles: str, lines: int = 2) -> CondPageBreak:
    """A page break unless there is room for headings of ``styles`` and ``lines`` lines of body
    text under them: a heading never ends a page with its text on the next. (Styles made
    ``keepWithNext`` instead moved whole tables after their heading to the next page.)"""
    room = sum(s[n].spaceBefore + s[n].leading + s[n].spaceAfter for n in styles)
    return CondPageBreak(room + lines * s["body"].leading)


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
    """What every page carries: footer text, the watermark, a running header after page 1.

    ``footer_left`` and ``header_right`` are parts joined by " · ": a line breaks between parts.
    """

    footer_left: str
    header_right: str
    watermark: str | None = None
    header_left: str = ""
    keep: tuple[str, ...] = ()
    """Parts never shortened (the status): only a name too long for the lines is cut."""
    side_margin: float = MARGIN
    """Left and right margin: the header and footer rules span the text width."""
    header_at: float = MARGIN - 6 * mm
    """From the top edge down to the running header's baseline (pages 2 on)."""
    footer_at: float = MARGIN - 9 * mm
    """From the bottom edge up to the footer's baseline; its rule is 4 mm higher. Two lines of
    header or footer sit half a line either side of these baselines."""


SEP = " · "
MAX_LINES = 2
"""Lines the header or the footer may take: two fit between the page edge and the body."""
GAP = 12.0
FOOT_SIZE = 7.5
HEAD_SIZE = 8.0
Line = tuple[str, str]
"""One line of page furniture: the text at its left edge and the text at its right edge."""


def _parts(text: str) -> list[str]:
    return [p for p in text.split(SEP) if p]


def _width(parts: list[str], font: str, size: float) -> float:
    return fonts.string_width(SEP.join(parts), font, size) if parts else 0.0


def _splits(n: int, lines: int) -> list[list[int]]:
    """Every way to cut ``n`` parts into ``lines`` runs in order (as the cut positions)."""
    if lines == 1:
        return [[]]
    return [[i, *(i + c for c in rest)] for i in range(1, n) for rest in _splits(n - i, lines - 1)]


def _flow(parts: list[str], font: str, size: float, rooms: list[float]) -> list[list[str]] | None:
    """``parts`` on ``len(rooms)`` lines (line i at most ``rooms[i]`` wide), the longest line
    as short as it can be; None when they do not fit. Few parts: every break is tried."""
    best: tuple[float, list[list[str]]] | None = None
    for cuts in _splits(len(parts), len(rooms)) if len(parts) >= len(rooms) else []:
        bounds = [0, *cuts, len(parts)]
        runs = [parts[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        widths = [_width(run, font, size) for run in runs]
        fits = all(w <= room for w, room in zip(widths, rooms, strict=True))
        if fits and (best is None or max(widths) < best[0]):
            best = (max(widths), runs)
    return best[1] if best is not None else None


def _shorten(
    parts: list[str], keep: tuple[str, ...], faces: list[str], size: float, room: float
) -> bool:
    """Cut the widest part not in ``keep`` (part i in font ``faces[i]``): first to ``room``, then
    by a sixth of its width at a time. False when nothing is left to cut."""
    cuttable = [i for i, p in enumerate(parts) if p not in keep and p.rstrip(CUT)]
    if not cuttable:
        return False
    i = max(cuttable, key=lambda j: fonts.string_width(parts[j], faces[j], size))
    wide = fonts.string_width(parts[i], faces[i], size)
    parts[i] = fit_text(parts[i], faces[i], size, min(room, wide * 5 / 6))
    return True


def footer_lines(
    parts: tuple[str, ...] | list[str],
    label: str,
    width: float,
    *,
    keep: tuple[str, ...] = (),
    size: float = FOOT_SIZE,
) -> list[Line]:
    """The footer: ``parts`` on one line, else on up to ``MAX_LINES``, ``label`` (the page
    number) at the right of the last; a part is cut with "…" only when they cannot fit, the
    widest first and the ones in ``keep`` last."""
    font = fonts.SANS
    parts = list(parts)
    faces = [font] * len(parts)
    label_room = width - fonts.string_width(label, font, size) - GAP
    while True:
        for n in range(1, MAX_LINES + 1):
            runs = _flow(parts, font, size, [width] * (n - 1) + [label_room])
            if runs is not None:
                return [(SEP.join(run), "") for run in runs[:-1]] + [(SEP.join(runs[-1]), label)]
        if not _shorten(parts, keep, faces, size, width) and not _shorten(
            parts, (), faces, size, width
        ):
            return [(SEP.join(parts), label)]


def _header_fit(left: str, parts: list[str], width: float, size: float) -> list[Line] | None:
    """``left`` and ``parts`` on one line, else on two: ``left`` and the first parts that fit
    beside it, the rest below at the right, the longer line as short as it can be."""
    font = fonts.SANS
    left_w = fonts.string_width(left, fonts.SANS_BOLD, size)

    def beside(k: int) -> float:
        return left_w + (GAP if left else 0.0) + _width(parts[:k], font, size) if k else left_w

    if beside(len(parts)) <= width:
        return [(left, SEP.join(parts))]
    options = [
        (max(beside(k), _width(parts[k:], font, size)), k)
        for k in range(len(parts))
        if beside(k) <= width and _width(parts[k:], font, size) <= width
    ]
    if not options:
        return None
    k = min(options)[1]
    return [(left, SEP.join(parts[:k])), ("", SEP.join(parts[k:]))]


def header_lines(
    left: str,
    parts: tuple[str, ...] | list[str],
    width: float,
    *,
    keep: tuple[str, ...] = (),
    size: float = HEAD_SIZE,
) -> list[Line]:
    """The running header: ``left`` (the clinic, bold) and ``parts`` (the document, whose it is,
    its status) at the right, on one line or two; cut as in :func:`footer_lines`."""
    items = [left, *parts]
    faces = [fonts.SANS_BOLD] + [fonts.SANS] * len(parts)
    while True:
        lines = _header_fit(items[0], items[1:], width, size)
        if lines is not None:
            return lines
        if not _shorten(items, keep, faces, size, width) and not _shorten(
            items, (), faces, size, width
        ):
            return [(items[0], SEP.join(items[1:]))]


def canvas_maker(decor: PageDecor) -> Callable[..., Canvas]:
    """A Canvas class that defers page decoration to the end, so the total page count is known."""
    lines: dict[tuple[float, int], tuple[list[Line], list[Line]]] = {}

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
            if (usable, total) not in lines:  # laid out once, with room for the widest number
                widest = f"Page {total} of {total}"
                lines[usable, total] = (
                    footer_lines(_parts(decor.footer_left), widest, usable, keep=decor.keep),
                    header_lines(
                        decor.header_left, _parts(decor.header_right), usable, keep=decor.keep
                    ),
                )
            foot, head = lines[usable, total]
            foot = [*foot[:-1], (foot[-1][0], f"Page {number} of {total}")]
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.6)
            self.setFillColor(MUTED)
            # two lines sit half a line lower and higher than one, the rule closer above them
            lead = FOOT_SIZE * 1.2
            y = decor.footer_at - (len(foot) - 1) * lead / 2
            top = y + (len(foot) - 1) * lead
            rise = 4 * mm if len(foot) == 1 else 3.5 * mm
            self.line(side, top + rise, w - side, top + rise)
            for i, (left, right) in enumerate(foot):
                at = top - i * lead
                fonts.draw_string(self, side, at, left, fonts.SANS, FOOT_SIZE)
                right_w = fonts.string_width(right, fonts.SANS, FOOT_SIZE)
                fonts.draw_string(self, w - side - right_w, at, right, fonts.SANS, FOOT_SIZE)
            if number > 1:
                lead = HEAD_SIZE * 1.2
                y = h - decor.header_at + (len(head) - 1) * lead / 2
                for left, right in head:
                    fonts.draw_string(self, side, y, left, fonts.SANS_BOLD, HEAD_SIZE)
                    right_w = fonts.string_width(right, fonts.SANS, HEAD_SIZE)
                    fonts.draw_string(self, w - side - right_w, y, right, fonts.SANS, HEAD_SIZE)
                    y -= lead
                self.line(side, y + lead - 2 * mm, w - side, y + lead - 2 * mm)
            self.restoreState()

    return DecoratedCanvas


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis so it fits ``width`` points on one line."""
    if fonts.string_width(text, font, size) <= width:
        return text
    low, high = 0, len(text)  # the longest start that fits with the mark: a binary search
    while low < high:
        mid = (low + high + 1) // 2
        if fonts.string_width(text[:mid] + "…", font, size) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + "…"


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
