"""Parent side of the crash test: prepare a database, start the GUI driver, SIGKILL it, check.

One run (:func:`crash_once`): a fresh SQLite database in its own folder with a clinician, a
patient and a draft evaluation of the shipped form (or, ``kind="visit"``, a draft visit note of the
patient's episode: an initial evaluation and a visit before it, so its re-measured page is
there); ``crash_driver`` types the plan into the real window; at a random moment (seeded) the
process gets SIGKILL; then the database is checked (``PRAGMA integrity_check``), reopened the
way the app starts (``open_database``), and the stored findings are compared with the keystroke log:

- the stored findings must be exactly one of the states the editor held (or the starting state):
  anything else would be data silently changed;
- every keystroke made more than ``window`` seconds before the kill must be in it;
- the *loss window* of a run is the age, at the kill, of the oldest keystroke that is not in the
  database (0 when nothing was lost).

Used by ``tests/reliability/test_crash.py`` and ``scripts/crash_soak.py``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFAULT_RUNS = 20
RUNS_ENV = "RELIABILITY_CRASH_RUNS"
JOBS_ENV = "RELIABILITY_CRASH_JOBS"
DEFAULT_JOBS = 3
SEED_ENV = "RELIABILITY_SEED"
DEFAULT_SEED = 20261121
READY_TIMEOUT = 60.0
# Keystrokes 0.1 s apart; after each measured value a pause longer than the autosave delay (the
# clinician reads the next measurement), then a note typed without a pause. Numbers are typed into
# the editor's number fields, the note into a free-text field.
PACE = 0.1
FIELD_PAUSE = 1.1
PLAN_STEPS: tuple[dict[str, Any], ...] = (
    {"item": "hip_flexor_force", "side": "left", "text": "212", "pause_after": FIELD_PAUSE},
    {"item": "hip_flexor_force", "side": "right", "text": "248", "pause_after": FIELD_PAUSE},
    {"item": "hip_abd_force", "side": "left", "text": "163", "pause_after": FIELD_PAUSE},
    {"item": "assessment", "side": None, "text": "L proximal, overload", "pause_after": 0},
)
# A visit note: a number on its first page, a bilateral measure on its "Re-measured today" page
# (picked because the visit before re-measured it), then the patient's report typed straight on.
VISIT_PLAN_STEPS: tuple[dict[str, Any], ...] = (
    {"item": "hep_days", "side": None, "text": "5", "pause_after": FIELD_PAUSE},
    {"item": "nordic_force", "side": "left", "text": "245", "pause_after": FIELD_PAUSE},
    {"item": "nordic_force", "side": "right", "text": "270", "pause_after": FIELD_PAUSE},
    {
        "item": "visit_report_text",
        "side": None,
        "text": "Stairs easier, sore after",
        "pause_after": 0,
    },
)
PLANS: dict[str, tuple[dict[str, Any], ...]] = {"evaluation": PLAN_STEPS, "visit": VISIT_PLAN_STEPS}
# Slack on top of the autosave delay: the save itself (~20 ms), timer and scheduling jitter.
SLACK = 0.5
# Every RESTART_EVERY-th run starts the real app again on the killed database before any check.
RESTART_EVERY = 4


def plan_duration(kind: str = "evaluation") -> float:
    return 0.2 + sum(len(s["text"]) * PACE + s["pause_after"] for s in PLANS[kind])


def runs_setting() -> int:
    raw = os.environ.get(RUNS_ENV, "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else DEFAULT_RUNS


def seed_setting() -> int:
    raw = os.environ.get(SEED_ENV, "")
    return int(raw) if raw.strip().lstrip("-").isdigit() else DEFAULT_SEED


def autosave_window() -> float:
    """Seconds a keystroke may stay unsaved: the autosave delay plus ``SLACK``.

    A debounce restarts its timer on every key, so under steady typing the delay alone bounds
    nothing; an autosaver that also saves at least every ``AUTOSAVE_MAX_WAIT_MS`` while typing
    goes on (if it declares one) is held to that bound instead.
    """
    from clinic_app.ui import autosave

    bound = max(autosave.AUTOSAVE_DELAY_MS, getattr(autosave, "AUTOSAVE_MAX_WAIT_MS", 0))
    return bound / 1000 + SLACK


def jobs_setting() -> int:
    """Runs at a time (``RELIABILITY_CRASH_JOBS``, default 3): each run mostly waits."""
    raw = os.environ.get(JOBS_ENV, "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else DEFAULT_JOBS


def crash_many(
    base: Path, runs: int, seed: int, jobs: int, kind: str = "evaluation"
) -> list[RunResult]:
    """``runs`` crash runs (seeds ``seed``, ``seed + 1``, ...), ``jobs`` at a time, in run order,
    typing into an evaluation or (``kind="visit"``) a visit note."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(
                crash_once,
                base / f"run{n:03d}",
                n,
                seed + n,
                restart=n % RESTART_EVERY == 0,
                kind=kind,
            )
            for n in range(runs)
        ]
        return [f.result() for f in futures]


@dataclass
class Prepared:
    folder: Path
    db_file: Path
    clinician: int
    patient: int
    evaluation: int


# The parallel runs do their in-process database work one at a time: Alembic keeps its migration
# context in module globals, so two threads must not migrate at once (the app never does).
_IN_PROCESS = threading.Lock()


def prepare(folder: Path, kind: str = "evaluation") -> Prepared:
    """A new database with a clinician, a patient and an empty draft of the shipped form (an
    evaluation, or a visit note of the patient's episode)."""
    with _IN_PROCESS:
        return _prepare(folder, kind)


def _prepare(folder: Path, kind: str = "evaluation") -> Prepared:
    from clinic_app.core.form import load_form
    from clinic_app.paths import default_form_path
    from clinic_app.storage import records
    from clinic_app.storage.database import open_database

    folder.mkdir(parents=True, exist_ok=True)
    db_file = folder / "clinic.db"
    with open_database(f"sqlite:///{db_file}", backup=False) as db:
        clinician = records.save_clinician(
            db, records.ClinicianInfo(name="Dana Crash", credentials="PT"), user="setup"
        )
        patient = records.create_patient(
            db,
            records.PatientFields(given_name="Kim", family_name="Runner", mrn="CRASH-1"),
            user="setup",
        )
        form = load_form(default_form_path())
        evaluation = records.start_evaluation(
            db, patient.id, form, user="setup", clinician_id=clinician.id
        )
        if kind == "visit":
            evaluation = _visit_after(db, form, evaluation, clinician.id)
    return Prepared(folder, db_file, clinician.id, patient.id, evaluation.id)


def _visit_after(db: Any, form: Any, initial: Any, clinician_id: int) -> Any:
    """A new visit note after ``initial`` (given values) and a first visit that re-measured the
    Nordic: the new note opens with its "Re-measured today" page."""
    from datetime import timedelta

    from clinic_app.storage import records

    values = {"involved_side": "left", "nordic_force": {"left": 210, "right": 280}}
    records.save_draft(db, initial.id, {"values": values}, initial.version, user="setup")
    episode = records.get_evaluation(db, initial.id).episode_id
    earlier = None
    for days in (7, 14):
        visit = records.start_evaluation(
            db,
            initial.patient_id,
            form,
            user="setup",
            kind="visit",
            clinician_id=clinician_id,
            eval_date=initial.eval_date + timedelta(days=days),
            episode_id=episode,
        )
        if earlier is None:
            redo = {"values": {"nordic_force": {"left": 230}}}
            records.save_draft(db, visit.id, redo, visit.version, user="setup")
            earlier = visit
    return visit


@dataclass
class RunResult:
    run: int
    seed: int
    kill_after: float  # seconds after the driver was ready
    mode: str = ""
    keys_typed: int = 0
    keys_lost: int = 0
    loss_window: float = 0.0  # age at the kill of the oldest keystroke not in the database
    saves_logged: int = 0
    integrity: str = ""
    restarted: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        state = "ok" if self.ok else "FAIL: " + "; ".join(self.problems)
        restarted = " +restart" if self.restarted else ""
        return (
            f"run {self.run:3d} seed {self.seed} kill at {self.kill_after:5.2f} s{restarted} "
            f"[{self.mode}] typed {self.keys_typed:2d} lost {self.keys_lost:2d} "
            f"loss window {self.loss_window:5.2f} s saves {self.saves_logged:2d}: {state}"
        )


def read_log(path: Path) -> list[dict[str, Any]]:
    """The complete lines of the driver's log (a line cut by the kill is ignored)."""
    entries = []
    for raw in path.read_bytes().split(b"\n"):
        if not raw.strip():
            continue
        try:
            entries.append(json.loads(raw))
        except json.JSONDecodeError:
            continue
    return entries


def integrity(db_file: Path) -> str:
    conn = sqlite3.connect(db_file)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    return "; ".join(str(r[0]) for r in rows)


def stored_values(prepared: Prepared) -> Mapping[str, Any]:
    """Reopen the database as the app does at start and read the evaluation's findings."""
    from clinic_app.storage import records
    from clinic_app.storage.database import open_database

    # backup=False: the soak script runs without a private data folder; the start-up backup is
    # not what is being checked here.
    with _IN_PROCESS, open_database(f"sqlite:///{prepared.db_file}", backup=False) as db:
        return dict(records.get_evaluation(db, prepared.evaluation).findings.get("values", {}))


def analyse(
    result: RunResult,
    entries: Sequence[dict[str, Any]],
    t_kill: float,
    db_values: Mapping[str, Any],
    window: float,
) -> None:
    ready = next(e for e in entries if e["kind"] == "ready")
    result.mode = ready["mode"]
    keys = [e for e in entries if e["kind"] == "key" and e["t"] <= t_kill]
    result.keys_typed = len(keys)
    result.saves_logged = sum(1 for e in entries if e["kind"] == "saved" and e.get("changed"))
    states = [ready["values"]] + [k["values"] for k in keys]
    matches = [i for i, values in enumerate(states) if values == db_values]
    if not matches:
        result.problems.append(
            f"the database holds findings that were never on screen: {dict(db_values)!r}"
        )
        return
    last = max(matches)  # state index: 0 = before the first key, i = after key i
    lost = keys[last:]
    result.keys_lost = len(lost)
    if lost:
        result.loss_window = t_kill - lost[0]["t"]
        if result.loss_window > window:
            result.problems.append(
                f"{len(lost)} keystrokes lost, the oldest typed {result.loss_window:.2f} s "
                f"before the kill (> autosave window {window:.2f} s): first lost "
                f"{lost[0]['item']}={lost[0]['typed']!r}"
            )


def _driver_command(prepared: Prepared, log: Path, plan: Path, mode: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tests.reliability.crash_driver",
        "--db",
        str(prepared.db_file),
        "--evaluation",
        str(prepared.evaluation),
        "--patient",
        str(prepared.patient),
        "--clinician",
        str(prepared.clinician),
        "--log",
        str(log),
        "--plan",
        str(plan),
        "--mode",
        mode,
    ]


def restart_app(prepared: Prepared, plan: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """Start the app again on the killed database; what its editor shows for the evaluation."""
    log = prepared.folder / "restart.jsonl"
    proc = subprocess.run(
        [*_driver_command(prepared, log, plan, "auto"), "--restart-check"],
        cwd=REPO,
        env=dict(env),
        capture_output=True,
        timeout=READY_TIMEOUT,
        check=False,
    )
    loaded = [e for e in read_log(log) if e["kind"] == "loaded"] if log.exists() else []
    if proc.returncode != 0 or not loaded:
        raise RuntimeError(
            f"the app did not start again after the kill ({proc.returncode}):\n"
            + proc.stderr.decode(errors="replace")[-3000:]
        )
    return loaded[-1]


def crash_once(
    folder: Path,
    run: int,
    seed: int,
    *,
    mode: str = "auto",
    restart: bool = False,
    kind: str = "evaluation",
) -> RunResult:
    """One typed session killed with SIGKILL at a random moment, then checked.

    ``restart``: before anything else touches the database, start the app on it again and check
    that its editor shows what the database holds.
    """
    rng = random.Random(seed)
    kill_after = rng.uniform(0.3, plan_duration(kind) + 1.0)
    result = RunResult(run=run, seed=seed, kill_after=kill_after)
    prepared = prepare(folder, kind)
    log = folder / "keys.jsonl"
    plan = folder / "plan.json"
    plan.write_text(json.dumps({"pace": PACE, "steps": list(PLANS[kind])}), encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CLINIC_APP_DATA_DIR=str(folder / "data"))
    env.pop("CLINIC_APP_DATABASE_URL", None)
    stderr = open(folder / "driver.stderr", "wb")  # noqa: SIM115 - closed below
    try:
        proc = subprocess.Popen(
            _driver_command(prepared, log, plan, mode),
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while not log.exists() or not any(e["kind"] == "ready" for e in read_log(log)):
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"driver exited with {proc.returncode} before typing:\n"
                        + (folder / "driver.stderr").read_text(errors="replace")[-3000:]
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(f"driver not ready after {READY_TIMEOUT:.0f} s")
                time.sleep(0.02)
            ready = next(e for e in read_log(log) if e["kind"] == "ready")
            # Waiting for a moment in time, not for a condition: this is the random kill point.
            time.sleep(max(0.0, ready["t"] + kill_after - time.monotonic()))
            if proc.poll() is not None:
                raise RuntimeError(
                    f"driver died by itself with {proc.returncode}:\n"
                    + (folder / "driver.stderr").read_text(errors="replace")[-3000:]
                )
            t_kill = time.monotonic()
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    finally:
        stderr.close()
    if proc.returncode != -signal.SIGKILL:
        result.problems.append(f"driver ended with {proc.returncode}, not SIGKILL")
    shown: dict[str, Any] | None = restart_app(prepared, plan, env) if restart else None
    result.restarted = restart
    result.integrity = integrity(prepared.db_file)
    if result.integrity != "ok":
        result.problems.append(f"integrity_check: {result.integrity}")
        return result
    entries = read_log(log)
    for entry in entries:
        if entry["kind"] in ("failed", "conflicted") and entry["t"] <= t_kill:
            result.problems.append(f"autosave {entry['kind']}: {entry['text']}")
    stored = stored_values(prepared)
    if shown is not None and shown["values"] != stored:
        result.problems.append(
            f"after the restart the editor showed {shown['values']!r}, the database holds "
            f"{dict(stored)!r}"
        )
    analyse(result, entries, t_kill, stored, autosave_window())
    return result


def summary(results: Sequence[RunResult], window: float) -> str:
    windows = [r.loss_window for r in results]
    failed = [r for r in results if not r.ok]
    mode = ",".join(sorted({r.mode for r in results}))
    within = [r.loss_window for r in results if r.ok] or [0.0]
    return (
        f"crash test: {len(results)} SIGKILL runs [{mode}], {len(failed)} failed; "
        f"keystrokes lost {sum(r.keys_lost for r in results)} of "
        f"{sum(r.keys_typed for r in results)}; loss window max {max(windows):.2f} s, "
        f"median {statistics.median(windows):.2f} s (allowed {window:.2f} s; "
        f"max {max(within):.2f} s over the runs that passed)"
    )
