"""Progress charts in the PDF: the primitives of ``core.chart.layout`` as a reportlab Drawing.

A painter only: every position, colour and word comes from the core layout (see
``clinic_app/core/chart.py`` for the design). reportlab's y grows upwards, so y is flipped.
The returned ``Drawing`` is a platypus Flowable: append it to a story as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_app.core.chart import Chart, Line, Marker, Polyline, Primitive, Rect, Text, layout
from clinic_app.reports.fonts import SANS, SANS_BOLD, register_fonts

if TYPE_CHECKING:
    from reportlab.graphics.shapes import Drawing


def chart_drawing(chart: Chart, width: float = 480.0, height: float = 240.0) -> Drawing:
    """``chart`` drawn in a ``width`` x ``height`` points Drawing (a Flowable)."""
    return primitives_drawing(layout(chart, width, height), width, height)


def primitives_drawing(prims: tuple[Primitive, ...], width: float, height: float) -> Drawing:
    from reportlab.graphics.shapes import Circle, Drawing, Polygon, PolyLine, String
    from reportlab.graphics.shapes import Line as RLine
    from reportlab.graphics.shapes import Rect as RRect
    from reportlab.lib import colors

    register_fonts()
    d = Drawing(width, height)
    col = colors.HexColor

    def dash(pattern: tuple[float, ...]) -> list[float] | None:
        return list(pattern) if pattern else None

    for p in prims:
        if isinstance(p, Rect):
            d.add(
                RRect(
                    p.x,
                    height - p.y - p.h,
                    p.w,
                    p.h,
                    fillColor=col(p.fill) if p.fill else None,
                    strokeColor=col(p.stroke) if p.stroke else None,
                    strokeWidth=p.width,
                )
            )
        elif isinstance(p, Line):
            d.add(
                RLine(
                    p.x1,
                    height - p.y1,
                    p.x2,
                    height - p.y2,
                    strokeColor=col(p.colour),
                    strokeWidth=p.width,
                    strokeDashArray=dash(p.dash),
                )
            )
        elif isinstance(p, Polyline):
            flat = [v for x, y in p.points for v in (x, height - y)]
            d.add(
                PolyLine(
                    flat,
                    strokeColor=col(p.colour),
                    strokeWidth=p.width,
                    strokeDashArray=dash(p.dash),
                    strokeLineJoin=1,
                )
            )
        elif isinstance(p, Marker):
            d.add(_marker(p, height, Circle, Polygon, col))
        elif isinstance(p, Text):
            d.add(
                String(
                    p.x,
                    height - p.y,
                    p.text,
                    fontName=SANS_BOLD if p.bold else SANS,
                    fontSize=p.size,
                    fillColor=col(p.colour),
                    textAnchor=p.anchor,
                )
            )
    return d


def _marker(p: Marker, height: float, circle: type, polygon: type, col: type) -> object:
    x, y, r = p.x, height - p.y, p.size / 2
    fill = col(p.colour) if p.filled else None  # open: the point under it shows through
    style = {"fillColor": fill, "strokeColor": col(p.colour), "strokeWidth": 1.2}
    if p.shape == "circle":
        return circle(x, y, r, **style)
    corners = {
        "square": ((-r, -r), (r, -r), (r, r), (-r, r)),
        "diamond": ((0, -r * 1.2), (r * 1.2, 0), (0, r * 1.2), (-r * 1.2, 0)),
        "up": ((-r, -r), (r, -r), (0, r)),  # reportlab y up: the tip points up
        "down": ((-r, r), (r, r), (0, -r)),
    }[p.shape]
    return polygon([v for dx, dy in corners for v in (x + dx, y + dy)], **style)
