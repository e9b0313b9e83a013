"""The evaluation form: a declarative schema for measures, factor rules, patterns and red flags.

The whole clinical content of the app lives in a form file (``forms/*.yaml``). This module defines
what such a file may contain (pydantic models that reject unknown keys), loads it, and checks the
cross-references that a per-field schema cannot see (a rule naming an item that does not exist, a
choice that the item does not offer). Every problem is reported as one line naming the file, the
place in the document and the problem, never as a traceback.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

# libyaml's safe loader parses the shipped form four times faster than the pure-Python one
# (about 25 ms against 100 ms at start-up); same safety, same errors.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")


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


class Form(_Strict):
    id: Identifier
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    description: str = ""
    involved_side_item: Identifier
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


def load_form(path: Path | str) -> Form:
    """Read and validate a form file. Raises FormError (never a raw parser exception)."""
    path = Path(path)
    name = str(path)
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
