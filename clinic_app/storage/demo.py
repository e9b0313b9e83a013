"""Demo data: a handful of realistic patients and evaluations, for trying the app and for tests.

The demo is data, in ``resources/demo/``: ``demo.json`` holds the clinic, its two clinicians and
the patients (details, clinician, archived or not, visits), and each visit's findings are a
Findings JSON file beside it, in the format of ``examples/`` (README, "Findings JSON"), so
``clinic-app assess resources/demo/<file>.json`` reads them too. Editing a story needs no code.

Names come from several scripts (Müller, Zoë, Łukasz, 王芳, Núñez) so that search, sorting, reports
and fonts are exercised. Findings tell clinical stories from the domain brief: a runner with
proximal tendinopathy and a signed evaluation with an addendum and a re-evaluation, a footballer
with a sudden pop (a red flag), a sprinter with sciatic nerve involvement, a badminton player with
weak hip flexors on the opposite side, a triathlete with SI and core findings.

Every value is checked against the form with ``clinic_app.core.findings.validate``; items the form
does not have are left out (``unknown_items`` tells which, and a test keeps it empty for the
shipped form).

``fill_demo`` is one transaction: all of the demo or nothing, so a run that fails or is killed
half-way leaves no demo patient behind and can simply be run again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

from clinic_app.core import findings as findings_mod
from clinic_app.core.form import Form
from clinic_app.paths import resources_dir
from clinic_app.storage import models as m
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import StorageError

logger = logging.getLogger(__name__)

DEMO_USER = "demo"
MRN_PREFIX = "DEMO-"
DEMO_DIR = resources_dir() / "demo"


@dataclass(frozen=True)
class DemoPatient:
    fields: r.PatientFields
    # (days before today, kind, values, sign?, addendum text)
    visits: tuple[tuple[int, r.EvaluationKind, Mapping[str, Any], bool, str], ...]
    clinician: int = 0  # index into CLINICIANS
    archived: bool = False


def _findings_values(path: Path) -> dict[str, Any]:
    """The ``values`` of a Findings JSON file (checked against the form when used)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return dict(data["values"])


def _kind(value: str) -> r.EvaluationKind:
    if value not in m.EVALUATION_KINDS:
        raise ValueError(f"{value!r} is not an evaluation kind ({', '.join(m.EVALUATION_KINDS)})")
    return cast(r.EvaluationKind, value)


def _patient(entry: Mapping[str, Any], folder: Path) -> DemoPatient:
    born = entry.get("date_of_birth")
    fields = r.PatientFields(
        given_name=str(entry["given_name"]),
        family_name=str(entry["family_name"]),
        mrn=str(entry["mrn"]),
        date_of_birth=date.fromisoformat(born) if born else None,
        sex=entry.get("sex", "unknown"),
        phone=str(entry.get("phone", "")),
        email=str(entry.get("email", "")),
        activity=str(entry.get("activity", "")),
        referring_provider=str(entry.get("referring_provider", "")),
    )
    visits = tuple(
        (
            int(visit["days_ago"]),
            _kind(visit["kind"]),
            _findings_values(folder / visit["findings"]),
            bool(visit.get("sign", False)),
            str(visit.get("addendum", "")),
        )
        for visit in entry.get("visits", ())
    )
    return DemoPatient(fields, visits, int(entry.get("clinician", 0)), bool(entry.get("archived")))


def load_demo(
    folder: Path = DEMO_DIR,
) -> tuple[r.ClinicInfo, tuple[r.ClinicianInfo, ...], tuple[DemoPatient, ...]]:
    """The clinic, clinicians and patients of ``folder/demo.json`` (a shipped file: a mistake in
    it is a bug, reported by the exception of the line that reads it)."""
    data = json.loads((folder / "demo.json").read_text(encoding="utf-8"))
    clinic = r.ClinicInfo(**data["clinic"])
    clinicians = tuple(r.ClinicianInfo(**c) for c in data["clinicians"])
    patients = tuple(_patient(p, folder) for p in data["patients"])
    for patient in patients:
        if not 0 <= patient.clinician < len(clinicians):
            raise ValueError(f"{patient.fields.mrn}: no clinician {patient.clinician}")
    return clinic, clinicians, patients


CLINIC, CLINICIANS, PATIENTS = load_demo()


def unknown_items(form: Form) -> set[str]:
    """Demo item ids the form does not have (empty for the shipped form)."""
    used: set[str] = set()
    for patient in PATIENTS:
        for _days, _kind, values, _sign, _note in patient.visits:
            used.update(values)
    return used - set(form.items)


def demo_findings(form: Form, values: Mapping[str, Any]) -> findings_mod.Findings:
    """The demo values the form has, validated (raises FindingsError for a bad value)."""
    known = {k: v for k, v in values.items() if k in form.items}
    return findings_mod.validate(form, {"values": known})


@dataclass(frozen=True)
class DemoResult:
    patients: int
    evaluations: int
    signed: int
    skipped_items: tuple[str, ...]


@contextmanager
def _one_transaction(db: Database) -> Iterator[Database]:
    """``db`` as seen inside one write transaction, committed when the block ends without error.

    Every records function opens its own short transaction; through the database yielded here
    each of them becomes a savepoint of one outer transaction (SQLAlchemy's "join a session into
    an external transaction"), so an error, or the process being killed, keeps nothing.
    """
    from sqlalchemy.orm import sessionmaker

    with db.writing() as outer:
        joined = sessionmaker(
            bind=outer.connection(),
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
        yield replace(db, sessions=joined, write_sessions=joined)


def fill_demo(db: Database, form: Form, *, today: date | None = None) -> DemoResult:
    """Add the demo clinic, clinicians, patients and evaluations, all or nothing.

    Refuses to add them twice.
    """
    today = today or date.today()
    evaluations = signed = 0
    with _one_transaction(db) as tx:
        if r.get_patient_by_mrn(tx, PATIENTS[0].fields.mrn) is not None:
            raise StorageError("the demo patients are already in this database")
        if r.get_clinic(tx) is None:
            r.save_clinic(tx, CLINIC, user=DEMO_USER)
        clinicians = [r.save_clinician(tx, info, user=DEMO_USER) for info in CLINICIANS]
        for patient in PATIENTS:
            made = r.create_patient(tx, patient.fields, user=DEMO_USER)
            clinician = clinicians[patient.clinician]
            for days, kind, values, sign, note in patient.visits:
                ev = r.start_evaluation(
                    tx,
                    made.id,
                    form,
                    user=clinician.name,
                    kind=kind,
                    clinician_id=clinician.id,
                    eval_date=today - timedelta(days=days),
                )
                saved = r.save_draft(
                    tx, ev.id, demo_findings(form, values), ev.version, user=clinician.name
                )
                evaluations += 1
                if sign:
                    r.sign_evaluation(tx, ev.id, saved.version, user=clinician.name)
                    signed += 1
                    if note:
                        r.add_addendum(tx, ev.id, note, user=clinician.name)
            if patient.archived:
                r.archive_patient(tx, made.id, user=DEMO_USER)
    logger.info(
        "demo added: %d patients, %d evaluations (%d signed)", len(PATIENTS), evaluations, signed
    )
    return DemoResult(len(PATIENTS), evaluations, signed, tuple(sorted(unknown_items(form))))
