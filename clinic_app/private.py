"""Files only their owner can read: every file holding patient data is 0600, its folder 0700.

The usual umask (022) makes new files readable by every local user, and a umask of 000 makes
them writable too; the modes here are set explicitly (``fchmod``/``chmod``), so they hold
whatever the umask. SQLite gives a database's ``-wal``, ``-shm`` and ``-journal`` files the mode
of the database file itself, so a private database file keeps its side files private.

Sits beside ``clinic_app.paths`` and ``clinic_app.logs``, outside the layers: storage, reports
and ui all write such files. Imports nothing of the app.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
SIDE_FILES = ("-wal", "-shm", "-journal")


def make_folder(folder: Path) -> Path:
    """Create ``folder`` (and missing parents) and make it 0700; an existing one is tightened.

    Only the last folder is tightened: parents may be shared folders the user chose.
    """
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    tighten(folder)
    return folder


def tighten(path: Path) -> None:
    """Remove group and other permission bits from ``path`` if it is ours (a no-op on Windows)."""
    if os.name == "nt":
        return
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        return
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:  # only ever takes bits away: a read-only folder stays read-only
        with contextlib.suppress(PermissionError):  # not ours: nothing we may change
            os.chmod(path, mode & 0o700)


def tighten_database(path: Path) -> None:
    """Make a SQLite database and its side files 0600."""
    tighten(path)
    for suffix in SIDE_FILES:
        tighten(Path(f"{path}{suffix}"))


def create_empty(path: Path) -> None:
    """Create ``path`` empty and 0600 if it does not exist (SQLite then keeps that mode for the
    database it makes there and for its side files). Never follows a symlink."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, FILE_MODE)
    except FileExistsError:
        tighten(path)
        return
    try:
        if os.name != "nt":
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def open_new(path: Path, *, replace: bool = True) -> int:
    """A descriptor for writing ``path`` from scratch, 0600, never through a symlink.

    ``replace``: an existing regular file is truncated; a symlink (or anything but a regular
    file) at ``path`` is refused with an OSError, so an export cannot overwrite the file a link
    points to.
    """
    flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | getattr(os, "O_BINARY", 0)
    flags |= os.O_TRUNC if replace else os.O_EXCL
    if os.path.islink(path):
        raise OSError(40, "is a symbolic link; not followed", str(path))
    fd = os.open(path, flags, FILE_MODE)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(21, "is not a regular file", str(path))
        if os.name != "nt":
            os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_bytes(path: Path, data: bytes, *, replace: bool = True) -> None:
    """Write ``data`` to ``path`` as a private file (see :func:`open_new`)."""
    fd = open_new(path, replace=replace)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
