"""Findings: checked against the form, errors name the item and the value, JSON round-trips."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic_app.core import findings as fd
from clinic_app.core.findings import Findings, FindingsError


def problems(form, values) -> list[str]:
    with pytest.raises(FindingsError) as info:
        fd.validate(form, {"form": form.id, "form_version": 1, "values": values})
    return info.value.problems


def test_valid_values_are_kept(mini_form) -> None:
    f = fd.validate(
        mini_form,
        {
            "form": "mini",
            "form_version": 1,
            "values": {
                "involved_side": "left",
                "nordic": {"left": 210, "right": 280.5},
                "quality": ["tingling", "ache", "ache"],
                "hip_flex": {"right": 4.5},
            },
        },
    )
    assert f.get("involved_side") == "left"
    assert f.number("nordic", "right") == 280.5
    assert f.get("quality") == ("ache", "tingling")  # set, in form order
    assert f.get("hip_flex", "left") is None
    assert f.get("nordic") is None  # a bilateral item has no one-sided value


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"nordic": {"left": 1200}}, "nordic (left): 1200 N is outside 0-1000 N"),
        ({"pain_now": 11}, "pain_now: 11 is outside 0-10"),
        ({"pain_now": 4.5}, "pain_now: 4.5 must be a whole number"),
        (
            {"hip_flex": {"left": 4.2}},
            "hip_flex (left): 4.2 is not an MMT grade (0-5 with − and +)",
        ),
        (
            {"hip_flex": {"right": 4.25}},  # between 4 and 4+: no grade
            "hip_flex (right): 4.25 is not an MMT grade (0-5 with − and +)",
        ),
        ({"involved_side": "middle"}, "involved_side: 'middle' is not one of left, right, both"),
        ({"slump": {"left": "yes"}}, "slump (left): 'yes' is not one of positive, negative"),
        ({"pop": {"left": "yes"}}, "pop: Felt a pop is one-sided; a side cannot be given"),
        (
            {"nordic": 210},
            'nordic: Nordic force is recorded per side; give {"left": ..., "right": ...}',
        ),
        ({"nordic": {"centre": 1}}, "nordic: 'centre' is not a side (left or right)"),
        ({"quality": "ache"}, "quality: expected a list of ache, tingling"),
        ({"quality": ["itch"]}, "quality: 'itch' is not one of ache, tingling"),
        ({"pain_now": True}, "pain_now: True is not a number"),
        ({"pain_now": "7"}, "pain_now: '7' is not a number"),
        ({"notes": "x" * 51}, "notes: text is 51 characters, the limit is 50"),
        ({"wobble": 1}, "wobble: no such item in form 'mini' version 1"),
    ],
)
def test_bad_values_name_item_and_value(mini_form, values, expected) -> None:
    assert problems(mini_form, values) == [expected]


def test_control_characters_in_text_are_refused(mini_form) -> None:
    assert problems(mini_form, {"notes": "a\x00b"}) == [
        "notes: contains a control character (U+0000)"
    ]
    assert fd.validate(mini_form, {"values": {"notes": "line\n\tnext"}}).get("notes") == (
        "line\n\tnext"
    )


def test_nan_is_refused(mini_form) -> None:
    assert problems(mini_form, {"pain_now": float("nan")}) == [
        "pain_now: nan is not a finite number"
    ]


def test_wrong_form_is_refused(mini_form) -> None:
    with pytest.raises(FindingsError, match="findings are for form 'other'"):
        fd.validate(mini_form, {"form": "other", "values": {}})


def test_missing_values_are_normal(mini_form) -> None:
    f = fd.validate(mini_form, {"form": "mini", "values": {"nordic": {"left": None}}})
    assert f.is_empty()


def test_invalid_json_names_line(mini_form) -> None:
    with pytest.raises(FindingsError, match=r"line 1, column 2: invalid JSON"):
        fd.from_json(mini_form, "{oops}")


def test_with_value_sets_and_clears(mini_form) -> None:
    f = fd.empty(mini_form).with_value(mini_form, "nordic", 200, "left")
    f = f.with_value(mini_form, "nordic", 250, "right").with_value(mini_form, "pop", "yes")
    assert f.to_dict()["values"] == {"nordic": {"left": 200, "right": 250}, "pop": "yes"}
    f = f.with_value(mini_form, "nordic", None, "left").with_value(
        mini_form, "nordic", None, "right"
    )
    assert "nordic" not in f.values
    with pytest.raises(FindingsError):
        f.with_value(mini_form, "pain_now", 99)


def _values_strategy():  # type: ignore[no-untyped-def]
    side_num = st.fixed_dictionaries(
        {}, optional={"left": st.integers(0, 1000), "right": st.integers(0, 1000)}
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "involved_side": st.sampled_from(["left", "right", "both"]),
            "pain_now": st.integers(0, 10),
            "quality": st.lists(st.sampled_from(["ache", "tingling"]), unique=True),
            "notes": st.text(
                st.characters(blacklist_categories=("Cc",)) | st.sampled_from("\n\t"),
                max_size=50,
            ),
            "nordic": side_num,
            "hip_flex": st.fixed_dictionaries(
                {}, optional={"left": st.integers(0, 10).map(lambda n: n / 2)}
            ),
            "slump": st.fixed_dictionaries(
                {}, optional={"right": st.sampled_from(["positive", "negative"])}
            ),
            "pop": st.sampled_from(["yes", "no"]),
        },
    )


@given(values=_values_strategy())
def test_json_round_trip_is_lossless(values) -> None:
    from clinic_app.core.form import parse_form
    from tests.core.conftest import mini_form_data

    form = parse_form(mini_form_data())
    first = fd.validate(form, {"form": "mini", "form_version": 1, "values": values})
    again = fd.from_json(form, first.to_json())
    assert again == first
    assert json.loads(again.to_json()) == json.loads(first.to_json())


def test_findings_equality_is_by_value() -> None:
    assert Findings("a", 1, {"x": 1}) == Findings("a", 1, {"x": 1})


def test_mmt_minus_and_plus_grades_are_stored_in_their_documented_order(mini_form) -> None:
    """4− is 3.75, 4 is 4, 4+ is 4.5 (README, "Findings JSON"): readable, ordered, no migration."""
    from clinic_app.core.form import MMT_GRADES, mmt_grade, parse_mmt_grade

    f = fd.validate(mini_form, {"values": {"hip_flex": {"left": 3.75, "right": 4.5}}})
    assert [mmt_grade(v) for v in f.sides("hip_flex").values()] == ["4−", "4+"]
    order = [label for _, label in MMT_GRADES]
    assert order[order.index("3+") : order.index("5") + 1] == ["3+", "4−", "4", "4+", "5−", "5"]
    assert [parse_mmt_grade(t) for t in ("4-", "4−", "4", "4+", "0+")] == [3.75, 3.75, 4, 4.5, 0.5]
