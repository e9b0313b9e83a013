"""The storage subcommands, run as a user would: one clear line on errors, never a traceback."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from clinic_app.cli import main
from clinic_app.storage import backup, migrate


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clinic_app", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )


def test_demo_then_info_in_empty_data_folder(private_data_dir: Path) -> None:
    assert not private_data_dir.exists()
    done = run("demo")
    assert done.returncode == 0, done.stderr
    assert "demo patients" in done.stdout
    info = run("info")
    assert info.returncode == 0, info.stderr
    db_file = private_data_dir / "clinic.db"
    assert db_file.is_file()
    assert f"data folder:     {private_data_dir}" in info.stdout
    assert f"sqlite:///{db_file}" in info.stdout
    assert f"schema revision: {migrate.HEAD} (head)" in info.stdout
    assert "patients:        6" in info.stdout
    with db_file.open("rb") as fh:
        assert fh.read(16) == b"SQLite format 3\x00"


def test_info_before_first_start_creates_nothing(
    private_data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info"]) == 0
    assert "made when the app first opens it" in capsys.readouterr().out
    assert not (private_data_dir / "clinic.db").exists()


def test_info_hides_password_and_reports_unreachable_server_in_one_line() -> None:
    done = run("--database", "postgresql+psycopg://clinic:s3cret@127.0.0.1:1/clinic", "info")
    assert done.returncode == 2
    assert "s3cret" not in done.stdout + done.stderr
    assert "clinic:***@127.0.0.1" in done.stdout
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--database", "nonsense://x", "info"], "invalid database URL"),
        (["backup", "/no/such/folder/x.db"], "no database yet"),
        (["restore", "/no/such/file.db"], "file not found"),
        (["--database", "postgresql+psycopg://u@127.0.0.1:1/x", "backup"], "pg_dump"),
    ],
)
def test_errors_are_one_line(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert len(err.strip().splitlines()) == 1


def test_corrupt_database_one_line_and_untouched(
    private_data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLINIC_APP_LOG_DIR")  # the log goes where it does for a user: logs/
    private_data_dir.mkdir()
    db_file = private_data_dir / "clinic.db"
    db_file.write_bytes(b"\x00garbage" * 500)
    digest = hashlib.sha256(db_file.read_bytes()).hexdigest()
    for command in (["demo"], ["info"], ["backup"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert str(db_file) in err
        assert "not a SQLite database" in err
        assert len(err.strip().splitlines()) == 1
    assert hashlib.sha256(db_file.read_bytes()).hexdigest() == digest
    # Nothing beside the damaged file; logs/ is the commands' log folder (clinic_app.logs).
    assert sorted(p.name for p in private_data_dir.iterdir()) == ["clinic.db", "logs"]


def test_backup_and_restore_commands(
    private_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    assert main(["backup", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    made = Path(out.strip().rsplit(" to ", 1)[1])
    assert made.parent == tmp_path
    assert main(["backup"]) == 0
    assert "manual" in capsys.readouterr().out

    db_file = private_data_dir / "clinic.db"
    conn = sqlite3.connect(db_file)
    conn.execute("UPDATE patient SET archived = 1")
    conn.commit()
    conn.close()

    assert main(["restore", str(made)]) == 0
    out = capsys.readouterr().out
    assert "the replaced database is kept at" in out
    conn = sqlite3.connect(db_file)
    try:
        assert conn.execute("SELECT count(*) FROM patient WHERE archived = 0").fetchone() == (5,)
    finally:
        conn.close()
    reasons = [reason for _, reason in backup.list_backups()]
    assert "before-restore" in reasons

    truncated = tmp_path / "half.db"
    truncated.write_bytes(made.read_bytes()[:5000])
    before = hashlib.sha256(db_file.read_bytes()).hexdigest()
    assert main(["restore", str(truncated)]) == 2
    err = capsys.readouterr().err
    assert "half.db" in err
    assert len(err.strip().splitlines()) == 1
    assert hashlib.sha256(db_file.read_bytes()).hexdigest() == before


def test_demo_twice_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    assert main(["demo"]) == 2
    assert "already" in capsys.readouterr().err


def test_synthetic_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synthetic", "--patients", "50", "--evaluations", "2"]) == 0
    assert "added 50 patients and 100 evaluations" in capsys.readouterr().out


@pytest.mark.postgres
def test_demo_and_info_on_postgres(postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database", postgres_url, "demo"]) == 0
    assert main(["--database", postgres_url, "info"]) == 0
    out = capsys.readouterr().out
    assert f"schema revision: {migrate.HEAD} (head)" in out
    assert "patients:        6" in out
