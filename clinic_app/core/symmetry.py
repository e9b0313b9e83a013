"""Side-to-side arithmetic (domain.md section 2).

- Limb symmetry index, LSI = involved / uninvolved x 100 (benchmark: at least 90%).
- Deficit % = (stronger - weaker) / stronger x 100: the formula the reports name.
- Degrees are compared as an absolute difference against the minimal detectable difference.
- Manual muscle test grades are ordinal: compared in grades ("right one grade weaker"), never as
  a deficit, a percentage or an LSI (domain.md section 10).

None of these divides by zero: an undefined ratio is ``None``, and two zero values are symmetric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from clinic_app.core.form import Item, ItemType, Side, mmt_grade

DEFICIT_FORMULA = "deficit % = (stronger - weaker) / stronger x 100"
LSI_FORMULA = "LSI = involved / uninvolved x 100"


def other(side: Side) -> Side:
    return "right" if side == "left" else "left"


def lsi(involved: float, uninvolved: float) -> float | None:
    """Involved side as a percent of the uninvolved side; None when the uninvolved side is 0."""
    if uninvolved == 0:
        return 100.0 if involved == 0 else None
    ratio = involved / uninvolved * 100.0
    return ratio if math.isfinite(ratio) else None


def deficit_pct(a: float, b: float) -> float:
    """Gap between two values as a percent of the larger; 0 when equal (including both 0)."""
    hi, lo = max(a, b), min(a, b)
    if hi <= 0:
        return 0.0
    return (hi - lo) / hi * 100.0


@dataclass(frozen=True)
class Asymmetry:
    """The comparison of the two sides of one bilateral number."""

    item_id: str
    left: float
    right: float
    difference: float  # absolute, in the item's unit
    deficit_pct: float
    worse: Side | None  # None when the sides are equal
    lsi: float | None  # involved / uninvolved x 100, when the involved side is known; never
    # for grades
    method: Literal["deficit", "difference", "grades"]
    threshold: float | None  # from the form; None when the item defines no symmetry threshold
    exceeds: bool  # past the item's threshold (deficit %) or minimal detectable difference


def worse_side(left: float, right: float, better: Literal["higher", "lower"]) -> Side | None:
    if left == right:
        return None
    if better == "higher":
        return "left" if left < right else "right"
    return "left" if left > right else "right"


def compare(item: Item, left: float, right: float, involved: Side | None) -> Asymmetry:
    """Compare the sides of ``item`` using its symmetry settings (deficit by default; MMT
    grades in grades, with no percentage and no LSI)."""
    sym = item.symmetry
    if item.type is ItemType.MMT:
        threshold = sym.threshold if sym else None
        return Asymmetry(
            item_id=item.id,
            left=left,
            right=right,
            difference=abs(left - right),
            deficit_pct=0.0,
            worse=worse_side(left, right, "higher"),
            lsi=None,
            method="grades",
            threshold=threshold,
            exceeds=threshold is not None and abs(left - right) >= threshold,
        )
    method: Literal["deficit", "difference"] = sym.method if sym else "deficit"
    better: Literal["higher", "lower"] = sym.better if sym else "higher"
    threshold = sym.threshold if sym else None
    diff = abs(left - right)
    deficit = deficit_pct(left, right)
    measure = deficit if method == "deficit" else diff
    ratio = None
    if involved is not None:
        inv, uninv = (left, right) if involved == "left" else (right, left)
        ratio = lsi(inv, uninv)
    return Asymmetry(
        item_id=item.id,
        left=left,
        right=right,
        difference=diff,
        deficit_pct=deficit,
        worse=worse_side(left, right, better),
        lsi=ratio,
        method=method,
        threshold=threshold,
        exceeds=threshold is not None
        and (measure > threshold if method == "difference" else measure >= threshold),
    )


def grades_text(asym: Asymmetry) -> str:
    """Two MMT grades compared in words: "right one grade weaker (4 vs 5)", "equal"."""
    if asym.worse is None:
        return "equal"
    weak, strong = sorted((asym.left, asym.right))
    gap = strong - weak
    words = {1.0: "one grade", 2.0: "two grades", 3.0: "three grades"}
    size = words.get(gap, f"{gap:g} grades") if float(gap).is_integer() else "less than a grade"
    if gap > 1 and not float(gap).is_integer():
        size = "more than a grade"
    return f"{asym.worse} {size} weaker ({mmt_grade(weak)} vs {mmt_grade(strong)})"
