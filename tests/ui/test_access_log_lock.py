"""The access log's screen under the idle lock: its patient names are hidden while locked, back
for the same clinician, gone for the next one; the lock and the sign-ins are in its trail."""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QApplication

from clinic_app.storage import records
from clinic_app.ui.access_log import AccessLogDialog
from tests.ui.conftest import OTHER_PASSWORD, PASSWORD
from tests.ui.helpers import settle
from tests.ui.test_idle_lock import locking_window, patient, sign_in, visible_text

__all__ = ["locking_window", "patient"]  # the fixtures, shared with test_idle_lock


def actions_of(db) -> list[tuple[str, str]]:
    return [
        (e.actor, e.action)
        for e in reversed(records.access_log(db, actions=records.ACCESS_ACTIONS))
    ]


def _dialog(window) -> AccessLogDialog:
    window.actions_["access_log"].trigger()
    dialog = window.findChild(AccessLogDialog)
    assert dialog is not None
    return dialog


def test_the_access_log_is_hidden_while_locked(
    qtbot, db, locking_window, patient, other_account
) -> None:
    window = locking_window
    window.locker.watcher.set_interval_ms(60_000)
    window.patients.model.reload()
    window.patients.select_patient(patient.id)
    settle(qtbot, window)
    dialog = _dialog(window)
    assert "Ada Lovelace" in " ".join(visible_text(window))
    window.actions_["lock"].trigger()
    assert window.locker.is_locked
    assert not dialog.isVisible()
    assert "Lovelace" not in " ".join(visible_text(window))
    sign_in(window, "dana", PASSWORD)
    settle(qtbot, window)
    assert dialog.isVisible()  # the same clinician: back as it was

    window.actions_["lock"].trigger()
    sign_in(window, "lee", OTHER_PASSWORD)  # someone else: the admin's screen is not theirs
    settle(qtbot, window)
    assert not window.locker.is_locked
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    assert not window.admin_menu.menuAction().isVisible()
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, AccessLogDialog)]
    assert actions_of(db) == [
        ("dana", "view"),
        ("dana", "lock"),
        ("dana", "unlock"),
        ("dana", "lock"),
        ("lee", "sign_in"),
        ("dana", "sign_out"),
    ]
