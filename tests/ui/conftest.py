"""UI test fixtures: a small form, private QSettings, a real SQLite database in tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QCoreApplication, QSettings

from clinic_app.core.form import Form, load_form

if TYPE_CHECKING:
    from clinic_app.storage.database import Database
    from clinic_app.storage.records import Clinician
    from clinic_app.ui.main_window import MainWindow
    from clinic_app.ui.operations import OperationRunner

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


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, fully migrated database made once; each test gets its own copy (fast)."""
    from clinic_app.storage.database import open_database

    folder = tmp_path_factory.mktemp("template")
    path = folder / "clinic.db"
    db = open_database(f"sqlite:///{path}", backup=False)
    db.close()
    return path


@pytest.fixture
def db_url(tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(data))
    path = data / "clinic.db"
    shutil.copyfile(template_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    from clinic_app.storage.database import open_database

    database = open_database(db_url, backup=False)
    yield database
    database.close()


@pytest.fixture
def runner(qapp: object, db: Database) -> Iterator[OperationRunner]:
    """The operation runner (the app's one database worker thread) on the test database."""
    from clinic_app.ui.operations import OperationRunner

    worker = OperationRunner(db)
    yield worker
    worker.stop()
    worker.deleteLater()


@pytest.fixture
def clinician(account: Clinician) -> Clinician:
    """The signed-in clinician of ``window``: the ``account`` fixture's Dana Physio (admin and
    therapist, login ``dana``, password ``PASSWORD``), so signing answers her password."""
    QSettings().setValue("clinician_id", account.id)
    return account


@pytest.fixture
def window(qtbot: Any, db: Database, mini_form: Form, clinician: Clinician) -> MainWindow:
    """The whole main window on the test database and the small form, shown and active."""
    from clinic_app.ui.main_window import MainWindow

    w = MainWindow(db, mini_form, clinician)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    return w


@pytest.fixture(scope="session")
def shipped_form() -> Form:
    """The form the app ships (forms/hamstring_whole_body.yaml)."""
    from clinic_app.core.form import load_form
    from clinic_app.paths import default_form_path

    return load_form(default_form_path())


@pytest.fixture
def shipped_window(qtbot: Any, db: Database, shipped_form: Form, clinician: Clinician) -> Any:
    """The main window on the test database and the shipped form, shown."""
    from clinic_app.ui.main_window import MainWindow

    w = MainWindow(db, shipped_form, clinician)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    return w


# -- accounts (issue 14) -------------------------------------------------------------------------

PASSWORD = "correct horse 42"
OTHER_PASSWORD = "battery staple 17"


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with the smallest cost: the same code path, without 64 MiB and 0.1 s a check."""
    from argon2 import PasswordHasher

    from clinic_app.storage import accounts

    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def account(db: Database, cheap_hashing: None) -> Clinician:
    """The clinic's first admin (also a therapist): login ``dana``, password ``PASSWORD``."""
    from clinic_app.storage import accounts, records

    records.save_clinic(db, records.ClinicInfo(name="Thigh & Hip Clinic"), user="setup")
    person, _key = accounts.create_first_admin(
        db, "dana", PASSWORD, display_name="Dana Physio", credentials="PT, DPT"
    )
    return person


@pytest.fixture
def other_account(db: Database, account: Clinician) -> Clinician:
    """A second therapist, ``lee`` with ``OTHER_PASSWORD``, added by the admin."""
    from clinic_app.storage import accounts

    return accounts.add_account(
        db, "lee", OTHER_PASSWORD, roles=["therapist"], display_name="Lee Second", by=account
    )
