"""Who signed, in the bundle: a student's prepared record co-signed by a therapist gives both
as Practitioners (name, credentials, licence number as sealed), the Provenance names the
preparer as author and the therapist as verifier, and its signature is the therapist's own
Ed25519 seal, which verifies under the key the seal carries."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from clinic_app.core.form import Form
from clinic_app.interop.fhir import build_bundle
from clinic_app.storage import accounts
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.sealing import canonical
from tests.interop.fhir_helpers import by_url, resources

PASSWORD = "therapist pass 1"
STUDENT_PASSWORD = "student pass 22"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


def test_prepared_and_cosigned_record(db: Database, shipped_form: Form) -> None:
    r.save_clinic(db, r.ClinicInfo(name="Signing Clinic"), user="setup")
    admin, _ = accounts.create_first_admin(
        db,
        "dana",
        PASSWORD,
        display_name="Dana Physio",
        credentials="PT, DPT",
        licence_number="PT-4471",
    )
    student = accounts.add_account(
        db,
        "sam",
        STUDENT_PASSWORD,
        roles=["student"],
        display_name="Sam Student",
        credentials="SPT",
        by=admin,
    )
    patient = r.create_patient(db, r.PatientFields("Ann", "Signer", mrn="S-1"), user="x")
    ev = r.start_evaluation(db, patient.id, shipped_form, user="sam", clinician_id=student.id)
    values = {
        "form_version": shipped_form.version,
        "values": {"pain_now": 6, "slr_deg": {"left": 60, "right": 80}},
    }
    saved = r.save_draft(db, ev.id, values, ev.version, user="sam")
    r.sign_evaluation(db, ev.id, saved.version, signer_id=student.id, password=STUDENT_PASSWORD)
    prepared = r.get_evaluation(db, ev.id)
    r.cosign_evaluation(db, ev.id, prepared.version, signer_id=admin.id, password=PASSWORD)

    bundle = build_bundle(db, patient.id, include_pdf=False)
    urls = by_url(bundle)
    people = {p["name"][0]["text"]: p for p in resources(bundle, "Practitioner")}
    assert set(people) == {"Sam Student", "Dana Physio"}
    assert people["Dana Physio"]["identifier"][0]["value"] == "PT-4471"
    assert people["Sam Student"]["qualification"][0]["code"]["text"] == "SPT"
    assert "identifier" not in people["Sam Student"]  # no licence: left out, not ""
    (provenance,) = resources(bundle, "Provenance")
    roles = {
        urls[a["who"]["reference"]]["name"][0]["text"]: a["type"]["coding"][0]["code"]
        for a in provenance["agent"]
    }
    assert roles == {"Sam Student": "author", "Dana Physio": "verifier"}
    signature = provenance["signature"][0]
    assert urls[signature["who"]["reference"]]["name"][0]["text"] == "Dana Physio"
    sealed = json.loads(base64.b64decode(signature["data"]))
    seal = sealed["seal"]
    assert seal["signer"]["name"] == "Dana Physio"
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(seal["key"]["public_key"]))
    body = canonical({k: v for k, v in seal.items() if k != "key"})
    key.verify(bytes.fromhex(sealed["signature"]), body.encode("utf-8"))
    (encounter,) = resources(bundle, "Encounter")
    assert len(encounter["participant"]) == 2
    sides = {
        o["bodySite"]["text"]: o["valueQuantity"]["value"]
        for o in resources(bundle, "Observation")
        if "bodySite" in o
    }
    assert sides == {"left": 60, "right": 80}
