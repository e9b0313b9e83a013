"""Interop fixtures: the demo clinic (made once, copied for each test so writes stay private),
and the storage tests' throwaway PostgreSQL for the import."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from clinic_app.core.form import Form, load_form
from clinic_app.paths import default_form_path
from clinic_app.storage.database import Database, open_database
from tests.storage.conftest import (  # noqa: F401 - fixtures used by the tests here
    backend,
    db,
    postgres_migrated_url,
    postgres_server,
    postgres_template,
    postgres_url,
    private_data_dir,
    sqlite_db,
)

# The demo's dates are counted back from "today": a fixed day keeps the expected bundle stable.
DEMO_TODAY = date(2026, 12, 1)


@pytest.fixture(scope="session")
def shipped_form() -> Form:
    return load_form(default_form_path())


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, shipped_form: Form) -> Path:
    """A data folder with the demo clinic (``clinic-app demo``), its signing key beside it."""
    from clinic_app.storage.demo import fill_demo

    folder = tmp_path_factory.mktemp("demo") / "data"
    folder.mkdir()
    before = os.environ.get("CLINIC_APP_DATA_DIR")
    os.environ["CLINIC_APP_DATA_DIR"] = str(folder)
    try:
        database = open_database(f"sqlite:///{folder / 'clinic.db'}", backup=False)
        try:
            fill_demo(database, shipped_form, today=DEMO_TODAY)
        finally:
            database.close()
    finally:
        if before is None:
            del os.environ["CLINIC_APP_DATA_DIR"]
        else:
            os.environ["CLINIC_APP_DATA_DIR"] = before
    return folder


@pytest.fixture
def demo_dir(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own copy of the demo data folder, set as the data folder."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_template, folder)
    monkeypatch.setenv("CLINIC_APP_DATA_DIR", str(folder))
    monkeypatch.setenv("CLINIC_APP_ENCRYPTION", "off")
    monkeypatch.delenv("CLINIC_APP_DATABASE_URL", raising=False)
    return folder


@pytest.fixture
def demo_db(demo_dir: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{demo_dir / 'clinic.db'}", migrate=False, backup=False)
    try:
        yield database
    finally:
        database.close()
