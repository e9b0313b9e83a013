"""The body chart: clicks and keys mark regions per side; the editor stores them as findings."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from clinic_app.core.findings import validate
from clinic_app.ui.body_chart import BodyChartEditor, BodyChartWidget
from clinic_app.ui.editor import EvaluationEditor


def click(qtbot, chart: BodyChartWidget, region: str, side: str) -> None:
    qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.point_in(region, side).toPoint())  # type: ignore[arg-type]


def test_click_toggles_a_region_on_the_side_clicked(qtbot) -> None:
    chart = BodyChartWidget()
    qtbot.addWidget(chart)
    chart.resize(200, 420)
    chart.show()
    with qtbot.waitSignal(chart.toggled) as blocker:
        click(qtbot, chart, "sit_bone", "right")
    assert blocker.args == ["sit_bone", "right"]
    assert chart.selection() == {"left": [], "right": ["sit_bone"]}
    click(qtbot, chart, "calf", "left")
    click(qtbot, chart, "sit_bone", "right")  # again: cleared
    assert chart.selection() == {"left": ["calf"], "right": []}
    # the patient's left is drawn on the viewer's left (posterior view)
    assert chart.point_in("calf", "left").x() < chart.point_in("calf", "right").x()


def test_hover_and_outside_clicks(qtbot) -> None:
    chart = BodyChartWidget()
    qtbot.addWidget(chart)
    chart.resize(200, 420)
    chart.show()
    assert chart.shape_at(chart.point_in("thigh_mid", "left")) == ("thigh_mid", "left")
    qtbot.mouseMove(chart, chart.point_in("thigh_mid", "left").toPoint())
    qtbot.waitUntil(lambda: chart._hover == ("thigh_mid", "left"))
    qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=QPoint(2, 2))
    assert chart.selection() == {"left": [], "right": []}


def test_keyboard_marks_regions(qtbot) -> None:
    chart = BodyChartWidget(allowed=["sit_bone", "thigh_upper", "calf"])
    qtbot.addWidget(chart)
    chart.resize(200, 420)
    chart.show()
    chart.setFocus()
    qtbot.keyClick(chart, Qt.Key.Key_Space)  # first region, left side
    qtbot.keyClick(chart, Qt.Key.Key_Down)
    qtbot.keyClick(chart, Qt.Key.Key_Right)
    qtbot.keyClick(chart, Qt.Key.Key_Space)
    assert chart.selection() == {"left": ["sit_bone"], "right": ["thigh_upper"]}
    assert "marked" in chart.accessibleDescription()


def test_regions_item_is_stored_per_side_in_the_findings(qtbot, mini_form) -> None:
    editor = EvaluationEditor(mini_form)
    qtbot.addWidget(editor)
    editor.resize(1000, 700)
    editor.show()
    chart_editor = editor.editor("pain_location")
    assert isinstance(chart_editor, BodyChartEditor)
    chart = chart_editor.chart
    with qtbot.waitSignal(editor.findings_changed):
        click(qtbot, chart, "sit_bone", "left")
    click(qtbot, chart, "thigh_upper", "left")
    click(qtbot, chart, "knee_medial", "right")
    assert editor.findings.to_dict()["values"]["pain_location"] == {
        "left": ["sit_bone", "thigh_upper"],
        "right": ["knee_medial"],
    }
    assert "Sit bone" in chart_editor.summary.text()
    click(qtbot, chart, "knee_medial", "right")
    assert editor.findings.to_dict()["values"]["pain_location"] == {
        "left": ["sit_bone", "thigh_upper"]
    }


def test_loaded_regions_are_drawn_and_read_only_ignores_clicks(qtbot, mini_form) -> None:
    findings = validate(mini_form, {"values": {"pain_location": {"right": ["calf"]}}})
    editor = EvaluationEditor(mini_form, findings)
    qtbot.addWidget(editor)
    editor.show()
    chart = editor.editor("pain_location").focus_widgets()[0]
    assert isinstance(chart, BodyChartWidget)
    assert chart.is_selected("calf", "right")
    editor.set_read_only(True)
    click(qtbot, chart, "calf", "right")
    assert chart.is_selected("calf", "right")
    assert editor.findings == findings
