"""``clinic-app user``: clinician accounts without the desktop (issue 14).

Headless administration is done by whoever holds the data folder (and, on an encrypted clinic,
the passphrase): these commands need no admin to sign in, and the audit trail records them as
``command line (OS USER)``. Passwords are never arguments (they would show in ``ps`` and the shell
history): they are asked twice on the terminal without echo, or read as one line from standard
input with ``--password-stdin`` (at most a bounded number of bytes, so ``< /dev/zero`` is refused,
not read for ever). Every refusal is one line naming the field; nothing is changed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from clinic_app.cli import UserError

if TYPE_CHECKING:
    from clinic_app.storage.accounts import Account

# A line of stdin is read up to this many characters: the longest password and its line break.
_MAX_LINE_CHARS = 256 + 2

_ask = getpass.getpass  # the terminal prompt (a test replaces it)


def register(sub: Any) -> None:
    user = sub.add_parser(
        "user",
        help="clinician accounts: add, list, disable, enable, reset-password, passwd, recover",
        description="Clinician accounts. Whoever holds the data folder administers them here; "
        "passwords are asked on the terminal (twice, no echo) or read from standard input.",
    )
    actions = user.add_subparsers(
        dest="user_command", metavar="ACTION", required=True, parser_class=type(user)
    )

    add = actions.add_parser("add", help="add an account (the first admin gets a recovery key)")
    add.add_argument("login", help="sign-in name: 2-64 of a-z, 0-9, '.', '_', '-'")
    add.add_argument(
        "--role",
        action="append",
        required=True,
        metavar="ROLE",
        help="admin, therapist, assistant or student (repeat for two: --role admin --role "
        "therapist)",
    )
    add.add_argument("--display-name", help="the name printed on reports (default: the login)")
    add.add_argument("--credentials", default="", help='e.g. "PT, DPT"')
    add.add_argument("--licence", default="", help="licence number, printed on signed reports")
    _password_stdin(add, "read the password as one line from standard input")
    add.set_defaults(handler=cmd_add)

    listing = actions.add_parser("list", help="list the accounts")
    listing.add_argument("--json", action="store_true", help="as JSON")
    listing.set_defaults(handler=cmd_list)

    for name, handler, text in (
        ("disable", cmd_disable, "disable an account (its signatures stay)"),
        ("enable", cmd_enable, "enable a disabled account"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("login")
        action.set_defaults(handler=handler)

    reset = actions.add_parser(
        "reset-password", help="set a new password (asked again at the next sign-in)"
    )
    reset.add_argument("login")
    _password_stdin(reset, "read the new password as one line from standard input")
    reset.set_defaults(handler=cmd_reset_password)

    passwd = actions.add_parser("passwd", help="change your own password (old, then new)")
    passwd.add_argument("login")
    _password_stdin(passwd, "read the old and the new password, one a line, from standard input")
    passwd.set_defaults(handler=cmd_passwd)

    recover = actions.add_parser(
        "recover", help="the first admin: a new password with the printed recovery key"
    )
    recover.add_argument("login")
    _password_stdin(
        recover, "read the recovery key and the new password, one a line, from standard input"
    )
    recover.set_defaults(handler=cmd_recover)


def _password_stdin(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--password-stdin", action="store_true", help=text)


# ---------------------------------------------------------------------------- secrets in


def _stdin_line(field: str) -> str:
    """One line of standard input, bounded; its line break removed. Read through the text layer
    (``sys.stdin``), as a passphrase read before it is: both see the lines in order."""
    if sys.stdin is None:
        raise UserError(f"{field}: no standard input to read")
    try:
        line = sys.stdin.readline(_MAX_LINE_CHARS + 1)
    except UnicodeDecodeError:
        raise UserError(f"{field}: not UTF-8 text") from None
    if not line:
        raise UserError(f"{field}: nothing on standard input")
    if len(line) > _MAX_LINE_CHARS:
        raise UserError(f"{field}: too long (at most 256 characters)")
    line = line.removesuffix("\n").removesuffix("\r")
    if not line:
        raise UserError(f"{field}: empty")
    return line


def _has_terminal() -> bool:
    """Whether getpass can ask without echo (else it would read standard input unbounded)."""
    if os.name != "posix":
        return sys.stdin is not None and sys.stdin.isatty()
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return False
    return True


def _terminal(prompt: str, field: str) -> str:
    if not _has_terminal():
        raise UserError(f"{field}: no terminal to ask on; use --password-stdin")
    text = _ask(prompt)
    if not text:
        raise UserError(f"{field}: empty")
    return text


def _secret(args: argparse.Namespace, label: str) -> str:
    """One secret (``label`` names it in messages): a line of stdin with --password-stdin, else
    asked once on the terminal without echo."""
    if args.password_stdin:
        return _stdin_line(label)
    return _terminal(f"{label[0].upper()}{label[1:]}: ", label)


def _new_password(args: argparse.Namespace, label: str = "password") -> str:
    from clinic_app.storage.accounts import check_new_password
    from clinic_app.storage.errors import StorageError

    if args.password_stdin:
        password = _stdin_line(label)
    else:
        password = _terminal(f"{label.capitalize()}: ", label)
        try:  # before asking again: say now that it is too short
            check_new_password(password, login=_login(args))
        except StorageError as err:
            raise UserError(str(err)) from None
        if _terminal(f"{label.capitalize()} again: ", label) != password:
            raise UserError(f"{label}: the two entries differ; nothing was changed")
    try:
        return check_new_password(password, login=_login(args))
    except StorageError as err:
        raise UserError(str(err)) from None


def _login(args: argparse.Namespace) -> str:
    from clinic_app.storage.accounts import normalise_login
    from clinic_app.storage.errors import StorageError

    try:
        return normalise_login(args.login)
    except StorageError as err:
        raise UserError(str(err)) from None


def _headless() -> Any:
    from clinic_app.storage.accounts import Headless

    try:
        who = getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        who = f"uid {os.getuid()}" if hasattr(os, "getuid") else ""
    return Headless(who[:60])


# ------------------------------------------------------------------------------ commands


def cmd_add(args: argparse.Namespace) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.storage import accounts

    with _storage_errors(_where(args)):
        login = _login(args)
        roles = accounts.check_roles(args.role)  # before the password is asked
        display_name = login if args.display_name is None else args.display_name
        password = _new_password(args)
        with _open(args) as db:
            if "admin" in roles and accounts.needs_first_admin(db):
                if set(roles) - {"admin", "therapist"}:
                    raise UserError("role: the first admin is an admin, and may be a therapist")
                made, recovery = accounts.create_first_admin(
                    db,
                    login,
                    password,
                    display_name=display_name,
                    credentials=args.credentials,
                    licence_number=args.licence,
                    therapist="therapist" in roles,
                )
            else:
                recovery = None
                made = accounts.add_account(
                    db,
                    login,
                    password,
                    roles=roles,
                    display_name=display_name,
                    credentials=args.credentials,
                    licence_number=args.licence,
                    by=_headless(),
                )
    print(f"added account {made.login} ({', '.join(made.roles)})")
    if recovery is not None:
        print(f"recovery key: {recovery}")
        print(
            "Print this recovery key and keep it safe (locked away, not with the computer): it "
            "is shown only this once, and it is the way back in if the admin password is lost "
            f"(clinic-app user recover {made.login})."
        )
    return 0


def _rows(accounts_: list[Account]) -> list[dict[str, Any]]:
    return [
        {
            "login": acc.login,
            "display_name": acc.clinician.name,
            "credentials": acc.clinician.credentials,
            "licence_number": acc.clinician.licence_number,
            "roles": list(acc.roles),
            "active": acc.active,
            "password_set": acc.has_password,
            "must_change_password": acc.must_change_password,
        }
        for acc in accounts_
    ]


def cmd_list(args: argparse.Namespace) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.storage import accounts

    with _storage_errors(_where(args)), _open(args) as db:
        rows = _rows(accounts.list_accounts(db))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    table = [("LOGIN", "DISPLAY NAME", "ROLES", "ACTIVE", "PASSWORD SET")]
    for row in rows:
        password = "yes" if row["password_set"] else "no"
        if row["must_change_password"]:
            password += " (to change)"
        table.append(
            (
                row["login"],
                row["display_name"],
                ",".join(row["roles"]) or "-",
                "yes" if row["active"] else "no",
                password,
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    if not rows:
        print("(no accounts yet: clinic-app user add LOGIN --role admin)")
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.storage import accounts

    with _storage_errors(_where(args)):
        login = _login(args)
        with _open(args) as db:
            change = accounts.enable_account if active else accounts.disable_account
            change(db, login, by=_headless())
    print(f"{'enabled' if active else 'disabled'} account {login}")
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    return _set_active(args, False)


def cmd_enable(args: argparse.Namespace) -> int:
    return _set_active(args, True)


def cmd_reset_password(args: argparse.Namespace) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.storage import accounts

    with _storage_errors(_where(args)):
        login = _login(args)
        with _open(args) as db:
            accounts.get_account(db, login)  # an unknown login before the password is asked
            password = _new_password(args, "new password")
            accounts.reset_password(db, login, password, by=_headless())
    print(f"password of {login} set; they choose their own at the next sign-in")
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.storage import accounts

    with _storage_errors(_where(args)):
        login = _login(args)
        old = _secret(args, "old password")
        new = _new_password(args, "new password")
        with _open(args) as db:
            accounts.change_password(db, login, old, new)
    print(f"password of {login} changed")
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.storage import accounts

    with _storage_errors(_where(args)):
        login = _login(args)
        key = _secret(args, "recovery key")
        new = _new_password(args, "new password")
        with _open(args) as db:
            fresh = accounts.recover(db, login, key, new)
    print(f"password of {login} set")
    print(f"new recovery key: {fresh}")
    print("The old recovery key no longer works. Print this one and keep it safe.")
    return 0
