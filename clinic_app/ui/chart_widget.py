"""Progress charts on screen: the primitives of ``core.chart.layout`` painted with QPainter.

A painter only: the layout is recomputed for the widget's size (one point = one logical pixel)
and drawn as it is; hovering near a point shows the value and date the layout attached to its
marker. See ``clinic_app/core/chart.py`` for the design shared with the PDF.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from clinic_app.core.chart import (
    FONT,
    Chart,
    Line,
    Marker,
    Polyline,
    Primitive,
    Rect,
    Text,
    layout,
)
from clinic_app.paths import resources_dir

HOVER_RADIUS = 12.0
_fonts_loaded = False


def _load_fonts() -> None:
    """The DejaVu Sans the reports embed, so the screen measures text like the PDF."""
    global _fonts_loaded
    if not _fonts_loaded:
        for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
            path: Path = resources_dir() / "fonts" / name
            if path.exists():
                QFontDatabase.addApplicationFont(str(path))
        _fonts_loaded = True


class ChartWidget(QWidget):
    """One progress chart, scaled to the widget; ``set_chart`` swaps what it shows."""

    def __init__(self, chart: Chart | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _load_fonts()
        self._chart = chart
        self._prims: tuple[Primitive, ...] = ()
        self._size = (0, 0)
        self.hovered: Marker | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(280, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        if chart is not None:
            self.setAccessibleName(chart.title)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        return QSize(480, 240)

    def chart(self) -> Chart | None:
        return self._chart

    def set_chart(self, chart: Chart | None) -> None:
        self._chart, self._size, self.hovered = chart, (0, 0), None
        self.setAccessibleName(chart.title if chart else "")
        self.update()

    def primitives(self) -> tuple[Primitive, ...]:
        """The layout for the current size (computed once per size)."""
        size = (self.width(), self.height())
        if size != self._size:
            self._size = size
            self._prims = layout(self._chart, *size) if self._chart is not None else ()
        return self._prims

    def markers(self) -> list[Marker]:
        return [p for p in self.primitives() if isinstance(p, Marker) and p.tip]

    def marker_at(self, x: float, y: float) -> Marker | None:
        """The data point nearest to (x, y) within the hover radius."""
        best, best_d = None, HOVER_RADIUS
        for m in self.markers():
            d = math.hypot(m.x - x, m.y - y)
            if d <= best_d:
                best, best_d = m, d
        return best

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt)
        pos = event.position()
        found = self.marker_at(pos.x(), pos.y())
        if found is not self.hovered:
            self.hovered = found
            self.update()
        if found is None:
            QToolTip.hideText()
            self.setToolTip("")
        else:
            self.setToolTip(found.tip)
            QToolTip.showText(event.globalPosition().toPoint(), found.tip, self)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: object) -> None:  # noqa: N802 (Qt)
        if self.hovered is not None:
            self.hovered = None
            self.update()
        super().leaveEvent(event)  # type: ignore[arg-type]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt)
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            painter.fillRect(self.rect(), QColor("#ffffff"))
            paint(painter, self.primitives())
            if self.hovered is not None:
                m = self.hovered
                painter.setPen(QPen(QColor(m.colour), 1.5))
                painter.setBrush(QBrush())
                painter.drawEllipse(QRectF(m.x - m.size, m.y - m.size, 2 * m.size, 2 * m.size))
        finally:
            painter.end()


@lru_cache(maxsize=64)
def _pen(colour: str, width: float, dash: tuple[float, ...] = ()) -> QPen:
    pen = QPen(QColor(colour), width)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if dash:
        pen.setDashPattern([d / max(width, 0.1) for d in dash])  # Qt dashes are in pen widths
    return pen


def paint(painter: QPainter, prims: tuple[Primitive, ...]) -> None:
    """Draw core chart primitives (y down, points = logical pixels) with ``painter``."""
    fonts: dict[tuple[float, bool], QFont] = {}
    for p in prims:
        if isinstance(p, Rect):
            painter.setPen(_pen(p.stroke, p.width) if p.stroke else QPen(QColor(0, 0, 0, 0), 0))
            painter.setBrush(QBrush(QColor(p.fill)) if p.fill else QBrush())
            painter.drawRect(QRectF(p.x, p.y, p.w, p.h))
        elif isinstance(p, Line):
            painter.setPen(_pen(p.colour, p.width, p.dash))
            painter.drawLine(QPointF(p.x1, p.y1), QPointF(p.x2, p.y2))
        elif isinstance(p, Polyline):
            painter.setPen(_pen(p.colour, p.width, p.dash))
            painter.setBrush(QBrush())
            painter.drawPolyline(QPolygonF([QPointF(x, y) for x, y in p.points]))
        elif isinstance(p, Marker):
            _marker(painter, p)
        elif isinstance(p, Text):
            key = (p.size, p.bold)
            font = fonts.get(key)
            if font is None:
                font = QFont(FONT)
                font.setPixelSize(max(1, round(p.size)))
                font.setBold(p.bold)
                fonts[key] = font
            painter.setFont(font)
            painter.setPen(QColor(p.colour))
            w = QFontMetricsF(font).horizontalAdvance(p.text)
            x = p.x - (w / 2 if p.anchor == "middle" else w if p.anchor == "end" else 0.0)
            painter.drawText(QPointF(x, p.y), p.text)


def _marker(painter: QPainter, p: Marker) -> None:
    painter.setPen(_pen(p.colour, 1.2))
    painter.setBrush(QBrush(QColor(p.colour)) if p.filled else QBrush())
    r = p.size / 2
    if p.shape == "circle":
        painter.drawEllipse(QRectF(p.x - r, p.y - r, 2 * r, 2 * r))
        return
    if p.shape == "square":  # a rectangle paints several times faster than a polygon
        painter.drawRect(QRectF(p.x - r, p.y - r, 2 * r, 2 * r))
        return
    corners = {
        "diamond": ((0, -r * 1.2), (r * 1.2, 0), (0, r * 1.2), (-r * 1.2, 0)),
        "up": ((-r, r), (r, r), (0, -r)),  # y down: the tip points up
        "down": ((-r, -r), (r, -r), (0, r)),
    }[p.shape]
    painter.drawPolygon(QPolygonF([QPointF(p.x + dx, p.y + dy) for dx, dy in corners]))
