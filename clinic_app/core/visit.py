"""What a visit note (daily note) shows, derived from the form.

A visit note is recorded with the same form as the evaluations of its episode, so a value
re-measured in a visit is the same finding, with the same field type, validation and rules, as in
the evaluation. The form marks which sections an evaluation shows and which a visit note shows
(``Section.record``); a visit note also shows the evaluation items the therapist chose to
re-measure, on one page of their own. Nothing here names a measure: the form decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from clinic_app.core.form import Form, Item, Section

REMEASURED_SECTION = "remeasured"
REMEASURED_TITLE = "Re-measured today"


def evaluation_sections(form: Form) -> tuple[Section, ...]:
    """The pages of an evaluation (initial, re-evaluation, discharge)."""
    return form.record_sections("evaluation")


def _visit_item_ids(form: Form) -> set[str]:
    """Items a visit note asks anyway: its own sections' items and the ones they include."""
    ids: set[str] = set()
    for section in form.record_sections("visit"):
        ids.update(i.id for i in section.items)
        ids.update(section.include)
    return ids


def remeasurable_items(form: Form) -> tuple[Item, ...]:
    """Evaluation items a visit note can re-measure, in form order.

    Everything an evaluation records except its assessment-and-plan page (a visit has its own)
    and what the visit's pages already ask.
    """
    asked = _visit_item_ids(form)
    out: list[Item] = []
    for section in evaluation_sections(form):
        if section.id == form.plan_section or section.record == "both":
            continue
        out.extend(i for i in section.items if i.id not in asked)
    return tuple(out)


def remeasured_in(form: Form, values: Mapping[str, Any]) -> tuple[str, ...]:
    """The re-measurable items a visit's stored values hold, in form order."""
    return tuple(i.id for i in remeasurable_items(form) if i.id in values)


def visit_sections(form: Form, remeasured: Iterable[str] = ()) -> tuple[Section, ...]:
    """The pages of a visit note: the form's visit sections (each with the items it includes,
    first) and, after the first of them, a page of the items being re-measured today.

    ``remeasured`` names evaluation items (unknown or non-re-measurable ids are ignored); the page
    is left out while none is chosen.
    """
    chosen = set(remeasured)
    picked = tuple(i for i in remeasurable_items(form) if i.id in chosen)
    pages: list[Section] = []
    for n, section in enumerate(form.record_sections("visit")):
        included = tuple(form.item(i) for i in section.include)
        pages.append(section.model_copy(update={"items": included + section.items, "include": ()}))
        if n == 0 and picked:
            pages.append(_remeasured_page(picked))
    if not pages and picked:
        pages.append(_remeasured_page(picked))
    return tuple(pages)


def _remeasured_page(items: tuple[Item, ...]) -> Section:
    return Section(
        id=REMEASURED_SECTION,
        title=REMEASURED_TITLE,
        help="Measures taken again today; the last value and its date are shown beside each.",
        carry_forward=False,
        items=items,
        record="visit",
    )


def search_items(form: Form, text: str, limit: int = 20) -> tuple[Item, ...]:
    """Re-measurable items whose label, id or section title contains every word of ``text``."""
    words = text.casefold().split()
    if not words:
        return ()
    found: list[Item] = []
    for item in remeasurable_items(form):
        hay = f"{item.label} {item.id.replace('_', ' ')} {form.section_of(item.id).title}"
        if all(w in hay.casefold() for w in words):
            found.append(item)
            if len(found) >= limit:
                break
    return tuple(found)
