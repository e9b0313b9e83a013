"""A home program on one line (notes, evidence, "Last 10 Sep: …"): exercises by their titles."""

from __future__ import annotations

from clinic_app.core.engine import program_text
from clinic_app.core.library import shipped_library
from clinic_app.core.program import Program, ProgramExercise, Snapshot


def test_a_shipped_exercise_is_named_by_its_title_not_its_id() -> None:
    shipped = next(iter(shipped_library().values()))
    line = program_text(Program((ProgramExercise(shipped.id, sets=3, reps=12),)))
    assert line == f"{shipped.title} 3×12"
    assert shipped.id not in line.replace(shipped.title, "")


def test_the_words_kept_with_the_program_come_first() -> None:
    shipped = next(iter(shipped_library().values()))
    kept = ProgramExercise(shipped.id, side="left", reps=8, snapshot=Snapshot(title="Old words"))
    assert program_text(Program((kept,))) == "Old words left 8"


def test_an_exercise_in_no_library_keeps_its_id() -> None:
    line = program_text(Program((ProgramExercise("retired_drill", hold_seconds=30),)))
    assert line == "retired_drill 30 s hold"
    assert program_text(Program(())) == "no exercises"
