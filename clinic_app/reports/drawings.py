"""Vector drawings for the PDFs: the body chart, the side-to-side bars and the traffic light."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors

from clinic_app.core.body_chart import BodyChart, Point, Side, load_body_chart
from clinic_app.reports import fonts
from clinic_app.reports.bar_rows import wrap

SKIN = colors.HexColor("#f7f1ea")
OUTLINE = colors.HexColor("#3d4854")
REGION_LINE = colors.HexColor("#b8c0c9")
MARK = colors.HexColor("#d64532")
LEFT_COLOUR = colors.HexColor("#1f5f8b")
RIGHT_COLOUR = colors.HexColor("#e0813a")
FLAG = colors.HexColor("#b42318")
TEXT = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#5b6673")


def _flat(points: Sequence[Point], height: float) -> list[float]:
    out: list[float] = []
    for x, y in points:
        out.extend((x, height - y))
    return out


def body_chart_drawing(
    marked: Mapping[Side, Sequence[str]], width: float, chart: BodyChart | None = None
) -> Drawing:
    """The posterior body chart with ``marked[side]`` region ids filled; ``width`` in points."""
    bc = chart or load_body_chart()
    h = bc.height
    fonts.register_fonts()
    g = Group()
    for poly in bc.outline:
        g.add(Polygon(_flat(poly.points, h), fillColor=SKIN, strokeColor=None))
    for region_id, side, poly in bc.shapes():
        on = region_id in marked.get(side, ())
        g.add(
            Polygon(
                _flat(poly.points, h),
                fillColor=colors.Color(MARK.red, MARK.green, MARK.blue, alpha=0.78) if on else None,
                strokeColor=MARK if on else REGION_LINE,
                strokeWidth=1.6 if on else 0.6,
            )
        )
    for line in bc.details:
        g.add(PolyLine(_flat(line, h), strokeColor=REGION_LINE, strokeWidth=1.0))
    for poly in bc.outline:
        g.add(Polygon(_flat(poly.points, h), fillColor=None, strokeColor=OUTLINE, strokeWidth=2.2))
    label_y = 8.0
    for name, x in (("Left", bc.width * 0.3), ("Right", bc.width * 0.7)):
        g.add(
            String(
                x,
                label_y,
                name,
                fontName=fonts.SANS_BOLD,
                fontSize=20,
                fillColor=MUTED,
                textAnchor="middle",
            )
        )
    scale = width / bc.width
    g.scale(scale, scale)
    d = Drawing(width, bc.height * scale)
    d.initialFontName = fonts.SANS  # else reportlab adds an unembedded Helvetica
    d.add(g)
    return d


@dataclass(frozen=True)
class BarRow:
    label: str
    left: float
    right: float
    left_text: str
    right_text: str
    flagged: bool
    note: str


LABEL_SIZE, LABEL_LEAD, LABEL_LINES = 8.0, 9.5, 3
NOTE_SIZE, NOTE_LEAD, NOTE_LINES = 6.5, 7.5, 2
ROW_MIN = 30.0
CHART_TOP = 22.0
CHART_BOTTOM = 4.0


def label_width(width: float) -> float:
    """The text column of the side-to-side chart: labels and notes, the "▲" at its right edge."""
    return width * 0.34 - 14


def _row_lines(row: BarRow, width: float) -> tuple[list[str], list[str]]:
    col = label_width(width)
    label = wrap(row.label, fonts.SANS, LABEL_SIZE, col, LABEL_LINES)
    note = wrap(row.note, fonts.SANS, NOTE_SIZE, col, NOTE_LINES) if row.note else []
    return label, note


def _text_height(label: Sequence[str], note: Sequence[str]) -> float:
    return LABEL_LEAD * len(label) + (1 + NOTE_LEAD * len(note) if note else 0)


def bar_row_height(row: BarRow, width: float) -> float:
    """A row's height: at least 30 points, more when the label or note wraps."""
    return max(ROW_MIN, _text_height(*_row_lines(row, width)) + 10)


def side_to_side_height(rows: Sequence[BarRow], width: float) -> float:
    return CHART_TOP + sum(bar_row_height(r, width) for r in rows) + CHART_BOTTOM


def side_to_side_drawing(rows: Sequence[BarRow], width: float) -> Drawing:
    """A left/right bar pair per bilateral measure, each pair scaled to its larger value.

    Labels wrap over up to three lines and notes over two; a row grows to hold them, its bars
    centred in it."""
    fonts.register_fonts()
    top = CHART_TOP
    label_w = width * 0.34
    value_w = 46.0
    bar_w = width - label_w - value_w - 8
    laid = [_row_lines(row, width) for row in rows]
    heights = [max(ROW_MIN, _text_height(label, note) + 10) for label, note in laid]
    height = top + sum(heights) + CHART_BOTTOM
    d = Drawing(width, height)
    d.initialFontName = fonts.SANS  # else reportlab adds an unembedded Helvetica
    # legend
    y = height - 12
    for n, (name, colour) in enumerate((("Left", LEFT_COLOUR), ("Right", RIGHT_COLOUR))):
        x = label_w + n * 70
        d.add(Rect(x, y - 1, 10, 8, fillColor=colour, strokeColor=None))
        d.add(String(x + 14, y, name, fontName=fonts.SANS, fontSize=8, fillColor=TEXT))
    d.add(
        String(
            label_w + 150,
            y,
            "▲ past the form's threshold",
            fontName=fonts.SANS,
            fontSize=8,
            fillColor=FLAG,
        )
    )
    row_top = height - top
    for n, (row, (label, note), row_h) in enumerate(zip(rows, laid, heights, strict=True)):
        base = row_top - row_h
        mid = base + row_h / 2
        if n % 2 == 0:
            d.add(
                Rect(0, base, width, row_h, fillColor=colors.HexColor("#f3f6f9"), strokeColor=None)
            )
        # the text block centred in the row; a baseline sits a little above its line's bottom
        y = row_top - (row_h - _text_height(label, note)) / 2
        for line in label:
            y -= LABEL_LEAD
            d.add(
                String(4, y + 2.35, line, fontName=fonts.SANS, fontSize=LABEL_SIZE, fillColor=TEXT)
            )
        y -= 1
        for line in note:
            y -= NOTE_LEAD
            d.add(
                String(
                    4,
                    y + 1.8,
                    line,
                    fontName=fonts.SANS,
                    fontSize=NOTE_SIZE,
                    fillColor=FLAG if row.flagged else MUTED,
                )
            )
        if row.flagged:
            d.add(
                String(
                    label_w - 10,
                    mid - 3,
                    "▲",
                    fontName=fonts.SANS,
                    fontSize=9,
                    fillColor=FLAG,
                )
            )
        peak = max(abs(row.left), abs(row.right)) or 1.0
        for k, (value, text, colour) in enumerate(
            ((row.left, row.left_text, LEFT_COLOUR), (row.right, row.right_text, RIGHT_COLOUR))
        ):
            bar_y = mid + 1 - k * 11
            length = max(0.5, bar_w * abs(value) / peak)
            d.add(Rect(label_w, bar_y, length, 9, fillColor=colour, strokeColor=None))
            d.add(
                String(
                    label_w + length + 4,
                    bar_y + 1.5,
                    text,
                    fontName=fonts.SANS,
                    fontSize=7,
                    fillColor=TEXT,
                )
            )
        row_top = base
    d.add(Line(label_w, height - top + 2, label_w, 2, strokeColor=MUTED, strokeWidth=0.6))
    return d


TRAFFIC_ORDER = ("green", "next_day", "stop", "red_flag")
_LAMP = {
    "green": colors.HexColor("#2f9e44"),
    "next_day": colors.HexColor("#f59f00"),
    "stop": colors.HexColor("#e03131"),
    "red_flag": colors.HexColor("#9c1c1c"),
}


def lamp_colour(level: str) -> colors.Color:
    return _LAMP[level]


def traffic_light_drawing(level: str | None, lamp: float = 30.0) -> Drawing:
    """A four-lamp traffic light, top to bottom red flag, stop, amber, green.

    The current level is lit with a ring; the others are dimmed, so it reads without colour too.
    """
    fonts.register_fonts()
    pad = lamp * 0.28
    order = list(reversed(TRAFFIC_ORDER))
    width = lamp + 2 * pad
    height = len(order) * (lamp + pad) + pad
    d = Drawing(width + 8, height + 8)
    d.initialFontName = fonts.SANS  # else reportlab adds an unembedded Helvetica
    d.add(
        Rect(
            4,
            4,
            width,
            height,
            rx=pad,
            ry=pad,
            fillColor=colors.HexColor("#2b333c"),
            strokeColor=None,
        )
    )
    for n, name in enumerate(order):
        cy = 4 + height - pad - lamp / 2 - n * (lamp + pad)
        cx = 4 + width / 2
        colour = _LAMP[name]
        lit = level is None or level == name
        fill = colour if lit else colors.Color(colour.red, colour.green, colour.blue, alpha=0.28)
        d.add(Circle(cx, cy, lamp / 2, fillColor=fill, strokeColor=None))
        if level == name:
            d.add(
                Circle(
                    cx,
                    cy,
                    lamp / 2 + 2.2,
                    fillColor=None,
                    strokeColor=colors.white,
                    strokeWidth=2.2,
                )
            )
        if name == "red_flag":
            # an exclamation mark so the red-flag lamp differs from "stop" without colour
            d.add(
                Rect(cx - 1.8, cy - 2, 3.6, lamp * 0.32, fillColor=colors.white, strokeColor=None)
            )
            d.add(Circle(cx, cy - lamp * 0.22, 2.0, fillColor=colors.white, strokeColor=None))
    return d
