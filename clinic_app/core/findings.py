"""Findings: the values a therapist recorded, by item id (and side), checked against the form.

A value is a number (number, scale, MMT), a string (choice, yes/no, positive/negative, text), a
sorted tuple of strings (multi, regions), :class:`Rows` (a ``rows`` item such as a visit's
interventions: a JSON list of objects keyed by column id), a questionnaire
:class:`~clinic_app.core.responses.Response` or a home
:class:`~clinic_app.core.program.Program`. A bilateral item holds ``{"left": v, "right": v}``
with either side optional. Missing values are normal: a therapist
records only what they test.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinic_app.core.form import (
    MMT_VALUES,
    NUMERIC_TYPES,
    SET_TYPES,
    SIDES,
    Column,
    Form,
    Item,
    ItemType,
    Side,
)
from clinic_app.core.program import Program, check_program
from clinic_app.core.responses import Response, check_response
from clinic_app.core.words import shown_number

Scalar = float | int | str


@dataclass(frozen=True)
class Rows:
    """The value of a ``rows`` item: each row maps column ids to a cell (blank cells left out)."""

    rows: tuple[Mapping[str, Scalar], ...]

    def plain(self) -> list[dict[str, Scalar]]:
        return [dict(r) for r in self.rows]


Value = Scalar | tuple[str, ...] | Rows | Response | Program
# Item types whose one-sided value is a JSON object (not a side mapping).
STRUCTURED_TYPES = frozenset({ItemType.ROWS, ItemType.QUESTIONNAIRE, ItemType.PROGRAM})
SidedValue = Mapping[Side, Value]


class FindingsError(ValueError):
    """Values that do not fit the form; ``problems`` names each item and value at fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Findings:
    """Validated values of one evaluation. Build with :func:`validate` or :meth:`from_json`."""

    form_id: str
    form_version: int
    values: Mapping[str, Value | SidedValue] = field(default_factory=dict)

    def get(self, item_id: str, side: Side | None = None) -> Value | None:
        raw = self.values.get(item_id)
        if raw is None:
            return None
        if isinstance(raw, Mapping):
            return None if side is None else raw.get(side)
        return raw if side is None else None

    def number(self, item_id: str, side: Side | None = None) -> float | None:
        v = self.get(item_id, side)
        return float(v) if isinstance(v, int | float) else None

    def sides(self, item_id: str) -> Mapping[Side, Value]:
        raw = self.values.get(item_id)
        return raw if isinstance(raw, Mapping) else {}

    def is_empty(self) -> bool:
        return not self.values

    def to_dict(self) -> dict[str, Any]:
        def plain(v: Value) -> Any:
            if isinstance(v, Rows | Response | Program):
                return v.plain()
            return list(v) if isinstance(v, tuple) else v

        values: dict[str, Any] = {}
        for k, v in self.values.items():
            values[k] = {s: plain(x) for s, x in v.items()} if isinstance(v, Mapping) else plain(v)
        return {"form": self.form_id, "form_version": self.form_version, "values": values}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=False)

    def with_value(
        self, form: Form, item_id: str, value: Any, side: Side | None = None
    ) -> Findings:
        """A copy with one value set (``None`` clears it), validated like any other input."""
        raw = self.to_dict()
        values = raw["values"]
        if side is None:
            if value is None:
                values.pop(item_id, None)
            else:
                values[item_id] = value
        else:
            sided = dict(values.get(item_id) or {})
            if value is None:
                sided.pop(side, None)
            else:
                sided[side] = value
            if sided:
                values[item_id] = sided
            else:
                values.pop(item_id, None)
        return validate(form, raw)


# Control characters a note cannot sensibly hold (NUL cannot even be stored on PostgreSQL);
# line breaks and tabs are normal in free text.
_REFUSED_CONTROLS = frozenset(chr(c) for c in (*range(0x20), 0x7F)) - {"\n", "\r", "\t"}


def _check_cell(column: Column, value: Any, where: str) -> tuple[Scalar | None, str | None]:
    """One cell of a ``rows`` item: blank text is no value; numbers within the column's range."""
    if value is None:
        return None, None
    if column.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, f"{where}: {value!r} is not a number"
        if isinstance(value, float) and not math.isfinite(value):
            return None, f"{where}: {value!r} is not a finite number"
        rng = column.range
        assert rng is not None
        unit = f" {column.unit}" if column.unit else ""
        if not rng.min <= value <= rng.max:
            shown, low, high = shown_number(value), shown_number(rng.min), shown_number(rng.max)
            return None, f"{where}: {shown}{unit} is outside {low}-{high}{unit}"
        if column.integer and value != int(value):
            return None, f"{where}: {shown_number(value)} must be a whole number"
        return (int(value) if column.integer else value), None
    if not isinstance(value, str):
        return None, f"{where}: {value!r} is not text"
    if column.type == "choice":
        allowed = [c.id for c in column.choices]
        if value not in allowed:
            return None, f"{where}: {value!r} is not one of {', '.join(allowed)}"
        return value, None
    control = next((c for c in value if c in _REFUSED_CONTROLS or c in "\n\r\t"), None)
    if control is not None:
        return None, f"{where}: contains a control character (U+{ord(control):04X})"
    text = value.strip()
    if len(text) > column.max_length:
        return None, f"{where}: text is {len(text)} characters, the limit is {column.max_length}"
    return (text or None), None


def _check_rows(item: Item, value: Any, where: str) -> tuple[Value | None, str | None]:
    """A ``rows`` value: a list of objects keyed by column id. An empty list is no value."""
    if isinstance(value, Rows):
        value = value.plain()
    if isinstance(value, str | Mapping) or not isinstance(value, list | tuple):
        return None, f"{where}: expected a list of rows ({', '.join(c.id for c in item.columns)})"
    if len(value) > item.max_rows:
        return None, f"{where}: {len(value)} rows, the limit is {item.max_rows}"
    columns = {c.id: c for c in item.columns}
    rows: list[Mapping[str, Scalar]] = []
    for n, raw in enumerate(value, 1):
        at = f"{where} row {n}"
        if not isinstance(raw, Mapping):
            return None, f"{at}: expected an object of column id to value"
        unknown = [k for k in raw if k not in columns]
        if unknown:
            return None, f"{at}: {str(unknown[0])[:40]!r} is not a column of {item.label}"
        row: dict[str, Scalar] = {}
        for column in item.columns:
            cell, problem = _check_cell(column, raw.get(column.id), f"{at} ({column.label})")
            if problem:
                return None, problem
            if cell is not None:
                row[column.id] = cell
        if not row:
            return None, f"{at}: the row is empty (remove it)"
        missing = [c.label for c in item.columns if c.required and c.id not in row]
        if missing:
            return None, f"{at}: {missing[0]} is required"
        rows.append(row)
    return (Rows(tuple(rows)) if rows else None), None


def _check_scalar(item: Item, value: Any, where: str) -> tuple[Value | None, str | None]:
    """Return the normalised value, or a problem naming the item and the value."""
    if value is None:
        return None, None
    if item.type is ItemType.ROWS:
        return _check_rows(item, value, where)
    if item.type is ItemType.QUESTIONNAIRE:
        return check_response(item, value, where)
    if item.type is ItemType.PROGRAM:
        return check_program(item, value, where)
    if item.type in NUMERIC_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, f"{where}: {value!r} is not a number"
        if isinstance(value, float) and not math.isfinite(value):
            return None, f"{where}: {value!r} is not a finite number"
        rng = item.value_range
        assert rng is not None
        unit = f" {item.unit}" if item.unit and item.unit != "°" else item.unit
        if not rng.min <= value <= rng.max:  # exact for ints of any size
            shown, low, high = shown_number(value), shown_number(rng.min), shown_number(rng.max)
            return None, f"{where}: {shown}{unit} is outside {low}-{high}{unit}"
        whole = item.integer or item.type is ItemType.SCALE
        if whole and value != int(value):
            return None, f"{where}: {shown_number(value)} must be a whole number"
        if item.type is ItemType.MMT and value not in MMT_VALUES:
            return None, f"{where}: {shown_number(value)} is not an MMT grade (0-5 with − and +)"
        return (int(value) if whole else value), None
    if item.type in SET_TYPES:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            return None, f"{where}: expected a list of {', '.join(item.allowed)}"
        bad = [v for v in value if not isinstance(v, str) or v not in item.allowed]
        if bad:
            return None, f"{where}: {bad[0]!r} is not one of {', '.join(item.allowed)}"
        return tuple(sorted(set(value), key=item.allowed.index)), None
    if not isinstance(value, str):
        return None, f"{where}: {value!r} is not text"
    if item.type is ItemType.TEXT:
        control = next((c for c in value if c in _REFUSED_CONTROLS), None)
        if control is not None:
            return None, f"{where}: contains a control character (U+{ord(control):04X})"
        if len(value) > item.max_length:
            return None, f"{where}: text is {len(value)} characters, the limit is {item.max_length}"
        return value, None
    if value not in item.allowed:
        return None, f"{where}: {value!r} is not one of {', '.join(item.allowed)}"
    return value, None


def check_value(item: Item, value: Any) -> Value | None:
    """One one-sided value of ``item`` (stored JSON shape) as findings hold it; FindingsError
    names the problem."""
    v, problem = _check_scalar(item, value, item.id)
    if problem:
        raise FindingsError([problem])
    return v


def validate(form: Form, data: Any) -> Findings:
    """Check raw findings (the JSON shape) against ``form``; FindingsError lists the problems."""
    if not isinstance(data, Mapping):
        raise FindingsError(
            ["findings: expected an object with 'form', 'form_version' and 'values'"]
        )
    problems: list[str] = []
    unknown_keys = sorted(set(data) - {"form", "form_version", "values"})
    if unknown_keys:
        problems.append(f"findings: unknown key {unknown_keys[0]!r}")
    form_id = data.get("form", form.id)
    if form_id != form.id:
        problems.append(f"form: findings are for form {form_id!r}, not {form.id!r}")
    version = data.get("form_version", form.version)
    if isinstance(version, bool) or not isinstance(version, int):
        problems.append(f"form_version: {version!r} is not a whole number")
        version = form.version
    raw_values = data.get("values", {})
    if not isinstance(raw_values, Mapping):
        raise FindingsError([*problems, "values: expected an object of item id to value"])
    values: dict[str, Value | SidedValue] = {}
    for item_id, raw in raw_values.items():
        item = form.items.get(item_id)
        if item is None:
            problems.append(f"{item_id}: no such item in form {form.id!r} version {form.version}")
            continue
        if item.bilateral:
            if raw is None:
                continue
            if not isinstance(raw, Mapping):
                problems.append(
                    f"{item_id}: {item.label} is recorded per side; give "
                    '{"left": ..., "right": ...}'
                )
                continue
            extra = [k for k in raw if k not in SIDES]
            if extra:
                problems.append(f"{item_id}: {extra[0]!r} is not a side (left or right)")
                continue
            sided: dict[Side, Value] = {}
            for side in SIDES:
                v, problem = _check_scalar(item, raw.get(side), f"{item_id} ({side})")
                if problem:
                    problems.append(problem)
                elif v is not None:
                    sided[side] = v
            if sided:
                values[item_id] = sided
        else:
            if isinstance(raw, Mapping) and item.type not in STRUCTURED_TYPES:
                problems.append(f"{item_id}: {item.label} is one-sided; a side cannot be given")
                continue
            v, problem = _check_scalar(item, raw, item_id)
            if problem:
                problems.append(problem)
            elif v is not None:
                values[item_id] = v
    if problems:
        raise FindingsError(problems)
    return Findings(form_id=form.id, form_version=int(version), values=values)


def empty(form: Form) -> Findings:
    return Findings(form_id=form.id, form_version=form.version, values={})


def from_json(form: Form, text: str) -> Findings:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise FindingsError([f"{where}: invalid JSON: {exc.msg}"]) from None
    except RecursionError:
        raise FindingsError(["invalid JSON: nested too deeply"]) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python will convert
        raise FindingsError([f"invalid JSON: {exc}"]) from None
    return validate(form, data)


def load(form: Form, path: Path | str) -> Findings:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FindingsError([f"{path}: cannot read the file ({exc.__class__.__name__})"]) from None
    try:
        return from_json(form, text)
    except FindingsError as err:
        raise FindingsError([f"{path}: {p}" for p in err.problems]) from None
