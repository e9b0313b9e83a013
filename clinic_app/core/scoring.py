"""Scoring a questionnaire's answers, and whether a change between two scores is real.

Answers are checked against the questionnaire (unknown items, values it does not offer, booleans
given as numbers and PSFS activities without their text are refused with one line each); a score
the questionnaire's missing-item rule does not allow is *incomplete* with the reason, never
guessed. Arithmetic is exact (fractions), so a change of exactly the MCID is decided by the
threshold's cited boundary rule, not by rounding.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from clinic_app.core.form_checks import cited_sources
from clinic_app.core.questionnaire import Questionnaire, Threshold
from clinic_app.core.words import has_visible

ACTIVITY_MAX = 200  # characters of a patient's own activity text
MAX_JSON_DEPTH = 16


class AnswersError(ValueError):
    """Answers that cannot be scored; ``problems`` holds one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Answers:
    """The answers to one questionnaire: item id -> score (None: not answered)."""

    questionnaire: str
    values: dict[str, int | None]
    activities: dict[str, str] = field(default_factory=dict)  # PSFS: item id -> patient's text


@dataclass(frozen=True)
class Score:
    questionnaire: Questionnaire
    value: Fraction | None  # None: incomplete
    reason: str  # why it is incomplete ("" when scored)
    answered: tuple[str, ...]
    missing: tuple[str, ...]
    answers: Answers

    @property
    def complete(self) -> bool:
        return self.value is not None

    def value_text(self) -> str:
        return (
            number_text(self.value, self.questionnaire.scoring.decimals)
            if self.value is not None
            else ""
        )

    def text(self) -> str:
        q = self.questionnaire
        if self.value is None:
            return f"{q.short}: incomplete: {self.reason}"
        r = q.scoring.range
        better = "higher" if q.higher_better else "lower"
        count = f"{len(self.answered)} of {len(q.items)} item{'' if len(q.items) == 1 else 's'}"
        count += " answered"
        how = "mean" if q.scoring.method == "mean" else "total"
        return (
            f"{q.short} {how} {self.value_text()} (range {r.min:g}–{r.max:g}, {better} is better; "
            f"{count})"
        )

    def to_dict(self) -> dict[str, Any]:
        q = self.questionnaire
        out: dict[str, Any] = {
            "questionnaire": q.id,
            "version": q.version,
            "complete": self.complete,
            "score": None if self.value is None else round(float(self.value), 6),
            "score_text": self.value_text() or None,
            "incomplete_reason": self.reason or None,
            "method": q.scoring.method,
            "range": {"min": q.scoring.range.min, "max": q.scoring.range.max},
            "direction": q.scoring.direction,
            "answered": list(self.answered),
            "missing": list(self.missing),
        }
        if self.answers.activities:
            out["activities"] = dict(self.answers.activities)
        return out


def number_text(value: Fraction | float, decimals: int) -> str:
    """A number for a person: rounded half away from zero to ``decimals`` places."""
    scaled = Fraction(value) * 10**decimals
    n = math.floor(abs(scaled) + Fraction(1, 2))
    sign = "-" if scaled < 0 and n else ""
    if not decimals:
        return f"{sign}{n}"
    whole, part = divmod(n, 10**decimals)
    return f"{sign}{whole}.{part:0{decimals}d}"


# ---------------------------------------------------------------------------- reading answers


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise AnswersError([f"key {key!r} appears twice"])
        out[key] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise AnswersError([f"{name} is not a number JSON allows"])


def _depth(data: Any) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            return depth
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        stack.extend((c, depth + 1) for c in children)
    return deepest


def _bad_text(text: str) -> str | None:
    if not has_visible(text):  # also only right-to-left marks or zero-width spaces
        return "is empty"
    if len(text) > ACTIVITY_MAX:
        return f"is {len(text)} characters long (at most {ACTIVITY_MAX})"
    bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cs")), None)
    if bad is not None:
        return f"contains a control character (U+{ord(bad):04X})"
    return None


def answers_from_json(q: Questionnaire, text: str, name: str = "<answers>") -> Answers:
    """Answers from the JSON text of an answers file (README, "Questionnaires")::

        {"questionnaire": "lefs", "answers": {"q01": 4, "q02": 3, "q03": null, ...}}
        {"questionnaire": "psfs", "answers": {"a1": {"activity": "Sprinting", "score": 4}}}

    An item left out or given as ``null`` is not answered. AnswersError names ``name`` and the
    place of every problem (one line each).
    """
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except AnswersError as err:
        raise AnswersError([f"{name}: {p}" for p in err.problems]) from None
    except json.JSONDecodeError as err:
        raise AnswersError(
            [f"{name}: line {err.lineno}, column {err.colno}: invalid JSON: {err.msg}"]
        ) from None
    except RecursionError:
        raise AnswersError([f"{name}: nested too deeply to be an answers file"]) from None
    except ValueError as err:  # an integer with more digits than Python converts
        raise AnswersError([f"{name}: {err}"]) from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise AnswersError([f"{name}: nested more than {MAX_JSON_DEPTH} levels deep"])
    return parse_answers(q, data, name)


def parse_answers(q: Questionnaire, data: Any, name: str = "<answers>") -> Answers:
    """Check parsed answers against ``q`` (see :func:`answers_from_json`)."""
    if not isinstance(data, dict):
        raise AnswersError([f"{name}: (top level): expected an object, got {_json_kind(data)}"])
    problems: list[str] = []
    extra = sorted(set(data) - {"questionnaire", "answers"})
    if extra:
        problems.append(f"{name}: {extra[0]}: unknown key (expected questionnaire and answers)")
    given = data.get("questionnaire")
    if given is None:
        problems.append(f"{name}: questionnaire: required key is missing (say {q.id!r})")
    elif given != q.id:  # every item would be unknown: say only this
        shown = given if isinstance(given, str) else _json_kind(given)
        raise AnswersError([f"{name}: questionnaire: answers {shown!r}, not {q.id!r}"])
    raw = data.get("answers")
    if not isinstance(raw, dict):
        what = "is missing" if raw is None else f"must be an object, got {_json_kind(raw)}"
        problems.append(f"{name}: answers: {what}")
        raise AnswersError(problems)
    values: dict[str, int | None] = dict.fromkeys(q.item_ids)
    activities: dict[str, str] = {}
    unknown = 0
    for key, value in raw.items():
        where = f"{name}: answers.{key}"
        item = q.item(key)
        if item is None:
            unknown += 1
            if unknown == 1:
                problems.append(f"{where}: unknown item ({q.id} has {_ids_text(q)})")
            continue
        if value is None:
            continue
        if item.patient_activity:
            if not isinstance(value, dict):
                shape = '{"activity": text, "score": number}'
                problems.append(f"{where}: expected {shape}, got {_json_kind(value)}")
                continue
            stray = sorted(set(value) - {"activity", "score"})
            if stray:
                problems.append(f"{where}.{stray[0]}: unknown key (expected activity and score)")
                continue
            activity = value.get("activity")
            if not isinstance(activity, str):
                problems.append(f"{where}.activity: the patient's activity text is missing")
                continue
            bad = _bad_text(activity)
            if bad:
                problems.append(f"{where}.activity: {bad}")
                continue
            activities[key] = " ".join(activity.split())
            value, where = value.get("score"), f"{where}.score"
            if value is None:
                continue  # named but not rated: scoring says it is incomplete
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{where}: expected {item.answer.describe()}, got {_json_kind(value)}")
        elif not item.answer.accepts(value):
            problems.append(f"{where}: {value} is out of range (expected {item.answer.describe()})")
        else:
            values[key] = value
    if unknown > 1:
        problems.append(f"{name}: answers: {unknown - 1} more unknown items")
    if problems:
        raise AnswersError(problems)
    return Answers(q.id, values, activities)


def _ids_text(q: Questionnaire) -> str:
    ids = q.item_ids
    return ", ".join(ids) if len(ids) <= 5 else f"{ids[0]} to {ids[-1]}"


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} (not a finite number)"
    if isinstance(value, float):
        return (
            f"{value!r} (a fraction)" if value != int(value) else f"{value!r} (not a whole number)"
        )
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    if isinstance(value, int):
        return str(value)
    return {dict: "an object", list: "a list", type(None): "null"}.get(
        type(value), type(value).__name__
    )


# ---------------------------------------------------------------------------- scoring


def score(q: Questionnaire, answers: Answers) -> Score:
    """The score of ``answers`` by ``q``'s rule, or an incomplete Score saying why."""
    answered = tuple(i for i in q.item_ids if answers.values.get(i) is not None)
    missing = tuple(i for i in q.item_ids if answers.values.get(i) is None)
    s = q.scoring

    def incomplete(reason: str) -> Score:
        return Score(q, None, reason, answered, missing, answers)

    unrated = [i for i in missing if i in answers.activities]
    if unrated:
        names = ", ".join(f"{i} ({answers.activities[i]!r})" for i in unrated)
        return incomplete(f"activity named but not rated: {names}; no score is guessed for it")
    if len(missing) > s.max_missing:
        allowed = (
            "none may be missing"
            if s.max_missing == 0
            else f"at most {s.max_missing} may be missing"
        )
        shown = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
        return incomplete(
            f"{len(missing)} of {len(q.items)} items not answered ({shown}); {allowed} "
            f"({s.missing_note})"
        )
    total = Fraction(sum(answers.values[i] or 0 for i in answered))
    if s.method == "mean":
        value = total / len(answered)
    elif missing:  # prorate is true here (the schema refuses an unprorated partial sum)
        value = total * len(q.items) / len(answered)
    else:
        value = total
    return Score(q, value, "", answered, missing, answers)


# ---------------------------------------------------------------------------- change


@dataclass(frozen=True)
class Verdict:
    name: str  # "MCID", "MDC"
    met: bool
    text: str  # "exceeds the MCID of 9 points"


@dataclass(frozen=True)
class ItemChange:
    item: str
    activity: str
    change: Fraction | None  # None: not comparable
    text: str


@dataclass(frozen=True)
class Comparison:
    previous: Score
    current: Score
    change: Fraction | None  # None: a score is incomplete
    better: bool | None  # None: no change, or not computed
    verdicts: tuple[Verdict, ...]
    flag: str  # "real change", "within measurement noise", or "" when not decided
    reason: str  # why no change was computed ("" when it was)
    items: tuple[ItemChange, ...] = ()
    note: str = ""  # a caveat on the whole change (PSFS: the activities are not the same)

    def text(self) -> str:
        if self.change is None:
            return f"change: not computed: {self.reason}"
        q = self.current.questionnaire
        dec = q.scoring.decimals
        sign = "+" if self.change > 0 else ""
        way = "" if self.better is None else (" (better)" if self.better else " (worse)")
        head = f"change: {sign}{number_text(self.change, dec)} points since the previous{way}"
        parts = [v.text for v in self.verdicts]
        line = head + (": " + "; ".join(parts) if parts else "")
        if self.flag:
            line += f": {self.flag}"
        note = [f"  note: {self.note}"] if self.note else []
        return "\n".join([line, *note, *(f"  {i.text}" for i in self.items)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "change": None if self.change is None else round(float(self.change), 6),
            "direction": None if self.better is None else ("better" if self.better else "worse"),
            "verdicts": [
                {"threshold": v.name, "met": v.met, "text": v.text} for v in self.verdicts
            ],
            "flag": self.flag or None,
            "not_computed_reason": self.reason or None,
            "note": self.note or None,
            "items": [
                {
                    "item": i.item,
                    "activity": i.activity,
                    "change": None if i.change is None else round(float(i.change), 6),
                    "text": i.text,
                }
                for i in self.items
            ],
        }


def _points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def _verdict(name: str, t: Threshold, size: Fraction) -> Verdict:
    limit = Fraction(str(t.points))
    of = f"the {name} of {_points(t.points)}"
    if t.confidence is not None:
        of += f" ({t.confidence}% confidence)"
    if size > limit:
        return Verdict(name, True, f"exceeds {of}")
    if size < limit:
        return Verdict(name, False, f"is below {of}")
    cited = ", ".join(s for s in cited_sources(t.boundary_source) if s)
    if t.boundary == "at_least":
        return Verdict(
            name, True, f"equals {of}, which counts (a change of at least the {name}: {cited})"
        )
    return Verdict(
        name, False, f"equals {of}, which does not count (more than the {name} needed: {cited})"
    )


def compare(previous: Score, current: Score) -> Comparison:
    """The change from ``previous`` to ``current`` and whether it passes the MCID and the MDC.

    A change passing the MDC (or, without an MDC, the MCID) is flagged "real change"; one below
    it "within measurement noise". The MCID and MDC are judged on the size of the change in
    either direction; a relative MCID (NPRS 30%) only for an improvement, as it was studied.
    """
    q = current.questionnaire
    if previous.value is None or current.value is None:
        which = (
            "the previous answers are incomplete"
            if previous.value is None
            else "the current answers are incomplete"
        )
        reason = previous.reason if previous.value is None else current.reason
        return Comparison(previous, current, None, None, (), "", f"{which} ({reason})")
    change = current.value - previous.value
    better = None if change == 0 else (change > 0) == q.higher_better
    size = abs(change)
    verdicts: list[Verdict] = []
    mcid_met: bool | None = None
    if q.change.mcid is not None:
        v = _verdict("MCID", q.change.mcid, size)
        mcid_met = v.met
        verdicts.append(v)
    pct = q.change.mcid_percent
    if pct is not None and better and previous.value != 0:
        relative = size / abs(previous.value) * 100
        limit = Fraction(str(pct.percent))
        met = relative > limit or (relative == limit and pct.boundary == "at_least")
        word = "reaches" if met else "is below"
        verdicts.append(
            Verdict(
                "MCID %",
                met,
                f"{word} the {pct.percent:g}% MCID ({number_text(relative, 0)}% of the previous)",
            )
        )
        mcid_met = bool(mcid_met) or met
    flag = ""
    if q.change.mdc is not None:
        v = _verdict("MDC", q.change.mdc, size)
        verdicts.append(v)
        flag = "real change" if v.met else "within measurement noise"
    elif mcid_met is not None:
        flag = "real change" if mcid_met else "within measurement noise"
    items = _item_changes(q, previous, current)
    differ = [i.item for i in items if i.change is None]
    note = ""
    if q.change.mdc is None and flag:
        note = f"{q.short} has no MDC in its file, so real change is judged by the MCID"
    if differ:
        note = (
            f"the activities are not the same both times ({', '.join(differ)}), so the two "
            "means describe different activities"
        )
    return Comparison(previous, current, change, better, tuple(verdicts), flag, "", items, note)


def _item_changes(q: Questionnaire, previous: Score, current: Score) -> tuple[ItemChange, ...]:
    """PSFS: each activity rated both times, compared with the one-activity MDC."""
    if not any(i.patient_activity for i in q.items):
        return ()
    out: list[ItemChange] = []
    for item_id in q.item_ids:
        before, now = previous.answers.values.get(item_id), current.answers.values.get(item_id)
        old = previous.answers.activities.get(item_id, "")
        new = current.answers.activities.get(item_id, "")
        if before is None and now is None:
            continue
        if before is None or now is None or old.casefold() != new.casefold():
            why = (
                "not rated both times"
                if before is None or now is None
                else f"activity changed from {old!r}"
            )
            out.append(
                ItemChange(
                    item_id, new or old, None, f"{item_id} {new or old!r}: not compared ({why})"
                )
            )
            continue
        change = Fraction(now - before)
        sign = "+" if change > 0 else ""
        text = f"{item_id} {new!r}: {sign}{change} points"
        if q.change.item_mdc is not None:
            v = _verdict("one-activity MDC", q.change.item_mdc, abs(change))
            text += f": {v.text}"
        out.append(ItemChange(item_id, new, change, text))
    return tuple(out)
