"""The patient's self-entry screen (issue 16): how long it takes to appear, and one answer step.

``run.py --only self_entry`` runs, in a process of its own (``probes.py self_entry``):

- **self-entry: open** — build ``ui.self_entry.SelfEntryWindow`` for the LEFS, show it full
  screen and let the events that follow run (what the patient waits for after the therapist's
  click; the main window's lock is timed by the idle-lock figures); target ≤ 150 ms.
- **self-entry: one answer** — a digit and Enter on an item: the answer kept, the next item's
  question and buttons built and painted; target ≤ 30 ms (a tap must feel immediate).

No database: the screen reads the shipped questionnaire file only (read once per process, as in
the app); the clinician's password check is not timed here.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

TARGETS = {"open_ms": 150.0, "answer_ms": 30.0}


def now_ms() -> float:
    return time.perf_counter_ns() / 1e6


def probe_self_entry(repeats: int) -> dict[str, Any]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from clinic_app.core.form import load_form
    from clinic_app.core.responses import questionnaire_of
    from clinic_app.paths import default_form_path
    from clinic_app.ui.self_entry import SelfEntryWindow
    from clinic_app.ui.sign_in import SignedIn

    app = QApplication.instance() or QApplication(["bench"])
    item = load_form(default_form_path()).items["lefs_answers"]
    q = questionnaire_of("lefs")

    def refuse(_login: str, _password: str) -> SignedIn:
        raise RuntimeError("not signed in during the benchmark")

    def build() -> SelfEntryWindow:
        screen = SelfEntryWindow(
            q,
            item,
            language="en",
            first_name="Ada",
            clinician_login="bench",
            clinician_name="Bench",
            authenticate=refuse,
        )
        screen.showFullScreen()
        app.processEvents()
        return screen

    first = now_ms()
    warm = build()
    first = now_ms() - first
    warm.release(None)
    open_ms: list[float] = []
    answer_ms: list[float] = []
    for _ in range(repeats):
        t0 = now_ms()
        screen = build()
        open_ms.append(now_ms() - t0)
        for n in range(min(19, repeats)):
            t0 = now_ms()
            QTest.keyClicks(screen.pager, str(n % 5))
            QTest.keyClick(screen.pager, Qt.Key.Key_Return)
            screen.pager.grab()  # painted, as the patient sees it
            answer_ms.append(now_ms() - t0)
        screen.release(None)
        screen.deleteLater()
        app.processEvents()
    return {"first_open_ms": first, "open_ms": open_ms, "answer_ms": answer_ms}


PROBES = {"self_entry": probe_self_entry}


def measure(bench: Any, h: ModuleType) -> None:
    Row, p50, pct = h.Row, h.p50, h.pct
    r = h.run_probe("self_entry", {"repeats": 5 if bench.args.quick else 20})
    bench.raw["self_entry"] = r
    for label, key, note in (
        (
            "self-entry: open the LEFS full screen",
            "open",
            f"first in the process {r['first_open_ms']:.0f} ms",
        ),
        ("self-entry: one answer (digit, Enter, next item painted)", "answer", "LEFS item"),
    ):
        ms = r[f"{key}_ms"]
        target = TARGETS[f"{key}_ms"]
        bench.rows.append(
            Row(
                label,
                "20 items",
                p50(ms),
                pct(ms, 95),
                "ms",
                f"≤ {target:.0f}",
                p50(ms) <= target,
                note,
            )
        )
