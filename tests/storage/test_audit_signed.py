"""The audit trail's newest event is signed (0011): rechaining the trail is no longer invisible.

The audit events' SHA-256 chain is unkeyed: whoever can write the database can change an event
(an access event's actor, an export's time) and compute every later hash again, and before 0011
``verify`` found nothing. Now the last event of each write carries the installation key's
signature of its hash, and ``verify`` requires the newest event to be signed by a trusted key.
Each attack below is made by another tool on the real file (SQLite) or by the tables' owner on a
real server (PostgreSQL), and must be named in one exact line.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from clinic_app.cli import main
from clinic_app.core.form import Form
from clinic_app.storage import models as m
from clinic_app.storage import records as r
from clinic_app.storage import sealing
from clinic_app.storage.database import open_database
from tests.data import make_v0005_db
from tests.storage.test_tampering import Clinic, make_clinic

UNSIGNED = (
    "audit event {id}, the newest, is not signed: the audit trail was changed outside the app"
)
UNTRUSTED = (
    "audit event {id}, the newest, is not signed by a key this installation trusts: the audit "
    "trail was changed outside the app, or it was written on a computer whose key is not in "
    "trusted-keys (another workstation of the clinic server, the one a backup came from)"
)
COLUMNS = ("at", "actor", "entity", "entity_id", "action", "before_digest", "after_digest")


@pytest.fixture
def clinic(tmp_path: Path, form: Form) -> Clinic:
    return make_clinic(tmp_path / "clinic.db", form)


def _lines(path: Path) -> list[str]:
    db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
    try:
        return [b.line() for b in r.verify_database(db)]
    finally:
        db.close()


def _events(conn: Any) -> list[dict[str, Any]]:
    cur = conn.execute(f"SELECT id, {', '.join(COLUMNS)}, hash, signature FROM audit_event")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _hash(event: dict[str, Any], prev: str) -> str:
    return sealing.audit_hash(m.AuditEvent(**event), prev)


def _rechain(conn: Any, path: Path) -> None:
    """Compute every event's chain hash again, in id order, as a forger would (the events read
    as the app reads them, the new hashes written through ``conn``)."""
    db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
    try:
        with db.reading() as s:
            events = list(s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id)))
            prev, hashes = sealing.GENESIS, []
            for event in events:
                hashes.append((prev, sealing.audit_hash(event, prev), event.id))
                prev = hashes[-1][1]
    finally:
        db.close()
    for row in hashes:
        conn.execute("UPDATE audit_event SET prev_hash = ?, hash = ? WHERE id = ?", row)


def _newest(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        return max(_events(conn), key=lambda e: e["id"])
    finally:
        conn.close()


# ------------------------------------------------------------------------ what the app writes


def test_each_write_signs_its_newest_event_and_only_that(clinic: Clinic) -> None:
    conn = sqlite3.connect(clinic.path)
    try:
        events = sorted(_events(conn), key=lambda e: e["id"])
    finally:
        conn.close()
    assert len(events) >= 6
    public = sealing.installation_public_key()
    assert public
    newest = events[-1]
    assert sealing._signature_ok(public, newest["signature"], newest["hash"])
    signed = [e for e in events if e["signature"]]
    # Every signature is over its own event's hash, by this installation's key.
    assert all(sealing._signature_ok(public, e["signature"], e["hash"]) for e in signed)
    assert _lines(clinic.path) == []


def test_an_export_of_many_patients_signs_once(tmp_path: Path, form: Form) -> None:
    """``log_accesses`` chains one event a patient in one write: one signature, the last."""
    db = open_database(f"sqlite:///{tmp_path / 'many.db'}", backup=False)
    try:
        ids = [
            r.create_patient(db, r.PatientFields("Pat", f"N{i}", mrn=f"M-{i}"), user="a").id
            for i in range(30)
        ]
        before = _event_count(db)
        r.log_accesses(db, actor="auditor", action="export", entity="patient", entity_ids=ids)
        assert _event_count(db) == before + 30
        with db.reading() as s:
            newest = s.query(m.AuditEvent).order_by(m.AuditEvent.id.desc()).limit(30).all()
        assert [e.signature is not None for e in newest] == [True] + [False] * 29
        assert r.verify_database(db) == []
    finally:
        db.close()


def _event_count(db: Any) -> int:
    with db.reading() as s:
        return s.query(m.AuditEvent).count()


# ---------------------------------------------------------------------- attacks on the file


def test_an_event_changed_and_the_chain_recomputed_is_named(
    clinic: Clinic, raw_clinic: sqlite3.Connection
) -> None:
    raw_clinic.execute("DROP TRIGGER audit_event_no_update")
    raw_clinic.execute("UPDATE audit_event SET actor = 'someone else' WHERE id = 2")
    _rechain(raw_clinic, clinic.path)
    newest = _newest(clinic.path)
    assert _lines(clinic.path) == [
        "schema: trigger audit_event_no_update (on audit_event) is missing",
        UNTRUSTED.format(id=newest["id"]),
    ]


def test_an_event_appended_outside_the_app_is_named(
    clinic: Clinic, raw_clinic: sqlite3.Connection
) -> None:
    """Correctly chained, but nobody who holds a key wrote it."""
    last = _newest(clinic.path)
    planted = {
        "at": datetime(2026, 6, 1, 10, 0, tzinfo=UTC),
        "actor": "auditor",
        "entity": "patient",
        "entity_id": 1,
        "action": "view",
        "before_digest": None,
        "after_digest": None,
    }
    value = _hash(planted, last["hash"])
    raw_clinic.execute(
        f"INSERT INTO audit_event ({', '.join(COLUMNS)}, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ("2026-06-01 10:00:00.000000", *list(planted.values())[1:], last["hash"], value),
    )
    assert _lines(clinic.path) == [UNSIGNED.format(id=last["id"] + 1)]


def test_the_newest_signature_removed_or_replaced_is_named(
    clinic: Clinic, raw_clinic: sqlite3.Connection
) -> None:
    newest = _newest(clinic.path)
    raw_clinic.execute("DROP TRIGGER audit_event_no_update")
    raw_clinic.execute("UPDATE audit_event SET signature = NULL WHERE id = ?", (newest["id"],))
    assert _lines(clinic.path)[1:] == [UNSIGNED.format(id=newest["id"])]
    forger = Ed25519PrivateKey.generate()  # a key of the forger's own
    forged = forger.sign(str(newest["hash"]).encode("utf-8")).hex()
    raw_clinic.execute("UPDATE audit_event SET signature = ? WHERE id = ?", (forged, newest["id"]))
    assert _lines(clinic.path)[1:] == [UNTRUSTED.format(id=newest["id"])]
    raw_clinic.execute("UPDATE audit_event SET signature = 'zz' WHERE id = ?", (newest["id"],))
    assert _lines(clinic.path)[1:] == [UNTRUSTED.format(id=newest["id"])]


def test_a_workstation_listed_in_trusted_keys_may_write_the_newest(
    clinic: Clinic, raw_clinic: sqlite3.Connection
) -> None:
    other = Ed25519PrivateKey.generate()
    newest = _newest(clinic.path)
    raw_clinic.execute("DROP TRIGGER audit_event_no_update")
    signature = other.sign(str(newest["hash"]).encode("utf-8")).hex()
    raw_clinic.execute(
        "UPDATE audit_event SET signature = ? WHERE id = ?", (signature, newest["id"])
    )
    raw_clinic.execute(
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event FOR EACH ROW "
        "BEGIN SELECT RAISE(ABORT, 'audit events are permanent'); END"
    )
    assert _lines(clinic.path) == [UNTRUSTED.format(id=newest["id"])]
    folder = sealing.key_folder()
    (folder / sealing.TRUSTED_FILE).write_text(
        f"# the front desk\n{sealing.public_hex(other)}\n", encoding="utf-8"
    )
    assert _lines(clinic.path) == []


def test_the_cli_exits_1_with_the_line(clinic: Clinic, capsys: pytest.CaptureFixture[str]) -> None:
    conn = sqlite3.connect(clinic.path, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER audit_event_no_update")
        conn.execute("UPDATE audit_event SET action = 'view' WHERE id = 1")
        _rechain(conn, clinic.path)
    finally:
        conn.close()
    capsys.readouterr()
    assert main(["--database", f"sqlite:///{clinic.path}", "verify"]) == 1
    out = capsys.readouterr().out
    assert UNTRUSTED.format(id=_newest(clinic.path)["id"]) in out


@pytest.fixture
def raw_clinic(clinic: Clinic) -> Any:
    conn = sqlite3.connect(clinic.path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


# ------------------------------------------------------------------------------- the upgrade


def test_the_upgrade_signs_the_newest_event_it_finds(
    tmp_path: Path, private_data_dir: Path
) -> None:
    """A 0006 sample (unsigned events): 0011 signs its newest in place, adds no event."""
    make_v0005_db.install_key(private_data_dir)
    path = tmp_path / "old.db"
    shutil.copyfile(Path(__file__).parents[1] / "data" / "clinic-0006.db", path)
    conn = sqlite3.connect(path)
    try:
        before = conn.execute("SELECT id, hash FROM audit_event ORDER BY id").fetchall()
    finally:
        conn.close()
    db = open_database(f"sqlite:///{path}", backup=False)
    try:
        assert r.verify_database(db) == []
    finally:
        db.close()
    conn = sqlite3.connect(path)
    try:
        after = conn.execute("SELECT id, hash, signature FROM audit_event ORDER BY id").fetchall()
        triggers = {
            n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        }
    finally:
        conn.close()
    assert [(i, h) for i, h, _ in after] == before
    assert [s is not None for _, _, s in after] == [False] * (len(before) - 1) + [True]
    assert "audit_event_no_update" in triggers  # the lock lifted for the upgrade is back
