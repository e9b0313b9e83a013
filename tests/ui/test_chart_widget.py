"""Progress charts on screen: the widget's image against a reference, hover, resizing."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QToolTip, QVBoxLayout, QWidget

from clinic_app.core import chart as ch
from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.ui import NONE_RESERVE
from clinic_app.ui.chart_widget import ChartWidget
from tests.core.test_chart import GOALS, episode, visits
from tests.reports.test_chart_pdf import (
    CHARTS,
    compare_with_reference,
    load,
    mean_difference,
    without_series,
)

# Qt's rasteriser and font hinting differ a little between machines: allow more than the PDF,
# still well under what a missing series costs (checked in the test).
TOLERANCE = 0.6


@pytest.fixture(scope="module")
def form() -> Form:
    return load_form(default_form_path())


def shown(qtbot: Any, chart: ch.Chart | None, size: tuple[int, int] = (480, 240)) -> ChartWidget:
    widget = ChartWidget(chart)
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def image_of(widget: ChartWidget, path: Path) -> Image.Image:
    assert widget.grab().save(str(path))
    with Image.open(path) as image:
        return image.convert("RGB")


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("nordic_qt", lambda f: ch.measure_chart(f, "nordic_force", episode(), GOALS, "left")),
        ("gap_qt", lambda f: ch.gap_chart(f, "nordic_force", episode(), GOALS, "left")),
        ("lefs_qt", lambda f: ch.measure_chart(f, "lefs_total", episode(), GOALS, mcid=9)),
        ("empty_qt", lambda f: ch.measure_chart(f, "nordic_force", [])),
    ],
)
def test_image_matches_reference(
    qtbot: Any, form: Form, tmp_path: Path, name: str, build: Any
) -> None:
    chart = build(form)
    widget = shown(qtbot, chart)
    image = image_of(widget, tmp_path / "chart.png")
    assert image.size == (480, 240)
    assert compare_with_reference(image, name) < TOLERANCE
    reference = load(CHARTS / f"{name}.png")
    for role in {s.role for s in chart.series if s.points}:
        widget.set_chart(without_series(chart, role))
        assert mean_difference(image_of(widget, tmp_path / "gone.png"), reference) > TOLERANCE * 1.5
    if chart.goals:
        widget.set_chart(replace(chart, goals=()))
        assert mean_difference(image_of(widget, tmp_path / "gone.png"), reference) > TOLERANCE * 0.5


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the tooltip, offscreen
def test_hover_shows_value_and_date(qtbot: Any, form: Form) -> None:
    widget = shown(qtbot, ch.measure_chart(form, "nordic_force", episode(), GOALS, "left"))
    first = next(m for m in widget.markers() if m.tip.startswith("Left"))
    qtbot.mouseMove(widget, QPoint(round(first.x) + 3, round(first.y) - 2))
    qtbot.waitUntil(lambda: widget.hovered is first)
    assert widget.toolTip() == "Left (painful side): 190 N\n2 Mar 2026 (initial)"
    qtbot.waitUntil(lambda: QToolTip.text() == widget.toolTip())
    last_right = [m for m in widget.markers() if m.tip.startswith("Right")][-1]
    qtbot.mouseMove(widget, QPoint(round(last_right.x), round(last_right.y)))
    qtbot.waitUntil(lambda: widget.hovered is last_right)
    assert widget.toolTip() == "Right: 282 N\n6 Apr 2026 (visit)"
    qtbot.mouseMove(widget, QPoint(widget.width() // 2, 4))  # the title: nothing
    qtbot.waitUntil(lambda: widget.hovered is None)
    assert widget.toolTip() == ""


def test_rescales_with_its_layout(qtbot: Any, form: Form) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    box = QVBoxLayout(host)
    widget = ChartWidget(ch.measure_chart(form, "nordic_force", visits(55)))
    box.addWidget(widget)
    host.resize(900, 400)
    host.show()
    qtbot.waitExposed(host)
    qtbot.waitUntil(lambda: widget.width() > 800)
    wide = widget.markers()
    assert len(wide) == 110
    assert max(m.x for m in wide) > 800
    host.resize(400, 300)
    qtbot.waitUntil(lambda: widget.width() < 420)
    assert max(m.x for m in widget.markers()) < widget.width()
    widget.set_chart(None)
    assert widget.markers() == []
    widget.repaint()  # painting nothing is fine


def test_accessible_name_is_the_title(qtbot: Any, form: Form) -> None:
    widget = shown(qtbot, ch.measure_chart(form, "lefs_total", episode(), mcid=9))
    assert widget.accessibleName() == "LEFS total"


@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_many_repaints_keep_none_alive(qtbot: Any, form: Form) -> None:
    """PySide6 6.12 on CPython 3.11 drops a reference to None on every void Qt call (painting a
    chart makes hundreds); clinic_app.ui keeps None alive, so repaints cannot abort the process."""
    widget = shown(qtbot, ch.measure_chart(form, "nordic_force", visits(55)))
    marker = widget.markers()[0]
    before = sys.getrefcount(None)
    for i in range(200):
        widget.grab()
        widget.set_chart(widget.chart())
        qtbot.mouseMove(widget, QPoint(round(marker.x), round(marker.y) + i % 3))
    lost = before - sys.getrefcount(None)
    assert lost >= 0
    if sys.version_info < (3, 12):
        assert sys.getrefcount(None) > NONE_RESERVE // 2  # the reserve is far from used up
