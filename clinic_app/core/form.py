"""The evaluation form: a declarative schema for measures, factor rules, patterns and red flags.

The whole clinical content of the app lives in a form file (``forms/*.yaml``). This module defines
what such a file may contain (pydantic models that reject unknown keys), loads it, and checks the
cross-references that a per-field schema cannot see (a rule naming an item that does not exist, a
choice that the item does not offer, a source that the ``sources`` table does not describe, a
body-chart region the chart does not draw). Every problem is reported as one line naming the file,
the place in the document and the problem, never as a traceback.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from clinic_app.core.body_chart import BodyChart, BodyChartError, load_body_chart

logger = logging.getLogger(__name__)

# libyaml's safe loader parses the shipped form four times faster than the pure-Python one
# (about 25 ms against 100 ms at start-up); same safety, same errors.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")
SourceId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=32)]


class FormError(Exception):
    """A form file that cannot be used; ``problems`` holds one ``file: place: problem`` per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ItemType(enum.StrEnum):
    """How a finding is entered and stored (see README, "Findings JSON")."""

    NUMBER = "number"  # int/float within range, with a unit
    SCALE = "scale"  # NPRS 0-10, whole numbers
    MMT = "mmt"  # manual muscle test 0-5 in half grades (4+ is 4.5)
    CHOICE = "choice"  # one of `choices`
    MULTI = "multi"  # a set of `choices`
    YESNO = "yesno"  # "yes" / "no"
    POSNEG = "posneg"  # "positive" / "negative"
    REGIONS = "regions"  # a set of body-chart regions (per side when bilateral)
    TEXT = "text"  # free text


CATEGORICAL_VALUES: dict[ItemType, tuple[str, ...]] = {
    ItemType.YESNO: ("yes", "no"),
    ItemType.POSNEG: ("positive", "negative"),
}
NUMERIC_TYPES = frozenset({ItemType.NUMBER, ItemType.SCALE, ItemType.MMT})
SET_TYPES = frozenset({ItemType.MULTI, ItemType.REGIONS})


class Range(_Strict):
    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self


class Choice(_Strict):
    id: Identifier
    label: str = Field(min_length=1)


class Symmetry(_Strict):
    """How the two sides of a bilateral number are compared.

    ``deficit``: percent deficit of the weaker side, ``(stronger - weaker) / stronger * 100``;
    ``threshold`` is the deficit in percent past which the gap counts.
    ``difference``: absolute difference in the item's unit (degrees); ``threshold`` is the minimal
    detectable difference, below which a gap is measurement noise.
    """

    method: Literal["deficit", "difference"]
    better: Literal["higher", "lower"] = "higher"
    threshold: float = Field(ge=0)
    source: str = Field(min_length=1)


class Item(_Strict):
    id: Identifier
    label: str = Field(min_length=1)
    help: str = ""
    type: ItemType
    unit: str = ""
    range: Range | None = None
    integer: bool = False
    choices: tuple[Choice, ...] = ()
    bilateral: bool = False
    symmetry: Symmetry | None = None
    max_length: int = Field(default=4000, ge=1)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Item:
        needs_choices = self.type in (ItemType.CHOICE, ItemType.MULTI, ItemType.REGIONS)
        if needs_choices and not self.choices:
            raise ValueError(f"type {self.type.value} needs a list of choices")
        if not needs_choices and self.choices:
            raise ValueError(f"type {self.type.value} takes no choices")
        ids = [c.id for c in self.choices]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"choice id {dupes[0]!r} appears twice")
        if self.type is ItemType.NUMBER and self.range is None:
            raise ValueError("a number needs a range (min and max)")
        if self.type not in (ItemType.NUMBER,) and self.range is not None:
            raise ValueError(f"type {self.type.value} has a fixed range; remove 'range'")
        if self.symmetry is not None and (not self.bilateral or self.type not in NUMERIC_TYPES):
            raise ValueError("symmetry is only for bilateral numbers")
        return self

    @property
    def value_range(self) -> Range | None:
        if self.type is ItemType.SCALE:
            return Range(min=0, max=10)
        if self.type is ItemType.MMT:
            return Range(min=0, max=5)
        return self.range

    @property
    def allowed(self) -> tuple[str, ...]:
        """The strings a categorical item accepts (empty for numbers and text)."""
        if self.type in CATEGORICAL_VALUES:
            return CATEGORICAL_VALUES[self.type]
        return tuple(c.id for c in self.choices)

    def choice_label(self, value: str) -> str:
        for c in self.choices:
            if c.id == value:
                return c.label
        return value


def mmt_grade(value: float) -> str:
    """An MMT grade as clinicians write it: half grades are stored as .5 and shown as ``4+``.

    The one place this convention is written down: the editor's drop-down, the assessment's
    evidence lines and the reports all show grades through it.
    """
    whole = int(value)
    return f"{whole}+" if value - whole >= 0.5 else str(whole)


class Section(_Strict):
    id: Identifier
    title: str = Field(min_length=1)
    help: str = ""
    items: tuple[Item, ...] = Field(min_length=1)


Op = Literal["<", "<=", ">", ">=", "=="]


class Leaf(_Strict):
    """One test on one finding.

    ``measure``: ``value`` (default) reads the value; ``deficit`` the percent deficit between the
    sides; ``difference`` the absolute difference; ``lsi`` the limb symmetry index of ``side``
    against the other side. ``side`` chooses which side must satisfy a ``value`` test: ``involved``,
    ``opposite`` (the other side of the painful one), ``left``, ``right`` or ``any``. For
    ``deficit``/``difference``, ``worse`` says which side must be the worse one. A missing
    ``threshold`` on ``deficit``/``difference`` means the item's own symmetry threshold.
    ``per`` divides a one-sided number by another one-sided number before the test (a ratio such
    as trunk flexor / extensor endurance), so the threshold is a plain ratio.
    """

    item: Identifier
    measure: Literal["value", "deficit", "difference", "lsi"] = "value"
    side: Literal["involved", "opposite", "left", "right", "any"] | None = None
    worse: Literal["involved", "opposite", "any"] = "any"
    op: Op | None = None
    threshold: float | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    per: Identifier | None = None

    @model_validator(mode="after")
    def _shape(self) -> Leaf:
        if self.per is not None and (self.measure != "value" or self.op is None):
            raise ValueError("'per' needs measure value with 'op' and 'threshold'")
        if self.in_ is not None and (self.op is not None or self.threshold is not None):
            raise ValueError("use either 'in' or 'op' with 'threshold', not both")
        if self.in_ is None and self.op is None:
            raise ValueError("a test needs 'in' (categories) or 'op' (numbers)")
        if self.in_ is not None and self.measure != "value":
            raise ValueError(f"'in' cannot be used with measure {self.measure}")
        if self.op is not None and self.threshold is None and self.measure in ("value", "lsi"):
            raise ValueError(f"measure {self.measure} needs a threshold")
        return self


class AllOf(_Strict):
    all: tuple[Condition, ...] = Field(min_length=1)


class AnyOf(_Strict):
    any: tuple[Condition, ...] = Field(min_length=1)


Condition = Leaf | AllOf | AnyOf
AllOf.model_rebuild()
AnyOf.model_rebuild()


class Indicator(_Strict):
    """One finding pattern that supports a factor or pattern."""

    label: str = Field(min_length=1)
    when: Condition
    source: str = Field(min_length=1)
    supporting_only: bool = False  # counts toward strength but never fires the rule alone


class Rule(_Strict):
    """Shared shape of contributing factors and patterns."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*$")
    name: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    local: bool = False  # a hamstring-local cause (the hamstring is the source)
    opinion: bool = False  # one author's claim, labelled as such in reports
    min_indicators: int = Field(default=1, ge=1)
    indicators: tuple[Indicator, ...] = Field(min_length=1)
    plain: str = ""  # everyday words for the patient handout
    note: str = ""
    advice: tuple[Identifier, ...] = ()
    exercises: tuple[Identifier, ...] = ()

    @model_validator(mode="after")
    def _reachable(self) -> Rule:
        if self.min_indicators > len(self.indicators):
            raise ValueError(
                f"min_indicators {self.min_indicators} is more than the "
                f"{len(self.indicators)} indicators listed"
            )
        if all(i.supporting_only for i in self.indicators):
            raise ValueError("every indicator is supporting_only, so the rule can never fire")
        return self


class Factor(Rule):
    id: str = Field(pattern=r"^F[0-9]+$")
    region: str = Field(min_length=1)


class Pattern(Rule):
    id: str = Field(pattern=r"^P[0-9]+$")


class Urgency(enum.StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    SOON = "soon"


URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.SOON: 2}


class RedFlag(_Strict):
    id: str = Field(pattern=r"^R[0-9]+$")
    name: str = Field(min_length=1)
    urgency: Urgency
    message: str = Field(min_length=1)
    plain: str = ""
    when: Condition
    sources: tuple[str, ...] = Field(min_length=1)
    advice: tuple[Identifier, ...] = ()


class RunLevel(enum.StrEnum):
    GREEN = "green"
    NEXT_DAY = "next_day"
    STOP = "stop"
    RED_FLAG = "red_flag"


RUN_LEVEL_RANK = {RunLevel.RED_FLAG: 0, RunLevel.STOP: 1, RunLevel.NEXT_DAY: 2, RunLevel.GREEN: 3}


class RunRule(_Strict):
    level: RunLevel
    label: str = Field(min_length=1)
    message: str = Field(min_length=1)
    when: Condition
    source: str = Field(min_length=1)


class Source(_Strict):
    """One entry of the form's ``sources`` table: what a citation such as ``S1`` or ``domain §2``
    refers to. ``legend`` says whether the clinician report explains it in its source legend
    (outside documents are; the project's own brief and clinic defaults are only cited inline).
    """

    id: SourceId
    description: str = Field(min_length=1)
    legend: bool = True


class Form(_Strict):
    """A whole form file.

    ``involved_side_item`` names the painful-side item; ``plan_section`` the section holding the
    clinician's assessment and plan (printed at the end of the report, not among the findings);
    ``sources`` describes every source the items and rules cite. The body chart is drawn for the
    form's ``regions`` item (the first one, when there are several).
    """

    id: Identifier
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    description: str = ""
    involved_side_item: Identifier
    plan_section: Identifier | None = None
    sources: tuple[Source, ...] = ()
    sections: tuple[Section, ...] = Field(min_length=1)
    factors: tuple[Factor, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    red_flags: tuple[RedFlag, ...] = ()
    running: tuple[RunRule, ...] = ()

    _items: dict[str, Item] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._items = {i.id: i for s in self.sections for i in s.items}

    @property
    def items(self) -> Mapping[str, Item]:
        """Every item of every section, by id, in form order."""
        return self._items

    def item(self, item_id: str) -> Item:
        return self.items[item_id]

    def section_of(self, item_id: str) -> Section:
        for s in self.sections:
            if any(i.id == item_id for i in s.items):
                return s
        raise KeyError(item_id)

    def source(self, source_id: str) -> Source | None:
        """The ``sources`` entry of an id (``S1``), or None when the table does not list it."""
        return next((s for s in self.sources if s.id == source_id), None)

    @property
    def body_chart_item(self) -> Item | None:
        """The item marked on the body chart: the form's first ``regions`` item, if any."""
        return next((i for i in self.items.values() if i.type is ItemType.REGIONS), None)


_CITED_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def cited_sources(citation: str) -> tuple[str, ...]:
    """The source ids a citation names, in order.

    A citation is one or more references separated by ``,`` or ``;``; each reference starts with
    a source id, optionally followed by a place (``§2``) and a note; text in parentheses is a note
    and never splits: ``"S1 (15% gap; young athletes), domain §2"`` cites ``S1`` and ``domain``.
    A reference that does not start with an id yields ``""`` so the caller can report it.
    """
    parts: list[str] = []
    depth, start = 0, 0
    for n, ch in enumerate(citation):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in ",;":
            parts.append(citation[start:n])
            start = n + 1
    parts.append(citation[start:])
    out: list[str] = []
    for part in parts:
        m = _CITED_ID.match(part.strip())
        out.append(m.group(0) if m else "")
    return tuple(out)


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("Leaf", "AllOf", "AnyOf"):
            continue  # union member names are noise for the form author
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _pydantic_problems(err: ValidationError) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for e in err.errors():
        loc = _format_loc(tuple(e["loc"]))
        msg = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "missing":
            msg = "required key is missing"
        line = f"{loc}: {msg}"
        if line not in seen:
            seen.add(line)
            problems.append(line)
    return _prefer_specific(problems)


def _prefer_specific(problems: list[str]) -> list[str]:
    """A condition that fails every union branch yields one error per branch; keep the first."""
    by_loc: dict[str, str] = {}
    for p in problems:
        loc = p.split(": ", 1)[0]
        root = loc.split(".when", 1)[0] + ".when" if ".when" in loc else loc
        by_loc.setdefault(root, p)
    return list(by_loc.values())


def _walk_conditions(cond: Condition, path: str) -> Iterator[tuple[Leaf, str]]:
    if isinstance(cond, Leaf):
        yield cond, path
    elif isinstance(cond, AllOf):
        for n, c in enumerate(cond.all):
            yield from _walk_conditions(c, f"{path}.all[{n}]")
    else:
        for n, c in enumerate(cond.any):
            yield from _walk_conditions(c, f"{path}.any[{n}]")


def _check_leaf(form: Form, leaf: Leaf, path: str) -> list[str]:
    item = form.items.get(leaf.item)
    if item is None:
        return [f"{path}.item: unknown item {leaf.item!r}"]
    problems: list[str] = []
    if leaf.side is not None and not item.bilateral:
        problems.append(f"{path}.side: item {leaf.item!r} is not bilateral")
    if leaf.measure != "value":
        if item.type not in NUMERIC_TYPES or not item.bilateral:
            problems.append(f"{path}.measure: {leaf.measure} needs a bilateral number")
        elif leaf.threshold is None and item.symmetry is None:
            problems.append(f"{path}.threshold: item {leaf.item!r} has no symmetry threshold")
        elif leaf.measure != "lsi" and leaf.op is None:
            problems.append(f"{path}.op: measure {leaf.measure} needs an op")
    if leaf.in_ is not None:
        if item.type in NUMERIC_TYPES or item.type is ItemType.TEXT:
            problems.append(f"{path}.in: item {leaf.item!r} is a {item.type.value}; use op")
        else:
            bad = [v for v in leaf.in_ if v not in item.allowed]
            if bad:
                problems.append(f"{path}.in: {bad[0]!r} is not a value of item {leaf.item!r}")
    elif item.type not in NUMERIC_TYPES:
        problems.append(f"{path}.op: item {leaf.item!r} is a {item.type.value}; use 'in'")
    if leaf.per is not None:
        divisor = form.items.get(leaf.per)
        if divisor is None:
            problems.append(f"{path}.per: unknown item {leaf.per!r}")
        elif {item.bilateral, divisor.bilateral} != {False} or not {
            item.type,
            divisor.type,
        } <= NUMERIC_TYPES:
            problems.append(f"{path}.per: a ratio needs two one-sided numbers")
    return problems


def cross_check(form: Form) -> list[str]:
    """Problems that need the whole form to see: references, duplicates, the involved-side item."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for s_n, section in enumerate(form.sections):
        for i_n, item in enumerate(section.items):
            where = f"sections[{s_n}].items[{i_n}].id"
            if item.id in seen:
                problems.append(f"{where}: item id {item.id!r} already used at {seen[item.id]}")
            else:
                seen[item.id] = where
    side_item = form.items.get(form.involved_side_item)
    if side_item is None:
        problems.append(f"involved_side_item: unknown item {form.involved_side_item!r}")
    elif side_item.type is not ItemType.CHOICE or not {"left", "right"} <= set(side_item.allowed):
        problems.append("involved_side_item: must be a choice offering 'left' and 'right'")

    for key, rules in (("factors", form.factors), ("patterns", form.patterns)):
        ids: set[str] = set()
        for r_n, rule in enumerate(rules):
            if rule.id in ids:
                problems.append(f"{key}[{r_n}].id: {rule.id} appears twice")
            ids.add(rule.id)
            for n, ind in enumerate(rule.indicators):
                for leaf, path in _walk_conditions(ind.when, f"{key}[{r_n}].indicators[{n}].when"):
                    problems.extend(_check_leaf(form, leaf, path))
    for n, flag in enumerate(form.red_flags):
        for leaf, path in _walk_conditions(flag.when, f"red_flags[{n}].when"):
            problems.extend(_check_leaf(form, leaf, path))
    for n, run in enumerate(form.running):
        for leaf, path in _walk_conditions(run.when, f"running[{n}].when"):
            problems.extend(_check_leaf(form, leaf, path))
    if form.plan_section is not None and all(s.id != form.plan_section for s in form.sections):
        problems.append(f"plan_section: unknown section {form.plan_section!r}")
    problems.extend(_check_sources(form))
    return problems


def citations(form: Form) -> Iterator[tuple[str, str]]:
    """Every (place, citation text) of the form: items, thresholds, rules and their indicators."""
    for s_n, section in enumerate(form.sections):
        for i_n, item in enumerate(section.items):
            where = f"sections[{s_n}].items[{i_n}]"
            yield f"{where}.source", item.source
            if item.symmetry is not None:
                yield f"{where}.symmetry.source", item.symmetry.source
    for key, rules in (("factors", form.factors), ("patterns", form.patterns)):
        for r_n, rule in enumerate(rules):
            for n, text in enumerate(rule.sources):
                yield f"{key}[{r_n}].sources[{n}]", text
            for n, ind in enumerate(rule.indicators):
                yield f"{key}[{r_n}].indicators[{n}].source", ind.source
    for r_n, flag in enumerate(form.red_flags):
        for n, text in enumerate(flag.sources):
            yield f"red_flags[{r_n}].sources[{n}]", text
    for r_n, run in enumerate(form.running):
        yield f"running[{r_n}].source", run.source


def _check_sources(form: Form) -> list[str]:
    """Each source listed once, and every citation naming a listed source.

    A form without a ``sources`` table (a snapshot stored before the table existed, a small test
    form) cites freely; once the table is there, it must describe everything cited.
    """
    problems: list[str] = []
    known: set[str] = set()
    for n, source in enumerate(form.sources):
        if source.id in known:
            problems.append(f"sources[{n}].id: source {source.id!r} appears twice")
        known.add(source.id)
    if not form.sources:
        return problems
    for where, text in citations(form):
        for sid in cited_sources(text):
            if not sid:
                problems.append(f"{where}: {text!r} has a reference without a source id")
            elif sid not in known:
                problems.append(f"{where}: unknown source {sid!r} (not in the sources table)")
    return problems


def check_body_chart(form: Form, chart: BodyChart) -> list[str]:
    """The form's ``regions`` items must offer exactly the regions the body chart draws.

    A choice with no shape could never be marked, and a shape with no choice would be a region
    the findings cannot hold; either way the screen, the stored findings and the report would
    disagree, so the form is refused (one line per item, naming the ids that differ).
    """
    drawn = set(chart.regions)
    chart_name = str(chart.path) if chart.path is not None else "the body chart"
    problems: list[str] = []
    for s_n, section in enumerate(form.sections):
        for i_n, item in enumerate(section.items):
            if item.type is not ItemType.REGIONS:
                continue
            offered = set(item.allowed)
            not_drawn = [c for c in item.allowed if c not in drawn]
            not_offered = [r for r in chart.regions if r not in offered]
            if not (not_drawn or not_offered):
                continue
            bits = []
            if not_drawn:
                bits.append(f"not on the chart: {', '.join(not_drawn)}")
            if not_offered:
                bits.append(f"on the chart but not offered: {', '.join(not_offered)}")
            problems.append(
                f"sections[{s_n}].items[{i_n}].choices: item {item.id!r} and {chart_name} "
                f"disagree ({'; '.join(bits)})"
            )
    return problems


def parse_form(data: Any, name: str = "<form>") -> Form:
    """Validate already-parsed YAML/JSON data as a form, raising FormError with located lines."""
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise FormError([f"{name}: (top level): expected a mapping of keys, got {kind}"])
    try:
        form = Form.model_validate(data)
    except ValidationError as err:
        raise FormError([f"{name}: {p}" for p in _pydantic_problems(err)]) from None
    except RecursionError:
        raise FormError([f"{name}: (top level): nested too deeply to be a form"]) from None
    problems = cross_check(form)
    if problems:
        raise FormError([f"{name}: {p}" for p in problems])
    return form


MAX_NESTING = 64
MAX_EXPANDED_NODES = 200_000


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(unknown place)"


def _check_structure(text: str, name: str) -> None:
    """Refuse YAML nested too deeply, or with a key given twice, before it is built into objects.

    libyaml builds nested nodes recursively in C, so a document nested thousands of levels deep
    crashes the process instead of raising; the event stream is flat, so depth is checked on it
    first (about 5 ms for the shipped form). PyYAML silently keeps the last of two equal keys in
    a mapping, so a pasted item would quietly replace another: that is refused here too.
    """
    # One frame per open collection: (keys seen, the next scalar is a key) for mappings.
    stack: list[tuple[set[str], list[bool]] | None] = []

    def consume_slot(key: str | None, mark: Any) -> None:
        if not stack or stack[-1] is None:
            return  # inside a sequence (or at the top): no keys
        seen, expect_key = stack[-1]
        if expect_key[0] and key is not None:
            if key in seen:
                raise FormError([f"{name}: {_where(mark)}: key {key!r} appears twice"])
            seen.add(key)
        expect_key[0] = not expect_key[0]

    for event in yaml.parse(text, Loader=_YAML_LOADER):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            consume_slot(None, event.start_mark)
            is_mapping = isinstance(event, yaml.MappingStartEvent)
            stack.append((set(), [True]) if is_mapping else None)
            if len(stack) > MAX_NESTING:
                where = _where(event.start_mark)
                problem = f"nested more than {MAX_NESTING} levels deep"
                raise FormError([f"{name}: {where}: {problem}"])
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            stack.pop()
        elif isinstance(event, yaml.ScalarEvent):
            consume_slot(event.value, event.start_mark)
        elif isinstance(event, yaml.AliasEvent):
            consume_slot(None, event.start_mark)


def _check_expansion(data: Any, name: str) -> None:
    """Refuse documents whose aliases (``*name``) expand into an enormous tree.

    The shipped form reuses choice lists through anchors, which is fine; nested aliases can,
    however, multiply a small file into billions of nodes for the validator to walk.
    """
    budget = MAX_EXPANDED_NODES
    stack = [data]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            problem = f"expands to more than {MAX_EXPANDED_NODES:,} values (aliases nested?)"
            raise FormError([f"{name}: (top level): {problem}"])
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def load_form(path: Path | str, body_chart: Path | None = None) -> Form:
    """Read and validate a form file. Raises FormError (never a raw parser exception).

    A form with a ``regions`` item is checked against the body chart (``body_chart``, else the
    shipped ``resources/body_chart.json``): the two must name the same regions.
    """
    path = Path(path)
    name = str(path)
    try:
        form = _load_form(path, name)
        if form.body_chart_item is not None:
            _check_against_chart(form, name, body_chart)
    except FormError as err:
        logger.warning("form file %s refused; problems found: %d", name, len(err.problems))
        raise
    logger.info("form %s version %d read from %s", form.id, form.version, name)
    return form


def _check_against_chart(form: Form, name: str, chart_path: Path | None) -> None:
    try:
        chart = load_body_chart() if chart_path is None else load_body_chart(chart_path)
    except BodyChartError as exc:
        raise FormError([f"{name}: (body chart): {exc}"]) from None
    problems = check_body_chart(form, chart)
    if problems:
        raise FormError([f"{name}: {p}" for p in problems])


def _load_form(path: Path, name: str) -> Form:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormError([f"{name}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"cannot read the file ({exc.__class__.__name__}: {exc})"
        raise FormError([f"{name}: {problem}"]) from None
    try:
        _check_structure(text, name)
        data = yaml.load(text, Loader=_YAML_LOADER)  # a safe loader, C or Python
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(unknown place)"
        problem = exc.problem or "invalid YAML"
        raise FormError([f"{name}: {where}: YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise FormError([f"{name}: (unknown place): YAML syntax error: {exc}"]) from None
    except RecursionError:
        raise FormError([f"{name}: (top level): nested too deeply to be a form"]) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise FormError([f"{name}: (unknown place): {exc}"]) from None
    _check_expansion(data, name)
    return parse_form(data, name)
