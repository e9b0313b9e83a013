"""The folder a save dialog opens in: the one last used for this clinic (issue 18).

Remembered per data folder (``ui/workstation.py``), not in QSettings shared by every data folder:
a demonstration folder's exports must not steer the clinic's into the same place, and the other
way round. A remembered folder that is gone (an unplugged disk) falls back to the home folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from clinic_app.ui import workstation

if TYPE_CHECKING:
    from clinic_app.storage.database import Database

KEY = "export_folder"


def export_folder(db: Database | None) -> Path:
    """Where the next export of this clinic is proposed (the home folder the first time)."""
    if db is not None:
        value = workstation.settings(db).value(KEY)
        if isinstance(value, str) and value and Path(value).is_dir():
            return Path(value)
    return Path.home()


def remember_export_folder(db: Database | None, saved_file: Path | str) -> None:
    """Remember the folder ``saved_file`` was written into, for this clinic only."""
    if db is not None:
        workstation.settings(db).setValue(KEY, str(Path(saved_file).resolve().parent))
