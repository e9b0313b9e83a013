"""Which PSFS activities a follow-up starts from (core.psfs_carry): the episode's first PSFS,
slot by slot, scores left empty; hostile earlier texts are skipped, never repaired."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from clinic_app.core.progress import Record
from clinic_app.core.psfs_carry import Carried, carried_activities, kept_answer
from clinic_app.core.responses import questionnaire_of
from clinic_app.core.scoring import ACTIVITY_MAX

PSFS = questionnaire_of("psfs")
LEFS = questionnaire_of("lefs")


def psfs(**slots: tuple[str, int | None]) -> dict[str, Any]:
    answers = {k: {"activity": a, "score": s} for k, (a, s) in slots.items()}
    return {"questionnaire": "psfs", "answers": answers, "reported_by": "patient"}


def record(n: int, on: date, values: dict[str, Any], kind: str = "visit") -> Record:
    return Record(n, kind, on, values)


def test_the_baseline_activities_are_carried_not_the_latest() -> None:
    earlier = [
        record(1, date(2026, 10, 1), {"nprs_now": 5}, "initial"),  # no PSFS yet
        record(2, date(2026, 11, 2), {"psfs_answers": psfs(a1=("Sprinting", 3), a2=("Stairs", 6))}),
        record(3, date(2026, 11, 9), {"psfs_answers": psfs(a1=("Sprintin", 5))}),  # a typo later
    ]
    carried = carried_activities(PSFS, "psfs_answers", earlier)
    assert carried == Carried({"a1": "Sprinting", "a2": "Stairs"}, 2, "visit", date(2026, 11, 2))
    assert carried.label() == "named at the visit of 2026-11-02"


def test_all_five_activities_keep_their_slots() -> None:
    names = ["Running", "Sitting 30 min", "Stairs", "Squatting", "Putting on shoes"]
    slots = {f"a{n + 1}": (name, n) for n, name in enumerate(names)}
    carried = carried_activities(
        PSFS, "psfs_answers", [record(7, date(2026, 3, 2), {"psfs_answers": psfs(**slots)})]
    )
    assert carried is not None
    assert carried.activities == {f"a{n + 1}": name for n, name in enumerate(names)}
    assert carried.label() == "named at the visit of 2026-03-02"


def test_a_gap_in_the_slots_stays_a_gap() -> None:
    value = psfs(a1=("Running", 2), a3=("Stairs", 4))
    carried = carried_activities(
        PSFS, "psfs_answers", [record(1, date(2026, 1, 5), {"psfs_answers": value}, "initial")]
    )
    assert carried is not None
    assert dict(carried.activities) == {"a1": "Running", "a3": "Stairs"}
    assert carried.label() == "named at the initial evaluation of 2026-01-05"


@pytest.mark.parametrize(
    "hostile",
    [
        "x" * (ACTIVITY_MAX + 1),
        "Sit\x00ting",
        "Run\x1b[31m red",
        "\ud800 lone surrogate",
        "y" * 100_000,
    ],
)
def test_an_earlier_text_the_check_refuses_is_skipped(hostile: str) -> None:
    value = psfs(a1=("Stairs", 4), a2=(hostile, 5), a3=("Hills", 6))
    carried = carried_activities(
        PSFS, "psfs_answers", [record(1, date(2026, 1, 5), {"psfs_answers": value})]
    )
    assert carried is not None
    assert dict(carried.activities) == {"a1": "Stairs", "a3": "Hills"}
    assert carried.skipped == ("a2",)


def test_spaces_are_collapsed_as_the_stored_answers_keep_them() -> None:
    value = psfs(a1=("  Walking\n the\tdog  ", 4))
    carried = carried_activities(
        PSFS, "psfs_answers", [record(1, date(2026, 1, 5), {"psfs_answers": value})]
    )
    assert carried is not None
    assert dict(carried.activities) == {"a1": "Walking the dog"}


@pytest.mark.parametrize(
    "value",
    [
        None,
        "Sprinting",
        ["a1"],
        {"questionnaire": "lefs", "answers": {"q01": 4}},
        {"questionnaire": "psfs", "answers": "a1"},
        {
            "questionnaire": "psfs",
            "answers": {"a1": 4, "a2": {"activity": 7}, "zz": {"activity": "X"}},
        },
        {"questionnaire": "psfs", "answers": {"a1": {"activity": "   ", "score": None}}},
    ],
)
def test_nothing_is_carried_from_values_that_name_no_activity(value: Any) -> None:
    earlier = [record(1, date(2026, 1, 5), {"psfs_answers": value})]
    assert carried_activities(PSFS, "psfs_answers", earlier) is None


def test_a_questionnaire_without_activities_carries_nothing() -> None:
    earlier = [
        record(
            1, date(2026, 1, 5), {"lefs_answers": {"questionnaire": "lefs", "answers": {"q01": 4}}}
        )
    ]
    assert carried_activities(LEFS, "lefs_answers", earlier) is None


def test_only_the_named_item_is_read() -> None:
    earlier = [record(1, date(2026, 1, 5), {"other_psfs": psfs(a1=("Running", 2))})]
    assert carried_activities(PSFS, "psfs_answers", earlier) is None


def test_an_unrated_carried_activity_is_no_answer() -> None:
    carried = Carried({"a1": "Sprinting", "a2": "Stairs"}, 2, "visit", date(2026, 11, 2))
    assert not kept_answer(carried, "a1", "Sprinting", None)  # put in, not rated
    assert kept_answer(carried, "a1", "Sprinting", 0)  # rated 0 is an answer
    assert kept_answer(carried, "a2", "Stairs up", None)  # reworded: named here
    assert kept_answer(carried, "a4", "Hills", None)  # a new one, named here
    assert not kept_answer(carried, "a3", "", None)
    assert kept_answer(None, "a1", "Sprinting", None)  # no carry: as before
