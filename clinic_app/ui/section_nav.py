"""The editor's list of sections shows each section's whole title where it fits, else its short
title from the form (``short_title``), so that no name is cut to "Core and l…" on a 1024-pixel
screen (issue 18). The whole title is always the entry's tooltip and the page's heading.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTreeWidget

SHORT_TITLE_ROLE = Qt.ItemDataRole.UserRole + 1


def text_room(option: QStyleOptionViewItem, view: QTreeWidget) -> int:
    """How many pixels of text the cell ``option`` shows (the style's margins taken off)."""
    margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    return option.rect.width() - 2 * margin


def shown_title(metrics: QFontMetrics, room: int, title: str, short: str | None) -> str:
    """``title`` if it fits in ``room`` pixels, else ``short`` (when the form gives one)."""
    if short and metrics.horizontalAdvance(title) > room:
        return short
    return title


class SectionNavDelegate(QStyledItemDelegate):
    """Draws a section's short title when its whole title does not fit. Signals: none."""

    def __init__(self, view: QTreeWidget) -> None:
        super().__init__(view)
        self._view = view

    def initStyleOption(  # noqa: N802 (Qt's name)
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        if index.column() != 0:
            return
        short = index.data(SHORT_TITLE_ROLE)
        if isinstance(short, str):
            option.text = shown_title(
                option.fontMetrics,
                text_room(option, self._view),
                option.text,
                short,
            )


def shown_titles(view: QTreeWidget) -> list[tuple[str, int, int]]:
    """What each top-level entry of ``view`` shows in its first column as laid out now, with the
    pixels the text needs and has: for tests and the layout check."""
    out = []
    metrics = view.fontMetrics()
    for row in range(view.topLevelItemCount()):
        entry = view.topLevelItem(row)
        if entry is None:
            continue
        option = QStyleOptionViewItem()
        option.rect = view.visualItemRect(entry)
        option.rect.setWidth(view.columnWidth(0))
        room = text_room(option, view)
        short = entry.data(0, SHORT_TITLE_ROLE)
        text = shown_title(metrics, room, entry.text(0), short if isinstance(short, str) else None)
        out.append((text, metrics.horizontalAdvance(text), room))
    return out
