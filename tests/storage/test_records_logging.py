"""What the storage layer logs names ids and counts, never a patient's details or findings."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import demo
from clinic_app.storage import records as r
from clinic_app.storage.database import Database
from clinic_app.storage.errors import ConflictError, DuplicateMRNError, PatientConflictError


def _private_texts() -> set[str]:
    texts: set[str] = set()
    for patient in demo.PATIENTS:
        f = patient.fields
        texts |= {f.given_name, f.family_name, f.mrn, f.phone, f.email, f.referring_provider}
        if f.date_of_birth is not None:
            born = f.date_of_birth
            texts |= {born.isoformat(), born.strftime("%d.%m.%Y"), born.strftime("%d/%m/%Y")}
        for _days, _kind, values, _sign, note in patient.visits:
            texts |= {v for v in values.values() if isinstance(v, str) and len(v) > 12}
            if note:
                texts.add(note)
    return {t for t in texts if t}


def test_a_demo_session_logs_no_patient_data(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    form: Form = load_form(default_form_path())
    with caplog.at_level(logging.DEBUG, logger="clinic_app"):
        demo.fill_demo(db, form)
        anna = r.search_patients(db, "muller")[0]
        zoe = r.search_patients(db, "zoe")[0]
        # The paths that log a refusal: a duplicate MRN, a patient edited on two desks, a stale
        # draft save.
        with pytest.raises(DuplicateMRNError):
            r.update_patient(db, zoe.id, replace(zoe.fields(), mrn=anna.mrn), user="demo")
        r.update_patient(db, anna.id, replace(anna.fields(), phone="+49 1"), user="desk 1")
        with pytest.raises(PatientConflictError):
            r.update_patient(
                db, anna.id, replace(anna.fields(), phone="+49 2"), user="desk 2", expected=anna
            )
        draft = next(s for s in r.list_evaluations(db, zoe.id) if s.status == "draft")
        ev = r.get_evaluation(db, draft.id)
        r.save_draft(db, ev.id, dict(ev.findings), ev.version, user="desk 1")
        with pytest.raises(ConflictError):
            r.save_draft(db, ev.id, {"values": {}}, ev.version - 1, user="desk 2")
        r.sign_evaluation(db, ev.id, ev.version, user="desk 1")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "signed" in logged
    assert "save conflict" in logged
    assert "changed by another save too" in logged
    leaked = sorted(t for t in _private_texts() | {"+49 1", "+49 2"} if t in logged)
    assert leaked == []
