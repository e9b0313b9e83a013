"""The clinic passphrase for headless commands on an encrypted clinic (issue 14).

``--passphrase-stdin`` (before or after the command's name) reads it as the first line of
standard input (bounded: at most 1024 characters); without it a terminal is asked, and with
neither the command stops with one line. ``$CLINIC_APP_PASSPHRASE`` is for tests and CI only: an
environment is visible to other programs of the same user, a terminal prompt is not.

:func:`prepare` runs before every command that opens the database: when the SQLite file is
encrypted (or a new one will be) it obtains the passphrase once and hands it to
``storage.encryption.remember_key``, so every ``open_database`` of that file in the command uses
it without each command passing it on.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import IO, Any

from clinic_app.cli import UserError

OPTION = "--passphrase-stdin"
HELP = (
    "read the clinic passphrase of an encrypted database from the first line of standard input "
    "(without it, a terminal is asked; $CLINIC_APP_PASSPHRASE is for tests only)"
)
# Commands that never make a new database: a missing file needs no passphrase for them.
_NEVER_CREATE = frozenset({"info", "backup", "restore", "verify", "encrypt", "grant"})


def add_option(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--passphrase-stdin`` on the main parser and (not overriding it) on each command's."""
    parser.add_argument(
        OPTION,
        dest="passphrase_stdin",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help=HELP,
    )


def add_to_commands(sub: argparse._SubParsersAction[Any]) -> None:
    """The option on every command's parser and on those of its own subcommands."""
    for command in sub.choices.values():
        if not any(OPTION in action.option_strings for action in command._actions):
            add_option(command, top=False)
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                add_to_commands(action)


def prepare(args: argparse.Namespace) -> None:
    """Obtain the passphrase of the command's SQLite database when it is (or will be) encrypted."""
    from clinic_app.storage import encryption, files
    from clinic_app.storage.database import default_url, sqlite_file

    if args.command == "screenshots" and not getattr(args, "database", None):
        return  # a throwaway demo database
    url = getattr(args, "database", None) or default_url()
    path = sqlite_file(url)
    if path is None:
        return
    try:
        exists = path.is_file() and path.stat().st_size > 0
    except OSError:
        return  # the command's own checks say what is wrong with the path
    if exists:
        if files.looks_encrypted(path):
            encryption.remember_key(path, obtain(args, path))
        return
    if not encryption.new_clinic_encrypted() or args.command in _NEVER_CREATE:
        return
    if given(args) or _terminal():
        encryption.remember_key(path, obtain(args, path, new=True))


def given(args: argparse.Namespace) -> bool:
    """Whether a passphrase was given without asking (stdin option or the test variable)."""
    from clinic_app.storage import encryption

    return bool(getattr(args, "passphrase_stdin", False)) or bool(
        os.environ.get(encryption.PASSPHRASE_ENV)
    )


def obtain(args: argparse.Namespace, path: Path, *, new: bool = False) -> str:
    """The passphrase for ``path`` (read once per command; ``new``: twice at a terminal, and at
    least the minimum length). UserError, one line, when none can be had."""
    from clinic_app.storage import encryption

    cached: str | None = getattr(args, "_passphrase", None)
    if cached is not None:
        return cached
    env = os.environ.get(encryption.PASSPHRASE_ENV)
    if getattr(args, "passphrase_stdin", False):
        text = read_line(sys.stdin.buffer)
    elif env:
        text = env
    elif _terminal():
        text = _ask(path, new=new)
    else:
        what = "will be" if new else "is"
        raise UserError(
            f"{path} {what} encrypted: give the clinic passphrase with {OPTION} (its first line "
            "of standard input), or run the command in a terminal to be asked"
            + (f", or set {encryption.ENCRYPTION_ENV}=off for a plain new database" if new else "")
        )
    try:
        encryption.check_passphrase(text, new=new)
    except encryption.PassphraseError as err:
        raise UserError(str(err)) from None
    args._passphrase = text
    return text


def read_line(stream: IO[bytes]) -> str:
    """One line of at most MAX_PASSPHRASE_LENGTH characters from ``stream`` (its line break
    removed); UserError for nothing, a longer line (``/dev/zero``), or text that is not UTF-8."""
    from clinic_app.storage import encryption

    limit = encryption.MAX_PASSPHRASE_LENGTH * 4 + 2  # UTF-8: up to four bytes a character
    raw = stream.readline(limit)
    if not raw:
        raise UserError(f"{OPTION}: standard input is empty (no passphrase)")
    if not raw.endswith(b"\n") and len(raw) >= limit:
        raise UserError(
            f"{OPTION}: the first line is too long to be a passphrase "
            f"(at most {encryption.MAX_PASSPHRASE_LENGTH} characters)"
        )
    raw = raw.removesuffix(b"\n").removesuffix(b"\r")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{OPTION}: the passphrase is not UTF-8 text") from None


def read_new(args: argparse.Namespace, path: Path) -> str:
    """A new passphrase: once from ``--passphrase-stdin`` (or the test variable), else twice
    from the terminal; at least the minimum length."""
    return obtain(args, path, new=True)


def _terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _ask(path: Path, *, new: bool) -> str:
    from clinic_app.storage import encryption

    try:
        if not new:
            return getpass.getpass(f"Clinic passphrase for {path}: ")
        first = getpass.getpass(
            f"New clinic passphrase for {path} (at least "
            f"{encryption.MIN_PASSPHRASE_LENGTH} characters): "
        )
        encryption.check_passphrase(first, new=True)
        if getpass.getpass("The same passphrase again: ") != first:
            raise UserError("the two passphrases differ; nothing was changed")
        return first
    except encryption.PassphraseError as err:
        raise UserError(str(err)) from None
    except EOFError:
        raise UserError("no passphrase given") from None
