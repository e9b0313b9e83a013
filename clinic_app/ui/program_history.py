"""The home program's history over an episode (issue 17), with the adherence beside each version.

Every evaluation and visit note stores the program as it was that day (a visit note starts
from the episode's current one), so the versions are read from the records themselves: a new
version wherever the program differs from the one before, with what changed ("added Side
plank; Bridge 3 × 10 → 4 × 12"). Beside each version: the adherence each following visit note
reported for it ("home program, days done of the last 7"), up to and including the visit that
changed it, since that visit's patient report is about the program they had been doing.

:func:`program_versions` is pure (it runs on the worker inside the patient view's one read);
:class:`ProgramHistory` shows its result in the episode panel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from clinic_app.core.kinds import KIND_LABELS
from clinic_app.core.program import Program, ProgramError, ProgramExercise, parse_program

# The visit note's adherence item (forms/hamstring_whole_body.yaml, visit_subjective).
ADHERENCE_ITEM = "hep_days"


@dataclass(frozen=True)
class ProgramVersion:
    """One version of the home program: where it was first recorded and what changed."""

    on: date
    record_id: int
    record: str  # "Initial evaluation", "Visit note 3"
    changes: str
    exercises: int
    adherence: tuple[tuple[str, int], ...] = ()  # (visit note, days done of the last 7)


def _program_of(values: Mapping[str, Any]) -> Program | None:
    for value in values.values():
        if isinstance(value, Mapping) and "exercises" in value:
            try:
                return parse_program(value)
            except ProgramError:
                return None
    return None


def _name(ex: ProgramExercise) -> str:
    if ex.snapshot is not None:
        return ex.snapshot.title
    from clinic_app.core.library import shipped_library

    found = shipped_library().get(ex.exercise)
    return found.title if found is not None else ex.exercise


def _dose(ex: ProgramExercise) -> str:
    parts = []
    if ex.sets is not None:
        parts.append(f"{ex.sets} × {ex.reps}" if ex.reps is not None else f"{ex.sets} sets")
    elif ex.reps is not None:
        parts.append(f"{ex.reps} reps")
    if ex.hold_seconds is not None:
        parts.append(f"hold {ex.hold_seconds} s")
    if ex.load:
        parts.append(ex.load)
    if ex.side != "both":
        parts.append(ex.side)
    return ", ".join(parts) or "no dose"


def changes_between(before: Program | None, after: Program) -> str:
    """What changed from ``before`` to ``after``, in words."""
    if before is None:
        return f"started with {len(after.exercises)} exercises"
    old = {(e.exercise, e.side): e for e in before.exercises}
    new = {(e.exercise, e.side): e for e in after.exercises}
    out = []
    added = [_name(e) for k, e in new.items() if k not in old]
    removed = [_name(e) for k, e in old.items() if k not in new]
    if added:
        out.append("added " + ", ".join(added))
    if removed:
        out.append("removed " + ", ".join(removed))
    for key, e in new.items():
        was = old.get(key)
        if was is not None and _dose(was) != _dose(e):
            out.append(f"{_name(e)} {_dose(was)} → {_dose(e)}")
        elif was is not None and was.plain() != e.plain():
            out.append(f"{_name(e)} instructions changed")
    kept = [k for k in new if k in old]
    if [k for k in old if k in new] != kept and not added and not removed:
        out.append("new order")
    if before.note != after.note:
        out.append("note changed")
    return "; ".join(out) or "unchanged"


def program_versions(records: Sequence[Any]) -> tuple[ProgramVersion, ...]:
    """The versions of the home program over an episode's records (oldest first: objects with
    ``id``, ``kind``, ``on`` and ``values``), each with the adherence reported after it."""
    versions: list[ProgramVersion] = []
    adherence: list[list[tuple[str, int]]] = []
    current: Program | None = None
    visit_no = 0
    for r in records:
        label = KIND_LABELS.get(r.kind, r.kind)
        if r.kind == "visit":
            visit_no += 1
            label = f"Visit note {visit_no}"
            days = r.values.get(ADHERENCE_ITEM)
            if versions and isinstance(days, int | float) and not isinstance(days, bool):
                adherence[-1].append((label, int(days)))
        program = _program_of(r.values)
        if program is None or (current is not None and program.plain() == current.plain()):
            continue
        versions.append(
            ProgramVersion(
                r.on, r.id, label, changes_between(current, program), len(program.exercises)
            )
        )
        adherence.append([])
        current = program
    return tuple(
        ProgramVersion(v.on, v.record_id, v.record, v.changes, v.exercises, tuple(a))
        for v, a in zip(versions, adherence, strict=True)
    )


def adherence_text(adherence: Sequence[tuple[str, int]]) -> str:
    if not adherence:
        return "no adherence reported yet"
    return "done " + ", ".join(f"{days}/7 days ({label})" for label, days in adherence)


class ProgramHistory(QWidget):
    """The "Home program" list of the episode panel: version, date, record, what changed and
    the adherence beside it, newest first.

    Signals: none (it only displays).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        title = QLabel("<b>Home program</b>", self)
        layout.addWidget(title)
        self.list = QListWidget(self)
        self.list.setObjectName("programHistory")
        self.list.setAccessibleName("Home program versions")
        self.list.setWordWrap(True)
        self.list.setMaximumHeight(140)
        title.setBuddy(self.list)
        layout.addWidget(self.list)
        self.empty = QLabel("No home program recorded in this episode yet.", self)
        self.empty.setObjectName("programHistoryEmpty")
        self.empty.setProperty("role", "secondary")
        self.empty.setWordWrap(True)  # a narrow episode panel wraps it instead of cutting it
        layout.addWidget(self.empty)
        self.versions: tuple[ProgramVersion, ...] = ()

    def show_versions(self, versions: Sequence[ProgramVersion]) -> None:
        self.versions = tuple(versions)
        self.list.clear()
        self.list.setVisible(bool(versions))  # an empty list says so in words, not a fake row
        self.empty.setVisible(not versions)
        if not versions:
            return
        for n, v in reversed(list(enumerate(versions, 1))):
            item = QListWidgetItem(
                f"Version {n} · {v.on.day} {v.on:%b %Y} · {v.record} · {v.exercises} exercises: "
                f"{v.changes}\n    Adherence: {adherence_text(v.adherence)}"
            )
            item.setData(Qt.ItemDataRole.UserRole, v.record_id)
            self.list.addItem(item)

    def lines(self) -> list[str]:
        if not self.versions:
            return [self.empty.text()]
        return [self.list.item(n).text() for n in range(self.list.count())]
