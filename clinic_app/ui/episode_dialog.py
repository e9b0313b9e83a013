"""New episode… / Edit episode…: an episode of care's title, side, referral, start and end.

An end date closes the episode. Every problem is shown beside its field in one line naming it;
the records API has the last word (a start after the first record, a version changed on another
workstation meanwhile), and its refusal is shown beside the field it names, or the app's one way
with everything typed kept.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialogButtonBox, QLineEdit, QPlainTextEdit, QWidget

from clinic_app.core.words import has_visible
from clinic_app.storage.errors import StaleRecordError, StorageError
from clinic_app.storage.records import Episode, EpisodeInfo
from clinic_app.storage.search import parse_date
from clinic_app.ui.context import AppContext
from clinic_app.ui.dialogs import _FormDialog
from clinic_app.ui.operations import Changes, show_failure

if TYPE_CHECKING:
    from clinic_app.storage.database import Database

SIDES = (
    ("", "Not recorded"),
    ("left", "Left"),
    ("right", "Right"),
    ("both", "Both"),
)
# The records API names the field first ("end date: …"): shown beside that field.
API_FIELDS = {
    "episode title": "title",
    "involved side": "involved_side",
    "referral source": "referral_source",
    "referral reason": "referral_reason",
    "referral date": "referral_date",
    "start date": "start_date",
    "end date": "end_date",
}
DATE_LABELS = {"referral_date": "Referral date", "start_date": "Start", "end_date": "End"}


def read_date(label: str, text: str) -> tuple[date | None, str | None]:
    """The date typed, or a one-line reason naming the field. Blank is None."""
    if not text.strip():
        return None, None
    day = parse_date(text)
    if day is None:
        return None, f"{label}: not a date, use YYYY-MM-DD (or DD.MM.YYYY)"
    return day, None


class EpisodeDialog(_FormDialog):
    """Create (``episode`` None) or edit an episode of care of ``patient_id``.

    Signals: ``saved(object)`` — the stored ``records.Episode``.
    """

    saved = Signal(object)

    def __init__(
        self,
        context: AppContext,
        patient_id: int,
        episode: Episode | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Edit episode" if episode else "New episode of care", parent)
        self.setObjectName("episodeDialog")
        self.context = context
        self.patient_id = patient_id
        self.episode = episode
        form = self._form()
        self._add(form, "title", "Title *", QLineEdit(self), "e.g. Left posterior thigh")
        side = QComboBox(self)
        for value, label in SIDES:
            side.addItem(label, value)
        self._add(form, "involved_side", "Involved side", side)
        referral = self._form("Referral")
        self._add(referral, "referral_source", "Referred by", QLineEdit(self), "GP, surgeon…")
        reason = QPlainTextEdit(self)
        reason.setTabChangesFocus(True)
        reason.setFixedHeight(64)
        self._add(referral, "referral_reason", "Reason", reason)
        self._add(referral, "referral_date", "Referral date", QLineEdit(self), "YYYY-MM-DD")
        dates = self._form("Episode")
        start_hint = "YYYY-MM-DD (blank: today)" if episode is None else "YYYY-MM-DD"
        self._add(dates, "start_date", "Start", QLineEdit(self), start_hint)
        self._add(dates, "end_date", "End", QLineEdit(self), "YYYY-MM-DD: closes the episode")
        self._finish()
        if episode is not None:
            self.set_text("title", episode.title)
            self.set_text("involved_side", episode.involved_side or "")
            self.set_text("referral_source", episode.referral_source)
            self.set_text("referral_reason", episode.referral_reason)
            for key in ("referral_date", "start_date", "end_date"):
                day = getattr(episode, key)
                self.set_text(key, "" if day is None else day.isoformat())
        self.setMinimumWidth(480)
        self.fields["title"].widget.setFocus()

    def info(self) -> EpisodeInfo | None:
        """What is typed, checked; None with every problem shown beside its field."""
        for key in self.fields:
            self.problem(key, None)
        ok = True
        title = self.text("title")
        if not has_visible(title):
            self.problem("title", "Title: enter what the episode is about (e.g. Left hamstring)")
            ok = False
        days: dict[str, date | None] = {}
        for key, label in DATE_LABELS.items():
            days[key], problem = read_date(label, self.text(key))
            if problem:
                self.problem(key, problem)
                ok = False
        start, end = days["start_date"], days["end_date"]
        if start is None and self.episode is not None and "start_date" not in self.problems():
            # Blank starts a new episode today; an episode's start is never cleared (the records
            # API would keep the stored one while the screen showed none).
            was = self.episode.start_date.isoformat()
            self.problem("start_date", f"Start: enter the date the episode started (it was {was})")
            ok = False
        if ok and end is not None and end < (start or date.today()):
            self.problem("end_date", "End: before the episode's start")
            ok = False
        if not ok:
            return None
        side = self.text("involved_side") or None
        return EpisodeInfo(
            title=title,
            involved_side=side,  # type: ignore[arg-type]
            referral_source=self.text("referral_source"),
            referral_reason=self.text("referral_reason"),
            referral_date=days["referral_date"],
            start_date=start,
            end_date=end,
        )

    def on_buttons_accepted(self) -> None:
        info = self.info()
        if info is None:
            return
        user, pid, episode = self.context.user, self.patient_id, self.episode

        def op(db: Database) -> Episode:
            from clinic_app.storage import records

            if episode is None:
                return records.create_episode(db, pid, info, user=user)
            return records.update_episode(db, episode.id, info, episode.version, user=user)

        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(False)

        def done(stored: Episode) -> None:
            save.setEnabled(True)
            self.episode = stored
            self.accept()
            self.saved.emit(stored)

        def failed(err: BaseException) -> None:
            save.setEnabled(True)
            if isinstance(err, StorageError) and not isinstance(err, StaleRecordError):
                field, _, _rest = str(err).partition(":")
                key = API_FIELDS.get(field.strip().lower())
                if key is not None:
                    self.problem(key, str(err)[0].upper() + str(err)[1:])
                    return
            show_failure(self, "Saving the episode", err)

        self.context.runner.run(
            "Saving the episode",
            op,
            on_success=done,
            on_failure=failed,
            parent=self,
            changes=Changes(evaluations_of=frozenset({pid})),
        )
