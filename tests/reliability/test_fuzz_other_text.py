"""The other free text a person types, through the records API on SQLite and PostgreSQL.

Clinician details, the clinic's name/address/phone, an addendum, and the user name stamped on
every change: each gets hostile text (NUL and other control characters, right-to-left marks,
emoji, text longer than its column). The call must store it (read back as given, surrounding
whitespace aside) or refuse it with a StorageError naming the field, changing nothing. A driver
error (PostgreSQL refuses NUL bytes and over-long text outright) is a traceback for the user and
fails the test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from clinic_app.storage import records
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.errors import StorageError
from tests.reliability.helpers import USER, findings, seed_records, small_form
from tests.reliability.test_fuzz_patients import HOSTILE

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORM = small_form()
texts = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.text(min_size=1, max_size=3).map(lambda s: s * 800),
)
_n = itertools.count(1)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url, backup=False)
    try:
        yield database
    finally:
        database.close()


def _counts(db: Database) -> int:
    return len(records.audit_events(db, limit=1_000_000))


def _clinician(field: str) -> Callable[[Database, str], str]:
    def run(db: Database, text: str) -> str:
        values = {"name": f"Dana {next(_n)}", "credentials": "PT", "licence_number": "L-1"}
        values[field] = text
        saved = records.save_clinician(db, records.ClinicianInfo(**values), user=USER)
        return str(getattr(records.get_clinician(db, saved.id), field))

    return run


def _clinic(field: str) -> Callable[[Database, str], str]:
    def run(db: Database, text: str) -> str:
        values = {"name": "Clinic", "address": "1 High St", "phone": "0100"}
        values[field] = text
        records.save_clinic(db, records.ClinicInfo(**values), user=USER)
        clinic = records.get_clinic(db)
        assert clinic is not None
        return str(getattr(clinic, field))

    return run


def _addendum(db: Database, text: str) -> str:
    ev = seed_records(db, FORM, mrn=f"ADD-{next(_n)}")
    records.sign_evaluation(db, ev.id, ev.version, user=USER)
    added = records.add_addendum(db, ev.id, text, user=USER)
    return records.get_evaluation(db, ev.id).addenda[-1].text if added else ""


def _user(db: Database, text: str) -> str:
    ev = seed_records(db, FORM, mrn=f"USR-{next(_n)}")
    records.save_draft(db, ev.id, findings(FORM, notes="seen"), ev.version, user=text)
    return records.get_evaluation(db, ev.id).updated_by


TARGETS: dict[str, tuple[Callable[[Database, str], str], tuple[str, ...]]] = {
    "clinician name": (_clinician("name"), ("name",)),
    "clinician credentials": (_clinician("credentials"), ("credentials",)),
    "clinician licence": (_clinician("licence_number"), ("licence",)),
    "clinic name": (_clinic("name"), ("name",)),
    "clinic address": (_clinic("address"), ("address",)),
    "clinic phone": (_clinic("phone"), ("phone",)),
    "addendum": (_addendum, ("addendum",)),
    "user name": (_user, ("user",)),
}


@FUZZ
@given(target=st.sampled_from(sorted(TARGETS)), text=texts)
@example(target="addendum", text="Kim\x00Runner")
@example(target="clinician name", text="b" * 201)
@example(target="clinic address", text="\x00")
@example(target="user name", text="Dana\x00")
def test_other_text_is_stored_or_refused_naming_the_field(
    db: Database, target: str, text: str
) -> None:
    run, words = TARGETS[target]
    before = _counts(db)
    try:
        got: Any = run(db, text)
    except StorageError as err:
        message = str(err).lower()
        assert any(w in message for w in words), f"{target}: refusal names no field: {message}"
        if target not in ("addendum", "user name"):  # those create their own draft first
            assert _counts(db) == before, f"{target}: a refused change was audited"
        return
    assert got in (text, text.strip()), f"{target} was stored as {got!r}, typed {text!r}"
