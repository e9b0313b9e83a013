"""Demo data against the shipped form, and the synthetic bulk generator."""

from __future__ import annotations

import time

import pytest

from clinic_app.core.engine import assess
from clinic_app.core.findings import validate
from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import demo, synthetic
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import StorageError


@pytest.fixture(scope="module")
def shipped_form() -> Form:
    return load_form(default_form_path())


def test_demo_uses_only_items_of_the_shipped_form(shipped_form: Form) -> None:
    assert demo.unknown_items(shipped_form) == set()
    for patient in demo.PATIENTS:
        for _days, _kind, values, _sign, _note in patient.visits:
            validate(shipped_form, {"values": dict(values)})  # raises on any bad value


def test_demo_fills_database(db: Database, shipped_form: Form) -> None:
    result = demo.fill_demo(db, shipped_form)
    assert result.skipped_items == ()
    assert r.count_patients(db) == len(demo.PATIENTS) - 1  # one archived
    names = {p.family_name for p in r.list_patients(db, limit=50, include_archived=True)}
    assert {"Müller", "Lambert", "Nowak", "王", "Núñez"} <= names
    assert [p.given_name for p in r.search_patients(db, "zoe")] == ["Zoë"]

    evaluations = [
        r.get_evaluation(db, s.id)
        for p in r.list_patients(db, include_archived=True)
        for s in r.list_evaluations(db, p.id)
    ]
    assert len(evaluations) == result.evaluations
    signed = [e for e in evaluations if e.is_signed]
    assert len(signed) == result.signed >= 1
    assert any(e.addenda for e in signed)
    red_flagged = []
    for ev in evaluations:
        form = r.evaluation_form(db, ev.id)
        findings = validate(form, ev.findings)
        assert not findings.is_empty()
        if assess(form, findings).red_flags:
            red_flagged.append(ev)
    assert len(red_flagged) >= 1
    anna = r.search_patients(db, "muller")[0]
    history = r.measure_history(db, anna.id, "nordic_force")
    assert len(history) == 2
    assert history[1].right > history[0].right  # the involved side got stronger

    with pytest.raises(StorageError, match="already"):
        demo.fill_demo(db, shipped_form)


def test_synthetic_small(db: Database, shipped_form: Form) -> None:
    result = synthetic.generate(db, patients=500, evaluations_per_patient=2, batch=150)
    assert (result.patients, result.evaluations) == (500, 1000)
    assert r.count_patients(db) == 500
    some = r.list_patients(db, offset=250, limit=1)[0]
    evs = r.list_evaluations(db, some.id)
    assert len(evs) == 2
    for s in evs:
        ev = r.get_evaluation(db, s.id)
        validate(shipped_form, ev.findings)
        assert r.verify_evaluation(db, ev.id)
    assert r.search_patients(db, some.mrn)[0].id == some.id
    # The API keeps working after bulk inserts with explicit ids (PostgreSQL sequences).
    made = r.create_patient(db, r.PatientFields("New", "Person", mrn="after"), user="a")
    assert made.id == result.first_patient_id + 500
    again = synthetic.generate(db, patients=10)
    assert again.first_patient_id == made.id + 1


@pytest.mark.slow
def test_synthetic_100k_patients_quickly(sqlite_db: Database) -> None:
    start = time.perf_counter()
    synthetic.generate(sqlite_db, patients=100_000, evaluations_per_patient=1)
    elapsed = time.perf_counter() - start
    assert r.count_patients(sqlite_db) == 100_000
    assert elapsed < 90
    start = time.perf_counter()
    found = r.search_patients(sqlite_db, "MÜL", limit=50)
    assert len(found) == 50
    assert all(p.family_name == "Müller" for p in found)
    page = r.list_patients(sqlite_db, offset=99_900, limit=100)
    assert len(page) == 100
    assert time.perf_counter() - start < 1
