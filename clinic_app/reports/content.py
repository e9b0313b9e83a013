"""Handout texts (exercises, advice, fixed wording) and the choice of home exercises.

The texts live in ``resources/handout/*.yaml`` so a clinic can reword them without touching code.
Pure Python: the choice of exercises is tested without making a PDF.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from clinic_app.paths import resources_dir

MIN_EXERCISES = 3
MAX_EXERCISES = 6
NO_STRETCH_ADVICE = "no_stretch_irritated"
FILLER_EXERCISES = ("glute_bridge", "dead_bug", "calf_raise_straight", "hip_flexor_march")
"""Safe general exercises used to bring a short program up to three (in this order)."""


class ContentError(ValueError):
    """A handout text file is missing or malformed."""


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    kind: str
    stretch: bool
    general: bool
    purpose: str
    steps: tuple[str, ...]
    dose: str
    safety: str


@dataclass(frozen=True)
class Advice:
    id: str
    title: str
    group: str
    paragraphs: tuple[str, ...]


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


@lru_cache(maxsize=1)
def exercises() -> Mapping[str, Exercise]:
    out: dict[str, Exercise] = {}
    for eid, raw in _load("exercises.yaml").items():
        try:
            out[eid] = Exercise(
                id=eid,
                name=str(raw["name"]),
                kind=str(raw["kind"]),
                stretch=bool(raw["stretch"]),
                general=bool(raw.get("general", False)),
                purpose=str(raw["purpose"]),
                steps=tuple(str(s) for s in raw["steps"]),
                dose=str(raw["dose"]),
                safety=str(raw["safety"]),
            )
        except (KeyError, TypeError) as exc:
            raise ContentError(f"exercises.yaml: {eid}: missing or bad {exc}") from exc
    return out


@lru_cache(maxsize=1)
def advice() -> Mapping[str, Advice]:
    out: dict[str, Advice] = {}
    for aid, raw in _load("advice.yaml").items():
        try:
            out[aid] = Advice(
                id=aid,
                title=str(raw["title"]),
                group=str(raw["group"]),
                paragraphs=tuple(str(p) for p in raw["paragraphs"]),
            )
        except (KeyError, TypeError) as exc:
            raise ContentError(f"advice.yaml: {aid}: missing or bad {exc}") from exc
    return out


@lru_cache(maxsize=1)
def handout_text() -> HandoutText:
    return HandoutText(_load("handout.yaml"))


def choose_exercises(
    suggested: Sequence[str],
    active_advice: Sequence[str] = (),
    library: Mapping[str, Exercise] | None = None,
) -> list[Exercise]:
    """The home program: the factors' exercises in order, 3 to 6 of them.

    Unknown ids are skipped; with the ``no_stretch_irritated`` advice active no stretch is ever
    included; a short list is filled with safe general exercises.
    """
    lib = exercises() if library is None else library
    no_stretch = NO_STRETCH_ADVICE in active_advice

    def allowed(eid: str) -> bool:
        ex = lib.get(eid)
        return ex is not None and not (no_stretch and ex.stretch)

    chosen = [eid for eid in dict.fromkeys(suggested) if allowed(eid)][:MAX_EXERCISES]
    fillers = [*FILLER_EXERCISES, *(e.id for e in lib.values() if e.general)]
    for eid in dict.fromkeys(fillers):
        if len(chosen) >= MIN_EXERCISES:
            break
        if eid not in chosen and allowed(eid):
            chosen.append(eid)
    return [lib[eid] for eid in chosen]
