"""The patient handout, read back with pypdf: plain words, 3-6 exercises, the red-flag box."""

from __future__ import annotations

import pytest

from clinic_app.core.engine import assess
from clinic_app.core.form import Form
from clinic_app.core.library import shipped_library
from clinic_app.core.program import suggest_program
from clinic_app.reports import build_handout, content
from tests.reports.conftest import EXAMPLES, MakeData, build_pdf, with_values


def _exercise_names_in(flat: str) -> list[str]:
    return [ex.title for ex in shipped_library().values() if f". {ex.title}" in flat]


@pytest.mark.parametrize("name", EXAMPLES)
def test_handout_has_what_we_found_and_the_suggested_exercises(
    name: str, form: Form, example, make_data: MakeData
) -> None:
    findings = example(name)
    result = assess(form, findings)
    data = make_data(findings, patient="Zoë Müller")
    pdf = build_pdf(build_handout, data)
    flat = pdf.flat
    assert "Zoë Müller" in flat
    assert "What we found" in flat
    for r in result.factors:
        if r.plain:
            assert " ".join(r.plain.split()) in flat
    shown = _exercise_names_in(flat)
    # without a stored program: the suggestion (3-6, fewer when a red flag stops loading)
    suggested = suggest_program(form, result, shipped_library(form))
    assert 1 <= len(shown) <= 6, shown
    expected = [shipped_library()[e.exercise].title for e in suggested.exercises]
    assert expected == sorted(shown, key=flat.index)
    assert "How much:" in flat
    assert "Running: your traffic light" in flat
    assert "When to contact us or get help" in flat
    assert "+1 555 0100" in flat
    assert "Łukasz Ñúñez" in flat
    for number, text in enumerate(pdf.pages, start=1):
        assert f"Page {number} of {len(pdf.pages)}" in text


def test_no_stretch_while_irritated(form: Form, example, make_data: MakeData) -> None:
    findings = example("office_worker_sciatic")
    result = assess(form, findings)
    assert any(content.advice()[a].no_stretches for a in result.advice)
    flat = build_pdf(build_handout, make_data(findings)).flat
    for ex in content.exercises().values():
        if ex.stretch:
            assert ex.name not in flat
    assert "Do not stretch it for now" in flat


def test_red_flag_box_at_the_top(form: Form, example, make_data: MakeData) -> None:
    # Not an emergency flag: those leave only the emergency message (test_handout_emergency).
    findings = with_values(form, example("runner_left_proximal"), rf_night_pain="yes")
    result = assess(form, findings)
    assert result.red_flags
    flat = build_pdf(build_handout, make_data(findings)).flat
    heading = content.handout_text().text("red_flag_heading")
    assert heading in flat
    assert flat.index(heading) < flat.index("What we found")
    for flag in result.red_flags:
        assert " ".join(flag.plain.split()) in flat
    assert content.handout_text().text("exercises_wait") in flat


def test_no_red_flag_box_without_red_flags(example, make_data: MakeData) -> None:
    flat = build_pdf(build_handout, make_data(example("runner_left_proximal"))).flat
    assert content.handout_text().text("red_flag_heading") not in flat


def test_empty_evaluation_still_gives_a_useful_handout(make_data: MakeData) -> None:
    pdf = build_pdf(build_handout, make_data())
    flat = pdf.flat
    assert content.handout_text().text("found_none") in flat
    shown = _exercise_names_in(flat)
    assert len(shown) == 3
    assert all(content.exercises()[e].general for e in ("glute_bridge", "dead_bug"))


def test_current_running_level_is_highlighted(form: Form, example, make_data: MakeData) -> None:
    findings = example("runner_left_proximal")
    result = assess(form, findings)
    assert result.running is not None
    flat = build_pdf(build_handout, make_data(findings)).flat
    label = content.handout_text().run_levels()[result.running.level.value].label
    assert f"{label} ← you are here today" in flat


def test_handout_body_type_is_at_least_12_point() -> None:
    from clinic_app.reports import handout

    assert handout.BODY_PT >= 12
