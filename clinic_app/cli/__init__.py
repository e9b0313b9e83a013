"""Command line: the GUI by default, subcommands for headless work.

Each layer registers its own subcommands (``core_cmds``, ``storage_cmds``, ``report_cmds``,
``ui_cmds``) so that a command imports its layer only when it runs: ``clinic-app check-form`` never
loads Qt, SQLAlchemy or reportlab. A command returns its exit code; user errors are printed as one
clear line on stderr, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from clinic_app import __version__
from clinic_app.logs import announce_problem, safe, setup_logging

log = logging.getLogger(__name__)

# Modules that contribute subcommands; each has ``register(subparsers)``. A module that does not
# exist yet (a layer still being built) is skipped.
COMMAND_MODULES = (
    "clinic_app.cli.core_cmds",
    "clinic_app.cli.storage_cmds",
    "clinic_app.cli.report_cmds",
    "clinic_app.cli.ui_cmds",
    "clinic_app.cli.desktop_cmds",
    "clinic_app.cli.user_cmds",  # accounts (issue 14)
    "clinic_app.cli.access_cmds",  # the access log (issue 14)
    "clinic_app.cli.list_cmds",  # list patients/episodes/evaluations/visits (issue 15)
    "clinic_app.cli.note_cmds",  # the note text for the clinic's main record (issue 15)
    "clinic_app.cli.exercise_cmds",  # the exercise library (issue 17)
    "clinic_app.cli.interop_cmds",  # export fhir/csv, import patients (issue 20)
)


class UserError(Exception):
    """A problem the user can fix (bad file, bad argument): printed as one line, exit code set."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line, as every other failure: the usage of a command with many options is several.
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="clinic-app",
        description="Whole-body evaluation of posterior-thigh pain. "
        "Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"clinic-app {__version__}")
    parser.add_argument(
        "--database",
        metavar="URL",
        help="database URL (default: SQLite in the data folder; or $CLINIC_APP_DATABASE_URL)",
    )
    from clinic_app.cli import passphrase

    passphrase.add_option(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    passphrase.add_to_commands(sub)  # also after the command's name: info --passphrase-stdin
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        try:
            check_database_url(args)
        except UserError as err:
            print(f"clinic-app: {one_line(str(err))}", file=sys.stderr)
            return err.code
        return gui_main(args)
    setup_logging(announce=False)
    command = safe(args.command)
    log.info("command %s started", command)
    try:
        if _uses_database(args):
            check_database_url(args)
            from clinic_app.cli import passphrase

            passphrase.prepare(args)  # an encrypted clinic's passphrase, asked once
        code: int = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not later at exit
    except UserError as err:
        # The message may quote what the user gave (an MRN, a file name): the log gets the code.
        log.warning("command %s refused (exit %d)", command, err.code)
        print(f"clinic-app {args.command}: {one_line(str(err))}", file=sys.stderr)
        return err.code
    except BrokenPipeError:
        # ``clinic-app assess f.json | head``: the reader left. Nothing more can reach it; Python
        # would complain again when it flushes stdout at exit, so stdout goes to /dev/null.
        log.info("command %s: standard output closed early", command)
        _silence_stdout()
        print(
            f"clinic-app {args.command}: the output was closed before everything was written "
            "(broken pipe)",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        log.info("command %s interrupted", command)
        return 130
    except Exception:
        log.exception("command %s failed", command)
        raise
    log.info("command %s ended (exit %d)", command, code)
    if code == 0:  # a failed command prints its one line only
        announce_problem()
    return code


def one_line(message: str) -> str:
    """A message as one line: its lines joined with "; " (a path with a line break is quoted)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return "; ".join(lines) if lines else message.strip()


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (a test's capture): nothing left to flush
        pass


# Commands that never open the database: a broken database URL is not theirs to refuse.
_NO_DATABASE = frozenset({"check-form", "assess", "score", "install-desktop"})


def _uses_database(args: argparse.Namespace) -> bool:
    if args.command in _NO_DATABASE:
        return False
    return not (args.command == "report" and getattr(args, "findings", None) is not None)


def check_database_url(args: argparse.Namespace) -> None:
    """Refuse a database URL that cannot be parsed, or names an unknown database kind, before a
    command uses it: SQLAlchemy's own errors (a ValueError for ``[::1:1``) are tracebacks.

    The URL comes from ``--database`` or ``$CLINIC_APP_DATABASE_URL``; the message shows it
    without its password. SQLAlchemy is imported only when a URL was given.
    """
    from clinic_app.paths import DATABASE_URL_ENV

    url = getattr(args, "database", None)
    where = "--database"
    if not url and os.environ.get(DATABASE_URL_ENV):
        url, where = os.environ[DATABASE_URL_ENV], f"${DATABASE_URL_ENV}"
    if not url:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    shown = _without_password(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as err:
        problem = str(err).replace(url, shown)
        raise UserError(f"invalid database URL {shown!r} ({where}): {problem}") from None
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise UserError(
            f"invalid database URL {shown!r} ({where}): unknown kind of database "
            f"{parsed.drivername!r}; use sqlite:///FILE or postgresql+psycopg://USER@HOST/NAME"
        ) from None
    except ImportError:  # the driver's module is checked when the database is opened
        pass


def _without_password(url: str) -> str:
    """``url`` with anything between ``://user:`` and ``@`` hidden (it cannot be parsed)."""
    import re

    return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)


def gui_main(args: argparse.Namespace | None = None) -> int:
    setup_logging()  # once: a second call (from main) for the same folder does nothing
    try:
        from clinic_app.ui.app import run
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("clinic_app.ui"):
            print("clinic-app: the desktop interface is not built yet", file=sys.stderr)
            return 1
        raise
    database = getattr(args, "database", None) if args is not None else None
    return run(database=database)
