"""Steady typing is saved while it goes on, not only when the clinician pauses.

The crash test's finding (B1 in RELIABILITY.md) in three seconds and one process: the editor's
autosaver gets a change every 0.1 s -- a clinician typing a note at an ordinary pace -- for 3 s.
The first change must reach the database within the autosave window (the crash test's bound:
the autosave delay, or the saver's declared ``AUTOSAVE_MAX_WAIT_MS``, plus slack) while the
typing continues; a pure debounce restarts its timer on every key and saves nothing until the
typing stops, which a crash in the meantime turns into lost text.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer

from clinic_app.core.findings import validate
from clinic_app.storage import records
from clinic_app.storage.database import open_database
from tests.reliability.crash_harness import autosave_window
from tests.reliability.helpers import USER, autosaver, findings, seed_records, small_form

KEY_INTERVAL_MS = 100
TYPING_S = 3.0


def test_steady_typing_is_saved_within_the_autosave_window(qtbot, tmp_path: Path) -> None:
    form = small_form()
    note = "Left proximal hamstring pain since the half marathon, worse on hills. " * 2
    with open_database(f"sqlite:///{tmp_path / 'clinic.db'}", backup=False) as db:
        ev = seed_records(db, form)
        saves: list[float] = []
        with autosaver(db, ev, USER) as saver:
            saver.saved.connect(lambda _result: saves.append(time.monotonic()))
            typed = {"n": 0}
            start = time.monotonic()

            def key() -> None:
                typed["n"] += 1
                text = note[: typed["n"]]
                saver.on_findings_changed(validate(form, findings(form, notes=text)))

            timer = QTimer()
            timer.setInterval(KEY_INTERVAL_MS)
            timer.timeout.connect(key)
            timer.start()
            try:
                qtbot.waitUntil(lambda: time.monotonic() - start >= TYPING_S, timeout=10_000)
            finally:
                timer.stop()
            first_save = saves[0] - start if saves else None
            stored = records.get_evaluation(db, ev.id).findings["values"].get("notes", "")
            assert saver.flush()
    window = autosave_window()
    what = (
        "nothing was saved while typing"
        if first_save is None
        else f"first save after {first_save:.2f} s"
    )
    in_time = first_save is not None and first_save <= window
    assert in_time, (
        f"{typed['n']} keys over {TYPING_S:.0f} s of steady typing: {what} "
        f"(autosave window {window:.2f} s); stored while typing: {len(stored)} characters"
    )
