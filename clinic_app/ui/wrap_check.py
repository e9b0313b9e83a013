"""A check box whose label wraps onto more lines instead of being cut (issue 18).

Qt's ``QCheckBox`` draws its text on one line: in a column narrower than the text, the end is
clipped ("Over-rotates or crosses the b…" with no way to read the rest). This one tells its
layout that its height depends on its width and, when narrower than its one-line text, draws the
text word-wrapped under the same indicator. Everything else (toggling, keys, accessibility,
``text()``) is the plain check box's.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QPaintEvent, QPalette
from PySide6.QtWidgets import QCheckBox, QSizePolicy, QStyle, QStyleOptionButton, QStylePainter

_WRAP = Qt.TextFlag.TextWordWrap


class WrapCheckBox(QCheckBox):
    """A check box with a word-wrapping label. Signals: those of ``QCheckBox``."""

    def __init__(self, text: str, parent: object = None) -> None:
        super().__init__(text, parent)  # type: ignore[call-overload]
        # Preferred, not QCheckBox's Minimum: a layout may make it narrower than its one line.
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self._one_line = QSize()

    def _one_line_hint(self) -> QSize:
        """The plain check box's size (one line of text); cached until the text or font change."""
        if not self._one_line.isValid():
            self._one_line = super().sizeHint()
        return self._one_line

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._one_line = QSize()
        super().setText(text)
        self.updateGeometry()

    def changeEvent(self, event: object) -> None:  # noqa: N802
        self._one_line = QSize()
        super().changeEvent(event)  # type: ignore[arg-type]

    def _text_left(self) -> int:
        """Where the label starts: after the indicator and the style's spacing."""
        option = QStyleOptionButton()
        self.initStyleOption(option)
        option.rect = QRect(QPoint(0, 0), self._one_line_hint())
        contents = self.style().subElementRect(QStyle.SubElement.SE_CheckBoxContents, option, self)
        return contents.left()

    def _text_rect(self, width: int) -> QRect:
        """The rectangle the wrapped label needs at ``width``."""
        left = self._text_left()
        room = max(1, width - left - 2)
        return self.fontMetrics().boundingRect(QRect(0, 0, room, 100_000), _WRAP, self.text())

    def wraps(self) -> bool:
        """Whether the label is drawn on more than one line at the present width."""
        return self.width() < self._one_line_hint().width()

    # -- sizes -----------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:  # noqa: N802
        return self._one_line_hint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        """As narrow as the longest word: a word is never cut, only moved to the next line."""
        metrics = self.fontMetrics()
        widest = max((metrics.horizontalAdvance(w) for w in self.text().split()), default=0)
        one = self._one_line_hint()
        return QSize(min(one.width(), self._text_left() + widest + 2), one.height())

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        one = self._one_line_hint()
        if width >= one.width():
            return one.height()
        extra = one.height() - self.fontMetrics().height()  # the style's padding around a line
        return max(one.height(), self._text_rect(width).height() + extra)

    # -- drawing and clicks ----------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        if not self.wraps():
            super().paintEvent(event)
            return
        painter = QStylePainter(self)
        option = QStyleOptionButton()
        self.initStyleOption(option)
        one = self._one_line_hint()
        option.text = ""
        option.rect = QRect(0, 0, one.height(), one.height())  # the indicator, on the first line
        painter.drawControl(QStyle.ControlElement.CE_CheckBox, option)
        left = self._text_left()
        top = (one.height() - self.fontMetrics().height()) // 2
        area = QRect(left, top, max(1, self.width() - left - 2), self.height() - top)
        painter.drawItemText(
            area,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop) | int(_WRAP),
            self.palette(),
            self.isEnabled(),
            self.text(),
            QPalette.ColorRole.WindowText,
        )

    def hitButton(self, pos: QPoint) -> bool:  # noqa: N802
        """The whole box, every line of the label included, takes the click."""
        return self.rect().contains(pos)
