"""Handout texts (exercises, advice, fixed wording) and the choice of home exercises.

The texts live in ``resources/handout/*.yaml`` so a clinic can reword them without touching code,
and so do the rules about them: which exercises fill a short program (``general`` with an
``order``), which advice rules out stretching (``no_stretches``), which tips every handout carries
(``always``) and where an advice is shown (``group``). No exercise or advice id is named in code.
Pure Python: the choice of exercises is tested without making a PDF.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from clinic_app.core.findings import Findings
from clinic_app.core.form import Form, ItemType
from clinic_app.core.library import Library, Picture
from clinic_app.core.program import Program, ProgramExercise, resolve
from clinic_app.paths import resources_dir
from clinic_app.reports import figures

MIN_EXERCISES = 3
MAX_EXERCISES = 6
TIP_GROUPS = ("daily", "running")
"""Advice groups printed among the everyday tips."""
REFERRAL_GROUP = "referral"
"""Advice printed in the red-flag box instead of among the tips."""
ADVICE_GROUPS = (*TIP_GROUPS, REFERRAL_GROUP, "traffic_light")

logger = logging.getLogger(__name__)


class ContentError(ValueError):
    """A handout text file is missing or malformed."""


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    kind: str
    stretch: bool
    general: bool
    """Safe for almost everyone: used, in ``order``, to fill a short program."""
    purpose: str
    steps: tuple[str, ...]
    dose: str
    safety: str
    order: int | None = None
    figure: str | None = None
    """The name of its drawing in :mod:`clinic_app.reports.figures` (None: no picture)."""


@dataclass(frozen=True)
class Advice:
    id: str
    title: str
    group: str
    paragraphs: tuple[str, ...]
    always: bool = False
    """On every handout, whatever the findings."""
    no_stretches: bool = False
    """While this advice is given, no stretch goes into the home program."""


@dataclass(frozen=True)
class RunLevelText:
    label: str
    text: str


@dataclass(frozen=True)
class HandoutText:
    raw: Mapping[str, Any]

    def text(self, key: str) -> str:
        return str(self.raw[key])

    def paragraphs(self, key: str) -> tuple[str, ...]:
        value = self.raw[key]
        return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)

    def run_levels(self) -> dict[str, RunLevelText]:
        levels = self.raw["running_levels"]
        return {k: RunLevelText(str(v["label"]), str(v["text"])) for k, v in levels.items()}


def handout_dir() -> Path:
    return resources_dir() / "handout"


def _load(name: str) -> dict[str, Any]:
    path = handout_dir() / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping")
    return data


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise TypeError(f"{key!r} must be true or false")
    return value


def _order(raw: Mapping[str, Any]) -> int | None:
    value = raw.get("order")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TypeError("'order' must be a whole number from 1")
    return value


@lru_cache(maxsize=1)
def exercises() -> Mapping[str, Exercise]:
    out: dict[str, Exercise] = {}
    for eid, raw in _load("exercises.yaml").items():
        try:
            general = _flag(raw, "general")
            order = _order(raw)
            if order is not None and not general:
                raise TypeError("'order' is only for general exercises")
            figure = raw.get("figure")
            if figure is not None and figure not in figures.FIGURE_IDS:
                raise TypeError(f"figure {figure!r}: no such drawing")
            out[eid] = Exercise(
                id=eid,
                name=str(raw["name"]),
                kind=str(raw["kind"]),
                stretch=bool(raw["stretch"]),
                general=general,
                purpose=str(raw["purpose"]),
                steps=tuple(str(s) for s in raw["steps"]),
                dose=str(raw["dose"]),
                safety=str(raw["safety"]),
                order=order,
                figure=None if figure is None else str(figure),
            )
        except (KeyError, TypeError) as exc:
            raise ContentError(f"exercises.yaml: {eid}: missing or bad {exc}") from exc
    logger.debug("exercise library: %d exercises", len(out))
    return out


@lru_cache(maxsize=1)
def advice() -> Mapping[str, Advice]:
    out: dict[str, Advice] = {}
    for aid, raw in _load("advice.yaml").items():
        try:
            group = str(raw["group"])
            if group not in ADVICE_GROUPS:
                raise TypeError(f"group {group!r}: expected one of {', '.join(ADVICE_GROUPS)}")
            out[aid] = Advice(
                id=aid,
                title=str(raw["title"]),
                group=group,
                paragraphs=tuple(str(p) for p in raw["paragraphs"]),
                always=_flag(raw, "always"),
                no_stretches=_flag(raw, "no_stretches"),
            )
        except (KeyError, TypeError) as exc:
            raise ContentError(f"advice.yaml: {aid}: missing or bad {exc}") from exc
    logger.debug("advice library: %d entries", len(out))
    return out


def tips(active_advice: Sequence[str], library: Mapping[str, Advice] | None = None) -> list[Advice]:
    """The everyday tips of a handout: the active advice, then the ``always`` advice, once each.

    Advice shown elsewhere (the referral in the red-flag box, the traffic light's introduction)
    and unknown ids are left out.
    """
    lib = advice() if library is None else library
    always = [a.id for a in lib.values() if a.always]
    ids = dict.fromkeys((*active_advice, *always))
    return [lib[aid] for aid in ids if aid in lib and lib[aid].group in TIP_GROUPS]


def referral_advice(library: Mapping[str, Advice] | None = None) -> list[Advice]:
    """The advice printed in the red-flag box (group ``referral``)."""
    lib = advice() if library is None else library
    return [a for a in lib.values() if a.group == REFERRAL_GROUP]


def general_exercises(library: Mapping[str, Exercise]) -> list[Exercise]:
    """The general exercises in their fill ``order`` (those without one last, in file order)."""
    listed = [e for e in library.values() if e.general]
    return sorted(listed, key=lambda e: (e.order is None, e.order or 0))


@lru_cache(maxsize=1)
def handout_text() -> HandoutText:
    return HandoutText(_load("handout.yaml"))


def choose_exercises(
    suggested: Sequence[str],
    active_advice: Sequence[str] = (),
    library: Mapping[str, Exercise] | None = None,
    advice_library: Mapping[str, Advice] | None = None,
) -> list[Exercise]:
    """The home program: the factors' exercises in order, 3 to 6 of them.

    Unknown ids are skipped; while an active advice says ``no_stretches`` no stretch is ever
    included; a short list is filled with the general exercises, in their order. The choice
    itself is ``core.program.choose`` (``core.program.suggest_program`` makes the editable
    program with reasons and the red-flag checks from the same rule).
    """
    from clinic_app.core.program import choose

    lib = exercises() if library is None else library
    tips_lib = advice() if advice_library is None else advice_library
    no_stretch = any(tips_lib[a].no_stretches for a in active_advice if a in tips_lib)

    def allowed(eid: str) -> bool:
        ex = lib.get(eid)
        return ex is not None and not (no_stretch and ex.stretch)

    general = [e.id for e in general_exercises(lib)]
    chosen = choose(suggested, allowed, general, MIN_EXERCISES, MAX_EXERCISES)
    return [lib[eid] for eid in chosen]


# ---------------------------------------------------------------------------------------------
# The home program as printed: one card per program entry, in the program's order


@dataclass(frozen=True)
class Card:
    """One exercise of the handout, in the patient's words, with its picture."""

    number: int
    exercise_id: str
    title: str
    purpose: str
    dose: str
    steps: tuple[str, ...]
    safety: str = ""
    side: str = ""
    """ "" for both sides, else "left" or "right"."""
    load: str = ""
    instruction: str = ""
    progression: str = ""
    picture: Picture | None = None


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def dose_words(entry: ProgramExercise, default: str = "") -> str:
    """The dose of a program entry in words ("3 sets of 10, once a day."; "Hold for 45 seconds,
    5 times."); the library's dose in words (``default``) when the therapist gave no numbers."""
    sets, reps, hold = entry.sets, entry.reps, entry.hold_seconds
    parts: list[str] = []
    if reps is not None:
        parts.append(f"{sets} sets of {reps}" if sets else f"{reps} times")
        if hold:
            parts.append(f"Hold each one for {hold} seconds")
    elif hold is not None:
        held = f"Hold for {hold} seconds"
        parts.append(f"{held}, {_times(sets)}" if sets else held)
    elif sets is not None:
        parts.append(f"{sets} sets")
    if not parts:
        if not default:
            return _sentence(entry.frequency)
        return _sentence(default) + (f" {_sentence(entry.frequency)}" if entry.frequency else "")
    if entry.frequency:
        parts[-1] += f", {entry.frequency.strip().rstrip('.')}"
    return " ".join(_sentence(p) for p in parts)


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def program_cards(
    program: Program,
    library: Library,
    pictures: Mapping[str, Picture] | None = None,
    suggested: bool = False,
) -> list[Card]:
    """The cards of ``program`` in its order: its words from each entry's snapshot (or the
    library's current exercise), its pictures by hash (``pictures``: the stored ones first), its
    dose and the therapist's notes. An entry neither knows is left out and logged (the command
    line and the editor refuse such programs first). A ``suggested`` program (none stored yet)
    prints each exercise's dose as the library words it, as the handout did before programs:
    its default numbers are only where the editor starts."""
    cards: list[Card] = []
    for entry in program.exercises:
        ex = resolve(entry, library, pictures)
        if ex is None:
            logger.warning("handout: exercise %r is not in the library; left out", entry.exercise)
            continue
        cards.append(
            Card(
                number=len(cards) + 1,
                exercise_id=entry.exercise,
                title=ex.title,
                purpose=ex.purpose,
                dose=_sentence(ex.dose_text)
                if suggested and ex.dose_text
                else dose_words(entry, ex.dose_text),
                steps=ex.steps,
                safety=ex.safety,
                side="" if entry.side == "both" else entry.side,
                load=entry.load,
                instruction=entry.instruction,
                progression=entry.progression,
                picture=ex.pictures[0] if ex.pictures else None,
            )
        )
    return cards


def stored_program(form: Form, findings: Findings) -> Program | None:
    """The program recorded in the findings (the form's first ``program`` item with a value)."""
    for item in form.items.values():
        if item.type == ItemType.PROGRAM:
            value = findings.get(item.id)
            if isinstance(value, Program) and (value.exercises or value.note):
                return value
    return None
