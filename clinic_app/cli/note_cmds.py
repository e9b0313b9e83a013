"""``clinic-app note ID``: the plain-text note of an evaluation or visit note, for the main EMR.

Prints the note that the "Copy note text" shortcut copies (S/O/A/P, red flags first), so a script
or a clinic without the GUI at hand gets the same text. The database is the global
``--database`` (or ``$CLINIC_APP_DATABASE_URL``); an encrypted clinic's passphrase was obtained
before the command ran (``--passphrase-stdin``). Reading the record out is written to the access
log as an export, as ``clinic-app report`` does.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

KINDS = ("evaluation", "visit")
EVALUATION_KINDS = ("initial", "re_evaluation", "discharge")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "note",
        help="print the plain-text note of an evaluation or visit note (for the clinic's EMR)",
        description=(
            "Print the S/O/A/P note text of a stored evaluation or visit note, red flags first, "
            "as the app's Copy note text shortcut copies it. The app suggests; the therapist "
            "decides."
        ),
    )
    p.add_argument("record_id", type=_record_id, metavar="ID", help="id of the evaluation or visit")
    p.add_argument(
        "--kind",
        choices=KINDS,
        help="refuse the record unless it is of this kind (evaluation: initial, re-evaluation "
        "or discharge)",
    )
    p.set_defaults(handler=cmd_note)


def _record_id(text: str) -> int:
    """A record id: a whole number a database column can hold (SQLite and PostgreSQL: 64 bits)."""
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if not 1 <= value < 2**63:
        shown = " ".join(text.split())
        shown = shown if len(shown) <= 40 else shown[:40] + "…"
        raise argparse.ArgumentTypeError(
            f"ID {shown!r} is not a record id (a whole number from 1 to {2**63 - 1})"
        )
    return value


def _kind_of(kind: str) -> str:
    return "visit" if kind == "visit" else "evaluation"


def cmd_note(args: argparse.Namespace) -> int:
    from clinic_app.cli import UserError
    from clinic_app.cli.inputs import check_database_file
    from clinic_app.core.findings import FindingsError
    from clinic_app.storage.database import default_url, open_database, sqlite_file
    from clinic_app.storage.errors import StorageError

    url = getattr(args, "database", None)
    path = sqlite_file(url or default_url())
    if path is not None and not check_database_file(path):
        raise UserError(f"{path}: no such database file (--database)")
    try:
        db = open_database(url)
    except StorageError as err:
        raise UserError(str(err)) from None
    try:
        text = _note(db, args.record_id, args.kind)
    except StorageError as err:
        raise UserError(f"ID {args.record_id}: {err}") from None
    except FindingsError as err:
        raise UserError("stored findings do not fit the form: " + "; ".join(err.problems)) from None
    finally:
        db.close()
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # the command line's own one line (the reader left: `note 5 | head -1`)
    except OSError as err:  # a full disk behind `> file`
        raise UserError(f"cannot print the note: {err.strerror or err}") from None
    return 0


def _note(db: Any, record_id: int, kind: str | None) -> str:
    from clinic_app.cli import UserError
    from clinic_app.core.kinds import kind_label
    from clinic_app.reports.note import note_text
    from clinic_app.storage.records import get_evaluation

    record = get_evaluation(db, record_id)
    if kind is not None and _kind_of(record.kind) != kind:
        what = "a visit note" if record.kind == "visit" else f"an {kind_label(record.kind).lower()}"
        raise UserError(f"--kind {kind}: record {record_id} is {what}, not {_article(kind)}")
    text = note_text(db, record_id)
    _record_read(db, record_id)
    return text


def _article(kind: str) -> str:
    return "a visit note" if kind == "visit" else "an evaluation"


def _record_read(db: Any, evaluation_id: int) -> None:
    """The access log (issue 14): the record was read out as text by the command line (the
    operating-system user is named, as ``clinic-app report`` does)."""
    import getpass

    from clinic_app.storage.accounts import Headless
    from clinic_app.storage.records.access import log_access

    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container)
        who = ""
    log_access(
        db, actor=Headless(who).actor, action="export", entity="evaluation", entity_id=evaluation_id
    )
