"""Uncaught exceptions: logged, shown in one dialog, and the app keeps running.

Learned from qutebrowser's ``misc/crashsignal.py`` and ``misc/crashdialog.py``, cut to a small
app's size. qutebrowser saves its session and quits after a crash; this app saves evaluations as
they are typed, so it logs, tells the user and carries on. What is kept from qutebrowser: one
handler object that owns the hooks; an exception raised while a crash dialog is open is logged and
counted, not shown in a second dialog; ``KeyboardInterrupt`` and ``SystemExit`` are not crashes.

Two hooks, one handler: ``sys.excepthook`` receives exceptions raised in slots and virtual methods
on the GUI thread (PySide6 hands them to it when the slot returns) and in a ``QThread.run()``;
``threading.excepthook`` those of a ``threading.Thread``. Both log the traceback at ERROR, screened
by :mod:`clinic_app.logs`' PHI rule, then emit :attr:`CrashHandler.crashed`, connected queued, so
the dialog is always made on the GUI thread, after the failing code has returned.

A hook installed before ours (a test framework's, a debugger's) is called afterwards too, so tools
that watch for exceptions still see them; Python's own default hooks are not, as they would only
print the traceback again, unscreened.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from clinic_app import logs
from clinic_app.logs import safe

log = logging.getLogger(__name__)

# Full tracebacks logged per distinct problem (type and place); after that a count now and then:
# a paint handler that fails on every repaint must not fill the log in a minute.
FULL_LOGS_PER_PROBLEM = 3
# Tracebacks the dialog keeps for "Copy details" (the log has all of them).
DETAILS_KEPT = 5

SysHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]
ThreadHook = Callable[[threading.ExceptHookArgs], Any]


def version_info() -> str:
    """The versions a bug report needs (no host or user names)."""
    import platform

    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from clinic_app import __version__

    return (
        f"clinic_app {__version__}\n"
        f"Python {platform.python_version()} on {platform.platform()}\n"
        f"PySide6 {pyside_version}, Qt {qVersion()}"
    )


class CrashDialog(QDialog):
    """Tells the user something went wrong, where the log is, and copies the details.

    Signals: none (``finished`` from QDialog when closed).
    """

    def __init__(self, kind: str, details: str, log_path: Path | None) -> None:
        super().__init__(None)
        self.setObjectName("crash_dialog")
        self.setWindowTitle("clinic_app: something went wrong")
        self.details: list[str] = [details]
        self.more = 0
        layout = QVBoxLayout(self)
        message = QLabel(
            f"Something unexpected went wrong inside clinic_app ({kind}).\n\n"
            "The app is still running. If a screen looks wrong or stops answering, close the "
            "app and open it again; what was saved stays saved.",
            self,
        )
        message.setObjectName("crash_message")
        message.setWordWrap(True)
        layout.addWidget(message)
        where = QLabel(self)
        where.setObjectName("crash_log_path")
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if log_path is not None:
            where.setText(f"The details were written to the log file:\n{log_path}")
        else:
            where.setText("No log file could be written; use Copy details to keep them.")
        layout.addWidget(where)
        self.more_label = QLabel(self)
        self.more_label.setObjectName("crash_more")
        self.more_label.hide()
        layout.addWidget(self.more_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("Copy details", self)
        self.copy_button.setObjectName("copy_details")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.on_copy_button_clicked)
        layout.addWidget(buttons)

    def add(self, details: str) -> None:
        """Another problem while this dialog is open: counted, its details kept (up to a few)."""
        self.more += 1
        if len(self.details) < DETAILS_KEPT:
            self.details.append(details)
        plural = "problem" if self.more == 1 else "problems"
        self.more_label.setText(f"{self.more} more {plural} since then (all in the log).")
        self.more_label.show()

    def details_text(self) -> str:
        """Versions and the tracebacks, screened like the log: safe to paste into an e-mail."""
        shown, total = len(self.details), 1 + self.more
        header = version_info()
        if total > shown:
            header += f"\n{total} problems; the first {shown} follow, all are in the log"
        return "\n\n".join([header, *self.details])

    def on_copy_button_clicked(self) -> None:
        QApplication.clipboard().setText(self.details_text())
        self.copy_button.setText("Copied")


class CrashHandler(QObject):
    """Owns the exception hooks and the crash dialog (on the GUI thread, where it was made).

    Signals: ``crashed(str, str)`` — the exception's type name and its screened details; emitted
    on the thread that failed, delivered queued to :meth:`on_crashed`.
    """

    crashed = Signal(str, str)

    def __init__(self, log_path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_path = log_path
        self.dialog: CrashDialog | None = None
        self.problems = 0
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], int] = {}
        self._previous_sys: SysHook | None = None
        self._previous_thread: ThreadHook | None = None
        self.crashed.connect(self.on_crashed, Qt.ConnectionType.QueuedConnection)

    # --- hooks ----------------------------------------------------------------------------------

    def install(self) -> None:
        # Never chain to another CrashHandler (the app started twice in one process, as in
        # tests): the problem would be logged and shown twice.
        previous_sys: Any = sys.excepthook
        previous_thread: Any = threading.excepthook
        while isinstance(getattr(previous_sys, "__self__", None), CrashHandler):
            previous_sys = previous_sys.__self__._previous_sys
        while isinstance(getattr(previous_thread, "__self__", None), CrashHandler):
            previous_thread = previous_thread.__self__._previous_thread
        self._previous_sys = previous_sys
        self._previous_thread = previous_thread
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def uninstall(self) -> None:
        """Put the hooks back that were there before (if ours are still the ones in place)."""
        if getattr(sys.excepthook, "__self__", None) is self and self._previous_sys:
            sys.excepthook = self._previous_sys
        if getattr(threading.excepthook, "__self__", None) is self and self._previous_thread:
            threading.excepthook = self._previous_thread

    def excepthook(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, Exception):
            if exc.__traceback__ is None and tb is not None:
                exc = exc.with_traceback(tb)
            self.report(exc, threading.current_thread().name)
            previous = self._previous_sys
            if previous is not None and previous is not sys.__excepthook__:
                previous(kind, exc, tb)
        elif self._previous_sys is not None:  # KeyboardInterrupt, SystemExit: not a crash
            self._previous_sys(kind, exc, tb)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        exc = args.exc_value
        if isinstance(exc, Exception):
            name = args.thread.name if args.thread is not None else "unknown"
            self.report(exc, name)
            previous = self._previous_thread
            if previous is not None and previous is not threading.__excepthook__:
                previous(args)
        elif self._previous_thread is not None:
            self._previous_thread(args)

    # --- reporting ------------------------------------------------------------------------------

    def report(self, exc: BaseException, thread: str) -> None:
        """Log ``exc`` and have the dialog shown; never raises (it runs inside a hook)."""
        try:
            kind = type(exc).__name__
            details = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC, thread {thread}:\n"
            details += logs.format_exception(exc)
            times = self._count(exc)
            if times <= FULL_LOGS_PER_PROBLEM:
                log.error(
                    "unexpected %s on thread %s",
                    safe(kind),
                    safe(thread),
                    exc_info=(type(exc), exc, exc.__traceback__),
                )
            elif times in (10, 100) or times % 1000 == 0:
                log.error("the same %s again (%d times so far)", safe(kind), times)
            if shiboken6.isValid(self) and QApplication.instance() is not None:
                self.crashed.emit(kind, details)
        except Exception:  # a hook that fails must not hide the original problem
            with suppress(Exception):
                log.exception("the crash handler failed")

    def _count(self, exc: BaseException) -> int:
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else ""
        key = (type(exc).__qualname__, where)
        with self._lock:
            self._seen[key] = self._seen.get(key, 0) + 1
            return self._seen[key]

    def on_crashed(self, kind: str, details: str) -> None:
        """Show the dialog, or count the problem in the one already open."""
        self.problems += 1
        try:
            if self.dialog is not None and shiboken6.isValid(self.dialog):
                self.dialog.add(details)
                return
            dialog = CrashDialog(kind, details, self.log_path)
            dialog.finished.connect(self.on_dialog_finished)
            self.dialog = dialog
            dialog.show()
        except Exception:  # not through the hook again: that would loop
            log.exception("the crash dialog could not be shown")

    def on_dialog_finished(self, _result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()


def install_crash_handler(app: QApplication, log_path: Path | None = None) -> CrashHandler:
    """Install the crash handler for ``app`` (once: an installed one is returned as it is).

    ``log_path``: the log file the dialog names (default: this process's, see
    :func:`clinic_app.logs.log_file`). The handler is a child of ``app``.
    """
    current = getattr(sys.excepthook, "__self__", None)
    if isinstance(current, CrashHandler) and shiboken6.isValid(current):
        return current
    handler = CrashHandler(log_path or logs.log_file(), parent=app)
    handler.install()
    return handler


@contextmanager
def crash_handler(app: QApplication, log_path: Path | None = None) -> Iterator[CrashHandler]:
    """A crash handler installed for the block only (tests, a tool's own event loop)."""
    handler = CrashHandler(log_path or logs.log_file(), parent=app)
    handler.install()
    try:
        yield handler
    finally:
        handler.uninstall()
        if handler.dialog is not None and shiboken6.isValid(handler.dialog):
            handler.dialog.close()
        handler.deleteLater()
