"""The evaluation form: a declarative schema for measures, factor rules, patterns and red flags.

The whole clinical content of the app lives in a form file (``forms/*.yaml``). The form is split
over three modules, gathered here so that ``from clinic_app.core.form import ...`` is the one
import the rest of the app uses:

- :mod:`clinic_app.core.form_schema`: what a form file may contain (pydantic models that reject
  unknown keys);
- :mod:`clinic_app.core.form_checks`: the cross-references a per-field schema cannot see (a rule
  naming an item that does not exist, a choice the item does not offer, a source the ``sources``
  table does not describe, a body-chart region the chart does not draw);
- :mod:`clinic_app.core.form_loading`: reading a YAML file safely (depth, duplicate keys, alias
  bombs) before it is validated.

Every problem is reported as one line naming the file, the place in the document and the problem,
never as a traceback.
"""

from __future__ import annotations

from clinic_app.core.form_checks import (
    check_body_chart,
    citations,
    cited_sources,
    cross_check,
    parse_form,
)
from clinic_app.core.form_loading import MAX_EXPANDED_NODES, MAX_NESTING, load_form
from clinic_app.core.form_schema import (
    CATEGORICAL_VALUES,
    MMT_GRADES,
    MMT_VALUES,
    NUMERIC_TYPES,
    RUN_LEVEL_RANK,
    SET_TYPES,
    SIDES,
    URGENCY_RANK,
    AllOf,
    AnyOf,
    Choice,
    Column,
    Condition,
    Factor,
    Form,
    FormError,
    GoalTemplate,
    Identifier,
    Indicator,
    Item,
    ItemType,
    Leaf,
    Op,
    Overrides,
    Pattern,
    Range,
    RedFlag,
    Rule,
    RunLevel,
    RunRule,
    Section,
    Side,
    Source,
    SourceId,
    Symmetry,
    Urgency,
    mmt_grade,
    parse_mmt_grade,
)

__all__ = [
    "CATEGORICAL_VALUES",
    "MMT_GRADES",
    "MMT_VALUES",
    "MAX_EXPANDED_NODES",
    "MAX_NESTING",
    "NUMERIC_TYPES",
    "RUN_LEVEL_RANK",
    "SET_TYPES",
    "SIDES",
    "URGENCY_RANK",
    "AllOf",
    "AnyOf",
    "Choice",
    "Column",
    "Condition",
    "Factor",
    "Form",
    "FormError",
    "GoalTemplate",
    "Identifier",
    "Indicator",
    "Item",
    "ItemType",
    "Leaf",
    "Op",
    "Overrides",
    "Pattern",
    "Range",
    "RedFlag",
    "Rule",
    "RunLevel",
    "RunRule",
    "Section",
    "Side",
    "Source",
    "SourceId",
    "Symmetry",
    "Urgency",
    "check_body_chart",
    "citations",
    "cited_sources",
    "cross_check",
    "load_form",
    "mmt_grade",
    "parse_form",
    "parse_mmt_grade",
]
