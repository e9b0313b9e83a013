"""The mirror of the last committed state (storage/state.py): two checksummed slots written in
place, read back as the newest sound one, never through a symlink or from a FIFO."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from clinic_app.storage import state


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    path.write_bytes(b"")
    yield path
    state.release(path)


def _raw(database: Path) -> bytes:
    return state.state_file(database).read_bytes()


def test_each_state_goes_to_the_other_slot_and_the_newest_is_read(database: Path) -> None:
    for n in range(1, 6):
        state.remember(database, state.State(n, f"h{n}"))
        assert state.recorded(database) == state.State(n, f"h{n}")
    raw = _raw(database)
    assert len(raw) == 2 * state.SLOT
    ids = sorted(
        json.loads(raw[k * state.SLOT : (k + 1) * state.SLOT])["last_audit_id"] for k in (0, 1)
    )
    assert ids == [4, 5]  # the state before the newest is kept in the other slot
    mode = stat.S_IMODE(state.state_file(database).stat().st_mode)
    assert mode == 0o600


def test_a_torn_newest_slot_leaves_the_state_before_it(database: Path) -> None:
    state.remember(database, state.State(7, "seven"))
    state.remember(database, state.State(8, "eight"))
    state.release(database)
    path = state.state_file(database)
    raw = bytearray(path.read_bytes())
    newest = next(k for k in (0, 1) if b'"eight"' in raw[k * state.SLOT : (k + 1) * state.SLOT])
    start = newest * state.SLOT
    raw[start + 20 : start + 40] = b"\x00" * 20  # a power cut in the middle of the write
    path.write_bytes(bytes(raw))
    assert state.recorded(database) == state.State(7, "seven")
    # ... and the next write goes to the torn slot, not over the sound one
    state.remember(database, state.State(9, "nine"))
    assert state.recorded(database) == state.State(9, "nine")
    assert b'"seven"' in _raw(database)


def test_a_changed_checksum_is_not_believed(database: Path) -> None:
    state.remember(database, state.State(3, "three"))
    state.release(database)
    path = state.state_file(database)
    path.write_bytes(path.read_bytes().replace(b'"last_audit_id": 3', b'"last_audit_id": 9'))
    assert state.recorded(database) is None


def test_the_one_object_file_of_older_versions_is_read_then_replaced(database: Path) -> None:
    path = state.state_file(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"database": str(database), "last_audit_id": 12, "last_audit_hash": "x"})
    )
    assert state.recorded(database) == state.State(12, "x")
    state.remember(database, state.State(13, "y"))
    assert state.recorded(database) == state.State(13, "y")


def test_a_removed_state_file_is_made_again_by_the_next_save(database: Path) -> None:
    state.remember(database, state.State(1, "a"))
    state.state_file(database).unlink()
    state.remember(database, state.State(2, "b"))
    assert state.recorded(database) == state.State(2, "b")


def test_forgetting_clears_both_slots(database: Path) -> None:
    """A restore records the restored, older state: the newer slot must not win afterwards."""
    state.remember(database, state.State(40, "new"))
    state.remember(database, state.State(41, "newer"))
    state.forget(database)
    assert state.recorded(database) is None
    state.remember(database, state.State(5, "restored"))
    assert state.recorded(database) == state.State(5, "restored")


def test_a_symlink_in_its_place_is_not_followed(database: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    path = state.state_file(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(victim)
    state.remember(database, state.State(1, "a"))  # refused, logged: the save itself stood
    assert victim.read_text() == "keep me"
    assert state.recorded(database) is None


def test_a_fifo_in_its_place_neither_blocks_nor_is_written(database: Path) -> None:
    path = state.state_file(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    done: list[object] = []
    worker = threading.Thread(
        target=lambda: done.extend(
            [state.recorded(database), state.remember(database, state.State(1, "a"))]
        ),
        daemon=True,
    )
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading or writing the state blocked on a FIFO"
    assert done[0] is None
    assert stat.S_ISFIFO(os.lstat(path).st_mode)


def test_closing_databases_closes_their_state_files(tmp_path: Path) -> None:
    """One descriptor kept per open database, not one per database ever opened."""
    before = len(os.listdir("/proc/self/fd"))
    for n in range(40):
        path = tmp_path / f"c{n}.db"
        state.remember(path, state.State(1, "a"))
        state.release(path)
    assert len(os.listdir("/proc/self/fd")) <= before + 1
    for n in range(40):  # without release: at most a few stay open
        state.remember(tmp_path / f"d{n}.db", state.State(1, "a"))
    assert len(os.listdir("/proc/self/fd")) <= before + 9
    for n in range(40):
        state.release(tmp_path / f"d{n}.db")
