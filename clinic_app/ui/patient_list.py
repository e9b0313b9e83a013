"""The patient list panel: a search box over the patient table.

Light on purpose: the main window shows it before SQLAlchemy, pydantic and the editor are
imported (see ``clinic_app.ui.app``), so it imports only Qt and the patient model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clinic_app.storage.values import Patient
from clinic_app.ui.patient_model import PatientTableModel

if TYPE_CHECKING:
    from clinic_app.storage.first_page import FirstPage
    from clinic_app.ui.operations import OperationRunner

SEARCH_DEBOUNCE_MS = 150
# What the Name column and the count beneath the list keep room for, however narrow the panel.
NAME_SAMPLE = "Nowak, Łukasz"
COUNT_SAMPLES = ("1,000,000 patients", "50 best matches", "Could not read the list")


class PatientListPanel(QWidget):
    """Search box over the patient table.

    Signals: ``patient_selected(object)`` — the Patient now current (or None);
    ``patient_activated(object)`` — a Patient double-clicked or Enter pressed on.
    """

    patient_selected = Signal(object)
    patient_activated = Signal(object)

    def __init__(
        self,
        runner: OperationRunner | None,
        parent: QWidget | None = None,
        *,
        first_page: FirstPage | None = None,
    ) -> None:
        """Reading through ``runner``; or, until :meth:`attach`, showing ``first_page`` (search
        waits)."""
        super().__init__(parent)
        preloaded = None if first_page is None else (first_page.total, first_page.patients)
        self.model = PatientTableModel(runner, parent=self, preloaded=preloaded)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 6, 8)
        layout.setSpacing(6)
        title = QLabel("Patients", self)
        title.setProperty("role", "panelTitle")
        layout.addWidget(title)
        self.search = QLineEdit(self)
        self.search.setObjectName("patientSearch")
        self.search.setPlaceholderText("Search name, MRN, date or year of birth")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search patients")
        layout.addWidget(self.search)
        self.view = QTableView(self)
        self.view.setObjectName("patientTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Indicator first, then sorting on: otherwise Qt sorts once by its default (descending)
        # and again by ours, two database queries for nothing.
        self.view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(26)
        self.view.setShowGrid(False)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        # Fixed widths from the font, not ResizeToContents: that would measure every loaded row
        # on each search keystroke.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        metrics = self.view.fontMetrics()
        for col, sample in (
            (1, "MMMM-00000"),
            (2, "0000-00-00 (00)"),
            (3, "Female"),
            (4, "Activity"),
        ):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, metrics.horizontalAdvance(sample) + 24)
        header.setSectionHidden(3, True)  # sex and activity: in the patient's details
        header.setSectionHidden(4, True)
        # The Name column never collapses ("Ł…" at 1024 px, issue 18): it keeps room for a
        # usual name, and the panel is never narrower than its three columns need.
        name_room = metrics.horizontalAdvance(NAME_SAMPLE) + 16
        header.setMinimumSectionSize(min(name_room, header.sectionSize(1)))
        self._columns_width = name_room + header.sectionSize(1) + header.sectionSize(2)
        layout.addWidget(self.view, 1)
        bottom = QHBoxLayout()
        self.count = QLabel(self)
        self.count.setProperty("role", "secondary")
        # Its text changes on every search: a label sized by its text would lay the whole panel
        # out again each time (~1 ms a keystroke, benchmarks/). It takes the room it is given.
        self.count.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # ...but never less than its longest text ("1 pati" at 1024 px, issue 18).
        self.count.setMinimumWidth(
            max(self.count.fontMetrics().horizontalAdvance(t) for t in COUNT_SAMPLES) + 4
        )
        bottom.addWidget(self.count, 1)
        self.archived = QCheckBox("Archived", self)
        self.archived.setObjectName("showArchived")
        self.archived.setToolTip("Also list archived patients (to read or restore them)")
        self.archived.toggled.connect(self.model.set_include_archived)
        bottom.addWidget(self.archived)
        self.new_button = QPushButton("New patient…", self)
        self.new_button.setEnabled(runner is not None)
        bottom.addWidget(self.new_button)
        layout.addLayout(bottom)
        frame = 2 * self.view.frameWidth()
        scroll_bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        margins = layout.contentsMargins()
        self.setMinimumWidth(
            self._columns_width + frame + scroll_bar + margins.left() + margins.right()
        )

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self.debounce.timeout.connect(self.on_debounce_timeout)
        self.search.textChanged.connect(self.on_search_text_changed)
        self.search.returnPressed.connect(self.on_search_return_pressed)
        self.model.loaded.connect(self.on_model_loaded)
        self.model.failed.connect(self.on_model_failed)
        self.model.rowsInserted.connect(self.on_model_loaded)
        self.view.selectionModel().currentRowChanged.connect(self.on_view_current_row_changed)
        self.view.activated.connect(self.on_view_activated)
        self.on_model_loaded()

    def attach(self, runner: OperationRunner) -> None:
        """Switch from the first page to the database, keeping the search and the selection."""
        chosen = self.current_patient()
        self.model.attach(runner)
        self.new_button.setEnabled(True)
        if chosen is not None:
            self.select_patient(chosen.id)

    def refresh(self) -> None:
        """Read the rows again (something changed elsewhere), keeping the patient selected."""
        chosen = self.current_patient()
        self.model.reload()
        if chosen is not None:
            self.select_patient(chosen.id)

    def current_patient(self) -> Patient | None:
        index = self.view.currentIndex()
        return self.model.patient(index.row()) if index.isValid() else None

    def select_patient(self, patient_id: int) -> bool:
        row = self.model.row_of(patient_id)
        while row is None and self.model.canFetchMore():
            self.model.fetchMore()
            row = self.model.row_of(patient_id)
        if row is None:
            return False
        self.view.selectRow(row)
        self.view.scrollTo(self.model.index(row, 0))
        return True

    def on_search_text_changed(self, _text: str) -> None:
        self.debounce.start()

    def on_debounce_timeout(self) -> None:
        self.model.set_query(self.search.text())

    def on_search_return_pressed(self) -> None:
        self.debounce.stop()
        self.model.set_query(self.search.text())
        if self.model.rowCount() > 0:
            self.view.setFocus()
            self.view.selectRow(0)

    def on_model_loaded(self, *_args: object) -> None:
        m = self.model
        if m.is_searching():
            n = m.rowCount()
            if n >= m.search_limit:
                self.count.setText(f"{n} best matches")
                self.count.setToolTip("More patients match: type more of the name to narrow")
            else:
                self.count.setText(f"{n} match{'es' if n != 1 else ''}")
                self.count.setToolTip("")
        else:
            self.count.setText(f"{m.total:,} patient{'s' if m.total != 1 else ''}")
            self.count.setToolTip("")

    def on_model_failed(self, reason: str) -> None:
        self.count.setText("Could not read the list")
        self.count.setToolTip(reason)

    def on_view_current_row_changed(self, current: Any, _previous: Any) -> None:
        self.patient_selected.emit(self.model.patient(current.row()) if current.isValid() else None)

    def on_view_activated(self, index: Any) -> None:
        p = self.model.patient(index.row())
        if p is not None:
            self.patient_activated.emit(p)
