"""Goals… with real widgets offscreen: the suggested status, setting it with its history, adding
a measurable goal, the goals the form suggests for the fired factors (F6), a stale goal."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from clinic_app.storage import records
from clinic_app.storage.records import EpisodeInfo, GoalInfo
from clinic_app.ui.goal_edit import GoalEditDialog, SuggestedGoalsDialog
from clinic_app.ui.goals_dialog import GoalsDialog
from clinic_app.ui.main_window import MainWindow
from tests.ui.helpers import settle, when_modal
from tests.ui.test_episodes_ui import full_window, show_patient

__all__ = ["full_window"]  # the fixture, imported for these tests

NORDIC_GOAL = {"item": "nordic_force", "measure": "deficit", "op": "<", "threshold": 10}


def episode_with_evaluation(window: MainWindow, db, nordic: dict[str, int]):
    """A patient, a left-thigh episode begun 30 days ago, an initial evaluation with ``nordic``
    (plus a weak left single-leg bridge), shown in the patient view."""
    patient = show_patient(window)
    start = date.today() - timedelta(days=30)
    ep = records.create_episode(
        db, patient.id, EpisodeInfo("Left thigh", "left", start_date=start), user="t"
    )
    ev = records.start_evaluation(
        db, patient.id, window.form, user="t", eval_date=start, episode_id=ep.id
    )
    values = {
        "involved_side": "left",
        "nordic_force": nordic,
        "sl_bridge_reps": {"left": 12, "right": 24},
    }
    records.save_draft(db, ev.id, {"values": values}, ev.version, user="t")
    window.detail.refresh_evaluations(ep.id)
    return patient, ep


def open_goals(qtbot, window: MainWindow) -> GoalsDialog:
    qtbot.keyClick(
        window,
        Qt.Key.Key_G,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), GoalsDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, GoalsDialog)
    return dialog


def test_a_goal_met_by_the_latest_values_suggests_met_and_setting_it_keeps_history(
    qtbot, full_window: MainWindow, db
) -> None:
    window = full_window
    patient, ep = episode_with_evaluation(window, db, {"left": 200, "right": 290})
    goal = records.add_goal(
        db, ep.id, GoalInfo("short", "Nordic deficit below 10%", NORDIC_GOAL), user="t"
    )
    # A visit note re-measures the Nordic: 275 against 290 is a 5% deficit.
    visit = records.start_evaluation(
        db, patient.id, window.form, user="t", kind="visit", episode_id=ep.id
    )
    records.save_draft(
        db,
        visit.id,
        {"values": {"nordic_force": {"left": 275, "right": 290}}},
        visit.version,
        user="t",
    )
    window.detail.refresh_evaluations(ep.id)
    dialog = open_goals(qtbot, window)
    table = dialog.table
    assert table.rowCount() == 1
    assert table.item(0, 1).text() == "Nordic deficit below 10%"
    assert table.item(0, 2).text() == "Nordic hamstring force deficit below 10%"
    assert table.item(0, 4).text() == "not started"
    assert table.item(0, 5).text().startswith("suggested: met — latest: L 275 N / R 290 N")
    assert dialog.status_box.currentData() == "met"  # pre-selected with the suggestion
    qtbot.keyClicks(dialog.note, "Nordic retested today")
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)  # Enter in the note sets the status
    settle(qtbot, window)
    stored = records.get_goal(db, goal.id)
    assert stored.status == "met"
    [entry] = stored.history
    assert (entry.status, entry.suggested, entry.set_by) == ("met", "met", window.user)
    assert entry.note == "Nordic retested today"
    assert table.item(0, 4).text() == "met"
    assert "set met (suggested: met) — Nordic retested today" in dialog.history.text()
    assert dialog.note.text() == ""
    # The therapist decides: "progressing" against a "met" suggestion is kept as such.
    dialog.status_box.setCurrentIndex(dialog.status_box.findData("progressing"))
    dialog.set_button.click()
    settle(qtbot, window)
    last = records.get_goal(db, goal.id).history[-1]
    assert (last.status, last.suggested) == ("progressing", "met")
    dialog.accept()
    settle(qtbot, window)
    # The timeline shows the goal and both status changes.
    texts = [window.detail.table.item(r, 1).text() for r in range(window.detail.table.rowCount())]
    assert "Goal met: Nordic deficit below 10%" in texts
    assert "Goal progressing: Nordic deficit below 10%" in texts


def test_add_a_measurable_goal(qtbot, full_window: MainWindow, db) -> None:
    window = full_window
    _patient, ep = episode_with_evaluation(window, db, {"left": 200, "right": 290})
    dialog = open_goals(qtbot, window)
    seen: dict[str, str] = {}

    def fill(edit) -> None:
        assert isinstance(edit, GoalEditDialog)
        edit.term.setCurrentIndex(edit.term.findData("long"))
        edit.kind.setCurrentIndex(edit.kind.findData("measurable"))
        edit.item.setCurrentIndex(edit.item.findData("nordic_force"))
        edit.measure.setCurrentIndex(edit.measure.findData("lsi"))
        edit.op.setCurrentIndex(edit.op.findData(">="))
        edit.side.setCurrentIndex(edit.side.findData("involved"))
        edit.on_buttons_accepted()  # no words yet
        seen["no words"] = edit.error.text()
        qtbot.keyClicks(edit.text, "Left Nordic at least 90% of the right")
        edit.threshold.setText("ninety")
        edit.on_buttons_accepted()
        seen["threshold"] = edit.error.text()
        edit.threshold.setText("90")
        edit.date.setText("2001-01-01")
        edit.on_buttons_accepted()
        seen["date"] = edit.error.text()
        edit.date.setText((ep.start_date + timedelta(weeks=10)).isoformat())
        seen["preview"] = edit.preview.text()
        edit.on_buttons_accepted()

    when_modal(fill)
    dialog.add_button.click()
    settle(qtbot, window)
    assert seen["no words"] == "Goal: enter what the patient will be able to do"
    assert seen["threshold"] == "Threshold: enter a number (e.g. 10)"
    assert seen["date"].startswith("Target date: before the episode starts")
    assert seen["preview"] == "Target: Nordic hamstring force LSI (involved side) at least 90%"
    [goal] = records.list_goals(db, ep.id)
    assert goal.term == "long"
    assert {k: v for k, v in goal.target.items() if k != "worse"} == {
        "item": "nordic_force",
        "measure": "lsi",
        "op": ">=",
        "threshold": 90.0,
        "side": "involved",
    }
    assert goal.target_date == ep.start_date + timedelta(weeks=10)
    assert dialog.table.rowCount() == 1
    # 200 / 290 = 69%: not met yet, only one record: not started.
    assert dialog.table.item(0, 5).text().startswith("suggested: not started")
    dialog.accept()


def test_suggested_goals_from_the_fired_factors(qtbot, full_window: MainWindow, db) -> None:
    """200 N against 290 N is a 31% Nordic gap: F6 (eccentric hamstring weakness) fires, and
    its goal templates are offered; the therapist edits one and ticks it."""
    window = full_window
    _patient, ep = episode_with_evaluation(window, db, {"left": 200, "right": 290})
    dialog = open_goals(qtbot, window)
    assert dialog.state is not None
    f6 = [d for d in dialog.state.drafts if d.factor_id == "F6"]
    assert [d.text for d in f6] == [
        "Nordic force side-to-side deficit below 10%",
        "Single-leg hamstring bridge of 25 repetitions or more on the painful side",
    ]
    assert dialog.suggested_button.isEnabled()
    seen: dict[str, object] = {}

    def accept_some(box) -> None:
        assert isinstance(box, SuggestedGoalsDialog)
        rows = {box.cell(r, 2).text(): r for r in range(box.table.rowCount())}
        seen["rows"] = sorted(rows)
        box.on_buttons_accepted()  # nothing ticked
        seen["none"] = box.error.text()
        nordic = rows["Nordic force side-to-side deficit below 10%"]
        box.tick(nordic)
        box.cell(nordic, 2).setText("Nordic deficit under 8% (edited)")
        box.cell(nordic, 4).setText("8")
        box.cell(nordic, 5).setText("2001-01-01")
        box.on_buttons_accepted()
        seen["date"] = box.error.text()
        box.cell(nordic, 5).setText((ep.start_date + timedelta(weeks=5)).isoformat())
        # Space on the tick column ticks the bridge goal, keyboard-only.
        bridge = rows["Single-leg hamstring bridge of 25 repetitions or more on the painful side"]
        box.table.setFocus()
        box.table.setCurrentCell(bridge, 0)
        qtbot.keyClick(box.table, Qt.Key.Key_Space)
        seen["ticked"] = box.cell(bridge, 0).checkState() == Qt.CheckState.Checked
        box.on_buttons_accepted()

    when_modal(accept_some)
    dialog.suggested_button.click()
    settle(qtbot, window)
    assert "Nordic force side-to-side deficit below 10%" in seen["rows"]
    assert seen["none"] == "Tick at least one goal (Space), or Cancel"
    assert str(seen["date"]).startswith("Target date (row ")
    assert seen["ticked"]
    goals = {g.text: g for g in records.list_goals(db, ep.id)}
    nordic = goals["Nordic deficit under 8% (edited)"]
    assert nordic.from_factor == "F6"
    assert nordic.target["threshold"] == 8.0
    assert nordic.target_date == ep.start_date + timedelta(weeks=5)
    bridge = goals["Single-leg hamstring bridge of 25 repetitions or more on the painful side"]
    assert bridge.term == "long"
    assert bridge.target_date == ep.start_date + timedelta(weeks=12)
    # Those set are no longer offered (by the same words; the edited one differs).
    assert [d.text for d in dialog.state.drafts if d.factor_id == "F6"] == [
        "Nordic force side-to-side deficit below 10%"
    ]
    dialog.accept()


def test_a_stale_goal_shows_the_message_and_keeps_the_note(
    qtbot, full_window: MainWindow, db
) -> None:
    window = full_window
    _patient, ep = episode_with_evaluation(window, db, {"left": 200, "right": 290})
    goal = records.add_goal(db, ep.id, GoalInfo("short", "Run 5 km", None), user="t")
    dialog = open_goals(qtbot, window)
    # Another window sets the status meanwhile.
    records.set_goal_status(db, goal.id, "progressing", goal.version, user="Lee")
    dialog.status_box.setCurrentIndex(dialog.status_box.findData("met"))
    dialog.note.setText("ran 5 km on Saturday")
    seen: list[str] = []

    def read(box) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.accept()

    when_modal(read)
    dialog.set_button.click()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    settle(qtbot, window)
    assert "was changed by Lee" in seen[0]
    assert "Nothing you typed has been lost" in seen[0]
    assert dialog.note.text() == "ran 5 km on Saturday"
    assert dialog.status_box.currentData() == "met"
    assert dialog.set_button.isEnabled()
    assert [h.set_by for h in records.get_goal(db, goal.id).history] == ["Lee"]
    dialog.accept()


def test_a_second_window_setting_the_same_goal_is_told_and_keeps_its_note(
    qtbot, full_window: MainWindow, db, clinician
) -> None:
    """Two windows on the same clinic open Goals… for one goal; the second to set a status is
    refused with the StaleRecordError message, shown the newer status with its own choice and
    note kept, and can then set it."""
    from tests.ui.test_episodes_ui import shipped_form

    first = full_window
    _patient, ep = episode_with_evaluation(first, db, {"left": 200, "right": 290})
    goal = records.add_goal(db, ep.id, GoalInfo("long", "Back to football", None), user="t")
    second = MainWindow(db, shipped_form(), clinician)
    qtbot.addWidget(second)
    second.resize(1280, 800)
    second.show()
    second.patients.select_patient(_patient.id)
    second.detail.refresh_evaluations(ep.id)
    first.episodes.on_goals_triggered()
    second.episodes.on_goals_triggered()
    mine, theirs = first.episodes.dialog, second.episodes.dialog
    assert isinstance(mine, GoalsDialog)
    assert isinstance(theirs, GoalsDialog)
    mine.status_box.setCurrentIndex(mine.status_box.findData("progressing"))
    mine.set_button.click()
    settle(qtbot, first)
    theirs.status_box.setCurrentIndex(theirs.status_box.findData("discontinued"))
    theirs.note.setText("moved abroad")
    seen: list[str] = []
    when_modal(lambda box: (seen.append(box.text()), box.accept()))
    theirs.set_button.click()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    settle(qtbot, second)
    assert f"goal {goal.id} was changed by {first.user}" in seen[0]
    assert theirs.note.text() == "moved abroad"
    assert [h.status for h in records.get_goal(db, goal.id).history] == ["progressing"]
    # The second window shows what the first set, its own choice and note still there.
    assert theirs.table.item(0, 4).text() == "progressing"
    assert theirs.status_box.currentData() == "discontinued"
    theirs.set_button.click()  # now over the newer version
    settle(qtbot, second)
    assert [h.status for h in records.get_goal(db, goal.id).history] == [
        "progressing",
        "discontinued",
    ]
    assert records.get_goal(db, goal.id).history[-1].note == "moved abroad"
    mine.accept()
    theirs.accept()
    second.close()
