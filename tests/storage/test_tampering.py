"""Issue 13: signed records attacked by someone who can write the database file.

Each attack runs on a real SQLite file through a plain ``sqlite3`` connection, i.e. another tool
with SQLite's defaults (``recursive_triggers`` off), unless it says otherwise. A route the
database cannot refuse (dropping a trigger, ``writable_schema``, editing bytes) must be reported
by ``verify_database`` and ``clinic-app verify``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clinic_app.cli import main
from clinic_app.core.form import Form
from clinic_app.storage import records as r
from clinic_app.storage import sealing
from clinic_app.storage.database import Database, open_database

NOTE = "Sealedmarkerzq note"


@dataclass(frozen=True)
class Clinic:
    path: Path
    signed: int
    draft: int
    addendum: int
    mrn: str


def make_clinic(path: Path, form: Form) -> Clinic:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = open_database(f"sqlite:///{path}")
    try:
        r.save_clinic(db, r.ClinicInfo(name="Sealed Clinic", address="1 Road"), user="admin")
        doc = r.save_clinician(
            db, r.ClinicianInfo("Dr Alice Doe", "PT, DPT", "LIC-1"), user="admin"
        )
        patient = r.create_patient(db, r.PatientFields("Ann", "Smith", mrn="MRN-T1"), user="a")
        ev = r.start_evaluation(db, patient.id, form, user="alice", clinician_id=doc.id)
        saved = r.save_draft(
            db,
            ev.id,
            {"form_version": form.version, "values": {"pain_now": 7, "notes": NOTE}},
            ev.version,
            user="alice",
        )
        r.sign_evaluation(db, ev.id, saved.version, user="Dr Alice Doe")
        addendum = r.add_addendum(db, ev.id, "Called: pain eased.", user="alice")
        draft = r.start_evaluation(
            db, patient.id, form, user="alice", kind="re_evaluation", copy_forward=False
        )
        assert r.verify_database(db) == []
    finally:
        db.close()
    return Clinic(path, ev.id, draft.id, addendum.id, "MRN-T1")


@pytest.fixture
def clinic(tmp_path: Path, form: Form) -> Clinic:
    return make_clinic(tmp_path / "clinic.db", form)


@pytest.fixture
def raw(clinic: Clinic) -> Iterator[sqlite3.Connection]:
    """The attacker's connection: SQLite defaults, autocommit."""
    conn = sqlite3.connect(clinic.path, isolation_level=None)
    assert conn.execute("PRAGMA recursive_triggers").fetchone() == (0,)
    try:
        yield conn
    finally:
        conn.close()


def problems(clinic: Clinic) -> list[str]:
    db = open_database(f"sqlite:///{clinic.path}", migrate=False, backup=False)
    try:
        return [b.line() for b in r.verify_database(db)]
    finally:
        db.close()


def findings_of(clinic: Clinic) -> str:
    conn = sqlite3.connect(clinic.path)
    try:
        return str(
            conn.execute(
                "SELECT findings FROM evaluation WHERE id = ?", (clinic.signed,)
            ).fetchone()[0]
        )
    finally:
        conn.close()


REFUSED = (sqlite3.IntegrityError, sqlite3.OperationalError)


# --------------------------------------------------------------------- refused by the database


def test_temp_copy_and_insert_or_replace_is_refused(
    clinic: Clinic, raw: sqlite3.Connection
) -> None:
    before = findings_of(clinic)
    raw.execute("CREATE TEMP TABLE t AS SELECT * FROM evaluation WHERE id = ?", (clinic.signed,))
    raw.execute("UPDATE t SET findings = replace(findings, '7', '2'), status = 'draft'")
    with pytest.raises(REFUSED, match="signed and locked"):
        raw.execute("INSERT OR REPLACE INTO evaluation SELECT * FROM t")
    with pytest.raises(REFUSED, match="signed and locked"):
        raw.execute("REPLACE INTO evaluation SELECT * FROM t")
    assert findings_of(clinic) == before
    assert problems(clinic) == []


def test_insert_or_replace_through_the_apps_connection_is_refused(
    clinic: Clinic, form: Form
) -> None:
    """The app's connections have recursive_triggers on: REPLACE fires the DELETE lock too."""
    db = open_database(f"sqlite:///{clinic.path}", backup=False)
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA recursive_triggers").scalar() == 1
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE t AS SELECT * FROM evaluation WHERE id = {clinic.signed}"
            )
            conn.exec_driver_sql("UPDATE t SET status = 'draft', findings = '{}'")
            with pytest.raises(Exception, match="signed and locked"):
                conn.exec_driver_sql("INSERT OR REPLACE INTO evaluation SELECT * FROM t")
    finally:
        db.close()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("addendum", "addenda cannot be changed"),
        ("audit_event", "audit events are permanent"),
        ("form_snapshot", "form snapshots are permanent"),
    ],
)
def test_replace_update_delete_of_locked_tables_refused(
    clinic: Clinic, raw: sqlite3.Connection, table: str, message: str
) -> None:
    raw.execute(f"CREATE TEMP TABLE t AS SELECT * FROM {table}")
    with pytest.raises(REFUSED, match=message):
        raw.execute(f"INSERT OR REPLACE INTO {table} SELECT * FROM t")
    with pytest.raises(REFUSED, match=message):
        raw.execute(f"UPDATE {table} SET id = id")
    with pytest.raises(REFUSED, match=message):
        raw.execute(f"DELETE FROM {table}")
    assert problems(clinic) == []


def test_form_snapshot_factors_cannot_be_emptied(clinic: Clinic, raw: sqlite3.Connection) -> None:
    with pytest.raises(REFUSED, match="form snapshots are permanent"):
        raw.execute("UPDATE form_snapshot SET content = json_set(content, '$.factors', json('[]'))")


def test_update_and_delete_of_signed_evaluation_refused(
    clinic: Clinic, raw: sqlite3.Connection
) -> None:
    for sql in (
        "UPDATE evaluation SET findings = '{}' WHERE id = ?",
        "UPDATE evaluation SET status = 'draft' WHERE id = ?",
        "DELETE FROM evaluation WHERE id = ?",
    ):
        with pytest.raises(REFUSED, match="signed and locked"):
            raw.execute(sql, (clinic.signed,))


def test_signed_rows_cannot_be_made_without_a_seal(clinic: Clinic, raw: sqlite3.Connection) -> None:
    with pytest.raises(REFUSED, match="only with its seal"):
        raw.execute(
            "UPDATE evaluation SET status = 'signed', signed_by = 'x' WHERE id = ?", (clinic.draft,)
        )
    raw.execute("CREATE TEMP TABLE t AS SELECT * FROM evaluation WHERE id = ?", (clinic.signed,))
    raw.execute("UPDATE t SET id = 999")
    with pytest.raises(REFUSED, match="only by signing its draft"):
        raw.execute("INSERT INTO evaluation SELECT * FROM t")
    with pytest.raises(REFUSED, match="addenda follow signed evaluations only"):
        raw.execute(
            "INSERT INTO addendum (evaluation_id, author, created_at, text) "
            "VALUES (?, 'x', '2026-01-01 00:00:00', 'planted')",
            (clinic.draft,),
        )


# -------------------------------------------------------------------- detected by verification


def test_drop_trigger_then_update_is_detected(clinic: Clinic, raw: sqlite3.Connection) -> None:
    raw.execute("DROP TRIGGER evaluation_signed_no_update")
    raw.execute(
        "UPDATE evaluation SET findings = json_set(findings, '$.values.pain_now', 2) WHERE id = ?",
        (clinic.signed,),
    )
    found = problems(clinic)
    assert any("trigger evaluation_signed_no_update (on evaluation) is missing" in p for p in found)
    assert (
        f"evaluation {clinic.signed} (patient MRN {clinic.mrn}): changed after signing: findings"
        in found
    )


def test_forger_recomputing_the_content_hash_is_detected(
    clinic: Clinic, raw: sqlite3.Connection
) -> None:
    """The content hash is unkeyed: a forger recomputes it; the signature they cannot."""
    db = open_database(f"sqlite:///{clinic.path}", backup=False)
    try:
        ev = r.get_evaluation(db, clinic.signed)
    finally:
        db.close()
    values = {k: getattr(ev, k) for k in r.HASHED_FIELDS if hasattr(ev, k)}
    values["findings"] = dict(ev.findings, values={**ev.findings["values"], "pain_now": 1})
    values["carried_forward"] = {"items": list(ev.carried_forward), "from_evaluation": None}
    forged = r.content_hash(values)
    seal = dict(ev.seal or {})
    seal["fields"] = dict(seal["fields"], findings=sealing.sha(values["findings"]))
    raw.execute("DROP TRIGGER evaluation_signed_no_update")
    raw.execute(
        "UPDATE evaluation SET findings = ?, content_hash = ?, seal = ? WHERE id = ?",
        (sealing.canonical(values["findings"]), forged, sealing.canonical(seal), clinic.signed),
    )
    found = problems(clinic)
    assert (
        f"evaluation {clinic.signed} (patient MRN {clinic.mrn}): its seal or signature was "
        "altered (the signature does not match)" in found
    )


def test_alter_table_is_detected(clinic: Clinic, raw: sqlite3.Connection) -> None:
    raw.execute("ALTER TABLE evaluation ADD COLUMN planted TEXT")
    assert problems(clinic) == ["schema: table evaluation differs from what the migrations make"]


def test_writable_schema_neutering_a_lock_is_detected(
    clinic: Clinic, raw: sqlite3.Connection
) -> None:
    raw.execute("PRAGMA writable_schema=ON")
    raw.execute(
        "UPDATE sqlite_master SET sql = replace(sql, 'OLD.status = ''signed''', '0') "
        "WHERE name = 'evaluation_signed_no_update'"
    )
    raw.execute("PRAGMA writable_schema=OFF")
    raw.close()
    attacker = sqlite3.connect(clinic.path, isolation_level=None)
    try:
        attacker.execute(
            "UPDATE evaluation SET eval_date = '2020-01-01' WHERE id = ?", (clinic.signed,)
        )
    finally:
        attacker.close()
    found = problems(clinic)
    assert (
        "schema: trigger evaluation_signed_no_update differs from what the migrations make" in found
    )
    assert any("changed after signing: eval_date" in p for p in found)


def test_a_byte_edited_in_the_file_is_detected(clinic: Clinic) -> None:
    vacuum = sqlite3.connect(clinic.path, isolation_level=None)
    vacuum.execute("VACUUM")  # the draft's older versions leave the free pages
    vacuum.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    vacuum.close()
    data = bytearray(clinic.path.read_bytes())
    at = data.find(NOTE.encode())
    assert at > 0
    assert data.find(NOTE.encode(), at + 1) == -1  # one copy: the signed findings
    data[at] = ord("X")
    clinic.path.write_bytes(bytes(data))
    conn = sqlite3.connect(clinic.path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)  # SQLite sees nothing
    conn.close()
    found = problems(clinic)
    assert found == [
        f"evaluation {clinic.signed} (patient MRN {clinic.mrn}): changed after signing: findings"
    ]


def test_deleted_addendum_and_audit_event_are_detected(
    clinic: Clinic, raw: sqlite3.Connection
) -> None:
    raw.execute("DROP TRIGGER addendum_no_delete")
    raw.execute("DROP TRIGGER audit_event_no_delete")
    raw.execute("DELETE FROM addendum WHERE id = ?", (clinic.addendum,))
    raw.execute("DELETE FROM audit_event WHERE id = 2")
    found = problems(clinic)
    assert (
        f"evaluation {clinic.signed} (patient MRN {clinic.mrn}): the audit trail records 1 "
        "addenda, 0 are present" in found
    )
    assert "audit event 3: the event before it is missing or changed" in found


def test_edited_addendum_and_snapshot_are_detected(clinic: Clinic, raw: sqlite3.Connection) -> None:
    raw.execute("DROP TRIGGER addendum_no_update")
    raw.execute("DROP TRIGGER form_snapshot_no_update")
    raw.execute("UPDATE addendum SET text = 'Pain worse.'")
    raw.execute("UPDATE form_snapshot SET content = json_set(content, '$.title', 'Other')")
    found = problems(clinic)
    who = f"evaluation {clinic.signed} (patient MRN {clinic.mrn})"
    assert f"{who}: addendum {clinic.addendum} was changed after it was added" in found
    assert f"{who}: its form snapshot was changed after signing" in found


def test_an_untrusted_key_is_reported(clinic: Clinic, private_data_dir: Path) -> None:
    (private_data_dir / sealing.KEY_FILE).unlink()
    sealing._keys.clear()
    found = problems(clinic)
    assert any("a key this installation does not trust" in p for p in found)
    other = sealing.installation_key()  # a new key for this installation
    assert other is not None
    assert any("does not trust" in p for p in problems(clinic))


def test_a_seal_made_elsewhere_is_not_called_a_changed_record(
    clinic: Clinic, private_data_dir: Path, tmp_path: Path
) -> None:
    """Opened where its key is not trusted, the record is unchanged: the report says its seal
    cannot be checked here and how to trust the key, not that the record was altered."""
    from pypdf import PdfReader

    from clinic_app.reports.clinician import build_clinician_report
    from clinic_app.reports.records import report_data_for_evaluation

    (private_data_dir / sealing.KEY_FILE).unlink()
    sealing._keys.clear()
    db = open_database(f"sqlite:///{clinic.path}", backup=False)
    try:
        data = report_data_for_evaluation(db, clinic.signed)
    finally:
        db.close()
    assert data.evaluation.seal_problem is not None
    assert "does not trust" in data.evaluation.seal_problem
    out = tmp_path / "report.pdf"
    build_clinician_report(data, out)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert "This record's seal cannot be checked on this computer: its seal was made" in text
    assert "add that workstation's public key" in text
    assert "changed after it was signed" not in text
    assert "the stored record was altered" not in text


def test_the_report_prints_the_clinician_and_clinic_as_sealed(clinic: Clinic) -> None:
    from clinic_app.reports.records import report_data_for_evaluation

    db = open_database(f"sqlite:///{clinic.path}", backup=False)
    try:
        r.save_clinician(db, r.ClinicianInfo("Mallory", "none", "X"), user="m", clinician_id=1)
        r.save_clinic(db, r.ClinicInfo(name="Other Clinic"), user="m")
        data = report_data_for_evaluation(db, clinic.signed)
        assert data.clinician.name == "Dr Alice Doe"
        assert data.clinician.credentials == "PT, DPT"
        assert data.clinic.name == "Sealed Clinic"
        assert data.evaluation.seal_problem is None
        assert r.verify_database(db) == []
    finally:
        db.close()


# ------------------------------------------------------------------------------ clinic-app verify


def test_cli_verify_exit_codes(
    clinic: Clinic, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINIC_APP_DATABASE_URL", f"sqlite:///{clinic.path}")
    assert main(["verify"]) == 0
    assert "sound" in capsys.readouterr().out
    conn = sqlite3.connect(clinic.path, isolation_level=None)
    conn.execute("DROP TRIGGER evaluation_signed_no_update")
    conn.execute("UPDATE evaluation SET kind = 'discharge' WHERE id = ?", (clinic.signed,))
    conn.close()
    assert main(["verify"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert (
        f"evaluation {clinic.signed} (patient MRN {clinic.mrn}): changed after signing: kind"
        in lines
    )
    assert len(lines) == 2  # the missing trigger and the changed record


def test_verify_sound_database_on_both_backends(db: Database, form: Form) -> None:
    p = r.create_patient(db, r.PatientFields("Bo", "Li", mrn="MRN-B"), user="a")
    ev = r.start_evaluation(db, p.id, form, user="alice")
    r.sign_evaluation(db, ev.id, ev.version, user="alice")
    r.add_addendum(db, ev.id, "one", user="alice")
    r.add_addendum(db, ev.id, "two", user="alice")
    assert r.verify_database(db) == []
    assert r.seal_problems(db, ev.id) == []
    assert r.get_evaluation(db, ev.id).seal is not None


def test_a_broken_seal_is_printed_across_the_report(clinic: Clinic, tmp_path: Path) -> None:
    from pypdf import PdfReader

    from clinic_app.reports.clinician import build_clinician_report
    from clinic_app.reports.records import report_data_for_evaluation

    conn = sqlite3.connect(clinic.path, isolation_level=None)
    conn.execute("DROP TRIGGER evaluation_signed_no_update")
    conn.execute(
        "UPDATE evaluation SET findings = json_set(findings, '$.values.pain_now', 2) WHERE id = ?",
        (clinic.signed,),
    )
    conn.close()
    db = open_database(f"sqlite:///{clinic.path}", migrate=False, backup=False)
    try:
        data = report_data_for_evaluation(db, clinic.signed)
    finally:
        db.close()
    assert data.evaluation.seal_problem == "changed after signing: findings"
    out = tmp_path / "report.pdf"
    build_clinician_report(data, out)
    pages = [page.extract_text() for page in PdfReader(out).pages]
    text = " ".join(" ".join(pages).split())
    assert "This record was changed after it was signed: findings" in text
    assert all("SEAL BROKEN" in page for page in pages)  # the watermark and footer of each page


# ------------------------------------------------------------------------ backup and restore


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tampered_backup(clinic: Clinic, tmp_path: Path, *statements: str) -> Path:
    from clinic_app.storage import backup

    made = backup.copy_database(clinic.path, tmp_path / "tampered.db")
    conn = sqlite3.connect(made, isolation_level=None)
    try:
        for sql in statements:
            conn.execute(sql)
    finally:
        conn.close()
    return made


TAMPERED = {
    "triggers dropped": (
        ["DROP TRIGGER evaluation_signed_no_update", "DROP TRIGGER evaluation_signed_no_delete"],
        "trigger evaluation_signed_no_delete (on evaluation) is missing",
    ),
    "signed row edited, lock put back": (
        [
            "DROP TRIGGER evaluation_signed_no_update",
            "UPDATE evaluation SET findings = json_set(findings, '$.values.pain_now', 0) "
            "WHERE status = 'signed'",
            "CREATE TRIGGER evaluation_signed_no_update BEFORE UPDATE ON evaluation FOR EACH ROW "
            "WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, 'evaluation is signed and "
            "locked: only addenda may follow'); END",
        ],
        "holds a record changed after it was signed or chained: evaluation 1: changed after "
        "signing: findings",
    ),
    "audit table dropped": (["DROP TABLE audit_event"], "table audit_event"),
    "addendum table dropped": (["DROP TABLE addendum"], "table addendum"),
    "orphan foreign key": (
        [
            "PRAGMA foreign_keys=OFF",
            "DROP TRIGGER addendum_only_to_signed",
            "INSERT INTO addendum (evaluation_id, author, created_at, text) "
            "VALUES (77, 'x', '2026-01-01 00:00:00.000000', 'orphan')",
            "CREATE TRIGGER addendum_only_to_signed BEFORE INSERT ON addendum FOR EACH ROW "
            "WHEN NOT EXISTS (SELECT 1 FROM evaluation WHERE id = NEW.evaluation_id AND "
            "status = 'signed') BEGIN SELECT RAISE(ABORT, 'addenda follow signed evaluations "
            "only'); END",
        ],
        "refers to a missing evaluation",
    ),
    "planted trigger": (
        [
            "CREATE TRIGGER addendum_rename AFTER INSERT ON addendum BEGIN "
            "UPDATE patient SET family_name = 'Pwned'; END"
        ],
        "trigger addendum_rename (on addendum) is not made by the migrations",
    ),
    "old stamp on the newest schema": (
        ["UPDATE alembic_version SET version_num = '0002'"],
        "is not a clean clinic_app backup",
    ),
    "newer revision": (["UPDATE alembic_version SET version_num = '9999'"], "9999"),
}


@pytest.mark.parametrize("attack", sorted(TAMPERED))
def test_restore_of_a_tampered_backup_is_refused_byte_identical(
    clinic: Clinic, form: Form, tmp_path: Path, attack: str
) -> None:
    from clinic_app.storage import backup
    from clinic_app.storage.errors import StorageError

    statements, message = TAMPERED[attack]
    tampered = _tampered_backup(clinic, tmp_path, *statements)
    live = make_clinic(tmp_path / "live" / "clinic.db", form).path
    before = {p.name: _digest(p) for p in live.parent.iterdir()}
    with pytest.raises(StorageError) as refused:
        backup.restore(tampered, live)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    assert {p.name: _digest(p) for p in live.parent.iterdir()} == before
    assert not [p for p in backup.backups_dir().iterdir() if "partial" in p.name]


def test_restore_of_a_backup_with_a_byte_edited_is_refused(
    clinic: Clinic, form: Form, tmp_path: Path
) -> None:
    from clinic_app.storage import backup
    from clinic_app.storage.errors import StorageError

    tampered = _tampered_backup(clinic, tmp_path, "VACUUM")
    data = bytearray(tampered.read_bytes())
    data[data.find(NOTE.encode())] = ord("Q")
    tampered.write_bytes(bytes(data))
    live = make_clinic(tmp_path / "live" / "clinic.db", form).path
    before = _digest(live)
    with pytest.raises(StorageError, match="evaluation 1: changed after signing: findings"):
        backup.restore(tampered, live)
    assert _digest(live) == before


def test_sound_backup_restores_and_verifies(clinic: Clinic, form: Form, tmp_path: Path) -> None:
    from clinic_app.storage import backup

    made = backup.copy_database(clinic.path, tmp_path / "good.db")
    assert backup.copy_problems(made) == []
    live = make_clinic(tmp_path / "live" / "clinic.db", form).path
    backup.restore(made, live)
    db = open_database(f"sqlite:///{live}", backup=False)
    try:
        assert r.verify_database(db) == []
    finally:
        db.close()


def test_a_backup_of_a_changed_record_says_so(clinic: Clinic, raw: sqlite3.Connection) -> None:
    from clinic_app.storage import backup

    raw.execute("DROP TRIGGER evaluation_signed_no_delete")
    raw.execute("DELETE FROM evaluation WHERE id = ?", (clinic.signed,))
    with pytest.raises(backup.BackupSealError, match="was written, but schema: trigger") as caught:
        backup.make_backup(clinic.path, "daily")
    assert caught.value.path.exists()  # kept: a backup is never thrown away
    assert any("audit" in p or "addenda" in p for p in caught.value.problems)


def test_cli_backup_warns_of_a_changed_record(
    clinic: Clinic, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINIC_APP_DATABASE_URL", f"sqlite:///{clinic.path}")
    assert main(["backup"]) == 0
    capsys.readouterr()
    conn = sqlite3.connect(clinic.path, isolation_level=None)
    conn.execute("DROP TRIGGER evaluation_signed_no_update")
    conn.execute("UPDATE evaluation SET eval_date = '2001-01-01' WHERE id = ?", (clinic.signed,))
    conn.close()
    assert main(["backup"]) == 1
    captured = capsys.readouterr()
    assert "backed up" in captured.out
    assert f"warning: evaluation {clinic.signed}: changed after signing: eval_date" in captured.err
    assert clinic.mrn not in captured.err  # backup warnings may reach a log: ids only
