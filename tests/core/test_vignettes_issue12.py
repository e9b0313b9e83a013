"""Issue 12's rules on the shipped form, one vignette each, asserting the exact wording.

The vignettes' fired sets are in ``test_vignettes.EXPECTED``; here is what each one says:
safety precedence, careful claims, the neural SLR, "opposite" with both legs painful, ordinal
MMT grades and the new form items.
"""

from __future__ import annotations

import re

import pytest

from clinic_app.core import findings as fd
from clinic_app.core.engine import Assessment, RuleResult, assess
from clinic_app.core.form import Form, FormError, RunLevel, load_form, parse_form
from clinic_app.paths import default_form_path
from tests.core.test_vignettes import VIGNETTES


@pytest.fixture(scope="module")
def form() -> Form:
    return load_form(default_form_path())


def _run(form: Form, name: str) -> Assessment:
    return assess(form, fd.load(form, VIGNETTES / f"{name}.json"))


def _by_id(results: tuple[RuleResult, ...], rid: str) -> RuleResult:
    return next(r for r in results if r.id == rid)


def test_bone_stress_flag_stops_a_run_that_warms_up(form: Form) -> None:
    a = _run(form, "bone_stress_warms_up")
    run = a.running
    assert run is not None
    assert (run.level, run.set_by, run.also) == (RunLevel.RED_FLAG, "R7", (RunLevel.GREEN,))
    assert run.label == "Possible bone stress injury (red flag)"
    assert run.message.startswith("No running until this has been checked. Painful single-leg")
    assert [e.text for e in run.evidence] == ["Single-leg hop painful right (painful side): yes"]
    assert not a.emergency


def test_emergency_flag_sets_red_flag_and_the_emergency_handout(form: Form) -> None:
    a = _run(form, "emergency_warms_up")
    assert a.running is not None
    assert (a.running.level, a.running.set_by) == (RunLevel.RED_FLAG, "R3")
    assert a.emergency
    assert [f.id for f in a.red_flags] == ["R3"]


def test_emergency_without_run_answers_still_has_running_guidance(form: Form) -> None:
    a = _run(form, "cauda_equina")  # no run answers at all
    assert a.running is not None
    assert a.running.level is RunLevel.RED_FLAG
    assert a.running.set_by == "R3"


def test_precedence_is_data_in_the_form(form: Form) -> None:
    precluding = {f.id for f in form.red_flags if f.overrides.running is RunLevel.RED_FLAG}
    assert precluding == {"R1", "R2", "R3", "R7", "R8"}
    assert {f.id for f in form.red_flags if f.overrides.handout == "emergency"} == {"R3"}


def test_proximal_tendinopathy_without_its_required_signs_is_only_possible(form: Form) -> None:
    a = _run(form, "proximal_unconfirmed")
    p1 = _by_id(a.patterns, "P1")
    assert not p1.confirmed
    assert p1.would_confirm == (
        "Sit-bone tender on the painful side",
        "Tendon provocation test positive",
    )
    assert a.summary.kind == "victim"  # F4 (sitting) only: P1 is not called the source
    assert a.summary.text == (
        "Victim: the findings point away from the hamstring (contributing factors: Prolonged "
        "sitting). Possible, not confirmed: Proximal hamstring tendinopathy (would be confirmed "
        "by: Sit-bone tender on the painful side or Tendon provocation test positive)."
    )
    assert "local hamstring problem" not in a.summary.text


def test_confirmed_proximal_tendinopathy_is_still_the_source(form: Form) -> None:
    a = _run(form, "runner_proximal_sitting")  # sit-bone tenderness and a tendon test
    assert _by_id(a.patterns, "P1").confirmed
    assert a.summary.kind == "both"
    assert "Possible, not confirmed" not in a.summary.text


def test_slr_limited_by_nerve_symptoms_is_no_flexibility_deficit(form: Form) -> None:
    a = _run(form, "neural_slr_limited")
    assert "F7" not in {f.id for f in a.factors}
    assert "F5" not in {f.id for f in a.factors}
    f8 = _by_id(a.factors, "F8")  # the onset angle alone, 30-70°, fires F8 (domain §1)
    assert [e.text for e in f8.evidence] == [
        "Neural SLR, angle at symptom onset left (painful side): 45°; threshold ≥ 30°",
        "Neural SLR, angle at symptom onset left (painful side): 45°; threshold ≤ 70°",
    ]
    assert a.advice == ("no_stretch_irritated",)
    assert a.summary.kind == "victim"


def test_neural_onset_angle_outside_30_to_70_does_not_fire_f8(form: Form) -> None:
    findings = fd.validate(
        form, {"values": {"involved_side": "left", "slr_neural_onset_deg": {"left": 80}}}
    )
    assert "F8" not in {f.id for f in assess(form, findings).factors}


def test_both_legs_painful_opposite_rules_do_not_fire_and_sides_are_named(form: Form) -> None:
    a = _run(form, "both_legs_opposite")
    assert a.involved == "both"
    assert {f.id for f in a.factors} == {"F6"}  # not F1 (opposite hip flexor), not F15
    assert [e.text for e in _by_id(a.factors, "F6").evidence] == [
        "Nordic hamstring force left 240 N vs right 300 N: 20% deficit, left weaker; "
        "threshold ≥ 15%",
        "Nordic hamstring force left: 240 N; threshold < 256 N",
    ]


def test_mmt_grades_are_compared_in_grades_never_percent_or_lsi(form: Form) -> None:
    a = _run(form, "mmt_ordinal")
    mmt = {x.item_id: x for x in a.asymmetries if form.item(x.item_id).type.value == "mmt"}
    assert set(mmt) == {"hip_ext_mmt", "hip_flexor_mmt", "knee_flex_mmt_90"}
    assert all(x.method == "grades" and x.lsi is None for x in mmt.values())
    assert [e.text for e in _by_id(a.factors, "F1").evidence] == [
        "Hip flexor strength (MMT) right (other side): 4−/5; threshold < 5/5"
    ]
    text = " ".join(e.text for r in (*a.factors, *a.patterns) for e in r.evidence)
    assert not re.search(r"%|LSI", text)


def test_form_refuses_a_percentage_of_an_mmt_grade(form: Form) -> None:
    data = form.model_dump(by_alias=True, exclude_defaults=True)
    data["factors"][0]["indicators"][1]["when"] = {
        "item": "hip_flexor_mmt",
        "measure": "lsi",
        "side": "opposite",
        "op": "<",
        "threshold": 90,
    }
    with pytest.raises(FormError) as err:
        parse_form(data, "form")
    assert "MMT grades are ordinal" in str(err.value)


def test_thomas_test_can_be_recorded_positive_or_negative(form: Form) -> None:
    a = _run(form, "thomas_positive")
    assert [e.text for e in _by_id(a.factors, "F14").evidence] == [
        "Psoas / upper inner thigh tenderness right (painful side): Moderate",
        "Modified Thomas test result right (painful side): positive",
    ]


def test_new_items_the_brief_names(form: Form) -> None:
    assert form.item("thomas_result").type.value == "posneg"
    assert form.item("slump_neck_release").bilateral
    assert form.item("shoulder_height_asym").allowed == ("level", "higher", "lower")
    assert form.item("arm_swing").type.value == "multi"  # reduced and over-rotating together
    assert form.item("pain_trend").allowed == ("better", "same", "worse", "rising")
    assert not form.carries_forward("pain_trend")


def test_requires_must_name_an_indicator_of_the_rule(form: Form) -> None:
    data = form.model_dump(by_alias=True, exclude_defaults=True)
    data["patterns"][0]["requires"] = ["No such indicator"]
    with pytest.raises(FormError) as err:
        parse_form(data, "form")
    assert "requires 'No such indicator'" in str(err.value)
