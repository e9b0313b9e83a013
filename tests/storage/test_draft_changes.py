"""An autosave checks only the values that differ from the stored draft (records/draft_changes).

The shortcut must store exactly what checking every value would store, refuse exactly what it
would refuse, and name the same changed items: hypothesis compares the two on findings made from
the shipped vignettes with values swapped, retyped, removed, broken and added.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic_app.core import findings as findings_mod
from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage.errors import StorageError
from clinic_app.storage.records._common import canonical
from clinic_app.storage.records.draft_changes import changed_findings, same_json

VIGNETTES = Path(__file__).resolve().parent.parent / "core" / "vignettes"


@cache
def shipped_form() -> Form:
    return load_form(default_form_path())


@pytest.fixture(scope="module")
def form() -> Form:
    return shipped_form()


@cache
def _shipped_vignettes() -> tuple[dict[str, Any], ...]:
    return tuple(_vignettes(shipped_form()))


def _vignettes(form: Form) -> list[dict[str, Any]]:
    out = []
    for path in sorted(VIGNETTES.glob("*.json")):
        try:
            out.append(findings_mod.load(form, path).to_dict())
        except findings_mod.FindingsError:
            continue  # a vignette of another form version
    return out


def reference(form: Form, stored: dict[str, Any], raw: Any) -> tuple[dict[str, Any], list[str]]:
    """What save_draft did before the shortcut: check every value, compare every value."""
    checked = findings_mod.validate(form, raw)
    if checked.form_version != form.version:
        raise StorageError("another form version")
    new = checked.to_dict()
    old_values, new_values = stored["values"], new["values"]
    changed = sorted(
        k
        for k in set(old_values) | set(new_values)
        if canonical(old_values.get(k)) != canonical(new_values.get(k))
    )
    return new, changed


def outcome(fn: Any) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except findings_mod.FindingsError as err:
        return "refused", sorted(err.problems)
    except StorageError:
        return "storage", None


def twisted(value: Any) -> list[Any]:
    """Values a careless caller might send for ``value``: same in Python, not in JSON, or wrong."""
    out: list[Any] = [None, "", "garbage", -1, 10**30, math.inf, [], {}, {"left": value}]
    if isinstance(value, bool):
        out.append(int(value))
    elif isinstance(value, int):
        out += [float(value), bool(value), str(value), value + 1]
    elif isinstance(value, float) and math.isfinite(value):
        out += [int(value), -value, value + 0.5]
    elif isinstance(value, list):
        out += [
            list(reversed(value)),
            tuple(value),
            value[:1],
            [*value, value[0] if value else "x"],
        ]
    elif isinstance(value, dict):
        out += [dict(reversed(list(value.items()))), {**value, "middle": 1}]
        out += [{side: v, **{s: None for s in value if s != side}} for side, v in value.items()]
    return out


@st.composite
def drafts(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    form = shipped_form()  # not an argument: hypothesis would print the whole form
    sources = _shipped_vignettes()
    stored = draw(st.sampled_from(sources))
    values = dict(stored["values"])
    pool: dict[str, list[Any]] = {}
    for source in sources:
        for key, value in source["values"].items():
            pool.setdefault(key, []).append(value)
    keys = sorted(pool)
    for _ in range(draw(st.integers(0, 6))):
        key = draw(st.sampled_from([*keys, "no_such_item"]))
        action = draw(st.sampled_from(["valid", "valid", "twist", "delete"]))
        if action == "delete":
            values.pop(key, None)
        elif action == "valid" and key in pool:
            values[key] = draw(st.sampled_from(pool[key]))
        else:
            values[key] = draw(st.sampled_from(twisted(values.get(key, pool.get(key, [1])[0]))))
    raw: dict[str, Any] = {**stored, "values": values}
    top = draw(st.sampled_from(["same"] * 6 + ["version", "form", "extra", "no_values"]))
    if top == "version":
        raw["form_version"] = form.version + 1
    elif top == "form":
        raw["form"] = "another_form"
    elif top == "extra":
        raw["surprise"] = True
    elif top == "no_values":
        raw["values"] = "not an object"
    return stored, raw


def test_the_shortcut_stores_and_refuses_what_checking_everything_would(form: Form) -> None:
    @settings(
        max_examples=400,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(drafts())
    def check(case: tuple[dict[str, Any], Any]) -> None:
        stored, raw = case
        expected = outcome(lambda: reference(form, stored, json.loads(json.dumps(raw))))
        got = outcome(lambda: changed_findings(form, stored, json.loads(json.dumps(raw))))
        if expected[0] == "ok" and got[0] == "ok":
            new, changed = expected[1]
            assert canonical(got[1].findings) == canonical(new)
            assert list(got[1].changed_items) == changed
        else:
            assert got == expected

    check()


def test_a_findings_object_and_its_dict_give_the_same_result(form: Form) -> None:
    stored, other = _vignettes(form)[:2]
    typed = findings_mod.validate(form, other)
    assert changed_findings(form, stored, typed) == changed_findings(form, stored, other)


def test_an_unchanged_draft_changes_nothing_and_keeps_every_stored_value(form: Form) -> None:
    stored = _vignettes(form)[0]
    result = changed_findings(form, stored, json.loads(json.dumps(stored)))
    assert result.changed_items == ()
    assert canonical(result.findings) == canonical(stored)


def test_a_wrong_value_among_unchanged_ones_is_named_and_only_it(form: Form) -> None:
    stored = _vignettes(form)[0]
    number = next(k for k, v in stored["values"].items() if type(v) is int)
    raw = json.loads(json.dumps(stored))
    raw["values"][number] = 10**9
    with pytest.raises(findings_mod.FindingsError) as caught:
        changed_findings(form, stored, raw)
    assert [p.split(":")[0] for p in caught.value.problems] == [number]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (1, 1, True),
        (1, 1.0, False),  # "1" and "1.0" in the stored JSON
        (True, 1, False),
        (0.0, -0.0, False),
        (0.5, 0.5, True),
        (math.nan, math.nan, False),  # left to the canonical comparison
        ("a", "a", True),
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["b", "a"], False),
        ({"left": 1, "right": 2}, {"right": 2, "left": 1}, True),
        ({"left": 1}, {"left": 1, "right": None}, False),
        ([{"x": 1}], [{"x": 1.0}], False),
        (None, None, True),
    ],
)
def test_same_json_is_strict(a: Any, b: Any, same: bool) -> None:
    assert same_json(a, b) is same
    if same:
        assert canonical(a) == canonical(b)


@pytest.mark.parametrize(("stored_value", "sent"), [(1, True), (0, False), (3, 3.0), (3, "3")])
def test_a_value_equal_only_in_python_is_checked_like_any_other(
    form: Form, stored_value: Any, sent: Any
) -> None:
    """``True == 1`` in Python: a bool sent for a stored 1 must still meet the form's check."""
    stored = json.loads(json.dumps(_vignettes(form)[0]))
    item = next(i.id for i in form.items.values() if i.type.value == "scale" and not i.bilateral)
    stored["values"][item] = stored_value
    stored = findings_mod.validate(form, stored).to_dict()
    raw = json.loads(json.dumps(stored))
    raw["values"][item] = sent
    expected = outcome(lambda: reference(form, stored, raw))
    got = outcome(lambda: changed_findings(form, stored, raw))
    if expected[0] == "ok":
        assert got[0] == "ok"
        assert canonical(got[1].findings) == canonical(expected[1][0])
        assert list(got[1].changed_items) == expected[1][1]
    else:
        assert got == expected


def test_every_autosave_leaves_the_newest_audit_event_mirrored(form: Form, tmp_path: Path) -> None:
    """The mirror of the last committed state (storage/state.py) follows each save without
    reading the audit trail back; a save with nothing new does not rewrite it."""
    import os
    import sqlite3
    import stat

    from clinic_app.storage import records as r
    from clinic_app.storage import state
    from clinic_app.storage.database import open_database

    path = tmp_path / "clinic.db"
    db = open_database(f"sqlite:///{path}", backup=False)
    try:
        patient = r.create_patient(db, r.PatientFields("Ada", "Lovelace", mrn="A-1"), user="t")
        ev = r.start_evaluation(db, patient.id, form, user="t", copy_forward=False)
        findings = findings_mod.empty(form)
        version = ev.version
        item = next(i for i in form.items.values() if i.type.value == "scale" and not i.bilateral)

        def newest() -> state.State:
            with sqlite3.connect(path) as conn:
                row = conn.execute("SELECT id, hash FROM audit_event ORDER BY id DESC").fetchone()
            return state.State(int(row[0]), str(row[1]))

        for n in range(5):
            findings = findings.with_value(form, item.id, n % 3 + 1)
            version = r.save_draft(db, ev.id, findings, version, user="t").version
            assert state.recorded(path) == newest()
        mirror = state.state_file(path)
        before = mirror.stat().st_mtime_ns, newest()
        assert not r.save_draft(db, ev.id, findings, version, user="t").changed
        assert (mirror.stat().st_mtime_ns, newest()) == before
        assert stat.S_IMODE(mirror.stat().st_mode) == 0o600
        assert stat.S_IMODE(os.stat(mirror.parent).st_mode) == 0o700
    finally:
        db.close()
