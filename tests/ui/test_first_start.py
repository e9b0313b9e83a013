"""The first start (issue 14): the clinic, its encryption and the first admin, with the recovery
key shown once; bad input names its field and makes nothing; a cancelled start leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from clinic_app.storage import accounts, encryption, records
from clinic_app.storage.database import open_database
from clinic_app.ui import app as app_mod
from clinic_app.ui.first_start import ADMIN, CLOSING, ENCRYPTION, RECOVERY, FirstStartDialog
from tests.ui.conftest import PASSWORD
from tests.ui.helpers import press, when_modal

PASSPHRASE = "the clinic's long passphrase"


@pytest.fixture
def new_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cheap_hashing: None) -> str:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(data))
    return f"sqlite:///{data / 'clinic.db'}"


def _path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def type_in(dialog: FirstStartDialog, **values: str) -> None:
    for key, value in values.items():
        widget = dialog.fields[key]
        if isinstance(widget, QLineEdit):
            widget.setText(value)
        else:
            widget.setPlainText(value)  # type: ignore[union-attr]


def fill_clinic(dialog: FirstStartDialog) -> None:
    type_in(dialog, clinic_name="Praxis Süd", clinic_address="Hauptstraße 1\n80331 München")
    dialog.next_button.click()


def fill_admin(dialog: FirstStartDialog, password: str = PASSWORD) -> None:
    type_in(
        dialog,
        login="Dana",
        display_name="Dana Physio",
        credentials="PT, DPT",
        licence_number="PT-4711",
        password=password,
        password_again=password,
    )


def test_a_new_encrypted_clinic_with_its_first_admin_and_recovery_key(
    qtbot, new_url: str, tmp_path: Path
) -> None:
    dialog = FirstStartDialog(new_url)
    qtbot.addWidget(dialog)
    dialog.show()
    fill_clinic(dialog)
    assert dialog.pages.currentIndex() == ENCRYPTION
    dialog.encrypt_on.setChecked(True)  # the test environment says off; the clinic says on
    type_in(dialog, passphrase=PASSPHRASE, passphrase_again=PASSPHRASE)
    dialog.next_button.click()
    assert dialog.pages.currentIndex() == ADMIN
    assert dialog.therapist.isChecked()  # by default the admin also charts and signs
    fill_admin(dialog)
    assert not _path(new_url).exists()  # nothing is made before Create
    dialog.next_button.click()  # Create
    assert dialog.pages.currentIndex() == RECOVERY, dialog.problem.text()
    key = dialog.key_label.text()
    assert len(key.split("-")) == 6
    assert dialog.key_label.font().fixedPitch() or dialog.key_label.font().pointSize() >= 18
    assert not dialog.next_button.isEnabled()  # Finish waits for "I have printed or stored"
    assert not dialog.cancel_button.isHidden()
    dialog.grab().save("/tmp/clinic_app_first_start_key.png")

    pdf = tmp_path / "key.pdf"
    dialog.save_pdf(pdf)
    assert key in PdfReader(str(pdf)).pages[0].extract_text()
    assert pdf.stat().st_mode & 0o077 == 0
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)  # the printer is a PDF file here
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printed = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(printed))
    dialog.print_to(printer)
    assert key in PdfReader(str(printed)).pages[0].extract_text()
    dialog.copy_button.click()
    assert QApplication.clipboard().text() == key

    dialog.kept.setChecked(True)
    dialog.next_button.click()  # Finish
    assert dialog.result() == FirstStartDialog.DialogCode.Accepted
    admin = dialog.clinician
    assert admin is not None
    assert admin.login == "dana"
    assert set(admin.roles) == {"admin", "therapist"}
    db = dialog.db
    assert db is not None
    db.close()

    path = _path(new_url)
    raw = path.read_bytes()
    assert encryption.is_encrypted(path)
    assert b"SQLite format 3" not in raw
    assert b"Praxis" not in raw
    assert encryption.unlock(path, "dana", PASSWORD) == PASSPHRASE
    assert encryption.unlock_recovery(path, key) == PASSPHRASE
    with pytest.raises(encryption.UnlockError):
        encryption.unlock(path, "dana", "not the password")
    encryption.forget_key(path)
    again = open_database(new_url, passphrase=PASSPHRASE, backup=False)
    try:
        assert records.get_clinic(again).name == "Praxis Süd"  # type: ignore[union-attr]
        assert accounts.authenticate(again, "dana", PASSWORD).licence_number == "PT-4711"
        assert not accounts.needs_first_admin(again)
    finally:
        again.close()


def test_bad_input_names_the_field_and_makes_nothing(qtbot, new_url: str) -> None:
    dialog = FirstStartDialog(new_url)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.next_button.click()  # no clinic name
    assert dialog.errors["clinic_name"].text() == "Enter the name"
    assert dialog.pages.currentIndex() == 0
    type_in(dialog, clinic_address="\n".join(f"line {n}" for n in range(9)))
    type_in(dialog, clinic_name="Praxis")
    dialog.next_button.click()
    assert "too long" in dialog.errors["clinic_address"].text()
    type_in(dialog, clinic_address="Hauptstraße 1")
    dialog.next_button.click()
    dialog.encrypt_on.setChecked(True)
    type_in(dialog, passphrase="short", passphrase_again="short")
    dialog.next_button.click()
    assert "too short" in dialog.errors["passphrase"].text()
    type_in(dialog, passphrase=PASSPHRASE, passphrase_again=PASSPHRASE + "x")
    dialog.next_button.click()
    assert dialog.errors["passphrase_again"].text() == "The two entries differ"
    dialog.encrypt_off.setChecked(True)
    dialog.disk_encrypted.setChecked(False)
    dialog.next_button.click()  # off needs the disk to be encrypted already
    assert dialog.pages.currentIndex() == ENCRYPTION
    assert "disk" in dialog.disk_error.text()
    dialog.encrypt_on.setChecked(True)
    type_in(dialog, passphrase_again=PASSPHRASE)
    dialog.next_button.click()
    assert dialog.pages.currentIndex() == ADMIN
    fill_admin(dialog, password="short")
    type_in(dialog, login="no spaces allowed")
    dialog.next_button.click()
    assert dialog.errors["login"].text()
    assert dialog.errors["password"].text()
    fill_admin(dialog)
    type_in(dialog, password_again=PASSWORD + "!")
    dialog.next_button.click()
    assert dialog.errors["password_again"].text() == "The two entries differ"
    fill_admin(dialog, password=PASSPHRASE)
    dialog.next_button.click()
    assert dialog.errors["password"].text() == "must differ from the clinic passphrase"
    assert dialog.pages.currentIndex() == ADMIN
    assert not _path(new_url).exists()  # every refusal before anything was made
    dialog.reject()


def test_cancel_on_the_recovery_page_removes_what_was_made(qtbot, new_url: str) -> None:
    folder = _path(new_url).parent
    (folder / "notes.txt").write_text("mine")  # something of the user's in the folder
    dialog = FirstStartDialog(new_url)
    qtbot.addWidget(dialog)
    dialog.show()
    fill_clinic(dialog)
    dialog.encrypt_on.setChecked(True)
    type_in(dialog, passphrase=PASSPHRASE, passphrase_again=PASSPHRASE)
    dialog.next_button.click()
    fill_admin(dialog)
    dialog.next_button.click()
    assert dialog.pages.currentIndex() == RECOVERY
    assert _path(new_url).exists()
    dialog.cancel_button.click()
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_a_plain_clinic_when_the_disk_is_encrypted(qtbot, new_url: str) -> None:
    dialog = FirstStartDialog(new_url)
    qtbot.addWidget(dialog)
    dialog.show()
    fill_clinic(dialog)
    dialog.encrypt_off.setChecked(True)
    dialog.disk_encrypted.setChecked(True)
    dialog.next_button.click()
    fill_admin(dialog)
    type_in(dialog, login="dana")
    dialog.therapist.setChecked(False)
    dialog.next_button.click()
    assert dialog.pages.currentIndex() == RECOVERY, dialog.problem.text()
    dialog.kept.setChecked(True)
    dialog.next_button.click()
    assert dialog.clinician is not None
    assert dialog.clinician.roles == ("admin",)
    dialog.db.close()  # type: ignore[union-attr]
    assert _path(new_url).read_bytes()[:16] == b"SQLite format 3\x00"


def test_the_app_says_it_is_closing_when_the_first_start_is_cancelled(qtbot, new_url: str) -> None:
    seen: list[str] = []

    def cancel(wizard) -> None:
        assert isinstance(wizard, FirstStartDialog)
        when_modal(read_and_close)
        press(wizard, "Cancel")

    def read_and_close(box) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.accept()

    when_modal(cancel, tries=2000)
    assert app_mod.run(new_url) == 0
    assert seen == [CLOSING]
    assert not _path(new_url).exists()


def test_an_older_clinic_without_accounts_gets_its_first_admin(qtbot, db, db_url, cheap_hashing):
    """A database from before accounts (a clinic and a clinician without a login): the wizard
    keeps the clinic's details, asks no encryption (the file exists), adds the admin."""
    records.save_clinic(db, records.ClinicInfo(name="Alte Praxis", phone="089 1"), user="t")
    records.save_clinician(db, records.ClinicianInfo(name="Old Name"), user="t")
    assert accounts.needs_first_admin(db)
    dialog = FirstStartDialog(db_url, db=db)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.fields["clinic_name"].text() == "Alte Praxis"  # type: ignore[union-attr]
    dialog.next_button.click()
    assert dialog.pages.currentIndex() == ADMIN  # no encryption page for an existing file
    fill_admin(dialog)
    dialog.next_button.click()
    assert dialog.pages.currentIndex() == RECOVERY, dialog.problem.text()
    dialog.kept.setChecked(True)
    dialog.next_button.click()
    assert not accounts.needs_first_admin(db)
    assert records.get_clinic(db).phone == "089 1"  # type: ignore[union-attr]
