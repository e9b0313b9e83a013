"""Faults during a restore: the database is the old one or the new one, whole, never a mix.

A good backup (made bigger than the live database by a 24 MB clinic logo, so that copying it
takes a while) is restored over the live database by a child process that is

- killed with SIGKILL at seeded random moments while the restore is writing, or
- given a file-size limit (a full disk) smaller than the backup, so the write fails part-way.

Afterwards the live database must pass ``PRAGMA integrity_check`` and hold exactly the old rows
or exactly the backup's rows; after a refused write the message names the database and the copy
of the replaced database that restore keeps.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clinic_app.storage import backup, records
from clinic_app.storage.database import open_database
from tests.reliability import report
from tests.reliability.crash_harness import seed_setting
from tests.reliability.helpers import (
    REPO,
    USER,
    another_installation,
    child_env,
    make_database,
    probe,
    trust,
)

RESTORER = """
import json, sys, time
from pathlib import Path
from clinic_app.storage import backup
print(json.dumps({"start": time.monotonic()}), flush=True)
backup.restore(Path(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps({"done": time.monotonic()}), flush=True)
"""
KILLS = 10


def _state(path: Path) -> str:
    """A digest of every row that matters (patients, evaluations, the clinic and its logo)."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = {
            table: sorted(map(repr, conn.execute(f"SELECT * FROM {table}").fetchall()))
            for table in ("patient", "evaluation", "clinic")
        }
    finally:
        conn.close()
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


@pytest.fixture(scope="module")
def big_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    source = folder / "source.db"
    with another_installation(folder / "maker"):  # its key signs the trail; the restorer trusts it
        make_database(source, patients=5)
        with open_database(f"sqlite:///{source}", backup=False) as db:
            records.save_clinic(db, records.ClinicInfo(name="Big Clinic"), user=USER)
    # 24 MB of random bytes in the logo column, written past save_clinic (which refuses a logo
    # that is no image): only the size matters here
    conn = sqlite3.connect(source)
    with conn:
        conn.execute("UPDATE clinic SET logo = ?", (random.Random(1).randbytes(24 * 1024 * 1024),))
    conn.close()
    return backup.copy_database(source, folder / "big-backup.db")


def _live(folder: Path) -> Path:
    folder.mkdir(parents=True)
    target = folder / "clinic.db"
    make_database(target, patients=3)
    return target


def _restore_process(candidate: Path, target: Path, data: Path) -> subprocess.Popen[str]:
    trust(candidate.parent / "maker", data)
    return subprocess.Popen(
        [sys.executable, "-c", RESTORER, str(candidate), str(target)],
        cwd=REPO,
        env=child_env(CLINIC_APP_DATA_DIR=str(data)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read(proc: subprocess.Popen[str]) -> dict[str, float]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    result: dict[str, float] = json.loads(line)
    return result


@pytest.mark.slow
def test_sigkill_during_restore_leaves_the_old_or_the_new_database(
    big_backup: Path, tmp_path: Path
) -> None:
    new_state = _state(big_backup)
    # One undisturbed restore to learn how long the writing takes on this machine.
    target = _live(tmp_path / "timing")
    proc = _restore_process(big_backup, target, tmp_path / "timing")
    took = -_read(proc)["start"] + _read(proc)["done"]
    proc.wait(timeout=120)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    assert _state(target) == new_state

    rng = random.Random(seed_setting())
    outcomes = {"old": 0, "new": 0}
    for n in range(KILLS):
        folder = tmp_path / f"run{n:02d}"
        target = _live(folder)
        old_state = _state(target)
        proc = _restore_process(big_backup, target, folder)
        try:
            started = _read(proc)["start"]
            time.sleep(max(0.0, started + rng.uniform(0.0, took * 1.1) - time.monotonic()))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        state = _state(target)
        assert state in (old_state, new_state), f"run {n}: a mix of the old and the new database"
        outcomes["old" if state == old_state else "new"] += 1
        with open_database(f"sqlite:///{target}", backup=False) as db:
            assert db.schema_revision() is not None
    report.add(
        f"restore crash: {KILLS} SIGKILL runs during a {took:.2f} s restore: "
        f"{outcomes['old']} left the old database, {outcomes['new']} the new one, no mix"
    )


def test_restore_onto_a_full_disk_keeps_the_old_database(big_backup: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    target = _live(data)
    old_state = _state(target)
    # Enough for the copy of the replaced database, far too little for the 24 MB backup.
    limit = target.stat().st_size * 4 + 1024 * 1024
    result, stderr = probe(
        "restore",
        str(big_backup),
        str(target),
        env=child_env(CLINIC_APP_DATA_DIR=str(data)),
        fsize_limit=limit,
    )
    assert _state(target) == old_state, "a failed restore changed the database"
    assert result["storage_error"], f"{result} {stderr[-400:]}"
    assert str(target) in result["message"], result["message"]
    # The backup is checked in a private copy first (issue 13): the full disk stops the restore
    # there, before the live database is copied aside or touched; the copy is removed.
    leftovers = sorted(p.name for p in (data / "backups").iterdir())
    assert not [name for name in leftovers if "partial" in name], leftovers
    kept = [p for p, reason in backup.list_backups(data / "backups") if reason == "before-restore"]
    assert all(_state(p) == old_state for p in kept)
