"""``clinic-app list``: patients, episodes of care, evaluations and visit notes, one line each.

``clinic-app list patients|episodes|evaluations|visits [--patient ID] [--episode ID] [--json]``
prints record ids with their dates, kinds and status in aligned columns (``--json``: a JSON
array), so a script or the clinic's main record system can find what to fetch next (``report``,
``note``). ``evaluations`` lists the evaluation kinds (initial, re-evaluation, discharge),
``visits`` only visit notes; both oldest first. Episodes are listed newest first.

Listing shows patients' names and records, so it is a read of health information: each patient
listed is written to the access log as viewed by the command line (the operating-system user
named, as ``report`` does for an export). The database is opened as ``access-log`` opens it (no
migration, no backup) and must be at this app's schema revision. Every refusal is one line that
names the argument (a malformed, negative or huge id, an unknown patient or episode, an episode
of another patient).
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from clinic_app.cli import UserError

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import Episode, EvaluationSummary, Patient

WHAT = ("patients", "episodes", "evaluations", "visits")
# Record ids are 32-bit integers on PostgreSQL; anything larger is a typo, not a record.
MAX_ID = 2**31 - 1
# Each listed patient is one access-log write (about 7 ms on SQLite): 10,000 is over a minute.
MAX_LIMIT = 10_000
KIND_NAMES = {
    "initial": "initial",
    "re_evaluation": "re-evaluation",
    "discharge": "discharge",
    "visit": "visit",
}


def _record_id(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a record number (1, 2, 3...)")
    value = int(text) if len(text) <= 20 else MAX_ID + 1  # int() refuses 4,300+ digits
    if not 1 <= value <= MAX_ID:
        shown = text if len(text) <= 20 else f"{text[:12]}... ({len(text)} digits)"
        raise argparse.ArgumentTypeError(f"{shown} is not a record number (1 to {MAX_ID:,})")
    return value


def _limit(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 6 or not 1 <= int(text) <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a number of rows (1 to {MAX_LIMIT:,})"
        )
    return int(text)


def register(sub: Any) -> None:
    lst = sub.add_parser(
        "list",
        help="list patients, episodes of care, evaluations or visit notes (ids, dates, status)",
    )
    lst.add_argument("what", choices=WHAT, help="what to list")
    lst.add_argument("--patient", type=_record_id, metavar="ID", help="this patient's records")
    lst.add_argument("--episode", type=_record_id, metavar="ID", help="this episode's records")
    lst.add_argument("--archived", action="store_true", help="patients: include archived patients")
    lst.add_argument("--limit", type=_limit, metavar="N", help="patients: at most N (500)")
    lst.add_argument("--json", action="store_true", help="print a JSON array")
    lst.set_defaults(handler=cmd_list)


# -- printing -----------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Text for a terminal line: control and format characters shown as '?'."""
    return "".join("?" if unicodedata.category(c)[0] == "C" else c for c in text)


def _width(text: str) -> int:
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Aligned columns (wide characters count twice); the last column is not padded."""
    cells = [[_clean(c) for c in row] for row in [header, *rows]]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        parts = [c + " " * (widths[i] - _width(c)) for i, c in enumerate(row[:-1])]
        lines.append("  ".join([*parts, row[-1]]).rstrip())
    return lines


def _day(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def _evaluation_status(e: EvaluationSummary) -> str:
    if e.status == "signed":
        return "signed"
    if e.prepared_by is not None:
        return "awaiting co-signature"
    return "draft"


def _patient_dict(p: Patient) -> dict[str, Any]:
    return {
        "id": p.id,
        "mrn": p.mrn,
        "family_name": p.family_name,
        "given_name": p.given_name,
        "date_of_birth": _day(p.date_of_birth) or None,
        "status": "archived" if p.archived else "active",
    }


def _episode_dict(e: Episode, records: int) -> dict[str, Any]:
    return {
        "id": e.id,
        "patient_id": e.patient_id,
        "start_date": e.start_date.isoformat(),
        "end_date": _day(e.end_date) or None,
        "status": "closed" if e.end_date is not None else "open",
        "involved_side": e.involved_side,
        "title": e.title,
        "records": records,
    }


def _evaluation_dict(e: EvaluationSummary) -> dict[str, Any]:
    return {
        "id": e.id,
        "patient_id": e.patient_id,
        "episode_id": e.episode_id,
        "date": e.eval_date.isoformat(),
        "kind": e.kind,
        "status": _evaluation_status(e),
        "version": e.version,
        "signed_by": e.signed_by,
        "signed_at": e.signed_at.isoformat() if e.signed_at else None,
    }


# -- reading ------------------------------------------------------------------------------------


def _patient(db: Database, patient_id: int) -> Patient:
    from clinic_app.storage import records as r
    from clinic_app.storage.errors import NotFoundError

    try:
        return r.get_patient(db, patient_id)
    except NotFoundError:
        raise UserError(f"--patient: there is no patient {patient_id}") from None


def _episode(db: Database, episode_id: int, patient_id: int | None) -> Episode:
    from clinic_app.storage import records as r
    from clinic_app.storage.errors import NotFoundError

    try:
        episode = r.get_episode(db, episode_id)
    except NotFoundError:
        raise UserError(f"--episode: there is no episode {episode_id}") from None
    if patient_id is not None and episode.patient_id != patient_id:
        raise UserError(
            f"--episode: episode {episode_id} is not patient {patient_id}'s "
            f"(it belongs to patient {episode.patient_id})"
        )
    return episode


def _actor() -> str:
    import getpass

    from clinic_app.storage.accounts import Headless

    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container)
        who = ""
    return Headless(who).actor


def _viewed(db: Database, patient_ids: Sequence[int]) -> None:
    """The access log: each listed patient's record was read by the command line (one commit)."""
    from clinic_app.storage.records import log_accesses

    log_accesses(db, actor=_actor(), action="view", entity="patient", entity_ids=patient_ids)


def _patients(db: Database, args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[int]]:
    from clinic_app.storage import records as r

    if args.patient is not None:
        found = [_patient(db, args.patient)]
    else:
        found = r.list_patients(db, limit=args.limit or 500, include_archived=args.archived)
    return [_patient_dict(p) for p in found], [p.id for p in found]


def _episodes(
    db: Database, args: argparse.Namespace, patient_id: int
) -> tuple[list[dict[str, Any]], list[int]]:
    from clinic_app.storage import records as r

    if args.episode is not None:
        chosen = [_episode(db, args.episode, patient_id)]
    else:
        chosen = r.list_episodes(db, patient_id)
    counts: dict[int, int] = {}
    for e in r.list_evaluations(db, patient_id):
        if e.episode_id is not None:
            counts[e.episode_id] = counts.get(e.episode_id, 0) + 1
    return [_episode_dict(e, counts.get(e.id, 0)) for e in chosen], [patient_id]


def _records(
    db: Database, args: argparse.Namespace, patient_id: int
) -> tuple[list[dict[str, Any]], list[int]]:
    from clinic_app.storage import models as m
    from clinic_app.storage import records as r

    if args.episode is not None:
        _episode(db, args.episode, patient_id)
    kinds = ["visit"] if args.what == "visits" else [k for k in m.EVALUATION_KINDS if k != "visit"]
    found = r.list_evaluations(db, patient_id, episode_id=args.episode, kinds=kinds)
    return [_evaluation_dict(e) for e in found], [patient_id]


def _lines(what: str, items: list[dict[str, Any]]) -> list[str]:
    if what == "patients":
        return _table(
            ("ID", "MRN", "BORN", "STATUS", "NAME"),
            [
                (
                    str(p["id"]),
                    p["mrn"],
                    p["date_of_birth"] or "",
                    p["status"],
                    f"{p['family_name']}, {p['given_name']}",
                )
                for p in items
            ],
        )
    if what == "episodes":
        return _table(
            ("ID", "PATIENT", "START", "END", "STATUS", "SIDE", "RECORDS", "TITLE"),
            [
                (
                    str(e["id"]),
                    str(e["patient_id"]),
                    e["start_date"],
                    e["end_date"] or "-",
                    e["status"],
                    e["involved_side"] or "-",
                    str(e["records"]),
                    e["title"],
                )
                for e in items
            ],
        )
    return _table(
        ("ID", "PATIENT", "EPISODE", "DATE", "KIND", "VERSION", "STATUS"),
        [
            (
                str(e["id"]),
                str(e["patient_id"]),
                str(e["episode_id"]),
                e["date"],
                KIND_NAMES.get(e["kind"], e["kind"]),
                str(e["version"]),
                e["status"] + (f" by {e['signed_by']}" if e["status"] == "signed" else ""),
            )
            for e in items
        ],
    )


def cmd_list(args: argparse.Namespace) -> int:
    from clinic_app.cli.storage_cmds import _open, _storage_errors, _where
    from clinic_app.storage import migrate

    if args.what == "patients" and args.episode is not None:
        raise UserError("--episode: list patients takes --patient, not --episode")
    if args.what != "patients" and (args.archived or args.limit is not None):
        raise UserError(f"--archived and --limit are for list patients, not list {args.what}")
    with _storage_errors(_where(args)), _open(args, migrate=False, backup=False) as db:
        revision = db.schema_revision()
        if revision != migrate.HEAD:
            raise UserError(
                f"{db.where}: schema revision {revision or 'none'}, this app reads "
                f"{migrate.HEAD}; open the database with the app once to upgrade it"
            )
        if args.what == "patients":
            items, viewed = _patients(db, args)
        else:
            if args.patient is not None:
                patient_id = _patient(db, args.patient).id
            elif args.episode is not None:
                patient_id = _episode(db, args.episode, None).patient_id
            else:
                raise UserError(f"list {args.what}: give --patient ID (or --episode ID)")
            if args.what == "episodes":
                items, viewed = _episodes(db, args, patient_id)
            else:
                items, viewed = _records(db, args, patient_id)
        _viewed(db, viewed)
    if args.json:
        print(json.dumps(items, ensure_ascii=False, indent=1))
    elif not items:
        print(f"no {args.what}")
    else:
        print("\n".join(_lines(args.what, items)))
    return 0
