"""The last committed state of a SQLite database, remembered outside its file (issue 13).

Every change the app makes writes an audit event in the same transaction, so the id and chain
hash of the newest audit event name the last committed state. After each write transaction the
app mirrors them to a small file in the data folder (``state/<digest of the path>.json``, 0600).
At start it compares:

- the database file is missing or empty, but a state was recorded for it: refused (it is not
  silently made into a new, empty clinic); restore a backup, or delete the state file to start
  afresh on purpose;
- the database lacks the recorded audit event (a lost or corrupted ``-wal`` after a crash, an
  older copy put in its place): it opens, with a notice saying how far behind it is.

A clinic server (PostgreSQL) is mirrored the same way, under :func:`server_place`: each
workstation remembers the event it wrote last, and opening or ``verify`` names it when the server
no longer has it (the newest events deleted with the rows they name, which no lock stops the
tables' owner doing). As for a file, the workstation's next write records the new state.

The file holds two fixed-size slots, written in turn in place (one ``pwrite`` on a descriptor
kept open: creating and renaming a file per save cost more than the rest of an autosave). Each
slot carries a checksum; reading takes the valid slot with the newest audit event, so a write
torn by a power cut leaves the state before it, as a rename would. A file of the older
one-object shape is still read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from clinic_app import private

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

Place = Path | str
"""A SQLite file, or a clinic server's :func:`server_place` (its events can be deleted by the
server's owner; what this workstation wrote last is remembered the same way)."""


def server_place(dialect: str, host: str | None, port: int | None, database: str | None) -> str:
    """The name a server database's state is kept under: where it is, not who signs in."""
    return f"{dialect}://{host or ''}:{port or ''}/{database or ''}"


# What this process last wrote for each database: a write transaction that added no audit event
# (an autosave with nothing new) leaves the mirror as it is, without touching the disk.
_written: dict[Place, State] = {}
_written_lock = threading.RLock()  # also guards the open state files below


# Session.info key: the newest audit event a write transaction added (records.write_audit), so
# the state to mirror is known without reading it back.
LAST_AUDIT_EVENT = "clinic_app.last_audit_event"


@dataclass(frozen=True)
class State:
    last_audit_id: int
    last_audit_hash: str


def _name(database: Place) -> str:
    return str(database.resolve()) if isinstance(database, Path) else database


def state_file(database: Place) -> Path:
    from clinic_app.paths import data_dir

    key = hashlib.sha256(_name(database).encode("utf-8")).hexdigest()[:32]
    return data_dir() / "state" / f"{key}.json"


_places: dict[Place, tuple[Path, str, Path]] = {}  # database -> (state file, name, data dir)


def _where(database: Place) -> tuple[Path, str, bool]:
    """The state file of ``database``, its resolved path, and whether this is the first ask;
    kept, as autosave asks every few seconds (resolving a path costs a system call per
    folder), while the data folder stays the same."""
    from clinic_app.paths import data_dir

    folder = data_dir()
    with _written_lock:
        known = _places.get(database)
    if known is not None and known[2] == folder:
        return known[0], known[1], False
    known = (state_file(database), _name(database), folder)
    with _written_lock:
        _places[database] = known
    return known[0], known[1], True


SLOT = 4096  # bytes a slot takes; the state is ~150 bytes, the rest is padding
_READ_LIMIT = 2 * SLOT + 1


def _encode(resolved: str, state: State) -> bytes:
    body = {
        "database": resolved[:2048],  # for a person reading the folder; not compared
        "last_audit_id": state.last_audit_id,
        "last_audit_hash": state.last_audit_hash,
    }
    check = hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    data = json.dumps({**body, "check": check}, ensure_ascii=True).encode("ascii")
    return data.ljust(SLOT - 1, b" ") + b"\n"


def _decode(raw: bytes) -> State | None:
    """The state in one slot, or None when it is torn, empty or not ours."""
    try:
        data = json.loads(raw.decode("ascii"))
        check = data.pop("check")
        if hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()[:16] != (
            check
        ):
            return None
        return State(int(data["last_audit_id"]), str(data["last_audit_hash"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _read(path: Path) -> tuple[State | None, State | None, State | None]:
    """The two slots of a state file and its older one-object content (each None if absent).

    Never follows a symlink, never blocks on a FIFO, reads at most two slots' worth."""
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except OSError:
        return None, None, None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, None, None
        raw = os.read(fd, _READ_LIMIT)
    except OSError:
        return None, None, None
    finally:
        os.close(fd)
    older = None
    if len(raw) < SLOT:
        with contextlib.suppress(ValueError, KeyError, TypeError, UnicodeDecodeError):
            data = json.loads(raw.decode("utf-8"))
            older = State(int(data["last_audit_id"]), str(data["last_audit_hash"]))
    return _decode(raw[:SLOT]), _decode(raw[SLOT : 2 * SLOT]), older


def recorded(database: Place) -> State | None:
    first, second, older = _read(state_file(database))
    found = [s for s in (first, second) if s is not None]
    if found:
        return max(found, key=lambda s: s.last_audit_id)
    return older


@dataclass
class _Open:
    """A state file this process writes: its descriptor, inode, and the slot to write next."""

    fd: int
    inode: int
    slot: int


_open: dict[Path, _Open] = {}  # state file -> its open descriptor (a few: see _KEEP_OPEN)
_KEEP_OPEN = 8


def _descriptor(path: Path, first: bool) -> _Open:
    """The open state file at ``path`` (opened again when it was removed or replaced)."""
    known = _open.get(path)
    if known is not None:
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == known.inode
        except OSError:
            same = False
        if same:
            return known
        _close(path)
    if first or not path.parent.is_dir():
        private.make_folder(path.parent)  # made, or tightened to 0700, once a process
    if os.path.islink(path):
        raise OSError(40, "is a symbolic link; not followed", str(path))
    fd = os.open(
        path,
        os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0),
        0o600,
    )
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(21, "is not a regular file", str(path))
        if os.name != "nt":
            os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    one, two, _older = _read(path)
    # Overwrite the older (or unreadable) slot first: the newer one stays until this write is done.
    slot = 1 if one is not None and (two is None or two.last_audit_id < one.last_audit_id) else 0
    while len(_open) >= _KEEP_OPEN:
        _close(next(iter(_open)))
    opened = _open[path] = _Open(fd, info.st_ino, slot)
    return opened


def _close(path: Path) -> None:
    known = _open.pop(path, None)
    if known is not None:
        with contextlib.suppress(OSError):
            os.close(known.fd)


def _write_at(fd: int, data: bytes, offset: int) -> None:
    pwrite = getattr(os, "pwrite", None)
    if pwrite is not None:
        written = pwrite(fd, data, offset)
    else:  # Windows: no pwrite; the caller holds the lock
        os.lseek(fd, offset, os.SEEK_SET)
        written = os.write(fd, data)
    if written != len(data):
        raise OSError(28, f"wrote {written} of {len(data)} bytes")


def release(database: Place) -> None:
    """Close the state file of ``database`` if this process holds it open (the database is
    closed: the next write opens it again)."""
    with _written_lock:
        known = _places.get(database)
        if known is not None:
            _close(known[0])


def current(conn: Connection) -> State | None:
    from sqlalchemy import text

    row = conn.execute(text("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1")).first()
    return None if row is None else State(int(row[0]), str(row[1] or ""))


def remember(database: Place, state: State | None) -> None:
    """Mirror ``state`` (one slot written in place; a failure is logged, never raised: the save
    succeeded)."""
    if state is None:
        return
    with _written_lock:
        if _written.get(database) == state:
            return
    path, resolved, first = _where(database)
    data = _encode(resolved, state)
    with _written_lock:
        try:
            opened = _descriptor(path, first)
            _write_at(opened.fd, data, opened.slot * SLOT)
            opened.slot = 1 - opened.slot
            _written[database] = state
        except OSError as exc:
            _close(path)
            log.warning("last committed state not recorded in %s: %s", path.parent, exc)


def forget(database: Place) -> None:
    path = state_file(database)
    with _written_lock:
        _written.pop(database, None)
        _close(path)
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def behind(conn: Connection, database: Place) -> str | None:
    """A notice when the database lacks the last committed state recorded for it.

    On a clinic server other workstations add events after this one's: only the event this
    workstation wrote last is looked for. Gone or changed, the newest events were deleted or
    replaced on the server (by its owner: the workstation role cannot), or the server was put
    back to an older backup."""
    from sqlalchemy import text

    known = recorded(database)
    if known is None:
        return None
    row = conn.execute(
        text("SELECT hash FROM audit_event WHERE id = :id"), {"id": known.last_audit_id}
    ).first()
    if row is not None and str(row[0] or "") == known.last_audit_hash:
        return None
    if isinstance(database, str):
        what = "is missing" if row is None else "differs"
        return (
            f"audit event {known.last_audit_id}, the last this workstation saved, {what} on the "
            "clinic server: its newest events were deleted or replaced outside the app, or the "
            "server was restored from an older backup"
        )
    now = current(conn)
    have = now.last_audit_id if now else 0
    if row is None and have < known.last_audit_id:
        return (
            f"{database} is behind its last saved state: changes up to audit event "
            f"{known.last_audit_id} were committed, the file ends at {have}; work saved last "
            "may be lost (a crash that damaged its -wal file?). Check the latest records, "
            "or restore a backup"
        )
    return (
        f"{database} is not the database last saved here (audit event {known.last_audit_id} "
        "differs); if you did not restore or replace it, check it with clinic-app verify"
    )
