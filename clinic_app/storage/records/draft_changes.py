"""What an autosave changes: the new findings of a draft checked against what is stored.

Autosave runs every few seconds while a therapist types, and usually one value differs from the
stored draft. Checking all ~110 values against the form and serialising each one to compare
cost ~1 ms a save (issue 11's benchmark). The stored values were checked against this same
form (the evaluation's snapshot) when they were saved, so only the values that differ need the
check: :func:`changed_findings` finds them with a strict JSON comparison, checks just those
with :func:`clinic_app.core.findings.validate` (one way to check a value, here too), and keeps
the stored value for the rest. The result equals checking everything (a test compares the two
on generated findings).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clinic_app.core import findings as findings_mod
from clinic_app.core.form import Form
from clinic_app.storage.errors import StorageError
from clinic_app.storage.records._common import canonical


@dataclass(frozen=True)
class ChangedFindings:
    """The findings to store (JSON shape) and the ids of the items whose value changed."""

    findings: dict[str, Any]
    changed_items: tuple[str, ...]


def same_json(a: Any, b: Any) -> bool:
    """True only when ``a`` and ``b`` serialise to the same canonical JSON (False may still be
    the same: the caller then compares the canonical text). Types must match exactly: ``1``,
    ``1.0`` and ``True`` are equal in Python but not in the stored JSON."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(v, b[k]) for k, v in a.items())
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return bool(a == b)


def changed_findings(
    form: Form,
    stored: Mapping[str, Any],
    data: Mapping[str, Any] | findings_mod.Findings,
) -> ChangedFindings:
    """``data`` (``Findings`` or its ``to_dict()`` shape) checked against ``form`` where it
    differs from ``stored`` (the draft's findings as saved). Raises FindingsError for a value
    the form does not accept, StorageError for findings of another form version."""
    raw = data.to_dict() if isinstance(data, findings_mod.Findings) else data
    raw_values = raw.get("values", {}) if isinstance(raw, Mapping) else None
    if not isinstance(raw_values, Mapping):
        findings_mod.validate(form, raw)  # raises, naming what is wrong with the shape
        raise AssertionError("validate accepted findings without a values object")
    old_values: Mapping[str, Any] = stored.get("values", {})
    differing = [
        k
        for k in {**old_values, **raw_values}
        if k not in form.items or not same_json(old_values.get(k), raw_values.get(k))
    ]
    # The top-level keys (form, version, anything unknown) are checked as always.
    checked = findings_mod.validate(
        form, {**raw, "values": {k: raw_values[k] for k in differing if k in raw_values}}
    )
    if checked.form_version != form.version:
        raise StorageError(
            f"findings are for version {checked.form_version} of form {form.id}, "
            f"the evaluation uses version {form.version}"
        )
    out = checked.to_dict()
    new_values: dict[str, Any] = out["values"]
    changed = tuple(
        sorted(k for k in differing if canonical(old_values.get(k)) != canonical(new_values.get(k)))
    )
    kept = {k: v for k, v in old_values.items() if k not in new_values and k not in differing}
    out["values"] = {**kept, **new_values}
    return ChangedFindings(out, changed)
