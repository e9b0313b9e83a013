"""The patient's own entry of a questionnaire: a full-screen, large-type screen (issue 16).

The therapist hands the clinic computer or a tablet to the patient. What the patient can reach
is only this questionnaire:

- :class:`SelfEntryWindow` is a top-level window of its own, shown full screen; the main window is
  locked first (``WindowLock.lock``: the draft is saved, every action disabled, the title and the
  status bar emptied) and hidden behind it, so no menu or shortcut of the main window works and
  no other patient's name is on any widget. Escape and Alt+F4 do nothing; the only way back is
  the clinician's password (the idle lock's own check, ``accounts.check_password`` through the
  runner, with its rate limit): a wrong one keeps it locked.
- ``ui/answer_pager.AnswerPager`` shows one item per screen, in the questionnaire's language, with
  big answer buttons (a tap answers and moves on) and keys: digits and the arrow keys choose, Enter
  confirms, Backspace goes back, "item 3 of 20" says where the patient is. A PSFS item asks for
  the activity in the patient's own words first (up to five), then its rating.

The answers land only after the clinician signed in again, in the open evaluation or visit note
(``reported_by: patient``), through the questionnaire field, so they take the normal findings
path (validation, the score item, autosave). Stopping part-way keeps nothing unless the clinician
then chooses to keep the partial answers (the score then says incomplete).
:class:`ClinicianEntryDialog` is the same pager in a normal dialog, for answers the clinician
enters item by item (``reported_by: clinician``).

Both start a PSFS that has no answers yet from the activities of the episode's first PSFS
(:func:`earlier_activities`, read through the runner; ``core.psfs_carry`` chooses them), each
unrated and marked as carried: nothing of them is stored until one is rated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.psfs_carry import Carried, carried_activities
from clinic_app.core.questionnaire import Questionnaire
from clinic_app.core.responses import Response, check_response
from clinic_app.ui.answer_pager import BUTTON_MIN_HEIGHT, PATIENT_PT, AnswerPager
from clinic_app.ui.sign_in import SignedIn, SignInPanel

if TYPE_CHECKING:
    from clinic_app.core.form import Item
    from clinic_app.storage.database import Database
    from clinic_app.storage.values import Clinician

log = logging.getLogger(__name__)
__all__ = ["PATIENT_PT", "AnswerPager", "ClinicianEntryDialog", "SelfEntryWindow"]


def checked_response(item: Item, raw: Mapping[str, Any]) -> tuple[Response | None, str | None]:
    """The pager's answers checked by the form's rules (the problem names the item)."""
    return check_response(item, dict(raw), item.label)


class SelfEntryWindow(QWidget):
    """The patient's full-screen window (see the module docstring).

    ``authenticate(password)`` checks the clinician's password (raises with a message when
    wrong). Signals: ``released(object)`` — the clinician signed in again: the ``Response`` to
    land, or None when nothing is kept.
    """

    released = Signal(object)

    def __init__(
        self,
        questionnaire: Questionnaire,
        item: Item,
        *,
        language: str,
        first_name: str,
        clinician_login: str,
        clinician_name: str,
        authenticate: Callable[[str, str], SignedIn],
        carried: Carried | None = None,
    ) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setObjectName("selfEntryWindow")
        self.setWindowTitle(questionnaire.title)
        self.item = item
        self._released = False
        self.complete = False
        font = QFont(self.font())
        font.setPointSize(PATIENT_PT)
        self.setFont(font)
        self.stack = QStackedWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        greeting = f"Hello {first_name}. " if first_name else ""
        self.pager = AnswerPager(questionnaire, language, self.stack, carried=carried)
        self.pager.instructions.setText(greeting + self.pager.instructions.text())
        self.pager.finished.connect(self.on_pager_finished)
        self.pager.stopped.connect(self.on_pager_stopped)
        self.stack.addWidget(self.pager)
        self.handback = QWidget(self.stack)
        box = QVBoxLayout(self.handback)
        box.setContentsMargins(48, 48, 48, 48)
        self.thanks = QLabel("", self.handback)
        self.thanks.setObjectName("handbackThanks")
        self.thanks.setWordWrap(True)
        self.thanks.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(self.thanks)
        self.panel = SignInPanel(authenticate, self.handback, heading="Clinician")
        self.panel.setFont(QFont(self.font().family(), 14))
        self.panel.signed_in.connect(self.on_panel_signed_in)
        self.login = clinician_login
        self.clinician_name = clinician_name
        box.addWidget(self.panel, 1)
        self.return_button = QPushButton("← Back to the questions", self.handback)
        self.return_button.setObjectName("handbackReturn")
        self.return_button.setMinimumHeight(BUTTON_MIN_HEIGHT)
        self.return_button.clicked.connect(self.on_return_button_clicked)
        box.addWidget(self.return_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.stack.addWidget(self.handback)

    def _hand_back(self, thanks: str) -> None:
        self.thanks.setText(thanks)
        self.panel.reset(
            self.login,
            f"{self.clinician_name} signs in with their password to return to the clinic's screen.",
        )
        self.panel.login.setReadOnly(True)
        self.return_button.setVisible(not self.complete)
        self.stack.setCurrentWidget(self.handback)
        self.panel.password.setFocus()

    def on_pager_finished(self) -> None:
        self.complete = True
        self._hand_back("Thank you. Please hand the device back to your clinician.")

    def on_pager_stopped(self) -> None:
        self.complete = False
        self._hand_back("Please hand the device back to your clinician.")

    def on_return_button_clicked(self) -> None:
        self.stack.setCurrentWidget(self.pager)
        self.pager.setFocus()

    def on_panel_signed_in(self, _clinician: Clinician) -> None:
        raw = self.pager.raw("patient")
        keep = self.complete
        if not keep and self.pager.answered_count():
            n, total = self.pager.answered_count(), len(self.pager.q.items)
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "Partial answers",
                f"The patient answered {n} of {total} items. Keep these answers? The score "
                "then says incomplete.",
                QMessageBox.StandardButton.NoButton,
                self,
            )
            box.addButton("Keep the partial answers", QMessageBox.ButtonRole.AcceptRole)
            discard = box.addButton("Discard them", QMessageBox.ButtonRole.RejectRole)
            box.exec()
            keep = box.clickedButton() is not discard
        response: Response | None = None
        if keep:
            response, problem = checked_response(self.item, raw)
            if problem is not None:
                QMessageBox.warning(self, "Answers not kept", problem)
                response = None
        self.release(response)

    def release(self, response: Response | None) -> None:
        self._released = True
        self.close()
        self.released.emit(response)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        event.accept()  # Escape, Alt+F4 and the rest: no way out but the clinician's sign-in

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._released:
            event.accept()
        else:
            event.ignore()


# -- handing over from the main window ----------------------------------------------------------


def _field(window: Any, item_id: str) -> Any:
    view = getattr(window.page, "view", None)
    return None if view is None else view.editor.editor(item_id)


def earlier_activities(runner: Any, evaluation_id: int, item: Item) -> Carried | None:
    """The activities a new answer of ``item`` starts from (PSFS: the episode's first ones,
    ``core.psfs_carry``), read on the worker; None for a questionnaire without activities, a
    first PSFS, or when the read fails (the pager then starts empty, as it always could)."""
    from clinic_app.core.responses import questionnaire_of

    q = questionnaire_of(str(item.questionnaire))
    if not any(i.patient_activity for i in q.items):
        return None

    def read(db: Database) -> Carried | None:
        from clinic_app.storage.records.evaluations import earlier_in_episode

        return carried_activities(q, item.id, earlier_in_episode(db, evaluation_id))

    try:
        return runner.call(f"Reading the earlier {q.short} activities", read)  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - a help to the patient, not the record
        log.warning("earlier %s activities of evaluation %d not read", q.id, evaluation_id)
        return None


def questionnaire_items(window: Any) -> list[Item]:
    """The questionnaire items of the record open in ``window`` (its pages, form order)."""
    view = getattr(getattr(window, "page", None), "view", None)
    if view is None:
        return []
    editor = view.editor
    return [
        i
        for s in editor.sections
        for i in s.items
        if i.questionnaire is not None and editor.has_item(i.id)
    ]


def hand_to_patient(window: Any, item_id: str) -> SelfEntryWindow | None:
    """Lock ``window`` (a MainWindow), hide it, and give the patient the questionnaire of item
    ``item_id`` full screen; the answers land in its field once the clinician signed in again."""
    from clinic_app.core.responses import questionnaire_of

    page = window.page
    field = _field(window, item_id)
    if field is None or page.evaluation is None:
        return None
    if page.view.editor.is_read_only():
        QMessageBox.information(window, "Signed record", "A signed record cannot take answers.")
        return None
    item = field.item
    q = questionnaire_of(item.questionnaire)
    clinician = window.context.clinician
    patient = page.patient
    cid = clinician.id

    def authenticate(login: str, password: str) -> SignedIn:
        from clinic_app.storage.errors import StorageError

        if login != (clinician.login or ""):
            raise StorageError(f"Only {clinician.name}, who handed the screen over, can sign in")

        def check(db: Database) -> SignedIn:
            from clinic_app.storage import accounts

            accounts.check_password(db, cid, password)
            return SignedIn(clinician)

        return window.context.runner.call("Checking the password", check)  # type: ignore[no-any-return]

    language = choose_language(window, q)
    if language is None:
        return None
    carried = (
        earlier_activities(window.context.runner, page.evaluation.id, item)
        if field.value is None
        else None
    )
    locker = getattr(window, "locker", None)
    if locker is not None:
        locker.lock(reason="Handed to the patient for a questionnaire.")
    screen = SelfEntryWindow(
        q,
        item,
        language=language,
        first_name=patient.given_name if patient is not None else "",
        clinician_login=clinician.login or "",
        clinician_name=clinician.name,
        authenticate=authenticate,
        carried=carried,
    )
    window.self_entry = screen  # kept alive while it shows

    def on_released(response: Response | None) -> None:
        window.show()
        if locker is not None and locker.is_locked:
            locker.on_panel_signed_in(clinician)
        window.activateWindow()
        landed = _field(window, item_id)
        if response is not None and landed is not None and shiboken6.isValid(landed):
            landed.land(response)
        window.self_entry = None
        screen.deleteLater()

    screen.released.connect(on_released)
    window.hide()
    screen.showFullScreen()
    screen.activateWindow()
    screen.pager.setFocus()
    return screen


def choose_language(window: Any, q: Questionnaire) -> str | None:
    """The patient's language, asked of the clinician when the questionnaire ships more than
    one (its ``languages:``, each a validated translation); None when cancelled."""
    from PySide6.QtWidgets import QInputDialog

    if len(q.languages) == 1:
        return q.languages[0]
    choice, ok = QInputDialog.getItem(
        window, "The patient's language", f"{q.short} in:", list(q.languages), 0, False
    )
    return choice if ok and choice in q.languages else None


def choose_and_hand(window: Any) -> SelfEntryWindow | None:
    """The window action "Hand to patient: questionnaires…": pick one of the open record's
    questionnaires (asked only when it has more than one), then :func:`hand_to_patient`."""
    from PySide6.QtWidgets import QInputDialog

    items = questionnaire_items(window)
    if not items:
        QMessageBox.information(
            window, "No questionnaire", "The open record has no questionnaire to hand over."
        )
        return None
    chosen = items[0]
    if len(items) > 1:
        labels = [i.label for i in items]
        label, ok = QInputDialog.getItem(
            window, "Hand to patient", "Questionnaire:", labels, 0, False
        )
        if not ok:
            return None
        chosen = items[labels.index(label)]
    return hand_to_patient(window, chosen.id)


class ClinicianEntryDialog(QDialog):
    """The clinician enters the answers item by item (``reported_by: clinician``).

    ``response`` holds the checked answers once accepted. Signals: those of QDialog.
    """

    def __init__(
        self,
        item: Item,
        initial: Response | None,
        parent: QWidget | None = None,
        *,
        carried: Carried | None = None,
    ):
        super().__init__(parent)
        from clinic_app.core.responses import questionnaire_of

        self.setObjectName("clinicianEntryDialog")
        self.item = item
        q = questionnaire_of(str(item.questionnaire))
        self.setWindowTitle(f"{q.short}: enter the answers")
        self.resize(760, 560)
        self.response: Response | None = None
        layout = QVBoxLayout(self)
        language = initial.language if initial is not None else q.languages[0]
        self.pager = AnswerPager(q, language, self, point_size=12, initial=initial, carried=carried)
        self.pager.stop_button.setText("Done")
        layout.addWidget(self.pager)
        self.pager.finished.connect(self.on_pager_finished)
        self.pager.stopped.connect(self.on_pager_finished)

    def on_pager_finished(self) -> None:
        if not self.pager.answered_count():
            self.reject()
            return
        response, problem = checked_response(self.item, self.pager.raw("clinician"))
        if problem is not None:
            self.pager.show_problem(problem)
            return
        self.response = response
        self.accept()
