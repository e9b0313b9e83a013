"""PostgreSQL roles: an owner that migrates, a workstation role that can only do what the app does.

The role that owns the tables may ``TRUNCATE`` them, ``ALTER TABLE … DISABLE TRIGGER`` and replace
the trigger functions: whoever holds it can rewrite a signed record unnoticed by the database.
So workstations connect as a role that owns nothing and has only these grants:

- ``SELECT`` on every table (the app reads everything it shows);
- ``INSERT, UPDATE`` on the tables whose rows the app edits: clinic, clinician, patient,
  evaluation (drafts and visit notes; the triggers refuse any change to a signed one), setting,
  episode and goal;
- ``INSERT`` only on form_snapshot, addendum, audit_event, plan_of_care, goal_status and the
  exercise library's tables (append-only);
- ``USAGE`` on the id sequences;
- no ``DELETE``, ``TRUNCATE``, ``REFERENCES`` or ``TRIGGER`` anywhere, no ``CREATE`` on the
  schema, and no ownership: no ``ALTER``, no trigger or function changes.

:func:`grant_workstation` is run by the owner after every upgrade (``clinic-app grant ROLE``);
it is idempotent and revokes anything more first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clinic_app.storage.database import Database

EDITED = ("clinic", "clinician", "patient", "evaluation", "setting", "episode", "goal")
APPEND_ONLY = (
    "form_snapshot",
    "addendum",
    "audit_event",
    "plan_of_care",
    "goal_status",
    "library_exercise",
    "library_picture",
    "program_template",
)
READ_ONLY = ("alembic_version",)


def _ident(name: str) -> str:
    if not name or '"' in name or "\x00" in name:
        raise ValueError(f"not a usable role name: {name!r}")
    return '"' + name + '"'


def workstation_grants(role: str) -> list[str]:
    """The SQL that gives ``role`` exactly the workstation's privileges (and nothing more)."""
    who = _ident(role)
    tables = (*EDITED, *APPEND_ONLY, *READ_ONLY)
    return [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {who}",
        f"REVOKE CREATE ON SCHEMA public FROM {who}",
        f"GRANT USAGE ON SCHEMA public TO {who}",
        f"GRANT SELECT ON {', '.join(tables)} TO {who}",
        f"GRANT INSERT, UPDATE ON {', '.join(EDITED)} TO {who}",
        f"GRANT INSERT ON {', '.join(APPEND_ONLY)} TO {who}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {who}",
    ]


def grant_workstation(db: Database, role: str) -> None:
    """Give ``role`` the workstation's grants (run as the owner, on PostgreSQL)."""
    from sqlalchemy import text

    if db.dialect != "postgresql":
        raise ValueError("roles are for a PostgreSQL server; a SQLite file has none")
    with db.engine.begin() as conn:
        for statement in workstation_grants(role):
            conn.execute(text(statement))


@dataclass(frozen=True)
class RoleInfo:
    name: str
    owner: bool
    """True when the role owns the schema's tables (it may migrate, and bypass the locks)."""

    def describe(self) -> str:
        if self.owner:
            return f"{self.name} (owner: migrates; do not let workstations use this role)"
        return f"{self.name} (workstation: no schema, trigger or audit changes)"


def current_role(db: Database) -> RoleInfo | None:
    """Which role this connection runs as, on PostgreSQL; None for SQLite."""
    from sqlalchemy import text

    if db.dialect != "postgresql":
        return None
    with db.connection() as conn:
        name = str(conn.execute(text("SELECT current_user")).scalar_one())
        owner = conn.execute(
            text(
                "SELECT pg_has_role(current_user, tableowner, 'USAGE') FROM pg_tables "
                "WHERE schemaname = current_schema() AND tablename = 'evaluation'"
            )
        ).scalar()
    return RoleInfo(name, bool(owner))
