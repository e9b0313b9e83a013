"""The FHIR bundle of a patient: validated by fhir.resources, every finding round-trips, the
laterality of every bilateral finding, evidence and seals as references that resolve, the signed
PDFs readable, and the demo's largest patient equal to the stored expected bundle."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from clinic_app.core import engine
from clinic_app.core import findings as findings_mod
from clinic_app.core.form import SIDES, Form
from clinic_app.interop import fhir_codes as codes
from clinic_app.interop.fhir import build_bundle
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import NotFoundError
from tests.interop.fhir_helpers import (
    by_url,
    expected_observations,
    masked,
    observations,
    record_of,
    resources,
)

EXPECTED = Path(__file__).resolve().parents[1] / "data" / "fhir_demo_patient3.json"
REGENERATE = "CLINIC_APP_REGENERATE_FHIR"


def _patients(db: Database) -> list[int]:
    return [p.id for p in r.list_patients(db, include_archived=True)]


def _reparsed(bundle: dict[str, Any]) -> dict[str, Any]:
    """Through JSON text and the library's parser, as a receiving system reads it."""
    model = Bundle.model_validate_json(json.dumps(bundle))
    out: dict[str, Any] = json.loads(model.model_dump_json(exclude_none=True))
    return out


def test_every_demo_patient_round_trips(demo_db: Database) -> None:
    total = 0
    for pid in _patients(demo_db):
        bundle = _reparsed(build_bundle(demo_db, pid, include_pdf=False))
        evaluations = [r.get_evaluation(demo_db, s.id) for s in r.list_evaluations(demo_db, pid)]
        want: dict[Any, Any] = {}
        form_id = ""
        for ev in evaluations:
            form = r.evaluation_form(demo_db, ev.id)
            form_id = form.id
            want.update(expected_observations(form, ev.findings, ev.id))
        got = observations(bundle, form_id) if evaluations else {}
        assert got == want
        total += len(got)
        assert len(resources(bundle, "Patient")) == 1
        assert len(resources(bundle, "Encounter")) == len(evaluations)
        signed = [ev for ev in evaluations if ev.is_signed]
        assert len(resources(bundle, "Provenance")) == len(signed)
        episodes = r.list_episodes(demo_db, pid)
        assert len(resources(bundle, "EpisodeOfCare")) == len(episodes)
        assert len(resources(bundle, "CarePlan")) == len(episodes)
        goals = sum(len(r.list_goals(demo_db, ep.id)) for ep in episodes)
        assert len(resources(bundle, "Goal")) == goals
    assert total > 300  # the demo holds hundreds of findings: the comparison compared something


def test_every_bilateral_finding_carries_its_laterality(demo_db: Database) -> None:
    lateral = {"left": "7771000", "right": "24028007"}
    checked = 0
    for pid in _patients(demo_db):
        bundle = build_bundle(demo_db, pid, include_pdf=False)
        records = record_of(bundle)
        sites: dict[tuple[int, str, str], str] = {}
        for obs in resources(bundle, "Observation"):
            if "bodySite" in obs:
                coding = obs["bodySite"]["coding"][0]
                assert coding["system"] == "http://snomed.info/sct"
                item = obs["code"]["coding"][-1]["code"]
                sites[(records[obs["encounter"]["reference"]], item, obs["bodySite"]["text"])] = (
                    coding["code"]
                )
        for summary in r.list_evaluations(demo_db, pid):
            ev = r.get_evaluation(demo_db, summary.id)
            form = r.evaluation_form(demo_db, ev.id)
            for item_id, value in ev.values.items():
                if not form.items[item_id].bilateral:
                    continue
                for side in SIDES:
                    if value.get(side) not in (None, ""):
                        assert sites[(ev.id, item_id, side)] == lateral[side], (ev.id, item_id)
                        checked += 1
    assert checked > 100


def test_references_resolve_and_evidence_points_at_the_record(demo_db: Database) -> None:
    bundle = build_bundle(demo_db, 3, kind="document", include_pdf=False)
    urls = by_url(bundle)
    assert bundle["entry"][0]["resource"]["resourceType"] == "Composition"

    def refs(value: Any) -> list[str]:
        if isinstance(value, dict):
            here = [value["reference"]] if isinstance(value.get("reference"), str) else []
            return here + [x for v in value.values() for x in refs(v)]
        if isinstance(value, list):
            return [x for v in value for x in refs(v)]
        return []

    every = refs(bundle)
    assert every
    assert all(ref in urls for ref in every)
    for condition in resources(bundle, "Condition"):
        assert condition["verificationStatus"]["coding"][0]["code"] in (
            "provisional",
            "unconfirmed",
        )
        assert "the therapist decides" in condition["note"][0]["text"]
        for evidence in condition.get("evidence", []):
            for detail in evidence.get("detail", []):
                obs = urls[detail["reference"]]
                assert obs["resourceType"] == "Observation"
                assert obs["encounter"] == condition["encounter"]


def test_fired_factors_are_the_assessment(demo_db: Database) -> None:
    bundle = build_bundle(demo_db, 3, include_pdf=False)
    records = record_of(bundle)
    got: dict[int, set[str]] = {}
    for condition in resources(bundle, "Condition"):
        record = records[condition["encounter"]["reference"]]
        got.setdefault(record, set()).add(condition["code"]["coding"][0]["code"])
    for summary in r.list_evaluations(demo_db, 3):
        if summary.kind == "visit":
            continue
        form = r.evaluation_form(demo_db, summary.id)
        found = findings_mod.validate(form, dict(r.get_evaluation(demo_db, summary.id).findings))
        result = engine.assess(form, found)
        want = {x.id for x in (*result.factors, *result.patterns, *result.red_flags)}
        assert got.get(summary.id, set()) == want


def test_codes_are_verified_ones_or_local(demo_db: Database) -> None:
    bundle = build_bundle(demo_db, 1, include_pdf=False)
    systems = set()
    for obs in resources(bundle, "Observation"):
        for coding in obs["code"]["coding"]:
            systems.add(coding["system"])
        label = obs["code"]["text"]
        if "NPRS" in label:
            assert obs["code"]["coding"][0]["code"] == "72514-3"
        quantity = obs.get("valueQuantity")
        if quantity and quantity.get("system") == codes.UCUM:
            assert quantity["code"] in (*codes.UCUM_UNITS.values(), "{score}")
        elif quantity and "unit" in quantity:
            assert "system" not in quantity
            assert "code" not in quantity
    assert systems <= {codes.LOINC, codes.form_system("hamstring_whole_body")}
    degrees = [
        o
        for o in resources(bundle, "Observation")
        if o.get("valueQuantity", {}).get("code") == "deg"
    ]
    assert degrees  # the straight leg raise in degrees went as UCUM "deg"


def test_signed_pdf_and_seal_are_the_record(demo_db: Database) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from pypdf import PdfReader

    from clinic_app.storage.sealing import canonical

    bundle = build_bundle(demo_db, 1)
    documents = resources(bundle, "DocumentReference")
    assert len(documents) == 1  # patient 1 has one signed evaluation
    attachment = documents[0]["content"][0]["attachment"]
    data = base64.b64decode(attachment["data"])
    assert attachment["size"] == len(data)
    assert base64.b64decode(attachment["hash"]) == hashlib.sha1(data).digest()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Müller" in text
    assert "DEMO-0001" in text
    (provenance,) = resources(bundle, "Provenance")
    sealed = json.loads(base64.b64decode(provenance["signature"][0]["data"]))
    ev = r.get_evaluation(demo_db, 1)
    assert sealed["seal"] == ev.seal
    assert sealed["content_hash"] == ev.content_hash
    seal = sealed["seal"]
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(seal["key"]))
    body = canonical({k: v for k, v in seal.items() if k != "key"})
    key.verify(bytes.fromhex(sealed["signature"]), body.encode("utf-8"))  # raises if forged
    assert documents[0]["context"]["encounter"][0]["reference"] in provenance["target"][0].values()


def test_demo_patient_matches_the_stored_bundle(demo_db: Database) -> None:
    got = masked(build_bundle(demo_db, 3, kind="document"))
    if os.environ.get(REGENERATE):
        EXPECTED.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", "utf-8")
    want = json.loads(EXPECTED.read_text("utf-8"))
    assert len(got["entry"]) == len(want["entry"])
    for n, (a, b) in enumerate(zip(got["entry"], want["entry"], strict=True)):
        assert a == b, f"entry {n} ({b['resource']['resourceType']}) differs"
    assert got == want


def test_ids_are_stable_across_exports(demo_db: Database) -> None:
    first = build_bundle(demo_db, 3, include_pdf=False)
    second = build_bundle(demo_db, 3, include_pdf=False)
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]
    assert first["identifier"] != second["identifier"]  # each export is its own bundle


def test_unknown_patient_is_refused(demo_db: Database) -> None:
    with pytest.raises(NotFoundError):
        build_bundle(demo_db, 999)


def _recorded(db: Database, form: Form, values: dict[str, Any], kind: Any = "initial") -> int:
    ev = r.start_evaluation(db, 1, form, user="dana", kind=kind, eval_date=date(2026, 5, 4))
    saved = r.save_draft(
        db,
        ev.id,
        {"form": form.id, "form_version": form.version, "values": values},
        ev.version,
        user="dana",
    )
    r.sign_evaluation(db, ev.id, saved.version, user="dana")
    return ev.id


def test_questionnaires_programs_rows_and_hostile_text(
    sqlite_db: Database, shipped_form: Form
) -> None:
    db, form = sqlite_db, shipped_form
    r.create_patient(
        db,
        r.PatientFields(
            "<b>Zoë</b>", "", mrn="=cmd|' /C calc'!A0", date_of_birth=date(2000, 2, 29)
        ),
        user="dana",
    )
    lefs = {f"q{n:02d}": n % 5 for n in range(1, 21)}
    values = {
        "lefs_answers": {
            "questionnaire": "lefs",
            "answers": lefs,
            "reported_by": "patient",
            "language": "en",
        },
        "lefs_total": sum(lefs.values()),
        "psfs_answers": {
            "questionnaire": "psfs",
            "reported_by": "clinician",
            "language": "en",
            "answers": {
                "a1": {"activity": "Sprint <script>", "score": 4},
                "a2": {"activity": "Stairs", "score": 7},
            },
        },
        "psfs_mean": 5.5,
        "assessment": "Line one\nline two — ünïcode ✓ " + "x" * 3000,
        "home_program": {
            "exercises": [{"exercise": "glute_bridge", "side": "left", "sets": 3, "reps": 10}],
            "note": "Daily",
        },
        "slr_deg": {"left": 71},
    }
    record = _recorded(db, form, values)
    visit = _recorded(
        db,
        form,
        {"interventions": [{"kind": "exercise", "name": "Nordic", "sets": 3, "reps": 5}]},
        kind="visit",
    )
    bundle = _reparsed(build_bundle(db, 1))
    want = expected_observations(form, r.get_evaluation(db, record).findings, record)
    want.update(expected_observations(form, r.get_evaluation(db, visit).findings, visit))
    assert observations(bundle, form.id) == want
    responses = resources(bundle, "QuestionnaireResponse")
    assert [q["questionnaire"].split("|")[0] for q in responses] == [
        "urn:clinic-app:questionnaire:lefs",
        "urn:clinic-app:questionnaire:psfs",
    ]
    assert len(responses[0]["item"]) == 20
    assert responses[0]["status"] == "completed"
    assert responses[0]["source"]["reference"] == resources(bundle, "Patient")[0]["id"].join(
        ("urn:uuid:", "")
    )
    assert [i["text"] for i in responses[1]["item"]] == ["Sprint <script>", "Stairs"]
    urls = by_url(bundle)
    score = [o for o in resources(bundle, "Observation") if o["code"]["text"].startswith("LEFS")]
    assert score
    assert urls[score[0]["derivedFrom"][0]["reference"]] is not None
    patient = resources(bundle, "Patient")[0]
    assert patient["name"] == [{"given": ["<b>Zoë</b>"]}]  # no family name: left out, not ""
    assert patient["identifier"][0]["value"] == "=cmd|' /C calc'!A0"
    assert patient["birthDate"] == "2000-02-29"
