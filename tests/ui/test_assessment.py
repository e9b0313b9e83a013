"""The live assessment panel and the red-flag banner follow every edit."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from clinic_app.core.findings import validate
from clinic_app.core.form import Urgency
from clinic_app.ui.assessment import EvaluationView
from clinic_app.ui.fields import NumberEditor, ToggleEditor


def make_view(qtbot, form, findings=None) -> EvaluationView:
    view = EvaluationView(form, findings)
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    return view


def type_number(qtbot, view: EvaluationView, item: str, side: str, text: str) -> None:
    ed = view.editor.editor(item, side)  # type: ignore[arg-type]
    assert isinstance(ed, NumberEditor)
    ed.line.clear()
    qtbot.keyClicks(ed.line, text)


def test_a_factor_appears_with_its_evidence_when_values_are_typed(qtbot, mini_form) -> None:
    view = make_view(qtbot, mini_form)
    assert view.panel.result_items() == []
    side = view.editor.editor("involved_side").focus_widgets()[0]
    assert isinstance(side, QComboBox)
    side.setCurrentIndex(side.findData("right"))
    view.editor.set_current_section("hips")
    type_number(qtbot, view, "hip_flexor_force", "left", "180")
    with qtbot.waitSignal(view.assessed):
        type_number(qtbot, view, "hip_flexor_force", "right", "260")
    assert [f.id for f in view.assessment.factors] == ["F1"]
    rows = view.panel.result_items()
    assert [r.text(0) for r in rows] == ["F1 Weak hip flexors on the opposite side"]
    assert rows[0].text(1) == "1/2"
    evidence = [rows[0].child(n).text(0) for n in range(rows[0].childCount())]
    assert any("69% of right" in e for e in evidence)
    rows[0].setExpanded(True)
    assert "Victim" in view.panel.summary.text()


def test_factors_are_listed_strongest_first_and_opinions_are_labelled(qtbot, mini_form) -> None:
    findings = validate(
        mini_form,
        {
            "values": {
                "involved_side": "left",
                "slr": {"left": 60, "right": 80},
                "hip_flexor_force": {"left": 300, "right": 200},
                "hip_flexor_mmt": {"left": 5, "right": 4},
            }
        },
    )
    view = make_view(qtbot, mini_form, findings)
    rows = view.panel.result_items()
    assert [r.text(0).split()[0] for r in rows] == ["F1", "F7"]
    assert rows[0].text(1) == "2/2"
    assert rows[1].text(0).endswith("[opinion]")
    rows[1].setExpanded(True)
    # the expansion survives a recomputation while typing
    type_number(qtbot, view, "slr", "left", "61")
    assert view.panel.result_items()[1].isExpanded()


def test_red_flag_banner_appears_the_moment_a_red_flag_is_entered(qtbot, mini_form) -> None:
    view = make_view(qtbot, mini_form)
    assert not view.banner.isVisible()
    view.editor.set_current_section("red_flags")
    toggle = view.editor.editor("saddle_numbness")
    assert isinstance(toggle, ToggleEditor)
    qtbot.mouseClick(toggle.buttons["yes"], Qt.MouseButton.LeftButton)
    assert view.banner.isVisible()
    assert view.banner.urgency is Urgency.EMERGENCY
    assert "EMERGENCY" in view.banner.badge.text()
    assert "Possible cauda equina" in view.banner.text.text()
    assert "#b3261e" in view.banner.styleSheet()
    toggle.buttons["yes"].click()  # cleared again
    assert not view.banner.isVisible()


def test_running_guidance_follows_the_pain_score(qtbot, mini_form) -> None:
    view = make_view(qtbot, mini_form)
    assert not view.panel.running.isVisible()
    pain = view.editor.editor("pain_now").focus_widgets()[0]
    assert isinstance(pain, QComboBox)
    pain.setCurrentIndex(pain.findData(6))
    assert view.panel.running.isVisible()
    assert "Running: stop" in view.panel.running.text()
    assert "Pain now: 6/10" in view.panel.running.text()
    pain.setCurrentIndex(pain.findData(2))
    assert not view.panel.running.isVisible()
