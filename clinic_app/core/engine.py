"""The assessment: contributing factors, patterns, red flags and running guidance from findings.

Everything clinical comes from the form (rules, thresholds, sources); this module only evaluates.
Each fired result carries evidence lines with the measured values and the threshold they crossed,
so the therapist can see, and judge, why the app suggests it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from clinic_app.core.findings import Findings, Rows, Value
from clinic_app.core.form import (
    NUMERIC_TYPES,
    RUN_LEVEL_RANK,
    SIDES,
    URGENCY_RANK,
    AllOf,
    Condition,
    Form,
    Item,
    ItemType,
    Leaf,
    Op,
    RedFlag,
    Rule,
    RunLevel,
    Side,
    Urgency,
    mmt_grade,
)
from clinic_app.core.library import LibraryError, shipped_library
from clinic_app.core.program import Program, ProgramExercise, title_in
from clinic_app.core.responses import Response, summary_text
from clinic_app.core.symmetry import DEFICIT_FORMULA, Asymmetry, compare, grades_text, lsi, other

_OPS: dict[Op, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
_OP_TEXT: dict[Op, str] = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "="}

Involved = Literal["left", "right", "both"] | None


@dataclass(frozen=True)
class Evidence:
    """One line of support: the measured values and the threshold they crossed."""

    text: str
    item_id: str
    indicator: str
    source: str


@dataclass(frozen=True)
class RuleResult:
    """A fired contributing factor (``F…``) or pattern (``P…``)."""

    id: str
    name: str
    region: str
    strength: int  # indicators fired
    indicators: int  # indicators defined
    evidence: tuple[Evidence, ...]
    sources: tuple[str, ...]
    opinion: bool
    local: bool
    plain: str
    note: str
    advice: tuple[str, ...]
    exercises: tuple[str, ...]
    # False when the form's ``requires`` indicators did not fire: "possible, not confirmed",
    # never the source; ``would_confirm`` names what would confirm it.
    confirmed: bool = True
    would_confirm: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedFlagResult:
    id: str
    name: str
    urgency: Urgency
    message: str
    plain: str
    evidence: tuple[Evidence, ...]
    sources: tuple[str, ...]
    advice: tuple[str, ...]
    overrides_running: RunLevel | None = None
    emergency_handout: bool = False
    stops_exercise: bool = False  # the form's ``overrides: {exercise: stop}``


@dataclass(frozen=True)
class RunningGuidance:
    level: RunLevel
    label: str
    message: str
    evidence: tuple[Evidence, ...]
    also: tuple[RunLevel, ...] = ()  # other levels that matched, less severe
    set_by: str | None = None  # the red flag (id) that decided the level, whatever the run says


@dataclass(frozen=True)
class Summary:
    kind: Literal["source", "victim", "both", "undetermined"]
    text: str


@dataclass(frozen=True)
class Assessment:
    factors: tuple[RuleResult, ...]
    patterns: tuple[RuleResult, ...]
    red_flags: tuple[RedFlagResult, ...]
    running: RunningGuidance | None
    summary: Summary
    asymmetries: tuple[Asymmetry, ...]
    involved: Involved
    deficit_formula: str = DEFICIT_FORMULA
    advice: tuple[str, ...] = field(default=())
    exercises: tuple[str, ...] = field(default=())

    @property
    def emergency(self) -> bool:
        """A fired red flag asks for the emergency handout (no exercises, tips or traffic light)."""
        return any(f.emergency_handout for f in self.red_flags)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["emergency"] = self.emergency
        return out


# ---------------------------------------------------------------------------------------------
# Formatting values for evidence lines


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def format_value(item: Item, value: Value) -> str:
    """A recorded value as a clinician reads it: units, MMT as n/5, labels for choices."""
    if isinstance(value, Rows):
        return rows_text(item, value)
    if isinstance(value, Response):
        return response_text(value)
    if isinstance(value, Program):
        return program_text(value)
    if isinstance(value, tuple):
        return ", ".join(item.choice_label(v) for v in value) or "none"
    if isinstance(value, str):
        return item.choice_label(value) if item.choices else value
    if item.type is ItemType.MMT:
        return f"{mmt_grade(value)}/5"
    if item.type is ItemType.SCALE:
        return f"{_num(value)}/10"
    unit = item.unit
    if unit in ("°", "%"):
        return f"{_num(value)}{unit}"
    return f"{_num(value)} {unit}".strip()


def response_text(value: Response) -> str:
    """A questionnaire response on one line: "LEFS 52/80 (patient-reported)", or why none."""
    return summary_text(value)


def program_text(value: Program) -> str:
    """A home program on one line: each exercise by its title with its dose."""
    parts = []
    for ex in value.exercises:
        dose = "×".join(str(n) for n in (ex.sets, ex.reps) if n is not None)
        if ex.hold_seconds is not None:
            dose = f"{dose} {ex.hold_seconds} s hold".strip()
        side = "" if ex.side == "both" else f" {ex.side}"
        parts.append(f"{_exercise_title(ex)}{side} {dose}".strip())
    return "; ".join(parts) or "no exercises"


def _exercise_title(entry: ProgramExercise) -> str:
    """The words kept with the entry, else the shipped library's title, else its id (a
    clinic's own exercise saved without its words)."""
    try:
        library = shipped_library()
    except LibraryError:
        return entry.snapshot.title if entry.snapshot and entry.snapshot.title else entry.exercise
    return title_in(entry, library) or entry.exercise


def rows_text(item: Item, value: Rows) -> str:
    """A ``rows`` value on one line per row: its cells in column order, units attached."""
    lines = []
    for row in value.rows:
        cells = []
        for column in item.columns:
            cell = row.get(column.id)
            if cell is None:
                continue
            if isinstance(cell, str):
                shown = column.choice_label(cell) if column.choices else cell
            else:
                shown = f"{_num(cell)} {column.unit}".strip() if column.unit else _num(cell)
                shown = shown if column.unit else f"{column.label.lower()} {shown}"
            cells.append(shown)
        lines.append(", ".join(cells))
    return "; ".join(lines) or "none"


def _side_note(side: Side, involved: Involved) -> str:
    if involved in ("left", "right"):
        return " (painful side)" if side == involved else " (other side)"
    return ""


# ---------------------------------------------------------------------------------------------
# Condition evaluation


def _one_side(side: str | None) -> Side | None:
    if side == "left":
        return "left"
    if side == "right":
        return "right"
    return None


def _candidate_sides(want: str | None, involved: Involved) -> tuple[Side, ...]:
    fixed = _one_side(want)
    if fixed is not None:
        return (fixed,)
    painful = _one_side(involved)
    if painful is not None and want == "involved":
        return (painful,)
    if painful is not None and want == "opposite":
        return (other(painful),)
    if want == "opposite" and involved == "both":
        return ()  # with both legs painful there is no opposite side: the rule does not read it
    return SIDES  # any side; or both painful; or the painful side is not recorded


def _matched(leaf: Leaf, value: Value) -> Value:
    """For a set tested with ``in``, only the members that matched: the evidence, not the rest."""
    if isinstance(value, tuple) and leaf.in_ is not None:
        return tuple(v for v in value if v in leaf.in_)
    return value


class _Evaluator:
    def __init__(self, form: Form, findings: Findings) -> None:
        self.form = form
        self.findings = findings
        raw = findings.get(form.involved_side_item)
        self.involved: Involved = "both" if raw == "both" else _one_side(str(raw))

    def condition(self, cond: Condition, label: str, source: str) -> list[Evidence] | None:
        """Evidence when ``cond`` holds, else None. Missing values never satisfy a test."""
        if isinstance(cond, Leaf):
            lines = self.leaf(cond)
            if lines is None:
                return None
            return [Evidence(t, cond.item, label, source) for t in lines]
        if isinstance(cond, AllOf):
            out: list[Evidence] = []
            for c in cond.all:
                ev = self.condition(c, label, source)
                if ev is None:
                    return None
                out.extend(ev)
            return out
        out = []
        for c in cond.any:
            ev = self.condition(c, label, source)
            if ev is not None:
                out.extend(ev)
        return out or None

    def leaf(self, leaf: Leaf) -> list[str] | None:
        item = self.form.item(leaf.item)
        if leaf.measure == "value":
            return self._value(leaf, item)
        if leaf.measure == "lsi":
            return self._lsi(leaf, item)
        return self._gap(leaf, item)

    def _test(self, leaf: Leaf, item: Item, value: Value) -> bool:
        if leaf.in_ is not None:
            if isinstance(value, tuple):
                return any(v in leaf.in_ for v in value)
            return value in leaf.in_
        if item.type not in NUMERIC_TYPES or isinstance(
            value, str | tuple | Rows | Response | Program
        ):
            return False
        assert leaf.op is not None
        assert leaf.threshold is not None
        return _OPS[leaf.op](float(value), leaf.threshold)

    def _rule_text(self, leaf: Leaf, item: Item) -> str:
        if leaf.in_ is not None:
            return ""
        assert leaf.op is not None
        assert leaf.threshold is not None
        return f"; threshold {_OP_TEXT[leaf.op]} {format_value(item, leaf.threshold)}"

    def _ratio(self, leaf: Leaf, item: Item, per: str) -> list[str] | None:
        divisor = self.form.item(per)
        top, bottom = self.findings.number(item.id), self.findings.number(per)
        if top is None or bottom is None or bottom == 0:
            return None
        assert leaf.op is not None
        assert leaf.threshold is not None
        ratio = top / bottom
        if not _OPS[leaf.op](ratio, leaf.threshold):
            return None
        return [
            f"{item.label} {format_value(item, top)} / {divisor.label} "
            f"{format_value(divisor, bottom)} = ratio {ratio:.2f}; threshold "
            f"{_OP_TEXT[leaf.op]} {_num(leaf.threshold)}"
        ]

    def _value(self, leaf: Leaf, item: Item) -> list[str] | None:
        if leaf.per is not None:
            return self._ratio(leaf, item, leaf.per)
        if not item.bilateral:
            value = self.findings.get(item.id)
            if value is None or not self._test(leaf, item, value):
                return None
            shown = format_value(item, _matched(leaf, value))
            return [f"{item.label}: {shown}{self._rule_text(leaf, item)}"]
        lines = []
        for side in _candidate_sides(leaf.side, self.involved):
            value = self.findings.get(item.id, side)
            if value is not None and self._test(leaf, item, value):
                note = _side_note(side, self.involved)
                lines.append(
                    f"{item.label} {side}{note}: {format_value(item, _matched(leaf, value))}"
                    f"{self._rule_text(leaf, item)}"
                )
        return lines or None

    def _both(self, item: Item) -> tuple[float, float] | None:
        left, right = self.findings.number(item.id, "left"), self.findings.number(item.id, "right")
        if left is None or right is None:
            return None
        return left, right

    def _lsi(self, leaf: Leaf, item: Item) -> list[str] | None:
        pair = self._both(item)
        if pair is None:
            return None
        assert leaf.op is not None
        assert leaf.threshold is not None
        values = dict(zip(SIDES, pair, strict=True))
        lines = []
        for side in _candidate_sides(leaf.side or "involved", self.involved):
            ratio = lsi(values[side], values[other(side)])
            if ratio is not None and _OPS[leaf.op](ratio, leaf.threshold):
                lines.append(
                    f"{item.label}: {side}{_side_note(side, self.involved)} "
                    f"{format_value(item, values[side])} is {ratio:.0f}% of {other(side)} "
                    f"{format_value(item, values[other(side)])} (LSI); threshold "
                    f"{_OP_TEXT[leaf.op]} {_num(leaf.threshold)}%"
                )
        return lines or None

    def _gap(self, leaf: Leaf, item: Item) -> list[str] | None:
        pair = self._both(item)
        if pair is None:
            return None
        left, right = pair
        asym = compare(item, left, right, self.involved if self.involved != "both" else None)
        if asym.worse is None:
            return None
        allowed = _candidate_sides(leaf.worse if leaf.worse != "any" else None, self.involved)
        if asym.worse not in allowed:
            return None
        sym = item.symmetry
        threshold = leaf.threshold if leaf.threshold is not None else (sym.threshold if sym else 0)
        op: Op = leaf.op or (">=" if leaf.measure == "deficit" else ">")
        measured = asym.deficit_pct if leaf.measure == "deficit" else asym.difference
        if not _OPS[op](measured, threshold):
            return None
        note = _side_note(asym.worse, self.involved)
        pair_text = (
            f"{item.label} left {format_value(item, left)} vs right {format_value(item, right)}"
        )
        if asym.method == "grades":
            return [
                f"{pair_text}: {grades_text(asym)}{note}; threshold {_OP_TEXT[op]} "
                f"{_num(threshold)} grade{'' if threshold == 1 else 's'}"
            ]
        if leaf.measure == "deficit":
            weaker = "weaker" if (sym is None or sym.better == "higher") else "worse"
            return [
                f"{pair_text}: {asym.deficit_pct:.0f}% deficit, {asym.worse} {weaker}{note}; "
                f"threshold {_OP_TEXT[op]} {_num(threshold)}%"
            ]
        if item.unit == "°":
            worse = "less flexible"
        else:
            worse = "weaker" if (sym is None or sym.better == "higher") else "worse"
        return [
            f"{pair_text}: {format_value(item, asym.difference)} difference, "
            f"{asym.worse} {worse}{note}; minimal detectable difference "
            f"{format_value(item, threshold)}"
        ]

    # -----------------------------------------------------------------------------------------

    def rule(self, rule: Rule, region: str) -> RuleResult | None:
        evidence: list[Evidence] = []
        fired = 0
        decisive = False
        fired_labels: set[str] = set()
        for ind in rule.indicators:
            ev = self.condition(ind.when, ind.label, ind.source)
            if ev is None:
                continue
            if ind.unless is not None and self.condition(ind.unless, ind.label, "") is not None:
                continue
            fired += 1
            fired_labels.add(ind.label)
            decisive = decisive or not ind.supporting_only
            # Two indicators may read the same finding; the therapist needs to see it once.
            evidence.extend(e for e in ev if all(e.text != seen.text for seen in evidence))
        if fired < rule.min_indicators or not decisive:
            return None
        confirmed = not rule.requires or any(r in fired_labels for r in rule.requires)
        return RuleResult(
            id=rule.id,
            name=rule.name,
            region=region,
            strength=fired,
            indicators=len(rule.indicators),
            evidence=tuple(evidence),
            sources=rule.sources,
            opinion=rule.opinion,
            local=rule.local,
            plain=rule.plain,
            note=rule.note,
            advice=rule.advice,
            exercises=rule.exercises,
            confirmed=confirmed,
            would_confirm=() if confirmed else rule.requires,
        )

    def red_flag(self, flag: RedFlag) -> RedFlagResult | None:
        ev = self.condition(flag.when, flag.name, ", ".join(flag.sources))
        if ev is None:
            return None
        return RedFlagResult(
            id=flag.id,
            name=flag.name,
            urgency=flag.urgency,
            message=flag.message,
            plain=flag.plain,
            evidence=tuple(ev),
            sources=flag.sources,
            advice=flag.advice,
            overrides_running=flag.overrides.running,
            emergency_handout=flag.overrides.handout == "emergency",
            stops_exercise=flag.overrides.exercise == "stop",
        )

    def running(self, flags: Sequence[RedFlagResult] = ()) -> RunningGuidance | None:
        """The most severe running level that applies. A red flag whose form entry
        ``overrides: {running: …}`` sets the level first, with the flag as the reason: what
        the run answers say (a run that warms up) never lowers it."""
        matched: list[tuple[int, int, RunningGuidance]] = []
        for n, flag in enumerate(flags):
            level = flag.overrides_running
            if level is None:
                continue
            g = RunningGuidance(
                level,
                f"{flag.name} (red flag)",
                f"No running until this has been checked. {flag.message}",
                flag.evidence,
                set_by=flag.id,
            )
            matched.append((RUN_LEVEL_RANK[level], -len(flags) + n, g))
        for n, run in enumerate(self.form.running):
            ev = self.condition(run.when, run.label, run.source)
            if ev is not None:
                g = RunningGuidance(run.level, run.label, run.message, tuple(ev))
                matched.append((RUN_LEVEL_RANK[run.level], n, g))
        if not matched:
            return None
        matched.sort(key=lambda t: (t[0], t[1]))
        top = matched[0][2]
        also = tuple(dict.fromkeys(g.level for _, _, g in matched[1:] if g.level != top.level))
        return RunningGuidance(top.level, top.label, top.message, top.evidence, also, top.set_by)


def _rank(results: Sequence[RuleResult], order: dict[str, int]) -> tuple[RuleResult, ...]:
    return tuple(sorted(results, key=lambda r: (-r.strength, order[r.id])))


def summarise(factors: Sequence[RuleResult], patterns: Sequence[RuleResult]) -> Summary:
    """Is the hamstring the source (local pattern), the victim (causes elsewhere), or both?

    "Elsewhere" covers contributing factors away from the hamstring and patterns of other
    structures (nerve, hip joint, bone) that can produce pain in the back of the thigh.
    """
    local = [r.name for r in (*patterns, *factors) if r.local and r.confirmed]
    other_structures = [r.name for r in patterns if not r.local and r.confirmed]
    remote_factors = [r.name for r in factors if not r.local and r.confirmed]
    possible = [r for r in (*patterns, *factors) if not r.confirmed]
    tail = ""
    if possible:
        bits = [
            f"{r.name} (would be confirmed by: {' or '.join(r.would_confirm)})" for r in possible
        ]
        tail = f" Possible, not confirmed: {', '.join(bits)}."
    elsewhere = []
    if other_structures:
        elsewhere.append(f"other structures: {', '.join(other_structures[:2])}")
    if remote_factors:
        elsewhere.append(f"contributing factors: {', '.join(remote_factors[:3])}")
    if local and elsewhere:
        return Summary(
            "both",
            f"Both: a local hamstring problem ({', '.join(local[:2])}) with causes elsewhere "
            f"({'; '.join(elsewhere)}).{tail}",
        )
    if local:
        return Summary(
            "source",
            "Source: the findings point to the hamstring region itself "
            f"({', '.join(local[:3])}).{tail}",
        )
    if elsewhere:
        return Summary(
            "victim",
            f"Victim: the findings point away from the hamstring ({'; '.join(elsewhere)}).{tail}",
        )
    return Summary(
        "undetermined",
        "Undetermined: the recorded findings do not point to a source or to contributing "
        f"factors.{tail}",
    )


def asymmetries(form: Form, findings: Findings, involved: Involved = None) -> tuple[Asymmetry, ...]:
    """Side-to-side comparison of every bilateral number with both sides recorded, in form order."""
    out = []
    side = _one_side(involved)
    for item in form.items.values():
        if item.bilateral and item.type in NUMERIC_TYPES:
            left, right = findings.number(item.id, "left"), findings.number(item.id, "right")
            if left is not None and right is not None:
                out.append(compare(item, left, right, side))
    return tuple(out)


def assess(form: Form, findings: Findings) -> Assessment:
    """Evaluate every factor, pattern, red flag and running rule of ``form`` on ``findings``."""
    ev = _Evaluator(form, findings)
    f_order = {f.id: n for n, f in enumerate(form.factors)}
    p_order = {p.id: n for n, p in enumerate(form.patterns)}
    factors = _rank([r for f in form.factors if (r := ev.rule(f, f.region))], f_order)
    patterns = _rank([r for p in form.patterns if (r := ev.rule(p, "pattern"))], p_order)
    flags = sorted(
        (flag for rf in form.red_flags if (flag := ev.red_flag(rf))),
        key=lambda flag: URGENCY_RANK[flag.urgency],
    )
    advice_ids = [a for fl in flags for a in fl.advice]
    advice_ids += [a for rr in (*factors, *patterns) for a in rr.advice]
    advice = tuple(dict.fromkeys(advice_ids))
    exercises = tuple(dict.fromkeys(e for r in factors for e in r.exercises))
    return Assessment(
        factors=factors,
        patterns=patterns,
        red_flags=tuple(flags),
        running=ev.running(flags),
        summary=summarise(factors, patterns),
        asymmetries=asymmetries(form, findings, ev.involved),
        involved=ev.involved,
        advice=advice,
        exercises=exercises,
    )
