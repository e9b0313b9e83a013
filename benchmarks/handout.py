"""Handout figures (issue 17): the patient handout of an 8-exercise home program with pictures.

``run.py --only handout`` (or ``python benchmarks/handout.py`` alone, which prints JSON) runs, in
a process of its own: the runner example's findings with a stored program of 8 exercises (7
shipped ones with their start/end drawings, 1 clinic exercise with an imported 600 x 400 PNG),
each with a dose, a side and a personal note; then

- **handout: 8 exercises with pictures** — ``build_handout`` to memory after the first build
  of the process (reported apart: reportlab's import, the fonts, the first parse of each SVG);
  target ≤ 150 ms warm;
- **handout: the same in large print** — informational.
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 150.0
SHIPPED = (
    "glute_bridge",
    "single_leg_bridge",
    "hip_thrust",
    "romanian_deadlift",
    "side_plank",
    "calf_raise_straight",
    "dead_bug",
)


def _now_ms() -> float:
    return time.perf_counter_ns() / 1e6


def _data() -> Any:
    from datetime import date

    from PIL import Image

    from clinic_app.core import findings as findings_mod
    from clinic_app.core.form import load_form
    from clinic_app.core.library import ExerciseDef, Picture, shipped_library
    from clinic_app.paths import default_form_path
    from clinic_app.reports import (
        ClinicianInfo,
        ClinicInfo,
        EvaluationInfo,
        PatientInfo,
        ReportData,
    )

    form = load_form(default_form_path())
    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (90, 140, 200)).save(buffer, "PNG")
    custom = ExerciseDef(
        id="wall_sit_hold",
        title="Wall sit hold",
        purpose="Builds strength in the front of your thighs without moving the knee.",
        steps=("Lean your back on a wall.", "Slide down until your knees bend a little."),
        kind="isometric",
        tags=("loading",),
        pictures=(Picture.of(buffer.getvalue(), "image/png"),),
        origin="clinic",
    )
    library = shipped_library(form).merged([custom])
    entries: list[dict[str, Any]] = [
        {
            "exercise": eid,
            "sets": 3,
            "reps": 10,
            "side": "left" if n % 3 == 0 else "both",
            "instruction": "Go slowly and keep the pain at 3 out of 10 or less.",
        }
        for n, eid in enumerate(SHIPPED)
    ]
    entries.append({"exercise": "wall_sit_hold", "sets": 5, "hold_seconds": 30})
    program = {"exercises": entries, "note": "Holds first; we add speed in two weeks."}
    findings = findings_mod.load(form, ROOT / "examples" / "runner_left_proximal.json")
    findings = findings.with_value(form, "home_program", program)
    return ReportData(
        clinic=ClinicInfo("Riverside Physiotherapy", "12 Mill Lane", "+1 555 0100"),
        clinician=ClinicianInfo("Dana Physio", "PT"),
        patient=PatientInfo("Zoë Müller"),
        evaluation=EvaluationInfo(date=date(2026, 11, 20)),
        form=form,
        findings=findings,
        library=library,
    )


def probe(repeats: int) -> dict[str, Any]:
    """Time the builds in this process (call in a fresh one)."""
    started = _now_ms()
    from clinic_app.reports import build_handout

    data = _data()
    out: dict[str, Any] = {}
    for key, large in (("regular", False), ("large", True)):
        first = _now_ms()
        stream = io.BytesIO()
        build_handout(data, stream, large_print=large)
        first_ms = _now_ms() - first
        ms, cpu = [], []
        for _ in range(repeats):
            stream = io.BytesIO()
            t, c = _now_ms(), time.process_time()
            build_handout(data, stream, large_print=large)
            ms.append(_now_ms() - t)
            cpu.append((time.process_time() - c) * 1000)
        from pypdf import PdfReader

        pages = len(PdfReader(io.BytesIO(stream.getvalue())).pages)
        out[key] = {
            "ms": ms,
            "cpu_ms": cpu,
            "first_ms": first_ms,
            "pages": pages,
            "bytes": len(stream.getvalue()),
        }
    out["process_ms"] = _now_ms() - started
    return out


def _run(repeats: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--probe", str(repeats)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(bench: Any, h: ModuleType) -> None:
    """Add the handout rows to ``bench`` (``h``: run.py)."""
    Row, p50, pct = h.Row, h.p50, h.pct
    repeats = 5 if bench.args.quick else max(10, bench.args.report_repeats)
    r = _run(repeats)
    bench.raw["handout"] = r
    size = "8 exercises"
    for key, label in (
        ("regular", "8 exercises with pictures"),
        ("large", "the same, large print"),
    ):
        m = r[key]
        target = f"≤ {TARGET_MS:.0f}" if key == "regular" else ""
        ok = p50(m["ms"]) <= TARGET_MS if key == "regular" else None
        bench.rows.append(
            Row(
                f"handout: {label} (build_handout, warm)",
                size,
                p50(m["ms"]),
                pct(m["ms"], 95),
                "ms",
                target,
                ok,
                f"{m['pages']} pages, {m['bytes'] / 1024:.0f} KiB; 7 SVG drawings + 1 PNG;"
                f" CPU p50 {p50(m['cpu_ms']):.0f} ms; first build of the process"
                f" {m['first_ms']:.0f} ms; {len(m['ms'])} builds",
            )
        )


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    if argv[:1] == ["--probe"]:
        print(json.dumps(probe(int(argv[1]))))  # noqa: T201
        return 0
    r = _run(int(argv[0]) if argv else 20)
    for key in ("regular", "large"):
        ms = r[key]["ms"]
        print(  # noqa: T201
            f"handout {key}: p50 {statistics.median(ms):.1f} ms (CPU"
            f" {statistics.median(r[key]['cpu_ms']):.1f} ms), max {max(ms):.1f} ms,"
            f" first {r[key]['first_ms']:.0f} ms, {r[key]['pages']} pages"
            + (f" (target ≤ {TARGET_MS:.0f} ms)" if key == "regular" else "")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
