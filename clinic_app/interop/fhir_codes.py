"""The code systems and units the FHIR export uses, and why each one is what it is.

Only codes that were checked are given in a standard system: SNOMED CT laterality (left
7771000, right 24028007, right and left 51440002), LOINC 72514-3 for a 0-10 numeric pain rating
(NPRS), UCUM units where the form's unit is one UCUM spells without doubt, and the FHIR/HL7
terminology codes the resources require (encounter class, statuses, signature type). Everything
else is a local code: the form item as ``urn:clinic-app:form:<form id>`` (code = item id), its
choices as ``urn:clinic-app:form:<form id>:<item id>``, the contributing factors, patterns and
red flags as ``urn:clinic-app:form:<form id>:rules``. No LOINC code for the LEFS or the PSFS
total or items was verified, so they are local codes too; a receiving system can map them.
"""

from __future__ import annotations

from typing import Any

from clinic_app.core.form import Item, ItemType

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
APP = "urn:clinic-app"
MRN_SYSTEM = f"{APP}:mrn"
RECORD_SYSTEM = f"{APP}:record"
KIND_SYSTEM = f"{APP}:record-kind"
DOCUMENT_SYSTEM = f"{APP}:document"
RULE_KIND_SYSTEM = f"{APP}:rule-kind"
GOAL_TERM_SYSTEM = f"{APP}:goal-term"
LICENCE_SYSTEM = f"{APP}:licence"
QUESTIONNAIRE_BASE = f"{APP}:questionnaire"

LATERALITY = {
    "left": (SNOMED, "7771000", "Left"),
    "right": (SNOMED, "24028007", "Right"),
    "both": (SNOMED, "51440002", "Right and left"),
}
NPRS_LOINC = (LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")

# The form's unit text -> its UCUM code. Only units with one obvious UCUM spelling; "reps",
# "of 5", "points" and the like have none and go as unit text only.
UCUM_UNITS = {
    "°": "deg",
    "N": "N",
    "N·m": "N.m",
    "s": "s",
    "min": "min",
    "h": "h",
    "h/day": "h/d",
    "days": "d",
    "weeks": "wk",
    "km/week": "km/wk",
    "%": "%",
    "cm": "cm",
    "kg": "kg",
}

ENCOUNTER_CLASS = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "code": "AMB",
    "display": "ambulatory",
}
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNATURE_TYPE = {
    "system": "urn:iso-astm:E1762-95:2013",
    "code": "1.2.840.10065.1.12.1.1",
    "display": "Author's Signature",
}


def form_system(form_id: str) -> str:
    return f"{APP}:form:{form_id}"


def choice_system(form_id: str, item_id: str) -> str:
    return f"{APP}:form:{form_id}:{item_id}"


def rules_system(form_id: str) -> str:
    return f"{APP}:form:{form_id}:rules"


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if display:
        out["text"] = display
    return out


def laterality(side: str) -> dict[str, Any]:
    system, code, display = LATERALITY[side]
    return {"coding": [coding(system, code, display)], "text": side}


def is_nprs(item: Item) -> bool:
    """The form's 0-10 pain ratings: scale items the form labels NPRS (data, not item ids)."""
    return item.type is ItemType.SCALE and "NPRS" in item.label


def item_code(form_id: str, item: Item) -> dict[str, Any]:
    """The Observation code of a form item: LOINC first for an NPRS rating, then the local
    code, which is always there so the item id survives any mapping."""
    codings = [coding(form_system(form_id), item.id, item.label)]
    if is_nprs(item):
        codings.insert(0, coding(*NPRS_LOINC))
    return {"coding": codings, "text": item.label}


def quantity(item: Item, value: float) -> dict[str, Any]:
    """A valueQuantity: UCUM when the unit maps cleanly, else the unit as text only."""
    number: float | int = int(value) if float(value).is_integer() else float(value)
    out: dict[str, Any] = {"value": number}
    if item.type is ItemType.SCALE:
        out.update(unit="{score}", system=UCUM, code="{score}")
    elif item.type is ItemType.MMT:
        out["unit"] = "MMT grade (0-5)"
    elif item.unit in UCUM_UNITS:
        out.update(unit=item.unit, system=UCUM, code=UCUM_UNITS[item.unit])
    elif item.unit:
        out["unit"] = item.unit
    return out
