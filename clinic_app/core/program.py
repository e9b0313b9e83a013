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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from clinic_app.core.library import Dose, ExerciseDef, Library, Picture, no_stretch_advice
from clinic_app.core.words import shown_number

if TYPE_CHECKING:
    from clinic_app.core.engine import Assessment, RedFlagResult, RuleResult
    from clinic_app.core.form_schema import Form, Item

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
class Snapshot:
    """The library's words for one exercise as they were when it went into the program.

    A signed program keeps them, so its handout prints the same title, steps and pictures a
    year later even after the clinic edited the exercise or a new release reworded it. Pictures
    are named by SHA-256: the picture table keeps every picture a program refers to
    (``storage.records.programs.keep_pictures``), and pictures are never changed or deleted.
    """

    title: str
    purpose: str = ""
    steps: tuple[str, ...] = ()
    dose_text: str = ""
    safety: str = ""
    pictures: tuple[str, ...] = ()
    origin: str = "shipped"
    version: int = 1

    def plain(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "purpose": self.purpose,
            "steps": list(self.steps),
            "dose_text": self.dose_text,
            "safety": self.safety,
            "pictures": list(self.pictures),
            "origin": self.origin,
            "version": self.version,
        }


SNAPSHOT_LIMITS: dict[str, int] = {
    "title": 100,
    "purpose": 400,
    "step": 300,
    "dose_text": 200,
    "safety": 300,
}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _snapshot(raw: Any, at: str) -> tuple[Snapshot | None, str | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, Mapping):
        return None, f"{at} snapshot: expected an object with title and steps"
    known = {"title", "purpose", "steps", "dose_text", "safety", "pictures", "origin", "version"}
    extra = sorted(str(k) for k in raw if k not in known)
    if extra:
        return None, f"{at} snapshot: {extra[0][:40]!r} is not a field of a snapshot"
    texts: dict[str, str] = {}
    for key in ("title", "purpose", "dose_text", "safety"):
        text, problem = _text(raw.get(key), f"{at} snapshot {key}", SNAPSHOT_LIMITS[key], False)
        if problem:
            return None, problem
        texts[key] = text
    if not texts["title"]:
        return None, f"{at} snapshot title: empty"
    steps = raw.get("steps", [])
    if not isinstance(steps, list) or len(steps) > 12:
        return None, f"{at} snapshot steps: expected a list of at most 12 steps"
    kept = []
    for n, step in enumerate(steps, 1):
        text, problem = _text(step, f"{at} snapshot step {n}", SNAPSHOT_LIMITS["step"], False)
        if problem:
            return None, problem
        kept.append(text)
    pictures = raw.get("pictures", [])
    if not isinstance(pictures, list) or len(pictures) > 2:
        return None, f"{at} snapshot pictures: expected at most 2 picture hashes"
    bad = next((p for p in pictures if not isinstance(p, str) or not _SHA256.match(p)), None)
    if bad is not None:
        return None, f"{at} snapshot pictures: {str(bad)[:20]!r} is not a SHA-256"
    origin = raw.get("origin", "shipped")
    if origin not in ("shipped", "clinic"):
        return None, f"{at} snapshot origin: {str(origin)[:20]!r} is not shipped or clinic"
    version = raw.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= 10**6:
        return None, f"{at} snapshot version: {str(version)[:20]!r} is not a version number"
    return Snapshot(
        texts["title"],
        texts["purpose"],
        tuple(kept),
        texts["dose_text"],
        texts["safety"],
        tuple(pictures),
        origin,
        version,
    ), None


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
    snapshot: Snapshot | None = None  # what the handout prints, as it was when chosen

    def plain(self) -> dict[str, Any]:
        out: dict[str, Any] = {"exercise": self.exercise, "side": self.side}
        for key in ("sets", "reps", "hold_seconds"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        for key in TEXT_LIMITS:
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.snapshot is not None:
            out["snapshot"] = self.snapshot.plain()
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
    known = {"exercise", "side", "snapshot", *DOSE_LIMITS, *TEXT_LIMITS}
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
            return None, f"{at} {key}: {shown_number(value)} is outside {low}-{high}"
        fields[key] = int(value)
    for key, limit in TEXT_LIMITS.items():
        text, problem = _text(raw.get(key), f"{at} {key}", limit, lines=key == "instruction")
        if problem:
            return None, problem
        fields[key] = text
    snapshot, problem = _snapshot(raw.get("snapshot"), at)
    if problem:
        return None, problem
    fields["snapshot"] = snapshot
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
    """A ``program`` item's value for findings. An empty program is a value too: the
    therapist took every exercise out, and the next visit must carry that forward, not the
    older program an absent value would bring back."""
    try:
        program = parse_program(value.plain() if isinstance(value, Program) else value, where)
    except ProgramError as err:
        return None, err.problems[0]
    return program, None


# ---------------------------------------------------------------------------------------------
# Choosing, checking and snapshotting a program against the library

MIN_SUGGESTED = 3
MAX_SUGGESTED = 6
GENERAL_REASON = "for: a safe general start (few factors point to other exercises)"


def choose(
    suggested: Sequence[str],
    allowed: Callable[[str], bool],
    general: Sequence[str],
    low: int = MIN_SUGGESTED,
    high: int = MAX_SUGGESTED,
) -> list[str]:
    """The exercise ids of a suggested program: the suggested ones in order (once each, only
    the allowed), at most ``high``; a list shorter than ``low`` is filled from ``general``."""
    chosen = [eid for eid in dict.fromkeys(suggested) if allowed(eid)][:high]
    for eid in general:
        if len(chosen) >= low:
            break
        if eid not in chosen and allowed(eid):
            chosen.append(eid)
    return chosen


def _lower_first(name: str) -> str:
    if len(name) > 1 and name[0].isupper() and not name[1].isupper():
        return name[0].lower() + name[1:]
    return name


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,") + "…"


def reason_for(factors: Sequence[tuple[str, str]]) -> str:
    """ "for: weak or under-active glutes (F3), eccentric hamstring weakness (F6)"."""
    named = ", ".join(f"{_lower_first(name)} ({fid})" for fid, name in factors)
    return _cut(f"for: {named}", TEXT_LIMITS["reason"])


def _names(results: Sequence[Any]) -> str:
    return ", ".join(f"{r.id} {r.name}" for r in results)


def safety_warnings(
    exercise: ExerciseDef,
    assessment: Assessment,
    no_stretch: frozenset[str] | None = None,
) -> list[str]:
    """Why ``exercise`` should not be in this patient's program now, each reason in words.

    The rules are data: a ``stretch``-tagged exercise while a fired factor, pattern or red flag
    gives an advice marked ``no_stretches`` (``resources/handout/advice.yaml``: an irritated
    nerve or tendon); a ``loading``-tagged exercise while a red flag whose form entry says
    ``overrides: {exercise: stop}`` is set; any exercise while a red flag asks for the
    emergency handout. The editor shows these and asks for an explicit confirmation; the
    suggestion leaves such exercises out.
    """
    rules = no_stretch_advice() if no_stretch is None else no_stretch
    out: list[str] = []
    emergency = [f for f in assessment.red_flags if f.emergency_handout]
    if emergency:
        out.append(
            f"{exercise.title}: an emergency red flag is set ({_names(emergency)}); the handout "
            "carries the emergency message only, no exercises"
        )
    if exercise.stretch:
        fired: list[RedFlagResult | RuleResult] = [
            *assessment.red_flags,
            *assessment.patterns,
            *assessment.factors,
        ]
        given = [r for r in fired if rules.intersection(r.advice)]
        if given:
            out.append(
                f"{exercise.title} puts the back of the thigh on stretch, and an irritated nerve "
                f"or tendon is suspected ({_names(given)}): stretching can make it worse; "
                "strengthen through range instead"
            )
    if exercise.loading:
        stops = [f for f in assessment.red_flags if getattr(f, "stops_exercise", False)]
        if stops:
            out.append(
                f"{exercise.title} loads the leg, and a red flag stops exercise until it has "
                f"been checked ({_names(stops)})"
            )
    return out


def entry_for(exercise: ExerciseDef, reason: str = "", confirmed: str = "") -> ProgramExercise:
    """A new program entry for ``exercise`` with its default dose and a snapshot of its words."""
    d = exercise.defaults
    return ProgramExercise(
        exercise=exercise.id,
        sets=d.sets,
        reps=d.reps,
        hold_seconds=d.hold_seconds,
        frequency=_cut(d.frequency, TEXT_LIMITS["frequency"]),
        reason=_cut(reason, TEXT_LIMITS["reason"]),
        confirmed=_cut(confirmed, TEXT_LIMITS["confirmed"]),
        snapshot=snapshot_of(exercise),
    )


def suggest_program(form: Form | None, assessment: Assessment, library: Library) -> Program:
    """The program the factors suggest, each exercise with its reason: the first thing the
    therapist sees in the editor, to change at will (the app suggests, the therapist decides).

    The fired factors' exercises in the factors' rank order, at most six, none with a safety
    warning; fewer than three are topped up with the library's general exercises. An emergency
    red flag gives an empty program. ``form`` names the factors when the assessment does not.
    """
    if assessment.emergency:
        return Program(())
    names = {f.id: f.name for f in (form.factors if form is not None else ())}
    by_exercise: dict[str, list[tuple[str, str]]] = {}
    for factor in assessment.factors:
        for eid in factor.exercises:
            by_exercise.setdefault(eid, []).append(
                (factor.id, factor.name or names.get(factor.id, ""))
            )
    rules = no_stretch_advice()

    def allowed(eid: str) -> bool:
        ex = library.get(eid)
        return ex is not None and not safety_warnings(ex, assessment, rules)

    ids = choose(list(by_exercise), allowed, [e.id for e in library.general()])
    return Program(
        tuple(
            entry_for(
                library[eid], reason_for(by_exercise[eid]) if eid in by_exercise else GENERAL_REASON
            )
            for eid in ids
        )
    )


def title_in(entry: ProgramExercise, library: Library) -> str | None:
    """What a program entry is called: the words kept with it, else ``library``'s title; None
    for an id ``library`` does not know (the caller says so its own way)."""
    if entry.snapshot is not None and entry.snapshot.title:
        return entry.snapshot.title
    found = library.get(entry.exercise)
    return found.title if found is not None else None


def check_against(program: Program, library: Library) -> list[str]:
    """Problems of a well-formed program against the library: an exercise that is not in it
    (each message names the exercise and its place)."""
    out = []
    for n, ex in enumerate(program.exercises, 1):
        if ex.exercise not in library and ex.snapshot is None:
            out.append(f"program exercise {n} ({ex.exercise}): not in the exercise library")
    return out


def snapshot_of(exercise: ExerciseDef) -> Snapshot:
    return Snapshot(
        title=_cut(exercise.title, SNAPSHOT_LIMITS["title"]),
        purpose=_cut(exercise.purpose, SNAPSHOT_LIMITS["purpose"]),
        steps=tuple(_cut(s, SNAPSHOT_LIMITS["step"]) for s in exercise.steps[:12]),
        dose_text=_cut(exercise.dose_text, SNAPSHOT_LIMITS["dose_text"]),
        safety=_cut(exercise.safety, SNAPSHOT_LIMITS["safety"]),
        pictures=tuple(p.sha256 for p in exercise.pictures[:2]),
        origin=exercise.origin,
        version=exercise.version,
    )


def with_snapshots(program: Program, library: Library, refresh: bool = False) -> Program:
    """``program`` with a snapshot on every exercise the library knows; an existing snapshot is
    kept unless ``refresh`` (the therapist chose to take the library's current words)."""
    out = []
    for ex in program.exercises:
        if (ex.snapshot is None or refresh) and ex.exercise in library:
            ex = replace(ex, snapshot=snapshot_of(library[ex.exercise]))
        out.append(ex)
    return Program(tuple(out), program.note)


def resolve(
    entry: ProgramExercise, library: Library, pictures: Mapping[str, Picture] | None = None
) -> ExerciseDef | None:
    """What to print for one program entry: its snapshot's words when it has one, else the
    library's current exercise; None when neither exists.

    A snapshot's pictures are looked up by hash in ``pictures`` (the stored ones:
    ``storage.records.program_pictures``), then among the library's; one found in neither is
    left out. The rest (tags, region, defaults) is the library's, as it only guides editing.
    """
    current = library.get(entry.exercise)
    snap = entry.snapshot
    if snap is None:
        return current
    known = {p.sha256: p for e in library.values() for p in e.pictures}
    known.update(pictures or {})
    return ExerciseDef(
        id=entry.exercise,
        title=snap.title,
        purpose=snap.purpose,
        steps=snap.steps,
        region=current.region if current else "",
        kind=current.kind if current else "strength",
        factors=current.factors if current else (),
        tags=current.tags if current else (),
        defaults=current.defaults if current else Dose(),
        pictures=tuple(known[s] for s in snap.pictures if s in known),
        origin="clinic" if snap.origin == "clinic" else "shipped",
        version=snap.version,
        dose_text=snap.dose_text,
        safety=snap.safety,
    )
