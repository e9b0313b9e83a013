"""Progress over an episode of care: each measure's baseline and latest value, and the goals.

Pure: the caller hands over the episode's records (oldest first) as :class:`Record` values; the
same answer feeds the note text, the visit note's assessment page, the progress report and the
discharge summary, so they never disagree.

The baseline of an item is its first recorded value in the episode, the latest its last one; a
bilateral item is compared side by side (each side's first and last value), with the
side-to-side gap of the latest pair as the reports show it ("L 210 N / R 280 N (25% deficit)").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from clinic_app.core.changes import change_text
from clinic_app.core.engine import format_value
from clinic_app.core.findings import (
    STRUCTURED_TYPES,
    Findings,
    FindingsError,
    Value,
    check_value,
    validate,
)
from clinic_app.core.form import NUMERIC_TYPES, SIDES, Form, Item, ItemType, Leaf
from clinic_app.core.goals import GoalStatus, Suggestion, merged_values, suggest, target_text
from clinic_app.core.real_change import ChangeFlag, change_flags, flags_text, score_change_text
from clinic_app.core.symmetry import compare


@dataclass(frozen=True)
class Record:
    """One evaluation or visit note of the episode, as progress needs it."""

    id: int
    kind: str  # initial / re_evaluation / discharge / visit
    on: date
    values: Mapping[str, Any]  # findings "values" (stored JSON shape)
    status: str = "draft"


@dataclass(frozen=True)
class ItemProgress:
    """One item recorded at least once in the episode."""

    item: Item
    baseline: Any  # stored shape: a value, or {"left": v, "right": v}
    baseline_on: date
    baseline_id: int
    latest: Any
    latest_on: date
    latest_id: int
    times: int  # how many records hold it
    # Real change or measurement noise (core.real_change): for questionnaires and measures with
    # an MDC, per side for a bilateral one; empty when the measure has no threshold.
    flags: tuple[ChangeFlag, ...] = ()

    @property
    def remeasured(self) -> bool:
        return self.times > 1

    def verdict(self) -> str:
        """ "real change (+18 points: ...)" / "within measurement noise (...)", or ""."""
        return flags_text(self.flags) if self.remeasured else ""

    def baseline_text(self) -> str:
        return value_text(self.item, self.baseline)

    def latest_text(self) -> str:
        return value_text(self.item, self.latest)

    def change(self) -> str:
        """The change from baseline to latest ("+60 N", "L +60 N · R no change")."""
        return change_between(self.item, self.baseline, self.latest)


@dataclass(frozen=True)
class GoalProgress:
    """A goal read against the episode's baseline and latest values."""

    goal_id: int
    term: str
    text: str
    target: Leaf | None
    target_words: str
    target_date: date | None
    status: str  # the clinician's
    suggestion: Suggestion

    @property
    def suggested(self) -> GoalStatus:
        return self.suggestion.status


def value_text(item: Item, value: Any) -> str:
    """A stored value in words; bilateral as "L 210 N / R 280 N (25% deficit)"."""
    if value is None:
        return "—"
    if isinstance(value, Mapping) and item.type not in STRUCTURED_TYPES:
        left, right = value.get("left"), value.get("right")
        shown = " / ".join(
            f"{s[0].upper()} {format_value(item, _typed(item, v))}"
            for s, v in (("left", left), ("right", right))
            if v is not None
        )
        gap = gap_text(item, left, right)
        return f"{shown} ({gap})" if gap else shown
    return format_value(item, _typed(item, value))


def _typed(item: Item, value: Any) -> Value:
    """A stored JSON value as findings hold it (sets as tuples, rows as Rows)."""
    if isinstance(value, list) and item.type is not ItemType.ROWS:
        return tuple(value)
    if item.type in STRUCTURED_TYPES:
        try:
            checked = check_value(item, value)
        except FindingsError:
            return str(value)
        return checked if checked is not None else ""
    return value  # type: ignore[no-any-return]


def gap_text(item: Item, left: Any, right: Any) -> str:
    """The side-to-side gap of a bilateral number ("25% deficit", "8° difference", "1 grade")."""
    if item.type not in NUMERIC_TYPES or not isinstance(left, int | float):
        return ""
    if not isinstance(right, int | float):
        return ""
    asym = compare(item, float(left), float(right), None)
    if asym.method == "grades":
        if asym.difference == 0:
            return "equal"
        grades = asym.difference
        return f"{grades:g} grade{'' if grades == 1 else 's'} apart"
    if asym.method == "difference":
        return f"{format_value(item, asym.difference)} difference"
    return f"{asym.deficit_pct:.0f}% deficit"


def change_between(item: Item, before: Any, after: Any) -> str:
    if item.type is ItemType.QUESTIONNAIRE:  # a JSON object, not sides: the score's change
        return score_change_text(item, before, after)
    if isinstance(before, Mapping) or isinstance(after, Mapping):
        b = before if isinstance(before, Mapping) else {}
        a = after if isinstance(after, Mapping) else {}
        parts = []
        for side in SIDES:
            if b.get(side) is not None and a.get(side) is not None:
                text = change_text(item, _typed(item, b[side]), _typed(item, a[side]))
                parts.append(f"{side[0].upper()} {text}")
        return " · ".join(parts)
    if before is None or after is None:
        return ""
    return change_text(item, _typed(item, before), _typed(item, after))


def item_progress(form: Form, records: Sequence[Record]) -> list[ItemProgress]:
    """Every item of ``form`` recorded in ``records`` (oldest first), in form order.

    Text, rows and the involved-side item are left out: progress is about measures. For a
    bilateral item each side keeps its own first and last value.
    """
    items = form.items  # a property: read once, not per value
    found: dict[str, dict[str, Any]] = {}
    for record in records:
        for item_id, value in record.values.items():
            item = items.get(item_id)
            if item is None or value is None or item_id == form.involved_side_item:
                continue
            if item.type in (ItemType.TEXT, ItemType.ROWS):
                continue
            entry = found.get(item_id)
            if entry is None:
                found[item_id] = {
                    "baseline": value,
                    "baseline_on": record.on,
                    "baseline_id": record.id,
                    "latest": value,
                    "latest_on": record.on,
                    "latest_id": record.id,
                    "times": 1,
                }
                continue
            if isinstance(value, Mapping) and isinstance(entry["latest"], Mapping):
                entry["baseline"] = {**value, **entry["baseline"]}  # a side first seen now
                entry["latest"] = {**entry["latest"], **value}
            else:
                entry["latest"] = value
            entry["latest_on"], entry["latest_id"] = record.on, record.id
            entry["times"] += 1
    out = []
    for i in items:
        if i in found:
            entry = found[i]
            flags = change_flags(form, items[i], entry["baseline"], entry["latest"])
            out.append(ItemProgress(item=items[i], **entry, flags=flags))
    return out


def findings_at(form: Form, values: Mapping[str, Any], involved: str | None) -> Findings:
    """Findings from merged stored values (what the form no longer accepts is left out), with
    the episode's painful side when the values do not name one."""
    items = form.items
    kept: dict[str, Any] = {k: v for k, v in values.items() if k in items}
    try:  # the usual case, all at once; one by one only when something no longer fits
        validate(form, {"values": kept})
    except FindingsError:
        kept = {}
        for item_id, value in values.items():
            if item_id not in items:
                continue
            try:
                validate(form, {"values": {item_id: value}})
            except FindingsError:
                continue
            kept[item_id] = value
    if involved in ("left", "right", "both") and form.involved_side_item not in kept:
        kept[form.involved_side_item] = involved
    return validate(form, {"values": kept})


def baseline_and_latest(
    form: Form, records: Sequence[Record], involved: str | None
) -> tuple[Findings | None, Findings | None]:
    """The episode's first record's findings, and the latest value of every item over all of
    them (None when there are no records)."""
    if not records:
        return None, None
    baseline = findings_at(form, records[0].values, involved)
    latest = findings_at(form, merged_values(r.values for r in records), involved)
    return baseline, latest


def goal_progress(
    form: Form,
    goals: Sequence[Any],
    records: Sequence[Record],
    *,
    involved: str | None,
    today: date | None = None,
) -> list[GoalProgress]:
    """Each goal (``records.Goal`` values, or anything with the same fields) with the status the
    latest values suggest. A target the form cannot read is shown as functional."""
    baseline, latest = baseline_and_latest(form, records, involved)
    out = []
    for goal in goals:
        leaf: Leaf | None = None
        if goal.target is not None:
            try:
                leaf = Leaf.model_validate(dict(goal.target))
            except ValueError:
                leaf = None
            if leaf is not None and leaf.item not in form.items:
                leaf = None
        suggestion = suggest(
            form,
            leaf,
            baseline,
            latest,
            involved=involved,
            target_date=goal.target_date,
            today=today,
        )
        out.append(
            GoalProgress(
                goal_id=goal.id,
                term=goal.term,
                text=goal.text,
                target=leaf,
                target_words=target_text(form, leaf) if leaf is not None else "",
                target_date=goal.target_date,
                status=goal.status,
                suggestion=suggestion,
            )
        )
    return out


def chartable(form: Form, records: Sequence[Record], goals: Sequence[Any] = ()) -> list[Item]:
    """The numbers measured more than once over ``records``, in the order a chart list shows
    them: those a goal targets first, then scores with an MCID, then the rest (each group in form
    order). The progress report and the patient view's charts both use it."""
    targeted = {
        str(goal.target.get("item"))
        for goal in goals
        if getattr(goal, "target", None) is not None and isinstance(goal.target, Mapping)
    }
    items = [
        p.item
        for p in item_progress(form, records)
        if p.item.type in NUMERIC_TYPES and p.remeasured
    ]
    return sorted(items, key=lambda i: (i.id not in targeted, i.mcid is None))
