"""Side-to-side goals drawn on the left/right chart of a bilateral measure.

A goal such as "Nordic deficit below 10%" is a target on the gap, so the gap chart shows it as a
line on the gap axis. On the left/right chart the same goal says what the painful side must
reach: for a deficit below d%, at least (100 - d)% of the other side's latest value (LSI at
least x%: x% of it; a difference of at most t units: within t of it). That is a line in the
item's own unit, worded with the side and the other side's value it was read from, so a
therapist sees how far the painful side is from the target on the chart they look at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from clinic_app.core.engine import format_value
from clinic_app.core.form import Item, Leaf

_LOWER_BOUND = {"<", "<="}  # a deficit/difference below: the painful side must come up
_UPPER_BOUND = {">", ">="}  # an LSI above


def _latest(records: Sequence[Any], item_id: str, side: str) -> float | None:
    for r in reversed(records):
        pair = r.values.get(item_id)
        if isinstance(pair, Mapping):
            v = pair.get(side)
            if isinstance(v, int | float) and not isinstance(v, bool):
                return float(v)
    return None


def painful_side_targets(
    item: Item,
    leaves: Iterable[Leaf],
    records: Sequence[Any],
    involved: str | None,
) -> list[tuple[float, str]]:
    """``(value, words)`` for each side-to-side goal on ``item`` that can be drawn in its unit:
    needs the painful side and the other side's latest value, and an item where higher is
    better (a stronger or more flexible painful side is the target)."""
    if involved not in ("left", "right") or item.symmetry is None:
        return []
    if item.symmetry.better != "higher":
        return []
    other = "right" if involved == "left" else "left"
    reference = _latest(records, item.id, other)
    if reference is None or reference <= 0:
        return []
    out: list[tuple[float, str]] = []
    for leaf in leaves:
        if leaf.item != item.id or leaf.op is None or leaf.per:
            continue
        threshold = leaf.threshold
        if threshold is None and leaf.measure in ("deficit", "difference"):
            threshold = item.symmetry.threshold
        if threshold is None:
            continue
        if leaf.measure == "deficit" and leaf.op in _LOWER_BOUND:
            value = reference * (100 - threshold) / 100
            why = f"deficit below {threshold:g}%"
        elif leaf.measure == "lsi" and leaf.op in _UPPER_BOUND:
            value = reference * threshold / 100
            why = f"LSI at least {threshold:g}%"
        elif leaf.measure == "difference" and leaf.op in _LOWER_BOUND:
            value = reference - threshold
            why = f"within {format_value(item, threshold)}"
        else:
            continue
        shown = format_value(item, round(value) if abs(value) >= 10 else round(value, 1))
        words = (
            f"Goal ({involved} side): {shown}, {why} of the {other}'s "
            f"{format_value(item, reference)}"
        )
        out.append((value, words))
    return out
