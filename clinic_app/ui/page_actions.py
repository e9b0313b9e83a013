"""What the evaluation page does besides editing: conflicts, signing, co-signing, returning
and addenda (the page's slots for them, apart from ``evaluation_page`` to keep each module small).

:class:`PageActions` is a mixin of :class:`~clinic_app.ui.evaluation_page.EvaluationPage`: it uses
the page's evaluation, view, saver and context and never stands alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QInputDialog, QMessageBox, QPushButton, QWidget

from clinic_app.storage.errors import ConflictError
from clinic_app.ui import signing
from clinic_app.ui.operations import Changes, show_failure
from clinic_app.ui.questions import ask
from clinic_app.ui.text import local_time

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from clinic_app.core.findings import Findings
    from clinic_app.core.form import Form
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import Evaluation
    from clinic_app.storage.values import Patient
    from clinic_app.ui.assessment import EvaluationView
    from clinic_app.ui.autosave import DraftAutosaver
    from clinic_app.ui.conflict_dialog import ConflictDialog
    from clinic_app.ui.context import AppContext


class PageActions(QWidget):
    """Conflict resolution, signing and addenda of the evaluation page (a mixin base)."""

    if TYPE_CHECKING:
        context: AppContext
        evaluation: Evaluation | None
        patient: Patient | None
        form: Form | None
        view: EvaluationView | None
        saver: DraftAutosaver | None
        conflict_dialog: ConflictDialog | None
        addendum_draft: str
        sign_button: QPushButton
        cosign_button: QPushButton
        return_button: QPushButton
        addendum_button: QPushButton
        status_changed: SignalInstance
        signed: SignalInstance

        def flush(self) -> bool: ...
        def open(
            self, evaluation: Evaluation, patient: Patient, form: Form | None = None
        ) -> None: ...
        def _show_state(self) -> None: ...
        def _attach_saver(self, evaluation: Evaluation) -> None: ...
        def _drop_saver(self) -> None: ...
        def on_editor_confirmed(self, item_ids: tuple[str, ...]) -> None: ...

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
                episode_id=ev.episode_id,  # a visit note's copy stays in its episode
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
        check = sign_check(
            self.form,
            editor.findings,
            editor.invalid_fields(),
            editor.carried(),
            sections=editor.sections,
            assessed=self.view.assessed_findings(editor.findings),
        )
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
            confirmation_text(
                check, me.name, cosign=signing.prepares(me), what=record_word(ev.kind)
            ),
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

    # -- a visit note: re-measuring, and the note text ------------------------------------------

    def focus_remeasure(self) -> None:
        picker = getattr(self.view, "picker", None)
        if picker is not None and picker.isVisible():
            picker.focus_search()

    def on_visit_item_picked(self, item_id: str) -> None:
        """Put ``item_id`` on the "Re-measured today" page and focus its first field."""
        from clinic_app.ui.visit_view import VisitView

        view = self.view
        if not isinstance(view, VisitView) or view.editor.is_read_only():
            return
        if item_id not in view.remeasured and not self._rebuild_visit((*view.remeasured, item_id)):
            return
        view.picker.clear()
        editor = view.editor
        editor.set_current_section(editor.section_of(item_id))
        widget = editor.row(item_id).focus_widgets()[0]
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        editor.current_page().ensureWidgetVisible(widget)

    def on_visit_item_removed(self, item_id: str) -> None:
        """Take ``item_id`` off the page, only while it holds no value."""
        from clinic_app.ui.visit_view import VisitView

        view = self.view
        if not isinstance(view, VisitView) or item_id not in view.remeasured:
            return
        if view.editor.findings.values.get(item_id) not in (None, {}):
            self.status_changed.emit("Not removed: it holds a value (clear it first)")
            return
        rest = tuple(i for i in view.remeasured if i != item_id)
        if self._rebuild_visit(rest):
            view.picker.refresh()

    def _rebuild_visit(self, remeasured: tuple[str, ...]) -> bool:
        """The visit's pages with ``remeasured``: saved first, nothing typed is lost."""
        from clinic_app.core.visit import REMEASURED_SECTION
        from clinic_app.ui.visit_view import VisitView

        view = self.view
        assert isinstance(view, VisitView)
        invalid = view.editor.invalid_fields()
        if invalid:
            names = ", ".join(item.label for item, _side, _reason in invalid[:3])
            self.status_changed.emit(f"Correct the fields not accepted first: {names}")
            return False
        if not self.flush():
            self.status_changed.emit("Not changed: the visit note is not saved yet")
            return False
        section = REMEASURED_SECTION if remeasured else None
        view.set_remeasured(remeasured, section)
        return True

    def copy_note_text(self) -> None:
        """Copy the note text for the clinic's main record (after saving the draft)."""
        ev = self.evaluation
        if ev is None:
            return
        if not self.flush():
            self.status_changed.emit("Not copied: the changes are not saved yet")
            return
        eid = ev.id

        def op(db: Database) -> str:
            from clinic_app.reports.note import note_text

            return note_text(db, eid)

        def done(text: str) -> None:
            QGuiApplication.clipboard().setText(text)
            self.status_changed.emit("Note text copied")

        self.context.runner.run(
            "Copying the note text",
            op,
            on_success=done,
            on_failure=lambda err: show_failure(self, "Copying the note text", err),
            parent=self,
        )


def record_word(kind: str) -> str:
    return "visit note" if kind == "visit" else "evaluation"
