"""The access log: recording an access from a screen, and the admin screen that lists them.

:func:`record_access` is what a screen calls when a clinician views a patient, opens an
evaluation, exports, prints or previews a document: one background write through the window's
operation runner (nothing is shown on success; a failure goes the runner's normal way).

:class:`AccessLogDialog` lists the trail (access and change events, newest first) with filters
for the patient, the clinician, the days and the action, and exports what it shows as CSV
(``records.write_access_csv``: 0600, safe against spreadsheet formulas). Reads go through
``runner.call``; the export through ``runner.run``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinic_app.ui.operations import show_failure
from clinic_app.ui.text import local_datetime

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records.access import AccessEntry
    from clinic_app.storage.values import Patient
    from clinic_app.ui.context import AppContext

log = logging.getLogger(__name__)

ACTION_LABELS = {
    "view": "Viewed",
    "open": "Opened",
    "export": "Exported",
    "print": "Printed",
    "preview": "Previewed",
    "sign_in": "Signed in",
    "sign_in_failed": "Sign-in refused",
    "sign_out": "Signed out",
    "lock": "Locked",
    "unlock": "Unlocked",
    "create": "Created",
    "update": "Changed",
    "save_draft": "Saved draft",
    "sign": "Signed",
    "addendum": "Added addendum",
    "archive": "Archived",
    "unarchive": "Restored",
    "prepare": "Signed for co-signature",
    "cosign": "Co-signed",
    "return_for_changes": "Returned for changes",
    "enable": "Account enabled",
    "disable": "Account disabled",
    "password_reset": "Password reset",
    "password_change": "Password changed",
    "recover": "Recovered with the key",
}
ENTITY_LABELS = {"patient": "Patient", "evaluation": "Evaluation", "clinician": "Clinician"}
ALL_EVENTS = "all"
ACCESS_ONLY = "access"


ACCESS_WHAT = "Recording the access in the access log"
ACCESS_RETRY_MS = 5000  # while the clinic server is away or the file is held by another


def record_access(
    context: AppContext,
    action: str,
    entity: str,
    entity_id: int,
    parent: QWidget | None = None,
    *,
    when_idle: bool = False,
) -> int:
    """Write that the signed-in clinician (their login) did ``action`` to ``entity``
    ``entity_id``, in the background; returns the runner's job number (0 before the database
    is open, and with ``when_idle``: then queued once what is being shown has been laid out
    and painted, see ``AppContext.when_idle``)."""
    if not context.ready:
        return 0
    if when_idle:
        context.when_idle(lambda: record_access(context, action, entity, entity_id, parent))
        return 0
    context.run_idle()  # the trail keeps the order of the accesses
    # The login (unique; two clinicians may share a name), as the sign-in and lock events do.
    actor = context.clinician.login or context.user

    def op(db: Database) -> None:
        from clinic_app.storage.records.access import log_access

        log_access(db, actor=actor, action=action, entity=entity, entity_id=entity_id)

    def failed(err: BaseException) -> None:
        from clinic_app.storage.errors import DatabaseBusyError, ServerUnreachableError

        if isinstance(err, ServerUnreachableError | DatabaseBusyError):
            # The clinic server went away, or another workstation holds the file, between the
            # read and this write (autosave's status says so): no dialog in the middle of the
            # typing; the access is still logged, by a retry every few seconds until the
            # database answers (or the app is closed).
            log.warning("%s event kept for a retry: %s", action, type(err).__name__)
            QTimer.singleShot(ACCESS_RETRY_MS, context.runner, again)
            return
        alive = parent is not None and shiboken6.isValid(parent)
        show_failure(parent if alive else None, ACCESS_WHAT, err)

    def again() -> None:
        context.runner.run(ACCESS_WHAT, op, on_failure=failed, parent=parent)

    return context.runner.run(ACCESS_WHAT, op, on_failure=failed, parent=parent)


class AccessLogModel(QAbstractTableModel):
    """The events shown, one row each: when, who, what, which record, which patient."""

    HEADERS = ("When", "Clinician", "Action", "Record", "Patient")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[AccessEntry] = []

    def set_entries(self, entries: Sequence[AccessEntry]) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self.entries):
            return str(section + 1)
        return None

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return entry.id
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        column = index.column()
        if column == 0:
            return local_datetime(entry.at)
        if column == 1:
            return entry.actor
        if column == 2:
            return ACTION_LABELS.get(entry.action, entry.action.replace("_", " "))
        if column == 3:
            return f"{ENTITY_LABELS.get(entry.entity, entry.entity)} {entry.entity_id}"
        if column == 4:
            if entry.patient_id is None:
                return ""
            return f"{entry.patient_name or ''} ({entry.patient_id})".strip()
        return None


class AccessLogDialog(QDialog):
    """The admin screen of the access log (non-modal; :meth:`refresh` reads it again)."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("Access log")
        self.setObjectName("accessLogDialog")
        self.resize(980, 600)
        self.patient_id: int | None = None
        self.limit = 5000
        layout = QVBoxLayout(self)
        filters = QGridLayout()
        self.patient_edit = QLineEdit(self)
        self.patient_edit.setObjectName("patientFilter")
        self.patient_edit.setPlaceholderText("patient number, name or MRN (empty: everyone)")
        self.clinician_box = QComboBox(self)
        self.clinician_box.setObjectName("clinicianFilter")
        self.clinician_box.setEditable(True)
        line = self.clinician_box.lineEdit()
        if line is not None:
            line.setPlaceholderText("any clinician")
        self.since_check = QCheckBox("From", self)
        self.since_edit = self._date_edit("sinceFilter")
        self.until_check = QCheckBox("To", self)
        self.until_edit = self._date_edit("untilFilter")
        self.action_box = QComboBox(self)
        self.action_box.setObjectName("actionFilter")
        self.action_box.addItem("All events", ALL_EVENTS)
        self.action_box.addItem("Access events only", ACCESS_ONLY)
        for action, label in ACTION_LABELS.items():
            self.action_box.addItem(label, action)
        self.show_button = QPushButton("Show", self)
        self.show_button.setDefault(True)
        self.show_button.clicked.connect(self.refresh)
        self.patient_edit.returnPressed.connect(self.refresh)
        filters.addWidget(QLabel("Patient", self), 0, 0)
        filters.addWidget(self.patient_edit, 0, 1)
        filters.addWidget(QLabel("Clinician", self), 0, 2)
        filters.addWidget(self.clinician_box, 0, 3)
        filters.addWidget(QLabel("Action", self), 0, 4)
        filters.addWidget(self.action_box, 0, 5)
        days = QHBoxLayout()
        for w in (self.since_check, self.since_edit, self.until_check, self.until_edit):
            days.addWidget(w)
        days.addStretch(1)
        filters.addLayout(days, 1, 1, 1, 3)
        filters.addWidget(self.show_button, 1, 5)
        layout.addLayout(filters)
        self.model = AccessLogModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("accessLogTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.status = QLabel(self)
        self.status.setObjectName("accessLogStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.export_button = buttons.addButton(
            "Export CSV…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.export_button.clicked.connect(self.on_export_button_clicked)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._fill_clinicians()
        self.refresh()

    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit(QDate.currentDate(), self)
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    def _fill_clinicians(self) -> None:
        def op(db: Database) -> list[str]:
            from clinic_app.storage import accounts

            return [a.login for a in accounts.list_accounts(db)]

        try:
            logins = self.context.runner.call("Reading the accounts", op)
        except Exception:  # the filter still takes a typed name
            log.warning("accounts not read for the access log's clinician filter")
            logins = []
        self.clinician_box.addItem("")
        self.clinician_box.addItems(logins)

    # -- the filters ------------------------------------------------------------------------

    def chosen_actions(self) -> tuple[str, ...] | None:
        from clinic_app.storage.records.access import ACCESS_ACTIONS

        chosen = self.action_box.currentData()
        if chosen == ALL_EVENTS:
            return None
        if chosen == ACCESS_ONLY:
            return ACCESS_ACTIONS
        return (str(chosen),)

    def _day(self, check: QCheckBox, edit: QDateEdit) -> date | None:
        if not check.isChecked():
            return None
        day = edit.date()
        return date(day.year(), day.month(), day.day())

    def _patient(self) -> tuple[bool, int | None]:
        """(ok, patient id or None for everyone); asks which one when several match."""
        text = self.patient_edit.text().strip()
        if not text:
            return True, None
        if text.isascii() and text.isdigit():
            return True, int(text)

        def op(db: Database) -> list[Patient]:
            from clinic_app.storage import records

            return records.search_patients(db, text, limit=50, include_archived=True)

        try:
            found = self.context.runner.call("Finding the patient", op)
        except Exception as err:
            show_failure(self, "Finding the patient", err)
            return False, None
        if not found:
            self.status.setText(f"No patient matches {text!r}.")
            return False, None
        if len(found) == 1:
            return True, found[0].id
        labels = [f"{p.family_name}, {p.given_name} · MRN {p.mrn} · number {p.id}" for p in found]
        label, ok = QInputDialog.getItem(
            self, "Which patient?", f"{len(found)} patients match {text!r}:", labels, 0, False
        )
        if not ok:
            return False, None
        return True, found[labels.index(label)].id

    def refresh(self) -> None:
        """Read the trail again with the filters as they are."""
        ok, patient_id = self._patient()
        if not ok:
            return
        since = self._day(self.since_check, self.since_edit)
        until = self._day(self.until_check, self.until_edit)
        if since is not None and until is not None and until < since:
            self.status.setText("The To day is before the From day: nothing to show.")
            return
        actor = self.clinician_box.currentText().strip() or None
        actions, limit = self.chosen_actions(), self.limit

        def op(db: Database) -> list[AccessEntry]:
            from clinic_app.storage.records.access import access_log

            return access_log(
                db,
                patient_id=patient_id,
                actor=actor,
                since=since,
                until=until,
                actions=actions,
                limit=limit,
            )

        try:
            entries = self.context.runner.call("Reading the access log", op)
        except Exception as err:
            show_failure(self, "Reading the access log", err)
            return
        self.patient_id = patient_id
        self.model.set_entries(entries)
        count = len(entries)
        more = f" (the newest {limit:,}; narrow the filters to see older ones)"
        self.status.setText(
            f"{count:,} event{'s' if count != 1 else ''}, newest first"
            + (more if count >= limit else "")
        )

    # -- export -----------------------------------------------------------------------------

    def on_export_button_clicked(self) -> None:
        entries = list(self.model.entries)
        default = Path.home() / f"access_log_{date.today():%Y-%m-%d}.csv"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the access log", str(default), "CSV (*.csv)"
        )
        if not path:
            return
        target = Path(path)

        def op(_db: Database) -> int:
            from clinic_app.storage.records.access import write_access_csv

            return write_access_csv(entries, target)

        def done(written: int) -> None:
            self.export_button.setEnabled(True)
            self.status.setText(f"{written:,} events written to {target}")

        self.export_button.setEnabled(False)
        self.context.runner.run(
            "Exporting the access log",
            op,
            on_success=done,
            on_failure=lambda err: self._export_failed(target, err),
            parent=self,
        )

    def _export_failed(self, target: Path, err: BaseException) -> None:
        self.export_button.setEnabled(True)
        if not isinstance(err, OSError):
            show_failure(self, "Exporting the access log", err)
            return
        text = f"The access log was not exported: {target}: {err.strerror or err}"
        log.warning("access log export refused: %s", type(err).__name__)
        self.status.setText(text)
        QMessageBox.warning(self, "Export the access log", text)
