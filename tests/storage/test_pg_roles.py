"""Issue 13 on PostgreSQL: a workstation role with only the app's grants cannot get around the
locks (TRUNCATE, DISABLE TRIGGER, replacing the trigger function, DELETE, ON CONFLICT rewrites),
while the app itself works as that role. Runs on the suite's own throwaway cluster."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from clinic_app.cli import main
from clinic_app.core.form import Form
from clinic_app.storage import records as r
from clinic_app.storage import roles
from clinic_app.storage.database import open_database
from tests.storage.conftest import PgServer

pytestmark = pytest.mark.postgres
_roles = itertools.count(1)


@dataclass(frozen=True)
class Clinic:
    owner_url: str
    workstation_url: str
    role: str
    signed: int


@pytest.fixture
def clinic(postgres_server: PgServer, postgres_migrated_url: str, form: Form) -> Clinic:
    role = f"clinic_ws_{next(_roles)}"
    with postgres_server.admin() as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    owner = open_database(postgres_migrated_url)
    try:
        roles.grant_workstation(owner, role)
    finally:
        owner.close()
    workstation_url = postgres_migrated_url.replace(f"{postgres_server.user}@", f"{role}@", 1)
    db = open_database(workstation_url)
    try:
        # the whole app workflow as the workstation role
        r.save_clinic(db, r.ClinicInfo(name="Server Clinic"), user="ws")
        doc = r.save_clinician(db, r.ClinicianInfo("Dr Pat", "PT"), user="ws")
        patient = r.create_patient(db, r.PatientFields("Gus", "Grant", mrn="PG-1"), user="ws")
        ev = r.start_evaluation(db, patient.id, form, user="ws", clinician_id=doc.id)
        saved = r.save_draft(
            db,
            ev.id,
            {"form_version": form.version, "values": {"pain_now": 4}},
            ev.version,
            user="ws",
        )
        r.sign_evaluation(db, ev.id, saved.version, user="Dr Pat")
        r.add_addendum(db, ev.id, "called back", user="ws")
        r.update_patient(
            db, patient.id, r.PatientFields("Gus", "Grant", mrn="PG-1", phone="5"), user="ws"
        )
        assert r.verify_database(db) == []
        assert roles.current_role(db) == roles.RoleInfo(role, owner=False)
    finally:
        db.close()
    # the role stays in the throwaway cluster; its grants go with the test's database
    return Clinic(postgres_migrated_url, workstation_url, role, ev.id)


def _as_workstation(clinic: Clinic, sql: str) -> str:
    """Run ``sql`` as the workstation role; the error text ('' if it went through)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(clinic.workstation_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as conn:
        try:
            conn.execute(sql)
        except psycopg.Error as exc:
            return str(exc)
    return ""


ATTACKS = {
    "truncate audit": ("TRUNCATE audit_event", "permission denied"),
    "truncate evaluations": ("TRUNCATE evaluation CASCADE", "permission denied"),
    "disable the lock": ("ALTER TABLE evaluation DISABLE TRIGGER ALL", "must be owner"),
    "drop the lock": ("DROP TRIGGER evaluation_signed_locked ON evaluation", "must be owner"),
    "replace the trigger function": (
        "CREATE OR REPLACE FUNCTION clinic_refuse_change() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN NEW; END $$",
        "permission denied",
    ),
    "new function": (
        "CREATE FUNCTION planted() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "permission denied",
    ),
    "delete audit": ("DELETE FROM audit_event", "permission denied"),
    "update audit": ("UPDATE audit_event SET actor = 'x'", "permission denied"),
    "delete addenda": ("DELETE FROM addendum", "permission denied"),
    "update signed": (
        "UPDATE evaluation SET findings = '{}'::jsonb WHERE status = 'signed'",
        "signed and locked",
    ),
    "upsert over signed": (
        "INSERT INTO evaluation SELECT * FROM evaluation WHERE status = 'signed' "
        "ON CONFLICT (id) DO UPDATE SET findings = '{}'::jsonb, status = 'draft'",
        "signed",
    ),
    "insert signed": (
        "INSERT INTO evaluation (patient_id, episode_id, kind, eval_date, form_snapshot_id, "
        "form_id, form_version, findings, carried_forward, status, content_hash, version, "
        "created_by, created_at, updated_by, updated_at) SELECT patient_id, episode_id, kind, "
        "eval_date, "
        "form_snapshot_id, form_id, form_version, findings, carried_forward, 'signed', "
        "content_hash, 1, 'x', now(), 'x', now() FROM evaluation LIMIT 1",
        "signed only by signing its draft",
    ),
    "edit a form snapshot": ("UPDATE form_snapshot SET content = '{}'::jsonb", "permission denied"),
    "alter a table": ("ALTER TABLE patient ADD COLUMN planted text", "must be owner"),
    # Before 0009 the lock read the session's empty temporary tables of these names (PUBLIC may
    # make them), and only the foreign key stopped this move to a patient who does not exist.
    "temporary tables shadow what the lock reads": (
        "CREATE TEMP TABLE evaluation (episode_id int); CREATE TEMP TABLE goal (episode_id int); "
        "CREATE TEMP TABLE plan_of_care (episode_id int); UPDATE public.episode SET patient_id "
        "= patient_id + 1000 WHERE id = (SELECT episode_id FROM public.evaluation LIMIT 1)",
        "moved to another patient",
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_workstation_role_cannot_get_around_the_locks(clinic: Clinic, attack: str) -> None:
    sql, expected = ATTACKS[attack]
    assert expected in _as_workstation(clinic, sql)
    db = open_database(clinic.workstation_url)
    try:
        assert r.verify_database(db) == []
    finally:
        db.close()


def test_the_owner_cannot_truncate_either(clinic: Clinic) -> None:
    import sqlalchemy as sa

    db = open_database(clinic.owner_url)
    try:
        for table in ("audit_event", "addendum", "evaluation", "form_snapshot"):
            with (
                pytest.raises(sa.exc.DBAPIError, match="cannot be emptied"),
                db.engine.begin() as c,
            ):
                c.execute(sa.text(f"TRUNCATE {table} CASCADE"))
    finally:
        db.close()


def test_verify_reports_a_change_the_owner_forced(clinic: Clinic) -> None:
    """The owner can still disable a trigger (that is why workstations must not be owners):
    the seal shows what it changed."""
    import sqlalchemy as sa

    db = open_database(clinic.owner_url)
    try:
        with db.engine.begin() as c:
            c.execute(sa.text("ALTER TABLE evaluation DISABLE TRIGGER evaluation_signed_locked"))
            c.execute(sa.text("UPDATE evaluation SET kind = 'discharge' WHERE status = 'signed'"))
            c.execute(sa.text("ALTER TABLE evaluation ENABLE TRIGGER evaluation_signed_locked"))
        lines = [b.line() for b in r.verify_database(db)]
    finally:
        db.close()
    assert lines == [f"evaluation {clinic.signed} (patient MRN PG-1): changed after signing: kind"]


def test_verify_reports_a_lock_the_owner_disabled(clinic: Clinic) -> None:
    import sqlalchemy as sa

    db = open_database(clinic.owner_url)
    try:
        with db.engine.begin() as c:
            c.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        lines = [b.line() for b in r.verify_database(db)]
    finally:
        db.close()
    assert lines == ["schema: trigger audit_event_append_only (on audit_event) is disabled"]


def test_info_names_the_role(
    clinic: Clinic, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINIC_APP_DATABASE_URL", clinic.workstation_url)
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"role:            {clinic.role} (workstation" in out
    monkeypatch.setenv("CLINIC_APP_DATABASE_URL", clinic.owner_url)
    assert main(["info"]) == 0
    assert "(owner: migrates" in capsys.readouterr().out


def test_grant_command_and_a_password_never_printed(
    clinic: Clinic, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINIC_APP_DATABASE_URL", clinic.owner_url)
    assert main(["grant", clinic.role]) == 0
    assert f"{clinic.role}: workstation grants set" in capsys.readouterr().out
    with_password = clinic.workstation_url.replace(f"{clinic.role}@", f"{clinic.role}:S3cr3tPw@")
    monkeypatch.setenv("CLINIC_APP_DATABASE_URL", with_password.replace("/clinic_", "/nosuch_"))
    assert main(["info"]) != 0
    captured = capsys.readouterr()
    assert "S3cr3tPw" not in captured.out + captured.err
    assert "***" in captured.out + captured.err


@pytest.mark.postgres
def test_every_trigger_of_the_schema_is_a_lock_verify_checks(postgres_migrated_url: str) -> None:
    """A trigger a migration adds on PostgreSQL is listed in schema.PG_LOCKS, so disabling it
    is reported; a name listed there exists."""
    import sqlalchemy as sa

    from clinic_app.storage.schema import PG_LOCKS

    db = open_database(postgres_migrated_url)
    try:
        with db.engine.connect() as c:
            rows = c.execute(
                sa.text(
                    "SELECT c.relname, t.tgname FROM pg_trigger t "
                    "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
                )
            ).all()
    finally:
        db.close()
    found = {(str(t), str(n)) for t, n in rows}
    listed = {(t, n) for t, names in PG_LOCKS.items() for n in names}
    assert found == listed


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("table", "trigger"),
    [
        ("plan_of_care", "plan_of_care_append_only"),
        ("goal_status", "goal_status_append_only"),
        ("goal", "goal_kept_no_move"),
        ("episode", "episode_kept_no_move"),
        ("library_picture", "library_picture_append_only"),
    ],
)
@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("DISABLE", "is disabled"),
        # Lasting, and no ordinary session fires it (found by session 12's attack tests).
        (
            "ENABLE REPLICA",
            "fires only in replica sessions (ENABLE REPLICA TRIGGER): it locks nothing",
        ),
    ],
)
def test_verify_reports_an_episode_or_library_lock_the_owner_disabled(
    clinic: Clinic, table: str, trigger: str, how: str, said: str
) -> None:
    import sqlalchemy as sa

    db = open_database(clinic.owner_url)
    try:
        assert r.verify_database(db) == []
        with db.engine.begin() as c:
            c.execute(sa.text(f"ALTER TABLE {table} {how} TRIGGER {trigger}"))
        lines = [b.line() for b in r.verify_database(db)]
    finally:
        db.close()
    assert f"schema: trigger {trigger} (on {table}) {said}" in lines


@pytest.mark.postgres
def test_a_lock_left_to_replica_sessions_lets_an_ordinary_update_through(clinic: Clinic) -> None:
    """Why "R" counts as disabled: with the signed-evaluation lock so, the owner's plain UPDATE
    of a signed row goes through (verify then names the lock, and the seal the change)."""
    import sqlalchemy as sa

    db = open_database(clinic.owner_url)
    try:
        with db.engine.begin() as c:
            c.execute(
                sa.text("ALTER TABLE evaluation ENABLE REPLICA TRIGGER evaluation_signed_locked")
            )
            changed = c.execute(
                sa.text("UPDATE evaluation SET involved_side = 'left' WHERE status = 'signed'")
            ).rowcount
        lines = [b.line() for b in r.verify_database(db)]
    finally:
        db.close()
    assert changed > 0
    assert lines[0] == (
        "schema: trigger evaluation_signed_locked (on evaluation) fires only in replica "
        "sessions (ENABLE REPLICA TRIGGER): it locks nothing"
    )
