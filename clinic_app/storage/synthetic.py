"""Synthetic patients and evaluations in bulk, for benchmarks (100,000 patients in seconds).

Rows go in with multi-row Core inserts in large batches, bypassing the per-record API (which
audits and validates one record at a time); the FTS index is still kept by its triggers, and the
evaluations' findings are valid for the form. One audit event records the bulk load.

    from clinic_app.storage.synthetic import generate
    generate(db, patients=100_000, evaluations_per_patient=2)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text

from clinic_app.core import findings as findings_mod
from clinic_app.core.form import Form, load_form
from clinic_app.storage import models as m
from clinic_app.storage._types import utcnow
from clinic_app.storage.database import Database
from clinic_app.storage.records.evaluations import content_hash
from clinic_app.storage.records.forms import _snapshot
from clinic_app.storage.search import search_name

GIVEN = (
    "Anna",
    "Zoë",
    "Łukasz",
    "芳",
    "José",
    "Mia",
    "Noah",
    "Aisha",
    "Søren",
    "Chloé",
    "Mateo",
    "Yuki",
    "Olumide",
    "Ingrid",
    "Priya",
    "Liam",
    "Fatima",
    "Björn",
    "Ana",
    "Kai",
)
FAMILY = (
    "Müller",
    "Smith",
    "Kowalski",
    "王",
    "Núñez",
    "García",
    "Nguyen",
    "O'Brien",
    "Jørgensen",
    "Dubois",
    "Rossi",
    "Tanaka",
    "Okafor",
    "Lindqvist",
    "Patel",
    "Brown",
    "Haddad",
    "Schröder",
    "Silva",
    "Kim",
    "Ødegaard",
    "Fernández",
    "Ivanov",
    "Novák",
    "Yılmaz",
)
ACTIVITIES = ("running", "football", "sprinting", "cycling", "badminton", "dance", "hiking")


@dataclass(frozen=True)
class SyntheticResult:
    patients: int
    evaluations: int
    first_patient_id: int


def _values(form: Form, rng: random.Random) -> dict[str, Any]:
    """A plausible, valid set of findings for the items the form has."""
    side = rng.choice(("left", "right"))
    other = "right" if side == "left" else "left"
    nordic = rng.randint(180, 380)
    wanted: dict[str, Any] = {
        "involved_side": side,
        "pain_now": rng.randint(0, 8),
        "pain_worst": rng.randint(3, 10),
        "nordic_force": {side: round(nordic * rng.uniform(0.7, 1.0)), other: nordic},
        "hip_flexor_mmt": {side: 5, other: rng.choice((4, 4.5, 5))},
        "slr_deg": {side: rng.randint(55, 85), other: rng.randint(70, 95)},
        "slump": {side: rng.choice(("positive", "negative")), other: "negative"},
        "sitting_hours": rng.randint(2, 11),
    }
    known = {k: v for k, v in wanted.items() if k in form.items}
    return findings_mod.validate(form, {"values": known}).to_dict()


def generate(
    db: Database,
    *,
    patients: int,
    evaluations_per_patient: int = 0,
    form: Form | None = None,
    seed: int = 0,
    batch: int = 20_000,
    user: str = "synthetic",
) -> SyntheticResult:
    """Add ``patients`` synthetic patients with ``evaluations_per_patient`` draft evaluations each.

    MRNs are ``SYN-<id>``; names mix scripts and accents. Deterministic for a given ``seed``.
    """
    rng = random.Random(seed)
    form = form or load_form(_default_form())
    now = utcnow()
    with db.writing() as s:
        snapshot_id = _snapshot(db, s, form).id
        start = int(s.scalar(select(func.coalesce(func.max(m.Patient.id), 0))) or 0) + 1
        first_eval = int(s.scalar(select(func.coalesce(func.max(m.Evaluation.id), 0))) or 0) + 1
    variants = [_values(form, rng) for _ in range(64)]
    patient_table = cast(Table, m.Patient.__table__)
    evaluation_table = cast(Table, m.Evaluation.__table__)
    eval_id = first_eval
    made_evaluations = 0
    for offset in range(0, patients, batch):
        ids = range(start + offset, start + min(offset + batch, patients))
        prows: list[dict[str, Any]] = []
        erows: list[dict[str, Any]] = []
        for pid in ids:
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            prows.append(
                {
                    "id": pid,
                    "given_name": given,
                    "family_name": family,
                    "date_of_birth": date(1950, 1, 1) + timedelta(days=rng.randrange(20_000)),
                    "sex": rng.choice(m.SEXES),
                    "mrn": f"SYN-{pid:08d}",
                    "phone": "",
                    "email": "",
                    "activity": rng.choice(ACTIVITIES),
                    "referring_provider": "",
                    "archived": False,
                    "search_name": search_name(given, family),
                    "created_at": now,
                    "updated_by": user,
                    "updated_at": now,
                }
            )
            day = date(2025, 1, 1) + timedelta(days=rng.randrange(300))
            for n in range(evaluations_per_patient):
                findings = rng.choice(variants)
                row = {
                    "id": eval_id,
                    "patient_id": pid,
                    "clinician_id": None,
                    "kind": "initial" if n == 0 else "re_evaluation",
                    "eval_date": day + timedelta(days=21 * n),
                    "form_snapshot_id": snapshot_id,
                    "form_id": form.id,
                    "form_version": form.version,
                    "involved_side": findings["values"].get(form.involved_side_item),
                    "findings": findings,
                    "carried_forward": {"items": [], "from_evaluation": None},
                    "status": "draft",
                    "signed_by": None,
                    "signed_at": None,
                    "version": 1,
                    "created_by": user,
                    "created_at": now,
                    "updated_by": user,
                    "updated_at": now,
                }
                row["content_hash"] = content_hash(row)
                erows.append(row)
                eval_id += 1
        with db.writing() as s:
            s.execute(insert(patient_table), prows)
            if erows:
                s.execute(insert(evaluation_table), erows)
        made_evaluations += len(erows)
    with db.writing() as s:
        if db.dialect == "postgresql":  # explicit ids do not advance the sequences
            for table in ("patient", "evaluation"):
                s.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
        s.add(
            m.AuditEvent(
                at=now,
                actor=user,
                entity="synthetic",
                entity_id=patients,
                action="bulk_create",
                before_digest=None,
                after_digest=None,
            )
        )
    return SyntheticResult(patients, made_evaluations, start)


def _default_form() -> Any:
    from clinic_app.paths import default_form_path

    return default_form_path()
