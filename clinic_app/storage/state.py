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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from clinic_app import private

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

# What this process last wrote for each database: a write transaction that added no audit event
# (an autosave with nothing new) leaves the mirror as it is, without touching the disk.
_written: dict[Path, State] = {}
_written_lock = threading.Lock()


# Session.info key: the newest audit event a write transaction added (records.write_audit), so
# the state to mirror is known without reading it back.
LAST_AUDIT_EVENT = "clinic_app.last_audit_event"


@dataclass(frozen=True)
class State:
    last_audit_id: int
    last_audit_hash: str


def state_file(database: Path) -> Path:
    from clinic_app.paths import data_dir

    key = hashlib.sha256(str(database.resolve()).encode("utf-8")).hexdigest()[:32]
    return data_dir() / "state" / f"{key}.json"


_places: dict[Path, tuple[Path, str, Path]] = {}  # database -> (state file, resolved, data dir)


def _where(database: Path) -> tuple[Path, str, bool]:
    """The state file of ``database``, its resolved path, and whether this is the first ask;
    kept, as autosave asks every few seconds (resolving a path costs a system call per
    folder), while the data folder stays the same."""
    from clinic_app.paths import data_dir

    folder = data_dir()
    with _written_lock:
        known = _places.get(database)
    if known is not None and known[2] == folder:
        return known[0], known[1], False
    known = (state_file(database), str(database.resolve()), folder)
    with _written_lock:
        _places[database] = known
    return known[0], known[1], True


def recorded(database: Path) -> State | None:
    try:
        raw = json.loads(state_file(database).read_text(encoding="utf-8"))
        return State(int(raw["last_audit_id"]), str(raw["last_audit_hash"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def current(conn: Connection) -> State | None:
    from sqlalchemy import text

    row = conn.execute(text("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1")).first()
    return None if row is None else State(int(row[0]), str(row[1] or ""))


def remember(database: Path, state: State | None) -> None:
    """Mirror ``state`` (atomically; a failure is logged, never raised: the save succeeded)."""
    if state is None:
        return
    with _written_lock:
        if _written.get(database) == state:
            return
    path, resolved, first = _where(database)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    data = json.dumps(
        {
            "database": resolved,
            "last_audit_id": state.last_audit_id,
            "last_audit_hash": state.last_audit_hash,
        }
    ).encode("utf-8")
    try:
        if first:
            private.make_folder(path.parent)  # made, or tightened to 0700, once a process
        try:
            private.write_bytes(temporary, data)
        except FileNotFoundError:  # the folder was removed while the app ran
            private.make_folder(path.parent)
            private.write_bytes(temporary, data)
        os.replace(temporary, path)
        with _written_lock:
            _written[database] = state
    except OSError as exc:
        log.warning("last committed state not recorded in %s: %s", path.parent, exc)
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def forget(database: Path) -> None:
    with _written_lock:
        _written.pop(database, None)
    with contextlib.suppress(OSError):
        state_file(database).unlink(missing_ok=True)


def behind(conn: Connection, database: Path) -> str | None:
    """A notice when the database lacks the last committed state recorded for it."""
    from sqlalchemy import text

    known = recorded(database)
    if known is None:
        return None
    row = conn.execute(
        text("SELECT hash FROM audit_event WHERE id = :id"), {"id": known.last_audit_id}
    ).first()
    if row is not None and str(row[0] or "") == known.last_audit_hash:
        return None
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
