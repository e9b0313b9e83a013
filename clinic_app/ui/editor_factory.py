"""Which editor widget edits one value of an item: the one place that knows every kind.

Apart from ``fields`` so that the body chart (an editor built on ``fields.ValueEditor``) and the
plain editors do not import each other.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from clinic_app.core.form import Item, ItemType
from clinic_app.ui.body_chart import BodyChartEditor
from clinic_app.ui.fields import (
    ComboEditor,
    MultiEditor,
    NumberEditor,
    TextEditor,
    ToggleEditor,
    ValueEditor,
)
from clinic_app.ui.program_editor import ProgramEditor
from clinic_app.ui.questionnaire_field import QuestionnaireEditor
from clinic_app.ui.rows_editor import RowsEditor


def editor_for(item: Item, parent: QWidget | None = None) -> ValueEditor:
    """The editor of one value of ``item`` (one side when bilateral, unless whole-item)."""
    if item.type is ItemType.NUMBER:
        return NumberEditor(item, parent)
    if item.type is ItemType.ROWS:
        return RowsEditor(item, parent)
    if item.type is ItemType.PROGRAM:
        return ProgramEditor(item, parent)
    if item.type is ItemType.QUESTIONNAIRE:
        return QuestionnaireEditor(item, parent)
    if item.type in (ItemType.MMT, ItemType.SCALE, ItemType.CHOICE):
        return ComboEditor(item, parent)
    if item.type in (ItemType.YESNO, ItemType.POSNEG):
        return ToggleEditor(item, parent)
    if item.type is ItemType.REGIONS and item.bilateral:
        return BodyChartEditor(item, parent)
    if item.type in (ItemType.MULTI, ItemType.REGIONS):
        return MultiEditor(item, parent, columns=1 if item.bilateral else 3)
    return TextEditor(item, parent)
