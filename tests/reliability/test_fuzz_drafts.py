"""Fuzzed findings saved as drafts through the records API, on SQLite and PostgreSQL.

What the editor hands to ``save_draft`` (and what a findings file could hold): text with NUL and
other control characters, right-to-left marks, emoji, long text, numbers of every size, wrong
types. Each save must either store exactly what ``validate`` accepted -- read back unchanged, on
both backends alike -- or be refused with a FindingsError/StorageError naming the item, leaving the
draft's version and the audit trail as they were. A driver error is a traceback for the user and
an autosave that fails forever: the test fails on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from clinic_app.core.findings import FindingsError, validate
from clinic_app.storage import records
from clinic_app.storage.database import Database, open_database
from clinic_app.storage.errors import StorageError
from tests.reliability.helpers import USER, findings, seed_records, small_form
from tests.reliability.test_fuzz_patients import HOSTILE

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORM = small_form()
texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60))
values = st.fixed_dictionaries(
    {},
    optional={
        "notes": texts,
        "involved_side": st.one_of(st.sampled_from(["left", "right", "both"]), texts),
        "pain_now": st.one_of(st.integers(-5, 15), st.floats(allow_nan=True), texts),
        "nordic_force": st.fixed_dictionaries(
            {}, optional={"left": st.floats(-10, 2000), "right": st.integers(-10, 2000)}
        ),
        "slump": st.fixed_dictionaries(
            {}, optional={"left": st.sampled_from(["positive", "negative"]), "right": texts}
        ),
        "pain_location": st.lists(st.sampled_from(["sit_bone", "mid_thigh", "knee"]), max_size=3),
    },
)


@pytest.fixture
def draft(database_url: str) -> Iterator[tuple[Database, int]]:
    db = open_database(database_url, backup=False)
    try:
        yield db, seed_records(db, FORM).id
    finally:
        db.close()


def _saves(db: Database, evaluation_id: int) -> int:
    events = records.audit_events(db, entity="evaluation", entity_id=evaluation_id, limit=100_000)
    return len(events)


@FUZZ
@given(data=values)
@example(data={"notes": "Kim\x00Runner"})
@example(data={"notes": "\x1b[31m red"})
@example(data={"notes": "\u202eenuR miK 👩‍⚕️"})
def test_fuzzed_draft_is_stored_exactly_or_refused_naming_the_item(
    draft: tuple[Database, int], data: dict[str, Any]
) -> None:
    db, evaluation_id = draft
    before = records.get_evaluation(db, evaluation_id)
    audit_before = _saves(db, evaluation_id)
    raw = findings(FORM, **data)
    try:
        accepted = validate(FORM, raw).to_dict()["values"]
    except FindingsError:
        accepted = None
    try:
        records.save_draft(db, evaluation_id, raw, before.version, user=USER)
    except (FindingsError, StorageError) as err:
        message = str(err)
        assert any(item in message for item in data), f"refusal names no item: {message!r}"
        after = records.get_evaluation(db, evaluation_id)
        assert after.version == before.version
        assert after.findings == before.findings
        assert _saves(db, evaluation_id) == audit_before
        return
    assert accepted is not None, "save_draft stored findings that validate refuses"
    stored = records.get_evaluation(db, evaluation_id).findings["values"]
    assert stored == accepted, "the stored findings differ from what was accepted"
