"""The exports fed hostile stored values (a real SQLite file, the records API, the real command).

- ``export csv --pseudonymise`` moves each patient's dates by a keyed shift of up to ±182 days:
  a record dated in the last half year of 9999 (or the first of year 1) would move off the
  calendar. The export ended in an OverflowError traceback; now that date cell is left empty and
  every other cell is written.
- The FHIR bundle and the plain CSV of a patient whose name and notes mix right-to-left text,
  emoji, Korean, Chinese and reportlab markup look-alikes keep every character as stored, and the
  signed PDF inside the bundle (a report with a 5,000-line addendum) is made in time and reads
  back without NUL bytes.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from datetime import date
from pathlib import Path

from pypdf import PdfReader

from clinic_app.cli import main
from clinic_app.core.form import Form
from clinic_app.interop import csv_export as ce
from clinic_app.interop.fhir import build_bundle
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from tests.reports.test_hostile_documents import _record
from tests.storage.test_dob_routes import plant_date_of_birth

NAME = (
    "مرحبا שלום Zoë Z\u0308o\u0301 👨\u200d👩\u200d👧 김민수 王芳 <b>&amp;</b> <font size=200>",
    "Lee",
)
NOTE = "Plan: 1. <b>load</b> & rest\n2. =cmd|' /C calc'!A0\n3. 👍🏽 김민수 מתקדם"


def _patient_at(db: Database, form: Form, mrn: str, start: date, last: date) -> None:
    p = r.create_patient(db, r.PatientFields("Edge", "Kim", mrn), user="a")
    ep = r.create_episode(db, p.id, r.EpisodeInfo("Left", "left", start_date=start), user="a")
    _record(db, form, p.id, ep.id, "initial", start, {"pain_now": 3}, sign=True)
    _record(db, form, p.id, ep.id, "visit", last, {"pain_now": 2}, sign=True)


def _key(late: str, early: str) -> bytes:
    """A key whose shift carries the late patient past 9999 and the early one before year 1."""
    for n in range(256):
        key = bytes([n]) * 32
        p = ce.Pseudonymiser(key)
        if p.shift(late) > 31 and p.shift(early) < -31:
            return key
    raise AssertionError("no such key among 256")  # pragma: no cover - 1 key in 4 fits


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_pseudonymised_dates_at_the_ends_of_the_calendar(
    sqlite_db: Database, shipped_form: Form, tmp_path: Path
) -> None:
    _patient_at(sqlite_db, shipped_form, "LATE", date(9999, 12, 1), date(9999, 12, 31))
    _patient_at(sqlite_db, shipped_form, "EARLY", date(1, 1, 1), date(1, 1, 31))
    _patient_at(sqlite_db, shipped_form, "NOW", date(2026, 1, 1), date(2026, 1, 31))
    key = _key("LATE", "EARLY")
    p = ce.Pseudonymiser(key)
    written = ce.export_csv(sqlite_db, "findings", tmp_path, pseudonymiser=p)
    rows = _rows(written.path)
    by_patient: dict[str, set[str]] = {}
    for row in rows:
        by_patient.setdefault(row["patient"], set()).add(row["date"])
    assert by_patient[p.patient("LATE")] == {""}  # both records leave the calendar
    assert by_patient[p.patient("EARLY")] == {""}
    shifted = {p.day("NOW", date(2026, 1, 1)), p.day("NOW", date(2026, 1, 31))}
    assert by_patient[p.patient("NOW")] == {d.isoformat() for d in shifted if d is not None}
    assert {row["value"] for row in rows} >= {"3", "2"}
    # the command: one line, no traceback
    key_file = tmp_path / "pseudonym.key"
    key_file.write_bytes(key)
    out = tmp_path / "cli"
    url = str(sqlite_db.engine.url)
    argv = ["export", "csv", "--what", "findings", "--pseudonymise", "--key-file", str(key_file)]
    code = main(["--database", url, *argv, "-o", str(out)])
    assert code == 0
    assert len(_rows(out / "findings.csv")) == len(rows)


def _hostile_patient(db: Database, form: Form) -> tuple[int, int]:
    p = r.create_patient(db, r.PatientFields(*NAME, mrn="H-1"), user="a")
    plant_date_of_birth(db, p.id, date(1, 1, 1))  # an old record's: new ones are refused
    ep = r.create_episode(
        db, p.id, r.EpisodeInfo("<b>Left</b> & 王", "left", start_date=date(2026, 1, 1)), user="a"
    )
    ev = _record(db, form, p.id, ep.id, "initial", date(2026, 1, 1), {"plan": NOTE}, sign=True)
    r.add_addendum(db, ev, "\n".join(f"row {n} <para>&amp;" for n in range(5000)), user="dana")
    return p.id, ev


def test_fhir_keeps_every_character_and_its_pdf_reads_back(
    sqlite_db: Database, shipped_form: Form
) -> None:
    patient, _ev = _hostile_patient(sqlite_db, shipped_form)
    started = time.monotonic()
    bundle = build_bundle(sqlite_db, patient)
    seconds = time.monotonic() - started
    assert seconds < 60, f"{seconds:.0f} s"  # the old code took about two minutes for the PDF
    resources = [e["resource"] for e in bundle["entry"]]
    person = next(x for x in resources if x["resourceType"] == "Patient")
    assert person["name"][0]["given"] == [NAME[0]]
    assert person["birthDate"] == "0001-01-01"
    texts = json.dumps(resources, ensure_ascii=False)
    assert json.dumps(NOTE, ensure_ascii=False)[1:-1] in texts
    document = next(x for x in resources if x["resourceType"] == "DocumentReference")
    data = base64.b64decode(document["content"][0]["attachment"]["data"])
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "\x00" not in text
    assert "row 4999 <para>&amp;" in text
    assert "2. =cmd|' /C calc'!A0" in text


def test_plain_csv_keeps_hostile_text_and_defuses_formulas(
    sqlite_db: Database, shipped_form: Form, tmp_path: Path
) -> None:
    patient, ev = _hostile_patient(sqlite_db, shipped_form)
    rows = _rows(ce.export_csv(sqlite_db, "findings", tmp_path).path)
    plan = next(row for row in rows if row["item"] == "plan" and row["record"] == str(ev))
    assert plan["value"] == NOTE  # starts with "Plan:", so nothing to defuse
    people = _rows(ce.export_csv(sqlite_db, "patients", tmp_path).path)
    assert people[0]["given_name"] == NAME[0]
    assert people[0]["date_of_birth"] == "0001-01-01"
