"""The rows signed records hang on are kept; a form snapshot is not replaced by its content key.

An outside test (``tests/storage/test_locks_every_route.py``) found routes around the locks of
0004 and 0006 on SQLite with another tool's defaults (foreign keys and ``recursive_triggers``
off), and one on PostgreSQL:

- ``form_snapshot``: ``INSERT OR REPLACE`` of a row with a new id but the same (form, version,
  content hash) deletes the old snapshot without firing its DELETE lock; the id then is free for
  a changed snapshot. The insert rule now refuses the content key too (as 0007 does for the
  library's natural keys).
- ``episode`` and ``patient``: with foreign keys off, the episode or patient of signed records
  could be deleted, renumbered or replaced (INSERT OR REPLACE). An episode could be moved to
  another patient (both backends: the foreign key is satisfied), leaving its signed evaluations
  in someone else's episode. Now refused while evaluations, goals or plans name the episode
  (evaluations or episodes name the patient). Rows nothing names yet stay editable.
- ``goal``: renumbering a goal orphans its status history, and moving it to another episode
  rewrites which episode it was set in; both refused (goals are never deleted since 0006).

On PostgreSQL foreign keys always hold, so only the moves need triggers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_v4 = importlib.import_module("clinic_app.storage.migrations.versions.0004_seal_and_lock")

EPISODE_KEPT = "an episode with records is never deleted, renumbered or moved to another patient"
PATIENT_KEPT = "a patient with records is never deleted or renumbered"
# Worded as SQLite's own message: the app maps a duplicate MRN by it (records.patients).
PATIENT_MRN = "UNIQUE constraint failed: patient.mrn (a patient with records is never replaced)"
GOAL_KEPT = "a goal keeps its number and its episode"
SNAPSHOT = _v4.MESSAGES["form_snapshot"]


def _raise(message: str) -> str:
    return f"BEGIN SELECT RAISE(ABORT, '{message}'); END"


def _episode_has_records(ref: str) -> str:
    return " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} WHERE episode_id = {ref})"
        for table in ("evaluation", "goal", "plan_of_care")
    )


def _patient_has_records(ref: str) -> str:
    return " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} WHERE patient_id = {ref})"
        for table in ("evaluation", "episode")
    )


SQLITE_TRIGGERS: dict[str, str] = {
    "episode_kept_no_delete": "BEFORE DELETE ON episode FOR EACH ROW "
    f"WHEN {_episode_has_records('OLD.id')} {_raise(EPISODE_KEPT)}",
    "episode_kept_no_move": "BEFORE UPDATE OF id, patient_id ON episode FOR EACH ROW "
    "WHEN (NEW.id IS NOT OLD.id OR NEW.patient_id IS NOT OLD.patient_id) "
    f"AND ({_episode_has_records('OLD.id')}) {_raise(EPISODE_KEPT)}",
    "episode_kept_no_replace": "BEFORE INSERT ON episode FOR EACH ROW "
    f"WHEN EXISTS (SELECT 1 FROM episode WHERE id = NEW.id) {_raise(EPISODE_KEPT)}",
    "patient_kept_no_delete": "BEFORE DELETE ON patient FOR EACH ROW "
    f"WHEN {_patient_has_records('OLD.id')} {_raise(PATIENT_KEPT)}",
    "patient_kept_no_renumber": "BEFORE UPDATE OF id ON patient FOR EACH ROW "
    f"WHEN NEW.id IS NOT OLD.id AND ({_patient_has_records('OLD.id')}) {_raise(PATIENT_KEPT)}",
    "patient_kept_no_replace": "BEFORE INSERT ON patient FOR EACH ROW "
    f"WHEN EXISTS (SELECT 1 FROM patient WHERE id = NEW.id) {_raise(PATIENT_KEPT)}",
    "patient_kept_no_mrn_replace": "BEFORE INSERT ON patient FOR EACH ROW "
    "WHEN EXISTS (SELECT 1 FROM patient p WHERE p.mrn = NEW.mrn "
    f"AND ({_patient_has_records('p.id')})) {_raise(PATIENT_MRN)}",
    "goal_kept_no_move": "BEFORE UPDATE OF id, episode_id ON goal FOR EACH ROW "
    "WHEN NEW.id IS NOT OLD.id OR NEW.episode_id IS NOT OLD.episode_id "
    f"{_raise(GOAL_KEPT)}",
}
# 0004's rule, widened to the snapshot's other unique key.
SNAPSHOT_NO_REPLACE = (
    "BEFORE INSERT ON form_snapshot FOR EACH ROW WHEN EXISTS (SELECT 1 FROM form_snapshot "
    "WHERE id = NEW.id OR (form_id = NEW.form_id AND version = NEW.version "
    f"AND content_hash = NEW.content_hash)) {_raise(SNAPSHOT)}"
)


def _sqlite_upgrade() -> None:
    op.execute("DROP TRIGGER form_snapshot_no_replace")
    op.execute(f"CREATE TRIGGER form_snapshot_no_replace {SNAPSHOT_NO_REPLACE}")
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def _sqlite_downgrade() -> None:
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TRIGGER form_snapshot_no_replace")
    body = _v4.SQLITE_TRIGGERS["form_snapshot_no_replace"]
    op.execute(f"CREATE TRIGGER form_snapshot_no_replace {body}")


def _pg_upgrade() -> None:
    op.execute(
        "CREATE FUNCTION clinic_episode_kept() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF EXISTS (SELECT 1 FROM evaluation WHERE episode_id = OLD.id) "
        "OR EXISTS (SELECT 1 FROM goal WHERE episode_id = OLD.id) "
        "OR EXISTS (SELECT 1 FROM plan_of_care WHERE episode_id = OLD.id) "
        "THEN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation'; "
        "END IF; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER episode_kept_no_move BEFORE UPDATE OF id, patient_id ON episode "
        "FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id "
        "OR NEW.patient_id IS DISTINCT FROM OLD.patient_id) "
        f"EXECUTE FUNCTION clinic_episode_kept('{EPISODE_KEPT}')"
    )
    op.execute(
        "CREATE TRIGGER goal_kept_no_move BEFORE UPDATE OF id, episode_id ON goal "
        "FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id "
        "OR NEW.episode_id IS DISTINCT FROM OLD.episode_id) "
        f"EXECUTE FUNCTION clinic_refuse_write('{GOAL_KEPT}')"
    )


def _pg_downgrade() -> None:
    op.execute("DROP TRIGGER goal_kept_no_move ON goal")
    op.execute("DROP TRIGGER episode_kept_no_move ON episode")
    op.execute("DROP FUNCTION clinic_episode_kept()")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
    else:
        _pg_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_downgrade()
    else:
        _pg_downgrade()
