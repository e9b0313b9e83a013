"""The episode-of-care screens typed at by a fast, careless therapist (session 13).

Real widgets offscreen over a real SQLite file: wrong numbers ("²", "nan", "1_0", 150, "7,5"),
impossible dates, words the database cannot hold (600 characters, NUL), Enter and Esc at the
wrong moment. Each refusal names its field and the problem, keeps what was typed, and leaves
what the database held before as it was; what is stored is read back through
``clinic_app.storage.records`` and compared with what the screen showed. Part 2 (the home
program, the visit note, markup) is test_episode_typed_s13b.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from clinic_app.core.responses import questionnaire_of
from clinic_app.storage import records
from clinic_app.storage.records import EpisodeInfo, GoalInfo, PlanInfo
from clinic_app.ui.answer_pager import AnswerPager
from clinic_app.ui.episode_dialog import EpisodeDialog
from clinic_app.ui.goal_edit import GoalEditDialog
from clinic_app.ui.goals_dialog import GoalsDialog
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.plan_dialog import PlanDialog
from tests.ui.helpers import settle, when_modal
from tests.ui.test_episodes_ui import full_window, shipped_form, show_patient

__all__ = ["full_window"]  # the fixture, imported for these tests

# Right-to-left override, a combining accent and an emoji: text a database must keep as typed.
ODD_WORDS = "Walk 5 km \u202epain-free\u202c, Zoë 😀 ✓"


def an_episode(window: MainWindow, start: date | None = None) -> records.Episode:
    """A patient shown in the patient view with a left-thigh episode (30 days old)."""
    patient = show_patient(window)
    start = start or date.today() - timedelta(days=30)
    ep = records.create_episode(
        window.db, patient.id, EpisodeInfo("Left thigh", "left", start_date=start), user="t"
    )
    window.detail.refresh_evaluations(ep.id)
    return ep


def key_with_text(widget, key: Qt.Key, text: str) -> None:
    """A key press carrying non-ASCII text (keyClicks would abort the process)."""
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(widget, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, text))


# -- Add goal… -----------------------------------------------------------------------------------


def goal_dialog(qtbot, ep: records.Episode) -> GoalEditDialog:
    dialog = GoalEditDialog(shipped_form(), ep)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


@pytest.mark.parametrize("typed", ["nan", "inf", "-inf", "NaN", "1e999"])
def test_a_threshold_that_is_no_number_is_refused_naming_the_threshold(
    qtbot, full_window: MainWindow, typed: str
) -> None:
    """float() reads "nan" and "inf": typed letter by letter, the preview used to raise on every
    key and the dialog returned a goal with a NaN threshold (which the records API stores)."""
    ep = an_episode(full_window)
    dialog = goal_dialog(qtbot, ep)
    dialog.text.setText("Nordic at least as strong as the right")
    dialog.kind.setCurrentIndex(dialog.kind.findData("measurable"))
    dialog.threshold.setFocus()
    qtbot.keyClicks(dialog.threshold, typed)
    assert dialog.preview.text() == "Target: (complete the fields)"
    qtbot.keyClick(dialog.threshold, Qt.Key.Key_Return)
    assert dialog.error.text() == "Threshold: enter a number (e.g. 10)"
    assert dialog.info is None
    assert dialog.isVisible()
    assert dialog.threshold.text() == typed  # kept, to be mended
    assert dialog.threshold.hasFocus()


@pytest.mark.parametrize(
    ("typed", "stored"), [("7,5", 7.5), (" 12 ", 12.0), ("1e3", 1000.0), ("0", 0.0)]
)
def test_a_threshold_typed_loosely_is_the_number_the_preview_shows(
    qtbot, full_window: MainWindow, typed: str, stored: float
) -> None:
    ep = an_episode(full_window)
    dialog = goal_dialog(qtbot, ep)
    dialog.text.setText("Nordic")
    dialog.kind.setCurrentIndex(dialog.kind.findData("measurable"))
    dialog.threshold.setText(typed)
    assert dialog.preview.text() == f"Target: Nordic hamstring force below {stored:g} N"
    dialog.on_buttons_accepted()
    assert dialog.info is not None
    assert dialog.info.target is not None
    assert dialog.info.target["threshold"] == stored


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("31/02/2026", "Target date: not a date, use YYYY-MM-DD (or DD.MM.YYYY)"),
        ("2026-13-01", "Target date: not a date, use YYYY-MM-DD (or DD.MM.YYYY)"),
        ("tomorrow", "Target date: not a date, use YYYY-MM-DD (or DD.MM.YYYY)"),
        ("2001-01-01", "Target date: before the episode starts ({start})"),
    ],
)
def test_a_target_date_typed_wrong_is_refused_naming_it(
    qtbot, full_window: MainWindow, typed: str, says: str
) -> None:
    ep = an_episode(full_window)
    dialog = goal_dialog(qtbot, ep)
    dialog.text.setText("Walk")
    dialog.date.setText(typed)
    qtbot.keyClick(dialog.date, Qt.Key.Key_Return)
    assert dialog.error.text() == says.format(start=ep.start_date.isoformat())
    assert dialog.info is None
    assert dialog.date.text() == typed
    assert dialog.date.hasFocus()


def add_goal_through_goals(qtbot, window: MainWindow, ep, words: str) -> dict[str, object]:
    """Goals… → Add goal…: type ``words`` and press Enter; what the Add goal dialog showed then
    (its error line, whether it was still open, its text) and any failure box's text."""
    dialog = GoalsDialog(window.context, ep, parent=window)
    qtbot.addWidget(dialog)
    seen: dict[str, object] = {}

    def type_goal(edit) -> None:
        assert isinstance(edit, GoalEditDialog)
        edit.text.setText(words)
        qtbot.keyClick(edit.text, Qt.Key.Key_Return)
        seen.update(error=edit.error.text(), open=edit.isVisible(), text=edit.text.text())
        if edit.isVisible():
            edit.reject()  # Esc's way out
        else:
            when_modal(failure)

    def failure(box) -> None:
        seen["failure"] = box.text() if isinstance(box, QMessageBox) else "?"
        box.close()

    when_modal(type_goal)
    dialog.add_button.click()
    settle(qtbot, window)
    qtbot.wait(50)
    dialog.reject()
    return seen


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("x" * 600, "Goal: 600 characters is too long (at most 500)"),
        ("Walk\x00 5 km", "Goal: contains a control character (U+0000)"),
        ("Walk\t5 km", "Goal: contains a control character (U+0009)"),
    ],
)
def test_goal_words_the_database_refuses_are_refused_in_the_dialog_and_kept(
    qtbot, full_window: MainWindow, words: str, says: str
) -> None:
    """The dialog closed first and the records API refused after: the words typed were gone,
    with only a failure box to say why."""
    ep = an_episode(full_window)
    before = records.list_goals(full_window.db, ep.id)
    seen = add_goal_through_goals(qtbot, full_window, ep, words)
    assert seen == {"error": says, "open": True, "text": words}
    assert records.list_goals(full_window.db, ep.id) == before == []


def test_goal_words_with_bidi_marks_and_emoji_are_stored_as_shown(
    qtbot, full_window: MainWindow
) -> None:
    ep = an_episode(full_window)
    dialog = GoalsDialog(full_window.context, ep, parent=full_window)
    qtbot.addWidget(dialog)

    def type_goal(edit) -> None:
        edit.text.setText(f"  {ODD_WORDS}  ")
        edit.date.setText("")  # select-all + delete: no target date
        qtbot.keyClick(edit.text, Qt.Key.Key_Return)

    when_modal(type_goal)
    dialog.add_button.click()
    settle(qtbot, full_window)
    [goal] = records.list_goals(full_window.db, ep.id)
    assert goal.text == ODD_WORDS
    assert goal.target_date is None
    assert dialog.table.item(0, 1).text() == ODD_WORDS
    assert dialog.table.item(0, 3).text() == ""
    dialog.reject()


def test_suggested_goals_edited_wrong_are_refused_naming_the_row(
    qtbot, full_window: MainWindow
) -> None:
    """The suggested goals' cells take the same checks: a NaN threshold went through, and words
    the database refuses closed the dialog before the records API said no."""
    from clinic_app.core.goals import GoalDraft
    from clinic_app.ui.goal_edit import SuggestedGoalsDialog

    ep = an_episode(full_window)
    target = {"item": "nordic_force", "measure": "deficit", "op": "<", "threshold": 10}
    drafts = [
        GoalDraft(
            "F6",
            "Weak eccentric hamstrings",
            "short",
            "Nordic deficit below 10%",
            target,
            ep.start_date + timedelta(weeks=4),
            "form",
        ),
        GoalDraft(
            "F6",
            "Weak eccentric hamstrings",
            "long",
            "Sprint again",
            None,
            ep.start_date + timedelta(weeks=8),
            "form",
        ),
    ]
    dialog = SuggestedGoalsDialog(shipped_form(), ep, drafts, "initial evaluation", full_window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tick(0)
    dialog.tick(1)
    cases = [
        ((0, 4, "nan"), "Threshold (row 1): enter a number"),
        ((0, 4, "inf"), "Threshold (row 1): enter a number"),
        ((0, 4, "7,5"), None),
        ((1, 2, "s" * 501), "Goal (row 2): 501 characters is too long (at most 500)"),
        ((1, 2, "Sprint\x00"), "Goal (row 2): contains a control character (U+0000)"),
        ((1, 2, ODD_WORDS), None),
        ((1, 5, "2026-02-30"), "Target date (row 2): not a date, use YYYY-MM-DD (or DD.MM.YYYY)"),
        ((1, 5, ""), None),
    ]
    for (row, col, text), says in cases:
        dialog.cell(row, col).setText(text)
        if says is None:
            continue
        dialog.on_buttons_accepted()
        assert (dialog.error.text(), dialog.isVisible()) == (says, True), text
        assert dialog.accepted_goals == []
    dialog.on_buttons_accepted()
    assert not dialog.isVisible()
    first, second = dialog.accepted_goals
    assert first.target is not None
    assert first.target["threshold"] == 7.5
    assert (second.text, second.target_date) == (ODD_WORDS, None)


# -- Goals… keys -----------------------------------------------------------------------------


def test_enter_on_a_goal_row_does_not_set_its_status(qtbot, full_window: MainWindow) -> None:
    """Enter on the table pressed the dialog's first button, Set status: the app's suggestion
    (or whatever the box showed) was stored as the clinician's decision. Only the button and
    Enter in the note set a status."""
    ep = an_episode(full_window)
    records.add_goal(full_window.db, ep.id, GoalInfo("short", "Walk 5 km"), user="t")
    dialog = GoalsDialog(full_window.context, ep, parent=full_window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    dialog.table.setFocus()
    dialog.status_box.setCurrentIndex(dialog.status_box.findData("met"))
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        qtbot.keyClick(dialog.table, key)
    qtbot.keyClick(dialog.status_box, Qt.Key.Key_Return)
    settle(qtbot, full_window)
    [goal] = records.list_goals(full_window.db, ep.id)
    assert (goal.status, goal.history) == ("not_started", ())
    assert dialog.isVisible()
    # Enter in the note is the keyboard's way to set it.
    dialog.note.setFocus()
    qtbot.keyClicks(dialog.note, "reached at visit 4")
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
    settle(qtbot, full_window)
    [goal] = records.list_goals(full_window.db, ep.id)
    assert goal.status == "met"
    assert [h.note for h in goal.history] == ["reached at visit 4"]
    qtbot.keyClick(dialog.table, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


# -- Plan of care… ---------------------------------------------------------------------------


def plan_dialog(qtbot, window: MainWindow, ep) -> PlanDialog:
    dialog = PlanDialog(window.context, ep, parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@pytest.mark.parametrize("typed", ["²", "3²", "①", "½"])
def test_a_plan_number_of_odd_digits_is_refused_beside_its_field(
    qtbot, full_window: MainWindow, typed: str
) -> None:
    """str.isdigit() is true for "²" and "①", which int() cannot read: Save raised instead of
    naming the field."""
    ep = an_episode(full_window)
    dialog = plan_dialog(qtbot, full_window, ep)
    dialog.fields["visits_per_week"].widget.setText(typed)
    dialog.buttons.accepted.emit()
    settle(qtbot, full_window)
    assert dialog.problems() == {
        "visits_per_week": "Visits per week: enter a whole number from 1 to 14"
    }
    assert dialog.isVisible()
    assert records.plan_history(full_window.db, ep.id) == []


@pytest.mark.parametrize("typed", ["500", "7,5", "1e3", "-0", "0", "abc", "3 4"])
def test_plan_numbers_typed_wrong_keep_the_plan_in_force(
    qtbot, full_window: MainWindow, typed: str
) -> None:
    ep = an_episode(full_window)
    db = full_window.db
    records.save_plan(db, ep.id, PlanInfo(visits_per_week=2, duration_weeks=6), user="t")
    before = records.plan_history(db, ep.id)
    dialog = plan_dialog(qtbot, full_window, ep)
    assert dialog.text("visits_per_week") == "2"  # the plan in force is shown
    for key in ("visits_per_week", "recert_days"):
        dialog.fields[key].widget.setText(typed)
    dialog.fields["start_date"].widget.setText("2026-02-30")
    line = dialog.fields["visits_per_week"].widget
    line.setFocus()
    qtbot.keyClick(line, Qt.Key.Key_Return)  # Enter is Save
    settle(qtbot, full_window)
    assert dialog.problems() == {
        "start_date": "Starts: not a date, use YYYY-MM-DD (or DD.MM.YYYY)",
        "visits_per_week": "Visits per week: enter a whole number from 1 to 14",
        "recert_days": "Recertify after (days): enter a whole number from 1 to 365",
    }
    assert dialog.isVisible()
    qtbot.keyClick(line, Qt.Key.Key_Escape)  # half-typed, then away
    assert not dialog.isVisible()
    assert records.plan_history(db, ep.id) == before


def test_a_plan_with_spaces_and_long_interventions(qtbot, full_window: MainWindow) -> None:
    ep = an_episode(full_window)
    db = full_window.db
    dialog = plan_dialog(qtbot, full_window, ep)
    dialog.fields["visits_per_week"].widget.setText(" 3 ")
    dialog.fields["start_date"].widget.setText((ep.start_date - timedelta(days=1)).isoformat())
    dialog.buttons.accepted.emit()
    assert dialog.problems() == {"start_date": "Starts: before the episode's start"}
    dialog.fields["start_date"].widget.setText(" ")
    dialog.fields["interventions"].widget.setPlainText("y" * 100_000)
    failures: list[str] = []
    when_modal(lambda box: (failures.append(box.text()), box.close()))
    dialog.buttons.accepted.emit()
    settle(qtbot, full_window)
    qtbot.waitUntil(lambda: bool(failures))
    assert "planned interventions" in failures[0]
    assert "at most 4000" in failures[0]
    assert records.plan_history(db, ep.id) == []
    assert dialog.isVisible()  # what was typed is still there
    dialog.fields["interventions"].widget.setPlainText(f"Eccentric loading\n{ODD_WORDS}")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.buttons.accepted.emit()
    [plan] = records.plan_history(db, ep.id)
    assert plan.visits_per_week == 3
    assert plan.start_date == date.today()
    assert plan.interventions == f"Eccentric loading\n{ODD_WORDS}"


# -- New / Edit episode… -----------------------------------------------------------------------


def episode_dialog(qtbot, window: MainWindow, ep=None, patient_id=None) -> EpisodeDialog:
    pid = ep.patient_id if ep is not None else patient_id
    dialog = EpisodeDialog(window.context, pid, ep, parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_editing_with_the_start_cleared_is_refused_not_compared_with_today(
    qtbot, full_window: MainWindow
) -> None:
    """Edit episode with Start selected and deleted, an End before today: the end was compared
    with today ("End: before the episode's start") while the records API keeps the stored
    start, so the screen's blank start was never what was stored either."""
    ep = an_episode(full_window, date.today() - timedelta(days=60))
    dialog = episode_dialog(qtbot, full_window, ep)
    dialog.fields["start_date"].widget.setText("")
    end = date.today() - timedelta(days=10)
    dialog.fields["end_date"].widget.setText(end.isoformat())
    dialog.buttons.accepted.emit()
    settle(qtbot, full_window)
    assert dialog.problems() == {
        "start_date": f"Start: enter the date the episode started (it was "
        f"{ep.start_date.isoformat()})"
    }
    assert records.get_episode(full_window.db, ep.id) == ep
    dialog.fields["start_date"].widget.setText(ep.start_date.isoformat())
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.buttons.accepted.emit()
    stored = records.get_episode(full_window.db, ep.id)
    assert (stored.start_date, stored.end_date) == (ep.start_date, end)


def test_a_new_episode_with_a_blank_start_starts_today(qtbot, full_window: MainWindow) -> None:
    patient = show_patient(full_window)
    dialog = episode_dialog(qtbot, full_window, patient_id=patient.id)
    assert dialog.fields["start_date"].widget.placeholderText() == "YYYY-MM-DD (blank: today)"
    dialog.fields["title"].widget.setText(ODD_WORDS)
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.buttons.accepted.emit()
    [ep] = records.list_episodes(full_window.db, patient.id)
    assert (ep.title, ep.start_date) == (ODD_WORDS, date.today())


@pytest.mark.parametrize(
    ("key", "typed", "says"),
    [
        ("title", "Left\x00thigh", "Episode title: contains a control character (U+0000)"),
        ("title", "t" * 100_000, "Episode title: 32767 characters is too long (at most 200)"),
        ("referral_source", "Dr\x07 Gray", "Referral source: contains a control character"),
        ("referral_reason", "r" * 100_000, "Referral reason: 100000 characters is too long"),
        ("start_date", "31/02/2026", "Start: not a date, use YYYY-MM-DD (or DD.MM.YYYY)"),
        ("end_date", "2026-13-01", "End: not a date, use YYYY-MM-DD (or DD.MM.YYYY)"),
        ("referral_date", "-0", "Referral date: not a date, use YYYY-MM-DD (or DD.MM.YYYY)"),
    ],
)
def test_an_episode_typed_wrong_is_refused_beside_the_field_and_keeps_the_stored_one(
    qtbot, full_window: MainWindow, key: str, typed: str, says: str
) -> None:
    ep = an_episode(full_window)
    dialog = episode_dialog(qtbot, full_window, ep)
    widget = dialog.fields[key].widget
    if hasattr(widget, "setPlainText"):
        widget.setPlainText(typed)
    else:
        widget.setText(typed)
    dialog.buttons.accepted.emit()
    settle(qtbot, full_window)
    problems = dialog.problems()
    assert list(problems) == [key]
    assert problems[key].startswith(says)
    assert dialog.isVisible()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert records.get_episode(full_window.db, ep.id) == ep


# -- the questionnaires' pager ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["²", "³", "①"])
def test_a_superscript_digit_key_is_not_an_answer_and_does_not_raise(qtbot, text: str) -> None:
    """AltGr+2 on a German keyboard types "²": isdigit() is true, int() raised in the patient's
    own full-screen pager."""
    pager = AnswerPager(questionnaire_of("nprs"), "en")
    qtbot.addWidget(pager)
    pager.show()
    pager.setFocus()
    key_with_text(pager, Qt.Key.Key_2, "3")
    assert pager.chosen == 3
    key_with_text(pager, Qt.Key.Key_twosuperior, text)
    assert pager.chosen == 3  # the digit typed before stays chosen
    assert pager.error.text().endswith(f"{text} is not an answer")


# -- invisible words -------------------------------------------------------------------------

INVISIBLE = ["\u200f", "\u200b\u200e", "\ufeff \u2060", "\u00ad\u3000"]


@pytest.mark.parametrize("typed", INVISIBLE)
def test_an_episode_title_of_invisible_marks_is_no_title(
    qtbot, full_window: MainWindow, typed: str
) -> None:
    """strip() keeps a right-to-left mark or a zero-width space: the episode was stored with a
    title the list shows as an empty line."""
    patient = show_patient(full_window)
    dialog = episode_dialog(qtbot, full_window, patient_id=patient.id)
    dialog.fields["title"].widget.setText(typed)
    dialog.buttons.accepted.emit()
    settle(qtbot, full_window)
    assert dialog.problems() == {
        "title": "Title: enter what the episode is about (e.g. Left hamstring)"
    }
    assert records.list_episodes(full_window.db, patient.id) == []


@pytest.mark.parametrize("typed", INVISIBLE)
def test_goal_words_of_invisible_marks_are_no_words(
    qtbot, full_window: MainWindow, typed: str
) -> None:
    from clinic_app.core.goals import GoalDraft
    from clinic_app.ui.goal_edit import SuggestedGoalsDialog

    ep = an_episode(full_window)
    dialog = goal_dialog(qtbot, ep)
    dialog.text.setText(typed)
    qtbot.keyClick(dialog.text, Qt.Key.Key_Return)
    assert dialog.error.text() == "Goal: enter what the patient will be able to do"
    assert dialog.info is None
    draft = GoalDraft("F6", "Weak", "short", "Sprint", None, ep.start_date, "form")
    suggested = SuggestedGoalsDialog(shipped_form(), ep, [draft], "initial evaluation")
    qtbot.addWidget(suggested)
    suggested.tick(0)
    suggested.cell(0, 2).setText(typed)
    suggested.on_buttons_accepted()
    assert suggested.error.text() == "Goal (row 1): enter the words of the goal"
    assert suggested.accepted_goals == []


# -- keys through the goal dialogs -------------------------------------------------------------


def test_tab_goes_through_a_measurable_goal_in_order_and_esc_stores_nothing(
    qtbot, full_window: MainWindow
) -> None:
    ep = an_episode(full_window)
    dialog = GoalsDialog(full_window.context, ep, parent=full_window)
    qtbot.addWidget(dialog)
    seen: list[str] = []

    def walk(edit) -> None:
        edit.activateWindow()
        qtbot.waitUntil(edit.isActiveWindow)
        edit.kind.setCurrentIndex(edit.kind.findData("measurable"))
        edit.term.setFocus()
        for _ in range(9):
            seen.append(QApplication.focusWidget().objectName())
            qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        edit.text.setFocus()
        qtbot.keyClicks(edit.text, "Half-typed goal")
        edit.threshold.setText("1")
        qtbot.keyClick(edit.text, Qt.Key.Key_Escape)

    when_modal(walk)
    dialog.add_button.click()
    settle(qtbot, full_window)
    assert seen == [
        "goalTerm",
        "goalText",
        "goalKind",
        "goalItem",
        "goalMeasure",
        "goalOp",
        "goalThreshold",
        "goalSide",
        "goalDate",
    ]
    assert records.list_goals(full_window.db, ep.id) == []
    assert dialog.table.rowCount() == 0
    dialog.reject()


@pytest.mark.parametrize(
    ("note", "says"),
    [("n" * 600, "status note: 600 characters is too long"), ("ok\x00", "control character")],
)
def test_a_status_note_the_database_refuses_is_named_and_kept(
    qtbot, full_window: MainWindow, note: str, says: str
) -> None:
    ep = an_episode(full_window)
    db = full_window.db
    records.add_goal(db, ep.id, GoalInfo("short", "Walk 5 km"), user="t")
    [before] = records.list_goals(db, ep.id)
    dialog = GoalsDialog(full_window.context, ep, parent=full_window)
    qtbot.addWidget(dialog)
    dialog.show()
    failures: list[str] = []
    when_modal(lambda box: (failures.append(box.text()), box.close()))
    dialog.note.setText(note)
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
    settle(qtbot, full_window)
    qtbot.waitUntil(lambda: bool(failures))
    assert says in failures[0]
    assert dialog.note.text() == note  # kept, to be mended
    assert records.list_goals(db, ep.id) == [before]
    dialog.reject()
