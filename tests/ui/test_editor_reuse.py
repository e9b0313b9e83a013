"""One editor view is reused for every evaluation of a form (issue 11 speed): what an open skips
because it is already shown must really be shown, whatever was open before.

``set_carried``, ``set_read_only`` and the section counters skip work when nothing changed (the
usual open of a draft); these tests open, in the same editor, a carried draft, a plain draft, a
signed (read-only) one and a draft again, and check every mark, counter and editable field.
"""

from __future__ import annotations

from clinic_app.core.findings import validate
from clinic_app.core.form import Form
from tests.ui.test_editor import line, make_editor


def counters(editor) -> list[str]:
    return [editor.nav.topLevelItem(n).text(1) for n in range(editor.nav.topLevelItemCount())]


def test_marks_counters_and_read_only_follow_each_evaluation_opened_in_one_view(
    qtbot, mini_form: Form
) -> None:
    hips = [s.id for s in mini_form.sections].index("hips")
    carried = validate(mini_form, {"values": {"hip_flexor_force": {"left": 180, "right": 240}}})
    plain = validate(mini_form, {"values": {"pain_now": 3}})
    editor = make_editor(qtbot, mini_form)
    blank = counters(editor)

    editor.set_findings(carried)  # a re-evaluation: one value carried from the last visit
    editor.set_carried(["hip_flexor_force"])
    editor.set_read_only(False)
    assert counters(editor)[hips].endswith("↻1")
    assert editor.row("hip_flexor_force").carried

    editor.set_findings(plain)  # then a draft with nothing carried, in the same view
    editor.set_carried([])
    editor.set_read_only(False)
    assert "↻" not in "".join(counters(editor))
    assert not editor.row("hip_flexor_force").carried
    assert counters(editor) != blank  # pain_now is recorded
    editor.set_current_section("hips")
    assert line(editor, "hip_flexor_force", "left").text() == ""

    editor.set_findings(carried)  # a signed one: read-only, every built page and later ones
    editor.set_carried([])
    editor.set_read_only(True)
    assert line(editor, "hip_flexor_force", "left").isReadOnly()
    editor.set_read_only(True)  # asked again (the next signed one): still read-only
    editor.set_current_section("subjective")
    assert not editor.editor("involved_side").focus_widgets()[0].isEnabled()

    editor.set_findings(plain)  # and a draft again: every field editable
    editor.set_carried([])
    editor.set_read_only(False)
    editor.set_current_section("hips")
    assert not line(editor, "hip_flexor_force", "left").isReadOnly()
    assert editor.editor("involved_side").focus_widgets()[0].isEnabled()


def test_counters_follow_typing_and_a_refused_text(qtbot, mini_form: Form) -> None:
    hips = [s.id for s in mini_form.sections].index("hips")
    editor = make_editor(qtbot, mini_form)
    editor.set_current_section("hips")
    before = counters(editor)[hips]
    field = line(editor, "hip_flexor_force", "left")
    field.setFocus()
    qtbot.keyClicks(field, "200")
    field.editingFinished.emit()
    after = counters(editor)[hips]
    assert after != before
    qtbot.keyClicks(field, "x")  # "200x" is not a number: marked, then mended
    field.editingFinished.emit()
    assert counters(editor)[hips].startswith("⚠")
    field.selectAll()
    qtbot.keyClicks(field, "210")
    field.editingFinished.emit()
    assert counters(editor)[hips] == after
