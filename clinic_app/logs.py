"""The app's log: one rotating, private file per computer user, and never patient data in it.

Where it is (:func:`log_dir`): ``$CLINIC_APP_LOG_DIR`` if set; else ``logs/`` inside
``$CLINIC_APP_DATA_DIR`` if that is set (tests and demos stay in their own folder); else the
platform's user log folder (platformdirs ``user_log_dir("clinic_app")``: ``~/.local/state/
clinic_app/log`` on Linux, ``~/Library/Logs/clinic_app`` on macOS, ``%LOCALAPPDATA%\\clinic_app\\
Logs`` on Windows). The file is ``clinic_app.log``; at 1 MiB it becomes ``clinic_app.log.1`` and
the five newest old files are kept. The computer is a clinic's, often shared: the folder is made
private (0700; a folder named by ``$CLINIC_APP_LOG_DIR`` that already exists is left as it is)
and every log file is 0600. If the file cannot be written the app still runs, errors go to
stderr only, and it says so once.

The PHI rule: a log line carries ids, counts, durations, schema revisions, exception types and
the paths of the database, its backups and the log, **never** a patient's name, MRN, date of
birth, address, findings or notes, nor free text anyone typed, nor the path of an exported PDF
(its suggested name is the patient's name). How that is kept, mechanically:

- A message is a literal with %-style arguments, ``log.info("signed evaluation %d", ev.id)``;
  no f-strings or ``str.format`` in a logging call (``tests/test_logs.py`` reads the source tree
  for them).
- Arguments that are numbers, booleans, None, classes or paths are written as they are (a path
  ending in ``.pdf`` without its file name), an exception as its screened one-line summary (see
  below). Any other argument, ``str`` included, is written as
  ``<str withheld>`` unless wrapped in :func:`safe`, by which the caller vouches that it is not
  patient data (a revision, a URL without password, the name of an action or an exception type).
- A traceback keeps its frames (file, line, code) but an exception's message only where the
  message is made from code or names only the database (``AttributeError``, ``TypeError``,
  ``DatabaseFileError``, ...); ``OSError`` keeps its reason but not the file name; a SQLAlchemy
  error keeps its SQL (parameters are bound, never in it) but not the driver's text. Every other
  message shows as ``(message withheld, N characters)``: ``ValueError`` and ``KeyError`` quote
  the value that failed, and pydantic's ``ValidationError`` its input.

:class:`PhiSafeFormatter` does this for every handler :func:`setup_logging` installs, whichever
logger the record comes from; :func:`format_exception` is the same traceback text for a crash
dialog's "Copy details".

This module imports only the standard library's ``logging`` (and platformdirs when the platform
folder is asked for): it is loaded at every start, GUI or command line.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path, PurePath

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 2 ms at every start
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any

LOG_DIR_ENV = "CLINIC_APP_LOG_DIR"
LOG_NAME = "clinic_app.log"
MAX_BYTES = 1 << 20
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
# Longest exception message written even when it is known to be safe (a runaway repr).
_MAX_MESSAGE = 500

log = logging.getLogger(__name__)


class Safe(str):
    """Text its writer vouches is not patient data: logged as it is (see :func:`safe`)."""

    __slots__ = ()


def safe(value: object) -> Safe:
    """Mark ``value`` (as text) as not patient data, so that a log line may carry it."""
    return Safe(value)


# --- where the log lives ----------------------------------------------------------------------


def log_dir() -> Path:
    """``$CLINIC_APP_LOG_DIR``, else ``$CLINIC_APP_DATA_DIR/logs``, else the user log folder."""
    from clinic_app.paths import DATA_DIR_ENV

    override = os.environ.get(LOG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    data = os.environ.get(DATA_DIR_ENV)
    if data:
        return Path(data).expanduser() / "logs"
    from platformdirs import user_log_path

    return user_log_path("clinic_app", appauthor=False)


def log_file() -> Path | None:
    """The file this process logs to; None before :func:`setup_logging` or when it could not."""
    return _state.path


# --- the PHI guard ------------------------------------------------------------------------------

_SAFE_BUILTINS: tuple[type[BaseException], ...] = (
    AttributeError,
    NameError,
    ImportError,
    TypeError,
    NotImplementedError,
    RecursionError,
    ZeroDivisionError,
    IndexError,
    MemoryError,
)
# clinic_app's own errors whose messages name only the database, its folders, ids or revisions.
# Not DuplicateMRNError (it quotes the MRN), not the conflict errors (they name people), not
# MigrationError (it may quote a driver's text about a row).
_SAFE_OURS = frozenset(
    f"clinic_app.storage.errors.{name}"
    for name in (
        "DatabaseFileError",
        "DatabaseTooNewError",
        "NotOurDatabaseError",
        "DatabaseAccessError",
        "DatabaseBusyError",
        "NotFoundError",
        "NotSignedError",
    )
)
_QT_DELETED = "Internal C++ object ("


def _qualified(kind: type[BaseException]) -> str:
    module, name = kind.__module__, kind.__qualname__
    return name if module in ("builtins", "__main__") else f"{module}.{name}"


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "..."


def exception_message(exc: BaseException) -> str:
    """What of ``exc``'s message may be logged (see the module docstring); "" for none."""
    if isinstance(exc, OSError):
        reason = exc.strerror or ""
        head = f"[Errno {exc.errno}] {reason}".strip() if exc.errno is not None else reason
        named = exc.filename is not None or exc.filename2 is not None
        if not head:
            return "(message withheld)" if str(exc) else ""
        return f"{head} (file name withheld)" if named else head
    text = str(exc)
    if not text:
        return ""
    kind = type(exc)
    if isinstance(exc, _SAFE_BUILTINS) or _qualified(kind) in _SAFE_OURS:
        return _cut(text)
    if isinstance(exc, RuntimeError) and text.startswith(_QT_DELETED):
        return _cut(text)
    statement = getattr(exc, "statement", None)
    if isinstance(statement, str) and hasattr(exc, "orig"):  # sqlalchemy.exc.StatementError
        orig = getattr(exc, "orig", None)
        driver = f"({_qualified(type(orig))}) " if isinstance(orig, BaseException) else ""
        sql = " ".join(statement.split())
        return _cut(f"{driver}[SQL: {sql}] (driver message withheld)")
    return f"(message withheld, {len(text)} characters)"


def exception_line(exc: BaseException) -> str:
    """``module.Type: message``, with the message screened by :func:`exception_message`."""
    message = exception_message(exc)
    name = _qualified(type(exc))
    return f"{name}: {message}" if message else name


def format_exception(exc: BaseException) -> str:
    """The traceback of ``exc`` (and of its cause or context) as Python prints it, screened."""
    import traceback

    lines: list[str] = []
    seen: set[int] = set()

    def add(e: BaseException) -> None:
        seen.add(id(e))
        cause, context = e.__cause__, e.__context__
        if cause is not None and id(cause) not in seen:
            add(cause)
            lines.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
            )
        elif context is not None and not e.__suppress_context__ and id(context) not in seen:
            add(context)
            lines.append(
                "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        if e.__traceback__ is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_tb(e.__traceback__))
        lines.append(exception_line(e) + "\n")

    add(exc)
    return "".join(lines).rstrip("\n")


class _Withheld:
    """Stands for an argument that may be patient data; formats as ``<type withheld>``."""

    def __init__(self, value: object) -> None:
        self._text = f"<{type(value).__name__} withheld>"

    def __str__(self) -> str:
        return self._text

    __repr__ = __str__


def _screen(value: object) -> object:
    if isinstance(value, Safe | bool | int | float) or value is None:
        return value
    if isinstance(value, PurePath):
        return value.parent / "<pdf name withheld>" if value.suffix.lower() == ".pdf" else value
    if isinstance(value, BaseException):
        return Safe(exception_line(value))
    if isinstance(value, type):  # a class is code: log.warning("%s", type(err)) names it
        return Safe(value.__qualname__)
    return _Withheld(value)


def screened_message(record: logging.LogRecord) -> str:
    """``record``'s message with its arguments screened (the module docstring's rule)."""
    msg = record.msg
    if isinstance(msg, BaseException):
        msg = exception_line(msg)
    elif not isinstance(msg, str):
        msg = str(_Withheld(msg))
    args: Any = record.args
    if not args:
        return msg
    if isinstance(args, dict):
        args = {key: _screen(value) for key, value in args.items()}
    else:
        args = tuple(_screen(value) for value in args)
    try:
        return str(msg % args)
    except (TypeError, ValueError, KeyError):  # e.g. %d given a withheld text
        return f"{msg} <arguments withheld>"


class PhiSafeFormatter(logging.Formatter):
    """A formatter that applies the PHI rule to messages, arguments and tracebacks.

    Works on a copy of the record: another handler (a test's capture) still sees the original,
    and a traceback text cached on the record by another formatter is never reused here.
    """

    def __init__(self, fmt: str = FORMAT) -> None:
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        copy = logging.makeLogRecord(record.__dict__)
        copy.msg = screened_message(record)
        copy.args = None
        copy.exc_text = None
        return super().format(copy)

    def formatException(
        self,
        ei: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> str:
        exc = ei[1]
        return "" if exc is None else format_exception(exc)


# --- the rotating private file --------------------------------------------------------------------


class PrivateRotatingFileHandler(logging.FileHandler):
    """Appends to a 0600 file; at ``max_bytes`` renames it ``.1`` (``.1`` to ``.2``...).

    The standard ``logging.handlers.RotatingFileHandler`` does the same but creates files with
    the process umask (0644 usually) and its module imports socket, pickle and queue (~5 ms at
    every start, for handlers the app does not use).
    """

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, backups: int = BACKUP_COUNT) -> None:
        self.max_bytes = max_bytes
        self.backups = backups
        super().__init__(path, mode="a", encoding="utf-8", errors="backslashreplace")

    def _open(self) -> Any:
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.baseFilename, flags, 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # a file made before, or by hand, with a wider mode
            return open(fd, "a", encoding=self.encoding, errors=self.errors)  # noqa: SIM115
        except BaseException:
            os.close(fd)
            raise

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record) + self.terminator
            if self.stream is None:
                self.stream = self._open()
            size = self.stream.tell()
            if 0 < self.max_bytes < size + len(text.encode("utf-8", "replace")) and size > 0:
                self._rollover()
            self.stream.write(text)
            self.stream.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def _rollover(self) -> None:
        if self.stream is not None:
            self.stream.close()
        base = self.baseFilename
        try:
            for index in range(self.backups - 1, 0, -1):
                older = f"{base}.{index}"
                if os.path.exists(older):
                    os.replace(older, f"{base}.{index + 1}")
            if self.backups > 0:
                os.replace(base, f"{base}.1")
            else:
                os.truncate(base, 0)
        except OSError:
            pass  # another process has the file open (Windows): keep writing to it
        self.stream = self._open()


# --- setting it up ------------------------------------------------------------------------------


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.directory: Path | None = None
        self.path: Path | None = None
        self.handlers: list[logging.Handler] = []
        self.problem: str | None = None  # why the log file cannot be written
        self.warned: set[Path] = set()


_state = _State()


def _private_folder(directory: Path) -> None:
    """Make ``directory`` (0700); tighten it too unless it is one ``$CLINIC_APP_LOG_DIR`` names
    that existed already (someone chose it, maybe shared with other things)."""
    existed = directory.is_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    chosen = bool(os.environ.get(LOG_DIR_ENV))
    if os.name == "posix" and not (existed and chosen) and directory.stat().st_mode & 0o077:
        os.chmod(directory, 0o700)


def setup_logging(level: int = logging.INFO, *, announce: bool = True) -> Path | None:
    """Log to the rotating file in :func:`log_dir`; the file's path, or None if it cannot be.

    Called by the command line's entry points. Calling it again for the same folder does
    nothing; for another folder (``$CLINIC_APP_DATA_DIR`` changed, as in tests) it moves there.
    A folder or file that cannot be written does not stop the app: errors then go to stderr
    only, and :func:`announce_problem` says so once (at once with ``announce``; a command calls
    it after succeeding, so that a failing command still prints its one line).
    """
    with _state.lock:
        directory = log_dir()
        if _state.directory == directory and _state.handlers:
            return _state.path
        _remove_handlers()
        handler: logging.Handler
        try:
            _private_folder(directory)
            handler = PrivateRotatingFileHandler(directory / LOG_NAME)
            handler.setLevel(level)
            _state.path = directory / LOG_NAME
            _state.problem = None
        except OSError as exc:
            # Errors only: the warnings a command logs repeat the line it prints itself.
            handler = logging.StreamHandler(sys.stderr)
            handler.setLevel(logging.ERROR)
            _state.path = None
            _state.problem = (
                f"clinic-app: cannot write the log file in {directory} "
                f"({exc.strerror or type(exc).__name__}); errors go to the terminal only"
            )
        handler.setFormatter(PhiSafeFormatter())
        _state.handlers = [handler]
        _state.directory = directory
        logging.getLogger().addHandler(handler)
        app_logger = logging.getLogger("clinic_app")
        if app_logger.level == logging.NOTSET or app_logger.level > level:
            app_logger.setLevel(level)
    if _state.path is None:
        if announce:
            announce_problem()
        return None
    from clinic_app import __version__

    log.info(
        "clinic_app %s logging (pid %d, Python %s)",
        safe(__version__),
        os.getpid(),
        safe(sys.version.split()[0]),
    )
    return _state.path


def announce_problem() -> None:
    """Say on stderr, once per folder and process, that the log file cannot be written."""
    with _state.lock:
        problem, directory = _state.problem, _state.directory
        if problem is None or directory is None or directory in _state.warned:
            return
        _state.warned.add(directory)
    if sys.stderr is not None:
        sys.stderr.write(problem + "\n")


def shutdown_logging() -> None:
    """Remove and close the handlers :func:`setup_logging` installed (tests, a clean exit)."""
    with _state.lock:
        _remove_handlers()


def _remove_handlers() -> None:
    root = logging.getLogger()
    for handler in _state.handlers:
        root.removeHandler(handler)
        handler.close()
    _state.handlers = []
    _state.directory = None
    _state.path = None
