"""Writing an export: 0600, never through a symbolic link, never half a file.

The command line and the window write a FHIR bundle the same way (:func:`export_fhir_file`):
built and validated first, written to a private temporary file beside the target and renamed
over it, then recorded in the access log as an export of the patient by ``actor``.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from clinic_app import private
from clinic_app.storage.errors import StorageError

if TYPE_CHECKING:
    from clinic_app.interop.fhir import BundleKind
    from clinic_app.storage.database import Database


class OutputFileError(StorageError):
    """The file named for an export cannot be written there (one line naming it)."""


def check_output(path: Path) -> Path:
    """The folder ``path`` goes to, once ``path`` is known not to be a link, folder or device."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        raise OutputFileError(f"{path}: cannot write there ({err.strerror or err})") from None
    else:
        if stat.S_ISLNK(info.st_mode):
            raise OutputFileError(f"{path}: is a symbolic link; give the file itself")
        if stat.S_ISDIR(info.st_mode):
            raise OutputFileError(f"{path}: is a folder; give a file name")
        if not stat.S_ISREG(info.st_mode):
            raise OutputFileError(f"{path}: is not a regular file")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        what = "not a folder" if folder.exists() else "no such folder"
        raise OutputFileError(f"{path}: cannot write there ({folder}: {what})")
    return folder


def write_private(path: Path, data: bytes) -> None:
    """``data`` into ``path`` (0600) through a temporary file renamed at the end."""
    folder = check_output(path)
    tmp = folder / f".{path.name}.part"
    try:
        private.write_bytes(tmp, data)
        os.replace(tmp, path)
    except OSError as err:
        problem = "the file name is too long" if err.errno == 36 else err.strerror or str(err)
        raise OutputFileError(f"{path}: cannot write there ({problem})") from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def export_fhir_file(
    db: Database,
    patient_id: int,
    path: Path,
    *,
    actor: str,
    kind: BundleKind = "collection",
    include_pdf: bool = True,
) -> int:
    """Build, validate and write the patient's FHIR bundle, then log the export; returns the
    number of resources."""
    from clinic_app.interop.fhir import build_bundle
    from clinic_app.storage.records import log_access

    check_output(path)  # before the work: a bad name is refused at once
    bundle = build_bundle(db, patient_id, kind=kind, include_pdf=include_pdf)
    text = json.dumps(bundle, ensure_ascii=False, indent=1) + "\n"
    write_private(path, text.encode("utf-8"))
    log_access(db, actor=actor, action="export", entity="patient", entity_id=patient_id)
    return len(bundle["entry"])
