"""``clinic-app access-log``: who viewed, opened, exported, printed or previewed what, and when.

Reads the one trail of ``records.access_log`` (access events and every change event, newest
first) with the same filters as the admin screen; ``--csv`` writes it for the privacy officer
(0600, safe against spreadsheet formulas), ``--json`` prints it for a script. The database is
opened as ``storage_cmds`` opens it (no migration, no backup), so an encrypted clinic gets the
same passphrase handling there.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clinic_app.cli import UserError

if TYPE_CHECKING:
    from clinic_app.storage.records.access import AccessEntry

MAX_LIMIT = 1_000_000


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _record_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a patient number (1, 2, 3...)")
    return int(text)


def _limit(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of rows (1 to {MAX_LIMIT:,})")
    return int(text)


def _actions() -> tuple[str, ...]:
    from clinic_app.storage.records.access import ACCESS_ACTIONS, CHANGE_ACTIONS

    return ACCESS_ACTIONS + CHANGE_ACTIONS


def register(sub: Any) -> None:
    log = sub.add_parser(
        "access-log",
        help="who viewed, opened, exported, printed or changed which record (newest first)",
    )
    log.add_argument("--patient", type=_record_id, metavar="ID", help="only this patient's")
    log.add_argument(
        "--clinician", metavar="LOGIN", help="only what this clinician did (as recorded)"
    )
    log.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="from this day on")
    log.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help="up to this day, included")
    log.add_argument(
        "--action",
        action="append",
        metavar="A",
        help="only this action (repeatable): view, open, export, print, preview, sign_in... "
        "or a change (create, update, sign...)",
    )
    log.add_argument(
        "--limit", type=_limit, default=5000, metavar="N", help="at most N events (5000)"
    )
    out = log.add_mutually_exclusive_group()
    out.add_argument("--csv", type=Path, metavar="FILE", help="write the events to FILE as CSV")
    out.add_argument("--json", action="store_true", help="print the events as JSON")
    log.set_defaults(handler=cmd_access_log)


def _as_dict(entry: AccessEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "patient_id": entry.patient_id,
        "patient_name": entry.patient_name,
    }


def _line(entry: AccessEntry) -> str:
    when = entry.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    what = f"{entry.entity} {entry.entity_id}"
    name = entry.patient_name or ""
    if entry.patient_id is not None and entry.entity != "patient":
        name = f"(patient {entry.patient_id} {name})".replace(" )", ")")
    return f"{when}  {entry.actor:<16} {entry.action:<14} {what} {name}".rstrip()


def cmd_access_log(args: argparse.Namespace) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.storage import migrate
    from clinic_app.storage.records.access import access_log, write_access_csv

    known = _actions()
    for action in args.action or ():
        if action not in known:
            raise UserError(f"--action: {action!r} is not one of {', '.join(known)}")
    if args.since and args.until and args.until < args.since:
        raise UserError(f"--until {args.until} is before --since {args.since}")
    clinician = args.clinician.strip() if args.clinician is not None else None
    if clinician is not None and not clinician:
        raise UserError("--clinician: give a login name")
    with _storage_errors(_where(args)), _open(args, migrate=False, backup=False) as db:
        revision = db.schema_revision()
        if revision != migrate.HEAD:
            raise UserError(
                f"{db.where}: schema revision {revision or 'none'}, this app reads "
                f"{migrate.HEAD}; open the database with the app once to upgrade it"
            )
        entries = access_log(
            db,
            patient_id=args.patient,
            actor=clinician,
            since=args.since,
            until=args.until,
            actions=args.action,
            limit=args.limit,
        )
        if args.csv is not None:
            written = write_access_csv(entries, args.csv)
            print(f"{written} events written to {args.csv}")
            return 0
    if args.json:
        print(json.dumps([_as_dict(e) for e in entries], ensure_ascii=False, indent=1))
    elif not entries:
        print("no events match")
    else:
        for entry in entries:
            print(_line(entry))
    return 0
