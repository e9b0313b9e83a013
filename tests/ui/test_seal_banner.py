"""Issue 13: opening a signed evaluation checks its seal and says plainly when it was changed."""

from __future__ import annotations

import sqlite3
from typing import Any

from clinic_app.storage import records
from clinic_app.ui.main_window import MainWindow


def _signed(window: MainWindow, mini_form: Any) -> tuple[records.Patient, records.Evaluation]:
    db = window.db
    patient = records.create_patient(db, records.PatientFields("Si", "Gned", "S-13"), user="t")
    ev = records.start_evaluation(db, patient.id, mini_form, user="t")
    saved = records.save_draft(
        db, ev.id, {"form_version": 1, "values": {"pain_now": 6}}, ev.version, user="t"
    )
    records.sign_evaluation(db, ev.id, saved.version, user="Dana Physio")
    return patient, records.get_evaluation(db, ev.id)


def test_sound_signed_evaluation_shows_no_warning(window: MainWindow, mini_form: Any) -> None:
    patient, ev = _signed(window, mini_form)
    window.page.open(ev, patient)
    assert window.page.seal_problems == []
    assert window.page.seal_banner.isHidden()
    assert window.page.status.property("state") == "signed"


def test_changed_signed_evaluation_is_shown_plainly(window: MainWindow, mini_form: Any) -> None:
    patient, ev = _signed(window, mini_form)
    assert window.db.path is not None
    conn = sqlite3.connect(window.db.path, isolation_level=None)
    conn.execute("DROP TRIGGER evaluation_signed_no_update")
    conn.execute(
        "UPDATE evaluation SET findings = json_set(findings, '$.values.pain_now', 1) WHERE id = ?",
        (ev.id,),
    )
    conn.close()
    window.page.open(records.get_evaluation(window.db, ev.id), patient)
    banner = window.page.seal_banner
    assert not banner.isHidden()
    assert "This record was changed after it was signed" in banner.text()
    assert "signed:</b> findings" in banner.text()
    assert window.page.status.property("state") == "broken"


def test_a_seal_made_elsewhere_says_it_cannot_be_checked_here(
    window: MainWindow, mini_form: Any
) -> None:
    """The record is unchanged; only its key is not trusted on this computer (a new signing
    key here, as on another workstation): the banner must not say it was changed."""
    from clinic_app.paths import data_dir
    from clinic_app.storage import sealing

    patient, ev = _signed(window, mini_form)
    (data_dir() / sealing.KEY_FILE).unlink()
    sealing._keys.clear()
    window.page.open(ev, patient)
    banner = window.page.seal_banner
    assert not banner.isHidden()
    assert "This record's seal cannot be checked on this computer" in banner.text()
    assert "changed after it was signed" not in banner.text()
