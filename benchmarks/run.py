"""clinic_app benchmarks: one command, one table, one JSON file.

    python benchmarks/run.py [--sizes 1000,10000,100000] [--repeats N] [--quick] [--json OUT]

Builds (once, then cached in benchmarks/.cache/) synthetic clinics of each size with 3 evaluations
per patient, and measures in one run: cold start against a bare Qt window, patient search per
keystroke, opening an evaluation, autosave (and that typing never waits for the database), the
factor engine, report PDFs against a minimal reportlab document, peak memory, and how start and
search grow with the clinic. Every figure is a median (and p95) over repeats, taken in fresh
processes where "cold" matters; nothing here asserts wall time. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import charting  # noqa: E402  (issue 18: the keyboard-only intake)
import clinics  # noqa: E402  (benchmarks/ is not a package)
import episode  # noqa: E402
import handout as handout_bench  # noqa: E402
import interop  # noqa: E402  (issue 20: FHIR/CSV export, patient import)
import library as library_bench  # noqa: E402  (issue 17: the exercise library)
import program_editor as program_editor_bench  # noqa: E402  (issue 17: the program editor)
import self_entry  # noqa: E402  (issue 16: the patient's self-entry screen)

WORK = clinics.CACHE / "work"
DEFAULT_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
SEARCH_SEQUENCES = ["müller", "smith", "łukasz", "gar", "nguyen a", "syn-0000", "m0000", "1984"]
QUICK_SEARCH_SEQUENCES = ["müller", "smith", "syn-0000", "m0000"]
CLOCK = time.CLOCK_MONOTONIC
FIRST_PAINT_MODULES = ("sqlalchemy", "pydantic", "yaml", "alembic", "reportlab")

TARGETS = {
    "start_ratio": 2.5,
    "search_p95_ms": 15.0,
    "open_ms": 50.0,
    "autosave_ms": 10.0,
    "engine_ms": 5.0,
    "clinician_report_ms": 150.0,
    "handout_ms": 150.0,
    "peak_mb": 250.0,
}


# --------------------------------------------------------------------------------------------
# Statistics and rows


def pct(samples: list[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between order statistics."""
    if not samples:
        return float("nan")
    xs = sorted(samples)
    k = (len(xs) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def p50(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


@dataclass
class Row:
    figure: str
    size: str
    p50: float | None
    p95: float | None
    unit: str
    target: str
    ok: bool | None  # None: informational, no target
    note: str = ""

    def cells(self) -> list[str]:
        def num(v: float | None) -> str:
            if v is None:
                return "–"
            if abs(v) >= 100:
                return f"{v:,.0f}"
            return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"

        ok = {True: "yes", False: "NO", None: ""}[self.ok]
        return [self.figure, self.size, num(self.p50), num(self.p95), self.unit, self.target, ok]


def table(rows: list[Row]) -> str:
    head = ["figure", "size", "p50", "p95", "unit", "target", "ok?"]
    cells = [head] + [r.cells() for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = []
    for n, c in enumerate(cells):
        lines.append(
            "  ".join(
                c[i].ljust(widths[i]) if i in (0, 1, 4, 5) else c[i].rjust(widths[i])
                for i in range(len(head))
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  {r.figure} [{r.size}]: {r.note}" for r in rows if r.note]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


def markdown_table(rows: list[Row]) -> str:
    head = ["figure", "size", "p50", "p95", "unit", "target", "ok?"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(out)


def calibrate(repeats: int = 5) -> list[float]:
    """ms for a fixed pure-Python loop: how fast this machine is *right now*.

    Compare it between runs before comparing absolute times (a shared machine under load runs
    everything 1.5-3x slower); ratios taken within one run need no such correction.
    """
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        total = 0
        for i in range(1_000_000):
            total += i % 7
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out


def size_label(n: int) -> str:
    return f"{n:,}"


# --------------------------------------------------------------------------------------------
# Machine and environment


def machine_info() -> dict[str, Any]:
    import sqlite3

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions: dict[str, str] = {}
    for mod, attr in (
        ("PySide6", "__version__"),
        ("sqlalchemy", "__version__"),
        ("reportlab", "Version"),
        ("pydantic", "VERSION"),
    ):
        try:
            versions[mod] = str(getattr(__import__(mod), attr))
        except ImportError:
            versions[mod] = "missing"
    try:
        from PySide6.QtCore import qVersion

        versions["Qt"] = qVersion()
    except ImportError:
        versions["Qt"] = "missing"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=child_cwd(), capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "clinic_app"],
        cwd=child_cwd(),
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
        "git_commit": commit,
        "clinic_app_uncommitted_changes": bool(dirty),
        **versions,
    }


# --tree DIR: measure the clinic_app of another checkout (e.g. a git worktree holding a proposed
# fix) with this harness and these clinics. The venv's editable install would always import
# /work/main's clinic_app, so measured processes get a sitecustomize that drops its finder.
TREE: Path | None = None
SITE_TEMPLATE = """import sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f)]
sys.path.insert(0, {tree!r})
"""


def tree_site(tree: Path) -> Path:
    site = WORK / "site" / hashlib.sha1(str(tree).encode()).hexdigest()[:10]
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(SITE_TEMPLATE.format(tree=str(tree)))
    return site


def child_cwd() -> Path:
    return TREE or ROOT


def child_env(size: int | None = None) -> dict[str, str]:
    """Environment of every measured process: offscreen Qt, private data and config folders."""
    env = dict(os.environ)
    if TREE is not None:
        env["PYTHONPATH"] = str(tree_site(TREE))
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["XDG_CONFIG_HOME"] = str(WORK / "config")  # QSettings: never the user's own
    env["CLINIC_APP_DATA_DIR"] = str(WORK / f"data-{size or 0}")
    env.pop("CLINIC_APP_DATABASE_URL", None)
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    return env


def mark_daily_backup_done(size: int) -> None:
    """An empty 'daily' backup named for today, so the app's first start of the day (which copies
    the whole database) is not mixed into the steady-state start figures. Measured separately."""
    backups = WORK / f"data-{size}" / "backups"
    backups.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    (backups / f"clinic-{stamp}-000000-000000-daily.db").touch()


def working_copies(sizes: list[int], log: Any) -> dict[int, Path]:
    """Fresh private copies of the cached clinics (the app and some probes write to them)."""
    out = {}
    for size in sizes:
        cached, built = clinics.ensure_clinic(size, log=log)
        if built is not None:
            log(f"  built {cached.name} in {built:.1f} s")
        dest = WORK / f"clinic-{size}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(dest) + suffix).unlink(missing_ok=True)
        clinics.working_copy(cached, dest)
        shutil.rmtree(WORK / f"data-{size}", ignore_errors=True)
        mark_daily_backup_done(size)
        out[size] = dest
    return out


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


# --------------------------------------------------------------------------------------------
# Running children


def run_probe(
    name: str, params: dict[str, Any], size: int | None = None, timeout: int = 600
) -> Any:
    cmd = [sys.executable, str(HERE / "probes.py"), name, json.dumps(params)]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=child_env(size), timeout=timeout, cwd=child_cwd()
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(
        f"probe {name} failed (exit {proc.returncode}):\n"
        f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )


def ui_entry_available() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("clinic_app.ui.app") is not None
    except ImportError:
        return False


def cold_start(
    mode: str, url: str = "", size: int | None = None, actions: str = ""
) -> dict[str, Any]:
    """One fresh ``python -c`` process: ms from just before spawn to READY (window with rows),
    LOADED (``is_ready``: database checked and attached, form, editor) and WARM (``is_warm``),
    the modules imported by READY, and its peak memory.

    ``loaded_ms`` equals ``ms`` when the window has no ``is_ready`` (``loaded_how`` "at-ready");
    ``warm_ms`` is None when the window has no ``is_warm`` (``warm_how`` "absent") or it did not
    warm up within the child's timeout ("timeout"). Bare/floor processes have neither.
    """
    code = (HERE / "startup_child.py").read_text(encoding="utf-8")
    args = [sys.executable, "-c", code, mode, url] + ([actions] if actions else [])
    t0 = time.clock_gettime_ns(CLOCK)
    proc = subprocess.run(
        args, capture_output=True, text=True, env=child_env(size), timeout=300, cwd=child_cwd()
    )
    ready = peak = loaded = warm = modules = sign_in = accepted = None
    loaded_how = warm_how = ""

    def stamp(parts: list[str]) -> tuple[int | None, str]:
        if len(parts) > 1 and parts[1].isdigit():
            return int(parts[1]), " ".join(parts[2:])
        return None, " ".join(parts[1:])

    for line in proc.stdout.splitlines():
        parts = line.split()
        if line.startswith("READY "):
            ready = int(parts[1])
        elif line.startswith("LOADED "):
            loaded, loaded_how = stamp(parts)
        elif line.startswith("WARM "):
            warm, warm_how = stamp(parts)
        elif line.startswith("MODULES "):
            modules = [m for m in parts[1].split(",") if m and m != "-"] if len(parts) > 1 else []
        elif line.startswith("PEAK "):
            peak = float(parts[1])
        elif line.startswith("SIGNIN "):  # a start with a sign-in window (issue 14)
            sign_in = int(parts[1])
        elif line.startswith("ACCEPTED "):  # the sign-in answered
            accepted = int(parts[1])
    if ready is None:
        raise RuntimeError(
            f"cold start ({mode}) never became ready (exit {proc.returncode}):\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        )
    return {
        "ms": (ready - t0) / 1e6,
        "loaded_ms": (loaded - t0) / 1e6 if loaded is not None else None,
        "loaded_how": loaded_how,
        "warm_ms": (warm - t0) / 1e6 if warm is not None else None,
        "warm_how": warm_how,
        "modules": modules,
        "peak_mb": peak,
        "sign_in_ms": (sign_in - t0) / 1e6 if sign_in is not None else None,
        "accepted_ms": (accepted - t0) / 1e6 if accepted is not None else None,
    }


# The sign-in start (issue 14): ``clinic_app.ui.app.Opening`` shows the sign-in window, then
# opens the database behind it. READY when the window has been shown and one event-loop turn
# ran; OPENED when the loader has the database open; then the window is closed unsigned.
SIGN_IN_CHILD = """
import os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
CLOCK = time.CLOCK_MONOTONIC
from PySide6.QtCore import QTimer
from clinic_app.ui import app as app_mod
qt = app_mod._prepare_app()
opening = app_mod.Opening(qt, sys.argv[1])
opening._needs_first_admin = lambda: False  # a clinic without accounts: still time the window
HEAVY = ("sqlalchemy", "pydantic", "yaml", "alembic", "reportlab")
at_shown = []

def shown():
    at_shown.append([m for m in HEAVY if m in sys.modules])
    def stamp():
        print("READY", time.clock_gettime_ns(CLOCK), flush=True)
        print("MODULES", ",".join(at_shown[0]) or "-", flush=True)
        def opened():
            if opening.db is not None or opening.failure is not None:
                print("OPENED", time.clock_gettime_ns(CLOCK), "failed" if opening.failure else "")
                opening.dialog.reject()
            else:
                QTimer.singleShot(2, opened)
        opened()
    QTimer.singleShot(0, stamp)

opening.sign_in_shown.connect(shown)
opening.run()
opening.close()
"""


def sign_in_start(url: str, size: int | None = None) -> dict[str, Any]:
    """One fresh process of the app's start up to the sign-in window: ms from just before spawn
    to the window shown (``ms``), to the database opened behind it (``opened_ms``), and the heavy
    modules imported when it showed. Reported by part D of issue 14; not in the default table."""
    args = [sys.executable, "-c", SIGN_IN_CHILD, url]
    t0 = time.clock_gettime_ns(CLOCK)
    proc = subprocess.run(
        args, capture_output=True, text=True, env=child_env(size), timeout=300, cwd=child_cwd()
    )
    ready = opened = None
    modules: list[str] = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if line.startswith("READY "):
            ready = int(parts[1])
        elif line.startswith("OPENED "):
            opened = int(parts[1])
        elif line.startswith("MODULES ") and len(parts) > 1:
            modules = [m for m in parts[1].split(",") if m and m != "-"]
    if ready is None:
        raise RuntimeError(
            f"the sign-in start never showed (exit {proc.returncode}):\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        )
    return {
        "ms": (ready - t0) / 1e6,
        "opened_ms": (opened - t0) / 1e6 if opened is not None else None,
        "modules": modules,
    }


# --------------------------------------------------------------------------------------------
# The figures


def first_paint_note(modules: list[list[str] | None]) -> str:
    """Which heavy modules were already imported when the window first showed rows."""
    seen = [m for m in modules if m is not None]
    if not seen:
        return ""
    counts = {name: sum(name in m for m in seen) for name in FIRST_PAINT_MODULES}
    present = [f"{n} ({c}/{len(seen)})" if c < len(seen) else n for n, c in counts.items() if c]
    absent = [n for n, c in counts.items() if not c]
    return (
        "modules at first paint: "
        + (", ".join(present) if present else "none")
        + (f"; not yet imported: {', '.join(absent)}" if absent else "")
    )


def warm_up_note(warm_ups: list[dict[str, Any]]) -> str:
    """How the windows of some probe processes warmed up before the measured step."""
    if not warm_ups:
        return ""
    hows = [w.get("how", "?") for w in warm_ups]
    if all(h == "absent" for h in hows):
        return "the main window has no is_warm: nothing to wait for (as cold)"
    waited = [w["ms"] for w in warm_ups if w.get("ms") is not None]
    counts = ", ".join(f"{h} {hows.count(h)}/{len(hows)}" for h in sorted(set(hows)))
    return f"warm-up: {counts}" + (f", waited p50 {p50(waited):,.0f} ms" if waited else "")


def later_start_rows(
    size: int,
    bare: list[float],
    ready: list[float],
    loaded: list[float | None],
    warm: list[float | None],
    how: list[tuple[str, str]],
) -> list[Row]:
    """Informational rows: the same starts until fully loaded (``is_ready``) and warmed up."""
    rows = []
    n = len(ready)
    for label, samples, kind in (
        ("start: fully loaded (database checked, form, editor)", loaded, 0),
        ("start: warmed up", warm, 1),
    ):
        got = [v for v in samples if v is not None]
        hows = sorted({h[kind] for h in how if h[kind]})
        if not got:
            why = (
                "n/a: the main window has no is_warm (no warm-up)"
                if "absent" in hows
                else f"n/a: not reached in {n} starts ({', '.join(hows) or 'not reported'})"
            )
            rows.append(Row(label, size_label(size), None, None, "ms", "", None, why))
            continue
        note = [
            f"{len(got)}/{n} starts" + (f" ({', '.join(hows)} in the rest)" if len(got) < n else "")
        ]
        if kind == 0 and "at-ready" in hows:
            note.append("the main window has no is_ready: same as the window with rows")
        after = [v - r for v, r in zip(samples, ready, strict=True) if v is not None]
        note.append(f"{p50(after):,.0f} ms after the window with rows (p50)")
        rows.append(
            Row(
                label,
                size_label(size),
                p50(got),
                pct(got, 95),
                "ms",
                f"{p50(got) / p50(bare):.2f}× bare",
                None,
                "; ".join(note),
            )
        )
    return rows


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rows: list[Row] = []
        self.raw: dict[str, Any] = {}
        self.started = time.perf_counter()

    def log(self, msg: str) -> None:
        print(f"[{time.perf_counter() - self.started:6.1f}s] {msg}", flush=True)

    # 1 + 8: cold start and its growth; 7: peak memory
    def starts(self, dbs: dict[int, Path]) -> None:
        a = self.args
        mode = "app" if ui_entry_available() else "proxy"
        pending = mode != "app"
        self.log(f"cold start: {a.start_repeats} rounds of bare Qt + app at {list(dbs)} ({mode})")
        bare: list[float] = []
        floor: list[float] = []
        bare_peak: list[float] = []
        app: dict[int, list[float]] = {s: [] for s in dbs}
        app_peak: dict[int, list[float]] = {s: [] for s in dbs}
        # per app start: LOADED / WARM times (None: not reached) and how, modules at first paint
        loaded: dict[int, list[float | None]] = {s: [] for s in dbs}
        warm: dict[int, list[float | None]] = {s: [] for s in dbs}
        how: dict[int, list[tuple[str, str]]] = {s: [] for s in dbs}
        modules: dict[int, list[list[str] | None]] = {s: [] for s in dbs}
        sign_in: dict[int, list[float]] = {s: [] for s in dbs}  # the sign-in window shown
        after_sign_in: dict[int, list[float]] = {s: [] for s in dbs}  # answered → rows
        # warm-up: the first process after a build pays for .pyc files and a cold page cache
        cold_start("bare")
        for size, path in dbs.items():
            cold_start(mode, url_of(path), size)
        for _ in range(a.start_repeats):  # interleaved, so drift hits all sides alike
            r = cold_start("bare")
            bare.append(r["ms"])
            bare_peak.append(r["peak_mb"] or 0)
            floor.append(cold_start("floor")["ms"])
            for size, path in dbs.items():
                r = cold_start(mode, url_of(path), size)
                app[size].append(r["ms"])
                app_peak[size].append(r["peak_mb"] or 0)
                loaded[size].append(r["loaded_ms"])
                warm[size].append(r["warm_ms"])
                how[size].append((r["loaded_how"], r["warm_how"]))
                modules[size].append(r["modules"])
                if r.get("sign_in_ms") is not None:
                    sign_in[size].append(r["sign_in_ms"])
                if r.get("accepted_ms") is not None:
                    after_sign_in[size].append(r["ms"] - r["accepted_ms"])
        self.raw["start"] = {
            "mode": mode,
            "bare_ms": bare,
            "floor_ms": floor,
            "app_ms": app,
            "app_loaded_ms": loaded,
            "app_warm_ms": warm,
            "app_loaded_warm_how": how,
            "app_modules_at_first_paint": modules,
            "bare_peak_mb": bare_peak,
            "app_peak_mb": app_peak,
            "app_sign_in_ms": sign_in,
            "app_after_sign_in_ms": after_sign_in,
        }
        what = "clinic_app.ui.app.run" if not pending else "PENDING UI: proxy window"
        self.rows.append(
            Row(
                "start: bare QMainWindow",
                "–",
                p50(bare),
                pct(bare, 95),
                "ms",
                "",
                None,
                "python -c, QApplication + QMainWindow shown offscreen",
            )
        )
        self.rows.append(
            Row(
                "start: bare + import sqlalchemy.orm, pydantic, yaml",
                "–",
                p50(floor),
                pct(floor, 95),
                "ms",
                f"{p50(floor) / p50(bare):.2f}× bare",
                None,
                "the stack's import floor: no app code, no database",
            )
        )
        for size in dbs:
            ratio = p50(app[size]) / p50(bare)
            if sign_in[size]:  # issue 14: the sign-in window is the first paint
                first = p50(sign_in[size])
                self.rows.append(
                    Row(
                        "start: sign-in window shown (first paint)",
                        size_label(size),
                        first,
                        pct(sign_in[size], 95),
                        "ms",
                        f"{first / p50(bare):.2f}× bare",
                        None,
                        "the clinic opens behind it; the window with rows below follows an"
                        " instant sign-in (no password typed or checked)",
                    )
                )
            if after_sign_in[size]:
                waited = after_sign_in[size]
                self.rows.append(
                    Row(
                        "start: sign-in answered → main window with rows",
                        size_label(size),
                        p50(waited),
                        pct(waited, 95),
                        "ms",
                        f"{p50(waited) / p50(bare):.2f}× bare",
                        None,
                        "what a clinician waits for once the password is checked (the clinic"
                        " already open behind the sign-in; argon2id's check is its own row)",
                    )
                )
            self.rows.append(
                Row(
                    f"start: main window with rows ({what})",
                    size_label(size),
                    p50(app[size]),
                    pct(app[size], 95),
                    "ms",
                    "",
                    None,
                    first_paint_note(modules[size]),
                )
            )
            self.rows.append(
                Row(
                    "start ratio app/bare (p50)",
                    size_label(size),
                    ratio,
                    None,
                    "×",
                    f"≤ {TARGETS['start_ratio']}×",
                    ratio <= TARGETS["start_ratio"],
                    "pending UI" if pending else "",
                )
            )
            self.rows += later_start_rows(
                size, bare, app[size], loaded[size], warm[size], how[size]
            )
        check = run_probe("password_check", {"repeats": max(3, a.start_repeats // 3)})
        if check["ms"]:
            t, m, par = check["params"]
            self.raw["password_check_ms"] = check["ms"]
            self.rows.append(
                Row(
                    "sign-in: password check (argon2id)",
                    "–",
                    p50(check["ms"]),
                    pct(check["ms"], 95),
                    "ms",
                    "",
                    None,
                    f"the app's parameters: time {t}, memory {m // 1024} MiB, lanes {par};"
                    " paid once per sign-in, on top of the row above",
                )
            )
        if a.first_of_day:
            for size, path in dbs.items():
                backups = WORK / f"data-{size}" / "backups"
                shutil.rmtree(backups, ignore_errors=True)
                r = cold_start(mode, url_of(path), size)
                shutil.rmtree(backups, ignore_errors=True)
                mark_daily_backup_done(size)
                self.raw.setdefault("start_first_of_day_ms", {})[size] = r["ms"]
                self.raw.setdefault("start_first_of_day_loaded_ms", {})[size] = r["loaded_ms"]
                fully = (
                    f"fully loaded at {r['loaded_ms']:,.0f} ms"
                    if r["loaded_ms"] is not None
                    else f"fully loaded: {r['loaded_how'] or 'not reported'}"
                )
                self.rows.append(
                    Row(
                        "start, first of the day (daily backup)",
                        size_label(size),
                        r["ms"],
                        None,
                        "ms",
                        "",
                        None,
                        f"1 run; informational; window with rows (p50 column), {fully}",
                    )
                )
        # 7: peak memory of the GUI process at the largest size, after some use
        big = max(dbs)
        peaks = [
            cold_start(mode, url_of(dbs[big]), big, "memory")["peak_mb"] or 0
            for _ in range(a.memory_repeats)
        ]
        self.raw["peak_mb"] = {"size": big, "after_use": peaks, "bare": bare_peak}
        self.rows.append(
            Row("peak RSS (VmHWM), bare QMainWindow", "–", p50(bare_peak), None, "MiB", "", None)
        )
        self.rows.append(
            Row(
                "peak RSS (VmHWM) of the app after use",
                size_label(big),
                p50(peaks),
                max(peaks),
                "MiB",
                f"≤ {TARGETS['peak_mb']:.0f}",
                p50(peaks) <= TARGETS["peak_mb"] if big >= 100_000 else None,
                "start, 10 searches, scroll 2,000 rows, open an evaluation"
                + ("; target is for 100,000" if big < 100_000 else ""),
            )
        )
        self._growth("start p50", {s: p50(v) for s, v in app.items()})

    def _growth(self, what: str, by_size: dict[int, float]) -> None:
        sizes = sorted(by_size)
        if len(sizes) < 2:
            return
        points = ", ".join(f"{size_label(s)}: {by_size[s]:.1f}" for s in sizes)
        factor = by_size[sizes[-1]] / by_size[sizes[0]]
        self.rows.append(
            Row(
                f"growth of {what}, {size_label(sizes[0])}→{size_label(sizes[-1])}",
                "×" + f"{sizes[-1] // sizes[0]} patients",
                factor,
                None,
                "×",
                "",
                None,
                f"ms at {points}",
            )
        )
        self.raw.setdefault("growth", {})[what] = by_size

    # 2: search
    def search(self, dbs: dict[int, Path]) -> None:
        seqs = QUICK_SEARCH_SEQUENCES if self.args.quick else SEARCH_SEQUENCES
        p95s = {}
        for size, path in dbs.items():
            self.log(
                f"search: {size:,} patients, {len(seqs)} typed queries x {self.args.search_repeats}"
            )
            r = run_probe(
                "search",
                {"url": url_of(path), "sequences": seqs, "repeats": self.args.search_repeats},
                size,
            )
            self.raw.setdefault("search", {})[size] = r
            ui, api = r["ui_ms"], r["api_ms"]
            p95s[size] = pct(ui, 95)
            target_applies = size >= 100_000
            slow = "; ".join(
                f"{s['text']!r} {s['max_ms']:.0f} ms ({s['rows']} rows)"
                for s in r["slowest_prefixes"][:3]
            )
            self.rows.append(
                Row(
                    "search: keystroke → model updated",
                    size_label(size),
                    p50(ui),
                    pct(ui, 95),
                    "ms",
                    f"p95 ≤ {TARGETS['search_p95_ms']:.0f}"
                    + ("" if target_applies else " (at 100k)"),
                    pct(ui, 95) <= TARGETS["search_p95_ms"] if target_applies else None,
                    f"{r['via']}; {len(ui)} keystrokes; slowest: {slow}"
                    + (
                        f"; + {r['debounce_ms']} ms debounce by design"
                        if r.get("debounce_ms")
                        else ""
                    ),
                )
            )
            self.rows.append(
                Row(
                    "search: records.search_patients only",
                    size_label(size),
                    p50(api),
                    pct(api, 95),
                    "ms",
                    "",
                    None,
                )
            )
            self.rows.append(
                Row(
                    "search: first keystroke (1 letter)",
                    size_label(size),
                    p50(r["first_key_ms"]),
                    pct(r["first_key_ms"], 95),
                    "ms",
                    "",
                    None,
                )
            )
            self.rows.append(
                Row(
                    "search: clear box → full list",
                    size_label(size),
                    p50(r["clear_ms"]),
                    pct(r["clear_ms"], 95),
                    "ms",
                    "",
                    None,
                )
            )
        self._growth("search p95", p95s)

    # 3: open evaluation
    def open_evaluation(self, dbs: dict[int, Path]) -> None:
        for size, path in dbs.items():
            self.log(f"open evaluation: {size:,} patients")
            ids = clinics.draft_evaluation_ids(path, 5)
            # made in a process of its own: the open probes must start as the app does, with no
            # form snapshot parsed before the window attached
            full_id = run_probe("prepare_full", {"url": url_of(path)}, size)["full_id"]
            r = run_probe(
                "open",
                {
                    "url": url_of(path),
                    "evaluation_ids": ids,
                    "repeats": self.args.open_repeats,
                    "full_id": full_id,
                },
                size,
            )
            # The first open of a process: after the window's warm-up (the target; the probe
            # above gave one) and at once after the window showed (no warm-up wait), each in
            # processes of its own.
            firsts = [r]
            cold_firsts = []
            for n in range(self.args.first_open_processes):
                for wait_warm, out in ((False, cold_firsts), (True, firsts)):
                    if wait_warm and n == 0:
                        continue
                    out.append(
                        run_probe(
                            "open",
                            {
                                "url": url_of(path),
                                "evaluation_ids": ids[:1],
                                "repeats": 0,
                                "wait_warm": wait_warm,
                                "full_id": full_id,
                            },
                            size,
                        )
                    )
            first_ms = [x["first_open_ms"] for x in firsts]
            cold_first_ms = [x["first_open_ms"] for x in cold_firsts]
            r["first_open_after_warm_up_ms"] = first_ms
            r["first_open_no_warm_up_wait_ms"] = cold_first_ms
            r["first_open_warm_ups"] = [x["warm_up"] for x in firsts]
            used = [x.get("first_open_used_prebuilt_view") for x in firsts]
            used_note = (
                f"; the window's prebuilt editor view used in {sum(bool(u) for u in used)}"
                f"/{len(used)}"
                if any(u is not None for u in used)
                else ""
            )
            self.raw.setdefault("open", {})[size] = r
            both = r["generated_ms"] + r["full_ms"]
            self.rows.append(
                Row(
                    "open evaluation into editor",
                    size_label(size),
                    p50(both),
                    pct(both, 95),
                    "ms",
                    f"≤ {TARGETS['open_ms']:.0f}",
                    p50(both) <= TARGETS["open_ms"],
                    r["via"],
                )
            )
            self.rows.append(
                Row(
                    f"  of which full evaluation ({r['full_items']} items)",
                    size_label(size),
                    p50(r["full_ms"]),
                    pct(r["full_ms"], 95),
                    "ms",
                    f"≤ {TARGETS['open_ms']:.0f}",
                    p50(r["full_ms"]) <= TARGETS["open_ms"],
                )
            )
            self.rows.append(
                Row(
                    "  first open after start (after warm-up)",
                    size_label(size),
                    p50(first_ms),
                    pct(first_ms, 95) if len(first_ms) > 1 else None,
                    "ms",
                    f"≤ {TARGETS['open_ms']:.0f}",
                    p50(first_ms) <= TARGETS["open_ms"],
                    "full evaluation; the process's first EvaluationView, opened once the"
                    f" window has warmed up; {warm_up_note(r['first_open_warm_ups'])}" + used_note,
                )
            )
            self.rows.append(
                Row(
                    "  first open, no warm-up wait",
                    size_label(size),
                    p50(cold_first_ms),
                    pct(cold_first_ms, 95) if len(cold_first_ms) > 1 else None,
                    "ms",
                    "",
                    None,
                    "informational: the same, opened at once after the window was shown,"
                    f" before its warm-up could run; {len(cold_first_ms)} process(es)",
                )
            )
            self.rows.append(
                Row(
                    "  of which records.get_evaluation",
                    size_label(size),
                    p50(r["get_ms"]),
                    pct(r["get_ms"], 95),
                    "ms",
                    "",
                    None,
                )
            )

    # 4: autosave
    def autosave(self, dbs: dict[int, Path]) -> None:
        for size, path in dbs.items():
            self.log(f"autosave: {size:,} patients")
            r = run_probe(
                "autosave", {"url": url_of(path), "repeats": self.args.autosave_repeats}, size
            )
            self.raw.setdefault("autosave", {})[size] = r
            s = r["save_changed_ms"]
            self.rows.append(
                Row(
                    "autosave: save_draft, 1 value changed",
                    size_label(size),
                    p50(s),
                    pct(s, 95),
                    "ms",
                    f"≤ {TARGETS['autosave_ms']:.0f}",
                    p50(s) <= TARGETS["autosave_ms"],
                )
            )
            self.rows.append(
                Row(
                    "autosave: save_draft, nothing changed",
                    size_label(size),
                    p50(r["save_unchanged_ms"]),
                    pct(r["save_unchanged_ms"], 95),
                    "ms",
                    "",
                    None,
                )
            )
            if size != max(dbs):
                continue
            k, ks = r["keystroke_ms"], r["keystroke_slow_db_ms"]
            stm = sum(r["keystroke_statements"]) + sum(r["keystroke_slow_db_statements"])
            off_path = stm == 0 and p50(ks) < p50(k) + 25
            self.rows.append(
                Row(
                    "keystroke → findings_changed",
                    size_label(size),
                    p50(k),
                    pct(k, 95),
                    "ms",
                    "0 SQL",
                    stm == 0,
                    f"{r['via']}; SQL statements during {len(k) + len(ks)} keystrokes:"
                    f" {stm}; autosave fired {r['autosave_after_ms']:.0f} ms after the"
                    f" key (timer {r['autosave_delay_ms']} ms; request → saved on the"
                    f" worker thread {r.get('autosave_write_ms') or 0:.0f} ms)"
                    f" with {r['autosave_statements']} statements"
                    f" ({r.get('autosave_statements_other_threads', '?')} off the GUI thread);"
                    " statements are counted on the GUI thread (the typing path)",
                )
            )
            self.rows.append(
                Row(
                    "keystroke with DB slowed 50 ms/statement",
                    size_label(size),
                    p50(ks),
                    pct(ks, 95),
                    "ms",
                    "≈ unchanged",
                    off_path,
                    "proof that typing never waits for the database",
                )
            )

    # 5: engine
    def engine(self) -> None:
        self.log("engine")
        r = run_probe(
            "engine",
            {
                "vignettes": ["all_normal", "runner_left_proximal"],
                "repeats": self.args.engine_repeats,
            },
        )
        self.raw["engine"] = r
        for name, v in r.items():
            self.rows.append(
                Row(
                    f"engine assess(): {name} ({v['items']} items)",
                    "–",
                    p50(v["ms"]),
                    pct(v["ms"], 95),
                    "ms",
                    f"≤ {TARGETS['engine_ms']:.0f}",
                    p50(v["ms"]) <= TARGETS["engine_ms"],
                    f"first call {v['first_ms']:.1f} ms",
                )
            )

    # the access log (issue 14): a view event's write, a patient's trail, the admin screen
    def access_log(self, dbs: dict[int, Path]) -> None:
        for size, path in dbs.items():
            self.log(f"access log: {size:,} patients")
            ids = clinics.draft_evaluation_ids(path, 5)
            r = run_probe(
                "access", {"url": url_of(path), "evaluation_ids": ids, "repeats": 50}, size
            )
            self.raw.setdefault("access", {})[size] = r
            for label, key in (
                ("access log: record a view (one write)", "write_ms"),
                ("access log: one patient's trail", "patient_trail_ms"),
                (f"access log: newest {r['clinic_page_rows']:,} events", "clinic_page_ms"),
            ):
                self.rows.append(
                    Row(label, size_label(size), p50(r[key]), pct(r[key], 95), "ms", "", None)
                )

    # 6: reports
    def reports(self, dbs: dict[int, Path]) -> None:
        n = self.args.report_cold_repeats
        small = min(dbs)
        self.log(
            f"reports: {n} cold and {n} after-warm-up processes per kind,"
            f" {self.args.report_repeats} warm builds"
        )
        cold: dict[str, list[float]] = {"clinician": [], "handout": [], "minimal": []}
        after_warm: dict[str, list[float]] = {"clinician": [], "handout": []}
        after_warm_raw: dict[str, list[dict[str, Any]]] = {"clinician": [], "handout": []}
        for _ in range(n):
            for kind in cold:
                r = run_probe("report_cold", {"kind": kind, "vignette": "runner_left_proximal"})
                cold[kind].append(r["first_ms"])
                if kind in after_warm:  # a window started and warmed up, then the first PDF
                    r = run_probe(
                        "report_after_warmup",
                        {
                            "kind": kind,
                            "vignette": "runner_left_proximal",
                            "url": url_of(dbs[small]),
                        },
                        small,
                    )
                    after_warm[kind].append(r["first_ms"])
                    after_warm_raw[kind].append(r)
        warm = run_probe(
            "report_warm", {"vignette": "runner_left_proximal", "repeats": self.args.report_repeats}
        )
        self.raw["reports"] = {
            "cold_ms": cold,
            "after_warm_up_ms": after_warm,
            "after_warm_up": after_warm_raw,
            "after_warm_up_size": small,
            "warm": warm,
        }
        wm = warm["ms"]
        self.rows.append(
            Row(
                "PDF minimal 1-page reportlab doc, warm",
                "–",
                p50(wm["minimal"]),
                pct(wm["minimal"], 95),
                "ms",
                "",
                None,
            )
        )
        self.rows.append(
            Row(
                "PDF minimal 1-page reportlab doc, first build",
                "–",
                p50(cold["minimal"]),
                pct(cold["minimal"], 95),
                "ms",
                "",
                None,
                "fresh process, includes reportlab.platypus import",
            )
        )
        for kind, target_key in (("clinician", "clinician_report_ms"), ("handout", "handout_ms")):
            label = "clinician report" if kind == "clinician" else "handout"
            target = TARGETS[target_key]
            self.rows.append(
                Row(
                    f"PDF {label}, warm",
                    "–",
                    p50(wm[kind]),
                    pct(wm[kind], 95),
                    "ms",
                    f"≤ {target:.0f}",
                    p50(wm[kind]) <= target,
                    f"{warm['pages'].get(kind, '?')} pages; "
                    f"{p50(wm[kind]) / p50(wm['minimal']):.1f}× the minimal doc",
                )
            )
            aw = after_warm[kind]
            runs = after_warm_raw[kind]
            preloaded = sum(bool(x.get("reportlab_loaded_by_window")) for x in runs)
            self.rows.append(
                Row(
                    f"PDF {label}, first build after app warm-up",
                    "–",
                    p50(aw),
                    pct(aw, 95),
                    "ms",
                    f"≤ {target:.0f}",
                    p50(aw) <= target,
                    f"fresh process: MainWindow on the {size_label(small)} clinic, shown and"
                    " warmed up, then the process's first PDF;"
                    f" {warm_up_note([x['warm_up'] for x in runs])};"
                    f" reportlab imported by the window in {preloaded}/{len(runs)}",
                )
            )
            self.rows.append(
                Row(
                    f"PDF {label}, first build, cold process (no app warm-up)",
                    "–",
                    p50(cold[kind]),
                    pct(cold[kind], 95),
                    "ms",
                    "",
                    None,
                    "informational: fresh process without the app's window, so reportlab"
                    " import + font registration fall on this build; "
                    f"{p50(cold[kind]) / p50(cold['minimal']):.1f}× the minimal doc",
                )
            )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--sizes",
        help="patient counts, comma-separated (default 1000,10000,100000; --quick: 1000,10000)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        help="cold starts per size (default 15; --quick 3); other figures scale from it",
    )
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats (~2 min)")
    p.add_argument(
        "--json",
        type=Path,
        default=HERE / "results" / "latest.json",
        help="where to write the results (default benchmarks/results/latest.json)",
    )
    p.add_argument(
        "--tree",
        type=Path,
        help="measure the clinic_app of this checkout (e.g. a git worktree with a proposed fix)",
    )
    p.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    p.add_argument(
        "--generator",
        choices=("storage", "fallback"),
        default="storage",
        help="clinic_app.storage.synthetic (default) or the harness's own generator,"
        " whose evaluations hold whole vignettes",
    )
    p.add_argument(
        "--only",
        help="comma-separated subset: start,search,open,autosave,engine,reports,access,episode,"
        "interop",
    )
    args = p.parse_args(argv)
    sizes = args.sizes or ",".join(map(str, QUICK_SIZES if args.quick else DEFAULT_SIZES))
    args.sizes = sorted({int(s.replace("_", "")) for s in sizes.split(",") if s.strip()})
    r = args.repeats or (3 if args.quick else 15)
    args.start_repeats = r
    args.memory_repeats = 1 if args.quick else 3
    args.first_of_day = not args.quick
    args.search_repeats = 1 if args.quick else max(1, r // 3)
    args.open_repeats = max(2, r // 2)
    args.autosave_repeats = 10 if args.quick else 5 * r
    args.engine_repeats = 50 if args.quick else 30 * r
    args.report_cold_repeats = 2 if args.quick else max(3, r // 2)
    args.report_repeats = 3 if args.quick else max(5, r)
    args.first_open_processes = 1 if args.quick else max(2, r // 5)
    args.only = set(args.only.split(",")) if args.only else None
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    global TREE
    TREE = args.tree.resolve() if args.tree else None
    if args.generator == "fallback":
        os.environ["CLINIC_BENCH_GENERATOR"] = "fallback"
    bench = Bench(args)
    info = machine_info()
    bench.log(
        f"{info['cpu']} ×{info['cores']}, Python {info['python']}, Qt {info['Qt']}, "
        f"SQLite {info['sqlite']}; sizes {args.sizes}; generator {clinics.generator_label()}"
    )
    WORK.mkdir(parents=True, exist_ok=True)
    # The harness's own database work (building and copying clinics) gets a data folder of its
    # own, made anew each run: never the user's, and no record there of a clinic file that was
    # built, renamed or deleted in an earlier run (the app refuses to recreate a database its data
    # folder remembers; storage/state.py).
    harness_data = WORK / "harness-data"
    shutil.rmtree(harness_data, ignore_errors=True)
    os.environ["CLINIC_APP_DATA_DIR"] = str(harness_data)
    # The clinics timed here are built as plain SQLite files (the benchmarks read them with
    # sqlite3); an encrypted clinic's extra cost is timed by its own figures.
    os.environ.setdefault("CLINIC_APP_ENCRYPTION", "off")
    cal_start = calibrate()
    dbs = working_copies(args.sizes, bench.log)
    figures: list[tuple[str, Any]] = [
        ("start", lambda: bench.starts(dbs)),
        ("search", lambda: bench.search(dbs)),
        ("open", lambda: bench.open_evaluation(working_copies(args.sizes, bench.log))),
        ("autosave", lambda: bench.autosave(dbs)),
        ("engine", bench.engine),
        ("access", lambda: bench.access_log(working_copies(args.sizes, bench.log))),
        ("reports", lambda: bench.reports(dbs)),
        ("episode", lambda: episode.measure(bench, sys.modules[__name__])),
        ("charting", lambda: charting.measure(bench, sys.modules[__name__])),
        ("handout", lambda: handout_bench.measure(bench, sys.modules[__name__])),
        ("self_entry", lambda: self_entry.measure(bench, sys.modules[__name__])),
        ("interop", lambda: interop.measure(bench, sys.modules[__name__])),
        ("library", lambda: library_bench.measure(bench, sys.modules[__name__])),
        ("program_editor", lambda: program_editor_bench.measure(bench, sys.modules[__name__])),
    ]
    want = args.only or {name for name, _ in figures}
    for name, measure in figures:
        if name not in want:
            continue
        try:
            measure()
        except Exception as exc:  # one broken figure (code in flux) must not lose the others
            import traceback

            bench.log(f"{name}: FAILED ({exc.__class__.__name__})")
            bench.raw.setdefault("errors", {})[name] = traceback.format_exc()
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            bench.rows.append(
                Row(f"{name}: ERROR", "–", None, None, "", "", False, first or repr(exc))
            )
    cal = cal_start + calibrate()
    bench.rows.append(
        Row(
            "calibration: 10⁶-step Python loop",
            "–",
            p50(cal),
            pct(cal, 95),
            "ms",
            "",
            None,
            f"machine speed now (start {p50(cal_start):.0f} ms, end {p50(cal[5:]):.0f} ms;"
            f" load average {os.getloadavg()[0]:.1f}); compare before comparing runs",
        )
    )
    elapsed = time.perf_counter() - bench.started
    out = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(
            [Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": info,
        "loadavg_at_end": os.getloadavg(),
        "generator": clinics.generator_label(),
        "tree": str(TREE or ROOT),
        "schema_revision": clinics.schema_revision(),
        "sizes": args.sizes,
        "targets": TARGETS,
        "elapsed_s": round(elapsed, 1),
        "rows": [asdict(r) for r in bench.rows],
        "raw": bench.raw,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False, default=str) + "\n")
    print()
    print(table(bench.rows))
    missed = [r for r in bench.rows if r.ok is False]
    print(f"\n{len(missed)} target(s) missed; run took {elapsed:.0f} s; results in {args.json}")
    if args.markdown:
        args.markdown.write_text(markdown_table(bench.rows) + "\n")
    # Missed targets are information, not failure (nothing asserts wall time on shared machines);
    # a figure that could not be measured at all is a failure.
    if "errors" in bench.raw:
        print(f"figures that failed to run: {', '.join(bench.raw['errors'])} (tracebacks in JSON)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
