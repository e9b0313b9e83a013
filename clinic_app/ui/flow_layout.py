"""A layout that places its widgets in a row and wraps them onto the next row when the row is
full (Qt's *Flow Layout* example, typed).

Used where a row of buttons would otherwise set a wide minimum width: at 1024 px with the patient
list beside it, the patient view's two rows of episode and record buttons would not fit, and
the splitter would squeeze the patient list's Name column to nothing (issue 18). Wrapping costs
one more row of height instead.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QStyle, QWidget


class ItemListLayout(QLayout):
    """QLayout's item list kept in a Python list: the four methods every hand-made layout
    needs (FlowLayout here, SideOrStacked in program_parts). Signals: none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 (Qt's name)
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items.pop(index) if 0 <= index < len(self._items) else None


class FlowLayout(ItemListLayout):
    """Widgets left to right, wrapping at the layout's width; ``heightForWidth`` tells the parent
    layout how tall the rows become. Signals: none."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._spacing = spacing
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    # -- sizes -----------------------------------------------------------------------------------

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        """One row of everything (the width it would like)."""
        width = sum(i.sizeHint().width() for i in self._items)
        width += self._spacing * max(0, len(self._items) - 1)
        height = max((i.sizeHint().height() for i in self._items), default=0)
        m = self.contentsMargins()
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802
        """The widest single widget: anything wider wraps."""
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _gap(self, item: QLayoutItem, horizontal: bool) -> int:
        if self._spacing >= 0:
            return self._spacing
        widget = item.widget()
        style = widget.style() if widget is not None else None
        if style is None:
            return 6
        orientation = Qt.Orientation.Horizontal if horizontal else Qt.Orientation.Vertical
        return style.layoutSpacing(
            QSizePolicy.ControlType.PushButton,
            QSizePolicy.ControlType.PushButton,
            orientation,
        ) or style.pixelMetric(QStyle.PixelMetric.PM_LayoutHorizontalSpacing)

    def _place(self, rect: QRect, *, move: bool) -> int:
        """Lay the items out in ``rect`` (or only measure); the height the rows take."""
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, row_height = area.x(), area.y(), 0
        for item in self._items:
            if item.isEmpty():
                continue
            hint = item.sizeHint()
            gap_x, gap_y = self._gap(item, True), self._gap(item, False)
            if x > area.x() and x + hint.width() > area.right() + 1:
                x, y = area.x(), y + row_height + gap_y
                row_height = 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint.boundedTo(area.size().expandedTo(hint))))
            x += hint.width() + gap_x
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y() + m.bottom()


class ColumnFlowLayout(FlowLayout):
    """Equal columns, as many as fit (at most ``max_columns``), so choices line up in a grid
    at any width; one column when even two do not fit, and then an item whose height depends on
    its width (a :class:`~clinic_app.ui.wrap_check.WrapCheckBox`) wraps its text. Signals: none.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        max_columns: int = 3,
        spacing: int = 16,
        row_spacing: int = 2,
    ) -> None:
        super().__init__(parent, spacing)
        self._max_columns = max(1, max_columns)
        self._row_spacing = row_spacing

    def _shown(self) -> list[QLayoutItem]:
        return [i for i in self._items if not i.isEmpty()]

    def _cell(self) -> int:
        return max((i.sizeHint().width() for i in self._shown()), default=0)

    def columns_for(self, width: int) -> int:
        """How many columns the items take at ``width`` (contents margins included)."""
        m = self.contentsMargins()
        room = width - m.left() - m.right()
        shown = len(self._shown())
        fit = (room + self._spacing) // max(1, self._cell() + self._spacing)
        return max(1, min(self._max_columns, shown, fit))

    def sizeHint(self) -> QSize:  # noqa: N802
        """The columns side by side, each as wide as the widest item."""
        shown = self._shown()
        cols = max(1, min(self._max_columns, len(shown)))
        width = cols * self._cell() + (cols - 1) * self._spacing
        m = self.contentsMargins()
        height = self._place(QRect(0, 0, width + m.left() + m.right(), 0), move=False)
        return QSize(width + m.left() + m.right(), height)

    def _place(self, rect: QRect, *, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        shown = self._shown()
        cols = self.columns_for(rect.width())
        cell = min(self._cell(), (area.width() - (cols - 1) * self._spacing) // cols)
        cell = max(1, cell)
        y = area.y()
        for start in range(0, len(shown), cols):
            row = shown[start : start + cols]
            heights = [
                i.heightForWidth(cell) if i.hasHeightForWidth() else i.sizeHint().height()
                for i in row
            ]
            height = max(heights, default=0)
            if move:
                for n, item in enumerate(row):
                    x = area.x() + n * (cell + self._spacing)
                    item.setGeometry(QRect(x, y, cell, heights[n]))
            y += height + self._row_spacing
        if shown:
            y -= self._row_spacing
        return y - rect.y() + m.bottom()
