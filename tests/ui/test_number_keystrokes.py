"""What a therapist types into a number field is what the screen shows, what the message names
and what the database holds (session 14).

Number editors capped their text at 12 characters (``setMaxLength``): a 13th digit typed, or a
long paste, was dropped without a word, so "1234567890123" showed "123456789012" and was refused
with a message about a number never typed. And messages wrote numbers with ``:g``, so a typed
"99999999" was refused as "1e+08". Now the text stays as typed, an over-long number is refused
with a message quoting it, and nothing is stored; leaving the record or signing it names the
field, as for any refused value.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from clinic_app.storage import records
from clinic_app.ui.fields import NumberEditor
from clinic_app.ui.main_window import MainWindow
from tests.ui.helpers import settle, when_modal
from tests.ui.test_idle_lock import open_draft
from tests.ui.test_program_editor import make_window, shipped_form
from tests.ui.test_rows_editor_keys import note

__all__ = ["make_window", "note", "shipped_form"]  # the fixtures, for the table and the program

TWENTY = "12345678901234567890"


def _patient(db: Any) -> records.Patient:
    return records.create_patient(db, records.PatientFields("Ida", "Keys", "K-1"), user="t")


def _stored(window: MainWindow) -> Any:
    """The left SLR the database holds for the open record, after saving what is pending."""
    assert window.page.flush()
    ev = window.page.evaluation
    assert ev is not None
    return records.get_evaluation(window.db, ev.id).findings.get("values", {}).get("slr", {})


def _message(window: MainWindow) -> str:
    """The refusal shown beside the SLR field (empty when none)."""
    view = window.page.view
    assert view is not None
    row = view.editor._rows["slr"]
    return row.error.text() if row.error.isVisible() else ""


def _typed(qtbot: Any, window: MainWindow, text: str) -> NumberEditor:
    line = open_draft(qtbot, window, _patient(window.db))
    qtbot.keyClicks(line.line, text)
    qtbot.keyClick(line.line, Qt.Key.Key_Tab)
    settle(qtbot, window)
    return line


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("1234567890123", id="13-digits"),
        pytest.param(TWENTY, id="20-digits"),
        pytest.param("99999999", id="99999999"),
    ],
)
def test_a_number_out_of_range_stays_as_typed_and_is_named_so(
    qtbot: Any, window: MainWindow, typed: str
) -> None:
    line = _typed(qtbot, window, typed)
    assert line.line.text() == typed  # not cut at 12 characters
    message = _message(window)
    assert f"{typed}° is outside 0-180°" in message  # the typed digits, not "1e+08"
    assert "e+" not in message
    assert "not accepted, nothing new is stored" in message
    assert _stored(window).get("left") is None


def test_four_hundred_digits_are_kept_on_screen_and_refused(qtbot: Any, window: MainWindow) -> None:
    typed = "9" * 400
    line = _typed(qtbot, window, typed)
    assert line.line.text() == typed
    message = _message(window)
    assert f"“{'9' * 20}…” (400 digits) is too large a number" in message
    assert _stored(window).get("left") is None


def test_a_paste_of_ten_thousand_characters_is_kept_and_refused(
    qtbot: Any, window: MainWindow
) -> None:
    line = open_draft(qtbot, window, _patient(window.db))
    pasted = "7" * 10_000
    QApplication.clipboard().setText(pasted)
    qtbot.keyClick(line.line, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(line.line, Qt.Key.Key_Tab)
    settle(qtbot, window)
    assert line.line.text() == pasted  # old: "777777777777", refused as another number
    assert f"“{'7' * 20}…” (10000 digits) is too large a number" in _message(window)
    assert _stored(window).get("left") is None


def test_a_long_paste_of_letters_is_refused_as_no_number(qtbot: Any, window: MainWindow) -> None:
    line = open_draft(qtbot, window, _patient(window.db))
    pasted = "45" + "x" * 9_998  # old: cut to "45xxxxxxxxxx"
    QApplication.clipboard().setText(pasted)
    qtbot.keyClick(line.line, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(line.line, Qt.Key.Key_Tab)
    settle(qtbot, window)
    assert line.line.text() == pasted
    assert "is not a number" in _message(window)
    assert _stored(window).get("left") is None


@pytest.mark.parametrize(
    ("typed", "stored", "refused"),
    [
        ("-0", 0, ""),
        ("0.1", None, "0.1 must be a whole number"),
        ("1e3", None, "“1e3” is not a number"),
        ("45", 45, ""),
    ],
)
def test_what_is_shown_and_what_is_stored_agree(
    qtbot: Any, window: MainWindow, typed: str, stored: Any, refused: str
) -> None:
    """(Guards: these read the same before and after the change.)"""
    line = _typed(qtbot, window, typed)
    assert line.line.text() == typed
    assert _stored(window).get("left") == stored
    message = _message(window)
    assert (refused in message) if refused else message == ""


def test_an_arabic_indic_digit_is_stored_as_the_number_it_is(
    qtbot: Any, window: MainWindow
) -> None:
    line = open_draft(qtbot, window, _patient(window.db))
    line.line.insert("٣٠")  # thirty, as a person writing Arabic-Indic digits types it
    qtbot.keyClick(line.line, Qt.Key.Key_Tab)
    settle(qtbot, window)
    assert line.line.text() == "٣٠"
    assert _stored(window).get("left") == 30
    assert _message(window) == ""


def test_leaving_and_signing_name_the_field_and_the_number_typed(
    qtbot: Any, window: MainWindow
) -> None:
    from clinic_app.ui.sign_check import refusal_text, sign_check

    line = _typed(qtbot, window, TWENTY)
    view = window.page.view
    assert view is not None
    check = sign_check(window.form, view.editor._findings, view.editor.invalid_fields(), ())
    assert check.refused
    assert "Passive straight leg raise (left)" in refusal_text(check)
    assert TWENTY in refusal_text(check)
    asked: list[str] = []

    def go_back(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        asked.append(box.text())
        box.reject()  # Esc: "Go back"

    when_modal(go_back)
    window.page.back_button.click()
    settle(qtbot, window)
    assert len(asked) == 1
    assert "Passive straight leg raise (left)" in asked[0]
    assert f"{TWENTY}° is outside 0-180°" in asked[0]
    assert line.line.text() == TWENTY  # still showing, the record still open
    assert _stored(window).get("left") is None


def test_a_typed_score_is_not_cut_short(qtbot: Any, mini_form: Any) -> None:
    """The 0-10 scale's typed entry was cut at 8 characters: "123456789" showed "12345678" and
    was refused as that number."""
    from clinic_app.core.findings import FindingsError, check_value
    from clinic_app.ui.fields import ComboEditor

    item = mini_form.item("pain_now")
    ed = ComboEditor(item)
    qtbot.addWidget(ed)
    ed.show()
    got: list[Any] = []
    ed.edited.connect(got.append)
    line = ed.combo.lineEdit()
    assert line is not None
    qtbot.keyClicks(line, "123456789")
    assert line.text() == "123456789"
    assert got[-1] == 123456789
    with pytest.raises(FindingsError) as err:
        check_value(item, got[-1])
    assert "123456789 is outside 0-10" in err.value.problems[0]


def test_a_rows_number_cell_keeps_thirteen_digits_and_names_them(qtbot: Any, note: Any) -> None:
    from tests.ui.test_rows_editor_keys import BEFORE, MINUTES, problems, shown, start_typing

    window, rows, read_back = note
    typed = "1234567890123"
    start_typing(qtbot, rows, MINUTES, typed)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert shown(rows)[0][MINUTES] == typed  # old: "123456789012"
    assert problems(window) == [f"row 1, Minutes: {typed} min is outside 1-180 min"]
    assert read_back() == [BEFORE]


@pytest.mark.parametrize(
    ("pasted", "says"),
    [
        pytest.param("1234567890123", "1234567890123 is outside 1–10", id="13-digits"),
        pytest.param("7" * 10_000, "a number far too large is outside 1–10", id="paste-10000"),
    ],
)
def test_a_program_dose_keeps_what_was_pasted_and_is_not_stored(
    qtbot: Any,
    make_window: Any,
    db: Any,
    db_url: str,
    shipped_form: Any,
    pasted: str,
    says: str,
) -> None:
    from tests.ui.test_program_editor import (
        open_program,
        patient_with,
        runner_values,
        save,
        stored_program,
    )

    patient, ev = patient_with(db, shipped_form, runner_values())
    window = make_window()
    ed = open_program(qtbot, window, db, patient, ev.id)
    ed.accept_button.click()
    save(qtbot, window)
    good = stored_program(db_url, ev.id)
    ed.list.setCurrentRow(1)
    line = ed.fields["sets"]
    line.setFocus()
    line.selectAll()
    QApplication.clipboard().setText(pasted)
    qtbot.keyClick(line, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert line.text() == pasted  # old: the first 12 characters
    assert f"Sets: {says}" in ed.dose_error.text()
    assert ed.list.item(1).text().startswith("⚠ 2.")
    save(qtbot, window)
    assert stored_program(db_url, ev.id) == good


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a float held 1234567890123456768: the field showed one number and stored another
        ("1234567890123456789", 1234567890123456789),
        ("9" * 30, int("9" * 30)),
        ("12.0", 12),
        ("2,50", 2.5),
        ("٣", 3),
    ],
)
def test_parse_number_reads_a_whole_number_exactly(text: str, expected: object) -> None:
    from clinic_app.ui.fields import parse_number

    got = parse_number(text)
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0.1234567890123456789", "has more digits than can be stored"),  # stored rounded
        ("9" * 31, "(31 digits) is too large a number"),  # a float held it, rounded
    ],
)
def test_parse_number_refuses_what_it_could_only_store_as_another_number(
    text: str, says: str
) -> None:
    from clinic_app.ui.fields import Invalid, parse_number

    got = parse_number(text)
    assert isinstance(got, Invalid), got
    assert says in got.reason
