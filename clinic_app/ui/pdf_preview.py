"""The print preview inside the app: the very PDF that would be printed, with QtPdf's view.

A preview used to hand the file to the system's PDF viewer, and on a computer without one it
silently did nothing. Here the report or handout is shown as it is (the PDF from
:mod:`clinic_app.reports` is the one document of record), with its page count, zoom, the paper
to print on and the printer, and *Print* sends that same file through
:func:`clinic_app.ui.printing.print_pdf`. With no printer installed the printer choice says so and
*Print* is disabled with the reason beside it, instead of a job that goes nowhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QPointF, QSizeF, Qt, Signal
from PySide6.QtGui import QKeySequence, QPageSize, QShortcut
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from clinic_app.ui import printing

# Zoom steps (None: fit the width, 0: the whole page).
ZOOMS: tuple[tuple[str, float | None], ...] = (
    ("Fit width", None),
    ("Whole page", 0.0),
    ("50%", 0.5),
    ("75%", 0.75),
    ("100%", 1.0),
    ("125%", 1.25),
    ("150%", 1.5),
    ("200%", 2.0),
)
# Paper a clinic prints on; "as the document" keeps the PDF's own page size.
PAPERS: tuple[tuple[str, QPageSize.PageSizeId], ...] = (
    ("A4", QPageSize.PageSizeId.A4),
    ("Letter", QPageSize.PageSizeId.Letter),
    ("Legal", QPageSize.PageSizeId.Legal),
    ("A5", QPageSize.PageSizeId.A5),
)
NO_PRINTER_TEXT = "No printer installed"


def page_size_name(points: QSizeF) -> str:
    """The name of a page size given in points ("A4", "Letter"), or its size in mm."""
    size = QPageSize(points, QPageSize.Unit.Point, "", QPageSize.SizeMatchPolicy.FuzzyMatch)
    if size.id() != QPageSize.PageSizeId.Custom:
        return size.name()
    mm = size.size(QPageSize.Unit.Millimeter)
    return f"{mm.width():.0f} × {mm.height():.0f} mm"


class PdfPreviewDialog(QDialog):
    """A PDF shown page by page, with page count, zoom, paper, printer, Print and Close.

    Signals: ``printed(int)`` — the pages sent to the printer (after a successful Print).
    Keys: PgUp/PgDown pages, Ctrl++ / Ctrl+- zoom, Ctrl+P print, Esc close.
    """

    printed = Signal(int)

    def __init__(
        self,
        pdf: str | Path,
        title: str = "Preview",
        parent: QWidget | None = None,
        printers: Sequence[str] | None = None,
        job_name: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("pdfPreview")
        self.setWindowTitle(title)
        self.path = Path(pdf)
        self.job_name = job_name or self.path.stem
        self.document = QPdfDocument(self)
        error = self.document.load(str(self.path))
        self.load_error = None if error == QPdfDocument.Error.None_ else error.name
        if self.load_error is None and self.document.pageCount() < 1:
            self.load_error = "no pages"

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(self._build_top_row())
        self.view = QPdfView(self)
        self.view.setObjectName("pdfView")
        self.view.setAccessibleName("Document pages")
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setDocument(self.document)
        self.view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout.addWidget(self.view, 1)
        layout.addLayout(self._build_print_row())

        self._printers = list(printing.available_printers() if printers is None else printers)
        self._fill_printers()
        self._fill_papers()
        self.on_zoom_current_index_changed(0)
        self.view.pageNavigator().currentPageChanged.connect(self.on_navigator_page_changed)
        for keys, slot in (
            (QKeySequence.StandardKey.ZoomIn, lambda: self.step_zoom(1)),
            ("Ctrl+=", lambda: self.step_zoom(1)),
            (QKeySequence.StandardKey.ZoomOut, lambda: self.step_zoom(-1)),
            (QKeySequence.StandardKey.Print, self.on_print_clicked),
            ("PgDown", lambda: self.go_to_page(self.current_page() + 1)),
            ("PgUp", lambda: self.go_to_page(self.current_page() - 1)),
        ):
            sc = QShortcut(QKeySequence(keys), self)
            sc.activated.connect(slot)
        self._update_print_state()
        # A page and a half on a tall screen; on a 1024x700 one, what fits under its title bar.
        room = self.screen().availableGeometry()
        self.resize(min(760, room.width() - 40), min(900, room.height() - 60))
        self.view.setFocus()

    # -- building ------------------------------------------------------------------------------

    def _build_top_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        page_label = QLabel("&Page", self)
        self.page_spin = QSpinBox(self)
        self.page_spin.setObjectName("pageSpin")
        self.page_spin.setAccessibleName("Page shown")
        pages = max(self.page_count(), 1)
        self.page_spin.setRange(1, pages)
        self.page_spin.valueChanged.connect(lambda v: self.go_to_page(v - 1))
        page_label.setBuddy(self.page_spin)
        self.count_label = QLabel(self._count_text(), self)
        self.count_label.setObjectName("pageCount")
        self.count_label.setAccessibleName("Page count")
        row.addWidget(page_label)
        row.addWidget(self.page_spin)
        row.addWidget(self.count_label)
        row.addStretch(1)
        self.zoom_out = QPushButton("−", self)
        self.zoom_out.setAccessibleName("Zoom out")
        self.zoom_out.setToolTip("Zoom out (Ctrl+-)")
        self.zoom_out.setFixedWidth(32)
        self.zoom_out.clicked.connect(lambda: self.step_zoom(-1))
        zoom_label = QLabel("&Zoom", self)
        self.zoom = QComboBox(self)
        self.zoom.setObjectName("zoom")
        self.zoom.setAccessibleName("Zoom")
        for text, factor in ZOOMS:
            self.zoom.addItem(text, factor)
        self.zoom.currentIndexChanged.connect(self.on_zoom_current_index_changed)
        zoom_label.setBuddy(self.zoom)
        self.zoom_in = QPushButton("+", self)
        self.zoom_in.setAccessibleName("Zoom in")
        self.zoom_in.setToolTip("Zoom in (Ctrl++)")
        self.zoom_in.setFixedWidth(32)
        self.zoom_in.clicked.connect(lambda: self.step_zoom(1))
        for w in (zoom_label, self.zoom_out, self.zoom, self.zoom_in):
            row.addWidget(w)
        return row

    def _build_print_row(self) -> QVBoxLayout:
        box = QVBoxLayout()
        row = QHBoxLayout()
        row.setSpacing(6)
        paper_label = QLabel("Pap&er", self)
        self.paper = QComboBox(self)
        self.paper.setObjectName("paper")
        self.paper.setAccessibleName("Paper size")
        self.paper.currentIndexChanged.connect(self._update_print_state)
        paper_label.setBuddy(self.paper)
        printer_label = QLabel("P&rinter", self)
        self.printer = QComboBox(self)
        self.printer.setObjectName("printer")
        self.printer.setAccessibleName("Printer")
        self.printer.setMinimumWidth(180)
        printer_label.setBuddy(self.printer)
        self.print_button = QPushButton("&Print", self)
        self.print_button.setObjectName("print")
        self.print_button.setAccessibleName("Print")
        self.print_button.clicked.connect(self.on_print_clicked)
        self.close_button = QPushButton("&Close", self)
        self.close_button.setObjectName("close")
        self.close_button.setAccessibleName("Close the preview")
        self.close_button.clicked.connect(self.reject)
        self.close_button.setDefault(True)
        for w in (paper_label, self.paper, printer_label, self.printer):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.print_button)
        row.addWidget(self.close_button)
        box.addLayout(row)
        self.reason = QLabel("", self)
        self.reason.setObjectName("printReason")
        self.reason.setProperty("role", "secondary")
        self.reason.setWordWrap(True)
        box.addWidget(self.reason)
        return box

    def _fill_printers(self) -> None:
        self.printer.clear()
        if not self._printers:
            self.printer.addItem(NO_PRINTER_TEXT, None)
            self.printer.setEnabled(False)
            return
        default = printing.default_printer()
        for name in self._printers:
            self.printer.addItem(name, name)
        if default in self._printers:
            self.printer.setCurrentIndex(self._printers.index(default))

    def _fill_papers(self) -> None:
        own = self.document_paper()
        self.paper.addItem(f"As the document ({own})" if own else "As the document", None)
        for name, page_id in PAPERS:
            self.paper.addItem(name, page_id)

    # -- what it shows -------------------------------------------------------------------------

    def page_count(self) -> int:
        return self.document.pageCount() if self.load_error is None else 0

    def _count_text(self) -> str:
        if self.load_error is not None:
            return f"Not a readable PDF ({self.load_error})"
        n = self.page_count()
        return f"of {n} page{'s' if n != 1 else ''}"

    def document_paper(self) -> str:
        """The PDF's own page size as a name ("A4"), empty when it cannot be read."""
        if self.page_count() < 1:
            return ""
        return page_size_name(self.document.pagePointSize(0))

    def current_page(self) -> int:
        return self.view.pageNavigator().currentPage()

    def go_to_page(self, index: int) -> None:
        if not 0 <= index < self.page_count():
            return
        if index != self.current_page():
            self.view.pageNavigator().jump(index, QPointF(), self.view.zoomFactor())

    def on_navigator_page_changed(self, index: int) -> None:
        self.page_spin.blockSignals(True)
        self.page_spin.setValue(index + 1)
        self.page_spin.blockSignals(False)

    def on_zoom_current_index_changed(self, index: int) -> None:
        factor = self.zoom.itemData(index)
        if factor is None:
            self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        elif factor == 0:
            self.view.setZoomMode(QPdfView.ZoomMode.FitInView)
        else:
            self.view.setZoomMode(QPdfView.ZoomMode.Custom)
            self.view.setZoomFactor(float(factor))

    def step_zoom(self, step: int) -> None:
        """The next larger (or smaller) percentage, from a fitted zoom too."""
        steps = [(n, f) for n, (_t, f) in enumerate(ZOOMS) if f]
        now = self.view.zoomFactor() if self.view.zoomMode() == QPdfView.ZoomMode.Custom else 1.0
        if step > 0:
            pick = next((n for n, f in steps if f is not None and f > now + 1e-6), steps[-1][0])
        else:
            lower = [n for n, f in steps if f is not None and f < now - 1e-6]
            pick = lower[-1] if lower else steps[0][0]
        self.zoom.setCurrentIndex(pick)

    # -- printing ------------------------------------------------------------------------------

    def printer_name(self) -> str | None:
        name = self.printer.currentData()
        return name if isinstance(name, str) else None

    def paper_choice(self) -> QPageSize.PageSizeId | None:
        data = self.paper.currentData()
        return data if isinstance(data, QPageSize.PageSizeId) else None

    def print_problem(self) -> str | None:
        """Why *Print* is disabled, or None when it can print."""
        if self.load_error is not None:
            return "Nothing to print: the document could not be read."
        if not self._printers:
            return (
                "Print is off: no printer is installed on this computer. Export the PDF and "
                "print it elsewhere, or ask for a printer to be set up."
            )
        return None

    def _update_print_state(self) -> None:
        problem = self.print_problem()
        self.print_button.setEnabled(problem is None)
        self.print_button.setToolTip(problem or "Print this document (Ctrl+P)")
        note = problem or ""
        paper = self.paper_choice()
        own = self.document_paper()
        if problem is None and paper is not None:
            name = self.paper.currentText()
            if name != own:
                note = f"The {own or 'document'} pages are scaled to fit {name} paper."
        self.reason.setText(note)
        self.reason.setVisible(bool(note))

    def on_print_clicked(self) -> None:
        if self.print_problem() is not None:
            return
        progress, on_page = printing.page_progress("Printing…", self)

        try:
            sent = printing.print_pdf(
                self.path,
                self.printer_name(),
                job_name=self.job_name,
                progress=on_page,
                paper_size=self.paper_choice(),
            )
        except printing.PrintError as err:
            QMessageBox.information(self, self.windowTitle(), str(err))
            return
        finally:
            progress.close()
        self.printed.emit(sent)
        self.reason.setText(f"Sent {sent} page{'s' if sent != 1 else ''} to {self.printer_name()}.")
        self.reason.show()

    def done(self, result: int) -> None:
        self.document.close()
        super().done(result)
