"""The home program against the library: suggestions with reasons for the three examples, the
safety checks as data, unknown exercises and impossible doses named, snapshots that keep a
program's words when the library changes, and the isometrics example."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from clinic_app.core import engine, findings
from clinic_app.core.engine import Assessment
from clinic_app.core.form import Form
from clinic_app.core.library import Library, shipped_library
from clinic_app.core.program import (
    GENERAL_REASON,
    Program,
    ProgramError,
    ProgramExercise,
    check_against,
    choose,
    entry_for,
    parse_program,
    resolve,
    safety_warnings,
    suggest_program,
    with_snapshots,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def assess(form: Form, name: str, **values: Any) -> Assessment:
    data = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    data["values"].update(values)
    return engine.assess(form, findings.validate(form, data))


@pytest.fixture(scope="module")
def lib(shipped_form: Form) -> Library:
    return shipped_library(shipped_form)


def test_runner_gets_the_factors_exercises_with_reasons(shipped_form: Form, lib: Library) -> None:
    a = assess(shipped_form, "runner_left_proximal.json")
    program = suggest_program(shipped_form, a, lib)
    ids = [e.exercise for e in program.exercises]
    assert ids[:3] == ["nordic_curl", "single_leg_bridge", "romanian_deadlift"]
    assert len(ids) == 6
    by_id = {e.exercise: e for e in program.exercises}
    assert by_id["glute_bridge"].reason == "for: weak or under-active glutes (F3)"
    assert by_id["single_leg_bridge"].reason == (
        "for: eccentric hamstring weakness (F6), weak or under-active glutes (F3)"
    )
    assert by_id["glute_bridge"].sets == 3
    assert by_id["glute_bridge"].reps == 10
    assert all(e.snapshot is not None and e.snapshot.title for e in program.exercises)
    assert "dynamic_hamstring_warmup" not in ids  # a stretch with a tendon irritated
    assert parse_program(json.loads(json.dumps(program.plain()))) == program


def test_office_worker_gets_no_stretch_and_a_general_fill(shipped_form: Form, lib: Library) -> None:
    a = assess(shipped_form, "office_worker_sciatic.json")
    program = suggest_program(shipped_form, a, lib)
    ids = [e.exercise for e in program.exercises]
    assert ids == ["dead_bug", "romanian_deadlift", "glute_bridge"]
    assert program.exercises[0].reason == "for: stiff lower back (F9)"
    assert program.exercises[2].reason == GENERAL_REASON
    warn = safety_warnings(lib["dynamic_hamstring_warmup"], a)
    assert len(warn) == 1
    assert "irritated nerve or tendon" in warn[0]
    assert "F8 Sciatic nerve involvement" in warn[0]
    assert "Leg swings" in warn[0]


def test_a_red_flag_that_stops_exercise_leaves_out_every_loading_exercise(
    shipped_form: Form, lib: Library
) -> None:
    a = assess(shipped_form, "sprinter_right_strain.json")
    assert [f.id for f in a.red_flags] == ["R1"]
    assert a.red_flags[0].stops_exercise
    program = suggest_program(shipped_form, a, lib)
    assert [e.exercise for e in program.exercises] == ["dead_bug"]
    assert program.exercises[0].reason == GENERAL_REASON
    warn = safety_warnings(lib["glute_bridge"], a)
    assert warn == [
        "Bridge loads the leg, and a red flag stops exercise until it has been checked "
        "(R1 Possible tendon avulsion)"
    ]
    assert len(safety_warnings(lib["dynamic_hamstring_warmup"], a)) == 1  # R1 says no stretch
    assert safety_warnings(lib["side_plank"], a) == []


def test_no_warning_without_a_reason(shipped_form: Form, lib: Library) -> None:
    a = assess(shipped_form, "runner_left_proximal.json")
    assert all(not safety_warnings(lib[e], a) for e in lib if e != "dynamic_hamstring_warmup")
    # a flag that does not stop exercise (R9, night pain) warns about nothing
    night = assess(shipped_form, "runner_left_proximal.json", rf_constant_pain="yes")
    assert "R9" in [f.id for f in night.red_flags]
    assert not any(f.stops_exercise for f in night.red_flags)
    assert safety_warnings(lib["nordic_curl"], night) == []


def test_an_emergency_flag_empties_the_program_and_warns_on_every_exercise(
    shipped_form: Form, lib: Library
) -> None:
    a = assess(shipped_form, "runner_left_proximal.json", rf_saddle_numbness="yes")
    assert a.emergency
    assert suggest_program(shipped_form, a, lib).exercises == ()
    for ex in lib.values():
        warn = safety_warnings(ex, a)
        assert warn
        assert "emergency" in warn[0]
        assert "R3" in warn[0]


def test_unknown_exercise_is_named(lib: Library) -> None:
    program = parse_program(
        {"exercises": [{"exercise": "glute_bridge"}, {"exercise": "moon_walk", "sets": 2}]}
    )
    assert check_against(program, lib) == [
        "program exercise 2 (moon_walk): not in the exercise library"
    ]


@pytest.mark.parametrize(
    ("dose", "words"),
    [
        ({"sets": 0}, "program exercise 1 (glute_bridge) sets: 0 is outside 1-10"),
        ({"reps": 10_000}, "program exercise 1 (glute_bridge) reps: 10000 is outside 1-100"),
        ({"hold_seconds": -5}, "hold_seconds: -5 is outside"),
        # named as written, not as :g's "1e+08" (an imported or scripted program)
        ({"sets": 99_999_999}, "sets: 99999999 is outside 1-10"),
        ({"reps": 123_456_789_012}, "reps: 123456789012 is outside 1-100"),
        ({"sets": 10**40}, "sets: a number far too large is outside 1-10"),
        ({"reps": 2.5}, "reps: 2.5 must be a whole number"),
        ({"sets": "three"}, "sets: 'three' is not a number"),
    ],
)
def test_impossible_dose_names_exercise_and_field(dose: dict[str, Any], words: str) -> None:
    with pytest.raises(ProgramError) as err:
        parse_program({"exercises": [{"exercise": "glute_bridge", **dose}]})
    assert words in err.value.problems[0]


@pytest.mark.parametrize(
    ("snapshot", "words"),
    [
        ({"title": ""}, "snapshot title: empty"),
        ({"title": "T", "pictures": ["nothex"]}, "is not a SHA-256"),
        ({"title": "T", "origin": "elsewhere"}, "origin"),
        ({"title": "T", "colour": 1}, "'colour' is not a field of a snapshot"),
        ({"title": "T", "steps": ["x" * 301]}, "snapshot step 1"),
    ],
)
def test_a_bad_snapshot_is_refused_by_field(snapshot: dict[str, Any], words: str) -> None:
    with pytest.raises(ProgramError) as err:
        parse_program({"exercises": [{"exercise": "glute_bridge", "snapshot": snapshot}]})
    assert "(glute_bridge)" in err.value.problems[0]
    assert words in err.value.problems[0]


def test_a_snapshot_keeps_the_words_when_the_library_changes(lib: Library) -> None:
    program = with_snapshots(parse_program({"exercises": [{"exercise": "glute_bridge"}]}), lib)
    stored = json.loads(json.dumps(program.plain()))
    reworded = lib.merged([replace(lib["glute_bridge"], title="Hip lift", steps=("New.",))])
    entry = parse_program(stored).exercises[0]
    shown = resolve(entry, reworded)
    assert shown is not None
    assert shown.title == "Bridge"
    assert shown.steps == lib["glute_bridge"].steps
    assert shown.pictures == lib["glute_bridge"].pictures  # found by hash
    # the library's words only when the therapist asks for them
    refreshed = with_snapshots(parse_program(stored), reworded, refresh=True)
    assert refreshed.exercises[0].snapshot is not None
    assert refreshed.exercises[0].snapshot.title == "Hip lift"
    assert with_snapshots(parse_program(stored), reworded) == parse_program(stored)
    # an exercise gone from the library still prints from its snapshot
    gone = Library([e for e in lib.values() if e.id != "glute_bridge"])
    assert check_against(parse_program(stored), gone) == []
    assert resolve(entry, gone) is not None
    assert resolve(entry, gone).title == "Bridge"
    assert resolve(ProgramExercise("moon_walk"), gone) is None


def test_entry_for_takes_the_defaults_and_records_a_confirmation(lib: Library) -> None:
    entry = entry_for(lib["side_plank"], confirmed="Confirmed: R1 checked by phone")
    assert (entry.sets, entry.reps, entry.hold_seconds) == (3, None, 20)
    assert entry.frequency == "once a day"
    assert entry.confirmed.startswith("Confirmed")
    assert parse_program(Program((entry,)).plain()).exercises[0] == entry


def test_choose_keeps_order_limits_and_fills() -> None:
    allowed = {"a", "b", "c", "g1", "g2"}.__contains__
    assert choose(["a", "x", "a", "b"], allowed, ["g1", "g2"]) == ["a", "b", "g1"]
    assert choose(list("abc") * 3, lambda e: True, [], 3, 2) == ["a", "b"]
    assert choose([], allowed, ["g1", "x", "g2"]) == ["g1", "g2"]


def test_the_isometrics_example_is_a_valid_program_without_nordic_or_deadlift(
    shipped_form: Form, lib: Library
) -> None:
    data = json.loads((EXAMPLES / "program_isometrics.json").read_text(encoding="utf-8"))
    program = parse_program(data)
    ids = [e.exercise for e in program.exercises]
    assert ids[0] == "glute_bridge"
    assert program.exercises[0].hold_seconds == 45
    assert "nordic_curl" not in ids
    assert "romanian_deadlift" not in ids
    assert check_against(program, lib) == []
    assert any(e.instruction for e in program.exercises)
    assert program.note
    a = assess(shipped_form, "runner_left_proximal.json")
    assert all(not safety_warnings(lib[e], a) for e in ids)
    assert program.plain() == parse_program(program.plain()).plain()
