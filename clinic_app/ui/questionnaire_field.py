"""The editor of a ``questionnaire`` item: the score, who answered and when, the answers.

The field shows what is stored: the response's score ("LEFS 52/80") or why it is incomplete, who
reported it and when, and each answer on demand. Two buttons bring answers in: *Hand to the
patient…* (the full-screen self-entry of ``ui/self_entry.py``, ``reported_by: patient``) and
*Enter answers…* (the clinician, item by item). Either way the answers arrive through
:meth:`QuestionnaireEditor.land`, which emits ``edited`` like any editor, so the evaluation
editor checks them with the form's rules and stores the response together with its score in
the item's ``score_item`` (one findings update, one autosave). A PSFS with no answers yet
starts from the episode's first PSFS activities, unrated (``self_entry.earlier_activities``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.form import Item
from clinic_app.core.questionnaire import QuestionnaireError
from clinic_app.core.responses import (
    Response,
    questionnaire_of,
    reported_text,
    score_of,
    score_range_text,
)
from clinic_app.ui.fields import ValueEditor


def answer_lines(response: Response) -> list[str]:
    """Each item with the answer given ("Squatting down: 3, a little difficulty")."""
    q = questionnaire_of(response.questionnaire)
    language = response.language
    out = []
    for item in q.items:
        raw = response.answers.get(item.id)
        text = item.text.get(language) or next(iter(item.text.values()))
        if isinstance(raw, Mapping):
            text = f"{text}: {raw.get('activity', '')}"
            raw = raw.get("score")
        if raw is None:
            out.append(f"{text}: not answered")
            continue
        label = next((o.label.get(language, "") for o in item.answer.options if o.score == raw), "")
        out.append(f"{text}: {raw}{f', {label.lower()}' if label else ''}")
    return out


class QuestionnaireEditor(ValueEditor):
    """The questionnaire field (see the module docstring).

    Signals: ``edited(object)`` (from ValueEditor) — answers landed: the response in its stored
    JSON shape, or None when cleared.
    """

    def __init__(self, item: Item, parent: QWidget | None = None) -> None:
        super().__init__(item, parent)
        self.value: Response | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.summary = QLabel("", self)
        self.summary.setObjectName(f"{item.id}.summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.summary)
        self.reported = QLabel("", self)
        self.reported.setObjectName(f"{item.id}.reported")
        self.reported.setProperty("role", "secondary")
        layout.addWidget(self.reported)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.hand_button = QPushButton("Hand to the patient…", self)
        self.hand_button.setObjectName(f"{item.id}.hand")
        self.hand_button.setToolTip(
            "The patient answers on a full-screen page; the clinic's screen comes back after "
            "you sign in again"
        )
        self.hand_button.clicked.connect(self.on_hand_button_clicked)
        self.enter_button = QPushButton("Enter answers…", self)
        self.enter_button.setObjectName(f"{item.id}.enter")
        self.enter_button.setToolTip("Enter the patient's answers item by item yourself")
        self.enter_button.clicked.connect(self.on_enter_button_clicked)
        self.answers_button = QToolButton(self)
        self.answers_button.setObjectName(f"{item.id}.answers")
        self.answers_button.setText("Answers")
        self.answers_button.setToolTip("Show or hide each answer")
        self.answers_button.setCheckable(True)
        self.answers_button.toggled.connect(self.on_answers_button_toggled)
        row.addWidget(self.hand_button)
        row.addWidget(self.enter_button)
        row.addWidget(self.answers_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.answers = QLabel("", self)
        self.answers.setObjectName(f"{item.id}.answerList")
        # A PSFS activity in the patient's own words: never read as markup.
        self.answers.setTextFormat(Qt.TextFormat.PlainText)
        self.answers.setWordWrap(True)
        self.answers.setProperty("role", "secondary")
        self.answers.hide()
        layout.addWidget(self.answers)
        self._show()

    def focus_widgets(self) -> list[QWidget]:
        return [self.hand_button, self.enter_button, self.answers_button]

    def set_value(self, value: Any) -> None:
        self.value = value if isinstance(value, Response) else None
        self._show()

    def land(self, response: Response | None) -> None:
        """Answers arrived (from the patient's screen or the clinician's entry): shown and
        handed to the editor as an edit."""
        self.set_value(response)
        self.edited.emit(None if response is None else response.plain())

    def _show(self) -> None:
        r = self.value
        self.answers_button.setEnabled(r is not None)
        if r is None:
            self.summary.setText("<i>No answers yet</i>")
            self.reported.clear()
            self.reported.hide()
            self.answers.clear()
            self.answers_button.setText("Answers")
            return
        try:
            scored = score_of(r)
        except (QuestionnaireError, ValueError) as err:
            self.summary.setText(html.escape(f"The answers cannot be scored: {err}"))
            return
        q = scored.questionnaire
        if scored.complete:
            head = f"<b>{html.escape(q.short)} {html.escape(score_range_text(scored))}</b>"
        else:
            reason = scored.reason.split(";")[0]
            head = f"<b>{html.escape(q.short)}: incomplete</b> ({html.escape(reason)})"
        self.summary.setText(head)
        self.reported.setText(reported_text(r))
        self.reported.show()
        self.answers.setText("\n".join(answer_lines(r)))
        self.answers_button.setText(f"Answers ({len(r.answers)})")

    def on_answers_button_toggled(self, shown: bool) -> None:
        self.answers.setVisible(shown)
        self._show()

    def set_read_only(self, read_only: bool) -> None:
        """A signed record takes no answers; its answers can still be read."""
        self.hand_button.setEnabled(not read_only)
        self.enter_button.setEnabled(not read_only)

    def on_hand_button_clicked(self) -> None:
        from clinic_app.ui.self_entry import hand_to_patient

        window = self.window()
        if getattr(window, "page", None) is None:
            QMessageBox.information(
                self, "Hand to the patient", "Open the record in the main window first."
            )
            return
        hand_to_patient(window, self.item.id)

    def on_enter_button_clicked(self) -> None:
        from clinic_app.ui.self_entry import ClinicianEntryDialog, earlier_activities

        window = self.window()
        page = getattr(window, "page", None)
        evaluation = getattr(page, "evaluation", None)
        carried = None
        if self.value is None and evaluation is not None:
            carried = earlier_activities(window.context.runner, evaluation.id, self.item)  # type: ignore[attr-defined]
        dialog = ClinicianEntryDialog(self.item, self.value, self, carried=carried)
        # Landed when accepted, not when exec() returns: the idle lock hides the dialog (exec()
        # returns "rejected") and shows it again after the password, the answers entered kept.
        dialog.accepted.connect(
            lambda: self.land(dialog.response) if dialog.response is not None else None
        )
        dialog.finished.connect(dialog.deleteLater)
        dialog.exec()
