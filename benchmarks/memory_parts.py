"""What the app's peak memory is made of: ``run.py``'s "peak RSS of the app after use", measured
again with one part of the app taken out at a time, so a maintainer can weigh each part's cost.

    python benchmarks/memory_parts.py [--sizes 1000,100000] [--repeats 3]

Each process is ``run.py``'s memory start (``startup_child.py`` with the action ``memory``: the
real entry, warmed up, ten searches, 2,000 rows scrolled, an evaluation opened, then VmHWM) on a
private copy of the cached clinic, with, before the app's code runs:

- **as shipped**: nothing changed;
- **no pages ahead**: the editor builds no page ahead of use (issue 18 builds every page of the
  prepared evaluation while the therapist looks at the list, so moving between pages during an
  intake never builds one on a keystroke);
- **no style sheet**: the app's style sheet (``resources/style.qss``) is empty. Qt keeps state
  for every widget a style sheet styles, whatever the sheet holds (~10 KiB a widget here);
- **neither**: both.

plus the bare ``QMainWindow`` (``run.py``'s baseline). The variants are interleaved, round by
round. Nothing is asserted: the table is the output. Memory, unlike time, barely depends on the
machine's load, so a few rounds are enough.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import clinics  # noqa: E402 - benchmarks/ is not a package

# Runs before startup_child.py's text, in the same process: it replaces one part of the app
# (named in CLINIC_BENCH_WITHOUT) before the app's code uses it.
PRELUDE = """
import os as _os
_without = set(filter(None, _os.environ.get("CLINIC_BENCH_WITHOUT", "").split(",")))
if "ahead" in _without:
    from clinic_app.ui import editor as _editor

    def _no_pages_ahead(self):
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, self, self.built_ahead.emit)  # "built", having built nothing

    _editor.EvaluationEditor.build_pages_ahead = _no_pages_ahead
if "sheet" in _without:
    from clinic_app.ui import app as _app

    _app.style_sheet = lambda: ""
"""

VARIANTS = {
    "as shipped": "",
    "no pages ahead": "ahead",
    "no style sheet": "sheet",
    "neither": "ahead,sheet",
}


def peak(mode: str, url: str, env: dict[str, str]) -> float:
    code = PRELUDE + (HERE / "startup_child.py").read_text(encoding="utf-8")
    args = [sys.executable, "-c", code, mode, url] + (["memory"] if mode == "app" else [])
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("PEAK "):
            return float(line.split()[1])
    raise SystemExit(f"{mode} printed no peak (exit {out.returncode}):\n{out.stderr[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,100000")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    work = Path(tempfile.mkdtemp(prefix="clinic-memory-parts-"))
    try:
        urls, envs = {}, {}
        for size in sizes:
            cached, _built = clinics.ensure_clinic(size)
            copy = work / f"clinic-{size}.db"
            shutil.copyfile(cached, copy)
            data = work / f"data-{size}"
            backups = data / "backups"
            backups.mkdir(parents=True)
            # today's daily backup "done": a start that copies the clinic is another figure
            stamp = datetime.now(UTC).strftime("%Y%m%d")
            (backups / f"clinic-{stamp}-000000-000000-daily.db").touch()
            urls[size] = f"sqlite:///{copy}"
            env = dict(os.environ)
            env.update(
                QT_QPA_PLATFORM="offscreen",
                XDG_CONFIG_HOME=str(work / "config"),
                CLINIC_APP_DATA_DIR=str(data),
                CLINIC_APP_ENCRYPTION="off",
            )
            env.pop("CLINIC_APP_DATABASE_URL", None)
            envs[size] = env
        bare: list[float] = []
        got: dict[tuple[int, str], list[float]] = {}
        for _round in range(args.repeats):
            bare.append(peak("bare", "", envs[sizes[0]]))
            for size in sizes:
                for name, without in VARIANTS.items():
                    env = dict(envs[size], CLINIC_BENCH_WITHOUT=without)
                    got.setdefault((size, name), []).append(peak("app", urls[size], env))
        base = statistics.median(bare)
        print(f"peak RSS (VmHWM) after use, MiB, p50 of {args.repeats}; bare window {base:.1f}")
        print(f"{'':>10}  {'variant':<16}{'MiB':>8}{'× bare':>8}{'Δ shipped':>11}")
        for size in sizes:
            shipped = statistics.median(got[(size, "as shipped")])
            for name in VARIANTS:
                mib = statistics.median(got[(size, name)])
                print(f"{size:>10,}  {name:<16}{mib:8.1f}{mib / base:8.2f}{mib - shipped:+11.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
