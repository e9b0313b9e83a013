"""The evaluation page: the editor for one evaluation, its autosave, signing and conflicts."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.engine import format_value
from clinic_app.core.findings import Findings, FindingsError, empty, validate
from clinic_app.core.form import Form
from clinic_app.storage import records
from clinic_app.storage.database import Database
from clinic_app.storage.errors import ConflictError, StorageError
from clinic_app.storage.records import Evaluation, Patient
from clinic_app.ui.assessment import EvaluationView
from clinic_app.ui.autosave import DraftAutosaver
from clinic_app.ui.text import KIND_LABELS, local_datetime, local_time

if TYPE_CHECKING:
    from clinic_app.ui.main_window import MainWindow


class ConflictDialog(QDialog):
    """Someone else saved this evaluation first: show both versions and let the clinician choose.

    ``choice`` after exec: ``"mine"``, ``"theirs"`` or ``"copy"`` (``None`` if closed: decide
    later; the unsaved findings are kept in memory meanwhile).

    Signals: none (modal; read ``choice``).
    """

    def __init__(
        self, form: Form, mine: Findings, err: ConflictError, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Evaluation changed elsewhere")
        self.choice: str | None = None
        layout = QVBoxLayout(self)
        who = err.changed_by or "someone else"
        when = local_datetime(err.changed_at) if err.changed_at else "just now"
        intro = QLabel(
            f"<b>{who}</b> saved this evaluation at {when} (version {err.current_version}) while "
            "you were editing. Nothing of yours was overwritten and nothing of theirs was lost. "
            "Choose which version to continue with:",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        try:
            theirs = validate(form, dict(err.their_findings))
        except FindingsError:
            theirs = Findings(form.id, form.version, {})
        self.differences = differences(form, mine, theirs)
        table = QTableWidget(len(self.differences), 3, self)
        table.setObjectName("conflictTable")
        table.setHorizontalHeaderLabels(["Item", "Mine", f"Theirs ({who})"])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, (label, a, b) in enumerate(self.differences):
            for col, text in enumerate((label, a, b)):
                table.setItem(row, col, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout.addWidget(table)
        buttons = QDialogButtonBox(self)
        self.mine_button = buttons.addButton("Keep mine", QDialogButtonBox.ButtonRole.AcceptRole)
        self.theirs_button = buttons.addButton(
            "Take theirs", QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.copy_button = buttons.addButton(
            "Save mine as a copy", QDialogButtonBox.ButtonRole.ActionRole
        )
        for key, button in (
            ("mine", self.mine_button),
            ("theirs", self.theirs_button),
            ("copy", self.copy_button),
        ):
            button.clicked.connect(functools.partial(self.on_choice_clicked, key))
        layout.addWidget(buttons)
        self.resize(620, 360)

    def on_choice_clicked(self, key: str) -> None:
        self.choice = key
        self.accept()


def differences(form: Form, mine: Findings, theirs: Findings) -> list[tuple[str, str, str]]:
    """(item label, my value, their value) for every item the two versions disagree on."""

    def show(f: Findings, item_id: str) -> str:
        item = form.items[item_id]
        if item.bilateral:
            sides = f.sides(item_id)
            parts = [f"{s[0].upper()} {format_value(item, v)}" for s, v in sides.items()]
            return ", ".join(parts) or "–"
        v = f.get(item_id)
        return "–" if v is None else format_value(item, v)

    out = []
    for item_id, item in form.items.items():
        a, b = mine.values.get(item_id), theirs.values.get(item_id)
        if a != b:
            out.append((item.label, show(mine, item_id), show(theirs, item_id)))
    return out


class EvaluationPage(QWidget):
    """The evaluation being edited (or read, once signed), with its status bar of actions.

    Signals: ``back_requested()`` — return to the patient; ``signed(int)`` — evaluation signed;
    ``status_changed(str)`` — text for the window's status bar ("Saved 10:42:13").
    """

    back_requested = Signal()
    signed = Signal(int)
    status_changed = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.evaluation: Evaluation | None = None
        self.patient: Patient | None = None
        self.form: Form | None = None
        self.view: EvaluationView | None = None
        self.saver: DraftAutosaver | None = None
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
        self.addendum_button = QPushButton("Add addendum…", bar)
        self.addendum_button.clicked.connect(self.on_addendum_button_clicked)
        h.addWidget(self.addendum_button)
        layout.addWidget(bar)
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
        return self.window_.db

    def open(self, evaluation: Evaluation, patient: Patient) -> None:
        self.close_evaluation()
        self.evaluation = evaluation
        self.patient = patient
        self.form = records.evaluation_form(self.db, evaluation.id)
        try:
            findings = validate(self.form, dict(evaluation.findings))
        except FindingsError as err:  # stored values the form snapshot refuses: show, not crash
            self.evaluation = None
            QMessageBox.warning(self, "Cannot open the evaluation", "\n".join(err.problems[:10]))
            return
        spare, self._spare = self._spare, None
        if spare is not None and spare.form is self.form:
            # Building the view's rows costs 50-100 ms; refilling the same form's rows ~10 ms.
            self.view = spare
            self.view.set_findings(findings)
            section = self.window_.last_section()
            if section is not None:
                self.view.editor.set_current_section(section)
            self.view.show()
        else:
            if spare is not None:
                spare.deleteLater()
            self.view = EvaluationView(
                self.form, findings, self, initial_section=self.window_.last_section()
            )
            self.body.addWidget(self.view)
            self.view.findings_changed.connect(self.on_view_findings_changed)
        self.view.editor.set_carried(evaluation.carried_forward)
        self.saver = DraftAutosaver(self.db, evaluation, self.window_.user, parent=self)
        self.view.findings_changed.connect(self.saver.on_findings_changed)
        self.saver.saved.connect(self.on_saver_saved)
        self.saver.conflicted.connect(self.on_saver_conflicted)
        self.saver.failed.connect(self.on_saver_failed)
        self._show_state()
        self.window_.restore_evaluation_layout(self.view)

    def prepare(self, form: Form) -> None:
        """Build the editor for ``form`` ahead of time, hidden, for the next :meth:`open`.

        Building a view's widgets costs 50-100 ms; an open that finds it only fills values.
        ``open`` reuses it when the evaluation's form is this very object (the records API hands
        out one Form per content, see ``records.remember_form``).
        """
        if self.view is not None or self._spare is not None:
            return
        view = EvaluationView(form, empty(form), self, initial_section=self.window_.last_section())
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
        central = self.window_.centralWidget()
        area = central.size() if central is not None else self.window_.size()
        bar = self.findChild(QFrame, "evaluationBar")
        bar_height = bar.sizeHint().height() if bar is not None else 0
        return QSize(area.width(), max(area.height() - bar_height, 1))

    def close_evaluation(self) -> bool:
        """Flush and drop the open evaluation. False if a conflict is still unresolved."""
        if self.saver is not None and not self.flush():
            return False
        if self.view is not None:
            self.window_.remember_evaluation_layout(self.view)
            # Not setParent(None): that turns hundreds of styled widgets into a hidden top-level
            # window and re-polishes them all (18-75 ms). Kept hidden: the next evaluation of the
            # same form reuses it (see open).
            if self.saver is not None:
                self.view.findings_changed.disconnect(self.saver.on_findings_changed)
            self.view.hide()
            self._spare = self.view
        if self.saver is not None:
            self.saver.detach()
            self.saver.deleteLater()
        self.view = None
        self.saver = None
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
        signed = ev.is_signed
        self.view.editor.set_read_only(signed)
        self.sign_button.setVisible(not signed)
        self.addendum_button.setVisible(signed)
        if signed:
            self.status.setText(f"Signed by {ev.signed_by} · {local_datetime(ev.signed_at)}")
            self.status.setProperty("state", "signed")
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

    def on_view_findings_changed(self, _findings: Findings) -> None:
        self.status_changed.emit("Editing… (saves automatically)")

    def on_saver_saved(self, result: records.DraftSaved) -> None:
        stamp = local_time(
            self.saver.last_saved_at
            if self.saver and self.saver.last_saved_at
            else result.updated_at
        )
        self.status_changed.emit(f"Saved {stamp}")
        if self.view is not None:
            self.view.editor.set_carried(result.carried_forward)

    def on_saver_failed(self, message: str) -> None:
        # No pop-up while typing: the changes are kept and the write is retried shortly.
        self.status_changed.emit("Not saved yet — retrying")
        self.status.setToolTip(f"Last save attempt failed: {message}")

    def on_saver_conflicted(self, err: ConflictError) -> None:
        self.status_changed.emit("Not saved: changed elsewhere")
        self.resolve_conflict(err)

    def resolve_conflict(self, err: ConflictError) -> None:
        if self.view is None or self.saver is None or self.form is None:
            return
        mine = self.saver.pending or self.view.editor.findings
        dialog = ConflictDialog(self.form, mine, err, self)
        self.window_.conflict_dialog = dialog
        dialog.exec()
        self.window_.conflict_dialog = None
        if dialog.choice == "mine":
            self.saver.keep_mine(err)
        elif dialog.choice == "theirs":
            theirs = self.saver.take_theirs(err)
            self.view.set_findings(validate(self.form, theirs))
            self.status_changed.emit(f"Showing {err.changed_by or 'their'} version")
        elif dialog.choice == "copy":
            self.save_as_copy(mine)

    def save_as_copy(self, mine: Findings) -> None:
        """Keep theirs where it is and store mine as a new draft evaluation of the same patient."""
        ev, p = self.evaluation, self.patient
        if ev is None or p is None or self.form is None or self.saver is None:
            return
        self.saver.detach()
        copy = records.start_evaluation(
            self.db,
            p.id,
            self.form,
            user=self.window_.user,
            kind=ev.kind,
            clinician_id=self.window_.clinician_id,
            copy_forward=False,
        )
        saved = records.save_draft(self.db, copy.id, mine, copy.version, user=self.window_.user)
        self.saver = None
        self.open(records.get_evaluation(self.db, copy.id), p)
        self.status_changed.emit(f"Saved as a copy {local_time(saved.updated_at)}")
        self.window_.on_evaluations_changed()

    def on_sign_button_clicked(self) -> None:
        ev = self.evaluation
        if ev is None or self.saver is None:
            return
        if not self.flush():
            QMessageBox.information(
                self, "Not signed", "The evaluation has changes that are not saved yet; try again."
            )
            return
        who = self.window_.user
        answer = self.window_.ask(
            "Sign evaluation",
            f"Sign this evaluation as <b>{who}</b>?<br><br>A signed evaluation cannot be changed; "
            "corrections are added as addenda.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            records.sign_evaluation(self.db, ev.id, self.saver.version, user=who)
        except ConflictError as err:
            self.resolve_conflict(err)
            return
        except StorageError as err:
            QMessageBox.warning(self, "Not signed", str(err))
            return
        self.saver.detach()
        self.evaluation = records.get_evaluation(self.db, ev.id)
        self._show_state()
        self.status_changed.emit(f"Signed by {who}")
        self.signed.emit(ev.id)

    def on_addendum_button_clicked(self) -> None:
        ev = self.evaluation
        if ev is None:
            return
        text, ok = QInputDialog.getMultiLineText(
            self, "Add addendum", f"Addendum to the signed evaluation, as {self.window_.user}:"
        )
        if not ok or not text.strip():
            return
        self.add_addendum(text)

    def add_addendum(self, text: str) -> None:
        ev = self.evaluation
        if ev is None:
            return
        records.add_addendum(self.db, ev.id, text.strip(), user=self.window_.user)
        self.evaluation = records.get_evaluation(self.db, ev.id)
        self._show_state()
        self.window_.on_evaluations_changed()
