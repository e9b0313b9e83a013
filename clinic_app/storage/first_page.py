"""The first page of the patient list, read before SQLAlchemy is imported.

Importing SQLAlchemy's ORM, pydantic and PyYAML costs about three times as long as starting a
bare Qt window (benchmarks/reference.md). So that the therapist sees the patient list at once,
the app reads the first page of an existing, up-to-date SQLite database with the stdlib
``sqlite3`` module, shows it, and opens the database properly (integrity check, schema check,
daily backup) on a worker thread afterwards.

Nothing here writes: the file is opened read-only (``files.open_readonly``), so a damaged file
is still refused byte-identical by the full opening that follows. Anything unusual (no file, an
older or newer schema, an unreadable file, an unknown clinician) returns None and the caller
takes the ordinary path, which explains the problem properly. So does an encrypted file: nothing
of it can be read (nor shown) before a clinician signs in and unlocks it.

The SQL mirrors ``records.list_patients(sort="name")`` and ``records.count_patients``; a test
keeps the two in step.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from clinic_app.storage import encryption, files, migrate
from clinic_app.storage.errors import StorageError
from clinic_app.storage.values import Clinician, Patient, parse_roles

PATIENT_COLUMNS = (
    "id",
    "given_name",
    "family_name",
    "mrn",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "activity",
    "referring_provider",
    "archived",
    "created_at",
    "updated_at",
    "updated_by",
)


@dataclass(frozen=True)
class FirstPage:
    """What the main window needs before the database is open: list size, first rows, user."""

    path: Path
    total: int
    patients: tuple[Patient, ...]
    clinician: Clinician


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _datetime(text: str) -> datetime:
    # SQLAlchemy's SQLite DateTime stores naive "YYYY-MM-DD HH:MM:SS.ffffff" in UTC; the records
    # API hands them out as aware UTC datetimes (storage._types.UTCDateTime).
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def patient_from_row(row: tuple[Any, ...]) -> Patient:
    """A Patient from a row of PATIENT_COLUMNS as sqlite3 returns it."""
    values = dict(zip(PATIENT_COLUMNS, row, strict=True))
    values["date_of_birth"] = _date(values["date_of_birth"])
    values["archived"] = bool(values["archived"])
    values["created_at"] = _datetime(values["created_at"])
    values["updated_at"] = _datetime(values["updated_at"])
    return Patient(**values)


def read_first_page(path: Path, *, clinician_id: int | None, limit: int = 100) -> FirstPage | None:
    """Count, first ``limit`` patients in name order and the clinician; None: the slow path.

    ``clinician_id`` is the one remembered on this computer; None (first run) needs the dialogs of
    the ordinary start, so it returns None too.
    """
    if clinician_id is None:
        return None
    try:
        if not path.is_file() or path.stat().st_size == 0 or encryption.is_encrypted(path):
            return None  # an encrypted clinic shows nothing before sign-in
        with files.open_readonly(path) as conn:
            return _read(conn, path, clinician_id, limit)
    except (OSError, StorageError, sqlite3.Error, ValueError, TypeError):
        return None  # the ordinary opening will say what is wrong


def _read(conn: sqlite3.Connection, path: Path, clinician_id: int, limit: int) -> FirstPage | None:
    has_version = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (migrate.VERSION_TABLE,)
    ).fetchone()
    if has_version is None:
        return None
    revision = conn.execute(f"SELECT version_num FROM {migrate.VERSION_TABLE}").fetchone()
    if revision is None or revision[0] != migrate.HEAD:
        return None  # an upgrade (with its backup) or a refusal: the ordinary path does both
    if conn.execute("SELECT 1 FROM clinic LIMIT 1").fetchone() is None:
        return None
    person = conn.execute(
        "SELECT id, name, credentials, licence_number, active, login, roles FROM clinician "
        "WHERE id = ?",
        (clinician_id,),
    ).fetchone()
    if person is None:
        return None
    clinician = Clinician(
        id=int(person[0]),
        name=str(person[1]),
        credentials=str(person[2]),
        licence_number=str(person[3]),
        active=bool(person[4]),
        login=None if person[5] is None else str(person[5]),
        roles=parse_roles(person[6]),
    )
    total = conn.execute("SELECT count(*) FROM patient WHERE archived = 0").fetchone()[0]
    rows = conn.execute(
        f"SELECT {', '.join(PATIENT_COLUMNS)} FROM patient WHERE archived = 0 "
        "ORDER BY search_name, id LIMIT ?",
        (max(limit, 0),),
    ).fetchall()
    return FirstPage(
        path=path,
        total=int(total),
        patients=tuple(patient_from_row(r) for r in rows),
        clinician=clinician,
    )


def sqlite_path(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL, parsed without SQLAlchemy; None for anything
    else (another backend, a driver, options, escapes, in-memory), which takes the slow path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    name = url[len(prefix) :]
    if not name or any(c in name for c in "?%#") or name.startswith((":memory:", "file:")):
        return None
    return Path(name).expanduser()
