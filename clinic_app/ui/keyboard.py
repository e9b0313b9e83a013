"""Charting by keyboard in the evaluation editor (issue 18): one Tab stop per item.

Around the per-type single-key answers of ``clinic_app.ui.fields`` (Y/N, P/N, a choice's letter
or number, typed grades and numbers), this adds what crosses editors:

- **Enter** moves to the next item still to answer (from the last item of a page to the next
  page): a value filled from the patient record or carried forward is passed over, Tab still
  stops at every item and Shift+Tab goes back; free text keeps Enter for its new lines, a table
  (``inner_navigation``) its own.
- **Left/Right** move between the sides of a bilateral item (a typed value only from the end or
  the start of its text, so the cursor still moves inside "123").
- **Alt+N** answers "no" to every unanswered yes/no item of a section the form marks ``all_no``
  (the red-flag screen): what was answered stays, each answer stays shown and changeable.
- A section clicked or chosen in the list (or reached by Ctrl+PgDown / Alt+Down) puts the focus
  on its first unanswered item, so the next key is an answer, not lost in the list.
- Values the patient record gives (``from_patient`` items) are filled when a new evaluation is
  opened and marked as such while they still equal the record.

The editor is a :class:`clinic_app.ui.editor.EvaluationEditor` (typed ``Any``: that module
imports this one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import date
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSignalBlocker, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QPainter, QPaintEvent, QPalette, QPen, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from clinic_app.core.form import SIDES, Item, ItemType, Side
from clinic_app.ui.fields import ValueEditor, is_whole_item
from clinic_app.ui.section_page import BODY_NAME

ALL_NO_KEYS = "Alt+N"
# The window's keys that must work from inside any field (the palette, "all no", the sections).
WINDOW_KEYS = ("Ctrl+K", ALL_NO_KEYS, "Ctrl+PgDown", "Ctrl+PgUp", "Alt+Down", "Alt+Up")
ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
OWN_KEYS_TYPES = (ItemType.ROWS, ItemType.TEXT)  # Enter is theirs (a table's, a new line)
NAV_KEYS = (Qt.Key.Key_Tab, Qt.Key.Key_Backtab, *ENTER_KEYS, Qt.Key.Key_Left, Qt.Key.Key_Right)

Editor = Any  # clinic_app.ui.editor.EvaluationEditor


def answered(editor: Editor, item_id: str, side: Side | None) -> bool:
    """Whether the field holds a value (a whole bilateral item: either side)."""
    findings = editor.findings
    if side is None and editor.form.item(item_id).bilateral:
        return bool(findings.sides(item_id))
    return findings.get(item_id, side) not in (None, {}, ())


def fields_of(item: Item) -> tuple[Side | None, ...]:
    """The fields of an item: one per side, or one for the whole item."""
    return SIDES if item.bilateral and not is_whole_item(item) else (None,)


def unanswered_field(editor: Editor, item: Item) -> tuple[str, Side | None] | None:
    for side in fields_of(item):
        if not answered(editor, item.id, side):
            return item.id, side
    return None


def first_unanswered(editor: Editor, index: int) -> tuple[str, Side | None] | None:
    """The first field of section ``index`` without a value (None when all are answered)."""
    for item in editor.sections[index].items:
        found = unanswered_field(editor, item)
        if found is not None:
            return found
    return None


SIGHT_MARGIN = 50  # px kept in sight around a field the keyboard moved to (as ensureWidgetVisible)


def bring_into_view(page: Any, target: QWidget) -> None:
    """Scroll ``page`` (a ``SectionPage``) so that ``target`` is in sight: a field below the
    view comes to a third of the way down, with the next ones in sight under it. Scrolling
    only just enough (``ensureWidgetVisible``) scrolled a row at a time, and every scroll
    repaints the whole page: with Enter moving down a page, one key in three paid for that."""
    body = page.widget()
    bar = page.verticalScrollBar()
    if body is None or not body.isAncestorOf(target):
        page.ensureWidgetVisible(target)
        return
    top = target.mapTo(body, QPoint(0, 0)).y()
    bottom = top + target.height()
    height = page.viewport().height()
    now = bar.value()
    if bottom + SIGHT_MARGIN > now + height and target.height() + SIGHT_MARGIN < height // 2:
        bar.setValue(max(0, top - height // 3))
    page.ensureWidgetVisible(target, SIGHT_MARGIN, SIGHT_MARGIN)


_ITEM = "clinicItem"  # dynamic properties of a field: its item id and side ("" when one-sided)
_SIDE = "clinicSide"


class FocusRing(QWidget):
    """A frame drawn around the field that has the keyboard (any kind: a drop-down, a check
    box, the body chart), above the page, so the focus is always visible whatever the style.

    Signals: none.
    """

    MARGIN = 3

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setObjectName("focusRing")
        self.target: QWidget | None = None
        self.area = QRect()
        self.hide()

    def follow(self, target: QWidget | None, area: QRect | None = None) -> None:
        """Frame ``area`` of ``target`` (its coordinates; all of it by default), or hide.

        The ring hides with its target: a field hidden while it had the keyboard (the program
        editor's list when a signed record shows its one line instead) left a frame around
        nothing."""
        if self.target is not None and self.target is not target:
            with contextlib.suppress(RuntimeError):  # the old target may be gone already
                self.target.removeEventFilter(self)
        self.target = target
        body = self.parentWidget()
        if target is None or body is None or not body.isAncestorOf(target):
            self.hide()
            return
        target.installEventFilter(self)
        if not target.isVisibleTo(body):
            self.hide()
            return
        self.area = area if area is not None else target.rect()
        m = self.MARGIN
        top_left = target.mapTo(body, self.area.topLeft())
        self.setGeometry(QRect(top_left, self.area.size()).adjusted(-m, -m, m, m))
        self.raise_()
        self.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.target and event.type() == QEvent.Type.Hide:
            self.hide()
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 2))
        p.drawRoundedRect(self.rect().adjusted(1, 1, -1, -1), 4, 4)
        p.end()


class EditorKeys(QObject):
    """The editor's keyboard: an event filter on every field, the "all no" shortcut, the
    section list's clicks, and the patient record's values.

    Signals: none (answers go through the editors' ``edited`` signals like any other edit).
    """

    def __init__(self, editor: Editor) -> None:
        super().__init__(editor)
        self.editor = editor
        self._record: dict[str, Any] = {}  # item id -> the value the patient record gives
        # One ring per page built (pages live as long as the editor; never emptied from
        # ``destroyed``): walking the editor's hundreds of widgets with findChildren on every
        # focus change cost ~1 ms a key.
        self._rings: list[FocusRing] = []
        shortcut = QShortcut(QKeySequence(ALL_NO_KEYS), editor)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(self.on_all_no_activated)
        self.all_no_shortcut = shortcut
        editor.nav.itemClicked.connect(self.on_nav_chosen)
        editor.nav.itemActivated.connect(self.on_nav_chosen)
        editor.findings_changed.connect(self.on_editor_findings_changed)

    # -- pages -----------------------------------------------------------------------------------

    def attach(self, page: Any) -> None:
        """Watch the fields of a page just built (``SectionPage``)."""
        body = page.widget()
        self._rings.append(FocusRing(body))
        body.installEventFilter(self)
        if page.section.all_no:
            bar = QWidget()
            line = QHBoxLayout(bar)
            line.setContentsMargins(0, 2, 0, 2)
            button = QPushButton(f"Answer the rest “No” ({ALL_NO_KEYS})", bar)
            button.setObjectName(f"{page.section.id}.all_no")
            button.setToolTip(
                "Every question here not answered yet becomes “No”; answers given stay. Each "
                "stays shown and can still be changed."
            )
            section_id = page.section.id
            button.clicked.connect(lambda: self.answer_all_no(section_id))
            line.addWidget(button)
            line.addStretch(1)
            page.add_above_items(bar)
        for item_id, row in page.rows.items():
            for side, ed in row.editors.items():
                for w in ed.focus_widgets():
                    # The field's item and side ride on the widget itself: a dict of widget
                    # wrappers (emptied from ``destroyed``) crashed Python's cyclic GC later.
                    w.setProperty(_ITEM, item_id)
                    w.setProperty(_SIDE, side or "")
                    w.installEventFilter(self)
            self._mark(item_id)

    def _where(self, obj: QObject | None) -> tuple[str, Side | None] | None:
        """The item and side of a field of this editor (None for any other widget)."""
        if obj is None:
            return None
        item_id = obj.property(_ITEM)
        if not isinstance(item_id, str) or item_id not in self.editor._rows:
            return None
        if not (isinstance(obj, QWidget) and self.editor.isAncestorOf(obj)):
            return None
        side = obj.property(_SIDE)
        return item_id, (side or None)

    # -- moving ----------------------------------------------------------------------------------

    def focus_item(self, item_id: str, side: Side | None = None) -> QWidget:
        """Show the page of ``item_id`` and put the focus on its field (``side`` of a bilateral
        item, else its first). Returns the focused widget."""
        editor = self.editor
        editor.set_current_section(editor.section_of(item_id))
        row = editor.row(item_id)
        ed: ValueEditor = row.editors.get(side) or next(iter(row.editors.values()))
        target = ed.tab_widget()
        target.setFocus(Qt.FocusReason.TabFocusReason)
        bring_into_view(editor.current_page(), target)
        return target

    def focus_first_unanswered(self) -> None:
        """The focus on the current page's first unanswered field (its first when all are)."""
        editor = self.editor
        index = editor.pages.currentIndex()
        target = first_unanswered(editor, index)
        if target is None:
            editor.focus_first_field()
        else:
            self.focus_item(*target)

    def next_item(self, item_id: str) -> None:
        """The focus on the next item after ``item_id`` still to answer (its first empty side),
        across pages; the plain next item when every later one is answered."""
        editor = self.editor
        order = [i for s in editor.sections for i in s.items]
        n = next(k for k, i in enumerate(order) if i.id == item_id)
        for item in order[n + 1 :]:
            found = unanswered_field(editor, item)
            if found is not None:
                self.focus_item(*found)
                return
        if n + 1 < len(order):
            self.focus_item(order[n + 1].id)

    def on_nav_chosen(self, *_args: object) -> None:
        self.focus_first_unanswered()

    # -- keys ------------------------------------------------------------------------------------

    def _frame(self, now: QWidget | None) -> None:
        """Frame the field ``now`` (or hide the rings when the keyboard left the fields).

        Driven by the fields' own focus events, not the application's ``focusChanged``: a
        connection to that outlived a deleted editor and crashed in a later window."""
        where = self._where(now)
        area = None
        if now is not None and where is not None:
            row = self.editor._rows.get(where[0])
            if row is not None:
                area = row.editors[where[1]].focus_area(now)
        for ring in self._rings:
            ring.follow(now if where is not None else None, area)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.FocusIn and isinstance(watched, QWidget):
            self._frame(watched)
        elif kind == QEvent.Type.FocusOut:
            self._frame(None)
        # (a page's body holds its ring; its hundreds of fields, watched too, hold none)
        if kind in (QEvent.Type.Resize, QEvent.Type.Show) and watched.objectName() == BODY_NAME:
            direct = Qt.FindChildOption.FindDirectChildrenOnly
            ring = watched.findChild(FocusRing, "focusRing", direct)
            if ring is not None:  # the page was laid out anew: the field moved
                ring.follow(ring.target, ring.area)
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return super().eventFilter(watched, event)
        where = self._where(watched)
        if kind == QEvent.Type.ShortcutOverride and where is not None and not self._inner(*where):
            assert isinstance(event, QKeyEvent)
            pressed = QKeySequence(event.keyCombination())
            exact = QKeySequence.SequenceMatch.ExactMatch
            if any(pressed.matches(QKeySequence(k)) == exact for k in WINDOW_KEYS):
                # A line edit claims Ctrl+K (delete to the end of the line, on X11) and a
                # drop-down Alt+Down: here the window's keys win.
                return True
        if kind != QEvent.Type.KeyPress or where is None:
            return super().eventFilter(watched, event)
        assert isinstance(event, QKeyEvent)
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if mods & ~Qt.KeyboardModifier.ShiftModifier:
            return False  # Ctrl/Alt combinations are shortcuts
        item_id, side = where
        editor = self.editor
        row = editor.row(item_id)
        ed: ValueEditor = row.editors[side]
        if self._inner(item_id, side):
            return False
        key = event.key()
        if key in ENTER_KEYS and row.item.type not in OWN_KEYS_TYPES and not mods:
            self.next_item(item_id)
            return True
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and side in SIDES and not mods:
            other: Side = "right" if key == Qt.Key.Key_Right else "left"
            if ed.leaves_by(watched, key):
                if other != side:
                    self._cross(row, side, other, watched)
                return True  # past the outer side: nothing (never a changed answer)
        if editor.is_read_only():
            return False
        return ed.answer_key(watched, event)

    def _inner(self, item_id: str, side: Side | None) -> bool:
        """An editor with keys of its own (a table, the home program's list: its Alt+Up/Down
        move an exercise): Enter, the arrows and the window's keys are left to it."""
        row = self.editor.row(item_id)
        return bool(row.editors[side].inner_navigation) or row.item.type is ItemType.ROWS

    def _cross(self, row: Any, side: Side, other: Side, watched: QObject) -> None:
        """To the other side's field, at the same choice of a list of check boxes."""
        here = row.editors[side].focus_widgets()
        there = row.editors[other].focus_widgets()
        n = here.index(watched) if watched in here else 0
        target = there[min(n, len(there) - 1)]
        target.setFocus(Qt.FocusReason.TabFocusReason)

    # -- "all no" --------------------------------------------------------------------------------

    def on_all_no_activated(self) -> None:
        self.answer_all_no(self.editor.current_section())

    def answer_all_no(self, section_id: str) -> list[str]:
        """Answer "no" to each unanswered yes/no item of ``section_id`` if the form allows it
        there (``all_no``); an answer already given is never changed. Returns the items
        answered. Each goes through the editor as a click would (checked, stored, assessed)."""
        editor = self.editor
        section = next((s for s in editor.sections if s.id == section_id), None)
        if section is None or not section.all_no or editor.is_read_only():
            return []
        done = []
        with editor.one_change():  # assessed and saved once, not once per question
            for item in section.items:
                if item.type is not ItemType.YESNO:
                    continue
                row = editor.row(item.id)
                for side, ed in row.editors.items():
                    if answered(editor, item.id, side):
                        continue
                    blocker = QSignalBlocker(ed)
                    ed.set_value("no")
                    del blocker
                    editor.on_value_edited(item, side, "no")
                    done.append(item.id)
        first = first_unanswered(editor, editor.pages.currentIndex())
        if done and first is None:  # all answered: on to the next page's first question
            editor.step_section(1)
        return done

    # -- the patient record ----------------------------------------------------------------------

    def use_patient_record(
        self, sex: str, date_of_birth: date | None, on: date, *, fill: bool
    ) -> list[str]:
        """Remember what the patient record answers and, with ``fill`` (a new evaluation),
        put it into each such item still unanswered. Returns the items filled."""
        from clinic_app.core.derived import patient_values

        editor = self.editor
        values = patient_values(editor.form, sex, date_of_birth, on)
        self._record = {k: v for k, v in values.items() if editor.has_item(k)}
        filled = []
        if fill and not editor.is_read_only():
            with editor.one_change():
                for item_id, value in self._record.items():
                    if answered(editor, item_id, None):
                        continue
                    item = editor.form.item(item_id)
                    ed = editor.editor(item_id)
                    blocker = QSignalBlocker(ed)
                    ed.set_value(value)
                    del blocker
                    editor.on_value_edited(item, None, value)
                    filled.append(item_id)
        for item_id in editor.form.items:
            self._mark(item_id)
        return filled

    def record_values(self) -> Mapping[str, Any]:
        return dict(self._record)

    def _mark(self, item_id: str) -> None:
        row = self.editor._rows.get(item_id)
        if row is None or row.item.from_patient is None:
            return
        given = self._record.get(item_id)
        row.set_from_patient(given is not None and self.editor.findings.get(item_id) == given)

    def on_editor_findings_changed(self, _findings: object) -> None:
        for item_id in self._record:
            self._mark(item_id)
