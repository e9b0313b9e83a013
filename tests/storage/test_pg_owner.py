"""The locks against a table owner that is NOT a superuser (a managed server's clinic DBA).

The owner role here has LOGIN and nothing else (no SUPERUSER, CREATEDB or CREATEROLE); it owns
the database and migrates it, so it owns every table, sequence and lock function. The clinic is
then made through the records API as that owner (test_locks_every_route's ``_pg_clinic``), and
each route below is run as the owner on a fresh copy. Either PostgreSQL refuses it (and verify
stays clean), or ``clinic-app --database URL verify`` and :func:`verify_database` must name it in
the exact lines given, exit 1. A route that leaves the lock present and enabled but doing nothing
(made again with ``WHEN (false)``, its function replaced, a rule, a planted trigger, a table
swapped by ``RENAME``) must be named by the schema check itself: no row has changed yet.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clinic_app.cli import main
from clinic_app.storage import records as r
from clinic_app.storage.database import open_database
from tests.storage.conftest import PgServer
from tests.storage.test_locks_every_route import _pg_clinic

pytestmark = pytest.mark.postgres
_copies = itertools.count(1)
REPLACED = (
    "CREATE OR REPLACE FUNCTION clinic_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
)
PUT_BACK = "{function}"  # the lock function's own definition, as it was before the route


@dataclass(frozen=True)
class Owner:
    role: str
    template: str


@pytest.fixture(scope="module")
def owner(postgres_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Owner]:
    """A plain LOGIN role that owns a database migrated to head by itself (once per module)."""
    import psycopg

    # one owner a module that uses this fixture (test_truncate_locks imports it too)
    n = next(_copies)
    role, template = f"clinic_dba_{os.getpid()}_{n}", f"clinic_owner_{os.getpid()}_{n}"
    with postgres_server.admin() as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        conn.execute(f'CREATE DATABASE "{template}" OWNER "{role}"')
    url = postgres_server.url(template).replace(f"{postgres_server.user}@", f"{role}@", 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLINIC_APP_DATA_DIR", str(tmp_path_factory.mktemp("owner-data")))
        open_database(url).close()
    with psycopg.connect(url.replace("+psycopg", "")) as conn:  # the owner is no superuser
        assert conn.execute(
            "SELECT usesuper FROM pg_user WHERE usename = current_user"
        ).fetchone() == (False,)
    try:
        yield Owner(role, template)
    finally:
        with postgres_server.admin() as conn:
            conn.execute(f'DROP DATABASE "{template}" WITH (FORCE)')


@dataclass(frozen=True)
class Clinic:
    url: str  # as the owner
    name: str
    ids: dict[str, int]


@pytest.fixture
def clinic(postgres_server: PgServer, owner: Owner) -> Iterator[Clinic]:
    name = f"clinic_owned_{os.getpid()}_{next(_copies)}"
    with postgres_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{owner.template}" OWNER "{owner.role}"')
    url = postgres_server.url(name).replace(f"{postgres_server.user}@", f"{owner.role}@", 1)
    try:
        db = open_database(url)
        try:
            ids = _pg_clinic(db)
            assert r.verify_database(db) == []  # a clean clinic verifies clean: the tests can fail
        finally:
            db.close()
        yield Clinic(url, name, ids)
    finally:
        with postgres_server.admin() as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _connect(clinic: Clinic) -> Any:
    import psycopg

    return psycopg.connect(clinic.url.replace("+psycopg", ""), autocommit=True)


def _as_owner(clinic: Clinic, statements: list[str]) -> list[str]:
    """Run each statement as the owner, in one session; the errors (first lines)."""
    import psycopg

    errors = []
    with _connect(clinic) as conn:
        (function,) = conn.execute(
            "SELECT pg_get_functiondef('clinic_refuse_change'::regproc)"
        ).fetchone()
        for sql in statements:
            sql = sql.format(function=function, db=clinic.name, **clinic.ids)
            try:
                conn.execute(sql)
            except psycopg.Error as error:
                errors.append(str(error).splitlines()[0])
    return errors


def _verify(clinic: Clinic, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """The CLI's exit code and lines (asserted to be the API's lines too)."""
    capsys.readouterr()
    code = main(["--database", clinic.url, "verify"])
    out = capsys.readouterr().out.splitlines()
    db = open_database(clinic.url, migrate=False, backup=False)
    try:
        api = [b.line() for b in r.verify_database(db)]
    finally:
        db.close()
    if code == 0:
        assert api == []
        assert len(out) == 1
        assert out[0].endswith("audit event is sound")
        return 0, []
    assert out == api
    return code, out


SIGNED = "evaluation {evaluation} (patient MRN LK-1)"
FOREIGN = "is not made by the migrations"


def _lock(name: str, table: str, said: str = "differs from what the migrations make") -> str:
    return f"schema: trigger {name} (on {table}) {said}"


def _function(function: str, trigger: str) -> str:
    return (
        f"schema: function {function} (of trigger {trigger}) differs from what the migrations make"
    )


# Routes PostgreSQL refuses a non-superuser owner: statements, a word of the (last) refusal.
REFUSED: dict[str, tuple[list[str], str]] = {
    "set session_replication_role": (
        ["SET session_replication_role = replica", "DELETE FROM goal_status"],
        "permission denied to set parameter",
    ),
    "disable trigger all (system triggers too)": (
        ["ALTER TABLE addendum DISABLE TRIGGER ALL"],
        "is a system trigger",
    ),
    "become superuser": (["ALTER ROLE CURRENT_USER SUPERUSER"], "must be superuser"),
    "event trigger": (
        [
            "CREATE FUNCTION et() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$",
            "CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION et()",
        ],
        "permission denied to create event trigger",
    ),
    "copy from program": (["COPY setting FROM PROGRAM 'true'"], "must be superuser"),
    "truncate addendum": (["TRUNCATE addendum"], "cannot be emptied"),
    "truncate audit restart identity": (
        ["TRUNCATE audit_event RESTART IDENTITY"],
        "cannot be emptied",
    ),
    "truncate patient cascade": (["TRUNCATE patient CASCADE"], "cannot be emptied"),
    "copy to a server file": (
        [
            "COPY (SELECT patient_id, episode_id, kind, eval_date, form_snapshot_id, form_id, "
            "form_version, findings, carried_forward, status, content_hash, version, created_by, "
            "created_at, updated_by, updated_at FROM evaluation WHERE id = {evaluation}) "
            "TO '/tmp/never'"
        ],
        "must be superuser",  # or pg_write_server_files
    ),
    "alter the type of a column a lock reads": (
        ["ALTER TABLE evaluation ALTER COLUMN findings TYPE jsonb USING '{{}}'::jsonb"],
        "used in a trigger definition",
    ),
    "drop a column a lock reads": (
        ["ALTER TABLE evaluation DROP COLUMN involved_side"],
        "other objects depend on it",
    ),
    "drop the lock function": (["DROP FUNCTION clinic_refuse_change()"], "depend on it"),
    # Before 0009 the lock functions read these by unqualified name, pg_temp first: any role
    # with TEMP (PUBLIC has it, so the workstation too) got past episode_kept_no_move.
    "temporary tables shadow what a lock function reads": (
        [
            "CREATE TEMP TABLE evaluation (episode_id int)",
            "CREATE TEMP TABLE goal (episode_id int)",
            "CREATE TEMP TABLE plan_of_care (episode_id int)",
            "UPDATE public.episode SET patient_id = {other_patient} WHERE id = {episode}",
        ],
        "moved to another patient",
    ),
    "plain update of a signed evaluation": (
        ["UPDATE evaluation SET kind = 'discharge' WHERE id = {evaluation}"],
        "signed and locked",
    ),
}


@pytest.mark.parametrize("route", sorted(REFUSED))
def test_the_route_is_refused_to_the_owner(
    clinic: Clinic, route: str, capsys: pytest.CaptureFixture[str]
) -> None:
    statements, refusal = REFUSED[route]
    errors = _as_owner(clinic, statements)
    assert any(refusal in error for error in errors), errors
    assert _verify(clinic, capsys) == (0, [])


def test_copy_from_stdin_goes_through_the_locks(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    """COPY … FROM STDIN fires the INSERT locks: a signed row cannot be copied in; a status row
    can (the table takes inserts) and is then one more than the audit trail records."""
    import psycopg

    cols = (
        "patient_id, episode_id, kind, eval_date, form_snapshot_id, form_id, form_version, "
        "findings, carried_forward, status, content_hash, version, created_by, created_at, "
        "updated_by, updated_at"
    )
    with _connect(clinic) as conn:
        as_text = cols.replace("findings", "findings::text").replace("forward", "forward::text")
        query = f"SELECT {as_text} FROM evaluation WHERE id = %s"
        row = conn.execute(query, (clinic.ids["evaluation"],)).fetchone()
        with (
            pytest.raises(psycopg.Error, match="signed only by signing its draft"),
            conn.cursor().copy(f"COPY evaluation ({cols}) FROM STDIN") as copy,
        ):
            copy.write_row(row)
        names = "goal_id, status, suggested, note, set_by, set_at"
        status = conn.execute(f"SELECT {names} FROM goal_status LIMIT 1").fetchone()
        with conn.cursor().copy(f"COPY goal_status ({names}) FROM STDIN") as copy:
            copy.write_row(status)
    lines = [f"goal {clinic.ids['goal']}: 2 statuses kept, the audit trail records 1"]
    assert _verify(clinic, capsys) == (1, lines)


# Routes that go through for the owner: statements, and the exact lines verify must print.
ROUTES: dict[str, tuple[list[str], list[str]]] = {
    # a lock switched off around a change, switched on again: the rows tell
    "disable one lock, change, enable": (
        [
            "ALTER TABLE evaluation DISABLE TRIGGER evaluation_signed_locked",
            "UPDATE evaluation SET kind = 'discharge' WHERE id = {evaluation}",
            "ALTER TABLE evaluation ENABLE TRIGGER evaluation_signed_locked",
        ],
        [f"{SIGNED}: changed after signing: kind"],
    ),
    "disable user triggers, change an addendum, enable": (
        [
            "ALTER TABLE addendum DISABLE TRIGGER USER",
            "UPDATE addendum SET text = 'forged' WHERE id = {addendum}",
            "ALTER TABLE addendum ENABLE TRIGGER USER",
        ],
        [f"{SIGNED}: addendum {{addendum}} was changed after it was added"],
    ),
    "replace the lock function, delete, put it back": (
        [REPLACED, "DELETE FROM plan_of_care WHERE id = {plan_of_care}", PUT_BACK],
        ["plan_of_care {plan_of_care} was deleted outside the app"],
    ),
    "alter column type using: audit events rewritten": (
        [
            "ALTER TABLE audit_event ALTER COLUMN actor TYPE text USING 'mallory'",
            "ALTER TABLE audit_event ALTER COLUMN actor TYPE varchar(100)",
        ],
        [f"audit event {i} was changed" for i in range(1, 6)],
    ),
    "alter column type using: a sealed content hash": (
        ["ALTER TABLE evaluation ALTER COLUMN content_hash TYPE varchar(64) USING 'f00'"],
        [f"{SIGNED}: its content hash was changed"],
    ),
    # the lock left in place, present and enabled, doing nothing: the schema check names it
    "lock left only to replica sessions": (
        ["ALTER TABLE goal_status ENABLE REPLICA TRIGGER goal_status_append_only"],
        [
            "schema: trigger goal_status_append_only (on goal_status) fires only in replica "
            "sessions (ENABLE REPLICA TRIGGER): it locks nothing"
        ],
    ),
    "lock disabled and left so": (
        ["ALTER TABLE audit_event DISABLE TRIGGER USER"],
        ["schema: trigger audit_event_append_only (on audit_event) is disabled"],
    ),
    "lock dropped": (
        ["DROP TRIGGER addendum_append_only ON addendum"],
        [_lock("addendum_append_only", "addendum", "is missing")],
    ),
    "lock function dropped with its locks": (
        ["DROP FUNCTION clinic_refuse_write() CASCADE"],
        [_lock("evaluation_no_insert_signed", "evaluation", "is missing")],
    ),
    "lock made again with WHEN (false)": (
        [
            "DROP TRIGGER goal_status_append_only ON goal_status",
            "CREATE TRIGGER goal_status_append_only BEFORE UPDATE OR DELETE ON goal_status "
            "FOR EACH ROW WHEN (false) "
            "EXECUTE FUNCTION clinic_refuse_change('goal status history is append-only')",
        ],
        [_lock("goal_status_append_only", "goal_status")],
    ),
    "lock made again for INSERT only": (
        [
            "DROP TRIGGER addendum_append_only ON addendum",
            "CREATE TRIGGER addendum_append_only BEFORE INSERT ON addendum FOR EACH ROW "
            "EXECUTE FUNCTION clinic_refuse_change('addenda cannot be changed')",
        ],
        [_lock("addendum_append_only", "addendum")],
    ),
    "lock function replaced and left so": (
        [REPLACED],
        [_function("clinic_refuse_change", "evaluation_signed_locked")],
    ),
    "lock function given another search_path": (
        [
            "CREATE SCHEMA shadow",
            "CREATE TABLE shadow.evaluation AS SELECT id, 'signed'::varchar AS status "
            "FROM public.evaluation",
            "ALTER FUNCTION clinic_addendum_to_signed() SET search_path = shadow, public",
        ],
        [_function("clinic_addendum_to_signed", "addendum_only_to_signed")],
    ),
    "lock function made SECURITY DEFINER": (
        ["ALTER FUNCTION clinic_refuse_write() SECURITY DEFINER"],
        [_function("clinic_refuse_write", "evaluation_no_insert_signed")],
    ),
    "lock function renamed, another in its name": (
        [
            "ALTER FUNCTION clinic_same_patient_episode() RENAME TO kept_aside",
            "CREATE FUNCTION clinic_same_patient_episode() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN NEW; END $$",
        ],
        [_lock("evaluation_episode_patient", "evaluation")],
    ),
    "lock moved to a same-named table in another schema": (
        [
            "CREATE SCHEMA shadow",
            "CREATE TABLE shadow.audit_event (id int)",
            "DROP TRIGGER audit_event_append_only ON audit_event",
            "CREATE TRIGGER audit_event_append_only BEFORE DELETE OR UPDATE ON shadow.audit_event "
            "FOR EACH ROW EXECUTE FUNCTION clinic_refuse_change('audit events are permanent')",
        ],
        [_lock("audit_event_append_only", "audit_event", "is missing")],
    ),
    "lock made again on a same-named function in another schema": (
        [
            "CREATE SCHEMA shadow",
            "CREATE FUNCTION shadow.clinic_refuse_change() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN NEW; END $$",
            "DROP TRIGGER plan_of_care_append_only ON plan_of_care",
            "CREATE TRIGGER plan_of_care_append_only BEFORE DELETE OR UPDATE ON plan_of_care "
            "FOR EACH ROW EXECUTE FUNCTION shadow.clinic_refuse_change("
            "'a plan of care is never changed: save a new version')",
        ],
        [_lock("plan_of_care_append_only", "plan_of_care")],
    ),
    "rule: audit events dropped on insert": (
        ["CREATE RULE quiet AS ON INSERT TO audit_event DO INSTEAD NOTHING"],
        ["schema: rule quiet (on audit_event) is not made by the migrations"],
    ),
    "rule: updates of evaluations turned into nothing": (
        ["CREATE RULE r AS ON UPDATE TO evaluation DO INSTEAD NOTHING"],
        ["schema: rule r (on evaluation) is not made by the migrations"],
    ),
    "owner's BEFORE INSERT trigger rewrites NEW": (
        [
            "CREATE FUNCTION rw() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN NEW.text := 'forged'; RETURN NEW; END $$",
            "CREATE TRIGGER aa_rewrite BEFORE INSERT ON addendum FOR EACH ROW "
            "EXECUTE FUNCTION rw()",
        ],
        [_lock("aa_rewrite", "addendum", FOREIGN)],
    ),
    "row-level security hides addenda": (
        [
            "ALTER TABLE addendum ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE addendum FORCE ROW LEVEL SECURITY",
            "CREATE POLICY hide ON addendum USING (false)",
        ],
        [
            "schema: row-level security is on for addendum: not made by the migrations",
            f"{SIGNED}: the audit trail records 1 addenda, 0 are present",
        ],
    ),
    "row-level security only for others (not forced)": (
        [
            "ALTER TABLE evaluation ENABLE ROW LEVEL SECURITY",
            "CREATE POLICY hide_signed ON evaluation USING (status <> 'signed')",
        ],
        ["schema: row-level security is on for evaluation: not made by the migrations"],
    ),
    "a policy left without row-level security": (
        ["CREATE POLICY waiting ON audit_event USING (false)"],
        ["schema: policy waiting (on audit_event) is not made by the migrations"],
    ),
    "table swapped by RENAME, locks made again": (
        [
            "ALTER TABLE library_picture RENAME TO library_picture_kept",
            "CREATE TABLE library_picture (LIKE library_picture_kept INCLUDING ALL)",
            "INSERT INTO library_picture SELECT * FROM library_picture_kept",
            "CREATE TRIGGER library_picture_append_only BEFORE DELETE OR UPDATE ON "
            "library_picture FOR EACH ROW EXECUTE FUNCTION "
            "clinic_refuse_change('a stored picture is never changed or deleted')",
            "CREATE TRIGGER library_picture_no_truncate BEFORE TRUNCATE ON library_picture "
            "FOR EACH STATEMENT EXECUTE FUNCTION "
            "clinic_refuse_write('library_picture cannot be emptied')",
            "ALTER TABLE library_picture_kept DISABLE TRIGGER USER",
        ],
        [_lock("library_picture_append_only", "library_picture_kept", FOREIGN)],
    ),
    "table swapped for a view": (
        [
            "ALTER TABLE program_template RENAME TO program_template_kept",
            "CREATE VIEW program_template AS SELECT * FROM program_template_kept",
        ],
        [_lock("program_template_append_only", "program_template", "is missing")],
    ),
    "child table INHERITS a locked one": (
        [
            "CREATE SCHEMA shadow",
            "CREATE TABLE shadow.more () INHERITS (addendum)",
        ],
        ["schema: table more inherits from addendum: not made by the migrations"],
    ),
    "search_path of the database to a shadow copy": (
        [
            "CREATE SCHEMA shadow",
            "CREATE TABLE shadow.evaluation AS SELECT * FROM public.evaluation",
            "ALTER DATABASE {db} SET search_path = shadow, public",
        ],
        [
            "schema: the search_path (shadow, public) puts schema shadow before the app's "
            "tables (in public)"
        ],
    ),
    # Columns and constraints (before session 13 verify compared none on a server)
    "a column added": (
        ["ALTER TABLE patient ADD COLUMN planted text"],
        ["schema: column patient.planted is not made by the migrations"],
    ),
    "NOT NULL dropped": (
        ["ALTER TABLE evaluation ALTER COLUMN created_by DROP NOT NULL"],
        ["schema: column evaluation.created_by accepts NULL: the migrations make it NOT NULL"],
    ),
    "a foreign key dropped": (
        ["ALTER TABLE addendum DROP CONSTRAINT fk_addendum_evaluation_id_evaluation"],
        ["schema: constraint fk_addendum_evaluation_id_evaluation (on addendum) is missing"],
    ),
    "a CHECK constraint dropped": (
        ["ALTER TABLE evaluation DROP CONSTRAINT ck_evaluation_ck_evaluation_status"],
        ["schema: table evaluation has 3 CHECK constraints, the migrations make 4"],
    ),
    "a unique constraint added": (
        ["ALTER TABLE patient ADD CONSTRAINT planted UNIQUE (id, mrn)"],
        ["schema: constraint planted (on patient) is not made by the migrations"],
    ),
}


def _expected(clinic: Clinic, lines: list[str]) -> list[str]:
    return [line.format(**clinic.ids) for line in lines]


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_verify_names_what_the_owner_did(
    clinic: Clinic, route: str, capsys: pytest.CaptureFixture[str]
) -> None:
    statements, lines = ROUTES[route]
    assert _as_owner(clinic, statements) == []
    assert _verify(clinic, capsys) == (1, _expected(clinic, lines))


def test_the_lock_definitions_verify_keeps_are_the_migrations(clinic: Clinic) -> None:
    """schema.PG_LOCK_DEFINITIONS and PG_LOCK_FUNCTIONS are what a fresh migration makes (a
    migration that changes a lock must change them too)."""
    from clinic_app.storage.schema import PG_LOCK_DEFINITIONS, PG_LOCK_FUNCTIONS, PG_LOCKS

    with _connect(clinic) as conn:
        rows = conn.execute(
            "SELECT t.tgname, pg_get_triggerdef(t.oid), p.proname, p.prosrc FROM pg_trigger t "
            "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal"
        ).fetchall()
    made = {
        str(name): " ".join(str(sql).split()).split(" ", 3)[3].replace(" ON public.", " ON ")
        for name, sql, _, _ in rows
    }
    assert made == PG_LOCK_DEFINITIONS
    assert {str(f): str(body) for _, _, f, body in rows} == PG_LOCK_FUNCTIONS
    assert set(made) == {n for names in PG_LOCKS.values() for n in names}


def test_the_cli_exits_1_on_a_lock_that_does_nothing(clinic: Clinic) -> None:
    """The installed command, in its own process: a lock whose function was replaced."""
    cli = shutil.which("clinic-app", path=str(Path(sys.executable).parent))
    assert cli is not None
    command = [cli, "--database", clinic.url, "verify"]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    clean = run()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert _as_owner(clinic, [REPLACED]) == []
    broken = run()
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert broken.stdout.splitlines() == [
        _function("clinic_refuse_change", "evaluation_signed_locked")
    ]


BEHIND_THE_TAIL = [
    "ALTER TABLE audit_event DISABLE TRIGGER USER",
    "ALTER TABLE goal_status DISABLE TRIGGER USER",
    "DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)",
    "UPDATE goal_status SET note = 'forged' WHERE id = (SELECT max(id) FROM goal_status)",
    "ALTER TABLE audit_event ENABLE TRIGGER USER",
    "ALTER TABLE goal_status ENABLE TRIGGER USER",
]


def test_a_status_whose_own_event_was_deleted_is_named(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    """The newest audit event (a status row's own) deleted leaves the hash chain whole and the
    counts equal; the row it vouched for is then changed. A status row newer than one that has
    its own event must have one too."""
    db = open_database(clinic.url)
    try:
        goal = r.get_goal(db, clinic.ids["goal"])
        latest = r.set_goal_status(db, goal.id, "met", goal.version, user="alice").history[-1].id
    finally:
        db.close()
    assert _verify(clinic, capsys) == (0, [])
    with _connect(clinic) as conn:
        (event,) = conn.execute("SELECT max(id) FROM audit_event").fetchone()
    assert _as_owner(clinic, BEHIND_THE_TAIL) == []
    gone = (
        f"audit event {event}, the last this workstation saved, is missing on the clinic server: "
        "its newest events were deleted or replaced outside the app, or the server was restored "
        "from an older backup"
    )
    status = f"goal_status {latest} is not in the audit trail"
    assert _verify(clinic, capsys) == (1, [gone, status])


def test_routes_that_go_through_but_leave_the_lock_working(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    """ENABLE ALWAYS (the lock fires in replica sessions too), a same-named function in a schema
    first on the search_path (a trigger calls its function by oid, not by name): verify stays
    clean, and the lock still refuses."""
    shadow = [
        "ALTER TABLE evaluation ENABLE ALWAYS TRIGGER evaluation_signed_locked",
        "CREATE SCHEMA shadow",
        "CREATE FUNCTION shadow.clinic_refuse_change() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN NEW; END $$",
        "ALTER ROLE CURRENT_USER SET search_path = shadow, public",
        "SET search_path = shadow, public",
        "UPDATE public.evaluation SET kind = 'discharge' WHERE id = {evaluation}",
    ]
    errors = _as_owner(clinic, shadow)
    assert len(errors) == 1
    assert "signed and locked" in errors[0]
    _as_owner(clinic, ["ALTER ROLE CURRENT_USER RESET search_path"])
    assert _verify(clinic, capsys) == (0, [])


def test_a_sequence_set_back_makes_the_next_write_fail_not_reuse_an_id(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    """ALTER SEQUENCE … RESTART cannot reuse the id of a kept row: the next insert collides
    with it and the app's write is refused whole (nothing half-written)."""
    assert _as_owner(clinic, ["ALTER SEQUENCE goal_status_id_seq RESTART WITH 1"]) == []
    assert _verify(clinic, capsys) == (0, [])
    db = open_database(clinic.url)
    try:
        goal = r.get_goal(db, clinic.ids["goal"])
        with pytest.raises(Exception, match="goal_status"):
            r.set_goal_status(db, goal.id, "met", goal.version, user="alice")
        assert r.get_goal(db, goal.id).status == "progressing"
    finally:
        db.close()
    assert _verify(clinic, capsys) == (0, [])


def test_a_sealed_column_dropped_makes_verify_fail_with_one_line(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    """A column no lock reads can be dropped (and added again empty): verify cannot read the
    records and says so in one line, exit 2; added again, the seal names what is lost."""
    assert _as_owner(clinic, ["ALTER TABLE evaluation DROP COLUMN signed_by"]) == []
    capsys.readouterr()
    assert main(["--database", clinic.url, "verify"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].endswith("column evaluation.signed_by does not exist")
    added = ["ALTER TABLE evaluation ADD COLUMN signed_by varchar(100) DEFAULT 'Dr Mallory'"]
    assert _as_owner(clinic, added) == []
    code, lines = _verify(clinic, capsys)
    assert code == 1
    assert lines[0].startswith(f"evaluation {clinic.ids['evaluation']} (patient MRN LK-1): ")
    assert "signed_by" in lines[0]


def test_0009_down_lets_temporary_tables_through_and_up_closes_it_again(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    """Migration 0009 itself, both ways, on the owner's database: at 0008 the lock functions
    carry no search_path and the temporary tables get past
    episode_kept_no_move; upgraded again, the move is refused and verify is clean."""
    from alembic import command

    from clinic_app.storage import migrate

    def to(revision: str, *, down: bool) -> None:
        db = open_database(clinic.url, migrate=False, backup=False)
        try:
            with db.engine.connect() as conn:
                step = command.downgrade if down else command.upgrade
                step(migrate.alembic_config(conn), revision)
                conn.commit()
        finally:
            db.close()

    shadow = [
        "CREATE TEMP TABLE evaluation (episode_id int)",
        "CREATE TEMP TABLE goal (episode_id int)",
        "CREATE TEMP TABLE plan_of_care (episode_id int)",
    ]
    move = "UPDATE public.episode SET patient_id = {patient} WHERE id = {episode}"

    def settings() -> set[object]:
        with _connect(clinic) as conn:
            query = "SELECT proname, proconfig FROM pg_proc WHERE proname LIKE 'clinic\\_%'"
            return {(str(n), tuple(c or ())) for n, c in conn.execute(query).fetchall()}

    at_head = settings()
    assert len(at_head) == 5
    assert {c for _n, c in at_head} == {("search_path=public, pg_temp",)}
    to("0008", down=True)
    assert settings() == {(n, ()) for n, _c in at_head}
    assert _as_owner(clinic, [*shadow, move.replace("{patient}", "{other_patient}")]) == []
    assert _as_owner(clinic, [*shadow, move.replace("{patient}", "{patient}")]) == []  # back
    to("head", down=False)
    assert settings() == at_head
    errors = _as_owner(clinic, [*shadow, move.replace("{patient}", "{other_patient}")])
    assert any("moved to another patient" in e for e in errors), errors
    assert _verify(clinic, capsys) == (0, [])  # the episode was moved back at 0008


def test_the_newest_addendum_deleted_with_its_event_is_named(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    """The owner deletes the last addendum and its audit event together (the chain then ends
    one event earlier, unbroken): the workstation that wrote it remembers that event
    (``storage.state``), so opening the clinic and ``verify`` name it."""
    db = open_database(clinic.url)
    try:
        latest = r.add_addendum(db, clinic.ids["evaluation"], "Called again.", user="alice").id
    finally:
        db.close()
    assert _verify(clinic, capsys) == (0, [])
    with _connect(clinic) as conn:
        (event,) = conn.execute("SELECT max(id) FROM audit_event").fetchone()
    statements = [
        "ALTER TABLE audit_event DISABLE TRIGGER USER",
        "ALTER TABLE addendum DISABLE TRIGGER USER",
        f"DELETE FROM addendum WHERE id = {latest}",
        f"DELETE FROM audit_event WHERE id = {event}",
        "ALTER TABLE audit_event ENABLE TRIGGER USER",
        "ALTER TABLE addendum ENABLE TRIGGER USER",
    ]
    assert _as_owner(clinic, statements) == []
    line = (
        f"audit event {event}, the last this workstation saved, is missing on the clinic server: "
        "its newest events were deleted or replaced outside the app, or the server was restored "
        "from an older backup"
    )
    assert _verify(clinic, capsys) == (1, [line])
    db = open_database(clinic.url)
    try:
        assert db.notices == [line]
    finally:
        db.close()


def test_two_workstations_writing_in_turn_are_never_behind(
    clinic: Clinic,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each workstation remembers its own last event; the other's later ones are no gap."""
    folders = [tmp_path / "ws1", tmp_path / "ws2"]
    for turn in range(4):
        monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(folders[turn % 2]))
        db = open_database(clinic.url)
        try:
            assert db.notices == []
            r.add_addendum(db, clinic.ids["evaluation"], f"Call {turn}.", user="alice")
        finally:
            db.close()
    for folder in folders:
        monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(folder))
        # (each one's addenda are signed by the other's key, untrusted here: other lines)
        _code, lines = _verify(clinic, capsys)
        assert not [line for line in lines if "the last this workstation saved" in line]
