"""The one date-of-birth rule: not in the future, not more than MAX_AGE_YEARS years ago."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clinic_app.core.patient_checks import MAX_AGE_YEARS, date_of_birth_problem, earliest_birth

TODAY = date(2026, 12, 4)
OLD = "is more than 120 years ago"


def test_the_oldest_accepted_date_is_the_same_day_max_age_years_back() -> None:
    assert MAX_AGE_YEARS == 120
    assert earliest_birth(TODAY) == date(1906, 12, 4)
    assert earliest_birth(date(2028, 2, 29)) == date(1908, 2, 29)  # that year has one
    assert earliest_birth(date(2020, 2, 29)) == date(1900, 2, 28)  # 1900 is no leap year
    assert earliest_birth(date(2100, 3, 1)) == date(1980, 3, 1)
    assert earliest_birth(date(50, 6, 1)) == date.min  # no year before 1


@pytest.mark.parametrize(
    ("born", "today", "problem"),
    [
        (date(1, 1, 1), TODAY, "Date of birth: 0001-01-01 is more than 120 years ago"),
        (date(1800, 1, 1), TODAY, "Date of birth: 1800-01-01 is more than 120 years ago"),
        (date(1895, 12, 31), TODAY, "Date of birth: 1895-12-31 is more than 120 years ago"),
        (date(1906, 12, 3), TODAY, "Date of birth: 1906-12-03 is more than 120 years ago"),
        (date(1906, 12, 4), TODAY, None),  # the boundary day
        (date(9999, 12, 31), TODAY, "Date of birth: 9999-12-31 is in the future"),
        (TODAY + timedelta(days=1), TODAY, "Date of birth: 2026-12-05 is in the future"),
        (TODAY, TODAY, None),  # born today
        (date(1992, 2, 29), TODAY, None),
        (date(1906, 2, 28), date(2026, 2, 28), None),
        (date(1900, 2, 28), date(2020, 2, 29), None),
        (
            date(1900, 2, 27),
            date(2020, 2, 29),
            f"Date of birth: 1900-02-27 {OLD}",
        ),
        (date(9999, 12, 31), date(9999, 12, 31), None),
        (date.min, date.min, None),
    ],
    ids=str,
)
def test_date_of_birth_problem(born: date, today: date, problem: str | None) -> None:
    assert date_of_birth_problem(born, today) == problem
