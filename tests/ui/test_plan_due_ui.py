"""Plan of care… and what is due, with real widgets offscreen (issue 15).

The plan dialog starts from the clinic's settings and adds a version per save (listed); the
patient view warns when a progress report is due after 10 visits or 30 days, and when the plan
needs recertifying, and stops once a re-evaluation (or a new plan) is recorded. Settings… gives
an admin the three intervals.
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from clinic_app.storage import records
from clinic_app.storage.records import EpisodeInfo, PlanInfo
from clinic_app.ui.dialogs import ClinicDialog
from clinic_app.ui.episode_panel import day_text
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.plan_dialog import PlanDialog
from tests.ui.helpers import settle
from tests.ui.test_episodes_ui import full_window, show_patient, window

__all__ = ["full_window", "window"]  # the fixtures (the shipped form), imported for these tests


def episode_since(window: MainWindow, db, days: int):
    patient = show_patient(window)
    start = date.today() - timedelta(days=days)
    ep = records.create_episode(
        db, patient.id, EpisodeInfo("Left", "left", start_date=start), user="t"
    )
    records.start_evaluation(
        db, patient.id, window.form, user="t", eval_date=start, episode_id=ep.id
    )
    window.detail.refresh_evaluations(ep.id)
    return patient, ep


def add_record(window: MainWindow, db, patient, ep, kind: str, on: date) -> None:
    records.start_evaluation(
        db, patient.id, window.form, user="t", kind=kind, eval_date=on, episode_id=ep.id
    )
    window.detail.refresh_evaluations(ep.id)


def due(window: MainWindow) -> tuple[str, bool]:
    label = window.detail.episodes.due
    return label.text(), bool(label.property("due"))


def test_progress_report_due_after_ten_visits_until_a_re_evaluation(
    qtbot, window: MainWindow, db
) -> None:
    patient, ep = episode_since(window, db, 14)
    start = ep.start_date
    for n in range(1, 10):
        add_record(window, db, patient, ep, "visit", start + timedelta(days=n))
    text, warn = due(window)
    assert not warn
    assert f"Progress report due in 1 visit or by {day_text(start + timedelta(days=30))}" in text
    add_record(window, db, patient, ep, "visit", start + timedelta(days=10))
    text, warn = due(window)
    assert warn
    assert "⚠ Progress report due now (10 visits since the last evaluation)" in text
    assert window.detail.episodes.due.isVisible()
    # A re-evaluation is the progress report: the count starts again.
    add_record(window, db, patient, ep, "re_evaluation", start + timedelta(days=11))
    text, warn = due(window)
    assert not warn
    assert "Progress report due in 10 visits" in text
    assert "⚠" not in text


def test_progress_report_due_after_thirty_days_until_a_re_evaluation(
    qtbot, window: MainWindow, db
) -> None:
    patient, ep = episode_since(window, db, 31)
    text, warn = due(window)
    assert warn
    assert f"⚠ Progress report due now (last evaluation on {day_text(ep.start_date)})" in text
    add_record(window, db, patient, ep, "visit", date.today())
    assert due(window)[1]  # a visit does not reset it
    add_record(window, db, patient, ep, "re_evaluation", date.today())
    text, warn = due(window)
    assert not warn
    assert f"by {day_text(date.today() + timedelta(days=30))}" in text


def test_recertification_due_until_a_new_plan(qtbot, window: MainWindow, db) -> None:
    patient, ep = episode_since(window, db, 95)
    add_record(window, db, patient, ep, "re_evaluation", date.today())
    assert "No plan of care yet" in due(window)[0]
    records.save_plan(db, ep.id, PlanInfo(start_date=ep.start_date, visits_per_week=2), user="t")
    window.detail.refresh_evaluations(ep.id)
    text, warn = due(window)
    assert warn
    assert (
        f"⚠ Recertification of the plan due since {day_text(ep.start_date + timedelta(days=90))}"
        in text
    )
    records.save_plan(db, ep.id, PlanInfo(visits_per_week=2), user="t")  # recertified today
    window.detail.refresh_evaluations(ep.id)
    text, warn = due(window)
    assert not warn
    assert f"Recertification due {day_text(date.today() + timedelta(days=90))}" in text


def test_plan_dialog_starts_from_the_clinic_settings_and_keeps_versions(
    qtbot, window: MainWindow, db
) -> None:
    _patient, ep = episode_since(window, db, 3)
    records.save_setting(db, "progress_every_visits", 8, user="t")
    qtbot.keyClick(
        window,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), PlanDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, PlanDialog)
    assert dialog.text("progress_every_visits") == "8"
    assert dialog.text("progress_every_days") == "30"
    assert dialog.text("recert_days") == "90"
    assert not dialog.history.isVisible()
    dialog.set_text("visits_per_week", "0")
    dialog.set_text("duration_weeks", "six")
    dialog.set_text("recert_days", "")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.problems() == {
        "visits_per_week": "Visits per week: enter a whole number from 1 to 14",
        "duration_weeks": "Duration (weeks): enter a whole number from 1 to 104",
        "recert_days": "Recertify after (days): enter a whole number from 1 to 365",
    }
    settle(qtbot, window)
    assert records.plan_history(db, ep.id) == []
    dialog.set_text("visits_per_week", "2")
    dialog.set_text("duration_weeks", "6")
    dialog.set_text("recert_days", "60")
    dialog.set_text("interventions", "Nordic progression\nRunning drills")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    settle(qtbot, window)
    [plan] = records.plan_history(db, ep.id)
    assert (plan.visits_per_week, plan.duration_weeks, plan.progress_every_visits) == (2, 6, 8)
    assert plan.recert_days == 60
    assert plan.interventions == "Nordic progression\nRunning drills"
    assert f"Recertification due {day_text(plan.start_date + timedelta(days=60))}" in due(window)[0]
    # Again: the plan in force is the starting point; saving adds a second version.
    window.episodes.on_plan_of_care_triggered()
    again = window.episodes.dialog
    assert isinstance(again, PlanDialog)
    assert again.text("visits_per_week") == "2"
    assert again.text("recert_days") == "60"
    assert again.history.rowCount() == 1
    again.set_text("visits_per_week", "3")
    with qtbot.waitSignal(again.saved, timeout=5000):
        again.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    settle(qtbot, window)
    assert [p.visits_per_week for p in records.plan_history(db, ep.id)] == [2, 3]
    window.episodes.on_plan_of_care_triggered()
    third = window.episodes.dialog
    assert third.history.rowCount() == 2
    assert third.history.item(0, 1).text().startswith("3×/week")  # newest first
    assert third.history.item(1, 1).text().startswith("2×/week")
    third.reject()
    entries = [window.detail.table.item(r, 1).text() for r in range(window.detail.table.rowCount())]
    assert "Plan of care revised: 3×/week, 6 weeks" in entries


def test_settings_give_an_admin_the_plan_of_care_intervals(qtbot, window: MainWindow, db) -> None:
    window.on_settings_triggered()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), ClinicDialog))
    dialog = QApplication.activeModalWidget()
    assert dialog.text("progress_every_visits") == "10"
    assert dialog.text("progress_every_days") == "30"
    assert dialog.text("recert_days") == "90"
    dialog.set_text("clinic_name", "Clinic")
    dialog.set_text("clinician_name", "Dana Physio")
    dialog.set_text("progress_every_visits", "0")
    dialog.set_text("recert_days", "many")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.problems() == {
        "progress_every_visits": (
            "Progress report every (visits): enter a whole number from 1 to 100"
        ),
        "recert_days": "Recertify the plan after (days): enter a whole number from 1 to 365",
    }
    settle(qtbot, window)
    assert records.get_setting(db, "progress_every_visits") == 10
    dialog.set_text("progress_every_visits", "12")
    dialog.set_text("recert_days", "60")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    settle(qtbot, window)
    assert records.get_setting(db, "progress_every_visits") == 12
    assert records.get_setting(db, "recert_days") == 60
    assert records.get_setting(db, "progress_every_days") == 30


def test_settings_without_admin_have_no_intervals(qtbot, runner) -> None:
    dialog = ClinicDialog(runner, admin=False)
    qtbot.addWidget(dialog)
    assert "progress_every_visits" not in dialog.fields
    assert "recert_days" not in dialog.fields
