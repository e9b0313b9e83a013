"""The real main window opens on an X display: Xvfb, ``QT_QPA_PLATFORM=xcb``, ``clinic-app``.

The offscreen platform of the other tests needs fewer libraries than a desktop; this starts the
installed ``clinic-app`` on a fresh Xvfb with a demo database and one account in a temporary data
folder, signs in by typing like a user (login, Tab, password, Enter) and waits for the main window
(scripts/xvfb-open-window, also used by the bundle's smoke test). Bounded: 60 s for the window.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging._tools import tool

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Xvfb is Linux only")


def _clinic_app() -> list[str]:
    script = Path(sys.executable).with_name("clinic-app")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "clinic_app"]


def test_main_window_opens_under_xvfb(tmp_path: Path) -> None:
    tool("Xvfb", "xvfb")
    tool("xdotool", "xdotool")
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "share"),
        "CLINIC_APP_DATA_DIR": str(tmp_path / "data"),
        "QT_QPA_PLATFORM": "offscreen",
        "TIMEOUT": "60",
    }
    env.pop("CLINIC_APP_DATABASE_URL", None)
    env.pop("DISPLAY", None)
    (tmp_path / "home").mkdir()
    demo = subprocess.run(
        [*_clinic_app(), "demo"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert demo.returncode == 0, demo.stderr
    password = "smoke test password"
    added = subprocess.run(
        [*_clinic_app(), "user", "add", "smoke", "--role", "admin", "--role", "therapist"]
        + ["--display-name", "Smoke Test", "--password-stdin"],
        env=env,
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    env.update(SIGN_IN_LOGIN="smoke", SIGN_IN_PASSWORD=password)
    opened = subprocess.run(
        [str(ROOT / "scripts" / "xvfb-open-window"), *_clinic_app()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert opened.returncode == 0, opened.stdout + opened.stderr
    assert "main window open" in opened.stdout
    assert "posterior thigh evaluation" in opened.stdout  # the main window, not the sign-in
