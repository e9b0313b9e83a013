"""The lock files in requirements/ pin every package, with hashes, inside pyproject.toml's ranges.

``scripts/lock`` writes them (uv pip compile --universal --generate-hashes) and
``scripts/setup-venv`` installs from them with ``pip --require-hashes``. These checks need no
network: they catch a range changed in pyproject.toml without a new lock, a lock file edited by
hand, and a venv that was not made from the lock.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.packaging._tools import ON_CI

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
DEV_EXTRAS = ("test", "postgres", "bundle")


class Pin:
    def __init__(self, name: str, version: str, marker: str | None, hashes: list[str]) -> None:
        self.name, self.version, self.hashes = name, version, hashes
        self.marker = Marker(marker) if marker else None


def read_lock(name: str) -> dict[str, Pin]:
    text = (LOCKS / name).read_text(encoding="utf-8")
    pins: dict[str, Pin] = {}
    for entry in re.split(r"\n(?=\S)", text):
        if not entry.strip() or entry.startswith("#"):
            continue
        head = entry.splitlines()[0].rstrip(" \\")
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)(?:\s*;\s*(.+))?", head)
        assert match, f"{name}: not a pin: {head!r}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", entry)
        pin = Pin(canonicalize_name(match[1]), match[2], match[3], hashes)
        pins[pin.name] = pin
    return pins


def _requirements(*extras: str) -> list[Requirement]:
    reqs = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]
    return reqs


@pytest.mark.parametrize(("lock", "extras"), [("app.txt", ()), ("dev.txt", DEV_EXTRAS)])
def test_every_requirement_is_pinned_inside_its_range(lock: str, extras: tuple[str, ...]) -> None:
    pins = read_lock(lock)
    for req in _requirements(*extras):
        pin = pins.get(canonicalize_name(req.name))
        assert pin is not None, f"{req.name} is not in requirements/{lock}: run scripts/lock"
        assert req.specifier.contains(pin.version, prereleases=True), (
            f"requirements/{lock} pins {req.name}=={pin.version}, outside {req}: run scripts/lock"
        )


@pytest.mark.parametrize("lock", ["app.txt", "dev.txt", "bootstrap.txt"])
def test_every_pin_has_hashes_and_no_address(lock: str) -> None:
    text = (LOCKS / lock).read_text(encoding="utf-8")
    assert "://" not in text, f"requirements/{lock} names an index: pins and hashes only"
    for pin in read_lock(lock).values():
        assert pin.hashes, f"{pin.name} has no hash in requirements/{lock}"


def test_the_locks_agree_on_versions() -> None:
    dev = read_lock("dev.txt")
    for lock in ("app.txt", "bootstrap.txt"):
        for pin in read_lock(lock).values():
            if pin.name in dev:
                assert dev[pin.name].version == pin.version, f"{pin.name}: {lock} vs dev.txt"


def test_the_app_lock_has_no_test_tools() -> None:
    assert not {"pytest", "mypy", "pyinstaller", "ruff"} & set(read_lock("app.txt"))


def test_installed_versions_are_the_locked_ones() -> None:
    """What scripts/setup-venv installed is what the lock pins (for this platform's markers).

    On CI (a venv made by ``scripts/setup-venv dev``) all of dev.txt; elsewhere the app's own
    packages, app.txt, since a developer's venv may lack the bundle tools.
    """
    wrong = []
    for pin in read_lock("dev.txt" if ON_CI else "app.txt").values():
        if pin.marker is not None and not pin.marker.evaluate():
            continue
        try:
            installed = version(pin.name)
        except PackageNotFoundError:
            wrong.append(f"{pin.name} missing")
            continue
        if installed != pin.version:
            wrong.append(f"{pin.name} {installed} (lock: {pin.version})")
    assert not wrong, "the venv is not the lock's (scripts/setup-venv dev): " + ", ".join(wrong)
