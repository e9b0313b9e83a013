"""Shared tools of the fault tests: real processes, real files, byte-level snapshots."""

from __future__ import annotations

import hashlib
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from clinic_app.core.form import Form, parse_form
from clinic_app.storage import records
from clinic_app.storage.database import Database
from tests.storage.conftest import small_form_data

REPO = Path(__file__).resolve().parents[2]
USER = "Dana Reliable"


def small_form() -> Form:
    return parse_form(small_form_data(), "test form")


def findings(form: Form, **values: Any) -> dict[str, Any]:
    return {"form": form.id, "form_version": form.version, "values": values}


def seed_records(db: Database, form: Form, mrn: str = "REL-1") -> records.Evaluation:
    """A patient with one draft evaluation."""
    patient = records.create_patient(
        db, records.PatientFields(given_name="Kim", family_name="Runner", mrn=mrn), user=USER
    )
    return records.start_evaluation(db, patient.id, form, user=USER)


def unprivileged() -> list[str]:
    """A command prefix that drops root's power to ignore file permissions (empty if not root).

    A read-only folder is only read-only for a process without CAP_DAC_OVERRIDE; tests run as
    root on CI, so the process under test runs through ``setpriv`` with no capabilities at all.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise RuntimeError("running as root needs setpriv (util-linux) to test file permissions")
    return [setpriv, "--inh-caps=-all", "--bounding-set=-all", "--"]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CLINIC_APP_DATABASE_URL", None)
    env["PYTHONPATH"] = str(REPO)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.update(extra)
    return env


def run_python(
    code: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    drop_privileges: bool = False,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (optionally without root's file-permission override)."""
    prefix = unprivileged() if drop_privileges else []
    return subprocess.run(
        [*prefix, sys.executable, "-c", code, *args],
        cwd=REPO,
        env=dict(env) if env is not None else child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_cli(
    *argv: str,
    env: Mapping[str, str] | None = None,
    drop_privileges: bool = False,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``clinic-app ARGV`` as a person runs it (a real process, as that process's user)."""
    return run_python(
        "import sys; from clinic_app.cli import main; sys.exit(main(sys.argv[1:]))",
        *argv,
        env=env,
        drop_privileges=drop_privileges,
        timeout=timeout,
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder`` (what "nothing changed" means).

    Not the ``logs/`` folder (clinic_app.logs): a refused operation is logged, and that is no
    change to the clinic's data.
    """
    found: dict[str, str] = {}
    if not folder.exists():
        return found
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.relative_to(folder).parts[0] != "logs":
            found[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def assert_user_message(text: str, *names: object) -> None:
    """A message fit for a person: no traceback, not empty, naming each of ``names``."""
    assert "Traceback" not in text, text
    assert text.strip(), "no message at all"
    for name in names:
        assert str(name) in text, f"{name!s} not named in: {text}"


class SqliteLock:
    """Another process holding ``BEGIN <mode>`` on a SQLite file until :meth:`release`."""

    def __init__(self, db_file: Path, mode: str = "EXCLUSIVE") -> None:
        code = (
            "import sqlite3, sys\n"
            "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            f"conn.execute('BEGIN {mode}')\n"
            "conn.execute('SELECT count(*) FROM sqlite_master').fetchall()\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "conn.execute('ROLLBACK')\n"
            "conn.close()\n"
            "print('released', flush=True)\n"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(db_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.released = False
        if self._line(30) != "locked":
            self.close()
            raise RuntimeError(f"the lock holder could not lock {db_file}")

    def _line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline().strip() if ready else ""

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        if self._line(30) != "released":
            raise RuntimeError("the lock holder did not release its lock")

    def close(self) -> None:
        if self.proc.poll() is None and not self.released:
            try:
                self.release()
            except (OSError, RuntimeError):
                self.proc.kill()
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def sqlite_lock(db_file: Path, mode: str = "EXCLUSIVE") -> Iterator[SqliteLock]:
    """Another process holding ``BEGIN <mode>`` on ``db_file`` until released or the block ends."""
    lock = SqliteLock(db_file, mode)
    try:
        yield lock
    finally:
        lock.close()


def probe(
    action: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    drop_privileges: bool = False,
    fsize_limit: int | None = None,
) -> tuple[dict[str, Any], str]:
    """(result, stderr) of ``tests.reliability.probe ACTION ARGS`` in a fresh process."""
    import json

    extra = ["--fsize-limit", str(fsize_limit)] if fsize_limit else []
    proc = run_python(
        "import runpy; runpy.run_module('tests.reliability.probe', run_name='__main__')",
        action,
        *args,
        *extra,
        env=env,
        drop_privileges=drop_privileges,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise AssertionError(f"probe {action} printed nothing; stderr:\n{proc.stderr}")
    return json.loads(lines[-1]), proc.stderr


def make_database(path: Path, patients: int = 1) -> None:
    """A migrated SQLite database at ``path`` with ``patients`` patients, each with a draft."""
    from clinic_app.storage.database import open_database

    form = small_form()
    with open_database(f"sqlite:///{path}", backup=False) as db:
        for n in range(patients):
            seed_records(db, form, mrn=f"REL-{n + 1}")


def read_only(*paths: Path) -> None:
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)


def writable(*paths: Path) -> None:
    for path in paths:
        path.chmod(0o755 if path.is_dir() else 0o644)


@contextmanager
def autosaver(
    db: Database, evaluation: records.Evaluation, user: str, **options: Any
) -> Iterator[Any]:
    """The editor's DraftAutosaver on its own operation runner (the app's database worker
    thread), detached and stopped at the end whatever happens."""
    from clinic_app.ui.autosave import DraftAutosaver
    from clinic_app.ui.operations import OperationRunner

    runner = OperationRunner(db)
    saver = DraftAutosaver(runner, evaluation, user, **options)
    try:
        yield saver
    finally:
        saver.detach()
        runner.stop()
        runner.deleteLater()


@contextmanager
def another_installation(folder: Path) -> Iterator[Path]:
    """Records made inside are made as another installation would make them: its own data
    folder, so its own installation key signs their audit events (migration 0011)."""
    import pytest

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLINIC_APP_DATA_DIR", str(folder))
        yield folder


def trust(maker: Path, data: Path) -> None:
    """The installation of data folder ``data`` trusts the key of the one of ``maker``, as a
    clinic lists the machine a backup came from in ``trusted-keys``."""
    from clinic_app.storage import sealing

    key = sealing.installation_public_key(maker)
    assert key, f"no installation key in {maker}"
    data.mkdir(parents=True, exist_ok=True)
    with (data / sealing.TRUSTED_FILE).open("a", encoding="utf-8") as out:
        out.write(f"{key}\n")
