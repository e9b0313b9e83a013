"""Questionnaire responses as the self-entry screen and the field store them (issue 16): hostile
answers refused with one line naming the item, the score item written from the answers, a total
typed over them named with both numbers, the one-line summary of notes and reports."""

from __future__ import annotations

from typing import Any

import pytest

from clinic_app.core.findings import FindingsError, empty, validate
from clinic_app.core.form import load_form
from clinic_app.core.responses import (
    Response,
    check_response,
    covered_scores,
    reported_text,
    score_mismatches,
    score_number,
    score_of,
    summary_text,
    with_score,
)
from clinic_app.paths import default_form_path

FORM = load_form(default_form_path())
LEFS = FORM.items["lefs_answers"]
PSFS = FORM.items["psfs_answers"]


def lefs(values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"questionnaire": "lefs", "answers": values, "reported_by": "patient", **extra}


ALL_FOUR = {f"q{n:02d}": 4 for n in range(1, 21)}


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (lefs({"q03": 7}), "answers.q03: 7 is out of range"),
        (lefs({"q03": -1}), "answers.q03: -1 is out of range"),
        (lefs({"q03": True}), "answers.q03: expected one of 0, 1, 2, 3, 4, got true"),
        (lefs({"q03": 2.5}), "answers.q03"),
        (lefs({"q99": 1}), "answers.q99: unknown item"),
        (lefs({"q01": 1}, reported_by="robot"), "reported_by must be patient or clinician"),
        (lefs({"q01": 1}, reported_at="yesterday"), "reported_at 'yesterday' is not a date"),
        (lefs({"q01": 1}, reported_at="2026-13-40T99:99"), "is not a date and time"),
        (lefs({"q01": 1}, language="xx"), "LEFS is not available in 'xx'"),
        ({**lefs({"q01": 1}), "questionnaire": "psfs"}, "answers are for 'psfs', not 'lefs'"),
    ],
)
def test_hostile_lefs_answers_are_refused_naming_the_item(value: Any, named: str) -> None:
    response, problem = check_response(LEFS, value, "lefs_answers")
    assert response is None
    assert problem is not None
    assert problem.startswith("lefs_answers")
    assert named in problem
    assert "\n" not in problem


def psfs(answers: dict[str, Any]) -> dict[str, Any]:
    return {"questionnaire": "psfs", "answers": answers, "reported_by": "patient"}


def test_ten_thousand_activities_are_one_line_naming_the_first_and_counting_the_rest() -> None:
    many = {f"x{n}": {"activity": "Run", "score": 5} for n in range(10_000)}
    _, problem = check_response(PSFS, psfs(many), "psfs_answers")
    assert problem is not None
    assert "psfs_answers: answers.x0: unknown item" in problem
    with pytest.raises(FindingsError) as err:
        validate(FORM, {"values": {"psfs_answers": psfs(many)}})
    assert err.value.problems == [problem]  # one line, not ten thousand
    _, long_text = check_response(
        PSFS, psfs({"a1": {"activity": "x" * 10_000, "score": 5}}), "psfs_answers"
    )
    assert long_text == (
        "psfs_answers: answers.a1.activity: is 10000 characters long (at most 200)"
    )


@pytest.mark.parametrize(
    ("activity", "named"),
    [
        ("Run\x00ning", "contains a control character (U+0000)"),
        ("Run\x1bning", "contains a control character (U+001B)"),
        ("x" * 201, "is 201 characters long (at most 200)"),
        ("   ", "is empty"),
        ("\u200f\u00ad", "is empty"),  # a right-to-left mark and a soft hyphen show nothing
    ],
)
def test_a_hostile_activity_text_is_refused_naming_the_item(activity: str, named: str) -> None:
    _, problem = check_response(
        PSFS, psfs({"a2": {"activity": activity, "score": 4}}), "psfs_answers"
    )
    assert problem is not None
    assert "answers.a2.activity" in problem
    assert named in problem


def test_the_score_item_takes_the_rounded_score_in_the_same_update() -> None:
    found = validate(
        FORM,
        {
            "values": {
                "psfs_answers": psfs(
                    {
                        "a1": {"activity": "Sprint", "score": 3},
                        "a2": {"activity": "Hop", "score": 5},
                        "a3": {"activity": "Sit", "score": 5},
                    }
                )
            }
        },
    )
    updated = with_score(FORM, found, "psfs_answers")
    assert updated.values["psfs_mean"] == 4.3  # 13/3 as the PSFS file shows it (1 decimal)
    incomplete = with_score(
        FORM,
        updated.with_value(FORM, "psfs_answers", psfs({"a1": {"activity": "Sprint", "score": 3}})),
        "psfs_answers",
    )
    assert "psfs_mean" not in incomplete.values  # an incomplete score leaves the item blank
    assert with_score(FORM, empty(FORM), "lefs_answers").values == {}


def test_a_total_typed_over_the_answers_names_both_numbers() -> None:
    values = {"lefs_answers": lefs(ALL_FOUR), "lefs_total": 79}
    assert score_mismatches(FORM, values) == [
        "LEFS total is 79, but the LEFS answers (patient-reported) score 80"
    ]
    assert score_mismatches(FORM, {**values, "lefs_total": 80}) == []
    part = {"lefs_answers": lefs({"q01": 4}), "lefs_total": 40}
    (line,) = score_mismatches(FORM, part)
    assert "LEFS total is 40" in line
    assert "incomplete" in line
    assert covered_scores(FORM, {**values, "lefs_total": 80}) == {"lefs_total"}


def test_the_summary_line_of_notes_and_reports() -> None:
    r = Response("lefs", {**ALL_FOUR, "q01": 0}, "patient", "en", "2026-03-02T09:05")
    assert summary_text(r) == "LEFS 76/80 (patient-reported)"
    assert reported_text(r) == "Reported by the patient, 2 Mar 2026 09:05"
    assert score_number(score_of(r)) == 76
    part = Response("lefs", {"q01": 3}, "clinician")
    assert summary_text(part).startswith("LEFS incomplete (19 of 20 items not answered")
    assert summary_text(part).endswith("(clinician-reported)")
    assert reported_text(part) == "Reported by the clinician"
