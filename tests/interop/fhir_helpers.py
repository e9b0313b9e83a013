"""Reading an exported bundle back: resources by type, Observations as (record, item, side)
values, and the bundle with its volatile fields masked for the stored expected file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from clinic_app.core import engine
from clinic_app.core import findings as findings_mod
from clinic_app.core.findings import Rows
from clinic_app.core.form import Form, ItemType
from clinic_app.core.program import Program
from clinic_app.core.responses import Response
from clinic_app.interop import fhir_codes as codes

INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT")
UUID = re.compile(r"urn:uuid:[0-9a-f-]{36}")
# Keys whose values change from run to run whatever the record: the PDF's bytes, the seal's
# signature (its key is made per data folder), the bundle's own identifier.
VOLATILE_KEYS = frozenset({"data", "size", "hash"})


def resources(bundle: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def by_url(bundle: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def record_of(bundle: Mapping[str, Any]) -> dict[str, int]:
    """Encounter full URL -> record (evaluation) id."""
    return {
        e["fullUrl"]: int(e["resource"]["identifier"][0]["value"])
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Encounter"
    }


def observation_value(obs: Mapping[str, Any]) -> Any:
    if "valueQuantity" in obs:
        return float(obs["valueQuantity"]["value"])
    if "valueBoolean" in obs:
        return "yes" if obs["valueBoolean"] else "no"
    if "valueCodeableConcept" in obs:
        return obs["valueCodeableConcept"]["coding"][0]["code"]
    if "component" in obs:
        return tuple(c["code"]["coding"][0]["code"] for c in obs["component"])
    return obs["valueString"]


def observations(bundle: Mapping[str, Any], form_id: str) -> dict[tuple[int, str, str], Any]:
    """(record id, item id, side or "") -> value, for every Observation of the bundle."""
    records = record_of(bundle)
    out: dict[tuple[int, str, str], Any] = {}
    for obs in resources(bundle, "Observation"):
        record = records[obs["encounter"]["reference"]]
        local = [c for c in obs["code"]["coding"] if c["system"] == codes.form_system(form_id)]
        assert len(local) == 1, obs["code"]
        side = obs.get("bodySite", {}).get("text", "")
        key = (record, local[0]["code"], side)
        assert key not in out, f"two Observations for {key}"
        out[key] = observation_value(obs)
    return out


def expected_observations(form: Form, stored: Mapping[str, Any], record: int) -> dict[Any, Any]:
    """What the bundle must hold for one stored record's findings."""
    found = findings_mod.validate(form, dict(stored))
    out: dict[tuple[int, str, str], Any] = {}
    for item in form.items.values():
        raw = found.values.get(item.id)
        if raw is None or raw == "" or isinstance(raw, Response):
            continue
        pairs = list(raw.items()) if isinstance(raw, Mapping) else [("", raw)]
        for side, value in pairs:
            if isinstance(value, Rows | Program):
                value = engine.format_value(item, value)
            elif isinstance(value, tuple):
                value = value or "none"
            elif item.type in (ItemType.NUMBER, ItemType.SCALE, ItemType.MMT):
                value = float(value)
            out[(record, item.id, side)] = value
    return out


def masked(bundle: Any) -> Any:
    """The bundle with ids numbered by first appearance and volatile values replaced."""
    numbers: dict[str, str] = {}

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if key in VOLATILE_KEYS:
            return "<volatile>"
        if isinstance(value, str):
            if INSTANT.match(value):
                return "<instant>"
            if key == "id" and re.fullmatch(r"[0-9a-f-]{36}", value):
                value = f"urn:uuid:{value}"
                return numbers.setdefault(value, f"#{len(numbers) + 1}").replace("urn:uuid:", "")
            return UUID.sub(lambda m: numbers.setdefault(m.group(0), f"#{len(numbers) + 1}"), value)
        return value

    out = walk(bundle)
    out["identifier"] = "<volatile>"
    return out
