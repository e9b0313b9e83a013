"""The start of an encrypted clinic (the default for a new clinic, issue 14): what a clinician
waits for once they press Enter on the sign-in window.

    python benchmarks/encrypted_start.py [--repeats 5] [--typing-ms 1500] [--tree WORKTREE]

Builds a small encrypted demo clinic with one account in a temporary data folder (through the
installed ``clinic-app`` commands), then starts the real app (``clinic_app.ui.app.run``) in
fresh processes, offscreen. Each child waits ``--typing-ms`` after the sign-in window showed
(a clinician typing their login and password), types them and presses the button, and prints:

- **sign-in window shown**: ms from just before the process started;
- **Enter → window with rows**: the passphrase unwrapped with the password (argon2id), the
  file opened (SQLCipher key, integrity check), the password checked, the main window built;
- the same on the **first sign-in of the day** (the backups folder emptied first: the daily
  backup is due).

An encrypted file cannot be opened before the password unwraps its key, so unlike a plain one
(``run.py``'s start rows) nothing of the clinic is opened while the clinician types; since
session 9 the form and the modules are loaded meanwhile, and the daily backup follows the
window. ``--tree``: measure the clinic_app of another checkout (``PYTHONPATH``), for an A/B.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSPHRASE = "benchmark clinic passphrase"
LOGIN, PASSWORD = "bench", "benchmark password 42"

CHILD = """
import os, sys, time
CLOCK = time.CLOCK_MONOTONIC
typing_ms = int(sys.argv[1])
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMainWindow
from clinic_app.ui import app as app_mod
at = {}

def rows_shown():
    for top in QApplication.topLevelWidgets():
        if isinstance(top, QMainWindow) and top.isVisible():
            for view in top.findChildren(QAbstractItemView):
                model = view.model()
                while model is not None and hasattr(model, "sourceModel"):
                    model = model.sourceModel()
                if model is not None and model.rowCount() > 0 and view.isVisible():
                    return True
    return False

def poll():
    if rows_shown():
        print("SHOWN", at["shown"], "SUBMIT", at["submit"], "ROWS", time.clock_gettime_ns(CLOCK))
        sys.stdout.flush()
        os._exit(0)
    QTimer.singleShot(1, poll)

original = app_mod.Opening.run

def run(opening):
    def shown():
        at["shown"] = time.clock_gettime_ns(CLOCK)
        def submit():
            panel = opening.dialog.panel
            panel.login.setText(sys.argv[2])
            panel.password.setText(sys.argv[3])
            at["submit"] = time.clock_gettime_ns(CLOCK)
            QTimer.singleShot(0, poll)
            panel.submit()
        QTimer.singleShot(typing_ms, submit)
    opening.sign_in_shown.connect(shown)
    return original(opening)

app_mod.Opening.run = run
app_mod.run()
"""


def clinic_app(env: dict[str, str], *args: str, stdin: str = "") -> None:
    cmd = [sys.executable, "-m", "clinic_app", *args]
    done = subprocess.run(cmd, input=stdin, text=True, capture_output=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"clinic-app {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def p50(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--typing-ms", type=int, default=1500)
    p.add_argument("--tree", type=Path, help="a checkout whose clinic_app to measure")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="clinic-encrypted-start-"))
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        CLINIC_APP_DATA_DIR=str(work / "data"),
        XDG_CONFIG_HOME=str(work / "config"),
        CLINIC_APP_ENCRYPTION="on",
        CLINIC_APP_PASSPHRASE=PASSPHRASE,  # the setup only (documented as for tests/scripts)
    )
    env.pop("CLINIC_APP_DATABASE_URL", None)
    if args.tree is not None:
        env["PYTHONPATH"] = str(args.tree.resolve())
    try:
        clinic_app(env, "demo")
        clinic_app(
            env, "user", "add", LOGIN, "--role", "admin", "--role", "therapist",
            "--password-stdin", stdin=PASSWORD + "\n",
        )  # fmt: skip
        child_env = {k: v for k, v in env.items() if k != "CLINIC_APP_PASSPHRASE"}
        shown: list[float] = []
        waited: dict[bool, list[float]] = {False: [], True: []}
        for n in range(args.repeats * 2 + 1):
            first_of_day = n % 2 == 1
            if first_of_day:
                shutil.rmtree(work / "data" / "backups", ignore_errors=True)
            t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(args.typing_ms), LOGIN, PASSWORD],
                capture_output=True, text=True, env=child_env, timeout=120, check=False,
            )  # fmt: skip
            line = next((s for s in out.stdout.splitlines() if s.startswith("SHOWN ")), None)
            if line is None:
                raise SystemExit(f"the start did not reach the window:\n{out.stderr[-3000:]}")
            parts = line.split()
            at_shown, submit, rows = int(parts[1]), int(parts[3]), int(parts[5])
            if n == 0:
                continue  # the first process pays for a cold page cache
            shown.append((at_shown - t0) / 1e6)
            waited[first_of_day].append((rows - submit) / 1e6)
        print(f"encrypted clinic, {args.repeats} starts each, typing {args.typing_ms} ms")
        print(f"  sign-in window shown                      p50 {p50(shown):7.0f} ms")
        print(f"  Enter → window with rows                  p50 {p50(waited[False]):7.0f} ms")
        print(f"  Enter → window with rows, first of day    p50 {p50(waited[True]):7.0f} ms")
        print(f"  (all: {sorted(round(v) for v in waited[False] + waited[True])})")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
