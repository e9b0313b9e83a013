"""The home program as a finding: the value of a form item of type ``program``.

A program is the exercises the therapist chose, in their order, each with its dose, plus a note
for the whole program. Stored as a finding, it is autosaved, sealed on signing, carried into the
next visit and audited like every other value. The stored JSON shape::

    {"exercises": [{"exercise": "glute_bridge", "sets": 3, "reps": 10, "side": "both", ...}],
     "note": "..."}

Unknown exercises are the caller's check (the library lives in resources and the database);
here every field is checked for shape and a possible dose, and a problem names the exercise and
the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from clinic_app.core.form_schema import Item

ProgramSide = Literal["left", "right", "both"]
PROGRAM_SIDES: tuple[ProgramSide, ...] = ("left", "right", "both")
MAX_EXERCISES = 30
# A dose outside these is a typing slip, not a prescription.
DOSE_LIMITS: dict[str, tuple[int, int]] = {
    "sets": (1, 10),
    "reps": (1, 100),
    "hold_seconds": (1, 300),
}
TEXT_LIMITS: dict[str, int] = {
    "load": 80,
    "frequency": 80,
    "progression": 300,
    "instruction": 500,
    "reason": 200,
    "confirmed": 300,
}
NOTE_LIMIT = 2000
_EXERCISE_ID = re.compile(r"^[a-z][a-z0-9_:-]{0,79}$")
_CONTROLS = frozenset(chr(c) for c in (*range(0x20), 0x7F)) - {"\n", "\r", "\t"}


@dataclass(frozen=True)
class ProgramExercise:
    """One exercise of the program with its dose (blank fields left out)."""

    exercise: str  # library id: a shipped exercise or one of the clinic's
    side: ProgramSide = "both"
    sets: int | None = None
    reps: int | None = None
    hold_seconds: int | None = None
    load: str = ""
    frequency: str = ""
    progression: str = ""
    instruction: str = ""  # a personal instruction for this patient
    reason: str = ""  # why it is in the program ("for: weak glutes (F3)")
    confirmed: str = ""  # a safety warning the therapist confirmed when adding it

    def plain(self) -> dict[str, Any]:
        out: dict[str, Any] = {"exercise": self.exercise, "side": self.side}
        for key in ("sets", "reps", "hold_seconds"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        for key in TEXT_LIMITS:
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class Program:
    exercises: tuple[ProgramExercise, ...]
    note: str = ""

    def plain(self) -> dict[str, Any]:
        out: dict[str, Any] = {"exercises": [e.plain() for e in self.exercises]}
        if self.note:
            out["note"] = self.note
        return out


class ProgramError(ValueError):
    """A program that cannot be stored; ``problems`` names the exercise and field of each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _text(value: Any, where: str, limit: int, lines: bool) -> tuple[str, str | None]:
    if value is None:
        return "", None
    if not isinstance(value, str):
        return "", f"{where}: {str(value)[:40]!r} is not text"
    bad = next((c for c in value if c in _CONTROLS or (not lines and c in "\n\r\t")), None)
    if bad is not None:
        return "", f"{where}: contains a control character (U+{ord(bad):04X})"
    text = value.strip()
    if len(text) > limit:
        return "", f"{where}: text is {len(text)} characters, the limit is {limit}"
    return text, None


def _exercise(raw: Any, where: str) -> tuple[ProgramExercise | None, str | None]:
    if not isinstance(raw, Mapping):
        return None, f"{where}: expected an object with at least 'exercise'"
    known = {"exercise", "side", *DOSE_LIMITS, *TEXT_LIMITS}
    extra = sorted(str(k) for k in raw if k not in known)
    if extra:
        return None, f"{where}: {extra[0][:40]!r} is not a field of a program exercise"
    ex_id = raw.get("exercise")
    if not isinstance(ex_id, str) or not _EXERCISE_ID.match(ex_id):
        return None, f"{where}: exercise {str(ex_id)[:40]!r} is not an exercise id"
    at = f"{where} ({ex_id})"
    side = raw.get("side", "both")
    if side not in PROGRAM_SIDES:
        return None, f"{at} side: {str(side)[:20]!r} is not left, right or both"
    fields: dict[str, Any] = {"exercise": ex_id, "side": side}
    for key, (low, high) in DOSE_LIMITS.items():
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, f"{at} {key}: {str(value)[:20]!r} is not a number"
        if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
            return None, f"{at} {key}: {value!r} must be a whole number"
        if not low <= value <= high:
            shown = "a number far too large" if abs(value) > 10**9 else f"{value:g}"
            return None, f"{at} {key}: {shown} is outside {low}-{high}"
        fields[key] = int(value)
    for key, limit in TEXT_LIMITS.items():
        text, problem = _text(raw.get(key), f"{at} {key}", limit, lines=key == "instruction")
        if problem:
            return None, problem
        fields[key] = text
    return ProgramExercise(**fields), None


def parse_program(data: Any, where: str = "program") -> Program:
    """A program from its JSON shape; :class:`ProgramError` names the exercise and field."""
    if isinstance(data, Program):
        return data
    if not isinstance(data, Mapping):
        raise ProgramError([f"{where}: expected an object with 'exercises' (and 'note')"])
    extra = sorted(str(k) for k in data if k not in ("exercises", "note"))
    if extra:
        raise ProgramError([f"{where}: {extra[0][:40]!r} is not a key of a program"])
    raw = data.get("exercises", [])
    if isinstance(raw, str | Mapping) or not isinstance(raw, list | tuple):
        raise ProgramError([f"{where}.exercises: expected a list of exercises"])
    if len(raw) > MAX_EXERCISES:
        raise ProgramError(
            [f"{where}.exercises: {len(raw)} exercises, the limit is {MAX_EXERCISES}"]
        )
    problems: list[str] = []
    exercises: list[ProgramExercise] = []
    seen: set[tuple[str, str]] = set()
    for n, item in enumerate(raw, 1):
        ex, problem = _exercise(item, f"{where} exercise {n}")
        if problem:
            problems.append(problem)
        elif ex is not None:
            if (ex.exercise, ex.side) in seen:
                problems.append(f"{where} exercise {n} ({ex.exercise}): listed twice for {ex.side}")
            seen.add((ex.exercise, ex.side))
            exercises.append(ex)
    note, problem = _text(data.get("note"), f"{where} note", NOTE_LIMIT, lines=True)
    if problem:
        problems.append(problem)
    if problems:
        raise ProgramError(problems)
    return Program(tuple(exercises), note)


def check_program(item: Item, value: Any, where: str) -> tuple[Program | None, str | None]:
    """A ``program`` item's value for findings; an empty program is no value."""
    try:
        program = parse_program(value.plain() if isinstance(value, Program) else value, where)
    except ProgramError as err:
        return None, err.problems[0]
    if not program.exercises and not program.note:
        return None, None
    return program, None
