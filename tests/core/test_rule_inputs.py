"""The items the assessment reads (issue 18: a keystroke no rule reads costs no recompute)."""

from __future__ import annotations

import pytest

from clinic_app.core.engine import assess
from clinic_app.core.findings import validate
from clinic_app.core.form import load_form
from clinic_app.core.rule_inputs import assessment_inputs, inputs_key
from clinic_app.paths import default_form_path


@pytest.fixture(scope="module")
def form():
    return load_form(default_form_path())


def test_rule_items_are_inputs_free_text_is_not(form) -> None:
    inputs = assessment_inputs(form)
    for item_id in (
        "involved_side",
        "rf_saddle_numbness",
        "nordic_force",
        "pain_during_run",
        "slr_deg",
    ):
        assert item_id in inputs, item_id
    assert "plan" not in inputs
    assert "assessment" not in inputs


def test_a_change_outside_the_inputs_leaves_the_assessment_as_it_was(form) -> None:
    """Changing each item the inputs leave out never changes what assess returns."""
    inputs = assessment_inputs(form)
    base = validate(form, {"values": {"involved_side": "left", "rf_pop": "yes", "pain_now": 6}})
    before = assess(form, base)
    for item in form.items.values():
        if item.id in inputs:
            continue
        value = {
            "text": "x",
            "yesno": "yes",
            "posneg": "positive",
            "choice": item.choices[0].id if item.choices else None,
            "multi": [item.choices[0].id] if item.choices else None,
            "scale": 9,
        }.get(item.type.value)
        if value is None:
            continue
        side = "left" if item.bilateral else None
        changed = base.with_value(form, item.id, value, side)
        assert inputs_key(changed.values, inputs) == inputs_key(base.values, inputs)
        assert assess(form, changed) == before, item.id
