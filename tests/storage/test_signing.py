"""Issue 14: signing is an act of the signed-in clinician (their password unlocks their own key);
an assistant's or student's signature awaits a therapist's co-signature. SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from clinic_app.core.form import Form
from clinic_app.storage import accounts, sealing
from clinic_app.storage import models as m
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import ConflictError, EvaluationSignedError, StorageError

PASSWORD = "therapist pass 1"
AWAITING = "awaiting co-signature cannot be changed"
REFUSED = DBAPIError
STUDENT_PASSWORD = "student pass 22"
OTHER_PASSWORD = "second pass 333"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with the smallest cost: the same code path, fast."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@dataclass(frozen=True)
class People:
    admin: r.Clinician  # admin + therapist
    student: r.Clinician
    assistant: r.Clinician
    other: r.Clinician  # a second therapist
    office: r.Clinician  # admin only


def people(db: Database) -> People:
    r.save_clinic(db, r.ClinicInfo(name="Signing Clinic", address="2 Road"), user="setup")
    admin, _ = accounts.create_first_admin(
        db,
        "dana",
        PASSWORD,
        display_name="Dana Physio",
        credentials="PT, DPT",
        licence_number="PT-4471",
    )
    add = accounts.add_account
    student = add(
        db,
        "sam",
        STUDENT_PASSWORD,
        roles=["student"],
        display_name="Sam Student",
        credentials="SPT",
        by=admin,
    )
    assistant = add(
        db,
        "ali",
        STUDENT_PASSWORD,
        roles=["assistant"],
        display_name="Ali Assistant",
        credentials="PTA",
        licence_number="PTA-9",
        by=admin,
    )
    other = add(
        db,
        "lee",
        OTHER_PASSWORD,
        roles=["therapist"],
        display_name="Lee Second",
        credentials="PT",
        licence_number="PT-77",
        by=admin,
    )
    office = add(db, "ola", OTHER_PASSWORD, roles=["admin"], display_name="Ola Office", by=admin)
    return People(admin, student, assistant, other, office)


@pytest.fixture
def team(db: Database) -> People:
    return people(db)


def draft(db: Database, form: Form, who: r.Clinician, pain: int = 6) -> tuple[int, int]:
    patient = r.create_patient(
        db, r.PatientFields("Ann", "Signer", mrn=f"MRN-S{pain}{who.id}"), user="x"
    )
    ev = r.start_evaluation(db, patient.id, form, user=who.login or "x", clinician_id=who.id)
    saved = r.save_draft(
        db,
        ev.id,
        {"form_version": form.version, "values": {"pain_now": pain}},
        ev.version,
        user="x",
    )
    return ev.id, saved.version


def actions(db: Database, evaluation_id: int) -> list[tuple[str, str]]:
    return [
        (e.actor, e.action)
        for e in reversed(r.audit_events(db, entity="evaluation", entity_id=evaluation_id))
        if e.action not in ("create", "save_draft")
    ]


def test_a_therapist_signs_with_their_own_certified_key(
    db: Database, form: Form, team: People
) -> None:
    ev_id, version = draft(db, form, team.admin)
    signed = r.sign_evaluation(db, ev_id, version, signer_id=team.admin.id, password=PASSWORD)
    assert not signed.awaiting_cosignature
    ev = r.get_evaluation(db, ev_id)
    assert ev.status == "signed"
    assert ev.signed_by == "Dana Physio"
    seal = dict(ev.seal or {})
    assert seal["v"] == sealing.SEAL_VERSION == 2
    assert seal["signer"] == {
        "clinician_id": team.admin.id,
        "login": "dana",
        "name": "Dana Physio",
        "credentials": "PT, DPT",
        "licence_number": "PT-4471",
        "role": "therapist",
    }
    assert seal["prepared"] is None
    assert seal["key"]["certified_by"] == sealing.installation_public_key()
    assert r.verify_database(db) == []
    assert actions(db, ev_id) == [("dana", "sign")]


@pytest.mark.parametrize("wrong", ["wrong password!", "", PASSWORD + " ", OTHER_PASSWORD])
def test_a_wrong_password_signs_nothing(db: Database, form: Form, team: People, wrong: str) -> None:
    ev_id, version = draft(db, form, team.admin)
    before = r.get_evaluation(db, ev_id)
    with pytest.raises(accounts.SignInError, match="^wrong name or password$"):
        r.sign_evaluation(db, ev_id, version, signer_id=team.admin.id, password=wrong)
    after = r.get_evaluation(db, ev_id)
    assert after == before
    assert actions(db, ev_id) == []


def test_another_clinicians_password_does_not_sign_in_their_name(
    db: Database, form: Form, team: People
) -> None:
    """Knowing one's own password does not sign as someone else."""
    ev_id, version = draft(db, form, team.admin)
    with pytest.raises(accounts.SignInError):
        r.sign_evaluation(db, ev_id, version, signer_id=team.admin.id, password=OTHER_PASSWORD)
    assert r.get_evaluation(db, ev_id).status == "draft"


def test_a_disabled_or_admin_only_account_cannot_sign(
    db: Database, form: Form, team: People
) -> None:
    ev_id, version = draft(db, form, team.admin)
    with pytest.raises(StorageError, match="^Ola Office is not a therapist, assistant or student"):
        r.sign_evaluation(db, ev_id, version, signer_id=team.office.id, password=OTHER_PASSWORD)
    accounts.disable_account(db, "lee", by=team.admin)
    with pytest.raises(StorageError, match="^the account of Lee Second is disabled"):
        r.sign_evaluation(db, ev_id, version, signer_id=team.other.id, password=OTHER_PASSWORD)
    with pytest.raises(StorageError, match="needs the signer's account and password"):
        r.sign_evaluation(db, ev_id, version, signer_id=team.admin.id)
    assert r.get_evaluation(db, ev_id).status == "draft"
    assert actions(db, ev_id) == []


def test_a_stale_version_or_a_signed_evaluation_is_refused(
    db: Database, form: Form, team: People
) -> None:
    ev_id, version = draft(db, form, team.admin)
    with pytest.raises(ConflictError):
        r.sign_evaluation(db, ev_id, version - 1, signer_id=team.admin.id, password=PASSWORD)
    r.sign_evaluation(db, ev_id, version, signer_id=team.admin.id, password=PASSWORD)
    with pytest.raises(EvaluationSignedError, match="was signed by Dana Physio"):
        r.sign_evaluation(db, ev_id, version + 1, signer_id=team.other.id, password=OTHER_PASSWORD)


def test_a_students_signature_awaits_a_therapists_cosignature(
    db: Database, form: Form, team: People
) -> None:
    ev_id, version = draft(db, form, team.student)
    prepared = r.sign_evaluation(
        db, ev_id, version, signer_id=team.student.id, password=STUDENT_PASSWORD
    )
    assert prepared.awaiting_cosignature
    assert prepared.signed_by == "Sam Student"
    ev = r.get_evaluation(db, ev_id)
    assert ev.status == "draft"
    assert ev.awaiting_cosignature
    assert (ev.prepared_by_id, ev.prepared_by) == (team.student.id, "Sam Student")
    assert ev.prepared_at == prepared.signed_at
    (summary,) = [s for s in r.list_evaluations(db, ev.patient_id) if s.id == ev_id]
    assert summary.awaiting_cosignature
    assert summary.prepared_by == "Sam Student"
    assert r.verify_database(db) == []  # a draft is not a signed record yet

    # The findings are locked: the API refuses, with one line, and nothing changes.
    with pytest.raises(StorageError, match="awaits a therapist's co-signature") as info:
        r.save_draft(
            db,
            ev_id,
            {"form_version": form.version, "values": {"pain_now": 2}},
            ev.version,
            user="sam",
        )
    assert "\n" not in str(info.value)
    # Saving the very same findings is no change and is not refused (the autosave may tick).
    same = r.save_draft(db, ev_id, dict(ev.findings), ev.version, user="sam")
    assert not same.changed
    # The student cannot prepare it twice, nor sign it headless.
    with pytest.raises(StorageError, match="awaits a therapist's co-signature"):
        r.sign_evaluation(
            db, ev_id, ev.version, signer_id=team.student.id, password=STUDENT_PASSWORD
        )
    with pytest.raises(StorageError, match="awaits a therapist's co-signature"):
        r.sign_evaluation(db, ev_id, ev.version, user="someone")
    assert r.get_evaluation(db, ev_id) == ev

    # Co-signature: not by an assistant, not by a student; by a therapist.
    with pytest.raises(StorageError, match="^Ali Assistant is not a therapist: only a therapist"):
        r.cosign_evaluation(
            db, ev_id, ev.version, signer_id=team.assistant.id, password=STUDENT_PASSWORD
        )
    with pytest.raises(ConflictError):
        r.cosign_evaluation(db, ev_id, ev.version - 1, signer_id=team.admin.id, password=PASSWORD)
    with pytest.raises(accounts.SignInError):
        r.cosign_evaluation(db, ev_id, ev.version, signer_id=team.admin.id, password="nope nope!")
    assert r.get_evaluation(db, ev_id) == ev
    done = r.cosign_evaluation(db, ev_id, ev.version, signer_id=team.admin.id, password=PASSWORD)
    signed = r.get_evaluation(db, ev_id)
    assert signed.status == "signed"
    assert not signed.awaiting_cosignature
    assert signed.signed_by == "Dana Physio" == done.signed_by
    assert signed.prepared_by == "Sam Student"
    seal = dict(signed.seal or {})
    assert seal["signer"]["name"] == "Dana Physio"
    assert seal["signer"]["licence_number"] == "PT-4471"
    preparation = seal["prepared"]["seal"]
    assert preparation["signer"]["name"] == "Sam Student"
    assert preparation["signer"]["credentials"] == "SPT"
    assert preparation["signer"]["role"] == "student"
    assert preparation["key"]["public_key"] != seal["key"]["public_key"]
    assert r.verify_database(db) == []
    assert actions(db, ev_id) == [("sam", "prepare"), ("dana", "cosign")]


def test_the_database_refuses_changing_the_findings_of_a_prepared_draft(
    db: Database, form: Form, team: People
) -> None:
    """Every SQL route around the API: a plain UPDATE, one that clears prepared_by in the same
    statement, a metadata change; on SQLite also INSERT OR REPLACE over the row."""
    ev_id, version = draft(db, form, team.student)
    r.sign_evaluation(db, ev_id, version, signer_id=team.student.id, password=STUDENT_PASSWORD)
    before = r.get_evaluation(db, ev_id)
    statements = [
        update(m.Evaluation).where(m.Evaluation.id == ev_id).values(findings={"values": {}}),
        update(m.Evaluation)
        .where(m.Evaluation.id == ev_id)
        .values(findings={"values": {}}, prepared_by=None, prepared_by_id=None),
        update(m.Evaluation).where(m.Evaluation.id == ev_id).values(kind="discharge"),
    ]
    statements.append(delete(m.Evaluation).where(m.Evaluation.id == ev_id))  # then re-insert
    for statement in statements:
        with pytest.raises(REFUSED, match=AWAITING), db.engine.begin() as conn:
            conn.execute(statement)
    if db.dialect == "sqlite":
        replace = "INSERT OR REPLACE INTO evaluation SELECT * FROM t"
    else:
        replace = (
            "INSERT INTO evaluation SELECT * FROM t "
            "ON CONFLICT (id) DO UPDATE SET findings = '{}'::jsonb, prepared_by = NULL"
        )
    with db.engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE TEMP TABLE t AS SELECT * FROM evaluation WHERE id = {ev_id}")
        conn.exec_driver_sql("UPDATE t SET prepared_by = NULL, findings = '{}'")
        with pytest.raises(REFUSED, match=AWAITING):
            conn.exec_driver_sql(replace)
        conn.rollback()
    assert r.get_evaluation(db, ev_id) == before


def test_return_for_changes_lets_the_student_edit_again(
    db: Database, form: Form, team: People
) -> None:
    ev_id, version = draft(db, form, team.assistant)
    r.sign_evaluation(db, ev_id, version, signer_id=team.assistant.id, password=STUDENT_PASSWORD)
    ev = r.get_evaluation(db, ev_id)
    with pytest.raises(StorageError, match="needs a reason"):
        r.return_for_changes(db, ev_id, ev.version, by_id=team.admin.id, reason="  ")
    with pytest.raises(StorageError, match="not a therapist"):
        r.return_for_changes(db, ev_id, ev.version, by_id=team.student.id, reason="x")
    with pytest.raises(ConflictError):
        r.return_for_changes(db, ev_id, ev.version - 1, by_id=team.admin.id, reason="x")
    assert r.get_evaluation(db, ev_id) == ev
    version = r.return_for_changes(
        db, ev_id, ev.version, by_id=team.admin.id, reason="Re-test the SLR, please."
    )
    back = r.get_evaluation(db, ev_id)
    assert back.version == version == ev.version + 1
    assert not back.awaiting_cosignature
    assert back.prepared_by is None
    assert back.returned is not None
    assert back.returned[0] == "Dana Physio"
    assert back.returned[2] == "Re-test the SLR, please."
    saved = r.save_draft(
        db, ev_id, {"form_version": form.version, "values": {"pain_now": 3}}, version, user="ali"
    )
    assert saved.changed
    with pytest.raises(StorageError, match="does not await a co-signature"):
        r.cosign_evaluation(db, ev_id, saved.version, signer_id=team.admin.id, password=PASSWORD)
    assert actions(db, ev_id) == [("ali", "prepare"), ("dana", "return_for_changes")]


def test_cosigning_ones_own_preparation_is_refused(db: Database, form: Form, team: People) -> None:
    """A student who has since become a therapist cannot co-sign what they prepared."""
    ev_id, version = draft(db, form, team.student)
    r.sign_evaluation(db, ev_id, version, signer_id=team.student.id, password=STUDENT_PASSWORD)
    with db.writing() as s:
        s.execute(
            update(m.Clinician).where(m.Clinician.id == team.student.id).values(roles="therapist")
        )
    ev = r.get_evaluation(db, ev_id)
    with pytest.raises(StorageError, match="^Sam Student prepared evaluation .*another therapist"):
        r.cosign_evaluation(
            db, ev_id, ev.version, signer_id=team.student.id, password=STUDENT_PASSWORD
        )
    assert r.get_evaluation(db, ev_id) == ev


def test_a_seal_stays_sound_after_the_signers_key_is_replaced(
    db: Database, form: Form, team: People
) -> None:
    ev_id, version = draft(db, form, team.other)
    r.sign_evaluation(db, ev_id, version, signer_id=team.other.id, password=OTHER_PASSWORD)
    old_key = r.get_evaluation(db, ev_id).seal["key"]["public_key"]  # type: ignore[index]
    accounts.reset_password(db, "lee", "a brand new pass", by=team.admin)
    with db.reading() as s:
        assert s.get_one(m.Clinician, team.other.id).signing_public_key != old_key
    assert r.verify_database(db) == []
    ev2, v2 = draft(db, form, team.other, pain=4)
    r.sign_evaluation(db, ev2, v2, signer_id=team.other.id, password="a brand new pass")
    assert r.verify_database(db) == []


def test_the_headless_path_seals_with_the_installation_key_and_says_so(
    db: Database, form: Form, team: People
) -> None:
    ev_id, version = draft(db, form, team.admin)
    r.sign_evaluation(db, ev_id, version, user="demo script")
    seal = dict(r.get_evaluation(db, ev_id).seal or {})
    assert seal["v"] == 1
    assert seal["signed_with"] == "installation key"
    assert seal["key"] == sealing.installation_public_key()
    assert r.verify_database(db) == []
    with pytest.raises(StorageError, match="needs the signer's account and password"):
        r.sign_evaluation(db, ev_id, version, user="x", password="y")  # type: ignore[call-overload]


def test_the_report_prints_the_signer_as_sealed_with_credentials_and_licence(
    db: Database, form: Form, team: People, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    from clinic_app.reports.clinician import build_clinician_report
    from clinic_app.reports.records import report_data_for_evaluation

    ev_id, version = draft(db, form, team.admin)
    r.sign_evaluation(db, ev_id, version, signer_id=team.admin.id, password=PASSWORD)
    # Renamed after signing: the report keeps what was sealed.
    r.save_clinician(
        db, r.ClinicianInfo("Renamed Later", "X", "X-0"), user="x", clinician_id=team.admin.id
    )
    out = tmp_path / "signed.pdf"
    build_clinician_report(report_data_for_evaluation(db, ev_id), out)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert "Signed by: Dana Physio, PT, DPT, licence PT-4471" in text
    assert "Renamed Later" not in text
    assert "Prepared by" not in text


def test_a_preparation_removed_outside_the_app_cannot_be_signed(
    db: Database, form: Form, team: People
) -> None:
    """Clearing prepared_by is what returning does, so the database allows it; a student who
    clears it directly and then changes the findings leaves a draft nobody can sign unaware:
    the audit trail says it was prepared and never returned."""
    ev_id, version = draft(db, form, team.student)
    r.sign_evaluation(db, ev_id, version, signer_id=team.student.id, password=STUDENT_PASSWORD)
    with db.engine.begin() as conn:
        conn.execute(
            update(m.Evaluation)
            .where(m.Evaluation.id == ev_id)
            .values(prepared_by=None, prepared_by_id=None, prepared_at=None, seal=None)
        )
        conn.execute(
            update(m.Evaluation)
            .where(m.Evaluation.id == ev_id)
            .values(findings={"form_version": form.version, "values": {"pain_now": 1}})
        )
    ev = r.get_evaluation(db, ev_id)
    assert not ev.awaiting_cosignature
    with pytest.raises(StorageError, match="preparation was removed without a return"):
        r.sign_evaluation(db, ev_id, ev.version, signer_id=team.admin.id, password=PASSWORD)
    with pytest.raises(StorageError, match="preparation was removed without a return"):
        r.sign_evaluation(db, ev_id, ev.version, user="script")
    assert r.get_evaluation(db, ev_id).status == "draft"


def _triggers(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        return {str(n) for n in conn.exec_driver_sql(sql).scalars()}


def test_migration_0005_downgrades_and_upgrades_with_its_cosignature_locks(db: Database) -> None:
    from alembic import command

    from clinic_app.storage import migrate

    ours = {"evaluation_prepared_locked", "evaluation_prepared_no_delete"}
    if db.dialect == "sqlite":
        ours.add("evaluation_prepared_no_replace")
    assert ours <= _triggers(db)
    with db.engine.connect() as conn:
        command.downgrade(migrate.alembic_config(conn), "0004")
        conn.commit()
    assert db.schema_revision() == "0004"
    assert not ours & _triggers(db)
    kept = "evaluation_signed_no_update" if db.dialect == "sqlite" else "evaluation_signed_locked"
    assert kept in _triggers(db)  # 0004's lock stays
    with db.engine.connect() as conn:
        command.upgrade(migrate.alembic_config(conn), "head")
        conn.commit()
    assert ours <= _triggers(db)
