"""The assessment panel at 1024x700 with a red flag raised: the factor tree keeps its room.

The red-flag banner above the page gives the referral text in full; the running card only points
at it (the full text in its tooltip), and the factor tree shows at least four whole rows below
its group heading (the heading is not counted), on the home-program page too. Built as
``clinic_app.ui.screenshots`` builds its red-flag window: the demo database, Zoë's evaluation, the
real form and factor engine.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect

from clinic_app.ui.screenshots import (
    WINDOW_SIZE,
    _settle,
    application,
    demo_window,
    layout_problems,
)
from tests.ui.scaled import run_scaled

ROWS = 4


def red_flag_report(
    who: str = "zoe",
    section: str = "red_flags",
    size: tuple[int, int] = WINDOW_SIZE,
    shot: Path | None = None,
) -> dict[str, Any]:
    """Open a demo evaluation (Zoë's has the red flag) at ``size`` on ``section`` and measure
    the panel."""
    app = application()
    with demo_window(size) as demo:
        window, subjects = demo.window, demo.subjects
        if who == "zoe":
            window.open_evaluation(subjects.zoe_latest, subjects.zoe)
        else:
            window.open_evaluation(subjects.anna_latest, subjects.anna)
        view = window.page.view
        assert view is not None
        view.editor.set_current_section(section)
        # The panel at its narrowest, as the screenshot walk leaves it (its texts wrap most).
        view.splitter.setSizes([size[0], view.panel.minimumWidth()])
        _settle(app, 10)
        if shot is not None:  # to look at
            window.grab().save(str(shot))
        panel, banner, tree = view.panel, view.banner, view.panel.tree
        run = view.assessment.running
        flags = view.assessment.red_flags
        first = _first(tree, ROWS)
        rows = [tree.visualRect(i).getRect() for i in first]
        port = tree.viewport().rect()
        whole = [port.contains(tree.visualRect(i)) for i in first]
        # Seen in the window, not only in the tree: the panel may have scrolled the tree away.
        seen = panel.scroll_area.viewport()
        on_screen = [
            seen.rect().contains(
                QRect(tree.viewport().mapTo(seen, tree.visualRect(i).topLeft()), rect.size())
            )
            for i, rect in ((i, tree.visualRect(i)) for i in first)
        ]
        cut = [  # rows the tree's bottom edge (or top) cuts through
            i.data()
            for i in _first(tree, 10**6)
            if tree.visualRect(i).intersects(port) and not port.contains(tree.visualRect(i))
        ]
        return {
            "banner_visible": banner.isVisible(),
            "banner_text": banner.text.text(),
            "flag_message": flags[0].message if flags else "",
            "run_level": run.level.value if run is not None else None,
            "run_message": run.message if run is not None else "",
            "running_text": panel.running.text(),
            "running_tip": panel.running.toolTip(),
            "running_description": panel.running.accessibleDescription(),
            "rows": rows,
            "texts": [i.data() for i in first],
            "content_rows": len(_first(tree, 10**6)),
            "whole": whole,
            "on_screen": on_screen,
            "cut": cut,
            "viewport": port.getRect(),
            "problems": layout_problems(window),
            "tree_height": tree.height(),
            "line": tree.fontMetrics().lineSpacing(),
        }


def _first(tree: Any, count: int) -> list[Any]:
    """The first ``count`` shown rows below a group heading (factors, patterns, their evidence,
    "none yet"): what the therapist reads, the headings not counted."""
    out = []
    index = tree.model().index(0, 0)
    while index.isValid() and len(out) < count:
        if index.parent().isValid():
            out.append(index)
        index = tree.indexBelow(index)
    return out


def _check_tree(report: dict[str, Any]) -> None:
    assert len(report["whole"]) == min(ROWS, report["content_rows"]), report["texts"]
    assert all(report["whole"]), (report["texts"], report["rows"], report["viewport"])
    assert report["problems"] == []


def _check_seen(report: dict[str, Any]) -> None:
    """The window is high enough: the rows are on screen, and no row is cut off."""
    assert all(report["on_screen"]), (report["texts"], report["rows"])
    assert report["cut"] == []


def _check(report: dict[str, Any]) -> None:
    _check_tree(report)
    assert report["banner_visible"]
    assert report["flag_message"]
    assert html.escape(report["flag_message"]) in report["banner_text"]  # in full, first
    assert report["run_level"] == "red_flag"
    # The card says it briefly; the full guidance stays readable in its tooltip and for a reader.
    assert len(report["running_text"]) < 200, report["running_text"]
    assert "red flag" in report["running_text"]
    assert report["run_message"] in report["running_tip"]
    assert report["run_message"] in report["running_description"]
    assert report["run_message"] not in report["running_text"]


def test_red_flag_leaves_the_factor_tree_four_rows(qapp: object) -> None:
    report = red_flag_report()
    _check(report)
    _check_seen(report)


def test_the_home_program_page_shows_four_whole_factors(qapp: object) -> None:
    """Anna's home program at 1024x700, the panel at its narrowest: four whole factor rows
    under their heading (the heading is no factor) on screen, none cut by the tree's edge."""
    report = red_flag_report("anna", "home_program")
    assert report["content_rows"] > ROWS  # more factors than the minimum: the tree scrolls
    assert [t.split()[0] for t in report["texts"]] == ["F3", "F4", "F11", "F1"]
    _check_tree(report)
    _check_seen(report)


def test_a_low_window_scrolls_the_panel_rather_than_squeeze_the_tree(qapp: object) -> None:
    """No red flag, a long summary and a green running card, 1024x560: the panel scrolls."""
    report = red_flag_report("anna", "home_program", (1024, 560))
    assert not report["banner_visible"]
    assert report["run_level"] == "green"
    assert report["run_message"] in report["running_text"]  # no red flag: the card in full
    _check_tree(report)


CHILD = """
import json
from clinic_app.ui.screenshots import application
application()
from tests.ui.test_assessment_crowding import red_flag_report
print(json.dumps(red_flag_report()))
"""


def test_red_flag_leaves_the_factor_tree_four_rows_at_200pct(tmp_path: Path) -> None:
    report = run_scaled(
        CHILD,
        scale="2",
        folder=tmp_path,
        screen=(1280, 800),
        env={"QT_QPA_PLATFORM": "offscreen", "CLINIC_APP_ENCRYPTION": "off"},
    )
    _check(report)
