"""Side-to-side arithmetic: properties that hold for any values, and the worked examples."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic_app.core.symmetry import compare, deficit_pct, lsi, worse_side

values = st.floats(min_value=0, max_value=10_000, allow_nan=False, allow_infinity=False)


def test_worked_examples() -> None:
    assert lsi(210, 280) == pytest.approx(75.0)
    assert deficit_pct(210, 280) == pytest.approx(25.0)
    assert deficit_pct(280, 210) == pytest.approx(25.0)
    assert lsi(0, 0) == 100.0
    assert lsi(10, 0) is None
    assert deficit_pct(0, 0) == 0.0


@given(values, values)
def test_deficit_is_bounded_and_symmetric(a: float, b: float) -> None:
    d = deficit_pct(a, b)
    assert 0.0 <= d <= 100.0
    assert d == deficit_pct(b, a)
    assert (d == 0.0) == (a == b or max(a, b) == 0)


@given(values, values)
def test_lsi_and_deficit_agree(a: float, b: float) -> None:
    ratio = lsi(min(a, b), max(a, b))
    if ratio is not None:
        assert math.isclose(ratio, 100.0 - deficit_pct(a, b), abs_tol=1e-9)


@given(values, values)
def test_lsi_never_divides_by_zero(a: float, b: float) -> None:
    r = lsi(a, b)
    assert r is None or math.isfinite(r)


@given(values, values, st.sampled_from(["left", "right", None]))
def test_compare_deficit_item(mini_form, a: float, b: float, involved) -> None:
    item = mini_form.item("nordic")
    asym = compare(item, a, b, involved)
    assert asym.difference == abs(a - b)
    assert asym.exceeds == (asym.deficit_pct >= 15)
    if a != b:
        assert asym.worse == ("left" if a < b else "right")
    if involved is None:
        assert asym.lsi is None


@given(st.integers(0, 130), st.integers(0, 130))
def test_compare_degrees_uses_minimal_detectable_difference(mini_form, a: int, b: int) -> None:
    asym = compare(mini_form.item("slr"), a, b, "left")
    assert asym.method == "difference"
    assert asym.exceeds == (abs(a - b) > 7)


def test_items_without_threshold_never_exceed(mini_form) -> None:
    nordic = mini_form.item("nordic").model_copy(update={"symmetry": None})
    asym = compare(nordic, 500, 200, "left")
    assert asym.threshold is None
    assert asym.exceeds is False
    assert asym.deficit_pct == pytest.approx(60.0)


def test_mmt_grades_are_compared_in_grades_never_as_percent(mini_form) -> None:
    """Issue 12: 5 vs 4 is "one grade weaker", not "20% weaker, LSI 80%"."""
    from clinic_app.core.symmetry import grades_text

    asym = compare(mini_form.item("hip_flex"), 5, 4, "right")
    assert (asym.method, asym.lsi, asym.deficit_pct, asym.exceeds) == ("grades", None, 0.0, False)
    assert grades_text(asym) == "right one grade weaker (4 vs 5)"
    assert grades_text(compare(mini_form.item("hip_flex"), 3.75, 4.5, None)) == (
        "left less than a grade weaker (4− vs 4+)"
    )
    assert grades_text(compare(mini_form.item("hip_flex"), 2, 2, None)) == "equal"


def test_worse_side_for_lower_is_better() -> None:
    assert worse_side(30, 10, "lower") == "left"
    assert worse_side(30, 10, "higher") == "right"
    assert worse_side(5, 5, "higher") is None
