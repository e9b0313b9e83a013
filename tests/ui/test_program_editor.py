"""The home-program editor in the real window (issue 17): suggestion, keyboard, dose, safety.

Real widgets offscreen on a real SQLite file with the shipped form; what the page's autosave
stored is read back from the database with a second connection, and compared with what the
editor shows.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from clinic_app.core.findings import validate
from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records
from clinic_app.storage.database import open_database
from clinic_app.ui.program_editor import EMERGENCY_TEXT, PENDING_TEXT, ProgramEditor
from tests.ui.helpers import press, settle, when_modal

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "runner_left_proximal.json"
START = date(2026, 9, 10)
SHOTS = Path("/tmp/h8")


@pytest.fixture(scope="module")
def shipped_form() -> Form:
    return load_form(default_form_path())


@pytest.fixture
def make_window(qtbot: Any, db: Any, shipped_form: Form, clinician: Any) -> Any:
    from clinic_app.ui.main_window import MainWindow

    def make() -> Any:
        w = MainWindow(db, shipped_form, clinician)
        qtbot.addWidget(w)
        w.resize(1400, 900)
        w.show()
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow)
        return w

    return make


def runner_values(**extra: Any) -> dict[str, Any]:
    values = dict(json.loads(EXAMPLE.read_text())["values"])
    values.update(extra)
    return values


def patient_with(db: Any, form: Form, values: dict[str, Any], mrn: str = "H-1") -> tuple[Any, Any]:
    fields = records.PatientFields(given_name="Rui", family_name="Runner", mrn=mrn)
    patient = records.create_patient(db, fields, user="t")
    ev = records.start_evaluation(db, patient.id, form, user="t", eval_date=START)
    records.save_draft(db, ev.id, validate(form, {"values": values}), ev.version, user="t")
    return patient, records.get_evaluation(db, ev.id)


def open_program(qtbot: Any, window: Any, db: Any, patient: Any, ev_id: int) -> ProgramEditor:
    window.open_evaluation(records.get_evaluation(db, ev_id), patient)
    qtbot.waitUntil(lambda: window.page.view is not None and window.page.view.isVisible())
    editor = window.page.view.editor
    editor.set_current_section("home_program")
    ed = editor.editor("home_program")
    assert isinstance(ed, ProgramEditor)
    qtbot.waitUntil(ed.isVisible)
    return ed


def stored_program(db_url: str, ev_id: int) -> Any:
    other = open_database(db_url, backup=False)
    try:
        return records.get_evaluation(other, ev_id).findings["values"].get("home_program")
    finally:
        other.close()


def save(qtbot: Any, window: Any) -> None:
    assert window.page.flush()
    settle(qtbot, window)


def shot(widget: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    widget.grab().save(str(SHOTS / name))


def ids(ed: ProgramEditor) -> list[str]:
    return [e.base.exercise for e in ed.entries]


def test_the_suggestion_is_shown_with_reasons_and_stored_only_when_accepted(
    qtbot: Any, make_window: Any, db: Any, db_url: str, shipped_form: Form
) -> None:
    patient, ev = patient_with(db, shipped_form, runner_values())
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    assert ed.pending
    assert ed.banner.text() == PENDING_TEXT
    assert ed.banner.isVisible()
    assert ed.accept_button.isVisible()
    assert len(ed.entries) >= 3
    first = ed.list.item(0).text()
    assert "for: " in first
    assert "(F" in first
    assert ed.value() is None
    shot(window, "program_suggested.png")
    save(qtbot, window)
    assert stored_program(db_url, ev.id) is None  # looked at, not accepted: nothing stored

    ed.accept_button.setFocus()  # (Alt+C too; the offscreen platform has no mnemonics)
    qtbot.keyClick(ed.accept_button, Qt.Key.Key_Space)
    assert not ed.pending
    assert not ed.banner.isVisible()
    save(qtbot, window)
    stored = stored_program(db_url, ev.id)
    shown = ed.value()
    assert shown is not None
    assert stored == shown.plain()
    assert [e["exercise"] for e in stored["exercises"]] == ids(ed)
    assert all(e["reason"].startswith("for: ") for e in stored["exercises"])
    assert all(e["snapshot"]["title"] for e in stored["exercises"])


def test_reorder_remove_and_dose_by_keyboard_are_stored_as_shown(
    qtbot: Any, make_window: Any, db: Any, db_url: str, shipped_form: Form
) -> None:
    patient, ev = patient_with(db, shipped_form, runner_values())
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    before = ids(ed)
    ed.list.setFocus()
    ed.list.setCurrentRow(0)
    alt = Qt.KeyboardModifier.AltModifier
    qtbot.keyClick(ed.list, Qt.Key.Key_Down, alt)  # an edit: the suggestion is now the value
    assert ids(ed) == [before[1], before[0], *before[2:]]
    assert ed.current() == 1
    assert window.page.view.editor.current_section() == "home_program"  # not "next section"
    qtbot.keyClick(ed.list, Qt.Key.Key_Up, alt)
    qtbot.keyClick(ed.list, Qt.Key.Key_Up, alt)  # at the top already: nothing moves
    assert ids(ed) == before
    ed.list.setCurrentRow(len(before) - 1)
    qtbot.keyClick(ed.list, Qt.Key.Key_Delete)
    assert ids(ed) == before[:-1]
    ed.list.setCurrentRow(0)
    sets = ed.fields["sets"]
    sets.setFocus()
    sets.selectAll()
    qtbot.keyClicks(sets, "4")
    reps = ed.fields["reps"]
    reps.selectAll()
    qtbot.keyClicks(reps, "12")
    qtbot.keyClicks(ed.fields["load"], "body weight")
    ed.side.setCurrentIndex(ed.side.findData("left"))
    ed.instruction.setPlainText("Slowly on the way down — count to three.")
    ed.note.setPlainText("Isometrics first; pain up to 3/10 is fine.")
    save(qtbot, window)
    stored = stored_program(db_url, ev.id)
    assert [e["exercise"] for e in stored["exercises"]] == before[:-1]
    top = stored["exercises"][0]
    assert (top["sets"], top["reps"], top["load"], top["side"]) == (4, 12, "body weight", "left")
    assert top["instruction"] == "Slowly on the way down — count to three."
    assert stored["note"] == "Isometrics first; pain up to 3/10 is fine."
    assert stored == ed.value().plain()  # type: ignore[union-attr]
    assert "4 × 12" in ed.list.item(0).text()

    # the buttons do what the keys do
    ed.list.setCurrentRow(1)
    ed.up_button.click()
    assert ids(ed)[0] == before[1]
    ed.down_button.click()
    ed.remove_button.click()
    save(qtbot, window)
    assert [e["exercise"] for e in stored_program(db_url, ev.id)["exercises"]] == ids(ed)
    shot(window, "program_edited.png")


@pytest.mark.parametrize(
    ("field", "typed", "says"),
    [
        ("sets", "0", "Sets: 0 is outside 1–10"),
        ("reps", "10000", "Reps: 10000 is outside 1–100"),
        ("sets", "abc", "Sets: “abc” is not a whole number"),
        ("hold_seconds", "2.5", "Hold (seconds): “2.5” is not a whole number"),
    ],
)
def test_an_impossible_dose_names_exercise_and_field_and_is_not_stored(
    qtbot: Any,
    make_window: Any,
    db: Any,
    db_url: str,
    shipped_form: Form,
    field: str,
    typed: str,
    says: str,
) -> None:
    patient, ev = patient_with(db, shipped_form, runner_values())
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    ed.accept_button.click()
    save(qtbot, window)
    good = stored_program(db_url, ev.id)
    ed.list.setCurrentRow(1)
    title = ed.title_of(ed.entries[1].base)
    line = ed.fields[field]
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, typed)
    expected = f"{title} (exercise 2), {says}"
    assert expected in ed.dose_error.text()
    assert ed.dose_error.isVisible()
    assert line.property("invalid") is True
    assert ed.list.item(1).text().startswith("⚠ 2.")
    row = window.page.view.editor.row("home_program")
    assert expected in row.error.text()  # the page's error line too
    if field == "sets" and typed == "0":
        shot(window, "program_invalid.png")
    invalid = window.page.view.editor.invalid_fields()
    assert [(i.id, reason) for i, _s, reason in invalid] == [("home_program", expected)]
    save(qtbot, window)
    assert stored_program(db_url, ev.id) == good  # nothing of the bad dose stored
    line.selectAll()
    qtbot.keyClicks(line, "3")
    assert not ed.dose_error.isVisible()
    save(qtbot, window)
    assert stored_program(db_url, ev.id)["exercises"][1][field] == 3


def _add_by_search(qtbot: Any, ed: ProgramEditor, text: str, exercise_id: str) -> None:
    ed.finder.search.setFocus()
    ed.finder.search.clear()
    qtbot.keyClicks(ed.finder.search, text)
    found = ed.finder.found()
    assert exercise_id in found, found
    for _ in range(found.index(exercise_id)):
        qtbot.keyClick(ed.finder.search, Qt.Key.Key_Down)
    qtbot.keyClick(ed.finder.search, Qt.Key.Key_Return)


def test_a_stretch_while_a_tendon_is_irritated_needs_a_confirmation(
    qtbot: Any, make_window: Any, db: Any, db_url: str, shipped_form: Form
) -> None:
    patient, ev = patient_with(db, shipped_form, runner_values())
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    ed.accept_button.click()
    save(qtbot, window)
    before = stored_program(db_url, ev.id)
    seen: list[tuple[str, str]] = []

    def cancel(box: Any) -> None:
        assert isinstance(box, QMessageBox)
        seen.append((box.text(), box.defaultButton().text()))
        qtbot.keyClick(box, Qt.Key.Key_Return)  # Return presses the default: Cancel

    when_modal(cancel)
    _add_by_search(qtbot, ed, "leg swings", "dynamic_hamstring_warmup")
    qtbot.waitUntil(lambda: bool(seen))
    text, default = seen[0]
    assert "puts the back of the thigh on stretch" in text
    assert "P1 Proximal hamstring tendinopathy" in text
    assert default == "Cancel"
    assert "dynamic_hamstring_warmup" not in ids(ed)
    save(qtbot, window)
    assert stored_program(db_url, ev.id) == before  # cancelled: nothing added

    when_modal(lambda box: press(box, "Add it anyway"))
    _add_by_search(qtbot, ed, "leg swings", "dynamic_hamstring_warmup")
    qtbot.waitUntil(lambda: "dynamic_hamstring_warmup" in ids(ed))
    save(qtbot, window)
    added = stored_program(db_url, ev.id)["exercises"][-1]
    assert added["exercise"] == "dynamic_hamstring_warmup"
    assert "puts the back of the thigh on stretch" in added["confirmed"]
    assert "confirmed by Dana Physio, " in added["confirmed"]
    assert "warning confirmed" in ed.list.item(ed.list.count() - 1).text()
    assert ed.confirmed_label.text().startswith("Confirmed warning: ")


def test_loading_while_a_red_flag_stops_exercise_asks_first(
    qtbot: Any, make_window: Any, db: Any, db_url: str, shipped_form: Form
) -> None:
    patient, ev = patient_with(db, shipped_form, runner_values(rf_cannot_bear_weight="yes"))
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    assert "glute_bridge" not in ids(ed)  # the suggestion leaves warned exercises out
    seen: list[str] = []

    def read_and_cancel(box: Any) -> None:
        seen.append(box.text())
        press(box, "Cancel")

    when_modal(read_and_cancel)
    _add_by_search(qtbot, ed, "bridge", "glute_bridge")
    qtbot.waitUntil(lambda: bool(seen))
    assert "loads the leg, and a red flag stops exercise" in seen[0]
    assert "R2 Cannot bear weight" in seen[0]
    assert "glute_bridge" not in ids(ed)


def test_an_emergency_red_flag_says_the_handout_is_the_emergency_message(
    qtbot: Any, make_window: Any, db: Any, shipped_form: Form
) -> None:
    patient, ev = patient_with(db, shipped_form, runner_values(rf_saddle_numbness="yes"))
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    assert ed.banner.isVisible()
    assert ed.banner.text() == EMERGENCY_TEXT
    assert ed.entries == []  # nothing suggested
    qtbot.wait(300)  # the page lays out the taller editor
    shot(window, "program_emergency.png")


def test_search_by_name_region_purpose_and_factor(
    qtbot: Any, make_window: Any, db: Any, shipped_form: Form
) -> None:
    patient, ev = patient_with(db, shipped_form, runner_values())
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    finder = ed.finder
    qtbot.keyClicks(finder.search, "calf")
    assert set(finder.found()) == {"calf_raise_straight", "calf_raise_bent"}
    finder.search.clear()
    qtbot.keyClicks(finder.search, "F3")
    assert "glute_bridge" in finder.found()
    assert "calf_raise_bent" not in finder.found()
    finder.search.clear()
    finder.region.setCurrentIndex(finder.region.findData("Core"))
    assert set(finder.found()) == {"dead_bug", "side_plank"}
    finder.region.setCurrentIndex(0)
    finder.purpose.setCurrentIndex(finder.purpose.findData("warm-up"))
    assert finder.found() == ["dynamic_hamstring_warmup"]
    finder.purpose.setCurrentIndex(0)
    qtbot.keyClicks(finder.search, "zzzz no such exercise")
    assert finder.found() == []
    qtbot.keyClick(finder.search, Qt.Key.Key_Return)  # nothing found: nothing added
    assert ed.pending


def test_every_control_is_named_and_reachable_by_tab(
    qtbot: Any, make_window: Any, db: Any, shipped_form: Form
) -> None:
    patient, ev = patient_with(db, shipped_form, runner_values())
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    widgets = ed.focus_widgets()
    assert all(w.accessibleName() for w in widgets), [
        type(w).__name__ for w in widgets if not w.accessibleName()
    ]
    assert all(w.focusPolicy() & Qt.FocusPolicy.TabFocus for w in widgets)
    ed.list.setFocus()
    reached = set()
    for _ in range(40):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        reached.add(QApplication.focusWidget())
    visible = {w for w in widgets if w.isVisible() and w.isEnabled()}
    assert visible <= reached | {ed.list}


def test_the_next_visit_note_starts_from_the_program(
    qtbot: Any, make_window: Any, db: Any, db_url: str, shipped_form: Form
) -> None:
    patient, ev = patient_with(db, shipped_form, runner_values())
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    ed.accept_button.click()
    ed.list.setCurrentRow(0)
    ed.fields["sets"].setText("")
    qtbot.keyClicks(ed.fields["sets"], "5")
    save(qtbot, window)
    program = stored_program(db_url, ev.id)
    visit = records.start_evaluation(
        db, patient.id, shipped_form, user="t", kind="visit", eval_date=START + timedelta(7)
    )
    assert stored_program(db_url, visit.id) == program  # the draft, as stored
    assert window.page.close_evaluation()
    vd = open_program(qtbot, window, db, patient, visit.id)
    assert not vd.pending
    assert vd.value() is not None
    assert vd.value().plain() == program  # type: ignore[union-attr]
    assert vd.entries[0].texts["sets"] == "5"
    row = window.page.view.editor.row("home_program")
    assert row.carried  # marked as carried until looked at
    vd.list.setCurrentRow(0)
    vd.fields["sets"].selectAll()
    qtbot.keyClicks(vd.fields["sets"], "3")  # then adjust the dose
    save(qtbot, window)
    assert stored_program(db_url, visit.id)["exercises"][0]["sets"] == 3
    assert stored_program(db_url, ev.id)["exercises"][0]["sets"] == 5


def test_save_a_template_and_apply_it_to_another_record(
    qtbot: Any, make_window: Any, db: Any, db_url: str, shipped_form: Form
) -> None:
    from PySide6.QtWidgets import QInputDialog

    patient, ev = patient_with(db, shipped_form, runner_values())
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    assert ed.templates.isEnabled()
    ed.accept_button.click()
    ed.list.setCurrentRow(0)
    qtbot.keyClick(ed.list, Qt.Key.Key_Delete)
    kept = ids(ed)

    def name_it(box: Any) -> None:
        assert isinstance(box, QInputDialog)
        box.setTextValue("proximal tendinopathy, stage 1")
        box.accept()

    when_modal(name_it)
    ed.templates.save()
    settle(qtbot, window)
    (saved,) = records.list_templates(db)
    assert saved.name == "proximal tendinopathy, stage 1"
    assert [e.exercise for e in saved.program.exercises] == kept

    other_patient, other = patient_with(db, shipped_form, runner_values(), mrn="H-2")
    assert window.page.close_evaluation()
    ed2 = open_program(qtbot, window, db, other_patient, other.id)
    ed2.templates.fill()  # what opening the menu does
    actions = [a for a in ed2.templates.menu_.actions() if a.text().startswith("Apply")]
    assert [a.text() for a in actions] == [f"Apply “proximal tendinopathy, stage 1” ({len(kept)})"]
    actions[0].trigger()
    assert ids(ed2) == kept
    assert not ed2.pending
    save(qtbot, window)
    assert [e["exercise"] for e in stored_program(db_url, other.id)["exercises"]] == kept


def test_a_read_only_record_without_a_program_suggests_nothing(
    qtbot: Any, shipped_form: Form
) -> None:
    from clinic_app.core import engine

    ed = ProgramEditor(shipped_form.items["home_program"])
    qtbot.addWidget(ed)
    assessment = engine.assess(shipped_form, validate(shipped_form, {"values": runner_values()}))
    ed.set_environment(assessment=assessment, form=shipped_form, user="t")
    ed.set_value(None)
    assert ed.pending
    ed.set_read_only(True)
    assert not ed.pending
    assert ed.entries == []
    assert ed.banner.text() == "No home program was given at this visit."
    assert not ed.finder.isEnabled()
    assert not ed.add_exercise("glute_bridge")
    ed.set_value({"exercises": [{"exercise": "glute_bridge", "sets": 3}]})
    assert [e.base.exercise for e in ed.entries] == ["glute_bridge"]
    ed.list.setCurrentRow(0)
    assert not ed.fields["sets"].isEnabled()
    assert not ed.remove_button.isEnabled()
    edited: list[Any] = []
    ed.edited.connect(edited.append)
    ed.remove_current()
    ed.move_current(1)
    assert edited == []  # nothing changes a signed record's program


def test_the_autosave_stores_a_dose_edit_without_a_flush(
    qtbot: Any, make_window: Any, db: Any, db_url: str, shipped_form: Form
) -> None:
    patient, ev = patient_with(db, shipped_form, runner_values())
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    ed.accept_button.click()
    ed.list.setCurrentRow(2)
    reps = ed.fields["reps"]
    reps.setFocus()
    reps.selectAll()
    qtbot.keyClicks(reps, "15")
    qtbot.keyClick(reps, Qt.Key.Key_Tab)
    shown = ed.value()
    assert shown is not None
    qtbot.waitUntil(lambda: stored_program(db_url, ev.id) == shown.plain(), timeout=10_000)
    assert stored_program(db_url, ev.id)["exercises"][2]["reps"] == 15


def test_a_clinic_exercise_with_its_picture_goes_into_the_program(
    qtbot: Any, make_window: Any, db: Any, db_url: str, shipped_form: Form, tmp_path: Path
) -> None:
    """Saved in the library dialog while a record is open: found by the editor's search, added,
    and stored with a snapshot naming its picture (the handout prints that picture)."""
    from clinic_app.ui.library_dialog import LibraryDialog

    patient, ev = patient_with(db, shipped_form, runner_values())
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    ed.accept_button.click()
    library = LibraryDialog(window.context, window)
    qtbot.addWidget(library)
    library.title.setText("Wall sit")
    library.purpose.setText("Strong thighs without moving the knee.")
    library.steps.setPlainText("Back on a wall.\\nSlide down.\\nHold.")
    library.kind.setCurrentIndex(library.kind.findData("isometric"))
    library.hold.setText("30")
    svg = tmp_path / "wall.svg"
    svg.write_bytes(
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" '
        b'r="4"/></svg>'
    )
    library.add_picture(svg)
    qtbot.waitUntil(lambda: len(library.pictures) == 1)
    sha = library.pictures[0].sha256
    library.on_save_clicked()
    qtbot.waitUntil(lambda: library.status.text().startswith("Saved"))
    library.close()
    _add_by_search(qtbot, ed, "wall", "clinic:wall_sit")
    save(qtbot, window)
    added = stored_program(db_url, ev.id)["exercises"][-1]
    assert added["exercise"] == "clinic:wall_sit"
    assert added["hold_seconds"] == 30
    assert added["snapshot"]["title"] == "Wall sit"
    assert added["snapshot"]["origin"] == "clinic"
    assert added["snapshot"]["pictures"] == [sha]
