"""The questionnaire field (issue 16): the response and its score land in one findings update
(read back from the draft row), the clinician can enter answers item by item, and a total typed
over by hand makes the sign check name both numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from clinic_app.core.findings import empty
from clinic_app.core.form import Form
from clinic_app.core.responses import Response
from clinic_app.storage import records
from clinic_app.ui.editor import EvaluationEditor
from clinic_app.ui.main_window import MainWindow
from clinic_app.ui.questionnaire_field import QuestionnaireEditor
from clinic_app.ui.self_entry import ClinicianEntryDialog
from clinic_app.ui.sign_check import confirmation_text, sign_check
from tests.ui.helpers import settle, when_modal
from tests.ui.test_self_entry import LEFS, open_outcomes, outcomes_form, stored


@pytest.fixture
def form(tmp_path: Path) -> Form:
    return outcomes_form(tmp_path)


@pytest.fixture
def patient(db) -> records.Patient:
    return records.create_patient(
        db, records.PatientFields("Ada", "Lovelace", "MRN-7731"), user="t"
    )


@pytest.fixture
def win(qtbot, db, form, account, patient) -> MainWindow:
    w = MainWindow(db, form, account, idle_lock_ms=600_000)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    settle(qtbot, w)
    return w


def lefs_response(values: list[int | None], reporter: str = "patient") -> Response:
    answers = {f"q{n + 1:02d}": v for n, v in enumerate(values) if v is not None}
    return Response("lefs", answers, reporter, "en", "2026-03-02T10:41")  # type: ignore[arg-type]


def test_a_response_and_its_score_are_one_findings_update(qtbot, db, win, patient):
    editor = open_outcomes(qtbot, win, patient)
    seen: list[Any] = []
    editor.findings_changed.connect(seen.append)
    field = editor.editor("lefs_answers")
    assert isinstance(field, QuestionnaireEditor)
    field.land(lefs_response(LEFS))
    assert len(seen) == 1  # one update: the answers and the total together
    assert seen[0].values["lefs_total"] == 52
    assert isinstance(seen[0].values["lefs_answers"], Response)
    assert editor.editor("lefs_total").line.text() == "52"
    assert win.page.flush()
    row = records.get_evaluation(db, win.page.evaluation.id)
    values = row.findings["values"]
    assert values["lefs_total"] == 52
    assert values["lefs_answers"]["answers"]["q08"] == 0
    assert values["lefs_answers"]["reported_at"] == "2026-03-02T10:41"
    # What the screen shows is what is stored: the field's text names the stored total.
    assert "LEFS 52/80" in field.summary.text()
    assert field.reported.text() == "Reported by the patient, 2 Mar 2026 10:41"


def test_an_incomplete_response_clears_the_total_and_says_why(qtbot, db, win, patient):
    editor = open_outcomes(qtbot, win, patient)
    editor.editor("lefs_answers").land(lefs_response(LEFS))
    editor.editor("lefs_answers").land(lefs_response([*LEFS[:19], None]))
    assert editor.editor("lefs_total").line.text() == ""
    summary = editor.editor("lefs_answers").summary.text()
    assert "incomplete" in summary
    assert "1 of 20 items not answered (q20)" in summary
    assert win.page.flush()
    values = stored(db, win)
    assert "lefs_total" not in values
    assert len(values["lefs_answers"]["answers"]) == 19


def test_the_clinician_enters_answers_item_by_item(qtbot, db, win, patient):
    editor = open_outcomes(qtbot, win, patient)
    field = editor.editor("lefs_answers")

    def answer_all(dialog: Any) -> None:
        assert isinstance(dialog, ClinicianEntryDialog)
        for value in LEFS:
            QTest.keyClicks(dialog.pager, str(value))
            QTest.keyClick(dialog.pager, Qt.Key.Key_Return)

    when_modal(answer_all)
    qtbot.mouseClick(field.enter_button, Qt.MouseButton.LeftButton)
    assert win.page.flush()
    values = stored(db, win)
    assert values["lefs_answers"]["reported_by"] == "clinician"
    assert values["lefs_total"] == 52
    assert field.reported.text().startswith("Reported by the clinician")


def test_the_clinician_entry_dialog_cancelled_keeps_the_stored_answers(qtbot, db, win, patient):
    editor = open_outcomes(qtbot, win, patient)
    field = editor.editor("lefs_answers")
    field.land(lefs_response(LEFS))

    def close(dialog: Any) -> None:
        dialog.reject()

    when_modal(close)
    qtbot.mouseClick(field.enter_button, Qt.MouseButton.LeftButton)
    assert win.page.flush()
    values = stored(db, win)
    assert values["lefs_total"] == 52
    assert len(values["lefs_answers"]["answers"]) == 20


def test_a_total_typed_over_the_answers_is_named_by_the_sign_check(qtbot, form):
    editor = EvaluationEditor(form, empty(form))
    qtbot.addWidget(editor)
    editor.set_current_section("outcomes")
    editor.editor("lefs_answers").land(lefs_response(LEFS))
    line = editor.editor("lefs_total").line
    line.clear()
    QTest.keyClicks(line, "60")
    assert editor.findings.values["lefs_total"] == 60
    check = sign_check(form, editor.findings, editor.invalid_fields(), ())
    assert len(check.scores) == 1
    assert "60" in check.scores[0]
    assert "52" in check.scores[0]
    text = confirmation_text(check, "Dana Physio")
    assert "A score differs from its answers" in text
    assert "LEFS total is 60, but the LEFS answers (patient-reported) score 52" in text
    line.clear()
    QTest.keyClicks(line, "52")
    assert sign_check(form, editor.findings, editor.invalid_fields(), ()).scores == ()


def test_a_hostile_response_is_refused_beside_the_field_naming_the_item(qtbot, form):
    editor = EvaluationEditor(form, empty(form))
    qtbot.addWidget(editor)
    editor.set_current_section("outcomes")
    field = editor.editor("lefs_answers")
    field.edited.emit({"questionnaire": "lefs", "answers": {"q03": 9}, "reported_by": "patient"})
    row = editor.row("lefs_answers")
    assert not row.error.isHidden()
    assert "q03" in row.error.text()
    assert "out of range" in row.error.text()
    assert "lefs_answers" not in editor.findings.values
    assert "lefs_total" not in editor.findings.values
