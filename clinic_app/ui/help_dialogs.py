"""The Help menu's windows: the user guide, the keyboard shortcuts, About (issue 18).

The guide is a Markdown file shipped with the app (``resources/help/guide.md``), shown in a
:class:`QTextBrowser`: it works without a browser or a network. The shortcut list is read from
the window's own actions (and any ``QShortcut`` it holds) each time it opens, so it cannot drift
from the menus. About names the version, where the data lives, and the licences of the bundled
fonts and of every library the app depends on, read from the installed packages' metadata.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from clinic_app.paths import resources_dir

GUIDE = Path("help") / "guide.md"
FONT_LICENCES = (
    ("DejaVu Sans", "LICENSE-DejaVu.txt"),
    ("Droid Sans Fallback (Chinese, Japanese, Korean names)", "LICENSE-DroidSansFallback.txt"),
)


def guide_text() -> str:
    """The guide's Markdown (a line saying it is missing if the file is)."""
    try:
        return (resources_dir() / GUIDE).read_text(encoding="utf-8")
    except OSError:
        return "# The user guide is missing\n\nThe file resources/help/guide.md was not found."


class _Window(QDialog):
    """A non-modal help window with a Close button. Signals: those of QDialog."""

    def __init__(self, title: str, name: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.setModal(False)
        self.layout_ = QVBoxLayout(self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)

    def finish(self) -> None:
        self.layout_.addWidget(self.buttons)


class GuideWindow(_Window):
    """The user guide in a QTextBrowser (links to web pages open outside the app)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("clinic_app user guide", "guideWindow", parent)
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("guideText")
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(guide_text())
        self.browser.setAccessibleName("User guide")
        self.layout_.addWidget(self.browser, 1)
        self.finish()
        room = self.screen().availableGeometry()  # a 1024x700 screen: under its title bar
        self.resize(min(720, room.width() - 40), min(640, room.height() - 60))


@dataclass(frozen=True)
class Shortcut:
    where: str  # the menu path, e.g. "File › Export report…"
    keys: str  # as shown on this platform, e.g. "Ctrl+E"


def _plain(text: str) -> str:
    """A menu text without its mnemonic ampersands and its tab-separated shortcut hint."""
    return re.sub(r"&(.)", r"\1", text.split("\t")[0]).strip()


def _keys(action: QAction) -> str:
    sequences = [s for s in action.shortcuts() if not s.isEmpty()]
    shown = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in sequences)
    if not shown and "\t" in action.text():  # a shortcut the window handles itself
        shown = action.text().split("\t", 1)[1].strip()
    return shown


def shortcuts(window: QWidget) -> list[Shortcut]:
    """Every keyboard shortcut of ``window``: its menus' actions (menu order) then its other
    actions and QShortcuts (e.g. a command palette's)."""
    found: list[Shortcut] = []
    seen: set[int] = set()

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path} › {_plain(action.text())}")
                continue
            seen.add(id(action))
            keys = _keys(action)
            if keys and not action.isSeparator():
                found.append(Shortcut(f"{path} › {_plain(action.text())}", keys))

    bar = getattr(window, "menuBar", None)
    if callable(bar):
        for top in bar().actions():
            menu = top.menu()
            if isinstance(menu, QMenu) and top.isVisible():
                walk(menu, _plain(top.text()))
    for action in window.findChildren(QAction):
        keys = _keys(action)
        if id(action) not in seen and keys and _plain(action.text()):
            seen.add(id(action))
            found.append(Shortcut(_plain(action.text()), keys))
    for shortcut in window.findChildren(QShortcut):
        key = shortcut.key()
        if not key.isEmpty():
            what = shortcut.whatsThis() or shortcut.objectName() or "Shortcut"
            found.append(Shortcut(what, key.toString(QKeySequence.SequenceFormat.NativeText)))
    return found


class ShortcutsWindow(_Window):
    """The keyboard shortcuts of ``window``, made from its actions when opened."""

    def __init__(self, window: QWidget, parent: QWidget | None = None) -> None:
        super().__init__("Keyboard shortcuts", "shortcutsWindow", parent)
        rows = shortcuts(window)
        note = QLabel(
            "Inside the evaluation form: Tab goes to the next item, arrow keys move between "
            "sides and options, single keys answer. These are the window's shortcuts:",
            self,
        )
        note.setWordWrap(True)
        self.layout_.addWidget(note)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setObjectName("shortcutTable")
        self.table.setHorizontalHeaderLabels(["Command", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for n, row in enumerate(rows):
            self.table.setItem(n, 0, QTableWidgetItem(row.where))
            self.table.setItem(n, 1, QTableWidgetItem(row.keys))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.layout_.addWidget(self.table, 1)
        self.finish()
        self.resize(560, 560)


@dataclass(frozen=True)
class Licence:
    name: str
    version: str
    licence: str


def _licence_of(dist: metadata.Distribution) -> str:
    md = dist.metadata

    def field(name: str) -> str:
        return str((md.get_all(name) or [""])[0] or "")

    expression = field("License-Expression")
    if expression:
        return str(expression)
    classifiers = [c for c in (md.get_all("Classifier") or []) if c.startswith("License ::")]
    if classifiers:
        return "; ".join(c.split(" :: ")[-1] for c in classifiers)
    text = field("License").strip().splitlines()
    return text[0][:80] if text else "see the package"


def library_licences(package: str = "clinic_app") -> list[Licence]:
    """The licence of every library ``package`` requires (not extras), as installed."""
    try:
        wanted = metadata.requires(package) or []
    except metadata.PackageNotFoundError:
        return []
    out: dict[str, Licence] = {}
    for requirement in wanted:
        if "extra ==" in requirement and 'extra == "postgres"' not in requirement:
            continue  # test and bundling tools are not shipped; the PostgreSQL driver is
        name = re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0]
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        out[name.lower()] = Licence(name, dist.version, _licence_of(dist))
    return sorted(out.values(), key=lambda x: x.name.lower())


def font_licences() -> list[Licence]:
    """The bundled fonts and the licence their shipped licence file names."""
    out = []
    for name, file in FONT_LICENCES:
        licence = "see resources/fonts/" + file
        try:
            text = (resources_dir() / "fonts" / file).read_text(encoding="utf-8")
        except OSError:
            text = ""
        found = re.search(r"^License:\s*(.+)$", text, re.MULTILINE)
        if found:
            licence = found[1].strip()
        out.append(Licence(name, "bundled", licence))
    return out


def app_version() -> str:
    try:
        return metadata.version("clinic_app")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


class AboutWindow(_Window):
    """Version, data folder and database, and the licences."""

    def __init__(self, where: str, database: str, parent: QWidget | None = None) -> None:
        super().__init__("About clinic_app", "aboutWindow", parent)
        from html import escape

        rows = "".join(
            f"<tr><td>{escape(x.name)}</td><td>{escape(x.version)}</td>"
            f"<td>{escape(x.licence)}</td></tr>"
            for x in [*font_licences(), *library_licences()]
        )
        self.text = QTextBrowser(self)
        self.text.setObjectName("aboutText")
        self.text.setHtml(
            f"<h2>clinic_app {escape(app_version())}</h2>"
            "<p>Evaluation and follow-up of posterior thigh pain. The app suggests; the "
            "therapist decides.</p>"
            f"<p><b>Data folder:</b> {escape(where)}<br><b>Database:</b> {escape(database)}</p>"
            "<h3>Fonts and libraries</h3>"
            "<table cellpadding='3'><tr><th align='left'>Name</th><th align='left'>Version</th>"
            f"<th align='left'>Licence</th></tr>{rows}</table>"
        )
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.layout_.addWidget(self.text, 1)
        self.finish()
        self.resize(620, 560)


def open_help(window: Any, which: str) -> QDialog:
    """Show ``"guide"``, ``"shortcuts"`` or ``"about"`` for the main window (one of each: an
    open one is raised, not opened twice)."""
    from clinic_app.paths import data_dir

    existing = getattr(window, "help_windows", None)
    if existing is None:
        existing = window.help_windows = {}
    dialog = existing.get(which)
    if dialog is None or which == "shortcuts":  # shortcuts: read afresh each time
        if dialog is not None:
            dialog.close()
            dialog.deleteLater()
        if which == "guide":
            dialog = GuideWindow(window)
        elif which == "shortcuts":
            dialog = ShortcutsWindow(window, window)
        else:
            db = getattr(window, "db", None)
            database = getattr(db, "display_url", "") or "not open"
            path = getattr(db, "path", None)
            where = str(path.parent) if isinstance(path, Path) else str(data_dir())
            dialog = AboutWindow(where, database, window)
        existing[which] = dialog
    dialog.show()
    if QGuiApplication.platformName() != "offscreen":  # (headless: no window stacking)
        dialog.raise_()
    dialog.activateWindow()
    return dialog
