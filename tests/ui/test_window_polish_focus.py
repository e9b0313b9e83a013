"""Every dialog of the app opens with the keyboard in its first field (issue 18).

Each dialog is opened the way a person opens it (the window's menu actions, or the start-up's own
windows), and the widget holding the focus is compared with the first field of its Tab order. A
name typed straight after *New patient…* must land in *Given name*, not on *Save*.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from clinic_app.storage import records
from clinic_app.storage.records import EpisodeInfo
from clinic_app.ui.app import first_input, install_dialog_focus
from tests.ui.helpers import settle


@pytest.fixture(autouse=True)
def dialog_focus(qapp: QApplication) -> None:
    """As the app installs it at start (``ui/app.py``)."""
    install_dialog_focus(qapp)


def _open_and_look(qtbot: Any, trigger: Any) -> tuple[QDialog, QWidget | None]:
    """Trigger, wait for the new dialog, return it and its focus widget (then close it)."""
    before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
    seen: dict[str, Any] = {}

    def poll() -> bool:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QDialog) and w.isVisible() and id(w) not in before:
                seen["dialog"] = w
                return True
        return False

    trigger()
    qtbot.waitUntil(poll, timeout=5000)
    dialog = seen["dialog"]
    qtbot.waitUntil(lambda: dialog.focusWidget() is not None, timeout=2000)
    return dialog, dialog.focusWidget()


@pytest.fixture
def patient_with_episode(window: Any) -> records.Patient:
    patient = records.create_patient(
        window.db, records.PatientFields("Ella", "Episode", "E-1"), user="t"
    )
    records.create_episode(window.db, patient.id, EpisodeInfo(title="Left thigh"), user="t")
    window.patients.model.reload()
    assert window.patients.select_patient(patient.id)
    return patient


def test_new_patient_opens_with_the_keyboard_in_given_name(qtbot, window) -> None:
    dialog, focus = _open_and_look(qtbot, window.actions_["new_patient"].trigger)
    assert focus is dialog.fields["given_name"].widget
    qtbot.keyClicks(focus, "Wang")
    assert dialog.fields["given_name"].widget.text() == "Wang"
    dialog.reject()


MENU_DIALOGS = (
    "new_patient",
    "settings",
    "change_password",
    "new_episode",
    "edit_episode",
    "plan_of_care",
    "accounts",
    "access_log",
)


@pytest.mark.parametrize("key", MENU_DIALOGS)
def test_every_menu_dialog_opens_in_its_first_field(
    qtbot, window, patient_with_episode, key
) -> None:
    settle(qtbot, window)
    action = window.actions_[key]
    assert action.isEnabled(), key
    dialog, focus = _open_and_look(qtbot, action.trigger)
    expected = first_input(dialog)
    if expected is None:  # a list of accounts or events: Qt's choice, inside the dialog
        assert focus is not None
        assert focus.window() is dialog
        dialog.reject()
        return
    assert focus is expected, (
        f"{key}: {dialog.windowTitle()} opened with the focus on "
        f"{type(focus).__name__} {focus.objectName() if focus else ''!r}, "
        f"not on {type(expected).__name__} {expected.objectName()!r}"
    )
    dialog.reject()


def test_patient_edit_and_first_start_open_in_their_first_field(
    qtbot, window, patient_with_episode, tmp_path
) -> None:
    from clinic_app.ui.first_start import FirstStartDialog
    from clinic_app.ui.sign_in import SignInDialog

    settle(qtbot, window)
    dialog, focus = _open_and_look(qtbot, window.detail.edit_button.click)
    assert focus is dialog.fields["given_name"].widget
    dialog.reject()
    wizard = FirstStartDialog(f"sqlite:///{tmp_path / 'new' / 'clinic.db'}")
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitUntil(lambda: wizard.focusWidget() is not None)
    assert wizard.focusWidget() is wizard.fields["clinic_name"]
    sign_in = SignInDialog(None)
    qtbot.addWidget(sign_in)
    sign_in.show()
    qtbot.waitUntil(lambda: sign_in.focusWidget() is not None)
    assert sign_in.focusWidget() is first_input(sign_in)


def test_a_dialog_that_chose_its_focus_keeps_it(qtbot, window) -> None:
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout

    dialog = QDialog(window)
    layout = QVBoxLayout(dialog)
    first, second = QLineEdit(dialog), QLineEdit(dialog)
    layout.addWidget(first)
    layout.addWidget(second)
    second.setFocus()
    dialog.show()
    qtbot.waitUntil(lambda: dialog.focusWidget() is not None)
    assert dialog.focusWidget() is second
    dialog.reject()
