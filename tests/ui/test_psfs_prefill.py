"""A follow-up PSFS starts from the episode's first PSFS activities (both ways of answering:
the clinician's entry and the patient's self-entry), each unrated and marked as carried; only a
rated one is stored. Real widgets (offscreen), a real SQLite file, the rows read back."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from clinic_app.core.findings import validate
from clinic_app.core.form import Form
from clinic_app.storage import models as m
from clinic_app.storage import records
from clinic_app.storage.records.evaluations import earlier_in_episode
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.questionnaire_field import QuestionnaireEditor
from clinic_app.ui.self_entry import ClinicianEntryDialog, SelfEntryWindow
from tests.ui.conftest import PASSWORD
from tests.ui.helpers import settle, when_modal
from tests.ui.test_self_entry import outcomes_form, sign_back

BASELINE_ON = date(2026, 11, 2)
FOLLOW_ON = date(2026, 11, 16)


@pytest.fixture
def form(tmp_path: Path) -> Form:
    return outcomes_form(tmp_path)


@pytest.fixture
def patients(db) -> tuple[records.Patient, records.Patient]:
    ada = records.create_patient(db, records.PatientFields("Ada", "Lovelace", "MRN-7731"), user="t")
    grace = records.create_patient(
        db, records.PatientFields("Grace", "Hopper", "MRN-1906"), user="t"
    )
    return ada, grace


@pytest.fixture
def win(qtbot, db, form, account, patients) -> MainWindow:
    w = MainWindow(db, form, account, idle_lock_ms=600_000)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    settle(qtbot, w)
    return w


def psfs_value(activities: list[str], scores: list[int | None] | None = None) -> dict[str, Any]:
    scores = scores or [n % 11 for n in range(len(activities))]
    answers = {
        f"a{n + 1}": {"activity": text, "score": score}
        for n, (text, score) in enumerate(zip(activities, scores, strict=True))
    }
    return {"questionnaire": "psfs", "answers": answers, "reported_by": "patient"}


def baseline(db, form: Form, patient, activities: list[str] | None, on: date = BASELINE_ON):
    """The episode's initial evaluation, with a PSFS naming ``activities`` (None: no PSFS)."""
    ev = records.start_evaluation(db, patient.id, form, user="t", eval_date=on)
    if activities is not None:
        values = {"psfs_answers": psfs_value(activities)}
        records.save_draft(db, ev.id, validate(form, {"values": values}), ev.version, user="t")
    return records.get_evaluation(db, ev.id)


def follow_up(db, form: Form, patient, first) -> Any:
    return records.start_evaluation(
        db,
        patient.id,
        form,
        user="t",
        kind="re_evaluation",
        eval_date=FOLLOW_ON,
        copy_forward=False,
        episode_id=first.episode_id,
    )


def open_record(qtbot, w: MainWindow, db, evaluation, patient) -> Any:
    w.open_evaluation(records.get_evaluation(db, evaluation.id), patient)
    qtbot.waitUntil(lambda: w.page.view is not None and w.page.view.isVisible())
    editor = w.page.view.editor
    editor.set_current_section("outcomes")
    field = editor.editor("psfs_answers")
    assert isinstance(field, QuestionnaireEditor)
    return field


def stored(db, evaluation_id: int) -> dict[str, Any]:
    return dict(records.get_evaluation(db, evaluation_id).findings.get("values", {}))


def enter(qtbot, field: QuestionnaireEditor, drive: Any) -> list[ClinicianEntryDialog]:
    seen: list[ClinicianEntryDialog] = []

    def handle(dialog: Any) -> None:
        assert isinstance(dialog, ClinicianEntryDialog)
        seen.append(dialog)
        drive(dialog)

    when_modal(handle)
    qtbot.mouseClick(field.enter_button, Qt.MouseButton.LeftButton)
    assert seen, "the entry dialog did not open"
    return seen


def rate(pager: Any, score: int) -> None:
    QTest.keyClicks(pager, str(score))
    QTest.keyClick(pager, Qt.Key.Key_Return)


def test_clinician_entry_carries_the_baseline_and_stores_only_the_rated_one(
    qtbot, db, form, win, patients
):
    ada = patients[0]
    first = baseline(db, form, ada, ["Sprinting", "Sitting through a film", "Stairs"])
    later = follow_up(db, form, ada, first)
    field = open_record(qtbot, win, db, later, ada)
    seen: dict[str, Any] = {}

    def drive(dialog: ClinicianEntryDialog) -> None:
        pager = dialog.pager
        assert pager.activity.text() == "Sprinting"
        assert pager.answers["a1"] is None  # the score is empty
        assert pager.carried_note.isVisible()
        seen["note"] = pager.carried_note.text()
        rate(pager, 4)
        assert pager.activity.text() == "Sitting through a film"
        assert pager.carried_note.isVisible()
        pager.activity.setText("Sitting through a long film")  # reworded: no longer "carried"
        assert not pager.carried_note.isVisible()
        pager.activity.setText("Sitting through a film")
        seen["raw"] = pager.raw("clinician")["answers"]
        qtbot.mouseClick(pager.stop_button, Qt.MouseButton.LeftButton)  # "Done"

    enter(qtbot, field, drive)
    assert "named at the initial evaluation of 2026-11-02" in seen["note"]
    assert seen["raw"] == {"a1": {"activity": "Sprinting", "score": 4}}
    assert win.page.flush()
    values = stored(db, later.id)
    assert values["psfs_answers"]["answers"] == {"a1": {"activity": "Sprinting", "score": 4}}
    assert values["psfs_answers"]["reported_by"] == "clinician"
    assert "psfs_mean" not in values  # one of three rated: incomplete, no mean
    assert "incomplete" in field.summary.text()
    # The baseline is read, never written.
    now = records.get_evaluation(db, first.id)
    assert (now.version, now.findings) == (first.version, first.findings)


def test_nothing_rated_stores_nothing_and_counts_as_not_started(qtbot, db, form, win, patients):
    ada = patients[0]
    first = baseline(db, form, ada, ["Sprinting", "Stairs", "Hills"])
    later = follow_up(db, form, ada, first)
    field = open_record(qtbot, win, db, later, ada)
    before = records.get_evaluation(db, later.id).version

    def drive(dialog: ClinicianEntryDialog) -> None:
        pager = dialog.pager
        assert pager.answered_count() == 0
        assert pager.raw("clinician")["answers"] == {}
        qtbot.mouseClick(pager.stop_button, Qt.MouseButton.LeftButton)

    dialogs = enter(qtbot, field, drive)
    assert dialogs[0].result() == 0  # rejected: nothing answered
    assert win.page.flush()
    row = records.get_evaluation(db, later.id)
    assert "psfs_answers" not in row.findings.get("values", {})
    assert row.version == before
    assert field.value is None
    assert "No answers yet" in field.summary.text()


def test_five_earlier_activities_are_all_carried_in_their_slots(qtbot, db, form, win, patients):
    ada = patients[0]
    names = ["Running", "Sitting 30 minutes", "Stairs", "Squatting", "Putting on shoes"]
    first = baseline(db, form, ada, names)
    later = follow_up(db, form, ada, first)
    field = open_record(qtbot, win, db, later, ada)
    shown: list[str] = []

    def drive(dialog: ClinicianEntryDialog) -> None:
        pager = dialog.pager
        for n in range(5):
            shown.append(pager.activity.text())
            rate(pager, n + 2)
        # the last one rated: the dialog accepts by itself

    enter(qtbot, field, drive)
    assert shown == names
    assert win.page.flush()
    values = stored(db, later.id)
    assert values["psfs_answers"]["answers"] == {
        f"a{n + 1}": {"activity": name, "score": n + 2} for n, name in enumerate(names)
    }
    assert values["psfs_mean"] == pytest.approx(4.0)


@pytest.mark.parametrize("hostile", ["x" * 5000, "Sit\x00ting\x1b[2J"])
def test_a_hostile_earlier_text_is_not_carried(qtbot, db, form, win, patients, hostile):
    ada = patients[0]
    first = baseline(db, form, ada, ["Stairs", "Hills", "Running"])
    # An older or hand-edited database: the check that stores answers would refuse this text.
    bad = psfs_value(["Stairs", hostile, "Running"])
    with db.writing() as s:
        s.execute(
            update(m.Evaluation)
            .where(m.Evaluation.id == first.id)
            .values(findings={**first.findings, "values": {"psfs_answers": bad}})
        )
    later = follow_up(db, form, ada, first)
    field = open_record(qtbot, win, db, later, ada)
    seen: list[tuple[str, bool, str]] = []

    def drive(dialog: ClinicianEntryDialog) -> None:
        pager = dialog.pager
        rate(pager, 5)
        seen.append(
            (pager.activity.text(), pager.carried_note.isVisible(), pager.carried_note.text())
        )
        pager.activity.setText("Hills")
        QTest.keyClick(pager.activity, Qt.Key.Key_Return)
        rate(pager, 6)
        qtbot.mouseClick(pager.stop_button, Qt.MouseButton.LeftButton)

    enter(qtbot, field, drive)
    text, note_shown, note = seen[0]
    assert text == ""
    assert note_shown
    assert "Not carried over" in note
    assert win.page.flush()
    assert stored(db, later.id)["psfs_answers"]["answers"] == {
        "a1": {"activity": "Stairs", "score": 5},
        "a2": {"activity": "Hills", "score": 6},
    }


def test_another_patients_psfs_is_never_carried(qtbot, db, form, win, patients):
    ada, grace = patients
    first = baseline(db, form, ada, None)  # Ada: no PSFS yet
    theirs = baseline(db, form, grace, ["Rowing", "Lifting the boat", "Stairs"], date(2026, 10, 1))
    # A row of Grace's cannot even be moved into Ada's episode (the database refuses it).
    with pytest.raises(IntegrityError), db.writing() as s:
        s.execute(
            update(m.Evaluation)
            .where(m.Evaluation.id == theirs.id)
            .values(episode_id=first.episode_id)
        )
    later = follow_up(db, form, ada, first)
    assert [r.id for r in earlier_in_episode(db, later.id)] == [first.id]
    field = open_record(qtbot, win, db, later, ada)
    seen: list[tuple[str, bool]] = []

    def drive(dialog: ClinicianEntryDialog) -> None:
        seen.append((dialog.pager.activity.text(), dialog.pager.carried is None))
        dialog.reject()

    enter(qtbot, field, drive)
    assert seen == [("", True)]


def test_only_earlier_records_are_read(db, form, patients):
    ada = patients[0]
    first = baseline(db, form, ada, None)
    later = follow_up(db, form, ada, first)
    values = {"psfs_answers": psfs_value(["Stairs", "Hills", "Running"])}
    records.save_draft(db, later.id, validate(form, {"values": values}), later.version, user="t")
    assert earlier_in_episode(db, first.id) == []  # the later PSFS is not the first's past
    assert [r.id for r in earlier_in_episode(db, later.id)] == [first.id]


def test_a_signed_record_takes_no_answers_and_is_not_changed(qtbot, db, form, win, patients):
    ada = patients[0]
    first = baseline(db, form, ada, ["Sprinting", "Stairs", "Hills"])
    later = follow_up(db, form, ada, first)
    records.sign_evaluation(db, later.id, later.version, user="t")
    signed = records.get_evaluation(db, later.id)
    field = open_record(qtbot, win, db, later, ada)
    assert not field.enter_button.isEnabled()
    assert not field.hand_button.isEnabled()
    from clinic_app.ui.self_entry import hand_to_patient

    when_modal(lambda box: box.accept())  # "A signed record cannot take answers."
    assert hand_to_patient(win, "psfs_answers") is None
    win.page.flush()
    now = records.get_evaluation(db, later.id)
    assert now.version == signed.version
    assert now.findings == signed.findings
    assert records.verify_evaluation(db, later.id)


def test_the_patient_rates_one_drops_one_and_stops(qtbot, db, form, win, patients):
    ada = patients[0]
    first = baseline(db, form, ada, ["Sprinting", "Sitting through a film", "Stairs"])
    later = follow_up(db, form, ada, first)
    field = open_record(qtbot, win, db, later, ada)
    qtbot.mouseClick(field.hand_button, Qt.MouseButton.LeftButton)
    screen = win.self_entry
    assert isinstance(screen, SelfEntryWindow)
    qtbot.waitUntil(screen.isVisible)
    pager = screen.pager
    assert pager.activity.text() == "Sprinting"
    assert pager.carried_note.isVisible()
    assert pager.drop_button.isVisible()
    rate(pager, 7)
    assert pager.activity.text() == "Sitting through a film"
    qtbot.mouseClick(pager.drop_button, Qt.MouseButton.LeftButton)  # not this one today
    assert pager.progress.text() == "item 3 of 5"
    assert pager.activity.text() == "Stairs"
    rate(pager, 8)
    assert pager.activity.text() == ""  # a4: nothing was named there
    assert not pager.drop_button.isVisible()
    qtbot.mouseClick(pager.stop_button, Qt.MouseButton.LeftButton)
    when_modal(lambda box: box.buttons()[0].click())  # keep the partial answers
    sign_back(qtbot, screen, PASSWORD)
    qtbot.waitUntil(lambda: not screen.isVisible())
    assert win.page.flush()
    values = stored(db, later.id)
    assert values["psfs_answers"]["answers"] == {
        "a1": {"activity": "Sprinting", "score": 7},
        "a3": {"activity": "Stairs", "score": 8},
    }
    assert values["psfs_answers"]["reported_by"] == "patient"
