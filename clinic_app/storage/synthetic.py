"""Synthetic patients and evaluations in bulk, for benchmarks (100,000 patients in seconds).

Rows go in with multi-row Core inserts in large batches, bypassing the per-record API (which
audits and validates one record at a time); the FTS index is still kept by its triggers, and the
evaluations' findings are valid for the form. One audit event records the bulk load.

Findings are made from data, not from item ids in code: the values the demo findings
(``resources/demo/*.json``) record, numbers varied, or, for items the demo lacks, values drawn
from each item's definition in the form (type, range, choices, sides).

    from clinic_app.storage.synthetic import generate
    generate(db, patients=100_000, evaluations_per_patient=2)
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text

from clinic_app.core import findings as findings_mod
from clinic_app.core.form import NUMERIC_TYPES, SET_TYPES, SIDES, Form, Item, ItemType, load_form
from clinic_app.storage import demo
from clinic_app.storage import models as m
from clinic_app.storage._types import utcnow
from clinic_app.storage.database import Database
from clinic_app.storage.records._common import write_audit
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

logger = logging.getLogger(__name__)

ACTIVITIES = ("running", "football", "sprinting", "cycling", "badminton", "dance", "hiking")


@dataclass(frozen=True)
class SyntheticResult:
    patients: int
    evaluations: int
    first_patient_id: int


# Items recorded per synthetic evaluation besides the involved side: about what a quick
# evaluation holds, and what the benchmarks' 100,000-patient clinic was built with.
ITEMS_PER_EVALUATION = 7
_SPREAD = 0.2  # numbers vary by up to this fraction around the demo's values


def value_pool(form: Form) -> dict[str, list[tuple[Any, str | None]]]:
    """Each item's values in the demo findings (``resources/demo``), with their involved side.

    Only values ``form`` accepts are kept, so a form with other items or choices still works; the
    pool is empty for a form that shares no item with the demo.
    """
    pool: dict[str, list[tuple[Any, str | None]]] = {}
    for patient in demo.PATIENTS:
        for _days, _kind, values, _sign, _note in patient.visits:
            side = values.get(form.involved_side_item)
            for item_id, value in values.items():
                item = form.items.get(item_id)
                if item is None or item_id == form.involved_side_item:
                    continue
                if item.type is ItemType.TEXT:  # the demo's own stories, not for bulk data
                    continue
                try:
                    findings_mod.validate(form, {"values": {item_id: value}})
                except findings_mod.FindingsError:
                    continue
                pool.setdefault(item_id, []).append((value, side))
    return pool


def _number(item: Item, value: float) -> float | int:
    """``value`` clipped to the item's range and rounded as the item is recorded."""
    bounds = item.value_range
    assert bounds is not None
    if item.integer or item.type is ItemType.SCALE:
        shown: float | int = round(value)
    elif item.type is ItemType.MMT:
        shown = round(value * 2) / 2
    else:
        shown = round(value, 1)
    return min(max(shown, bounds.min), bounds.max)


def _varied(item: Item, value: Any, rng: random.Random) -> Any:
    """A demo value, numbers moved by up to ``_SPREAD`` either way (categories as recorded)."""
    if isinstance(value, Mapping):
        return {side: _varied(item, v, rng) for side, v in value.items()}
    if item.type in NUMERIC_TYPES:
        return _number(item, value * rng.uniform(1 - _SPREAD, 1 + _SPREAD))
    return value


def _fresh(item: Item, rng: random.Random) -> Any:
    """A value from the item's definition alone (type, range, choices, bilateral)."""
    if item.bilateral:
        return {side: _fresh(item.model_copy(update={"bilateral": False}), rng) for side in SIDES}
    if item.type in NUMERIC_TYPES:
        bounds = item.value_range
        assert bounds is not None
        return _number(item, rng.uniform(bounds.min, bounds.max))
    if item.type in SET_TYPES:
        return rng.sample(item.allowed, k=rng.randint(1, min(3, len(item.allowed))))
    return rng.choice(item.allowed)


def _on_side(value: Any, recorded: str | None, side: str) -> Any:
    """A bilateral demo value moved to ``side`` (left and right swapped when the demo patient's
    involved side was the other one), so the involved side stays the one with the findings."""
    if not isinstance(value, Mapping) or recorded == side:
        return value
    if recorded not in SIDES or side not in SIDES:
        return value
    other = {"left": "right", "right": "left"}
    return {other[s]: v for s, v in value.items()}


def _values(
    form: Form, pool: Mapping[str, list[tuple[Any, str | None]]], rng: random.Random
) -> dict[str, Any]:
    """A plausible, valid set of findings: the involved side and a few items of the form.

    Items and values come from the demo findings where the form has them (realistic numbers,
    varied), otherwise from each item's definition. No item id is written in code.
    """
    side_item = form.items[form.involved_side_item]
    side = rng.choice([c for c in side_item.allowed if c in SIDES] or list(side_item.allowed))
    values: dict[str, Any] = {side_item.id: side}
    candidates = sorted(pool) or [
        i.id for i in form.items.values() if i.id != side_item.id and i.type is not ItemType.TEXT
    ]
    for item_id in rng.sample(candidates, k=min(ITEMS_PER_EVALUATION, len(candidates))):
        item = form.items[item_id]
        if item_id in pool:
            value, recorded = rng.choice(pool[item_id])
            values[item_id] = _varied(item, _on_side(value, recorded, side), rng)
        else:
            values[item_id] = _fresh(item, rng)
    return findings_mod.validate(form, {"values": values}).to_dict()


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
    started = time.perf_counter()
    rng = random.Random(seed)
    form = form or load_form(_default_form())
    now = utcnow()
    with db.writing() as s:
        snapshot_id = _snapshot(db, s, form).id
        start = int(s.scalar(select(func.coalesce(func.max(m.Patient.id), 0))) or 0) + 1
        first_eval = int(s.scalar(select(func.coalesce(func.max(m.Evaluation.id), 0))) or 0) + 1
        first_episode = int(s.scalar(select(func.coalesce(func.max(m.Episode.id), 0))) or 0) + 1
    pool = value_pool(form)
    variants = [_values(form, pool, rng) for _ in range(64)]
    patient_table = cast(Table, m.Patient.__table__)
    evaluation_table = cast(Table, m.Evaluation.__table__)
    episode_table = cast(Table, m.Episode.__table__)
    eval_id = first_eval
    episode_id = first_episode
    made_evaluations = 0
    for offset in range(0, patients, batch):
        ids = range(start + offset, start + min(offset + batch, patients))
        prows: list[dict[str, Any]] = []
        erows: list[dict[str, Any]] = []
        eprows: list[dict[str, Any]] = []
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
            if evaluations_per_patient:
                eprows.append(
                    {
                        "id": episode_id,
                        "patient_id": pid,
                        "title": "Posterior thigh",
                        "involved_side": None,
                        "referral_source": "",
                        "referral_reason": "",
                        "referral_date": None,
                        "start_date": day,
                        "end_date": None,
                        "version": 1,
                        "created_by": user,
                        "created_at": now,
                        "updated_by": user,
                        "updated_at": now,
                    }
                )
                episode_id += 1
            for n in range(evaluations_per_patient):
                findings = rng.choice(variants)
                row = {
                    "id": eval_id,
                    "patient_id": pid,
                    "episode_id": episode_id - 1,
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
            if eprows:
                s.execute(insert(episode_table), eprows)
            if erows:
                s.execute(insert(evaluation_table), erows)
        made_evaluations += len(erows)
    with db.writing() as s:
        if db.dialect == "postgresql":  # explicit ids do not advance the sequences
            for table in ("patient", "episode", "evaluation"):
                s.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
        write_audit(s, user, "synthetic", patients, "bulk_create", None, None, now)
    logger.info(
        "synthetic data added: %d patients, %d evaluations in %.1f s",
        patients,
        made_evaluations,
        time.perf_counter() - started,
    )
    return SyntheticResult(patients, made_evaluations, start)


def _default_form() -> Any:
    from clinic_app.paths import default_form_path

    return default_form_path()
