"""Goals: reading a measurable goal's target from findings, and suggesting its status.

A measurable goal's target is written like an indicator's test in the form (a ``Leaf``):
``{item: nordic_force, measure: deficit, op: "<", threshold: 10}`` is "Nordic deficit below 10%",
``{item: pain_during_run, op: "<=", threshold: 2}`` is "pain during the run 2/10 or less",
``{item: slump, side: involved, in: [negative]}`` a category. The quantity is measured as the
reports show it (deficit % of the weaker side, absolute difference, LSI of the involved side);
unlike a factor's indicator, equal sides count (a deficit of 0% meets "deficit < 10%").

The app only *suggests* a status; the clinician sets it (``storage.records.goals``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from clinic_app.core.engine import format_value
from clinic_app.core.findings import Findings, Value
from clinic_app.core.form import NUMERIC_TYPES, SIDES, Form, Item, Leaf, Side, mmt_grade
from clinic_app.core.symmetry import compare, lsi, other

GoalStatus = Literal["not_started", "progressing", "met", "not_met", "discontinued"]
STATUS_LABELS: dict[str, str] = {
    "not_started": "not started",
    "progressing": "progressing",
    "met": "met",
    "not_met": "not met",
    "discontinued": "discontinued",
}
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
_OP_TEXT = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "exactly"}


@dataclass(frozen=True)
class Reading:
    """A goal's target read from one set of findings.

    ``quantity``: the number compared with the threshold (None for a category test or when not
    measured); ``met``: whether the target holds (None when it cannot be read); ``text``: what
    was read, as a clinician writes it ("L 210 N / R 280 N (25% deficit)").
    """

    quantity: float | None
    met: bool | None
    text: str


def target_text(form: Form, leaf: Leaf) -> str:
    """The target in words: "Nordic hamstring force deficit below 10%"."""
    item = form.items.get(leaf.item)
    label = item.label if item else leaf.item
    side = f" ({leaf.side} side)" if leaf.side in ("involved", "opposite", "left", "right") else ""
    if leaf.in_ is not None:
        shown = ", ".join(item.choice_label(v) if item else v for v in leaf.in_)
        return f"{label}{side}: {shown}"
    assert leaf.op is not None
    threshold = _threshold(leaf, item)
    if leaf.measure == "deficit":
        return f"{label} deficit {_OP_TEXT[leaf.op]} {threshold:g}%"
    if leaf.measure == "lsi":
        return f"{label} LSI{side} {_OP_TEXT[leaf.op]} {threshold:g}%"
    if leaf.measure == "difference":
        unit = format_value(item, threshold) if item else f"{threshold:g}"
        return f"{label} side-to-side difference {_OP_TEXT[leaf.op]} {unit}"
    shown = format_value(item, threshold) if item else f"{threshold:g}"
    return f"{label}{side} {_OP_TEXT[leaf.op]} {shown}"


def _threshold(leaf: Leaf, item: Item | None) -> float:
    if leaf.threshold is not None:
        return leaf.threshold
    if item is not None and item.symmetry is not None:
        return item.symmetry.threshold
    return 0.0


def _involved(form: Form, findings: Findings, involved: str | None) -> str | None:
    raw = involved or findings.get(form.involved_side_item)
    return str(raw) if raw in ("left", "right", "both") else None


def _sides(want: str | None, involved: str | None) -> tuple[Side, ...]:
    if want in ("left", "right"):
        return (want,)  # type: ignore[return-value]
    if involved in ("left", "right") and want == "involved":
        return (involved,)  # type: ignore[return-value]
    if involved in ("left", "right") and want == "opposite":
        return (other(involved),)  # type: ignore[arg-type]
    return SIDES


def _pair_text(item: Item, left: Value | None, right: Value | None) -> str:
    def one(v: Value | None) -> str:
        return "—" if v is None else format_value(item, v)

    return f"L {one(left)} / R {one(right)}"


def read(form: Form, findings: Findings, leaf: Leaf, involved: str | None = None) -> Reading:
    """Read ``leaf`` (a goal's target) from ``findings``; ``involved`` overrides the painful side
    the findings record (a visit note takes it from its episode)."""
    item = form.items.get(leaf.item)
    if item is None:
        return Reading(None, None, f"{leaf.item}: not in this form")
    inv = _involved(form, findings, involved)
    if leaf.measure != "value":
        return _read_pair(item, findings, leaf, inv)
    if not item.bilateral:
        value = findings.get(item.id)
        if value is None:
            return Reading(None, None, "not measured")
        return _test(item, leaf, value, format_value(item, value))
    sides = _sides(leaf.side, inv)
    readings = []
    for side in sides:
        value = findings.get(item.id, side)
        if value is not None:
            readings.append(_test(item, leaf, value, ""))
    text = _pair_text(item, findings.get(item.id, "left"), findings.get(item.id, "right"))
    if not readings:
        return Reading(None, None, text if findings.sides(item.id) else "not measured")
    # "any side" holds when one side holds; a named side is one reading.
    met = any(r.met for r in readings) if leaf.side in (None, "any") else readings[0].met
    quantity = readings[0].quantity if len(readings) == 1 else None
    return Reading(quantity, met, text)


def _test(item: Item, leaf: Leaf, value: Value, text: str) -> Reading:
    if leaf.in_ is not None:
        values = value if isinstance(value, tuple) else (value,)
        return Reading(None, any(v in leaf.in_ for v in values), text)
    if item.type not in NUMERIC_TYPES or isinstance(value, str | tuple) or leaf.op is None:
        return Reading(None, None, text)
    number = float(value)  # type: ignore[arg-type]
    return Reading(number, _OPS[leaf.op](number, _threshold(leaf, item)), text)


def _read_pair(item: Item, findings: Findings, leaf: Leaf, inv: str | None) -> Reading:
    left, right = findings.number(item.id, "left"), findings.number(item.id, "right")
    if left is None or right is None:
        text = "not measured on both sides" if findings.sides(item.id) else "not measured"
        return Reading(None, None, text)
    pair = _pair_text(item, left, right)
    op = leaf.op or ("<" if leaf.measure != "lsi" else ">=")
    threshold = _threshold(leaf, item)
    if leaf.measure == "lsi":
        side = _sides(leaf.side or "involved", inv)
        if len(side) != 1:
            return Reading(None, None, f"{pair} (LSI needs the painful side)")
        values = {"left": left, "right": right}
        ratio = lsi(values[side[0]], values[other(side[0])])
        if ratio is None:
            return Reading(None, None, f"{pair} (LSI undefined)")
        return Reading(ratio, _OPS[op](ratio, threshold), f"{pair} (LSI {ratio:.0f}%)")
    asym = compare(item, left, right, inv if inv in ("left", "right") else None)  # type: ignore[arg-type]
    if asym.method == "grades" or leaf.measure == "difference":
        shown = (
            f"{asym.difference:g} grade{'' if asym.difference == 1 else 's'}"
            if asym.method == "grades"
            else format_value(item, asym.difference)
        )
        return Reading(
            asym.difference, _OPS[op](asym.difference, threshold), f"{pair} ({shown} difference)"
        )
    return Reading(
        asym.deficit_pct,
        _OPS[op](asym.deficit_pct, threshold),
        f"{pair} ({asym.deficit_pct:.0f}% deficit)",
    )


@dataclass(frozen=True)
class Suggestion:
    status: GoalStatus
    reason: str
    baseline: Reading | None
    latest: Reading | None


def suggest(
    form: Form,
    leaf: Leaf | None,
    baseline: Findings | None,
    latest: Findings | None,
    *,
    involved: str | None = None,
    target_date: date | None = None,
    today: date | None = None,
) -> Suggestion:
    """The status the latest values suggest for a goal.

    Met when the latest values meet the target; not met when the target date has passed without
    it; progressing when the measured quantity moved toward the threshold since the baseline (or
    a category goal was read but not yet met); otherwise not started. A functional goal (no
    target) has no suggestion beyond its date: the clinician judges it.
    """
    today = today or date.today()
    overdue = target_date is not None and today > target_date
    if leaf is None:
        if overdue:
            return Suggestion(
                "not_met", "target date passed; functional goal: your judgement", None, None
            )
        return Suggestion("not_started", "functional goal: set its status yourself", None, None)
    first = read(form, baseline, leaf, involved) if baseline is not None else None
    now = read(form, latest, leaf, involved) if latest is not None else None
    if now is None or now.met is None:
        if overdue:
            return Suggestion("not_met", "target date passed, not re-measured", first, now)
        return Suggestion("not_started", "not measured yet", first, now)
    if now.met:
        return Suggestion("met", f"latest: {now.text}", first, now)
    if overdue:
        return Suggestion("not_met", f"target date passed; latest: {now.text}", first, now)
    if (
        first is not None
        and first.quantity is not None
        and now.quantity is not None
        and leaf.op is not None
    ):
        towards_higher = leaf.op in (">", ">=")
        moved = now.quantity - first.quantity
        if (moved > 0) if towards_higher else (moved < 0):
            return Suggestion("progressing", f"{first.text} → {now.text}", first, now)
        return Suggestion("not_started", f"no change toward the target: {now.text}", first, now)
    return Suggestion("progressing", f"latest: {now.text}", first, now)


def _sided(value: Any) -> bool:
    """A bilateral value ({"left": …, "right": …}), not a structured one that is also a JSON
    object (a home program, questionnaire answers): those are whole values, never merged."""
    return isinstance(value, Mapping) and set(value) <= {"left", "right"}


def merged_values(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The latest value of every item over ``records`` (findings ``values``, oldest first).

    A bilateral item takes each side from the latest record that has it, so a visit that
    re-measured only the left side keeps the right side of the evaluation before. A structured
    value (a program, questionnaire answers) is taken whole from the latest record.
    """
    out: dict[str, Any] = {}
    for values in records:
        for item_id, value in values.items():
            if _sided(value) and _sided(out.get(item_id)):
                out[item_id] = {**out[item_id], **value}
            else:
                out[item_id] = value
    return out


def grade_text(value: float) -> str:
    return f"{mmt_grade(value)}/5"


@dataclass(frozen=True)
class GoalDraft:
    """A goal the form suggests for a fired factor: the therapist accepts, edits or ignores it."""

    factor_id: str
    factor_name: str
    term: Literal["short", "long"]
    text: str
    target: Mapping[str, Any] | None  # the stored shape of the target test
    target_date: date
    source: str


def suggested_goals(form: Form, factor_ids: Iterable[str], start: date) -> tuple[GoalDraft, ...]:
    """The goal templates of the fired factors ``factor_ids`` (in form order), dated from the
    episode's ``start``. Nothing is suggested for a factor whose form entry names no goal."""
    from datetime import timedelta

    fired = set(factor_ids)
    out: list[GoalDraft] = []
    for factor in form.factors:
        if factor.id not in fired:
            continue
        for template in factor.goals:
            target = (
                template.target.model_dump(mode="json", by_alias=True, exclude_none=True)
                if template.target is not None
                else None
            )
            out.append(
                GoalDraft(
                    factor_id=factor.id,
                    factor_name=factor.name,
                    term=template.term,
                    text=template.text,
                    target=target,
                    target_date=start + timedelta(weeks=template.weeks),
                    source=template.source,
                )
            )
    return tuple(out)
