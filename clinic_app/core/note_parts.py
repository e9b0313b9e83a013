"""The building blocks of the note text (:mod:`clinic_app.core.note_text`): its constants, the
ASCII folding and wrapping, and ``_Note``, what every part of one note needs (the form, the short
labels, the record, its history and the level of detail the budget allows)."""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from clinic_app.core.engine import Evidence
from clinic_app.core.form import NUMERIC_TYPES, Form, Item, ItemType, Leaf, Section
from clinic_app.core.form_schema import AllOf, AnyOf, Condition
from clinic_app.core.progress import (
    Record,
    gap_text,
    item_progress,
    value_text,
)
from clinic_app.core.real_change import short_text
from clinic_app.core.responses import covered_scores
from clinic_app.core.symmetry import compare

WIDTH = 100
EVIDENCE_LINES = 2  # the key evidence of a factor: its first line or two
EVIDENCE_CHARS = 70  # ... the second only when both are this short together
# An evaluation's note aims at fewer characters than this (an EMR text box is small). Over it,
# the note is made again with less detail (``_Note.detail``): 1, one evidence line per factor and
# goals without the app's suggestion; 2, goals without dates, only the strongest factors and
# pattern with evidence (the others named on one line), and a re-evaluation's O only with what
# changed since the baseline (the rest named); 3, bilateral answers that are the same on both
# sides named together ("None (both sides): Piriformis tenderness / ...").
BUDGET = 2000
DETAIL_STEPS = 4
BOTH_SIDES = "(both sides)"
TOP_RULES = 3
SUGGESTED = "Suggested by the app; the therapist decides"
RED_FLAG_HEADING = "RED FLAGS - a red flag overrides everything else in this note:"
VISIT_LABEL = "Visit note"
_TERM = {"short": "STG", "long": "LTG"}
_ANSWERS = (ItemType.YESNO, ItemType.POSNEG)
_SUMMARY = {
    "source": "source (the hamstring region itself)",
    "victim": "victim (causes away from the hamstring)",
    "both": "both (a local problem plus causes elsewhere)",
    "undetermined": "undetermined by these findings",
}
_BRACKETED = re.compile(r"\s*\([^)]*\)")
# Typographic symbols an EMR text box may mangle, as plain ASCII. Names and free text keep their
# Unicode: only these symbols are folded.
_ASCII = ("<=", ">=", "->", "-", "-", "-", "'", "'", '"', '"', "...")
_FOLD = str.maketrans(dict(zip("≤≥→—–−‘’“”…", _ASCII, strict=True)))


@dataclass(frozen=True)
class EpisodeRef:
    """The episode a record belongs to, as the header names it."""

    title: str
    side: str | None = None
    start: date | None = None


def fold(text: str) -> str:
    """Typographic symbols as ASCII (≤ as <=, − as -); everything else unchanged."""
    return text.translate(_FOLD).replace(" · ", ", ")


def one_line(text: object) -> str:
    """Free text on one line: line breaks and runs of white space become single spaces."""
    return " ".join(str(text).split())


def _wrap(text: str, indent: str = "  ", first: str = "") -> list[str]:
    """``text`` wrapped to :data:`WIDTH` (a very long word is broken, never overflows)."""
    wrapped = textwrap.wrap(
        text, WIDTH, initial_indent=first, subsequent_indent=indent, break_on_hyphens=False
    )
    return wrapped or [first.rstrip()]


def _blank(value: Any) -> bool:
    return value is None or value in ("", [], {}, ())


class _Note:
    """What every part of one note needs: the form, its short labels, the record."""

    def __init__(self, form: Form, record: Record, history: Sequence[Record]) -> None:
        self.form = form
        self.record = record
        self.values = record.values
        self.history = history
        self.form_items = form.items
        full = {i.id: one_line(i.note_label or i.label) for i in self.form_items.values()}
        short = {k: _BRACKETED.sub("", v).strip() or v for k, v in full.items()}
        counts = Counter(short.values())
        self.labels = {k: short[k] if counts[short[k]] == 1 else full[k] for k in full}
        self.changes = self._changes()
        self.unchanged = self._unchanged()
        self.detail = 0
        self.goal_cache: dict[tuple[Any, ...], list[Any]] = {}
        self.paragraphs: dict[tuple[Any, ...], list[str]] = {}
        self.layout: tuple[Any, ...] = ()

    def label(self, item: Item) -> str:
        return self.labels.get(item.id, one_line(item.label))

    def shown(self, item: Item, value: Any) -> str:
        """A stored value in words, on one line (free text squeezed, symbols folded)."""
        if item.type is ItemType.TEXT:
            return one_line(value)
        text = value_text(item, value)
        if (
            isinstance(value, Mapping)
            and item.type not in NUMERIC_TYPES
            and set(value) == {"left", "right"}
            and value["left"] == value["right"]
        ):
            return f"{one_line(fold(value_text(item, value['left'])))} {BOTH_SIDES}"
        # A difference below the minimal detectable difference is measurement noise: no gap
        # shown. A deficit is always shown (a goal may be stricter than the form's threshold).
        sym = item.symmetry
        if isinstance(value, Mapping) and sym is not None and sym.method == "difference":
            left, right = value.get("left"), value.get("right")
            gap = gap_text(item, left, right)
            if (
                gap
                and isinstance(left, int | float)
                and isinstance(right, int | float)
                and not compare(item, float(left), float(right), None).exceeds
            ):
                text = text.removesuffix(f" ({gap})")
        return one_line(fold(text))

    def _changes(self) -> dict[str, str]:
        """For an evaluation after the episode's first record: what changed since the baseline,
        by item id (sides without a change left out)."""
        if self.record.kind == "visit" or len(self.history) < 2:
            return {}
        out = {}
        for p in item_progress(self.form, self.history):
            if p.latest_id != self.record.id or p.baseline_id == self.record.id:
                continue
            change = _changed(p.change())
            if p.flags:  # real change or measurement noise (core.real_change)
                change = f"{change}; {fold(short_text(p.flags))}" if change else short_text(p.flags)
            if change != "no change":
                out[p.item.id] = change
        return out

    def _unchanged(self) -> set[str]:
        """Items of an evaluation after the baseline whose value is the baseline's (the first
        earlier record holding them)."""
        if self.record.kind == "visit" or len(self.history) < 2:
            return set()
        first: dict[str, Any] = {}
        for r in self.history[:-1]:
            for item_id, value in r.values.items():
                first.setdefault(item_id, value)
        return {k for k, v in self.values.items() if k in first and first[k] == v}

    def paragraph(
        self, title: str | None, section: Section, skip: set[str], *, changed_only: bool
    ) -> list[str]:
        """A section's findings as a wrapped paragraph, made once per level of detail that
        changes it (the budget makes a note again with less detail)."""
        key = (title, section.id, changed_only, self.detail >= 3)
        if key not in self.paragraphs:
            parts = self.items(section, skip, changed_only=changed_only)
            head = f"{one_line(title)}: " if title else ""
            self.paragraphs[key] = _wrap(head + "; ".join(parts) + ".") if parts else []
        return self.paragraphs[key]

    def items(
        self, section: Section, skip: Iterable[str] = (), *, changed_only: bool = False
    ) -> list[str]:
        """ "Label: value" for the recorded items of ``section`` in form order, the change since
        the baseline in brackets; yes/no and positive/negative answers grouped by answer at the
        end ("positive: Slump test (L), FADIR"). ``changed_only``: only what changed since the
        baseline (a re-evaluation's history)."""
        skipped = set(skip) | covered_scores(self.form, self.values)
        parts: list[str] = []
        grouped: dict[str, list[tuple[Item, str]]] = {}
        for item in section.items:
            value = self.values.get(item.id)
            if item.id in skipped or _blank(value):
                continue
            if changed_only and item.id in self.unchanged:
                continue
            answer = _answer(item, value)
            same = _same_both_sides(item, value) if self.detail >= 3 else None
            if answer is None and same is not None:
                answer = (f"{same} {BOTH_SIDES}", "")
            if answer is not None and item.id not in self.changes:
                grouped.setdefault(answer[0], []).append((item, answer[1]))
                continue
            text = f"{self.label(item)}: {self.shown(item, value)}"
            if item.type is ItemType.QUESTIONNAIRE:  # "LEFS 52/80 (patient-reported)"
                text = self.shown(item, value)
            if item.id in self.changes:
                text += f" [{self.changes[item.id]}]"
            parts.append(text)
        for word, entries in grouped.items():
            if len(entries) == 1:
                item, side = entries[0]
                parts.append(f"{self.label(item)}{side}: {word}")
            else:
                # " / " between labels: a label may hold a comma ("Low back pain, now or before").
                named = " / ".join(self.label(i) + side for i, side in entries)
                parts.append(f"{word[:1].upper()}{word[1:]}: {named}")
        return parts

    def evidence(self, ev: Evidence) -> str:
        """The measured part of an evidence line, with the short label."""
        text = one_line(ev.text).split("; ")[0]
        item = self.form_items.get(ev.item_id)
        if item is not None:
            short = self.label(item)
            text = text.replace(one_line(item.label), short, 1)
            # "X left 290 N vs right 235 N: 19% deficit, ...": the values are in O already.
            pair = re.match(rf"{re.escape(short)} left .+? vs right .+?: (.+)$", text)
            if pair:
                text = f"{short}: {pair.group(1)}"
        # The header names the painful side; the other side stays marked.
        return fold(text.replace(" (painful side)", ""))


def _same_both_sides(item: Item, value: Any) -> str | None:
    """The answer of a non-numeric bilateral finding with the same answer on both sides ("None"
    for tenderness); numbers keep their values (a baseline to compare with later)."""
    if item.type in NUMERIC_TYPES or not isinstance(value, Mapping):
        return None
    if set(value) != {"left", "right"} or value["left"] != value["right"]:
        return None
    return one_line(fold(value_text(item, value["left"])))


def _changed(change: str) -> str:
    """A change text without its unchanged sides ("L +30 N, R no change" is "L +30 N")."""
    parts = [c for c in fold(change).split(", ") if c]
    kept = [c for c in parts if not c.endswith("no change")]
    return ", ".join(kept) if kept else ("no change" if parts else "")


def _answer(item: Item, value: Any) -> tuple[str, str] | None:
    """A yes/no or positive/negative finding as (answer, side tag): ("positive", " (R)") when
    only the right side is positive, ("negative", "") when every recorded side is negative."""
    if item.type not in _ANSWERS or not isinstance(value, str | Mapping):
        return None
    if not isinstance(value, Mapping):
        return (item.choice_label(value), "") if value in item.allowed else None
    sides = {s: v for s, v in value.items() if v is not None}
    if not sides or any(v not in item.allowed for v in sides.values()):
        return None
    words = set(sides.values())
    if len(words) == 1:
        word = words.pop()
        return word, f" ({str(next(iter(sides)))[:1].upper()})" if len(sides) == 1 else ""
    top = item.allowed[0]  # "yes" / "positive": the side that has it
    return top, "".join(f" ({str(s)[:1].upper()})" for s, v in sides.items() if v == top)


def _leaves(cond: Condition) -> Iterable[Leaf]:
    if isinstance(cond, Leaf):
        yield cond
    for c in cond.all if isinstance(cond, AllOf) else cond.any if isinstance(cond, AnyOf) else ():
        yield from _leaves(c)


def _screen_sections(form: Form) -> set[str]:
    """Sections every item of which a red flag tests: the red-flag screen."""
    tested = {leaf.item for flag in form.red_flags for leaf in _leaves(flag.when)}
    return {s.id for s in form.sections if all(i.id in tested for i in s.items)}
