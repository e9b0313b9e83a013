"""The patient view's progress charts tab, with real widgets offscreen (issues 15 and 16).

The charts are read only when the tab is shown, offer every number measured twice or more in
the selected episode (bilateral ones also as their side-to-side gap), draw one marker per
recorded value, follow a new visit note, and say what is missing when nothing can be charted.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

import pytest

from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage import records
from clinic_app.ui.main_window import MainWindow
from tests.ui.helpers import settle

START = date.today() - timedelta(days=30)


@functools.cache
def shipped_form() -> Form:
    return load_form(default_form_path())


@pytest.fixture
def window(qtbot, db, clinician) -> MainWindow:
    w = MainWindow(db, shipped_form(), clinician)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    return w


def record(db, patient_id: int, kind: str, day: int, values: dict) -> records.Evaluation:
    ev = records.start_evaluation(
        db,
        patient_id,
        shipped_form(),
        user="t",
        kind=kind,  # type: ignore[arg-type]
        eval_date=START + timedelta(days=day),
        copy_forward=False,
    )
    records.save_draft(db, ev.id, {"values": values}, ev.version, user="t")
    return ev


def patient_with_visits(window: MainWindow) -> records.Patient:
    db = window.db
    p = records.create_patient(db, records.PatientFields("Cara", "Chart", "C-1"), user="t")
    record(
        db,
        p.id,
        "initial",
        0,
        {
            "involved_side": "left",
            "nordic_force": {"left": 210, "right": 280},
            "lefs_total": 50,
            "slr_deg": {"left": 70},
        },
    )
    record(db, p.id, "visit", 7, {"nordic_force": {"left": 240, "right": 285}, "pain_now": 4})
    record(db, p.id, "visit", 14, {"nordic_force": {"left": 262}, "lefs_total": 61})
    window.patients.model.reload()
    assert window.patients.select_patient(p.id)
    return p


def pick(detail, label: str) -> None:
    index = detail.charts.measure.findText(label)
    assert index >= 0, label
    detail.charts.measure.setCurrentIndex(index)


def test_charts_are_read_only_when_their_tab_is_shown(qtbot, window: MainWindow) -> None:
    patient_with_visits(window)
    detail = window.detail
    assert detail.charts.data is None  # the timeline tab is shown: nothing read for charts
    detail.tabs.setCurrentWidget(detail.charts)
    settle(qtbot, window)
    labels = [detail.charts.measure.itemText(i) for i in range(detail.charts.measure.count())]
    assert labels == [
        "LEFS total",  # a score with its MCID before the other numbers (no goal targets here)
        "Nordic hamstring force",
        "Nordic hamstring force: side-to-side gap",
    ]  # pain_now and the SLR were recorded once: nothing to chart
    pick(detail, "Nordic hamstring force")
    chart = detail.charts.chart.chart()
    assert chart is not None
    assert [len(s.points) for s in chart.series] == [3, 2]  # left 3 times, right twice
    assert len(detail.charts.chart.markers()) == 5


def test_the_gap_and_a_score_with_its_mcid_band(qtbot, window: MainWindow) -> None:
    patient_with_visits(window)
    detail = window.detail
    detail.tabs.setCurrentWidget(detail.charts)
    settle(qtbot, window)
    pick(detail, "Nordic hamstring force: side-to-side gap")
    gap = detail.charts.chart.chart()
    assert gap is not None
    assert gap.bands  # the item's 15% threshold band
    pick(detail, "LEFS total")
    lefs = detail.charts.chart.chart()
    assert lefs is not None
    assert any("MCID 9" in b.label for b in lefs.bands)


def test_a_new_visit_note_shows_up_in_the_chart(qtbot, window: MainWindow) -> None:
    p = patient_with_visits(window)
    detail = window.detail
    detail.tabs.setCurrentWidget(detail.charts)
    settle(qtbot, window)
    pick(detail, "Nordic hamstring force")
    record(window.db, p.id, "visit", 21, {"nordic_force": {"left": 270, "right": 280}})
    detail.refresh_evaluations()
    settle(qtbot, window)
    assert detail.charts.measure.currentText() == "Nordic hamstring force"  # kept
    chart = detail.charts.chart.chart()
    assert chart is not None
    assert [len(s.points) for s in chart.series] == [4, 3]


def test_nothing_to_chart_says_why(qtbot, window: MainWindow) -> None:
    db = window.db
    p = records.create_patient(db, records.PatientFields("Nia", "Once", "C-2"), user="t")
    record(db, p.id, "initial", 0, {"nordic_force": {"left": 210, "right": 280}})
    window.patients.model.reload()
    assert window.patients.select_patient(p.id)
    detail = window.detail
    detail.tabs.setCurrentWidget(detail.charts)
    settle(qtbot, window)
    assert detail.charts.measure.count() == 0
    assert "recorded twice" in detail.charts.empty.text()
    assert detail.charts.chart.isHidden()
