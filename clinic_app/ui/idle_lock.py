"""The idle lock: after N minutes without input the window hides every patient datum (issue 14).

:class:`IdleWatcher` notes the time of each key, mouse, wheel, touch or tablet event reaching the
app's windows or its focus widget (not through an application-wide event filter: see its
docstring); a single-shot timer wakes up when the interval might have run out and emits
``idled`` if it really has (no timer restart per keystroke: the filter only stores a number).

:class:`WindowLock` does the locking of one main window. Locking first saves the open draft
(``MainWindow.flush``, through the runner: nothing typed is lost; a draft that cannot be saved
right now stays in the editor and the autosaver keeps trying), then puts the sign-in page in
front of the window's whole central area (a ``QStackedWidget``), disables every menu and action
but Quit, takes the patient's name out of the window title and the status bar, and hides every
dialog of the window (a modal question waiting in ``exec`` is answered "cancel" by hiding; a
dialog opened with ``open`` is kept and shown again). The same clinician signing in again gets
everything back as it was: the same patient, evaluation, field focus and draft. Another
clinician signing in first closes the open evaluation (saved under the first clinician's name:
their draft stays theirs), then the window is theirs at the patient list. If that save fails
the window stays locked and says why: only the first clinician can resolve it.

Lock, unlock, sign-in and sign-out are written to the access log (``records.log_access``).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QStackedWidget,
    QToolBar,
    QToolTip,
    QWidget,
)

from clinic_app.ui.sign_in import SignedIn, SignInPanel

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.values import Clinician

log = logging.getLogger(__name__)

DEFAULT_MINUTES = 5
LOCKED_TITLE = "clinic_app — locked"

_INPUT = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.TouchEnd,
        QEvent.Type.TabletPress,
        QEvent.Type.TabletMove,
        QEvent.Type.TabletRelease,
        QEvent.Type.ShortcutOverride,
    }
)


class IdleWatcher(QObject):
    """Emits ``idled()`` once after ``interval_ms`` without key, mouse, wheel or touch input.

    Not an event filter on the whole application: that one Python call for every event of the
    app (paint, layout, polish...) made building an evaluation's editor 1.5-3.7 times slower.
    Input reaches the app through its top-level windows (``QWindow``: every platform key,
    mouse, wheel and touch event passes there first) and keys go to the focus widget; the
    watcher filters exactly those few objects: the window with the focus and the other visible
    windows when it starts, each window that gets the focus later, and the focus widget (which
    also sees the key events a test sends straight to it). A change of focus counts as input.

    Signals: ``idled()`` — the interval passed without input (the watcher then stops; start it
    again with :meth:`start`).
    """

    idled = Signal()

    def __init__(self, interval_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = max(int(interval_ms), 1)
        self._last = time.monotonic()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.on_timer_timeout)
        self._installed = False
        self._watched: list[QObject] = []

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def set_interval_ms(self, interval_ms: int) -> None:
        self.interval_ms = max(int(interval_ms), 1)
        if self.active:
            self._arm()

    def start(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication) and not self._installed:
            app.focusChanged.connect(self.on_app_focus_changed)
            app.focusWindowChanged.connect(self.on_app_focus_window_changed)
            self._installed = True
            for window in app.topLevelWindows():
                if window.isVisible():
                    self._watch(window)
            self._watch(app.focusWidget())
        self._last = time.monotonic()
        self._arm()

    def stop(self) -> None:
        """Stop the timer and every filter (a hidden or locked window watches nothing)."""
        self._timer.stop()
        app = QApplication.instance()
        if isinstance(app, QApplication) and self._installed:
            app.focusChanged.disconnect(self.on_app_focus_changed)
            app.focusWindowChanged.disconnect(self.on_app_focus_window_changed)
            self._installed = False
        for obj in self._watched:
            if shiboken6.isValid(obj):
                obj.removeEventFilter(self)
        self._watched = []

    def _watch(self, obj: QObject | None) -> None:
        if obj is None or not shiboken6.isValid(obj):
            return
        self._watched = [o for o in self._watched if shiboken6.isValid(o)]
        if obj not in self._watched:
            obj.installEventFilter(self)
            self._watched.append(obj)

    def on_app_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        self._last = time.monotonic()
        if old is not None and old in self._watched:  # the widget losing the focus
            if shiboken6.isValid(old):
                old.removeEventFilter(self)
            self._watched.remove(old)
        self._watch(new)

    def on_app_focus_window_changed(self, window: QObject | None) -> None:
        self._last = time.monotonic()
        self._watch(window)

    def idle_ms(self) -> int:
        return int((time.monotonic() - self._last) * 1000)

    def _arm(self) -> None:
        self._timer.start(max(self.interval_ms - self.idle_ms(), 1))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT:
            self._last = time.monotonic()
        return False

    def on_timer_timeout(self) -> None:
        if self.idle_ms() >= self.interval_ms:
            self.idled.emit()
        else:
            self._arm()


class WindowLock(QObject):
    """Locks and unlocks one main window (see the module's docstring).

    ``window`` is the :class:`~clinic_app.ui.main_window.MainWindow` (not imported: the window
    imports this module). ``interval_ms`` overrides the ``idle_lock_minutes`` setting (tests).

    Signals: ``locked()`` — the patient data are hidden; ``unlocked(object)`` — the window is
    back, for this ``Clinician`` (the same one, or the one who took over).
    """

    locked = Signal()
    unlocked = Signal(object)

    def __init__(self, window: Any, *, interval_ms: int | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.is_locked = False
        self.signed_out = False
        self._fixed_interval = interval_ms is not None
        self.watcher = IdleWatcher(
            interval_ms if interval_ms is not None else DEFAULT_MINUTES * 60_000, self
        )
        self.watcher.idled.connect(self.on_watcher_idled)
        self.panel = SignInPanel(self.authenticate, None, heading="Locked")
        self.panel.change_password = self._change_password
        self.panel.signed_in.connect(self.on_panel_signed_in)
        # The window's central area becomes a stack: its content, and the lock page over it.
        content = window.takeCentralWidget()
        self.stack = QStackedWidget(window)
        self.stack.setObjectName("lockStack")
        self.stack.addWidget(content)
        self.stack.addWidget(self.panel)
        self.content = content
        window.setCentralWidget(self.stack)
        window.statusBar().messageChanged.connect(self.on_status_message_changed)
        window.installEventFilter(self)  # shown: watch for idleness; hidden: stop
        self._saved: dict[str, Any] = {}

    # -- the interval --------------------------------------------------------------------------

    def start(self) -> None:
        """Start watching (once the window shows); the interval comes from the clinic's setting,
        read in the background."""
        if self.window.isVisible() and not self.is_locked:
            self.watcher.start()
        if self._fixed_interval:
            return

        def read(db: Database) -> int:
            from clinic_app.storage import records

            return int(records.get_setting(db, "idle_lock_minutes"))

        self.window.context.runner.run(
            "Reading the idle-lock setting",
            read,
            on_success=self.set_minutes,
            on_failure=lambda _err: None,  # the default stays: five minutes
        )

    def on_settings_saved(self, _clinician: object) -> None:
        """The settings dialog saved (the idle-lock minutes among them): read them again."""
        self.start()

    def set_minutes(self, minutes: int) -> None:
        self.watcher.set_interval_ms(int(minutes) * 60_000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window:
            if event.type() == QEvent.Type.Show and not self.is_locked:
                self.watcher.start()
            elif event.type() == QEvent.Type.Hide:
                self.watcher.stop()
        return False

    def on_watcher_idled(self) -> None:
        if QApplication.activeModalWidget() is not None and not self._window_owns_modal():
            self.watcher.start()  # a modal window of another main window (tests): not ours
            return
        self.lock()

    def _window_owns_modal(self) -> bool:
        modal = QApplication.activeModalWidget()
        return modal is not None and _belongs_to(modal, self.window)

    # -- locking ---------------------------------------------------------------------------------

    def lock(self, *, reason: str = "") -> None:
        """Save the draft, then hide every patient datum behind the sign-in page."""
        if self.is_locked:
            return
        w = self.window
        if w.is_ready:
            try:
                w.flush()  # through the runner; a failure leaves the draft in the editor
            except Exception:
                log.exception("the draft could not be saved before locking")
        focus = QApplication.focusWidget()
        self._saved = {
            "focus": focus if focus is not None and _belongs_to(focus, w) else None,
            "title": w.windowTitle(),
            "saved_label": w.saved_label.text(),
            "actions": {},
            "dialogs": [],
        }
        QToolTip.hideText()  # a tooltip may show a patient's name
        for dialog in _dialogs_of(w):
            self._saved["dialogs"].append(dialog)
            dialog.hide()  # a dialog in exec() returns "rejected"; one opened with open() waits
        for action in w.findChildren(QAction):
            self._saved["actions"][action] = action.isEnabled()
            action.setEnabled(action is w.actions_.get("quit"))
        w.menuBar().setEnabled(False)
        for bar in w.findChildren(QToolBar):
            bar.setEnabled(False)
        self.is_locked = True
        self.stack.setCurrentWidget(self.panel)
        w.setWindowTitle(LOCKED_TITLE)
        w.saved_label.clear()
        w.statusBar().clearMessage()
        clinician = w.context.clinician
        note = reason or (
            f"The window was locked to keep patient data private. {clinician.name} can sign "
            "in again to carry on where they were; another clinician's sign-in first saves and "
            "closes the open evaluation."
        )
        self.panel.reset("" if self.signed_out else (clinician.login or ""), note)
        self.panel.heading.setText("<h2>Signed out</h2>" if self.signed_out else "<h2>Locked</h2>")
        self.watcher.stop()
        if self.panel.isVisible():
            self.panel.focus_first_empty()
        self._log("sign_out" if self.signed_out else "lock", clinician)
        self.locked.emit()

    def sign_out(self) -> None:
        """Save and close the open evaluation, then lock with an empty login name."""
        w = self.window
        if self.is_locked:
            return
        if w.is_ready and w.page.evaluation is not None and not w.page.close_evaluation():
            return  # a conflict the clinician must answer first; the page said so
        self.signed_out = True
        if w.is_ready:
            w.show_patient_list()
        self.lock(reason="Signed out. Sign in to open the clinic's patients.")

    def on_status_message_changed(self, text: str) -> None:
        if self.is_locked and text:
            self.window.statusBar().clearMessage()  # a late "Saved Anna Müller": not while locked

    # -- unlocking -------------------------------------------------------------------------------

    def authenticate(self, login: str, password: str) -> SignedIn:
        """The lock page's check: the same clinician re-enters their password (``unlock``);
        anyone else signs in (``sign_in``, audited by the accounts module)."""
        current = self.window.context.clinician
        runner = self.window.context.runner
        if not self.signed_out and current.login and login == current.login:
            cid = current.id

            def check(db: Database) -> SignedIn:
                from clinic_app.storage import accounts

                accounts.check_password(db, cid, password)
                return SignedIn(accounts.get_account(db, login).clinician)

            return runner.call("Unlocking", check)  # type: ignore[no-any-return]
        from clinic_app.ui.sign_in import authenticate_op, ensure_key_op

        signed_in: SignedIn = runner.call("Signing in", authenticate_op(login, password))
        runner.run(
            "Unlocking the clinic on this computer",
            ensure_key_op(login, password),
            on_failure=lambda err: log.warning("keyring entry not written: %s", type(err)),
        )
        return signed_in

    def _change_password(self, login: str, old: str, new: str) -> Any:
        from clinic_app.ui.sign_in import change_password_op

        return self.window.context.runner.call(
            "Changing the password", change_password_op(login, old, new)
        )

    def on_panel_signed_in(self, clinician: Clinician) -> None:
        w = self.window
        same = not self.signed_out and clinician.id == w.context.clinician.id
        # the open evaluation is saved under the first clinician's name before the switch
        busy = w.is_ready and w.page.evaluation is not None
        if not same and busy and not w.page.close_evaluation():
            first = w.context.clinician.name
            self.panel.show_error(
                f"{first}'s open evaluation could not be saved just now, so it stays locked "
                f"for {first}: they can sign in to resolve it. Try again in a moment."
            )
            return
        if not same:
            for dialog in self._saved.get("dialogs", []):
                if (
                    shiboken6.isValid(dialog)
                    and isinstance(dialog, QDialog)
                    and dialog.windowModality() != Qt.WindowModality.ApplicationModal
                ):
                    dialog.reject()  # the first clinician's dialog: not for the next one
            self._saved["dialogs"] = []
            self._saved["focus"] = None
        self._restore()
        if same:
            self._log("unlock", clinician)
        else:
            if not self.signed_out:
                self._log("sign_out", w.context.clinician)
            w.take_over(clinician)
        self.signed_out = False
        self.watcher.start()
        self.unlocked.emit(clinician)

    def _restore(self) -> None:
        w = self.window
        saved = self._saved
        self.is_locked = False
        self.stack.setCurrentWidget(self.content)
        for action, enabled in saved.get("actions", {}).items():
            if shiboken6.isValid(action):
                action.setEnabled(enabled)
        w.menuBar().setEnabled(True)
        for bar in w.findChildren(QToolBar):
            bar.setEnabled(True)
        w.setWindowTitle(saved.get("title") or w.windowTitle())
        w.saved_label.setText(saved.get("saved_label", ""))
        if w.is_ready:
            w._update_actions()
        for dialog in saved.get("dialogs", []):
            # A dialog opened with open() (window-modal) or a non-modal window still waits for
            # its answer: shown again. One that was in exec() (application-modal) was answered
            # "cancel" by hiding it and is gone.
            if (
                shiboken6.isValid(dialog)
                and not dialog.isVisible()
                and dialog.windowModality() != Qt.WindowModality.ApplicationModal
            ):
                dialog.show()
        focus = saved.get("focus")
        if focus is not None and shiboken6.isValid(focus) and focus.isVisible():
            focus.setFocus()
        self._saved = {}

    def _log(self, action: str, clinician: Clinician) -> None:
        """An access event (``records.log_access``), in the background; a failure is logged."""
        w = self.window
        if not w.is_ready:
            return
        actor = clinician.login or clinician.name
        cid = clinician.id
        w.context.run_idle()  # an access not written yet comes before this event

        def op(db: Database) -> None:
            from clinic_app.storage import records

            records.log_access(db, actor=actor, action=action, entity="clinician", entity_id=cid)

        w.context.runner.run(
            f"Recording the {action.replace('_', '-')}",
            op,
            on_failure=lambda err: log.warning("access event %s not written: %s", action, err),
        )


def _belongs_to(widget: QWidget, window: QWidget) -> bool:
    """``widget`` is ``window``, inside it, or in a dialog opened from it."""
    w: QWidget | None = widget
    while w is not None:
        if w is window:
            return True
        w = w.window().parentWidget() if w.window() is w else w.window()
    return False


def _dialogs_of(window: QWidget) -> list[QWidget]:
    """The visible dialogs and other top-level windows opened from ``window``, topmost first
    (a window without a parent is another main window's business, or the crash dialog)."""
    found = []
    for top in QApplication.topLevelWidgets():
        if top is window or not top.isVisible():
            continue
        parent = top.parentWidget()
        if parent is not None and _belongs_to(parent, window):
            found.append(top)
    return list(reversed(found))
