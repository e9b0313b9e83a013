"""Automatic MRNs from the clinic's pattern on both backends (issue 18).

The next number is one past the highest of the pattern's MRNs (typed MRNs that do not match are
ignored); two workstations that proposed the same number both save, the second with the next
free one; a bad pattern is refused naming the setting.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest

from clinic_app.storage import records
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.errors import DuplicateMRNError, StorageError
from clinic_app.storage.records.mrn import (
    create_patient_numbered,
    format_mrn,
    next_mrn,
    pattern_problem,
)

PATTERN = "P{year}-{n:05}"
TODAY = date(2026, 12, 2)


def person(mrn: str, given: str = "Al") -> records.PatientFields:
    return records.PatientFields(given, "Bo", mrn)


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("", None),
        ("P{year}-{n:05}", None),
        ("{n}", None),
        ("CLINIC/{year}/{n:6}", None),
        ("P{n}{n}", "exactly one {n}"),
        ("P{year}", "exactly one {n}"),
        ("P {n}", "only letters"),
        ("P{n}'; DROP TABLE patient;--", "only letters"),
        ("{year}{year}{n}", "more than once"),
        ("{year:02}{n}", "without a width"),
        ("{n:99}", "exactly one {n}"),
        ("P{name}{n}", "only letters"),
        ("X" * 41 + "{n}", "longer than 40"),
        (17, "must be text"),
    ],
)
def test_pattern_problems(pattern, problem) -> None:
    found = pattern_problem(pattern)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_format() -> None:
    assert format_mrn(PATTERN, 7, 2026) == "P2026-00007"
    assert format_mrn(PATTERN, 123456, 2026) == "P2026-123456"  # wider than the width: kept
    assert format_mrn("{n}-K", 3, 2026) == "3-K"


def test_next_number_follows_the_highest_of_this_year(db: Database) -> None:
    assert next_mrn(db, PATTERN, TODAY) == "P2026-00001"
    for mrn in ("P2026-00001", "P2026-00009", "P2026-abc", "P2026-000010x", "P2025-00500", "Q1"):
        records.create_patient(db, person(mrn), user="t")
    assert next_mrn(db, PATTERN, TODAY) == "P2026-00010"
    assert next_mrn(db, PATTERN, date(2027, 1, 1)) == "P2027-00001"  # a new year starts at 1
    records.create_patient(db, person("P2026-99999"), user="t")
    records.create_patient(db, person("P2026-100000"), user="t")  # past the width
    assert next_mrn(db, PATTERN, TODAY) == "P2026-100001"
    # Characters that mean something to LIKE are plain text in a pattern's prefix.
    records.create_patient(db, person("A_1"), user="t")
    assert next_mrn(db, "A.{n}", TODAY) == "A.1"


def test_an_unusable_pattern_is_refused(db: Database) -> None:
    with pytest.raises(StorageError, match="exactly one"):
        next_mrn(db, "P{year}", TODAY)
    with pytest.raises(StorageError, match="MRN pattern"):
        records.save_setting(db, "mrn_pattern", "P {n}", user="admin")
    assert records.get_setting(db, "mrn_pattern") == ""  # unchanged: still typed MRNs
    records.save_setting(db, "mrn_pattern", PATTERN, user="admin")
    assert records.get_setting(db, "mrn_pattern") == PATTERN


def test_two_workstations_proposing_the_same_number_both_save(db: Database) -> None:
    other = open_database(db.url, backup=False)  # a second workstation: its own connections
    try:
        mine = next_mrn(db, PATTERN, TODAY)
        theirs = next_mrn(other, PATTERN, TODAY)
        assert mine == theirs == "P2026-00001"
        first = create_patient_numbered(other, person(theirs, "Them"), PATTERN, user="b")
        second = create_patient_numbered(db, person(mine, "Me"), PATTERN, user="a", today=TODAY)
        assert first.mrn == "P2026-00001"
        assert second.mrn == "P2026-00002"
        assert second.given_name == "Me"
    finally:
        other.close()


def test_many_at_once_never_share_a_number(db: Database) -> None:
    made: list[str] = []
    problems: list[BaseException] = []
    lock = threading.Lock()

    def workstation(name: str) -> None:
        station = open_database(db.url, backup=False)
        try:
            for n in range(8):
                proposal = next_mrn(station, PATTERN, TODAY)
                p = create_patient_numbered(
                    station, person(proposal, f"{name}{n}"), PATTERN, user=name, today=TODAY
                )
                with lock:
                    made.append(p.mrn)
        except BaseException as err:  # reported below
            problems.append(err)
        finally:
            station.close()

    threads = [threading.Thread(target=workstation, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert problems == []
    assert len(made) == 24
    assert len(set(made)) == 24
    assert sorted(made) == [f"P2026-{n:05d}" for n in range(1, 25)]


def test_a_typed_mrn_that_is_taken_is_still_refused(db: Database) -> None:
    records.create_patient(db, person("M-1"), user="t")
    with pytest.raises(DuplicateMRNError):
        records.create_patient(db, person("M-1", "Other"), user="t")
