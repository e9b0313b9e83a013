"""Reading the files a person names: regular files only, and no more than a real one holds.

A FIFO, a device (``/dev/zero``), a socket or a folder given where a file is expected would block
forever or read without end; so would a regular file far larger than any file of its kind. Every
reader here opens without blocking, looks at what it opened (``fstat``, so a symlink is judged by
what it points to), refuses anything but a regular file, and reads at most the limit of its kind,
naming the file, the problem and the limit in one line (``InputFileError``, a StorageError, so the
CLI and the screens show it as they show any storage problem).

The limits (README, "Limits"): a findings file 1 MiB (one filled-in evaluation is about 3 kB), a
form file 4 MiB (the shipped form is about 70 kB), a clinic logo 2 MiB.
"""

from __future__ import annotations

import errno
import os
import stat
import zlib
from pathlib import Path

from clinic_app.storage.errors import StorageError

MIB = 1024 * 1024
FINDINGS_LIMIT = 1 * MIB
FORM_LIMIT = 4 * MIB
LOGO_LIMIT = 2 * MIB
_CHUNK = 64 * 1024


class InputFileError(StorageError):
    """A named file cannot be used: not a regular file, unreadable, too large."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{show_path(path)}: {problem}")
        self.path = Path(path)
        self.problem = problem


def show_path(path: Path | str) -> str:
    """A path as one line: quoted when it holds a line break or another control character."""
    text = str(path)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return repr(text)
    return text


def size_text(size: int) -> str:
    """Bytes as a person reads them: "512 bytes", "1 MiB", "3.0 GiB"."""
    if size < 1024:
        return f"{size} bytes"
    for unit, scale in (("GiB", 1024**3), ("MiB", MIB), ("KiB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    raise AssertionError  # unreachable: size >= 1024 matched KiB


def kind_of(mode: int) -> str:
    """What a non-regular file is, for a message: "a folder", "a FIFO (named pipe)"..."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _os_problem(err: OSError) -> str:
    if isinstance(err, FileNotFoundError):
        reason = "file not found"
    elif err.errno == errno.ENAMETOOLONG:  # the name, not the file, is the problem
        reason = "the file name is too long"
    else:
        reason = err.strerror or err.__class__.__name__
    return f"cannot read the file ({reason})"


def read_limited(path: Path | str, limit: int, what: str) -> bytes:
    """The bytes of the regular file ``path``; InputFileError when it is anything else, cannot be
    read, or holds more than ``limit`` bytes (``what`` names the kind of file in the message)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise InputFileError(path, _os_problem(err)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(path, f"is {kind_of(info.st_mode)}, not a {what}")
        too_big = f"the limit for a {what} is {size_text(limit)}"
        if info.st_size > limit:
            raise InputFileError(path, f"is {size_text(info.st_size)}; {too_big}")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:  # st_size may be 0 (files under /proc): read no more than allowed
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise InputFileError(path, f"holds more than {size_text(limit)}; {too_big}")
        return b"".join(chunks)
    except OSError as err:
        raise InputFileError(path, _os_problem(err)) from None
    finally:
        os.close(fd)


def read_limited_text(path: Path | str, limit: int, what: str) -> str:
    """:func:`read_limited`, decoded as UTF-8 (a byte-order mark is dropped)."""
    data = read_limited(path, limit, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputFileError(
            path, f"is not UTF-8 text (byte {err.start + 1} cannot be read as UTF-8)"
        ) from None


def check_regular_file(path: Path | str, what: str, *, missing_ok: bool = False) -> bool:
    """Refuse ``path`` unless it is a regular file (after symlinks); never opens it.

    For the arguments of backup and restore and for a SQLite database file, which other code
    opens: a FIFO there would block that code forever. Returns whether the file exists
    (``missing_ok``: a missing file is not an error, e.g. a database not made yet).
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if missing_ok:
            return False
        raise InputFileError(path, "cannot read the file (file not found)") from None
    except OSError as err:
        raise InputFileError(path, _os_problem(err)) from None
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(path, f"is {kind_of(info.st_mode)}, not a {what}")
    return True


_PNG = b"\x89PNG\r\n\x1a\n"


def image_problem(data: bytes, limit: int = LOGO_LIMIT) -> str | None:
    """Why ``data`` is not a whole PNG or JPEG image (None when it is one), without decoding it.

    A PNG's chunks are walked and their checksums compared up to IEND; a JPEG must start with
    SOI and end with EOI. That catches a file cut short, which image readers (and reportlab)
    only notice while drawing, half-way through a PDF.
    """
    if len(data) > limit:
        return f"is {size_text(len(data))}; the limit for an image is {size_text(limit)}"
    if data.startswith(_PNG):
        pos = len(_PNG)
        while pos + 12 <= len(data):
            length = int.from_bytes(data[pos : pos + 4], "big")
            kind = data[pos + 4 : pos + 8]
            end = pos + 12 + length
            if end > len(data):
                break
            body = data[pos + 4 : pos + 8 + length]
            if zlib.crc32(body) != int.from_bytes(data[end - 4 : end], "big"):
                return "is a damaged PNG image (a checksum does not match)"
            if kind == b"IEND":
                return None
            pos = end
        return "is a PNG image cut short (it has no end)"
    if data.startswith(b"\xff\xd8"):
        if data.rstrip(b"\x00").endswith(b"\xff\xd9"):
            return None
        return "is a JPEG image cut short (it has no end)"
    return "is not a PNG or JPEG image"
