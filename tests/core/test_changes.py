"""The last visit's value and the change, in words (core/changes)."""

from __future__ import annotations

from clinic_app.core.changes import change_text, previous_note, previous_values
from clinic_app.core.form import Form


def test_numbers_change_by_a_signed_amount_grades_by_name(mini_form: Form) -> None:
    slr, mmt, pain = mini_form.item("slr"), mini_form.item("hip_flex"), mini_form.item("pain_now")
    assert change_text(slr, 62, 66) == "+4°"
    assert change_text(slr, 66, 62) == "−4°"
    assert change_text(slr, 70, 70) == "no change"
    assert change_text(pain, 6, 3) == "−3/10"
    assert change_text(mmt, 3.75, 4.5) == "from 4−"  # ordinal: no arithmetic on grades
    assert change_text(mini_form.item("slump"), "positive", "negative") == "was positive"


def test_previous_note_describes_each_side(mini_form: Form) -> None:
    slr = mini_form.item("slr")
    both = previous_note(slr, {"left": 62, "right": 80}, {"left": 66, "right": 80})
    assert both == "L 62°, +4° · R 80°, no change"
    assert previous_note(slr, {"left": 62}, {"right": 70}, "left") == "62°"
    assert previous_note(slr, {"left": 62}, {"left": 70}, "right") == ""
    assert previous_note(mini_form.item("pain_now"), None, 4) == ""


def test_previous_values_keeps_what_the_form_still_accepts(mini_form: Form) -> None:
    kept = previous_values(
        mini_form,
        {"slr": {"left": 62}, "pain_now": 99, "gone": 1, "quality": ["ache"], "hip_flex": "x"},
    )
    assert kept == {"slr": {"left": 62}, "quality": ("ache",)}
