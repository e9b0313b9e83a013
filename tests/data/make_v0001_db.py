"""Make ``clinic-0001.db``: a SQLite database at schema revision 0001, with data.

It proves upgrades: tests copy it, open it with the current app (which backs it up and upgrades it
to head) and check that every row survived. Made once and committed; rerun only to rebuild it:

    .venv/bin/python -m tests.data.make_v0001_db

``fill`` is also used to put the same rows into a PostgreSQL database at revision 0001.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
DB_FILE = HERE / "clinic-0001.db"
# Every table of the schema that holds rows: what an upgrade must keep.
TABLES = (
    "clinic",
    "clinician",
    "patient",
    "form_snapshot",
    "evaluation",
    "addendum",
    "audit_event",
)

T0 = "2026-01-10 09:00:00.000000"
PATIENTS = [
    (1, "Anna", "Müller", "1984-03-07", "female", "MRN-0001", "marathon"),
    (2, "Zoë", "Smith", "1990-12-01", "female", "MRN-0002", "football"),
    (3, "Łukasz", "Kowalski", "1979-06-30", "male", "MRN-0003", "sprinting"),
    (4, "芳", "王", "2001-01-15", "female", "MRN-0004", "badminton"),
    (5, "José", "Núñez", None, "male", "MRN-0005", "cycling"),
]
FORM = {
    "id": "test_form",
    "version": 1,
    "title": "Test form",
    "involved_side_item": "involved_side",
    "sections": [
        {
            "id": "main",
            "title": "Main",
            "items": [
                {
                    "id": "involved_side",
                    "label": "Involved side",
                    "type": "choice",
                    "source": "test",
                    "choices": [
                        {"id": "left", "label": "Left"},
                        {"id": "right", "label": "Right"},
                        {"id": "both", "label": "Both"},
                    ],
                },
                {"id": "pain_now", "label": "Pain now", "type": "scale", "source": "test"},
                {
                    "id": "nordic_force",
                    "label": "Nordic",
                    "type": "number",
                    "unit": "N",
                    "range": {"min": 0, "max": 1000},
                    "bilateral": True,
                    "source": "test",
                },
            ],
        }
    ],
}


def _findings(values: dict[str, Any]) -> str:
    return json.dumps({"form": "test_form", "form_version": 1, "values": values})


def fill(conn: sa.Connection) -> dict[str, int]:
    """Insert the sample rows (revision 0001 columns) and return the row count of each table."""

    def insert(table: str, rows: list[dict[str, Any]]) -> None:
        cols = list(rows[0])
        conn.execute(
            sa.text(
                f"INSERT INTO {table} ({', '.join(cols)}) "
                f"VALUES ({', '.join(':' + c for c in cols)})"
            ),
            rows,
        )

    insert(
        "clinic",
        [
            {
                "id": 1,
                "name": "Praxis Süd",
                "address": "Hauptstraße 1\nMünchen",
                "phone": "+49 89 123",
                "logo": b"\x89PNG\r\n\x1a\n",
                "paper_size": "A4",
                "updated_by": "admin",
                "updated_at": T0,
            }
        ],
    )
    insert(
        "clinician",
        [
            {
                "id": 1,
                "name": "Dr Zoë Ng",
                "credentials": "PT, DPT",
                "licence_number": "PT-4711",
                "active": True,
                "updated_by": "admin",
                "updated_at": T0,
            }
        ],
    )
    insert(
        "patient",
        [
            {
                "id": pid,
                "given_name": given,
                "family_name": family,
                "date_of_birth": dob,
                "sex": sex,
                "mrn": mrn,
                "phone": "",
                "email": f"p{pid}@example.org",
                "activity": activity,
                "referring_provider": "Dr Who",
                "archived": pid == 5,
                "created_at": T0,
                "updated_by": "admin",
                "updated_at": T0,
            }
            for pid, given, family, dob, sex, mrn, activity in PATIENTS
        ],
    )
    insert(
        "form_snapshot",
        [
            {
                "id": 1,
                "form_id": "test_form",
                "version": 1,
                "content": json.dumps(FORM),
                "content_hash": "0" * 64,
                "created_at": T0,
            }
        ],
    )
    evaluations = [
        (
            1,
            1,
            "initial",
            "2026-01-10",
            "left",
            {"involved_side": "left", "pain_now": 6, "nordic_force": {"left": 210, "right": 300}},
            "signed",
        ),
        (
            2,
            1,
            "re_evaluation",
            "2026-02-10",
            "left",
            {"involved_side": "left", "pain_now": 3, "nordic_force": {"left": 260}},
            "draft",
        ),
        (3, 3, "initial", "2026-01-12", None, {"pain_now": 2}, "draft"),
    ]
    insert(
        "evaluation",
        [
            {
                "id": eid,
                "patient_id": pid,
                "clinician_id": 1,
                "kind": kind,
                "eval_date": day,
                "form_snapshot_id": 1,
                "form_id": "test_form",
                "form_version": 1,
                "involved_side": side,
                "findings": _findings(values),
                "carried_forward": json.dumps({"items": [], "from_evaluation": None}),
                "status": status,
                "signed_by": "Dr Zoë Ng" if status == "signed" else None,
                "signed_at": T0 if status == "signed" else None,
                "content_hash": f"{eid:064d}",
                "version": 3 if status == "signed" else 1,
                "created_by": "admin",
                "created_at": T0,
                "updated_by": "admin",
                "updated_at": T0,
            }
            for eid, pid, kind, day, side, values, status in evaluations
        ],
    )
    insert(
        "addendum",
        [
            {
                "id": 1,
                "evaluation_id": 1,
                "author": "Dr Zoë Ng",
                "created_at": T0,
                "text": "Telefonat: Schmerz gebessert.",
            }
        ],
    )
    insert(
        "audit_event",
        [
            {
                "id": n,
                "at": T0,
                "actor": "admin",
                "entity": "patient",
                "entity_id": n,
                "action": "create",
                "before_digest": None,
                "after_digest": f"{n:064x}",
            }
            for n in range(1, 6)
        ],
    )
    return {t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}


def make(path: Path) -> dict[str, int]:
    from clinic_app.storage import migrate
    from clinic_app.storage.database import open_database

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
    try:
        migrate.upgrade(db.engine, "0001")
        with db.engine.begin() as conn:
            counts = fill(conn)
    finally:
        db.close()
    seal(path)
    return counts


def seal(path: Path) -> None:
    """Make the sample one self-contained, compact file for git (no WAL)."""
    plain = sqlite3.connect(path)
    try:
        plain.execute("PRAGMA journal_mode=DELETE")
        plain.execute("VACUUM")
    finally:
        plain.close()


if __name__ == "__main__":
    sys.stdout.write(f"{DB_FILE}: {make(DB_FILE)}\n")
