"""The Help menu (issue 18): F1 opens the shipped guide in the app, the shortcut list is made from
the window's actions (so a new shortcut appears without editing a list), About names the version,
the data folder and the licences read from the installed packages."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication

from clinic_app.ui.help_dialogs import (
    AboutWindow,
    GuideWindow,
    ShortcutsWindow,
    font_licences,
    guide_text,
    library_licences,
    shortcuts,
)
from tests.ui.helpers import settle

TOPICS = ("Starting", "Patients", "Episodes and evaluations", "Visit notes", "Goals", "Reports")


def test_the_guide_covers_the_topics() -> None:
    text = guide_text()
    for topic in (*TOPICS, "Keyboard", "Backup"):
        assert f"## {topic}" in text, topic
    assert "you decide" in text


def test_f1_opens_the_guide_in_the_app(qtbot, window) -> None:
    settle(qtbot, window)
    assert window.actions_["help_guide"].shortcut() == QKeySequence("F1")
    qtbot.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: isinstance(window.help_windows.get("guide"), GuideWindow))
    guide = window.help_windows["guide"]
    qtbot.waitUntil(guide.isVisible)
    shown = guide.browser.toPlainText()
    assert "clinic_app: a short guide" in shown
    assert "Backup" in shown
    assert "##" not in shown  # rendered, not raw Markdown
    qtbot.keyClick(window, Qt.Key.Key_F1)  # again: the same window, raised
    assert window.help_windows["guide"] is guide


def test_the_shortcut_list_is_made_from_the_window_actions(qtbot, window) -> None:
    rows = {r.where: r.keys for r in shortcuts(window)}
    native = QKeySequence.SequenceFormat.NativeText
    assert rows["File › New patient…"] == QKeySequence("Ctrl+Shift+N").toString(native)
    assert rows["File › Export report…"] == QKeySequence("Ctrl+E").toString(native)
    assert rows["Help › User guide"] == "F1"
    assert rows["Go › Next section"] == "Ctrl+PgDown"
    for key, action in window.actions_.items():
        if not action.shortcut().isEmpty() and action.isVisible():
            assert action.shortcut().toString(native) in rows.values(), key
    # A shortcut added to a menu later is listed without touching the list.
    extra = QAction("Measure &twice", window)
    extra.setShortcut(QKeySequence("Ctrl+Shift+T"))
    window.menuBar().actions()[0].menu().addAction(extra)
    dialog = ShortcutsWindow(window)
    qtbot.addWidget(dialog)
    cells = {
        dialog.table.item(n, 0).text(): dialog.table.item(n, 1).text()
        for n in range(dialog.table.rowCount())
    }
    assert cells["File › Measure twice"] == QKeySequence("Ctrl+Shift+T").toString(native)


def test_about_names_version_data_folder_and_licences(qtbot, window, db) -> None:
    window.actions_["help_about"].trigger()
    about = window.help_windows["about"]
    assert isinstance(about, AboutWindow)
    text = about.text.toPlainText()
    assert "clinic_app 0." in text
    assert str(db.path.parent) in text
    libs = {x.name.lower(): x.licence for x in library_licences()}
    assert "LGPL" in libs["pyside6-essentials"]
    assert "MIT" in libs["sqlalchemy"]
    assert "BSD" in libs["reportlab"]
    for name in ("PySide6-Essentials", "SQLAlchemy", "reportlab", "Droid Sans Fallback"):
        assert name.lower() in text.lower(), name
    fonts = {x.name: x.licence for x in font_licences()}
    assert all(not v.startswith("see ") for v in fonts.values()), fonts


def test_help_works_before_the_database_is_attached(qtbot, window) -> None:
    assert window.actions_["help_guide"].isEnabled()
    window.actions_["help_shortcuts"].trigger()
    assert window.help_windows["shortcuts"].isVisible()
    QApplication.processEvents()
