"""Pieces of the home-program editor (``ui/program_editor.py``): the exercise search, the list
keys, one shown exercise, the list-beside-or-above-the-dose layout, and the wording of a
confirmed safety warning.

Apart so that the editor stays one readable module; nothing here stores anything.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QInputDialog,
    QLabel,
    QLayoutItem,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from clinic_app.core.kinds import kind_label
from clinic_app.core.library import KINDS, Library
from clinic_app.core.program import (
    DOSE_LIMITS,
    TEXT_LIMITS,
    Program,
    ProgramExercise,
    title_in,
)
from clinic_app.core.words import shown_number
from clinic_app.ui.flow_layout import FlowLayout, ItemListLayout

if TYPE_CHECKING:
    from clinic_app.core.form import Form

FIELD_LABELS = {
    "sets": "Sets",
    "reps": "Reps",
    "hold_seconds": "Hold (seconds)",
    "load": "Load",
    "frequency": "How often",
    "progression": "Progression",
    "instruction": "Personal instruction",
}
SIDE_LABELS = {"both": "Both sides", "left": "Left", "right": "Right"}
NONE_TEXT = "No home program was given at this visit."
ALL = "any"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def entry_title(ex: ProgramExercise, library: Library) -> str:
    """What a program entry is called: its snapshot's title, else the library's; an id no
    library knows stays visible, marked (never shown as if it were a name)."""
    return title_in(ex, library) or f"{ex.exercise} (not in the library)"


def whole_number(text: str) -> int | None:
    """A dose typed as a whole number ("4", " 12 ", "+3", "-0"), else None. int() alone also
    reads "1_0" as 10, which the field would keep showing as typed; Decimal reads 10,000 digits
    (pasted) where int() raises."""
    digits = text.strip().removeprefix("+").removeprefix("-")
    return int(Decimal(text.strip())) if digits.isdecimal() else None


def text_problem(where: str, text: str, limit: int, *, lines: bool = False) -> str | None:
    """Why ``text`` (stripped) cannot be stored, as ``core.program`` checks it (a control
    character, line breaks only where ``lines``, the length), naming ``where``: shown beside
    its field, not only as the program's one-line refusal naming the exercise's id."""
    text = text.strip()
    allowed = "\n\r\t" if lines else ""
    bad = next((c for c in text if (ord(c) < 0x20 or ord(c) == 0x7F) and c not in allowed), None)
    if bad is not None:
        return f"{where}: contains a control character (U+{ord(bad):04X})"
    if len(text) > limit:
        return f"{where}: {len(text)} characters, the limit is {limit}"
    return None


def hide_all(widgets: Sequence[QWidget], hidden: bool) -> None:
    """Hide or show ``widgets``, touching only those that change (a show relays out)."""
    for w in widgets:
        if w.isHidden() != hidden:
            w.setVisible(not hidden)


def no_program_text(note: str, host: Any, item_id: str) -> str:
    """The line a read-only record without exercises shows in place of the empty editor.

    Without a note either, it names the earlier record of the episode holding the latest
    program ("… The episode's previous program is in the visit note of 2026-09-17.") when the
    view around the editor has read it already (a visit note's ``context.earlier``)."""
    if note.strip():
        return "No exercises were given at this visit, only the note below."
    earlier = getattr(getattr(host, "context", None), "earlier", None) or ()
    for record in reversed(earlier):
        if record.values.get(item_id):
            kind = "visit note" if record.kind == "visit" else kind_label(record.kind).lower()
            return (
                f"{NONE_TEXT} The episode's previous program is in the {kind} of "
                f"{record.on:%Y-%m-%d}."
            )
    return NONE_TEXT


def now_text() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M")


def confirmation(warning: str, user: str, when: str) -> str:
    """The ``confirmed`` text: the warning (cut to fit) and who confirmed it when."""
    tail = f" — confirmed by {user or 'unknown'}, {when}"
    room = TEXT_LIMITS["confirmed"] - len(tail)
    text = warning if len(warning) <= room else warning[: max(room - 1, 0)].rstrip() + "…"
    return (text + tail)[: TEXT_LIMITS["confirmed"]]


@dataclass
class Entry:
    """One exercise as shown: what was stored or suggested (``base``), the fields as typed."""

    base: ProgramExercise
    texts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, ex: ProgramExercise) -> Entry:
        texts = {k: "" if getattr(ex, k) is None else str(getattr(ex, k)) for k in DOSE_LIMITS}
        texts.update({k: getattr(ex, k) for k in FIELD_LABELS if k not in DOSE_LIMITS})
        return cls(ex, texts)

    def checked(self, n: int, title: str, problems: dict[tuple[int, str], str]) -> dict[str, Any]:
        """The entry as stored (its plain shape with the fields as typed); what cannot be
        stored goes into ``problems`` by (row, field), naming the exercise and the field."""
        raw = self.base.plain()
        for key in FIELD_LABELS:
            raw.pop(key, None)
        for key in FIELD_LABELS:
            text = self.texts.get(key, "").strip()
            if not text:
                continue
            where = f"{title} (exercise {n}), {FIELD_LABELS[key]}"
            if key in DOSE_LIMITS:
                low, high = DOSE_LIMITS[key]
                number = whole_number(text)
                if number is None:
                    problems[(n - 1, key)] = f"{where}: “{text[:12]}” is not a whole number"
                    continue
                if not low <= number <= high:
                    problems[(n - 1, key)] = (
                        f"{where}: {shown_number(number)} is outside {low}–{high}"
                    )
                raw[key] = number
            else:
                problem = text_problem(where, text, TEXT_LIMITS[key], lines=key == "instruction")
                if problem is not None:
                    problems[(n - 1, key)] = problem
                else:
                    raw[key] = text
        return raw

    def dose_words(self) -> str:
        """ "3 × 10, hold 30 s, left" for the list: a dose as it is stored ("+3" is 3)."""
        t = {k: (v or "").strip() for k, v in self.texts.items()}
        for key in DOSE_LIMITS:
            number = whole_number(t.get(key, ""))
            if number is not None:
                t[key] = shown_number(number)
        out = []
        if t.get("sets"):
            out.append(f"{t['sets']} × {t['reps']}" if t.get("reps") else f"{t['sets']} sets")
        elif t.get("reps"):
            out.append(f"{t['reps']} reps")
        if t.get("hold_seconds"):
            out.append(f"hold {t['hold_seconds']} s")
        if self.base.side != "both":
            out.append(SIDE_LABELS[self.base.side].lower())
        return ", ".join(out)


class SideOrStacked(ItemListLayout):
    """Two widgets side by side when both have their room, the second below the first when not.

    The home program's exercise list and its dose form sat side by side whatever the width, so
    at a 1024 px window the section was 258 px wider than its view and scrolled sideways
    (issue 18). The choice is made from the width the layout is given (``setGeometry``,
    ``heightForWidth``), not in a resize handler: its minimum width is the stacked one, so a
    narrow view can always shrink it, and nothing oscillates. Side by side needs ``first_chars``
    average characters for the first widget and ``second_chars`` (or its minimum) for the
    second, which takes ``second_share`` of the width beyond that.

    Signals: none.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        first_chars: int = 52,
        second_chars: int = 40,
        second_share: float = 0.4,
        spacing: int = 8,
    ) -> None:
        super().__init__(parent)
        self._first_chars = first_chars
        self._second_chars = second_chars
        self._share = second_share
        self._gap = spacing
        self.setContentsMargins(0, 0, 0, 0)

    # -- QLayout's item list ---------------------------------------------------------------------

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 (Qt's name)
        if len(self._items) >= 2:
            raise ValueError("SideOrStacked lays out two widgets")
        super().addItem(item)

    # -- the choice ------------------------------------------------------------------------------

    def _chars(self, n: int) -> int:
        """The width of ``n`` characters of running text (the font's own average character
        width counts its widest glyphs: twice a lowercase letter's in DejaVu Sans)."""
        parent = self.parentWidget()
        if parent is None:
            return n * 7
        return round(n * parent.fontMetrics().horizontalAdvance(_ALPHABET) / len(_ALPHABET))

    def _widths(self, width: int) -> tuple[int, int] | None:
        """The two widths side by side at ``width`` (inside the margins), None when stacked."""
        if len(self._items) < 2:
            return None
        first, second = self._items
        need_first = max(first.minimumSize().width(), self._chars(self._first_chars))
        need_second = max(second.minimumSize().width(), self._chars(self._second_chars))
        room = width - self._gap
        if room < need_first + need_second:
            return None
        right = max(need_second, int(room * self._share))
        return room - right, right

    def is_side_by_side(self) -> bool:
        m = self.contentsMargins()
        return self._widths(self.geometry().width() - m.left() - m.right()) is not None

    @staticmethod
    def _height(item: QLayoutItem, width: int) -> int:
        if item.hasHeightForWidth():
            return max(item.heightForWidth(width), item.minimumSize().height())
        return item.sizeHint().height()

    # -- sizes -----------------------------------------------------------------------------------

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        out = Qt.Orientation(0)
        for item in self._items:
            out |= item.expandingDirections()
        return out

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        m = self.contentsMargins()
        inner = width - m.left() - m.right()
        widths = self._widths(inner)
        visible = [i for i in self._items if not i.isEmpty()]
        if widths is not None:
            h = max(self._height(i, w) for i, w in zip(self._items, widths, strict=True))
        else:
            h = sum(self._height(i, inner) for i in visible) + self._gap * max(0, len(visible) - 1)
        return h + m.top() + m.bottom()

    def sizeHint(self) -> QSize:  # noqa: N802
        """Side by side (the width it would like)."""
        hints = [i.sizeHint() for i in self._items]
        width = sum(h.width() for h in hints) + self._gap * max(0, len(hints) - 1)
        height = max((h.height() for h in hints), default=0)
        m = self.contentsMargins()
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802
        """Stacked: the wider of the two minimums."""
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        area = self.contentsRect()
        widths = self._widths(area.width())
        if widths is not None:
            (first, second), (lw, rw) = self._items, widths
            first.setGeometry(QRect(area.x(), area.y(), lw, area.height()))
            rh = min(area.height(), self._height(second, rw))
            second.setGeometry(QRect(area.x() + lw + self._gap, area.y(), rw, rh))
            return
        visible = [i for i in self._items if not i.isEmpty()]
        if not visible:
            return
        below = [self._height(i, area.width()) for i in visible[1:]]
        top = area.height() - sum(below) - self._gap * len(below)
        y = area.y()
        for item, h in zip(visible, [max(top, 0), *below], strict=True):
            item.setGeometry(QRect(area.x(), y, area.width(), h))
            y += h + self._gap


INDENT = "    "  # a list entry's second and later lines (its reason) start with it
_WRAP = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop


class HangingLines(QStyledItemDelegate):
    """Draws an entry's lines wrapped at the list's width, the lines that start with
    :data:`INDENT` (the reason under the exercise) wrapped with the indent kept: a reason too
    long for a narrow list goes on under itself, not at the margin where the next exercise's
    title begins. Signals: none."""

    def _lines(self, option: QStyleOptionViewItem, width: int) -> list[tuple[int, str, int]]:
        """(indent, text, height) of each line at ``width``."""
        metrics = option.fontMetrics
        out = []
        # Qt's display text has U+2028 (line separator) where the entry has a newline.
        for line in option.text.replace("\u2028", "\n").split("\n"):
            indent = metrics.horizontalAdvance(INDENT) if line.startswith(INDENT) else 0
            text = line.strip() if indent else line
            room = QRect(0, 0, max(width - indent, 1), 100_000)
            out.append((indent, text, metrics.boundingRect(room, int(_WRAP), text).height()))
        return out

    def _room(self, option: QStyleOptionViewItem) -> int:
        width = option.rect.width()
        view = option.widget
        if width <= 0 and isinstance(view, QListWidget):
            width = view.viewport().width()
        return width - 2 * self._margin(option)

    @staticmethod
    def _margin(option: QStyleOptionViewItem) -> int:
        style = option.widget.style() if option.widget is not None else None
        return (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) if style else 2) + 1

    def sizeHint(  # noqa: N802 (Qt's name)
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        hint = super().sizeHint(option, index)
        height = sum(h for _i, _t, h in self._lines(opt, self._room(opt)))
        return QSize(hint.width(), max(hint.height(), height + 4))

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        lines = self._lines(opt, self._room(opt))
        opt.text = ""  # the background, selection and focus as the style draws them
        style = opt.widget.style() if opt.widget is not None else None
        if style is None:
            super().paint(painter, option, index)
            return
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = (
            QPalette.ColorGroup.Disabled
            if not opt.state & QStyle.StateFlag.State_Enabled
            else QPalette.ColorGroup.Normal
        )
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setFont(opt.font)
        painter.setPen(opt.palette.color(group, role))
        margin = self._margin(opt)
        x, y, width = opt.rect.x() + margin, opt.rect.y() + 2, opt.rect.width() - 2 * margin
        for indent, text, height in lines:
            painter.drawText(QRect(x + indent, y, width - indent, height), int(_WRAP), text)
            y += height
        painter.restore()


class FittingList(QListWidget):
    """A list as tall as its entries (as wrapped at its width), up to ``max_lines`` lines of
    text: with the dose form below it on a narrow page, a program of six two-line exercises
    is seen whole instead of in a box that scrolls inside the scrolling page.

    Signals: those of QListWidget.
    """

    def __init__(self, parent: QWidget | None = None, *, min_lines: int = 6, max_lines: int = 20):
        super().__init__(parent)
        self._lines = (min_lines, max_lines)
        self._content_height = -1
        self.setWordWrap(True)
        self.setItemDelegate(HangingLines(self))

    def _frame(self) -> int:
        return 2 * self.frameWidth()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().sizeHint()
        line = self.fontMetrics().lineSpacing()
        low, high = (n * line + self._frame() for n in self._lines)
        content = self.contentsSize().height() + self._frame() + 4
        return QSize(hint.width(), min(max(content, low), high))

    def updateGeometries(self) -> None:  # noqa: N802
        """Called by the view whenever its entries are laid out again (added, changed, wrapped
        at a new width): ask the parent layout for the new height when the content's changed."""
        super().updateGeometries()
        height = self.contentsSize().height()
        if height != self._content_height:
            self._content_height = height
            self.updateGeometry()


class ListKeys(QObject):
    """Alt+Up/Alt+Down and Delete on the exercise list, taken before the window's section keys
    (the editor's Alt+Up/Down step sections elsewhere).

    Signals: ``moved(int)`` (-1 up, +1 down), ``removed()``.
    """

    moved = Signal(int)
    removed = Signal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        assert isinstance(event, QKeyEvent)
        alt = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1}.get(Qt.Key(event.key()), 0)
        delete = event.key() == Qt.Key.Key_Delete and not event.modifiers()
        if not ((alt and step) or delete):
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # this list's key, not a shortcut
            return True
        if delete:
            self.removed.emit()
        else:
            self.moved.emit(step)
        return True


class ExerciseSearch(QWidget):
    """Find an exercise of the library by name, region, purpose or factor, and add it.

    Typing filters; Up/Down in the search line move through what was found, Enter (or *Add*)
    adds the highlighted one. ``F3`` typed alone searches by factor.

    Signals: ``chosen(str)`` — the exercise id to add.
    """

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library: Library | None = None
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        find_label = QLabel("F&ind exercise:", self)
        self.search = QLineEdit(self)
        self.search.setObjectName("programSearch")
        self.search.setAccessibleName("Find an exercise to add")
        self.search.setPlaceholderText("name, region, purpose or factor (F3)")
        self.search.setMaxLength(80)
        self.search.setMinimumWidth(160)
        self.search.textChanged.connect(self.refresh)
        self.search.returnPressed.connect(self.choose_current)
        self.search.installEventFilter(self)
        find_label.setBuddy(self.search)
        self._filled = False
        self.region = QComboBox(self)
        self.region.setAccessibleName("Region")
        self.purpose = QComboBox(self)
        self.purpose.setAccessibleName("Purpose")
        self.factor = QComboBox(self)
        self.factor.setAccessibleName("Factor")
        for combo in (self.region, self.purpose, self.factor):
            combo.currentIndexChanged.connect(self.refresh)
            # Closed, a long factor name is elided to the combo's width; hovering shows it.
            combo.currentTextChanged.connect(combo.setToolTip)
            # long factor names must not squeeze the search line
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(12)
        self.results = QListWidget(self)
        self.results.setObjectName("programResults")
        self.results.setAccessibleName("Exercises found")
        self.results.setFixedHeight(92)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.results.itemActivated.connect(lambda _i: self.choose_current())
        self.add_button = QPushButton("A&dd", self)
        self.add_button.setAccessibleName("Add the exercise found")
        self.add_button.clicked.connect(self.choose_current)
        # The search line on a row of its own and the three filters wrapping below it: in one
        # row they made the program editor 808 px wide, too wide for a 1024 px window (issue 18).
        filters = FlowLayout(spacing=6)
        for combo in (self.region, self.purpose, self.factor):
            filters.addWidget(combo)
        grid.addWidget(find_label, 0, 0)
        grid.addWidget(self.search, 0, 1, 1, 2)
        grid.addLayout(filters, 1, 0, 1, 3)
        grid.addWidget(self.results, 2, 0, 1, 2)
        grid.addWidget(self.add_button, 2, 2, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(1, 1)

    def set_library(self, library: Library, form: Form | None = None) -> None:
        self.library = library
        regions = sorted({e.region for e in library.values() if e.region}, key=str.casefold)
        factors = sorted(
            {f for e in library.values() for f in e.factors}, key=lambda f: (len(f), f)
        )
        names = {f.id: f.name for f in form.factors} if form is not None else {}
        for combo, values, label in (
            (self.region, regions, "Region"),
            (self.purpose, list(KINDS), "Purpose"),
            (self.factor, factors, "Factor"),
        ):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(f"{label}: {ALL}", None)
            for v in values:
                shown = f"{v} {names[v]}" if v in names else v
                combo.addItem(shown, v)  # whole: the open list is as wide as its entries
            combo.blockSignals(False)
            combo.setToolTip(combo.currentText())
        if self.results.count() or self.search.text():
            self.refresh()  # else filled when the search is first used (opening stays quick)

    def refresh(self) -> None:
        if self.library is None:
            return
        self._filled = True
        text = self.search.text().strip()
        factor = self.factor.currentData()
        if len(text) > 1 and text[0] in "Ff" and text[1:].isdigit():  # "F3": by factor
            factor, text = factor or text.upper(), ""
        found = self.library.search(
            text,
            region=self.region.currentData(),
            purpose=self.purpose.currentData(),
            factor=factor,
        )
        self.results.clear()
        for ex in found[:50]:
            where = f" · {ex.region}" if ex.region else ""
            own = " · clinic" if ex.origin == "clinic" else ""
            text = f"{ex.title} · {ex.kind}{where}{own}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, ex.id)
            # Elided in a narrow list: the tooltip has it whole, with what it is for.
            item.setToolTip(f"{text}\n{ex.purpose}" if ex.purpose else text)
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)

    def found(self) -> list[str]:
        """The ids shown, in order."""
        return [
            str(self.results.item(n).data(Qt.ItemDataRole.UserRole))
            for n in range(self.results.count())
        ]

    def choose_current(self) -> None:
        item = self.results.currentItem()
        if item is not None and self.isEnabled():
            self.chosen.emit(str(item.data(Qt.ItemDataRole.UserRole)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.FocusIn and not self._filled:
            self.refresh()  # the whole library listed once the search is reached
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up)
            and self.results.count()
        ):
            step = 1 if event.key() == Qt.Key.Key_Down else -1
            row = min(max(self.results.currentRow() + step, 0), self.results.count() - 1)
            self.results.setCurrentRow(row)
            return True
        return super().eventFilter(watched, event)

    def focus_widgets(self) -> list[QWidget]:
        return [self.search, self.region, self.purpose, self.factor, self.results, self.add_button]


class TemplateButton(QPushButton):
    """*Templates*: save the program shown under a name, or apply a saved one.

    The saved programs are read when the menu opens; both go through the operation runner.

    Signals: ``applied(object)`` — the ``Program`` of the template chosen.
    """

    applied = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("&Templates", parent)
        self.setAccessibleName("Program templates")
        self.setToolTip("Save this program as a template, or apply a saved one")
        self.runner: Any = None
        self.user = ""
        self.program: Callable[[], Program | None] = lambda: None
        self.menu_ = QMenu(self)
        self.menu_.aboutToShow.connect(self.fill)
        self.setMenu(self.menu_)
        self.setEnabled(False)

    def attach(self, runner: Any, user: str, program: Callable[[], Program | None]) -> None:
        self.runner, self.user, self.program = runner, user, program
        self.setEnabled(runner is not None)

    def fill(self) -> None:
        self.menu_.clear()
        save = self.menu_.addAction("Save this program as a template…")
        save.triggered.connect(self.save)
        save.setEnabled(self.program() is not None)
        try:
            saved = self.runner.call("Reading the saved programs", _templates)
        except Exception as err:  # the menu says it, the program is untouched
            self.menu_.addAction(f"Saved programs cannot be read: {err}").setEnabled(False)
            return
        if saved:
            self.menu_.addSeparator()
        for t in saved:
            action = self.menu_.addAction(f"Apply “{t.name}” ({len(t.program.exercises)})")
            action.triggered.connect(functools.partial(self.applied.emit, t.program))

    def save(self) -> None:
        program = self.program()
        if program is None:
            return
        name, ok = QInputDialog.getText(
            self, "Save as template", "Name (e.g. proximal tendinopathy, stage 1):"
        )
        if not ok or not name.strip():
            return
        user = self.user

        def write(db: Any) -> str:
            from clinic_app.storage import records

            return records.save_template(db, name.strip(), program, user=user).name

        self.runner.run(
            "Saving the template",
            write,
            on_success=lambda saved: self.setToolTip(f"Saved as “{saved}”"),
            parent=self,
        )


def _templates(db: Any) -> list[Any]:
    from clinic_app.storage import records

    return records.list_templates(db)
