"""The in-app print preview: pages, zoom, paper and printer, and Print (issue 17).

Real QtPdf widgets offscreen, real PDFs made with reportlab; the printing through a real CUPS-PDF
queue reuses the session fixture of ``test_printing`` (skipped without CUPS, as there).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPageSize
from pytestqt.qtbot import QtBot

from clinic_app.ui.pdf_preview import NO_PRINTER_TEXT, PdfPreviewDialog
from tests.ui.test_printing import PdfQueue, _printed, cups_pdf_queue  # noqa: F401


def make_pdf(path: Path, pages: int, size: tuple[float, float] = (595.27, 841.89)) -> Path:
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=size)
    for n in range(pages):
        canvas.setFont("Helvetica", 28)
        canvas.drawString(72, size[1] - 120, f"Page {n + 1} of {pages}")
        canvas.rect(60, 60, size[0] - 120, size[1] - 220)
        canvas.showPage()
    canvas.save()
    return path


@pytest.mark.parametrize("pages", [1, 3, 12])
def test_the_preview_shows_every_page_of_the_pdf(qtbot: QtBot, tmp_path: Path, pages: int) -> None:
    pdf = make_pdf(tmp_path / "doc.pdf", pages)
    dialog = PdfPreviewDialog(pdf, "Preview", printers=["Front desk"])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.page_count() == pages
    assert dialog.view.document().pageCount() == pages
    word = "page" if pages == 1 else "pages"
    assert dialog.count_label.text() == f"of {pages} {word}"
    assert dialog.page_spin.maximum() == pages
    assert dialog.document_paper() == "A4"
    # PgDown pages on (a screenful at a time, as far as the last page), the spin box follows;
    # how many presses that takes depends on the dialog's height, which follows the screen.
    dialog.view.setFocus()
    for _ in range(3 * pages + 2):
        qtbot.keyClick(dialog.view, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: dialog.current_page() == pages - 1)
    assert dialog.page_spin.value() == pages
    dialog.page_spin.setValue(1)
    assert dialog.current_page() == 0
    if pages == 3:
        folder = Path("/tmp/h8")
        folder.mkdir(exist_ok=True)
        qtbot.wait(800)  # QPdfView renders its pages on a thread
        dialog.grab().save(str(folder / "preview.png"))


def test_zoom_steps_and_fits(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtPdfWidgets import QPdfView

    dialog = PdfPreviewDialog(make_pdf(tmp_path / "doc.pdf", 2), printers=["P"])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    assert dialog.view.zoomMode() == QPdfView.ZoomMode.FitToWidth
    qtbot.keyClick(dialog.view, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert dialog.zoom.currentText() == "125%"
    assert dialog.view.zoomFactor() == pytest.approx(1.25)
    dialog.zoom_out.click()
    dialog.zoom_out.click()
    assert dialog.zoom.currentText() == "75%"
    for _ in range(10):
        dialog.zoom_out.click()
    assert dialog.zoom.currentText() == "50%"  # the smallest step, not past it
    dialog.zoom.setCurrentIndex(1)
    assert dialog.view.zoomMode() == QPdfView.ZoomMode.FitInView


def test_paper_choice_says_it_scales(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = PdfPreviewDialog(make_pdf(tmp_path / "doc.pdf", 1), printers=["P"])
    qtbot.addWidget(dialog)
    assert dialog.paper.itemText(0) == "As the document (A4)"
    assert dialog.paper_choice() is None
    assert dialog.reason.isHidden()
    dialog.paper.setCurrentIndex(dialog.paper.findText("Letter"))
    assert dialog.paper_choice() == QPageSize.PageSizeId.Letter
    assert dialog.reason.text() == "The A4 pages are scaled to fit Letter paper."
    dialog.paper.setCurrentIndex(dialog.paper.findText("A4"))
    assert dialog.reason.text() == ""


def test_accessible_names_on_every_control(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QWidget

    dialog = PdfPreviewDialog(make_pdf(tmp_path / "doc.pdf", 1), printers=["P"])
    qtbot.addWidget(dialog)
    focusable = [
        w
        for w in dialog.findChildren(QWidget)
        if w.focusPolicy() != Qt.FocusPolicy.NoFocus
        and w.isVisibleTo(dialog)
        and w.parent() is dialog
    ]
    assert focusable
    assert all(w.accessibleName() for w in focusable), [
        type(w).__name__ for w in focusable if not w.accessibleName()
    ]


def test_not_a_pdf_shows_why_and_does_not_print(qtbot: QtBot, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not really a PDF")
    dialog = PdfPreviewDialog(bad, printers=["P"])
    qtbot.addWidget(dialog)
    assert dialog.page_count() == 0
    assert dialog.count_label.text().startswith("Not a readable PDF")
    assert not dialog.print_button.isEnabled()
    assert dialog.reason.text() == "Nothing to print: the document could not be read."


NO_PRINTER_SCRIPT = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from clinic_app.ui.pdf_preview import PdfPreviewDialog
d = PdfPreviewDialog(sys.argv[1])
print(d.printer.currentText())
print(d.printer.isEnabled())
print(d.print_button.isEnabled())
print(d.reason.text())
print(d.print_button.toolTip())
d.on_print_clicked()  # not reachable from the disabled button: still does nothing
print("done")
"""


def test_without_a_printer_print_is_disabled_with_the_reason(tmp_path: Path) -> None:
    """A separate process pointed at a print server that does not exist (no printer at all)."""
    pdf = make_pdf(tmp_path / "doc.pdf", 2)
    env = dict(os.environ, CUPS_SERVER=str(tmp_path / "no-cups.sock"), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", NO_PRINTER_SCRIPT, str(pdf)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == NO_PRINTER_TEXT
    assert lines[1:3] == ["False", "False"]
    assert lines[3].startswith("Print is off: no printer is installed on this computer.")
    assert lines[4] == lines[3]
    assert lines[5] == "done"


def test_print_sends_the_pdf_on_the_chosen_paper(
    qtbot: QtBot,
    cups_pdf_queue: PdfQueue,  # noqa: F811
    tmp_path: Path,
) -> None:
    from pypdf import PdfReader

    pdf = make_pdf(tmp_path / "doc.pdf", 2)
    dialog = PdfPreviewDialog(pdf, job_name="Preview_print_test")
    qtbot.addWidget(dialog)
    index = dialog.printer.findData(cups_pdf_queue.name)
    assert index >= 0
    dialog.printer.setCurrentIndex(index)
    dialog.paper.setCurrentIndex(dialog.paper.findText("Letter"))
    assert dialog.print_button.isEnabled()
    with qtbot.waitSignal(dialog.printed, timeout=120_000) as sent:
        dialog.print_button.click()
    assert sent.args == [2]
    printed = PdfReader(_printed(cups_pdf_queue, "Preview_print_test"))
    assert len(printed.pages) == 2
    box = printed.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


@pytest.mark.parametrize(
    ("action", "kind"), [("preview", "report"), ("preview_handout", "handout")]
)
def test_preview_in_the_window_shows_the_document_in_the_app(
    qtbot: QtBot, window: Any, action: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """*Preview report* (and *Preview handout*) open the in-app preview on the stored record,
    never the system viewer (which silently did nothing without one)."""
    from pypdf import PdfReader
    from PySide6.QtGui import QDesktopServices

    from clinic_app.storage import records
    from tests.ui.helpers import settle

    opened: list[object] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    patient = records.create_patient(
        window.db, records.PatientFields("Pia", "Vate", "PV-1"), user="t"
    )
    window.patients.model.reload()
    window.patients.select_patient(patient.id)
    window.detail.new_eval_button.click()
    settle(qtbot, window)
    assert window.actions_[action].isEnabled()
    window.actions_[action].trigger()
    dialog = window.documents.preview_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert not dialog.isModal()  # the record stays usable beside it
    pages = len(PdfReader(dialog.path).pages)
    assert pages >= 1
    assert dialog.page_count() == pages
    assert dialog.path.name.endswith(f"{kind}.pdf")
    assert opened == []
    if kind == "report":
        qtbot.wait(800)  # QPdfView renders its pages on a thread
        folder = Path("/tmp/h8")
        folder.mkdir(exist_ok=True)
        dialog.grab().save(str(folder / "preview_report.png"))
    dialog.close_button.click()
    assert not dialog.isVisible()
