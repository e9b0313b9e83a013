"""The episode-of-care screens typed at by a fast, careless therapist, part 2 (session 13).

The home program's dose, another patient chosen in the middle of a visit note, and markup typed
into goals, referrals, plans, cells and a patient's own words: each shown as typed and stored as
shown (read back through ``clinic_app.storage.records``). Part 1 is test_episode_typed_s13.py.
"""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt

from clinic_app.storage import records
from clinic_app.storage.records import EpisodeInfo, GoalInfo, PlanInfo
from clinic_app.ui.goals_dialog import GoalsDialog
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.plan_dialog import PlanDialog
from tests.ui.helpers import settle, when_modal
from tests.ui.test_episode_typed_s13 import ODD_WORDS
from tests.ui.test_episodes_ui import full_window, shipped_form, show_patient

__all__ = ["full_window"]  # the fixture, imported for these tests


# -- the home program's dose -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored", "listed", "says"),
    [
        ("1_0", 2, "", "Sets: “1_0” is not a whole number"),
        ("1_000", 2, "", "Sets: “1_000” is not a whole number"),
        ("3.0", 2, "", "Sets: “3.0” is not a whole number"),
        ("1e1", 2, "", "Sets: “1e1” is not a whole number"),
        ("-0", 2, "", "Sets: 0 is outside 1–10"),
        ("+3", 3, "(3 × 4)", ""),
        (" 4 ", 4, "(4 × 4)", ""),
        ("١٠", 10, "(10 × 4)", ""),
    ],
)
def test_a_dose_is_listed_as_stored_and_int_quirks_are_refused(
    qtbot, full_window: MainWindow, db, db_url: str, typed, stored, listed, says
) -> None:
    """int() reads "1_0" as 10: the dose was stored as 10 while field and list showed "1_0";
    the list showed " 4 " and "+3" as typed while 4 and 3 were stored."""
    from tests.ui import test_program_editor as tpe

    patient, ev = tpe.patient_with(db, shipped_form(), tpe.runner_values())
    ed = tpe.open_program(qtbot, full_window, db, patient, ev.id)
    ed.accept_button.click()
    tpe.save(qtbot, full_window)
    before = tpe.stored_program(db_url, ev.id)
    assert before["exercises"][0]["sets"] == 2
    ed.list.setCurrentRow(0)
    title = ed.title_of(ed.entries[0].base)
    line = ed.fields["sets"]
    line.setFocus()
    line.selectAll()
    line.insert(typed)  # (an edit, as typing or pasting is)
    tpe.save(qtbot, full_window)
    after = tpe.stored_program(db_url, ev.id)
    assert after["exercises"][0]["sets"] == stored
    if says:
        assert ed.dose_error.text().startswith(f"{title} (exercise 1), {says}")
        assert after == before  # nothing of the bad dose stored
    else:
        assert not ed.dose_error.isVisible()
        assert ed.list.item(0).text().splitlines()[0].endswith(listed)


@pytest.mark.parametrize(
    ("where", "typed", "says"),
    [
        ("note", "a\x00b", "Note for the whole program: contains a control character (U+0000)"),
        ("note", "n" * 100_000, "Note for the whole program: 100000 characters, the limit is 2000"),
        (
            "instruction",
            "Slow\x07",
            "{title} (exercise 1), Personal instruction: contains a control character (U+0007)",
        ),
        ("load", "a\x00b", "{title} (exercise 1), Load: contains a control character (U+0000)"),
    ],
)
def test_program_text_the_database_refuses_is_named_beside_its_field(
    qtbot, full_window: MainWindow, db, db_url: str, where: str, typed: str, says: str
) -> None:
    """A control character was refused by core.program only, as the program's one line naming
    the exercise's id and the field's key ("program exercise 1 (nordic_curl) load: …"), and the
    editor's own error line stayed empty."""
    from tests.ui import test_program_editor as tpe

    patient, ev = tpe.patient_with(db, shipped_form(), tpe.runner_values())
    ed = tpe.open_program(qtbot, full_window, db, patient, ev.id)
    ed.accept_button.click()
    tpe.save(qtbot, full_window)
    before = tpe.stored_program(db_url, ev.id)
    ed.list.setCurrentRow(0)
    title = ed.title_of(ed.entries[0].base)
    if where == "note":
        ed.note.setPlainText(typed)
    elif where == "instruction":
        ed.instruction.setPlainText(typed)
    else:
        line = ed.fields[where]
        line.setFocus()
        line.selectAll()
        line.insert(typed)
        assert line.property("invalid") is True
    tpe.save(qtbot, full_window)
    expected = says.format(title=title)
    assert ed.dose_error.text().startswith(expected)
    assert [r for *_, r in full_window.page.view.editor.invalid_fields()] == [expected]
    assert tpe.stored_program(db_url, ev.id) == before


# -- the visit note: another patient chosen mid-typing ---------------------------------------


def visit_window(qtbot, db, clinician, visits: tuple[dict, ...] = ()):
    """The main window with a visit note open (after ``visits``), and another patient in the
    list: (window, visit, other patient, the note's editor)."""
    from tests.ui import test_visit_note as tvn

    form = shipped_form()
    patient, visit = tvn.episode_with_visit(db, form, first=tvn.FIRST, visits=visits)
    other = records.create_patient(db, records.PatientFields("Other", "Person", "O-1"), user="t")
    window = MainWindow(db, form, clinician)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.patients.model.reload()
    assert window.patients.select_patient(patient.id)
    window.open_evaluation(records.get_evaluation(db, visit.id), patient)
    qtbot.waitUntil(lambda: window.page.view is not None and window.page.view.isVisible())
    return window, visit, other, window.page.view.editor


def visit_open_mid_typing(qtbot, db, clinician, typed: str):
    """A second visit note open (the Nordic re-measured at the first), the visit's report text
    pasted with odd characters, ``typed`` keyed into the left Nordic without Tab or Enter."""
    window, visit, other, editor = visit_window(
        qtbot, db, clinician, visits=({"nordic_force": {"left": 230}},)
    )
    editor.set_current_section("visit_subjective")
    report = editor.editor("visit_report_text").focus_widgets()[0]
    report.setFocus()
    report.insertPlainText(ODD_WORDS)
    editor.set_current_section("remeasured")
    left = editor.editor("nordic_force", "left").focus_widgets()[0]
    left.setFocus()
    qtbot.keyClicks(left, typed)
    return window, visit, other


@pytest.mark.parametrize("typed", ["25", "150"])
def test_another_patient_chosen_mid_typing_stores_what_the_visit_showed(
    qtbot, db, db_url: str, clinician, typed: str
) -> None:
    from tests.ui import test_visit_note as tvn

    window, visit, other = visit_open_mid_typing(qtbot, db, clinician, typed)
    assert window.patients.select_patient(other.id)
    settle(qtbot, window)
    assert window.page.evaluation is None
    assert window.detail.patient is not None
    assert window.detail.patient.id == other.id
    assert tvn.stored(db_url, visit.id) == (
        "draft",
        {"visit_report_text": ODD_WORDS, "nordic_force": {"left": int(typed)}},
    )


def test_another_patient_chosen_with_a_refused_value_asks_first(qtbot, db, clinician) -> None:
    """ "24x" showing in a field was dropped without a word (EvaluationPage.may_close asks now)."""
    window, _visit, other = visit_open_mid_typing(qtbot, db, clinician, "24x")
    asked: list[str] = []
    when_modal(lambda box: (asked.append(box.windowTitle()), box.reject()))
    window.patients.select_patient(other.id)
    settle(qtbot, window)
    qtbot.wait(100)
    assert asked == ["Values not stored"]


# -- markup typed is shown as typed, tooltips and the answer list too ------------------------

MARKUP = "<b>Run</b> 5 km & pain &lt; 3"


def shown_text(text: str, fmt: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    """What Qt draws for ``text`` in a tooltip (AutoText) or a label of format ``fmt``: rich text
    when it might be markup."""
    from PySide6 import QtGui

    rich = fmt == Qt.TextFormat.RichText or (
        fmt == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text)
    )
    if not rich:
        return text
    doc = QtGui.QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText().replace("\u2028", "\n")


def test_markup_typed_into_goals_plans_and_episodes_shows_as_typed_in_tooltips(
    qtbot, full_window: MainWindow
) -> None:
    """A tooltip that looks like markup is drawn as rich text: "<b>Run</b> 5 km" showed a bold
    "Run 5 km", "&lt;" a "<"."""
    patient = show_patient(full_window)
    db = full_window.db
    ep = records.create_episode(
        db, patient.id, EpisodeInfo("Left thigh", referral_reason=MARKUP), user="t"
    )
    records.add_goal(db, ep.id, GoalInfo("short", MARKUP), user="t")
    records.save_plan(db, ep.id, PlanInfo(visits_per_week=2, interventions=MARKUP), user="t")
    full_window.detail.refresh_evaluations(ep.id)
    settle(qtbot, full_window)
    panel = full_window.detail.episodes
    assert shown_text(panel.episode_list.item(0).toolTip()) == MARKUP
    tips = [shown_text(panel.table.item(r, 1).toolTip()) for r in range(panel.table.rowCount())]
    assert any(MARKUP in t for t in tips), tips
    goals = GoalsDialog(full_window.context, ep, parent=full_window)
    qtbot.addWidget(goals)
    assert goals.table.item(0, 1).text() == MARKUP
    assert shown_text(goals.table.item(0, 1).toolTip()) == MARKUP
    plan = PlanDialog(full_window.context, ep, parent=full_window)
    qtbot.addWidget(plan)
    assert shown_text(plan.history.item(0, 2).toolTip()) == MARKUP
    assert shown_text(plan.history.item(0, 0).toolTip()) == date.today().isoformat()  # as was


def test_a_refused_cell_with_markup_is_named_as_typed(qtbot) -> None:
    from clinic_app.ui.rows_editor import RowsEditor

    rows = RowsEditor(shipped_form().items["interventions"])
    qtbot.addWidget(rows)
    rows.add_row({"kind": "exercise", "name": "Bridge"})
    rows.table.item(0, 2).setText("<b>3</b>")
    tip = rows.table.item(0, 2).toolTip()
    assert shown_text(tip) == "Not accepted: “<b>3</b>” is not a number"


def test_a_psfs_activity_with_markup_is_listed_as_the_patient_typed_it(qtbot) -> None:
    from clinic_app.core.responses import check_response
    from clinic_app.ui.questionnaire_field import QuestionnaireEditor

    item = shipped_form().items["psfs_answers"]
    raw = {
        "questionnaire": "psfs",
        "answers": {"a1": {"activity": "<b>Sprint</b> &amp; jump", "score": 4}},
        "reported_by": "patient",
        "language": "en",
    }
    response, problem = check_response(item, raw, item.label)
    assert problem is None
    field = QuestionnaireEditor(item)
    qtbot.addWidget(field)
    field.set_value(response)
    lines = shown_text(field.answers.text(), field.answers.textFormat()).splitlines()
    assert lines[0] == "Activity 1: <b>Sprint</b> &amp; jump: 4"


def test_a_referral_reason_of_several_lines_shows_its_lines(qtbot, full_window: MainWindow) -> None:
    """The header is rich text: the reason's line breaks were drawn as spaces."""
    patient = show_patient(full_window)
    reason = "Sprint injury, week 2\n<i>MRI</i>: grade 1 & no tendon"
    ep = records.create_episode(
        full_window.db, patient.id, EpisodeInfo("Left", referral_reason=reason), user="t"
    )
    full_window.detail.refresh_evaluations(ep.id)
    settle(qtbot, full_window)
    header = full_window.detail.episodes.header
    assert shown_text(header.text(), header.textFormat()).splitlines() == [
        "Left",
        "(Sprint injury, week 2",
        "<i>MRI</i>: grade 1 & no tendon)",
    ]


def test_closing_the_window_mid_typing_stores_what_the_visit_showed(
    qtbot, db, db_url: str, clinician
) -> None:
    from tests.ui import test_visit_note as tvn

    window, visit, _other = visit_open_mid_typing(qtbot, db, clinician, "31")
    assert window.close()
    assert tvn.stored(db_url, visit.id) == (
        "draft",
        {"visit_report_text": ODD_WORDS, "nordic_force": {"left": 31}},
    )


# -- the window locked while a dialog is half-typed ---------------------------------------------


def come_back(qtbot, window: MainWindow) -> None:
    """The same clinician's password on the lock page: the dialogs open before show again."""
    from tests.ui.conftest import PASSWORD
    from tests.ui.test_idle_lock import sign_in

    assert window.locker.is_locked
    sign_in(window, "dana", PASSWORD)
    qtbot.waitUntil(lambda: not window.locker.is_locked, timeout=5000)


def test_a_goal_half_typed_when_the_window_locks_is_stored_when_added_after(
    qtbot, full_window: MainWindow
) -> None:
    """Locking hides the dialogs: Add goal's exec() returned "rejected" then, and the dialog shown
    again after the password took the rest of the typing and its Add goal stored nothing."""
    from tests.ui.test_episode_typed_s13 import an_episode

    ep = an_episode(full_window)
    full_window.episodes.on_goals_triggered()
    goals = full_window.episodes.dialog
    assert isinstance(goals, GoalsDialog)
    qtbot.waitUntil(goals.isVisible)
    seen = {}

    def type_goal(edit) -> None:
        edit.text.setText("Walk to the")
        seen["edit"] = edit
        full_window.locker.lock()  # (the phone rang: the idle lock, from the dialog's loop)

    when_modal(type_goal)
    goals.add_button.click()
    come_back(qtbot, full_window)
    edit = seen["edit"]
    qtbot.waitUntil(edit.isVisible)  # shown again, with what was typed
    assert edit.text.text() == "Walk to the"
    edit.text.setText("Walk to the shops")
    edit.on_buttons_accepted()
    settle(qtbot, full_window)
    assert [g.text for g in records.list_goals(full_window.db, ep.id)] == ["Walk to the shops"]
    assert goals.table.item(0, 1).text() == "Walk to the shops"
    goals.reject()


def test_answers_half_entered_when_the_window_locks_land_when_done_after(
    qtbot, db, db_url: str, clinician
) -> None:
    """The clinician's item-by-item entry (Enter answers…) is exec()'d the same way: after the
    lock its Done landed nothing, the answers entered were lost."""
    from PySide6.QtWidgets import QApplication

    from clinic_app.ui.self_entry import ClinicianEntryDialog
    from tests.ui import test_visit_note as tvn

    form = shipped_form()
    patient = records.create_patient(db, records.PatientFields("Nia", "Lock", "L-1"), user="t")
    ev = records.start_evaluation(db, patient.id, form, user="t")
    window = MainWindow(db, form, clinician)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.open_evaluation(records.get_evaluation(db, ev.id), patient)
    qtbot.waitUntil(lambda: window.page.view is not None and window.page.view.isVisible())
    editor = window.page.view.editor
    section = editor.section_of("psfs_answers")
    editor.set_current_section(section)
    field = editor.editor("psfs_answers")
    seen = {}

    def enter(dialog) -> None:
        assert isinstance(dialog, ClinicianEntryDialog)
        dialog.pager.activity.setText("Sprinting")
        qtbot.keyClick(dialog.pager.activity, Qt.Key.Key_Return)
        seen["dialog"] = dialog
        window.locker.lock()

    when_modal(enter)
    field.enter_button.click()
    come_back(qtbot, window)
    dialog = seen["dialog"]
    qtbot.waitUntil(dialog.isVisible)
    dialog.pager.on_answer_clicked(4)  # the rating of "Sprinting"
    dialog.pager.stop_button.click()  # Done
    QApplication.processEvents()
    assert window.page.flush()
    settle(qtbot, window)
    _status, values = tvn.stored(db_url, ev.id)
    assert values["psfs_answers"]["answers"] == {"a1": {"activity": "Sprinting", "score": 4}}
    assert field.value is not None


# -- a visit's interventions: a cell still being typed in --------------------------------------


def visit_with_a_row(qtbot, db, clinician):
    """A visit note open on its treatment page, one row (Bridge, no dose), its Sets cell being
    edited (the cell's line has the keyboard)."""
    from PySide6.QtWidgets import QApplication, QLineEdit

    window, visit, other, editor = visit_window(qtbot, db, clinician)
    editor.set_current_section("visit_treatment")
    rows = editor.editor("interventions")
    rows.add_row({"kind": "exercise", "name": "Bridge"})
    table = rows.table
    table.setFocus()
    table.setCurrentCell(0, 2)
    table.editItem(table.item(0, 2))
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QLineEdit))
    return window, visit, other, rows, QApplication.focusWidget()


BRIDGE = {"kind": "exercise", "name": "Bridge"}


@pytest.mark.parametrize("leave", ["close", "patient"])
def test_a_cell_still_being_typed_in_is_stored_when_the_note_is_left(
    qtbot, db, db_url: str, clinician, leave: str
) -> None:
    """The cell's line gave its text to the table only on Enter, Tab or a click elsewhere: the
    window's close button (no focus moves) left "5" showing in the cell and stored nothing."""
    from tests.ui import test_visit_note as tvn

    window, visit, other, _rows, line = visit_with_a_row(qtbot, db, clinician)
    qtbot.keyClicks(line, "5")
    if leave == "close":
        assert window.close()
    else:
        assert window.patients.select_patient(other.id)
        settle(qtbot, window)
    assert tvn.stored(db_url, visit.id)[1]["interventions"] == [{**BRIDGE, "sets": 5}]


def test_a_cell_typed_past_its_range_never_stores_its_prefix(
    qtbot, db, db_url: str, clinician
) -> None:
    """Sets are 1-20: "2" then "25" is refused, and the "2" typed on the way is not stored."""
    from tests.ui import test_visit_note as tvn

    window, visit, _other, rows, line = visit_with_a_row(qtbot, db, clinician)
    qtbot.keyClicks(line, "25")
    assert window.page.flush()
    settle(qtbot, window)
    assert tvn.stored(db_url, visit.id)[1]["interventions"] == [BRIDGE]
    qtbot.keyClick(line, Qt.Key.Key_Return)  # the typing is over, still refused
    assert "outside" in shown_text(rows.table.item(0, 2).toolTip())
    assert window.page.flush()
    settle(qtbot, window)
    assert tvn.stored(db_url, visit.id)[1]["interventions"] == [BRIDGE]
    rows.table.item(0, 2).setText("4")  # mended
    assert window.page.flush()
    settle(qtbot, window)
    assert tvn.stored(db_url, visit.id)[1]["interventions"] == [{**BRIDGE, "sets": 4}]


def test_typing_inside_a_cell_keeps_the_cursor_where_it_is(qtbot, db, clinician) -> None:
    window, _visit, _other, rows, line = visit_with_a_row(qtbot, db, clinician)
    qtbot.keyClick(line, Qt.Key.Key_Escape)
    table = rows.table
    table.setCurrentCell(0, 1)
    table.editItem(table.item(0, 1))
    from PySide6.QtWidgets import QApplication

    name = QApplication.focusWidget()
    name.setCursorPosition(0)
    qtbot.keyClicks(name, "Glute ")
    assert name.text() == "Glute Bridge"
    assert table.item(0, 1).text() == "Glute Bridge"
    window.close()
