"""Clinical vignettes on the shipped form: what fires, what does not, and why.

Each file in ``tests/core/vignettes/`` is a findings JSON for a made-up patient. The table below is
the clinical expectation: the exact factors, patterns and red flags the form should suggest, and the
running traffic-light level. A change to the form's rules that alters any of them fails here, so it
has to be a deliberate, reviewed change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from clinic_app.core import findings as fd
from clinic_app.core.engine import Assessment, RuleResult, assess
from clinic_app.core.form import Form, RunLevel, Urgency, load_form
from clinic_app.core.visit import evaluation_sections
from clinic_app.paths import default_form_path

VIGNETTES = Path(__file__).parent / "vignettes"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# name: (factors, patterns, red flags, running level or None)
EXPECTED: dict[str, tuple[set[str], set[str], set[str], RunLevel | None]] = {
    "opposite_hip_flexor": ({"F1"}, set(), set(), None),
    "sciatic_slump": ({"F8"}, {"P4"}, {"R8"}, RunLevel.RED_FLAG),
    "runner_proximal_sitting": ({"F4"}, {"P1"}, set(), RunLevel.GREEN),
    "runner_left_proximal": ({"F1", "F3", "F4", "F6", "F11"}, {"P1"}, set(), RunLevel.GREEN),
    # Issue 12, safety precedence: a red flag that precludes running sets the running level,
    # with or without run answers (sprint_strain_pop, cauda_equina, bone_stress and fall_trauma
    # changed from None / STOP to RED_FLAG with this rule).
    "sprint_strain_pop": (set(), {"P3"}, {"R1"}, RunLevel.RED_FLAG),
    "calf_driven": ({"F12"}, set(), set(), None),
    "shoulder_girdle_gait": ({"F15", "F16"}, set(), set(), None),
    "old_scar_sitting": ({"F4", "F5", "F7"}, set(), set(), None),
    "all_normal": (set(), set(), set(), RunLevel.GREEN),
    "both_legs": ({"F3", "F6"}, set(), set(), None),
    "empty": (set(), set(), set(), None),
    "cauda_equina": ({"F8"}, {"P4"}, {"R3"}, RunLevel.RED_FLAG),
    "bone_stress": ({"F11"}, {"P7"}, {"R7", "R9"}, RunLevel.RED_FLAG),
    "core_pelvis": ({"F2", "F9", "F10"}, set(), set(), None),
    "deep_gluteal": ({"F4", "F13", "F17"}, {"P6"}, set(), None),
    "hip_joint": ({"F14"}, {"P5"}, set(), None),
    "distal_movement": ({"F18"}, {"P2"}, set(), None),
    "fall_trauma": (set(), set(), {"R2", "R6"}, RunLevel.RED_FLAG),
    "progressive_neuro": ({"F8"}, {"P4"}, {"R4"}, None),
    "fever_constant": (set(), set(), {"R5", "R9"}, None),
    # Issue 12 (see tests/core/test_vignettes_issue12.py for the exact wording).
    "bone_stress_warms_up": (set(), set(), {"R7"}, RunLevel.RED_FLAG),
    "emergency_warms_up": (set(), set(), {"R3"}, RunLevel.RED_FLAG),
    "proximal_unconfirmed": ({"F4"}, {"P1"}, set(), None),
    "neural_slr_limited": ({"F8"}, set(), set(), None),
    "both_legs_opposite": ({"F6"}, set(), set(), None),
    "mmt_ordinal": ({"F1", "F3"}, set(), set(), None),
    "thomas_positive": ({"F14"}, set(), set(), None),
}
NORMAL_CASES = ("all_normal", "empty")

EXERCISE_IDS = {
    "romanian_deadlift",
    "glute_bridge",
    "hip_thrust",
    "single_leg_bridge",
    "nordic_curl",
    "weighted_squat",
    "dead_bug",
    "side_plank",
    "hip_flexor_march",
    "calf_raise_straight",
    "calf_raise_bent",
    "dynamic_hamstring_warmup",
}
ADVICE_IDS = {
    "bend_with_comfortable_back",
    "break_up_sitting",
    "build_base_first",
    "no_stretch_irritated",
    "tendon_modify_not_stop",
    "follow_referral",
    "running_traffic_light",
}


@pytest.fixture(scope="module")
def form() -> Form:
    return load_form(default_form_path())


@pytest.fixture(scope="module")
def results(form: Form) -> dict[str, Assessment]:
    return {p.stem: assess(form, fd.load(form, p)) for p in sorted(VIGNETTES.glob("*.json"))}


def ids(rules: tuple[Any, ...]) -> set[str]:
    return {r.id for r in rules}


def by_id(rules: tuple[RuleResult, ...], rule_id: str) -> RuleResult:
    matches = [r for r in rules if r.id == rule_id]
    assert matches, f"{rule_id} did not fire"
    return matches[0]


def evidence_text(rule: RuleResult) -> str:
    return "\n".join(e.text for e in rule.evidence)


def test_every_vignette_file_has_an_expectation() -> None:
    on_disk = {p.stem for p in VIGNETTES.glob("*.json")}
    assert on_disk == set(EXPECTED)
    assert len(on_disk) >= 12


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_vignette_fires_exactly_the_expected_set(name: str, results: dict[str, Assessment]) -> None:
    factors, patterns, flags, running = EXPECTED[name]
    result = results[name]
    assert ids(result.factors) == factors
    assert ids(result.patterns) == patterns
    assert ids(result.red_flags) == flags
    assert (result.running.level if result.running else None) == running


def test_every_factor_fires_somewhere_and_never_in_a_normal_case(
    form: Form, results: dict[str, Assessment]
) -> None:
    all_factors = {f.id for f in form.factors}
    assert all_factors == {f"F{n}" for n in range(1, 19)}
    fired_anywhere = set().union(*(ids(r.factors) for r in results.values()))
    assert fired_anywhere == all_factors
    for name in NORMAL_CASES:
        assert ids(results[name].factors) == set(), name


def test_every_pattern_and_red_flag_fires_somewhere(
    form: Form, results: dict[str, Assessment]
) -> None:
    patterns = set().union(*(ids(r.patterns) for r in results.values()))
    flags = set().union(*(ids(r.red_flags) for r in results.values()))
    assert patterns == {p.id for p in form.patterns} == {f"P{n}" for n in range(1, 8)}
    assert flags == {r.id for r in form.red_flags}
    for name in NORMAL_CASES:
        assert not results[name].patterns
        assert not results[name].red_flags


def test_all_normal_records_every_measure_and_fires_nothing(
    form: Form, results: dict[str, Assessment]
) -> None:
    data = json.loads((VIGNETTES / "all_normal.json").read_text(encoding="utf-8"))
    # every item an evaluation shows (visit-note pages record the visit, not the examination)
    assert set(data["values"]) == {i.id for s in evaluation_sections(form) for i in s.items}
    result = results["all_normal"]
    assert result.summary.kind == "undetermined"
    assert result.advice == ()
    assert result.exercises == ()
    # Every bilateral number was compared, and no gap passed its threshold.
    assert result.asymmetries
    assert not [a.item_id for a in result.asymmetries if a.exceeds]


def test_empty_evaluation_does_not_crash(results: dict[str, Assessment]) -> None:
    result = results["empty"]
    assert result.involved is None
    assert result.running is None
    assert result.asymmetries == ()
    assert result.summary.kind == "undetermined"


def test_opposite_side_hip_flexor_names_the_other_leg(results: dict[str, Assessment]) -> None:
    f1 = by_id(results["opposite_hip_flexor"].factors, "F1")
    text = evidence_text(f1)
    assert "left (other side)" in text
    assert "180 N is 75% of right 240 N (LSI)" in text
    assert "threshold < 90%" in text


def test_sciatic_nerve_case_says_do_not_stretch(results: dict[str, Assessment]) -> None:
    result = results["sciatic_slump"]
    assert "no_stretch_irritated" in by_id(result.factors, "F8").advice
    assert "no_stretch_irritated" in result.advice
    assert "Slump test left (painful side): positive" in evidence_text(by_id(result.factors, "F8"))
    assert result.running is not None
    assert "Pain travels down the leg while running" in result.running.evidence[0].text


def test_runner_evidence_shows_measured_values_and_thresholds(
    results: dict[str, Assessment],
) -> None:
    result = results["runner_left_proximal"]
    f6 = evidence_text(by_id(result.factors, "F6"))
    assert "210 N" in f6
    assert "280 N" in f6
    assert "25% deficit" in f6
    assert "threshold" in f6
    assert "threshold < 256 N" in f6
    f4 = evidence_text(by_id(result.factors, "F4"))
    assert "8 h/day; threshold ≥ 6 h/day" in f4
    f3 = evidence_text(by_id(result.factors, "F3"))
    assert "22 N·m difference, left weaker (painful side)" in f3
    assert result.summary.kind == "both"


def test_sprint_strain_with_pop_is_an_urgent_referral(results: dict[str, Assessment]) -> None:
    result = results["sprint_strain_pop"]
    (flag,) = result.red_flags
    assert flag.urgency is Urgency.URGENT
    assert {"no_stretch_irritated", "follow_referral"} <= set(flag.advice)
    assert flag.plain
    assert result.summary.kind == "source"


def test_cauda_equina_is_an_emergency_listed_first(results: dict[str, Assessment]) -> None:
    result = results["cauda_equina"]
    assert result.red_flags[0].id == "R3"
    assert result.red_flags[0].urgency is Urgency.EMERGENCY


def test_bone_stress_stops_running_and_notes_next_day(results: dict[str, Assessment]) -> None:
    result = results["bone_stress"]
    assert result.running is not None
    assert result.running.set_by == "R7"
    assert RunLevel.STOP in result.running.also
    assert RunLevel.NEXT_DAY in result.running.also
    assert "follow_referral" in by_id(result.patterns, "P7").advice


def test_opinion_factors_are_labelled(results: dict[str, Assessment]) -> None:
    fired = {r.id: r for res in results.values() for r in res.factors}
    assert {fid for fid, r in fired.items() if r.opinion} == {"F12", "F13", "F14", "F15"}
    assert {fid for fid, r in fired.items() if r.local} == {"F5", "F6", "F7"}


def test_both_legs_compares_without_a_painful_side(results: dict[str, Assessment]) -> None:
    result = results["both_legs"]
    assert result.involved == "both"
    f6 = evidence_text(by_id(result.factors, "F6"))
    assert "left: 220 N; threshold < 256 N" in f6
    assert "right: 230 N; threshold < 256 N" in f6


def test_each_finding_is_shown_once_per_result(results: dict[str, Assessment]) -> None:
    # P4 reads pain location in two indicators (below the knee; low back): each line names only
    # the regions that matched it, so the two lines differ and neither repeats the whole set.
    p4 = by_id(results["cauda_equina"].patterns, "P4")
    location = [e.text for e in p4.evidence if e.text.startswith("Pain location left")]
    assert len(location) == len(set(location)) >= 1
    assert all(text.count(",") < 2 for text in location)
    for name, result in results.items():
        for rule in (*result.factors, *result.patterns):
            texts = [e.text for e in rule.evidence]
            assert len(texts) == len(set(texts)), (name, rule.id)


def test_pelvic_alignment_alone_never_fires_a_factor(form: Form) -> None:
    findings = fd.validate(
        form,
        {"values": {"involved_side": "left", "pelvic_alignment": {"left": "high", "right": "low"}}},
    )
    assert assess(form, findings).factors == ()


def test_only_known_exercise_and_advice_ids(form: Form) -> None:
    rules = (*form.factors, *form.patterns)
    assert {e for r in rules for e in r.exercises} <= EXERCISE_IDS
    assert {a for r in (*rules, *form.red_flags) for a in r.advice} <= ADVICE_IDS
    for rule in rules:
        assert rule.plain, rule.id


FINDINGS_EXAMPLES = sorted(p for p in EXAMPLES.glob("*.json") if not p.stem.startswith("program_"))
"""The findings examples (``program_*.json`` are home programs, checked in test_program_library)."""


@pytest.mark.parametrize("path", FINDINGS_EXAMPLES, ids=lambda p: p.stem)
def test_examples_are_valid_and_fire_something(form: Form, path: Path) -> None:
    result = assess(form, fd.load(form, path))
    assert result.factors or result.patterns or result.red_flags


def test_examples_include_the_runner(form: Form) -> None:
    assert len(FINDINGS_EXAMPLES) >= 3
    result = assess(form, fd.load(form, EXAMPLES / "runner_left_proximal.json"))
    assert len(result.factors) >= 3
    assert all(r.evidence for r in result.factors)


def _edited_form(tmp_path: Path, edit: Any) -> Form:
    data = yaml.safe_load(default_form_path().read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_form(path)


def _item(data: dict[str, Any], item_id: str) -> dict[str, Any]:
    for section in data["sections"]:
        for item in section["items"]:
            if item["id"] == item_id:
                return item  # type: ignore[no-any-return]
    raise KeyError(item_id)


def test_nordic_threshold_is_data_not_code(form: Form, tmp_path: Path) -> None:
    # 300 vs 380 N: a 21% gap, both above the 256 N floor; only the gap rule can fire F6.
    values = {"involved_side": "left", "nordic_force": {"left": 300, "right": 380}}
    assert "F6" in ids(assess(form, fd.validate(form, {"values": values})).factors)

    def raise_threshold(data: dict[str, Any]) -> None:
        symmetry = _item(data, "nordic_force")["symmetry"]
        assert symmetry["threshold"] == 15
        symmetry["threshold"] = 30

    edited = _edited_form(tmp_path, raise_threshold)
    assert "F6" not in ids(assess(edited, fd.validate(edited, {"values": values})).factors)


def test_sitting_hours_threshold_is_data_not_code(form: Form, tmp_path: Path) -> None:
    values = {"involved_side": "right", "sitting_hours": 7}
    result = assess(form, fd.validate(form, {"values": values}))
    assert "threshold ≥ 6 h/day" in evidence_text(by_id(result.factors, "F4"))

    def raise_threshold(data: dict[str, Any]) -> None:
        (f4,) = [f for f in data["factors"] if f["id"] == "F4"]
        when = f4["indicators"][0]["when"]
        assert when["item"] == "sitting_hours"
        when["threshold"] = 10

    edited = _edited_form(tmp_path, raise_threshold)
    assert "F4" not in ids(assess(edited, fd.validate(edited, {"values": values})).factors)
