"""Issue 19: a stored clinic logo damaged after it was saved is named before a document is made.

The window does not make a PDF silently without the logo: it shows why the stored logo cannot be
drawn and how to mend it, and makes the document only when asked to make it without the logo.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget
from sqlalchemy import text

from clinic_app.storage import records
from clinic_app.ui.main_window import MainWindow
from tests.storage.test_logo import GOOD
from tests.ui.helpers import press, settle, when_modal


def _open_draft_with_stored_logo(qtbot, window: MainWindow, logo: bytes) -> None:
    records.save_clinic(window.db, records.ClinicInfo(name="Praxis Süd", logo=GOOD), user="t")
    with window.db.writing() as s:  # damaged after saving: another tool, raw SQL
        s.execute(text("UPDATE clinic SET logo = :logo WHERE id = 1"), {"logo": logo})
    patient = records.create_patient(window.db, records.PatientFields("Lo", "Go", "L-1"), user="t")
    window.patients.model.reload()
    window.patients.select_patient(patient.id)
    window.detail.new_eval_button.click()
    settle(qtbot, window)
    assert window.page.evaluation is not None


def _images_on_first_page(path: Path) -> int:
    from pypdf import PdfReader

    page = PdfReader(str(path)).pages[0]
    xobjects = page["/Resources"].get("/XObject") or {}
    return len(xobjects)


@pytest.mark.parametrize(
    ("logo", "problem"),
    [(GOOD[: len(GOOD) // 2], "cut short"), (b"<svg></svg>", "not a PNG or JPEG")],
    ids=["truncated PNG", "SVG"],
)
def test_a_damaged_stored_logo_is_named_and_no_pdf_is_made_unless_asked(
    qtbot,
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    logo: bytes,
    problem: str,
) -> None:
    _open_draft_with_stored_logo(qtbot, window, logo)
    out = tmp_path / "report.pdf"
    asked_where: list[str] = []

    def save_name(*_a: object) -> tuple[str, str]:
        asked_where.append(str(out))
        return str(out), "PDF (*.pdf)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    seen: list[str] = []

    def read_then(button: str) -> object:
        def handle(box: QWidget) -> None:
            assert isinstance(box, QMessageBox)
            seen.append(box.text())
            press(box, button)

        return handle

    when_modal(read_then("Cancel"))
    assert window.documents.export("report") is None
    assert len(seen) == 1
    assert problem in seen[0]
    assert "clinic logo stored in the database" in seen[0]
    assert "clinic-app logo FILE.png" in seen[0]
    assert not asked_where  # cancelled before a file was asked for
    assert not out.exists()

    when_modal(read_then("Make it without the logo"))
    assert window.documents.export("report") == out
    assert len(seen) == 2
    assert out.read_bytes().startswith(b"%PDF")
    assert _images_on_first_page(out) == 0  # made without the logo, as asked
    stored = records.get_clinic(window.db)
    assert stored is not None
    assert stored.logo == logo  # nothing stored was changed


def test_a_good_stored_logo_is_drawn_without_a_question(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _open_draft_with_stored_logo(qtbot, window, GOOD)
    out = tmp_path / "report.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (str(out), "PDF (*.pdf)"))
    assert window.documents.export("report") == out
    assert _images_on_first_page(out) >= 1
