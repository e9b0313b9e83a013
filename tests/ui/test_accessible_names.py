"""Every item of the shipped form has a field that names itself (issue 18, "Done when").

For each item: a widget in the editor whose accessible name, read through Qt's accessibility
interface, is the item's label (one-sided) or "label, left" and "label, right" (bilateral), with
the item's help as its accessible description. Evaluation pages and visit-note pages both.
"""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QComboBox, QWidget

from clinic_app.core.form import Form, load_form
from clinic_app.core.visit import evaluation_sections, visit_sections
from clinic_app.paths import default_form_path
from clinic_app.ui.editor import EvaluationEditor
from clinic_app.ui.fields import is_whole_item


@pytest.fixture(scope="module")
def shipped() -> Form:
    return load_form(default_form_path())


def accessible(widget: QWidget) -> tuple[str, str]:
    """The name and description a screen reader gets. A drop-down on Linux reports its value
    as its name (Qt names it through the label's "labelled by" relation there): its own
    accessible name is read then."""
    iface = QAccessible.queryAccessibleInterface(widget)
    assert iface is not None
    assert iface.isValid()
    name = iface.text(QAccessible.Text.Name)
    if isinstance(widget, QComboBox):
        name = widget.accessibleName()
    return name, iface.text(QAccessible.Text.Description)


def names_in(editor: EvaluationEditor) -> dict[str, list[tuple[QWidget, str]]]:
    for n in range(len(editor.sections)):
        editor.page(n)
    out: dict[str, list[tuple[QWidget, str]]] = {}
    for w in editor.findChildren(QWidget):
        name = w.accessibleName()
        if name:
            out.setdefault(name, []).append((w, w.accessibleDescription()))
    return out


def expected_names(form: Form, item_ids: set[str]) -> list[tuple[str, str, str]]:
    out = []
    for item in form.items.values():
        if item.id not in item_ids:
            continue
        sided = item.bilateral and not is_whole_item(item)
        for suffix in (", left", ", right") if sided else ("",):
            out.append((item.id, f"{item.label}{suffix}", item.help))
    return out


def test_every_item_of_the_shipped_form_has_a_named_field(qtbot, shipped: Form) -> None:
    shown_ids: set[str] = set()
    missing = []
    for sections in (evaluation_sections(shipped), visit_sections(shipped)):
        editor = EvaluationEditor(shipped, sections=sections)
        qtbot.addWidget(editor)
        ids = {i.id for s in sections for i in s.items}
        shown_ids |= ids
        found = names_in(editor)
        for item_id, name, help_text in expected_names(shipped, ids):
            widgets = found.get(name, [])
            if not widgets:
                missing.append((item_id, name))
                continue
            widget, _ = widgets[0]
            assert accessible(widget) == (name, help_text), item_id
    assert missing == []
    # Every item of the form is on some page (else the loop above proved nothing for it).
    assert shown_ids == set(shipped.items)


def test_the_tab_stop_is_the_named_field(qtbot, shipped: Form) -> None:
    editor = EvaluationEditor(shipped)
    qtbot.addWidget(editor)
    for n in range(len(editor.sections)):
        page = editor.page(n)
        for row in page.rows.values():
            tab = row.tab_widget()
            label = row.item.label
            sided = row.item.bilateral and not is_whole_item(row.item)
            name = f"{label}, left" if sided else label
            # A list of check boxes: the group has the item's name, the box its choice's too.
            assert tab.accessibleName() in (name, f"{name}: {tab.property('text')}"), name
            assert row.label.buddy() is tab
