"""The editor's list of sections shows each section's whole title where it fits, else its short
title from the form (``short_title``), so that no name is cut to "Core and l…" on a 1024-pixel
screen (issue 18). The whole title is always the entry's tooltip and the page's heading.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTreeWidget

SHORT_TITLE_ROLE = Qt.ItemDataRole.UserRole + 1


def text_room(option: QStyleOptionViewItem, view: QTreeWidget) -> int:
    """How many pixels of text the cell ``option`` shows: the text rectangle the style paints in
    (the style sheet's item padding taken off) less the margin the text is drawn inside."""
    style = view.style()
    rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, view)
    margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    return rect.width() - 2 * margin


def text_width(font: QFont, text: str) -> int:
    """Whole pixels ``text`` needs in ``font``: its exact advance rounded up (Qt elides a line
    whose exact width is over the room; the rounded integer advance can be under it)."""
    return math.ceil(QFontMetricsF(font).horizontalAdvance(text))


def shown_title(font: QFont, room: int, title: str, short: str | None) -> str:
    """``title`` if it fits in ``room`` pixels, else ``short`` (when the form gives one)."""
    if short and text_width(font, title) > room:
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
                option.font,
                text_room(option, self._view),
                option.text,
                short,
            )


def shown_titles(view: QTreeWidget) -> list[tuple[str, int, int]]:
    """What each top-level entry of ``view`` shows in its first column as laid out now, with the
    pixels the text needs and has: for tests and the layout check."""
    out = []
    font = view.font()
    for row in range(view.topLevelItemCount()):
        entry = view.topLevelItem(row)
        if entry is None:
            continue
        option = QStyleOptionViewItem()
        option.rect = view.visualRect(view.indexFromItem(entry, 0))
        option.font = font
        option.text = entry.text(0)
        option.features = QStyleOptionViewItem.ViewItemFeature.HasDisplay
        room = text_room(option, view)
        short = entry.data(0, SHORT_TITLE_ROLE)
        text = shown_title(font, room, entry.text(0), short if isinstance(short, str) else None)
        out.append((text, text_width(font, text), room))
    return out
