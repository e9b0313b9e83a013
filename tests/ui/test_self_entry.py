"""The patient's self-entry screen (issue 16): driven by keys only and by mouse clicks on real
widgets, the answers read back from the draft row; no other patient reachable while it shows; only
the clinician's password (a wrong one keeps it locked) brings the clinic's screen back; stopping
part-way keeps nothing unless the clinician keeps the partial answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QLineEdit,
    QWidget,
)

from clinic_app.core.form import Form, load_form
from clinic_app.storage import records
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.questionnaire_field import QuestionnaireEditor
from clinic_app.ui.self_entry import PATIENT_PT, SelfEntryWindow
from tests.ui.conftest import DATA, PASSWORD
from tests.ui.helpers import answer, settle

SHOTS = Path("/tmp/clinic_app_self_entry")
OUTCOMES = {
    "id": "outcomes",
    "title": "Outcome measures",
    "items": [
        {
            "id": "lefs_total",
            "label": "LEFS total",
            "type": "number",
            "unit": "points",
            "integer": True,
            "range": {"min": 0, "max": 80},
            "mcid": 9,
            "source": "test",
        },
        {
            "id": "lefs_answers",
            "label": "LEFS answers",
            "type": "questionnaire",
            "questionnaire": "lefs",
            "score_item": "lefs_total",
            "source": "test",
        },
        {
            "id": "psfs_mean",
            "label": "PSFS mean",
            "type": "number",
            "unit": "points",
            "range": {"min": 0, "max": 10},
            "source": "test",
        },
        {
            "id": "psfs_answers",
            "label": "PSFS answers",
            "type": "questionnaire",
            "questionnaire": "psfs",
            "score_item": "psfs_mean",
            "source": "test",
        },
    ],
}


def outcomes_form(folder: Path) -> Form:
    """The UI tests' small form with an outcome-measures page (LEFS and PSFS answers)."""
    data = yaml.safe_load((DATA / "mini_form.yaml").read_text(encoding="utf-8"))
    data["id"] = "mini_outcomes"
    data["sections"].append(OUTCOMES)
    path = folder / "outcomes_form.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_form(path)


@pytest.fixture
def form(tmp_path: Path) -> Form:
    return outcomes_form(tmp_path)


@pytest.fixture
def patients(db) -> tuple[records.Patient, records.Patient]:
    ada = records.create_patient(
        db, records.PatientFields("Ada", "Lovelace", "MRN-7731", activity="fencing"), user="t"
    )
    grace = records.create_patient(
        db, records.PatientFields("Grace", "Hopper", "MRN-1906", activity="rowing"), user="t"
    )
    return ada, grace


@pytest.fixture
def win(qtbot, db, form, account, patients) -> MainWindow:
    w = MainWindow(db, form, account, idle_lock_ms=600_000)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    settle(qtbot, w)
    return w


def open_outcomes(qtbot, w: MainWindow, patient: records.Patient) -> Any:
    w.patients.model.reload()
    w.patients.select_patient(patient.id)
    w.detail.new_eval_button.click()
    settle(qtbot, w)
    view = w.page.view
    assert view is not None
    view.editor.set_current_section("outcomes")
    return view.editor


def hand_over(qtbot, w: MainWindow, item_id: str) -> SelfEntryWindow:
    field = w.page.view.editor.editor(item_id)
    assert isinstance(field, QuestionnaireEditor)
    qtbot.mouseClick(field.hand_button, Qt.MouseButton.LeftButton)
    screen = w.self_entry
    assert isinstance(screen, SelfEntryWindow)
    qtbot.waitUntil(screen.isVisible)
    # Full screen comes a moment later; until then the pager lays out for the smaller window.
    qtbot.waitUntil(lambda: screen.geometry() == screen.screen().geometry())
    return screen


def stored(db, w: MainWindow) -> dict[str, Any]:
    assert w.page.evaluation is not None
    return dict(records.get_evaluation(db, w.page.evaluation.id).findings.get("values", {}))


def sign_back(qtbot, screen: SelfEntryWindow, password: str) -> None:
    panel = screen.panel
    assert panel.isVisible()
    panel.password.setText(password)
    QTest.keyClick(panel.password, Qt.Key.Key_Return)


def visible_texts() -> list[str]:
    out = []
    for top in QApplication.topLevelWidgets():
        if not top.isVisible():
            continue
        out.append(top.windowTitle())
        for widget in [top, *top.findChildren(QWidget)]:
            if widget.isVisible() and isinstance(widget, QLabel | QAbstractButton | QLineEdit):
                out.append(widget.text())
    return [t for t in out if t]


def shot(widget: QWidget, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))


LEFS = [4, 3, 2, 4, 3, 2, 1, 0, 4, 3, 2, 3, 4, 2, 1, 3, 2, 3, 4, 2]  # sum 52


def test_keyboard_only_lefs_lands_patient_reported_with_its_score(qtbot, db, win, patients):
    editor = open_outcomes(qtbot, win, patients[0])
    screen = hand_over(qtbot, win, "lefs_answers")
    assert not win.isVisible()  # the clinic's window is hidden, and locked behind it
    assert win.locker is not None
    assert win.locker.is_locked
    pager = screen.pager
    assert pager.font().pointSize() >= 20
    assert pager.question.font().pointSize() >= 20
    assert pager.progress.text() == "item 1 of 20"
    shot(screen, "lefs_first_item")
    # A wrong first try on item 5, then Backspace back to it and the right answer.
    for n, value in enumerate(LEFS):
        if n == 5:
            QTest.keyClick(pager, Qt.Key.Key_Backspace)
            assert pager.progress.text() == "item 5 of 20"
            QTest.keyClicks(pager, str(LEFS[4]))
            QTest.keyClick(pager, Qt.Key.Key_Return)
        if n == 4:
            QTest.keyClicks(pager, "0")
            QTest.keyClick(pager, Qt.Key.Key_Return)
            continue
        if n == 7:  # arrows choose too: from 0, Right twice then Left twice is 0 again
            QTest.keyClick(pager, Qt.Key.Key_Left)
            for key in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Left):
                QTest.keyClick(pager, key)
            assert pager.chosen == 0
        else:
            QTest.keyClicks(pager, str(value))
        assert pager.progress.text() == f"item {n + 1} of 20"
        QTest.keyClick(pager, Qt.Key.Key_Return)
    assert screen.stack.currentWidget() is screen.handback
    assert screen.panel.login.text() == "dana"
    shot(screen, "lefs_hand_back")
    sign_back(qtbot, screen, "not the password")
    assert screen.isVisible()  # a wrong password keeps the patient's screen up
    assert not win.isVisible()
    assert screen.panel.error.isVisible()
    sign_back(qtbot, screen, PASSWORD)
    qtbot.waitUntil(lambda: not screen.isVisible())
    assert win.isVisible()
    assert not win.locker.is_locked
    field = editor.editor("lefs_answers")
    assert "LEFS 52/80" in field.summary.text()
    assert field.reported.text().startswith("Reported by the patient, ")
    assert field.reported.isVisible()
    assert editor.editor("lefs_total").line.text() == "52"
    assert win.page.flush()
    values = stored(db, win)
    response = values["lefs_answers"]
    assert response["reported_by"] == "patient"
    assert response["answers"] == {f"q{n + 1:02d}": v for n, v in enumerate(LEFS)}
    assert values["lefs_total"] == 52
    qtbot.mouseClick(field.answers_button, Qt.MouseButton.LeftButton)  # each answer on demand
    assert field.answers.isVisible()
    assert "Squatting down: 2, moderate difficulty" in field.answers.text()
    shot(win, "lefs_landed")


def test_mouse_clicks_psfs_with_the_patients_own_activities(qtbot, db, win, patients):
    editor = open_outcomes(qtbot, win, patients[0])
    screen = hand_over(qtbot, win, "psfs_answers")
    pager = screen.pager
    for activity, rating in (("Sprinting", 3), ("Sitting through a film", 5), ("Stairs", 8)):
        assert pager.activity.isVisible()
        qtbot.mouseClick(pager.activity, Qt.MouseButton.LeftButton)
        pager.activity.setText(activity)
        QTest.keyClick(pager.activity, Qt.Key.Key_Return)
        button = pager.grid_host.findChild(QAbstractButton, f"answer_{rating}")
        assert button is not None
        assert button.minimumHeight() >= 60  # a finger's tap
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert pager.progress.text() == "item 4 of 5"
    shot(screen, "psfs_fourth")
    assert pager.no_more_button.isVisible()
    qtbot.mouseClick(pager.no_more_button, Qt.MouseButton.LeftButton)
    sign_back(qtbot, screen, PASSWORD)
    qtbot.waitUntil(lambda: not screen.isVisible())
    assert win.page.flush()
    values = stored(db, win)
    assert values["psfs_answers"]["answers"] == {
        "a1": {"activity": "Sprinting", "score": 3},
        "a2": {"activity": "Sitting through a film", "score": 5},
        "a3": {"activity": "Stairs", "score": 8},
    }
    assert values["psfs_answers"]["reported_by"] == "patient"
    assert values["psfs_mean"] == pytest.approx(5.3)
    assert editor.editor("psfs_mean").line.text() == "5.3"


def test_no_other_patient_and_no_main_window_shortcut_is_reachable(qtbot, db, win, patients):
    ada, _grace = patients
    open_outcomes(qtbot, win, ada)
    before = len(records.list_evaluations(db, ada.id))
    screen = hand_over(qtbot, win, "lefs_answers")
    triggered: list[str] = []
    for key, action in win.actions_.items():
        action.triggered.connect(lambda _c=False, k=key: triggered.append(k))
    target = QApplication.focusWidget() or screen.pager
    for key, mods in (
        (Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
        (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
    ):
        QTest.keyClick(target, key, mods)
        QTest.keyClick(screen, key, mods)
    screen.close()  # what Alt+F4 asks of a window manager
    QApplication.processEvents()
    assert screen.isVisible()
    assert not win.isVisible()
    assert triggered == []
    assert QApplication.activeModalWidget() is None
    assert len(records.list_evaluations(db, ada.id)) == before
    texts = " ".join(visible_texts())
    for other in ("Grace", "Hopper", "MRN-1906", "Lovelace", "MRN-7731", "rowing", "fencing"):
        assert other not in texts, other
    assert "Ada" in texts  # the patient is greeted by first name only
    shot(screen, "keys_sent")
    qtbot.mouseClick(screen.pager.stop_button, Qt.MouseButton.LeftButton)
    sign_back(qtbot, screen, PASSWORD)
    qtbot.waitUntil(lambda: not screen.isVisible())


@pytest.mark.parametrize("keep", [False, True])
def test_stopping_keeps_nothing_unless_the_clinician_keeps_the_partial_answers(
    qtbot, db, win, patients, keep
):
    editor = open_outcomes(qtbot, win, patients[0])
    screen = hand_over(qtbot, win, "lefs_answers")
    for value in (4, 3, 2):
        QTest.keyClicks(screen.pager, str(value))
        QTest.keyClick(screen.pager, Qt.Key.Key_Return)
    qtbot.mouseClick(screen.pager.stop_button, Qt.MouseButton.LeftButton)
    assert screen.stack.currentWidget() is screen.handback
    answer("Keep the partial answers" if keep else "Discard them")
    sign_back(qtbot, screen, PASSWORD)
    qtbot.waitUntil(lambda: not screen.isVisible())
    assert win.page.flush()
    values = stored(db, win)
    field = editor.editor("lefs_answers")
    if not keep:
        assert "lefs_answers" not in values
        assert "No answers yet" in field.summary.text()
        return
    assert values["lefs_answers"]["answers"] == {"q01": 4, "q02": 3, "q03": 2}
    assert "lefs_total" not in values  # an incomplete score leaves the total blank
    assert "incomplete" in field.summary.text()
    assert "17 of 20 items not answered" in field.summary.text()


def test_the_window_action_hands_the_open_records_questionnaire_over(qtbot, db, win, patients):
    open_outcomes(qtbot, win, patients[0])
    action = win.actions_["hand_to_patient"]
    assert action.isEnabled()
    answer("OK")  # the chooser: two questionnaires, the first (LEFS) chosen
    action.trigger()
    screen = win.self_entry
    assert isinstance(screen, SelfEntryWindow)
    assert screen.item.id == "lefs_answers"
    assert PATIENT_PT >= 20
    qtbot.mouseClick(screen.pager.stop_button, Qt.MouseButton.LeftButton)
    sign_back(qtbot, screen, PASSWORD)
    qtbot.waitUntil(lambda: not screen.isVisible())
    assert win.isVisible()


def test_a_control_character_in_an_activity_is_refused_naming_the_item(qtbot, win, patients):
    open_outcomes(qtbot, win, patients[0])
    screen = hand_over(qtbot, win, "psfs_answers")
    pager = screen.pager
    pager.activity.setText("Run\x07ning")
    QTest.keyClick(pager.activity, Qt.Key.Key_Return)
    assert pager.error.isVisible()
    assert "Activity 1" in pager.error.text()
    assert "control character" in pager.error.text()
    QTest.keyClicks(pager, "5")  # the rating is refused too while the text is bad
    QTest.keyClick(pager, Qt.Key.Key_Return)
    assert pager.progress.text() == "item 1 of 5"
    # nothing was accepted, so stopping asks nothing (a "Discard them" question left waiting
    # here would answer the next test's first dialog) and goes straight to the hand-back
    qtbot.mouseClick(pager.stop_button, Qt.MouseButton.LeftButton)
    assert QApplication.activeModalWidget() is None
    sign_back(qtbot, screen, PASSWORD)
    qtbot.waitUntil(lambda: not screen.isVisible())


def test_only_the_clinician_who_handed_it_over_signs_back_in(
    qtbot, db, win, patients, other_account
):
    from clinic_app.storage.errors import StorageError
    from tests.ui.conftest import OTHER_PASSWORD

    open_outcomes(qtbot, win, patients[0])
    screen = hand_over(qtbot, win, "lefs_answers")
    qtbot.mouseClick(screen.pager.stop_button, Qt.MouseButton.LeftButton)
    assert screen.panel.login.isReadOnly()
    with pytest.raises(StorageError, match="Only Dana Physio"):
        screen.panel.authenticate("lee", OTHER_PASSWORD)
    assert screen.isVisible()
    sign_back(qtbot, screen, PASSWORD)
    qtbot.waitUntil(lambda: not screen.isVisible())


def test_a_signed_records_field_takes_no_answers(qtbot, form):
    from clinic_app.core.findings import empty
    from clinic_app.ui.editor import EvaluationEditor

    editor = EvaluationEditor(form, empty(form))
    qtbot.addWidget(editor)
    editor.set_current_section("outcomes")
    editor.set_read_only(True)
    field = editor.editor("lefs_answers")
    assert not field.hand_button.isEnabled()
    assert not field.enter_button.isEnabled()


def two_languages() -> Any:
    """The LEFS file as if it shipped a second (here made-up) translation, ``de``."""
    from clinic_app.core.questionnaire import parse_questionnaire, questionnaires_dir

    data = yaml.safe_load((questionnaires_dir() / "lefs.yaml").read_text(encoding="utf-8"))

    def add(node: Any) -> None:
        if isinstance(node, dict):
            if set(node) == {"en"}:
                node["de"] = f"DE {node['en']}"
                return
            for v in node.values():
                add(v)
        elif isinstance(node, list):
            for v in node:
                add(v)

    add(data)
    data["languages"] = ["en", "de"]
    return parse_questionnaire(data, "lefs (two languages)")


def test_the_patients_language_where_the_questionnaire_has_it(
    qtbot, db, win, patients, monkeypatch
):
    from clinic_app.core import responses
    from tests.ui.helpers import when_modal

    q = two_languages()
    monkeypatch.setattr(responses, "questionnaire_of", lambda _qid: q)
    open_outcomes(qtbot, win, patients[0])

    def pick_de(dialog: Any) -> None:
        dialog.setTextValue("de")
        dialog.accept()

    when_modal(pick_de)
    screen = hand_over(qtbot, win, "lefs_answers")
    assert screen.pager.question.text() == "DE Your usual work, housework or school tasks"
    assert screen.pager.buttons[4].text().endswith("DE No difficulty")
    for _ in range(20):
        QTest.keyClicks(screen.pager, "4")
        QTest.keyClick(screen.pager, Qt.Key.Key_Return)
    sign_back(qtbot, screen, PASSWORD)
    qtbot.waitUntil(lambda: not screen.isVisible())
    assert win.page.flush()
    values = stored(db, win)
    assert values["lefs_answers"]["language"] == "de"
    assert values["lefs_total"] == 80
