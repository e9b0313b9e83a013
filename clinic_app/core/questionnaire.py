"""Outcome questionnaires as data: ``forms/questionnaires/*.yaml`` (LEFS, PSFS, NPRS).

A questionnaire file says what the patient answers (items, their answer options with scores or
a numeric range, the texts in each language it ships), how the answers become a score (sum or
mean, how many items may be missing, whether a sum is prorated), the score's range and direction,
the changes that matter (MCID, MDC) with their sources, and the instrument's licence. Pydantic
models refuse unknown keys, as the evaluation form's do; the file is read with the form's safe
YAML reader (depth, duplicate keys, alias bombs) and every problem is one ``file: place: problem``
line. Scoring lives in :mod:`clinic_app.core.scoring`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationError,
    model_validator,
)

from clinic_app.core.form_checks import _pydantic_problems, cited_sources
from clinic_app.core.form_loading import _YAML_LOADER, _check_expansion, _check_structure
from clinic_app.core.form_schema import FormError, Identifier, SourceId

KIND = "questionnaire"
Language = Annotated[str, Field(pattern=r"^[a-z]{2}$")]
# A text in every language the questionnaire ships: ``{en: ..., de: ...}``.
Text = dict[Language, Annotated[str, Field(min_length=1, max_length=2000)]]
# Numbers in a questionnaire file are numbers: ``true`` is not a score of 1, nor "9" a threshold.
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
_KIND_LINE = re.compile(r"^kind:\s*['\"]?questionnaire['\"]?\s*(#.*)?$", re.MULTILINE)
# A questionnaire that lost its ``kind`` line still has these two top-level keys (a form has not).
_SCORING_LINE = re.compile(r"^scoring:", re.MULTILINE)
_ITEMS_LINE = re.compile(r"^items:", re.MULTILINE)


class QuestionnaireError(FormError):
    """A questionnaire file that cannot be used (one ``file: place: problem`` per line)."""


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )


class Licence(_Strict):
    text: str = Field(min_length=1)
    # May the published item wording be shown? When not (or not verified), the item texts are
    # the project's own short labels, and ``wording`` says so.
    wording_reproduced: bool
    wording: str = Field(min_length=1)


class Source(_Strict):
    id: SourceId
    citation: str = Field(min_length=1)
    supports: str = Field(min_length=1)  # what the file takes from it
    verified: bool  # checked against a copy of the publication (or a page quoting it)?


class Option(_Strict):
    score: Int = Field(ge=0, le=1000)
    label: Text


class Answer(_Strict):
    """What one item accepts: one of ``options`` (its score) or a whole number in min..max."""

    options: tuple[Option, ...] = ()
    min: Int | None = Field(default=None, ge=0, le=1000)
    max: Int | None = Field(default=None, ge=0, le=1000)
    min_label: Text | None = None
    max_label: Text | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Answer:
        ranged = self.min is not None or self.max is not None
        if bool(self.options) == ranged:
            raise ValueError("give either options or min and max, not both")
        if ranged and (self.min is None or self.max is None):
            raise ValueError("a numeric answer needs both min and max")
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min {self.min} is not below max {self.max}")
        scores = [o.score for o in self.options]
        if len(set(scores)) != len(scores):
            raise ValueError("two options have the same score")
        if not ranged and (self.min_label or self.max_label):
            raise ValueError("min_label and max_label belong to a numeric answer")
        return self

    @property
    def scores(self) -> tuple[int, int]:
        """The lowest and highest score one item can give."""
        if self.options:
            values = [o.score for o in self.options]
            return min(values), max(values)
        assert self.min is not None
        assert self.max is not None
        return self.min, self.max

    def accepts(self, value: int) -> bool:
        if self.options:
            return any(o.score == value for o in self.options)
        return self.scores[0] <= value <= self.scores[1]

    def describe(self) -> str:
        if self.options:
            return "one of " + ", ".join(str(o.score) for o in self.options)
        return f"a whole number from {self.min} to {self.max}"


class Item(_Strict):
    id: Identifier
    text: Text
    answer: Answer
    # PSFS: the patient names the activity; the answer carries the patient's own text.
    patient_activity: bool = False


class ScoreRange(_Strict):
    min: Float
    max: Float


class Scoring(_Strict):
    method: Literal["sum", "mean"]
    max_missing: Int = Field(ge=0)
    # A sum with missing items allowed is scaled up to all items (sum x items / answered).
    prorate: bool
    missing_source: str = Field(min_length=1)  # citation of the missing-item rule
    missing_note: str = Field(min_length=1)  # the rule in words (and why, when conservative)
    range: ScoreRange
    direction: Literal["higher_better", "lower_better"]
    decimals: Int = Field(ge=0, le=3)
    source: str = Field(min_length=1)


class Threshold(_Strict):
    points: Float = Field(gt=0)
    # ``at_least``: a change equal to the threshold counts; ``more_than``: it must be larger.
    boundary: Literal["at_least", "more_than"]
    boundary_source: str = Field(min_length=1)
    confidence: Int | None = Field(default=None, ge=50, le=99)  # an MDC's confidence level
    source: str = Field(min_length=1)
    note: str = ""


class PercentThreshold(_Strict):
    """A relative MCID (NPRS: a 30% reduction), for improvements only."""

    percent: Float = Field(gt=0, le=100)
    boundary: Literal["at_least", "more_than"]
    source: str = Field(min_length=1)


class Change(_Strict):
    mcid: Threshold | None = None
    mcid_percent: PercentThreshold | None = None
    mdc: Threshold | None = None
    item_mdc: Threshold | None = None  # one item alone (PSFS: one activity)


class Questionnaire(_Strict):
    kind: Literal["questionnaire"]
    id: Identifier
    title: str = Field(min_length=1, max_length=200)
    short: str = Field(min_length=1, max_length=20)
    version: Int = Field(ge=1)
    languages: tuple[Language, ...] = Field(min_length=1)
    licence: Licence
    sources: tuple[Source, ...] = Field(min_length=1)
    instructions: Text
    items: tuple[Item, ...] = Field(min_length=1, max_length=200)
    scoring: Scoring
    change: Change
    _by_id: dict[str, Item] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _scoring_rules(self) -> Questionnaire:
        s = self.scoring
        if s.max_missing >= len(self.items):
            raise ValueError(f"scoring.max_missing {s.max_missing}: at least one item is needed")
        if s.method == "sum" and s.max_missing and not s.prorate:
            raise ValueError("a sum with missing items allowed must be prorated (or allow none)")
        if s.method == "mean" and s.prorate:
            raise ValueError("a mean is taken over the answered items: prorate must be false")
        return self

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def model_post_init(self, context: Any, /) -> None:
        for item in reversed(self.items):  # a repeated id (refused by cross_check): the first
            self._by_id[item.id] = item

    def item(self, item_id: str) -> Item | None:
        return self._by_id.get(item_id)

    @property
    def higher_better(self) -> bool:
        return self.scoring.direction == "higher_better"


def _texts(q: Questionnaire) -> list[tuple[str, dict[str, str]]]:
    out: list[tuple[str, dict[str, str]]] = [("instructions", q.instructions)]
    for n, item in enumerate(q.items):
        out.append((f"items[{n}].text", item.text))
        for o_n, option in enumerate(item.answer.options):
            out.append((f"items[{n}].answer.options[{o_n}].label", option.label))
        for key in ("min_label", "max_label"):
            label = getattr(item.answer, key)
            if label is not None:
                out.append((f"items[{n}].answer.{key}", label))
    return out


def _citations(q: Questionnaire) -> list[tuple[str, str]]:
    out = [
        ("scoring.source", q.scoring.source),
        ("scoring.missing_source", q.scoring.missing_source),
    ]
    for key in ("mcid", "mdc", "item_mdc"):
        t: Threshold | None = getattr(q.change, key)
        if t is not None:
            out += [(f"change.{key}.source", t.source)]
            out += [(f"change.{key}.boundary_source", t.boundary_source)]
    if q.change.mcid_percent is not None:
        out.append(("change.mcid_percent.source", q.change.mcid_percent.source))
    return out


def cross_check(q: Questionnaire) -> list[str]:
    """What a per-field schema cannot see: repeated ids, texts missing a language, the score's
    range against what the items can give, citations naming no listed source."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for n, item in enumerate(q.items):
        if item.id in seen:
            problems.append(
                f"items[{n}].id: item id {item.id!r} already used at items[{seen[item.id]}]"
            )
        seen.setdefault(item.id, n)
    if len(set(q.languages)) != len(q.languages):
        problems.append("languages: a language is listed twice")
    wanted = set(q.languages)
    lacking: dict[str, list[str]] = {}  # language -> the places without a text in it
    for where, texts in _texts(q):
        for language in sorted(wanted - set(texts)):
            lacking.setdefault(language, []).append(where)
        extra = sorted(set(texts) - wanted)
        if extra:
            problems.append(f"{where}: text in {', '.join(extra)}, which languages does not list")
    for language, places in lacking.items():
        more = f" (nor have {len(places) - 1} more texts)" if len(places) > 1 else ""
        problems.append(f"{places[0]}: no text in {language}, which languages lists{more}")
    activity = [i.patient_activity for i in q.items]
    if any(activity) and not all(activity):
        problems.append("items: patient_activity must be the same for every item")
    lows = [i.answer.scores[0] for i in q.items]
    highs = [i.answer.scores[1] for i in q.items]
    if q.scoring.method == "sum":
        low, high = float(sum(lows)), float(sum(highs))
    else:
        low, high = float(min(lows)), float(max(highs))
    if (low, high) != (q.scoring.range.min, q.scoring.range.max):
        problems.append(
            f"scoring.range: the items give {low:g} to {high:g} by {q.scoring.method}, "
            f"not {q.scoring.range.min:g} to {q.scoring.range.max:g}"
        )
    known = {s.id for s in q.sources}
    if len(known) != len(q.sources):
        problems.append("sources: a source id is listed twice")
    for where, text in _citations(q):
        for sid in cited_sources(text):
            if not sid:
                problems.append(f"{where}: {text!r} has a reference without a source id")
            elif sid not in known:
                problems.append(f"{where}: unknown source {sid!r} (not in sources)")
    return problems


def looks_like_questionnaire(text: str) -> bool:
    """Whether a YAML text is meant as a questionnaire (check-form's switch): it says
    ``kind: questionnaire`` at its top level, or has top-level ``items`` and ``scoring``."""
    if _KIND_LINE.search(text) is not None:
        return True
    return _SCORING_LINE.search(text) is not None and _ITEMS_LINE.search(text) is not None


def parse_questionnaire(data: Any, name: str = "<questionnaire>") -> Questionnaire:
    """Validate parsed YAML/JSON data as a questionnaire; QuestionnaireError with located lines."""
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise QuestionnaireError([f"{name}: (top level): expected a mapping of keys, got {kind}"])
    try:
        q = Questionnaire.model_validate(data)
    except ValidationError as err:
        raise QuestionnaireError([f"{name}: {p}" for p in _pydantic_problems(err)]) from None
    except RecursionError:
        raise QuestionnaireError([f"{name}: (top level): nested too deeply"]) from None
    problems = cross_check(q)
    if problems:
        raise QuestionnaireError([f"{name}: {p}" for p in problems])
    return q


def questionnaire_from_text(text: str, name: str) -> Questionnaire:
    """A questionnaire from YAML text, read as safely as a form file is."""
    try:
        _check_structure(text, name)
        data = yaml.load(text, Loader=_YAML_LOADER)  # a safe loader, C or Python
    except FormError as err:
        raise QuestionnaireError(err.problems) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(unknown place)"
        problem = exc.problem or "invalid YAML"
        raise QuestionnaireError([f"{name}: {where}: YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise QuestionnaireError([f"{name}: (unknown place): YAML syntax error: {exc}"]) from None
    except (RecursionError, ValueError) as exc:
        raise QuestionnaireError([f"{name}: (unknown place): {exc.__class__.__name__}"]) from None
    try:
        _check_expansion(data, name)
    except FormError as err:
        raise QuestionnaireError(err.problems) from None
    return parse_questionnaire(data, name)


def questionnaires_dir() -> Path:
    from clinic_app.paths import forms_dir

    return forms_dir() / "questionnaires"


def shipped_ids() -> tuple[str, ...]:
    """The ids of the shipped questionnaires (the file names without ``.yaml``)."""
    return tuple(sorted(p.stem for p in questionnaires_dir().glob("*.yaml")))


def load_questionnaire(path: Path | str) -> Questionnaire:
    """Read a (trusted, shipped-size) questionnaire file; QuestionnaireError on any problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionnaireError([f"{name}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionnaireError(
            [f"{name}: cannot read the file ({exc.__class__.__name__})"]
        ) from None
    return questionnaire_from_text(text, name)


def shipped(qid: str) -> Questionnaire:
    """A shipped questionnaire by id (``lefs``, ``psfs``, ``nprs``)."""
    if qid not in shipped_ids():
        known = ", ".join(shipped_ids())
        raise QuestionnaireError([f"{qid}: no shipped questionnaire of that id (shipped: {known})"])
    return load_questionnaire(questionnaires_dir() / f"{qid}.yaml")
