"""Typing a goal (Add goal…) and accepting the goals the form suggests (Suggested goals…).

A goal is functional (words only; the clinician judges it) or measurable: an item of the form
with a target as the form writes its tests — the value, the side-to-side deficit or difference,
or the LSI, compared with a threshold (``core.goals``). Each problem is one line naming its
field; nothing is stored here: the goals dialog stores what these dialogs return.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.form import NUMERIC_TYPES, Form, Leaf
from clinic_app.core.goals import GoalDraft, target_text
from clinic_app.core.words import has_visible
from clinic_app.storage import models
from clinic_app.storage.errors import StorageError
from clinic_app.storage.records import Episode, GoalInfo, checked_text
from clinic_app.storage.search import parse_date
from clinic_app.ui.episode_panel import plain_tip

MEASURES = (
    ("value", "value"),
    ("deficit", "side-to-side deficit (%)"),
    ("difference", "side-to-side difference"),
    ("lsi", "LSI of the side (%)"),
)
OPS = (("<", "below"), ("<=", "at most"), (">=", "at least"), (">", "above"), ("==", "exactly"))
GOAL_SIDES = (
    ("", "any side"),
    ("involved", "involved side"),
    ("opposite", "other side"),
    ("left", "left"),
    ("right", "right"),
)


def check_target(form: Form, target: Mapping[str, Any]) -> str | None:
    """Why ``target`` is not a test this form can read, in one line (None when it is)."""
    try:
        leaf = Leaf.model_validate(dict(target))
    except ValueError as err:
        errors = getattr(err, "errors", None)
        first = errors()[0]["msg"] if callable(errors) else str(err)
        return f"Target: {first}"
    item = form.items.get(leaf.item)
    if item is None:
        return f"Target: {leaf.item} is not in this form"
    if leaf.measure != "value" and not item.bilateral:
        return f"Measure: {item.label} is measured on one side only: use its value"
    return None


def read_threshold(text: str) -> float | str:
    """The threshold typed (a decimal comma is read), or the text itself when it is not a finite
    number: float() also reads "nan" and "inf", which no measure can be compared with."""
    text = text.strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def words_problem(label: str, text: str) -> str | None:
    """Why the goal's words cannot be stored (too long, a control character), naming the field:
    the records API's own check, made before the dialog closes with the words in it."""
    try:
        checked_text(models.Goal.__table__.c.text, label, text)
    except StorageError as err:
        return str(err)
    return None


def read_day(label: str, text: str, episode: Episode) -> tuple[date | None, str | None]:
    if not text.strip():
        return None, None
    day = parse_date(text)
    if day is None:
        return None, f"{label}: not a date, use YYYY-MM-DD (or DD.MM.YYYY)"
    if day < episode.start_date:
        return None, f"{label}: before the episode starts ({episode.start_date.isoformat()})"
    return day, None


class GoalEditDialog(QDialog):
    """Add a goal: term, words, functional or measurable (item, measure, op, threshold, side),
    target date. ``info`` holds the goal once accepted.

    Signals: those of QDialog.
    """

    def __init__(self, form: Form, episode: Episode, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add goal")
        self.setObjectName("goalEditDialog")
        self.form = form
        self.episode = episode
        self.info: GoalInfo | None = None
        layout = QVBoxLayout(self)
        fields = QFormLayout()
        fields.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.term = QComboBox(self)
        self.term.setObjectName("goalTerm")
        self.term.addItem("Short-term", "short")
        self.term.addItem("Long-term", "long")
        self.text = QLineEdit(self)
        self.text.setObjectName("goalText")
        self.text.setPlaceholderText("What the patient will be able to do")
        self.kind = QComboBox(self)
        self.kind.setObjectName("goalKind")
        self.kind.addItem("Functional (your judgement)", "functional")
        self.kind.addItem("Measurable (a form item)", "measurable")
        self.item = QComboBox(self)
        self.item.setObjectName("goalItem")
        for it in form.items.values():
            if it.type in NUMERIC_TYPES:
                self.item.addItem(f"{it.label} ({it.id})", it.id)
        # Typing a letter jumps to the next item starting with it; a bilateral strength test is
        # the usual first pick.
        self.item.setCurrentIndex(max(0, self.item.findData("nordic_force")))
        self.measure = QComboBox(self)
        self.measure.setObjectName("goalMeasure")
        for key, label in MEASURES:
            self.measure.addItem(label, key)
        self.op = QComboBox(self)
        self.op.setObjectName("goalOp")
        for key, label in OPS:
            self.op.addItem(label, key)
        self.threshold = QLineEdit(self)
        self.threshold.setObjectName("goalThreshold")
        self.threshold.setPlaceholderText("a number")
        self.side = QComboBox(self)
        self.side.setObjectName("goalSide")
        for key, label in GOAL_SIDES:
            self.side.addItem(label, key)
        self.date = QLineEdit(self)
        self.date.setObjectName("goalDate")
        self.date.setPlaceholderText("YYYY-MM-DD")
        self.date.setText((episode.start_date + timedelta(weeks=6)).isoformat())
        for label, w in (
            ("&Term", self.term),
            ("&Goal *", self.text),
            ("&Kind", self.kind),
            ("&Item", self.item),
            ("&Measure", self.measure),
            ("&Compared", self.op),
            ("T&hreshold", self.threshold),
            ("&Side", self.side),
            ("Target &date", self.date),
        ):
            fields.addRow(label, w)
        layout.addLayout(fields)
        self.preview = QLabel(self)
        self.preview.setObjectName("goalTargetPreview")
        self.preview.setProperty("role", "secondary")
        self.preview.setWordWrap(True)
        layout.addWidget(self.preview)
        self.error = QLabel(self)
        self.error.setObjectName("goalError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add goal")
        buttons.accepted.connect(self.on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        for box in (self.kind, self.item, self.measure, self.op, self.side):
            box.currentIndexChanged.connect(self.on_fields_changed)
        self.threshold.textChanged.connect(self.on_fields_changed)
        self.on_fields_changed()
        self.setMinimumWidth(520)

    def target(self) -> dict[str, Any] | None:
        if self.kind.currentData() != "measurable":
            return None
        out: dict[str, Any] = {
            "item": self.item.currentData(),
            "measure": self.measure.currentData(),
            "op": self.op.currentData(),
        }
        # (text when not a number: reported by check_target / the threshold check)
        out["threshold"] = read_threshold(self.threshold.text())
        if self.side.currentData():
            out["side"] = self.side.currentData()
        return out

    def on_fields_changed(self, *_args: object) -> None:
        measurable = self.kind.currentData() == "measurable"
        for w in (self.item, self.measure, self.op, self.threshold, self.side):
            w.setEnabled(measurable)
        target = self.target()
        # (a text threshold is incomplete: pydantic would read "nan" or "1e999" as a float)
        if (
            target is None
            or not isinstance(target["threshold"], float)
            or check_target(self.form, target) is not None
        ):
            self.preview.setText("" if target is None else "Target: (complete the fields)")
            return
        self.preview.setText(f"Target: {target_text(self.form, Leaf.model_validate(target))}")

    def show_problem(self, problem: str | None) -> None:
        self.error.setText(problem or "")
        self.error.setVisible(bool(problem))

    def on_buttons_accepted(self) -> None:
        text = self.text.text().strip()
        if not has_visible(text):
            self.show_problem("Goal: enter what the patient will be able to do")
            self.text.setFocus()
            return
        problem = words_problem("Goal", text)
        if problem is not None:
            self.show_problem(problem)
            self.text.setFocus()
            return
        target = self.target()
        if target is not None:
            if not isinstance(target["threshold"], float):
                self.show_problem("Threshold: enter a number (e.g. 10)")
                self.threshold.setFocus()
                return
            problem = check_target(self.form, target)
            if problem is not None:
                self.show_problem(problem)
                return
        day, problem = read_day("Target date", self.date.text(), self.episode)
        if problem is not None:
            self.show_problem(problem)
            self.date.setFocus()
            return
        self.info = GoalInfo(
            term=self.term.currentData(), text=text, target=target, target_date=day
        )
        self.accept()


class SuggestedGoalsDialog(QDialog):
    """The goals the form suggests for the fired factors: tick those to accept; the words, the
    threshold and the date can be edited first (F2 or typing on a cell). ``accepted_goals``
    holds them once accepted.

    Signals: those of QDialog.
    """

    COLUMNS = ("Accept", "Term", "Goal", "Target", "Threshold", "Target date", "Factor")

    def __init__(
        self,
        form: Form,
        episode: Episode,
        drafts: Sequence[GoalDraft],
        drafts_from: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Suggested goals")
        self.setObjectName("suggestedGoalsDialog")
        self.form = form
        self.episode = episode
        self.drafts = list(drafts)
        self.accepted_goals: list[GoalInfo] = []
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"Goals the form suggests for the factors found in the {drafts_from}. Tick the ones "
            "to keep (Space); edit the words, threshold or date first if you wish (F2).",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(len(self.drafts), len(self.COLUMNS), self)
        self.table.setObjectName("suggestedGoalTable")
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.table.setWordWrap(True)
        h = self.table.horizontalHeader()
        for col in (0, 1, 4, 5):
            h.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        for col in (2, 3, 6):
            h.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        fixed = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        for row, d in enumerate(self.drafts):
            tick = QTableWidgetItem("")
            tick.setFlags(fixed | Qt.ItemFlag.ItemIsUserCheckable)
            tick.setCheckState(Qt.CheckState.Unchecked)
            self.table.setItem(row, 0, tick)
            words = ""
            threshold = ""
            if d.target is not None:
                words = target_text(form, Leaf.model_validate(dict(d.target)))
                if d.target.get("threshold") is not None:
                    threshold = f"{float(d.target['threshold']):g}"
            cells = [
                ("Short-term" if d.term == "short" else "Long-term", False),
                (d.text, True),
                (words or "functional", False),
                (threshold, d.target is not None and bool(threshold)),
                (d.target_date.isoformat(), True),
                (d.factor_name, False),
            ]
            for col, (text, editable) in enumerate(cells, start=1):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tip(text))
                item.setFlags(fixed | Qt.ItemFlag.ItemIsEditable if editable else fixed)
                self.table.setItem(row, col, item)
        self.table.setCurrentCell(0, 0)
        layout.addWidget(self.table, 1)
        self.error = QLabel(self)
        self.error.setObjectName("suggestedGoalError")
        self.error.setProperty("role", "error")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add the ticked goals")
        buttons.accepted.connect(self.on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(900, 360)

    def cell(self, row: int, col: int) -> QTableWidgetItem:
        item = self.table.item(row, col)
        assert item is not None  # every cell is filled in __init__
        return item

    def tick(self, row: int, on: bool = True) -> None:
        self.cell(row, 0).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def on_buttons_accepted(self) -> None:
        problem = self._collect()
        if problem is not None:
            self._problem(problem)
            return
        self.accept()

    def _collect(self) -> str | None:
        """Fill ``accepted_goals`` from the ticked rows; the first problem otherwise."""
        out: list[GoalInfo] = []
        for row, d in enumerate(self.drafts):
            if self.cell(row, 0).checkState() != Qt.CheckState.Checked:
                continue
            n = row + 1
            text = self.cell(row, 2).text().strip()
            if not has_visible(text):
                return f"Goal (row {n}): enter the words of the goal"
            problem = words_problem(f"Goal (row {n})", text)
            if problem is not None:
                return problem
            target = None if d.target is None else dict(d.target)
            if target is not None and "threshold" in target:
                target["threshold"] = read_threshold(self.cell(row, 4).text())
                if not isinstance(target["threshold"], float):
                    return f"Threshold (row {n}): enter a number"
                problem = check_target(self.form, target)
                if problem is not None:
                    return f"{problem} (row {n})"
            day, problem = read_day(
                f"Target date (row {n})", self.cell(row, 5).text(), self.episode
            )
            if problem is not None:
                return problem
            out.append(
                GoalInfo(
                    term=d.term,
                    text=text,
                    target=target,
                    target_date=day,
                    from_factor=d.factor_id,
                )
            )
        if not out:
            return "Tick at least one goal (Space), or Cancel"
        self.accepted_goals = out
        return None

    def _problem(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
