"""The evaluation page: the editor for one evaluation, its autosave, signing and conflicts.

The page is built with the window, before the database is open, so the editor, the autosaver
and the form machinery are imported when the first evaluation is prepared or opened.

The page knows the application through its :class:`~clinic_app.ui.context.AppContext` (runner,
clinician, settings), never through its parent window: what it does is announced by signals, and
what it stores goes through the operation runner, whose ``changed`` signal tells the other screens.
"""

from __future__ import annotations

import contextlib
import html
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clinic_app.storage.values import Patient
from clinic_app.ui import signing
from clinic_app.ui.access_log import record_access
from clinic_app.ui.context import AppContext
from clinic_app.ui.operations import show_failure
from clinic_app.ui.page_actions import PageActions, record_word
from clinic_app.ui.text import KIND_LABELS, local_datetime, local_time

if TYPE_CHECKING:
    from collections.abc import Callable

    from clinic_app.core.findings import Findings
    from clinic_app.core.form import Form, Item, Side
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import DraftSaved, Evaluation
    from clinic_app.ui.assessment import EvaluationView
    from clinic_app.ui.autosave import DraftAutosaver
    from clinic_app.ui.conflict_dialog import ConflictDialog
    from clinic_app.ui.visit_view import VisitContext, VisitView

logger = logging.getLogger(__name__)

# The status line while autosave cannot reach the PostgreSQL server (the typing goes on; the
# autosaver keeps the findings and retries; closing the window keeps them in the data folder).
SERVER_AWAY = "clinic server unreachable, changes kept on this computer"


class EvaluationPage(PageActions):
    """The evaluation being edited (or read, once signed), with its status bar of actions.

    Signals: ``back_requested()`` — return to the patient; ``signed(int)`` — evaluation signed;
    ``status_changed(str)`` — text for the window's status bar ("Saved 10:42:13");
    ``opened(int)`` — an evaluation is showing in the editor (its id); ``prepared()`` — what
    :meth:`prepare` builds in idle time is all built (:meth:`is_preparing`).
    """

    back_requested = Signal()
    signed = Signal(int)
    status_changed = Signal(str)
    opened = Signal(int)
    prepared = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.evaluation: Evaluation | None = None
        self.patient: Patient | None = None
        self.form: Form | None = None
        self.view: EvaluationView | None = None
        self.saver: DraftAutosaver | None = None
        self.conflict_dialog: ConflictDialog | None = None
        self.addendum_draft = ""  # an addendum typed but not stored (the write failed)
        self._spare: EvaluationView | None = None  # the closed view, kept for the same form
        self.visit: VisitContext | None = None  # the open visit note's episode (else None)
        self._spare_visit: VisitView | None = None  # the closed visit note's view, kept
        self._preparing = False  # prepare() still has pages to build in idle time
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        bar = QFrame(self)
        bar.setObjectName("evaluationBar")
        h = QHBoxLayout(bar)
        h.setContentsMargins(12, 8, 12, 8)
        self.back_button = QPushButton("← Patient", bar)
        self.back_button.setToolTip("Back to the patient's details")
        self.back_button.clicked.connect(self.back_requested)
        h.addWidget(self.back_button)
        self.title = QLabel(bar)
        self.title.setProperty("role", "evalTitle")
        h.addWidget(self.title, 1)
        self.status = QLabel(bar)
        self.status.setObjectName("evaluationStatus")
        h.addWidget(self.status)
        self.sign_button = QPushButton("Sign…", bar)
        self.sign_button.setObjectName("signButton")
        self.sign_button.clicked.connect(self.on_sign_button_clicked)
        h.addWidget(self.sign_button)
        # A draft an assistant or student signed: a therapist co-signs or returns it (issue 14).
        self.cosign_button = signing.button(
            bar, "Co-sign…", "cosignButton", self.on_cosign_button_clicked
        )
        self.return_button = signing.button(
            bar, "Return for changes…", "returnButton", self.on_return_button_clicked
        )
        h.addWidget(self.cosign_button)
        h.addWidget(self.return_button)
        self.remeasure_button = QPushButton("Re-measure…", bar)
        self.remeasure_button.setToolTip("Find an item to re-measure today (Ctrl+M)")
        self.remeasure_button.clicked.connect(self.focus_remeasure)
        h.addWidget(self.remeasure_button)
        self.copy_button = QPushButton("Copy note text", bar)
        self.copy_button.setToolTip(
            "Copy the note for the clinic's main record to the clipboard (Ctrl+Shift+C)"
        )
        self.copy_button.clicked.connect(self.copy_note_text)
        h.addWidget(self.copy_button)
        for keys, slot in (("Ctrl+M", self.focus_remeasure), ("Ctrl+Shift+C", self.copy_note_text)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.addendum_button = QPushButton("Add addendum…", bar)
        self.addendum_button.clicked.connect(self.on_addendum_button_clicked)
        h.addWidget(self.addendum_button)
        layout.addWidget(bar)
        # A signed record that no longer matches its seal says so above the findings (issue 13).
        self.seal_banner = QLabel(self)
        self.seal_banner.setObjectName("sealBroken")
        self.seal_banner.setWordWrap(True)
        self.seal_banner.setStyleSheet("background: #fdecea; color: #b42318; padding: 8px 14px;")
        self.seal_banner.hide()
        layout.addWidget(self.seal_banner)
        self.cosign_banner = signing.cosign_banner(
            self
        )  # awaiting co-signature, or returned (issue 14)
        layout.addWidget(self.cosign_banner)
        self.seal_problems: list[str] = []
        self.body = QVBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.body, 1)
        self.addenda = QLabel(self)
        self.addenda.setObjectName("addenda")
        self.addenda.setWordWrap(True)
        self.addenda.setTextFormat(Qt.TextFormat.RichText)
        self.addenda.setContentsMargins(14, 6, 14, 8)
        self.addenda.hide()
        layout.addWidget(self.addenda)

    @property
    def db(self) -> Database:
        return self.context.db

    # -- layout memory (this workstation's, per data folder: ui/workstation.py) ---------------

    def layout_settings(self) -> QSettings:
        from clinic_app.ui import workstation

        return workstation.settings(self.context.db if self.context.ready else None)

    def last_section(self) -> str | None:
        section = self.layout_settings().value("evaluation/last_section")
        return section if isinstance(section, str) else None

    def remember_layout(self) -> None:
        view = self.view
        if view is None:
            return
        s = self.layout_settings()
        # Set only what changed: a changed QSettings writes its whole file when it goes (about
        # 1 ms on every close of an evaluation, for the same layout each time).
        for key, value in (
            ("evaluation/splitter", view.splitter.saveState()),
            ("evaluation/last_section", view.editor.current_section()),
        ):
            if s.value(key) != value:
                s.setValue(key, value)

    def _restore_layout(self, view: EvaluationView) -> None:
        s = self.layout_settings()
        state = s.value("evaluation/splitter")
        # (restoring lays the splitter out again, ~2-6 ms: not when it already is so)
        if isinstance(state, QByteArray) and view.splitter.saveState() != state:
            view.splitter.restoreState(state)
        section = s.value("evaluation/last_section")
        if isinstance(section, str):
            view.editor.set_current_section(section)

    # -- opening and closing ------------------------------------------------------------------

    def open(self, evaluation: Evaluation, patient: Patient, form: Form | None = None) -> None:
        """Show ``evaluation`` in the editor (its form snapshot is read unless given)."""
        shown = self.view
        # The view shown stays visible until the next one is known: reopening it then costs no
        # hiding and showing of its hundreds of widgets (~5-15 ms each way).
        if not self.close_evaluation(hide=False):
            return
        what = f"Opening the {record_word(evaluation.kind)}"
        try:
            # One read on the worker: a round trip of the runner costs more than each query.
            read = self.context.runner.call(what, lambda db: _open_read(db, evaluation, form))
        except Exception as err:
            self._hide_views()
            show_failure(self, what, err)
            return
        from clinic_app.core.findings import FindingsError, validate

        form = read.form
        self.form = form
        self.seal_problems = read.seal_problems
        try:
            findings = validate(form, dict(evaluation.findings))
        except FindingsError as err:  # stored values the form snapshot refuses: show, not crash
            self._hide_views()
            QMessageBox.warning(self, "Cannot open the evaluation", "\n".join(err.problems[:10]))
            return
        self.evaluation = evaluation
        self.patient = patient
        self.visit = None
        if read.visit is not None:
            self._open_visit(evaluation, form, findings, read.visit)
        else:
            self._open_view(form, findings)
        assert self.view is not None
        if shown is not None and shown is not self.view:
            shown.hide()
        self.view.show()
        self.view.editor.set_carried(evaluation.carried_forward)
        if self.visit is None:
            self.view.editor.set_previous(read.previous)
        self._attach_saver(evaluation)
        self._show_state()
        self._restore_layout(self.view)
        record_access(self.context, "open", "evaluation", evaluation.id, self, when_idle=True)
        self.opened.emit(evaluation.id)

    def _open_visit(
        self, evaluation: Evaluation, form: Form, findings: Findings, context: VisitContext
    ) -> None:
        """Show a visit note over its episode (``context``, read with the note) in the visit
        view kept from the last one when it has the same form, else in a new one."""
        from clinic_app.ui.visit_view import VisitView

        self.visit = context
        spare, self._spare_visit = self._spare_visit, None
        if spare is not None and spare.form is form:
            spare.reuse(findings, evaluation, context)
            self.view = spare
            return
        if spare is not None:
            spare.deleteLater()
        view = VisitView(form, findings, evaluation, context, self, read_goals=self._read_goals)
        self.view = view
        self.body.addWidget(view)
        self._connect_visit(view)

    def _connect_visit(self, view: VisitView) -> None:
        view.findings_changed.connect(self.on_view_findings_changed)
        view.picker.picked.connect(self.on_visit_item_picked)
        view.picker.removed.connect(self.on_visit_item_removed)

    def _read_goals(self, episode_id: int) -> list[Any]:
        """The episode's goals, for a visit's assessment page (none shown if not readable)."""
        from clinic_app.storage import records

        try:
            return self.context.runner.call(
                "Reading the goals", lambda db: records.list_goals(db, episode_id)
            )
        except Exception:  # the goals box is a help beside the record: the page still opens
            logger.warning("goals of episode %d not read", episode_id)
            return []

    def _open_view(self, form: Form, findings: Findings) -> None:
        from clinic_app.ui.assessment import EvaluationView

        spare, self._spare = self._spare, None
        if spare is not None and spare.form is form:
            # Building the view's rows costs 50-100 ms; refilling the same form's rows ~10 ms.
            self.view = spare
            self.view.set_findings(findings)
            section = self.last_section()
            if section is not None:
                self.view.editor.set_current_section(section)
            self.view.show()
        else:
            if spare is not None:
                spare.deleteLater()
            self.view = EvaluationView(form, findings, self, initial_section=self.last_section())
            self.body.addWidget(self.view)
            self.view.findings_changed.connect(self.on_view_findings_changed)

    def on_editor_confirmed(self, item_ids: tuple[str, ...]) -> None:
        if self.saver is not None and self.view is not None:
            self.saver.confirm(item_ids, self.view.editor.findings)

    def _attach_saver(self, evaluation: Evaluation) -> None:
        from clinic_app.ui.autosave import DraftAutosaver

        assert self.view is not None
        assert self.saver is None
        self.saver = DraftAutosaver(self.context.runner, evaluation, self.context.user, parent=self)
        self.view.findings_changed.connect(self.saver.on_findings_changed)
        self.view.confirmed.connect(self.on_editor_confirmed)
        self.saver.saved.connect(self.on_saver_saved)
        self.saver.conflicted.connect(self.on_saver_conflicted)
        self.saver.failed.connect(self.on_saver_failed)

    def _drop_saver(self) -> None:
        """Stop the saver and disconnect it from the view: exactly one saver per open draft."""
        saver, self.saver = self.saver, None
        if saver is None:
            return
        if self.view is not None:
            self.view.findings_changed.disconnect(saver.on_findings_changed)
            self.view.confirmed.disconnect(self.on_editor_confirmed)
        saver.detach()
        saver.deleteLater()

    def prepare(self, form: Form) -> None:
        """Build the editor for ``form`` ahead of time, hidden, for the next :meth:`open`.

        Building a view's widgets costs 50-100 ms; an open that finds it only fills values.
        ``open`` reuses it when the evaluation's form is this very object (the database hands
        out one Form per content, see ``records.remember_form``).
        """
        from clinic_app.ui import visit_view  # noqa: F401 - imported now, not at the first visit

        if self.view is not None or self._spare is not None:
            return
        if self.context.ready:
            self.context.runner.run(
                "Preparing to open records", warm_open_reads, on_failure=_not_warmed
            )
        from clinic_app.core import derived  # noqa: F401 - the first open's patient record
        from clinic_app.core.findings import empty
        from clinic_app.core.responses import questionnaire_of
        from clinic_app.ui.assessment import EvaluationView

        for item in form.items.values():  # parsed now, not by the first open's check (~8 ms)
            if item.questionnaire is not None:
                questionnaire_of(item.questionnaire)
        view = EvaluationView(form, empty(form), self, initial_section=self.last_section())
        view.hide()
        self.body.addWidget(view)
        view.findings_changed.connect(self.on_view_findings_changed)
        # Style, lay out and paint it once, off screen, at the size it will have (with the
        # editor and assessment split as the clinician left them): the first showing of
        # hundreds of new widgets otherwise adds ~25 ms to the first open, and a new split
        # lays every row of the page out again (~12 ms).
        self._restore_layout(view)
        view.resize(self.expected_view_size())
        view.grab()
        self._spare = view
        # Its other pages next, one per turn of the event loop: an intake then moves from page
        # to page without building one on a keystroke (issue 18). Then, for a form with visit
        # notes, a visit note's view.
        self._preparing = True
        view.editor.built_ahead.connect(lambda: self._on_spare_built_ahead(form))
        view.editor.build_pages_ahead()

    def _on_spare_built_ahead(self, form: Form) -> None:
        if not self._preparing:
            return
        if form.record_sections("visit"):
            QTimer.singleShot(0, self, lambda: self._finish_preparing(form))
        else:
            self._finish_preparing(None)

    def _finish_preparing(self, visit_form: Form | None) -> None:
        if visit_form is not None:
            self.prepare_visit(visit_form)
        self._preparing = False
        self.prepared.emit()

    def is_preparing(self) -> bool:
        """Whether what :meth:`prepare` set out to build is still being built."""
        return self._preparing

    def rehearse_first_showing(self, show_page: Callable[[bool], None]) -> None:
        """Show this page with its prepared view once and hide both again, with no event
        handled in between, so nothing is painted: Qt's first showing of the page and of the
        view's widgets (~15 ms) then happens here, in idle time, and not in the first open.
        ``show_page(True)`` makes this page the window's current screen, ``show_page(False)``
        puts back the one before."""
        spare = self._spare
        if spare is None or self.view is not None or self.isVisible():
            return
        spare.show()
        try:
            show_page(True)
            show_page(False)
        finally:
            spare.hide()

    def prepare_visit(self, form: Form) -> None:
        """Build a visit note's view for ``form`` ahead of time, hidden (as :meth:`prepare`)."""
        if self._spare_visit is not None or self.visit is not None:
            return
        from clinic_app.core.findings import empty
        from clinic_app.ui.visit_view import VisitContext, VisitView

        context = VisitContext(number=1, remeasured=())
        view = VisitView(form, empty(form), None, context, self, read_goals=self._read_goals)
        view.hide()
        self.body.addWidget(view)
        self._connect_visit(view)
        view.resize(self.expected_view_size())
        view.grab()
        self._spare_visit = view

    def expected_view_size(self) -> QSize:
        """The editor's size once open: the whole width of the window's central area (the
        patient list hides) and its height below the evaluation bar."""
        top = self.window()
        central = getattr(top, "centralWidget", lambda: None)()
        area = central.size() if central is not None else top.size()
        bar = self.findChild(QFrame, "evaluationBar")
        bar_height = bar.sizeHint().height() if bar is not None else 0
        return QSize(area.width(), max(area.height() - bar_height, 1))

    def _hide_views(self) -> None:
        """Nothing open: no view shows (one left visible by ``close_evaluation(hide=False)``)."""
        for view in (self._spare, self._spare_visit):
            if view is not None:
                view.hide()

    def may_close(self) -> bool:
        """Before the clinician leaves the open record (another patient, back, a new record,
        quitting): fields showing text the editor did not accept would lose it without a word,
        so ask. "Go back" (the default, and Esc) shows the first such field."""
        view = self.view
        if view is None or self.evaluation is None or view.editor.is_read_only():
            return True
        invalid = view.editor.invalid_fields()
        if not invalid:
            return True
        from clinic_app.ui.questions import ask
        from clinic_app.ui.sign_check import leaving_text

        what = record_word(self.evaluation.kind)
        answer = ask(
            self,
            "Values not stored",
            leaving_text(invalid, what),
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            {
                QMessageBox.StandardButton.Discard: "Close and lose them",
                QMessageBox.StandardButton.Cancel: "Go back",
            },
            default=QMessageBox.StandardButton.Cancel,  # Enter, typed on, loses nothing
        )
        if answer == QMessageBox.StandardButton.Discard:
            return True
        item, side, _reason = invalid[0]
        self.window().activateWindow()  # back from the question, to the field it named
        view.editor.focus_item(item.id, side)
        return False

    def close_evaluation(self, hide: bool = True) -> bool:
        """Flush and drop the open evaluation. False if a conflict is still unresolved.

        ``hide=False`` (:meth:`open`, about to show the next one, with no event handled in
        between) leaves its view on screen for the next open to reuse or hide."""
        if self.saver is not None and not self.flush():
            return False
        if self.view is not None:
            self.remember_layout()
        self._drop_saver()
        if self.visit is not None and self.view is not None:  # kept for the next visit note
            from clinic_app.ui.visit_view import VisitView

            if hide:
                self.view.hide()
            if isinstance(self.view, VisitView):
                self._spare_visit = self.view
        elif self.view is not None:
            # Not setParent(None): that turns hundreds of styled widgets into a hidden top-level
            # window and re-polishes them all (18-75 ms). Kept hidden: the next evaluation of the
            # same form reuses it (see open).
            if hide:
                self.view.hide()
            self._spare = self.view
        self.view = None
        self.evaluation = None
        self.visit = None
        return True

    def flush(self) -> bool:
        if self.saver is None:
            return True
        if self.saver.flush():
            return True
        return self.saver.in_conflict is None and not self.saver.has_pending()

    def _show_state(self) -> None:
        ev, p = self.evaluation, self.patient
        if ev is None or p is None or self.view is None:
            return
        kind = KIND_LABELS.get(ev.kind, ev.kind)
        if self.visit is not None:
            kind = f"Visit note {self.visit.number} — {ev.eval_date:%Y-%m-%d}"
            self.title.setText(f"<b>{p.given_name} {p.family_name}</b> · {kind}")
        else:
            self.title.setText(
                f"<b>{p.given_name} {p.family_name}</b> · {kind} · {ev.eval_date:%Y-%m-%d}"
            )
        signed, awaiting = ev.is_signed, ev.awaiting_cosignature
        me = self.context.clinician
        self.view.editor.set_read_only(signed or awaiting)
        self.sign_button.setVisible(not signed and not awaiting)
        self.sign_button.setEnabled(signing.can_sign(me))  # an admin-only account cannot
        can_cosign = awaiting and signing.is_therapist(me) and me.id != ev.prepared_by_id
        for button in (self.cosign_button, self.return_button):
            button.setVisible(can_cosign)
            button.setEnabled(True)
        self.cosign_banner.setVisible(awaiting or ev.returned is not None)
        if awaiting:
            self.cosign_banner.setText(signing.awaiting_text(ev))
        elif ev.returned is not None:
            self.cosign_banner.setText(signing.returned_text(ev))
        self.addendum_button.setVisible(signed)
        editable = not signed and not awaiting
        self.remeasure_button.setVisible(self.visit is not None and editable)
        picker = getattr(self.view, "picker", None)
        if picker is not None:
            picker.setVisible(editable)
        self.addendum_button.setEnabled(True)
        broken = signed and bool(self.seal_problems)
        self.seal_banner.setVisible(broken)
        if broken:
            from clinic_app.storage.signer_seals import seal_headline

            heading, _advice = seal_headline(self.seal_problems)
            self.seal_banner.setText(
                f"<b>{heading}:</b> "
                + "; ".join(
                    html.escape(p.replace("changed after signing: ", ""))
                    for p in self.seal_problems
                )
            )
        if signed:
            self.status.setText(f"Signed by {ev.signed_by} · {local_datetime(ev.signed_at)}")
            self.status.setProperty("state", "broken" if broken else "signed")
        elif awaiting:
            self.status.setText("Awaiting co-signature")
            self.status.setProperty("state", "draft")
        else:
            self.status.setText("Draft")
            self.status.setProperty("state", "draft")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        if ev.addenda:
            parts = [
                f"<b>Addendum</b> {local_datetime(a.created_at)} · {a.author}: {a.text}"
                for a in ev.addenda
            ]
            self.addenda.setText("<br>".join(parts))
            self.addenda.show()
        else:
            self.addenda.hide()

    # -- autosave ---------------------------------------------------------------------------------

    def on_view_findings_changed(self, _findings: Findings) -> None:
        invalid = self.view.editor.invalid_fields() if self.view is not None else []
        if invalid:
            self.status_changed.emit(f"{invalid_fields_text(invalid)} (nothing new is stored)")
        elif self.saver is not None and self.saver.server_unreachable():
            self.status_changed.emit(SERVER_AWAY)  # still away: say so, not "Editing…"
        else:
            self.status_changed.emit("Editing… (saves automatically)")

    def on_saver_saved(self, result: DraftSaved) -> None:
        stamp = local_time(
            self.saver.last_saved_at
            if self.saver and self.saver.last_saved_at
            else result.updated_at
        )
        invalid = self.view.editor.invalid_fields() if self.view is not None else []
        note = f" · {invalid_fields_text(invalid)}, not stored" if invalid else ""
        self.status_changed.emit(f"Saved {stamp}{note}")
        if self.view is not None:
            self.view.editor.set_carried(result.carried_forward)

    def on_saver_failed(self, message: str) -> None:
        # No pop-up while typing: the changes are kept and the write is retried shortly.
        if self.saver is not None and self.saver.server_unreachable():
            self.status_changed.emit(SERVER_AWAY)
        else:
            self.status_changed.emit("Not saved yet — retrying")
        self.status.setToolTip(f"Last save attempt failed: {message}")

    def keep_on_this_computer(self) -> Path | None:
        """Closing while the clinic server is away: write the unsaved findings to the data
        folder (``storage.kept``; saved at the next start). None when there is nothing to keep
        that way (no draft, nothing pending, a conflict open, or another kind of failure)."""
        from clinic_app.storage import kept

        saver = self.saver
        if saver is None or saver.pending is None or saver.in_conflict is not None:
            return None
        if not saver.server_unreachable():
            return None
        draft = kept.KeptDraft(
            evaluation_id=saver.evaluation_id,
            version=saver.version,
            user=saver.user,
            database=self.db.where,
            findings=saver.pending.to_dict(),
            confirmed=tuple(sorted(saver.confirmed)),
        )
        try:
            return kept.keep(draft)
        except OSError:
            logger.exception("the unsaved changes could not be kept in the data folder")
            return None


def invalid_fields_text(invalid: list[tuple[Item, Side | None, str]]) -> str:
    """ "Not accepted: Passive SLR (left), Notes" for the status bar and the sign check."""
    names = [item.label + (f" ({side})" if side else "") for item, side, _ in invalid]
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f"Not accepted: {', '.join(names[:3])}{more}"


@dataclass(frozen=True)
class OpenRead:
    """What opening a record reads besides the record itself, in one operation."""

    form: Form  # the form snapshot it was recorded with
    seal_problems: list[str]  # a signed record's seal check (empty: sound, or not signed)
    visit: VisitContext | None  # a visit note's episode (None for an evaluation)
    previous: dict[str, object]  # an evaluation's values it was carried from (else empty)


def _open_read(db: Database, evaluation: Evaluation, form: Form | None) -> OpenRead:
    """The form, the seal check, a visit note's episode and goals, or the values an
    evaluation was carried from: what :meth:`EvaluationPage.open` needs, read on the worker."""
    from clinic_app.storage import records

    eid = evaluation.id
    if form is None:
        form = records.evaluation_form(db, eid)
    problems = records.seal_problems(db, eid) if evaluation.is_signed else []
    if evaluation.kind == "visit":
        from clinic_app.ui.visit_view import load_visit_context

        return OpenRead(form, problems, load_visit_context(db, form, evaluation), {})
    return OpenRead(form, problems, None, _previous_values(db, form, evaluation))


def _previous_values(db: Database, form: Form, evaluation: Evaluation) -> dict[str, object]:
    """The values of the evaluation this one was carried from, to show the change beside
    each re-measured item (none when it was not carried from one, or cannot be read: the
    change column is a help, not the record)."""
    from clinic_app.core.changes import previous_values
    from clinic_app.storage import records

    source = evaluation.carried_from
    if source is None:
        return {}
    try:
        values = records.get_evaluation(db, source).findings.get("values", {})
    except Exception:  # noqa: BLE001 - whatever the reason, the page opens without it
        logger.warning("previous values of evaluation %d not read", evaluation.id)
        return {}
    return previous_values(form, values)


def _not_warmed(err: BaseException) -> None:
    logger.info("the reads of an open were not prepared ahead (%s)", type(err).__name__)


def warm_open_reads(db: Database) -> None:
    """Run once, before the first open, what the first open would otherwise pay for on the
    worker (~40 ms: the signing keys and their cryptography modules, the first compilation of
    the queries): a record's first open then costs what the next ones do. Reads no record."""
    from clinic_app.storage import records, sealing, signer_seals  # noqa: F401
    from clinic_app.storage.errors import StorageError
    from clinic_app.storage.records.evaluations import episode_values

    sealing.trusted_keys()
    records.seal_problems(db, 0)  # (no record 0: nothing is read but the statement compiled)
    for read in (lambda: episode_values(db, 0), lambda: records.evaluation_form(db, 0)):
        with contextlib.suppress(StorageError):
            read()
    records.list_goals(db, 0)
