"""What is shown is what is stored: an invalid text never changes the database, and never signs.

Each numeric item type of the shipped form gets an out-of-range value typed key by key, as a
person types it (so every prefix passes through the editor first); after the autosave window the
database is read back. The whole test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QMessageBox

from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records
from clinic_app.ui.fields import ComboEditor, NumberEditor, TextEditor
from tests.storage.conftest import (  # noqa: F401 (fixtures)
    postgres_migrated_url,
    postgres_server,
    postgres_template,
)
from tests.ui.conftest import PASSWORD
from tests.ui.helpers import settle, sign_with_password, when_modal


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, db_url: str) -> Iterator[Any]:
    from clinic_app.storage.database import open_database

    url = db_url if request.param == "sqlite" else request.getfixturevalue("postgres_migrated_url")
    database = open_database(url, backup=False)
    yield database
    database.close()


@pytest.fixture(scope="module")
def shipped_form() -> Form:
    return load_form(default_form_path())


@pytest.fixture
def page(qtbot: Any, db: Any, shipped_form: Form, clinician: Any) -> Any:
    from clinic_app.ui.main_window import MainWindow

    w = MainWindow(db, shipped_form, clinician)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    patient = records.create_patient(db, records.PatientFields("Ida", "Valid", "MRN-IV"), user="t")
    w.patients.model.reload()
    w.patients.select_patient(patient.id)
    w.detail.new_eval_button.click()
    settle(qtbot, w)
    assert w.page.view is not None
    return w


def _type(qtbot: Any, window: Any, item_id: str, side: str | None, text: str) -> None:
    editor = window.page.view.editor
    editor.set_current_section(window.form.section_of(item_id).id)
    ed = editor.editor(item_id, side)
    if isinstance(ed, NumberEditor):
        ed.line.setFocus()
        qtbot.keyClicks(ed.line, text)
    elif isinstance(ed, ComboEditor):
        line = ed.combo.lineEdit()
        assert line is not None
        line.setFocus()
        qtbot.keyClicks(line, text)
    else:
        raise AssertionError(type(ed))


def _stored(window: Any) -> dict[str, Any]:
    evaluation = window.page.evaluation
    return dict(records.get_evaluation(window.db, evaluation.id).values)


def test_out_of_range_values_store_nothing_new_for_every_numeric_type(qtbot, page) -> None:
    window = page
    editor = window.page.view.editor
    # A value saved earlier, then an invalid text typed over it: the saved value stays.
    _type(qtbot, window, "slr_deg", "right", "60")
    editor.editor("slr_deg", "right").line.editingFinished.emit()
    assert window.page.flush()
    assert _stored(window)["slr_deg"] == {"right": 60}

    _type(qtbot, window, "duration_weeks", None, "5200")  # number, one-sided, 0-520
    _type(qtbot, window, "slr_deg", "left", "150")  # bilateral number, 0-130 (issue 12)
    _type(qtbot, window, "slr_deg", "right", "0")  # 600 over the saved 60
    _type(qtbot, window, "pain_now", None, "15")  # 0-10 scale: "1" first, then "15"
    _type(qtbot, window, "hip_flexor_mmt", "left", "45")  # MMT: "4" first, then "45"
    _type(qtbot, window, "hip_flexor_mmt", "right", "4-")  # a minus grade is recorded
    text = editor.editor("scar_history_where")
    assert isinstance(text, TextEditor)
    text.text.setPlainText("x" * 301)  # over the item's 300-character limit
    qtbot.wait(1500)  # past the autosave delay (0.8 s) and its deadline (1 s)
    settle(qtbot, window)

    stored = _stored(window)
    assert "duration_weeks" not in stored  # not 520, 52 or 5
    assert stored["slr_deg"] == {"right": 60}  # not left 15, not right 600 or 60 typed again
    assert "pain_now" not in stored
    assert stored["hip_flexor_mmt"] == {"right": 3.75}
    assert "scar_history_where" not in stored
    invalid = {(i.id, s) for i, s, _ in editor.invalid_fields()}
    assert invalid == {
        ("duration_weeks", None),
        ("slr_deg", "left"),
        ("slr_deg", "right"),
        ("pain_now", None),
        ("hip_flexor_mmt", "left"),
        ("scar_history_where", None),
    }
    # The field shows what was typed, marked; so do the section list and the status bar.
    line = editor.editor("slr_deg", "left").line
    assert line.text() == "150"
    assert line.property("invalid") is True
    flex = window.form.sections.index(window.form.section_of("slr_deg"))
    assert editor.nav.topLevelItem(flex).text(1).startswith("⚠")
    assert "Not accepted: Duration" in window.saved_label.text()
    # No side-to-side badge from a prefix: only the right side is known.
    assert editor.row("slr_deg").asymmetry.text() == ""

    # Signing is refused while any field is invalid, and nothing is signed.
    seen: list[str] = []

    def read(box: Any) -> None:
        seen.append(box.text())
        box.accept()

    when_modal(read)
    window.page.sign_button.click()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert "Passive straight leg raise (left)" in seen[0]
    assert "not accepted" in seen[0]
    settle(qtbot, window)
    assert not records.get_evaluation(window.db, window.page.evaluation.id).is_signed

    # Mended: the typed value is stored as shown.
    line.setFocus()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    assert ("slr_deg", "left") not in {(i.id, s) for i, s, _ in editor.invalid_fields()}
    assert window.page.flush()
    assert _stored(window)["slr_deg"] == {"left": 15, "right": 60}


def test_sign_check_lists_red_flags_untouched_sections_and_confirms(qtbot, page) -> None:
    window = page
    editor = window.page.view.editor
    editor.set_current_section("red_flags")
    toggle = editor.editor("rf_saddle_numbness")
    toggle.buttons["yes"].click()
    assert window.page.flush()
    seen: list[str] = []

    def cancel(box: Any) -> None:
        seen.append(box.text())
        box.button(QMessageBox.StandardButton.Cancel).click()

    when_modal(cancel)
    window.page.sign_button.click()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    text = seen[0]
    assert "Red flags are set" in text
    assert "Possible cauda equina syndrome" in text
    assert "emergency referral" in text
    assert "acted on" in text
    assert "Nothing recorded in:" in text
    assert "Hips" in text
    assert "Dana Physio" in text
    settle(qtbot, window)
    assert not records.get_evaluation(window.db, window.page.evaluation.id).is_signed
    # Untouched sections do not stop a signature.
    sign_with_password(PASSWORD)
    with qtbot.waitSignal(window.page.signed):
        window.page.sign_button.click()
    assert records.get_evaluation(window.db, window.page.evaluation.id).is_signed


def test_typed_grades_and_scores_are_read_whole(qtbot, page) -> None:
    window = page
    editor = window.page.view.editor
    _type(qtbot, window, "pain_now", None, "7")
    combo = editor.editor("hip_ext_mmt", "left").focus_widgets()[0]
    assert isinstance(combo, QComboBox)
    _type(qtbot, window, "hip_ext_mmt", "left", "3+")
    assert editor.findings.get("pain_now") == 7
    assert editor.findings.get("hip_ext_mmt", "left") == 3.5
    assert editor.invalid_fields() == []
