"""Fuzzed patient details through the records API, on SQLite and PostgreSQL.

One field of an otherwise valid patient is replaced by something hostile: control characters,
NUL bytes, right-to-left text and marks, emoji, very long text, odd dates. ``create_patient`` and
``update_patient`` must either store exactly what was given (after trimming surrounding
whitespace, as documented) -- and read it back unchanged -- or refuse with a StorageError that
names the field, leaving the row count and the audit trail as they were. Any other exception (a
driver error) is what a person would see as a traceback: the test fails on it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from clinic_app.storage import records
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.errors import StorageError
from clinic_app.storage.records import PatientFields

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
USER = "Dana Fuzz"
TEXT_FIELDS = (
    "given_name",
    "family_name",
    "mrn",
    "phone",
    "email",
    "activity",
    "referring_provider",
)
# Words by which a message names each field.
FIELD_WORDS = {
    "given_name": ("given name", "given_name", "first name"),
    "family_name": ("family name", "family_name", "last name", "surname"),
    "mrn": ("MRN", "medical record number"),
    "phone": ("phone",),
    "email": ("email", "e-mail"),
    "activity": ("activity", "sport"),
    "referring_provider": ("referring", "provider"),
    "date_of_birth": ("date of birth", "date_of_birth", "born"),
    "sex": ("sex",),
}
HOSTILE = [
    "\x00",
    "Kim\x00Runner",
    "\x07\x08\x1b[31m",
    "\u202eenuR miK",
    "مريم الحسن",
    "שרה לוי",
    "👩‍⚕️🏃‍♀️",
    "Zoë\u0301",
    "\ufeffBOM",
    "a" * 64,
    "a" * 65,
    "b" * 100,
    "b" * 101,
    "c" * 201,
    "Ünïcödé " * 2000,
    "line\nbreak",
    "\t",
]
texts = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.text(min_size=1, max_size=3).map(lambda s: s * 1500),
)
dates = st.one_of(st.none(), st.dates(), st.sampled_from([date(1, 1, 1), date(9999, 12, 31)]))
sexes = st.sampled_from(["female", "male", "other", "unknown", "", "F", "Female", "unknown "])
changes = st.one_of(
    st.tuples(st.sampled_from(TEXT_FIELDS), texts),
    st.tuples(st.just("date_of_birth"), dates),
    st.tuples(st.just("sex"), sexes),
)
_mrns = itertools.count(1)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url, backup=False)
    try:
        yield database
    finally:
        database.close()


def _counts(db: Database) -> tuple[int, int]:
    return (
        records.count_patients(db, include_archived=True),
        len(records.audit_events(db, limit=1_000_000)),
    )


def _expected(fields: PatientFields) -> dict[str, Any]:
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in vars(fields).items()}


def _check(db: Database, action: Any, field: str, fields: PatientFields) -> None:
    before = _counts(db)
    try:
        patient = action(fields)
    except StorageError as err:
        message = str(err)
        assert any(w.lower() in message.lower() for w in FIELD_WORDS[field]), (
            f"refusal of {field} does not name it: {message!r}"
        )
        assert _counts(db) == before, "a refused patient changed the records or the audit"
        return
    stored = records.get_patient(db, patient.id)
    expected = _expected(fields)
    got = {k: getattr(stored, k) for k in expected}
    assert got == expected, f"{field} was stored differently from what was typed"


@FUZZ
@given(change=changes)
@example(change=("given_name", "\x00"))
@example(change=("family_name", "b" * 101))
@example(change=("mrn", "\u202eRTL-123"))
def test_fuzzed_patient_field_is_stored_exactly_or_refused_naming_it(
    db: Database, change: tuple[str, Any]
) -> None:
    field, value = change
    n = next(_mrns)
    base = PatientFields(
        given_name="Kim",
        family_name="Runner",
        mrn=f"FUZZ-{n}",
        date_of_birth=date(1990, 5, 17),
        sex="female",
        phone="+44 20 7946 0000",
        email="kim@example.org",
        activity="trail running",
        referring_provider="Dr Okafor",
    )
    fields = replace(base, **{field: value})
    _check(db, lambda f: records.create_patient(db, f, user=USER), field, fields)
    existing = records.create_patient(db, replace(base, mrn=f"FUZZ-{n}-u"), user=USER)
    fields = replace(fields, mrn=fields.mrn if field == "mrn" else f"FUZZ-{n}-u")
    _check(
        db,
        lambda f: records.update_patient(db, existing.id, f, user=USER).patient,
        field,
        fields,
    )


search_texts = st.one_of(
    st.text(max_size=30),
    st.lists(
        st.sampled_from(['"', "*", "NEAR(", "AND", "OR", "NOT", "^", "-", ":", "(", ")", "%", "_"]),
        max_size=6,
    ).map(" ".join),
    st.sampled_from(HOSTILE),
)


@FUZZ
@given(query=search_texts)
@example(query='"kim')
@example(query="\x00")
def test_fuzzed_search_text_returns_patients_or_nothing(db: Database, query: str) -> None:
    """The search box takes whatever is typed: FTS5 syntax, NUL, RTL marks -- never an error."""
    if records.count_patients(db) == 0:
        records.create_patient(
            db, PatientFields(given_name="Kim", family_name="Runner", mrn="SEARCH-1"), user=USER
        )
    found = records.search_patients(db, query)
    assert isinstance(found, list)


@FUZZ
@given(text=st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE)))
@example(text="31.02.1990")
@example(text="0000-01-01")
@example(text="9999-12-31")
@example(text="1990-1-1" + "1" * 5000)
def test_fuzzed_date_of_birth_text_is_read_or_explained(text: str) -> None:
    """The date-of-birth field: a date, blank, or a reason shown beside the field."""
    from clinic_app.ui.dialogs import check_date_of_birth

    born, reason = check_date_of_birth(text, today=date(2026, 11, 21))
    assert born is None or reason is None
    if born is not None:
        assert date(1906, 1, 1) <= born <= date(2026, 11, 21)
    if reason is not None:
        assert reason.strip()
