"""Clinic-wide settings stored in the database: defaults, checks, audit, hostile stored values."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import StorageError


def test_default_until_saved_then_the_saved_value(db: Database) -> None:
    assert r.get_setting(db, "idle_lock_minutes") == 5
    r.save_setting(db, "idle_lock_minutes", 12, user="admin")
    assert r.get_setting(db, "idle_lock_minutes") == 12
    assert r.all_settings(db)["idle_lock_minutes"] == 12
    actions = [e.action for e in r.audit_events(db, entity="setting", entity_id=1)]
    assert actions == ["create"]


@pytest.mark.parametrize("value", [0, 241, -5, "5", 5.5, True, None, [5]])
def test_bad_values_are_refused_naming_the_setting_and_nothing_changes(
    db: Database, value: object
) -> None:
    r.save_setting(db, "idle_lock_minutes", 9, user="admin")
    with pytest.raises(StorageError, match=r"^idle lock \(minutes\): "):
        r.save_setting(db, "idle_lock_minutes", value, user="admin")
    assert r.get_setting(db, "idle_lock_minutes") == 9


def test_unknown_setting_is_refused(db: Database) -> None:
    with pytest.raises(StorageError, match="unknown setting"):
        r.get_setting(db, "no_such_thing")
    with pytest.raises(StorageError, match="unknown setting"):
        r.save_setting(db, "no_such_thing", 1, user="admin")


def test_a_value_written_by_another_tool_that_fails_the_check_falls_back_to_the_default(
    db: Database,
) -> None:
    r.save_setting(db, "idle_lock_minutes", 9, user="admin")
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE setting SET value = :v WHERE key = 'idle_lock_minutes'"),
            {"v": '"forever"'},
        )
    assert r.get_setting(db, "idle_lock_minutes") == 5
