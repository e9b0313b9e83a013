"""A seal covers the signed row's bookkeeping too (session 14), not only what its report prints.

Before, someone who could write the database (the lock triggers dropped on SQLite, the owner's
``DISABLE TRIGGER`` on PostgreSQL) could move a signed evaluation to another episode, or credit
it to another author or date, and ``verify`` stayed clean: those columns were outside the seal.
Each attack below changes one of ``sealing.ROW_FIELDS`` and nothing else, for a seal made with a
clinician's own key, a co-signed one and one made headless with the installation key.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from clinic_app.core.form import Form
from clinic_app.storage import records as r
from clinic_app.storage import sealing
from clinic_app.storage.database import open_database
from tests.data import make_v0005_db
from tests.storage import test_signing_tampering as accounts_clinic
from tests.storage import test_tampering as headless_clinic

MISSING = "trigger evaluation_signed_no_update (on evaluation) is missing"
# One new value a column, as another tool would write it; prepared_* were set (co-signed) or NULL.
FORGED = {
    "episode_id": "(SELECT max(id) FROM episode)",  # another episode of the same patient
    "version": "version + 7",
    "created_by": "'mallory'",
    "created_at": "'2020-01-01 09:00:00.000000'",
    "updated_by": "'mallory'",
    "updated_at": "'2020-01-01 09:00:00.000000'",
    "prepared_by_id": "CASE WHEN prepared_by_id IS NULL THEN 4242 ELSE NULL END",
    "prepared_by": "CASE WHEN prepared_by IS NULL THEN 'Sam Student' ELSE NULL END",
    "prepared_at": "CASE WHEN prepared_at IS NULL THEN '2020-01-01 09:00:00.000000' ELSE NULL END",
}


def test_every_bookkeeping_column_is_attacked() -> None:
    assert set(FORGED) == set(sealing.ROW_FIELDS)
    assert not set(sealing.ROW_FIELDS) & set(sealing.SEALED_FIELDS)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from clinic_app.storage import accounts

    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


def _clinic(which: str, tmp_path: Path, form: Form) -> tuple[Path, int]:
    """A clinic signed the ``which`` way, in this test's data folder (its keys trusted here)."""
    if which == "installation key":
        headless = headless_clinic.make_clinic(tmp_path / "headless.db", form)
        return headless.path, headless.signed
    signed = accounts_clinic.make_clinic(tmp_path / "accounts.db", form)
    return signed.path, signed.cosigned if which == "co-signed" else signed.signed


def _problems(path: Path, evaluation_id: int) -> tuple[list[str], list[str]]:
    db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
    try:
        found = r.verify_database(db)
    finally:
        db.close()
    return (
        [b.problem for b in found if b.evaluation_id == evaluation_id],
        [b.line() for b in found if b.evaluation_id != evaluation_id],
    )


def _behind_the_lock(path: Path, evaluation: int, assignments: str, column: str = "id") -> object:
    """Another tool on the file drops the signed row's lock (if still there) and runs
    ``UPDATE evaluation SET <assignments>`` on the signed row (none when empty); ``column``'s
    value before."""
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("DROP TRIGGER IF EXISTS evaluation_signed_no_update")
        where = (evaluation,)
        (old,) = raw.execute(f"SELECT {column} FROM evaluation WHERE id = ?", where).fetchone()
        if assignments:
            raw.execute(f"UPDATE evaluation SET {assignments} WHERE id = ?", where)
    finally:
        raw.close()
    return old


@pytest.mark.parametrize("which", ["own key", "co-signed", "installation key"])
def test_the_seal_carries_the_row_as_it_is_once_signed(
    which: str, tmp_path: Path, form: Form
) -> None:
    path, evaluation = _clinic(which, tmp_path, form)
    db = open_database(f"sqlite:///{path}", migrate=False, backup=False)
    try:
        ev = r.get_evaluation(db, evaluation)
    finally:
        db.close()
    assert ev.status == "signed"
    kept = (ev.seal or {})["row"]
    assert kept == {k: sealing.field_digest(getattr(ev, k)) for k in sealing.ROW_FIELDS}
    assert _problems(path, evaluation) == ([], [])


@pytest.mark.parametrize("column", sorted(FORGED))
@pytest.mark.parametrize("which", ["own key", "co-signed", "installation key"])
def test_a_bookkeeping_column_changed_behind_the_lock_is_named(
    which: str, column: str, tmp_path: Path, form: Form
) -> None:
    path, evaluation = _clinic(which, tmp_path, form)
    db = open_database(f"sqlite:///{path}", backup=False)
    try:
        patient = r.get_evaluation(db, evaluation).patient_id
        r.create_episode(db, patient, r.EpisodeInfo("Right calf"), user="x")
    finally:
        db.close()
    old = _behind_the_lock(path, evaluation, f"{column} = {FORGED[column]}", column)
    new = _behind_the_lock(path, evaluation, "", column)
    assert new != old  # the attack changed something
    mine, others = _problems(path, evaluation)
    assert mine == [f"changed after signing: {column}"]
    assert others == [f"schema: {MISSING}"]


def test_two_columns_changed_are_named_in_the_seals_order(tmp_path: Path, form: Form) -> None:
    path, evaluation = _clinic("own key", tmp_path, form)
    _behind_the_lock(path, evaluation, "created_by = 'mallory', kind = 'discharge'")
    assert _problems(path, evaluation)[0] == ["changed after signing: kind, created_by"]


def test_the_row_part_cannot_be_stripped_from_the_seal(tmp_path: Path, form: Form) -> None:
    """Removing ``row`` to pass the seal off as an older one breaks the signature instead."""
    path, evaluation = _clinic("own key", tmp_path, form)
    _behind_the_lock(path, evaluation, "seal = json_remove(seal, '$.row'), created_by = 'mallory'")
    mine, _ = _problems(path, evaluation)
    assert mine == ["its seal or signature was altered (the signature does not match)"]


def test_seals_made_before_the_row_part_still_verify(
    tmp_path: Path, private_data_dir: Path
) -> None:
    """The sample clinic of schema 0006 was signed by older code: no ``row``, still sound."""
    make_v0005_db.install_key(private_data_dir)  # the sample's key is this installation's
    sample = Path(__file__).parents[1] / "data" / "clinic-0006.db"
    copy = tmp_path / "old.db"
    shutil.copyfile(sample, copy)
    db = open_database(f"sqlite:///{copy}", backup=False)
    try:
        signed = [e for p in r.list_patients(db) for e in r.list_evaluations(db, p.id)]
        signed = [e for e in signed if e.status == "signed"]
        assert signed
        for summary in signed:
            seal = r.get_evaluation(db, summary.id).seal or {}
            assert "row" not in seal
        assert r.verify_database(db) == []
    finally:
        db.close()
