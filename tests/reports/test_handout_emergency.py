"""Safety precedence on the handout (issue 12), read back with pypdf.

An emergency flag (the form's ``overrides: {handout: emergency}``) leaves only the emergency
message, when to seek help and the clinic contact: no exercises, tips or traffic light. A flag
that precludes running puts the traffic light at "Red flag" and says why, whatever the run
answers were.
"""

from __future__ import annotations

from clinic_app.core.engine import assess
from clinic_app.core.form import Form, RunLevel
from clinic_app.reports import build_handout, content
from tests.reports.conftest import MakeData, build_pdf, with_values


def test_emergency_handout_has_no_exercises_tips_or_traffic_light(
    form: Form, example, make_data: MakeData
) -> None:
    findings = with_values(
        form,
        example("runner_left_proximal"),  # a runner with factors, exercises and a green run
        rf_saddle_numbness="yes",
        rf_bladder_bowel="yes",
        run_pain_behaviour="warms_up",
        pain_during_run=2,
    )
    result = assess(form, findings)
    assert result.emergency
    assert result.exercises  # the factors would choose exercises; the handout shows none
    pdf = build_pdf(build_handout, make_data(findings, patient="Zoë Müller"))
    flat = pdf.flat
    text = content.handout_text()
    assert "Zoë Müller" in flat
    assert text.text("emergency_heading") in flat
    assert " ".join(result.red_flags[0].plain.split()) in flat
    assert text.text("help_heading") in flat  # when to seek help
    assert "+1 555 0100" in flat  # the clinic contact
    for absent in (
        text.text("exercises_heading"),
        text.text("tips_heading"),
        text.text("running_heading"),
        "How much:",
        "you are here today",
        "Green, keep going",
    ):
        assert absent not in flat, absent
    for ex in content.exercises().values():
        assert ex.name not in flat, ex.name
    for tip in content.tips(result.advice):
        assert tip.title not in flat, tip.title
    assert len(pdf.pages) == 1


def test_bone_stress_with_a_run_that_warms_up_is_a_red_flag_not_green(
    form: Form, example, make_data: MakeData
) -> None:
    findings = with_values(
        form,
        example("runner_left_proximal"),
        hop_painful={"left": "yes"},
        run_pain_behaviour="warms_up",
        pain_during_run=2,
    )
    result = assess(form, findings)
    assert not result.emergency
    assert result.running is not None
    assert result.running.level is RunLevel.RED_FLAG
    assert result.running.set_by == "R7"
    flat = build_pdf(build_handout, make_data(findings)).flat
    levels = content.handout_text().run_levels()
    assert f"{levels['red_flag'].label} ← you are here today" in flat
    assert f"{levels['green'].label} ← you are here today" not in flat
    flag = next(f for f in result.red_flags if f.id == "R7")
    why = f"{content.handout_text().text('running_reason')} {' '.join(flag.plain.split())}"
    assert why in flat
