"""Drafts kept on this computer while the server was away (storage.kept): private files, kept
per database, stored over the version they were typed on, a copy when changed meanwhile."""

from __future__ import annotations

import stat

import pytest

from clinic_app.core.form import Form
from clinic_app.storage import kept, records
from clinic_app.storage.database import Database
from clinic_app.storage.errors import StorageError

USER = "Dana Kept"


def _draft(db: Database, form: Form) -> tuple[records.Evaluation, kept.KeptDraft]:
    patient = records.create_patient(
        db, records.PatientFields(given_name="Kim", family_name="Kept", mrn="K-1"), user=USER
    )
    ev = records.start_evaluation(db, patient.id, form, user=USER)
    mine = {"form": form.id, "form_version": form.version, "values": {"pain_now": 4}}
    draft = kept.KeptDraft(ev.id, ev.version, USER, db.where, mine)
    return ev, draft


def test_a_kept_draft_is_private_and_saved_once(db: Database, form: Form) -> None:
    ev, draft = _draft(db, form)
    path = kept.keep(draft)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert kept.kept("another database") == []
    (found,) = kept.kept(db.where)
    result = kept.save_kept(db, found)
    assert result.copy_id is None
    assert records.get_evaluation(db, ev.id).findings["values"] == {"pain_now": 4}
    assert not path.exists()
    assert kept.kept() == []


def test_a_kept_draft_over_a_newer_version_becomes_a_copy(db: Database, form: Form) -> None:
    ev, draft = _draft(db, form)
    kept.keep(draft)
    theirs = {"form": form.id, "form_version": form.version, "values": {"pain_now": 9}}
    records.save_draft(db, ev.id, theirs, ev.version, user="Blake")
    result = kept.save_kept(db, kept.kept(db.where)[0])
    assert result.changed_by == "Blake"
    assert result.copy_id is not None
    assert records.get_evaluation(db, ev.id).findings["values"] == {"pain_now": 9}
    assert records.get_evaluation(db, result.copy_id).findings["values"] == {"pain_now": 4}
    assert kept.kept() == []


def test_a_kept_draft_of_an_evaluation_signed_meanwhile_stays(db: Database, form: Form) -> None:
    ev, draft = _draft(db, form)
    path = kept.keep(draft)
    records.sign_evaluation(db, ev.id, ev.version, user="Blake")
    with pytest.raises(StorageError, match="signed meanwhile"):
        kept.save_kept(db, kept.kept(db.where)[0])
    assert path.exists()
