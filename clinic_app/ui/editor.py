"""The evaluation editor, generated from the form: a page per section, a row per item.

Nothing here names a clinical measure: a new item in ``forms/*.yaml`` appears on its section page
with the editor its type calls for. Every edit goes through ``Findings.with_value`` (core), so a
value the form refuses is shown beside its field with the reason and never enters the findings,
while everything already entered stays as it was.

What is shown is what is stored: a typed value passes through prefixes ("1", "15", "150"), each
valid on its own. When the text ends up invalid, the field's value in the findings goes back to
what it was before the typing began (never the last valid prefix), and the field stays marked
invalid (beside the field, in the section list, in :meth:`EvaluationEditor.invalid_fields` for
the status bar and the sign check) until it is mended.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QSizePolicy,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clinic_app.core.changes import previous_note
from clinic_app.core.findings import Findings, FindingsError, empty
from clinic_app.core.form import SIDES, Form, Item, ItemType, Section, Side
from clinic_app.core.progress import change_between, value_text
from clinic_app.core.visit import evaluation_sections
from clinic_app.ui.fields import (
    Invalid,
    ValueEditor,
)
from clinic_app.ui.item_row import ItemRow, problem_text
from clinic_app.ui.keyboard import EditorKeys
from clinic_app.ui.section_nav import SHORT_TITLE_ROLE, SectionNavDelegate
from clinic_app.ui.section_page import SectionPage


class PageStack(QStackedWidget):
    """The editor's pages, as small as the page shown. A plain stack is as wide as its widest
    page once that page has been laid out: after the Flexibility page (594 px) it kept the
    assessment panel at its 240 px minimum on every later page of a 1024 px window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currentChanged.connect(self.on_current_changed)

    def minimumSizeHint(self) -> QSize:
        page = self.currentWidget()
        return super().minimumSizeHint() if page is None else page.minimumSizeHint()

    def sizeHint(self) -> QSize:
        page = self.currentWidget()
        return super().sizeHint() if page is None else page.sizeHint()

    def on_current_changed(self, _index: int) -> None:
        # The page shown now may have been built and laid out hidden: the sizes its holder's
        # layout keeps for it are from then, and showing it posts no event that renews them.
        # Renew them here, at once, so the splitter never squeezes it meanwhile.
        page = self.currentWidget()
        if page is not None:
            for child in page.findChildren(
                QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
            ):
                child.updateGeometry()
            if (layout := page.layout()) is not None:
                layout.activate()
        self.updateGeometry()


class EvaluationEditor(QWidget):
    """Edits the findings of one evaluation, section by section.

    Signals: ``findings_changed(Findings)`` — after every edit, with the findings to store (an
    invalid text leaves its field at the value it had before the typing began; read
    :meth:`invalid_fields`); ``section_changed(str)`` — the visible section's id;
    ``confirmed(tuple)`` — carried-forward item ids the clinician confirmed (touched, or a whole
    section with its button or Ctrl+Return); ``page_built(str)`` — a section's page was built
    (they are built when first shown; :meth:`built_page`); ``built_ahead()`` — the pages
    :meth:`build_pages_ahead` set out to build are all built.
    """

    findings_changed = Signal(object)
    section_changed = Signal(str)
    confirmed = Signal(object)
    page_built = Signal(str)
    built_ahead = Signal()

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
        # The pages shown: an evaluation's sections by default, a visit note's when given (see
        # clinic_app.core.visit). Values are checked against the whole form either way.
        self.sections: tuple[Section, ...] = (
            tuple(sections) if sections is not None else evaluation_sections(form)
        )
        self._findings = findings if findings is not None else empty(form)
        self._read_only = False
        self._carried: set[str] = set()
        self._previous: dict[str, Any] = {}
        self._previous_on: dict[str, date] = {}
        # (item id, side) -> the value before the current typing began, and -> why the text
        # shown is not accepted. See the module docstring.
        self._typing_from: dict[tuple[str, Side | None], Any] = {}
        self._invalid: dict[tuple[str, Side | None], str] = {}
        # What each section's counter shows now (text, tip, marked): _refresh_nav runs on every
        # open and every keystroke, and each change of a cell makes the list measure its column
        # again (ResizeToContents), so only what changed is set.
        self._nav_shown: dict[int, tuple[str, str, bool]] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        self.nav = QTreeWidget(self)
        self.nav.setObjectName("sectionNav")
        self.nav.setColumnCount(2)
        self.nav.setHeaderHidden(True)
        self.nav.setRootIsDecorated(False)
        self.nav.setIndentation(0)
        self.nav.setUniformRowHeights(True)
        self.nav.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.nav.setAccessibleName("Sections")
        self.nav.header().setStretchLastSection(False)
        self.nav.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.nav.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.nav.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.nav.setFixedWidth(184)
        self.nav.setItemDelegate(SectionNavDelegate(self.nav))
        layout.addWidget(self.nav)

        # Pages are built when first shown: opening an evaluation builds one section, not all
        # of them (a hundred items with their widgets take a few hundred milliseconds).
        self.pages = PageStack(self)
        layout.addWidget(self.pages, 1)
        self._rows: dict[str, ItemRow] = {}
        self._built: dict[int, SectionPage] = {}
        self._ahead = False  # build_pages_ahead is at work
        self._one_change: list[Findings] = []  # inside one_change: its start, then each edit
        self._stale: set[int] = set()  # built pages set_findings left to fill when shown
        self._holders: list[QWidget] = []
        self._page_index: dict[str, int] = {}
        self._section_of_item: dict[str, int] = {}
        for n, section in enumerate(self.sections):
            entry = QTreeWidgetItem([section.title, ""])
            entry.setData(0, Qt.ItemDataRole.UserRole, section.id)
            if section.short_title:  # shown where the whole title does not fit
                entry.setData(0, SHORT_TITLE_ROLE, section.short_title)
            entry.setToolTip(0, section.title)
            entry.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.nav.addTopLevelItem(entry)
            holder = QWidget(self.pages)
            box = QVBoxLayout(holder)
            box.setContentsMargins(0, 0, 0, 0)
            self.pages.addWidget(holder)
            self._holders.append(holder)
            self._page_index[section.id] = n
            for item in section.items:
                self._section_of_item[item.id] = n
        self.nav.currentItemChanged.connect(self.on_nav_current_item_changed)

        for keys, step in (
            ("Ctrl+PgDown", 1),
            ("Ctrl+PgUp", -1),
            ("Alt+Down", 1),
            ("Alt+Up", -1),
        ):
            sc = QShortcut(QKeySequence(keys), self)
            # From anywhere in the window (the assessment beside, the bar above); only while
            # this editor shows (a hidden one's shortcuts are off).
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(functools.partial(self.step_section, step))
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(self.confirm_current_section)
        self.keys = EditorKeys(self)  # one Tab stop per item, Enter, sides, "all no" (issue 18)

        self._refresh_derived(None)
        start = self._page_index.get(initial_section or "", 0)
        if self.sections:  # (a form without pages of this kind shows none)
            self.nav.setCurrentItem(self._nav_entry(start))

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Whole section titles when there is room; a narrower list on small screens.
        self.nav.setFixedWidth(224 if event.size().width() >= 880 else 184)
        super().resizeEvent(event)

    # -- public API ------------------------------------------------------------------------------

    @property
    def findings(self) -> Findings:
        return self._findings

    def set_findings(self, findings: Findings) -> None:
        """Show ``findings`` (e.g. another evaluation, or "take theirs"); emits nothing."""
        self._findings = findings
        self._typing_from.clear()
        self._invalid.clear()
        for row in self._rows.values():
            for side in list(row.problems):
                row.show_problem(side, None)
        # The page shown is filled now; the other pages built (all of them, once built ahead)
        # when they are shown or asked for (_fresh): an open then fills one page, not fifteen.
        here = self.pages.currentIndex()
        self._stale = {n for n in self._built if n != here}
        shown = self._built.get(here)
        self._load_values(shown.rows.values() if shown is not None else ())
        self._refresh_derived(None)

    def _fresh(self, index: int) -> None:
        """Fill page ``index`` with the findings if :meth:`set_findings` left it for later."""
        if index in self._stale:
            self._stale.discard(index)
            rows = self._built[index].rows.values()
            self._load_values(rows)
            involved = self._involved()
            for row in rows:
                row.update_asymmetry(self._findings, involved)
                self._show_previous(row)

    def invalid_fields(self) -> list[tuple[Item, Side | None, str]]:
        """The fields showing text that is not stored (item, side, reason), in form order."""
        if not self._invalid:
            return []  # the usual keystroke (the status bar asks on every one)
        out = []
        for item_id, item in self.form.items.items():
            for side in (None, *SIDES):
                reason = self._invalid.get((item_id, side))
                if reason is not None:
                    out.append((item, side, reason))
        return out

    def is_read_only(self) -> bool:
        return self._read_only

    def set_read_only(self, read_only: bool) -> None:
        if read_only != self._read_only:  # else every row already is (_load_values sets each)
            self._read_only = read_only
            for row in self._rows.values():
                for ed in row.editors.values():
                    ed.set_read_only(read_only)
        self._refresh_confirm_buttons()

    def set_previous(
        self, values: Mapping[str, Any], dates: Mapping[str, date] | None = None
    ) -> None:
        """The last visit's values (by item id), shown beside every re-measured item; with
        ``dates`` (a visit note's: each value's own date) as "Last 10 Sep: L 210 N / R 280 N
        (25% deficit) · now L +20 N"."""
        self._previous = dict(values)
        self._previous_on = dict(dates or {})
        for row in self._rows.values():
            self._show_previous(row)

    def previous(self) -> dict[str, Any]:
        return dict(self._previous)

    def previous_dates(self) -> dict[str, date]:
        return dict(self._previous_on)

    def _show_previous(self, row: ItemRow) -> None:
        item_id = row.item.id
        previous = self._previous.get(item_id)
        if previous is None or item_id in self._carried:
            row.set_previous("")
            return
        current = self._findings.values.get(item_id)
        on = self._previous_on.get(item_id)
        if on is None:
            row.set_previous(previous_note(row.item, previous, current))
            return
        text = value_text(row.item, previous)
        change = change_between(row.item, previous, current) if current is not None else ""
        if change:
            text += f" · now {change}"
        row.set_previous(text, f"Last {on.day} {on:%b}")

    def confirm_section(self, section_id: str) -> tuple[str, ...]:
        """Confirm every carried value of a section as still true (one key, one click)."""
        index = self._page_index.get(section_id)
        if index is None or self._read_only:
            return ()
        ids = tuple(i.id for i in self.sections[index].items if i.id in self._carried)
        self._confirm(ids)
        return ids

    def confirm_current_section(self) -> None:
        self.confirm_section(self.current_section())

    def _confirm(self, ids: tuple[str, ...]) -> None:
        if not ids:
            return
        self._carried -= set(ids)
        for item_id in ids:
            row = self._rows.get(item_id)
            if row is not None:
                row.set_carried(False)
                self._show_previous(row)
        self._refresh_confirm_buttons()
        self._refresh_nav()
        self.confirmed.emit(ids)

    def _refresh_confirm_buttons(self) -> None:
        for index, page in self._built.items():
            section = self.sections[index]
            left = sum(1 for i in section.items if i.id in self._carried)
            page.confirm_button.setVisible(left > 0 and not self._read_only)
            page.confirm_button.setText(f"Confirm {left} carried value{'s' if left > 1 else ''}")

    def carried(self) -> tuple[str, ...]:
        """The items still marked as carried forward from the last evaluation."""
        return tuple(i for i in self.form.items if i in self._carried)

    def set_carried(self, item_ids: Iterable[str]) -> None:
        """Mark the items whose values were carried forward from the last evaluation."""
        carried = set(item_ids)
        if carried == self._carried:
            # Rows, buttons and counters already show these (set_findings refreshed the
            # counters and the previous values): the usual open of a draft not carried.
            return
        self._carried = carried
        for item_id, row in self._rows.items():
            row.set_carried(item_id in self._carried)
            self._show_previous(row)
        self._refresh_confirm_buttons()
        self._refresh_nav()

    def page(self, index: int) -> SectionPage:
        """The page of section ``index``, built now if it was not shown yet."""
        built = self._built.get(index)
        if built is not None:
            if self._stale:
                self._fresh(index)
            return built
        page = SectionPage(self.sections[index], self._holders[index])
        holder_layout = self._holders[index].layout()
        assert holder_layout is not None
        holder_layout.addWidget(page)
        self._built[index] = page
        page.confirm_button.clicked.connect(
            functools.partial(self.confirm_section, self.sections[index].id)
        )
        for item_id, row in page.rows.items():
            self._rows[item_id] = row
            row.set_carried(item_id in self._carried)
            self._show_previous(row)
            for side, ed in row.editors.items():
                ed.edited.connect(functools.partial(self.on_value_edited, row.item, side))
                ed.finished.connect(functools.partial(self.on_value_finished, row.item, side))
        self._load_values(page.rows.values())
        involved = self._involved()
        for row in page.rows.values():
            row.update_asymmetry(self._findings, involved)
        self._refresh_confirm_buttons()
        self.keys.attach(page)
        self.page_built.emit(self.sections[index].id)
        return page

    def built_page(self, section_id: str) -> SectionPage | None:
        """The page of ``section_id`` if it was built (shown at least once)."""
        index = self._page_index.get(section_id)
        if index is None or index not in self._built:
            return None
        return self.page(index)

    def section_of(self, item_id: str) -> str:
        """The id of the page (of those shown) that holds ``item_id``."""
        return self.sections[self._section_of_item[item_id]].id

    def has_item(self, item_id: str) -> bool:
        return item_id in self._section_of_item

    def built_sections(self) -> list[str]:
        return [self.sections[n].id for n in sorted(self._built)]

    def build_pages_ahead(self) -> None:
        """Build the pages not shown yet in idle time, one per turn of the event loop (the
        next ones after the current page first), so that moving to a page later shows a page
        already built instead of building it (20-50 ms, and the first showing's styling) on the
        keystroke. Each is the page :meth:`page` would build: the same rows, filled with the
        findings of that moment, kept up to date by every edit like any page built."""
        if not self._ahead:
            self._ahead = True
            QTimer.singleShot(0, self, self._build_one_ahead)

    def is_building_ahead(self) -> bool:
        """Whether :meth:`build_pages_ahead` still has pages to build."""
        return self._ahead

    def _build_one_ahead(self) -> None:
        count = len(self.sections)
        here = self.pages.currentIndex()
        order = ((here + k) % count for k in range(1, count + 1))
        todo = [i for i in order if i not in self._built]
        if todo:
            page = self.page(todo[0])
            page.ensurePolished()  # styled now, not on its first showing
        if len(todo) > 1:
            QTimer.singleShot(0, self, self._build_one_ahead)
        else:
            self._ahead = False
            self.built_ahead.emit()

    def row(self, item_id: str) -> ItemRow:
        if item_id not in self._rows or self._stale:
            self.page(self._section_of_item[item_id])
        return self._rows[item_id]

    def editor(self, item_id: str, side: Side | None = None) -> ValueEditor:
        """The editor widget of one item (one side of a bilateral item)."""
        return self.row(item_id).editors[side]

    def current_section(self) -> str:
        return self.sections[self.pages.currentIndex()].id

    def current_page(self) -> SectionPage:
        return self.page(self.pages.currentIndex())

    def set_current_section(self, section_id: str, focus: bool = False) -> None:
        index = self._page_index.get(section_id)
        if index is None:
            return
        self.nav.setCurrentItem(self._nav_entry(index))
        if focus:
            self.keys.focus_first_unanswered()

    def focus_item(self, item_id: str, side: Side | None = None) -> QWidget:
        """Show ``item_id``'s page and focus its field (the command palette's jump)."""
        return self.keys.focus_item(item_id, side)

    def step_section(self, step: int) -> None:
        index = (self.pages.currentIndex() + step) % len(self.sections)
        self.set_current_section(self.sections[index].id, focus=True)

    def focus_first_field(self) -> None:
        page = self.current_page()
        widgets = page.focus_widgets()
        if widgets:
            widgets[0].setFocus(Qt.FocusReason.TabFocusReason)
            page.ensureWidgetVisible(widgets[0])

    def filled(self, section: Section) -> int:
        return sum(1 for i in section.items if self._findings.values.get(i.id) not in (None, {}))

    # -- internals -------------------------------------------------------------------------------

    def _nav_entry(self, index: int) -> QTreeWidgetItem:
        entry = self.nav.topLevelItem(index)
        assert entry is not None
        return entry

    def _involved(self) -> Side | None:
        v = self._findings.get(self.form.involved_side_item)
        return v if v in SIDES else None

    def _load_values(self, rows: Iterable[ItemRow]) -> None:
        for row in rows:
            item_id = row.item.id
            for side, ed in row.editors.items():
                blocker = QSignalBlocker(ed)
                if side is None and row.item.bilateral:
                    ed.set_value(self._findings.sides(item_id))
                else:
                    ed.set_value(self._findings.get(item_id, side))
                ed.set_read_only(self._read_only)
                del blocker

    def _refresh_derived(self, item_id: str | None) -> None:
        involved = self._involved()
        if item_id is None or item_id == self.form.involved_side_item:
            shown = (p for n, p in self._built.items() if n not in self._stale)
            rows = [r for page in shown for r in page.rows.values()]
        else:
            rows = [self._rows[item_id]] if item_id in self._rows else []
        for row in rows:
            row.update_asymmetry(self._findings, involved)
            self._show_previous(row)
        if not self._one_change:  # (inside one_change: once, at its end)
            self._refresh_nav()

    def _refresh_nav(self) -> None:
        """Counters per section: recorded/total, how many are only carried (↻, not re-measured),
        and ⚠ while a field holds a value that is not accepted."""
        invalid_sections = {self._section_of_item[item_id] for item_id, _ in self._invalid}
        for n, section in enumerate(self.sections):
            entry = self._nav_entry(n)
            counter = f"{self.filled(section)}/{len(section.items)}"
            carried = sum(1 for i in section.items if i.id in self._carried)
            if carried:
                counter += f" ↻{carried}"
            bad = n in invalid_sections
            tip = section.title
            if carried:
                tip += f": {carried} value(s) carried from the last visit, not re-measured"
            if bad:
                tip = "A field here holds a value that is not accepted"
            shown = (f"⚠ {counter}" if bad else counter, tip, bad)
            if self._nav_shown.get(n) == shown:
                continue
            self._nav_shown[n] = shown
            entry.setText(1, shown[0])
            entry.setToolTip(1, tip)
            colour = Qt.GlobalColor.darkRed if bad else None
            for col in (0, 1):
                if colour is None:
                    entry.setData(col, Qt.ItemDataRole.ForegroundRole, None)
                else:
                    entry.setForeground(col, colour)

    def _current(self, item: Item, side: Side | None) -> Any:
        if side is None and item.bilateral:
            return dict(self._findings.sides(item.id)) or None
        value = self._findings.get(item.id, side)
        return list(value) if isinstance(value, tuple) else value

    def on_value_edited(self, item: Item, side: Side | None, raw: Any) -> None:
        if self._read_only:
            return
        row = self._rows[item.id]
        key = (item.id, side)
        editor = row.editors[side]
        if key not in self._typing_from:
            self._typing_from[key] = self._current(item, side)
        problem: str | None = None
        if isinstance(raw, Invalid):
            problem = raw.reason
        else:
            try:
                new = self._findings.with_value(self.form, item.id, raw, side)
            except FindingsError as err:
                problem = "; ".join(problem_text(p) for p in err.problems)
        if problem is not None:
            # Not the last valid prefix: the value from before the typing began.
            new = self._findings.with_value(self.form, item.id, self._typing_from[key], side)
            self._invalid[key] = problem
        else:
            self._invalid.pop(key, None)
            if not editor.typed:
                self._typing_from.pop(key, None)
        if row.problems.get(side) != problem:  # (re-styling an unchanged field costs ~0.2 ms)
            row.show_problem(side, problem)
        if problem is None and item.type is ItemType.QUESTIONNAIRE and item.score_item:
            new = self._with_score(new, item)  # the answers and their score: one update
        self._findings = new
        if problem is None and item.id in self._carried:
            self._confirm((item.id,))  # touched: re-measured, no longer "carried"
        self._refresh_derived(item.id)
        if self._one_change:
            self._one_change.append(new)  # announced once, when the last edit of it is made
        else:
            self.findings_changed.emit(new)

    @contextlib.contextmanager
    def one_change(self) -> Iterator[None]:
        """Edits made inside (e.g. "all no" answering a dozen questions) are one change:
        ``findings_changed`` is emitted once at the end, with the findings after all of them,
        so the live assessment and the autosave see one change instead of each step of it."""
        if self._one_change:  # nested: the outer one announces
            yield
            return
        self._one_change = [self._findings]
        try:
            yield
        finally:
            made, self._one_change = self._one_change, []
            if len(made) > 1:
                self._refresh_nav()
                self.findings_changed.emit(self._findings)

    def _with_score(self, findings: Findings, item: Item) -> Findings:
        """The response's score written into its score item, shown there at once."""
        from clinic_app.core.responses import with_score

        new = with_score(self.form, findings, item.id)
        target = self._rows.get(str(item.score_item))
        if target is not None:
            self._invalid.pop((target.item.id, None), None)
            self._typing_from.pop((target.item.id, None), None)
            target.show_problem(None, None)
            ed = target.editors[None]
            blocker = QSignalBlocker(ed)
            ed.set_value(new.get(target.item.id))
            del blocker
        self._findings = new
        self._refresh_derived(str(item.score_item))
        return new

    def on_value_finished(self, item: Item, side: Side | None) -> None:
        """Typing in a field is over: a valid value is now the field's starting point."""
        key = (item.id, side)
        if key not in self._invalid:
            self._typing_from.pop(key, None)

    def on_nav_current_item_changed(
        self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None
    ) -> None:
        if current is None:
            return
        index = self.nav.indexOfTopLevelItem(current)
        self.page(index)
        self.pages.setCurrentIndex(index)
        self.section_changed.emit(self.sections[index].id)
