"""The start-up read of the first page of patients (stdlib sqlite3, before SQLAlchemy).

It must show exactly what ``records.list_patients``/``count_patients`` would, write nothing, and
step aside (None) for anything the ordinary opening has to deal with.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest

from clinic_app.storage import records
from clinic_app.storage.database import open_database, sqlite_file
from clinic_app.storage.first_page import read_first_page, sqlite_path

SAMPLE_0001 = Path(__file__).resolve().parents[1] / "data" / "clinic-0001.db"

NAMES = [
    ("Anna", "Müller", "MRN-1", date(1984, 3, 7)),
    ("Jörg", "Muller", "MRN-2", None),
    ("Łukasz", "Kowalski", "MRN-3", date(1979, 6, 30)),
    ("芳", "王", "MRN-4", date(2001, 1, 15)),
    ("Zoë", "Smith", "mrn-5", date(1990, 12, 1)),
    ("José", "Núñez", "MRN-6", None),
    ("Ada", "Åberg", "MRN-7", date(1970, 1, 1)),
    ("Ben", "O'Neil", "MRN-8", date(1999, 9, 9)),
    ("Anna", "Muller", "MRN-9", date(1984, 3, 7)),
]


def _clinic(path: Path, *, archive: tuple[str, ...] = ()) -> int:
    """A clinic at the current schema with NAMES (some archived); returns the clinician id."""
    db = open_database(f"sqlite:///{path}", backup=False)
    try:
        records.save_clinic(db, records.ClinicInfo(name="Clinic"), user="t")
        person = records.save_clinician(
            db, records.ClinicianInfo(name="Dana", credentials="PT"), user="t"
        )
        for given, family, mrn, born in NAMES:
            p = records.create_patient(
                db,
                records.PatientFields(given, family, mrn, born, activity="running"),
                user="t",
            )
            if mrn in archive:
                records.archive_patient(db, p.id, user="t")
    finally:
        db.close()
    return person.id


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("limit", [1, 4, 200])
def test_first_page_is_what_the_records_api_lists(tmp_path: Path, limit: int) -> None:
    path = tmp_path / "clinic.db"
    clinician_id = _clinic(path, archive=("MRN-2", "MRN-7"))
    first = read_first_page(path, clinician_id=clinician_id, limit=limit)
    assert first is not None
    db = open_database(f"sqlite:///{path}", backup=False)
    try:
        assert first.total == records.count_patients(db) == len(NAMES) - 2
        assert list(first.patients) == records.list_patients(db, limit=limit)
        assert first.clinician == records.get_clinician(db, clinician_id)
    finally:
        db.close()


def test_first_page_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    clinician_id = _clinic(path)
    before = _digest(path)
    # data/ is the data folder: the state the writes of _clinic recorded (storage.state)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clinic.db", "data"]
    assert read_first_page(path, clinician_id=clinician_id) is not None
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clinic.db", "data"]


def test_first_page_steps_aside_for_the_ordinary_opening(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    clinician_id = _clinic(path)
    assert read_first_page(path, clinician_id=None) is None  # first run on this computer
    assert read_first_page(path, clinician_id=clinician_id + 1) is None  # unknown clinician
    assert read_first_page(tmp_path / "missing.db", clinician_id=clinician_id) is None
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert read_first_page(empty, clinician_id=clinician_id) is None
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"PK\x03\x04 not a database" * 300)
    assert read_first_page(garbage, clinician_id=clinician_id) is None
    older = tmp_path / "older.db"
    shutil.copyfile(SAMPLE_0001, older)
    before = _digest(older)
    assert read_first_page(older, clinician_id=1) is None  # an upgrade is due: with its backup
    assert _digest(older) == before


def test_first_page_needs_the_clinic_details(tmp_path: Path) -> None:
    path = tmp_path / "clinic.db"
    db = open_database(f"sqlite:///{path}", backup=False)
    try:
        person = records.save_clinician(db, records.ClinicianInfo(name="Dana"), user="t")
    finally:
        db.close()
    assert read_first_page(path, clinician_id=person.id) is None  # the first-run dialog asks


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///clinic.db",
        "sqlite:////abs/path/clinic.db",
        "sqlite:///~/clinic.db",
        "sqlite:///dir with space/c.db",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:x.db?mode=ro&uri=true",
        "sqlite+pysqlite:///clinic.db",
        "sqlite:///a%20b.db",
        "postgresql+psycopg://u:p@host/db",
    ],
)
def test_sqlite_path_agrees_with_sqlalchemy_or_declines(url: str) -> None:
    mine = sqlite_path(url)
    if mine is not None:  # None is always safe: the ordinary opening handles it
        assert mine == sqlite_file(url)
    if url in ("sqlite:///clinic.db", "sqlite:////abs/path/clinic.db"):
        assert mine is not None
