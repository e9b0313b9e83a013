"""Pieces of the home-program editor (``ui/program_editor.py``): the exercise search, the list
keys, one shown exercise, and the wording of a confirmed safety warning.

Apart so that the editor stays one readable module; nothing here stores anything.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QWidget,
)

from clinic_app.core.library import KINDS, Library
from clinic_app.core.program import DOSE_LIMITS, TEXT_LIMITS, Program, ProgramExercise

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
ALL = "any"


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
                try:
                    number = int(text)
                except ValueError:
                    problems[(n - 1, key)] = f"{where}: “{text[:12]}” is not a whole number"
                    continue
                if not low <= number <= high:
                    problems[(n - 1, key)] = f"{where}: {number} is outside {low}–{high}"
                raw[key] = number
            elif len(text) > TEXT_LIMITS[key]:
                problems[(n - 1, key)] = (
                    f"{where}: {len(text)} characters, the limit is {TEXT_LIMITS[key]}"
                )
            else:
                raw[key] = text
        return raw

    def dose_words(self) -> str:
        """ "3 × 10, hold 30 s, left" for the list."""
        t = self.texts
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
            # long factor names must not squeeze the search line
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(14)
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
        grid.addWidget(find_label, 0, 0)
        grid.addWidget(self.search, 0, 1)
        grid.addWidget(self.region, 0, 2)
        grid.addWidget(self.purpose, 0, 3)
        grid.addWidget(self.factor, 0, 4)
        grid.addWidget(self.results, 1, 1, 1, 4)
        grid.addWidget(self.add_button, 1, 5, Qt.AlignmentFlag.AlignTop)
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
                combo.addItem(shown[:44], v)
            combo.blockSignals(False)
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
            item = QListWidgetItem(f"{ex.title} · {ex.kind}{where}{own}")
            item.setData(Qt.ItemDataRole.UserRole, ex.id)
            if ex.purpose:
                item.setToolTip(ex.purpose)
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
