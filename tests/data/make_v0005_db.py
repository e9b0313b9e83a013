"""Make ``clinic-0005.db``: a clinic at schema revision 0005 (before episodes of care).

Several patients with what revision 0005 could hold: signed evaluations (sealed headless with a
fixed installation key, see :func:`install_key`, so a test can trust the seals), drafts, an
addendum, a patient whose last evaluation is a discharge, one with a discharge followed by a new
initial evaluation, one with a draft only and one with no evaluation at all.

It is written by the current records API on a database at the head revision and then downgraded
to 0005 by the migrations (the records API of 0005 no longer exists), and the script checks that
the result's schema is exactly what upgrading a new database to 0005 makes. The audit trail keeps
the events of the episodes the head revision made while writing it (audit events are never
deleted); nothing of revision 0005 reads them. Made once and committed; rerun only to rebuild it:

    .venv/bin/python -m tests.data.make_v0005_db
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from tests.data.make_v0001_db import seal

HERE = Path(__file__).resolve().parent
DB_FILE = HERE / "clinic-0005.db"
# Not a secret: the sample's installation key, so tests can trust the sample's seals.
KEY_SEED = bytes(range(1, 33))

# (given, family, referring provider, [(kind, date, side, pain, signed, addendum)])
PATIENTS: list[tuple[str, str, str, list[tuple[str, date, str | None, int, bool, str]]]] = [
    (
        "Anna",
        "Müller",
        "Dr. Berg",
        [
            ("initial", date(2026, 3, 2), "left", 7, True, "Telefonat: Schmerz gebessert."),
            ("re_evaluation", date(2026, 3, 30), "left", 4, True, ""),
            ("discharge", date(2026, 4, 27), "left", 1, True, ""),
        ],
    ),
    (
        "Jon",
        "Smith",
        "",
        [
            ("initial", date(2026, 5, 4), "right", 6, True, ""),
            ("re_evaluation", date(2026, 6, 1), None, 5, False, ""),
        ],
    ),
    ("Łukasz", "Kowalski", "Dr. Nowak", [("initial", date(2026, 6, 10), None, 3, False, "")]),
    ("芳", "王", "", []),
    (
        "Zoë",
        "Ørsted",
        "Dr. Hale",
        [
            ("initial", date(2026, 1, 12), "both", 5, True, ""),
            ("discharge", date(2026, 2, 9), "both", 0, True, ""),
            ("initial", date(2026, 9, 1), "right", 6, False, ""),
        ],
    ),
]


def install_key(folder: Path) -> str:
    """Write the sample's installation key into ``folder`` (a data folder); its public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from clinic_app.storage import sealing

    key = Ed25519PrivateKey.from_private_bytes(KEY_SEED)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / sealing.KEY_FILE
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return sealing.public_hex(key)


def fill(db: Any) -> None:
    """The sample's clinic, patients and records, written by the records API (head revision)."""
    from clinic_app.core.form import parse_form
    from clinic_app.storage import records as r
    from tests.storage.conftest import small_form_data

    form = parse_form(small_form_data(), "sample form")
    r.save_clinic(db, r.ClinicInfo(name="Sample Clinic", address="1 Sample Road"), user="setup")
    for given, family, referrer, evaluations in PATIENTS:
        patient = r.create_patient(
            db,
            r.PatientFields(given, family, mrn=f"S-{family[:3]}", referring_provider=referrer),
            user="dana",
        )
        for kind, on, side, pain, signed, addendum in evaluations:
            if kind == "initial":  # a new problem: the open case ends with its discharge
                for episode in r.list_episodes(db, patient.id):
                    if episode.end_date is None:
                        last = r.list_evaluations(db, patient.id, episode_id=episode.id)
                        info = r.EpisodeInfo(episode.title, end_date=last[-1].eval_date)
                        r.update_episode(db, episode.id, info, episode.version, user="dana")
            ev = r.start_evaluation(
                db, patient.id, form, user="dana", kind=kind, eval_date=on, copy_forward=False
            )
            values: dict[str, Any] = {"pain_now": pain, "nordic_force": {"left": 200 + pain}}
            if side:
                values["involved_side"] = side
            saved = r.save_draft(db, ev.id, {"values": values}, ev.version, user="dana")
            if signed:
                r.sign_evaluation(db, ev.id, saved.version, user="dana")
            if addendum:
                r.add_addendum(db, ev.id, addendum, user="dana")


def _schema(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"
        ).fetchall()
    finally:
        conn.close()
    return [(t, n, " ".join(s.split())) for t, n, s in rows]


def make(path: Path) -> str:
    from alembic import command

    from clinic_app.storage import migrate
    from clinic_app.storage.database import open_database

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    work = Path(tempfile.mkdtemp(prefix="clinic-0005-"))
    old = {k: os.environ.get(k) for k in ("CLINIC_APP_DATA_DIR", "CLINIC_APP_ENCRYPTION")}
    os.environ["CLINIC_APP_DATA_DIR"] = str(work / "data")
    os.environ["CLINIC_APP_ENCRYPTION"] = "off"  # a sample in git: a plain file
    try:
        install_key(work / "data")
        db = open_database(f"sqlite:///{path}", backup=False)
        try:
            fill(db)
        finally:
            db.close()
        db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
        try:
            with db.engine.connect() as conn:
                command.downgrade(migrate.alembic_config(conn), "0005")
                conn.commit()
            revision = str(db.schema_revision())
        finally:
            db.close()
        fresh = work / "fresh.db"
        db = open_database(f"sqlite:///{fresh}", migrate=False, backup=False)
        try:
            migrate.upgrade(db.engine, "0005")
        finally:
            db.close()
        if _schema(path) != _schema(fresh):
            raise SystemExit("the downgraded schema is not revision 0005's")
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(work, ignore_errors=True)
    seal(path)
    return revision


if __name__ == "__main__":
    sys.stdout.write(f"{DB_FILE}: revision {make(DB_FILE)}\n")
