"""One item's row on a section page: its label, editors, side-to-side text and error line.

Apart from the editor so that the row's wording (carried values, the last visit, grades compared
in grades) has a module of its own; nothing here names a clinical measure.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from clinic_app.core.findings import Findings
from clinic_app.core.form import NUMERIC_TYPES, SIDES, Item, ItemType, Side
from clinic_app.core.symmetry import Asymmetry, compare, grades_text
from clinic_app.ui.editor_factory import editor_for
from clinic_app.ui.fields import ValueEditor, format_number, is_whole_item, range_text

SIDE_LETTER = {"left": "L", "right": "R"}
SECONDARY_COLOUR = "#5f6b76"
CARRIED_COLOUR = "#8a5a00"


def problem_text(problem: str) -> str:
    """A FindingsError line without its location: the field it is shown beside names the item."""
    _, sep, rest = problem.partition(": ")
    return rest if sep else problem


def asymmetry_text(item: Item, asym: Asymmetry) -> str:
    """Short side-to-side text for the asymmetry column, e.g. "L 18% weaker" / "LSI 82%"."""
    if asym.worse is None:
        return "equal"
    worse = SIDE_LETTER[asym.worse]
    if asym.method == "grades":  # ordinal: in grades, never % or LSI
        return grades_text(asym).replace(asym.worse, worse, 1)
    if asym.method == "difference":
        unit = item.unit if item.unit == "°" else f" {item.unit}".rstrip()
        text = f"{worse} {format_number(round(asym.difference, 1))}{unit} worse"
    else:
        word = "weaker" if item.symmetry is None or item.symmetry.better == "higher" else "worse"
        text = f"{worse} {asym.deficit_pct:.0f}% {word}"
    if asym.lsi is not None and asym.method == "deficit":
        text += f"\nLSI {asym.lsi:.0f}%"
    return text


def asymmetry_tooltip(item: Item, asym: Asymmetry) -> str:
    if asym.method == "grades":
        return (
            "Muscle test grades are ordinal: compared in grades (4− < 4 < 4+ < 5), never as a "
            "percentage or an LSI."
        )
    sym = item.symmetry
    if sym is None:
        return "No side-to-side threshold is set for this item in the form."
    if sym.method == "difference":
        unit = item.unit or ""
        rule = (
            f"Absolute difference; under {format_number(sym.threshold)}{unit} is measurement "
            "noise (minimal detectable difference)."
        )
    else:
        rule = (
            "Deficit % = (stronger − weaker) / stronger × 100; counts from "
            f"{format_number(sym.threshold)}%."
        )
    lsi = ""
    if asym.lsi is not None and asym.method == "deficit":
        lsi = " LSI = painful side / other side × 100."
    return f"{rule}{lsi} Source: {sym.source}"


class ItemRow:
    """The widgets of one item on its section page (label, one or two editors, asymmetry, error)."""

    def __init__(self, item: Item, page: QWidget) -> None:
        self.item = item
        shown_range = range_text(item) if item.type is ItemType.NUMBER else ""
        self.details_text = " · ".join(t for t in (shown_range, item.help) if t)
        # One rich-text label (name, then range and help in small grey): a single word-wrapped
        # widget per cell keeps height-for-width right, so rows never overlap when narrow.
        self.label = QLabel(page)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setProperty("role", "itemLabel")
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.carried = False
        self.from_patient = False  # the value shown is the one the patient record gives
        self.previous_text = ""  # "L 58°, +4°" (the last visit's value) for a re-measured item
        self.previous_prefix = "Last visit"  # or "Last 10 Sep" (a visit note: the value's date)
        self._render_label()
        if item.help:
            self.label.setToolTip(item.help)
        self.editors: dict[Side | None, ValueEditor] = {}
        sides: tuple[Side | None, ...] = (
            SIDES if item.bilateral and not is_whole_item(item) else (None,)
        )
        for side in sides:
            ed = editor_for(item, page)
            ed.setObjectName(item.id if side is None else f"{item.id}.{side}")
            # Screen readers: "Passive straight leg raise, left", the help as the description.
            ed.set_accessible(item.label if side is None else f"{item.label}, {side}", item.help)
            for n, w in enumerate(ed.focus_widgets()):
                if item.help:
                    w.setToolTip(item.help)
                if (n or side == "right") and not ed.inner_navigation:
                    # One Tab stop per item: the right side and the other choices are reached
                    # with the arrow keys (clinic_app.ui.keyboard), and still by a click.
                    w.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
            self.editors[side] = ed
        self.label.setBuddy(self.tab_widget())
        self.asymmetry = QLabel("", page)
        self.asymmetry.setProperty("role", "asymmetry")
        self.asymmetry.setMinimumWidth(90)
        self.asymmetry.setWordWrap(True)
        self.asymmetry.setObjectName(f"{item.id}.asymmetry")
        self.error = QLabel("", page)
        self.error.setProperty("role", "error")
        self.error.setObjectName(f"{item.id}.error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.problems: dict[Side | None, str] = {}

    def _render_label(self) -> None:
        text = f"<b>{html.escape(self.item.label)}</b>"
        small = "font-size:small"
        if self.carried or self.details_text or self.previous_text or self.from_patient:
            text += "<br>"
        if self.from_patient:
            text += (
                f"<span style='color:{CARRIED_COLOUR}; {small}'>from the patient record; "
                "change it here if it differs</span><br>"
            )
        if self.carried:
            text += (
                f"<span style='color:{CARRIED_COLOUR}; {small}'>↻ from last visit, not "
                "re-measured</span>"
            )
            if self.details_text:
                text += f"<span style='color:{SECONDARY_COLOUR}; {small}'> · </span>"
        elif self.previous_text:
            text += (
                f"<span style='color:{CARRIED_COLOUR}; {small}'>{self.previous_prefix}: "
                f"{html.escape(self.previous_text)}</span><br>"
            )
        if self.details_text:
            text += (
                f"<span style='color:{SECONDARY_COLOUR}; {small}'>"
                f"{html.escape(self.details_text)}</span>"
            )
        self.label.setText(text)

    def set_previous(self, text: str, prefix: str = "Last visit") -> None:
        """Show the last visit's value and the change beside a re-measured value."""
        if text != self.previous_text or prefix != self.previous_prefix:
            self.previous_text = text
            self.previous_prefix = prefix
            self._render_label()

    def set_carried(self, carried: bool) -> None:
        """Mark a value copied from the last evaluation, until it is re-tested or changed."""
        if carried != self.carried:
            self.carried = carried
            self._render_label()
            self.label.setToolTip(
                "Copied from the last evaluation: re-test or change it, or confirm the section "
                "(Ctrl+Return)."
                if carried
                else self.item.help
            )

    def focus_widgets(self) -> list[QWidget]:
        return [w for ed in self.editors.values() for w in ed.focus_widgets()]

    def tab_widget(self) -> QWidget:
        """The item's one Tab stop (the left side's, or the only one)."""
        return next(iter(self.editors.values())).tab_widget()

    def set_from_patient(self, from_patient: bool) -> None:
        """Say that the value shown came from the patient record (until it is changed)."""
        if from_patient != self.from_patient:
            self.from_patient = from_patient
            self._render_label()

    def show_problem(self, side: Side | None, problem: str | None) -> None:
        if problem is None:
            self.problems.pop(side, None)
        else:
            self.problems[side] = problem
        self.editors[side].set_invalid(problem is not None)
        lines = []
        for s, p in self.problems.items():
            prefix = f"{s.capitalize()}: " if s is not None else ""
            lines.append(f"{prefix}{p} — not accepted, nothing new is stored")
        self.error.setText("\n".join(lines))
        self.error.setVisible(bool(lines))

    def update_asymmetry(self, findings: Findings, involved: Side | None) -> None:
        item = self.item
        text, tip, exceeds = "", "", False
        if item.bilateral and item.type in NUMERIC_TYPES:
            left, right = findings.number(item.id, "left"), findings.number(item.id, "right")
            if left is not None and right is not None:
                asym = compare(item, left, right, involved)
                text, tip = asymmetry_text(item, asym), asymmetry_tooltip(item, asym)
                exceeds = asym.exceeds
        elif item.bilateral and item.type is not ItemType.REGIONS:
            left_v, right_v = findings.get(item.id, "left"), findings.get(item.id, "right")
            if left_v is not None and right_v is not None and left_v != right_v:
                text = "L ≠ R"
        self.asymmetry.setText(text)
        self.asymmetry.setToolTip(tip)
        if bool(self.asymmetry.property("exceeds")) != exceeds:
            self.asymmetry.setProperty("exceeds", exceeds)
            self.asymmetry.style().unpolish(self.asymmetry)
            self.asymmetry.style().polish(self.asymmetry)
