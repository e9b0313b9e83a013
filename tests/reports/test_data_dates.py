"""How reports write dates and times: day, month name and a four-digit year, on both sides of
the Atlantic, for any year a record can hold (an old record may hold year 1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from clinic_app.reports.data import format_date, format_datetime


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (date(2026, 11, 21), "21 Nov 2026"),
        (date(2026, 3, 5), "5 Mar 2026"),
        (date(1, 1, 1), "1 Jan 0001"),
        (date(999, 12, 31), "31 Dec 0999"),
        (date(9999, 12, 31), "31 Dec 9999"),
        (None, "not recorded"),
    ],
)
def test_a_date_has_its_day_month_and_four_digit_year(value: date | None, text: str) -> None:
    assert format_date(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 11, 21, 9, 5, tzinfo=UTC), "21 Nov 2026 09:05 UTC"),
        (datetime(2026, 3, 5, 17, 0), "5 Mar 2026 17:00"),
        (datetime(5, 1, 2, 0, 0, tzinfo=UTC), "2 Jan 0005 00:00 UTC"),
        (
            datetime(2026, 7, 1, 8, 30, tzinfo=timezone(timedelta(hours=2))),
            "1 Jul 2026 08:30 UTC+02:00",
        ),
        (None, "not recorded"),
    ],
)
def test_a_time_has_its_day_and_four_digit_year(value: datetime | None, text: str) -> None:
    assert format_datetime(value) == text
