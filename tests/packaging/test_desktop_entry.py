"""``clinic-app install-desktop``: a valid freedesktop entry and its icon, where XDG says."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from clinic_app.cli import main
from clinic_app.cli.desktop_cmds import exec_value, launcher
from clinic_app.paths import resources_dir
from tests.packaging._tools import tool

ENTRY = Path("applications") / "clinic-app.desktop"
ICON = Path("icons") / "hicolor" / "scalable" / "apps" / "clinic-app.svg"


def _keys(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_writes_entry_and_icon_under_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert main(["install-desktop"]) == 0
    entry = tmp_path / "share" / ENTRY
    keys = _keys(entry.read_text(encoding="utf-8"))
    assert keys["Exec"] == exec_value(launcher())
    assert Path(launcher()[0]).is_absolute()
    assert keys["Icon"] == "clinic-app"
    assert (tmp_path / "share" / ICON).read_bytes() == (
        resources_dir() / "clinic-app.svg"
    ).read_bytes()
    assert str(entry) in capsys.readouterr().out


def test_entry_passes_desktop_file_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validate = tool("desktop-file-validate", "desktop-file-utils")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["install-desktop"]) == 0
    result = subprocess.run(
        [validate, str(tmp_path / ENTRY)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not result.stdout.strip(), result.stdout  # no warnings either


@pytest.mark.parametrize("value", ["", "relative/share"])
def test_defaults_to_local_share_when_xdg_data_home_is_unusable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", value)
    assert main(["install-desktop"]) == 0
    assert (tmp_path / ".local" / "share" / ENTRY).is_file()
    assert (tmp_path / ".local" / "share" / ICON).is_file()


def test_remove_takes_both_away(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["install-desktop"]) == 0
    assert main(["install-desktop", "--remove"]) == 0
    assert not (tmp_path / ENTRY).exists()
    assert not (tmp_path / ICON).exists()
    assert main(["install-desktop", "--remove"]) == 0  # nothing there: still fine


def test_unwritable_folder_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    assert main(["install-desktop"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("clinic-app install-desktop: cannot write")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/opt/clinic-app/clinic-app"], "/opt/clinic-app/clinic-app"),
        (["/home/a b/.venv/bin/clinic-app"], '"/home/a b/.venv/bin/clinic-app"'),
        (["/x/$HOME`q`/app"], '"/x/\\\\$HOME\\\\`q\\\\`/app"'),
        (["/x/100%/app"], "/x/100%%/app"),
        ([sys.executable, "-m", "clinic_app"], f"{sys.executable} -m clinic_app"),
    ],
)
def test_exec_is_quoted_per_the_spec(argv: list[str], expected: str) -> None:
    assert exec_value(argv) == expected


def test_icon_is_a_scalable_svg() -> None:
    root = ET.parse(resources_dir() / "clinic-app.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 128 128"
