"""What changed since the last visit: the previous value beside a re-measured one, in words.

One wording for the editor and the report. Numbers and scores change by a signed amount in their
unit ("+4°", "−2/10"); MMT grades are ordinal, so a change is named by the grades ("from 4−"),
never by arithmetic; anything else says what it was ("was Negative").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clinic_app.core.engine import format_value
from clinic_app.core.findings import FindingsError, Value, validate
from clinic_app.core.form import SIDES, Form, Item, ItemType, Side, mmt_grade


def change_text(item: Item, previous: Value, current: Value) -> str:
    """How ``current`` differs from ``previous`` ("no change" when equal)."""
    if previous == current:
        return "no change"
    numeric = isinstance(previous, int | float) and isinstance(current, int | float)
    if numeric and item.type is ItemType.MMT:
        return f"from {mmt_grade(float(previous))}"  # type: ignore[arg-type]
    if numeric:
        delta = float(current) - float(previous)  # type: ignore[arg-type]
        sign = "+" if delta > 0 else "−"
        shown = format_value(item, abs(delta))
        return f"{sign}{shown}"
    return f"was {format_value(item, previous)}"


def previous_values(form: Form, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values of an earlier evaluation that ``form`` still accepts, item by item (forms
    change between visits: an item whose type changed is left out, not an error)."""
    kept: dict[str, Any] = {}
    for item_id, value in values.items():
        if item_id not in form.items:
            continue
        try:
            checked = validate(form, {"values": {item_id: value}})
        except FindingsError:
            continue
        if item_id in checked.values:
            kept[item_id] = checked.values[item_id]
    return kept


def _one(item: Item, previous: Any, current: Any) -> str:
    if previous is None:
        return ""
    text = format_value(item, previous)
    if current is None:
        return text
    return f"{text}, {change_text(item, previous, current)}"


def previous_note(item: Item, previous: Any, current: Any, side: Side | None = None) -> str:
    """The last visit's value, then the change ("58°, +4°"); empty without a previous value.

    ``previous``/``current`` are the stored shapes: for a bilateral item mappings by side (all
    sides described, "L 58°, +4° · R 80°, no change") unless ``side`` picks one.
    """
    if isinstance(previous, Mapping):
        cur = current if isinstance(current, Mapping) else {}
        sides: tuple[Side, ...] = (side,) if side is not None else SIDES
        parts = []
        for s in sides:
            bit = _one(item, previous.get(s), cur.get(s))
            if bit:
                parts.append(bit if side is not None else f"{s[0].upper()} {bit}")
        return " · ".join(parts)
    return _one(item, previous, current)
