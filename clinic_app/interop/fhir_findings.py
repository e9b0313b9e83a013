"""One record's findings as FHIR resources: an Observation per finding, a
QuestionnaireResponse per questionnaire answered.

A bilateral item gives one Observation per recorded side, each with its SNOMED CT laterality in
``bodySite``: the side is part of the finding, as it is in the CSV export (one row per item and
side), so a receiving system never has to take a left/right pair apart.

Values by item type: numbers, scales and MMT grades as ``valueQuantity`` (UCUM where the unit
maps cleanly); choices and positive/negative as ``valueCodeableConcept`` in the item's local
code system; yes/no as ``valueBoolean``; several choices (``multi``, body-chart regions) as one
``component`` per chosen value; free text as ``valueString``. A visit's interventions (``rows``)
and the home program (``program``) go as ``valueString``, one line as the notes print them:
FHIR has no resource that holds either without inventing codes (a Procedure per intervention
row, a CarePlan activity per exercise would need codes nobody verified), and the signed PDF in
the DocumentReference keeps every detail. A questionnaire's answers become a
QuestionnaireResponse (item by item, the PSFS activities in the patient's words); the score the
form keeps in ``score_item`` stays an Observation, ``derivedFrom`` that response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from clinic_app.core import engine
from clinic_app.core.findings import Findings, Rows
from clinic_app.core.form import SIDES, Form, Item, ItemType, mmt_grade
from clinic_app.core.program import Program
from clinic_app.core.responses import Response, questionnaire_of, score_of
from clinic_app.interop import fhir_codes as codes

# key -> (full URL): the bundle's builder hands out deterministic references.
Add = Callable[[str, dict[str, Any]], str]


@dataclass
class RecordContext:
    """What every resource of one record refers to."""

    record_id: int
    day: str  # the record's date, ISO
    final: bool  # signed: "final"; a draft: "preliminary"
    patient: str
    encounter: str
    performer: str | None
    carried: frozenset[str] = frozenset()
    # item id -> the full URLs of its Observations (both sides), for evidence and provenance
    observations: dict[str, list[str]] = field(default_factory=dict)
    responses: list[str] = field(default_factory=list)


def value_part(form_id: str, item: Item, value: Any) -> dict[str, Any]:
    """The ``value[x]`` (or ``component``) of an Observation for one recorded value."""
    if isinstance(value, Rows | Program):
        return {"valueString": engine.format_value(item, value)}
    if isinstance(value, tuple):
        if not value:
            return {"valueString": "none"}
        system = codes.choice_system(form_id, item.id)
        return {
            "component": [
                {
                    "code": codes.concept(system, v, item.choice_label(v)),
                    "valueBoolean": True,
                }
                for v in value
            ]
        }
    if isinstance(value, str):
        if item.type is ItemType.TEXT:
            return {"valueString": value}
        if item.type is ItemType.YESNO:
            return {"valueBoolean": value == "yes"}
        system = codes.choice_system(form_id, item.id)
        return {"valueCodeableConcept": codes.concept(system, value, item.choice_label(value))}
    return {"valueQuantity": codes.quantity(item, value)}


def _observation(
    form: Form, item: Item, value: Any, ctx: RecordContext, side: str | None
) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final" if ctx.final else "preliminary",
        "code": codes.item_code(form.id, item),
        "subject": {"reference": ctx.patient},
        "encounter": {"reference": ctx.encounter},
        "effectiveDateTime": ctx.day,
        **value_part(form.id, item, value),
    }
    if ctx.performer:
        obs["performer"] = [{"reference": ctx.performer}]
    if side is not None:
        obs["bodySite"] = codes.laterality(side)
    if item.help:
        obs["method"] = {"text": item.help}
    notes = []
    if item.type is ItemType.MMT and isinstance(value, int | float):
        notes.append(f"Grade {mmt_grade(value)}/5")
    if item.id in ctx.carried:
        notes.append("Carried forward from an earlier record and not re-tested since.")
    if notes:
        obs["note"] = [{"text": n} for n in notes]
    return obs


def _text(text: Any, language: str) -> str:
    """A questionnaire text in the response's language (else English, else any)."""
    if isinstance(text, Mapping):
        return str(text.get(language) or text.get("en") or next(iter(text.values()), ""))
    return str(text)


def _response(
    form: Form, item: Item, value: Response, ctx: RecordContext, practitioner: str | None
) -> dict[str, Any]:
    q = questionnaire_of(value.questionnaire)
    answers = value.parsed()
    scored = score_of(value)
    items = []
    for q_item in q.items:
        given = answers.values.get(q_item.id)
        if given is None:
            continue
        entry: dict[str, Any] = {
            "linkId": q_item.id,
            "text": answers.activities.get(q_item.id) or _text(q_item.text, value.language),
            "answer": [{"valueInteger": given}],
        }
        items.append(entry)
    out: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{codes.QUESTIONNAIRE_BASE}:{q.id}|{q.version}",
        "status": "completed" if scored.complete else "in-progress",
        "subject": {"reference": ctx.patient},
        "encounter": {"reference": ctx.encounter},
        "authored": ctx.day,
        "language": value.language,
        "identifier": {"system": codes.form_system(form.id), "value": item.id},
    }
    source = ctx.patient if value.reported_by == "patient" else practitioner
    if source:
        out["source"] = {"reference": source}
    if items:
        out["item"] = items
    return out


def record_resources(
    form: Form, findings: Findings, ctx: RecordContext, add: Add, key: str
) -> None:
    """Add the Observations and QuestionnaireResponses of one record (form order)."""
    responses: dict[str, str] = {}  # score item id -> the response it is derived from
    for item in form.items.values():
        raw = findings.values.get(item.id)
        if isinstance(raw, Response):
            url = add(f"{key}/qr/{item.id}", _response(form, item, raw, ctx, ctx.performer))
            ctx.responses.append(url)
            if item.score_item:
                responses[item.score_item] = url
    for item in form.items.values():
        raw = findings.values.get(item.id)
        if raw is None or raw == "" or isinstance(raw, Response):
            continue  # blank text is no finding (FHIR has no empty strings either)
        sides: list[tuple[str | None, Any]]
        if isinstance(raw, Mapping):
            sides = [(s, raw[s]) for s in SIDES if raw.get(s) is not None]
        else:
            sides = [(None, raw)]
        for side, value in sides:
            obs = _observation(form, item, value, ctx, side)
            if item.id in responses:
                obs["derivedFrom"] = [{"reference": responses[item.id]}]
            url = add(f"{key}/obs/{item.id}/{side or 'one'}", obs)
            ctx.observations.setdefault(item.id, []).append(url)
