"""Printing a finished PDF (report or handout) as a native print job.

The PDF made by :mod:`clinic_app.reports` is the one document of record, so printing sends *that*
file, not a second rendering of the screen: QtPdf rasterises each page at 300 dpi (about 1 s a
page; Qt's 1200 dpi default costs ~10 s and 0.5 GB a page) and the pages are painted onto a
``QPrinter`` in native format, so the job goes to the system print queue (CUPS, Windows spooler)
with the printer, copies and duplex chosen in the ordinary print dialog.

When there is no print server or no printer, Qt itself only logs a warning and prints to nowhere;
here every such case raises :class:`PrintError` with a sentence a person can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect, QSize, QSizeF, Qt
from PySide6.QtGui import QGuiApplication, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import QDialog, QProgressDialog, QWidget

DEFAULT_DPI = 300
NO_PRINTER = "No printer is available"


class PrintError(Exception):
    """Printing cannot go ahead; the message is one plain sentence for the user."""


def available_printers() -> list[str]:
    """Names of the printers the system print service offers (empty without a print server)."""
    return [info.printerName() for info in QPrinterInfo.availablePrinters() if not info.isNull()]


def default_printer() -> str | None:
    info = QPrinterInfo.defaultPrinter()
    return None if info.isNull() or not info.printerName() else info.printerName()


def _info_for(name: str | None) -> QPrinterInfo:
    printers = available_printers()
    if not printers:
        raise PrintError(
            f"{NO_PRINTER}: no print service or printer was found on this computer. "
            "Save the PDF and print it from another program, or ask for a printer to be set up."
        )
    if name is None:
        name = default_printer() or printers[0]
    info = QPrinterInfo.printerInfo(name)
    if info.isNull():
        raise PrintError(
            f"{NO_PRINTER}: {name!r} is not a known printer (available: {', '.join(printers)})."
        )
    return info


def make_printer(name: str | None = None, dpi: int = DEFAULT_DPI) -> QPrinter:
    """A native-format QPrinter for ``name`` (default: the system default printer).

    Raises PrintError when there is no print service or the printer does not exist.
    """
    info = _info_for(name)
    printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
    printer.setResolution(dpi)
    return printer


def check_printer(printer: QPrinter) -> None:
    """Raise PrintError unless ``printer`` is a real printer reached through the print service."""
    if printer.outputFormat() != QPrinter.OutputFormat.NativeFormat:
        raise PrintError(f"{NO_PRINTER}: the printer is set to write a file, not to print.")
    _info_for(printer.printerName() or None)


def print_pdf(
    pdf: str | Path,
    printer: QPrinter | str | None = None,
    *,
    dpi: int = DEFAULT_DPI,
    job_name: str | None = None,
    progress: Callable[[int, int], bool] | None = None,
    paper_size: QPageSize.PageSizeId | None = None,
) -> int:
    """Print every page of ``pdf`` as one native job; return the number of pages sent.

    ``printer``: a QPrinter (e.g. set up by a QPrintDialog), a printer name, or None for the
    default printer; a page range chosen in the print dialog is honoured. ``progress(done,
    total)`` is called after each page; returning False cancels the job. Raises PrintError with a
    plain message on any problem. ``paper_size``: print on that paper (each page scaled to
    fit) instead of each page's own size.
    """
    from PySide6.QtPdf import QPdfDocument

    if QGuiApplication.instance() is None:
        raise PrintError("Printing needs the application to be running.")
    path = Path(pdf)
    if not path.is_file():
        raise PrintError(f"Cannot print: the file {path} does not exist.")
    if isinstance(printer, QPrinter):
        check_printer(printer)
        target = printer
    else:
        target = make_printer(printer, dpi)
    target.setResolution(dpi)
    target.setFullPage(True)
    target.setDocName(job_name or path.stem)

    document = QPdfDocument()
    error = document.load(str(path))
    if error != QPdfDocument.Error.None_ or document.pageCount() < 1:
        raise PrintError(f"Cannot print: {path.name} is not a readable PDF ({error.name}).")
    pages = list(range(document.pageCount()))
    if isinstance(printer, QPrinter) and target.printRange() == QPrinter.PrintRange.PageRange:
        first, last = target.fromPage(), target.toPage()  # 1-based, as chosen in the dialog
        pages = [i for i in pages if first <= i + 1 <= (last or len(pages))]
        if not pages:
            raise PrintError(f"Cannot print: {path.name} has no pages in the chosen range.")
    total = len(pages)

    def page_size(index: int) -> QPageSize:
        if paper_size is not None:  # chosen in the preview: each page scaled to fit it
            return QPageSize(paper_size)
        points = document.pagePointSize(index)
        return QPageSize(
            QSizeF(points.width(), points.height()),
            QPageSize.Unit.Point,
            "",
            QPageSize.SizeMatchPolicy.FuzzyMatch,
        )

    target.setPageSize(page_size(pages[0]))
    target.setPageOrientation(QPageLayout.Orientation.Portrait)
    painter = QPainter()
    if not painter.begin(target):
        raise PrintError(
            f"The printer {target.printerName()!r} could not start the print job. "
            "Check that it is switched on and connected."
        )
    sent = 0
    try:
        for n, index in enumerate(pages):
            if n > 0:
                target.setPageSize(page_size(index))
                if not target.newPage():
                    raise PrintError("The printer stopped accepting pages; the job is incomplete.")
            points = document.pagePointSize(index)
            pixels = QSize(round(points.width() / 72 * dpi), round(points.height() / 72 * dpi))
            image = document.render(index, pixels)
            if image.isNull():
                raise PrintError(f"Page {index + 1} of {path.name} could not be rendered.")
            paper = target.paperRect(QPrinter.Unit.DevicePixel).toRect()
            box = image.size().scaled(paper.size(), Qt.AspectRatioMode.KeepAspectRatio)
            left = (paper.width() - box.width()) // 2
            top = (paper.height() - box.height()) // 2
            painter.drawImage(QRect(left, top, box.width(), box.height()), image)
            sent += 1
            if progress is not None and progress(sent, total) is False:
                target.abort()
                raise PrintError("Printing was cancelled.")
    finally:
        if painter.isActive():
            painter.end()
        document.close()
    return sent


def print_with_dialog(
    parent: QWidget | None,
    pdf: str | Path,
    *,
    job_name: str | None = None,
    progress: Callable[[int, int], bool] | None = None,
    title: str = "Print",
) -> int | None:
    """Ask for the printer and copies in the system print dialog, then print ``pdf``.

    Returns the pages sent, or None when the user cancelled the dialog. Raises PrintError (before
    any dialog opens) when no printer is available, so the caller can show the message.
    """
    printer = make_printer()
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(title)
    dialog.setOption(QPrintDialog.PrintDialogOption.PrintToFile, False)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return print_pdf(pdf, printer, job_name=job_name, progress=progress)


def page_progress(text: str, parent: QWidget) -> tuple[QProgressDialog, Callable[[int, int], bool]]:
    """A window-modal progress dialog for printing and the ``progress`` callback that drives it
    (page done of total; False once the user pressed Cancel)."""
    dialog = QProgressDialog(text, "Cancel", 0, 0, parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)

    def on_page(done: int, total: int) -> bool:
        dialog.setMaximum(total)
        dialog.setValue(done)
        return not dialog.wasCanceled()

    return dialog, on_page
