"""Running a piece of the app in a child process at a given Qt scale factor.

Qt fixes the scale factor (``QT_SCALE_FACTOR``) when it starts, so a test of the layout at 200%
starts a fresh interpreter with the code to run and reads back the JSON line it printed last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_scaled(
    code: str,
    args: Sequence[str | Path] = (),
    *,
    scale: str,
    folder: Path,
    screen: tuple[int, int] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: int = 240,
) -> dict[str, Any]:
    """Run ``code`` (``python -c``) with ``args`` at ``scale`` and return its last stdout line,
    parsed as JSON.

    ``screen``: the offscreen screen's size in device-independent pixels (written to
    ``folder/screen.json``, multiplied by the scale); without it the child gets the offscreen
    platform's default screen. ``env``: more variables for the child. The child fails the test
    with its own error output if it exits non-zero.
    """
    child_env = {**os.environ, "QT_SCALE_FACTOR": scale, "PYTHONPATH": str(ROOT), **(env or {})}
    if screen is not None:
        factor = float(scale)
        config = folder / "screen.json"
        shape = {"name": "s", "x": 0, "y": 0, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
        shape |= {"width": round(screen[0] * factor), "height": round(screen[1] * factor)}
        config.write_text(json.dumps({"screens": [shape]}))
        child_env["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        env=child_env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines, f"the child printed nothing; its errors: {done.stderr[-2000:]}"
    out: dict[str, Any] = json.loads(lines[-1])
    return out
