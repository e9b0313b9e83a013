"""Issue 14: forging a seal made with a clinician's own key, by someone who can write the database
file (the lock triggers dropped first, as in test_tampering) and, in some attacks, holds a
clinician account of their own. Each forgery must be named by ``verify_database``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clinic_app.core.form import Form
from clinic_app.storage import accounts, sealing, signer_seals
from clinic_app.storage import records as r
from clinic_app.storage.database import open_database

DANA, LEE, SAM = "dana pass 123", "lee pass 4567", "sam pass 8910"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@dataclass(frozen=True)
class Clinic:
    path: Path
    signed: int  # signed by dana
    cosigned: int  # prepared by sam, co-signed by dana
    dana: int
    lee: int
    lee_key: Ed25519PrivateKey  # the forger holds an account of their own
    dana_key: Ed25519PrivateKey  # or even the co-signer's


def make_clinic(path: Path, form: Form) -> Clinic:
    db = open_database(f"sqlite:///{path}", backup=False)
    try:
        r.save_clinic(db, r.ClinicInfo(name="Forgery Clinic"), user="setup")
        dana, _ = accounts.create_first_admin(
            db, "dana", DANA, display_name="Dana Physio", licence_number="PT-1"
        )
        lee = accounts.add_account(
            db, "lee", LEE, roles=["therapist"], display_name="Lee Second", by=dana
        )
        sam = accounts.add_account(
            db, "sam", SAM, roles=["student"], display_name="Sam Student", by=dana
        )
        patient = r.create_patient(db, r.PatientFields("Ann", "Forge", mrn="MRN-F1"), user="x")
        ids = []
        for signer, password in ((dana, DANA), (sam, SAM)):
            ev = r.start_evaluation(db, patient.id, form, user="x", clinician_id=signer.id)
            saved = r.save_draft(
                db, ev.id, {"form_version": form.version, "values": {"pain_now": 7}}, 1, user="x"
            )
            done = r.sign_evaluation(
                db, ev.id, saved.version, signer_id=signer.id, password=password
            )
            if done.awaiting_cosignature:
                r.cosign_evaluation(db, ev.id, done.version, signer_id=dana.id, password=DANA)
            ids.append(ev.id)
        lee_key = accounts.signing_key(db, lee.id, LEE)
        dana_key = accounts.signing_key(db, dana.id, DANA)
        assert r.verify_database(db) == []
    finally:
        db.close()
    return Clinic(path, ids[0], ids[1], dana.id, lee.id, lee_key, dana_key)


@pytest.fixture
def clinic(tmp_path: Path, form: Form) -> Clinic:
    return make_clinic(tmp_path / "clinic.db", form)


def problems(clinic: Clinic, evaluation_id: int) -> list[str]:
    db = open_database(f"sqlite:///{clinic.path}", migrate=False, backup=False)
    try:
        return [b.problem for b in r.verify_database(db) if b.evaluation_id == evaluation_id]
    finally:
        db.close()


def forge(
    clinic: Clinic,
    evaluation_id: int,
    change: Callable[[dict[str, Any]], Ed25519PrivateKey | None],
    *,
    signed_by: str | None = None,
) -> None:
    """Drop the lock, change the findings (pain 7 -> 2) and the seal's digests to match, let
    ``change`` edit the seal and return the key to re-sign it with (None: keep the signature)."""
    conn = sqlite3.connect(clinic.path, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER evaluation_signed_no_update")
        findings, seal_text, signature, by = conn.execute(
            "SELECT findings, seal, signature, signed_by FROM evaluation WHERE id = ?",
            (evaluation_id,),
        ).fetchone()
        values = json.loads(findings)
        values["values"]["pain_now"] = 2
        seal = json.loads(seal_text)
        seal["fields"]["findings"] = sealing.sha(values)
        if signed_by is not None:
            by = signed_by
            seal["fields"]["signed_by"] = sealing.sha(by)
        key = change(seal)
        if key is not None:
            signature = key.sign(sealing._signed_part(seal).encode("utf-8")).hex()
        conn.execute(
            "UPDATE evaluation SET findings = ?, seal = ?, signature = ?, signed_by = ? "
            "WHERE id = ?",
            (sealing.canonical(values), sealing.canonical(seal), signature, by, evaluation_id),
        )
    finally:
        conn.close()


def test_swapping_the_clinicians_public_key_and_resigning_is_detected(clinic: Clinic) -> None:
    forger = Ed25519PrivateKey.generate()

    def swap(seal: dict[str, Any]) -> Ed25519PrivateKey:
        seal["key"]["public_key"] = sealing.public_hex(forger)
        return forger

    forge(clinic, clinic.signed, swap)
    assert problems(clinic, clinic.signed) == [
        "its signer's key certificate does not vouch for this key and clinician"
    ]


def test_a_certificate_copied_from_another_clinician_is_detected(clinic: Clinic) -> None:
    """Lee, with his own real certified key, re-signs Dana's record in Dana's name."""
    db = open_database(f"sqlite:///{clinic.path}", migrate=False, backup=False)
    try:
        with db.reading() as s:
            from clinic_app.storage import models as m

            lee = s.get_one(m.Clinician, clinic.lee)
            block = {
                "public_key": lee.signing_public_key,
                "certificate": lee.key_certificate,
                "certified_by": lee.key_certified_by,
            }
    finally:
        db.close()

    def copy(seal: dict[str, Any]) -> Ed25519PrivateKey:
        seal["key"] = dict(block)
        return clinic.lee_key

    forge(clinic, clinic.signed, copy)
    assert problems(clinic, clinic.signed) == [
        "its signer's key certificate does not vouch for this key and clinician"
    ]


def test_resigning_a_colleagues_record_as_oneself_is_detected(clinic: Clinic) -> None:
    """Lee re-signs Dana's record under his own name and sound certificate: the signature holds,
    but the audit trail (hash-chained) records Dana signing it."""
    lee_block = signer_seals.SignerKey(
        clinic.lee, "lee", clinic.lee_key, "", ""
    ).block()  # the public key; the certificate comes from the row below
    conn = sqlite3.connect(clinic.path)
    cert, certifier = conn.execute(
        "SELECT key_certificate, key_certified_by FROM clinician WHERE id = ?", (clinic.lee,)
    ).fetchone()
    conn.close()

    def as_lee(seal: dict[str, Any]) -> Ed25519PrivateKey:
        seal["signer"] = dict(
            seal["signer"], clinician_id=clinic.lee, login="lee", name="Lee Second"
        )
        seal["key"] = dict(lee_block, certificate=cert, certified_by=certifier)
        return clinic.lee_key

    forge(clinic, clinic.signed, as_lee, signed_by="Lee Second")
    found = problems(clinic, clinic.signed)
    assert "its seal names lee as signer, the audit trail records dana" in found


def test_a_seal_certified_by_an_untrusted_key_is_detected(clinic: Clinic) -> None:
    """The forger makes an installation key of their own and certifies a key in Dana's name."""
    own_installation = Ed25519PrivateKey.generate()
    own_key = Ed25519PrivateKey.generate()

    def certify(seal: dict[str, Any]) -> Ed25519PrivateKey:
        public = sealing.public_hex(own_key)
        message = signer_seals.certificate_message(clinic.dana, "dana", public)
        seal["key"] = {
            "public_key": public,
            "certificate": own_installation.sign(message.encode("utf-8")).hex(),
            "certified_by": sealing.public_hex(own_installation),
        }
        return own_key

    forge(clinic, clinic.signed, certify)
    assert problems(clinic, clinic.signed) == [
        "its signer's key was certified by a key this installation does not trust"
    ]


def test_a_changed_preparation_in_a_cosigned_seal_is_detected(clinic: Clinic) -> None:
    def rename(seal: dict[str, Any]) -> None:
        seal["prepared"]["seal"]["signer"]["name"] = "Someone Else"

    forge(clinic, clinic.cosigned, rename)
    assert problems(clinic, clinic.cosigned) == [
        "its seal or signature was altered (the signature does not match)"
    ]


def test_a_forged_preparation_resigned_by_the_cosigner_is_detected(clinic: Clinic) -> None:
    """Even the co-signer's own key cannot change what the student signed: the preparation
    carries the student's signature."""

    def replace(seal: dict[str, Any]) -> Ed25519PrivateKey:
        seal["prepared"]["seal"]["signer"]["name"] = "Someone Else"
        seal["prepared"]["seal"]["fields"]["findings"] = seal["fields"]["findings"]
        return clinic.dana_key

    forge(clinic, clinic.cosigned, replace)
    assert problems(clinic, clinic.cosigned) == [
        "its preparation or signature was altered (the signature does not match)",
        "its content hash was changed",  # the forger did not recompute it: not needed to see
    ]
