"""The patient list as a Qt table model that never loads the whole table.

Browsing pages through ``records.list_patients`` as the view scrolls (``canFetchMore`` /
``fetchMore``), sorted by the database; a search shows the best ``SEARCH_LIMIT`` matches of
``records.search_patients`` (name, MRN, date of birth; any case, any accents). The model holds
plain ``Patient`` values only, never a session. Its reads are operations on the window's
runner (``clinic_app.ui.operations``), waited for: a page or a search takes a few milliseconds,
and Qt's model API (``fetchMore``) wants the rows when it asks.

It can start without a database, showing a first page read at start-up
(``storage.first_page``), and :meth:`PatientTableModel.attach` one later; so this module
imports the records API (and with it SQLAlchemy) only when it first queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from clinic_app.storage.values import Patient, PatientSort

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.ui.operations import OperationRunner

AnyIndex = QModelIndex | QPersistentModelIndex

# Rows per page of the browsing list; also the size of the start-up first page. 100 is several
# screens, and a list the size of the best search matches (search_limit) means typing the first
# letter does not shrink the view: with 200 the first two keystrokes cost ~4 ms more (benchmarks/).
PAGE_SIZE = 100

SEX_LABELS = {"female": "Female", "male": "Male", "other": "Other", "unknown": "–"}


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class PatientTableModel(QAbstractTableModel):
    """Patients, a page at a time; or the matches of a search.

    Signals: ``loaded()`` — the rows were replaced (new search, new sort, refresh);
    ``failed(str)`` — a read failed (the message says why); the rows shown are unchanged.
    """

    loaded = Signal()
    failed = Signal(str)

    COLUMNS = ("Name", "MRN", "Born", "Sex", "Activity")
    SORT_KEYS: dict[int, PatientSort] = {0: "name", 1: "mrn", 2: "date_of_birth"}
    PatientRole = Qt.ItemDataRole.UserRole + 1
    PatientIdRole = Qt.ItemDataRole.UserRole + 2

    def __init__(
        self,
        runner: OperationRunner | None,
        page_size: int = PAGE_SIZE,
        parent: Any = None,
        *,
        preloaded: tuple[int, Sequence[Patient]] | None = None,
    ) -> None:
        """Reading through ``runner``; or, with ``runner`` None, showing ``preloaded`` (the total
        and the first rows in name order; else nothing) until :meth:`attach`."""
        super().__init__(parent)
        self.runner = runner
        self.page_size = page_size
        self.search_limit = 100  # best matches; typing more narrows them (keeps a keystroke fast)
        self.include_archived = False
        self._rows: list[Patient] = []
        self._texts: dict[int, tuple[str, ...]] = {}
        self._total = 0
        self._query = ""
        self._sort_column = 0
        self._order = Qt.SortOrder.AscendingOrder
        self._today = date.today()
        if runner is None and preloaded is not None:
            self._total, self._rows = preloaded[0], list(preloaded[1])
        else:
            self.reload()

    # -- state -----------------------------------------------------------------------------------

    @property
    def query(self) -> str:
        return self._query

    @property
    def total(self) -> int:
        """How many patients the list has in all (loaded or not); for a search, the matches."""
        return self._total

    def is_searching(self) -> bool:
        return bool(self._query.strip())

    def set_query(self, text: str) -> None:
        """Show the patients matching ``text`` (empty: everyone, paged)."""
        if text == self._query:
            return
        self._query = text
        self.reload()

    def set_include_archived(self, include: bool) -> None:
        """Also list (and find) archived patients, marked as such."""
        if include != self.include_archived:
            self.include_archived = include
            self.reload()

    def attach(self, runner: OperationRunner) -> None:
        """Query through ``runner`` from now on: reload (with the search typed meanwhile)."""
        self.runner = runner
        self.reload()

    def reload(self) -> None:
        """Fetch again from the database (after a change elsewhere), keeping query and sort.

        If the read fails, the rows shown stay as they were and ``failed`` says why."""
        if self.runner is None:
            return  # not attached yet: attach() reloads with the query and sort set meanwhile
        try:
            total, rows = self._read()
        except Exception as err:
            from clinic_app.ui.operations import failure_reason

            self.failed.emit(failure_reason(err))
            return
        self.beginResetModel()
        self._texts.clear()
        self._today = date.today()
        self._total, self._rows = total, rows
        self.endResetModel()
        self.loaded.emit()

    def _read(self) -> tuple[int, list[Patient]]:
        assert self.runner is not None
        query, archived, limit = self._query, self.include_archived, self.search_limit
        if self.is_searching():

            def search(db: Database) -> tuple[int, list[Patient]]:
                from clinic_app.storage import records  # not at the top: see the docstring

                found = records.search_patients(db, query, limit=limit, include_archived=archived)
                return len(found), found

            total, rows = self.runner.call("Searching patients", search)
            return total, self._sorted(rows)
        first = self._page_op(0)

        def browse(db: Database) -> tuple[int, list[Patient]]:
            from clinic_app.storage import records

            return records.count_patients(db, include_archived=archived), first(db)

        result: tuple[int, list[Patient]] = self.runner.call("Reading the patient list", browse)
        return result

    def _page_op(self, offset: int) -> Any:
        limit, archived = self.page_size, self.include_archived
        sort = self.SORT_KEYS.get(self._sort_column, "name")
        descending = self._order == Qt.SortOrder.DescendingOrder

        def page(db: Database) -> list[Patient]:
            from clinic_app.storage import records

            return records.list_patients(
                db,
                offset=offset,
                limit=limit,
                sort=sort,
                descending=descending,
                include_archived=archived,
            )

        return page

    def _page(self, offset: int) -> list[Patient]:
        assert self.runner is not None
        rows: list[Patient] = self.runner.call("Reading the patient list", self._page_op(offset))
        return rows

    def _sorted(self, rows: list[Patient]) -> list[Patient]:
        if self._sort_column not in self.SORT_KEYS:
            return rows
        key = self.SORT_KEYS[self._sort_column]
        desc = self._order == Qt.SortOrder.DescendingOrder
        if key == "mrn":
            return sorted(rows, key=lambda p: p.mrn.casefold(), reverse=desc)
        if key == "date_of_birth":  # unknown dates last either way, as the database sorts them
            dated = [p for p in rows if p.date_of_birth is not None]
            dated.sort(key=lambda p: p.date_of_birth or date.min, reverse=desc)
            return dated + [p for p in rows if p.date_of_birth is None]
        if self._sort_column == 0 and not desc:
            return rows  # best matches first, as the search ranked them
        return sorted(rows, key=lambda p: p.display_name.casefold(), reverse=desc)

    def patient(self, row: int) -> Patient | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, patient_id: int) -> int | None:
        for n, p in enumerate(self._rows):
            if p.id == patient_id:
                return n
        return None

    # -- Qt model API ----------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() or self.is_searching() or self.runner is None:
            return False
        return len(self._rows) < self._total

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        try:
            more = self._page(len(self._rows))
        except Exception as err:
            from clinic_app.ui.operations import failure_reason

            self.failed.emit(failure_reason(err))
            return
        if not more:
            self._total = len(self._rows)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
        self._rows.extend(more)
        self.endInsertRows()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        return None

    def _cells(self, row: int) -> tuple[str, ...]:
        """The row's display texts, made once per load: a repaint asks for every visible cell
        (and several roles of each) on every search keystroke."""
        cells = self._texts.get(row)
        if cells is None:
            p = self._rows[row]
            born = p.date_of_birth
            cells = (
                f"{p.display_name} (archived)" if p.archived else p.display_name,
                p.mrn,
                "" if born is None else f"{born.isoformat()} ({age_on(born, self._today)})",
                SEX_LABELS.get(p.sex, p.sex),
                p.activity,
            )
            self._texts[row] = cells
        return cells

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            row, col = index.row(), index.column()
            if 0 <= row < len(self._rows) and 0 <= col < len(self.COLUMNS):
                return self._cells(row)[col]
            return None
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        p = self._rows[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
            # The name as the list shows it (whole, where the column elides it), then as said.
            return f"{self._cells(index.row())[0]}\n{p.given_name} {p.family_name} · MRN {p.mrn}"
        if role == self.PatientIdRole:
            return p.id
        if role == self.PatientRole:
            return p
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if column not in self.SORT_KEYS:
            return
        if (column, order) == (self._sort_column, self._order):
            return
        self._sort_column, self._order = column, order
        self.reload()
