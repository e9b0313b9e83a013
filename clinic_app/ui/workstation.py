"""Settings of this computer for one clinic: what a workstation remembers, per data folder.

Clinic-wide settings live in the database (``records.settings``). What stays on the computer
(the evaluation page's layout, the last login name) is kept in QSettings, but in a group of its
own for each data folder (or PostgreSQL database), named by a short digest of where it is: two
data folders, e.g. the clinic and a demonstration folder, never share remembered values, and the
settings file never holds a database password (the digest is of the URL without it, and the
group name says nothing of the path).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings

if TYPE_CHECKING:
    from clinic_app.storage.database import Database

GROUP = "workstation"
_PASSWORD = re.compile(r"(://[^/:@]*):[^@/]*@")


def normalised(where: str) -> str:
    """``where`` as the key is made of: a URL without its password, a path made absolute."""
    where = where.strip()
    if "://" in where:
        return _PASSWORD.sub(r"\1@", where)
    return str(Path(where).expanduser().resolve())


def key_of(where: str) -> str:
    """The short digest naming ``where``'s group (16 hex digits)."""
    return hashlib.sha256(normalised(where).encode("utf-8")).hexdigest()[:16]


def workstation_settings(where: str) -> QSettings:
    """QSettings already inside the group of the data folder or database ``where``."""
    settings = QSettings()
    settings.beginGroup(f"{GROUP}/{key_of(where)}")
    return settings


def where_of(database: Database) -> str:
    """What names ``database``'s group: the folder holding a SQLite file (its data folder), or
    the PostgreSQL URL without password (its location only: nothing is read from it)."""
    if database.path is not None:
        return str(Path(database.path).resolve().parent)
    return database.display_url


def default_where() -> str:
    """The data folder or database the app opens without a ``--database`` option: the URL of
    ``$CLINIC_APP_DATABASE_URL`` if set, else the data folder."""
    from clinic_app.paths import DATABASE_URL_ENV, data_dir

    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        if url.startswith("sqlite:///"):
            return str(Path(url.removeprefix("sqlite:///")).expanduser().resolve().parent)
        return url
    return str(data_dir())


def settings(where: str | Database | None = None) -> QSettings:
    """This workstation's settings for ``where`` (a path or URL, an open database, or None for
    :func:`default_where`)."""
    if where is None:
        where = default_where()
    elif not isinstance(where, str):
        where = where_of(where)
    return workstation_settings(where)
