"""Cyclic garbage is collected on the GUI thread, never on a worker thread (where finalizing a
Qt object crashes Qt: a segfault in CI on the PDF warm-up thread)."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

from clinic_app.ui.gc_guard import ensure_gui_thread_gc


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_garbage_made_on_a_worker_thread_is_collected_on_the_gui_thread(qtbot) -> None:
    collector = ensure_gui_thread_gc()
    assert collector is not None
    assert ensure_gui_thread_gc() is collector  # installed once
    assert not gc.isenabled()
    collecting_on: list[str] = []

    def on_gc(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            collecting_on.append(threading.current_thread().name)

    refs: list[weakref.ref[_Node]] = []

    def worker() -> None:
        for _ in range(20_000):  # far past the first generation's threshold (700)
            refs.append(weakref.ref(_Node()))

    gc.callbacks.append(on_gc)
    try:
        thread = threading.Thread(target=worker, name="worker")
        thread.start()
        thread.join()
        assert collecting_on.count("worker") == 0
        qtbot.waitUntil(lambda: refs[0]() is None, timeout=10_000)
    finally:
        gc.callbacks.remove(on_gc)
    assert collecting_on
    assert set(collecting_on) == {threading.main_thread().name}
