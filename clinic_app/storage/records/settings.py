"""Clinic-wide settings kept in the database (0005), so they belong to the data folder.

Settings that describe the clinic (how long the idle lock waits, how many backups to keep...)
live here, in the ``setting`` table: every workstation of a clinic server sees the same value and
two data folders never share one. What only concerns one screen of one workstation (window
layout) stays in QSettings, keyed by the data folder (``ui/workstation.py``).

Each setting has a declared default and a check: a stored value that fails the check (written by
another tool, or by an older app) is ignored with a log line and the default is used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clinic_app.storage import models as m
from clinic_app.storage._types import utcnow
from clinic_app.storage.errors import StorageError
from clinic_app.storage.records._common import digest, require_user, write_audit

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from clinic_app.storage.database import Database

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: Any
    label: str  # what a message calls it
    check: Callable[[Any], str | None]  # None when the value is acceptable, else the problem


def _whole_number(low: int, high: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        if not low <= value <= high:
            return f"must be between {low} and {high}"
        return None

    return check


def _yes_no(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _mrn_pattern(value: Any) -> str | None:
    from clinic_app.storage.records.mrn import pattern_problem

    return pattern_problem(value)


SETTINGS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec("idle_lock_minutes", 5, "idle lock (minutes)", _whole_number(1, 240)),
        # Plan-of-care defaults (domain §10, the US Medicare convention; clinic-adjustable): a
        # progress report every 10 visits or 30 days, whichever comes first; recertification of
        # the plan at 90 days.
        SettingSpec(
            "progress_every_visits", 10, "progress report every (visits)", _whole_number(1, 100)
        ),
        SettingSpec(
            "progress_every_days", 30, "progress report every (days)", _whole_number(1, 365)
        ),
        SettingSpec("recert_days", 90, "recertification after (days)", _whole_number(1, 365)),
        # Automatic MRNs (records/mrn.py): empty means they are typed; e.g. "P{year}-{n:05}".
        SettingSpec("mrn_pattern", "", "MRN pattern", _mrn_pattern),
        # No "allow a clinic server without TLS" here: it must be known before connecting, so it
        # is the workstation's CLINIC_APP_ALLOW_PLAIN_SERVER=1 (storage/database.py).
    )
}


def _spec(key: str) -> SettingSpec:
    try:
        return SETTINGS[key]
    except KeyError:
        raise StorageError(f"unknown setting: {key!r}") from None


def _position(key: str) -> int:
    """The audit events' ``entity_id`` of a setting (settings have no integer id)."""
    return list(SETTINGS).index(key) + 1


def get_setting(db: Database, key: str) -> Any:
    """The stored value of ``key``, or its default when unset or not acceptable."""
    spec = _spec(key)
    with db.reading() as s:
        row = s.get(m.Setting, key)
        if row is None:
            return spec.default
        problem = spec.check(row.value)
        if problem is not None:
            logger.warning("setting %s ignored (%s): using the default", key, problem)
            return spec.default
        return row.value


def all_settings(db: Database) -> dict[str, Any]:
    """Every declared setting with its current value."""
    return {key: get_setting(db, key) for key in SETTINGS}


def save_setting(db: Database, key: str, value: Any, *, user: str) -> Any:
    """Store ``value`` for ``key`` (audited). Raises StorageError naming the setting."""
    user = require_user(user)
    spec = _spec(key)
    problem = spec.check(value)
    if problem is not None:
        raise StorageError(f"{spec.label}: {value!r} {problem}")
    with db.writing() as s:
        row = s.get(m.Setting, key)
        before = None if row is None else digest({"key": key, "value": row.value})
        if row is None:
            row = m.Setting(key=key)
            s.add(row)
        row.value = value
        row.updated_by = user
        row.updated_at = utcnow()
        s.flush()
        write_audit(
            s,
            user,
            "setting",
            _position(key),
            "create" if before is None else "update",
            before,
            digest({"key": key, "value": value}),
        )
    logger.info("setting %s changed", key)
    return value


def setting_problems(session: Session) -> list[str]:
    """Settings that no longer match the audit trail (``verify``, one line each): every save is
    an event whose after digest is the setting as saved, so a value changed, deleted or written
    behind the app's back (a plain UPDATE, DELETE or INSERT by the owner) is named. Keys this app
    does not declare are never read (:func:`get_setting`) and are left alone."""
    from sqlalchemy import select

    saved: dict[int, str | None] = {}
    events = session.execute(
        select(m.AuditEvent.entity_id, m.AuditEvent.after_digest)
        .where(m.AuditEvent.entity == "setting")
        .order_by(m.AuditEvent.id)
    )
    for position, after in events:
        saved[int(position)] = after
    stored = {str(k): v for k, v in session.execute(select(m.Setting.key, m.Setting.value))}
    problems = []
    for key in SETTINGS:
        expected = saved.get(_position(key))
        if key not in stored:
            if expected is not None:
                problems.append(f"setting {key} was deleted outside the app")
        elif expected is None:
            problems.append(f"setting {key} is not in the audit trail")
        elif digest({"key": key, "value": stored[key]}) != expected:
            problems.append(f"setting {key} was changed outside the app")
    return problems
