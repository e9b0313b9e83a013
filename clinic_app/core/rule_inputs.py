"""Which items the assessment reads, so a screen can tell when an edit cannot change it.

``core.engine.assess`` reads the items named in the form's factor, pattern, red-flag and running
conditions (including the ``per`` item of a ratio and the ``unless`` conditions), the painful-side
item, and every bilateral number (the side-to-side list). An edit of anything else (free text, a
choice no rule names) leaves the assessment exactly as it was: the editor's live panel need not
compute it again on every keystroke of a plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from clinic_app.core.form_schema import NUMERIC_TYPES, AllOf, AnyOf, Condition, Form, Leaf


def _leaves(cond: Condition | None) -> Iterable[Leaf]:
    if cond is None:
        return
    if isinstance(cond, Leaf):
        yield cond
    elif isinstance(cond, AllOf):
        for c in cond.all:
            yield from _leaves(c)
    elif isinstance(cond, AnyOf):
        for c in cond.any:
            yield from _leaves(c)


def assessment_inputs(form: Form) -> frozenset[str]:
    """The ids of every item whose value the assessment of ``form`` depends on."""
    ids = {form.involved_side_item}
    conditions: list[Condition | None] = []
    for rule in (*form.factors, *form.patterns):
        for indicator in rule.indicators:
            conditions += [indicator.when, indicator.unless]
    conditions += [rf.when for rf in form.red_flags]
    conditions += [run.when for run in form.running]
    for leaf in (leaf for c in conditions for leaf in _leaves(c)):
        ids.add(leaf.item)
        if leaf.per is not None:
            ids.add(leaf.per)
    ids.update(i.id for i in form.items.values() if i.bilateral and i.type in NUMERIC_TYPES)
    return frozenset(ids)


def inputs_key(values: Any, inputs: frozenset[str]) -> tuple[tuple[str, Any], ...]:
    """The part of a findings ``values`` mapping the assessment reads, comparable with ``==``."""
    return tuple((k, values[k]) for k in sorted(inputs) if k in values)
