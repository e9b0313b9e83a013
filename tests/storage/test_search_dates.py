"""Search by a year or a month of birth on both backends (issue 18).

"1991" finds everyone born in 1991 (and an MRN starting with 1991), "1991-04" and "04.1991" those
born in April 1991; with a name it narrows ("nowak 1991"); a year outside any birth (0042, 2201)
is an MRN's digits, and a month 13 is no month. The period filter is an index range: the query
plan on SQLite never scans the patient table.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from clinic_app.storage import records
from clinic_app.storage.database import Database
from clinic_app.storage.search import Period, parse_period, parse_query

PEOPLE = (
    ("Łukasz", "Nowak", "A-1", date(1991, 4, 12)),
    ("Fang", "Wang", "A-2", date(1991, 4, 30)),
    ("Ana", "Nowak", "A-3", date(1991, 5, 1)),
    ("Ben", "Early", "A-4", date(1991, 1, 1)),
    ("Cy", "Late", "A-5", date(1991, 12, 31)),
    ("Dee", "Before", "A-6", date(1990, 12, 31)),
    ("Eve", "After", "A-7", date(1992, 1, 1)),
    ("Fay", "Nodate", "A-8", None),
    ("Gus", "Digits", "19910077", date(1970, 3, 3)),
    ("Hal", "Punct", "19-91X", date(1970, 3, 3)),
)


@pytest.fixture
def people(db: Database) -> Database:
    for given, family, mrn, born in PEOPLE:
        records.create_patient(
            db, records.PatientFields(given, family, mrn, date_of_birth=born), user="t"
        )
    return db


def mrns(db: Database, query: str) -> set[str]:
    return {p.mrn for p in records.search_patients(db, query, limit=100)}


@pytest.mark.parametrize(
    ("typed", "period"),
    [
        ("1991", Period(date(1991, 1, 1), date(1992, 1, 1), "1991")),
        ("1991-04", Period(date(1991, 4, 1), date(1991, 5, 1))),
        ("1991/4", Period(date(1991, 4, 1), date(1991, 5, 1))),
        ("04.1991", Period(date(1991, 4, 1), date(1991, 5, 1))),
        ("12/1991", Period(date(1991, 12, 1), date(1992, 1, 1))),
        ("1991-13", None),
        ("1991-00", None),
        ("0042", None),
        ("2201", None),
        ("19910", None),
        ("1991-04-12", None),  # a whole date, not a period
        ("١٩٩١", None),  # Arabic-Indic digits: not a year typed here
    ],
)
def test_parse_period(typed: str, period: Period | None) -> None:
    assert parse_period(typed) == period


def test_a_year_finds_everyone_born_in_it_and_mrns_starting_with_it(people: Database) -> None:
    assert mrns(people, "1991") == {"A-1", "A-2", "A-3", "A-4", "A-5", "19910077"}


def test_a_month_finds_those_born_in_it(people: Database) -> None:
    april = {"A-1", "A-2"}
    for typed in ("1991-04", "1991-4", "04.1991", "4/1991", "1991/04"):
        assert mrns(people, typed) == april, typed
    assert mrns(people, "1991-12") == {"A-5"}
    assert mrns(people, "1990-12") == {"A-6"}


def test_a_period_narrows_a_name_and_a_name_a_period(people: Database) -> None:
    assert mrns(people, "nowak 1991") == {"A-1", "A-3"}
    assert mrns(people, "nowak 1991-04") == {"A-1"}
    assert mrns(people, "1991-04 NOWAK") == {"A-1"}
    assert mrns(people, "łukasz 1991-05") == set()
    assert mrns(people, "1991 1991-04") == {"A-1", "A-2"}


def test_digits_that_are_no_year_are_still_searched_as_text(people: Database) -> None:
    assert "19910077" in mrns(people, "1991007")  # an MRN prefix, not a year
    assert mrns(people, "1991-13") == set()  # no month 13, no one born "1991 13"
    assert mrns(people, "2201") == set()


def test_parse_query_keeps_dates_periods_and_words_apart() -> None:
    q = parse_query("nowak 1991-04 12.04.1991")
    assert q.words == ("nowak",)
    assert q.dates == (date(1991, 4, 12),)
    assert q.periods == (Period(date(1991, 4, 1), date(1991, 5, 1)),)
    assert not q.empty


def test_the_period_is_an_index_range_on_sqlite(sqlite_db: Database) -> None:
    """The plan for a year and a month uses the date-of-birth (and MRN) indexes."""
    from sqlalchemy import select

    from clinic_app.storage.records.search import _PATIENT, _born_in

    for typed in ("1991", "1991-04"):
        period = parse_period(typed)
        assert period is not None
        stmt = select(_PATIENT.c.id).where(_born_in(period))
        compiled = stmt.compile(
            dialect=sqlite_db.engine.dialect, compile_kwargs={"literal_binds": True}
        )
        with sqlite_db.connection() as conn:
            plan = " ".join(
                str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
        assert "ix_patient_date_of_birth" in plan, plan
        assert "SCAN patient" not in plan.replace("SCAN patient_fts", ""), plan
