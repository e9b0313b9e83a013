"""The main window's fixtures (tests/ui/conftest.py) for the File → Export FHIR… test."""

from __future__ import annotations

from tests.ui.conftest import (  # noqa: F401 - fixtures used by the tests here
    account,
    cheap_hashing,
    clinician,
    db,
    db_url,
    mini_form,
    private_settings,
    template_db,
    window,
)
