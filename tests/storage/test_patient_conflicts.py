"""Two workstations editing the same patient: different details merge, the same detail conflicts.

Before, the second save replaced every field with what its dialog had loaded, silently undoing
the first workstation's change to another field.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from clinic_app.storage import records
from clinic_app.storage.database import Database
from clinic_app.storage.errors import PatientConflictError


def _anna(db: Database) -> records.Patient:
    return records.create_patient(
        db,
        records.PatientFields("Anna", "Müller", "MRN-A", date(1984, 3, 7), phone="111"),
        user="setup",
    )


def test_edits_of_different_details_are_both_kept(db: Database) -> None:
    loaded = _anna(db)  # both workstations open the same patient
    records.update_patient(
        db, loaded.id, replace(loaded.fields(), phone="222"), user="desk", expected=loaded
    )
    change = records.update_patient(
        db, loaded.id, replace(loaded.fields(), email="a@x.org"), user="pt", expected=loaded
    )
    assert change.changed == ("email",)
    now = records.get_patient(db, loaded.id)
    assert (now.phone, now.email) == ("222", "a@x.org")  # the desk's phone survived


def test_the_same_detail_changed_twice_is_refused_and_nothing_written(db: Database) -> None:
    loaded = _anna(db)
    records.update_patient(
        db, loaded.id, replace(loaded.fields(), phone="222"), user="desk", expected=loaded
    )
    with pytest.raises(PatientConflictError) as caught:
        records.update_patient(
            db,
            loaded.id,
            replace(loaded.fields(), phone="333", activity="trail running"),
            user="pt",
            expected=loaded,
        )
    err = caught.value
    assert err.fields == ("phone",)
    assert err.theirs.phone == "222"
    assert err.theirs.updated_by == "desk"
    assert "phone changed by desk" in str(err)
    now = records.get_patient(db, loaded.id)
    assert (now.phone, now.activity) == ("222", "")  # nothing of the refused save
    # Saving over it knowingly: expected is what is stored now.
    records.update_patient(
        db,
        loaded.id,
        replace(err.theirs.fields(), phone="333"),
        user="pt",
        expected=err.theirs,
    )
    assert records.get_patient(db, loaded.id).phone == "333"


def test_the_same_value_typed_on_both_is_no_conflict(db: Database) -> None:
    loaded = _anna(db)
    records.update_patient(
        db, loaded.id, replace(loaded.fields(), phone="222"), user="desk", expected=loaded
    )
    change = records.update_patient(
        db, loaded.id, replace(loaded.fields(), phone="222"), user="pt", expected=loaded
    )
    assert change.changed == ()


def test_without_expected_every_field_is_replaced(db: Database) -> None:
    loaded = _anna(db)
    records.update_patient(db, loaded.id, replace(loaded.fields(), phone="222"), user="desk")
    records.update_patient(db, loaded.id, replace(loaded.fields(), email="a@x.org"), user="script")
    assert records.get_patient(db, loaded.id).phone == "111"  # the caller asked for all fields
