"""The package list in pyproject.toml covers every folder that must ship.

``forms/`` and ``resources/`` are mapped into the package explicitly, so a new folder (or a new
subpackage of clinic_app) that is not listed would silently be missing from a non-editable
install; .ci/run proves the install itself from another directory.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _expected() -> set[str]:
    names = set()
    for init in (ROOT / "clinic_app").rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT)
        if "__pycache__" not in rel.parts:
            names.add(".".join(rel.parts))
    for top, package in (("forms", "clinic_app._forms"), ("resources", "clinic_app._resources")):
        names.add(package)
        for folder in (ROOT / top).rglob("*"):
            if folder.is_dir() and "__pycache__" not in folder.parts:
                names.add(".".join((package, *folder.relative_to(ROOT / top).parts)))
    return names


def test_every_folder_is_a_listed_package() -> None:
    assert set(CONFIG["packages"]) == _expected()


def test_every_data_package_ships_its_files() -> None:
    data = CONFIG["package-data"]
    for name in CONFIG["packages"]:
        if name.startswith(("clinic_app._forms", "clinic_app._resources")):
            assert name in data, f"{name} has no package-data entry"
