"""The live assessment beside the editor, and the red-flag banner above it.

Both only display a :class:`clinic_app.core.engine.Assessment`; the evaluation view recomputes it
on every accepted edit (``assess`` takes a few milliseconds), so what the therapist sees always
matches what is on the form. Every suggestion can be expanded to the findings that triggered it:
the app supports a decision, the clinician makes it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.engine import (
    Assessment,
    Evidence,
    RedFlagResult,
    RuleResult,
    RunningGuidance,
    assess,
)
from clinic_app.core.findings import Findings
from clinic_app.core.form import Form, RunLevel, Section, Urgency
from clinic_app.core.rule_inputs import assessment_inputs, inputs_key
from clinic_app.ui.editor import EvaluationEditor
from clinic_app.ui.steady_layout import keep_still

URGENCY_COLOURS: dict[Urgency, tuple[str, str, str]] = {
    # background, text, border
    Urgency.EMERGENCY: ("#b3261e", "#ffffff", "#8c1d18"),
    Urgency.URGENT: ("#e8710a", "#ffffff", "#b95a08"),
    Urgency.SOON: ("#fbe7a1", "#3d3000", "#e0c35c"),
}
RUN_COLOURS: dict[RunLevel, tuple[str, str]] = {
    RunLevel.GREEN: ("#e3f4e6", "#1e5b2c"),
    RunLevel.NEXT_DAY: ("#fdf1d0", "#5c4300"),
    RunLevel.STOP: ("#fbe0de", "#8c1d18"),
    RunLevel.RED_FLAG: ("#b3261e", "#ffffff"),
}
RUN_TITLES = {
    RunLevel.GREEN: "Running: green",
    RunLevel.NEXT_DAY: "Running: reduce or rest",
    RunLevel.STOP: "Running: stop",
    RunLevel.RED_FLAG: "Running: red flag",
}
SUMMARY_TITLES = {
    "source": "Hamstring is the source",
    "victim": "Hamstring is the victim",
    "both": "Source and victim",
    "undetermined": "Not yet determined",
}
ROLE_EVIDENCE = Qt.ItemDataRole.UserRole + 1
# With a red flag the banner above the page already gives the referral text: the running card
# only points at it (its full text is in the card's tooltip), leaving the factors their room.
RED_FLAG_RUNNING = "no running until the red flag above has been checked."
# The factor tree always shows at least this many whole rows below its group headings (factors,
# patterns, their evidence, "none yet"): the headings above them are shown too, not counted.
TREE_MIN_ROWS = 4


class FactorTree(QTreeWidget):
    """The factor tree, whose minimum height fits its first :data:`TREE_MIN_ROWS` rows below
    a group heading (and the headings above them) as wrapped at its width (measured by its
    delegate, so at any font or scale): the panel around it gives way (it scrolls) rather than
    squeeze it to a row and a half.

    Signals: those of QTreeWidget.
    """

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        frame = 2 * self.frameWidth()
        return QSize(hint.width(), max(hint.height(), self.rows_height(TREE_MIN_ROWS) + frame))

    def rows_height(self, count: int) -> int:
        """The height of the shown rows down to the ``count``-th one below a group heading,
        the headings included but not counted (one text line a missing row)."""
        line = self.fontMetrics().lineSpacing() + 6
        model = self.model()
        index = model.index(0, 0) if model.rowCount() else QModelIndex()
        delegate = self.itemDelegate()
        option = QStyleOptionViewItem()
        option.initFrom(self)
        option.font = self.font()
        total = counted = 0
        while counted < count:
            if not index.isValid():
                total += line
                counted += 1
                continue
            total += max(line, delegate.sizeHint(option, index).height())
            counted += index.parent().isValid()  # a heading is a top-level row
            index = self.indexBelow(index)
        return total

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # rows wrap into more or fewer lines


class WrappingDelegate(QStyledItemDelegate):
    """Row heights that fit wrapped text at the current column width (QTreeView only elides).

    Signals: none.
    """

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self.tree = tree
        # (text, width, its own font, the tree's font) -> the size: the tree is refilled as
        # values are typed, mostly with the same lines, each measured again at every layout.
        self._sizes: dict[tuple[str, int, str], QSize] = {}

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not isinstance(text, str) or not text or index.column() != 0:
            return super().sizeHint(option, index)
        depth = 0
        parent = index.parent()
        while parent.isValid():
            depth += 1
            parent = parent.parent()
        spanned = self.tree.isFirstColumnSpanned(index.row(), index.parent())
        width = self.tree.viewport().width() if spanned else self.tree.header().sectionSize(0)
        width -= self.tree.indentation() * (depth + 1) + 8  # branch area and text margins
        own = index.data(Qt.ItemDataRole.FontRole)  # the group rows are bold: wider text
        font = own if isinstance(own, QFont) else self.tree.font()
        key = (text, width, font.key())
        known = self._sizes.get(key)
        if known is not None:
            return QSize(known)
        base = super().sizeHint(option, index)
        metrics = QFontMetrics(font)
        rect = metrics.boundingRect(
            QRect(0, 0, max(width, 40), 100000), Qt.TextFlag.TextWordWrap, text
        )
        size = QSize(base.width(), max(base.height(), rect.height() + 6))
        if len(self._sizes) > 4000:
            self._sizes.clear()
        self._sizes[key] = QSize(size)
        return size


class RedFlagBanner(QFrame):
    """A coloured strip naming every red flag that fired, most urgent first; hidden when none.

    Signals: none (it only displays).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("redFlagBanner")
        self.setAccessibleName("Red flags")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        self.badge = QLabel(self)
        self.badge.setObjectName("redFlagBadge")
        font = self.badge.font()
        font.setBold(True)
        self.badge.setFont(font)
        layout.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        self.text = QLabel(self)
        self.text.setObjectName("redFlagText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.text, 1)
        self.flags: tuple[RedFlagResult, ...] = ()
        self.hide()

    @property
    def urgency(self) -> Urgency | None:
        return self.flags[0].urgency if self.flags else None

    def show_flags(self, flags: tuple[RedFlagResult, ...]) -> None:
        if flags == self.flags:
            return  # shown already: a new style sheet would re-polish the banner (~1 ms)
        self.flags = flags
        if not flags:
            self.hide()
            return
        top = flags[0].urgency
        bg, fg, border = URGENCY_COLOURS[top]
        self.setStyleSheet(
            f"QFrame#redFlagBanner {{ background: {bg}; border: 1px solid {border};"
            f" border-radius: 4px; }} QFrame#redFlagBanner QLabel {{ color: {fg}; }}"
        )
        self.setProperty("urgency", top.value)
        count = f"{len(flags)} RED FLAGS" if len(flags) > 1 else "RED FLAG"
        self.badge.setText(f"⚠ {count} · {top.value.upper()}")
        lines = []
        for f in flags:
            evidence = "; ".join(e.text for e in f.evidence)
            lines.append(
                f"<b>{html.escape(f.name)}</b> ({f.urgency.value}): {html.escape(f.message)}"
                f" <span style='opacity:0.85'>— {html.escape(evidence)}</span>"
            )
        self.text.setText("<br>".join(lines))
        tip = "\n".join(
            f"{f.id} {f.name} [{f.urgency.value}] sources: {', '.join(f.sources)}" for f in flags
        )
        self.setToolTip(tip)
        self.show()


class AssessmentPanel(QWidget):
    """Contributing factors (strongest first, expandable to their evidence), patterns, the
    source/victim summary and running guidance.

    Signals: none (it only displays; the evaluation view feeds it).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assessmentPanel")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # When the window is too low for all of it, the panel scrolls as one (nothing hidden).
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setObjectName("assessmentScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.viewport().setAutoFillBackground(False)
        outer.addWidget(self.scroll_area)
        body = QWidget(self.scroll_area)
        body.setObjectName("assessmentBody")
        body.setAutoFillBackground(False)
        self.scroll_area.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 12, 12, 8)
        layout.setSpacing(8)
        heading = QLabel("Assessment", self)
        heading.setProperty("role", "panelTitle")
        layout.addWidget(heading)

        self.summary = QLabel(self)
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.summary)

        self.running = QLabel(self)
        self.running.setObjectName("running")
        self.running.setWordWrap(True)
        self.running.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.running)

        self.tree = FactorTree(self)
        self.tree.setObjectName("factorTree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Suggested factor / pattern", "Found"])
        self.tree.setHeaderHidden(True)  # the group rows say what is listed
        self.tree.setAccessibleName("Contributing factors and patterns")
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setAlternatingRowColors(False)
        self.tree.setIndentation(14)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._delegate = WrappingDelegate(self.tree)
        self.tree.setItemDelegate(self._delegate)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # As wide as its counts ("3/6"), set as the rows change: ResizeToContents would also fit
        # the hidden header's "Found", taking the factor names twice that room.
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.sectionResized.connect(self.on_header_section_resized)
        self.tree.itemExpanded.connect(self.on_tree_item_expanded)
        self.tree.itemCollapsed.connect(self.on_tree_item_collapsed)
        layout.addWidget(self.tree, 1)

        foot = QLabel(
            "Suggestions only, each with the findings behind it: the clinician decides.", self
        )
        foot.setProperty("role", "secondary")
        foot.setWordWrap(True)
        layout.addWidget(foot)
        self._expanded: set[str] = set()
        self.assessment: Assessment | None = None

    # -- display ---------------------------------------------------------------------------------

    def show_assessment(self, assessment: Assessment) -> None:
        """Show ``assessment``, changing only what differs from the one shown: most values
        typed change no suggestion, or only the figures of one evidence line, and rebuilding
        the tree (its wrapped rows measured again, the panel repainted) cost a few ms a key."""
        shown, self.assessment = self.assessment, assessment
        if shown == assessment:
            return
        s = assessment.summary
        if shown is None or shown.summary != s:
            self.summary.setText(
                f"<b>{SUMMARY_TITLES.get(s.kind, s.kind)}</b><br>{html.escape(s.text)}"
            )
            self.summary.setProperty("kind", s.kind)
        if shown is None or shown.running != assessment.running:
            self._show_running(assessment.running)
        rows = (assessment.factors, assessment.patterns)
        if shown is None or (
            rows != (shown.factors, shown.patterns) and not self._sync_tree(assessment)
        ):
            self._fill_tree(assessment)
        if shown is None or rows != (shown.factors, shown.patterns):
            self.tree.resizeColumnToContents(1)  # the header hidden: the counts alone
            self.tree.updateGeometry()  # its first rows, and so its minimum height, changed

    def _show_running(self, run: RunningGuidance | None) -> None:
        if run is None:
            self.running.hide()
            return
        bg, fg = RUN_COLOURS[run.level]
        self.running.setStyleSheet(
            f"QLabel#running {{ background: {bg}; color: {fg}; border-radius: 4px;"
            " padding: 6px 8px; }"
        )
        evidence = "; ".join(e.text for e in run.evidence)
        full = f"{RUN_TITLES[run.level]} — {run.message}\n{evidence}"
        if run.level is RunLevel.RED_FLAG:
            self.running.setText(f"<b>{RUN_TITLES[run.level]}</b>: {RED_FLAG_RUNNING}")
            self.running.setToolTip(full)
        else:
            self.running.setText(
                f"<b>{RUN_TITLES[run.level]}</b> — {html.escape(run.message)}"
                f"<br><small>{html.escape(evidence)}</small>"
            )
            self.running.setToolTip("")
        self.running.setAccessibleDescription(full)
        self.running.setProperty("level", run.level.value)
        self.running.show()

    def _fill_tree(self, a: Assessment) -> None:
        tree = self.tree
        tree.setUpdatesEnabled(False)
        tree.clear()
        bold = QFont(tree.font())
        bold.setBold(True)
        for key, title, none in GROUPS:
            results = a.factors if key == "factors" else a.patterns
            group = QTreeWidgetItem([title, ""])
            group.setFont(0, bold)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setData(0, Qt.ItemDataRole.UserRole, key)
            tree.addTopLevelItem(group)
            if not results:
                group.addChild(_placeholder(none))
            children = [self._result_item(r) for r in results]
            group.addChildren(children)
            group.setExpanded(True)
            for child, r in zip(children, results, strict=True):
                if r.id in self._expanded:
                    child.setExpanded(True)
        self._span_long_rows()
        tree.setUpdatesEnabled(True)

    def _sync_tree(self, a: Assessment) -> bool:
        """Change the tree shown into ``a``'s in place: rows that stay keep their place and
        get their new texts (an unchanged text is no change to the view), rows gone are taken
        out, new rows put in. False, changing nothing, when rows that stay changed places (the
        caller builds the tree anew). Rebuilding it on every typed digit measured and painted
        every row again."""
        tree = self.tree
        groups = []
        for g in range(tree.topLevelItemCount()):
            group = tree.topLevelItem(g)
            assert group is not None
            key = group.data(0, Qt.ItemDataRole.UserRole)
            results = a.factors if key == "factors" else a.patterns
            new = [r.id for r in results]
            old = [k.data(0, Qt.ItemDataRole.UserRole) for k in self.result_items(key)]
            if [i for i in old if i in new] != [i for i in new if i in old]:
                return False
            groups.append((group, results, new))
        none = {key: text for key, _, text in GROUPS}
        for group, results, new in groups:
            for n in reversed(range(group.childCount())):
                child = group.child(n)
                assert child is not None
                rid = child.data(0, Qt.ItemDataRole.UserRole)
                if (rid and rid not in new) or (not rid and results):
                    group.takeChild(n)  # gone, or the "none yet" line when some came
            for n, r in enumerate(results):
                child = group.child(n)
                if child is not None and child.data(0, Qt.ItemDataRole.UserRole) == r.id:
                    self._set_result(child, r)
                    self._sync_evidence(child, r)
                    continue
                item = self._result_item(r)
                group.insertChild(n, item)
                index = tree.indexFromItem(item)
                for e in range(item.childCount()):
                    tree.setFirstColumnSpanned(e, index, True)
                if r.id in self._expanded:
                    item.setExpanded(True)
            if not results and group.childCount() == 0:
                group.addChild(_placeholder(none[group.data(0, Qt.ItemDataRole.UserRole)]))
                tree.setFirstColumnSpanned(0, tree.indexFromItem(group), True)
        return True

    def _sync_evidence(self, item: QTreeWidgetItem, r: RuleResult) -> None:
        """A row's evidence lines made ``r.evidence``, the lines that stay set in place."""
        while item.childCount() > len(r.evidence):
            item.takeChild(item.childCount() - 1)
        index = self.tree.indexFromItem(item)
        for n, e in enumerate(r.evidence):
            child = item.child(n)
            if child is None:
                child = _evidence_item(e)
                item.addChild(child)
                self.tree.setFirstColumnSpanned(n, index, True)
            else:
                _set_evidence(child, e)

    def _span_long_rows(self) -> None:
        """Group headings and evidence lines use the full width (only factors have a count)."""
        tree = self.tree
        root = tree.rootIndex()
        for g in range(tree.topLevelItemCount()):
            tree.setFirstColumnSpanned(g, root, True)
            group = tree.topLevelItem(g)
            assert group is not None
            group_index = tree.indexFromItem(group)
            for n in range(group.childCount()):
                child = group.child(n)
                assert child is not None
                if not child.data(0, Qt.ItemDataRole.UserRole):
                    tree.setFirstColumnSpanned(n, group_index, True)
                child_index = tree.indexFromItem(child)
                for e in range(child.childCount()):
                    tree.setFirstColumnSpanned(e, child_index, True)

    def _result_item(self, r: RuleResult) -> QTreeWidgetItem:
        item = QTreeWidgetItem()
        self._set_result(item, r)
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignCenter)
        for e in r.evidence:
            item.addChild(_evidence_item(e))
        return item

    def _set_result(self, item: QTreeWidgetItem, r: RuleResult) -> None:
        name = f"{r.id} {r.name}"
        if r.opinion:
            name += "  [opinion]"
        if not r.confirmed:
            name += "  [possible, not confirmed]"
        where = "local" if r.local else r.region
        item.setText(0, name)
        item.setText(1, f"{r.strength}/{r.indicators}")
        item.setToolTip(1, f"{r.strength} of {r.indicators} indicators found")
        item.setData(0, Qt.ItemDataRole.UserRole, r.id)
        tip = [f"{r.name} ({where}); sources {', '.join(r.sources)}"]
        if r.opinion:
            tip.append("Opinion: one author's claim, labelled as such in the report.")
        if not r.confirmed:
            tip.append("Would be confirmed by: " + " or ".join(r.would_confirm))
        if r.note:
            tip.append(r.note)
        item.setToolTip(0, "\n".join(tip))

    def result_items(self, group: str = "factors") -> list[QTreeWidgetItem]:
        """The shown factor (or pattern) rows, in display order."""
        for n in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(n)
            if top is not None and top.data(0, Qt.ItemDataRole.UserRole) == group:
                kids = [top.child(i) for i in range(top.childCount())]
                return [k for k in kids if k is not None and k.data(0, Qt.ItemDataRole.UserRole)]
        return []

    def on_header_section_resized(self, *_args: object) -> None:
        self.tree.scheduleDelayedItemsLayout()

    def on_tree_item_expanded(self, item: QTreeWidgetItem) -> None:
        rid = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(rid, str) and item.parent() is not None:
            self._expanded.add(rid)

    def on_tree_item_collapsed(self, item: QTreeWidgetItem) -> None:
        rid = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(rid, str):
            self._expanded.discard(rid)


GROUPS = (  # the tree's two groups: key, title, the line shown when the group is empty
    ("factors", "Contributing factors (strongest first)", "none yet"),
    ("patterns", "What the pain may be (patterns)", "none yet"),
)


def _placeholder(text: str) -> QTreeWidgetItem:
    empty = QTreeWidgetItem([text, ""])
    empty.setFlags(Qt.ItemFlag.ItemIsEnabled)
    empty.setForeground(0, QBrush(QColor("#7a8691")))
    return empty


def _evidence_item(e: Evidence) -> QTreeWidgetItem:
    child = QTreeWidgetItem()
    _set_evidence(child, e)
    child.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return child


def _set_evidence(child: QTreeWidgetItem, e: Evidence) -> None:
    child.setText(0, e.text)
    child.setText(1, "")
    child.setData(0, ROLE_EVIDENCE, e.item_id)
    child.setToolTip(0, f"{e.text}\n{e.indicator} (source {e.source})")


class EvaluationView(QWidget):
    """The editor with the red-flag banner above it and the live assessment beside it.

    Signals: ``findings_changed(Findings)`` — relayed from the editor after each accepted edit;
    ``assessed(Assessment)`` — the assessment recomputed from those findings;
    ``confirmed(tuple)`` — relayed from the editor (carried values confirmed).
    """

    findings_changed = Signal(object)
    assessed = Signal(object)
    confirmed = Signal(object)

    def __init__(
        self,
        form: Form,
        findings: Findings | None = None,
        parent: QWidget | None = None,
        initial_section: str | None = None,
        sections: Sequence[Section] | None = None,
    ):
        super().__init__(parent)
        self.form = form
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.banner = RedFlagBanner(self)
        banner_box = QVBoxLayout()
        banner_box.setContentsMargins(8, 8, 8, 0)
        banner_box.addWidget(self.banner)
        layout.addLayout(banner_box)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("evaluationSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.editor = EvaluationEditor(form, findings, self.splitter, initial_section, sections)
        self.panel = AssessmentPanel(self.splitter)
        self.panel.setMinimumWidth(240)
        self.splitter.addWidget(self.editor)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([820, 380])
        layout.addWidget(self.splitter, 1)
        keep_still(self.splitter, lambda: self.editor)  # the banner does not move the form
        self.editor.findings_changed.connect(self.on_editor_findings_changed)
        self.editor.confirmed.connect(self.confirmed)
        self.assessment = self._recompute(self.editor.findings)

    def replace_editor(self, sections: Sequence[Section], section: str | None = None) -> None:
        """A new editor showing ``sections`` with the same findings, carried and previous
        values (a visit note's pages change when an item is picked for re-measuring). The
        caller flushes first and reconnects what it had connected to the old editor."""
        old = self.editor
        sizes = self.splitter.sizes()
        editor = EvaluationEditor(
            self.form, old.findings, None, section or old.current_section(), sections
        )
        editor.set_read_only(old.is_read_only())
        editor.set_carried(old.carried())
        editor.set_previous(old.previous(), old.previous_dates())
        self.splitter.replaceWidget(0, editor)
        old.findings_changed.disconnect(self.on_editor_findings_changed)
        old.confirmed.disconnect(self.confirmed)
        old.hide()
        old.deleteLater()
        self.editor = editor
        self.splitter.setSizes(sizes)
        editor.findings_changed.connect(self.on_editor_findings_changed)
        editor.confirmed.connect(self.confirmed)

    def set_findings(self, findings: Findings) -> None:
        self.editor.set_findings(findings)
        self.assessment = self._recompute(findings)

    def assessed_findings(self, findings: Findings) -> Findings:
        """The findings the assessment and the red flags are read from (a visit note's own
        values over the episode's; an evaluation's own)."""
        return findings

    def _recompute(self, findings: Findings) -> Assessment:
        assessed = self.assessed_findings(findings)
        # Typing a plan, or any value no rule reads, cannot change the assessment: the one
        # shown is kept (core/rule_inputs.py), so such a keystroke costs no recompute.
        inputs = self.__dict__.get("_inputs")
        if inputs is None:
            inputs = self.__dict__["_inputs"] = assessment_inputs(self.form)
        key = inputs_key(assessed.values, inputs)
        last = self.__dict__.get("_last")
        if last is not None and last[0] == key:
            return last[1]  # type: ignore[no-any-return]
        assessment = assess(self.form, assessed)
        self.banner.show_flags(assessment.red_flags)
        self.panel.show_assessment(assessment)
        self.__dict__["_last"] = (key, assessment)
        return assessment

    def on_editor_findings_changed(self, findings: Findings) -> None:
        self.assessment = self._recompute(findings)
        self.findings_changed.emit(findings)
        self.assessed.emit(self.assessment)
