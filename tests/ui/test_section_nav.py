"""The editor's section list: whole titles where they fit, the form's short titles where not, the
whole title always in the tooltip (issue 18: "Core and l…" at 1024 px)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication

from clinic_app.core.form import load_form
from clinic_app.core.form_schema import Section
from clinic_app.paths import default_form_path
from clinic_app.ui.editor import EvaluationEditor
from clinic_app.ui.section_nav import shown_title, shown_titles, text_width


def test_the_whole_title_where_it_fits_else_the_short_one(qtbot) -> None:
    editor = EvaluationEditor(load_form(default_form_path()))
    qtbot.addWidget(editor)
    font = editor.nav.font()
    title = "Core and lumbopelvic control"
    wide = text_width(font, title)
    assert wide >= QFontMetricsF(font).horizontalAdvance(title)  # whole pixels, rounded up
    assert shown_title(font, wide, title, "Core") == title
    assert shown_title(font, wide - 1, title, "Core") == "Core"
    assert shown_title(font, 10, title, None) == title  # no short title: Qt elides


@pytest.mark.parametrize("width", [700, 1200])
def test_every_section_name_fits_the_list(qtbot, width) -> None:
    form = load_form(default_form_path())
    editor = EvaluationEditor(form)
    qtbot.addWidget(editor)
    editor.resize(width, 600)
    editor.show()
    qtbot.waitExposed(editor)
    editor.set_carried([i.id for s in editor.sections for i in s.items][:40])  # wide counters
    qtbot.wait(20)
    shown = shown_titles(editor.nav)
    assert len(shown) == len(editor.sections)
    for (text, needs, room), section in zip(shown, editor.sections, strict=True):
        assert needs <= room, (text, needs, room)
        assert text in (section.title, section.short_title)
    for n, section in enumerate(editor.sections):
        assert editor.nav.topLevelItem(n).toolTip(0) == section.title
    if width >= 1200:  # room for the whole names
        pairs = zip(shown, editor.sections, strict=True)
        assert any(text == s.title != s.short_title for (text, *_), s in pairs)


def test_a_short_title_is_short() -> None:
    with pytest.raises(ValidationError, match="short_title"):
        Section.model_validate(
            {
                "id": "x",
                "title": "X",
                "short_title": "A" * 25,
                "items": [{"id": "a", "label": "A", "type": "text"}],
            }
        )


@pytest.mark.parametrize("width", [700, 1024, 1400])
def test_qt_elides_no_section_name(qtbot, width) -> None:
    """Qt's own painting as the judge: the list drawn as it is and drawn with eliding turned
    off are the same picture only when no name was cut to "Pelvis and low b…"."""
    from clinic_app.ui.app import apply_style

    apply_style(QApplication.instance())  # the style sheet's item padding narrows the text
    editor = EvaluationEditor(load_form(default_form_path()))
    qtbot.addWidget(editor)
    editor.resize(width, 700)
    editor.show()
    qtbot.waitExposed(editor)
    qtbot.wait(20)
    nav = editor.nav
    as_shown = nav.grab().toImage()
    nav.setTextElideMode(Qt.TextElideMode.ElideNone)
    whole = nav.grab().toImage()
    nav.setTextElideMode(Qt.TextElideMode.ElideRight)
    assert as_shown == whole, [t for t in shown_titles(nav)]
