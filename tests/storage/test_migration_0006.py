"""Migration 0006 (episodes of care) on a clinic at revision 0005: every row kept, every
evaluation placed in one episode of its own patient, seals and locks intact, and a downgrade that
works while no visit note exists and is refused once one does. SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from clinic_app.core.form import Form
from clinic_app.storage import migrate, sealing
from clinic_app.storage import records as r
from clinic_app.storage.database import Database, open_database
from tests.data import make_v0005_db

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "clinic-0005.db"
TABLES = ("clinic", "patient", "clinician", "form_snapshot", "evaluation", "addendum")
NEW_TABLES = ("episode", "plan_of_care", "goal", "goal_status")
SIGNED_LOCK = "signed"
DOWNGRADE_REFUSED = "revision 0005 cannot hold visit notes"


@pytest.fixture(autouse=True)
def sample_key(private_data_dir: Path) -> str:
    """The sample's installation key is this installation's: its seals are trusted."""
    return make_v0005_db.install_key(private_data_dir)


def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for table in (*TABLES, "audit_event"):
            result = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))
            later = {"episode_id", "signature"} if table == "audit_event" else {"episode_id"}
            keep = [i for i, name in enumerate(result.keys()) if name not in later]  # 0006, 0011
            out[table] = [tuple(row[i] for i in keep) for row in result]
        result = conn.execute(sa.text('SELECT * FROM setting ORDER BY "key"'))
        out["setting"] = [tuple(row) for row in result]
    return out


def _downgrade(db: Database, target: str = "0005") -> None:
    with db.engine.connect() as conn:
        command.downgrade(migrate.alembic_config(conn), target)
        conn.commit()


def _tables(db: Database) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


@pytest.fixture
def sqlite_0005(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "clinic.db"
    shutil.copyfile(SAMPLE, path)
    return f"sqlite:///{path}"


@pytest.fixture
def any_0005(backend: str, request: pytest.FixtureRequest) -> str:
    """A clinic at revision 0005 on each backend: the sample file, or on PostgreSQL the same
    records written by the records API and downgraded (as the sample was made)."""
    if backend == "sqlite":
        return str(request.getfixturevalue("sqlite_0005"))
    url = str(request.getfixturevalue("postgres_url"))
    db = open_database(url)
    try:
        make_v0005_db.fill(db)
        _downgrade(db)
    finally:
        db.close()
    return url


def _open_0005(url: str) -> Database:
    db = open_database(url, migrate=False, backup=False)
    assert db.schema_revision() == "0005"
    assert not _tables(db) & set(NEW_TABLES)
    return db


def test_the_sample_is_a_0005_clinic_with_what_the_brief_needs(sqlite_0005: str) -> None:
    db = _open_0005(sqlite_0005)
    try:
        with db.engine.connect() as conn:
            kinds = conn.execute(
                sa.text("SELECT patient_id, kind, status FROM evaluation ORDER BY id")
            ).all()
            patients = conn.execute(sa.text("SELECT count(*) FROM patient")).scalar()
            addenda = conn.execute(sa.text("SELECT count(*) FROM addendum")).scalar()
    finally:
        db.close()
    assert patients == 5
    assert addenda == 1
    assert {k.status for k in kinds} == {"signed", "draft"}
    assert {k.kind for k in kinds} == {"initial", "re_evaluation", "discharge"}
    assert 4 not in {k.patient_id for k in kinds}  # a patient without evaluations
    assert [k.kind for k in kinds if k.patient_id == 1][-1] == "discharge"


def test_upgrade_keeps_every_row_and_places_each_evaluation(any_0005: str) -> None:
    db = _open_0005(any_0005)
    try:
        before = _rows(db)
    finally:
        db.close()
    assert len(before["evaluation"]) == 9
    db = open_database(any_0005, backup=False)
    try:
        assert db.schema_revision() == migrate.HEAD
        after = _rows(db)
        # Nothing changed; one event added: the sample's trail names episodes a downgrade took
        # with their table, so the upgrade marks when the tables were made again (kept_rows).
        *kept, mark = after.pop("audit_event")
        assert kept == before.pop("audit_event")
        assert after == before
        assert mark[2:8] == ("migration 0006", "schema", 6, "episode tables made", None, None)
        assert mark[8] == kept[-1][9]  # chained to the last event
        with db.reading() as s:
            assert sealing.audit_problems(s) == []
        with db.engine.connect() as conn:
            placed = conn.execute(
                sa.text(
                    "SELECT e.id, e.patient_id, p.patient_id FROM evaluation e "
                    "JOIN episode p ON p.id = e.episode_id ORDER BY e.id"
                )
            ).all()
        assert len(placed) == 9
        assert all(own == of for _id, own, of in placed)
        by_patient = {pid: r.list_episodes(db, pid) for pid in range(1, 6)}
        assert {pid: len(eps) for pid, eps in by_patient.items()} == {1: 1, 2: 1, 3: 1, 4: 0, 5: 1}
        anna, jon, lukasz, _none, zoe = (
            by_patient[pid][0] if by_patient[pid] else None for pid in range(1, 6)
        )
        assert anna is not None
        assert jon is not None
        assert lukasz is not None
        assert zoe is not None
        # Discharge last: the episode ended that day; a discharge followed by a new initial
        # evaluation leaves it open.
        assert (anna.start_date, anna.end_date) == (date(2026, 3, 2), date(2026, 4, 27))
        assert (anna.title, anna.involved_side) == ("Left posterior thigh", "left")
        assert anna.referral_source == "Dr. Berg"
        assert anna.created_by == "migration 0006"
        assert (jon.start_date, jon.end_date, jon.involved_side) == (
            date(2026, 5, 4),
            None,
            "right",
        )
        assert (lukasz.title, lukasz.involved_side) == ("Posterior thigh", None)
        assert (zoe.start_date, zoe.end_date, zoe.involved_side) == (
            date(2026, 1, 12),
            None,
            "both",
        )
        for pid, episodes in by_patient.items():
            ids = [e.id for e in r.list_evaluations(db, pid)]
            if episodes:
                inside = [e.id for e in r.list_evaluations(db, pid, episode_id=episodes[0].id)]
                assert inside == ids
        # Seals: every signed evaluation still verifies, the addendum chain too.
        signed = [e for pid in range(1, 6) for e in r.list_evaluations(db, pid)]
        assert sum(e.status == "signed" for e in signed) == 6
        for e in signed:
            assert r.verify_evaluation(db, e.id)
            assert r.seal_problems(db, e.id) == []
        assert r.verify_database(db) == []
        assert r.get_evaluation(db, 1).addenda[0].text == "Telefonat: Schmerz gebessert."
    finally:
        db.close()


def _signed_lock_routes(db: Database, ev_id: int) -> None:
    """UPDATE, DELETE and a replacing INSERT of a signed evaluation are refused by the database."""
    for sql in (
        f"UPDATE evaluation SET findings = '{{}}' WHERE id = {ev_id}",
        f"UPDATE evaluation SET kind = 'visit' WHERE id = {ev_id}",
        f"DELETE FROM evaluation WHERE id = {ev_id}",
    ):
        with pytest.raises(sa.exc.DBAPIError, match=SIGNED_LOCK), db.engine.begin() as conn:
            conn.exec_driver_sql(sql)
    if db.dialect == "sqlite":
        replace = "INSERT OR REPLACE INTO evaluation SELECT * FROM t"
    else:
        replace = (
            "INSERT INTO evaluation SELECT * FROM t "
            "ON CONFLICT (id) DO UPDATE SET findings = '{}'::jsonb, status = 'draft'"
        )
    with db.engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE TEMP TABLE t AS SELECT * FROM evaluation WHERE id = {ev_id}")
        conn.exec_driver_sql("UPDATE t SET findings = '{}'")
        with pytest.raises(sa.exc.DBAPIError, match=SIGNED_LOCK):
            conn.exec_driver_sql(replace)
        conn.rollback()


def test_locks_still_refuse_every_route_after_the_upgrade(any_0005: str) -> None:
    db = open_database(any_0005, backup=False)
    try:
        before = r.get_evaluation(db, 1)
        _signed_lock_routes(db, 1)
        assert r.get_evaluation(db, 1) == before
        assert r.verify_database(db) == []
        # The new trigger: an evaluation cannot move into another patient's episode.
        other = r.list_episodes(db, 2)[0].id
        with pytest.raises(sa.exc.DBAPIError, match="own patient"), db.engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE evaluation SET episode_id = {other} WHERE id = 6")
        assert r.get_evaluation(db, 6).episode_id == r.list_episodes(db, 3)[0].id
    finally:
        db.close()


def test_downgrade_and_upgrade_again_without_visits(
    any_0005: str, form: Form, backend: str
) -> None:
    db = _open_0005(any_0005)
    try:
        before = _rows(db)
    finally:
        db.close()
    db = open_database(any_0005, backup=False)
    try:
        # Work done at 0006 that 0005 can hold: a new evaluation of the patient without any.
        new = r.start_evaluation(db, 4, form, user="t", eval_date=date(2026, 10, 1))
        r.save_plan(db, new.episode_id or 0, r.PlanInfo(visits_per_week=2), user="t")
        _downgrade(db)
        assert db.schema_revision() == "0005"
        assert not _tables(db) & set(NEW_TABLES)
        with db.engine.connect() as conn:
            cols = {c["name"] for c in sa.inspect(conn).get_columns("evaluation")}
            assert "episode_id" not in cols
            # 0005 refuses a visit again.
            with pytest.raises(sa.exc.DBAPIError):
                conn.exec_driver_sql("UPDATE evaluation SET kind = 'visit' WHERE id = 5")
            conn.rollback()
    finally:
        db.close()
    db = open_database(any_0005, backup=False)
    try:
        assert db.schema_revision() == migrate.HEAD
        after = _rows(db)
        for table in TABLES:
            assert after[table][: len(before[table])] == before[table]
        assert len(after["evaluation"]) == len(before["evaluation"]) + 1
        assert [e.id for e in r.list_evaluations(db, 4)] == [new.id]
        assert r.list_episodes(db, 1)[0].end_date == date(2026, 4, 27)
        found = r.verify_database(db)
        if backend == "sqlite":  # the sample file was signed before seals covered the episode
            assert found == []
        else:
            # Signed at head, then 0005 dropped the episodes and 0006 made them again under new
            # ids: each such record is said to be in another episode than it was signed in.
            moved = [b.evaluation_id for b in found]
            assert found
            assert all(b.problem == "changed after signing: episode_id" for b in found)
            assert set(moved) <= {
                e.id
                for p in r.list_patients(db)
                for e in r.list_evaluations(db, p.id)
                if e.status == "signed"
            }
        _signed_lock_routes(db, 4)
    finally:
        db.close()


def test_downgrade_is_refused_once_a_visit_note_exists(any_0005: str, form: Form) -> None:
    db = open_database(any_0005, backup=False)
    try:
        episode = r.list_episodes(db, 2)[0]
        visit = r.start_evaluation(
            db, 2, form, user="t", kind="visit", eval_date=date(2026, 6, 5), episode_id=episode.id
        )
        _downgrade(db, "0006")  # 0007 (the exercise library, empty here) goes first
        before = _rows(db)
        with pytest.raises(RuntimeError, match=DOWNGRADE_REFUSED) as refused:
            _downgrade(db)
        assert str(refused.value).startswith("1 visit note exists")
        assert "\n" not in str(refused.value)
        assert db.schema_revision() == "0006"
        assert _tables(db) >= set(NEW_TABLES)
        assert _rows(db) == before
        assert r.get_evaluation(db, visit.id).kind == "visit"
    finally:
        db.close()
