"""Issue 14, real widgets: signing asks the signed-in clinician's password again; a student's
signature awaits a therapist's co-signature (read-only, a banner, the patient's list says so);
a therapist co-signs or returns it; the report names both (read back with pypdf)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QComboBox, QInputDialog, QLabel, QLineEdit

from clinic_app.core.form import Form
from clinic_app.storage import accounts, records
from clinic_app.storage.database import Database
from clinic_app.storage.values import Clinician
from clinic_app.ui.main_window import MainWindow
from tests.ui.conftest import PASSWORD
from tests.ui.helpers import password_answer, press, settle, sign_with_password, when_modal

STUDENT_PASSWORD = "student pass 2026"


@pytest.fixture
def student(db: Database, account: Clinician) -> Clinician:
    return accounts.add_account(
        db,
        "sam",
        STUDENT_PASSWORD,
        roles=["student"],
        display_name="Sam Student",
        credentials="SPT",
        by=account,
    )


def make_window(qtbot: Any, db: Database, form: Form, who: Clinician) -> MainWindow:
    w = MainWindow(db, form, who)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    return w


def open_new_draft(qtbot: Any, window: MainWindow, mrn: str) -> records.Evaluation:
    patient = records.create_patient(
        window.db, records.PatientFields("Ida", "Cosign", mrn), user="t"
    )
    window.patients.model.reload()
    window.patients.select_patient(patient.id)
    window.detail.new_eval_button.click()
    settle(qtbot, window)
    ev = window.page.evaluation
    assert ev is not None
    return ev


def open_existing(qtbot: Any, window: MainWindow, ev: records.Evaluation) -> None:
    window.patients.model.reload()
    window.patients.select_patient(ev.patient_id)
    settle(qtbot, window)
    window.detail.evaluation_opened.emit(ev.id)
    settle(qtbot, window)
    assert window.page.evaluation is not None
    assert window.page.evaluation.id == ev.id


def type_pain(qtbot: Any, window: MainWindow, text: str) -> None:
    """Choose the pain score in its box, as a clinician does."""
    view = window.page.view
    assert view is not None
    view.editor.set_current_section("subjective")
    pain = view.editor.editor("pain_now").focus_widgets()[0]
    assert isinstance(pain, QComboBox)
    pain.setCurrentIndex(pain.findData(int(text)))


def test_a_wrong_password_signs_nothing_and_the_draft_stays_editable(
    qtbot: Any, window: MainWindow
) -> None:
    ev = open_new_draft(qtbot, window, "W-1")
    type_pain(qtbot, window, "4")
    assert window.page.flush()
    before = records.get_evaluation(window.db, ev.id)
    seen: dict[str, Any] = {}

    def wrong(dialog: Any) -> None:
        seen["title"] = dialog.windowTitle()
        dialog.findChild(QLineEdit, "signPassword").setText("not her password")
        press(dialog, "Sign")
        error = dialog.findChild(QLabel, "signPasswordError")
        qtbot.waitUntil(error.isVisible, timeout=5000)  # the operation came back: refused
        seen["error"] = error.text()
        seen["still_open"] = dialog.isVisible()
        press(dialog, "Cancel")

    def confirm(box: Any) -> None:
        when_modal(wrong)
        press(box, "Yes")

    when_modal(confirm)
    window.page.sign_button.click()
    qtbot.waitUntil(lambda: "still_open" in seen, timeout=8000)
    settle(qtbot, window)
    assert seen["title"] == "Sign as Dana Physio"  # the signed-in clinician, nobody else
    assert seen["error"] == "wrong name or password"
    assert seen["still_open"]
    after = records.get_evaluation(window.db, ev.id)
    assert after.status == "draft"
    assert after.version == before.version
    assert after.findings == before.findings
    assert window.page.view is not None
    assert not window.page.view.editor.is_read_only()  # editable again, as it was
    assert window.page.sign_button.isVisible()
    assert window.page.sign_button.isEnabled()
    # The right password signs, as Dana.
    sign_with_password(PASSWORD)
    with qtbot.waitSignal(window.page.signed, timeout=8000):
        window.page.sign_button.click()
    signed = records.get_evaluation(window.db, ev.id)
    assert signed.is_signed
    assert signed.signed_by == "Dana Physio"
    assert signed.seal is not None
    assert signed.seal["signer"]["login"] == "dana"


def test_a_students_signature_awaits_a_therapists_cosignature_and_the_report_names_both(
    qtbot: Any,
    db: Database,
    mini_form: Form,
    clinician: Clinician,
    student: Clinician,
    tmp_path: Path,
) -> None:
    from pypdf import PdfReader

    from clinic_app.reports.clinician import build_clinician_report
    from clinic_app.reports.records import report_data_for_evaluation

    records.save_clinician(
        db,
        records.ClinicianInfo("Dana Physio", "PT, DPT", "PT-4471"),
        user="setup",
        clinician_id=clinician.id,
    )
    # The student signs: the draft is theirs to prepare, then read-only, awaiting co-signature.
    mine = make_window(qtbot, db, mini_form, student)
    ev = open_new_draft(qtbot, mine, "CS-1")
    type_pain(qtbot, mine, "6")
    assert mine.page.flush()

    def confirm(box: Any) -> None:
        assert "Sam Student" in box.text()
        assert "co-signature" in box.text()
        when_modal(password_answer(STUDENT_PASSWORD))
        press(box, "Yes")

    when_modal(confirm)
    mine.page.sign_button.click()
    qtbot.waitUntil(lambda: mine.page.cosign_banner.isVisible(), timeout=8000)
    settle(qtbot, mine)
    page = mine.page
    assert "Awaiting co-signature by a therapist (prepared by Sam Student on " in (
        page.cosign_banner.text().replace("<b>", "").replace("</b>", "")
    )
    assert page.status.text() == "Awaiting co-signature"
    assert page.view is not None
    assert page.view.editor.is_read_only()
    assert not page.sign_button.isVisible()
    assert not page.cosign_button.isVisible()  # a student cannot co-sign
    rows = [mine.detail.table.item(r, 2).text() for r in range(mine.detail.table.rowCount())]
    assert rows == ["Draft · awaiting co-signature"]
    stored = records.get_evaluation(db, ev.id)
    assert stored.awaiting_cosignature
    assert stored.values["pain_now"] == 6
    # The report of the draft says it awaits co-signature, not that it is signed.
    draft_pdf = tmp_path / "awaiting.pdf"
    build_clinician_report(report_data_for_evaluation(db, ev.id), draft_pdf)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(draft_pdf).pages).split())
    assert "AWAITING CO-SIGNATURE: not signed yet." in text
    assert "Prepared by Sam Student, SPT (student) on" in text
    assert "Electronically signed" not in text
    mine.close()

    # The therapist opens it: Co-sign… and Return for changes…; co-signs with her password.
    theirs = make_window(qtbot, db, mini_form, clinician)
    open_existing(qtbot, theirs, stored)
    page = theirs.page
    assert page.cosign_button.isVisible()
    assert page.return_button.isVisible()
    assert not page.sign_button.isVisible()
    assert page.view is not None
    assert page.view.editor.is_read_only()
    sign_with_password(PASSWORD)
    with qtbot.waitSignal(page.signed, timeout=8000):
        page.cosign_button.click()
    settle(qtbot, theirs)
    assert "Signed by Dana Physio" in page.status.text()
    assert not page.cosign_banner.isVisible()
    assert not page.cosign_button.isVisible()
    done = records.get_evaluation(db, ev.id)
    assert done.is_signed
    assert done.prepared_by == "Sam Student"
    assert records.verify_database(db) == []
    rows = [theirs.detail.table.item(r, 2).text() for r in range(theirs.detail.table.rowCount())]
    assert rows == ["Signed"]

    pdf = tmp_path / "cosigned.pdf"
    build_clinician_report(report_data_for_evaluation(db, ev.id), pdf)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(pdf).pages).split())
    assert "Prepared by Sam Student, SPT (student) on " in text
    assert "· Co-signed by Dana Physio, PT, DPT, licence PT-4471 on " in text
    assert "AWAITING" not in text


def test_a_therapist_returns_it_for_changes_and_the_student_edits_again(
    qtbot: Any, db: Database, mini_form: Form, clinician: Clinician, student: Clinician
) -> None:
    ev = records.start_evaluation(
        db,
        records.create_patient(db, records.PatientFields("Ida", "Back", "RT-1"), user="t").id,
        mini_form,
        user="sam",
        clinician_id=student.id,
    )
    records.sign_evaluation(db, ev.id, ev.version, signer_id=student.id, password=STUDENT_PASSWORD)
    theirs = make_window(qtbot, db, mini_form, clinician)
    open_existing(qtbot, theirs, records.get_evaluation(db, ev.id))

    def give_reason(dialog: Any) -> None:
        assert isinstance(dialog, QInputDialog)
        dialog.setTextValue("Please re-test the pain score standing.")
        dialog.accept()

    when_modal(give_reason)
    theirs.page.return_button.click()
    qtbot.waitUntil(lambda: not theirs.page.cosign_button.isVisible(), timeout=8000)
    settle(qtbot, theirs)
    back = records.get_evaluation(db, ev.id)
    assert not back.awaiting_cosignature
    assert back.returned is not None
    theirs.close()

    mine = make_window(qtbot, db, mini_form, student)
    open_existing(qtbot, mine, back)
    banner = mine.page.cosign_banner
    assert banner.isVisible()
    assert "Returned for changes by Dana Physio" in banner.text()
    assert "Please re-test the pain score standing." in banner.text()
    assert mine.page.view is not None
    assert not mine.page.view.editor.is_read_only()
    type_pain(qtbot, mine, "3")
    assert mine.page.flush()
    assert records.get_evaluation(db, ev.id).values["pain_now"] == 3


def test_the_window_never_signs_by_the_headless_path() -> None:
    """Every sign_evaluation call under clinic_app/ui passes signer_id and password, never user=."""
    root = Path(__file__).resolve().parents[2] / "clinic_app" / "ui"
    calls = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in (
                "sign_evaluation",
                "cosign_evaluation",
            ):
                words = {k.arg for k in node.keywords}
                calls.append((path.name, words))
    assert calls, "the detector found no signing call at all"
    assert all({"signer_id", "password"} <= words and "user" not in words for _, words in calls)


def test_an_admin_only_account_is_not_offered_to_sign(
    qtbot: Any, db: Database, mini_form: Form, account: Clinician
) -> None:
    office = accounts.add_account(
        db, "ola", "office pass 99", roles=["admin"], display_name="Ola Office", by=account
    )
    w = make_window(qtbot, db, mini_form, office)
    open_new_draft(qtbot, w, "AD-1")
    assert w.page.sign_button.isVisible()
    assert not w.page.sign_button.isEnabled()
