"""The rule engine on a small form: sides, gaps, supporting-only hints, running, summary."""

from __future__ import annotations

from typing import Any

import pytest

from clinic_app.core import findings as fd
from clinic_app.core.engine import assess, format_value
from clinic_app.core.form import RunLevel, Urgency, parse_form
from tests.core.conftest import mini_form_data


def run(form, **values: Any):  # type: ignore[no-untyped-def]
    return assess(form, fd.validate(form, {"form": form.id, "values": values}))


def fired(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.id for r in (*result.factors, *result.patterns, *result.red_flags)}


def test_empty_findings_fire_nothing(mini_form) -> None:
    result = run(mini_form)
    assert fired(result) == set()
    assert result.running is None
    assert result.summary.kind == "undetermined"
    assert result.asymmetries == ()


def test_deficit_evidence_carries_values_and_threshold(mini_form) -> None:
    result = run(mini_form, involved_side="left", nordic={"left": 210, "right": 280})
    [factor] = result.factors
    assert factor.id == "F6"
    [line] = factor.evidence
    assert line.text == (
        "Nordic force left 210 N vs right 280 N: 25% deficit, left weaker (painful side); "
        "threshold ≥ 15%"
    )
    assert line.source == "S1"


def test_deficit_below_threshold_does_not_fire(mini_form) -> None:
    assert fired(run(mini_form, nordic={"left": 250, "right": 280})) == set()


def test_opposite_side_follows_the_painful_side(mini_form) -> None:
    weak_right = {"left": 5, "right": 4}
    assert "F1" in fired(run(mini_form, involved_side="left", hip_flex=weak_right))
    assert "F1" not in fired(run(mini_form, involved_side="right", hip_flex=weak_right))
    # Both legs painful: there is no "opposite" side, so an opposite-side rule does not fire
    # (issue 12). The painful side not recorded: either side counts.
    assert "F1" not in fired(run(mini_form, involved_side="both", hip_flex=weak_right))
    assert "F1" in fired(run(mini_form, hip_flex=weak_right))


def test_flexibility_gap_must_exceed_mdd_on_the_painful_side(mini_form) -> None:
    assert "F7" in fired(run(mini_form, involved_side="left", slr={"left": 70, "right": 82}))
    # 6 degrees is within the minimal detectable difference of 7: noise.
    assert "F7" not in fired(run(mini_form, involved_side="left", slr={"left": 76, "right": 82}))
    # The other leg is the tight one: not "painful leg less flexible".
    assert "F7" not in fired(run(mini_form, involved_side="right", slr={"left": 70, "right": 82}))
    text = run(mini_form, involved_side="left", slr={"left": 70, "right": 82}).factors[0]
    assert "12° difference" in text.evidence[0].text
    assert "minimal detectable difference 7°" in text.evidence[0].text


def test_supporting_only_hint_never_fires_alone(mini_form) -> None:
    assert "F8" not in fired(run(mini_form, quality=["tingling"]))
    both = run(mini_form, quality=["tingling"], slump={"left": "positive"})
    [f8] = both.factors
    assert f8.strength == 2
    assert both.advice == ("no_stretch_irritated",)


def test_strongest_factor_ranks_first(mini_form) -> None:
    result = run(
        mini_form,
        involved_side="left",
        nordic={"left": 100, "right": 300},
        quality=["tingling"],
        slump={"left": "positive"},
    )
    assert [f.id for f in result.factors] == ["F8", "F6"]


def test_red_flag_needs_all_parts(mini_form) -> None:
    assert fired(run(mini_form, pop="yes", pain_now=3)) == set()
    result = run(mini_form, pop="yes", pain_now=7)
    [flag] = result.red_flags
    assert flag.urgency is Urgency.URGENT
    assert [e.text for e in flag.evidence] == [
        "Felt a pop: yes",
        "Pain now: 7/10; threshold ≥ 5/10",
    ]


def test_running_takes_the_most_severe_level(mini_form) -> None:
    assert run(mini_form, pain_now=2).running.level is RunLevel.GREEN
    stop = run(mini_form, pain_now=6).running
    assert stop.level is RunLevel.STOP
    assert stop.message == "Stop"


def test_summary_source_victim_both(mini_form) -> None:
    local = run(mini_form, involved_side="left", nordic={"left": 100, "right": 300})
    assert local.summary.kind == "source"
    remote = run(mini_form, involved_side="left", hip_flex={"right": 3})
    assert remote.summary.kind == "victim"
    mixed = run(
        mini_form, involved_side="left", hip_flex={"right": 3}, nordic={"left": 100, "right": 300}
    )
    assert mixed.summary.kind == "both"


def test_threshold_lives_in_the_form_not_the_code() -> None:
    data = mini_form_data()
    values = {"involved_side": "left", "nordic": {"left": 210, "right": 280}}
    before = run(parse_form(data), **values)
    data["sections"][1]["items"][0]["symmetry"]["threshold"] = 30
    after = run(parse_form(data), **values)
    assert "F6" in fired(before)
    assert "F6" not in fired(after)
    assert after.asymmetries[0].exceeds is False


def test_rule_threshold_override() -> None:
    data = mini_form_data()
    data["factors"][1]["indicators"][0]["when"]["threshold"] = 4
    form = parse_form(data)
    assert "F1" not in fired(run(form, involved_side="left", hip_flex={"right": 4}))
    assert "F1" in fired(run(form, involved_side="left", hip_flex={"right": 3.5}))


@pytest.mark.parametrize(
    ("item", "value", "text"),
    [
        ("hip_flex", 4.5, "4+/5"),
        ("hip_flex", 4.0, "4/5"),
        ("pain_now", 7, "7/10"),
        ("nordic", 210.0, "210 N"),
        ("slr", 70, "70°"),
        ("quality", ("ache", "tingling"), "Ache, Tingling"),
        ("involved_side", "left", "Left"),
    ],
)
def test_format_value(mini_form, item: str, value: Any, text: str) -> None:
    assert format_value(mini_form.item(item), value) == text


def test_to_dict_is_json_ready(mini_form) -> None:
    import json

    result = run(mini_form, involved_side="left", nordic={"left": 210, "right": 280}, pain_now=6)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["factors"][0]["id"] == "F6"
    assert data["running"]["level"] == "stop"
