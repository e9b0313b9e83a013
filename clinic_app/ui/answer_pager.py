"""One questionnaire item per screen, for a patient's finger or keys (issue 16).

:class:`AnswerPager` is the body of the patient's full-screen self-entry (``ui/self_entry.py``)
and of the clinician's item-by-item entry: the question in the questionnaire's language, its
answers as big buttons (a tap answers and moves on), digits and the arrow keys to choose, Enter
to confirm, Backspace to go back, "item 3 of 20". A PSFS item asks for the activity in the
patient's own words first (checked as the stored answers are), then its rating. A later PSFS of
an episode starts from the baseline's activities (``core.psfs_carry``): each is put in, marked
as carried, with no score; the patient rates it, rewords it, or drops it ("Not this one").

On a short window (a small laptop at 150 %, a tablet: about 500 px high) the title row and the
buttons stay put and the instructions, question and answers scroll between them, so no word is
ever cut and the buttons are always in reach; where the roomy spacing and 64 px buttons do not
fit, tighter spacing and 48 px buttons are tried first, so that scrolling is rarely needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.psfs_carry import Carried, kept_answer
from clinic_app.core.questionnaire import Item as QItem
from clinic_app.core.questionnaire import Questionnaire
from clinic_app.core.responses import Response, reported_now
from clinic_app.core.scoring import ACTIVITY_MAX, _bad_text

PATIENT_PT = 22  # the patient's type size (the brief: at least 20 pt)
BUTTON_MIN_HEIGHT = 64  # a finger's tap (about 1 cm and more)
COMPACT_BUTTON_HEIGHT = 48  # still more than 1 cm at 96 dpi, on a short window
STYLE = """
QPushButton[answer="true"] { text-align: left; padding: 6px 18px; }
QPushButton[scale="true"] { padding: 6px 4px; }
QPushButton:checked { background: #1f5fa8; color: white; border: 2px solid #123d6e; }
"""
HINTS = (  # the activity field's hint, the longest that fits the field's width
    "Type the activity in your own words, then press Enter",
    "Type the activity in your own words",
    "Type the activity",
)
DIGIT_WINDOW_MS = 900  # "1" then "0" within this is 10 (a 0-10 rating)


def _text(texts: Mapping[str, str], language: str) -> str:
    return texts.get(language) or next(iter(texts.values()))


class _QuestionArea(QScrollArea):
    """The scrolling part of the pager: it scrolls with the wheel, a finger or its bar, and
    leaves the keys (arrows, Page Up/Down) to the pager, whose keys choose the answers."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        event.ignore()


class AnswerPager(QWidget):
    """One item per screen: the question, its answers as big buttons, back and progress.

    Signals: ``finished()`` — the last item was answered (or a PSFS patient named no more
    activities); ``stopped()`` — the person chose to stop part-way; ``answered(str)`` — an item
    was answered (its id). ``carried`` (PSFS, no ``initial``): the earlier activities put in,
    unrated; one left unrated is not part of :meth:`raw`.
    """

    finished = Signal()
    stopped = Signal()
    answered = Signal(str)

    def __init__(
        self,
        questionnaire: Questionnaire,
        language: str,
        parent: QWidget | None = None,
        *,
        point_size: int = PATIENT_PT,
        initial: Response | None = None,
        carried: Carried | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("answerPager")
        self.q = questionnaire
        self.language = language if language in questionnaire.languages else "en"
        self.answers: dict[str, int | None] = dict.fromkeys(questionnaire.item_ids)
        self.activities: dict[str, str] = {}
        if initial is not None:
            for key, value in initial.answers.items():
                if isinstance(value, Mapping):
                    self.activities[key] = str(value.get("activity", ""))
                    self.answers[key] = value.get("score")
                else:
                    self.answers[key] = value
        # What an earlier visit named is only a starting point: rated, it becomes an answer.
        self.carried = carried if initial is None else None
        if self.carried is not None:
            self.activities.update(
                {k: v for k, v in self.carried.activities.items() if k in self.answers}
            )
        self.index = 0
        self.chosen: int | None = None  # the highlighted answer of the current item
        self._digits = ""
        self._digit_timer = QTimer(self)
        self._digit_timer.setSingleShot(True)
        self._digit_timer.setInterval(DIGIT_WINDOW_MS)
        self._digit_timer.timeout.connect(self._clear_digits)
        font = QFont(self.font())
        font.setPointSize(point_size)
        self.setFont(font)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet(STYLE)
        self._base_pt = point_size
        self.compact = False
        outer = QVBoxLayout(self)
        self._outer = outer
        top = QHBoxLayout()
        self._top = top
        self.title = QLabel(questionnaire.title, self)
        self.title.setObjectName("pagerTitle")
        self.progress = QLabel("", self)
        self.progress.setObjectName("pagerProgress")
        top.addWidget(self.title, 1)
        top.addWidget(self.progress)
        outer.addLayout(top)
        self.area = _QuestionArea(self)
        self.area.setObjectName("pagerArea")
        self.area.setFrameShape(QFrame.Shape.NoFrame)
        self.area.setWidgetResizable(True)
        self.area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.body = QWidget(self.area)
        self.body.setObjectName("pagerBody")
        self.area.setWidget(self.body)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        self._body = body
        self.instructions = QLabel(_text(questionnaire.instructions, self.language), self.body)
        self.instructions.setWordWrap(True)
        self.instructions.setObjectName("pagerInstructions")
        small = QFont(font)
        small.setPointSize(max(point_size - 2, 9))
        self.instructions.setFont(small)
        body.addWidget(self.instructions)
        self.question = QLabel("", self.body)
        self.question.setObjectName("pagerQuestion")
        self.question.setWordWrap(True)
        self.question.setFont(self._question_font(compact=False))
        body.addWidget(self.question)
        self.activity = QLineEdit(self.body)
        self.activity.setObjectName("pagerActivity")
        self.activity.setFont(font)  # (in the area, a style sheet's polish resets what it inherits)
        self.activity.setMaxLength(ACTIVITY_MAX)
        self.activity.setPlaceholderText(HINTS[0])
        self.activity.setAccessibleName("Activity")
        self.activity.installEventFilter(self)  # Enter names the activity; resized: its hint
        body.addWidget(self.activity)
        self.activity.textChanged.connect(self._show_carried)
        self.carried_note = QLabel("", self.body)
        self.carried_note.setObjectName("pagerCarried")
        self.carried_note.setWordWrap(True)
        self.carried_note.setFont(small)
        self.carried_note.setProperty("role", "secondary")
        self.carried_note.hide()
        body.addWidget(self.carried_note)
        self.error = QLabel("", self.body)
        self.error.setObjectName("pagerError")
        self.error.setFont(font)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b42318;")
        self.error.hide()
        body.addWidget(self.error)
        self.grid_host = QWidget(self.body)
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.grid_host)
        self.anchors = QLabel("", self.body)
        self.anchors.setObjectName("pagerAnchors")
        self.anchors.setWordWrap(True)
        self.anchors.setFont(small)
        body.addWidget(self.anchors)
        self.buttons: list[QPushButton] = []
        body.addStretch(1)
        outer.addWidget(self.area, 1)
        nav = QHBoxLayout()
        self._nav = nav
        self.back_button = QPushButton("← Back", self)
        self.back_button.setObjectName("pagerBack")
        self.back_button.setMinimumHeight(BUTTON_MIN_HEIGHT)
        self.back_button.clicked.connect(self.go_back)
        self.no_more_button = QPushButton("No more activities", self)
        self.no_more_button.setObjectName("pagerNoMore")
        self.no_more_button.setMinimumHeight(BUTTON_MIN_HEIGHT)
        self.no_more_button.clicked.connect(self.finish)
        self.drop_button = QPushButton("Not this one", self)
        self.drop_button.setObjectName("pagerDrop")
        self.drop_button.setMinimumHeight(BUTTON_MIN_HEIGHT)
        self.drop_button.setToolTip("Leave this earlier activity out today")
        self.drop_button.clicked.connect(self.on_drop_button_clicked)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("pagerStop")
        self.stop_button.setMinimumHeight(BUTTON_MIN_HEIGHT)
        self.stop_button.clicked.connect(self.stopped)
        for b in (self.back_button, self.drop_button, self.no_more_button, self.stop_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the answers
        nav.addWidget(self.back_button)
        nav.addStretch(1)
        nav.addWidget(self.drop_button)
        nav.addWidget(self.no_more_button)
        nav.addWidget(self.stop_button)
        outer.addLayout(nav)
        self._set_density(compact=False)
        self.show_item(0)

    # -- a short window -----------------------------------------------------------------------

    def _button_height(self) -> int:
        return COMPACT_BUTTON_HEIGHT if self.compact else BUTTON_MIN_HEIGHT

    def _question_font(self, *, compact: bool) -> QFont:
        big = QFont(self.font())
        big.setPointSize(self._base_pt + (1 if compact else 4))
        big.setBold(True)
        return big

    def _set_density(self, *, compact: bool) -> None:
        """Roomy spacing, 64 px buttons and the question 4 pt larger than the answers, or, on a
        short window, tighter ones (the question then set apart by its weight)."""
        self.compact = compact
        self.question.setFont(self._question_font(compact=compact))
        self._outer.setContentsMargins(*((24, 8, 24, 8) if compact else (40, 24, 40, 24)))
        self._outer.setSpacing(6 if compact else 12)
        self._body.setSpacing(6 if compact else 12)
        self.grid.setSpacing(4 if compact else 8)
        height = self._button_height()
        nav = (self.back_button, self.drop_button, self.no_more_button, self.stop_button)
        for b in (*nav, *self.buttons):
            b.setMinimumHeight(height)

    def _roomy_height(self, width: int) -> int:
        """The height the current item needs at ``width`` with the roomy spacing."""
        was = self.compact
        if was:
            self._set_density(compact=False)
        m = self._outer.contentsMargins()
        inner = width - m.left() - m.right()
        body = self._body
        needed = body.heightForWidth(inner) if body.hasHeightForWidth() else -1
        parts = (self._top.sizeHint().height(), needed, self._nav.sizeHint().height())
        total = m.top() + m.bottom() + sum(parts) + 2 * self._outer.spacing()
        if was:
            self._set_density(compact=True)
        return total

    def _fit_density(self, width: int, height: int) -> None:
        compact = self._roomy_height(width) > height
        if compact != self.compact:
            self._set_density(compact=compact)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit_density(event.size().width(), event.size().height())
        super().resizeEvent(event)

    def _fit_width(self) -> None:
        """The area does not scroll sideways: it is as wide as its widest line needs."""
        bar = self.area.verticalScrollBar().sizeHint().width()
        self.area.setMinimumWidth(self.body.minimumSizeHint().width() + bar)

    # -- what is shown ------------------------------------------------------------------------

    @property
    def item(self) -> QItem:
        return self.q.items[self.index]

    def _options(self, item: QItem) -> list[tuple[int, str]]:
        """(score, button text) of each answer, in the file's order; a numeric scale's buttons
        are its numbers (its two anchors are shown under them, :meth:`_anchors`)."""
        answer = item.answer
        if answer.options:
            return [
                (o.score, f"{o.score}   {_text(o.label, self.language)}") for o in answer.options
            ]
        assert answer.min is not None
        assert answer.max is not None
        return [(n, str(n)) for n in range(answer.min, answer.max + 1)]

    def _anchors(self, item: QItem) -> str:
        answer = item.answer
        parts = []
        if answer.min_label:
            parts.append(f"{answer.min} = {_text(answer.min_label, self.language)}")
        if answer.max_label:
            parts.append(f"{answer.max} = {_text(answer.max_label, self.language)}")
        return "      ".join(parts)

    def show_item(self, index: int) -> None:
        self.index = max(0, min(index, len(self.q.items) - 1))
        item = self.item
        self.show_problem(None)
        self.progress.setText(f"item {self.index + 1} of {len(self.q.items)}")
        self.instructions.setVisible(self.index == 0)  # room for the answers after the first
        self.question.setText(_text(item.text, self.language))
        self.back_button.setEnabled(self.index > 0)
        # PSFS: the scale needs three activities; after them the patient may stop naming more.
        rated = sum(1 for i in self.q.item_ids[: self.index] if self.answers.get(i) is not None)
        self.no_more_button.setVisible(
            item.patient_activity and rated >= len(self.q.items) - self.q.scoring.max_missing
        )
        while self.grid.count():
            got = self.grid.takeAt(0)
            w = got.widget() if got is not None else None
            if w is not None:
                w.hide()
                w.setParent(None)
                w.deleteLater()
        self.buttons = []
        options = self._options(item)
        columns = 1 if item.answer.options else len(options)  # a 0-10 scale: one row
        self.anchors.setText(self._anchors(item))
        self.anchors.setVisible(bool(self.anchors.text()))
        for n, (value, text) in enumerate(options):
            b = QPushButton(text, self.grid_host)
            b.setObjectName(f"answer_{value}")
            b.setMinimumHeight(self._button_height())
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setProperty("value", value)
            b.setProperty("answer", bool(item.answer.options))
            b.setProperty("scale", not item.answer.options)  # narrow numbers: 0-10 on one row
            b.setFont(self.font())  # (a style sheet's polish would reset an inherited size)
            b.clicked.connect(lambda _c=False, v=value: self.on_answer_clicked(v))
            self.grid.addWidget(b, n // columns, n % columns)
            b.show()
            self.buttons.append(b)
        self.activity.setVisible(item.patient_activity)
        self._fit_width()
        self._fit_density(self.width(), self.height())
        self.area.verticalScrollBar().setValue(0)  # each item starts at its instructions
        self.chosen = self.answers.get(item.id)
        self._mark()
        if item.patient_activity:
            self.activity.setText(self.activities.get(item.id, ""))
            if not self.activity.text():
                self.activity.setFocus(Qt.FocusReason.OtherFocusReason)
            else:
                self.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.setFocus(Qt.FocusReason.OtherFocusReason)
        self._show_carried()

    def _carried_text(self, item_id: str) -> str | None:
        return None if self.carried is None else self.carried.activities.get(item_id)

    def _show_carried(self, *_args: object) -> None:
        """Say where a carried activity comes from while its text is the earlier one."""
        item = self.item
        earlier = self._carried_text(item.id) if item.patient_activity else None
        same = earlier is not None and " ".join(self.activity.text().split()) == earlier
        self.drop_button.setVisible(earlier is not None)
        lost = (
            self.carried is not None
            and item.id in self.carried.skipped
            and not self.activity.text().strip()
        )
        if same and self.carried is not None:
            self.carried_note.setText(f"Carried over: {self.carried.label()}.")
            self.carried_note.setToolTip("Rate it again, change the words, or leave it out")
        elif lost and self.carried is not None:
            self.carried_note.setText(
                f"Not carried over: the text {self.carried.label()} is not accepted. "
                "Type it again if it still applies."
            )
            self.carried_note.setToolTip("")
        self.carried_note.setVisible(same or lost)

    def on_drop_button_clicked(self) -> None:
        """Leave a carried activity out today: its slot stays empty, the next item shows."""
        item = self.item
        self.activities.pop(item.id, None)
        self.answers[item.id] = None
        if self.index + 1 >= len(self.q.items):
            self.finish()
        else:
            self.show_item(self.index + 1)

    def _mark(self) -> None:
        for b in self.buttons:
            b.setChecked(b.property("value") == self.chosen)
            if b.isChecked():
                self._reveal(b)

    def _reveal(self, w: QWidget) -> None:
        """Scroll the area, once laid out, so that ``w`` (an answer, the problem) shows."""

        def now() -> None:
            if shiboken6.isValid(w) and w.isVisible():
                self.area.ensureWidgetVisible(w)

        QTimer.singleShot(0, self, now)

    def show_problem(self, text: str | None) -> None:
        self.error.setText(text or "")
        self.error.setVisible(bool(text))
        if text:
            self._reveal(self.error)

    # -- answering ----------------------------------------------------------------------------

    def _activity_ok(self) -> bool:
        """A PSFS item's activity text checked as the stored answers will be; the problem is
        shown naming the item."""
        item = self.item
        if not item.patient_activity:
            return True
        text = self.activity.text()
        name = _text(item.text, self.language)
        problem = _bad_text(text)
        if problem is not None:
            self.show_problem(f"{name}: the activity {problem}")
            self.activity.setFocus()
            return False
        self.activities[item.id] = " ".join(text.split())
        return True

    def _fit_hint(self) -> None:
        """The longest hint that the field shows whole (a narrow window would cut it)."""
        frame = self.activity.style().pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth)
        room = self.activity.contentsRect().width() - 2 * frame - 4  # (Qt's 2 px each side)
        metrics = self.activity.fontMetrics()
        fits = [h for h in HINTS if metrics.horizontalAdvance(h) <= room]
        self.activity.setPlaceholderText(fits[0] if fits else "")
        self.activity.setToolTip("" if fits and fits[0] == HINTS[0] else HINTS[0])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.activity and event.type() == QEvent.Type.Resize:
            self._fit_hint()
        # QLineEdit passes Enter on to its parent after returnPressed: the pager would take
        # it as "confirm". Enter in the activity field only names the activity.
        if (
            watched is self.activity
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.on_activity_return_pressed()
            return True
        return super().eventFilter(watched, event)

    def on_activity_return_pressed(self) -> None:
        item = self.item
        if not self.activity.text().strip():
            if self.no_more_button.isVisible():
                self.finish()  # nothing typed: no more activities
                return
            self.show_problem(f"{_text(item.text, self.language)}: type an activity first")
            return
        if self._activity_ok():
            self.show_problem(None)
            self.setFocus(Qt.FocusReason.OtherFocusReason)  # the digits now rate it

    def on_answer_clicked(self, value: int) -> None:
        """A tap answers the item and moves on."""
        self.chosen = value
        self._mark()
        self.confirm()

    def confirm(self) -> None:
        """Keep the highlighted answer and show the next item (the end: ``finished``)."""
        item = self.item
        if self.chosen is None:
            self.show_problem(f"{_text(item.text, self.language)}: choose an answer first")
            return
        if not item.answer.accepts(self.chosen):
            self.show_problem(
                f"{_text(item.text, self.language)}: {self.chosen} is not an answer "
                f"({item.answer.describe()})"
            )
            return
        if not self._activity_ok():
            return
        self.answers[item.id] = self.chosen
        self.answered.emit(item.id)
        if self.index + 1 >= len(self.q.items):
            self.finish()
        else:
            self.show_item(self.index + 1)

    def finish(self) -> None:
        self.finished.emit()

    def go_back(self) -> None:
        if self.index > 0:
            self.show_item(self.index - 1)

    def _step(self, delta: int) -> None:
        values = [b.property("value") for b in self.buttons]
        if not values:
            return
        at = values.index(self.chosen) if self.chosen in values else (-1 if delta > 0 else 0)
        self.chosen = values[max(0, min(len(values) - 1, at + delta))]
        self._mark()

    def _clear_digits(self) -> None:
        self._digits = ""

    def _digit(self, digit: str) -> None:
        values = {b.property("value") for b in self.buttons}
        joined = self._digits + digit
        if self._digits and int(joined) in values:
            self.chosen = int(joined)
            self._digits = ""
        elif int(digit) in values:
            self.chosen = int(digit)
            self._digits = digit
            self._digit_timer.start()
        else:
            self.show_problem(f"{_text(self.item.text, self.language)}: {digit} is not an answer")
            return
        self.show_problem(None)
        self._mark()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        text = event.text()
        if text.isdecimal() and len(text) == 1:
            self._digit(text)
        elif text.isdigit() and len(text) == 1:  # "²" (AltGr+2), "①": no int() reads them
            self.show_problem(f"{_text(self.item.text, self.language)}: {text} is not an answer")
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self._step(1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self._step(-1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.confirm()
        elif key == Qt.Key.Key_Backspace:
            self.go_back()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # -- the result ---------------------------------------------------------------------------

    def answered_count(self) -> int:
        return sum(1 for v in self.answers.values() if v is not None)

    def raw(self, reported_by: str) -> dict[str, Any]:
        """The answers in the stored JSON shape (``core.responses``), not yet checked."""
        answers: dict[str, Any] = {}
        for key, value in self.answers.items():
            activity = self.activities.get(key, "")
            if not kept_answer(self.carried, key, activity, value):
                continue
            if activity:
                answers[key] = {"activity": activity, "score": value}
            elif value is not None:
                answers[key] = value
        return {
            "questionnaire": self.q.id,
            "answers": answers,
            "reported_by": reported_by,
            "language": self.language,
            "reported_at": reported_now(),
        }
