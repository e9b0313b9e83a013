"""Program editor figures (issue 17): opening the home-program editor, target ≤ 50 ms.

``python benchmarks/program_editor.py`` (or ``run.py --only program_editor``) times, offscreen in
this process, with the shipped form and library and the proximal-tendinopathy runner
(``examples/runner_left_proximal.json``):

- **program editor: open (suggestion)** — a ``ProgramEditor`` built, given the library and the
  assessment, a record without a program (so the factors' suggestion is computed and listed),
  shown and laid out (events processed): what the therapist waits for on the Home program page;
- **program editor: open (8 exercises)** — the same with a stored program of 8 exercises;
- **program editor: add one exercise** — ``add_exercise`` (safety check, list refresh, the
  emitted value) on that program.

The library itself is read once per database (``records.load_library``, in
``benchmarks/library.py``) and kept by the editor, so it is not in these figures.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
TARGET_MS = 50.0
EIGHT = [
    "glute_bridge",
    "hip_thrust",
    "single_leg_bridge",
    "dead_bug",
    "side_plank",
    "hip_flexor_march",
    "calf_raise_straight",
    "calf_raise_bent",
]


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def figures(repeats: int = 15) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from clinic_app.core import engine, findings
    from clinic_app.core.form import load_form
    from clinic_app.core.library import shipped_library
    from clinic_app.core.program import Program, entry_for
    from clinic_app.paths import default_form_path
    from clinic_app.ui.program_editor import ProgramEditor

    form = load_form(default_form_path())
    item = form.items["home_program"]
    example = json.loads((REPO / "examples" / "runner_left_proximal.json").read_text())
    assessment = engine.assess(form, findings.validate(form, example))
    library = shipped_library(form)
    eight = Program(tuple(entry_for(library[e], "for the figures") for e in EIGHT)).plain()

    def open_one(value: Any) -> tuple[float, ProgramEditor]:
        t = time.perf_counter()
        ed = ProgramEditor(item)
        ed.set_environment(library=library, assessment=assessment, user="bench", form=form)
        ed.set_value(value)
        ed.resize(900, 640)
        ed.show()
        app.processEvents()
        return _ms(t), ed

    open_one(None)[1].deleteLater()  # the first of the process: imports, fonts, styles
    app.processEvents()
    suggested, stored, add = [], [], []
    for _ in range(repeats):
        ms, ed = open_one(None)
        suggested.append(ms)
        ed.deleteLater()
        ms, ed = open_one(eight)
        stored.append(ms)
        ed.entries = ed.entries[:-1]  # room for one more, then time adding it back
        t = time.perf_counter()
        ed.add_exercise(EIGHT[-1])
        app.processEvents()
        add.append(_ms(t))
        ed.deleteLater()
        app.processEvents()
    return {"suggested_ms": suggested, "stored_ms": stored, "add_ms": add}


def measure(bench: Any, h: Any) -> None:
    """Add the program-editor rows to ``bench`` (``h``: run.py)."""
    Row, p50, pct = h.Row, h.p50, h.pct
    f = figures(7 if bench.args.quick else 15)
    bench.raw["program_editor"] = f
    for label, key, size, target in (
        ("program editor: open (suggestion)", "suggested_ms", "runner, 6 suggested", True),
        ("program editor: open (stored program)", "stored_ms", "8 exercises", True),
        ("program editor: add one exercise", "add_ms", "8th exercise", False),
    ):
        values = f[key]
        ok = pct(values, 95) <= TARGET_MS if target else None
        shown = f"≤ {TARGET_MS:.0f} ms" if target else ""
        bench.rows.append(Row(label, size, p50(values), pct(values, 95), "ms", shown, ok))


def main() -> int:
    f = figures()
    for key in ("suggested_ms", "stored_ms", "add_ms"):
        values = sorted(f[key])
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        print(
            f"{key:13} p50 {statistics.median(values):7.2f} ms  p95 {p95:7.2f} ms  "
            f"(target {TARGET_MS:.0f} ms for opening)"
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
