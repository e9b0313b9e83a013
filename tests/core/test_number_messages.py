"""A refused number is named in its message as it was entered (session 14).

The messages printed numbers with Python's ``:g``: 99999999 read "1e+08", 1234567 "1.23457e+06"
(another number than the one entered) and a range of 0 to 1,000,000 "0-1e+06". Now a whole
number is written in full, a decimal in its shortest form with neither exponent nor float
noise, and only a number too large to write out is described as such.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from clinic_app.core.findings import FindingsError, check_value
from clinic_app.core.form import Form, ItemType, parse_form
from tests.core.conftest import mini_form_data


def _refusal(form: Form, item_id: str, value: Any) -> str:
    with pytest.raises(FindingsError) as err:
        check_value(form.item(item_id), value)
    assert len(err.value.problems) == 1
    return err.value.problems[0]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (99999999, "99999999"),  # :g gave "1e+08"
        (1234567, "1234567"),  # :g gave "1.23457e+06", another number
        (1234567890123, "1234567890123"),
        (12345678901234567890, "12345678901234567890"),  # 20 digits, in full
        (-1, "-1"),
        (2.5, "2.5"),
        (0.1, "0.1"),
        (0.1 + 0.2, "0.3"),  # no float noise (0.30000000000000004)
        (1e-05, "0.00001"),  # :g gave "1e-05"
        (1e16, "10000000000000000"),  # a float that is whole: no ".0", no exponent
        (-0.0, "0"),
        (10**30, "a number far too large"),
        pytest.param(-(10**4000), "a number far too large", id="4001-digits"),  # not str()ed
        (1e300, "a number far too large"),
    ],
)
def test_shown_number_writes_the_number_entered(value: float, shown: str) -> None:
    from clinic_app.core.words import shown_number  # (new: the test fails, not the file)

    assert shown_number(value) == shown
    assert "e+" not in shown
    assert "e-" not in shown


@pytest.mark.parametrize(
    ("value", "typed"),
    [
        (99999999, "99999999"),
        (1234567, "1234567"),
        (1234567890123, "1234567890123"),
        (12345678901234567890, "12345678901234567890"),
    ],
)
def test_an_out_of_range_number_is_named_as_entered(
    mini_form: Form, value: int, typed: str
) -> None:
    problem = _refusal(mini_form, "nordic", value)
    assert problem == f"nordic: {typed} N is outside 0-1000 N"


def test_a_number_far_too_large_is_described_not_written(mini_form: Form) -> None:
    """(As before: a guard that the change keeps it.)"""
    assert _refusal(mini_form, "nordic", 10**400) == (
        "nordic: a number far too large N is outside 0-1000 N"
    )


def test_a_decimal_that_must_be_whole_is_named_as_entered(mini_form: Form) -> None:
    assert _refusal(mini_form, "slr", 45.5) == "slr: 45.5 must be a whole number"
    assert _refusal(mini_form, "slr", 12.000001) == "slr: 12.000001 must be a whole number"
    # :g rounds to six digits: "1.23457e+06 must be a whole number" named another number
    assert _refusal(mini_form, "nordic", 1234567.5) == "nordic: 1234567.5 N is outside 0-1000 N"


def test_an_mmt_value_that_is_no_grade_is_named_as_entered(mini_form: Form) -> None:
    item = mini_form.item("hip_flex")
    assert item.type is ItemType.MMT
    problem = _refusal(mini_form, "hip_flex", 3.25)  # (as before: a guard)
    assert problem.startswith("hip_flex: 3.25 is not an MMT grade")


def test_range_bounds_read_naturally_even_when_large() -> None:
    data = copy.deepcopy(mini_form_data())
    nordic = next(
        item for section in data["sections"] for item in section["items"] if item["id"] == "nordic"
    )
    nordic["range"] = {"min": 0.5, "max": 1000000}
    form = parse_form(data, "wide.yaml")
    # :g wrote the bound as "1e+06" and the value as "2e+06"
    assert _refusal(form, "nordic", 2000000) == "nordic: 2000000 N is outside 0.5-1000000 N"


def test_a_rows_cell_out_of_range_is_named_as_entered(shipped_form: Form) -> None:
    found = [
        (item, column)
        for item in shipped_form.items.values()
        if item.type is ItemType.ROWS
        for column in item.columns
        if column.type == "number"
    ]
    assert found, "the shipped form has a rows item with a number column"
    item, column = found[0]
    with pytest.raises(FindingsError) as err:  # the cell is checked before a missing one
        check_value(item, [{column.id: 99999999}])
    problem = err.value.problems[0]
    assert f"({column.label}): 99999999" in problem
    assert "e+" not in problem
