"""The clinic's exercise library (issue 17): its own exercises, pictures, zips and templates.

The shipped exercises are read-only; the clinic adds its own (title, purpose, steps, dose
defaults, contraindication tags, one or two pictures) and edits them (each save is a new version:
a signed program keeps the words it was printed with). A picture is imported from a PNG, JPEG or
SVG file through ``records.add_picture``, which checks and decodes it first: a refusal is shown
as its one line and nothing is stored. *Export…* writes the clinic's exercises with their
pictures to a zip for another clinic, *Import…* reads one in one transaction. Saved programs
(templates) are listed on their own tab; they are saved from and applied to a program in the
program editor.

Every read and write goes through the operation runner; the editor's cached library is dropped
after a change (``program_editor.forget_library``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.library import (
    KINDS,
    MAX_PICTURES,
    TAGS,
    ExerciseDef,
    Picture,
    shipped_library,
)
from clinic_app.ui.context import AppContext
from clinic_app.ui.program_editor import forget_library
from clinic_app.ui.program_parts import entry_title

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import ImportResult, Template

SIZE = (920, 640)  # the size it opens at, if the screen has room
PICTURE_FILTER = "Pictures (*.png *.jpg *.jpeg *.svg)"
ZIP_FILTER = "Exercise library (*.zip)"


def exercise_id_for(title: str, taken: set[str]) -> str:
    """A new exercise's id from its title ("Wall sit, 30 s" → "clinic:wall_sit_30_s")."""
    words = re.sub(r"[^a-z0-9]+", "_", title.casefold()).strip("_")[:60] or "exercise"
    base = f"clinic:{words}"
    found, n = base, 2
    while found in taken:
        found, n = f"{base}_{n}", n + 1
    return found


THUMB = (120, 80)


def thumbnail(picture: Picture) -> QPixmap:
    """A small drawing of a stored picture (an SVG rendered, a PNG or JPEG scaled)."""
    if picture.media_type == "image/svg+xml":
        from PySide6.QtSvg import QSvgRenderer

        renderer = QSvgRenderer(QByteArray(picture.data))
        size = renderer.defaultSize().scaled(*THUMB, Qt.AspectRatioMode.KeepAspectRatio)
        pixmap = QPixmap(size if not size.isEmpty() else QSize(*THUMB))
        pixmap.fill(Qt.GlobalColor.white)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        return pixmap
    pixmap = QPixmap()
    pixmap.loadFromData(picture.data)
    return pixmap.scaled(*THUMB, Qt.AspectRatioMode.KeepAspectRatio)


def one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


class LibraryDialog(QDialog):
    """The clinic's exercises (add, edit, pictures), library zips and saved programs.

    Signals: ``changed()`` — the clinic's library changed (an exercise saved or imported).
    """

    changed = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("libraryDialog")
        self.setWindowTitle("Exercise library")
        self.context = context
        self.exercises: list[ExerciseDef] = []
        self.current: ExerciseDef | None = None  # the clinic exercise shown (None: a new one)
        self.pictures: list[Picture] = []
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_exercises(), "&Clinic exercises")
        self.tabs.addTab(self._build_templates(), "Saved &programs")
        layout.addWidget(self.tabs, 1)
        self.status = QLabel("", self)
        self.status.setObjectName("libraryStatus")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Library status")
        layout.addWidget(self.status)
        row = QHBoxLayout()
        self.export_button = QPushButton("E&xport library…", self)
        self.export_button.setAccessibleName("Export the clinic's exercises to a zip")
        self.export_button.clicked.connect(self.on_export_clicked)
        self.import_button = QPushButton("&Import library…", self)
        self.import_button.setAccessibleName("Import exercises from a zip")
        self.import_button.clicked.connect(self.on_import_clicked)
        close = QPushButton("Close", self)
        close.setAccessibleName("Close the library")
        close.clicked.connect(self.accept)
        row.addWidget(self.export_button)
        row.addWidget(self.import_button)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        # A 1024x700 screen has about 668 px below its task bar, less a title bar (issue 18).
        room = self.screen().availableGeometry()
        self.resize(min(SIZE[0], room.width() - 40), min(SIZE[1], room.height() - 60))
        self.reload()

    def showEvent(self, event: QShowEvent) -> None:
        """The exercise form scrolls up and down, never sideways: its area is as wide as the
        fields once they are styled (their width is known only when shown)."""
        body = self.form_area.widget()
        if body is not None:
            bar = self.form_area.verticalScrollBar().sizeHint().width()
            self.form_area.setMinimumWidth(body.minimumSizeHint().width() + bar + 2)
        super().showEvent(event)

    # -- building --------------------------------------------------------------------------------

    def _build_exercises(self) -> QWidget:
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.setChildrenCollapsible(False)
        left = QWidget(split)
        box = QVBoxLayout(left)
        box.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget(left)
        self.list.setObjectName("clinicExercises")
        self.list.setAccessibleName("The clinic's exercises")
        self.list.setWordWrap(True)  # a long title wraps: the list never scrolls sideways
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.currentRowChanged.connect(self.on_list_current_row_changed)
        box.addWidget(self.list, 1)
        self.new_button = QPushButton("&New exercise", left)
        self.new_button.setAccessibleName("New exercise")
        self.new_button.clicked.connect(self.new_exercise)
        box.addWidget(self.new_button)
        # The form in a scroll area (its twelve rows are taller than a 700 px screen's dialog),
        # Save below it, always in sight.
        side = QWidget(split)
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        self.form_area = QScrollArea(side)
        self.form_area.setObjectName("exerciseFormScroll")
        self.form_area.setWidgetResizable(True)
        self.form_area.setFrameShape(QFrame.Shape.NoFrame)
        self.form_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right = QWidget(self.form_area)
        form = QFormLayout(right)
        self.title = QLineEdit(right)
        self.title.setMaxLength(100)
        self.purpose = QLineEdit(right)
        self.purpose.setMaxLength(400)
        self.steps = QPlainTextEdit(right)
        self.steps.setTabChangesFocus(True)
        self.steps.setPlaceholderText("One step a line")
        self.steps.setFixedHeight(96)
        self.region = QLineEdit(right)
        self.region.setMaxLength(60)
        self.kind = QComboBox(right)
        for k in KINDS:
            self.kind.addItem(k, k)
        self.tags: dict[str, QCheckBox] = {}
        tag_row = QHBoxLayout()
        for tag in TAGS:
            box_ = QCheckBox(tag, right)
            box_.setAccessibleName(f"Contraindication tag: {tag}")
            self.tags[tag] = box_
            tag_row.addWidget(box_)
        tag_row.addStretch(1)
        self.factors = QLineEdit(right)
        self.factors.setPlaceholderText("F3, F6")
        self.sets = QLineEdit(right)
        self.reps = QLineEdit(right)
        self.hold = QLineEdit(right)
        self.frequency = QLineEdit(right)
        self.frequency.setMaxLength(80)
        self.dose_text = QLineEdit(right)
        self.dose_text.setMaxLength(200)
        self.safety = QLineEdit(right)
        self.safety.setMaxLength(300)
        for label, w in (
            ("&Title", self.title),
            ("Purpose", self.purpose),
            ("Steps", self.steps),
            ("Region", self.region),
            ("Kind", self.kind),
            ("Factors", self.factors),
            ("Default sets", self.sets),
            ("Default reps", self.reps),
            ("Default hold (seconds)", self.hold),
            ("How often", self.frequency),
            ("Dose in words", self.dose_text),
            ("Caution", self.safety),
        ):
            w.setAccessibleName(label.replace("&", ""))
            form.addRow(f"{label}:", w)
            if label == "Kind":
                form.addRow("Contraindications:", tag_row)
        pics = QVBoxLayout()  # what the pictures are above them and their buttons: narrow too
        pictures_row = QHBoxLayout()
        self.picture_label = QLabel("No pictures", right)
        self.picture_label.setObjectName("pictureList")
        self.picture_label.setWordWrap(True)
        self.add_picture_button = QPushButton("Add &picture…", right)
        self.add_picture_button.setAccessibleName("Add a picture from a PNG, JPEG or SVG file")
        self.add_picture_button.clicked.connect(self.on_add_picture_clicked)
        self.clear_pictures_button = QPushButton("Remove pictures", right)
        self.clear_pictures_button.setAccessibleName("Remove the pictures of this exercise")
        self.clear_pictures_button.clicked.connect(self.clear_pictures)
        pics.addWidget(self.picture_label)
        pics.addLayout(pictures_row)
        self.thumbs = [QLabel(right) for _ in range(MAX_PICTURES)]
        for n, thumb in enumerate(self.thumbs):
            thumb.setObjectName(f"picture{n + 1}")
            thumb.setAccessibleName(f"Picture {n + 1}")
            thumb.setFixedSize(THUMB[0] + 4, THUMB[1] + 4)
            thumb.setStyleSheet("border: 1px solid #c8d0d8; background: white;")
            thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
            thumb.hide()
            pictures_row.addWidget(thumb)
        pictures_row.addStretch(1)
        pictures_row.addWidget(self.add_picture_button)
        pictures_row.addWidget(self.clear_pictures_button)
        form.addRow("Pictures:", pics)
        self.picture_problem = QLabel("", right)
        self.picture_problem.setObjectName("pictureProblem")
        self.picture_problem.setProperty("role", "error")
        self.picture_problem.setWordWrap(True)
        form.addRow(self.picture_problem)
        self.save_button = QPushButton("&Save exercise", side)
        self.save_button.setAccessibleName("Save the exercise")
        self.save_button.clicked.connect(self.on_save_clicked)
        self.form_area.setWidget(right)
        column.addWidget(self.form_area, 1)
        column.addWidget(self.save_button)
        split.addWidget(left)
        split.addWidget(side)
        split.setStretchFactor(1, 1)
        split.setSizes([280, 620])
        return split

    def _build_templates(self) -> QWidget:
        page = QWidget(self)
        box = QVBoxLayout(page)
        about = QLabel(
            "Programs saved under a name (e.g. “proximal tendinopathy, stage 1”). Save one "
            "from the program editor (Templates → Save this program…) and apply it there.",
            page,
        )
        about.setWordWrap(True)  # one line of it made the dialog 993 px wide (issue 18)
        box.addWidget(about)
        self.templates = QListWidget(page)
        self.templates.setObjectName("templates")
        self.templates.setAccessibleName("Saved programs")
        self.templates.setWordWrap(True)
        box.addWidget(self.templates, 1)
        return page

    # -- reading ---------------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        def read(db: Database) -> tuple[list[ExerciseDef], list[Template]]:
            from clinic_app.storage import records

            return records.clinic_exercises(db), records.list_templates(db)

        try:
            exercises, templates = self.context.runner.call("Reading the exercise library", read)
        except Exception as err:
            self.say(f"The library could not be read: {one_line(err)}")
            return
        self.exercises = exercises
        # The library the program editor uses (``records.load_library``): shipped + the clinic's.
        library = shipped_library(self.context.form).merged(exercises)
        self.list.blockSignals(True)
        self.list.clear()
        for ex in exercises:
            item = QListWidgetItem(f"{ex.title} (v{ex.version})")
            item.setData(Qt.ItemDataRole.UserRole, ex.id)
            item.setToolTip(ex.purpose or ex.title)
            self.list.addItem(item)
        self.list.blockSignals(False)
        index = next((n for n, e in enumerate(exercises) if e.id == select), 0 if exercises else -1)
        if index >= 0:
            self.list.setCurrentRow(index)
            self.show_exercise(exercises[index])
        else:
            self.new_exercise()
        self.templates.clear()
        for t in templates:
            names = ", ".join(entry_title(e, library) for e in t.program.exercises)
            n = len(t.program.exercises)
            self.templates.addItem(
                f"{t.name} — {n} exercise{'' if n == 1 else 's'}: {names}; "
                f"saved by {t.created_by}, {t.created_at:%Y-%m-%d}"
            )

    def on_list_current_row_changed(self, row: int) -> None:
        if 0 <= row < len(self.exercises):
            self.show_exercise(self.exercises[row])

    def show_exercise(self, ex: ExerciseDef | None) -> None:
        self.current = ex
        self.title.setText(ex.title if ex else "")
        self.purpose.setText(ex.purpose if ex else "")
        self.steps.setPlainText("\n".join(ex.steps) if ex else "")
        self.region.setText(ex.region if ex else "")
        self.kind.setCurrentIndex(max(self.kind.findData(ex.kind if ex else "strength"), 0))
        for tag, box in self.tags.items():
            box.setChecked(bool(ex and tag in ex.tags))
        self.factors.setText(", ".join(ex.factors) if ex else "")
        d = ex.defaults if ex else None
        for line, value in (
            (self.sets, d.sets if d else None),
            (self.reps, d.reps if d else None),
            (self.hold, d.hold_seconds if d else None),
        ):
            line.setText("" if value is None else str(value))
        self.frequency.setText(d.frequency if d else "")
        self.dose_text.setText(ex.dose_text if ex else "")
        self.safety.setText(ex.safety if ex else "")
        self.pictures = list(ex.pictures) if ex else []
        self.picture_problem.clear()
        self._show_pictures()

    def new_exercise(self) -> None:
        self.list.clearSelection()
        self.show_exercise(None)
        self.title.setFocus()

    def _show_pictures(self) -> None:
        self.picture_label.setText("No pictures" if not self.pictures else "")
        self.picture_label.setVisible(not self.pictures)
        for n, thumb in enumerate(self.thumbs):
            shown = self.pictures[n] if n < len(self.pictures) else None
            thumb.setVisible(shown is not None)
            if shown is not None:
                thumb.setPixmap(thumbnail(shown))
                thumb.setToolTip(f"{shown.media_type}, SHA-256 {shown.sha256[:16]}…")
        self.add_picture_button.setEnabled(len(self.pictures) < MAX_PICTURES)

    def clear_pictures(self) -> None:
        self.pictures = []
        self._show_pictures()

    def say(self, text: str) -> None:
        self.status.setText(text)

    # -- writing ---------------------------------------------------------------------------------

    def definition(self) -> dict[str, Any]:
        """The exercise as typed, in ``core.library``'s JSON shape (checked by storage)."""
        taken = {e.id for e in self.exercises}
        eid = self.current.id if self.current else exercise_id_for(self.title.text(), taken)
        defaults: dict[str, Any] = {}
        for key, line in (("sets", self.sets), ("reps", self.reps), ("hold_seconds", self.hold)):
            text = line.text().strip()
            if text:
                defaults[key] = int(text) if text.isdigit() else text
        if self.frequency.text().strip():
            defaults["frequency"] = self.frequency.text().strip()
        return {
            "id": eid,
            "title": self.title.text().strip(),
            "purpose": self.purpose.text().strip(),
            "steps": [s.strip() for s in self.steps.toPlainText().splitlines() if s.strip()],
            "region": self.region.text().strip(),
            "kind": self.kind.currentData(),
            "factors": [f.strip().upper() for f in self.factors.text().split(",") if f.strip()],
            "tags": [t for t, box in self.tags.items() if box.isChecked()],
            "defaults": defaults,
            "dose_text": self.dose_text.text().strip(),
            "safety": self.safety.text().strip(),
            "pictures": [
                {"sha256": p.sha256, "media_type": p.media_type, "caption": p.caption}
                for p in self.pictures
            ],
        }

    def on_save_clicked(self) -> None:
        raw = self.definition()
        shown = self.current
        user = self.context.user

        def save(db: Database) -> ExerciseDef:
            from clinic_app.storage import records

            if shown is None:
                return records.add_exercise(db, raw, user=user)
            return records.update_exercise(db, raw, user=user, expected_version=shown.version)

        def saved(ex: ExerciseDef) -> None:
            self._library_changed()
            self.reload(select=ex.id)
            self.say(f"Saved {ex.title} (version {ex.version}).")

        self.context.runner.run(
            "Saving the exercise",
            save,
            on_success=saved,
            on_failure=lambda err: self.say(f"Not saved: {one_line(err)}"),
            parent=self,
        )

    def on_add_picture_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Add a picture", str(Path.home()), PICTURE_FILTER
        )
        if path:
            self.add_picture(Path(path))

    def add_picture(self, path: Path) -> None:
        """Store the picture in ``path`` (checked and decoded first) and attach it."""
        user = self.context.user

        def store(db: Database) -> Picture:
            from clinic_app.core.library import MAX_PICTURE_BYTES
            from clinic_app.storage import records
            from clinic_app.storage.input_files import read_limited

            data = read_limited(path, MAX_PICTURE_BYTES, "picture")
            return records.add_picture(db, data, user=user)

        def stored(picture: Picture) -> None:
            if picture.sha256 not in {p.sha256 for p in self.pictures}:
                self.pictures.append(picture)
            self.picture_problem.clear()
            self._show_pictures()
            self.say(f"Picture {path.name} stored; save the exercise to keep it with it.")

        def refused(err: BaseException) -> None:
            text = one_line(err)
            self.picture_problem.setText(text if path.name in text else f"{path.name}: {text}")

        self.context.runner.run(
            "Storing the picture", store, on_success=stored, on_failure=refused, parent=self
        )

    def on_export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the library", str(Path.home() / "exercise_library.zip"), ZIP_FILTER
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        def write(db: Database) -> int:
            from clinic_app.storage import records

            return records.export_library(db, path)

        self.context.runner.run(
            "Exporting the exercise library",
            write,
            on_success=lambda n: self.say(f"Exported {n} exercises to {path}."),
            on_failure=lambda err: self.say(f"Not exported: {one_line(err)}"),
            parent=self,
        )

    def on_import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a library", str(Path.home()), ZIP_FILTER
        )
        if path:
            self.import_from(Path(path))

    def import_from(self, path: Path) -> None:
        user = self.context.user

        def read(db: Database) -> ImportResult:
            from clinic_app.storage import records

            return records.import_library(db, path, user=user)

        def done(result: ImportResult) -> None:
            self._library_changed()
            self.reload()
            self.say(
                f"Imported {path.name}: {len(result.added)} added, {len(result.updated)} updated, "
                f"{len(result.unchanged)} unchanged, {result.pictures} new pictures."
            )

        self.context.runner.run(
            "Importing the exercise library",
            read,
            on_success=done,
            on_failure=lambda err: self.say(f"Nothing imported: {one_line(err)}"),
            parent=self,
        )

    def _library_changed(self) -> None:
        forget_library(self.context.runner)
        self.changed.emit()
