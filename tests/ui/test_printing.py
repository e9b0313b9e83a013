"""Printing through a real CUPS server to the CUPS-PDF virtual printer, and the no-printer message.

The session fixture starts ``cupsd`` (unless one is already running), adds a CUPS-PDF queue whose
output folder is a temporary directory, and removes the queue afterwards. Without the CUPS
binaries the printing tests are skipped, except on CI (``CI=true``) where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CUPSD = "/usr/sbin/cupsd"
PPD = "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "runner_left_proximal.json"


def _missing(reason: str) -> None:
    if ON_CI:
        pytest.fail(f"printing tests need CUPS on CI: {reason}")
    pytest.skip(reason)


def _as_admin() -> list[str] | None:
    """The prefix that runs a command as root: none for root, ``sudo -n`` when allowed."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") is None:
        return None
    ok = subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False)
    return ["sudo", "-n"] if ok.returncode == 0 else None


def _scheduler_running() -> bool:
    # `lpstat -r` exits 0 either way: read what it prints
    out = subprocess.run(["lpstat", "-r"], capture_output=True, text=True, check=False)
    return "scheduler is running" in out.stdout and "not" not in out.stdout


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _other_test_queues(own: str) -> list[str]:
    """Test queues of other test sessions still running (a killed session's queue is left
    behind in CUPS' configuration: it must not make every later session wait)."""
    out = subprocess.run(["lpstat", "-p"], capture_output=True, text=True, check=False)
    names = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("printer ")]
    prefix = "ClinicAppTest"
    return [
        n
        for n in names
        if n.startswith(prefix)
        and n != own
        and (not n[len(prefix) :].isdigit() or _alive(int(n[len(prefix) :])))
    ]


def _wait_quietly(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.5)


@dataclass(frozen=True)
class PdfQueue:
    name: str
    out_dir: Path


@pytest.fixture(scope="session")
def cups_pdf_queue() -> Iterator[PdfQueue]:
    for tool in ("lpstat", "lpadmin", "lp"):
        if shutil.which(tool) is None:
            _missing(f"{tool} is not installed (apt-get install cups printer-driver-cups-pdf)")
    if not Path("/usr/lib/cups/backend/cups-pdf").exists():
        _missing("the CUPS-PDF backend is not installed (printer-driver-cups-pdf)")
    admin = _as_admin()
    if admin is None:
        _missing("adding a test printer needs root or password-less sudo")
        return
    started: subprocess.Popen[bytes] | None = None
    if not _scheduler_running():
        if not Path(CUPSD).exists():
            _missing("cupsd is not installed")
        subprocess.run([*admin, "mkdir", "-p", "/run/cups"], check=True)
        started = subprocess.Popen(
            [*admin, CUPSD, "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait(_scheduler_running, 30, "the CUPS scheduler")
    name = f"ClinicAppTest{os.getpid()}"
    out_dir = Path(tempfile.mkdtemp(prefix="clinic-cups-pdf-"))
    out_dir.chmod(0o1777)
    conf = Path(f"/etc/cups/cups-pdf-{name}.conf")
    try:
        settings = f"Out {out_dir}\nAnonDirName {out_dir}\nLabel 0\n"
        subprocess.run(
            [*admin, "tee", str(conf)],
            input=settings.encode(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [*admin, "lpadmin", "-p", name, "-v", f"cups-pdf:/{name}", "-m", PPD, "-E"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [*admin, "lpadmin", "-p", name, "-o", "pdftops-renderer-default=pdftocairo"],
            check=True,
            capture_output=True,
        )
        yield PdfQueue(name, out_dir)
    finally:
        subprocess.run([*admin, "lpadmin", "-x", name], check=False, capture_output=True)
        subprocess.run([*admin, "rm", "-f", str(conf)], check=False)
        subprocess.run([*admin, "rm", "-rf", str(out_dir)], check=False)
        if started is not None:
            # another test session may be printing through the scheduler this one started
            _wait_quietly(lambda: not _other_test_queues(name), 180)
            started.terminate()
            try:
                started.wait(timeout=15)
            except subprocess.TimeoutExpired:
                started.kill()
                started.wait()


@pytest.fixture(scope="session")
def handout_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from clinic_app.cli import main

    out = tmp_path_factory.mktemp("print") / "handout.pdf"
    args = [
        "report",
        "--findings",
        str(EXAMPLE),
        "--kind",
        "handout",
        "-o",
        str(out),
        "--patient-name",
        "Zoë Müller",
    ]
    assert main(args) == 0
    return out


def _queue_empty(name: str) -> bool:
    out = subprocess.run(["lpstat", "-o", name], capture_output=True, text=True, check=False)
    return out.stdout.strip() == ""


def _printed(queue: PdfQueue, job_name: str) -> Path:
    """The PDF that CUPS-PDF wrote for a job (its name starts with the job title)."""
    _wait(lambda: _queue_empty(queue.name), 180, "the print queue to empty")
    _wait(lambda: any(queue.out_dir.glob(f"{job_name}*.pdf")), 30, "CUPS-PDF output")
    (printed,) = queue.out_dir.glob(f"{job_name}*.pdf")
    return printed


def _page_images(pdf: Path, folder: Path, prefix: str) -> list[Path]:
    subprocess.run(
        ["pdftoppm", "-gray", "-r", "20", str(pdf), str(folder / prefix)],
        check=True,
        capture_output=True,
    )
    return sorted(folder.glob(f"{prefix}-*.pgm"))


def test_handout_prints_as_a_native_job(
    qapp: object, cups_pdf_queue: PdfQueue, handout_pdf: Path, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    from clinic_app.ui import printing

    assert cups_pdf_queue.name in printing.available_printers()
    expected_pages = len(PdfReader(handout_pdf).pages)
    progress: list[tuple[int, int]] = []

    def on_page(done: int, total: int) -> bool:
        progress.append((done, total))
        return True

    sent = printing.print_pdf(
        handout_pdf, cups_pdf_queue.name, job_name="Home program Zoe", progress=on_page
    )
    assert sent == expected_pages
    assert progress[-1] == (expected_pages, expected_pages)

    printed = _printed(cups_pdf_queue, "Home_program_Zoe")
    reader = PdfReader(printed)
    assert len(reader.pages) == expected_pages
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)

    # the pages are printed as 300 dpi pictures: compare what they look like, page by page
    if shutil.which("pdftoppm") is None:
        _missing("pdftoppm is not installed (poppler-utils)")
    from PIL import Image, ImageChops, ImageStat

    source = [Image.open(p) for p in _page_images(handout_pdf, tmp_path, "source")]
    paper = [Image.open(p) for p in _page_images(printed, tmp_path, "printed")]
    assert len(source) == len(paper) == expected_pages

    def distance(a: Image.Image, b: Image.Image) -> float:
        return float(ImageStat.Stat(ImageChops.difference(a, b.resize(a.size))).mean[0])

    for n, page in enumerate(source):
        same = distance(page, paper[n])
        others = [distance(page, p) for m, p in enumerate(paper) if m != n]
        # a page dense with text and drawings differs by about 12 after the 300 dpi round trip
        # (the handout of issue 17); another page differs by 18 or more
        assert same < 15, f"printed page {n + 1} does not look like the source page"
        assert same < min(others), f"printed page {n + 1} looks more like another page"


def test_unknown_printer_gives_a_plain_message(
    qapp: object, cups_pdf_queue: PdfQueue, handout_pdf: Path
) -> None:
    from clinic_app.ui import printing

    with pytest.raises(printing.PrintError, match=r"^No printer is available: 'No such"):
        printing.print_pdf(handout_pdf, "No such printer")


def test_a_file_printer_is_refused(qapp: object, handout_pdf: Path) -> None:
    from PySide6.QtPrintSupport import QPrinter

    from clinic_app.ui import printing

    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(handout_pdf.with_name("copy.pdf")))
    with pytest.raises(printing.PrintError, match="^No printer is available: .*write a file"):
        printing.print_pdf(handout_pdf, printer)
    assert not handout_pdf.with_name("copy.pdf").exists()


def test_not_a_pdf_is_refused(qapp: object, cups_pdf_queue: PdfQueue, tmp_path: Path) -> None:
    from clinic_app.ui import printing

    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"this is not a PDF")
    with pytest.raises(printing.PrintError, match="not a readable PDF"):
        printing.print_pdf(bad, cups_pdf_queue.name)
    with pytest.raises(printing.PrintError, match="does not exist"):
        printing.print_pdf(tmp_path / "missing.pdf", cups_pdf_queue.name)


def test_without_a_print_server_the_message_is_plain(handout_pdf: Path, tmp_path: Path) -> None:
    """A separate process pointed at a print server that does not exist."""
    script = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from clinic_app.ui import printing\n"
        "assert printing.available_printers() == [], printing.available_printers()\n"
        "try:\n"
        f"    printing.print_pdf({str(handout_pdf)!r})\n"
        "except printing.PrintError as err:\n"
        "    print(err)\n"
        "else:\n"
        "    sys.exit('printed to nowhere')\n"
    )
    env = dict(os.environ, CUPS_SERVER=str(tmp_path / "no-cups.sock"), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("No printer is available: no print service or printer")


def test_print_with_dialog_uses_the_chosen_printer(
    qapp: object, cups_pdf_queue: PdfQueue, handout_pdf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtPrintSupport import QPrintDialog
    from PySide6.QtWidgets import QDialog

    from clinic_app.ui import printing

    chosen: list[str] = []

    def accept(dialog: QPrintDialog) -> int:
        dialog.printer().setPrinterName(cups_pdf_queue.name)
        chosen.append(dialog.printer().printerName())
        return QDialog.DialogCode.Accepted.value

    def cancel(dialog: QPrintDialog) -> int:
        return QDialog.DialogCode.Rejected.value

    sent_to: list[str] = []

    def fake_print(pdf: Path, printer: object, **_: object) -> int:
        sent_to.append(printer.printerName())  # type: ignore[attr-defined]
        return 6

    monkeypatch.setattr(printing, "print_pdf", fake_print)
    monkeypatch.setattr(QPrintDialog, "exec", cancel)
    assert printing.print_with_dialog(None, handout_pdf) is None
    monkeypatch.setattr(QPrintDialog, "exec", accept)
    assert printing.print_with_dialog(None, handout_pdf) == 6
    assert chosen == [cups_pdf_queue.name]
    assert sent_to == [cups_pdf_queue.name]


def test_a_page_range_from_the_dialog_is_honoured(
    qapp: object, cups_pdf_queue: PdfQueue, handout_pdf: Path
) -> None:
    from pypdf import PdfReader
    from PySide6.QtPrintSupport import QPrinter

    from clinic_app.ui import printing

    printer = printing.make_printer(cups_pdf_queue.name)
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setFromTo(2, 3)
    assert printing.print_pdf(handout_pdf, printer, job_name="Range test", dpi=150) == 2
    printed = _printed(cups_pdf_queue, "Range_test")
    assert len(PdfReader(printed).pages) == 2
