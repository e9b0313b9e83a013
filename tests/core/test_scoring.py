"""Scoring against hand-computed examples, missing-item boundaries, MCID/MDC boundaries, and
hypothesis: a score is always within its range or incomplete, and bad answers never crash."""

from __future__ import annotations

import json
import timeit
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic_app.core.questionnaire import Questionnaire, parse_questionnaire, shipped
from clinic_app.core.scoring import (
    Answers,
    AnswersError,
    answers_from_json,
    compare,
    number_text,
    parse_answers,
    score,
)

LEFS, PSFS, NPRS = shipped("lefs"), shipped("psfs"), shipped("nprs")
# A worked LEFS form: 4+3+2+4+4+1+3+4+2+4 = 31, 4+3+3+3+4+1+0+0+1+4 = 23, total 54.
EXAMPLE = [4, 3, 2, 4, 4, 1, 3, 4, 2, 4, 4, 3, 3, 3, 4, 1, 0, 0, 1, 4]


def lefs(values: list[int | None]) -> Answers:
    data = {"questionnaire": "lefs", "answers": dict(zip(LEFS.item_ids, values, strict=True))}
    return parse_answers(LEFS, data)


def psfs(*rated: tuple[str, int | None]) -> Answers:
    answers = {f"a{n}": {"activity": a, "score": s} for n, (a, s) in enumerate(rated, 1)}
    return parse_answers(PSFS, {"questionnaire": "psfs", "answers": answers})


def nprs(value: int | None) -> Answers:
    return parse_answers(NPRS, {"questionnaire": "nprs", "answers": {"pain": value}})


def lefs_total(total: int) -> Answers:
    """LEFS answers summing to ``total`` (items filled with 4s from the first)."""
    values = [min(4, max(0, total - 4 * n)) for n in range(20)]
    assert sum(values) == total
    return lefs(list(values))


# ---------------------------------------------------------------------------- hand-computed


def test_lefs_sums_the_twenty_items() -> None:
    s = score(LEFS, lefs(list(EXAMPLE)))
    assert s.value == 54
    assert s.complete
    assert s.text() == "LEFS total 54 (range 0–80, higher is better; 20 of 20 items answered)"
    assert score(LEFS, lefs([4] * 20)).value == 80
    assert score(LEFS, lefs([0] * 20)).value == 0


def test_lefs_with_one_item_missing_is_incomplete_not_guessed() -> None:
    full = score(LEFS, lefs(list(EXAMPLE)))  # exactly the allowed number missing: 0
    assert full.complete
    values: list[int | None] = list(EXAMPLE)
    values[6] = None  # one more than allowed
    s = score(LEFS, lefs(values))
    assert s.value is None
    assert not s.complete
    assert s.missing == ("q07",)
    assert s.reason.startswith("1 of 20 items not answered (q07); none may be missing")
    assert s.text().startswith("LEFS: incomplete: 1 of 20 items not answered")
    five = score(LEFS, lefs([None] * 5 + EXAMPLE[5:]))
    assert five.reason.startswith("5 of 20 items not answered (q01, q02, q03, q04, q05)")


def test_an_item_left_out_counts_as_not_answered() -> None:
    data = {
        "questionnaire": "lefs",
        "answers": dict(zip(LEFS.item_ids[:19], EXAMPLE, strict=False)),
    }
    s = score(LEFS, parse_answers(LEFS, data))
    assert s.missing == ("q20",)
    assert not s.complete


def test_psfs_is_the_mean_of_the_rated_activities() -> None:
    s = score(PSFS, psfs(("Sprinting", 3), ("Sitting an hour", 5), ("Bending", 4)))
    assert s.value == 4
    assert s.value_text() == "4.0"
    five = score(PSFS, psfs(("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5)))
    assert five.value == 3
    thirds = score(PSFS, psfs(("a", 6), ("b", 7), ("c", 7)))
    assert thirds.value == Fraction(20, 3)
    assert thirds.value_text() == "6.7"
    assert thirds.text() == "PSFS mean 6.7 (range 0–10, higher is better; 3 of 5 items answered)"


def test_psfs_needs_three_activities_exactly_three_is_enough() -> None:
    assert score(PSFS, psfs(("a", 0), ("b", 0), ("c", 0))).value == 0  # 2 missing: allowed
    two = score(PSFS, psfs(("a", 8), ("b", 9)))  # 3 missing: one more than allowed
    assert not two.complete
    assert two.reason.startswith("3 of 5 items not answered (a3, a4, a5); at most 2 may be missing")


def test_psfs_activity_named_but_not_rated_is_incomplete() -> None:
    s = score(PSFS, psfs(("Running", 5), ("Stairs", 6), ("Squats", 7), ("Kicking", None)))
    assert not s.complete
    assert s.reason.startswith("activity named but not rated: a4 ('Kicking')")
    assert s.answers.activities["a4"] == "Kicking"


def test_psfs_keeps_the_patients_own_words() -> None:
    s = score(PSFS, psfs(("  Lifting my   grandson ", 2), ("Bike ride", 3), ("Garden", 4)))
    assert s.answers.activities["a1"] == "Lifting my grandson"
    assert s.to_dict()["activities"]["a1"] == "Lifting my grandson"


def test_nprs_is_the_rating_itself() -> None:
    s = score(NPRS, nprs(7))
    assert s.value == 7
    assert s.text() == "NPRS total 7 (range 0–10, lower is better; 1 of 1 item answered)"
    assert not score(NPRS, nprs(None)).complete


def custom(max_missing: int, prorate: bool) -> Questionnaire:
    """A 4-item, 0-4 questionnaire with a chosen missing-item rule."""
    item = {"text": {"en": "x"}, "answer": {"min": 0, "max": 4}}
    return parse_questionnaire(
        {
            "kind": "questionnaire",
            "id": "mini",
            "short": "MINI",
            "title": "Mini",
            "version": 1,
            "languages": ["en"],
            "licence": {"text": "t", "wording_reproduced": True, "wording": "w"},
            "sources": [{"id": "S", "citation": "c", "supports": "s", "verified": True}],
            "instructions": {"en": "i"},
            "items": [dict(item, id=f"i{n}") for n in range(1, 5)],
            "scoring": {
                "method": "sum",
                "max_missing": max_missing,
                "prorate": prorate,
                "missing_source": "S",
                "missing_note": "n",
                "range": {"min": 0, "max": 16},
                "direction": "higher_better",
                "decimals": 1,
                "source": "S",
            },
            "change": {},
        },
        "mini.yaml",
    )


def test_a_prorated_sum_scales_to_all_items() -> None:
    q = custom(1, True)
    answers = parse_answers(q, {"questionnaire": "mini", "answers": {"i1": 1, "i2": 2, "i3": 4}})
    s = score(q, answers)
    assert s.value == Fraction(7 * 4, 3)
    assert s.value_text() == "9.3"
    two_missing = parse_answers(q, {"questionnaire": "mini", "answers": {"i1": 1, "i2": 2}})
    assert not score(q, two_missing).complete


# ---------------------------------------------------------------------------- change


def test_lefs_change_of_exactly_the_mcid_counts() -> None:
    c = compare(score(LEFS, lefs_total(40)), score(LEFS, lefs_total(49)))
    assert c.change == 9
    assert c.better is True
    mcid, mdc = c.verdicts
    assert mcid.met
    assert mcid.text.startswith("equals the MCID of 9 points, which counts")
    assert "Jaeschke1989" in mcid.text
    assert mdc.met
    assert c.flag == "real change"
    assert c.text().startswith("change: +9 points since the previous (better): equals the MCID")


def test_lefs_change_one_below_and_one_above_the_mcid() -> None:
    below = compare(score(LEFS, lefs_total(40)), score(LEFS, lefs_total(48)))
    assert [v.met for v in below.verdicts] == [False, False]
    assert below.verdicts[0].text == "is below the MCID of 9 points"
    assert below.flag == "within measurement noise"
    above = compare(score(LEFS, lefs_total(40)), score(LEFS, lefs_total(50)))
    assert above.verdicts[0].text == "exceeds the MCID of 9 points"
    assert above.verdicts[1].text == "exceeds the MDC of 9 points (90% confidence)"


def test_a_worsening_is_named_and_judged_by_its_size() -> None:
    c = compare(score(LEFS, lefs_total(60)), score(LEFS, lefs_total(51)))
    assert c.change == -9
    assert c.better is False
    assert c.flag == "real change"
    assert c.text().startswith("change: -9 points since the previous (worse)")


def test_a_more_than_boundary_does_not_count_the_threshold_itself() -> None:
    assert LEFS.change.mcid is not None
    assert LEFS.change.mdc is not None
    strict = LEFS.model_copy(
        update={
            "change": LEFS.change.model_copy(
                update={
                    "mcid": LEFS.change.mcid.model_copy(update={"boundary": "more_than"}),
                    "mdc": LEFS.change.mdc.model_copy(update={"boundary": "more_than"}),
                }
            )
        }
    )
    c = compare(score(strict, lefs_total(40)), score(strict, lefs_total(49)))
    assert [v.met for v in c.verdicts] == [False, False]
    assert "which does not count" in c.verdicts[0].text
    assert c.flag == "within measurement noise"


def test_no_change_is_neither_better_nor_worse() -> None:
    c = compare(score(LEFS, lefs_total(30)), score(LEFS, lefs_total(30)))
    assert c.change == 0
    assert c.better is None
    assert c.flag == "within measurement noise"


def test_nprs_two_points_or_thirty_percent() -> None:
    two = compare(score(NPRS, nprs(6)), score(NPRS, nprs(4)))
    assert two.better is True
    assert two.verdicts[0].met
    assert two.flag == "real change"
    one_of_three = compare(score(NPRS, nprs(3)), score(NPRS, nprs(2)))  # 1 point, 33%
    points, percent = one_of_three.verdicts
    assert not points.met
    assert percent.met
    assert one_of_three.flag == "real change"
    assert one_of_three.note == "NPRS has no MDC in its file, so real change is judged by the MCID"
    one_of_ten = compare(score(NPRS, nprs(10)), score(NPRS, nprs(9)))  # 1 point, 10%
    assert [v.met for v in one_of_ten.verdicts] == [False, False]
    assert one_of_ten.flag == "within measurement noise"
    worse = compare(score(NPRS, nprs(1)), score(NPRS, nprs(2)))  # +100%, but a worsening
    assert [v.name for v in worse.verdicts] == ["MCID"]
    assert worse.better is False
    from_zero = compare(score(NPRS, nprs(0)), score(NPRS, nprs(0)))
    assert from_zero.change == 0


def test_nprs_exactly_thirty_percent_counts() -> None:
    assert NPRS.change.mcid is not None
    no_points = NPRS.model_copy(
        update={
            "change": NPRS.change.model_copy(
                update={"mcid": NPRS.change.mcid.model_copy(update={"points": 5})}
            )
        }
    )
    c = compare(score(no_points, nprs(10)), score(no_points, nprs(7)))  # 3 of 10 = 30%
    points, percent = c.verdicts
    assert not points.met
    assert percent.met
    assert c.flag == "real change"
    assert percent.text == "reaches the 30% MCID (30% of the previous)"


def test_psfs_mean_and_each_activity() -> None:
    before = score(PSFS, psfs(("Sprinting", 3), ("Sitting", 5), ("Bending", 4)))
    after = score(PSFS, psfs(("sprinting", 6), ("Sitting", 7), ("Jogging", 5)))
    c = compare(before, after)
    assert c.change == 2
    assert c.verdicts[0].met
    assert c.flag == "real change"
    a1, a2, a3 = c.items
    assert a1.change == 3
    assert "equals the one-activity MDC of 3 points" in a1.text
    assert a2.change == 2
    assert "is below the one-activity MDC" in a2.text
    assert a3.change is None
    assert "activity changed from 'Bending'" in a3.text
    assert "a3" in c.note


def test_an_incomplete_score_has_no_change() -> None:
    values: list[int | None] = list(EXAMPLE)
    values[0] = None
    c = compare(score(LEFS, lefs(values)), score(LEFS, lefs(list(EXAMPLE))))
    assert c.change is None
    assert c.flag == ""
    assert c.text().startswith("change: not computed: the previous answers are incomplete (1 of 20")
    assert c.to_dict()["change"] is None


def test_number_text_rounds_half_away_from_zero() -> None:
    assert number_text(Fraction(5, 2), 0) == "3"
    assert number_text(Fraction(-5, 2), 0) == "-3"
    assert number_text(Fraction(-1, 100), 1) == "0.0"
    assert number_text(Fraction(20, 3), 1) == "6.7"
    assert number_text(9, 0) == "9"


# ---------------------------------------------------------------------------- bad answers

BAD = [
    ('{"questionnaire": "lefs", "answers": {"q01": true}}', "answers.q01: expected one of 0, 1"),
    ('{"questionnaire": "lefs", "answers": {"q01": 2.5}}', "2.5 (a fraction)"),
    ('{"questionnaire": "lefs", "answers": {"q01": 3.0}}', "3.0 (not a whole number)"),
    ('{"questionnaire": "lefs", "answers": {"q01": "4"}}', "got text '4'"),
    ('{"questionnaire": "lefs", "answers": {"q01": 5}}', "answers.q01: 5 is out of range"),
    ('{"questionnaire": "lefs", "answers": {"q01": -1}}', "answers.q01: -1 is out of range"),
    ('{"questionnaire": "lefs", "answers": {"q21": 1}}', "answers.q21: unknown item"),
    ('{"questionnaire": "lefs", "answers": {"q01": [1]}}', "got a list"),
    ('{"questionnaire": "lefs", "answers": []}', "answers: must be an object, got a list"),
    ('{"questionnaire": "lefs"}', "answers: is missing"),
    ('{"answers": {}}', "questionnaire: required key is missing"),
    ('{"questionnaire": "psfs", "answers": {}}', "questionnaire: answers 'psfs', not 'lefs'"),
    ('{"questionnaire": "lefs", "answers": {}, "date": 1}', "date: unknown key"),
    ('{"questionnaire": "lefs", "answers": {"q01": 1, "q01": 2}}', "key 'q01' appears twice"),
    ('{"questionnaire": "lefs", "answers": {"q01": NaN}}', "NaN is not a number JSON allows"),
    ('{"questionnaire": "lefs", "answers": {"q01": 1' + "0" * 5000 + "}}", "digits"),
    ('{"questionnaire": "lefs", "answers": {"q01": }}', "line 1, column 46: invalid JSON"),
    ("[" * 50 + "]" * 50, "nested more than 16 levels deep"),
    ("[" * 100_000 + "]" * 100_000, "nested"),
    ("[1, 2]", "(top level): expected an object, got a list"),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_answers_are_refused_with_the_place(text: str, expected: str) -> None:
    with pytest.raises(AnswersError) as err:
        answers_from_json(LEFS, text, "a.json")
    assert all(p.startswith("a.json: ") for p in err.value.problems)
    assert expected in str(err.value), err.value.problems


PSFS_BAD = [
    ({"a1": 4}, 'a1: expected {"activity": text, "score": number}, got 4'),
    ({"a1": {"score": 4}}, "a1.activity: the patient's activity text is missing"),
    ({"a1": {"activity": "  ", "score": 4}}, "a1.activity: is empty"),
    # right-to-left marks and zero-width spaces only: strip() keeps them, nothing shows
    ({"a1": {"activity": "\u200f\u200b\u2060", "score": 4}}, "a1.activity: is empty"),
    ({"a1": {"activity": "x" * 201, "score": 4}}, "a1.activity: is 201 characters long"),
    ({"a1": {"activity": "a\x00b", "score": 4}}, "a1.activity: contains a control character"),
    ({"a1": {"activity": "Run", "score": 11}}, "a1.score: 11 is out of range"),
    ({"a1": {"activity": "Run", "score": False}}, "a1.score: expected a whole number from 0 to 10"),
    ({"a1": {"activity": "Run", "score": 1, "when": 2}}, "a1.when: unknown key"),
]


@pytest.mark.parametrize(("answers", "expected"), PSFS_BAD)
def test_bad_psfs_answers(answers: dict[str, Any], expected: str) -> None:
    with pytest.raises(AnswersError) as err:
        parse_answers(PSFS, {"questionnaire": "psfs", "answers": answers}, "p.json")
    assert expected in str(err.value), err.value.problems


def test_many_unknown_items_are_one_line_and_a_count() -> None:
    answers = {f"x{n}": 1 for n in range(30)}
    with pytest.raises(AnswersError) as err:
        parse_answers(LEFS, {"questionnaire": "lefs", "answers": answers}, "a.json")
    assert err.value.problems == [
        "a.json: answers.x0: unknown item (lefs has q01 to q20)",
        "a.json: answers: 29 more unknown items",
    ]


# ---------------------------------------------------------------------------- properties


def _answer_strategy(q: Questionnaire) -> st.SearchStrategy[dict[str, Any]]:
    """Any subset of the items, each unanswered (null) or given a value it accepts."""
    optional: dict[str, st.SearchStrategy[Any]] = {}
    answered: dict[str, st.SearchStrategy[Any]] = {}  # every item answered: mostly complete
    activity = st.sampled_from(["Run", "Sit an hour", "Kick a ball"])
    for item in q.items:
        low, high = item.answer.scores
        number = st.integers(low, high).filter(item.answer.accepts)
        if item.patient_activity:
            answered[item.id] = st.fixed_dictionaries({"activity": activity, "score": number})
            value = st.fixed_dictionaries({"activity": activity}, optional={"score": number})
        else:
            answered[item.id] = value = number
        optional[item.id] = st.none() | value
    return st.fixed_dictionaries(answered) | st.fixed_dictionaries({}, optional=optional)


STRATEGIES = {q.id: _answer_strategy(q) for q in (LEFS, PSFS, NPRS)}


@pytest.mark.parametrize("q", [LEFS, PSFS, NPRS], ids=["lefs", "psfs", "nprs"])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_score_is_within_its_range_or_incomplete(q: Questionnaire, data: st.DataObject) -> None:
    raw = data.draw(STRATEGIES[q.id])
    answers = parse_answers(q, {"questionnaire": q.id, "answers": raw})
    s = score(q, answers)
    if s.value is None:
        assert s.reason
        assert not s.complete
        assert len(s.missing) > q.scoring.max_missing or "named but not rated" in s.reason
    else:
        assert q.scoring.range.min <= s.value <= q.scoring.range.max
        assert len(s.missing) <= q.scoring.max_missing
        assert s.value_text()
    json.dumps(s.to_dict())
    other = score(
        q, parse_answers(q, {"questionnaire": q.id, "answers": data.draw(STRATEGIES[q.id])})
    )
    c = compare(other, s)
    assert c.flag in ("", "real change", "within measurement noise")
    assert (c.change is None) == (other.value is None or s.value is None)
    json.dumps(c.to_dict())
    c.text()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(answers=JSON, qid=st.sampled_from(["lefs", "psfs", "nprs", "x"]))
def test_any_json_is_answers_or_one_refusal(answers: Any, qid: str) -> None:
    for q in (LEFS, PSFS):
        problems: list[str] = []
        try:
            result = parse_answers(q, {"questionnaire": qid, "answers": answers}, "f.json")
        except AnswersError as err:
            problems = err.problems
        else:
            assert score(q, result) is not None
            continue
        assert problems
        assert all(p.startswith("f.json: ") for p in problems)


def test_scoring_takes_well_under_a_millisecond() -> None:
    answers = lefs(list(EXAMPLE))
    runs = 2000
    per_score = timeit.timeit(lambda: score(LEFS, answers), number=runs) / runs
    assert per_score < 0.001, f"{per_score * 1e6:.0f} µs per LEFS score"
    text = json.dumps(
        {"questionnaire": "lefs", "answers": dict(zip(LEFS.item_ids, EXAMPLE, strict=True))}
    )
    per_read = timeit.timeit(lambda: score(LEFS, answers_from_json(LEFS, text)), number=runs) / runs
    assert per_read < 0.005, f"{per_read * 1e6:.0f} µs to read and score"  # about 0.3 ms
