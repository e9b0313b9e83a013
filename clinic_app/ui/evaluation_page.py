"""The evaluation page: the editor for one evaluation, its autosave, signing and conflicts.

The page is built with the window, before the database is open, so the editor, the autosaver
and the form machinery are imported when the first evaluation is prepared or opened.

The page knows the application through its :class:`~clinic_app.ui.context.AppContext` (runner,
clinician, settings), never through its parent window: what it does is announced by signals, and
what it stores goes through the operation runner, whose ``changed`` signal tells the other screens.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clinic_app.storage.errors import ConflictError
from clinic_app.storage.values import Patient
from clinic_app.ui import signing
from clinic_app.ui.access_log import record_access
from clinic_app.ui.context import AppContext
from clinic_app.ui.operations import Changes, show_failure
from clinic_app.ui.questions import ask
from clinic_app.ui.text import KIND_LABELS, local_datetime, local_time

if TYPE_CHECKING:
    from clinic_app.core.findings import Findings
    from clinic_app.core.form import Form, Item, Side
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import DraftSaved, Evaluation
    from clinic_app.ui.assessment import EvaluationView
    from clinic_app.ui.autosave import DraftAutosaver
    from clinic_app.ui.conflict_dialog import ConflictDialog

logger = logging.getLogger(__name__)

# The status line while autosave cannot reach the PostgreSQL server (the typing goes on; the
# autosaver keeps the findings and retries; closing the window keeps them in the data folder).
SERVER_AWAY = "clinic server unreachable, changes kept on this computer"


class EvaluationPage(QWidget):
    """The evaluation being edited (or read, once signed), with its status bar of actions.

    Signals: ``back_requested()`` — return to the patient; ``signed(int)`` — evaluation signed;
    ``status_changed(str)`` — text for the window's status bar ("Saved 10:42:13");
    ``opened(int)`` — an evaluation is showing in the editor (its id).
    """

    back_requested = Signal()
    signed = Signal(int)
    status_changed = Signal(str)
    opened = Signal(int)

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
        if isinstance(state, QByteArray):
            view.splitter.restoreState(state)
        section = s.value("evaluation/last_section")
        if isinstance(section, str):
            view.editor.set_current_section(section)

    # -- opening and closing ------------------------------------------------------------------

    def open(self, evaluation: Evaluation, patient: Patient, form: Form | None = None) -> None:
        """Show ``evaluation`` in the editor (its form snapshot is read unless given)."""
        if not self.close_evaluation():
            return
        if form is None:
            eid = evaluation.id
            try:
                form = self.context.runner.call(
                    "Opening the evaluation", lambda db: _evaluation_form(db, eid)
                )
            except Exception as err:
                show_failure(self, "Opening the evaluation", err)
                return
        from clinic_app.core.findings import FindingsError, validate
        from clinic_app.ui.assessment import EvaluationView

        self.form = form
        self.seal_problems = []
        if evaluation.is_signed:
            eid = evaluation.id
            try:
                self.seal_problems = self.context.runner.call(
                    "Checking the signed record", lambda db: _seal_problems(db, eid)
                )
            except Exception as err:
                show_failure(self, "Checking the signed record", err)
                return
        try:
            findings = validate(form, dict(evaluation.findings))
        except FindingsError as err:  # stored values the form snapshot refuses: show, not crash
            QMessageBox.warning(self, "Cannot open the evaluation", "\n".join(err.problems[:10]))
            return
        self.evaluation = evaluation
        self.patient = patient
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
        self.view.editor.set_carried(evaluation.carried_forward)
        self.view.editor.set_previous(self._previous_values(evaluation, form))
        self._attach_saver(evaluation)
        self._show_state()
        self._restore_layout(self.view)
        record_access(self.context, "open", "evaluation", evaluation.id, parent=self)
        self.opened.emit(evaluation.id)

    def _previous_values(self, evaluation: Evaluation, form: Form) -> dict[str, object]:
        """The values of the evaluation this one was carried from, to show the change beside
        each re-measured item (none when it was not carried from one, or cannot be read)."""
        source = evaluation.carried_from
        if source is None:
            return {}
        try:
            return self.context.runner.call(
                "Opening the evaluation", lambda db: _previous_values(db, form, source)
            )
        except Exception:  # the change column is a help, not the record: open without it
            logger.warning("previous values of evaluation %d not read", evaluation.id)
            return {}

    def on_editor_confirmed(self, item_ids: tuple[str, ...]) -> None:
        if self.saver is not None and self.view is not None:
            self.saver.confirm(item_ids, self.view.editor.findings)

    def _attach_saver(self, evaluation: Evaluation) -> None:
        from clinic_app.ui.autosave import DraftAutosaver

        assert self.view is not None
        assert self.saver is None
        self.saver = DraftAutosaver(self.context.runner, evaluation, self.context.user, parent=self)
        self.view.findings_changed.connect(self.saver.on_findings_changed)
        self.view.editor.confirmed.connect(self.on_editor_confirmed)
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
            self.view.editor.confirmed.disconnect(self.on_editor_confirmed)
        saver.detach()
        saver.deleteLater()

    def prepare(self, form: Form) -> None:
        """Build the editor for ``form`` ahead of time, hidden, for the next :meth:`open`.

        Building a view's widgets costs 50-100 ms; an open that finds it only fills values.
        ``open`` reuses it when the evaluation's form is this very object (the database hands
        out one Form per content, see ``records.remember_form``).
        """
        if self.view is not None or self._spare is not None:
            return
        from clinic_app.core.findings import empty
        from clinic_app.ui.assessment import EvaluationView

        view = EvaluationView(form, empty(form), self, initial_section=self.last_section())
        view.hide()
        self.body.addWidget(view)
        view.findings_changed.connect(self.on_view_findings_changed)
        # Style, lay out and paint it once, off screen, at the size it will have: the first
        # showing of hundreds of new widgets otherwise adds ~25 ms to the first open.
        view.resize(self.expected_view_size())
        view.grab()
        self._spare = view

    def expected_view_size(self) -> QSize:
        """The editor's size once open: the whole width of the window's central area (the
        patient list hides) and its height below the evaluation bar."""
        top = self.window()
        central = getattr(top, "centralWidget", lambda: None)()
        area = central.size() if central is not None else top.size()
        bar = self.findChild(QFrame, "evaluationBar")
        bar_height = bar.sizeHint().height() if bar is not None else 0
        return QSize(area.width(), max(area.height() - bar_height, 1))

    def close_evaluation(self) -> bool:
        """Flush and drop the open evaluation. False if a conflict is still unresolved."""
        if self.saver is not None and not self.flush():
            return False
        if self.view is not None:
            self.remember_layout()
        self._drop_saver()
        if self.view is not None:
            # Not setParent(None): that turns hundreds of styled widgets into a hidden top-level
            # window and re-polishes them all (18-75 ms). Kept hidden: the next evaluation of the
            # same form reuses it (see open).
            self.view.hide()
            self._spare = self.view
        self.view = None
        self.evaluation = None
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
        self.addendum_button.setEnabled(True)
        broken = signed and bool(self.seal_problems)
        self.seal_banner.setVisible(broken)
        if broken:
            self.seal_banner.setText(
                "<b>This record was changed after it was signed:</b> "
                + "; ".join(p.replace("changed after signing: ", "") for p in self.seal_problems)
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

    def on_saver_conflicted(self, err: ConflictError) -> None:
        self.status_changed.emit("Not saved: changed elsewhere")
        self.resolve_conflict(err)

    def resolve_conflict(self, err: ConflictError) -> None:
        from clinic_app.core.findings import validate
        from clinic_app.ui.conflict_dialog import ConflictDialog

        if self.view is None or self.saver is None or self.form is None:
            return
        mine = self.saver.pending or self.view.editor.findings
        dialog = ConflictDialog(self.form, mine, err, self)
        self.conflict_dialog = dialog
        dialog.exec()
        self.conflict_dialog = None
        if dialog.choice == "mine":
            self.saver.keep_mine(err)
        elif dialog.choice == "theirs":
            theirs = self.saver.take_theirs(err)
            self.view.set_findings(validate(self.form, theirs))
            self.status_changed.emit(f"Showing {err.changed_by or 'their'} version")
        elif dialog.choice == "copy":
            self.save_as_copy(mine)

    def save_as_copy(self, mine: Findings) -> None:
        """Keep theirs where it is and store mine as a new draft evaluation of the same patient.

        The editor keeps showing mine, read-only, until the copy is stored and opened; if that
        fails, the conflict stays unresolved and mine stays on the screen.
        """
        ev, p, form = self.evaluation, self.patient, self.form
        if ev is None or p is None or form is None or self.view is None:
            return
        self._drop_saver()  # the old draft is theirs now: no saver may write mine over it
        self.view.editor.set_read_only(True)
        ctx = self.context
        user, clinician_id = ctx.user, ctx.clinician.id

        def op(db: Database) -> tuple[Evaluation, datetime]:
            from clinic_app.storage import records

            copy = records.start_evaluation(
                db,
                p.id,
                form,
                user=user,
                kind=ev.kind,
                clinician_id=clinician_id,
                copy_forward=False,
            )
            saved = records.save_draft(db, copy.id, mine, copy.version, user=user)
            return records.get_evaluation(db, copy.id), saved.updated_at

        def done(result: tuple[Evaluation, datetime]) -> None:
            copied, at = result
            self.open(copied, p, form)
            self.status_changed.emit(f"Saved as a copy {local_time(at)}")

        def failed(err: BaseException) -> None:
            show_failure(self, "Saving your version as a copy", err)
            if self.evaluation is ev and self.view is not None:
                self._attach_saver(ev)  # back to the conflict: mine is still pending
                assert self.saver is not None
                self.saver.on_findings_changed(mine)
                self.view.editor.set_read_only(False)
                self.status_changed.emit("Not saved: changed elsewhere")

        ctx.runner.run(
            "Saving your version as a copy",
            op,
            on_success=done,
            on_failure=failed,
            parent=self,
            changes=lambda r: Changes.evaluation(r[0].id, p.id),
        )

    # -- signing and addenda ----------------------------------------------------------------

    def on_sign_button_clicked(self) -> None:
        ev = self.evaluation
        if ev is None or self.saver is None or self.view is None or self.form is None:
            return
        from clinic_app.ui.sign_check import confirmation_text, refusal_text, sign_check

        editor = self.view.editor
        check = sign_check(self.form, editor.findings, editor.invalid_fields(), editor.carried())
        if check.refused:
            self.status_changed.emit("Not signed: a field holds a value that is not accepted")
            box = QMessageBox(QMessageBox.Icon.Warning, "Not signed", refusal_text(check))
            box.setParent(self, box.windowFlags())
            box.setTextFormat(Qt.TextFormat.RichText)
            box.exec()
            return
        if not self.flush():
            QMessageBox.information(
                self, "Not signed", "The evaluation has changes that are not saved yet; try again."
            )
            return
        me = self.context.clinician
        answer = ask(
            self,
            "Sign evaluation",
            confirmation_text(check, me.name, cosign=signing.prepares(me)),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        # Nothing may be typed while the signature is asked for and on its way.
        self.view.editor.set_read_only(True)
        self.sign_button.setEnabled(False)
        self.status_changed.emit("Signing…")
        self._with_password(
            "Signing the evaluation", "Sign", signing.sign_op(ev.id, self.saver.version, me.id)
        )

    def _with_password(self, what: str, action: str, op: Any) -> None:
        """Ask the signed-in clinician's password, then sign (or co-sign) with it."""
        ev = self.evaluation
        assert ev is not None

        def done(signed: Evaluation) -> None:
            if self.evaluation is not None and self.evaluation.id == ev.id:
                self._after_signing(signed, "Signed: awaiting co-signature by a therapist")

        def failed(err: BaseException) -> None:
            if self.evaluation is None or self.evaluation.id != ev.id:
                return
            self._show_state()  # editable again, exactly as it was
            if isinstance(err, ConflictError) and action == "Sign":
                self.resolve_conflict(err)
            else:  # a co-signature has no edits of its own to keep: say why, nothing signed
                self.status_changed.emit("Not signed")
                show_failure(self, what, err)

        def cancelled() -> None:
            self.status_changed.emit("Not signed")
            self._show_state()

        self.password_dialog = signing.with_password(
            self,
            self.context,
            what,
            action,
            op,
            on_success=done,
            on_failure=failed,
            on_cancel=cancelled,
            changes=Changes.evaluation(ev.id, ev.patient_id),
        )

    def _after_signing(self, ev: Evaluation, status: str) -> None:
        """Show ``ev`` as signed, co-signed, prepared or returned by the operation just done."""
        self.evaluation = ev
        if ev.is_signed:
            self._drop_saver()
        elif self.saver is not None:
            self.saver.version = ev.version
        self._show_state()
        self.status_changed.emit(f"Signed by {ev.signed_by}" if ev.is_signed else status)
        if ev.is_signed:
            self.signed.emit(ev.id)

    def on_cosign_button_clicked(self) -> None:
        ev = self.evaluation
        if ev is None or not ev.awaiting_cosignature:
            return
        if not signing.ask_cosign(self, ev, self.context.clinician.name):
            return
        self.cosign_button.setEnabled(False)
        op = signing.cosign_op(ev.id, ev.version, self.context.clinician.id)
        self._with_password("Co-signing the evaluation", "Co-sign", op)

    def on_return_button_clicked(self) -> None:
        ev = self.evaluation
        if ev is None or not ev.awaiting_cosignature:
            return

        def done(returned: Evaluation) -> None:
            if self.evaluation is not None and self.evaluation.id == ev.id:
                self._after_signing(returned, f"Returned to {ev.prepared_by} for changes")

        signing.return_for_changes(self, self.context, ev, done)

    def on_addendum_button_clicked(self) -> None:
        ev = self.evaluation
        if ev is None:
            return
        text, ok = QInputDialog.getMultiLineText(
            self,
            "Add addendum",
            f"Addendum to the signed evaluation, as {self.context.user}:",
            self.addendum_draft,
        )
        if not ok:
            return
        if not text.strip():
            self.addendum_draft = ""
            return
        self.add_addendum(text)

    def add_addendum(self, text: str) -> None:
        """Store ``text`` as an addendum; if that fails it is kept for the next try."""
        ev = self.evaluation
        if ev is None:
            return
        user, body = self.context.user, text.strip()
        self.addendum_draft = text  # until it is stored
        self.addendum_button.setEnabled(False)

        def op(db: Database) -> Evaluation:
            from clinic_app.storage import records

            records.add_addendum(db, ev.id, body, user=user)
            return records.get_evaluation(db, ev.id)

        def done(updated: Evaluation) -> None:
            self.addendum_draft = ""
            if self.evaluation is not None and self.evaluation.id == ev.id:
                self.evaluation = updated
                self._show_state()

        def failed(err: BaseException) -> None:
            self.addendum_button.setEnabled(True)
            self.status_changed.emit("Addendum not saved: your text is kept")
            show_failure(self, "Adding the addendum", err)

        self.context.runner.run(
            "Adding the addendum",
            op,
            on_success=done,
            on_failure=failed,
            parent=self,
            changes=Changes.evaluation(ev.id, ev.patient_id),
        )


def invalid_fields_text(invalid: list[tuple[Item, Side | None, str]]) -> str:
    """ "Not accepted: Passive SLR (left), Notes" for the status bar and the sign check."""
    names = [item.label + (f" ({side})" if side else "") for item, side, _ in invalid]
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f"Not accepted: {', '.join(names[:3])}{more}"


def _previous_values(db: Database, form: Form, evaluation_id: int) -> dict[str, object]:
    from clinic_app.core.changes import previous_values
    from clinic_app.storage import records

    return previous_values(
        form, records.get_evaluation(db, evaluation_id).findings.get("values", {})
    )


def _evaluation_form(db: Database, evaluation_id: int) -> Form:
    from clinic_app.storage import records

    return records.evaluation_form(db, evaluation_id)


def _seal_problems(db: Database, evaluation_id: int) -> list[str]:
    from clinic_app.storage import records

    return records.seal_problems(db, evaluation_id)
