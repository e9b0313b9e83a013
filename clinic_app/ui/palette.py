"""The command palette (Ctrl+K): jump to any item of the open evaluation, or run an action.

Items are found by their label, the form's ``synonyms`` ("slr", "nordic", "thomas"), a short
label, the id, or the initials of the label ("pslr" for *Passive straight leg raise*); every word
typed must match; a last word "left"/"right" (or "l"/"r") jumps to that side. Actions are the
window's own menu actions (enabled ones only), so the palette can never do what the menus would
not. Nothing here names a clinical measure: the words come from the form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:  # the menus import this module before any form is loaded
    from clinic_app.core.form import Item

MAX_SHOWN = 60
WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Entry:
    """One line of the palette: an item to jump to, or an action to trigger."""

    title: str
    detail: str  # the section, or the action's shortcut
    words: tuple[str, ...]  # label, synonyms, short label, id (lower case)
    initials: str
    item_id: str | None = None
    action: QAction | None = None


def _plain(text: str) -> str:
    return text.replace("&", "").split("\t")[0].replace("…", "").strip()


def _initials(text: str) -> str:
    return "".join(w[0] for w in WORD.findall(text.lower()))


def item_entry(item: Item, section_title: str) -> Entry:
    note_label = getattr(item, "note_label", None)  # a short label, when the form has one
    words = [item.label, *item.synonyms, item.id.replace("_", " ")]
    if note_label:
        words.append(note_label)
    return Entry(
        title=item.label,
        detail=section_title,
        words=tuple(w.lower() for w in words),
        initials=_initials(item.label),
        item_id=item.id,
    )


def action_entry(action: QAction) -> Entry:
    title = _plain(action.text())
    keys = action.shortcut().toString()
    return Entry(
        title=title,
        detail=keys,
        words=(title.lower(), "action"),
        initials=_initials(title),
        action=action,
    )


def score(query: str, entry: Entry) -> int | None:
    """How well ``entry`` matches ``query`` (higher is better); None when it does not."""
    terms = WORD.findall(query.lower())
    if not terms:
        return 0
    whole = " ".join(terms)
    best = 0
    for n, word in enumerate(entry.words):
        synonym = 0 < n < len(entry.words)  # the label is first
        if word == whole:
            best = max(best, 100 if synonym else 95)
        elif word.startswith(whole):
            best = max(best, 85 if synonym else 80)
        elif f" {whole}" in f" {word}":
            best = max(best, 70)
        elif whole in word:
            best = max(best, 55)
    if entry.initials.startswith(whole.replace(" ", "")):
        best = max(best, 65)
    elif whole.replace(" ", "") in entry.initials and len(whole) > 1:
        best = max(best, 50)
    if best:
        return best
    text = " ".join(entry.words)
    if all(t in text for t in terms):
        return 40
    return None


SIDE_WORDS = {"left": "left", "l": "left", "right": "right", "r": "right"}


def split_side(query: str) -> tuple[str, str | None]:
    """ "nordic right" is the Nordic item's right side: (the words before, the side)."""
    words = query.split()
    if len(words) > 1 and words[-1].lower() in SIDE_WORDS:
        return " ".join(words[:-1]), SIDE_WORDS[words[-1].lower()]
    return query, None


def search(query: str, entries: Sequence[Entry]) -> list[Entry]:
    """The matching entries, best first; among equals the shorter title (the closer match),
    then form order, then actions."""
    scored = [(s, n, e) for n, e in enumerate(entries) if (s := score(query, e)) is not None]
    scored.sort(key=lambda t: (-t[0], len(t[2].title), t[1]))
    return [e for _, _, e in scored]


class CommandPalette(QFrame):
    """A search box over the editor's items and the window's actions; Enter jumps or runs.

    A panel inside the window, not a window of its own: the focus moves to it at once, so the
    first letters typed after Ctrl+K land in the search box (a new window is activated later by
    the window manager, and a fast typist's first keys would go into the field below). Esc, or
    the focus going elsewhere, closes it (hides it: :func:`open_palette` opens the same one
    again, refilled with what is current, instead of building its widgets on every Ctrl+K).

    Signals: none (a chosen item is focused in ``editor``; a chosen action is triggered after
    the palette closed).
    """

    def __init__(
        self, editor: Any | None, actions: Iterable[QAction], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("commandPalette")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setAccessibleName("Jump to an item or an action")
        self.editor: Any | None = None  # clinic_app.ui.editor.EvaluationEditor, or None
        self.entries: list[Entry] = []
        self._item_entries: list[Entry] = []
        layout = QVBoxLayout(self)
        self.search_box = QLineEdit(self)
        self.search_box.setObjectName("paletteSearch")
        self.search_box.setPlaceholderText("An item (slr, nordic…) or an action (sign, export…)")
        self.search_box.setAccessibleName("Find an item or an action")
        self.search_box.textChanged.connect(self.on_search_box_text_changed)
        self.search_box.installEventFilter(self)
        layout.addWidget(self.search_box)
        self.results = QListWidget(self)
        self.results.setObjectName("paletteResults")
        self.results.setAccessibleName("Matches")
        self.results.itemActivated.connect(self.on_results_item_activated)
        self.results.installEventFilter(self)
        layout.addWidget(self.results, 1)
        hint = QLabel("Enter jumps there · Esc closes", self)
        hint.setProperty("role", "secondary")
        layout.addWidget(hint)
        self.resize(560, 420)
        self.chosen: Entry | None = None
        self.side: str | None = None  # "nordic right": jump to that side
        self.reset(editor, actions)
        self.hide()

    def reset(self, editor: Any | None, actions: Iterable[QAction]) -> None:
        """List ``editor``'s items (None: actions only) and the enabled ``actions``, with
        nothing typed yet: the palette as new, for another opening."""
        if editor is not self.editor or not self._item_entries:
            self.editor = editor
            self._item_entries = [
                item_entry(item, section.title)
                for section in (editor.sections if editor is not None else ())
                for item in section.items
            ]
        self.entries = list(self._item_entries)
        for action in actions:
            if action.isEnabled() and action.isVisible() and _plain(action.text()):
                self.entries.append(action_entry(action))
        self.chosen = None
        blocker = QSignalBlocker(self.search_box)
        self.search_box.clear()
        del blocker
        self.on_search_box_text_changed("")

    def open(self) -> None:
        """Show it over the top of its window's centre, with the focus in the search box."""
        host = self.parentWidget()
        if host is not None:
            width = min(560, max(320, host.width() - 40))
            height = min(420, max(200, host.height() - 80))
            self.setGeometry((host.width() - width) // 2, 40, width, height)
        self.show()
        self.raise_()
        self.search_box.setFocus(Qt.FocusReason.PopupFocusReason)

    def close_palette(self) -> None:
        self.hide()

    def _check_focus(self) -> None:
        """After the search box or the list lost the focus: closed if it went elsewhere.

        The palette's own focus events, not the application's ``focusChanged``: a connection
        to that global signal outlives the palette and calls into deleted objects."""
        now = QApplication.focusWidget()
        if self.isVisible() and (now is None or not self.isAncestorOf(now)):
            self.close_palette()  # clicked or tabbed elsewhere

    def shown(self) -> list[Entry]:
        return [
            self.results.item(n).data(Qt.ItemDataRole.UserRole) for n in range(self.results.count())
        ]

    def on_search_box_text_changed(self, text: str) -> None:
        # The list's lines are given their new texts in place (a line that stays the same is
        # no change, the rest are taken off the end): each letter typed refilled all 60 lines,
        # and the list laid out and painted them all again.
        text, self.side = split_side(text)
        found = search(text, self.entries)[:MAX_SHOWN]
        for n, entry in enumerate(found):
            kind = "" if entry.item_id is not None else "Action"
            where = " · ".join(part for part in (kind, entry.detail) if part)
            title = f"{entry.title}    — {where}" if where else entry.title
            line = self.results.item(n)
            if line is None:
                line = QListWidgetItem(title)
                self.results.addItem(line)
            elif line.text() != title:
                line.setText(title)
            if line.data(Qt.ItemDataRole.UserRole) is not entry:
                line.setData(Qt.ItemDataRole.UserRole, entry)
        while self.results.count() > len(found):
            self.results.takeItem(self.results.count() - 1)
        if self.results.count():
            self.results.setCurrentRow(0)
            self.results.scrollToTop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut and watched in (self.search_box, self.results):
            QTimer.singleShot(0, self, self._check_focus)  # once the focus has arrived
        if watched is self.search_box and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.results.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                if 0 <= row < self.results.count():
                    self.results.setCurrentRow(row)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                current = self.results.currentItem()
                if current is not None:
                    self.on_results_item_activated(current)
                return True
            if key == Qt.Key.Key_Escape:
                self.close_palette()
                return True
        return super().eventFilter(watched, event)

    def on_results_item_activated(self, line: QListWidgetItem) -> None:
        entry: Entry = line.data(Qt.ItemDataRole.UserRole)
        self.chosen = entry
        self.hide()  # first: the focus going to the item must not close it twice
        if entry.item_id is not None and self.editor is not None:
            sided = self.side is not None and self.editor.form.item(entry.item_id).bilateral
            self.editor.focus_item(entry.item_id, self.side if sided else None)
        elif entry.action is not None:
            # After the palette is gone: an action that opens a dialog gets a clean stack.
            QTimer.singleShot(0, entry.action.trigger)


def open_palette(window: Any) -> CommandPalette:
    """The palette over ``window`` (a ``MainWindow``): its open editor's items (when an
    evaluation shows) and its enabled menu actions."""
    page = getattr(window, "page", None)
    view = getattr(page, "view", None)
    showing = view is not None and window.stack.currentWidget() is page
    editor = view.editor if view is not None and showing else None
    actions = [a for key, a in window.actions_.items() if key != "palette"]
    direct = Qt.FindChildOption.FindDirectChildrenOnly
    kept = window.findChild(CommandPalette, "commandPalette", direct)
    if isinstance(kept, CommandPalette):  # the one opened before: its lists made anew
        palette = kept
        palette.reset(editor, actions)
    else:
        palette = CommandPalette(editor, actions, window)
    palette.open()
    return palette
