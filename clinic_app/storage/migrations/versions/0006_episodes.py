"""Episodes of care, visit notes, goals and plans of care (issue 15).

- ``episode``: one problem of one patient from referral to discharge. Every evaluation belongs to
  one (``evaluation.episode_id``, NOT NULL, of the same patient: a trigger checks).
- ``evaluation.kind`` also takes ``visit``: a visit note is an evaluation row, so it has the
  evaluations' autosave, conflict handling, signature, seal, addenda, audit and locks.
- ``goal`` (+ ``goal_status``, its append-only history) and ``plan_of_care`` (append-only: the
  latest row is the plan in force).

When the audit trail already holds events of episodes, plans, goals or goal statuses (their
tables were dropped by a downgrade to 0005 and are made again now), one event marks the moment:
``verify`` reads the events before it as those of rows that went with their tables, and reports
a row named by a later event and missing as deleted outside the app.

Existing evaluations are placed in one episode per patient: it starts on the first evaluation,
takes the involved side of the first evaluation that records one and the patient's referring
provider, and ends on a discharge when a signed discharge is the patient's last evaluation.

SQLite cannot change a CHECK constraint or make a column NOT NULL with ALTER TABLE, and a table
rebuild would drop the lock triggers and trip the addenda's foreign key inside the upgrade's
transaction. So the evaluation table's stored definition is edited in place (``writable_schema``,
the route SQLite documents for constraint changes that leave the stored rows as they are: a
wider CHECK, NOT NULL on a column every row fills, a foreign key every row satisfies).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from clinic_app.storage._types import JSONType, UTCDateTime, utcnow

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_v4 = importlib.import_module("clinic_app.storage.migrations.versions.0004_seal_and_lock")
_v5 = importlib.import_module("clinic_app.storage.migrations.versions.0005_accounts")

OLD_KINDS = "('initial', 're_evaluation', 'discharge')"
NEW_KINDS = "('initial', 're_evaluation', 'discharge', 'visit')"
SIDES = "('left', 'right', 'both')"
STATUSES = "('not_started', 'progressing', 'met', 'not_met', 'discontinued')"
WRONG_PATIENT = "an evaluation belongs to an episode of its own patient"
APPEND_ONLY = {
    "plan_of_care": "a plan of care is never changed: save a new version",
    "goal_status": "goal status history is append-only",
}
NO_GOAL_DELETE = "goals are never deleted: discontinue the goal instead"
BY = "migration 0006"
# The event that marks the tables made again (clinic_app.storage.kept_rows reads it).
REMADE = ("schema", 6, "episode tables made")  # entity, entity_id, action
_RECORD_ENTITIES = ("episode", "plan_of_care", "goal", "goal_status")
_AUDIT_LOCK = 1_300_013  # clinic_app.storage.sealing's: serialises writers of the chain


def _tables() -> None:
    op.create_table(
        "episode",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("patient_id", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("involved_side", sa.String(10), nullable=True),
        sa.Column("referral_source", sa.String(200), nullable=False),
        sa.Column("referral_reason", sa.Text, nullable=False),
        sa.Column("referral_date", sa.Date, nullable=True),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_episode"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name="fk_episode_patient_id_patient"
        ),
        sa.CheckConstraint(
            f"involved_side IS NULL OR involved_side IN {SIDES}", name="ck_episode_involved_side"
        ),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ck_episode_dates"),
        sa.CheckConstraint("version >= 1", name="ck_episode_version"),
    )
    op.create_index("ix_episode_patient", "episode", ["patient_id", "start_date", "id"])
    op.create_table(
        "plan_of_care",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("episode_id", sa.Integer, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("visits_per_week", sa.Integer, nullable=True),
        sa.Column("duration_weeks", sa.Integer, nullable=True),
        sa.Column("planned_visits", sa.Integer, nullable=True),
        sa.Column("interventions", sa.Text, nullable=False),
        sa.Column("progress_every_visits", sa.Integer, nullable=False),
        sa.Column("progress_every_days", sa.Integer, nullable=False),
        sa.Column("recert_days", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plan_of_care"),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name="fk_plan_of_care_episode_id_episode"
        ),
        sa.CheckConstraint(
            "visits_per_week IS NULL OR visits_per_week BETWEEN 1 AND 14", name="ck_poc_freq"
        ),
        sa.CheckConstraint(
            "duration_weeks IS NULL OR duration_weeks BETWEEN 1 AND 104", name="ck_poc_weeks"
        ),
        sa.CheckConstraint(
            "planned_visits IS NULL OR planned_visits BETWEEN 1 AND 400", name="ck_poc_visits"
        ),
        sa.CheckConstraint("progress_every_visits BETWEEN 1 AND 100", name="ck_poc_pv"),
        sa.CheckConstraint("progress_every_days BETWEEN 1 AND 365", name="ck_poc_pd"),
        sa.CheckConstraint("recert_days BETWEEN 1 AND 365", name="ck_poc_recert"),
    )
    op.create_index("ix_plan_of_care_episode", "plan_of_care", ["episode_id", "id"])
    op.create_table(
        "goal",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("episode_id", sa.Integer, nullable=False),
        sa.Column("term", sa.String(10), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("target", JSONType, nullable=True),
        sa.Column("target_date", sa.Date, nullable=True),
        sa.Column("from_factor", sa.String(10), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_goal"),
        sa.ForeignKeyConstraint(["episode_id"], ["episode.id"], name="fk_goal_episode_id_episode"),
        sa.CheckConstraint("term IN ('short', 'long')", name="ck_goal_term"),
        sa.CheckConstraint(f"status IN {STATUSES}", name="ck_goal_status"),
        sa.CheckConstraint("version >= 1", name="ck_goal_version"),
    )
    op.create_index("ix_goal_episode", "goal", ["episode_id", "id"])
    op.create_table(
        "goal_status",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("goal_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("suggested", sa.String(20), nullable=True),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("set_by", sa.String(100), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_goal_status"),
        sa.ForeignKeyConstraint(["goal_id"], ["goal.id"], name="fk_goal_status_goal_id_goal"),
        sa.CheckConstraint(f"status IN {STATUSES}", name="ck_goal_status_status"),
        sa.CheckConstraint(
            f"suggested IS NULL OR suggested IN {STATUSES}", name="ck_goal_status_suggested"
        ),
    )
    op.create_index("ix_goal_status_goal", "goal_status", ["goal_id", "id"])


def _title(side: str | None) -> str:
    return {
        "left": "Left posterior thigh",
        "right": "Right posterior thigh",
        "both": "Posterior thigh, both sides",
    }.get(side or "", "Posterior thigh")


def _backfill(bind: sa.Connection) -> None:
    """One episode per patient with evaluations; every evaluation placed in it."""
    ev = sa.table(
        "evaluation",
        sa.column("id", sa.Integer),
        sa.column("patient_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("eval_date", sa.Date),
        sa.column("involved_side", sa.String),
        sa.column("episode_id", sa.Integer),
        sa.column("status", sa.String),
    )
    patient = sa.table(
        "patient", sa.column("id", sa.Integer), sa.column("referring_provider", sa.String)
    )
    episode = sa.table(
        "episode",
        *(
            sa.column(c)
            for c in (
                "patient_id",
                "title",
                "involved_side",
                "referral_source",
                "referral_reason",
                "referral_date",
                "start_date",
                "end_date",
                "version",
                "created_by",
                "created_at",
                "updated_by",
                "updated_at",
            )
        ),
        sa.column("id", sa.Integer),
    )
    rows = bind.execute(
        sa.select(
            ev.c.id, ev.c.patient_id, ev.c.kind, ev.c.eval_date, ev.c.involved_side, ev.c.status
        ).order_by(
            ev.c.patient_id, ev.c.eval_date, ev.c.id
        )
    ).all()
    by_patient: dict[int, list[Any]] = {}
    for row in rows:
        by_patient.setdefault(row.patient_id, []).append(row)
    referrers = dict(bind.execute(sa.select(patient.c.id, patient.c.referring_provider)).all())
    now = utcnow()
    for patient_id, evaluations in by_patient.items():
        side = next((e.involved_side for e in evaluations if e.involved_side), None)
        last = evaluations[-1]
        result = bind.execute(
            episode.insert()
            .values(
                patient_id=patient_id,
                title=_title(side),
                involved_side=side,
                referral_source=(referrers.get(patient_id) or "")[:200],
                referral_reason="",
                referral_date=None,
                start_date=evaluations[0].eval_date,
                end_date=(
                    last.eval_date
                    if last.kind == "discharge" and last.status == "signed"
                    else None
                ),
                version=1,
                created_by=BY,
                created_at=now,
                updated_by=BY,
                updated_at=now,
            )
            .returning(episode.c.id)
        )
        episode_id = result.scalar_one()
        bind.execute(ev.update().where(ev.c.patient_id == patient_id).values(episode_id=episode_id))


# -- SQLite ------------------------------------------------------------------------------------

_EVALUATION_LOCKS = [n for n in _v4.SQLITE_TRIGGERS if n.startswith("evaluation_")]


def _sqlite_drop_locks() -> None:
    for name in _EVALUATION_LOCKS:
        op.execute(f"DROP TRIGGER {name}")
    for name in _v5.SQLITE_PREPARED_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")


def _sqlite_create_locks() -> None:
    for name in _EVALUATION_LOCKS:
        op.execute(f"CREATE TRIGGER {name} {_v4.SQLITE_TRIGGERS[name]}")
    for name, body in _v5.SQLITE_PREPARED_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def _raise(message: str) -> str:
    return f"BEGIN SELECT RAISE(ABORT, '{message}'); END"


_SAME_PATIENT = (
    "WHEN NOT EXISTS (SELECT 1 FROM episode WHERE id = NEW.episode_id "
    f"AND patient_id = NEW.patient_id) {_raise(WRONG_PATIENT)}"
)
SQLITE_TRIGGERS: dict[str, str] = {
    "evaluation_episode_insert": f"BEFORE INSERT ON evaluation FOR EACH ROW {_SAME_PATIENT}",
    "evaluation_episode_update": "BEFORE UPDATE OF episode_id, patient_id ON evaluation "
    f"FOR EACH ROW {_SAME_PATIENT}",
    "goal_no_delete": f"BEFORE DELETE ON goal FOR EACH ROW {_raise(NO_GOAL_DELETE)}",
    "goal_no_replace": "BEFORE INSERT ON goal FOR EACH ROW "
    f"WHEN EXISTS (SELECT 1 FROM goal WHERE id = NEW.id) {_raise(NO_GOAL_DELETE)}",
}
for _table, _message in APPEND_ONLY.items():
    SQLITE_TRIGGERS[f"{_table}_no_update"] = (
        f"BEFORE UPDATE ON {_table} FOR EACH ROW {_raise(_message)}"
    )
    SQLITE_TRIGGERS[f"{_table}_no_delete"] = (
        f"BEFORE DELETE ON {_table} FOR EACH ROW {_raise(_message)}"
    )
    SQLITE_TRIGGERS[f"{_table}_no_replace"] = (
        f"BEFORE INSERT ON {_table} FOR EACH ROW "
        f"WHEN EXISTS (SELECT 1 FROM {_table} WHERE id = NEW.id) {_raise(_message)}"
    )

_FK = "CONSTRAINT fk_evaluation_episode_id_episode FOREIGN KEY(episode_id) REFERENCES episode (id)"


def _edit_sqlite_definition(bind: sa.Connection, edit: Any) -> None:
    """Rewrite the evaluation table's stored CREATE TABLE text with ``edit`` (see the module
    docstring), then make every connection read the schema again."""
    raw = bind.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        (sql,) = cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'evaluation'"
        ).fetchone()
        new = edit(sql)
        (version,) = cursor.execute("PRAGMA schema_version").fetchone()
        cursor.execute("PRAGMA writable_schema=ON")
        try:
            cursor.execute(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'evaluation'",
                (new,),
            )
            cursor.execute(f"PRAGMA schema_version={int(version) + 1}")
        finally:
            cursor.execute("PRAGMA writable_schema=OFF")
        problems = cursor.execute("PRAGMA quick_check(evaluation)").fetchall()
        if problems != [("ok",)]:
            raise RuntimeError(f"evaluation table check failed after the edit: {problems[:3]}")
    finally:
        cursor.close()


def _to_0006(sql: str) -> str:
    if OLD_KINDS not in sql:
        raise RuntimeError("evaluation.kind's check is not the one revision 0001 made")
    sql = sql.replace(OLD_KINDS, NEW_KINDS, 1)
    sql, n = re.subn(r"\bepisode_id INTEGER\b(?! NOT NULL)", "episode_id INTEGER NOT NULL", sql, 1)
    if n != 1:
        raise RuntimeError("evaluation.episode_id not found in the table definition")
    end = sql.rstrip().rfind(")")
    return f"{sql[:end].rstrip()}, \n\t{_FK}\n)"


def _to_0005(sql: str) -> str:
    sql = sql.replace(NEW_KINDS, OLD_KINDS, 1)
    sql = sql.replace("episode_id INTEGER NOT NULL", "episode_id INTEGER", 1)
    return re.sub(r",\s*" + re.escape(_FK), "", sql, count=1)


def _sqlite_upgrade(bind: sa.Connection) -> None:
    op.execute("ALTER TABLE evaluation ADD COLUMN episode_id INTEGER")
    _sqlite_drop_locks()
    _backfill(bind)
    _sqlite_create_locks()
    _edit_sqlite_definition(bind, _to_0006)
    foreign = bind.exec_driver_sql("PRAGMA foreign_key_check(evaluation)").fetchall()
    if foreign:
        raise RuntimeError(f"evaluations without their episode: {foreign[:3]}")
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def _sqlite_downgrade(bind: sa.Connection) -> None:
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    _edit_sqlite_definition(bind, _to_0005)
    op.drop_index("ix_evaluation_episode", table_name="evaluation")
    # DROP COLUMN rewrites the table; 0004/0005's triggers do not name the column.
    op.execute("ALTER TABLE evaluation DROP COLUMN episode_id")


# -- PostgreSQL --------------------------------------------------------------------------------


def _pg_kind_check(bind: sa.Connection) -> str:
    names = [
        c["name"]
        for c in sa.inspect(bind).get_check_constraints("evaluation")
        if "kind" in (c.get("sqltext") or "") and "discharge" in (c.get("sqltext") or "")
    ]
    if len(names) != 1:
        raise RuntimeError(f"cannot tell evaluation.kind's check among {names}")
    return str(names[0])


def _pg_upgrade(bind: sa.Connection) -> None:
    op.add_column("evaluation", sa.Column("episode_id", sa.Integer, nullable=True))
    op.execute("ALTER TABLE evaluation DISABLE TRIGGER USER")  # the locks of signed rows
    _backfill(bind)
    op.execute("ALTER TABLE evaluation ENABLE TRIGGER USER")
    op.alter_column("evaluation", "episode_id", nullable=False)
    op.create_foreign_key(
        "fk_evaluation_episode_id_episode", "evaluation", "episode", ["episode_id"], ["id"]
    )
    check = _pg_kind_check(bind)
    op.execute(f'ALTER TABLE evaluation DROP CONSTRAINT "{check}"')
    op.execute(f'ALTER TABLE evaluation ADD CONSTRAINT "{check}" CHECK (kind IN {NEW_KINDS})')
    op.execute(
        "CREATE FUNCTION clinic_same_patient_episode() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF NOT EXISTS (SELECT 1 FROM episode WHERE id = NEW.episode_id "
        "AND patient_id = NEW.patient_id) THEN RAISE EXCEPTION '%', TG_ARGV[0] "
        "USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER evaluation_episode_patient BEFORE INSERT OR UPDATE OF episode_id, "
        "patient_id ON evaluation FOR EACH ROW "
        f"EXECUTE FUNCTION clinic_same_patient_episode('{WRONG_PATIENT}')"
    )
    op.execute(
        "CREATE TRIGGER goal_no_delete BEFORE DELETE ON goal FOR EACH ROW "
        f"EXECUTE FUNCTION clinic_refuse_write('{NO_GOAL_DELETE}')"
    )
    for table, message in APPEND_ONLY.items():
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION clinic_refuse_change('{message}')"
        )
    for table in ("goal", *APPEND_ONLY):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION clinic_refuse_write('{table} cannot be emptied')"
        )


def _pg_downgrade(bind: sa.Connection) -> None:
    for table in ("goal", *APPEND_ONLY):
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP TRIGGER goal_no_delete ON goal")
    op.execute("DROP TRIGGER evaluation_episode_patient ON evaluation")
    op.execute("DROP FUNCTION clinic_same_patient_episode()")
    check = _pg_kind_check(bind)
    op.execute(f'ALTER TABLE evaluation DROP CONSTRAINT "{check}"')
    op.execute(f'ALTER TABLE evaluation ADD CONSTRAINT "{check}" CHECK (kind IN {OLD_KINDS})')
    op.drop_index("ix_evaluation_episode", table_name="evaluation")
    op.drop_constraint("fk_evaluation_episode_id_episode", "evaluation", type_="foreignkey")
    op.drop_column("evaluation", "episode_id")


def _mark_tables_remade(bind: Any) -> None:
    """Chain the :data:`REMADE` event if older events name rows of these (new, empty) tables."""
    audit = _v4.audit_table()
    older = bind.execute(
        sa.select(audit.c.id).where(audit.c.entity.in_(_RECORD_ENTITIES)).limit(1)
    ).first()
    if older is None:
        return
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text(f"SELECT pg_advisory_xact_lock({_AUDIT_LOCK})"))
    prev = bind.execute(sa.select(audit.c.hash).order_by(audit.c.id.desc()).limit(1)).scalar()
    prev = prev or _v4.GENESIS
    at = utcnow()
    entity, entity_id, action = REMADE
    bind.execute(
        audit.insert().values(
            at=at,
            actor=BY,
            entity=entity,
            entity_id=entity_id,
            action=action,
            before_digest=None,
            after_digest=None,
            prev_hash=prev,
            hash=_v4.audit_hash(at, BY, entity, entity_id, action, None, None, prev),
        )
    )


def upgrade() -> None:
    _tables()
    bind = op.get_bind()
    _mark_tables_remade(bind)
    if bind.dialect.name == "sqlite":
        _sqlite_upgrade(bind)
    else:
        _pg_upgrade(bind)
    op.create_index("ix_evaluation_episode", "evaluation", ["episode_id", "eval_date", "id"])


def downgrade() -> None:
    bind = op.get_bind()
    visits = bind.exec_driver_sql("SELECT count(*) FROM evaluation WHERE kind = 'visit'").scalar()
    if visits:
        raise RuntimeError(
            f"{visits} visit note{'' if visits == 1 else 's'} exist{'s' if visits == 1 else ''}; "
            "revision 0005 cannot hold visit notes (downgrade refused)"
        )
    if bind.dialect.name == "sqlite":
        _sqlite_downgrade(bind)
    else:
        _pg_downgrade(bind)
    for table in ("goal_status", "goal", "plan_of_care", "episode"):
        op.drop_table(table)
