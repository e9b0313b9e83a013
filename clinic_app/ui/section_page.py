"""One section of the form as a page of the evaluation editor: its title, help and a grid of
item rows (split from ``editor.py``; the editor builds one per section when first shown)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.form import ItemType, Section
from clinic_app.ui.fields import is_whole_item
from clinic_app.ui.item_row import ItemRow

BODY_NAME = "sectionBody"  # the scrolled body of a page (the style sheet and ui/keyboard.py)


class SectionPage(QScrollArea):
    """One section of the form: a title, its help and a grid of item rows.

    Signals: none (its editors' ``edited`` signals are connected by the evaluation editor).
    """

    def __init__(self, section: Section, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.section = section
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget(self)
        body.setObjectName(BODY_NAME)
        outer = QVBoxLayout(body)
        outer.setContentsMargins(18, 14, 14, 16)
        outer.setSpacing(6)
        title = QLabel(section.title, body)
        title.setProperty("role", "sectionTitle")
        heading = QHBoxLayout()
        heading.addWidget(title, 1)
        self.confirm_button = QPushButton("Confirm carried values", body)
        self.confirm_button.setObjectName(f"{section.id}.confirm")
        self.confirm_button.setToolTip(
            "The values marked ↻ were copied from the last visit. Confirm them as still true "
            "for today (Ctrl+Return), or re-measure them."
        )
        self.confirm_button.hide()
        heading.addWidget(self.confirm_button)
        outer.addLayout(heading)
        if section.help:
            helptext = QLabel(section.help, body)
            helptext.setProperty("role", "secondary")
            helptext.setWordWrap(True)
            outer.addWidget(helptext)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(2, 2)
        grid.setColumnStretch(3, 2)
        grid.setColumnMinimumWidth(0, 120)
        r = 0
        self.rows: dict[str, ItemRow] = {}
        previous_bilateral = False
        for item in section.items:
            sided = item.bilateral and not is_whole_item(item)
            if sided and not previous_bilateral:
                # Column headings above each run of left/right rows.
                for col, text in ((1, "Left"), (2, "Right"), (3, "Side to side")):
                    head = QLabel(text, body)
                    head.setProperty("role", "columnHeader")
                    grid.addWidget(head, r, col)
                r += 1
            previous_bilateral = sided
            row = ItemRow(item, body)
            self.rows[item.id] = row
            top = Qt.AlignmentFlag.AlignTop
            if item.type not in (ItemType.ROWS, ItemType.PROGRAM):
                grid.addWidget(row.label, r, 0)
            else:  # a table: the whole width, under its label
                grid.addWidget(row.label, r, 0, 1, 4)
                grid.addWidget(row.editors[None], r + 1, 0, 1, 4)
                grid.addWidget(row.error, r + 2, 0, 1, 4)
                line = QFrame(body)
                line.setFrameShape(QFrame.Shape.HLine)
                line.setProperty("role", "rowRule")
                grid.addWidget(line, r + 3, 0, 1, 4)
                r += 4
                continue
            if item.bilateral and not is_whole_item(item):
                grid.addWidget(row.editors["left"], r, 1, top)
                grid.addWidget(row.editors["right"], r, 2, top)
                grid.addWidget(row.asymmetry, r, 3, top)
            else:
                grid.addWidget(row.editors[None], r, 1, 1, 3, top)
            grid.addWidget(row.error, r + 1, 1, 1, 3)
            line = QFrame(body)
            line.setFrameShape(QFrame.Shape.HLine)
            line.setProperty("role", "rowRule")
            grid.addWidget(line, r + 2, 0, 1, 4)
            r += 3
        self._outer = outer
        outer.addLayout(grid)
        outer.addStretch(1)
        self.setWidget(body)
        self._body = body
        body.installEventFilter(self)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        chain = self.focus_widgets()
        for a, b in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(a, b)

    def focus_widgets(self) -> list[QWidget]:
        return [w for row in self.rows.values() for w in row.focus_widgets()]

    def add_above_items(self, widget: QWidget) -> None:
        """Show ``widget`` between the page's help and its items (e.g. a visit's goals)."""
        widget.setParent(self._body)
        self._outer.insertWidget(self._outer.count() - 2, widget)

    def minimumSizeHint(self) -> QSize:
        # Narrower than its rows would clip the side-to-side column: let the splitter know.
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(self._body.minimumSizeHint().width() + bar, 160)

    def resizeEvent(self, event: QResizeEvent) -> None:
        # QScrollArea ignores height-for-width: wrapped labels would overlap the next row when
        # the page is narrow, so the body is given the height its layout needs at this width.
        self._fit_body()
        super().resizeEvent(event)

    def _fit_body(self) -> None:
        layout = self._body.layout()
        if layout is not None and layout.hasHeightForWidth():
            self._body.setMinimumHeight(layout.totalHeightForWidth(self.viewport().width()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A row that grew (a table given rows) asks for a new layout: the height follows.
        body = getattr(self, "_body", None)  # QScrollArea filters its widget before it is kept
        if body is not None and watched is body and event.type() == QEvent.Type.LayoutRequest:
            self._fit_body()
            # The page's minimum follows its body's (see minimumSizeHint): tell the layouts
            # above, or the editor's stack may squeeze the page below what its rows need.
            width = self._body.minimumSizeHint().width()
            if width != getattr(self, "_body_min", None):
                self._body_min = width
                self.updateGeometry()
        return super().eventFilter(watched, event)
