"""Exercise library figures (issue 17): what the program editor waits for before it opens, and
an exchange between clinics.

``python benchmarks/library.py`` (or ``run.py --only library``) makes a SQLite clinic in a
temporary data folder with 100 exercises of its own (each with a 60 kB PNG) and times:

- **library: load** — ``records.load_library`` (the shipped exercises, parsed once a process,
  plus the clinic's newest versions with their pictures);
- **library: suggest program** — ``core.program.suggest_program`` for the proximal-tendinopathy
  runner (``examples/runner_left_proximal.json``), safety checks included;
- **library: search** — ``Library.search`` of one word over the 112 exercises;
- **library: export / import zip** — the 100 exercises to a zip and into a second clinic.

No target of its own: the editor's 50 ms covers these, reported so a slower one is seen.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CLINIC_EXERCISES = 100


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _picture(n: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((160, 120), 40 + n % 50).convert("RGB").save(out, "PNG")
    return out.getvalue()


def figures(repeats: int = 5) -> dict[str, Any]:
    from clinic_app.core import engine, findings
    from clinic_app.core.form import load_form
    from clinic_app.core.program import suggest_program
    from clinic_app.paths import default_form_path
    from clinic_app.storage import records as r
    from clinic_app.storage.database import open_database

    folder = Path(tempfile.mkdtemp(prefix="library-bench-"))
    old = {k: os.environ.get(k) for k in ("CLINIC_APP_DATA_DIR", "CLINIC_APP_ENCRYPTION")}
    os.environ["CLINIC_APP_DATA_DIR"] = str(folder / "data")
    os.environ["CLINIC_APP_ENCRYPTION"] = "off"
    try:
        form = load_form(default_form_path())
        db = open_database(f"sqlite:///{folder / 'clinic.db'}", backup=False)
        other = open_database(f"sqlite:///{folder / 'other.db'}", backup=False)
        try:
            sizes = []
            for n in range(CLINIC_EXERCISES):
                data = _picture(n)
                sizes.append(len(data))
                pic = r.add_picture(db, data, user="bench")
                r.add_exercise(
                    db,
                    {
                        "id": f"clinic:exercise_{n}",
                        "title": f"Clinic exercise {n}",
                        "purpose": "A clinic's own exercise for the figures.",
                        "steps": ["Start here.", "Move slowly.", "Come back."],
                        "region": "Hips",
                        "kind": "strength",
                        "tags": ["loading"],
                        "defaults": {"sets": 3, "reps": 10},
                        "pictures": [{"sha256": pic.sha256, "media_type": "image/png"}],
                    },
                    user="bench",
                )
            load, suggest, search, export, imported = [], [], [], [], []
            example = json.loads((REPO / "examples" / "runner_left_proximal.json").read_text())
            assessment = engine.assess(form, findings.validate(form, example))
            library = r.load_library(db, form)
            for _ in range(repeats):
                t = time.perf_counter()
                library = r.load_library(db, form)
                load.append(_ms(t))
                t = time.perf_counter()
                suggest_program(form, assessment, library)
                suggest.append(_ms(t))
                t = time.perf_counter()
                library.search("bridge")
                search.append(_ms(t))
            zipped = folder / "library.zip"
            for _ in range(max(2, repeats // 2)):
                t = time.perf_counter()
                r.export_library(db, zipped)
                export.append(_ms(t))
                t = time.perf_counter()
                r.import_library(other, zipped, user="bench")
                imported.append(_ms(t))
            return {
                "exercises": len(library),
                "picture_kb": statistics.mean(sizes) / 1024,
                "zip_mb": zipped.stat().st_size / 1e6,
                "load_ms": load,
                "suggest_ms": suggest,
                "search_ms": search,
                "export_ms": export,
                "import_ms": imported,
            }
        finally:
            db.close()
            other.close()
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(folder, ignore_errors=True)


def measure(bench: Any, h: ModuleType) -> None:
    """Add the library rows to ``bench`` (``h``: run.py)."""
    Row, p50, pct = h.Row, h.p50, h.pct
    f = figures(3 if bench.args.quick else 7)
    bench.raw["library"] = f
    size = f"{f['exercises']} exercises"
    for label, key, note in (
        (
            "library: load (shipped + clinic's, pictures)",
            "load_ms",
            f"{f['picture_kb']:.0f} kB PNG each",
        ),
        ("library: suggest program (runner)", "suggest_ms", "safety checks included"),
        ("library: search one word", "search_ms", ""),
        ("library: export zip", "export_ms", f"{f['zip_mb']:.1f} MB zip"),
        ("library: import zip (second time: unchanged)", "import_ms", "one transaction"),
    ):
        bench.rows.append(Row(label, size, p50(f[key]), pct(f[key], 95), "ms", "", None, note))


def main() -> int:
    f = figures()
    for key in ("load_ms", "suggest_ms", "search_ms", "export_ms", "import_ms"):
        values = f[key]
        print(f"{key:12} p50 {statistics.median(values):8.2f} ms  max {max(values):8.2f} ms")
    print(
        f"{f['exercises']} exercises, {f['picture_kb']:.0f} kB a picture, zip {f['zip_mb']:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
