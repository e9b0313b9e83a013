"""Python's cyclic garbage collector runs on the GUI thread only.

Automatic collection starts in whichever thread happens to allocate past the threshold. The app
has worker threads that allocate a lot (start-up loader, autosave, PDF warm-up); a collection
started there finalizes unreachable Qt wrappers in that thread, and deleting a widget outside the
GUI thread crashes Qt. That happened: a segfault in CI with "Garbage-collecting" on the PDF
warm-up thread. So automatic collection is switched off and a timer on the GUI thread collects
with the same thresholds, a generation at a time, whenever the event loop runs.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 500
_NAME = "clinic_app_gui_thread_gc"


class GuiThreadGarbageCollector(QObject):
    """Collects garbage from a timer on the application's (GUI) thread. Signals: none."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName(_NAME)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.on_timer_timeout)
        self.timer.start(INTERVAL_MS)

    def on_timer_timeout(self) -> None:
        counts = gc.get_count()
        generation = -1
        for gen in range(3):
            if counts[gen] > self.threshold[gen]:
                generation = gen
            else:
                break
        if generation >= 0:
            gc.collect(generation)


def ensure_gui_thread_gc() -> GuiThreadGarbageCollector | None:
    """Install the collector on the running QCoreApplication once; None without one."""
    app = QCoreApplication.instance()
    if app is None:
        return None
    found = app.findChild(GuiThreadGarbageCollector, _NAME)
    return found if found is not None else GuiThreadGarbageCollector(app)
