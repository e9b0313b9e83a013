"""The system libraries of scripts/apt-packages.txt are all Qt needs on a real desktop.

``ldd`` on the installed Qt platform plugins (xcb for X11, wayland, offscreen for the tests), the
CUPS print plugin and the Qt libraries the app loads must report no "not found": a missing one
makes ``clinic-app`` abort with "Could not load the Qt platform plugin" (or print to nowhere).
CI installs exactly the README's package list first (.ci/run reads the same file), so a library
that list lacks fails here.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging._tools import tool

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="ldd and xcb are Linux only")


def _qt_dir() -> Path:
    spec = importlib.util.find_spec("PySide6")
    assert spec is not None
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "Qt"


def _libraries() -> list[Path]:
    plugins = _qt_dir() / "plugins"
    found = [plugins / "platforms" / "libqxcb.so", plugins / "platforms" / "libqoffscreen.so"]
    found += sorted((plugins / "platforms").glob("libqwayland*.so"))
    # printsupport: the CUPS plugin (printing a handout); without libcups Qt sees no printer.
    for folder in (
        "xcbglintegrations",
        "wayland-shell-integration",
        "imageformats",
        "printsupport",
    ):
        found += sorted((plugins / folder).glob("*.so"))
    found += sorted((_qt_dir() / "lib").glob("libQt6Pdf.so*"))[:1]
    return found


def test_the_xcb_plugin_is_installed() -> None:
    assert (_qt_dir() / "plugins" / "platforms" / "libqxcb.so").is_file()


@pytest.mark.parametrize("library", _libraries(), ids=lambda p: p.name)
def test_no_library_is_missing(library: Path) -> None:
    ldd = tool("ldd", "libc-bin")
    result = subprocess.run(
        [ldd, str(library)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    missing = sorted(
        {line.split()[0] for line in result.stdout.splitlines() if "not found" in line}
    )
    assert not missing, (
        f"{library.name} needs {', '.join(missing)}: add the Debian package that ships it to "
        "scripts/apt-packages.txt (apt-file search NAME)"
    )
