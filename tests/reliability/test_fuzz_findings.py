"""Fuzzed findings JSON through ``validate`` and ``clinic-app assess``: refused cleanly, or kept.

Hypothesis builds findings for the shipped form -- real item ids with values of every JSON type
(huge integers, NaN, nested lists, wrong sides, unknown ids) and raw text that may not be JSON at
all. ``validate`` must either accept them (and then validating its own output changes nothing) or
raise FindingsError whose every line starts with the place at fault (an item id given in the input,
or the top-level key). ``clinic-app assess FILE`` must exit 0 or 2 with no traceback.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from clinic_app.cli import main as cli_main
from clinic_app.core.findings import Findings, FindingsError, from_json, validate
from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path

FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: a failure is reported as found, and CI time stays bounded when one is found.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Each ``clinic-app assess`` loads the shipped form (~0.2 s).
FUZZ_CLI = settings(FUZZ, max_examples=30)
FORM: Form = load_form(default_form_path())
ITEM_IDS = sorted(FORM.items)
GENERAL = ("findings", "form", "form_version", "values")

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["left", "right", "both", "yes", "no", "positive", "negative", "4+", ""]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["left", "right", "both", "x"]), inner, max_size=3),
    ),
    max_leaves=8,
)
item_keys = st.one_of(st.sampled_from(ITEM_IDS), st.text(min_size=1, max_size=12))
findings_data = st.fixed_dictionaries(
    {"values": st.dictionaries(item_keys, json_values, max_size=6)},
    optional={
        "form": st.one_of(st.just(FORM.id), st.text(max_size=10), st.integers()),
        "form_version": st.one_of(st.just(FORM.version), json_scalars),
        "extra": json_scalars,
    },
)


def _outcome(check: Any, data: Any) -> tuple[Findings | None, FindingsError | None]:
    """(findings, None) if accepted, (None, error) if refused; anything else propagates."""
    try:
        return check(FORM, data), None
    except FindingsError as err:
        return None, err


def _located(problem: str, data: Any) -> bool:
    """True if a problem line starts with a place the person can find in their input."""
    keys = list(data.get("values", {})) if isinstance(data, dict) else []
    places = [*keys, *GENERAL]
    return problem.startswith("line ") or any(
        problem.startswith(f"{place}:") or problem.startswith(f"{place} (") for place in places
    )


@FUZZ
@given(findings_data)
@example({"values": {"pain_now": 10**400}})
@example({"values": {"nordic_force": {"left": -(10**400)}}})
@example({"values": {"pain_now": float("nan")}})
def test_validate_accepts_exactly_or_refuses_naming_the_item(data: dict[str, Any]) -> None:
    found, refused = _outcome(validate, data)
    if refused is not None:
        assert refused.problems
        for problem in refused.problems:
            assert _located(problem, data), f"problem does not name the item: {problem!r}"
        return
    assert found is not None
    again = validate(FORM, found.to_dict())
    assert again == found, "validating the accepted findings again changed them"
    for item_id, value in found.values.items():
        assert item_id in data["values"]
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert math.isfinite(value)
            assert value == data["values"][item_id], "a number was changed on the way in"


def _assess(text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "findings.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        code = cli_main(["assess", str(path)])
    return code, capsys.readouterr().err


@FUZZ_CLI
@given(data=findings_data)
@example(data={"values": {"pain_now": 10**400}})
def test_assess_cli_on_fuzzed_findings_exits_cleanly(
    data: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _assess(json.dumps(data), capsys)
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.startswith("clinic-app assess: invalid findings: "), err


@FUZZ
@given(st.text(max_size=200))
@example("[" * 100_000)
@example('{"values": {"pain_now": ' + "9" * 5000 + "}}")
@example("\ufeff{}")
def test_from_json_on_any_text_refuses_with_a_findings_error(text: str) -> None:
    _, refused = _outcome(from_json, text)
    if refused is not None:
        assert refused.problems
        assert all(p.strip() for p in refused.problems)
