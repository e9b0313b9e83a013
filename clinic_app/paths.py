"""Where the app finds its shipped data (forms, resources) and keeps the user's data.

``forms/`` and ``resources/`` live at the top of the source tree and are installed inside the
package as ``clinic_app/_forms`` and ``clinic_app/_resources`` (see pyproject.toml), so a plain
``pip install .`` run from any directory finds them.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
DEFAULT_FORM_NAME = "hamstring_whole_body.yaml"
DATA_DIR_ENV = "CLINIC_APP_DATA_DIR"
DATABASE_URL_ENV = "CLINIC_APP_DATABASE_URL"


def _shipped(installed: str, source: str) -> Path:
    inside = _PACKAGE / installed
    if inside.is_dir():
        return inside
    return _PACKAGE.parent / source


def forms_dir() -> Path:
    return _shipped("_forms", "forms")


def resources_dir() -> Path:
    return _shipped("_resources", "resources")


def default_form_path() -> Path:
    return forms_dir() / DEFAULT_FORM_NAME


def data_dir() -> Path:
    """The user's data folder: ``$CLINIC_APP_DATA_DIR``, else the platform's user data folder."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("clinic_app", appauthor=False)
