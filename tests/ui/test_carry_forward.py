"""A re-evaluation opened from a signed evaluation with red flags set (issue 12, "Done when").

The red-flag screen and today's pain start empty; carried values are marked in the editor and in
the report until re-measured or confirmed (one click or Ctrl+Return confirms a section); a
re-measured item shows the last visit's value and the change, in the editor and the report.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from PySide6.QtCore import Qt

from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.reports import build_clinician_report
from clinic_app.reports.records import report_data_for_evaluation
from clinic_app.storage import records
from clinic_app.ui.fields import NumberEditor
from tests.reports.conftest import build_pdf
from tests.ui.helpers import settle

FIRST: dict[str, Any] = {
    "involved_side": "left",
    "pain_now": 6,
    "pain_during_run": 5,
    "run_pain_behaviour": "grows",
    "rf_saddle_numbness": "yes",
    "rf_pop": "yes",
    "rf_bruising": "yes",
    "slr_deg": {"left": 62, "right": 80},
    "hip_flexor_mmt": {"left": 5, "right": 3.75},
    "hip_ext_mmt": {"left": 4, "right": 5},
}


@pytest.fixture(scope="module")
def shipped_form() -> Form:
    return load_form(default_form_path())


@pytest.fixture
def reopened(qtbot: Any, db: Any, shipped_form: Form, clinician: Any) -> tuple[Any, int]:
    from clinic_app.ui.main_window import MainWindow

    patient = records.create_patient(db, records.PatientFields("Rae", "Again", "MRN-RE"), user="t")
    first = records.start_evaluation(db, patient.id, shipped_form, user="t")
    saved = records.save_draft(db, first.id, {"values": FIRST}, first.version, user="t")
    records.sign_evaluation(db, first.id, saved.version, user="t")
    w = MainWindow(db, shipped_form, clinician)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.patients.model.reload()
    w.patients.select_patient(patient.id)
    w.detail.re_eval_button.click()
    settle(qtbot, w)
    assert w.page.evaluation is not None
    assert w.page.evaluation.carried_from == first.id
    return w, first.id


def test_red_flags_and_pain_start_empty_and_carried_values_are_marked(qtbot, reopened) -> None:
    window, _first = reopened
    editor = window.page.view.editor
    values = editor.findings.values
    for item_id in ("rf_saddle_numbness", "rf_pop", "rf_bruising", "pain_now", "pain_during_run"):
        assert item_id not in values, item_id
    editor.set_current_section("red_flags")
    assert editor.editor("rf_saddle_numbness").value() is None
    assert window.page.view.assessment.red_flags == ()
    assert not window.page.view.banner.isVisible()
    assert set(editor.carried()) == {"involved_side", "slr_deg", "hip_flexor_mmt", "hip_ext_mmt"}
    assert "↻ from last visit" in editor.row("slr_deg").label.text()
    editor.set_current_section("flexibility")
    flex = window.form.sections.index(window.form.section_of("slr_deg"))
    assert editor.nav.topLevelItem(flex).text(1) == "1/3 ↻1"  # recorded, but only carried
    page = editor.current_page()
    assert page.confirm_button.isVisible()
    assert page.confirm_button.text() == "Confirm 1 carried value"


def test_re_measuring_shows_the_change_and_confirming_ends_the_mark(qtbot, reopened) -> None:
    window, _first = reopened
    editor = window.page.view.editor
    editor.set_current_section("flexibility")
    line = editor.editor("slr_deg", "left")
    assert isinstance(line, NumberEditor)
    line.line.clear()
    qtbot.keyClicks(line.line, "66")
    label = editor.row("slr_deg").label.text()
    assert "from last visit" not in label
    assert "Last visit: L 62°, +4° · R 80°, no change" in label
    assert "slr_deg" not in editor.carried()
    # One key confirms a whole section's carried values.
    editor.set_current_section("hips")
    editor.focus_first_field()
    qtbot.keyClick(
        editor.current_page().focus_widgets()[0],
        Qt.Key.Key_Return,
        Qt.KeyboardModifier.ControlModifier,
    )
    assert "hip_flexor_mmt" not in editor.carried()
    assert "hip_ext_mmt" not in editor.carried()
    assert not editor.current_page().confirm_button.isVisible()
    hips = window.form.sections.index(window.form.section_of("hip_ext_mmt"))
    assert editor.nav.topLevelItem(hips).text(1) == "2/17"
    assert "Last visit: L 5, no change · R 4−, no change" in (
        editor.row("hip_flexor_mmt").label.text().replace("/5", "")
    )
    assert window.page.flush()
    stored = records.get_evaluation(window.db, window.page.evaluation.id)
    assert stored.carried_forward == ("involved_side",)
    assert stored.values["slr_deg"] == {"left": 66, "right": 80}


def test_the_report_marks_carried_values_and_shows_the_change(qtbot, reopened) -> None:
    window, _first = reopened
    editor = window.page.view.editor
    editor.set_current_section("flexibility")
    line = editor.editor("slr_deg", "left")
    line.line.clear()
    qtbot.keyClicks(line.line, "58")
    assert window.page.flush()
    data = report_data_for_evaluation(window.db, window.page.evaluation.id)
    assert data.carried == frozenset({"involved_side", "hip_flexor_mmt", "hip_ext_mmt"})
    flat = build_pdf(build_clinician_report, data).flat
    assert "↻ marks a value carried forward from the last visit" in flat
    assert "58° (last visit 62°, −4°)" in flat
    assert "4−/5 ↻" in flat  # carried, not re-measured
    assert "right one grade weaker (4 vs 5)" not in flat  # hip extensor: left is the weaker
    assert "left one grade weaker (4 vs 5)" in flat
    # The table and the side-to-side chart name grades: no percentage, no LSI for a muscle test.
    assert flat.count("right more than a grade weaker (4− vs 5)") == 2
    rows = [m.group(1) for m in re.finditer(r"\(MMT\)(.{0,70})", flat)]
    assert len(rows) >= 4
    assert all("%" not in row and "LSI" not in row for row in rows), rows
