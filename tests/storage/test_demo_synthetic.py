"""Demo data against the shipped form, and the synthetic bulk generator."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from clinic_app.core import findings as findings_mod
from clinic_app.core.engine import assess
from clinic_app.core.findings import validate
from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import demo, synthetic
from clinic_app.storage import models as m
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database
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


def test_demo_findings_are_findings_json_files_of_the_shipped_form(shipped_form: Form) -> None:
    """Each visit's findings file reads as any Findings JSON does (README, ``examples/``)."""
    listed = {
        visit["findings"]
        for patient in json.loads((demo.DEMO_DIR / "demo.json").read_text("utf-8"))["patients"]
        for visit in patient["visits"]
    }
    files = {p.name for p in demo.DEMO_DIR.glob("*.json")} - {"demo.json"}
    assert listed == files
    for name in sorted(files):
        assert not findings_mod.load(shipped_form, demo.DEMO_DIR / name).is_empty(), name


def _literals(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_no_item_id_is_written_in_the_demo_or_synthetic_code(shipped_form: Form) -> None:
    """Clinical content lives in data (issue 11): the code names no item of the form.

    A database column that happens to share an item's name (``sex``) is not an item id.
    """
    columns = {c.key for model in (m.Patient, m.Evaluation) for c in model.__table__.columns}
    items = set(shipped_form.items) - columns
    for module in (demo, synthetic):
        assert module.__file__ is not None
        assert _literals(Path(module.__file__)) & items == set(), module.__name__


def _nothing_stored(db: Database) -> None:
    assert r.count_patients(db, include_archived=True) == 0
    assert r.get_clinic(db) is None
    assert r.list_clinicians(db, include_inactive=True) == []
    assert r.audit_events(db) == []


def test_a_demo_that_fails_half_way_keeps_nothing_and_runs_again(
    db: Database, form: Form, shipped_form: Form
) -> None:
    # The small test form refuses the first patient's findings: by then the clinic, both
    # clinicians, the patient and a started evaluation were written in the transaction.
    with pytest.raises(findings_mod.FindingsError):
        demo.fill_demo(db, form)
    _nothing_stored(db)
    result = demo.fill_demo(db, shipped_form)
    assert r.count_patients(db, include_archived=True) == result.patients == len(demo.PATIENTS)


KILL_AT_SECOND_PATIENT = textwrap.dedent(
    """
    import logging, os, signal, sys
    from clinic_app.core.form import load_form
    from clinic_app.paths import default_form_path
    from clinic_app.storage.database import open_database
    from clinic_app.storage.demo import fill_demo

    class KillAtSecondPatient(logging.Handler):
        made = 0
        def emit(self, record):
            if record.getMessage().endswith(" created") and "patient" in record.getMessage():
                self.made += 1
                if self.made == 2:
                    os.kill(os.getpid(), signal.SIGKILL)

    log = logging.getLogger("clinic_app.storage.records.patients")
    log.setLevel(logging.INFO)
    log.addHandler(KillAtSecondPatient())
    fill_demo(open_database(sys.argv[1], backup=False), load_form(default_form_path()))
    """
)


def test_a_demo_killed_half_way_leaves_no_patient_and_runs_again(
    tmp_path: Path, shipped_form: Form
) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    open_database(url).close()
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT_SECOND_PATIENT, url],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    with open_database(url, backup=False) as db:
        _nothing_stored(db)
        result = demo.fill_demo(db, shipped_form)
        assert r.count_patients(db) == result.patients - 1  # one archived


def _findings_of(db: Database) -> list[dict[str, object]]:
    return [
        dict(r.get_evaluation(db, s.id).findings)
        for p in r.list_patients(db, sort="created", limit=1000)
        for s in r.list_evaluations(db, p.id)
    ]


def test_synthetic_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    made = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        with open_database(f"sqlite:///{tmp_path / name}.db", backup=False) as db:
            synthetic.generate(db, patients=40, evaluations_per_patient=2, seed=seed)
            patients = [
                (p.given_name, p.family_name, p.date_of_birth, p.sex)
                for p in r.list_patients(db, sort="created", limit=100)
            ]
            made.append((patients, _findings_of(db)))
    assert made[0] == made[1]
    assert made[0][0] != made[2][0]
    assert made[0][1] != made[2][1]
    findings = made[0][1]
    assert len({str(f) for f in findings}) > 10  # varied, not one evaluation copied


def test_synthetic_findings_fit_a_form_with_other_items(db: Database, form: Form) -> None:
    """Values the small form does not accept (other choices, one-sided items) are not used."""
    synthetic.generate(db, patients=30, evaluations_per_patient=1, form=form)
    findings = _findings_of(db)
    assert len(findings) == 30
    for f in findings:
        validate(form, f)
        assert form.involved_side_item in f["values"]


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
