"""Importing a patient list: every kind of bad row refused with its reason, the dry run writes
nothing, a real run is all or nothing (checked in the database), on SQLite and PostgreSQL; and
files that are no CSV text refused in one line."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clinic_app.interop import patient_import as pi
from clinic_app.storage import models as m
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import StorageError

TODAY = date(2026, 12, 1)
HEADER = "mrn,family_name,given_name,date_of_birth,sex,Insurance\n"


def _counts(db: Database) -> tuple[int, int]:
    with db.reading() as s:
        patients = s.scalar(select(func.count()).select_from(m.Patient)) or 0
        events = s.scalar(select(func.count()).select_from(m.AuditEvent)) or 0
    return patients, events


def _file(tmp_path: Path, text: str, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_bad_row_is_refused_and_nothing_is_written(db: Database, tmp_path: Path) -> None:
    r.create_patient(db, r.PatientFields("Old", "Patient", mrn="TAKEN-1"), user="setup")
    rows = [
        "A-1,Müller,Anna,1983-05-14,f,AOK",  # 2: fine
        "A-2,Nowak,Łukasz,14/05/1983,m,",  # 3: date in another format
        "A-3,Lee,Kim,2031-01-01,female,",  # 4: born in the future
        "A-4,Old,Timer,1850-01-01,male,",  # 5: more than 120 years ago
        "A-5,X,Y,1990-02-30,male,",  # 6: no such day
        "A-1,Dup,Licate,1990-01-01,female,",  # 7: MRN twice in the file
        "TAKEN-1,Taken,Already,,unknown,",  # 8: MRN in the database
        "A-8," + "L" * 101 + ",Long,,female,",  # 9: over-long family name
        ",No,Mrn,,female,",  # 10: MRN missing
        "A-10,,,,female,",  # 11: no name
        "A-11,Bad,Sex,,yes please,",  # 12: unknown sex
        "A-12,Short,Row",  # 13: too few cells
        "A-13,Ctrl,\x07Bell,,female,",  # 14: a control character
        "  A-14 , Spaced , Out ,1999-12-31,O,",  # 15: fine after trimming
    ]
    path = _file(tmp_path, HEADER + "\n".join(rows) + "\n\n")
    before = _counts(db)
    plan = pi.plan_import(db, path, today=TODAY)
    assert _counts(db) == before
    assert [p.row for p in plan.planned] == [2, 15]
    assert plan.planned[1].fields.mrn == "A-14"
    assert plan.planned[1].fields.family_name == "Spaced"
    assert plan.planned[1].fields.sex == "other"
    assert plan.ignored == ("Insurance",)
    reasons = {x.row: " ".join(x.reasons) for x in plan.refused}
    assert sorted(reasons) == list(range(3, 15))
    assert "is not a date like" in reasons[3]
    assert "in the future" in reasons[4]
    assert "more than 120 years ago" in reasons[5]
    assert "is not a date like" in reasons[6]
    assert "already on row 2" in reasons[7]
    assert "already belongs to a patient in the database" in reasons[8]
    assert "family name: 101 characters is too long" in reasons[9]
    assert "MRN" in reasons[10]
    assert "name" in reasons[11]
    assert "sex: 'yes please'" in reasons[12]
    assert "has 3 cells" in reasons[13]
    assert "control character" in reasons[14]
    with pytest.raises(StorageError, match="12 rows are refused; nothing was imported"):
        pi.run_import(db, plan, user="importer")
    assert _counts(db) == before


def test_a_real_run_is_one_transaction(db: Database, tmp_path: Path) -> None:
    lines = [f"B-{n},Family{n},Given{n},1990-01-{n:02d},female," for n in range(1, 21)]
    path = _file(tmp_path, HEADER + "\n".join(lines) + "\n")
    plan = pi.plan_import(db, path, today=TODAY)
    assert plan.ok
    assert len(plan.planned) == 20
    # Another workstation takes the 15th MRN between the dry run and the run.
    r.create_patient(db, r.PatientFields("Quick", "Other", mrn="B-15"), user="elsewhere")
    before = _counts(db)
    with pytest.raises(StorageError, match="row 16: .*nothing was imported"):
        pi.run_import(db, plan, user="importer")
    assert _counts(db) == before  # the 14 created before it were rolled back with it
    assert r.get_patient_by_mrn(db, "B-1") is None
    made = pi.run_import(
        db,
        pi.plan_import(
            db,
            _file(
                tmp_path,
                HEADER + "\n".join(line for line in lines if not line.startswith("B-15,")) + "\n",
            ),
            today=TODAY,
        ),
        user="importer",
    )
    assert len(made) == 19
    anna = r.get_patient_by_mrn(db, "B-3")
    assert anna is not None
    assert anna.date_of_birth == date(1990, 1, 3)
    assert anna.updated_by == "importer"
    events = r.audit_events(db, entity="patient", entity_id=anna.id)
    assert [e.action for e in events] == ["create"]


def test_column_mapping(db: Database, tmp_path: Path) -> None:
    path = _file(tmp_path, "Record,Surname,First,Born,Mail\nC-1,Ng,Ada,1970-07-01,a@b.c\n")
    plan = pi.plan_import(
        db,
        path,
        pi.parse_map(
            [
                "Record=mrn",
                "Surname=family_name",
                "First=given_name",
                "Born=date_of_birth",
                "Mail=email",
            ]
        ),
        today=TODAY,
    )
    assert plan.ok
    (entry,) = plan.planned
    assert entry.fields == r.PatientFields(
        "Ada", "Ng", mrn="C-1", date_of_birth=date(1970, 7, 1), email="a@b.c"
    )
    for bad, message in (
        (["Record"], "expected COLUMN=FIELD"),
        (["Record=nickname"], "not a patient field"),
        (["Record=mrn", "Record=email"], "mapped twice"),
    ):
        with pytest.raises(StorageError, match=message):
            pi.parse_map(bad)
    with pytest.raises(StorageError, match="no column 'Nope'"):
        pi.plan_import(db, path, {"Nope": "mrn"})
    with pytest.raises(StorageError, match="no column gives the MRN"):
        pi.plan_import(db, path)
    with pytest.raises(StorageError, match="both give mrn"):
        pi.plan_import(db, _file(tmp_path, "mrn,MRN,family_name\n1,2,x\n", "two.csv"))
    with pytest.raises(StorageError, match="in the header twice"):
        pi.plan_import(db, _file(tmp_path, "mrn,mrn,family_name\n1,2,x\n", "dup.csv"))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: os.mkfifo(p), "FIFO"),
        (lambda p: p.write_bytes(b"mrn,family_name\n\xff\xfe,x\n"), "not UTF-8"),
        (lambda p: p.write_bytes(b"mrn,family_name\nA\x00,x\n"), "NUL byte \\(line 2\\)"),
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_bytes(b'mrn,family_name\n"open,x\n'), "not valid CSV"),
        (lambda p: None, "file not found"),
    ],
)
def test_files_that_are_no_patient_list(
    sqlite_db: Database, tmp_path: Path, make: object, message: str
) -> None:
    path = tmp_path / "list.csv"
    make(path)  # type: ignore[operator]
    with pytest.raises(StorageError, match=message):
        pi.plan_import(sqlite_db, path)


def test_huge_file_and_dev_zero(sqlite_db: Database, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.truncate(pi.IMPORT_LIMIT + 1)  # sparse: no disk used
    with pytest.raises(StorageError, match="the limit for a patient list"):
        pi.plan_import(sqlite_db, big)
    with pytest.raises(StorageError, match="character device"):
        pi.plan_import(sqlite_db, Path("/dev/zero"))
