"""CSV export: one row per finding with the documented columns, patients and the audit trail,
and pseudonymisation that leaves no name, MRN, date of birth, phone or e-mail anywhere, keeps
each patient's intervals, gives the same pseudonym for the same patient and key and another
one for another key; files 0600, never through a link, formula cells defused."""

from __future__ import annotations

import csv
import os
import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from clinic_app.interop import csv_export as ce
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import StorageError
from tests.interop.fhir_helpers import expected_observations


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _all(db: Database, folder: Path, key: bytes | None = None) -> dict[str, list[dict[str, str]]]:
    p = ce.Pseudonymiser(key) if key is not None else None
    out = {}
    for what in ce.WHAT:
        written = ce.export_csv(db, what, folder, pseudonymiser=p)
        assert stat.S_IMODE(os.stat(written.path).st_mode) == 0o600
        out[what] = _read(written.path)
    return out


def test_one_row_per_finding(demo_db: Database, tmp_path: Path) -> None:
    written = ce.export_csv(demo_db, "findings", tmp_path / "out")
    with written.path.open(encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh)) == list(ce.FINDINGS_FIELDS)
    rows = _read(written.path)
    assert len(rows) == written.rows
    got = {(int(x["record"]), x["item"], x["side"]): x for x in rows}
    assert len(got) == len(rows)  # never two rows for one finding
    want: dict[Any, Any] = {}
    for p in r.list_patients(demo_db, include_archived=True):
        for s in r.list_evaluations(demo_db, p.id):
            ev = r.get_evaluation(demo_db, s.id)
            form = r.evaluation_form(demo_db, ev.id)
            want.update(expected_observations(form, ev.findings, ev.id))
            for item in form.items.values():  # questionnaires go as their score
                if item.type == "questionnaire" and item.id in ev.values:
                    want[(ev.id, item.id, "")] = "score"
    assert set(got) == set(want)
    slr = got[(5, "slr_deg", "left")]
    assert slr == {
        "patient": "DEMO-0003",
        "episode": str(r.get_evaluation(demo_db, 5).episode_id),
        "record": "5",
        "kind": "initial",
        "status": "signed",
        "date": r.get_evaluation(demo_db, 5).eval_date.isoformat(),
        "item": "slr_deg",
        "side": "left",
        "value": "68",
        "unit": "°",
    }


def test_pseudonymised_output_holds_no_identifier(demo_db: Database, tmp_path: Path) -> None:
    plain = _all(demo_db, tmp_path / "plain")
    key = b"k" * 32
    out = tmp_path / "research"
    pseudo = _all(demo_db, out, key)
    text = "\n".join((out / f"{w}.csv").read_text("utf-8") for w in ce.WHAT)
    patients = r.list_patients(demo_db, include_archived=True)
    for p in patients:
        for secret in (p.mrn, p.given_name, p.family_name, p.phone, p.email):
            if secret:
                assert secret not in text
        if p.date_of_birth:
            assert p.date_of_birth.isoformat() not in text
    assert set(pseudo["patients"][0]) == set(ce.PSEUDONYMOUS_PATIENT_FIELDS)
    assert not any(row["patient_name"] for row in pseudo["audit"])
    assert len(pseudo["patients"]) == len(patients)
    # the same number of findings, less the free text
    assert 0 < len(pseudo["findings"]) < len(plain["findings"])


def test_same_patient_same_pseudonym_and_intervals_kept(demo_db: Database, tmp_path: Path) -> None:
    key = b"clinic key of at least 16 bytes"
    first = _all(demo_db, tmp_path / "a", key)
    again = _all(demo_db, tmp_path / "b", key)
    assert first == again
    other = _all(demo_db, tmp_path / "c", b"another key, also long enough")
    assert {x["patient"] for x in first["patients"]}.isdisjoint(
        {x["patient"] for x in other["patients"]}
    )
    p = ce.Pseudonymiser(key)
    nowak = p.patient("DEMO-0003")
    assert nowak in {x["patient"] for x in first["patients"]}
    assert nowak in {x["patient"] for x in first["audit"]}
    days = sorted(
        {date.fromisoformat(x["date"]) for x in first["findings"] if x["patient"] == nowak}
    )
    real = sorted({s.eval_date for s in r.list_evaluations(demo_db, 3)})
    assert [d - days[0] for d in days] == [d - real[0] for d in real]
    assert days[0] != real[0] or p.shift("DEMO-0003") == 0
    assert abs(p.shift("DEMO-0003")) <= ce.SHIFT_DAYS


def test_clinic_key_is_made_once_and_private(demo_dir: Path) -> None:
    first = ce.load_key()
    path = demo_dir / ce.KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ce.load_key() == first
    assert len(first) >= ce.MIN_KEY_BYTES
    short = demo_dir / "short.key"
    short.write_bytes(b"tiny")
    with pytest.raises(StorageError, match="at least 16"):
        ce.load_key(short)
    link = demo_dir / "link.key"
    link.symlink_to(path)
    with pytest.raises(StorageError, match="symbolic link"):
        ce.load_key(link)
    fifo = demo_dir / "fifo.key"
    os.mkfifo(fifo)
    with pytest.raises(StorageError, match="FIFO"):
        ce.load_key(fifo)


def test_folder_and_file_refusals(demo_db: Database, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(StorageError, match="symbolic link"):
        ce.export_csv(demo_db, "patients", link)
    file = tmp_path / "file"
    file.write_text("keep")
    with pytest.raises(StorageError, match="not a folder"):
        ce.export_csv(demo_db, "patients", file)
    assert file.read_text() == "keep"
    target = tmp_path / "elsewhere.csv"
    target.write_text("untouched")
    (real / "patients.csv").symlink_to(target)
    with pytest.raises(OSError, match="not a regular file"):
        ce.export_csv(demo_db, "patients", real)
    assert target.read_text() == "untouched"
    assert sorted(os.listdir(real)) == ["patients.csv"]  # no part file left behind


def test_formula_cells_are_defused(sqlite_db: Database, tmp_path: Path) -> None:
    r.create_patient(
        sqlite_db,
        r.PatientFields("@SUM(A1)", '=HYPERLINK("http://x")', mrn="-2+3", phone="+1 555"),
        user="dana",
    )
    rows = _read(ce.export_csv(sqlite_db, "patients", tmp_path).path)
    assert rows[0]["family_name"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["given_name"] == "'@SUM(A1)"
    assert rows[0]["mrn"] == "'-2+3"
    assert rows[0]["phone"] == "'+1 555"
