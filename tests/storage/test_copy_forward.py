"""Copy-forward by rule (issue 12): a re-evaluation starts with what the form carries forward.

The red-flag screen, today's pain scores and symptom behaviour are asked afresh at every visit:
a re-evaluation opened from a signed evaluation with red flags set starts with none of them,
and what is carried is marked until re-measured or confirmed. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest

from clinic_app.core.engine import assess
from clinic_app.core.findings import validate
from clinic_app.core.form import Form, load_form, parse_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records as r
from tests.storage.conftest import small_form_data


@pytest.fixture(scope="module")
def shipped() -> Form:
    return load_form(default_form_path())


FIRST_VISIT: dict[str, Any] = {
    "involved_side": "left",
    "pain_now": 6,
    "pain_worst": 8,
    "pain_during_run": 5,
    "run_pain_behaviour": "grows",
    "aggravating": ["sitting", "running"],
    "rf_saddle_numbness": "yes",
    "rf_night_pain": "yes",
    "hop_painful": {"left": "yes"},
    "previous_strains": 2,
    "slr_deg": {"left": 62, "right": 80},
    "hip_flexor_mmt": {"left": 5, "right": 3.75},
    "assessment": "Today's impression.",
}


def test_a_re_evaluation_starts_without_red_flags_pain_or_symptom_behaviour(
    db: Any, shipped: Form
) -> None:
    p = r.create_patient(db, r.PatientFields("Ann", "Again", "CF-1"), user="t")
    first = r.start_evaluation(db, p.id, shipped, user="t")
    r.save_draft(db, first.id, {"values": FIRST_VISIT}, first.version, user="t")
    signed_version = r.get_evaluation(db, first.id).version
    r.sign_evaluation(db, first.id, signed_version, user="t")
    assert assess(shipped, validate(shipped, {"values": FIRST_VISIT})).red_flags

    again = r.start_evaluation(db, p.id, shipped, user="t", kind="re_evaluation")
    values = again.findings["values"]
    assert again.carried_from == first.id
    for fresh in (
        "pain_now",
        "pain_worst",
        "pain_during_run",
        "run_pain_behaviour",
        "aggravating",
        "rf_saddle_numbness",
        "rf_night_pain",
        "assessment",
    ):
        assert fresh not in values, fresh
    assert values["slr_deg"] == {"left": 62, "right": 80}
    assert values["hip_flexor_mmt"] == {"left": 5, "right": 3.75}
    assert again.carried_forward == (
        "hip_flexor_mmt",
        "hop_painful",
        "involved_side",
        "previous_strains",
        "slr_deg",
    )
    # Nothing set on the red-flag screen, so no red flag fires from the copied values alone
    # except the one whose finding is a re-measured test (the hop), which stays marked carried.
    fired = {f.id for f in assess(shipped, validate(shipped, again.findings)).red_flags}
    assert "R3" not in fired
    assert "R9" not in fired

    # Confirming a section's carried values, or re-measuring one, ends its "carried" mark.
    saved = r.save_draft(
        db, again.id, again.findings, again.version, user="t", confirmed=("previous_strains",)
    )
    assert "previous_strains" not in saved.carried_forward
    assert "slr_deg" in saved.carried_forward


def test_an_item_flag_overrides_its_section(db: Any) -> None:
    data = small_form_data()
    items = data["sections"][0]["items"]
    next(i for i in items if i["id"] == "pain_now")["carry_forward"] = False
    data["sections"][0]["carry_forward"] = True
    form = parse_form(data, "test form")
    assert form.carries_forward("nordic_force")
    assert not form.carries_forward("pain_now")
    p = r.create_patient(db, r.PatientFields("Bo", "Flag", "CF-2"), user="t")
    first = r.start_evaluation(db, p.id, form, user="t")
    r.save_draft(
        db,
        first.id,
        {"values": {"pain_now": 4, "nordic_force": {"left": 300}}},
        first.version,
        user="t",
    )
    again = r.start_evaluation(db, p.id, form, user="t", kind="re_evaluation")
    assert again.findings["values"] == {"nordic_force": {"left": 300}}
    assert again.carried_forward == ("nordic_force",)
