"""The patient view's episodes of care and timeline, with real widgets offscreen (issue 15).

An episode made keyboard-only through New episode… is read back from the database; a bad date
or an empty title shows one line naming the field and writes nothing; the timeline lists the
records newest first and opens a visit note; a stale episode shows the StaleRecordError message
and keeps what was typed.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records
from clinic_app.storage.records import EpisodeInfo
from clinic_app.ui.episode_dialog import EpisodeDialog
from clinic_app.ui.main_window import MainWindow
from tests.ui.helpers import settle, when_modal


@functools.cache
def shipped_form() -> Form:
    """The shipped form (its visit-note pages and its factors' goal templates)."""
    return load_form(default_form_path())


@pytest.fixture
def full_window(qtbot, db, clinician) -> MainWindow:
    """The main window on the shipped form (a visit note opens with its pages)."""
    w = MainWindow(db, shipped_form(), clinician)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    return w


@pytest.fixture
def window(full_window: MainWindow) -> MainWindow:
    """These tests run on the shipped form: the episode views are built for its visit pages."""
    return full_window


def show_patient(window: MainWindow, mrn: str = "E-1") -> records.Patient:
    patient = records.create_patient(
        window.db, records.PatientFields("Ella", "Episode", mrn), user="t"
    )
    window.patients.model.reload()
    assert window.patients.select_patient(patient.id)
    assert window.detail.patient is not None
    assert window.detail.patient.id == patient.id
    return patient


def open_episode_dialog(qtbot, window: MainWindow) -> EpisodeDialog:
    window.detail.setFocus()
    qtbot.keyClick(
        window,
        Qt.Key.Key_O,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), EpisodeDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, EpisodeDialog)
    qtbot.waitUntil(dialog.fields["title"].widget.hasFocus)
    return dialog


def type_in(qtbot, dialog: EpisodeDialog, key: str, text: str) -> None:
    """Tab to the field as a person does (focus moves there), then type."""
    widget = dialog.fields[key].widget
    seen = []
    for _ in range(20):
        if widget.hasFocus():
            break
        seen.append(QApplication.focusWidget())
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert widget.hasFocus(), f"Tab never reached {key}: {seen}"
    if isinstance(widget, QLineEdit):
        widget.selectAll()
    qtbot.keyClicks(widget, text)


def test_new_episode_keyboard_only_is_stored(qtbot, window: MainWindow, db) -> None:
    patient = show_patient(window)
    dialog = open_episode_dialog(qtbot, window)
    qtbot.keyClicks(dialog.fields["title"].widget, "Left hamstring strain")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)  # the side box
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)  # Not recorded -> Left
    type_in(qtbot, dialog, "referral_source", "Dr Gray (GP)")
    type_in(qtbot, dialog, "referral_reason", "Sprint injury, week 2")
    type_in(qtbot, dialog, "referral_date", "2026-03-01")
    type_in(qtbot, dialog, "start_date", "2026-03-02")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    settle(qtbot, window)
    [episode] = records.list_episodes(db, patient.id)
    assert episode.title == "Left hamstring strain"
    assert episode.involved_side == "left"
    assert episode.referral_source == "Dr Gray (GP)"
    assert episode.referral_reason == "Sprint injury, week 2"
    assert episode.referral_date == date(2026, 3, 1)
    assert episode.start_date == date(2026, 3, 2)
    assert episode.is_open
    # The patient view shows it, selected and marked open.
    assert window.detail.selected_episode() == episode
    assert window.detail.episodes.episode_list.count() == 1
    assert "open" in window.detail.episodes.episode_list.item(0).text()
    assert "Left hamstring strain" in window.detail.episodes.header.text()


def test_bad_date_or_empty_title_says_which_field_and_writes_nothing(
    qtbot, window: MainWindow, db
) -> None:
    patient = show_patient(window)
    dialog = open_episode_dialog(qtbot, window)
    qtbot.keyClick(dialog.fields["title"].widget, Qt.Key.Key_Return)  # nothing typed
    assert dialog.isVisible()
    assert dialog.problems() == {
        "title": "Title: enter what the episode is about (e.g. Left hamstring)"
    }
    qtbot.keyClicks(dialog.fields["title"].widget, "Right thigh")
    type_in(qtbot, dialog, "start_date", "2026-13-40")
    type_in(qtbot, dialog, "end_date", "yesterday")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert dialog.problems() == {
        "start_date": "Start: not a date, use YYYY-MM-DD (or DD.MM.YYYY)",
        "end_date": "End: not a date, use YYYY-MM-DD (or DD.MM.YYYY)",
    }
    # An end before the start is refused beside End too.
    dialog.fields["start_date"].widget.setText("2026-03-10")
    dialog.fields["end_date"].widget.setText("2026-03-01")
    qtbot.keyClick(dialog.fields["end_date"].widget, Qt.Key.Key_Return)
    assert dialog.problems() == {"end_date": "End: before the episode's start"}
    settle(qtbot, window)
    assert records.list_episodes(db, patient.id) == []
    assert dialog.fields["title"].widget.text() == "Right thigh"  # nothing typed is lost
    dialog.reject()


def test_the_records_api_refusal_is_shown_beside_its_field(qtbot, window: MainWindow, db) -> None:
    """A start after the episode's first record: only the records API knows; shown at Start."""
    patient = show_patient(window)
    ep = records.create_episode(
        db, patient.id, EpisodeInfo("Left", start_date=date(2026, 3, 1)), user="t"
    )
    records.start_evaluation(
        db, patient.id, window.form, user="t", eval_date=date(2026, 3, 2), episode_id=ep.id
    )
    window.detail.refresh_evaluations(ep.id)
    window.episodes.on_edit_episode_triggered()
    dialog = window.episodes.dialog
    assert isinstance(dialog, EpisodeDialog)
    dialog.fields["start_date"].widget.setText("2026-03-05")
    dialog.buttons.accepted.emit()
    settle(qtbot, window)
    assert dialog.isVisible()
    assert list(dialog.problems()) == ["start_date"]
    assert "2026-03-02" in dialog.problems()["start_date"]
    assert records.get_episode(db, ep.id).start_date == date(2026, 3, 1)
    dialog.reject()


def test_closing_an_episode_from_edit(qtbot, window: MainWindow, db) -> None:
    patient = show_patient(window)
    ep = records.create_episode(
        db, patient.id, EpisodeInfo("Left", start_date=date(2026, 3, 1)), user="t"
    )
    window.detail.refresh_evaluations(ep.id)
    window.detail.setFocus()
    qtbot.keyClick(
        window,
        Qt.Key.Key_E,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), EpisodeDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, EpisodeDialog)
    qtbot.waitUntil(dialog.fields["title"].widget.hasFocus)
    assert dialog.fields["title"].widget.text() == "Left"
    type_in(qtbot, dialog, "end_date", "2026-04-30")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    settle(qtbot, window)
    assert records.get_episode(db, ep.id).end_date == date(2026, 4, 30)
    assert not window.detail.selected_episode().is_open
    assert not window.detail.visit_button.isEnabled()  # no visit note in a closed episode
    assert "Episode closed" in window.detail.episodes.due.text()


def test_a_stale_episode_shows_the_message_and_keeps_the_typing(
    qtbot, window: MainWindow, db
) -> None:
    patient = show_patient(window)
    ep = records.create_episode(db, patient.id, EpisodeInfo("Left"), user="t")
    window.detail.refresh_evaluations(ep.id)
    window.episodes.on_edit_episode_triggered()
    dialog = window.episodes.dialog
    assert isinstance(dialog, EpisodeDialog)
    # Another workstation changes the episode meanwhile.
    records.update_episode(
        db, ep.id, EpisodeInfo("Left (from the other desk)"), ep.version, user="Lee"
    )
    dialog.fields["title"].widget.setText("Left posterior thigh, typed here")
    dialog.fields["referral_source"].widget.setText("Dr Gray")
    seen: list[str] = []

    def read(box) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.accept()

    when_modal(read)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    settle(qtbot, window)
    assert "was changed by Lee" in seen[0]
    assert "nothing was saved" in seen[0]
    assert "Nothing you typed has been lost" in seen[0]
    assert dialog.isVisible()
    assert dialog.fields["title"].widget.text() == "Left posterior thigh, typed here"
    assert dialog.fields["referral_source"].widget.text() == "Dr Gray"
    assert records.get_episode(db, ep.id).title == "Left (from the other desk)"
    dialog.reject()


def test_timeline_lists_records_and_opens_a_visit(qtbot, full_window: MainWindow, db) -> None:
    window = full_window
    patient = show_patient(window)
    start = date.today() - timedelta(days=20)
    ep = records.create_episode(
        db, patient.id, EpisodeInfo("Left", "left", start_date=start), user="t"
    )
    ini = records.start_evaluation(
        db, patient.id, window.form, user="t", eval_date=start, episode_id=ep.id
    )
    visits = [
        records.start_evaluation(
            db,
            patient.id,
            window.form,
            user="t",
            kind="visit",
            eval_date=start + timedelta(days=n),
            episode_id=ep.id,
        )
        for n in (3, 7)
    ]
    records.save_plan(
        db, ep.id, records.PlanInfo(start_date=start, visits_per_week=2, duration_weeks=6), user="t"
    )
    window.detail.refresh_evaluations(ep.id)
    table = window.detail.table
    entries = [table.item(r, 1).text() for r in range(table.rowCount())]
    dates = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert entries == [
        "Visit note 2",
        "Visit note 1",
        "Initial evaluation",
        "Plan of care: 2×/week, 6 weeks",
    ]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert [r.id for r in window.detail.evaluations] == [visits[1].id, visits[0].id, ini.id]
    assert table.currentRow() == 0  # the newest record is selected
    # Down to the first visit note, Enter opens it on the page.
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert window.detail.selected_evaluation_id() == visits[0].id
    qtbot.keyClick(table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.page, timeout=5000)
    assert window.page.evaluation is not None
    assert window.page.evaluation.id == visits[0].id
    settle(qtbot, window)
    window.on_page_back_requested()
    assert window.stack.currentWidget() is window.detail
    assert window.detail.selected_evaluation_id() == visits[0].id  # still the one opened
    # A plan line is not a record: activating it opens nothing.
    table.setCurrentCell(3, 1)
    assert window.detail.selected_evaluation_id() is None


def test_new_visit_note_goes_into_the_selected_open_episode(
    qtbot, full_window: MainWindow, db
) -> None:
    window = full_window
    patient = show_patient(window)
    older = records.create_episode(
        db, patient.id, EpisodeInfo("Right", start_date=date(2025, 1, 1)), user="t"
    )
    newer = records.create_episode(
        db, patient.id, EpisodeInfo("Left", start_date=date(2026, 1, 1)), user="t"
    )
    window.detail.refresh_evaluations()
    assert window.detail.selected_episode().id == newer.id  # the newest open one
    assert window.detail.episodes.episode_list.count() == 2
    # Select the older (also open) episode in the list, then Ctrl+Shift+V.
    window.detail.episodes.episode_list.setCurrentRow(1)
    assert window.detail.selected_episode().id == older.id
    qtbot.keyClick(
        window,
        Qt.Key.Key_V,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.page, timeout=5000)
    ev = window.page.evaluation
    assert ev is not None
    assert ev.kind == "visit"
    assert ev.episode_id == older.id
    window.on_page_back_requested()
    settle(qtbot, window)
    assert window.detail.selected_episode().id == older.id
    assert window.detail.selected_evaluation_id() == ev.id  # the note just written
    assert [r.kind for r in window.detail.evaluations] == ["visit"]
    # New evaluation goes into the selected episode too.
    window.detail.new_eval_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.page, timeout=5000)
    assert window.page.evaluation.episode_id == older.id
    assert records.list_evaluations(db, patient.id, episode_id=newer.id) == []


def test_export_progress_report_and_discharge_summary(
    qtbot, full_window: MainWindow, db, tmp_path
) -> None:
    """Episode → Export progress report…: written on the worker, 0600, the status bar says so;
    the PDF reads back with the episode's records."""
    import stat

    from pypdf import PdfReader

    window = full_window
    patient = show_patient(window)
    start = date.today() - timedelta(days=20)
    ep = records.create_episode(
        db, patient.id, EpisodeInfo("Left posterior thigh", "left", start_date=start), user="t"
    )
    records.start_evaluation(
        db, patient.id, window.form, user="t", eval_date=start, episode_id=ep.id
    )
    records.start_evaluation(
        db, patient.id, window.form, user="t", kind="re_evaluation", episode_id=ep.id
    )
    window.detail.refresh_evaluations(ep.id)
    assert window.actions_["export_progress"].isEnabled()
    for kind in ("progress", "discharge"):
        path = tmp_path / f"{kind}.pdf"
        with qtbot.waitSignal(
            window.episodes.status,
            timeout=10000,
            check_params_cb=lambda t: t.startswith("Exported"),
        ):
            assert window.episodes.export_report(kind, str(path))
        settle(qtbot, window)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        text = " ".join(page.extract_text() for page in PdfReader(path).pages)
        text = " ".join(text.split())
        heading = "Progress report" if kind == "progress" else "Discharge summary"
        assert heading in text
        assert "Patient Ella Episode" in text
        assert "Left posterior thigh" in text
        assert window.statusBar().currentMessage().startswith("Exported the ")


def test_export_failure_leaves_no_file_and_says_why(
    qtbot, full_window: MainWindow, db, tmp_path
) -> None:
    window = full_window
    patient = show_patient(window)
    ep = records.create_episode(db, patient.id, EpisodeInfo("Left"), user="t")
    window.detail.refresh_evaluations(ep.id)
    records.update_episode(db, ep.id, EpisodeInfo("Left"), ep.version, user="t")  # still fine
    link = tmp_path / "link.pdf"
    link.symlink_to(tmp_path / "elsewhere.pdf")
    seen: list[str] = []

    def read(box) -> None:
        seen.append(box.text())
        box.accept()

    when_modal(read)
    window.episodes.export_report("progress", str(link))
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    settle(qtbot, window)
    assert "Exporting the progress report did not work" in seen[0]
    assert not (tmp_path / "elsewhere.pdf").exists()
    assert link.is_symlink()


def test_hostile_text_is_shown_as_text(qtbot, window: MainWindow, db) -> None:
    """Markup typed into an episode is shown literally (the header is rich text)."""
    patient = show_patient(window)
    ep = records.create_episode(
        db,
        patient.id,
        EpisodeInfo("<b>Left</b> & <img src=x>", referral_source="<i>Dr</i>"),
        user="t",
    )
    window.detail.refresh_evaluations(ep.id)
    header = window.detail.episodes.header.text()
    assert "&lt;b&gt;Left&lt;/b&gt; &amp; &lt;img src=x&gt;" in header
    assert "&lt;i&gt;Dr&lt;/i&gt;" in header
    assert window.detail.episodes.episode_list.item(0).text().startswith("<b>Left</b> & <img")


def test_referral_long_after_the_start_is_refused_beside_the_field(
    qtbot, window: MainWindow, db
) -> None:
    patient = show_patient(window)
    dialog = open_episode_dialog(qtbot, window)
    qtbot.keyClicks(dialog.fields["title"].widget, "Left")
    dialog.fields["start_date"].widget.setText("2026-01-01")
    dialog.fields["referral_date"].widget.setText("2027-06-01")
    dialog.fields["referral_reason"].widget.setPlainText("x" * 20)
    dialog.buttons.accepted.emit()
    settle(qtbot, window)
    assert dialog.isVisible()
    assert dialog.problems() == {
        "referral_date": "Referral date: more than a year after the episode starts"
    }
    assert records.list_episodes(db, patient.id) == []
    dialog.reject()


def test_an_archived_patients_episodes_are_read_not_changed(qtbot, window: MainWindow, db) -> None:
    patient = show_patient(window)
    ep = records.create_episode(db, patient.id, EpisodeInfo("Left"), user="t")
    records.start_evaluation(db, patient.id, window.form, user="t", episode_id=ep.id)
    archived = records.archive_patient(db, patient.id, user="t", archived=True).patient
    window.detail.show_patient(archived)
    window._update_actions()
    assert window.detail.evaluations  # still listed
    for key in ("new", "edit", "plan", "goals"):
        assert not window.detail.episode_buttons[key].isEnabled(), key
    for key in ("new_episode", "edit_episode", "new_visit", "plan_of_care", "goals"):
        assert not window.actions_[key].isEnabled(), key
    assert window.actions_["export_progress"].isEnabled()  # documents can still be made
    window.episodes.on_goals_triggered()
    window.episodes.on_edit_episode_triggered()
    assert window.episodes.dialog is None
