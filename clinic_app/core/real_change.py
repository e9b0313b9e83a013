"""Real change or measurement noise: the verdict a re-evaluation and a discharge print.

A change between the episode's baseline and its latest value is called a *real change* only when
it passes what the measure can detect; anything smaller is *within measurement noise*. Where the
number comes from:

- a questionnaire item (``type: questionnaire``) and the score item its answers fill: the
  questionnaire file's ``change:`` thresholds, judged by :func:`clinic_app.core.scoring.compare`
  (the MDC when the file has one, else the MCID; a change of exactly the threshold is decided by
  the file's ``boundary``);
- a measured item with ``mdc:`` in the form: that number, per side for a bilateral item, with the
  item's own ``boundary``.

Items with neither get no verdict: the app does not guess what is noise. Pure (no Qt, DB, PDF).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from clinic_app.core.form_schema import NUMERIC_TYPES, Form, Item, ItemType
from clinic_app.core.questionnaire import Questionnaire, QuestionnaireError
from clinic_app.core.responses import Response, check_response, questionnaire_of, score_of
from clinic_app.core.scoring import Answers, Score, compare, number_text

REAL = "real change"
NOISE = "within measurement noise"


@dataclass(frozen=True)
class ChangeFlag:
    """The verdict on one change (one side of a bilateral item, or the whole item)."""

    side: str | None  # "left" / "right" for a bilateral item, else None
    change: Fraction
    real: bool
    why: str  # "exceeds the MDC of 9 points (90% confidence)"

    @property
    def flag(self) -> str:
        return REAL if self.real else NOISE

    def text(self) -> str:
        """ "L real change (+20 N·m: exceeds the MDC of 15 N·m)"."""
        side = f"{self.side[0].upper()} " if self.side else ""
        return f"{side}{self.flag} ({self.why})"


def flags_text(flags: tuple[ChangeFlag, ...]) -> str:
    """The flags of one item on one line ("" when the item has none)."""
    return " · ".join(f.text() for f in flags)


def short_text(flags: tuple[ChangeFlag, ...]) -> str:
    """The flags without their reasons ("real change", "L real change · R within noise")."""
    return " · ".join((f"{f.side[0].upper()} " if f.side else "") + f.flag for f in flags)


def _number(value: Any) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return Fraction(str(value))
    except (ValueError, OverflowError):
        return None


def _unit_text(item: Item, points: float) -> str:
    unit = item.unit or "points"
    return f"{points:g}{unit}" if unit in ("°", "%") else f"{points:g} {unit}"


def _signed(item: Item, change: Fraction) -> str:
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    unit = item.unit or "points"
    shown = number_text(abs(change), 1).removesuffix(".0")
    return f"{sign}{shown}{unit}" if unit in ("°", "%") else f"{sign}{shown} {unit}"


def _questionnaire_for(form: Form, item: Item) -> Questionnaire | None:
    """The questionnaire of a questionnaire item, or of the item whose score this item holds."""
    qid = item.questionnaire
    if qid is None:
        qid = next(
            (
                i.questionnaire
                for i in form.items.values()
                if i.questionnaire is not None and i.score_item == item.id
            ),
            None,
        )
    if qid is None:
        return None
    try:
        return questionnaire_of(qid)
    except QuestionnaireError:
        return None


def _number_score(q: Questionnaire, value: Fraction) -> Score:
    """A score known only as its number (a total typed by the therapist)."""
    return Score(q, value, "", (), (), Answers(q.id, {}))


def _response(item: Item, value: Any) -> Response | None:
    if isinstance(value, Response):
        return value
    response, _problem = check_response(item, value, item.id)
    return response


def questionnaire_flag(previous: Score, current: Score) -> ChangeFlag | None:
    """The verdict of ``scoring.compare`` as a flag (None when a score is incomplete or the
    file has no threshold)."""
    comparison = compare(previous, current)
    if comparison.change is None or not comparison.flag:
        return None
    decisive = next(
        (v for v in comparison.verdicts if v.name == "MDC"),
        next((v for v in comparison.verdicts if v.name.startswith("MCID")), None),
    )
    q = current.questionnaire
    sign = "+" if comparison.change > 0 else ""
    size = f"{sign}{number_text(comparison.change, q.scoring.decimals)} points"
    why = f"{size}: {decisive.text}" if decisive is not None else size
    return ChangeFlag(None, comparison.change, comparison.flag == REAL, f"{q.short} {why}")


def _mdc_flag(item: Item, side: str | None, before: Any, after: Any) -> ChangeFlag | None:
    mdc = item.mdc
    b, a = _number(before), _number(after)
    if mdc is None or b is None or a is None:
        return None
    change = a - b
    size, limit = abs(change), Fraction(str(mdc.points))
    of = f"the MDC of {_unit_text(item, mdc.points)}"
    if size > limit:
        real, why = True, f"exceeds {of}"
    elif size < limit:
        real, why = False, f"is below {of}"
    elif mdc.boundary == "at_least":
        real, why = True, f"equals {of}, which counts (at least the MDC: {mdc.source})"
    else:
        real, why = False, f"equals {of}, which does not count (more than the MDC: {mdc.source})"
    return ChangeFlag(side, change, real, f"{_signed(item, change)}: {why}")


def change_flags(form: Form, item: Item, baseline: Any, latest: Any) -> tuple[ChangeFlag, ...]:
    """The verdicts on the change from ``baseline`` to ``latest`` (stored shapes) of ``item``;
    empty when the measure has no threshold, a value is missing or a score is incomplete."""
    q = _questionnaire_for(form, item)
    if item.type is ItemType.QUESTIONNAIRE:
        before, after = _response(item, baseline), _response(item, latest)
        if q is None or before is None or after is None:
            return ()
        flag = questionnaire_flag(score_of(before), score_of(after))
        return (flag,) if flag is not None else ()
    if item.type not in NUMERIC_TYPES:
        return ()
    if q is not None and item.mdc is None and not item.bilateral:
        b, a = _number(baseline), _number(latest)
        if b is None or a is None:
            return ()
        flag = questionnaire_flag(_number_score(q, b), _number_score(q, a))
        return (flag,) if flag is not None else ()
    if item.mdc is None:
        return ()
    if isinstance(baseline, Mapping) or isinstance(latest, Mapping):
        b_sides = baseline if isinstance(baseline, Mapping) else {}
        a_sides = latest if isinstance(latest, Mapping) else {}
        out = []
        for side in ("left", "right"):
            flag = _mdc_flag(item, side, b_sides.get(side), a_sides.get(side))
            if flag is not None:
                out.append(flag)
        return tuple(out)
    flag = _mdc_flag(item, None, baseline, latest)
    return (flag,) if flag is not None else ()


def score_change_text(item: Item, before: Any, after: Any) -> str:
    """A questionnaire item's change in score points ("+18 points", "no change"); "" when a
    response is missing or incomplete."""
    b, a = _response(item, before), _response(item, after)
    if b is None or a is None:
        return ""
    sb, sa = score_of(b), score_of(a)
    if sb.value is None or sa.value is None:
        return ""
    change = sa.value - sb.value
    if change == 0:
        return "no change"
    sign = "+" if change > 0 else "−"
    return f"{sign}{number_text(abs(change), sa.questionnaire.scoring.decimals)} points"
