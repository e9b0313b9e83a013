"""A date of birth no patient can have is refused by the records API (so by the CLI, the demo and
every other caller) with one message naming the field; nothing saved changes. A record that
already holds such a date (written before the rule) still opens, lists, is found and can have
its other fields corrected. Real databases (SQLite and PostgreSQL), read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from clinic_app.cli import main
from clinic_app.core.patient_checks import MAX_AGE_YEARS, earliest_birth
from clinic_app.storage import models as m
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import StorageError
from clinic_app.storage.records.mrn import create_patient_numbered
from tests.reports.conftest import EXAMPLES_DIR

TODAY = date.today()
BOUNDARY = earliest_birth(TODAY)
IMPLAUSIBLE = [
    date(1, 1, 1),
    date(1800, 1, 1),
    date(1895, 12, 31),
    BOUNDARY - timedelta(days=1),
    date(9999, 12, 31),
    TODAY + timedelta(days=1),
]


def _fields(mrn: str, born: date | None) -> r.PatientFields:
    return r.PatientFields("Ada", "Old", mrn, born, "female", phone="555-0100")


def _expected_message(born: date) -> str:
    if born > TODAY:
        return f"Date of birth: {born.isoformat()} is in the future"
    return f"Date of birth: {born.isoformat()} is more than {MAX_AGE_YEARS} years ago"


def _state(db: Database) -> tuple[list[tuple[object, ...]], int]:
    """Every patient row as stored, and how many audit events there are."""
    with db.reading() as s:
        rows = [tuple(row) for row in s.execute(select(m.Patient.__table__).order_by("id"))]
    return rows, len(r.audit_events(db, limit=1_000_000))


def plant_date_of_birth(db: Database, patient_id: int, born: date) -> None:
    """A date of birth written before the rule existed (an old record, an earlier import)."""
    with db.writing() as s:
        s.execute(update(m.Patient).where(m.Patient.id == patient_id).values(date_of_birth=born))


@pytest.mark.parametrize("born", IMPLAUSIBLE, ids=str)
def test_create_refuses_an_implausible_date_of_birth(db: Database, born: date) -> None:
    r.create_patient(db, _fields("KEEP-1", date(1980, 1, 1)), user="a")
    before = _state(db)
    with pytest.raises(StorageError) as err:
        r.create_patient(db, _fields("NEW-1", born), user="a")
    assert str(err.value) == _expected_message(born)
    with pytest.raises(StorageError, match="^Date of birth: "):
        create_patient_numbered(db, _fields("P-00001", born), "P-{n:05}", user="a")
    assert _state(db) == before
    assert r.get_patient_by_mrn(db, "NEW-1") is None


@pytest.mark.parametrize(
    "born", [BOUNDARY, TODAY, date(1992, 2, 29), date(1980, 1, 1), None], ids=str
)
def test_create_keeps_a_plausible_date_of_birth(db: Database, born: date | None) -> None:
    made = r.create_patient(db, _fields("OK-1", born), user="a")
    assert r.get_patient(db, made.id).date_of_birth == born


def test_update_refuses_an_implausible_date_and_changes_nothing(db: Database) -> None:
    p = r.create_patient(db, _fields("U-1", date(1980, 1, 1)), user="a")
    before = _state(db)
    for born in IMPLAUSIBLE:
        changed = replace(p.fields(), date_of_birth=born, phone="1")
        with pytest.raises(StorageError) as err:
            r.update_patient(db, p.id, changed, user="b", expected=p)
        assert str(err.value) == _expected_message(born)
        with pytest.raises(StorageError, match="^Date of birth: "):
            r.update_patient(db, p.id, changed, user="b")  # without expected: every field
    assert _state(db) == before
    stored = r.get_patient(db, p.id)
    assert (stored.date_of_birth, stored.phone) == (date(1980, 1, 1), "555-0100")


@pytest.mark.parametrize("born", [date(1, 1, 1), date(1800, 1, 1), date(9999, 12, 31)], ids=str)
def test_an_old_record_with_an_implausible_date_opens_and_its_other_fields_save(
    db: Database, born: date
) -> None:
    """Kept dates may stay: refusing them would force the therapist to blank or guess a date of
    birth to correct a phone number, and blanking loses what the record held."""
    p = r.create_patient(db, _fields("OLD-1", date(1980, 1, 1)), user="a")
    plant_date_of_birth(db, p.id, born)
    old = r.get_patient(db, p.id)
    assert old.date_of_birth == born
    assert [x.date_of_birth for x in r.list_patients(db)] == [born]
    assert [x.id for x in r.search_patients(db, "Old")] == [p.id]
    same = replace(old.fields(), phone="555-0199")
    change = r.update_patient(db, p.id, same, user="b", expected=old)
    assert change.changed == ("phone",)
    change = r.update_patient(db, p.id, replace(same, phone="555-0200"), user="b")  # all fields
    assert change.changed == ("phone",)
    stored = r.get_patient(db, p.id)
    assert (stored.date_of_birth, stored.phone) == (born, "555-0200")
    # Another implausible date is new input: refused, the old one stays.
    other = replace(stored.fields(), date_of_birth=date(1700, 6, 1))
    with pytest.raises(StorageError, match="^Date of birth: 1700-06-01 is more than"):
        r.update_patient(db, p.id, other, user="b", expected=stored)
    assert r.get_patient(db, p.id).date_of_birth == born
    fixed = replace(stored.fields(), date_of_birth=date(1980, 1, 1))
    assert r.update_patient(db, p.id, fixed, user="b").changed == ("date_of_birth",)


@pytest.mark.parametrize("born", [datetime(1980, 1, 1, 12), "1980-01-01", 19800101], ids=repr)
def test_a_date_of_birth_that_is_not_a_date_is_refused_naming_it(db: Database, born: Any) -> None:
    before = _state(db)
    with pytest.raises(StorageError, match="^Date of birth: expected a date, not a "):
        r.create_patient(db, _fields("T-1", born), user="a")
    assert _state(db) == before


def test_the_cli_lists_an_old_record_as_stored(sqlite_db: Database, capsys) -> None:
    p = r.create_patient(sqlite_db, _fields("CLI-1", date(1980, 1, 1)), user="a")
    plant_date_of_birth(sqlite_db, p.id, date(1, 1, 1))
    capsys.readouterr()
    code = main(["--database", str(sqlite_db.engine.url), "list", "patients"])
    out = capsys.readouterr()
    assert (code, out.err) == (0, "")
    assert "0001-01-01" in out.out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0001-01-01", f"Date of birth: 0001-01-01 is more than {MAX_AGE_YEARS} years ago"),
        ("1800-01-01", f"Date of birth: 1800-01-01 is more than {MAX_AGE_YEARS} years ago"),
        ("9999-12-31", "Date of birth: 9999-12-31 is in the future"),
        ("2026-02-30", "'2026-02-30' is not a date like 2026-11-21"),
        ("1" * 10_000, "'" + "1" * 40 + "…' is not a date like"),
    ],
)
def test_report_patient_dob_refuses_an_implausible_date(
    text: str, message: str, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out.pdf"
    argv = ["report", "--findings", str(EXAMPLES_DIR / "runner_left_proximal.json")]
    with pytest.raises(SystemExit) as exited:  # argparse refuses the flag: exit 2, one line
        main([*argv, "--kind", "handout", "-o", str(out), "--patient-dob", text])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1
    assert len(err) < 300
    assert not out.exists()
