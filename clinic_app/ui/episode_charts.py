"""The patient view's progress charts: any re-measured number of the selected episode over its
records, drawn from the same chart description as the progress report (``core.chart``).

Read only when the tab is shown (the timeline stays as quick as before); one operation reads
the episode's records, its goals and the form, and the chart is then described and drawn on the
GUI thread as the therapist picks a measure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from clinic_app.core import chart as ch
from clinic_app.core.form import Form
from clinic_app.core.progress import Record, chartable
from clinic_app.ui.chart_widget import ChartWidget

if TYPE_CHECKING:
    from clinic_app.storage.database import Database


@dataclass(frozen=True)
class ChartData:
    """What the charts of one episode are drawn from."""

    episode_id: int
    form: Form
    records: tuple[Record, ...]
    goals: tuple[Any, ...]
    involved: str | None

    def choices(self) -> list[tuple[str, str, str]]:
        """(label, item id, "values" or "gap") for every number measured more than once, the
        ones a goal targets first (``core.progress.chartable``)."""
        out = []
        for item in chartable(self.form, self.records, self.goals):
            out.append((item.label, item.id, "values"))
            if item.bilateral:
                out.append((f"{item.label}: side-to-side gap", item.id, "gap"))
        return out

    def chart(self, item_id: str, what: str) -> ch.Chart:
        if what == "gap":
            return ch.gap_chart(self.form, item_id, self.records, self.goals, self.involved)
        item = self.form.item(item_id)
        return ch.measure_chart(
            self.form,
            item_id,
            self.records,
            self.goals,
            self.involved,
            mcid=item.mcid,
            better=item.better,
        )


def read_chart_data(db: Database, episode_id: int) -> ChartData:
    """The operation behind the tab: the episode's records (with the form of the newest one),
    its goals and its painful side."""
    from clinic_app.core.form import load_form
    from clinic_app.paths import default_form_path
    from clinic_app.storage import records

    episode = records.get_episode(db, episode_id)
    rows = records.episode_records(db, episode_id)
    form = records.evaluation_form(db, rows[-1].id) if rows else load_form(default_form_path())
    recs = tuple(Record(e.id, e.kind, e.eval_date, e.values, e.status) for e in rows)
    goals = tuple(records.list_goals(db, episode_id))
    return ChartData(episode_id, form, recs, goals, episode.involved_side)


class EpisodeCharts(QWidget):
    """A measure picker and its chart (hover a point for its value and date).

    Signals: none.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: ChartData | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        row = QHBoxLayout()
        label = QLabel("&Measure", self)
        self.measure = QComboBox(self)
        self.measure.setObjectName("chartMeasure")
        self.measure.setAccessibleName("Measure to chart")
        self.measure.setMinimumContentsLength(30)
        label.setBuddy(self.measure)
        self.measure.currentIndexChanged.connect(self.on_measure_current_index_changed)
        row.addWidget(label)
        row.addWidget(self.measure, 1)
        layout.addLayout(row)
        self.empty = QLabel(self)
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)
        self.chart = ChartWidget(None, self)
        layout.addWidget(self.chart, 1)
        self.show_data(None)

    def show_data(self, data: ChartData | None) -> None:
        """Offer the measures of ``data`` (keeping the one chosen when it is still there)."""
        kept = self.measure.currentData()
        self.data = data
        choices = data.choices() if data is not None else []
        self.measure.blockSignals(True)
        try:
            self.measure.clear()
            for label, item_id, what in choices:
                self.measure.addItem(label, (item_id, what))
            wanted = [self.measure.itemData(i) for i in range(self.measure.count())]
            index = wanted.index(kept) if kept in wanted else -1
            self.measure.setCurrentIndex(max(index, 0) if choices else -1)
        finally:
            self.measure.blockSignals(False)
        self.empty.setText(
            ""
            if choices
            else "Nothing to chart yet: a measure appears here once it has been recorded twice "
            "in this episode (an evaluation and a visit note that re-measures it)."
        )
        self.empty.setVisible(not choices)
        self.measure.setEnabled(bool(choices))
        self.chart.setVisible(bool(choices))
        self._draw()

    def on_measure_current_index_changed(self, _index: int) -> None:
        self._draw()

    def _draw(self) -> None:
        picked = self.measure.currentData()
        if self.data is None or picked is None:
            return
        item_id, what = picked
        self.chart.set_chart(self.data.chart(item_id, what))
