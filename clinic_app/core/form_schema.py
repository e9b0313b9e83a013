"""The evaluation form's schema: what a form file may contain.

Pydantic models that reject unknown keys: items and their types, sections, factor and pattern
rules with their conditions, red flags, running rules and the ``sources`` table. Loading a file
and the checks that need the whole form live in :mod:`clinic_app.core.form_loading` and
:mod:`clinic_app.core.form_checks`; :mod:`clinic_app.core.form` gathers all three.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

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
    # allow_inf_nan: a threshold, range or score of NaN or infinity compares false with every
    # value (a NaN goal threshold was stored as null and read back as the form's default)
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )


class ItemType(enum.StrEnum):
    """How a finding is entered and stored (see README, "Findings JSON")."""

    NUMBER = "number"  # int/float within range, with a unit
    SCALE = "scale"  # NPRS 0-10, whole numbers
    MMT = "mmt"  # manual muscle test grade 0-5 with − and + (see MMT_GRADES)
    CHOICE = "choice"  # one of `choices`
    MULTI = "multi"  # a set of `choices`
    YESNO = "yesno"  # "yes" / "no"
    POSNEG = "posneg"  # "positive" / "negative"
    REGIONS = "regions"  # a set of body-chart regions (per side when bilateral)
    TEXT = "text"  # free text
    ROWS = "rows"  # a list of rows with the item's ``columns`` (a visit's interventions)
    # The answers to one of ``forms/questionnaires/`` (item by item, who reported them); its
    # score is also written to ``score_item`` so goals, charts and notes read one number.
    QUESTIONNAIRE = "questionnaire"
    PROGRAM = "program"  # the home program: chosen exercises with their doses (core/program.py)


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
    # An age band (years, both ends included): lets a ``from_patient: age_group`` item be
    # filled from the date of birth.
    ages: Range | None = None


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


class Column(_Strict):
    """One column of a ``rows`` item: a short text, a number within ``range`` or a choice."""

    id: Identifier
    label: str = Field(min_length=1)
    type: Literal["text", "number", "choice"]
    unit: str = ""
    range: Range | None = None
    integer: bool = False
    choices: tuple[Choice, ...] = ()
    max_length: int = Field(default=200, ge=1, le=4000)
    required: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Column:
        if (self.type == "choice") != bool(self.choices):
            raise ValueError("a choice column needs choices; other columns take none")
        if (self.type == "number") != (self.range is not None):
            raise ValueError("a number column needs a range; other columns take none")
        return self

    def choice_label(self, value: str) -> str:
        return next((c.label for c in self.choices if c.id == value), value)


class Mdc(_Strict):
    """A measure's minimal detectable change (in the item's unit): a change between two visits
    smaller than it is measurement noise. ``boundary`` says whether a change of exactly it counts
    as real (``at_least``) or must be larger (``more_than``); ``source`` cites the number."""

    points: float = Field(gt=0)
    boundary: Literal["at_least", "more_than"] = "at_least"
    source: str = Field(min_length=1)


class Item(_Strict):
    id: Identifier
    label: str = Field(min_length=1)
    help: str = ""
    # A shorter label for the note text pasted into the clinic's main record ("PSLR", "AKE").
    note_label: str | None = Field(default=None, min_length=1, max_length=40)
    type: ItemType
    unit: str = ""
    range: Range | None = None
    integer: bool = False
    choices: tuple[Choice, ...] = ()
    bilateral: bool = False
    symmetry: Symmetry | None = None
    max_length: int = Field(default=4000, ge=1)
    source: str = Field(min_length=1)
    # Copied into a re-evaluation? None: as the section says (see Form.carries_forward).
    carry_forward: bool | None = None
    # A score's minimal clinically important difference (in the item's unit) and which way is
    # better: progress charts draw the baseline ± MCID band (cite it in ``help``/``source``).
    mcid: float | None = Field(default=None, gt=0)
    better: Literal["higher", "lower"] = "higher"
    # A measure's MDC: the re-evaluation and discharge say "real change" only beyond it.
    mdc: Mdc | None = None
    # A ``rows`` item: its columns and how many rows it holds at most.
    columns: tuple[Column, ...] = ()
    max_rows: int = Field(default=30, ge=1, le=200)
    # A ``questionnaire`` item: which shipped questionnaire, and the number item its score fills.
    questionnaire: Identifier | None = None
    score_item: Identifier | None = None
    # Other words a clinician searches the item by ("slr", "nordic"): the command palette.
    synonyms: tuple[Annotated[str, Field(min_length=1, max_length=60)], ...] = ()
    # Answered by the patient record (sex, or the age band from the date of birth): filled in
    # when an evaluation starts, shown as such, still changeable (core/derived.py).
    from_patient: Literal["sex", "age_group"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Item:
        structured = (ItemType.ROWS, ItemType.QUESTIONNAIRE, ItemType.PROGRAM)
        if self.type in structured and self.bilateral:
            raise ValueError(f"a {self.type.value} item cannot be bilateral")
        if (self.type is ItemType.QUESTIONNAIRE) != (self.questionnaire is not None):
            raise ValueError("a questionnaire item names its questionnaire; other types take none")
        if self.from_patient is not None and self.type is not ItemType.CHOICE:
            raise ValueError("from_patient is only for choice items")
        if self.from_patient == "age_group" and any(c.ages is None for c in self.choices):
            raise ValueError("from_patient age_group needs 'ages' on every choice")
        if self.score_item is not None and self.type is not ItemType.QUESTIONNAIRE:
            raise ValueError("score_item is only for questionnaire items")
        if self.mcid is not None and (self.type not in NUMERIC_TYPES or self.bilateral):
            raise ValueError("mcid is only for one-sided numbers and scores")
        if self.mdc is not None and self.type not in NUMERIC_TYPES:
            raise ValueError("mdc is only for numbers and scores")
        if (self.type is ItemType.ROWS) != bool(self.columns):
            raise ValueError("a rows item needs columns; other types take none")
        if self.type is ItemType.ROWS and self.bilateral:
            raise ValueError("a rows item cannot be bilateral (give a side column instead)")
        column_ids = [c.id for c in self.columns]
        repeated = sorted({c for c in column_ids if column_ids.count(c) > 1})
        if repeated:
            raise ValueError(f"column id {repeated[0]!r} appears twice")
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
        mmt_symmetry = self.symmetry is not None and self.type is ItemType.MMT
        if mmt_symmetry and self.symmetry is not None and self.symmetry.method != "difference":
            raise ValueError("MMT grades are ordinal: compare them by difference in grades")
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


# Manual muscle test grades are ordinal (0, 1−, 1, 1+ … 4−, 4, 4+, 5). They are stored as numbers
# so that stored findings stay readable and "below 5/5" stays a plain threshold: a whole grade is
# the number itself, a plus grade is n + 0.5 (4+ is 4.5, as before minus grades existed) and a
# minus grade is n − 0.25 (4− is 3.75). The numbers only give the order; grades are compared in
# grades, never as a percentage or a ratio (see clinic_app.core.symmetry.grade_difference).
MMT_GRADES: tuple[tuple[float, str], ...] = tuple(
    sorted(
        {
            (0.0, "0"),
            (0.5, "0+"),
            *((n - 0.25, f"{n}−") for n in range(1, 6)),
            *((float(n), str(n)) for n in range(1, 6)),
            *((n + 0.5, f"{n}+") for n in range(1, 5)),
        }
    )
)
MMT_VALUES = frozenset(v for v, _ in MMT_GRADES)


def mmt_grade(value: float) -> str:
    """An MMT grade as clinicians write it (4.5 is ``4+``, 3.75 is ``4−``).

    The one place this convention is written down: the editor, the assessment's evidence lines
    and the reports all show grades through it. A value between grades shows the nearest lower
    grade (stored findings only ever hold grades: validation refuses anything else).
    """
    shown = MMT_GRADES[0][1]
    for grade, label in MMT_GRADES:
        if value + 1e-9 >= grade:
            shown = label
    return shown


def parse_mmt_grade(text: str) -> float | None:
    """The stored number of a grade typed as ``4-``, ``4−`` or ``4 +``; None if not a grade."""
    t = text.strip().replace(" ", "").replace("-", "−").replace("/5", "")
    return next((v for v, label in MMT_GRADES if label == t), None)


class Section(_Strict):
    """A page of the form. ``carry_forward`` is the default of its items (an item's own
    ``carry_forward`` wins): off for what is asked afresh at every visit (the red-flag screen,
    today's pain, symptom behaviour, today's assessment)."""

    id: Identifier
    title: str = Field(min_length=1)
    # What the editor's list of sections shows where the whole title does not fit.
    short_title: str | None = Field(default=None, min_length=1, max_length=24)
    help: str = ""
    carry_forward: bool = True
    items: tuple[Item, ...] = Field(min_length=1)
    # Which record shows the section: the evaluation (default), a visit note, or both. Any
    # evaluation item can still be re-measured in a visit note (the therapist picks it).
    record: Literal["evaluation", "visit", "both"] = "evaluation"
    # Items of other sections that this page shows too, before its own (a visit note's
    # subjective page asks today's pain, ``pain_now``, beside the visit's own questions).
    include: tuple[Identifier, ...] = ()
    # Where a visit note's page goes in the SOAP note text (None: by its place, see note_text).
    soap: Literal["S", "O", "A", "P"] | None = None
    # Answerable "all no" with one shortcut (a screen of yes/no questions, e.g. red flags):
    # only its unanswered yes/no items become "no", each still shown and changeable.
    all_no: bool = False


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
    # The indicator does not count when this holds (an SLR limited by nerve symptoms is no
    # flexibility deficit).
    unless: Condition | None = None


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
    # Labels of indicators of which at least one must fire before the rule is called the
    # source (or a cause): otherwise it is "possible, not confirmed", naming what would confirm.
    requires: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _reachable(self) -> Rule:
        if self.min_indicators > len(self.indicators):
            raise ValueError(
                f"min_indicators {self.min_indicators} is more than the "
                f"{len(self.indicators)} indicators listed"
            )
        if all(i.supporting_only for i in self.indicators):
            raise ValueError("every indicator is supporting_only, so the rule can never fire")
        labels = [i.label for i in self.indicators]
        unknown = [r for r in self.requires if r not in labels]
        if unknown:
            raise ValueError(f"requires {unknown[0]!r}, which is not an indicator label here")
        return self


class GoalTemplate(_Strict):
    """A goal a factor suggests (the therapist accepts, edits or ignores it).

    ``target`` is the measurable part, written like an indicator's test (``{item: nordic_force,
    measure: deficit, op: "<", threshold: 10}``); without it the goal is functional text.
    ``weeks``: the target date, counted from the episode's start.
    """

    term: Literal["short", "long"]
    text: str = Field(min_length=1, max_length=500)
    target: Leaf | None = None
    weeks: int = Field(ge=1, le=104)
    source: str = Field(min_length=1)


class Factor(Rule):
    id: str = Field(pattern=r"^F[0-9]+$")
    region: str = Field(min_length=1)
    goals: tuple[GoalTemplate, ...] = ()


class Pattern(Rule):
    id: str = Field(pattern=r"^P[0-9]+$")


class Urgency(enum.StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    SOON = "soon"


URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.SOON: 2}


class RunLevel(enum.StrEnum):
    GREEN = "green"
    NEXT_DAY = "next_day"
    STOP = "stop"
    RED_FLAG = "red_flag"


RUN_LEVEL_RANK = {RunLevel.RED_FLAG: 0, RunLevel.STOP: 1, RunLevel.NEXT_DAY: 2, RunLevel.GREEN: 3}


class Overrides(_Strict):
    """What a fired red flag decides whatever else was recorded (safety precedence, as data).

    ``running``: the running guidance becomes this level, with the flag as its reason, even when
    the run answers say green. ``handout``: ``emergency`` leaves only the emergency message,
    when to seek help and the clinic's contact on the patient handout (no exercises, tips or
    traffic light). ``exercise``: ``stop`` means no loading exercise until the flag has been
    checked: the program suggests none, and adding one asks the therapist to confirm
    (``core.program.safety_warnings``).
    """

    running: RunLevel | None = None
    handout: Literal["emergency"] | None = None
    exercise: Literal["stop"] | None = None


class RedFlag(_Strict):
    id: str = Field(pattern=r"^R[0-9]+$")
    name: str = Field(min_length=1)
    urgency: Urgency
    message: str = Field(min_length=1)
    plain: str = ""
    when: Condition
    sources: tuple[str, ...] = Field(min_length=1)
    advice: tuple[Identifier, ...] = ()
    overrides: Overrides = Field(default_factory=Overrides)


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

    def carries_forward(self, item_id: str) -> bool:
        """Whether a re-evaluation starts with this item's last value (marked as carried)."""
        item = self.items[item_id]
        if item.carry_forward is not None:
            return item.carry_forward
        return self.section_of(item_id).carry_forward

    def record_sections(self, record: Literal["evaluation", "visit"]) -> tuple[Section, ...]:
        """The sections an evaluation (or a visit note) shows, in form order."""
        return tuple(s for s in self.sections if s.record in (record, "both"))

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
