"""A visit's interventions offer the exercises of the patient's stored home program, in its
order (issue 15: "exercises from the patient's program"), not the handout's own choice."""

from __future__ import annotations

from datetime import date

from clinic_app.core.form import Form, load_form
from clinic_app.core.progress import Record
from clinic_app.paths import default_form_path
from clinic_app.ui.visit_view import program_exercises


def shipped() -> Form:
    return load_form(default_form_path())


def test_the_stored_program_is_offered_in_its_order() -> None:
    form = shipped()
    program = {
        "exercises": [
            {"exercise": "side_plank", "side": "both", "sets": 3},
            {"exercise": "glute_bridge", "side": "left", "reps": 10},
        ]
    }
    first = Record(1, "initial", date(2026, 3, 2), {"involved_side": "left"}, "signed")
    later = Record(2, "visit", date(2026, 3, 9), {"home_program": program}, "signed")
    names = program_exercises(form, [first, later], "left")
    assert len(names) == 2
    assert "plank" in names[0].lower()
    assert "bridge" in names[1].lower()


def test_without_a_stored_program_the_suggestion_stays() -> None:
    form = shipped()
    first = Record(1, "initial", date(2026, 3, 2), {"involved_side": "left"}, "signed")
    suggested = program_exercises(form, [first], "left")
    assert isinstance(suggested, tuple)
    assert program_exercises(form, [], "left") == ()
