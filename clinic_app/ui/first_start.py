"""The first start: the clinic, its encryption and its first admin, in one short wizard (issue 14).

Four pages: the clinic's details (as the settings dialog has them), encryption (on by default: the
clinic passphrase twice; off only when this computer's disk is already encrypted; not asked on
PostgreSQL or for a database that already exists), the first admin (login, name, credentials,
licence number, password twice, also a therapist by default), and the recovery key, shown once,
to print, save as a PDF or copy.

Everything typed is checked before anything is made; then :meth:`FirstStartDialog.make_clinic` makes
the database (encrypted with the passphrase: ``open_database(..., passphrase=...)``), saves the
clinic, creates the admin (``accounts.create_first_admin``) and wraps the passphrase for the
admin's password and for the recovery key in the keyring beside the file (both done by
``storage.accounts``). If any step fails, or
the wizard is cancelled before the recovery key was confirmed as kept, the files this wizard made
are removed again: nothing half-made is left. The database work runs on an operation runner of
its own (there is no window yet).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QFont, QFontDatabase, QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from clinic_app.ui.dialogs import FieldError, clinic_detail_fields
from clinic_app.ui.path_label import PathLabel

if TYPE_CHECKING:
    from PySide6.QtGui import QPagedPaintDevice

    from clinic_app.storage.database import Database
    from clinic_app.storage.values import Clinician
    from clinic_app.ui.operations import OperationRunner

log = logging.getLogger(__name__)

CLINIC, ENCRYPTION, ADMIN, RECOVERY = range(4)
PAGE_TITLES = ("The clinic", "Encryption", "The first admin", "The recovery key")
CLOSING = "The clinic was not set up, so clinic_app is closing. Nothing was saved."


class FirstStartDialog(QDialog):
    """The first-start wizard. With ``db`` None it makes a new database at ``url``; with an
    open ``db`` that has no admin yet (an older clinic) it adds the admin (and the clinic's
    details) to it.

    After ``accepted``: ``db`` (open), ``clinician`` (the admin, signed in), ``recovery_key``.
    Signals: those of QDialog.
    """

    def __init__(
        self, url: str, *, db: Database | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        from clinic_app.storage.first_page import sqlite_path

        self.setObjectName("firstStartDialog")
        self.setWindowTitle("Welcome to clinic_app")
        self.setModal(True)
        self.setMinimumWidth(560)
        self.url = url
        self.db = db
        self.existing = db is not None
        self.path = db.path if db is not None else sqlite_path(url)
        self.clinician: Clinician | None = None
        self.recovery_key = ""
        self.runner: OperationRunner | None = None
        # The data folder of a new database and what it held before (None: the wizard made it):
        # what this wizard adds is removed again when it is cancelled or fails.
        self._folder: Path | None = None
        self._before: set[Path] | None = None
        self.fields: dict[str, QLineEdit | QPlainTextEdit | QComboBox] = {}
        self.errors: dict[str, FieldError] = {}
        layout = QVBoxLayout(self)
        self.title = QLabel(self)
        self.title.setObjectName("firstStartTitle")
        layout.addWidget(self.title)
        self.pages = QStackedWidget(self)
        layout.addWidget(self.pages, 1)
        self.pages.addWidget(self._clinic_page())
        self.pages.addWidget(self._encryption_page())
        self.pages.addWidget(self._admin_page())
        self.pages.addWidget(self._recovery_page())
        self.problem = FieldError(self)
        self.problem.setObjectName("firstStartProblem")
        layout.addWidget(self.problem)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton("Cancel", self)
        self.back_button = QPushButton("Back", self)
        self.next_button = QPushButton("Next", self)
        self.next_button.setDefault(True)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self.reject)
        self.back_button.clicked.connect(self.on_back_clicked)
        self.next_button.clicked.connect(self.on_next_clicked)
        if self.existing:
            self._prefill()
        self.show_page(CLINIC)

    # -- pages -----------------------------------------------------------------------------------

    def _field(self, form: QFormLayout, key: str, label: str, widget: Any) -> Any:
        widget.setObjectName(key)
        widget.setAccessibleName(label.rstrip(" *"))
        box = QWidget(self)
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        v.addWidget(widget)
        error = FieldError(box)
        error.setObjectName(f"{key}_error")
        v.addWidget(error)
        form.addRow(label, box)
        self.fields[key] = widget
        self.errors[key] = error
        return widget

    def _page(self, intro: str) -> tuple[QWidget, QVBoxLayout, QFormLayout]:
        page = QWidget(self)
        v = QVBoxLayout(page)
        text = QLabel(intro, page)
        text.setWordWrap(True)
        v.addWidget(text)
        form = QFormLayout()
        v.addLayout(form)
        return page, v, form

    def _clinic_page(self) -> QWidget:
        page, v, form = self._page(
            "The clinic's details print on every report. They can be changed later in Settings."
        )
        for key, label, widget in clinic_detail_fields(page):
            self._field(form, key, label, widget)
        if self.path is not None:  # where it is kept: elided in the middle, never cut off
            self.folder_label = PathLabel(str(self.path.parent), page)
            self.folder_label.setObjectName("dataFolder")
            form.addRow("Data folder", self.folder_label)
        v.addStretch(1)
        return page

    def _encryption_page(self) -> QWidget:
        page, v, form = self._page(
            "<b>Encrypt the clinic's files (recommended).</b> The database and every backup are "
            "encrypted with the clinic passphrase. Each clinician's password unlocks it at "
            "sign-in; the passphrase itself is needed to restore a backup on another computer "
            "or when no account can sign in: <b>keep it safe, written down apart from this "
            "computer.</b>"
        )
        self.encrypt_on = QRadioButton("Encrypt the clinic's files", page)
        self.encrypt_on.setObjectName("encrypt_on")
        self.encrypt_off = QRadioButton("Do not encrypt them", page)
        self.encrypt_off.setObjectName("encrypt_off")
        self.encrypt_on.setChecked(True)
        form.addRow(self.encrypt_on)
        self._field(form, "passphrase", "Clinic passphrase", QLineEdit(page))
        self._field(form, "passphrase_again", "Passphrase again", QLineEdit(page))
        for key in ("passphrase", "passphrase_again"):
            self.fields[key].setEchoMode(QLineEdit.EchoMode.Password)  # type: ignore[union-attr]
        form.addRow(self.encrypt_off)
        self.disk_encrypted = QCheckBox(
            "This computer's disk is already encrypted (e.g. BitLocker, FileVault, LUKS)", page
        )
        self.disk_encrypted.setObjectName("disk_encrypted")
        self.disk_error = FieldError(page)
        self.disk_error.setObjectName("disk_encrypted_error")
        form.addRow(self.disk_encrypted)
        form.addRow(self.disk_error)
        self.encrypt_on.toggled.connect(self.on_encrypt_on_toggled)
        self.on_encrypt_on_toggled(True)
        from clinic_app.storage.encryption import new_clinic_encrypted

        if not new_clinic_encrypted():  # CLINIC_APP_ENCRYPTION=off: the disk is encrypted
            self.encrypt_off.setChecked(True)
            self.disk_encrypted.setChecked(True)
        v.addStretch(1)
        return page

    def _admin_page(self) -> QWidget:
        page, v, form = self._page(
            "<b>The first admin</b> manages the accounts and the clinic's details. Write the "
            "name as it should print on signed reports."
        )
        self._field(form, "login", "Login name *", QLineEdit(page))
        self._field(form, "display_name", "Name *", QLineEdit(page))
        self._field(form, "credentials", "Credentials", QLineEdit(page))
        self._field(form, "licence_number", "Licence number", QLineEdit(page))
        self._field(form, "password", "Password *", QLineEdit(page))
        self._field(form, "password_again", "Password again *", QLineEdit(page))
        for key in ("password", "password_again"):
            self.fields[key].setEchoMode(QLineEdit.EchoMode.Password)  # type: ignore[union-attr]
        self.fields["credentials"].setPlaceholderText("e.g. PT, DPT")
        self.therapist = QCheckBox("I also chart and sign as a therapist", page)
        self.therapist.setObjectName("therapist")
        self.therapist.setChecked(True)
        form.addRow(self.therapist)
        v.addStretch(1)
        return page

    def _recovery_page(self) -> QWidget:
        page = QWidget(self)
        v = QVBoxLayout(page)
        intro = QLabel(
            "<b>This is the admin's recovery key.</b> It is shown only now. With it the admin "
            "can set a new password (and unlock an encrypted clinic) if theirs is forgotten. "
            "Print it or save it, and keep it locked away from this computer.",
            page,
        )
        intro.setWordWrap(True)
        v.addWidget(intro)
        self.key_label = QLabel(page)
        self.key_label.setObjectName("recoveryKey")
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(max(font.pointSize(), 10) + 8)
        font.setBold(True)
        self.key_label.setFont(font)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        v.addWidget(self.key_label)
        row = QHBoxLayout()
        self.print_button = QPushButton("Print…", page)
        self.pdf_button = QPushButton("Save as PDF…", page)
        self.copy_button = QPushButton("Copy", page)
        for b in (self.print_button, self.pdf_button, self.copy_button):
            row.addWidget(b)
        row.addStretch(1)
        v.addLayout(row)
        self.kept = QCheckBox("I have printed or stored the recovery key", page)
        self.kept.setObjectName("recovery_kept")
        v.addWidget(self.kept)
        v.addStretch(1)
        self.print_button.clicked.connect(self.on_print_clicked)
        self.pdf_button.clicked.connect(self.on_pdf_clicked)
        self.copy_button.clicked.connect(self.on_copy_clicked)
        self.kept.toggled.connect(self.on_kept_toggled)
        return page

    def _prefill(self) -> None:
        assert self.runner is None
        assert self.db is not None
        self.runner = self._start_runner(self.db)

        def read(db: Database) -> Any:
            from clinic_app.storage import records

            return records.get_clinic(db)

        info = self.runner.call("Reading the clinic's details", read)
        if info is not None:
            self.fields["clinic_name"].setText(info.name)  # type: ignore[union-attr]
            self.fields["clinic_address"].setPlainText(info.address)  # type: ignore[union-attr]
            self.fields["clinic_phone"].setText(info.phone)  # type: ignore[union-attr]
            paper = self.fields["paper_size"]
            assert isinstance(paper, QComboBox)
            paper.setCurrentIndex(max(0, paper.findData(info.paper_size)))

    # -- moving between pages --------------------------------------------------------------------

    @property
    def asks_encryption(self) -> bool:
        """Encryption is chosen for a new SQLite file only (PostgreSQL: the server's business)."""
        return not self.existing and self.path is not None

    def show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        steps = [CLINIC, *([ENCRYPTION] if self.asks_encryption else []), ADMIN, RECOVERY]
        self.title.setText(
            f"<h2>{PAGE_TITLES[index]}</h2>Step {steps.index(index) + 1} of {len(steps)}"
        )
        self.problem.show_problem(None)
        self.back_button.setVisible(index in (ENCRYPTION, ADMIN))
        self.next_button.setText({ADMIN: "Create", RECOVERY: "Finish"}.get(index, "Next"))
        self.next_button.setEnabled(index != RECOVERY or self.kept.isChecked())
        self.cancel_button.setEnabled(True)
        first = {CLINIC: "clinic_name", ENCRYPTION: "passphrase", ADMIN: "login"}.get(index)
        if first is not None:
            self.fields[first].setFocus()

    def on_back_clicked(self) -> None:
        index = self.pages.currentIndex()
        if index == ADMIN and self.asks_encryption:
            self.show_page(ENCRYPTION)
        elif index in (ENCRYPTION, ADMIN):
            self.show_page(CLINIC)

    def on_next_clicked(self) -> None:
        index = self.pages.currentIndex()
        if index == CLINIC and self.check_clinic():
            self.show_page(ENCRYPTION if self.asks_encryption else ADMIN)
        elif index == ENCRYPTION and self.check_encryption():
            self.show_page(ADMIN)
        elif index == ADMIN and self.check_admin():
            self.make_clinic()
        elif index == RECOVERY and self.kept.isChecked():
            self.finish()

    def on_encrypt_on_toggled(self, on: bool) -> None:
        for key in ("passphrase", "passphrase_again"):
            self.fields[key].setEnabled(on)
        self.disk_encrypted.setEnabled(not on)

    def on_kept_toggled(self, kept: bool) -> None:
        if self.pages.currentIndex() == RECOVERY:
            self.next_button.setEnabled(kept)

    # -- checks ----------------------------------------------------------------------------------

    def text(self, key: str) -> str:
        w = self.fields[key]
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText().strip()
        if isinstance(w, QComboBox):
            return str(w.currentData())
        return w.text() if key.startswith(("password", "passphrase")) else w.text().strip()

    def _problem(self, key: str, message: str | None) -> bool:
        self.errors[key].show_problem(message)
        return message is None

    def check_clinic(self) -> bool:
        from clinic_app.storage.records.clinic import ADDRESS_MAX_CHARS, ADDRESS_MAX_LINES

        ok = self._problem("clinic_name", None if self.text("clinic_name") else "Enter the name")
        address = self.text("clinic_address")
        lines = [line for line in address.splitlines() if line.strip()]
        why = None
        if len(lines) > ADDRESS_MAX_LINES:
            why = f"{len(lines)} lines is too long (at most {ADDRESS_MAX_LINES})"
        elif len(address) > ADDRESS_MAX_CHARS:
            why = f"{len(address)} characters is too long (at most {ADDRESS_MAX_CHARS})"
        return self._problem("clinic_address", why) and ok

    @property
    def encrypted(self) -> bool:
        return self.asks_encryption and self.encrypt_on.isChecked()

    def check_encryption(self) -> bool:
        from clinic_app.storage.encryption import check_passphrase
        from clinic_app.storage.errors import StorageError

        if not self.encrypt_on.isChecked():
            self._problem("passphrase", None)
            self._problem("passphrase_again", None)
            ok = self.disk_encrypted.isChecked()
            self.disk_error.show_problem(
                None if ok else "Tick this only if the disk is encrypted; otherwise encrypt here"
            )
            return ok
        self.disk_error.show_problem(None)
        why = None
        try:
            check_passphrase(self.text("passphrase"), new=True)
        except StorageError as err:
            why = str(err)
        ok = self._problem("passphrase", why)
        differ = ok and self.text("passphrase") != self.text("passphrase_again")
        return (
            self._problem("passphrase_again", "The two entries differ" if differ else None) and ok
        )

    def check_admin(self) -> bool:
        from clinic_app.storage import accounts
        from clinic_app.storage.errors import StorageError

        ok = True
        try:
            login = accounts.normalise_login(self.text("login"))
            self._problem("login", None)
        except StorageError as err:
            login = ""
            ok = self._problem("login", str(err))
        name = self.text("display_name")
        ok = self._problem("display_name", None if name else "Enter your name") and ok
        try:
            accounts.check_new_password(self.text("password"), login=login)
            self._problem("password", None)
        except StorageError as err:
            ok = self._problem("password", str(err))
        same = self.text("password") == self.text("password_again")
        ok = self._problem("password_again", None if same else "The two entries differ") and ok
        if self.encrypted and self.text("password") == self.text("passphrase"):
            ok = self._problem("password", "must differ from the clinic passphrase")
        return ok

    # -- making it -------------------------------------------------------------------------------

    def _start_runner(self, db: Database) -> OperationRunner:
        from clinic_app.ui.operations import OperationRunner

        return OperationRunner(db, self)

    def make_clinic(self) -> None:
        """Make the database (if new), the clinic and the admin; show the recovery key. Any
        failure removes what was made and says why on the line above the buttons."""
        from clinic_app.storage.errors import StorageError
        from clinic_app.ui.operations import failure_reason

        self.next_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            if self.db is None:
                self._open_new()
            assert self.db is not None
            if self.runner is None:
                self.runner = self._start_runner(self.db)
            self.clinician, self.recovery_key = self.runner.call(
                "Creating the first admin", self._creation()
            )
        except Exception as err:
            if not isinstance(err, StorageError):
                log.error("the first start failed", exc_info=(type(err), err, None))
            self.undo()
            self.problem.show_problem(f"Nothing was created: {failure_reason(err)}")
            self.next_button.setEnabled(True)
            self.cancel_button.setEnabled(True)
            return
        finally:
            QApplication.restoreOverrideCursor()
        self.key_label.setText(self.recovery_key)
        self.show_page(RECOVERY)

    def _open_new(self) -> None:
        from clinic_app.storage import encryption
        from clinic_app.storage.database import open_database
        from clinic_app.storage.errors import StorageError

        folder = self.path.parent if self.path is not None else None
        if folder is not None:
            # What is in the folder now stays; whatever appears from here on is this wizard's
            # (the file, its keyring, the state mirror, the installation key) until Finish.
            self._folder = folder
            self._before = set(folder.iterdir()) if folder.exists() else None
        passphrase = self.text("passphrase") if self.encrypted else None
        self.db = open_database(
            self.url, passphrase=passphrase, backup=False, new_encrypted=self.encrypted
        )
        assert self.db is not None
        if self.encrypted and self.path is not None and not encryption.is_encrypted(self.path):
            raise StorageError(f"{self.path}: the new database was not encrypted")

    def _creation(self) -> Any:
        from clinic_app.storage.records import ClinicInfo

        existing = self.existing
        info = ClinicInfo(
            name=self.text("clinic_name"),
            address=self.text("clinic_address"),
            phone=self.text("clinic_phone"),
            paper_size=self.text("paper_size"),  # type: ignore[arg-type]
        )
        login, password = self.text("login").lower(), self.text("password")
        display_name, credentials = self.text("display_name"), self.text("credentials")
        licence, therapist = self.text("licence_number"), self.therapist.isChecked()

        def op(db: Database) -> tuple[Clinician, str]:
            from clinic_app.storage import accounts, records

            old = records.get_clinic(db) if existing else None
            records.save_clinic(
                db,
                ClinicInfo(
                    info.name,
                    info.address,
                    info.phone,
                    old.logo if old else None,
                    info.paper_size,
                ),
                user=login,
            )
            admin, key = accounts.create_first_admin(
                db,
                login,
                password,
                display_name=display_name,
                credentials=credentials,
                licence_number=licence,
                therapist=therapist,
            )
            # accounts wraps the passphrase of an encrypted clinic for the admin's password and
            # for the recovery key in the keyring (its _password_set / _recovery_set)
            return admin, key

        return op

    def undo(self) -> None:
        """Remove what this wizard made (a new database, its keyring, its state folder)."""
        if self.runner is not None and not self.existing:
            self.runner.stop()
            self.runner = None
        if not self.existing and self.db is not None:
            self.db.close()
            self.db = None
        folder, before = self._folder, self._before
        self._folder = None
        if folder is None or not folder.exists():
            return
        made = [folder] if before is None else [p for p in folder.iterdir() if p not in before]
        for path in made:
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()

    def finish(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        self._folder = None  # kept: the clinic is set up
        self.accept()

    def reject(self) -> None:
        """Cancel: a database made here is removed again (an existing one keeps what it had;
        an admin made in it before the key was confirmed stays, with the key shown once)."""
        self.undo()
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        super().reject()

    # -- the recovery key ------------------------------------------------------------------------

    def on_copy_clicked(self) -> None:
        QApplication.clipboard().setText(self.recovery_key)

    def on_pdf_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the recovery key", "clinic_app recovery key.pdf", "PDF (*.pdf)"
        )
        if name:
            self.save_pdf(Path(name))

    def save_pdf(self, path: Path) -> None:
        """The recovery sheet as a PDF at ``path`` (readable by its owner only)."""
        from clinic_app import private

        writer = QPdfWriter(str(path))
        writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        writer.setPageMargins(QMarginsF(20, 20, 20, 20), QPageLayout.Unit.Millimeter)
        writer.setTitle("clinic_app recovery key")
        paint_recovery_sheet(writer, self.sheet_lines())
        with contextlib.suppress(OSError):
            private.tighten(path)
        self.problem.show_problem(None)

    def on_print_clicked(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.print_to(printer)

    def print_to(self, printer: QPagedPaintDevice) -> None:
        paint_recovery_sheet(printer, self.sheet_lines())

    def sheet_lines(self) -> list[str]:
        clinic = self.text("clinic_name")
        login = self.text("login").lower()
        return [
            "clinic_app — recovery key",
            f"Clinic: {clinic}",
            f"Admin login: {login}",
            "",
            self.recovery_key,
            "",
            "With this key the admin can set a new password (clinic-app user recover).",
            "Keep it locked away, apart from the computer. It is shown only once.",
        ]


def paint_recovery_sheet(device: QPagedPaintDevice, lines: list[str]) -> None:
    """Draw the recovery sheet (title, clinic, login, the key large in monospace) on a printer
    or a PDF writer."""
    painter = QPainter(device)
    try:
        rect = QRectF(painter.viewport())
        y = 0.0
        for n, line in enumerate(lines):
            key_line = n == 4
            font = (
                QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
                if key_line
                else QFont()
            )
            font.setPointSize(18 if key_line else (16 if n == 0 else 11))
            font.setBold(key_line or n == 0)
            painter.setFont(font)
            height = painter.fontMetrics().height() * 1.6
            painter.drawText(QRectF(rect.left(), rect.top() + y, rect.width(), height), line)
            y += height
    finally:
        painter.end()
