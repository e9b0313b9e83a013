"""A visit note (daily note) on the evaluation page: its pages, the episode behind it, its goals.

A visit note is an evaluation row of kind ``visit``: the page saves, signs, seals and resolves
conflicts for it exactly as for an evaluation. What differs is what it shows:

- the form's visit pages (``core.visit.visit_sections``) with a "Re-measured today" page of the
  evaluation items the therapist picked (those re-measured at the previous visit of the episode
  are picked when a new visit opens), each with its last value in the episode and that value's
  date beside it;
- the red-flag banner and the assessment read from the episode's latest values with the visit's
  own values over them (a red flag found at the initial evaluation stays on every visit until a
  later record clears it);
- on the visit's assessment page, the progress toward each goal of the episode, suggested from
  the latest values as they are typed (``core.progress.goal_progress``): the therapist decides.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from clinic_app.core.changes import previous_values
from clinic_app.core.engine import Assessment, assess
from clinic_app.core.findings import Findings
from clinic_app.core.form import Form, ItemType, Section
from clinic_app.core.goals import STATUS_LABELS, merged_values
from clinic_app.core.progress import GoalProgress, Record, findings_at, goal_progress
from clinic_app.core.visit import REMEASURED_SECTION, remeasured_in, visit_sections
from clinic_app.ui.assessment import EvaluationView
from clinic_app.ui.editor import EvaluationEditor
from clinic_app.ui.episode_charts import ChartData
from clinic_app.ui.remeasure import RemeasurePicker
from clinic_app.ui.section_page import SectionPage
from clinic_app.ui.visit_chart import VisitChart, chartable_item

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import Evaluation

EDITORS_KEPT = 3  # hidden editors of other sets of re-measured items, kept for reopening
ASSESSMENT_SECTION = "visit_assessment"  # the page the goals are shown on (if the form has it)
# The dynamic property naming a "Re-measured today" field's item (read by the chart's focus filter).
CHART_ITEM_PROPERTY = "visitChartItem"
logger = logging.getLogger(__name__)
TERM_LABELS = {"short": "Short-term", "long": "Long-term"}


@dataclass(frozen=True)
class VisitContext:
    """What a visit note shows from the rest of its episode (read once, when it opens)."""

    number: int  # the visit's place among the episode's visit notes (1 for the first)
    remeasured: tuple[str, ...]  # items picked at opening
    previous: dict[str, Any] = field(default_factory=dict)  # latest earlier value (findings shape)
    previous_on: dict[str, date] = field(default_factory=dict)  # ... and its record's date
    earlier: tuple[Record, ...] = ()  # the episode's records before this one, oldest first
    goals: tuple[Any, ...] | None = None  # records.Goal values (None: read when shown)
    episode_id: int | None = None
    involved: str | None = None


def load_visit_context(db: Database, form: Form, evaluation: Evaluation) -> VisitContext:
    """Read the episode of ``evaluation`` (a visit note) for its page, goals included; runs on
    the worker, as part of the one read an open makes (``EvaluationPage.open``)."""
    from clinic_app.storage import records
    from clinic_app.storage.records.evaluations import episode_values

    episode_id = evaluation.episode_id
    own = dict(evaluation.findings.get("values", {}))
    if episode_id is None:
        return VisitContext(number=1, remeasured=remeasured_in(form, own), goals=())
    involved, rows = episode_values(db, episode_id)
    here = (evaluation.eval_date, evaluation.id)
    earlier = tuple(r for r in rows if (r.on, r.id) < here and r.id != evaluation.id)
    visits = [r for r in rows if r.kind == "visit"]
    number = next((n for n, r in enumerate(visits, 1) if r.id == evaluation.id), len(visits) + 1)
    last_visit = next((r for r in reversed(earlier) if r.kind == "visit"), None)
    picked = set(remeasured_in(form, own))
    if last_visit is not None:
        picked.update(remeasured_in(form, last_visit.values))
    latest: dict[str, Any] = {}
    latest_on: dict[str, date] = {}
    items = form.items  # a property: read once
    for record in earlier:
        for item_id, value in record.values.items():
            item = items.get(item_id)
            if item is None or value is None or item.type in (ItemType.TEXT, ItemType.ROWS):
                continue
            latest[item_id], latest_on[item_id] = value, record.on
    previous = previous_values(form, latest)
    try:
        goals: tuple[Any, ...] = tuple(records.list_goals(db, episode_id))
    except Exception:  # noqa: BLE001 - the goals box is a help beside the record: the page still opens
        logger.warning("goals of episode %d not read", episode_id)
        goals = ()
    return VisitContext(
        number=number,
        remeasured=tuple(i for i in items if i in picked),
        previous=previous,
        previous_on={i: latest_on[i] for i in previous},
        earlier=earlier,
        goals=goals,
        involved=involved,
        episode_id=episode_id,
    )


def program_exercises(
    form: Form, earlier: Sequence[Record], involved: str | None
) -> tuple[str, ...]:
    """The exercises of the patient's current program (names; none before the first record):
    the latest home program stored in the episode, in its order; without one, the exercises
    the handout of the episode's latest values gives."""
    if not earlier:
        return ()
    stored = _stored_program(form, earlier)
    if stored:
        return stored
    from clinic_app.core.engine import assess
    from clinic_app.reports.content import ContentError, choose_exercises

    try:
        latest = findings_at(form, merged_values(r.values for r in earlier), involved)
        a = assess(form, latest)
        return tuple(e.name for e in choose_exercises(a.exercises, a.advice))
    except (ContentError, OSError, ValueError):
        return ()


def _stored_program(form: Form, earlier: Sequence[Record]) -> tuple[str, ...]:
    """The exercise names of the latest stored program item (its snapshot's titles, else the
    shipped library's, else the id), in the program's order."""
    from clinic_app.core.form import ItemType
    from clinic_app.core.library import shipped_library
    from clinic_app.core.program import ProgramError, parse_program

    ids = [i.id for i in form.items.values() if i.type is ItemType.PROGRAM]
    for record in reversed(earlier):
        raw = next((record.values.get(i) for i in ids if record.values.get(i)), None)
        if raw is None:
            continue
        try:
            program = parse_program(raw)
        except ProgramError:
            return ()
        library = None
        names: list[str] = []
        for ex in program.exercises:
            snapshot = getattr(ex, "snapshot", None)
            title = getattr(snapshot, "title", "") if snapshot is not None else ""
            if not title:
                if library is None:
                    library = shipped_library(form)
                known = library.get(ex.exercise)
                title = known.title if known is not None else ex.exercise.replace("_", " ")
            names.append(title)
        return tuple(names)
    return ()


def goal_lines(progress: Sequence[GoalProgress]) -> str:
    """The goals as rich text: term, goal, target, latest reading, suggested and set status."""
    if not progress:
        return "<i>No goals are set for this episode yet.</i>"
    lines = []
    for g in progress:
        s = g.suggestion
        target = f" — target {html.escape(g.target_words)}" if g.target_words else ""
        if g.target_date is not None:
            target += f" by {g.target_date:%Y-%m-%d}"
        latest = s.latest.text if s.latest is not None and s.latest.text else "not measured"
        set_by = STATUS_LABELS.get(g.status, g.status)
        lines.append(
            f"<b>{TERM_LABELS.get(g.term, g.term)}:</b> {html.escape(g.text)}{target}<br>"
            f"&nbsp;&nbsp;Latest: {html.escape(latest)} · suggested: "
            f"<b>{html.escape(STATUS_LABELS.get(s.status, s.status))}</b>"
            f" <span style='color:#5f6b76'>({html.escape(s.reason)}; status set: "
            f"{html.escape(set_by)})</span>"
        )
    return "<br>".join(lines)


class GoalsBox(QLabel):
    """The "Progress toward goals" block of the visit's assessment page (display only).

    Signals: none.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("goalProgress")
        self.setAccessibleName("Progress toward goals")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setStyleSheet(
            "QLabel#goalProgress { background: #f4f7f9; border: 1px solid #d8dee4;"
            " border-radius: 4px; padding: 8px 10px; }"
        )
        self.progress: list[GoalProgress] = []

    def show_progress(self, progress: list[GoalProgress]) -> None:
        self.progress = progress
        self.setText("<b>Progress toward goals</b><br>" + goal_lines(progress))


class VisitView(EvaluationView):
    """A visit note's editor, red-flag banner and assessment, over the rest of its episode.

    The editor sits in a stack of editors, one per set of re-measured items shown (the pages
    differ by the "Re-measured today" page): reopening a visit note whose set was seen before
    refills that set's editor instead of building one (~30-50 ms of widgets).

    Signals: as :class:`~clinic_app.ui.assessment.EvaluationView`.
    """

    def __init__(
        self,
        form: Form,
        findings: Findings,
        evaluation: Evaluation | None,
        context: VisitContext,
        parent: QWidget | None = None,
        initial_section: str | None = None,
        read_goals: Callable[[int], Sequence[Any]] | None = None,
    ) -> None:
        self.context = context
        # The episode's goals come with the context; a context without them (a view built
        # ahead of time) reads them when the assessment page first shows.
        self._read_goals = read_goals
        self._goals: tuple[Any, ...] | None = context.goals
        # None: built ahead of time, hidden, for the next visit note (see ``reuse``).
        self.evaluation_id = evaluation.id if evaluation is not None else 0
        self.eval_date = evaluation.eval_date if evaluation is not None else date.today()
        involved = context.involved
        self._base = findings_at(form, merged_values(r.values for r in context.earlier), involved)
        self.remeasured: tuple[str, ...] = context.remeasured
        self.goals_box: GoalsBox | None = None
        self.chart: VisitChart | None = None  # under the "Re-measured today" items, once shown
        self._program: tuple[str, ...] | None = None  # read when the interventions show
        super().__init__(
            form, findings, parent, initial_section, visit_sections(form, self.remeasured)
        )
        # The splitter's first pane becomes a stack holding the editor (and, later, the
        # editors of the other sets of re-measured items, hidden: ``_kept``).
        sizes = self.splitter.sizes()
        self.editor_stack = QStackedWidget()
        self.editor_stack.setObjectName("visitEditors")
        self.splitter.insertWidget(0, self.editor_stack)
        self.editor_stack.addWidget(self.editor)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setSizes(sizes)
        self._editor_key: tuple[str, ...] = self.remeasured
        self._kept: dict[tuple[str, ...], EvaluationEditor] = {}
        self.picker = RemeasurePicker(form, self.is_remeasured, self)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, self.picker)
        self._wire_editor()

    def is_remeasured(self, item_id: str) -> bool:
        return item_id in self.remeasured

    # -- the episode under the visit -------------------------------------------------------------

    def assessed_findings(self, findings: Findings) -> Findings:
        if not self._base.values:
            return findings
        values = merged_values([self._base.values, findings.values])
        return Findings(self.form.id, self.form.version, values)

    def _recompute(self, findings: Findings) -> Assessment:
        # The banner and the panel are refilled only when the assessment differs from the one
        # shown: typing a visit's text, or reopening a note, mostly leaves it as it was.
        assessment = assess(self.form, self.assessed_findings(findings))
        shown = self.panel.assessment
        if shown is None or assessment.red_flags != shown.red_flags:
            self.banner.show_flags(assessment.red_flags)
        if assessment != shown:
            self.panel.show_assessment(assessment)
        return assessment

    def goals(self) -> tuple[Any, ...]:
        if self._goals is None:
            episode = self.context.episode_id
            read = self._read_goals
            self._goals = tuple(read(episode)) if read is not None and episode is not None else ()
        return self._goals

    def records_with(self, findings: Findings) -> list[Record]:
        """The episode's records up to this visit, the visit as typed now the last."""
        own = findings.to_dict()["values"]
        now = Record(self.evaluation_id, "visit", self.eval_date, own, "draft")
        return [*self.context.earlier, now]

    def goal_progress(self, findings: Findings) -> list[GoalProgress]:
        return goal_progress(
            self.form,
            self.goals(),
            self.records_with(findings),
            involved=self.context.involved,
            today=self.eval_date,
        )

    def _wire_editor(self) -> None:
        editor = self.editor
        editor.set_previous(self.context.previous, self.context.previous_on)
        editor.page_built.connect(self.on_editor_page_built)
        self._refresh_pages()

    def _refresh_pages(self) -> None:
        """What the visit adds to the editor's built pages (the goals, the programme), for the
        episode shown now."""
        page = self.editor.built_page(ASSESSMENT_SECTION)
        self.goals_box = page.findChild(GoalsBox) if page is not None else None
        page = self.editor.built_page(REMEASURED_SECTION)
        self.chart = page.findChild(VisitChart) if page is not None else None
        for section in self.editor.built_sections():
            self.on_editor_page_built(section)

    def program(self) -> tuple[str, ...]:
        if self._program is None:
            c = self.context
            self._program = program_exercises(self.form, c.earlier, c.involved)
        return self._program

    def _give_program(self, item_id: str) -> None:
        from clinic_app.ui.rows_editor import RowsEditor

        ed = self.editor.editor(item_id)
        if isinstance(ed, RowsEditor):
            ed.set_program(self.program())

    def on_editor_page_built(self, section_id: str) -> None:
        page = self.editor.built_page(section_id)
        if page is None:
            return
        for item_id, row in page.rows.items():
            if row.item.type is ItemType.ROWS:
                self._give_program(item_id)
        if section_id == ASSESSMENT_SECTION:
            if self.goals_box is None:
                self.goals_box = GoalsBox()
                page.add_above_items(self.goals_box)
            self.goals_box.show_progress(self.goal_progress(self.editor.findings))
        if section_id == REMEASURED_SECTION:
            self._chart_page(page)

    def on_editor_findings_changed(self, findings: Findings) -> None:
        if self.goals_box is not None:
            self.goals_box.show_progress(self.goal_progress(findings))
        chart = self.chart
        if chart is not None and chart.item_id is not None:
            chart.value_changed(findings.to_dict()["values"].get(chart.item_id))
        super().on_editor_findings_changed(findings)

    # -- the chart of the item in focus -----------------------------------------------------------

    def chart_data(self) -> ChartData:
        """The episode as the charts draw it, this visit (as typed now) the last record."""
        c = self.context
        records = tuple(self.records_with(self.editor.findings))
        return ChartData(c.episode_id or 0, self.form, records, self.goals(), c.involved)

    def _chart_page(self, page: SectionPage) -> None:
        """The chart under the re-measured items (made the first time the page shows), on the
        first number of the page; the episode may be another one since it was last drawn."""
        if self.chart is None:
            self.chart = VisitChart(self.form, self.chart_data)
            body = page.widget()
            box = body.layout() if body is not None else None
            if not isinstance(box, QVBoxLayout):
                return
            self.chart.setParent(body)
            box.insertWidget(box.count() - 1, self.chart)  # (after the items, before the stretch)
        numbers = [i for i in page.rows if chartable_item(self.form, i)]
        self.chart.reset(numbers[0] if numbers else None)
        self._watch_focus(page)

    def _watch_focus(self, page: SectionPage) -> None:
        """Hear the page's fields take the keyboard: each field (and what is inside it) carries
        its item's id as a dynamic property, and this view filters its FocusIn events (not the
        application's ``focusChanged``, which outlives the widgets it was connected for).
        Installing the filter again on a widget that has it only moves it to the front."""
        for item_id, row in page.rows.items():
            for ed in row.editors.values():
                for w in (ed, *ed.findChildren(QWidget)):
                    w.setProperty(CHART_ITEM_PROPERTY, item_id)
                    w.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn and isinstance(watched, QWidget):
            item_id = watched.property(CHART_ITEM_PROPERTY)
            if isinstance(item_id, str):
                self._focus_went_to(watched, item_id)
        return super().eventFilter(watched, event)

    def _focus_went_to(self, field: QWidget, item_id: str) -> None:
        """The keyboard went to a field of a re-measured item: chart that item."""
        chart = self.chart
        if chart is None or not chart.isVisible():
            return
        page = self.editor.built_page(REMEASURED_SECTION)  # not a kept editor's page
        if page is not None and page.isAncestorOf(field) and item_id in page.rows:
            chart.set_item(item_id)

    def set_findings(self, findings: Findings) -> None:
        """Show ``findings`` (e.g. "take theirs"): items they re-measured join the page."""
        new = [i for i in remeasured_in(self.form, findings.values) if i not in self.remeasured]
        super().set_findings(findings)
        if new:
            self.set_remeasured((*self.remeasured, *new))
        if self.goals_box is not None:
            self.goals_box.show_progress(self.goal_progress(findings))

    def reuse(self, findings: Findings, evaluation: Evaluation, context: VisitContext) -> None:
        """Show another visit note of the same form in this (hidden, closed) view: building a
        view's widgets costs more than refilling them, so the page keeps the last one (and
        the editors of the last few sets of re-measured items)."""
        self.context = context
        self.evaluation_id = evaluation.id
        self.eval_date = evaluation.eval_date
        self._goals = context.goals
        self._program = None
        self._base = findings_at(
            self.form, merged_values(r.values for r in context.earlier), context.involved
        )
        self.picker.clear()
        self.remeasured = context.remeasured
        # (left read-only if it was: the page sets what this note allows, once)
        start = self.editor_start()
        if self._editor_key != context.remeasured:
            self._switch_editor(context.remeasured, findings, start)
        else:
            self.editor.set_current_section(start)
            self.editor.set_findings(findings)
        self.editor.set_previous(context.previous, context.previous_on)
        self.assessment = self._recompute(findings)
        self._refresh_pages()

    def editor_start(self) -> str:
        return self.editor.sections[0].id if self.editor.sections else ""

    # -- re-measuring -----------------------------------------------------------------------------

    def set_remeasured(self, item_ids: Sequence[str], section: str | None = None) -> None:
        """Show ``item_ids`` on the "Re-measured today" page (same findings, carried and
        previous values; that set's editor if one is kept, else a new one)."""
        self.remeasured = tuple(i for i in self.form.items if i in set(item_ids))
        self.replace_editor(visit_sections(self.form, self.remeasured), section)
        self.picker.refresh()

    def replace_editor(self, sections: Sequence[Section], section: str | None = None) -> None:
        """The editor of :attr:`remeasured` (``sections`` are its pages) in place of the one
        shown, with the same findings, read-only state, carried and previous values."""
        old = self.editor
        key = self.remeasured
        if key == self._editor_key:
            return
        self._switch_editor(key, old.findings, section or old.current_section(), sections)
        editor = self.editor
        editor.set_read_only(old.is_read_only())
        editor.set_carried(old.carried())
        editor.set_previous(old.previous(), old.previous_dates())
        self._refresh_pages()

    def _switch_editor(
        self,
        key: tuple[str, ...],
        findings: Findings,
        section: str,
        sections: Sequence[Section] | None = None,
    ) -> None:
        """Show the editor of the re-measured items ``key`` holding ``findings`` at
        ``section``; the one shown so far is kept hidden for its own set."""
        old, old_key = self.editor, self._editor_key
        editor = self._kept.pop(key, None)
        if editor is None:
            pages = sections if sections is not None else visit_sections(self.form, key)
            editor = EvaluationEditor(self.form, findings, None, section, pages)
            editor.set_read_only(old.is_read_only())
            self.editor_stack.addWidget(editor)
        else:
            editor.set_findings(findings)
            editor.set_current_section(section)
        old.findings_changed.disconnect(self.on_editor_findings_changed)
        old.confirmed.disconnect(self.confirmed)
        old.page_built.disconnect(self.on_editor_page_built)
        self.editor_stack.setCurrentWidget(editor)
        self._kept[old_key] = old
        while len(self._kept) > EDITORS_KEPT:  # the set seen longest ago goes
            oldest = next(iter(self._kept))
            self._kept.pop(oldest).deleteLater()
        self.editor, self._editor_key = editor, key
        editor.findings_changed.connect(self.on_editor_findings_changed)
        editor.confirmed.connect(self.confirmed)
        editor.page_built.connect(self.on_editor_page_built)
