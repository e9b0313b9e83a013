"""Checks a form needs the whole document for, and turning parsed data into a :class:`Form`.

A per-field schema cannot see a rule naming an item that does not exist, a choice the item does
not offer, a source the ``sources`` table does not describe, or a body-chart region the chart
does not draw. Every problem is one ``place: problem`` line, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from clinic_app.core.body_chart import BodyChart
from clinic_app.core.form_schema import (
    NUMERIC_TYPES,
    AllOf,
    Condition,
    Form,
    FormError,
    ItemType,
    Leaf,
)

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


def check_leaf(form: Form, leaf: Leaf, path: str) -> list[str]:
    item = form.items.get(leaf.item)
    if item is None:
        return [f"{path}.item: unknown item {leaf.item!r}"]
    problems: list[str] = []
    if leaf.side is not None and not item.bilateral:
        problems.append(f"{path}.side: item {leaf.item!r} is not bilateral")
    if item.type is ItemType.MMT and leaf.measure in ("deficit", "lsi"):
        problems.append(
            f"{path}.measure: {leaf.measure} of item {leaf.item!r}: MMT grades are ordinal, "
            "compare them in grades (measure difference), never as a percentage"
        )
    elif leaf.measure != "value":
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
                where = f"{key}[{r_n}].indicators[{n}]"
                for leaf, path in _walk_conditions(ind.when, f"{where}.when"):
                    problems.extend(check_leaf(form, leaf, path))
                if ind.unless is not None:
                    for leaf, path in _walk_conditions(ind.unless, f"{where}.unless"):
                        problems.extend(check_leaf(form, leaf, path))
    for n, flag in enumerate(form.red_flags):
        for leaf, path in _walk_conditions(flag.when, f"red_flags[{n}].when"):
            problems.extend(check_leaf(form, leaf, path))
    for n, run in enumerate(form.running):
        for leaf, path in _walk_conditions(run.when, f"running[{n}].when"):
            problems.extend(check_leaf(form, leaf, path))
    if form.plan_section is not None and all(s.id != form.plan_section for s in form.sections):
        problems.append(f"plan_section: unknown section {form.plan_section!r}")
    problems.extend(_check_records(form))
    problems.extend(_check_sources(form))
    return problems


def _check_records(form: Form) -> list[str]:
    """Visit-note layout (``record``, ``include``) and the goals factors suggest."""
    problems: list[str] = []
    for s_n, section in enumerate(form.sections):
        for n, item_id in enumerate(section.include):
            where = f"sections[{s_n}].include[{n}]"
            if item_id not in form.items:
                problems.append(f"{where}: unknown item {item_id!r}")
            elif form.section_of(item_id).id == section.id:
                problems.append(f"{where}: item {item_id!r} is already in this section")
    problems.extend(_check_questionnaire_items(form))
    if form.plan_section is not None:
        plan = next((s for s in form.sections if s.id == form.plan_section), None)
        if plan is not None and plan.record == "visit":
            problems.append("plan_section: the evaluation's plan cannot be a visit-only section")
    for r_n, factor in enumerate(form.factors):
        for g_n, goal in enumerate(factor.goals):
            if goal.target is not None:
                where = f"factors[{r_n}].goals[{g_n}].target"
                problems.extend(check_leaf(form, goal.target, where))
    return problems


def _check_questionnaire_items(form: Form) -> list[str]:
    """A questionnaire item names a shipped questionnaire; its score item is a one-sided number."""
    from clinic_app.core.questionnaire import shipped_ids  # imports this module

    problems: list[str] = []
    known = shipped_ids()
    for s_n, section in enumerate(form.sections):
        for i_n, item in enumerate(section.items):
            if item.type is not ItemType.QUESTIONNAIRE:
                continue
            where = f"sections[{s_n}].items[{i_n}]"
            if item.questionnaire not in known:
                problems.append(
                    f"{where}.questionnaire: {item.questionnaire!r} is not a shipped "
                    f"questionnaire ({', '.join(known)})"
                )
            if item.score_item is None:
                continue
            target = form.items.get(item.score_item)
            if target is None:
                problems.append(f"{where}.score_item: unknown item {item.score_item!r}")
            elif target.type not in NUMERIC_TYPES or target.bilateral:
                problems.append(
                    f"{where}.score_item: {item.score_item!r} is not a one-sided number"
                )
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
    for r_n, factor in enumerate(form.factors):
        for g_n, goal in enumerate(factor.goals):
            yield f"factors[{r_n}].goals[{g_n}].source", goal.source
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
