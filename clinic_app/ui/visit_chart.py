"""The progress chart under a visit note's "Re-measured today" items (issue 16).

While the therapist types today's values, the chart shows the re-measured number in focus over
the episode up to this visit, today's value (as typed) the last point: a bilateral number as its
left and right sides with the goal lines on them, and its side-to-side gap with the threshold band
and the goal lines on the gap; a score with an MCID (LEFS) with the band of baseline ± MCID. It is
the description the patient view's charts tab and the progress report draw (``core.chart``,
through ``ui.episode_charts.ChartData``), painted by :class:`~clinic_app.ui.chart_widget.
ChartWidget` (hovering a point shows its value and date).

Built when the page is first shown (not when the visit note opens) and redrawn only while it is
visible and the charted value changed: typing elsewhere costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from clinic_app.core.form import NUMERIC_TYPES, Form
from clinic_app.ui.chart_widget import ChartWidget
from clinic_app.ui.episode_charts import ChartData

CHART_HEIGHT = 180
HINT = "Progress over this episode, today's value last (point at a mark for its value and date)"


def chartable_item(form: Form, item_id: str) -> bool:
    item = form.items.get(item_id)
    return item is not None and item.type in NUMERIC_TYPES


class VisitChart(QFrame):
    """The charts of one re-measured item: its values, and for a bilateral one its gap.

    ``source`` gives the chart data of the episode with the visit as typed now; it is asked
    only when something must be drawn.

    Signals: none.
    """

    def __init__(
        self, form: Form, source: Callable[[], ChartData], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.form = form
        self.setObjectName("visitChart")
        self.setAccessibleName("Progress chart of the item in focus")
        self.setStyleSheet("QFrame#visitChart { border-top: 1px solid #d8dee4; margin-top: 6px; }")
        self._source = source
        self.item_id: str | None = None
        self._drawn: tuple[str | None, Any, int] | None = None  # what the charts show now
        self._dirty = True
        self._generation = 0  # bumped when the episode under the chart changes
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(4)
        self.caption = QLabel(HINT, self)
        self.caption.setProperty("role", "secondary")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        self.values = ChartWidget(None, self)
        self.values.setObjectName("visitChartValues")
        self.gap = ChartWidget(None, self)
        self.gap.setObjectName("visitChartGap")
        for chart in (self.values, self.gap):
            chart.setFixedHeight(CHART_HEIGHT)
            layout.addWidget(chart)
        self.gap.hide()

    def set_item(self, item_id: str | None) -> None:
        """Chart ``item_id`` (a number; anything else keeps the chart shown)."""
        if item_id is None or item_id == self.item_id:
            return
        if not chartable_item(self.form, item_id):
            return
        self.item_id = item_id
        self.refresh()

    def reset(self, item_id: str | None) -> None:
        """Another visit note (or its episode) is shown: chart ``item_id`` from ``source``."""
        self._generation += 1
        self.item_id = (
            item_id if item_id is not None and chartable_item(self.form, item_id) else None
        )
        self.refresh()

    def value_changed(self, value: Any) -> None:
        """Today's value of the charted item is now ``value`` (stored shape): redraw if it
        differs from the one drawn."""
        if self._drawn is not None and self._drawn[1] == value:
            return
        self.refresh()

    def refresh(self) -> None:
        if self.isVisible():
            self._draw()
        else:
            self._dirty = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt)
        if self._dirty:
            self._draw()
        super().showEvent(event)

    def _draw(self) -> None:
        self._dirty = False
        item_id = self.item_id
        if item_id is None:
            self.values.set_chart(None)
            self.gap.hide()
            self._drawn = None
            return
        data = self._source()
        today = data.records[-1].values.get(item_id) if data.records else None
        drawn = (item_id, today, self._generation)
        if drawn == self._drawn:
            return
        self._drawn = drawn
        self.values.set_chart(data.chart(item_id, "values"))
        if self.form.items[item_id].bilateral:
            self.gap.set_chart(data.chart(item_id, "gap"))
            self.gap.show()
        else:
            self.gap.set_chart(None)
            self.gap.hide()
