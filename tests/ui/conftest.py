"""UI test fixtures: a small form, private QSettings, a real SQLite database in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings

from clinic_app.core.form import Form, load_form

DATA = Path(__file__).parent / "data"
OFFSCREEN_NOISE = r"This plugin does not support propagateSizeHints"


@pytest.fixture(autouse=True)
def private_settings(tmp_path: Path, qapp: object) -> Path:
    """Every test gets its own QSettings in tmp_path: the real user configuration is never read."""
    folder = tmp_path / "settings"
    folder.mkdir()
    QCoreApplication.setOrganizationName("clinic_app")
    QCoreApplication.setApplicationName("clinic_app_tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    return folder


@pytest.fixture(scope="session")
def mini_form() -> Form:
    return load_form(DATA / "mini_form.yaml")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The offscreen platform logs this for every top-level window with a size constraint; it is
    about the headless test platform, not the app, so it must not fail UI tests."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))
