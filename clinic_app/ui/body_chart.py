"""The body chart: click (or arrow keys and Space) to mark painful regions, per side.

Geometry comes from ``clinic_app.core.body_chart`` (the same file the PDF reports draw), so the
screen and the report cannot disagree about where a region is. The view is from behind: the
patient's left side is on the viewer's left, and the chart says so above each half.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from clinic_app.core.body_chart import SIDES, BodyChart, Polygon, Side, load_body_chart
from clinic_app.core.form import Item
from clinic_app.ui.fields import ValueEditor

Shape = tuple[str, Side]

FILL_SELECTED = QColor("#d9534f")
FILL_HOVER = QColor("#f0ad4e")
OUTLINE = QColor("#6c7a89")
BODY_FILL = QColor("#f3efe9")
REGION_EDGE = QColor("#b8aea2")


def _path(polygon: Polygon) -> QPainterPath:
    path = QPainterPath()
    path.addPolygon(QPolygonF([QPointF(x, y) for x, y in polygon.points]))
    path.closeSubpath()
    return path


class BodyChartWidget(QWidget):
    """Posterior body chart with clickable regions on each side.

    Signals: ``toggled(str, str)`` — a region id and side the user switched on or off;
    ``selection_changed(object)`` — the whole selection after a user change,
    ``{"left": [...], "right": [...]}`` in chart order.
    """

    toggled = Signal(str, str)
    selection_changed = Signal(object)

    MARGIN_TOP = 22.0

    def __init__(
        self,
        chart: BodyChart | None = None,
        allowed: Iterable[str] | None = None,
        labels: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.chart = chart or load_body_chart()
        ids = list(self.chart.regions)
        self.allowed = [r for r in ids if allowed is None or r in set(allowed)]
        self.labels = {r: (labels or {}).get(r, self.chart.region(r).label) for r in ids}
        self._paths: dict[Shape, QPainterPath] = {
            (rid, side): _path(poly) for rid, side, poly in self.chart.shapes()
        }
        self._outline = [_path(p) for p in self.chart.outline]
        box = QRectF()
        for path in self._outline:
            box = box.united(path.boundingRect())
        self._box = box.adjusted(-6, -6, 6, 6)  # the drawing, not the whole viewbox
        self._selected: dict[Side, set[str]] = {"left": set(), "right": set()}
        self._hover: Shape | None = None
        self._cursor: Shape | None = None  # keyboard focus position
        self._read_only = False
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setMinimumSize(180, 320)
        self.setAccessibleName("Body chart, seen from behind")
        self.help_text = ""  # the item's help, said after the region under the keyboard
        self.setToolTip("")

    # -- values ----------------------------------------------------------------------------------

    def selection(self) -> dict[Side, list[str]]:
        return {s: [r for r in self.chart.regions if r in self._selected[s]] for s in SIDES}

    def set_selection(self, value: Mapping[str, Iterable[str]] | None) -> None:
        value = value or {}
        for side in SIDES:
            self._selected[side] = {r for r in value.get(side, ()) if r in self._paths_ids()}
        self.update()

    def is_selected(self, region_id: str, side: Side) -> bool:
        return region_id in self._selected[side]

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.update()

    def toggle(self, region_id: str, side: Side) -> None:
        """Switch one region on or off as the user would, emitting the signals."""
        if self._read_only or region_id not in self.allowed:
            return
        chosen = self._selected[side]
        chosen.symmetric_difference_update({region_id})
        self.update()
        self.toggled.emit(region_id, side)
        self.selection_changed.emit(self.selection())

    def _paths_ids(self) -> set[str]:
        return set(self.chart.regions)

    # -- geometry --------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(220, 420)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return int(width * self._box.height() / self._box.width() + self.MARGIN_TOP)

    def _scale(self) -> tuple[float, float, float]:
        """Scale and offsets mapping chart units to widget pixels (the drawing, centred)."""
        box = self._box
        avail_h = max(1.0, self.height() - self.MARGIN_TOP - 2)
        s = min(self.width() / box.width(), avail_h / box.height())
        dx = (self.width() - box.width() * s) / 2 - box.x() * s
        dy = self.MARGIN_TOP - box.y() * s
        return s, dx, dy

    def shape_rect(self, region_id: str, side: Side) -> QRectF:
        """Where a region is drawn, in widget coordinates (for tests and tooltips)."""
        s, dx, dy = self._scale()
        r = self._paths[(region_id, side)].boundingRect()
        return QRectF(r.x() * s + dx, r.y() * s + dy, r.width() * s, r.height() * s)

    def shape_at(self, pos: QPointF) -> Shape | None:
        s, dx, dy = self._scale()
        hit = self.chart.hit_test((pos.x() - dx) / s, (pos.y() - dy) / s)
        if hit is None or hit[0] not in self.allowed:
            return None
        return hit

    def point_in(self, region_id: str, side: Side) -> QPointF:
        """A point inside the drawn region (its centroid), in widget coordinates."""
        s, dx, dy = self._scale()
        cx, cy = self.chart.region(region_id).side(side).centroid()
        return QPointF(cx * s + dx, cy * s + dy)

    # -- events ----------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        s, dx, dy = self._scale()
        p.setPen(text)
        font = p.font()
        font.setPointSizeF(max(7.5, font.pointSizeF() * 0.9))
        p.setFont(font)
        regions = self.chart.regions
        anchor = "thigh_mid" if "thigh_mid" in regions else next(iter(regions))
        for side in SIDES:
            cx = self.chart.region(anchor).side(side).centroid()[0] * s + dx
            p.drawText(
                QRectF(cx - 40, 0, 80, self.MARGIN_TOP),
                Qt.AlignmentFlag.AlignCenter,
                side.capitalize(),
            )
        p.translate(dx, dy)
        p.scale(s, s)
        p.setPen(QPen(OUTLINE, 1.6 / s * 1.2))
        p.setBrush(BODY_FILL)
        for path in self._outline:
            p.drawPath(path)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(OUTLINE, 1.0 / s))
        for line in self.chart.details:
            for (x0, y0), (x1, y1) in zip(line, line[1:], strict=False):
                p.drawLine(QPointF(x0, y0), QPointF(x1, y1))
        for (rid, side), path in self._paths.items():
            if rid not in self.allowed:
                continue
            selected = rid in self._selected[side]
            hovered = (rid, side) == self._hover and not self._read_only
            if selected:
                fill = QColor(FILL_SELECTED)
                fill.setAlpha(200 if not hovered else 230)
            elif hovered:
                fill = QColor(FILL_HOVER)
                fill.setAlpha(130)
            else:
                fill = QColor(0, 0, 0, 0)
            p.setBrush(fill)
            p.setPen(QPen(REGION_EDGE, 0.8 / s))
            p.drawPath(path)
        if self._cursor is not None and self.hasFocus():
            pen = QPen(pal.color(QPalette.ColorRole.Highlight), 2.5 / s)
            pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(self._paths[self._cursor])
        p.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        shape = self.shape_at(event.position())
        if shape != self._hover:
            self._hover = shape
            self.setCursor(
                Qt.CursorShape.PointingHandCursor if shape else Qt.CursorShape.ArrowCursor
            )
            self.update()
            # The tooltip follows the region under the pointer (Qt shows it on hover).
            self.setToolTip(f"{self.labels[shape[0]]} ({shape[1]})" if shape else "")
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: Any) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            shape = self.shape_at(event.position())
            if shape is not None:
                self._cursor = shape
                self.toggle(*shape)
                event.accept()
                return
        super().mousePressEvent(event)

    def _order(self) -> list[Shape]:
        """Keyboard order: down the left side, then down the right side."""
        return [(rid, side) for side in SIDES for rid in self.allowed]

    def focusInEvent(self, event: QFocusEvent) -> None:
        if self._cursor is None and self.allowed:
            self._cursor = (self.allowed[0], "left")
        self._announce()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusOutEvent(event)

    def _announce(self) -> None:
        if self._cursor is not None:
            rid, side = self._cursor
            state = "marked" if rid in self._selected[side] else "not marked"
            here = f"{self.labels[rid]}, {side}: {state}"
            self.setAccessibleDescription(f"{here}. {self.help_text}" if self.help_text else here)
        self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        order = self._order()
        if not order or event.modifiers() & (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        ):
            super().keyPressEvent(event)
            return
        cur = self._cursor if self._cursor in order else order[0]
        rid, side = cur
        key = event.key()
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            step = 1 if key == Qt.Key.Key_Down else -1
            n = self.allowed.index(rid)
            self._cursor = (self.allowed[(n + step) % len(self.allowed)], side)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            self._cursor = (rid, "left" if key == Qt.Key.Key_Left else "right")
        elif key == Qt.Key.Key_Space:  # Enter moves on to the next item (ui/keyboard.py)
            self._cursor = cur
            self.toggle(*cur)
        else:
            super().keyPressEvent(event)
            return
        event.accept()
        self._announce()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.update()
        super().resizeEvent(event)


class BodyChartEditor(ValueEditor):
    """A bilateral ``regions`` item: the body chart plus the chosen regions in words.

    The value is ``{"left": [...], "right": [...]}`` (empty sides left out, ``None`` when nothing
    is marked), which ``Findings.with_value`` accepts for the whole item at once.
    """

    def __init__(self, item: Item, parent: QWidget | None = None) -> None:
        super().__init__(item, parent)
        labels = {c.id: c.label for c in item.choices}
        self.chart = BodyChartWidget(allowed=item.allowed, labels=labels, parent=self)
        self.chart.setAccessibleName(f"{item.label}: body chart, seen from behind")
        self.chart.setFixedSize(190, 400)
        self.chart.selection_changed.connect(self.on_chart_selection_changed)
        self.summary = QLabel(self)
        self.summary.setProperty("role", "secondary")
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        hint = QLabel(
            "Click a region to mark it; click again to clear. Keyboard: arrows move, Space "
            "marks, Enter goes on.",
            self,
        )
        hint.setProperty("role", "secondary")
        hint.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(16)
        layout.addWidget(self.chart, 0, Qt.AlignmentFlag.AlignTop)
        side_box = QVBoxLayout()
        side_box.addWidget(self.summary)
        side_box.addStretch(1)
        side_box.addWidget(hint)
        layout.addLayout(side_box, 1)
        self._update_summary()

    def value(self) -> dict[Side, list[str]] | None:
        sel = {s: v for s, v in self.chart.selection().items() if v}
        return sel or None

    def on_chart_selection_changed(self, _selection: object) -> None:
        self._update_summary()
        self.edited.emit(self.value())

    def _update_summary(self) -> None:
        sel = self.chart.selection()
        lines = []
        for side in SIDES:
            names = ", ".join(self.chart.labels[r] for r in sel[side]) or "none"
            lines.append(f"<b>{side.capitalize()}:</b> {names}")
        self.summary.setText("<br>".join(lines))

    def set_value(self, value: Any) -> None:
        self.chart.set_selection(value if isinstance(value, Mapping) else None)
        self._update_summary()

    def set_read_only(self, read_only: bool) -> None:
        self.chart.set_read_only(read_only)

    def focus_widgets(self) -> list[QWidget]:
        return [self.chart]

    def set_accessible(self, name: str, description: str) -> None:
        self.chart.setAccessibleName(name)
        self.chart.help_text = description
        self.chart.setAccessibleDescription(description)
