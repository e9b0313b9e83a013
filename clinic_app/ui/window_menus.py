"""The main window's menus and which of their actions are enabled (split from main_window).

:func:`build_menus` makes the File, Episode, Go and Admin menus of a
:class:`~clinic_app.ui.main_window.MainWindow` and connects each action to the window's (or its
episode actions') ``on_<action>_triggered`` slot; :func:`update_actions` enables what the screen
shown allows. The window keeps the actions in ``actions_`` by key.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QKeySequence

from clinic_app.ui.palette import open_palette

# The window is a clinic_app.ui.main_window.MainWindow (not imported: that module imports this).
MainWindow = Any

# What needs an evaluation open on the page, and what needs the patient view with an episode.
EVALUATION_ACTIONS = (
    "export_report",
    "export_handout",
    "print_handout",
    "preview",
    "preview_handout",
    "save_now",
    "hand_to_patient",
)
EPISODE_ACTIONS = ("edit_episode", "plan_of_care", "goals")  # not for an archived patient
EPISODE_DOCUMENTS = ("export_progress", "export_discharge")


def add_action(
    window: MainWindow, menu: Any, text: str, slot: Any, shortcut: Any = None
) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def build_menus(w: MainWindow) -> None:
    bar = w.menuBar()
    file = bar.addMenu("&File")
    w.actions_ = {}
    a = w.actions_

    def add(menu: Any, key: str, text: str, slot: Any, shortcut: Any = None) -> None:
        a[key] = add_action(w, menu, text, slot, shortcut)

    add(file, "new_patient", "&New patient…", w.on_new_patient_triggered, "Ctrl+Shift+N")
    add(
        file,
        "new_evaluation",
        "New &evaluation",
        w.on_new_evaluation_triggered,
        QKeySequence.StandardKey.New,
    )
    add(file, "save_now", "&Save now", w.on_save_now_triggered, QKeySequence.StandardKey.Save)
    file.addSeparator()
    add(file, "export_report", "Export &report…", w.on_export_report_triggered, "Ctrl+E")
    add(file, "export_handout", "Export &handout…", w.on_export_handout_triggered)
    add(
        file,
        "print_handout",
        "&Print handout…",
        w.on_print_handout_triggered,
        QKeySequence.StandardKey.Print,
    )
    add(file, "preview", "Pre&view report", w.on_preview_triggered)
    add(file, "preview_handout", "Previe&w handout", lambda: w.documents.preview("handout"))
    add(file, "export_fhir", "Export &FHIR…", lambda: export_fhir(w))
    file.addSeparator()
    add(file, "backup", "&Backup…", w.on_backup_triggered)
    add(file, "settings", "&Settings…", w.on_settings_triggered)
    add(file, "library", "Exercise &library…", lambda: w._open("library_dialog.Library"))
    add(
        file,
        "change_password",
        "Change my &password…",
        lambda: w._open("accounts_dialog.ChangePassword"),
    )
    file.addSeparator()
    add(file, "lock", "&Lock now", w.on_lock_triggered, "Ctrl+L")
    add(file, "sign_out", "Sign &out", w.on_sign_out_triggered)
    file.addSeparator()
    add(file, "quit", "&Quit", w.quit, QKeySequence.StandardKey.Quit)

    ep = w.episodes  # clinic_app.ui.episode_actions.EpisodeActions
    # Ctrl+Shift, never Ctrl+Alt: Ctrl+Alt is AltGr on Windows (AltGr+E is €, AltGr+N is ń on a
    # Polish keyboard), and typing those in a field must not open a dialog.
    episode = bar.addMenu("E&pisode")
    add(episode, "new_episode", "&New episode…", ep.on_new_episode_triggered, "Ctrl+Shift+O")
    add(episode, "edit_episode", "&Edit episode…", ep.on_edit_episode_triggered, "Ctrl+Shift+E")
    add(episode, "new_visit", "New &visit note", ep.on_new_visit_triggered, "Ctrl+Shift+V")
    add(episode, "hand_to_patient", "&Hand to patient: questionnaires…", lambda: _hand(w))
    episode.addSeparator()
    add(episode, "plan_of_care", "&Plan of care…", ep.on_plan_of_care_triggered, "Ctrl+Shift+P")
    add(episode, "goals", "&Goals…", ep.on_goals_triggered, "Ctrl+Shift+G")
    episode.addSeparator()
    add(episode, "export_progress", "Export p&rogress report…", ep.on_export_progress_triggered)
    add(
        episode,
        "export_discharge",
        "Export &discharge summary…",
        ep.on_export_discharge_triggered,
    )

    go = bar.addMenu("&Go")
    add(go, "next_section", "Next section\tCtrl+PgDown", w.on_next_section_triggered)
    add(go, "previous_section", "Previous section\tCtrl+PgUp", w.on_previous_section_triggered)
    add(go, "find_patient", "&Find patient", w.on_find_patient_triggered, "Ctrl+F")
    add(go, "palette", "&Jump to item or action…", lambda: open_palette(w), "Ctrl+K")
    add(go, "back", "&Back to the patient", w.on_page_back_requested, "Alt+Left")
    # Admins only (ui/access_log.py, ui/accounts_dialog.py); shown per signed-in clinician.
    w.admin_menu = bar.addMenu("&Admin")
    add(w.admin_menu, "access_log", "&Access log…", lambda: w._open("access_log.AccessLog"))
    add(w.admin_menu, "accounts", "A&ccounts…", lambda: w._open("accounts_dialog.Accounts"))
    # Help (ui/help_dialogs.py): the shipped guide in the app, shortcuts read from these menus.
    help_menu = bar.addMenu("&Help")
    add(help_menu, "help_guide", "&User guide", lambda: _help(w, "guide"), "F1")
    add(help_menu, "help_shortcuts", "&Keyboard shortcuts", lambda: _help(w, "shortcuts"))
    add(help_menu, "help_about", "&About clinic_app", lambda: _help(w, "about"))
    w.context.clinician_changed.connect(lambda _c: update_actions(w))
    update_actions(w)


def _hand(w: MainWindow) -> None:
    """The open record's questionnaire on the patient's full-screen page (ui/self_entry.py)."""
    from clinic_app.ui.self_entry import choose_and_hand

    choose_and_hand(w)


def _help(w: MainWindow, which: str) -> None:
    from clinic_app.ui.help_dialogs import open_help

    open_help(w, which)


def update_actions(w: MainWindow) -> None:
    """Only the list, the search box and Quit work until attached; the rest as the screen
    allows. Every handler runs only from an enabled action or from a panel that exists once
    attached. While locked the lock keeps them disabled."""
    update_admin_actions(w)
    if w.locker is not None and w.locker.is_locked:
        return
    if not w.is_ready:
        for key, action in w.actions_.items():
            action.setEnabled(key in ("quit", "find_patient") or key.startswith("help_"))
        return
    for action in w.actions_.values():
        action.setEnabled(True)
    on_detail = w.stack.currentWidget() is w.detail
    patient = w.detail.patient
    has_patient = patient is not None
    has_eval = w.page.evaluation is not None and w.stack.currentWidget() is w.page
    w.actions_["new_evaluation"].setEnabled(has_patient)
    w.actions_["export_fhir"].setEnabled(has_patient)
    for key in EVALUATION_ACTIONS:
        w.actions_[key].setEnabled(has_eval)
    episode = w.detail.selected_episode() if on_detail else None
    active = on_detail and patient is not None and not patient.archived
    w.actions_["new_episode"].setEnabled(active)
    w.actions_["new_visit"].setEnabled(active and episode is not None and episode.is_open)
    for key in EPISODE_ACTIONS:
        w.actions_[key].setEnabled(active and episode is not None)
    for key in EPISODE_DOCUMENTS:
        w.actions_[key].setEnabled(episode is not None)
    w.actions_["back"].setEnabled(has_eval)
    w.actions_["backup"].setEnabled(w.db.path is not None)
    update_admin_actions(w)


def update_admin_actions(w: MainWindow) -> None:
    """The Admin menu only for a clinician with the admin role."""
    admin = "admin" in getattr(w.clinician, "roles", ())
    w.admin_menu.menuAction().setVisible(admin)
    for key in ("access_log", "accounts"):
        w.actions_[key].setEnabled(admin and w.is_ready)


def export_fhir(w: MainWindow, path: str | None = None) -> int:
    """File → Export FHIR…: the shown patient's whole record as a FHIR bundle (issue 20),
    built, validated and written on the worker (``interop.files``), logged as an export.
    Returns the runner's job number (0 when nothing was started)."""
    from pathlib import Path

    from PySide6.QtWidgets import QFileDialog

    patient = w.detail.patient
    if patient is None:
        return 0
    if path is None:
        suggested = str(Path.home() / f"patient-{patient.id}-fhir.json")
        path, _ = QFileDialog.getSaveFileName(w, "Export FHIR", suggested, "FHIR JSON (*.json)")
    if not path:
        return 0
    target, actor, patient_id = Path(path), w.clinician.login or w.context.user, patient.id

    def op(db: Any) -> int:
        from clinic_app.interop.files import export_fhir_file

        return export_fhir_file(db, patient_id, target, actor=actor)

    def done(count: int) -> None:
        w.statusBar().showMessage(f"Exported {target} ({count} FHIR resources)", 8000)

    return int(w.context.runner.run("Exporting the FHIR record", op, on_success=done, parent=w))
