"""The access log on both backends: written into the hash chain, append-only, filtered, exported."""

from __future__ import annotations

import csv
import dataclasses
import os
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from clinic_app.core.form import Form
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import NotFoundError, StorageError
from clinic_app.storage.records.access import CSV_FIELDS, spreadsheet_safe


def _patient(db: Database, given: str, family: str, mrn: str) -> r.Patient:
    return r.create_patient(
        db, r.PatientFields(given_name=given, family_name=family, mrn=mrn), user="alice"
    )


@pytest.fixture
def clinic(db: Database, form: Form) -> dict[str, int]:
    eva = _patient(db, "Eva", "Berg", "P-1")
    wang = _patient(db, "芳", "王", "P-2")
    ev1 = r.start_evaluation(db, eva.id, form, user="alice")
    ev2 = r.start_evaluation(db, wang.id, form, user="alice")
    bob = r.save_clinician(db, r.ClinicianInfo(name="Bob Stone"), user="admin")
    return {"eva": eva.id, "wang": wang.id, "ev1": ev1.id, "ev2": ev2.id, "bob": bob.id}


def test_access_events_are_written_and_read_back(db: Database, clinic: dict[str, int]) -> None:
    r.log_access(db, actor="bob", action="view", entity="patient", entity_id=clinic["eva"])
    r.log_access(db, actor="bob", action="open", entity="evaluation", entity_id=clinic["ev1"])
    r.log_access(db, actor="carol", action="print", entity="evaluation", entity_id=clinic["ev2"])
    r.log_access(db, actor="bob", action="sign_in", entity="clinician", entity_id=clinic["bob"])
    entries = r.access_log(db, actions=r.ACCESS_ACTIONS)
    assert [(e.actor, e.action, e.entity, e.entity_id) for e in entries] == [
        ("bob", "sign_in", "clinician", clinic["bob"]),
        ("carol", "print", "evaluation", clinic["ev2"]),
        ("bob", "open", "evaluation", clinic["ev1"]),
        ("bob", "view", "patient", clinic["eva"]),
    ]
    assert [(e.patient_id, e.patient_name) for e in entries] == [
        (None, None),
        (clinic["wang"], "芳 王"),
        (clinic["eva"], "Eva Berg"),
        (clinic["eva"], "Eva Berg"),
    ]
    assert entries[0].at >= entries[-1].at
    assert entries[0].at.tzinfo is not None
    # No digests: nothing changed.
    raw = r.audit_events(db, limit=1)[0]
    assert raw.before_digest is None
    assert raw.after_digest is None


def test_access_rows_are_in_the_hash_chain(db: Database, clinic: dict[str, int]) -> None:
    for _ in range(3):
        r.log_access(db, actor="bob", action="view", entity="patient", entity_id=clinic["eva"])
    assert r.verify_database(db) == []
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT id, prev_hash, hash FROM audit_event ORDER BY id DESC LIMIT 2")
        ).all()
    assert row[0].prev_hash == row[1].hash
    assert row[0].hash


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_event SET actor = 'someone else' WHERE action = 'view'",
        "UPDATE audit_event SET action = 'open' WHERE action = 'view'",
        "DELETE FROM audit_event WHERE action = 'view'",
    ],
)
def test_raw_sql_cannot_change_or_remove_an_access_row(
    db: Database, clinic: dict[str, int], sql: str
) -> None:
    r.log_access(db, actor="bob", action="view", entity="patient", entity_id=clinic["eva"])
    with db.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="permanent"):
        conn.exec_driver_sql(sql)
    [entry] = r.access_log(db, actions=["view"])
    assert entry.actor == "bob"
    assert r.verify_database(db) == []


def test_change_events_join_the_trail_when_no_actions_are_given(
    db: Database, clinic: dict[str, int], form: Form
) -> None:
    r.log_access(db, actor="bob", action="view", entity="patient", entity_id=clinic["eva"])
    trail = r.access_log(db, patient_id=clinic["eva"])
    # Oldest first: the patient created, the evaluation created, then the view.
    assert [(e.action, e.entity) for e in reversed(trail)] == [
        ("create", "patient"),
        ("create", "evaluation"),
        ("view", "patient"),
    ]
    # The clinician's creation concerns no patient: it is in the full trail, not the patient's.
    everything = r.access_log(db)
    assert any(e.entity == "clinician" and e.patient_id is None for e in everything)
    assert not any(e.entity == "clinician" for e in trail)
    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)


def test_an_addendum_counts_for_its_patient(db: Database, clinic: dict[str, int]) -> None:
    ev = r.get_evaluation(db, clinic["ev1"])
    r.sign_evaluation(db, ev.id, ev.version, user="alice")
    r.add_addendum(db, ev.id, "Phoned: pain settled.", user="alice")
    trail = r.access_log(db, patient_id=clinic["eva"])
    addendum = [e for e in trail if e.entity == "addendum"]
    assert len(addendum) == 1
    assert addendum[0].patient_name == "Eva Berg"
    assert not any(e.patient_id == clinic["wang"] for e in trail)


def test_filters(db: Database, clinic: dict[str, int]) -> None:
    r.log_access(db, actor="Bob", action="view", entity="patient", entity_id=clinic["eva"])
    r.log_access(db, actor="carol", action="view", entity="patient", entity_id=clinic["wang"])
    r.log_access(db, actor="bob", action="export", entity="evaluation", entity_id=clinic["ev2"])
    bob = r.access_log(db, actor="BOB", actions=r.ACCESS_ACTIONS)
    assert [e.action for e in bob] == ["export", "view"]
    wang = r.access_log(db, patient_id=clinic["wang"], actions=["view", "export"])
    assert [(e.actor, e.action) for e in wang] == [("bob", "export"), ("carol", "view")]
    assert r.access_log(db, patient_id=clinic["wang"], actor="alice", actions=["view"]) == []
    today = date.today()
    assert len(r.access_log(db, since=today, until=today, actions=r.ACCESS_ACTIONS)) == 3
    assert r.access_log(db, until=today - timedelta(days=1)) == []
    assert r.access_log(db, since=today + timedelta(days=1)) == []
    assert len(r.access_log(db, limit=2)) == 2
    assert r.access_log(db, patient_id=999_999) == []


def test_a_login_finds_the_events_recorded_under_the_clinicians_name(
    db: Database, clinic: dict[str, int]
) -> None:
    login = r.get_clinician(db, clinic["bob"]).login
    assert login
    r.log_access(db, actor="Bob Stone", action="view", entity="patient", entity_id=clinic["eva"])
    r.log_access(db, actor="Bobby", action="view", entity="patient", entity_id=clinic["eva"])
    found = r.access_log(db, actor=login.upper(), actions=["view"])
    assert [e.actor for e in found] == ["Bob Stone"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "delete"}, "access action: 'delete' is not one of view"),
        ({"entity": "addendum"}, "access entity: 'addendum' is not one of patient"),
        ({"entity": "clinician"}, "about a patient or evaluation, not a clinician"),
        ({"action": "sign_in"}, "about a clinician, not a patient"),
        ({"entity_id": -1}, "access entity id: -1 is not a record number"),
        ({"entity_id": True}, "access entity id: True"),
        ({"entity_id": 2**31}, "access entity id: 2147483648 is not a record number"),
        ({"entity_id": 2**70}, "access entity id: 1180591620717411303424"),
        ({"actor": "  "}, "a user name is needed"),
        ({"actor": "bob\x00"}, "control character"),
    ],
)
def test_bad_access_events_are_refused_and_nothing_is_written(
    db: Database, clinic: dict[str, int], kwargs: dict[str, object], message: str
) -> None:
    before = r.access_log(db)
    args: dict[str, object] = {
        "actor": "bob",
        "action": "view",
        "entity": "patient",
        "entity_id": clinic["eva"],
        **kwargs,
    }
    with pytest.raises(StorageError, match=message.replace("(", r"\(")):
        r.log_access(db, **args)  # type: ignore[arg-type]
    assert r.access_log(db) == before


def test_an_access_to_a_missing_record_is_refused(db: Database, clinic: dict[str, int]) -> None:
    with pytest.raises(NotFoundError, match="evaluation 424242 does not exist"):
        r.log_access(db, actor="bob", action="open", entity="evaluation", entity_id=424242)
    # A failed sign-in under a name nobody has is still recorded (id 0).
    r.log_access(db, actor="mallory", action="sign_in_failed", entity="clinician", entity_id=0)
    [failed] = r.access_log(db, actions=["sign_in_failed"])
    assert (failed.actor, failed.entity_id) == ("mallory", 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, "limit: 0"),
        ({"since": date(2026, 2, 2), "until": date(2026, 2, 1)}, "until 2026-02-01 is before"),
        ({"actions": ["view; DROP TABLE x"]}, "is not an action name"),
    ],
)
def test_bad_filters_are_refused(db: Database, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(StorageError, match=message):
        r.access_log(db, **kwargs)  # type: ignore[arg-type]


ACTOR = "=cmd|' /C calc'!A0"
HOSTILE_NAMES = [
    ('=HYPERLINK("http://x")', 'O\'Brien, "Jr"'),
    ("+1", "Smith"),
    ("-2", "王, 芳"),
    ("@SUM(A1)", "Kowalski;"),
]


def test_csv_export_is_private_and_safe_against_formulas(db: Database, tmp_path: Path) -> None:
    ids = []
    for i, (given, family) in enumerate(HOSTILE_NAMES):
        p = r.create_patient(
            db,
            r.PatientFields(given_name=given, family_name=family, mrn=f"H-{i}"),
            user="alice",
        )
        r.log_access(
            db, actor="=cmd|' /C calc'!A0", action="view", entity="patient", entity_id=p.id
        )
        ids.append(p.id)
    entries = r.access_log(db, actions=["view"])
    # The records refuse line breaks in names; an older row (or another writer) might not.
    odd = dataclasses.replace(entries[0], id=10**6, patient_id=10**6, patient_name="-Line\nbreak")
    target = tmp_path / "log.csv"
    assert r.write_access_csv([*entries, odd], target) == 5
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(CSV_FIELDS)
    assert len(rows) == 6  # a line break inside a name stays inside its quoted field
    assert rows[-1][7] == "'-Line\nbreak"
    body = rows[1:-1]
    names = {int(row[6]): row[7] for row in body}
    for pid, (given, family) in zip(ids, HOSTILE_NAMES, strict=True):
        assert names[pid] == spreadsheet_safe(f"{given} {family}")
        assert names[pid][0] not in "=+-@"
    assert {row[2] for row in body} == {"'=cmd|' /C calc'!A0"}
    assert "王, 芳" in target.read_text(encoding="utf-8")


def test_spreadsheet_safe() -> None:
    assert spreadsheet_safe("=1+1") == "'=1+1"
    assert spreadsheet_safe("\t=1") == "'\t=1"
    assert spreadsheet_safe("Anna") == "Anna"
    assert spreadsheet_safe("") == ""


def test_csv_refuses_what_is_not_a_regular_file(db: Database, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep me")
    link = tmp_path / "link.csv"
    link.symlink_to(elsewhere)
    for target in (fifo, folder, link, tmp_path / "missing" / "log.csv"):
        with pytest.raises(OSError, match=r"regular file|symbolic link|No such file"):
            r.write_access_csv([], target)
    assert elsewhere.read_text() == "keep me"


def test_every_action_the_records_write_can_be_filtered_on() -> None:
    """An action a records module writes that the filters do not know could not be chosen in
    the CLI or the screen: read every write_audit call of the storage layer's source."""
    import ast
    import inspect

    from clinic_app import storage
    from clinic_app.storage.records.access import ACCESS_ACTIONS, CHANGE_ACTIONS

    written: set[str] = set()
    for path in Path(inspect.getfile(storage)).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or getattr(node.func, "id", None) not in (
                "write_audit",
                "_audit",
            ):
                continue
            action = node.args[4] if getattr(node.func, "id", "") == "write_audit" else node.args[3]
            for value in ast.walk(action):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    written.add(value.value)
    written.discard("")
    assert written
    assert written - set(ACCESS_ACTIONS) - set(CHANGE_ACTIONS) == set()


def _patient_events(db: Database) -> list[tuple[str, str, int]]:
    entries = reversed(r.access_log(db, actions=r.ACCESS_ACTIONS))
    return [(e.actor, e.action, e.entity_id) for e in entries]


def test_many_accesses_are_one_event_each_in_order_and_chained(
    db: Database, clinic: dict[str, int]
) -> None:
    extra = [_patient(db, "P", f"N{n}", f"M-{n}").id for n in range(1200)]  # > one id chunk
    ids = [clinic["wang"], *extra, clinic["eva"], clinic["wang"]]  # a repeat counts once
    count = r.log_accesses(db, actor="bob", action="export", entity="patient", entity_ids=ids)
    assert count == len(extra) + 2
    assert _patient_events(db) == [("bob", "export", i) for i in dict.fromkeys(ids)]
    assert r.verify_database(db) == []  # the chain runs through every new event
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT prev_hash, hash FROM audit_event ORDER BY id DESC LIMIT 1202")
        ).all()
    assert all(newer.prev_hash == older.hash for newer, older in zip(rows, rows[1:], strict=False))
    assert len({row.hash for row in rows}) == len(rows)


def test_many_accesses_with_one_missing_record_write_nothing(
    db: Database, clinic: dict[str, int]
) -> None:
    before = r.access_log(db)
    with pytest.raises(NotFoundError, match="patient 424242 does not exist"):
        r.log_accesses(
            db,
            actor="bob",
            action="export",
            entity="patient",
            entity_ids=[clinic["eva"], 424242, clinic["wang"]],
        )
    with pytest.raises(StorageError, match="access entity id: -1"):
        r.log_accesses(
            db, actor="bob", action="view", entity="patient", entity_ids=[clinic["eva"], -1]
        )
    assert r.access_log(db) == before
    assert r.log_accesses(db, actor="bob", action="view", entity="patient", entity_ids=[]) == 0
    assert r.access_log(db) == before
