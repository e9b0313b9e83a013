"""A patient's episodes of care, the selected one's timeline and what is due (issue 15).

The panel sits in the patient view (``ui.patient_detail``): on the left the patient's episodes,
newest first, the open ones marked; on the right the selected episode's title and referral,
what its plan of care asks for next (``records.care_due``: "Progress report due in 3 visits or
by 12 Oct 2026", shown as a warning once due), and its timeline, newest first (evaluations,
numbered visit notes, plan-of-care versions, goals set and goal status changes). Double-click
or Enter on an evaluation or a visit note opens it. Everything shown is read in one operation
(:func:`read_episode_view`) through the runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from PySide6 import QtGui
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.kinds import KIND_LABELS
from clinic_app.ui.program_history import ProgramHistory, ProgramVersion, program_versions

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import CareDue, Episode, Evaluation

# An assistant's or student's signature awaits a therapist's co-signature (issue 14).
STATUS_LABELS = {
    "signed": "Signed",
    "draft": "Draft",
    "awaiting co-signature": "Draft · awaiting co-signature",
    "returned for changes": "Draft · returned for changes",
}
SIDE_WORDS = {"left": "left side", "right": "right side", "both": "both sides"}
DUE_STYLE = "background: #fff4e5; color: #8a4b00; padding: 6px 10px; border-radius: 4px;"
PLAIN_STYLE = "padding: 6px 10px;"
# The longest lines of dates the episodes list shows (``episode_line``): open (in bold), closed.
EPISODE_DATE_SAMPLES = ("since 30 Sep 2026 · open", "30 Sep 2026 – 30 Sep 2026")
ENTRY_COLUMN, STATUS_COLUMN, CLINICIAN_COLUMN, DETAILS_COLUMN = 1, 2, 3, 4
# What the details column keeps at least before the clinician's column gives way to it: about
# three main factors' first words.
DETAILS_ROOM_SAMPLE = "Weak eccentric hamstrings;"
CELL_PADDING = 12  # the item's margins (6 px in all styles here) and some air


def day_text(day: date) -> str:
    """12 Oct 2026 (no leading zero; the same on every platform)."""
    return f"{day.day} {day:%b %Y}"


@dataclass(frozen=True)
class EvaluationRow:
    """One evaluation or visit note of the timeline, read in one operation."""

    id: int
    eval_date: date
    kind: str
    status: str
    clinician: str
    main_factors: str
    label: str = ""  # "Visit note 3", "Initial evaluation"


@dataclass(frozen=True)
class TimelineRow:
    """One line of the timeline table (``record`` set for an evaluation or a visit note)."""

    on: date
    what: str  # evaluation / visit / plan / goal / goal_status
    text: str
    record: EvaluationRow | None = None


@dataclass(frozen=True)
class EpisodeView:
    """What the panel shows, read in one operation."""

    episodes: tuple[Episode, ...]
    selected: Episode | None
    rows: tuple[TimelineRow, ...]  # newest first
    due: CareDue | None
    programs: tuple[ProgramVersion, ...] = ()  # the home program's versions (issue 17)


def due_text(due: CareDue | None) -> tuple[str, bool]:
    """What the plan of care asks for next, and whether it is due (or overdue) today."""
    if due is None:
        return "", False
    if due.closed:
        return "Episode closed: nothing due.", False
    parts = []
    if due.progress_due:
        if due.visits_since_progress >= due.every_visits:
            why = f"{due.visits_since_progress} visits since the last evaluation"
        else:
            why = f"last evaluation on {day_text(due.last_progress_date)}"
        parts.append(f"⚠ Progress report due now ({why})")
    else:
        left = due.visits_left
        visits = f"{left} visit{'s' if left != 1 else ''}"
        parts.append(f"Progress report due in {visits} or by {day_text(due.progress_due_on)}")
    if due.recert_due_on is None:
        parts.append("No plan of care yet (Plan of care…)")
    elif due.recert_due:
        parts.append(f"⚠ Recertification of the plan due since {day_text(due.recert_due_on)}")
    else:
        parts.append(f"Recertification due {day_text(due.recert_due_on)}")
    return "\n".join(parts), due.progress_due or due.recert_due


# An evaluation's clinician and main factors by (database, id, version): a version is never
# changed again, so what was computed for it holds; the timeline's later reads skip the findings
# and the rules (about 10 ms per evaluation). Only ever touched by the one database worker.
_EVALUATION_LINES: dict[tuple[str, int, int], tuple[str, str]] = {}


def read_episode_view(
    db: Database, patient_id: int, episode_id: int | None, today: date | None = None
) -> EpisodeView:
    """The operation behind the panel: the patient's episodes, and for ``episode_id`` (default:
    the newest open one, else the newest) its timeline with each record's clinician and main
    factors, and what is due."""
    from clinic_app.storage import records

    episodes = tuple(records.list_episodes(db, patient_id))
    chosen = next((e for e in episodes if e.id == episode_id), None)
    if chosen is None and episodes:
        chosen = next((e for e in episodes if e.is_open), episodes[0])
    if chosen is None:
        return EpisodeView(episodes, None, (), None)
    summaries = {s.id: s for s in records.list_evaluations(db, patient_id, episode_id=chosen.id)}
    names: dict[int, str] = {}
    rows: list[TimelineRow] = []
    visit_no = 0
    for entry in records.timeline(db, chosen.id):
        if entry.what == "episode":
            continue  # the episode's start and end are in its header and the list
        if entry.what not in ("evaluation", "visit"):
            rows.append(TimelineRow(entry.on, entry.what, entry.text))
            continue
        summary = summaries.get(entry.record_id)
        if summary is None:
            continue
        if entry.what == "visit":
            visit_no += 1
            label, clinician, factors = f"Visit note {visit_no}", "", ""
            clinician = summary.signed_by or summary.updated_by
        else:
            label = KIND_LABELS.get(entry.kind, entry.kind)
            key = (db.display_url, summary.id, summary.version)
            known = _EVALUATION_LINES.get(key)
            if known is None:
                full = records.get_evaluation(db, entry.record_id)
                clinician = ""
                if full.clinician_id is not None:
                    if full.clinician_id not in names:
                        names[full.clinician_id] = records.get_clinician(db, full.clinician_id).name
                    clinician = names[full.clinician_id]
                known = (clinician or full.created_by, main_factors(db, full))
                if len(_EVALUATION_LINES) > 2000:
                    _EVALUATION_LINES.clear()
                _EVALUATION_LINES[key] = known
            clinician, factors = known
        record = EvaluationRow(
            entry.record_id,
            entry.on,
            entry.kind,
            entry.status,
            clinician,
            factors,
            label,
        )
        rows.append(TimelineRow(entry.on, entry.what, label, record))
    rows.reverse()
    due = records.care_due(db, chosen.id, today)
    from clinic_app.storage.records.evaluations import episode_values

    programs = program_versions(episode_values(db, chosen.id)[1])
    return EpisodeView(episodes, chosen, tuple(rows), due, programs)


def main_factors(db: Database, ev: Evaluation) -> str:
    """The evaluation's red flag (first) and its three main factors, in one line."""
    from clinic_app.core.engine import assess
    from clinic_app.core.findings import FindingsError, validate
    from clinic_app.storage import records
    from clinic_app.storage.errors import StorageError

    try:
        form = records.evaluation_form(db, ev.id)
        result = assess(form, validate(form, dict(ev.findings)))
    except (StorageError, FindingsError):
        return ""
    names = [f.name for f in result.factors[:3]]
    if result.red_flags:
        names.insert(0, f"⚠ {result.red_flags[0].name}")
    return "; ".join(names) or "–"


def episode_line(episode: Episode) -> str:
    """How the list shows an episode: title, then its dates (open ones say so)."""
    when = (
        f"since {day_text(episode.start_date)} · open"
        if episode.is_open
        else f"{day_text(episode.start_date)} – {day_text(episode.end_date)}"  # type: ignore[arg-type]
    )
    return f"{episode.title}\n{when}"


class EpisodePanel(QWidget):
    """The episodes list, the selected episode's header, what is due and its timeline.

    Signals: ``episode_selected(object)`` — the ``records.Episode`` selected (or None);
    ``record_opened(int)`` — an evaluation or visit note id to open (double-click or Enter).
    """

    episode_selected = Signal(object)
    record_opened = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: EpisodeView | None = None
        self._filling = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        left = QVBoxLayout()
        self.episode_list = QListWidget(self)
        self.episode_list.setObjectName("episodeList")
        self.episode_list.setAccessibleName("Episodes of care")
        self.episode_list.setWordWrap(True)
        # As wide as an episode's dates in bold (titles wrap): every pixel more is the
        # timeline's, which needs them at 1024 px (issue 18).
        bold = QFont(self.episode_list.font())
        bold.setBold(True)  # an open episode's line
        room = 24 + max(
            QFontMetrics(bold).horizontalAdvance(EPISODE_DATE_SAMPLES[0]),
            self.episode_list.fontMetrics().horizontalAdvance(EPISODE_DATE_SAMPLES[1]),
        )
        self.episode_list.setFixedWidth(max(150, min(room, 220)))
        self.episode_list.setSpacing(2)
        self.episode_list.currentRowChanged.connect(self.on_episode_list_current_row_changed)
        left.addWidget(self.episode_list, 1)
        layout.addLayout(left)
        right = QVBoxLayout()
        right.setSpacing(6)
        self.header = QLabel(self)
        self.header.setObjectName("episodeHeader")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right.addWidget(self.header)
        self.due = QLabel(self)
        self.due.setObjectName("careDue")
        self.due.setWordWrap(True)
        right.addWidget(self.due)
        self.table = QTableWidget(0, 5, self)
        self.table.setObjectName("timelineTable")
        self.table.setAccessibleName("Timeline of the episode")
        self.table.setHorizontalHeaderLabels(["Date", "Entry", "Status", "Clinician", "Details"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        # One line per entry (the whole text in its tooltip): rows of one fixed height, and the
        # short columns sized once per fill, keep a 30-visit timeline's fill to a few ms
        # (ResizeToContents measures every cell again on every change).
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setAlternatingRowColors(True)
        h = self.table.horizontalHeader()
        # Date, entry, status and clinician are as wide as their widest text (measured once per
        # fill); the details take what is left and are elided, the whole line in the tooltip.
        # When the details would get less than DETAILS_ROOM_SAMPLE (a 1024 px window with the
        # patient list beside it), the clinician's column goes: the name is in every tooltip.
        for col in (0, 1, 2, 3):
            h.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
        h.setSectionResizeMode(DETAILS_COLUMN, QHeaderView.ResizeMode.Stretch)
        self._widths: dict[int, int] = {}
        self._viewport = self.table.viewport()  # its width, with or without the scroll bar
        self._viewport.installEventFilter(self)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        v = self.table.verticalHeader()
        v.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        v.setDefaultSectionSize(self.table.fontMetrics().height() + 12)
        self.table.itemActivated.connect(self.on_table_item_activated)
        self.table.itemDoubleClicked.connect(self.on_table_item_activated)
        right.addWidget(self.table, 1)
        self.programs = ProgramHistory(self)
        right.addWidget(self.programs)
        layout.addLayout(right, 1)
        self.show_view(None)

    # -- what is shown ---------------------------------------------------------------------------

    @property
    def selected(self) -> Episode | None:
        return None if self.view is None else self.view.selected

    @property
    def records(self) -> list[EvaluationRow]:
        """The selected episode's evaluations and visit notes, newest first."""
        if self.view is None:
            return []
        return [r.record for r in self.view.rows if r.record is not None]

    def show_view(self, view: EpisodeView | None) -> None:
        """Fill the list, the header, the due line and the timeline from ``view``."""
        keep = self.selected_record_id()  # selected again after the fill, when still there
        self.view = view
        self._filling = True
        try:
            self._fill_list(view)
        finally:
            self._filling = False
        episode = None if view is None else view.selected
        self._fill_header(episode)
        text, warn = due_text(None if view is None else view.due)
        self.due.setText(text)
        self.due.setVisible(bool(text))
        self.due.setStyleSheet(DUE_STYLE if warn else PLAIN_STYLE)
        self.due.setProperty("due", warn)
        self._fill_table(() if view is None else view.rows, keep)
        self.programs.show_versions(() if view is None else view.programs)

    def _fill_list(self, view: EpisodeView | None) -> None:
        self.episode_list.clear()
        if view is None:
            return
        for episode in view.episodes:
            item = QListWidgetItem(episode_line(episode))
            item.setData(Qt.ItemDataRole.UserRole, episode.id)
            item.setToolTip(plain_tip(episode.referral_reason or episode.title))
            if episode.is_open:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            self.episode_list.addItem(item)
            if view.selected is not None and episode.id == view.selected.id:
                self.episode_list.setCurrentItem(item)

    def _fill_header(self, episode: Episode | None) -> None:
        if episode is None:
            self.header.setText("No episode of care yet: New episode… or New evaluation opens one.")
            return
        side = SIDE_WORDS.get(episode.involved_side or "", "")
        title = f"<b>{_html(episode.title)}</b>" + (f" · {side}" if side else "")
        referral = []
        if episode.referral_source:
            referral.append(f"referred by {_html(episode.referral_source)}")
        if episode.referral_date is not None:
            referral.append(f"on {day_text(episode.referral_date)}")
        if episode.referral_reason:
            # (its lines kept: the header is rich text, where a line break is a space)
            reason = "<br>".join(_html(line) for line in episode.referral_reason.splitlines())
            referral.append(f"({reason})")
        line = " ".join(referral)
        self.header.setText(title + (f"<br>{line[0].upper()}{line[1:]}" if line else ""))

    def _fill_table(
        self, rows: tuple[TimelineRow, ...] | list[TimelineRow], keep: int | None = None
    ) -> None:
        self.table.setUpdatesEnabled(False)
        try:
            self.table.setRowCount(len(rows))
            grey = QColor("#5f6b7a")
            for n, row in enumerate(rows):
                rec = row.record
                if rec is not None:
                    cells = [
                        rec.eval_date.isoformat(),
                        rec.label,
                        STATUS_LABELS.get(rec.status, rec.status),
                        rec.clinician,
                        rec.main_factors,
                    ]
                else:
                    cells = [row.on.isoformat(), row.text, "", "", ""]
                tip = _row_tip(row)
                for col, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setData(Qt.ItemDataRole.UserRole, None if rec is None else rec.id)
                    if rec is None:
                        item.setForeground(grey)
                    if text or rec is not None:
                        item.setToolTip(plain_tip(tip))
                    self.table.setItem(n, col, item)
                if rec is None:
                    self.table.setSpan(n, 1, 1, 4)  # a plan or goal line reads across
                elif self.table.columnSpan(n, 1) > 1:
                    self.table.setSpan(n, 1, 1, 1)
        finally:
            self.table.setUpdatesEnabled(True)
        metrics = self.table.fontMetrics()
        header = self.table.horizontalHeader()
        self.table.setColumnHidden(CLINICIAN_COLUMN, False)  # (a hidden section has no hint)
        for col in (0, 1, 2, 3):  # the widest text of each short column, measured once
            texts = [
                self.table.item(n, col).text()  # type: ignore[union-attr]
                for n, r in enumerate(rows)
                if col == 0 or r.record is not None  # a plan or goal line spans 1 to 4
            ]
            widest = max((metrics.horizontalAdvance(t) for t in texts), default=0)
            self._widths[col] = max(widest + CELL_PADDING, header.sectionSizeHint(col))
        self._fit_columns()
        first = next((n for n, r in enumerate(rows) if r.record is not None), 0 if rows else -1)
        if keep is not None:
            first = next(
                (n for n, r in enumerate(rows) if r.record is not None and r.record.id == keep),
                first,
            )
        if first >= 0:
            self.table.selectRow(first)

    def _fit_columns(self) -> None:
        """Give the short columns their measured widths and the details the rest; drop the
        clinician's column when the details would get less than their room."""
        if not self._widths:
            return
        header = self.table.horizontalHeader().sectionSizeHint(DETAILS_COLUMN)
        room = self.table.fontMetrics().horizontalAdvance(DETAILS_ROOM_SAMPLE) + CELL_PADDING
        width = self.table.viewport().width()
        drop = width - sum(self._widths.values()) < max(room, header)
        self.table.setColumnHidden(CLINICIAN_COLUMN, drop)
        widths = dict(self._widths)
        if drop:
            del widths[CLINICIAN_COLUMN]
            # Still too narrow: a long status ("Draft · awaiting co-signature") gives way to the
            # details' room, then the entry's column to the details' header (elided down to
            # their shortest text; the whole line is in the tooltip).
            metrics = self.table.fontMetrics()
            heads = self.table.horizontalHeader()
            for col, least, target in (
                (STATUS_COLUMN, heads.sectionSizeHint(STATUS_COLUMN), max(room, header)),
                (ENTRY_COLUMN, metrics.horizontalAdvance("Visit note 10") + CELL_PADDING, header),
            ):
                over = sum(widths.values()) + target - width
                widths[col] -= max(0, min(over, widths[col] - least))
        for col, w in widths.items():
            self.table.setColumnWidth(col, w)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self._viewport:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def select_record(self, record_id: int) -> bool:
        """Select the timeline's line of evaluation or visit note ``record_id`` (if shown)."""
        if self.view is None:
            return False
        for n, row in enumerate(self.view.rows):
            if row.record is not None and row.record.id == record_id:
                self.table.selectRow(n)
                return True
        return False

    def selected_record_id(self) -> int | None:
        row = self.table.currentRow()
        if self.view is None or not 0 <= row < len(self.view.rows):
            return None
        rec = self.view.rows[row].record
        return None if rec is None else rec.id

    # -- slots -----------------------------------------------------------------------------------

    def on_episode_list_current_row_changed(self, row: int) -> None:
        if self._filling or self.view is None or not 0 <= row < len(self.view.episodes):
            return
        self.episode_selected.emit(self.view.episodes[row])

    def on_table_item_activated(self, item: QTableWidgetItem) -> None:
        record = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(record, int):
            self.record_opened.emit(record)


def _row_tip(row: TimelineRow) -> str:
    """A timeline line in full (every cell's tooltip: a cell may be elided, a column hidden)."""
    rec = row.record
    if rec is None:
        return row.text
    status = STATUS_LABELS.get(rec.status, rec.status)
    head = " · ".join(t for t in (rec.eval_date.isoformat(), rec.label, status, rec.clinician) if t)
    return f"{head}\n{rec.main_factors}" if rec.main_factors else head


def plain_tip(text: str) -> str:
    """``text`` as a tooltip shows it: Qt reads a tooltip that looks like markup (a goal
    "<b>Run</b> 5 km", a referral "pain &lt; 3") as rich text; that one is escaped."""
    return QtGui.Qt.convertFromPlainText(text) if QtGui.Qt.mightBeRichText(text) else text


def _html(text: str) -> str:
    from html import escape

    return escape(text)
