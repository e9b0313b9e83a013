"""The editor of a ``program`` item: the patient's home program, chosen, dosed and ordered.

Like every value editor (``ui/fields.py``) it only reads what is shown: each change emits the
whole program (``Program.plain()``), None when it is empty, or ``Invalid`` naming the exercise
and the field when a dose typed is not possible ("Bridge (exercise 2),
sets: 0 is outside 1–10"). The evaluation editor hands it to ``Findings.with_value``, so the
page's autosave stores the program as the finding; an invalid dose leaves the stored program as
it was before the typing began, and the field stays marked until mended.

**Suggestions are not a record.** A record without a program shows the exercises the factors
suggest (``core.program.suggest_program``, each with its reason) under a banner saying they are
not in the record yet. They become the value only when the therapist accepts them (the button)
or changes them (any edit): an untouched suggestion never becomes a finding on its own, so an
evaluation saved without a look at the program has none. A read-only record without a program
shows none: one line says so in place of the empty list and the dose form.

**Safety.** Adding an exercise :func:`core.program.safety_warnings` warns about (a stretch while
a nerve or tendon is irritated, loading while a red flag stops exercise, anything under an
emergency red flag) asks first, Cancel being the default; a confirmed warning is kept in the
entry's ``confirmed`` field with who confirmed it and when. With an emergency red flag a banner
says the handout will carry the emergency message only.

Editors are built from the item alone (``editor_factory``), so what a program needs from around
it is found when it is shown: the assessment and the form from the evaluation view it sits in
(an ancestor with ``assessment`` and ``assessed``), the library and the clinician from the page's
application context (an ancestor with ``context``); the library is read once per database
through the operation runner. Tests and scripts can give them with :meth:`set_environment`.

Keys: Alt+Up/Down move the current exercise, Delete removes it, Enter in *Find* adds.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.library import ExerciseDef, Library, shipped_library
from clinic_app.core.program import (
    DOSE_LIMITS,
    NOTE_LIMIT,
    TEXT_LIMITS,
    Program,
    ProgramError,
    ProgramExercise,
    entry_for,
    parse_program,
    safety_warnings,
    snapshot_of,
    suggest_program,
)
from clinic_app.ui.fields import Invalid, ValueEditor
from clinic_app.ui.program_parts import (
    FIELD_LABELS,
    SIDE_LABELS,
    Entry,
    ExerciseSearch,
    FittingList,
    ListKeys,
    SideOrStacked,
    TemplateButton,
    confirmation,
    entry_title,
    hide_all,
    no_program_text,
    now_text,
    text_problem,
)

if TYPE_CHECKING:
    from clinic_app.core.engine import Assessment
    from clinic_app.core.form import Form, Item

EMERGENCY_TEXT = (
    "An emergency red flag is set: the handout will carry the emergency message only, with no "
    "exercises. Refer the patient first."
)
PENDING_TEXT = (
    "Suggested from the contributing factors: not in the record until you accept or change it."
)
# The library read per database (one read per runner; the library dialog forgets it on a change).
_LIBRARIES: weakref.WeakKeyDictionary[Any, Library] = weakref.WeakKeyDictionary()


def forget_library(runner: object | None = None) -> None:
    """Read the clinic's library again next time (after an exercise was added or imported)."""
    if runner is None:
        _LIBRARIES.clear()
    else:
        _LIBRARIES.pop(runner, None)


class ProgramEditor(ValueEditor):
    """The home program: its exercises in order, each one's dose, the search to add more.

    Signals: ``edited(object)`` (from ValueEditor) after every change: the program's plain
    shape, None when empty, or Invalid; ``finished()`` after a whole change (a field left, an
    exercise added, removed or moved).
    """

    typed = True
    inner_navigation = True

    def __init__(self, item: Item, parent: QWidget | None = None) -> None:
        super().__init__(item, parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.entries: list[Entry] = []
        self.note_text = ""
        self.pending = False  # the entries are a suggestion, not the value
        self.touched = False  # the therapist changed something since the value was set
        self.stored: Program | None = None
        self.read_only = False
        self.problems: dict[tuple[int, str], str] = {}
        self._library: Library | None = None
        self._assessment: Assessment | None = None
        self._form: Form | None = None
        self._user = ""
        self._runner: Any = None
        self._host: Any = None
        self._loading = False
        self._build()

    # -- building --------------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        self.banner = QLabel("", self)
        self.banner.setObjectName("programBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        outer.addWidget(self.banner)
        top = QHBoxLayout()
        self.accept_button = QPushButton("A&ccept the suggested program", self)
        self.accept_button.setAccessibleName("Accept the suggested program")
        self.accept_button.clicked.connect(self.accept_suggestion)
        self.accept_button.hide()
        top.addWidget(self.accept_button)
        top.addStretch(1)
        self.templates = TemplateButton(self)
        self.templates.applied.connect(self.apply_program)
        top.addWidget(self.templates)
        outer.addLayout(top)

        # Side by side when the page is wide, the dose form below the list when not (issue 18).
        self.body = SideOrStacked()
        left_box = QWidget(self)
        left = QVBoxLayout(left_box)
        left.setContentsMargins(0, 0, 0, 0)
        self.list = FittingList(self)
        self.list.setObjectName("programList")
        self.list.setAccessibleName("Exercises of the home program")
        self.list.setAccessibleDescription(
            "Alt+Up and Alt+Down move an exercise, Delete removes it"
        )
        self.list.setMinimumHeight(150)
        self.list.setWordWrap(True)
        self.list.currentRowChanged.connect(self.on_list_current_row_changed)
        self._moves = ListKeys(self)
        self._moves.moved.connect(self.move_current)
        self._moves.removed.connect(self.remove_current)
        self.list.installEventFilter(self._moves)
        left.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.up_button = QPushButton("Move &up", self)
        self.up_button.setAccessibleName("Move the exercise up")
        self.up_button.setToolTip("Alt+Up in the list")
        self.up_button.clicked.connect(lambda: self.move_current(-1))
        self.down_button = QPushButton("Move do&wn", self)
        self.down_button.setAccessibleName("Move the exercise down")
        self.down_button.setToolTip("Alt+Down in the list")
        self.down_button.clicked.connect(lambda: self.move_current(1))
        self.remove_button = QPushButton("&Remove", self)
        self.remove_button.setAccessibleName("Remove the exercise")
        self.remove_button.setToolTip("Delete in the list")
        self.remove_button.clicked.connect(self.remove_current)
        for b in (self.up_button, self.down_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        left.addLayout(buttons)
        self.body.addWidget(left_box)
        self.body.addWidget(dose := self._build_dose())
        outer.addLayout(self.body)
        self.finder = ExerciseSearch(self)
        self.finder.chosen.connect(self.add_exercise)
        self.finder.search.installEventFilter(self)
        outer.addWidget(self.finder)
        note_label = QLabel("Note for the whole progra&m", self)
        self.note = QPlainTextEdit(self)
        self.note.setObjectName("programNote")
        self.note.setAccessibleName("Note for the whole program")
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(56)
        self.note.textChanged.connect(self.on_note_text_changed)
        self.note.installEventFilter(self)
        note_label.setBuddy(self.note)
        outer.addWidget(note_label)
        outer.addWidget(self.note)
        # Hidden while a read-only record holds no exercises (the banner says so instead); the
        # note's label and box stay while it has a note.
        self.editing = (left_box, dose, self.finder, self.templates)
        self.note_parts = (note_label, self.note)

    def _build_dose(self) -> QWidget:
        box = QWidget(self)
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        self.dose_title = QLabel("", box)
        self.dose_title.setWordWrap(True)
        self.dose_title.setProperty("role", "sectionTitle")
        form.addRow(self.dose_title)
        self.fields: dict[str, QLineEdit] = {}
        self.side = QComboBox(box)
        self.side.setAccessibleName("Side")
        for side, label in SIDE_LABELS.items():
            self.side.addItem(label, side)
        self.side.currentIndexChanged.connect(self.on_side_current_index_changed)
        for key, label in FIELD_LABELS.items():
            if key == "instruction":
                continue
            line = QLineEdit(box)
            line.setObjectName(f"program.{key}")
            line.setAccessibleName(label)
            if key in DOSE_LIMITS:
                low, high = DOSE_LIMITS[key]
                line.setPlaceholderText(f"{low}–{high}")  # no length cap: kept, then refused
                line.setMaximumWidth(90)
            else:
                line.setMaxLength(TEXT_LIMITS[key])
            line.textEdited.connect(functools.partial(self.on_field_edited, key))
            line.editingFinished.connect(self.finished)
            self.fields[key] = line
            form.addRow(f"{label}:", line)
            if key == "hold_seconds":
                form.addRow("Side:", self.side)
        self.instruction = QPlainTextEdit(box)
        self.instruction.setObjectName("program.instruction")
        self.instruction.setAccessibleName(FIELD_LABELS["instruction"])
        self.instruction.setTabChangesFocus(True)
        self.instruction.setFixedHeight(52)
        self.instruction.textChanged.connect(self.on_instruction_text_changed)
        self.instruction.installEventFilter(self)
        form.addRow(f"{FIELD_LABELS['instruction']}:", self.instruction)
        self.dose_error = QLabel("", box)
        self.dose_error.setObjectName("program.error")
        self.dose_error.setProperty("role", "error")
        self.dose_error.setWordWrap(True)
        self.dose_error.hide()
        form.addRow(self.dose_error)
        self.confirmed_label = QLabel("", box)
        self.confirmed_label.setWordWrap(True)
        self.confirmed_label.setProperty("role", "secondary")
        form.addRow(self.confirmed_label)
        return box

    # -- environment -----------------------------------------------------------------------------

    def set_environment(
        self,
        library: Library | None = None,
        assessment: Assessment | None = None,
        user: str | None = None,
        form: Form | None = None,
    ) -> None:
        """What the editor needs from around it (found by itself when shown in a page)."""
        if form is not None:
            self._form = form
        if library is not None:
            self._library = library
            self.finder.set_library(self._library, self._form)  # the factors named by the form
        if user is not None:
            self._user = user
        if assessment is not None:
            self.set_assessment(assessment)
        self._show()

    def set_assessment(self, assessment: Assessment) -> None:
        self._assessment = assessment
        self._suggest()
        self._show()

    def library(self) -> Library:
        if self._library is None:
            self._find_environment()
        if self._library is None:
            self._library = shipped_library(self._form)
            self.finder.set_library(self._library, self._form)
        return self._library

    def _find_environment(self) -> None:
        """The evaluation view (assessment, form) and page (context) this editor sits in."""
        w = self.parentWidget()
        while w is not None:
            if self._host is None and hasattr(w, "assessed") and hasattr(w, "assessment"):
                self._host = w
                self._form = getattr(w, "form", None) or self._form
                w.assessed.connect(self.set_assessment)
                if getattr(w, "assessment", None) is not None:
                    self._assessment = w.assessment
            context = getattr(w, "context", None)
            if context is not None and hasattr(context, "runner") and self._runner is None:
                self._user = getattr(context, "user", "") or self._user
                if getattr(context, "ready", False):
                    self._runner = context.runner
                    self.templates.attach(self._runner, self._user, self.value)
                    self._library = self._read_library(context.runner)
                    self.finder.set_library(self._library, self._form)
            w = w.parentWidget()

    def _read_library(self, runner: Any) -> Library:
        found = _LIBRARIES.get(runner)
        if found is not None:
            return found
        form = self._form

        def read(db: Any) -> Library:
            from clinic_app.storage.records.programs import load_library

            return load_library(db, form)

        try:
            library: Library = runner.call("Reading the exercise library", read)
        except Exception:  # shown elsewhere; the shipped exercises still work
            return shipped_library(form)
        _LIBRARIES[runner] = library
        return library

    def showEvent(self, event: QShowEvent) -> None:
        # The last filter installed runs first: the list's moves before ui/keyboard.py's.
        self.list.installEventFilter(self._moves)
        if self._host is None:
            self._find_environment()
            self.library()
            self._suggest()
            self._show()
        super().showEvent(event)

    # -- value -----------------------------------------------------------------------------------

    def set_value(self, value: Any) -> None:
        program: Program | None
        if value is None:
            program = None
        else:
            try:
                program = parse_program(value)
            except ProgramError:
                program = None
        self.stored = program
        self.problems.clear()
        self.pending = False
        self.touched = False
        self.entries = [Entry.of(e) for e in program.exercises] if program else []
        self.note_text = program.note if program else ""
        self._loading = True
        self.note.setPlainText(self.note_text)
        self._loading = False
        if program is None:
            self._suggest()
        self._show()

    def _suggest(self) -> None:
        """Show the factors' suggestion (not the value) for a record without a program that
        the therapist has not touched yet; it follows the findings until then."""
        if self.stored is not None or self.touched or self.read_only:
            return
        if self._assessment is None:
            return
        suggested = suggest_program(self._form, self._assessment, self.library())
        self.entries = [Entry.of(e) for e in suggested.exercises]
        self.pending = bool(self.entries)

    def accept_suggestion(self) -> None:
        """The suggested program becomes the value (and is saved with the record)."""
        if self.pending and not self.read_only:
            self.pending = False
            self._changed()

    def program(self) -> Program | Invalid | None:
        """What the editor shows, as a program (None when empty), or the first problem."""
        self.problems.clear()
        out: list[dict[str, Any]] = []
        for n, entry in enumerate(self.entries, 1):
            out.append(entry.checked(n, self.title_of(entry.base), self.problems))
        note = text_problem("Note for the whole program", self.note_text, NOTE_LIMIT, lines=True)
        if note is not None:
            self.problems[(-1, "note")] = note
        if self.problems:
            first = min(self.problems)
            return Invalid(str(first), self.problems[first])
        try:
            program = parse_program({"exercises": out, "note": self.note_text})
        except ProgramError as err:
            return Invalid("program", err.problems[0])
        return program if program.exercises or program.note else None

    def value(self) -> Program | None:
        """The value shown when it is one (not while a suggestion waits or a field is bad)."""
        if self.pending:
            return None
        shown = self.program()
        return shown if isinstance(shown, Program) else None

    def _changed(self, finished: bool = True) -> None:
        """Emit what is shown (the edit accepted a waiting suggestion)."""
        self.pending = False
        self.touched = True
        shown = self.program()
        if not isinstance(shown, Invalid):
            self.stored = shown
        self._show()
        self.edited.emit(shown.plain() if isinstance(shown, Program) else shown)
        if finished:
            self.finished.emit()

    # -- editing ---------------------------------------------------------------------------------

    def title_of(self, ex: ProgramExercise) -> str:
        return entry_title(ex, self.library())

    def current(self) -> int:
        return self.list.currentRow()

    def on_list_current_row_changed(self, _row: int) -> None:
        if not self._loading:
            self._show_dose()

    def on_field_edited(self, key: str, text: str) -> None:
        n = self.current()
        if n < 0 or self.read_only:
            return
        self.entries[n].texts[key] = text
        self._changed(finished=False)

    def on_side_current_index_changed(self, _index: int) -> None:
        n = self.current()
        if self._loading or n < 0 or self.read_only:
            return
        entry = self.entries[n]
        entry.base = replace(entry.base, side=self.side.currentData())
        self._changed()

    def on_instruction_text_changed(self) -> None:
        n = self.current()
        if self._loading or n < 0 or self.read_only:
            return
        self.entries[n].texts["instruction"] = self.instruction.toPlainText()
        self._changed(finished=False)

    def on_note_text_changed(self) -> None:
        if self._loading or self.read_only:
            return
        self.note_text = self.note.toPlainText()
        self._changed(finished=False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut and watched in (self.note, self.instruction):
            self.finished.emit()
        runner = self._runner
        stale = runner is not None and runner not in _LIBRARIES  # the library dialog saved
        if watched is self.finder.search and event.type() == QEvent.Type.FocusIn and stale:
            self._library = self._read_library(runner)
            self.finder.set_library(self._library, self._form)
        return super().eventFilter(watched, event)

    def move_current(self, step: int) -> None:
        n = self.current()
        to = n + step
        if self.read_only or n < 0 or not 0 <= to < len(self.entries):
            return
        self.entries[n], self.entries[to] = self.entries[to], self.entries[n]
        self._changed()
        self.list.setCurrentRow(to)

    def remove_current(self) -> None:
        n = self.current()
        if self.read_only or n < 0:
            return
        del self.entries[n]
        self._changed()
        if self.entries:
            self.list.setCurrentRow(min(n, len(self.entries) - 1))

    def add_exercise(self, exercise_id: str) -> bool:
        """Add an exercise of the library with its default dose, after any safety warning was
        confirmed; False when it was not added (cancelled, unknown, already there)."""
        if self.read_only:
            return False
        ex = self.library().get(exercise_id)
        if ex is None:
            return False
        for n, entry in enumerate(self.entries):
            if entry.base.exercise == exercise_id and entry.base.side == "both":
                self.list.setCurrentRow(n)
                self.confirmed_label.setText(f"{ex.title} is in the program already.")
                self.confirmed_label.show()
                return False
        confirmed = self.confirm_safety(ex)
        if confirmed is None:
            return False
        self.entries.append(Entry.of(entry_for(ex, "added by the therapist", confirmed)))
        self._changed()
        self.list.setCurrentRow(len(self.entries) - 1)
        return True

    def confirm_safety(self, ex: ExerciseDef) -> str | None:
        """ "" when nothing warns, the ``confirmed`` text when the therapist confirmed the
        warnings, None when they cancelled (the default button)."""
        if self._assessment is None:
            return ""
        warnings = safety_warnings(ex, self._assessment)
        if not warnings:
            return ""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Add this exercise?",
            f"Adding {ex.title} needs your confirmation:\n\n"
            + "\n\n".join(f"• {w}" for w in warnings)
            + "\n\nThe confirmation is kept with the exercise in the record.",
            parent=self,
        )
        box.setObjectName("programSafety")
        add = box.addButton("Add it anyway", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.exec()
        if box.clickedButton() is not add:
            return None
        return confirmation("; ".join(warnings), self._user, now_text())

    def apply_program(self, program: Program, replace_all: bool = True) -> int:
        """Put a template's exercises in (each one's safety checked as when added); how many."""
        if self.read_only:
            return 0
        kept: list[Entry] = [] if replace_all else list(self.entries)
        for ex in program.exercises:
            found = self.library().get(ex.exercise)
            confirmed = ex.confirmed
            if found is not None:
                answer = self.confirm_safety(found)
                if answer is None:
                    continue
                confirmed = answer or confirmed
                ex = replace(ex, snapshot=ex.snapshot or snapshot_of(found))  # as when added
            kept.append(Entry.of(replace(ex, confirmed=confirmed)))
        self.entries = kept
        if program.note and replace_all:
            self.note_text = program.note
            self._loading = True
            self.note.setPlainText(program.note)
            self._loading = False
        self._changed()
        return len(program.exercises)

    # -- showing ---------------------------------------------------------------------------------

    def _show(self) -> None:
        emergency = self._assessment is not None and self._assessment.emergency
        if emergency:
            self.banner.setText(EMERGENCY_TEXT)
            self.banner.setStyleSheet("background:#fbe0de; color:#7a1010; padding:6px;")
        elif self.pending:
            self.banner.setText(PENDING_TEXT)
            self.banner.setStyleSheet("background:#fff4d6; color:#5a4300; padding:6px;")
        elif self.read_only and not self.entries:
            self.banner.setText(no_program_text(self.note_text, self._host, self.item.id))
            self.banner.setStyleSheet("")
        bare = self.read_only and not self.entries
        hide_all(self.editing, bare)
        hide_all(self.note_parts, bare and not self.note_text.strip())
        self.banner.setVisible(emergency or self.pending or bare)
        self.accept_button.setVisible(self.pending and not self.read_only)
        row = self.current()
        self._loading = True
        if self.list.count() != len(self.entries):
            self.list.clear()
            for n, entry in enumerate(self.entries):
                self.list.addItem(self._list_item(n, entry))
        else:  # the same rows (a dose typed): their text only, the list stays where it is
            for n, entry in enumerate(self.entries):
                made = self._list_item(n, entry)
                shown = self.list.item(n)
                if shown is not None:
                    shown.setText(made.text())
                    shown.setToolTip(made.toolTip())
                    shown.setFont(made.font())
                    shown.setData(Qt.ItemDataRole.UserRole, made.data(Qt.ItemDataRole.UserRole))
        self.list.setCurrentRow(min(max(row, 0), len(self.entries) - 1) if self.entries else -1)
        self._loading = False
        self._show_dose()

    def _list_item(self, n: int, entry: Entry) -> QListWidgetItem:
        ex = entry.base
        dose = entry.dose_words()
        bad = any(k[0] == n for k in self.problems)
        text = f"{'⚠ ' if bad else ''}{n + 1}. {self.title_of(ex)}"
        if dose:
            text += f"  ({dose})"
        if ex.reason:
            text += f"\n    {ex.reason}"
        if ex.confirmed:
            text += "\n    ⚠ warning confirmed"
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, ex.exercise)
        item.setToolTip(ex.confirmed or ex.reason)
        if self.pending:
            f = item.font()
            f.setItalic(True)
            item.setFont(f)
        return item

    def _show_dose(self) -> None:
        n = self.current()
        has = 0 <= n < len(self.entries)
        editable = has and not self.read_only
        self._loading = True
        entry = self.entries[n] if has else None
        self.dose_title.setText(
            f"{n + 1}. {self.title_of(entry.base)}" if entry else "No exercise chosen"
        )
        for key, line in self.fields.items():
            text = entry.texts.get(key, "") if entry else ""
            if line.text() != text:  # never while it is being typed: the cursor stays
                line.setText(text)
            line.setEnabled(editable)
            bad = entry is not None and (n, key) in self.problems
            if bool(line.property("invalid")) != bad:  # a new style only when it changes
                line.setProperty("invalid", bad)
                line.style().unpolish(line)
                line.style().polish(line)
        self.side.setCurrentIndex(self.side.findData(entry.base.side) if entry else 0)
        self.side.setEnabled(editable)
        if entry is None or self.instruction.toPlainText() != entry.texts.get("instruction", ""):
            self.instruction.setPlainText(entry.texts.get("instruction", "") if entry else "")
        self.instruction.setEnabled(editable)
        self._loading = False
        problems = [p for (r, _k), p in sorted(self.problems.items()) if r in (n, -1)]
        self.dose_error.setText("\n".join(f"{p} — not stored until mended" for p in problems))
        self.dose_error.setVisible(bool(problems))
        self.confirmed_label.setText(
            f"Confirmed warning: {entry.base.confirmed}" if entry and entry.base.confirmed else ""
        )
        self.confirmed_label.setVisible(bool(self.confirmed_label.text()))  # no empty row
        for b in (self.up_button, self.down_button, self.remove_button):
            b.setEnabled(editable)
        self.up_button.setEnabled(editable and n > 0)
        self.down_button.setEnabled(editable and n < len(self.entries) - 1)

    def set_read_only(self, read_only: bool) -> None:
        self.read_only = read_only
        self.finder.setEnabled(not read_only)
        self.note.setReadOnly(read_only)
        if read_only and self.pending:
            self.entries, self.pending = [], False
        self._suggest()  # a reused editor: set_value ran while the last record was read-only
        self._show()

    def set_invalid(self, invalid: bool) -> None:
        self.list.setProperty("invalid", invalid)
        self.list.style().unpolish(self.list)
        self.list.style().polish(self.list)

    def focus_widgets(self) -> list[QWidget]:
        """In Tab order; *Accept* only while a suggestion waits (it is hidden otherwise)."""
        accept = [self.accept_button] if self.pending and not self.read_only else []
        return [
            *accept,
            self.list,
            self.up_button,
            self.down_button,
            self.remove_button,
            *self.fields.values(),
            self.side,
            self.instruction,
            *self.finder.focus_widgets(),
            self.note,
            self.templates,
        ]
